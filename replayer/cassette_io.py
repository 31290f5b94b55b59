"""The only code that reads and writes cassette files.

- YAML is read by ``replayer.fastyaml`` (a strict reader for exactly what ``dump_cassette`` writes,
  about ten times faster than libyaml on JSON bodies); anything it does not handle is parsed by
  libyaml's C loader when present (safe: no ``!!python`` tags), which also words the errors.
- Errors become ``CassetteError`` naming file, line and interaction index.
- Writes are atomic: temp file in the same folder, fsync, rename, fsync of the folder.
- ``CassetteWriter`` keeps every interaction's YAML text once, so flushing after each exchange
  costs one sequential write, and the file on disk is always a complete, valid cassette.
- A derived cache (``.o2replay-cache/`` in the folder given to ``load_cassettes``, keyed on each
  file's content hash) lets an unchanged set load without parsing YAML. It is never authoritative:
  any doubt, re-parse. Entries for files that changed or disappeared are pruned on the next load.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import marshal
import os
import sys
import tempfile
import time
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
from replayer.fastyaml import Unsupported
from replayer.fastyaml import load as _fast_load

__all__ = [
    "CACHE_DIR",
    "LoadedCassette",
    "CassetteWriter",
    "atomic_write",
    "cache_folder",
    "dump_cassette",
    "dump_interaction",
    "find_cassettes",
    "gc_paused",
    "load_cassette",
    "load_cassettes",
    "parse_cassette",
]

CACHE_DIR = ".o2replay-cache"
#: Bump when the in-memory model or its normalisation changes: old entries are then ignored and pruned.
_CACHE_FORMAT = 2
#: marshal's format belongs to the Python version that wrote it.
_CACHE_TAG = f"v{_CACHE_FORMAT}-py{sys.version_info[0]}{sys.version_info[1]}"
_CACHE_INDEX = "index.json"
CASSETTE_SUFFIXES = (".yaml", ".yml")

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """Safe dumper that writes multi-line strings as literal blocks, so JSON bodies diff by line."""


def _represent_str(dumper: Any, data: str) -> Any:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _represent_str)


def _dump_yaml(data: Any) -> str:
    return yaml.dump(
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


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building many objects that hold no cycles.

    Each collection walks every live object, so a load allocating millions of dicts, lists and
    tuples would otherwise trigger collections whose cost grows with everything loaded so far.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_cassette(text: str | bytes, path: str | Path = "<cassette>") -> Cassette:
    """Parse cassette YAML; raises CassetteError with file, line and interaction index."""
    with gc_paused():
        try:
            doc = _fast_load(text)
        except Unsupported:
            doc = _load_yaml(text, path)
        return _build(doc, text, path)


def _load_yaml(text: str | bytes, path: str | Path) -> Any:
    """The full libyaml parse: slower, handles all of YAML, words the errors with a line number."""
    if isinstance(text, bytes) and not text.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 BOMs: libyaml
        raw = text
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise CassetteError(path, f"not UTF-8 text: byte 0x{raw[e.start]:02x} cannot be decoded "
                                      "(save the file as UTF-8)", line=raw.count(b"\n", 0, e.start) + 1) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader (C or Python)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise _located(path, text, _yaml_problem(e, text), mark.line + 1 if mark is not None else None) from None
    except yaml.YAMLError as e:
        raise CassetteError(path, "invalid YAML: " + " ".join(str(e).split())) from None
    except (ValueError, OverflowError) as e:  # e.g. a plain 2025-13-45 read as a timestamp
        at, value = _bad_scalar(text)
        raise _located(path, text, f"{value!r} cannot be read as a {'date' if '-' in value else 'number'} ({e}); "
                                   "quote it to keep it a string", at) from None


def _located(path: str | Path, text: str | bytes, message: str, line: int | None) -> CassetteError:
    """A CassetteError naming the interaction and, when the file composes, the field at ``line``."""
    index = _interaction_at(text, line)
    field = _field_at(text, index, line) if index is not None and line is not None else None
    return CassetteError(path, f"{field}: {message}" if field else message, line=line, interaction=index)


def _field_at(text: str | bytes, index: int, line: int) -> str | None:
    """The dotted field (``response.body.string``) whose value is on ``line`` of interaction ``index``."""
    root = _compose(text)
    items = next((v for k, v in root.value if k.value == "interactions"), None) \
        if isinstance(root, yaml.MappingNode) else None
    if not isinstance(items, yaml.SequenceNode) or index >= len(items.value):
        return None
    node, parts = items.value[index], []
    while isinstance(node, yaml.MappingNode):
        before = [(k, v) for k, v in node.value if k.start_mark.line < line]
        if not before:
            break
        key, node = before[-1]
        parts.append(str(key.value))
    return ".".join(parts) or None


def _yaml_problem(e: yaml.MarkedYAMLError, text: str | bytes) -> str:
    """One line saying what libyaml found, with a hint for the usual hand-editing mistakes."""
    problem = " ".join((e.problem or e.context or "invalid YAML").split())
    if problem.startswith("could not determine a constructor for the tag"):
        tag = problem.rsplit(" ", 1)[-1].strip("'").replace("tag:yaml.org,2002:", "!!")
        return (f"tag {tag} is not allowed: a cassette holds plain data "
                "(strings, numbers, lists, mappings and !!binary)")
    if problem.startswith("failed to decode base64 data"):
        return f"!!binary data is not valid base64 ({problem.split(': ', 2)[-1]})"
    mark = e.problem_mark
    if mark is not None and isinstance(text, str):
        lines = text.splitlines()
        bad = lines[mark.line] if mark.line < len(lines) else ""
        if "\t" in bad[: len(bad) - len(bad.lstrip())]:
            return "invalid YAML: a tab in the indentation (YAML indents with spaces only)"
    if e.context and e.context_mark is not None and e.context_mark.line != getattr(mark, "line", None):
        return f"invalid YAML: {problem} {e.context} that starts at line {e.context_mark.line + 1}"
    return f"invalid YAML: {problem}"


def _interaction_at(text: str | bytes, line: int | None) -> int | None:
    """Which interaction holds ``line``, counting ``- `` items under a top-level ``interactions:``.

    A textual count, since a file libyaml rejects cannot be composed; it matches how our dumper
    and vcrpy lay cassettes out, and says nothing when the layout is different.
    """
    if line is None or not isinstance(text, str):
        return None
    index, inside = -1, False
    for number, raw in enumerate(text.splitlines()[:line], start=1):
        if raw.startswith("interactions:"):
            inside, index = raw.rstrip() == "interactions:", -1
        elif inside and (raw.startswith("- ") or raw == "-"):
            index += 1
        elif inside and raw and not raw[0].isspace() and not raw.startswith("#"):
            inside = False
        if number == line:
            return index if inside and index >= 0 else None
    return None


def _bad_scalar(text: str | bytes) -> tuple[int | None, str]:
    """Line and text of the first plain scalar SafeConstructor cannot build (``2025-13-45``)."""
    root = _compose(text)
    loader = _Loader("")
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            try:
                loader.construct_object(node)
            except (ValueError, OverflowError, yaml.YAMLError):
                return int(node.start_mark.line) + 1, str(node.value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in reversed(node.value) for n in reversed(pair))
    return None, "a value"


def _build(doc: Any, text: str | bytes, path: str | Path) -> Cassette:
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


def load_cassettes(paths: Iterable[str | Path], *, use_cache: bool = True,
                   cache_dir: str | Path | None = None) -> list[LoadedCassette]:
    """Load every cassette under the given paths, using the derived cache when it is valid.

    The cache lives in ``.o2replay-cache/`` beside the cassettes, or under ``cache_dir`` (one subfolder
    per cassette folder) when the cassettes are on a read-only mount.
    """
    with gc_paused():
        return _load_all(paths, use_cache, None if cache_dir is None else Path(cache_dir))


def cache_folder(root: Path, cache_dir: Path | None = None) -> Path:
    """Where the derived cache of the cassettes under ``root`` lives."""
    if cache_dir is None:
        return root / CACHE_DIR
    key = hashlib.blake2b(str(root.resolve()).encode(), digest_size=8).hexdigest()
    return cache_dir / f"{root.resolve().name or 'root'}-{key}"


def _load_all(paths: Iterable[str | Path], use_cache: bool, cache_dir: Path | None) -> list[LoadedCassette]:
    out = []
    seen: dict[Path, dict[str, str]] = {}  # root -> {name: digest} loaded now, to prune the cache
    for f, root in find_cassettes(paths):
        data = _read(f)
        digest = hashlib.blake2b(data, digest_size=20).hexdigest()
        folder = cache_folder(root, cache_dir)
        cassette = _cache_get(folder, digest) if use_cache else None
        if cassette is None:
            cassette = parse_cassette(data, f)
            if use_cache:
                _cache_put(folder, digest, cassette)
        del data
        name = f.relative_to(root).as_posix() if f.is_relative_to(root) else f.name
        out.append(LoadedCassette(f, name, digest, cassette))
        seen.setdefault(root, {})[name] = digest
    if use_cache:
        for root, names in seen.items():
            _cache_prune(root, cache_folder(root, cache_dir), names)
    return out


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise CassetteError(path, f"cannot read: {e.strerror}") from None


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


def _cache_file(folder: Path, digest: str) -> Path:
    return folder / f"{digest}.{_CACHE_TAG}.marshal"


def _cache_get(folder: Path, digest: str) -> Cassette | None:
    try:
        data = _cache_file(folder, digest).read_bytes()
        return _from_plain(marshal.loads(data))
    except (OSError, ValueError, EOFError, TypeError, KeyError, IndexError):
        return None


def _cache_put(folder: Path, digest: str, cassette: Cassette) -> None:
    """Best effort: a read-only checkout simply runs without the cache."""
    try:
        if not folder.exists():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / ".gitignore").write_text("# derived by o2ims-replay; safe to delete\n*\n")
        atomic_write(_cache_file(folder, digest), marshal.dumps(_to_plain(cassette)))
    except (OSError, ValueError):
        pass


def _cache_prune(root: Path, folder: Path, loaded: Mapping[str, str]) -> None:
    """Record which file has which digest; delete entries no existing cassette file still uses."""
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
