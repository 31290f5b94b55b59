"""O2IMS-aware answers derived from recorded collections when no request matches exactly (issue 3, §4).

- A recorded ``GET <collection>`` (no query) answers the same path with ``filter``, ``fields``,
  ``exclude_fields``, ``all_fields``, ``exclude_default`` and ``nextpage_opaque_marker`` by applying
  ``replayer.o2ims.query`` (the one implementation of ETSI NFV-SOL 013, shared with the synthetic model).
- ``GET <collection>/<id>`` not recorded is answered with that element; an absent id gets 404 (for a
  collection consumers create objects in, the handler asks the synthetic model first, unless strict).
- An exact recorded match always wins (the handler looks the request up before calling here).
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
from replayer.matching import normalise_path
from replayer.o2ims import query as oq
from replayer.o2ims.problem import PROBLEM_CONTENT_TYPE, problem_bytes
from replayer.o2ims.routes import kept_with_fields, match_route
from replayer.server import o2ims_bridge as bridge

__all__ = ["Collection", "DerivedAnswer", "Derived", "build_derived"]

JSON_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class Collection:
    """A recorded collection answer: its elements and how to find one by id."""

    path: str
    source: str
    items: tuple[dict[str, Any], ...]
    id_field: str | None
    by_id: Mapping[str, dict[str, Any]]
    default_excluded: tuple[str, ...] = ()

    @property
    def keep(self) -> tuple[str, ...]:
        """Attributes ``fields`` never drops: the top-level identity key."""
        return kept_with_fields(self.id_field)


@dataclass(frozen=True, slots=True)
class DerivedAnswer:
    """A response computed from a recorded collection."""

    status: int
    content_type: str
    body: bytes
    source: str
    headers: tuple[tuple[str, str], ...] = ()
    # A 404 for an id missing from a collection consumers create objects in (it takes POST: subscriptions,
    # provisioning requests): the object may exist in the synthetic model, created in this session.
    creatable: bool = False


@dataclass(slots=True)
class Derived:
    """Recorded collections by normalised path, plus a bounded memo of computed answers."""

    collections: dict[str, Collection] = field(default_factory=dict)
    page_size: int | None = None
    memo_size: int = 2048
    _memo: OrderedDict[tuple[str, str, tuple[tuple[str, str], ...]], DerivedAnswer] = field(
        default_factory=OrderedDict)

    def answer(self, path: str, query: Sequence[tuple[str, str]], base_url: str) -> DerivedAnswer | None:
        """The derived answer for ``GET path?query``, or None when no recorded collection covers it."""
        if not self.collections:
            return None
        memo_key = (path, base_url, tuple(query))
        hit = self._memo.get(memo_key)
        if hit is not None:
            return hit
        result = self._compute(path, query, base_url)
        if result is not None:
            self._memo[memo_key] = result
            if len(self._memo) > self.memo_size:
                self._memo.popitem(last=False)
        return result

    def _compute(self, path: str, query: Sequence[tuple[str, str]], base_url: str) -> DerivedAnswer | None:
        coll = self.collections.get(path)
        if coll is not None:
            return _collection_answer(coll, query, base_url, self.page_size)
        parent, _, ident = path.rpartition("/")
        coll = self.collections.get(parent)
        if coll is not None and ident and coll.id_field and bridge.is_item_path(path):
            return _item_answer(coll, ident, query, path)
        return None


def _json(doc: Any) -> bytes:
    return json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")


def _bad_query(e: oq.QueryError, path: str, source: str) -> DerivedAnswer:
    body = json.dumps(e.problem(path), indent=2).encode("utf-8")
    return DerivedAnswer(400, PROBLEM_CONTENT_TYPE, body, source)


def _collection_answer(coll: Collection, query: Sequence[tuple[str, str]], base_url: str, page_size: int | None
                       ) -> DerivedAnswer:
    try:
        q = oq.parse_query(query)
        page = oq.select(coll.items, q, default_excluded=coll.default_excluded, page_size=page_size,
                         scope=coll.path, keep=coll.keep)
    except oq.QueryError as e:
        return _bad_query(e, coll.path, coll.source)
    headers: tuple[tuple[str, str], ...] = ()
    if page.next_marker:
        headers = (("Link", oq.next_link(base_url, coll.path, query, page.next_marker)),)
    return DerivedAnswer(200, JSON_TYPE, _json(page.items), coll.source, headers)


def _takes_post(collection_path: str) -> bool:
    found = match_route(collection_path)
    return found is not None and "POST" in found[0].methods


def _item_answer(coll: Collection, ident: str, query: Sequence[tuple[str, str]], path: str) -> DerivedAnswer:
    item = coll.by_id.get(ident)
    if item is None:
        detail = f"{coll.id_field} {ident!r} is not in the recorded collection {coll.path} ({coll.source})"
        return DerivedAnswer(404, PROBLEM_CONTENT_TYPE, problem_bytes(404, detail, instance=path), coll.source,
                             creatable=_takes_post(coll.path))
    if query:
        try:
            item = oq.project(item, oq.parse_query(query), default_excluded=coll.default_excluded, keep=coll.keep)
        except oq.QueryError as e:
            return _bad_query(e, path, coll.source)
    return DerivedAnswer(200, JSON_TYPE, _json(item), coll.source)


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
        id_field = bridge.identity_key(path, doc)
        by_id = {str(bridge.identity_value(it, id_field)): it for it in doc} if id_field else {}
        found[path] = Collection(path, source, tuple(doc), id_field, by_id, bridge.default_excluded(path))
    return Derived(found, page_size)
