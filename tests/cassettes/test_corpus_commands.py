"""The broken-cassette corpus through every command that reads cassettes: one line each, never a traceback.

``validate``, ``diff`` and ``serve`` refuse a broken cassette with its one-line error and exit 2; ``scan``
still scans its text for secrets (a broken file can leak too) and prints the same line as a note.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from replayer.cli import main
from tests.cassettes.test_broken_corpus import CORPUS, EXPECTED

GOOD = """\
version: 1
interactions:
- request:
    method: GET
    uri: http://o2ims.example/o2ims-infrastructureInventory/v1
    headers: {}
    body: null
  response:
    status:
      code: 200
      message: OK
    headers: {}
    body:
      string: ""
"""


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """``serve`` run in-process points the server's loggers at the test's stderr: put them back after."""
    names = ("replayer", "aiohttp.server", "aiohttp.web", "aiohttp.access")
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level, logging.getLogger(n).propagate)
             for n in names}
    yield
    for n, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(n)
        logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good" / "ok.yaml"
    path.parent.mkdir()
    path.write_text(GOOD, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_command_gives_the_one_line(name: str, good: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / name
    shutil.copy(CORPUS / name, path)
    line = f"{path}:{EXPECTED[name]}"
    for argv in (["validate", str(path)], ["diff", str(good), str(path)],
                 ["serve", str(path), "--port", "0", "--no-cache"]):
        assert main(argv) == 2, argv
        assert capsys.readouterr().err == f"o2replay {argv[0]}: error: {line}\n", argv
    assert main(["scan", str(path)]) in (0, 1)
    assert f"o2replay scan: note: {line} (scanned as text)\n" in capsys.readouterr().err


def _deep_block(levels: int) -> str:
    """Block YAML nested ``levels`` deep under metadata, one more space per level (about 4.5 MB for 3000)."""
    return "version: 1\ninteractions: []\nmetadata:\n" + "\n".join(" " * (i + 1) + "k:" for i in range(levels)) + " 1\n"


@pytest.mark.parametrize(("text", "message"), [
    (_deep_block(3000), "103: the YAML structure nests deeper than 100 levels of arrays and objects (the limit)"),
    ((CORPUS / "deep_body.yaml").read_text(encoding="utf-8"),
     "35: interaction 1: response.body nests deeper than 100 levels of arrays and objects (the limit)"),
], ids=["3000-level-block-yaml", "50k-deep-json-body"])
def test_the_deepest_inputs_in_real_processes(text: str, message: str, good: Path, tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(text, encoding="utf-8")
    for argv in (["validate", str(path)], ["diff", str(good), str(path)], ["serve", str(path), "--port", "0"],
                 ["scan", str(path)]):
        proc = subprocess.run([sys.executable, "-m", "replayer", *argv], capture_output=True, text=True,
                              timeout=120, cwd=tmp_path)
        assert "Traceback" not in proc.stderr, argv
        if argv[0] == "scan":
            assert proc.returncode == 0
            assert f"o2replay scan: note: {path}:{message} (scanned as text)" in proc.stderr
        else:
            assert proc.returncode == 2, (argv, proc.stderr)
            assert proc.stderr == f"o2replay {argv[0]}: error: {path}:{message}\n"
