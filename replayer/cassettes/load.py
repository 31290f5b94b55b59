"""Loading cassette files: one file, or every cassette under folders through the derived cache."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from replayer.cassettes.cache import cache_folder, cache_get, cache_prune, cache_put
from replayer.cassettes.files import find_cassettes
from replayer.cassettes.model import Cassette
from replayer.cassettes.yaml import gc_paused, parse_cassette
from replayer.errors import CassetteError

__all__ = ["LoadedCassette", "load_cassette", "load_cassettes"]


@dataclass(frozen=True, slots=True)
class LoadedCassette:
    """A cassette with where it came from: its path, its name relative to the root, its content hash."""

    path: Path
    name: str
    digest: str
    cassette: Cassette



def load_cassette(path: str | Path) -> Cassette:
    """Read and parse one cassette file (no cache)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CassetteError(path, "no such file") from None
    except IsADirectoryError:
        raise CassetteError(path, "is a directory, expected a cassette file") from None
    except OSError as e:
        raise CassetteError(path, f"cannot read: {e.strerror}") from None
    return parse_cassette(data, path)



def load_cassettes(paths: Iterable[str | Path], *, use_cache: bool = True,
                   cache_dir: str | Path | None = None) -> list[LoadedCassette]:
    """Load every cassette under the given paths, using the derived cache when it is valid.

    The cache lives in ``.o2replay-cache/`` beside the cassettes, or under ``cache_dir`` (one subfolder
    per cassette folder) when the cassettes are on a read-only mount.
    """
    with gc_paused():
        return _load_all(paths, use_cache, None if cache_dir is None else Path(cache_dir))


def _load_all(paths: Iterable[str | Path], use_cache: bool, cache_dir: Path | None) -> list[LoadedCassette]:
    out = []
    seen: dict[Path, dict[str, str]] = {}  # root -> {name: digest} loaded now, to prune the cache
    for f, root in find_cassettes(paths):
        data = _read(f)
        digest = hashlib.blake2b(data, digest_size=20).hexdigest()
        folder = cache_folder(root, cache_dir)
        cassette = cache_get(folder, digest) if use_cache else None
        if cassette is None:
            cassette = parse_cassette(data, f)
            if use_cache:
                cache_put(folder, digest, cassette)
        del data
        name = f.relative_to(root).as_posix() if f.is_relative_to(root) else f.name
        out.append(LoadedCassette(f, name, digest, cassette))
        seen.setdefault(root, {})[name] = digest
    if use_cache:
        for root, names in seen.items():
            cache_prune(root, cache_folder(root, cache_dir), names)
    return out


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise CassetteError(path, f"cannot read: {e.strerror}") from None

