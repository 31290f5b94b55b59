"""Cassette files on disk: atomic writes, the cassette writer, finding cassette files under folders.

- Writes are atomic: temp file in the same folder, fsync, rename, fsync of the folder.
- ``CassetteWriter`` keeps every interaction's YAML text once, so flushing after each exchange
  costs one sequential write, and the file on disk is always a complete, valid cassette.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from replayer.cassettes.model import Cassette, Interaction
from replayer.cassettes.yaml import dump_head, dump_interaction, join_chunks
from replayer.errors import CassetteError

__all__ = ["CACHE_DIR", "CASSETTE_SUFFIXES", "CassetteWriter", "atomic_write", "find_cassettes"]

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



class CassetteWriter:
    """Accumulates interactions and rewrites the cassette atomically on ``flush``.

    Each interaction is serialised once; a flush writes the joined text. Starting from an existing
    cassette keeps its interactions (``new_episodes``); ``replace=True`` starts empty (``all``).
    """

    def __init__(self, path: str | Path, *, metadata: Mapping[str, Any] | None = None,
                 existing: Cassette | None = None) -> None:
        self.path = Path(path)
        self.metadata: dict[str, Any] = dict(existing.metadata if existing else {})
        self.metadata.update(metadata or {})
        self._chunks: list[str] = [dump_interaction(i) for i in (existing.interactions if existing else ())]
        self._dirty = existing is None

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
        """Merge values into the top-level metadata block."""
        for key, value in values.items():
            if self.metadata.get(key) != value:
                self.metadata[key] = value
                self._dirty = True

    def text(self) -> str:
        """The cassette as it would be written now."""
        return join_chunks(dump_head(self.metadata), self._chunks)

    def flush(self) -> None:
        """Write the cassette atomically if anything changed."""
        if self._dirty:
            atomic_write(self.path, self.text())
            self._dirty = False



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

