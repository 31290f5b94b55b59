"""The derived cache (``.o2replay-cache/``): an unchanged cassette set loads without parsing YAML.

Kept in the folder given to ``load_cassettes``, keyed on each file's content hash. It is never
authoritative: any doubt, re-parse. Entries for files that changed or disappeared are pruned on the
next load.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from replayer.cassettes.files import CACHE_DIR, atomic_write
from replayer.cassettes.model import Cassette, Interaction, InteractionKind, InteractionMeta, Request, Response

__all__ = ["cache_folder", "cache_get", "cache_prune", "cache_put"]

#: Bump when the in-memory model or its normalisation changes: old entries are then ignored and pruned.
_CACHE_FORMAT = 2
#: marshal's format belongs to the Python version that wrote it.
_CACHE_TAG = f"v{_CACHE_FORMAT}-py{sys.version_info[0]}{sys.version_info[1]}"
_CACHE_INDEX = "index.json"

# --------------------------------------------------------------------------- derived cache
#
# One marshal file per cassette content (``<blake2b>.<tag>.marshal``) holding plain tuples, and an
# ``index.json`` naming which cassette file last had which digest, so entries of files that changed
# or were deleted can be pruned: the folder never holds more entries than there are cassettes.
# marshal keeps shared objects shared, and the reader shares repeated strings (header names and
# values), so a warm start builds few objects. Nothing here is authoritative: a missing, stale,
# truncated or foreign entry is ignored and the YAML is parsed again.

_DEFAULT_META = InteractionMeta()


def _to_plain(c: Cassette) -> tuple[Any, ...]:
    return (
        _CACHE_TAG,
        dict(c.metadata),
        [
            (i.request.method, i.request.uri, i.request.headers, i.request.body,
             i.response.status, i.response.reason, i.response.headers, i.response.body,
             None if i.meta == _DEFAULT_META else (i.meta.kind.value, i.meta.recorded_at, i.meta.duration))
            for i in c.interactions
        ],
    )


def _from_plain(plain: Any) -> Cassette | None:
    if not isinstance(plain, tuple) or len(plain) != 3 or plain[0] != _CACHE_TAG:
        return None
    kinds = {k.value: k for k in InteractionKind}
    default = _DEFAULT_META
    return Cassette(
        tuple([
            Interaction(Request(m, u, qh, qb), Response(s, r, sh, sb),
                        default if meta is None else InteractionMeta(kinds[meta[0]], meta[1], meta[2]))
            for m, u, qh, qb, s, r, sh, sb, meta in plain[2]
        ]),
        plain[1],
    )


def cache_folder(root: Path, cache_dir: Path | None = None) -> Path:
    """Where the derived cache of the cassettes under ``root`` lives: ``.o2replay-cache/`` beside them, or a
    subfolder per cassette folder of ``cache_dir`` (``--cache-dir``, for read-only cassette mounts)."""
    if cache_dir is None:
        return root / CACHE_DIR
    key = hashlib.blake2b(str(root.resolve()).encode(), digest_size=8).hexdigest()
    return cache_dir / f"{root.resolve().name or 'root'}-{key}"


def _cache_file(folder: Path, digest: str) -> Path:
    return folder / f"{digest}.{_CACHE_TAG}.marshal"


def cache_get(folder: Path, digest: str) -> Cassette | None:
    """The cached cassette of that content, or None when there is no usable entry."""
    try:
        data = _cache_file(folder, digest).read_bytes()
        return _from_plain(marshal.loads(data))
    except (OSError, ValueError, EOFError, TypeError, KeyError, IndexError):
        return None


def cache_put(folder: Path, digest: str, cassette: Cassette) -> None:
    """Best effort: a read-only checkout simply runs without the cache."""
    try:
        if not folder.exists():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / ".gitignore").write_text("# derived by o2ims-replay; safe to delete\n*\n")
        atomic_write(_cache_file(folder, digest), marshal.dumps(_to_plain(cassette)))
    except (OSError, ValueError):
        pass


def cache_prune(root: Path, folder: Path, loaded: Mapping[str, str]) -> None:
    """Record which file has which digest (in ``folder``, the cache of the cassettes under ``root``);
    delete entries no existing cassette file still uses."""
    if not folder.is_dir():
        return
    index_path = folder / _CACHE_INDEX
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
        old = index["files"] if isinstance(index, dict) and index.get("tag") == _CACHE_TAG else {}
        old = {str(k): str(v) for k, v in old.items()}
    except (OSError, ValueError, KeyError, AttributeError):
        old = {}
    files = {name: digest for name, digest in old.items() if name not in loaded and (root / name).is_file()}
    files.update(loaded)
    keep = {f"{d}.{_CACHE_TAG}.marshal" for d in files.values()} | {_CACHE_INDEX, ".gitignore"}
    stale = time.time() - 3600  # a temp file this old was left by a killed writer
    try:
        for entry in os.scandir(folder):
            if entry.name in keep:
                continue
            if not entry.name.startswith(".") or (entry.name.endswith(".tmp") and entry.stat().st_mtime < stale):
                os.unlink(entry.path)
        if files != old:
            atomic_write(index_path, json.dumps({"tag": _CACHE_TAG, "files": files}, indent=1, sort_keys=True))
    except OSError:
        pass

