"""`o2replay record`: argument validation, and a real run end to end (start, count, SIGINT, cassette)."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from replayer.cassettes.load import load_cassette
from replayer.cli import main
from replayer.commands.record import addon_path, check_url, mitmdump_argv, parse_listen, validate

from .conftest import client
from .upstream import INVENTORY, Upstream


@pytest.mark.parametrize(("argv", "message"), [
    (["--cassette", "c.yaml"], "--upstream URL is required in reverse mode"),
    (["--upstream", "ftp://h", "--cassette", "c.yaml"], "--upstream must be an http:// or https:// URL"),
    (["--upstream", "http://h:99999", "--cassette", "c.yaml"], "--upstream has an invalid port"),
    (["--upstream", "http://h/base", "--cassette", "c.yaml"], "without a path"),
    (["--upstream", "http://h"], "--cassette PATH is required"),
    (["--upstream", "http://h", "--cassette", "c.yaml", "--listen", "8080"], "--listen must be HOST:PORT"),
    (["--upstream", "http://h", "--cassette", "c.yaml", "--listen", "127.0.0.1:70000"], "--listen port must be 0-65535"),
    (["--upstream", "http://h", "--cassette", "c.yaml", "--client-cert", "nope.pem"], "--client-cert nope.pem: no such file"),
    (["--upstream", "http://h", "--cassette", "c.yaml", "--redact-rules", "nope.yaml"], "--redact-rules nope.yaml: no such"),
    (["--upstream", "http://h", "--cassette", "c.yaml", "--flush", "often"], "cassette_flush must be 'each'"),
    (["--upstream", "http://h", "--cassette", "c.yaml", "--record-path", "o2ims"], "record_paths entries must be"),
    (["--upstream", "http://h", "--cassette", "c.yaml", "--set", "record_mode=all"], "use its own flag instead"),
    (["--upstream", "http://h", "--cassette", "c.yaml", "--set", "confdir"], "--set takes OPTION=VALUE"),
    (["--mode", "upstream", "--cassette", "c.yaml"], "--upstream URL is required in upstream mode"),
])
def test_bad_arguments_exit_2_with_one_line(argv: list[str], message: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["record", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("o2replay record: error: ") and err.count("\n") == 1
    assert message in err


def test_once_refuses_an_existing_cassette_before_starting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    cassette = tmp_path / "c.yaml"
    cassette.write_text("version: 1\ninteractions:\n- request: {method: GET, uri: 'http://h/x', headers: {}, "
                        "body: null}\n  response: {status: {code: 200, message: OK}, headers: {}, body: {string: ''}}\n")
    before = cassette.read_bytes()
    assert main(["record", "--upstream", "http://h", "--cassette", str(cassette)]) == 2
    assert "already holds 1 interaction and" in capsys.readouterr().err
    assert cassette.read_bytes() == before


def test_config_file_section_is_used_and_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".o2replay.yaml").write_text("record:\n  upstream: http://h\n  colour: blue\n")
    assert main(["record", "--cassette", "c.yaml"]) == 2
    assert "record.colour is not a record option" in capsys.readouterr().err
    (tmp_path / ".o2replay.yaml").write_text("record:\n  upstream: 'ftp://h'\n")
    assert main(["record", "--cassette", "c.yaml"]) == 2
    assert "--upstream must be an http" in capsys.readouterr().err


def test_config_file_paths_are_relative_to_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    (tmp_path / ".o2replay.yaml").write_text("record:\n  upstream: http://h\n  redact_rules: rules.yaml\n")
    assert main(["record", "--cassette", "c.yaml"]) == 2
    assert f"{tmp_path / 'rules.yaml'}" in capsys.readouterr().err  # looked for beside the config file


@pytest.mark.parametrize(("value", "expected"), [
    ("127.0.0.1:8080", ("127.0.0.1", 8080)), (":0", ("", 0)), ("[::1]:9000", ("::1", 9000)),
    ("localhost:1", ("localhost", 1)),
])
def test_parse_listen(value: str, expected: tuple[str, int]) -> None:
    assert parse_listen(value) == expected


def test_check_url_strips_a_trailing_slash() -> None:
    assert check_url("https://o2ims.example:443/") == "https://o2ims.example:443"


def test_addon_path_is_the_checkout_script() -> None:
    assert addon_path().name == "o2ims_recorder.py" and addon_path().is_file()


def _reader(proc: subprocess.Popen[str], out: queue.Queue[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        out.put(line.rstrip("\n"))


def _expect(lines: queue.Queue[str], pattern: str, seen: list[str], timeout: float = 30) -> re.Match[str]:
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        m = rx.search(line)
        if m:
            return m
    raise AssertionError(f"no output line matching {pattern!r}; got:\n" + "\n".join(seen))


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_record_end_to_end(upstream: Upstream, confdir: Path, tmp_path: Path, stop_signal: int) -> None:
    cassette = tmp_path / "cassettes" / "lab.yaml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "replayer", "record", "--upstream", upstream.url, "--cassette", str(cassette),
         "--listen", "127.0.0.1:0", "--set", f"confdir={confdir}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(proc, lines), daemon=True).start()
    seen: list[str] = []
    try:
        port = int(_expect(lines, r"listening on http://127\.0\.0\.1:(\d+)$", seen).group(1))
        _expect(lines, r"Ctrl-C to stop", seen)
        auth = {"Authorization": f"Bearer {upstream.canaries.access_token}"}
        with client() as s:
            for n, path in enumerate(["", "/resourcePools", "/deploymentManagers"], start=1):
                assert s.get(f"http://127.0.0.1:{port}{INVENTORY}{path}", headers=auth).status_code == 200
                _expect(lines, rf"^\[{n}\] GET {re.escape(INVENTORY + path)} -> 200$", seen)
        proc.send_signal(stop_signal)
        assert proc.wait(20) == 0
        _expect(lines, r"3 exchanges recorded into .*lab\.yaml; no secret left after redaction", seen, timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    c = load_cassette(cassette)
    assert [i.request.path for i in c.interactions] == [INVENTORY, f"{INVENTORY}/resourcePools",
                                                         f"{INVENTORY}/deploymentManagers"]
    assert upstream.canaries.access_token not in cassette.read_text()
    assert not any("Traceback" in line for line in seen)


def test_every_flag_is_documented() -> None:
    import argparse

    from replayer.cli import build_parser

    doc = (Path(__file__).resolve().parents[2] / "docs" / "recording.md").read_text()
    subs = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for action in subs.choices["record"]._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and flag != "--help":
                assert f"`{flag}" in doc, flag


def test_flags_map_to_mitmproxy_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    monkeypatch.chdir(tmp_path)
    (tmp_path / "client.pem").write_text("pem")
    (tmp_path / "rules.yaml").write_text("fields: [pin]\n")
    from replayer.cli import build_parser

    args = build_parser().parse_args([
        "record", "--upstream", "https://o2ims:8443", "--cassette", "c.yaml", "--listen", "0.0.0.0:9000",
        "--insecure", "--client-cert", "client.pem", "--redact-rules", "rules.yaml", "--timing", "--flush", "5s",
        "--record-mode", "all", "--record-path", "/a", "--record-path", "/b", "--no-notifications",
        "--notification-path", "/cb", "--set", "confdir=/tmp/x",
    ])
    assert isinstance(args, argparse.Namespace)
    argv = mitmdump_argv(validate(args))
    pairs = {argv[i + 1] for i, a in enumerate(argv) if a == "--set"}
    assert {"ssl_insecure=true", "client_certs=client.pem", "redact_rules=rules.yaml", "record_timing=true",
            "cassette_flush=5s", "record_mode=all", "record_paths=/a", "record_paths=/b",
            "record_notifications=false", "notification_paths=/cb", "confdir=/tmp/x", "connection_strategy=lazy",
            "cassette=c.yaml"} <= pairs
    assert argv[argv.index("--mode") + 1] == "reverse:https://o2ims:8443"
    assert argv[argv.index("--listen-host") + 1] == "0.0.0.0" and argv[argv.index("--listen-port") + 1] == "9000"


def test_a_port_in_use_is_one_clear_line(confdir: Path, tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "replayer", "record", "--upstream", "http://127.0.0.1:1", "--cassette",
             str(tmp_path / "c.yaml"), "--listen", f"127.0.0.1:{port}", "--set", f"confdir={confdir}"],
            capture_output=True, text=True, timeout=60,
        )
    assert proc.returncode == 2
    assert proc.stderr.startswith("o2replay record: error: the proxy did not start: ")
    assert "address already in use" in proc.stderr and proc.stderr.count("\n") == 1
    assert not (tmp_path / "c.yaml").exists()
