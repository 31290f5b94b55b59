"""Fixtures for recording tests: a real mitmdump subprocess with the addon, a real upstream."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from replayer.cli import build_parser

from .upstream import Upstream

# Import every subcommand now, at collection: CPython 3.11.7 can raise "SystemError: AST constructor
# recursion depth mismatch" (gh-106905) when pytest rewrites a module imported later from deep inside a test.
try:
    build_parser()
except Exception:  # noqa: BLE001 - another command failing to import is its own tests' business
    pass

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "addons" / "o2ims_recorder.py"
MITMDUMP = [sys.executable, "-c", "from mitmproxy.tools.main import mitmdump; mitmdump()"]
START_TIMEOUT = 30.0


class Mitmdump:
    """A mitmdump child with the recorder addon; its log is collected by a reader thread."""

    def __init__(self, mode: str, cassette: Path, confdir: Path, *sets: str) -> None:
        argv = [*MITMDUMP, "-s", str(ADDON), "--mode", mode, "--listen-host", "127.0.0.1", "--listen-port", "0",
                "--set", f"confdir={confdir}", "--set", "connection_strategy=lazy", "--set", "flow_detail=0",
                "--set", f"cassette={cassette}"]
        for s in sets:
            argv += ["--set", s]
        self.cassette = cassette
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        m = self.wait_for(r"listening at [^\s]*:(\d+)")
        self.port = int(m.group(1))

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def url(self) -> str:
        """The proxy's address."""
        return f"http://127.0.0.1:{self.port}"

    def wait_for(self, pattern: str, count: int = 1, timeout: float = START_TIMEOUT) -> re.Match[str]:
        """The ``count``-th log line matching ``pattern``; fails after ``timeout`` seconds."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [m for m in map(rx.search, self.lines) if m]
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no log line matching {pattern!r} (x{count}); log:\n" + "\n".join(self.lines))
                self._changed.wait(min(left, 0.5))

    def recorded(self, n: int) -> None:
        """Wait until the addon has recorded (and flushed) ``n`` exchanges."""
        self.wait_for(rf"o2ims-recorder: recorded #{n} ")

    def stop(self, sig: int = signal.SIGINT) -> int:
        """Stop the proxy with a signal and wait for it to exit."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
        self._reader.join(5)
        return code


@pytest.fixture(scope="session")
def confdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mitmproxy confdir (its CA) for the whole session."""
    return tmp_path_factory.mktemp("mitmproxy-conf")


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    """The O2IMS-like upstream, one per module."""
    with Upstream() as up:
        yield up


def client() -> requests.Session:
    """A requests session that ignores proxy environment variables."""
    s = requests.Session()
    s.trust_env = False
    return s
