"""Cassette YAML: dumping (byte-identical for identical input) and parsing (fast reader first).

- YAML is read by ``replayer.cassettes.fastyaml`` (a strict reader for exactly what ``dump_cassette``
  writes); anything it does not handle is parsed by libyaml's C loader when present (safe: no
  ``!!python`` tags), which also words the errors. On the 10k-interaction benchmark file the fast
  reader is about 3x faster than libyaml, both with the garbage collector paused (see
  docs/performance/cassette.md).
- Errors become ``CassetteError`` naming file, line and interaction index (``replayer.cassettes.locate``).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from replayer.cassettes.fastyaml import Memo, Unsupported
from replayer.cassettes.fastyaml import load as _fast_load
from replayer.cassettes.locate import bad_scalar, locate_field, locate_top, located, yaml_problem
from replayer.cassettes.model import (
    CASSETTE_VERSION,
    Cassette,
    Interaction,
    cassette_from_dict,
    interaction_to_dict,
    metadata_to_dict,
)
from replayer.errors import CassetteError
from replayer.limits import MAX_DEPTH, depth_message

__all__ = [
    "dump_cassette",
    "dump_head",
    "dump_interaction",
    "dump_yaml",
    "gc_paused",
    "join_chunks",
    "parse_cassette",
]

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_Loader):  # type: ignore[misc]
    """The safe loader, refusing a key given twice in one mapping (PyYAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[tuple[str, str], int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key_node.value!r} (first on line {seen[key] + 1}): a mapping "
                        "holds each key once", key_node.start_mark)
                seen[key] = int(getattr(key_node.start_mark, "line", 0))
        return dict(super().construct_mapping(node, deep=deep))


def _structure_problem(text: str | bytes) -> tuple[int, str] | None:
    """Line and message of the first node nested deeper than ``MAX_DEPTH``, or of the first alias.

    Walks libyaml's events, without recursion. Aliases are refused: our dumper and vcrpy never write
    them, and a few lines of them expand into billions of nodes for any reader that walks the result.
    """
    depth = 0
    starts = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, starts):
                depth += 1
                if depth > MAX_DEPTH:
                    return int(getattr(event.start_mark, "line", 0)) + 1, depth_message(what="the YAML structure")
            elif isinstance(event, ends):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                return (int(getattr(event.start_mark, "line", 0)) + 1,
                        f"alias *{event.anchor} is not allowed: a cassette holds plain data, written out")
    except yaml.YAMLError:
        return None  # the load itself reports it, with its line
    return None


_BaseDumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """Safe dumper that writes multi-line strings as literal blocks, so JSON bodies diff by line."""


def _represent_str(dumper: Any, data: str) -> Any:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: Any) -> str:
    """YAML text as cassettes are written: block style, key order kept, multi-line strings as literal blocks."""
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096
    )



def dump_interaction(interaction: Interaction) -> str:
    """The YAML text of one interaction as an item of the ``interactions`` list."""
    return dump_yaml([interaction_to_dict(interaction)])


def dump_head(metadata: Mapping[str, Any]) -> str:
    """The text before the interactions: the version and, when there is any, the metadata block."""
    head = f"version: {CASSETTE_VERSION}\n"
    if metadata:
        head += dump_yaml({"metadata": metadata_to_dict(metadata)})
    return head


def join_chunks(head: str, chunks: list[str]) -> str:
    """A whole cassette from its head and the YAML text of each interaction."""
    if not chunks:
        return head + "interactions: []\n"
    return head + "interactions:\n" + "".join(chunks)


def dump_cassette(cassette: Cassette) -> str:
    """The YAML text of a whole cassette; identical input gives byte-identical text."""
    return join_chunks(dump_head(cassette.metadata), [dump_interaction(i) for i in cassette.interactions])



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


def parse_cassette(text: str | bytes, path: str | Path = "<cassette>", *, memo: Memo | None = None) -> Cassette:
    """Parse cassette YAML; raises CassetteError with file, line and interaction index.

    ``memo`` lets many small parses (one interaction at a time) share the fast reader's caches.
    """
    with gc_paused():
        try:
            doc = _fast_load(text, memo)
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
    problem = _structure_problem(text)
    if problem is not None:
        raise located(path, text, problem[1], problem[0])
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader (C or Python)
    except yaml.reader.ReaderError as e:  # a character YAML does not allow: name it and its line
        line = (text.count("\n", 0, e.position) if isinstance(text, str) else text.count(b"\n", 0, e.position)) + 1
        what = f"U+{e.character:04X}" if isinstance(e.character, int) else repr(e.character)
        raise located(path, text, f"invalid YAML: the character {what} is not allowed in YAML text "
                                   "(in a double-quoted string, write it as an escape such as \\x07)", line) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise located(path, text, yaml_problem(e, text), mark.line + 1 if mark is not None else None) from None
    except yaml.YAMLError as e:
        raise CassetteError(path, "invalid YAML: " + " ".join(str(e).split())) from None
    except (ValueError, OverflowError) as e:  # e.g. a plain 2025-13-45 read as a timestamp
        at, value = bad_scalar(text)
        shown = repr(value) if len(value) <= 40 else repr(value[:37]) + "..."
        reason = " ".join(str(e).split(":")[0].split())  # the first clause, without Python's remedies
        raise located(path, text, f"{shown} cannot be read as a {'date' if '-' in value else 'number'} ({reason}); "
                                   "quote it to keep it a string", at) from None



def _build(doc: Any, text: str | bytes, path: str | Path) -> Cassette:
    failed: dict[str, Any] = {}

    def remember(index: int, err: ValueError) -> None:
        failed["index"], failed["err"] = index, err

    try:
        return cassette_from_dict(doc, on_interaction_error=remember)
    except ValueError as e:
        if "index" in failed:
            idx, err = failed["index"], failed["err"]
            raise CassetteError(path, str(err), line=locate_field(text, idx, str(err)), interaction=idx) from None
        raise CassetteError(path, str(e), line=locate_top(text, str(e))) from None

