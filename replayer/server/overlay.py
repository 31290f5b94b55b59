"""One session's writes, seen by every later answer: what was created, changed or deleted in each collection.

Every successful write the server answers (a recorded ``POST``/``PUT``/``PATCH``/``DELETE``, or one the
synthetic model answered) is noted here, per collection path. Answers derived from a recorded collection then
add the created objects, drop the deleted ones and apply the changes before the filter, selectors and paging,
so a list and its items agree with what the session did.

    overlay.note("POST", "/o2ims-infrastructureMonitoring/v1/alarmSubscriptions", 201, body)
    items = overlay.apply(collection_path, recorded_items, "alarmSubscriptionId")
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from replayer.o2ims.routes import RouteKind, identity_key_for, identity_value, match_route

__all__ = ["Changes", "Overlay", "Overlays"]

JSON = dict[str, Any]


@dataclass(slots=True)
class Changes:
    """The writes to one collection: created objects (in order), replaced or patched ones, deleted ids."""

    created: dict[str, JSON] = field(default_factory=dict)
    changed: dict[str, JSON] = field(default_factory=dict)  # id -> the attributes a PUT/PATCH answered
    deleted: set[str] = field(default_factory=set)


def _merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> JSON:
    """RFC 7396 merge patch of the attributes a write answered with."""
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _json_object(body: bytes) -> JSON | None:
    try:
        doc = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) else None


class Overlay:
    """What one session wrote, per collection path."""

    __slots__ = ("collections",)

    def __init__(self) -> None:
        self.collections: dict[str, Changes] = {}

    def touches(self, path: str) -> bool:
        """Whether a write of this session changed the collection at ``path`` or the one holding it."""
        return path in self.collections or path.rpartition("/")[0] in self.collections

    def note(self, method: str, path: str, status: int, body: bytes) -> None:
        """Record the effect of a successful write answered with ``body`` (normalised ``path``)."""
        if not 200 <= status < 300 or method in ("GET", "HEAD", "OPTIONS"):
            return
        found = match_route(path)
        kind = found[0].kind if found is not None else None
        if method == "POST" and kind in (RouteKind.COLLECTION, None):
            self._created(path, _json_object(body))
            return
        if kind not in (RouteKind.ITEM, None):
            return
        parent, _, last = path.rpartition("/")
        ident = unquote(last)
        if not parent or not ident:
            return
        changes = self.collections.setdefault(parent, Changes())
        if method == "DELETE":
            changes.created.pop(ident, None)
            changes.changed.pop(ident, None)
            changes.deleted.add(ident)
        elif method in ("PUT", "PATCH") and (doc := _json_object(body)) is not None:
            if ident in changes.created:
                base = {} if method == "PUT" else changes.created[ident]
                changes.created[ident] = _merge(base, doc) if method == "PATCH" else doc
            else:
                changes.changed[ident] = doc if method == "PUT" else _merge(changes.changed.get(ident, {}), doc)

    def _created(self, path: str, doc: JSON | None) -> None:
        key = identity_key_for(path)
        if doc is None or key is None:
            return
        ident = identity_value(doc, key)
        if not isinstance(ident, (str, int)):
            return
        changes = self.collections.setdefault(path, Changes())
        changes.created[str(ident)] = doc
        changes.deleted.discard(str(ident))

    def apply(self, path: str, items: Sequence[Mapping[str, Any]], key: str | None) -> Sequence[Mapping[str, Any]]:
        """The recorded ``items`` of the collection at ``path`` as this session now sees them."""
        changes = self.collections.get(path)
        if changes is None or key is None:
            return items
        out: list[Mapping[str, Any]] = []
        for item in items:
            ident = str(identity_value(item, key))
            if ident in changes.deleted or ident in changes.created:
                continue
            patch = changes.changed.get(ident)
            out.append(_merge(item, patch) if patch is not None else item)
        out.extend(changes.created.values())
        return out

    def item(self, path: str, ident: str, recorded: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        """One element of the collection at ``path`` as this session sees it (None: absent)."""
        changes = self.collections.get(path)
        if changes is None:
            return recorded
        if ident in changes.deleted:
            return None
        if ident in changes.created:
            return changes.created[ident]
        patch = changes.changed.get(ident)
        return _merge(recorded, patch) if recorded is not None and patch is not None else recorded


class Overlays:
    """Overlays by session, the least recently used beyond ``limit`` forgotten."""

    def __init__(self, limit: int = 1000) -> None:
        self._by_session: OrderedDict[str, Overlay] = OrderedDict()
        self.limit = limit

    def __bool__(self) -> bool:
        return bool(self._by_session)

    def get(self, session: str) -> Overlay | None:
        """The overlay of ``session``, if it wrote anything."""
        return self._by_session.get(session)

    def note(self, session: str, method: str, path: str, status: int, body: bytes) -> None:
        """Record a successful write of ``session``."""
        if not 200 <= status < 300 or method in ("GET", "HEAD", "OPTIONS"):
            return
        overlay = self._by_session.get(session)
        if overlay is None:
            overlay = self._by_session[session] = Overlay()
            while len(self._by_session) > self.limit:
                self._by_session.popitem(last=False)
        else:
            self._by_session.move_to_end(session)
        overlay.note(method, path, status, body)
        if not overlay.collections:
            del self._by_session[session]

    def reset(self, session: str | None = None) -> None:
        """Forget one session's writes, or every session's."""
        if session is None:
            self._by_session.clear()
        else:
            self._by_session.pop(session, None)
