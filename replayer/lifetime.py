"""Child processes die with their parent: no orphan proxy or worker keeps a port after a ``kill -9``.

Two mechanisms, since either alone has a gap: on Linux the kernel sends a signal to the child when its
parent dies (``prctl(PR_SET_PDEATHSIG)``, as ``server/workers`` does for ``--workers``); everywhere, a
watchdog thread in the child reads a pipe from the parent (its stdin) and sees end-of-file when the
parent is gone, however it died. Either way the child gets SIGTERM, so it shuts down cleanly (the
recorder's final flush runs) rather than being killed mid-write.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import IO

__all__ = ["die_with_parent", "watch_parent_pipe"]


def die_with_parent(parent: int, sig: int = signal.SIGTERM) -> None:
    """Linux: have the kernel send ``sig`` when the parent dies; exit at once if it already has."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(sig))  # PR_SET_PDEATHSIG (linux/prctl.h)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def watch_parent_pipe(stream: IO[bytes], sig: int = signal.SIGTERM) -> threading.Thread:
    """Send ``sig`` to this process when ``stream`` (a pipe the parent holds open) reaches end-of-file."""

    def watch() -> None:
        try:
            while stream.read(4096):
                pass
        except (OSError, ValueError):
            pass
        os.kill(os.getpid(), sig)

    thread = threading.Thread(target=watch, name="parent-watchdog", daemon=True)
    thread.start()
    return thread
