"""Child processes die with their parent: no orphan proxy or worker keeps a port after a ``kill -9``.

- ``die_with_parent``: on Linux the kernel signals the child when its parent dies
  (``prctl(PR_SET_PDEATHSIG)``); the ``--workers`` processes of ``serve`` use it.
- ``watch_parent_pipe``: a watchdog thread in the child reads a pipe from the parent (its stdin) and
  sees end-of-file when the parent is gone, however it died, on any platform. The recording proxy
  uses it: before it sends itself SIGTERM it points stdout and stderr at ``/dev/null`` (nobody reads
  them any more, and a write to the dead pipe would fail), so the clean shutdown, with the recorder's
  final flush and the lock's release, runs to the end.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

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


def watch_parent_pipe(fd: int, sig: int = signal.SIGTERM) -> threading.Thread:
    """Send ``sig`` to this process when ``fd`` (a pipe the parent holds open) reaches end-of-file."""

    def watch() -> None:
        # os.read, not a buffered file: a daemon thread blocked on a buffered read holds its lock, and
        # the interpreter aborts at exit trying to take it ("could not acquire lock ... at shutdown").
        try:
            while os.read(fd, 4096):
                pass
        except OSError:
            pass
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.kill(os.getpid(), sig)

    thread = threading.Thread(target=watch, name="parent-watchdog", daemon=True)
    thread.start()
    return thread
