"""The recording fault matrix: what each fault must leave on disk (docs/recording.md, "When things go wrong").

Every row runs the real ``o2replay record`` (and so a real mitmdump child) against a real upstream on
127.0.0.1, and checks the cassette, the lock file and the exit status afterwards:

| fault                         | on disk afterwards                                                     |
|-------------------------------|------------------------------------------------------------------------|
| SIGKILL of the proxy mid-flush | the last complete cassette (every exchange logged as recorded); no lock |
| SIGTERM of the proxy           | every exchange; no lock; exit 0                                        |
| SIGKILL of ``o2replay record`` | the proxy gets SIGTERM and exits: every exchange; port and lock freed  |
| disk full                      | the last complete cassette; the session in a rescue file; exit 1      |
| read-only target               | nothing: refused before the proxy starts, exit 2                       |
| concurrent recorders           | the first recorder's exchanges; the second is refused, exit 2          |
| upstream reset mid-body        | the other exchanges; the broken one is logged "not recorded"           |
| upstream hanging               | the other exchanges; stopping the recorder does not wait for it        |
"""

from __future__ import annotations

import io
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from replayer.cassettes.guard import CassetteLock
from replayer.cassettes.load import load_cassette
from replayer.cli import main

from .conftest import client

INV = "/o2ims-infrastructureInventory/v1"
POOLS = json.dumps([{"resourcePoolId": f"p{i}", "name": f"pool-{i}", "description": "x" * 2000}
                    for i in range(20)]).encode()


class _Upstream(BaseHTTPRequestHandler):
    """An O2IMS-like upstream with two bad paths: one resets mid-body, one never answers."""

    protocol_version = "HTTP/1.1"
    release = threading.Event()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.endswith("/reset"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b'[{"resourcePoolId": "p1", "name": "')
            self.wfile.flush()
            # RST instead of FIN: SO_LINGER with a zero timeout, then close
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.close_connection = True
            self.rfile.close()
            self.wfile.close()
            self.connection.close()  # the last reference: the socket really closes now
            self.wfile = io.BytesIO()  # http.server flushes it after the handler
            return
        if self.path.endswith("/hang"):
            self.release.wait(60)  # the test sets it at teardown; 60 s bounds a forgotten one
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(POOLS)))
        self.end_headers()
        self.wfile.write(POOLS)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        pass


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    _Upstream.release.set()
    server.shutdown()
    server.server_close()


class Recording:
    """``o2replay record`` as a subprocess, its output read by a thread."""

    def __init__(self, upstream: str, cassette: Path, confdir: Path, *extra: str,
                 env: dict[str, str] | None = None) -> None:
        self.cassette = cassette
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "replayer", "record", "--upstream", upstream, "--cassette", str(cassette),
             "--listen", "127.0.0.1:0", "--set", f"confdir={confdir}", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})})
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.port = int(self.expect(r"listening on http://127\.0\.0\.1:(\d+)$").group(1))
        self.expect("Ctrl-C to stop")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append(line)
            m = rx.search(line)
            if m:
                return m
        raise AssertionError(f"no output line matching {pattern!r}; got:\n" + "\n".join(self.seen))

    def get(self, path: str, timeout: float = 30) -> int:
        with client() as s:
            return int(s.get(f"http://127.0.0.1:{self.port}{INV}{path}", timeout=timeout).status_code)

    def child(self) -> int:
        """The mitmdump child's pid (Linux /proc)."""
        pid = self.proc.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        assert len(children) == 1, children
        return int(children[0])

    def finish(self, timeout: float = 30) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)

    def rest(self) -> str:
        """All output, once the process has ended."""
        while True:
            try:
                self.seen.append(self.lines.get(timeout=2))
            except queue.Empty:
                return "\n".join(self.seen)


def _gone(pid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            os.waitpid(pid, os.WNOHANG)  # reaps it if it is our child; harmless otherwise
        except ChildProcessError:
            pass
        time.sleep(0.05)  # polling a process table, bounded by the deadline
    return False


def _port_free(port: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return True
        time.sleep(0.05)  # polling a port, bounded by the deadline
    return False


def _count(cassette: Path) -> int:
    return len(load_cassette(cassette).interactions)


@contextmanager
def tmpfs(path: Path, size: str, *, read_only: bool = False) -> Iterator[Path]:
    """A small tmpfs mounted at ``path`` (root only); skips the test where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (",ro" if read_only else "")
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small file system needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


# --------------------------------------------------------------------------- before the proxy starts


def test_a_cassette_under_a_file_is_refused_before_the_proxy_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lab.yaml").write_text("version: 1\ninteractions: []\n")
    assert main(["record", "--upstream", "http://127.0.0.1:1", "--cassette", "lab.yaml/sub/x.yaml"]) == 2
    err = capsys.readouterr().err
    assert err == "o2replay record: error: cannot record into lab.yaml/sub/x.yaml: lab.yaml is a file, not a folder\n"


def test_a_read_only_folder_is_refused_before_the_proxy_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    with tmpfs(tmp_path / "ro", "1m", read_only=True):
        assert main(["record", "--upstream", "http://127.0.0.1:1", "--cassette", "ro/lab.yaml"]) == 2
        err = capsys.readouterr().err
        assert err == "o2replay record: error: cannot record into ro/lab.yaml: the folder ro is not writable\n"
        assert not any((tmp_path / "ro").iterdir())


def test_a_cassette_another_process_records_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, pathlib; from replayer.cassettes.guard import CassetteLock; "
        "lock = CassetteLock(pathlib.Path('lab.yaml')); lock.acquire(); print('held', flush=True); sys.stdin.read()")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert main(["record", "--upstream", "http://127.0.0.1:1", "--cassette", "lab.yaml"]) == 2
        err = capsys.readouterr().err
        assert err == (f"o2replay record: error: lab.yaml is being recorded by another process (pid {holder.pid}; "
                       "lock lab.yaml.lock): stop that recording first, or record into another cassette\n")
    finally:
        holder.communicate("", timeout=10)
    # The holder exited: the lock is free again, and the lock file was removed on release.
    lock = CassetteLock(tmp_path / "lab.yaml")
    lock.acquire()
    lock.release()
    assert not (tmp_path / "lab.yaml.lock").exists()


# --------------------------------------------------------------------------- the matrix


def test_concurrent_recorders_the_second_is_refused(origin: str, confdir: Path, tmp_path: Path) -> None:
    cassette = tmp_path / "lab.yaml"
    first = Recording(origin, cassette, confdir)
    try:
        assert first.get("/resourcePools") == 200
        first.expect(r"^\[1\] GET ")
        second = subprocess.run(
            [sys.executable, "-m", "replayer", "record", "--upstream", origin, "--cassette", str(cassette),
             "--record-mode", "all", "--listen", "127.0.0.1:0", "--set", f"confdir={confdir}"],
            capture_output=True, text=True, timeout=60)
        assert second.returncode == 2
        assert f"{cassette} is being recorded by another process (pid " in second.stderr
        assert second.stderr.count("\n") == 1
        assert first.get("/resourcePools?n=2") == 200
        first.expect(r"^\[2\] GET ")
        first.proc.send_signal(signal.SIGINT)
        assert first.finish() == 0
    finally:
        first.finish(5)
    assert _count(cassette) == 2
    assert not cassette.with_name("lab.yaml.lock").exists()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_the_proxy_killed_mid_flush_leaves_a_complete_cassette(sig: int, origin: str, confdir: Path,
                                                                tmp_path: Path) -> None:
    cassette = tmp_path / "lab.yaml"
    rec = Recording(origin, cassette, confdir)
    try:
        stop = threading.Event()
        acknowledged = []

        def traffic() -> None:  # flushes back to back (one per exchange), so the signal lands mid-write
            n = 0
            while not stop.is_set() and n < 400:
                n += 1
                try:
                    rec.get(f"/resourcePools?n={n}", timeout=10)
                except OSError:
                    return
                acknowledged.append(n)

        worker = threading.Thread(target=traffic)
        worker.start()
        logged = int(rec.expect(r"^\[(\d+)\] GET ", timeout=60).group(1))
        while logged < 5:
            logged = int(rec.expect(r"^\[(\d+)\] GET ", timeout=60).group(1))
        os.kill(rec.child(), sig)
        stop.set()
        worker.join(30)
        code = rec.finish()
    finally:
        rec.finish(5)
    on_disk = _count(cassette)  # it loads: never a half-written file
    assert on_disk >= logged  # each "[n]" line is printed after its flush
    if sig == signal.SIGTERM:
        out = rec.rest()
        assert code == 0 and "exchanges recorded into" in out, out
        assert on_disk == int(re.findall(r"^\[(\d+)\] GET ", rec.rest(), re.M)[-1])
        assert not list(tmp_path.glob(".lab.yaml.*.tmp"))
    # The kernel freed the lock with its holder: recording into the same cassette works at once,
    # and removes any temp file the killed write left behind.
    again = Recording(origin, cassette, confdir, "--record-mode", "new_episodes")
    again.proc.send_signal(signal.SIGINT)
    assert again.finish() == 0
    assert not list(tmp_path.glob(".lab.yaml.*.tmp"))
    assert _count(cassette) == on_disk


def test_record_killed_with_sigkill_takes_its_proxy_along(origin: str, confdir: Path, tmp_path: Path) -> None:
    cassette = tmp_path / "lab.yaml"
    rec = Recording(origin, cassette, confdir)
    try:
        child = rec.child()
        for n in range(1, 4):
            assert rec.get(f"/resourcePools?n={n}") == 200
            rec.expect(rf"^\[{n}\] GET ")
        rec.proc.kill()
        rec.finish()
        assert _gone(child), "the mitmdump child outlived its parent"
        assert _port_free(rec.port)
    finally:
        rec.finish(5)
    assert _count(cassette) == 3
    assert not cassette.with_name("lab.yaml.lock").exists()  # the child shut down cleanly (SIGTERM)


def test_upstream_reset_mid_body_records_the_rest(origin: str, confdir: Path, tmp_path: Path) -> None:
    cassette = tmp_path / "lab.yaml"
    rec = Recording(origin, cassette, confdir)
    try:
        assert rec.get("/resourcePools") == 200
        rec.expect(r"^\[1\] GET ")
        assert rec.get("/resourcePools/reset") == 502
        rec.expect(r"not recorded: GET /o2ims-infrastructureInventory/v1/resourcePools/reset: ")
        assert rec.get("/resourcePools?n=2") == 200
        rec.expect(r"^\[2\] GET ")
        rec.proc.send_signal(signal.SIGINT)
        assert rec.finish() == 0
    finally:
        rec.finish(5)
    assert [i.request.path for i in load_cassette(cassette).interactions] == [f"{INV}/resourcePools"] * 2


def test_a_hanging_upstream_does_not_hold_the_recording(origin: str, confdir: Path, tmp_path: Path) -> None:
    cassette = tmp_path / "lab.yaml"
    rec = Recording(origin, cassette, confdir)
    try:
        assert rec.get("/resourcePools") == 200
        rec.expect(r"^\[1\] GET ")
        hung = threading.Thread(target=lambda: pytest.raises(Exception, rec.get, "/resourcePools/hang", 60))
        hung.start()
        rec.proc.send_signal(signal.SIGINT)
        assert rec.finish(30) == 0  # mitmdump stops without waiting for the upstream
        hung.join(60)
    finally:
        rec.finish(5)
    assert _count(cassette) == 1
    assert not cassette.with_name("lab.yaml.lock").exists()


def test_disk_full_keeps_the_last_cassette_and_rescues_the_session(origin: str, confdir: Path,
                                                                   tmp_path: Path) -> None:
    rescue_root = tmp_path / "tmp"
    rescue_root.mkdir()
    with tmpfs(tmp_path / "small", "2m") as small:
        cassette = small / "lab.yaml"
        rec = Recording(origin, cassette, confdir, env={"TMPDIR": str(rescue_root)})
        try:
            assert rec.get("/resourcePools") == 200
            rec.expect(r"^\[1\] GET ")
            first = cassette.read_bytes()
            filler = small / "filler"
            with filler.open("wb") as f:  # fill the file system to the last byte
                try:
                    while True:
                        f.write(b"\0" * 65536)
                        f.flush()
                except OSError:
                    pass
            assert rec.get("/resourcePools?n=2") == 200  # the client is still served
            rec.expect(r"cannot write .*lab\.yaml: No space left on device")
            rec.proc.send_signal(signal.SIGINT)
            code = rec.finish()
            out = rec.rest()
        finally:
            rec.finish(5)
        assert code == 1
        assert re.search(r"o2replay record: error: NOT SAVED: cannot write .*lab\.yaml: No space left on device; "
                         r"the 2 exchanges of this session are kept in .*o2replay-rescue", out), out
        assert cassette.read_bytes() == first  # the last complete version, untouched
        assert not list(small.glob(".lab.yaml.*.tmp"))
    rescued = list((rescue_root / "o2replay-rescue").glob("lab.*.yaml"))
    assert len(rescued) == 1 and _count(rescued[0]) == 2
