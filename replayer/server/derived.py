"""O2IMS-aware answers derived from recorded collections when no request matches exactly.

- A recorded ``GET <collection>`` (no query) answers the same path with ``filter``, ``fields``,
  ``exclude_fields``, ``all_fields``, ``exclude_default`` and paging, through ``replayer.o2ims.listing`` (the
  same rules as the synthetic model, in the server's dialect).
- ``GET <collection>/<id>`` not recorded is answered with that element; an absent id gets 404 (for a
  collection consumers create objects in, the handler asks the synthetic model first, unless strict).
- The session's writes (``overlay``) are applied first: created elements added, deleted ones gone, changes
  merged. Recorded absolute URLs are rewritten to the serving base URL unless that is turned off.
- An exact recorded match wins unless the session changed the collection (the handler decides).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from replayer import limits
from replayer.cassettes.model import Interaction, header_value, is_json_content
from replayer.o2ims import query as oq
from replayer.o2ims.dialect import Dialect
from replayer.o2ims.listing import View, item_answer, list_answer, view_of
from replayer.o2ims.problem import Problem, build_problem, encode_json
from replayer.o2ims.routes import (
    collection_identity_key,
    default_excluded_at,
    identity_key_for,
    identity_value,
    is_item_path,
    match_route,
    normalise_path,
)
from replayer.server.overlay import Overlay
from replayer.server.request import ParsedRequest
from replayer.server.rewrite import base_of, rewrite_body

__all__ = ["Collection", "DerivedAnswer", "Derived", "build_derived", "brought_up_to_date"]

JSON_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class Collection:
    """A recorded collection answer: its elements, how to find one by id, and the address it was recorded at."""

    path: str
    source: str
    items: tuple[dict[str, Any], ...]
    id_field: str | None
    by_id: Mapping[str, dict[str, Any]]
    default_excluded: tuple[str, ...] = ()
    recorded_base: str = ""

    def view(self, dialect: Dialect, page_size: int | None) -> View:
        """How this collection's elements are presented in ``dialect``."""
        found = match_route(self.path)
        route = found[0] if found is not None else None
        if route is not None:
            return view_of(dialect, route, page_size=page_size)
        return view_of(dialect, None, identity_key=self.id_field, excluded=self.default_excluded,
                       page_size=page_size)

    def item_view(self, dialect: Dialect, path: str) -> View:
        """How one element (at ``path``) is presented."""
        found = match_route(path)
        if found is not None:
            return view_of(dialect, found[0])
        return view_of(dialect, None, identity_key=self.id_field, excluded=self.default_excluded)


@dataclass(frozen=True, slots=True)
class DerivedAnswer:
    """A response computed from a recorded collection."""

    status: int
    content_type: str
    body: bytes
    source: str
    headers: tuple[tuple[str, str], ...] = ()
    reason: str | None = None
    # A 404 for an id missing from a collection consumers create objects in (it takes POST: subscriptions,
    # provisioning requests): the object may exist in the synthetic model, created in this session.
    creatable: bool = False


@dataclass(slots=True)
class Derived:
    """Recorded collections by normalised path, plus a bounded memo of computed answers."""

    collections: dict[str, Collection] = field(default_factory=dict)
    page_size: int | None = None
    memo_size: int = 2048
    _memo: OrderedDict[tuple[str, str, str, Dialect, bool], DerivedAnswer] = field(default_factory=OrderedDict)

    def covers(self, path: str) -> bool:
        """Whether a recorded collection answers ``path`` (the collection itself or one element)."""
        return path in self.collections or path.rpartition("/")[0] in self.collections

    def answer(self, req: ParsedRequest, dialect: Dialect, overlay: Overlay | None = None,
               rewrite: bool = True) -> DerivedAnswer | None:
        """The derived answer for ``GET req``, or None when no recorded collection covers it."""
        if not self.collections:
            return None
        if overlay is not None and overlay.touches(req.path):
            return self._compute(req, dialect, overlay, rewrite)  # session state: never memoised
        memo_key = (req.path, req.raw_query, req.base_url, dialect, rewrite)
        hit = self._memo.get(memo_key)
        if hit is not None:
            return hit
        result = self._compute(req, dialect, None, rewrite)
        if result is not None:
            self._memo[memo_key] = result
            if len(self._memo) > self.memo_size:
                self._memo.popitem(last=False)
        return result

    def _compute(self, req: ParsedRequest, dialect: Dialect, overlay: Overlay | None,
                 rewrite: bool) -> DerivedAnswer | None:
        coll = self.collections.get(req.path)
        if coll is not None:
            answer = _collection_answer(coll, req, dialect, self.page_size, overlay)
        else:
            parent, _, ident = req.path.rpartition("/")
            coll = self.collections.get(parent)
            if coll is None or not ident or not coll.id_field or not is_item_path(req.path):
                return None
            answer = _item_answer(coll, req, dialect, overlay)
        if rewrite and coll.recorded_base and coll.recorded_base != req.base_url and answer.status == 200:
            answer = DerivedAnswer(answer.status, answer.content_type,
                                   rewrite_body(answer.body, coll.recorded_base, req.base_url), answer.source,
                                   answer.headers, answer.reason, answer.creatable)
        return answer


def _problem(p: Problem, source: str, creatable: bool = False) -> DerivedAnswer:
    return DerivedAnswer(p.status, p.content_type, p.body, source, reason=p.reason, creatable=creatable)


def _bad_query(e: oq.QueryError, req: ParsedRequest, dialect: Dialect, source: str) -> DerivedAnswer:
    p = build_problem(400, e.detail(dialect is Dialect.O_RAN_SC), dialect=dialect, path=req.path,
                      base_url=req.base_url, attributes={"param": e.param})
    return _problem(p, source)


def _collection_answer(coll: Collection, req: ParsedRequest, dialect: Dialect, page_size: int | None,
                       overlay: Overlay | None) -> DerivedAnswer:
    items: Sequence[Mapping[str, Any]] = coll.items
    if overlay is not None:
        items = overlay.apply(coll.path, items, coll.id_field)
    try:
        body, headers = list_answer(items, req.query, coll.view(dialect, page_size), path=coll.path,
                                    raw_query=req.raw_query, base_url=req.base_url)
    except oq.QueryError as e:
        return _bad_query(e, req, dialect, coll.source)
    return DerivedAnswer(200, JSON_TYPE, encode_json(body), coll.source, tuple(headers))


def _takes_post(collection_path: str) -> bool:
    found = match_route(collection_path)
    return found is not None and "POST" in found[0].methods


def _item_answer(coll: Collection, req: ParsedRequest, dialect: Dialect, overlay: Overlay | None) -> DerivedAnswer:
    ident = req.path.rpartition("/")[2]
    found = match_route(req.path)
    if found is not None and found[1]:
        ident = list(found[1].values())[-1]  # decoded
    item: Mapping[str, Any] | None = coll.by_id.get(ident)
    if overlay is not None:
        item = overlay.item(coll.path, ident, item)
    if item is None:
        detail = f"{coll.id_field} {ident!r} is not in the recorded collection {coll.path} ({coll.source})"
        p = build_problem(404, detail, dialect=dialect, path=req.path, base_url=req.base_url,
                          attributes={str(coll.id_field).rsplit("/", 1)[-1]: ident})
        return _problem(p, coll.source, creatable=_takes_post(coll.path))
    try:
        shown = item_answer(item, req.query, coll.item_view(dialect, req.path))
    except oq.QueryError as e:
        return _bad_query(e, req, dialect, coll.source)
    return DerivedAnswer(200, JSON_TYPE, encode_json(shown), coll.source)


def _decoded(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def brought_up_to_date(req: ParsedRequest, body: bytes, dialect: Dialect, overlay: Overlay) -> DerivedAnswer | None:
    """A recorded 200 answer to ``GET req`` with the session's writes applied, or None when it already agrees
    with them (or is not a JSON collection or element the writes touch).

    A recording that continues after its own write already shows it (the later recorded list holds the new
    object): that answer is served as recorded. One that does not (the only recorded list was taken before the
    write) gets the created objects added, the deleted ones removed and the changes merged, then the request's
    filter and selectors applied again."""
    doc = _decoded(body)
    source = "the recorded answer and this session's writes"
    if req.path in overlay.collections and isinstance(doc, list) and all(isinstance(x, dict) for x in doc):
        if any(k == "nextpage_opaque_marker" for k, _ in req.query):
            return None  # a later page of a recorded list: its window cannot be recomputed
        items = overlay.apply(req.path, doc, identity_key_for(req.path))
        if list(items) == doc:
            return None
        view = view_of(dialect, req.route, identity_key=None if req.route else identity_key_for(req.path))
        try:
            shown, headers = list_answer(items, req.query, view, path=req.path, raw_query=req.raw_query,
                                         base_url=req.base_url)
        except oq.QueryError as e:
            return _bad_query(e, req, dialect, source)
        return DerivedAnswer(200, JSON_TYPE, encode_json(shown), source, tuple(headers))
    parent, _, last = req.path.rpartition("/")
    if parent not in overlay.collections or not isinstance(doc, dict):
        return None
    ident = list(req.params.values())[-1] if req.params else last
    item = overlay.item(parent, ident, doc)
    if item == doc:
        return None
    if item is None:
        p = build_problem(404, f"{ident!r} was deleted in this session", dialect=dialect, path=req.path,
                          base_url=req.base_url)
        return _problem(p, source)
    try:
        shown_item = item_answer(item, req.query, view_of(dialect, req.route))
    except oq.QueryError as e:
        return _bad_query(e, req, dialect, source)
    return DerivedAnswer(200, JSON_TYPE, encode_json(shown_item), source)


def build_derived(entries: Iterable[tuple[str, Interaction]], page_size: int | None = None) -> Derived:
    """Collect the recorded collections: ``GET`` without query, 200, a JSON array of objects."""
    found: dict[str, Collection] = {}
    for source, inter in entries:
        req, resp = inter.request, inter.response
        if req.method != "GET" or resp.status != 200 or resp.body.lstrip()[:1] != b"[":
            continue
        parts = urlsplit(req.uri)
        path = normalise_path(parts.path or "/")
        if parts.query or path in found or not is_json_content(header_value(resp.headers, "Content-Type")):
            continue
        try:
            doc = limits.loads(resp.body)
        except ValueError:
            continue
        if not isinstance(doc, list) or not all(isinstance(x, dict) for x in doc):
            continue
        id_field = collection_identity_key(path, doc)
        by_id = {str(identity_value(it, id_field)): it for it in doc} if id_field else {}
        found[path] = Collection(path, source, tuple(doc), id_field, by_id, default_excluded_at(path),
                                 base_of(req.uri))
    return Derived(found, page_size)
