"""The only code that reads and writes cassette files.

- YAML is parsed with libyaml's C loader when present (safe: no ``!!python`` tags).
- Errors become ``CassetteError`` naming file, line and interaction index.
- Writes are atomic: temp file in the same folder, fsync, rename, fsync of the folder.
- ``CassetteWriter`` keeps every interaction's YAML text once, so flushing after each exchange
  costs one sequential write, and the file on disk is always a complete, valid cassette.
- A derived cache (``.o2replay-cache/`` beside the cassettes, keyed on the file's content hash)
  lets an unchanged set load without parsing YAML. It is never authoritative: any doubt, re-parse.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from replayer.cassette import (
    CASSETTE_VERSION,
    Cassette,
    Interaction,
    InteractionKind,
    InteractionMeta,
    Request,
    Response,
    cassette_from_dict,
    interaction_to_dict,
    metadata_to_dict,
)
from replayer.errors import CassetteError

__all__ = [
    "CACHE_DIR",
    "LoadedCassette",
    "CassetteWriter",
    "atomic_write",
    "dump_cassette",
    "dump_interaction",
    "find_cassettes",
    "load_cassette",
    "load_cassettes",
    "parse_cassette",
]

CACHE_DIR = ".o2replay-cache"
_CACHE_FORMAT = 1
CASSETTE_SUFFIXES = (".yaml", ".yml")

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc, valid-type]
    """Safe dumper that writes multi-line strings as literal blocks, so JSON bodies diff by line."""


def _represent_str(dumper: Any, data: str) -> Any:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _represent_str)


def _dump_yaml(data: Any) -> str:
    return yaml.dump(  # type: ignore[no-any-return]
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096
    )


# --------------------------------------------------------------------------- writing


def dump_interaction(interaction: Interaction) -> str:
    """The YAML text of one interaction as an item of the ``interactions`` list."""
    return _dump_yaml([interaction_to_dict(interaction)])


def _dump_head(metadata: Mapping[str, Any]) -> str:
    head = f"version: {CASSETTE_VERSION}\n"
    if metadata:
        head += _dump_yaml({"metadata": metadata_to_dict(metadata)})
    return head


def _join(head: str, chunks: list[str]) -> str:
    if not chunks:
        return head + "interactions: []\n"
    return head + "interactions:\n" + "".join(chunks)


def dump_cassette(cassette: Cassette) -> str:
    """The YAML text of a whole cassette; identical input gives byte-identical text."""
    return _join(_dump_head(cassette.metadata), [dump_interaction(i) for i in cassette.interactions])


def atomic_write(path: str | Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old file or the new one, never a mix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
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
        return _join(_dump_head(self.metadata), self._chunks)

    def flush(self) -> None:
        """Write the cassette atomically if anything changed."""
        if self._dirty:
            atomic_write(self.path, self.text())
            self._dirty = False


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class LoadedCassette:
    """A cassette with where it came from: its path, its name relative to the root, its content hash."""

    path: Path
    name: str
    digest: str
    cassette: Cassette


def parse_cassette(text: str | bytes, path: str | Path = "<cassette>") -> Cassette:
    """Parse cassette YAML; raises CassetteError with file, line and interaction index."""
    try:
        doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader (C or Python)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = e.problem or e.context or "invalid YAML"
        raise CassetteError(path, f"invalid YAML: {problem}", line=line) from None
    except yaml.YAMLError as e:
        raise CassetteError(path, f"invalid YAML: {e}") from None
    except UnicodeDecodeError as e:
        raise CassetteError(path, f"not UTF-8 text: {e.reason} at byte {e.start}") from None
    failed: dict[str, Any] = {}

    def remember(index: int, err: ValueError) -> None:
        failed["index"], failed["err"] = index, err

    try:
        return cassette_from_dict(doc, on_interaction_error=remember)
    except ValueError as e:
        if "index" in failed:
            idx, err = failed["index"], failed["err"]
            raise CassetteError(path, str(err), line=_locate(text, idx, str(err)), interaction=idx) from None
        raise CassetteError(path, str(e), line=_locate_top(text, str(e))) from None


def _compose(text: str | bytes) -> Any:
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return None


def _locate_top(text: str | bytes, message: str) -> int | None:
    root = _compose(text)
    if not isinstance(root, yaml.MappingNode):
        return 1 if root is None else root.start_mark.line + 1
    key = message.split(" ", 1)[0]
    for k, v in root.value:
        if k.value == key:
            return int(v.start_mark.line) + 1
    return 1


def _locate(text: str | bytes, index: int, message: str) -> int | None:
    """The line of the field a message names (``response.status.code ...``) in interaction ``index``."""
    root = _compose(text)
    if not isinstance(root, yaml.MappingNode):
        return None
    items = next((v for k, v in root.value if k.value == "interactions"), None)
    if not isinstance(items, yaml.SequenceNode) or index >= len(items.value):
        return None
    node: Any = items.value[index]
    for part in message.split(" ", 1)[0].split("."):
        if not isinstance(node, yaml.MappingNode):
            break
        child = next((v for k, v in node.value if k.value == part), None)
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1


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


def find_cassettes(paths: Iterable[str | Path]) -> Iterator[tuple[Path, Path]]:
    """Yield (file, root) for every cassette file under the given files and folders, sorted."""
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.suffix in CASSETTE_SUFFIXES and f.is_file() and CACHE_DIR not in f.parts \
                        and not f.name.startswith("."):
                    yield f, p
        elif p.exists():
            yield p, p.parent
        else:
            raise CassetteError(p, "no such file or directory")


def load_cassettes(paths: Iterable[str | Path], *, use_cache: bool = True) -> list[LoadedCassette]:
    """Load every cassette under the given paths, using the derived cache when it is valid."""
    out = []
    for f, root in find_cassettes(paths):
        data = _read(f)
        digest = hashlib.blake2b(data, digest_size=20).hexdigest()
        cassette = _cache_get(root, digest) if use_cache else None
        if cassette is None:
            cassette = parse_cassette(data, f)
            if use_cache:
                _cache_put(root, digest, cassette)
        name = f.relative_to(root).as_posix() if f.is_relative_to(root) else f.name
        out.append(LoadedCassette(f, name, digest, cassette))
    return out


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise CassetteError(path, f"cannot read: {e.strerror}") from None


# --------------------------------------------------------------------------- derived cache


def _to_plain(c: Cassette) -> tuple[Any, ...]:
    return (
        _CACHE_FORMAT,
        dict(c.metadata),
        [
            (i.request.method, i.request.uri, i.request.headers, i.request.body,
             i.response.status, i.response.reason, i.response.headers, i.response.body,
             i.meta.kind.value, i.meta.recorded_at, i.meta.duration)
            for i in c.interactions
        ],
    )


def _from_plain(plain: Any) -> Cassette | None:
    if not isinstance(plain, tuple) or len(plain) != 3 or plain[0] != _CACHE_FORMAT:
        return None
    kinds = {k.value: k for k in InteractionKind}
    return Cassette(
        tuple(
            Interaction(Request(m, u, qh, qb), Response(s, r, sh, sb), InteractionMeta(kinds[k], at, d))
            for m, u, qh, qb, s, r, sh, sb, k, at, d in plain[2]
        ),
        plain[1],
    )


def _cache_file(root: Path, digest: str) -> Path:
    return root / CACHE_DIR / f"{digest}.marshal"


def _cache_get(root: Path, digest: str) -> Cassette | None:
    try:
        data = _cache_file(root, digest).read_bytes()
        return _from_plain(marshal.loads(data))
    except (OSError, ValueError, EOFError, TypeError, KeyError):
        return None


def _cache_put(root: Path, digest: str, cassette: Cassette) -> None:
    """Best effort: a read-only checkout simply runs without the cache."""
    try:
        folder = root / CACHE_DIR
        if not folder.exists():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / ".gitignore").write_text("# derived by o2ims-replay; safe to delete\n*\n")
        atomic_write(_cache_file(root, digest), marshal.dumps(_to_plain(cassette)))
    except (OSError, ValueError):
        pass
