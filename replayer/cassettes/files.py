"""Cassette files on disk: atomic writes, the cassette writer, finding cassette files under folders.

- Writes are atomic: temp file in the same folder, fsync, rename, fsync of the folder.
- ``CassetteWriter`` appends: after its first write a flush adds only the new interactions, so the cost
  per exchange stays flat as a session grows, and the file is a complete, valid cassette after every
  write; a write cut short (SIGKILL) is cut back by ``cut_interrupted_tail`` on the next open.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from replayer.cassettes.model import Cassette, Interaction
from replayer.cassettes.yaml import dump_head, dump_interaction, join_chunks
from replayer.errors import CassetteError

__all__ = [
    "CACHE_DIR",
    "CASSETTE_SUFFIXES",
    "COMPLETE_MARK",
    "CassetteWriter",
    "atomic_write",
    "complete_part",
    "cut_interrupted_tail",
    "find_cassettes",
    "read_cassette_file",
]

#: The derived cache's folder (``replayer.cassettes.cache``); never searched for cassettes.
CACHE_DIR = ".o2replay-cache"
CASSETTE_SUFFIXES = (".yaml", ".yml")


def atomic_write(path: str | Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old file or the new one, never a mix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates 0600; the result gets the mode the file had, or what the umask gives a new file.
        os.fchmod(fd, _mode_for(path))
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once at import, before any thread of ours runs.
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_NEW_FILE_MODE = 0o666 & ~_read_umask()


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return _NEW_FILE_MODE


def _fsync_dir(folder: Path) -> None:
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)



#: The line an appending writer puts after each write; text after the last one is an interrupted write.
COMPLETE_MARK = "# o2replay: complete through interaction "


class CassetteWriter:
    """Keeps a cassette on disk current while interactions are added, at a cost per flush that does not
    grow with the cassette.

    Each interaction is serialised once. The first flush (and any flush after the metadata changed, or
    after the file changed under us) rewrites the file atomically; the others append only the new
    interactions, with one sequential write and an fsync, so the cost per exchange stays flat however
    long the session. After every write the file is a complete, valid cassette: each append ends with a
    ``COMPLETE_MARK`` comment line (the first one after a rewrite also starts with one), so a write cut
    short (SIGKILL, power loss) leaves text after the last mark, which the next recording session leaves
    out (``complete_part``) and rewrites away. ``close`` rewrites the file once more
    without the marks, so a finished cassette is byte-identical to ``dump_cassette`` of the same content.
    Starting from an existing cassette keeps its interactions (``new_episodes``).
    """

    def __init__(self, path: str | Path, *, metadata: Mapping[str, Any] | None = None,
                 existing: Cassette | None = None) -> None:
        self.path = Path(path)
        self.metadata: dict[str, Any] = dict(existing.metadata if existing else {})
        self.metadata.update(metadata or {})
        self._chunks: list[str] = [dump_interaction(i) for i in (existing.interactions if existing else ())]
        self._dirty = existing is None
        self._rewrite = True  # the next flush rewrites the whole file
        self._written = 0  # interactions in the file as we last wrote it
        self._size = -1  # its size then (another size: someone else wrote it, rewrite)
        self._marked = False  # the file holds COMPLETE_MARK lines (``close`` removes them)

    def __len__(self) -> int:
        return len(self._chunks)

    @property
    def dirty(self) -> bool:
        """True when something was added since the last flush."""
        return self._dirty

    def append(self, interaction: Interaction) -> None:
        """Add one interaction (not yet on disk until ``flush``)."""
        self._chunks.append(dump_interaction(interaction))
        self._dirty = True

    def update_metadata(self, **values: Any) -> None:
        """Merge values into the top-level metadata block (the next flush rewrites the file)."""
        for key, value in values.items():
            if self.metadata.get(key) != value:
                self.metadata[key] = value
                self._dirty = self._rewrite = True

    def text(self) -> str:
        """The cassette as ``close`` leaves it."""
        return join_chunks(dump_head(self.metadata), self._chunks)

    def flush(self) -> None:
        """Put what was added on disk: appended when it can be, else an atomic rewrite."""
        if not self._dirty:
            return
        if self._rewrite or not self._written or self._on_disk_size() != self._size:
            data = self.text().encode("utf-8")  # exactly what the dumper writes: no marks
            atomic_write(self.path, data)
            self._size, self._marked = len(data), False
        else:
            # The first append after a rewrite marks the end of what that rewrite wrote, so that even a
            # first append cut short leaves a mark to cut back to.
            lead = "" if self._marked else f"{COMPLETE_MARK}{self._written - 1}\n"
            text = lead + "".join(self._chunks[self._written:]) + f"{COMPLETE_MARK}{len(self._chunks) - 1}\n"
            self._size += _append(self.path, text.encode("utf-8"))
            self._marked = True
        self._written = len(self._chunks)
        self._dirty = self._rewrite = False

    def close(self) -> None:
        """Flush, then leave the file as ``dump_cassette`` would write it (without the marks)."""
        self.flush()
        if self._marked:
            data = self.text().encode("utf-8")
            atomic_write(self.path, data)
            self._size, self._marked = len(data), False

    def _on_disk_size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return -1


def _append(path: Path, data: bytes) -> int:
    """Append ``data`` and fsync; the number of bytes written. A failed write (disk full) is cut back off,
    so the file stays as it was."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        before = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, before)
            raise
    finally:
        os.close(fd)
    return len(data)


def complete_part(data: bytes) -> bytes:
    """``data`` without the text after its last ``COMPLETE_MARK`` line: a write that did not finish.

    An appending ``CassetteWriter`` ends every write with such a line. Text without marks (a cassette
    closed cleanly, or written by another tool) is returned whole.
    """
    prefix = COMPLETE_MARK.encode("utf-8")
    last = data.rfind(b"\n") + 1
    tail = data[last:]
    if tail and (prefix.startswith(tail) or tail.startswith(prefix)) and b"\n" + prefix in data[:last]:
        return data[:last]  # a mark cut short: the interaction written before it is complete
    at = data.rfind(b"\n" + prefix) + 1
    if at == 0:
        return data
    return data[:data.find(b"\n", at) + 1]  # up to the end of the last complete mark


def cut_interrupted_tail(path: str | Path) -> bool:
    """Cut a cassette file back to its last complete interaction when its last write was interrupted
    (see ``complete_part``); True when something was cut (atomically)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError:
        return False
    keep = complete_part(data)
    if len(keep) == len(data):
        return False
    atomic_write(path, keep)
    return True


def read_cassette_file(path: Path) -> bytes:
    """The bytes of a cassette file; CassetteError naming the file when it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CassetteError(path, "no such file") from None
    except IsADirectoryError:
        raise CassetteError(path, "is a directory, expected a cassette file") from None
    except OSError as e:
        raise CassetteError(path, f"cannot read: {e.strerror}") from None


def find_cassettes(paths: Iterable[str | Path]) -> Iterator[tuple[Path, Path]]:
    """Yield (file, root) for every cassette file under the given files and folders, sorted.

    Inside a folder, any hidden part of the path is skipped (dot-files, ``.o2replay-cache/``, and the
    ``..<timestamp>/`` and ``..data`` entries a Kubernetes ConfigMap volume keeps its files in behind the
    visible links), and a file reached twice (a link and its target, or two overlapping paths) is
    yielded once, under the first name found.
    """
    seen: set[Path] = set()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.suffix not in CASSETTE_SUFFIXES or _hidden(f.relative_to(p)) or not f.is_file():
                    continue
                if _first(f, seen):
                    yield f, p
        elif p.exists():
            if _first(p, seen):
                yield p, p.parent
        else:
            raise CassetteError(p, "no such file or directory")


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _first(path: Path, seen: set[Path]) -> bool:
    """True the first time a file (by its real path) is seen."""
    real = path.resolve()
    if real in seen:
        return False
    seen.add(real)
    return True

