"""`make dist`'s build, installed in a fresh virtualenv outside any checkout: a working `o2replay`, the
recording addon, the bundled data and the docs."""

from __future__ import annotations

import re
import selectors
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(*argv: str | Path, cwd: Path, timeout: float = 600) -> str:
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{argv}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def dist(built_dist: Path) -> Path:
    """Wheel and sdist built as `make dist` builds them (the wheel from the sdist)."""
    return built_dist


@pytest.fixture(scope="module")
def venv(installed_venv: Path) -> Path:
    """A fresh virtualenv with only the wheel (and its dependencies) installed."""
    return installed_venv


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """An empty folder far from the checkout."""
    assert not tmp_path.is_relative_to(ROOT)
    return tmp_path


def test_sdist_holds_the_whole_project(dist: Path) -> None:
    [sdist] = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in ("Makefile", ".ci/run", "action.yml", ".pre-commit-hooks.yaml", "docs/replay.md",
                   "addons/o2ims_recorder.py", "cassettes/reference/inventory-v1.yaml", "tests/conftest.py"):
        assert needed in names, needed
    assert not any(".o2replay-cache" in n or n.endswith(".pyc") for n in names)


def test_installed_cli_runs_outside_the_checkout(venv: Path, elsewhere: Path) -> None:
    o2replay = venv / "bin" / "o2replay"
    assert _run(o2replay, "--version", cwd=elsewhere).startswith("o2replay ")
    where = _run(venv / "bin" / "python", "-c", "import replayer; print(replayer.__file__)", cwd=elsewhere)
    assert Path(where.strip()).is_relative_to(venv)
    addon = _run(venv / "bin" / "python", "-c",
                 "from replayer.commands.record import addon_path; print(addon_path())", cwd=elsewhere).strip()
    assert Path(addon).is_file() and Path(addon).is_relative_to(venv)


def test_installed_docs_and_data(venv: Path) -> None:
    docs = venv / "share" / "doc" / "o2ims-replay"
    assert (docs / "README.md").is_file() and (docs / "replay.md").is_file()
    assert (docs / "performance" / "server.md").is_file()
    site = next(venv.glob("lib/python3*/site-packages/replayer"))
    assert any((site / "data" / "specs").iterdir())
    assert (site / "data" / "redact_rules.yaml").is_file()


def test_installed_server_answers(venv: Path, elsewhere: Path) -> None:
    proc = subprocess.Popen([str(venv / "bin" / "o2replay"), "serve", "--port", "0"], cwd=elsewhere,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        assert sel.select(60), "no banner within 60 s"
        url = re.search(r"http://127\.0\.0\.1:\d+", proc.stdout.readline())
        assert url, "no URL in the banner"
        r = requests.get(f"{url.group(0)}/o2ims-infrastructureInventory/v1", timeout=10)
        assert r.status_code == 200 and r.headers["X-Replay-Source"] == "synthetic"
        assert "oCloudId" in r.json()
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
