"""``o2replay record`` as a child process in front of an upstream: the proxy URL while the block runs."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)$")


@contextmanager
def recording(upstream: str, cassette: Path, confdir: Path, *extra: str, timeout: float = 60) -> Iterator[str]:
    """Run ``o2replay record --upstream URL --cassette PATH``; SIGINT at the end, which must exit 0."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "replayer", "record", "--upstream", upstream, "--cassette", str(cassette),
         "--listen", "127.0.0.1:0", "--set", f"confdir={confdir}", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    try:
        url = _wait_for(lines, seen, timeout)
        yield url
        proc.send_signal(signal.SIGINT)
        code = proc.wait(30)
        assert code == 0, "o2replay record exited with %d:\n%s" % (code, "\n".join(seen + _drain(lines)))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _wait_for(lines: queue.Queue[str], seen: list[str], timeout: float) -> str:
    url = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        m = LISTENING.search(line)
        url = m.group(1) if m else url
        if url and "Ctrl-C to stop" in line:
            return url
    raise AssertionError("o2replay record did not start:\n" + "\n".join(seen))


def _drain(lines: queue.Queue[str]) -> list[str]:
    out = []
    while not lines.empty():
        out.append(lines.get_nowait())
    return out
