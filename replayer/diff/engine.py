"""The drift engine: paired interactions in, ``Drift`` findings out (issue 5, sections 1 to 3).

Bodies are compared as bytes first; deepdiff runs only on the JSON of bodies that differ, after
``identity.prepare`` re-keyed their arrays so that order never counts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from replayer import limits
from replayer.cassettes.model import (
    Cassette,
    Headers,
    Interaction,
    InteractionKind,
    header_value,
    is_json_content,
    media_type,
)
from replayer.diff.config import DiffConfig, severity_for
from replayer.diff.identity import KeyedList, endpoint_keys_for, prepare, unprepare
from replayer.diff.model import Drift, DriftKind, Location, Report
from replayer.diff.pairing import Pair, pair_interactions
from replayer.diff.rules import ItemKey, ScalarKey, is_redacted, path_tokens, render_path

__all__ = ["Side", "SchemaCheck", "diff_sides", "diff_interactions", "header_values", "json_body"]

#: Returns the spec violations of one recorded interaction as (key, message); a key present in the new
#: recording but not in the old one is a value that breaks the O2IMS schema. None disables the check.
SchemaCheck = Callable[[Interaction], list[tuple[str, str]]]

_ENUM_RE = re.compile(r"^[A-Z][A-Z0-9_]*[A-Z0-9]$")


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a diff: cassettes by pairing name, each with the path shown to the user."""

    label: str
    cassettes: Mapping[str, tuple[str, Cassette]]
    texts: Mapping[str, str] = field(default_factory=dict)  # file text when not on disk (git revisions)


@dataclass(slots=True)
class _Run:
    """Mutable state of one diff run: findings and counters."""

    config: DiffConfig
    schema_check: SchemaCheck | None
    findings: list[Drift] = field(default_factory=list)
    ignored: int = 0
    interactions: int = 0


# --------------------------------------------------------------------------- entry points


def diff_sides(old: Side, new: Side, config: DiffConfig, *, schema_check: SchemaCheck | None = None,
               single_pair: bool = False) -> Report:
    """Diff two sides, files paired by name (``single_pair``: the one file of each side, whatever its name)."""
    run = _Run(config, schema_check)
    pairs: list[tuple[tuple[str, Cassette] | None, tuple[str, Cassette] | None]]
    if single_pair and len(old.cassettes) == 1 and len(new.cassettes) == 1:
        pairs = [(next(iter(old.cassettes.values())), next(iter(new.cassettes.values())))]
    else:
        names = sorted(set(old.cassettes) | set(new.cassettes))
        pairs = [(old.cassettes.get(n), new.cassettes.get(n)) for n in names]
    for o, n in pairs:
        _diff_files(run, o, n)
    return Report("diff", tuple(run.findings), files=len(pairs), interactions=run.interactions,
                  ignored=run.ignored, sources=(old.label, new.label))


def diff_interactions(old: Iterable[Interaction], new: Iterable[Interaction], config: DiffConfig | None = None,
                      *, schema_check: SchemaCheck | None = None) -> list[Drift]:
    """Diff two interaction lists (one cassette each); the building block for tests and tools."""
    cfg = config or DiffConfig()
    side_old = Side("old", {"cassette": ("old", Cassette(tuple(old)))})
    side_new = Side("new", {"cassette": ("new", Cassette(tuple(new)))})
    return list(diff_sides(side_old, side_new, cfg, schema_check=schema_check).findings)


# --------------------------------------------------------------------------- files and endpoints


def _diff_files(run: _Run, old: tuple[str, Cassette] | None, new: tuple[str, Cassette] | None) -> None:
    old_list = old[1].interactions if old else ()
    new_list = new[1].interactions if new else ()
    run.interactions += max(len(old_list), len(new_list))
    pairing = pair_interactions(old_list, new_list)
    old_eps, new_eps = pairing.old_endpoints, pairing.new_endpoints
    reported: set[str] = set()
    old_file, new_file = (old[0] if old else ""), (new[0] if new else "")
    for pair in pairing.pairs:
        at_old = Location(old_file, pair.old_index) if pair.old is not None else None
        at_new = Location(new_file, pair.new_index) if pair.new is not None else None
        if pair.old is not None and pair.new is not None:
            _diff_pair(run, pair, at_old, at_new)
        elif pair.endpoint not in (new_eps if pair.new is None else old_eps):
            if pair.endpoint not in reported:
                reported.add(pair.endpoint)
                _endpoint_change(run, pair, at_old, at_new)
        else:
            _interaction_change(run, pair, at_old, at_new)


def _endpoint_change(run: _Run, pair: Pair, at_old: Location | None, at_new: Location | None) -> None:
    if pair.new is None:
        _add(run, DriftKind.ENDPOINT_REMOVED, pair.endpoint, (), f"endpoint {pair.endpoint} no longer recorded",
             None, None, at_old, None)
    else:
        _add(run, DriftKind.ENDPOINT_ADDED, pair.endpoint, (), f"new endpoint {pair.endpoint}",
             None, None, None, at_new)


def _interaction_change(run: _Run, pair: Pair, at_old: Location | None, at_new: Location | None) -> None:
    one = pair.new if pair.new is not None else pair.old
    assert one is not None
    query = urlsplit(one.request.uri).query
    what = one.request.path + (f"?{query}" if query else "")
    if pair.new is None:
        _add(run, DriftKind.INTERACTION_REMOVED, pair.endpoint, (), f"request {what} no longer recorded",
             None, None, at_old, None)
    else:
        _add(run, DriftKind.INTERACTION_ADDED, pair.endpoint, (), f"new request {what}", None, None, None, at_new)


# --------------------------------------------------------------------------- one pair


def _diff_pair(run: _Run, pair: Pair, at_old: Location | None, at_new: Location | None) -> None:
    old, new = pair.old, pair.new
    assert old is not None and new is not None
    if old.meta.kind is InteractionKind.NOTIFICATION and old.request.body != new.request.body:
        _diff_notification(run, pair.endpoint, old, new, at_old, at_new)
    if old.response.status != new.response.status:
        class_changed = old.response.status // 100 != new.response.status // 100
        kind = DriftKind.STATUS_CLASS_CHANGED if class_changed else DriftKind.STATUS_CHANGED
        _add(run, kind, pair.endpoint, ("status",),
             f"status {old.response.status} -> {new.response.status}", old.response.status,
             new.response.status, at_old, at_new)
        if class_changed:
            return  # a 200 list turned 404 problem: the status says it all, a body diff is noise
    media_changed = _diff_headers(run, pair.endpoint, old, new, at_old, at_new)
    if old.response.body != new.response.body:
        before = len(run.findings)
        _diff_body(run, pair.endpoint, old, new, at_old, at_new, media_changed)
        if len(run.findings) > before and run.schema_check is not None:
            _schema_drift(run, pair.endpoint, old, new, at_old, at_new)


def _diff_notification(run: _Run, endpoint: str, old: Interaction, new: Interaction,
                       at_old: Location | None, at_new: Location | None) -> None:
    """What the O2IMS sent: the request body of a notification, under the path root ``notification``."""
    ok_old, doc_old = json_body(old.request.body, old.request.headers)
    ok_new, doc_new = json_body(new.request.body, new.request.headers)
    if ok_old and ok_new:
        _diff_json(run, endpoint, doc_old, doc_new, at_old, at_new, root="notification")
    else:
        _add(run, DriftKind.BODY_CHANGED, endpoint, ("notification",), "notification body changed",
             _preview(old.request.body), _preview(new.request.body), at_old, at_new)


_ORIGIN_RE = re.compile(r"^[a-z][a-z0-9+.-]*://[^/]+", re.IGNORECASE)


def header_values(headers: Headers, name: str) -> list[str]:
    """Every value of header ``name`` (given in lower case), in order, however the recording spelt the name."""
    return [v for k, vs in headers.items() if k.lower() == name for v in vs]


def _header_text(headers: Headers, name: str) -> str | None:
    values = header_values(headers, name)
    if not values:
        return None
    text = ", ".join(values)
    if name in ("location", "link", "content-location"):
        # The origin is where the recording ran (a proxy port), not what the API returned.
        text = _ORIGIN_RE.sub("", text).replace("<http", "<").strip()
        text = re.sub(r"<[a-z]+://[^/>]+", "<", text)
    if name == "content-type":
        # charset=utf-8 is what JSON is anyway (RFC 8259 section 8.1): its presence is not drift.
        text = ";".join(p for p in (p.strip().lower() for p in text.split(";")) if p and p != "charset=utf-8")
    return text


def _allowlisted(headers: dict[str, list[str]], allow: tuple[str, ...]) -> dict[str, list[str]]:
    return {k.lower(): v for k, v in headers.items() if k.lower() in allow}


def _diff_headers(run: _Run, endpoint: str, old: Interaction, new: Interaction,
                  at_old: Location | None, at_new: Location | None) -> bool:
    """Compare the allowlisted headers; True when the media type changed."""
    media_changed = False
    allow = run.config.headers
    if _allowlisted(old.response.headers, allow) == _allowlisted(new.response.headers, allow):
        return False  # the common case: only volatile headers (Date...) differ
    for name in allow:
        a = _header_text(old.response.headers, name)
        b = _header_text(new.response.headers, name)
        if a == b:
            continue
        kind = DriftKind.HEADER_CHANGED
        if name == "content-type" and media_type(a) != media_type(b):
            kind, media_changed = DriftKind.CONTENT_TYPE_CHANGED, True
        _add(run, kind, endpoint, ("headers", name), f"header {name}: {a!r} -> {b!r}", a, b, at_old, at_new)
    return media_changed


# --------------------------------------------------------------------------- bodies


def json_body(body: bytes, headers: dict[str, list[str]] | None) -> tuple[bool, Any]:
    """(True, document) for a JSON (or empty) body, (False, None) otherwise."""
    if not body:
        return True, None
    ctype = header_value(headers, "Content-Type") if headers else None
    if ctype and not is_json_content(ctype):
        return False, None
    try:
        return True, limits.loads(body)
    except ValueError:
        return False, None


def _diff_body(run: _Run, endpoint: str, old: Interaction, new: Interaction,
               at_old: Location | None, at_new: Location | None, media_changed: bool) -> None:
    ok_old, doc_old = json_body(old.response.body, old.response.headers)
    ok_new, doc_new = json_body(new.response.body, new.response.headers)
    if ok_old and ok_new:
        _diff_json(run, endpoint, doc_old, doc_new, at_old, at_new)
    elif ok_old != ok_new:
        if media_changed:
            return  # JSON became text/plain: content_type_changed already says so
        _add(run, DriftKind.TYPE_CHANGED, endpoint, ("body",), "body is no longer JSON" if ok_old
             else "body is now JSON", _preview(old.response.body), _preview(new.response.body), at_old, at_new)
    else:
        _add(run, DriftKind.BODY_CHANGED, endpoint, ("body",), "body changed",
             _preview(old.response.body), _preview(new.response.body), at_old, at_new)


def _preview(body: bytes, limit: int = 200) -> str:
    text = body.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + "..."


def _diff_json(run: _Run, endpoint: str, a: Any, b: Any, at_old: Location | None, at_new: Location | None,
               root: str = "body") -> None:
    from deepdiff import DeepDiff  # imported on first use: every `o2replay` command loads this module

    keys = endpoint_keys_for(run.config, endpoint)
    pa, pb = prepare(a, keys), prepare(b, keys)
    tree = DeepDiff(pa, pb, view="tree", ignore_numeric_type_changes=True, verbose_level=2)
    for report_type, items in sorted(tree.items()):
        for item in sorted(items, key=lambda it: str(it.path())):
            parts = item.path(output_format="list")
            t1 = None if _absent(item.t1) else unprepare(item.t1)
            t2 = None if _absent(item.t2) else unprepare(item.t2)
            if report_type == "type_changes" and isinstance(t1, list) and isinstance(t2, list):
                _array_form_changed(run, endpoint, (root, *path_tokens(parts)), item.t1, item.t2, at_old, at_new)
                continue
            kind = _kind_of(report_type, parts, t1, t2)
            if kind is None:
                continue
            tokens = (root, *path_tokens(parts))
            if kind is DriftKind.VALUE_CHANGED and _enum_added(t1, t2, a, parts):
                kind = DriftKind.ENUM_VALUE_ADDED
            _add(run, kind, endpoint, tokens, _message(kind, render_path(tokens), t1, t2), t1, t2, at_old, at_new)


def _entries(prepared: Any) -> list[tuple[Any, Any]]:
    if isinstance(prepared, KeyedList):
        return [(k, unprepare(v)) for k, v in prepared.items()]
    return [(i, unprepare(v)) for i, v in enumerate(prepared)]


def _array_form_changed(run: _Run, endpoint: str, tokens: tuple[str, ...], old: Any, new: Any,
                        at_old: Location | None, at_new: Location | None) -> None:
    """An array that was keyed on one side and not on the other (empty, or ids no longer unique): by item."""
    old_items, new_items = _entries(old), _entries(new)
    old_plain, new_plain = [v for _, v in old_items], [v for _, v in new_items]
    for part, value in old_items:
        if value not in new_plain:
            where = tokens + path_tokens([part])
            _add(run, DriftKind.ITEM_REMOVED, endpoint, where, _message(DriftKind.ITEM_REMOVED, render_path(where),
                                                                        value, None), value, None, at_old, at_new)
    for part, value in new_items:
        if value not in old_plain:
            where = tokens + path_tokens([part])
            _add(run, DriftKind.ITEM_ADDED, endpoint, where, _message(DriftKind.ITEM_ADDED, render_path(where),
                                                                      None, value), None, value, at_old, at_new)


def _absent(value: Any) -> bool:
    return type(value).__name__ == "NotPresent"


def _kind_of(report_type: str, parts: list[Any], t1: Any, t2: Any) -> DriftKind | None:
    last = parts[-1] if parts else None
    item = isinstance(last, (ItemKey, ScalarKey))
    if report_type in ("dictionary_item_added", "iterable_item_added"):
        return DriftKind.ITEM_ADDED if item or report_type.startswith("iterable") else DriftKind.FIELD_ADDED
    if report_type in ("dictionary_item_removed", "iterable_item_removed"):
        return DriftKind.ITEM_REMOVED if item or report_type.startswith("iterable") else DriftKind.FIELD_REMOVED
    if report_type in ("values_changed", "type_changes"):
        if is_redacted(t1) or is_redacted(t2):
            return None  # a redaction placeholder on either side is never drift (issue 5, section 2)
        if report_type == "type_changes" and t1 is not None and t2 is not None:
            return DriftKind.TYPE_CHANGED
        return DriftKind.VALUE_CHANGED
    return DriftKind.VALUE_CHANGED


def _message(kind: DriftKind, where: str, t1: Any, t2: Any) -> str:
    if kind is DriftKind.FIELD_ADDED:
        return f"field {where} added"
    if kind is DriftKind.FIELD_REMOVED:
        return f"field {where} removed"
    if kind is DriftKind.ITEM_ADDED:
        return f"array item {where} added"
    if kind is DriftKind.ITEM_REMOVED:
        return f"array item {where} removed"
    if kind is DriftKind.TYPE_CHANGED:
        return f"{where}: type {_json_type(t1)} -> {_json_type(t2)}"
    if kind is DriftKind.ENUM_VALUE_ADDED:
        return f"{where}: new enum value {t2!r} (was {t1!r})"
    return f"{where}: {_short(t1)} -> {_short(t2)}"


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number",
            type(None): "null"}.get(type(value), type(value).__name__)


def _enum_added(t1: Any, t2: Any, old_doc: Any, parts: list[Any]) -> bool:
    """A new ALL_CAPS value of a field that held ALL_CAPS values, not seen for that field in the old body."""
    if not (isinstance(t1, str) and isinstance(t2, str) and _ENUM_RE.match(t1) and _ENUM_RE.match(t2)):
        return False
    name = next((p for p in reversed(parts) if isinstance(p, str)), None)
    return name is not None and t2 not in set(_values_of(old_doc, name, 0))


def _values_of(doc: Any, name: str, depth: int) -> Iterable[Any]:
    if depth > 64:
        return
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k == name and isinstance(v, str):
                yield v
            elif isinstance(v, (dict, list)):
                yield from _values_of(v, name, depth + 1)
    elif isinstance(doc, list):
        for v in doc:
            yield from _values_of(v, name, depth + 1)


# --------------------------------------------------------------------------- schema and bookkeeping


def _schema_drift(run: _Run, endpoint: str, old: Interaction, new: Interaction,
                  at_old: Location | None, at_new: Location | None) -> None:
    assert run.schema_check is not None
    before = {key for key, _ in run.schema_check(old)}
    for key, message in run.schema_check(new):
        if key not in before:
            _add(run, DriftKind.SCHEMA_BROKEN, endpoint, ("body",), f"new value breaks the O2IMS schema: {message}",
                 None, message, at_old, at_new)


def _add(run: _Run, kind: DriftKind, endpoint: str, tokens: tuple[str, ...], message: str, old: Any, new: Any,
         at_old: Location | None, at_new: Location | None) -> None:
    severity = severity_for(run.config, kind, endpoint, tokens)
    if severity is None:
        run.ignored += 1
        return
    run.findings.append(Drift(kind, severity, endpoint, render_path(tokens), message, old, new, at_old, at_new))
