"""Keeping a recording safe on disk: pre-flight checks, one recorder per cassette, stale temp files, rescue.

- ``writable_problem``: before the proxy starts, can the cassette's folder be made and written, with
  some space left? A session that could never be saved is refused up front.
- ``CassetteLock``: an exclusive lock on ``<cassette>.lock`` while a recording runs. Two recorders writing the same cassette would each rewrite the whole file from their own memory, and
the last flush would silently drop the other's exchanges. The lock is ``fcntl.flock`` on a file
beside the cassette: the kernel releases it when its holder exits, however it exits (even
``kill -9``), so a crash never leaves a stale lock behind. The file holds the holder's pid for the
error message, and is removed on release; a waiter that locked a file already removed tries again.
- ``remove_stale_temp_files``: an atomic write killed before its rename leaves ``.<name>.*.tmp``
  beside the cassette; the lock holder removes them.
- ``rescue_copy``: when the final write fails (disk full), the session goes to a file elsewhere.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

__all__ = ["CassetteLock", "CassetteLocked", "lock_path", "writable_problem", "remove_stale_temp_files",
           "rescue_copy", "MIN_FREE_BYTES"]

#: Below this much free space in the cassette's file system, ``record`` refuses to start.
MIN_FREE_BYTES = 1024 * 1024


class CassetteLocked(ValueError):
    """Raised when another process holds the cassette's lock."""


def lock_path(cassette: Path) -> Path:
    """``lab.yaml`` -> ``lab.yaml.lock``."""
    return cassette.with_name(cassette.name + ".lock")


class CassetteLock:
    """An exclusive, non-blocking ``flock`` on ``<cassette>.lock``; OSError when the folder is not writable."""

    def __init__(self, cassette: Path) -> None:
        self.cassette = cassette
        self.path = lock_path(cassette)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise CassetteLocked naming the holder's pid."""
        if self._fd is not None:
            return
        for _ in range(20):  # each retry means a holder released (and removed) the file in between
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
                os.close(fd)
                raise CassetteLocked(
                    f"{self.cassette} is being recorded by another process (pid {holder}; lock {self.path}): "
                    "stop that recording first, or record into another cassette") from None
            except BaseException:
                os.close(fd)
                raise
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode("ascii"))
                self._fd = fd
                return
            os.close(fd)
        raise CassetteLocked(f"{self.cassette}: could not lock {self.path} (it keeps being replaced)")

    def __del__(self) -> None:
        # A holder dropped without release() (a crash path): closing the descriptor frees the lock.
        if self._fd is not None:
            os.close(self._fd)

    def release(self) -> None:
        """Remove the lock file and drop the lock (removal first, so no waiter locks a dead file)."""
        if self._fd is None:
            return
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = None


def _existing_ancestor(path: Path) -> Path:
    for parent in path.parents:
        if parent.exists():
            return parent
    return Path(".")


def writable_problem(cassette: Path) -> str:
    """Why ``cassette`` cannot be recorded into (makes its folder if missing), or "" when it can."""
    if cassette.exists() and not cassette.is_file():
        return "it exists and is not a regular file"
    folder = cassette.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        base = _existing_ancestor(cassette)
        if not base.is_dir():
            return f"{base} is a file, not a folder"
        return f"cannot create the folder {folder}: {e.strerror or e}"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is not writable"
    try:
        st = os.statvfs(folder)
    except OSError:
        return ""
    free = st.f_bavail * st.f_frsize
    if free < MIN_FREE_BYTES:
        return f"the file system of {folder} has only {free} bytes free"
    return ""


def remove_stale_temp_files(cassette: Path) -> list[Path]:
    """Remove ``.<name>.*.tmp`` files an interrupted atomic write left (call with the lock held)."""
    removed = []
    for tmp in cassette.parent.glob(f".{cassette.name}.*.tmp"):
        try:
            tmp.unlink()
            removed.append(tmp)
        except OSError:
            pass
    return removed


def rescue_copy(cassette: Path, text: str) -> Path | None:
    """Write ``text`` to ``o2replay-rescue/<name>.<pid>.yaml`` in the temp folder or the home folder."""
    name = f"{cassette.stem}.{os.getpid()}{cassette.suffix or '.yaml'}"
    for base in (Path(tempfile.gettempdir()), Path.home() / ".cache"):
        target = base / "o2replay-rescue" / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            return target
        except OSError:
            try:
                target.unlink()
            except OSError:
                pass
    return None
