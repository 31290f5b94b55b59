"""`o2replay record`: contradictory or pointless options are refused, messages say what each mode needs,
`--config` picks the project file, `--record-mode none` says it records nothing, and an untrusted upstream
certificate points at --upstream-ca and --insecure."""

from __future__ import annotations

import io
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from replayer.cli import main
from replayer.commands.record import _show

from .test_record_command import _expect, _reader
from .upstream import Upstream


@pytest.mark.parametrize(("argv", "message"), [
    (["--mode", "upstream", "--cassette", "c.yaml"],
     "--upstream URL is required in upstream mode (the next proxy, e.g. http://proxy:3128)"),
    (["--mode", "regular", "--upstream", "http://o2ims:8080", "--cassette", "c.yaml"],
     "--upstream has no effect in regular mode"),
])
def test_mode_and_upstream_must_agree(argv: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["record", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_config_flag_names_the_project_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "o2.yaml").write_text("record:\n  upstream: http://o2ims:8080\n  cassete: x.yaml\n")
    assert main(["record", "--config", "ci/o2.yaml"]) == 2
    assert "ci/o2.yaml: record.cassete is not a record option" in capsys.readouterr().err


def test_untrusted_upstream_certificate_points_at_the_fix() -> None:
    out = io.StringIO()
    _show("[12:00:00.000][127.0.0.1:5] Server TLS handshake failed. Certificate verify failed: "
          "self-signed certificate", False, out)
    assert "--upstream-ca CA.pem, or skip verification with --insecure" in out.getvalue()
    quiet = io.StringIO()
    _show("[12:00:00.000] o2ims-recorder: recorded #1 api GET /x -> 200", False, quiet)
    assert "--insecure" not in quiet.getvalue()


def test_record_mode_none_says_nothing_is_written(upstream: Upstream, confdir: Path, tmp_path: Path) -> None:
    cassette = tmp_path / "lab.yaml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "replayer", "record", "--upstream", upstream.url, "--cassette", str(cassette),
         "--listen", "127.0.0.1:0", "--record-mode", "none", "--set", f"confdir={confdir}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(proc, lines), daemon=True).start()
    seen: list[str] = []
    try:
        _expect(lines, r"record mode none: traffic passes through, nothing is written to .*lab\.yaml", seen)
        proc.send_signal(2)
        assert proc.wait(20) == 0
        _expect(lines, r"record mode none: nothing recorded, .*lab\.yaml untouched", seen, timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert not any("recording into" in line for line in seen)
    assert not cassette.exists()
