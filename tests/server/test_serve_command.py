"""``o2replay serve`` as a real process: banner, bad cassettes, SIGTERM, --workers, JSON logs."""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.server.conftest import INV, POOLS, interaction, write_cassette


def _read_banner(proc: subprocess.Popen[str], timeout: float = 30.0) -> str:
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(timeout):
        proc.kill()
        raise AssertionError(f"no banner within {timeout} s; stderr: {proc.communicate()[1]}")
    return proc.stdout.readline()


@pytest.fixture
def cassettes(tmp_path: Path) -> Path:
    write_cassette(tmp_path / "c" / "inv.yaml", [interaction("GET", f"{INV}/resourcePools", body=POOLS)])
    return tmp_path / "c"


@pytest.fixture
def start(tmp_path: Path) -> Iterator[object]:
    procs: list[subprocess.Popen[str]] = []

    def run(*args: str) -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen([sys.executable, "-m", "replayer", "serve", *args, "--port", "0", "--no-cache"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
        procs.append(proc)
        line = _read_banner(proc)
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert found, line
        return proc, found.group(0)

    yield run
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def test_banner_then_sigterm_finishes_in_flight_requests(start: object, cassettes: Path) -> None:
    proc, url = start(str(cassettes), "--synthetic", "off", "--latency", "400")  # type: ignore[operator]
    got: dict[str, int] = {}
    t = threading.Thread(target=lambda: got.update(status=requests.get(f"{url}{INV}/resourcePools", timeout=10)
                                                   .status_code))
    t.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # wait until the server holds the request, then stop it
        if requests.get(f"{url}/__admin/requests", timeout=5).json():
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    t.join(10)
    assert got == {"status": 200}
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert "shutting down" in err


def test_banner_names_url_counts_and_mode(start: object, cassettes: Path) -> None:
    proc, url = start(str(cassettes), "--strict")  # type: ignore[operator]
    assert requests.get(f"{url}{INV}/resourcePools", timeout=5).json() == POOLS
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=15)
    assert proc.returncode == 0


def test_banner_text(cassettes: Path, tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "replayer", "serve", str(cassettes), "--port", "0", "--strict"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        line = _read_banner(proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
    assert "1 cassette, 1 interaction |" in line
    assert "mode: strict" in line
    assert "/__admin/cassettes" in line


def test_workers_share_the_port(start: object, cassettes: Path) -> None:
    proc, url = start(str(cassettes), "--workers", "2", "--synthetic", "off")  # type: ignore[operator]
    statuses = set()
    for _ in range(40):
        with requests.Session() as s:  # a new connection each time, so the kernel spreads them
            statuses.add(s.get(f"{url}{INV}/resourcePools", timeout=5).status_code)
    assert statuses == {200}
    # run-time state changes would reach one worker only: refused with a reason, not half applied
    fault = requests.post(f"{url}/__admin/faults", json={"path": f"{INV}/*", "status": 503}, timeout=5)
    assert fault.status_code == 409 and "--workers 2" in fault.json()["detail"]
    assert requests.post(f"{url}/__admin/reset", timeout=5).status_code == 409
    assert requests.get(f"{url}/__admin/faults", timeout=5).json() == []
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    assert proc.returncode == 0


def test_json_logs(start: object, cassettes: Path) -> None:
    proc, url = start(str(cassettes), "--synthetic", "off", "--strict", "--log-format", "json")  # type: ignore[operator]
    requests.get(f"{url}{INV}/nothing", timeout=5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    records = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert any("no recorded interaction matches GET" in r["message"] and r["level"] == "warning" for r in records)


def test_bad_cassette_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ninteractions:\n- request: {method: GET, uri: /x}\n  response: {status: {code: 99}}\n")
    proc = subprocess.run([sys.executable, "-m", "replayer", "serve", str(bad), "--port", "0"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert re.match(rf"o2replay serve: error: {re.escape(str(bad))}:\d+: interaction 0: ", lines[0]), lines[0]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def _gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return True
        if stat.split(") ", 1)[1].startswith("Z"):
            return True
        time.sleep(0.02)
    return False


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_workers_do_not_outlive_a_killed_parent(start: object, cassettes: Path) -> None:
    proc, _ = start(str(cassettes), "--workers", "2", "--synthetic", "off")  # type: ignore[operator]
    workers = _children(proc.pid)
    assert len(workers) == 2
    proc.kill()  # no chance to forward anything: the kernel's parent-death signal must stop them
    proc.communicate(timeout=10)
    assert all(_gone(w) for w in workers)


def test_port_in_use_is_one_line_and_exit_2(cassettes: Path, tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "replayer", "serve", str(cassettes), "--port", str(port),
                               "--synthetic", "off"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith(f"o2replay serve: error: cannot listen on 127.0.0.1:{port}")
    assert len(proc.stderr.strip().splitlines()) == 1
