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
    changed: dict[str, JSON] = field(default_factory=dict)  # id -> the attributes a PATCH answered
    deleted: set[str] = field(default_factory=set)
    live: bool = False  # a write no recording holds (the synthetic model answered it)
    last_recorded: tuple[str, int] | None = None  # (cassette, index) of the latest recorded write


def _position(interaction: str) -> tuple[str, int] | None:
    """(cassette, index) of an ``X-Replay-Interaction`` value ``<cassette>#<index>``."""
    name, _, index = interaction.rpartition("#")
    return (name, int(index)) if name and index.isdigit() else None


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

    def recorded_after(self, path: str, interaction: str | None) -> bool:
        """Whether the recorded answer ``interaction`` was recorded after every write to the collection of
        ``path`` in this session (same cassette, later position): then it already shows them."""
        changes = self.collections.get(path) or self.collections.get(path.rpartition("/")[0])
        where = _position(interaction) if interaction else None
        if changes is None or changes.live or changes.last_recorded is None or where is None:
            return False
        return where[0] == changes.last_recorded[0] and where[1] > changes.last_recorded[1]

    def note(self, method: str, path: str, status: int, body: bytes, recorded: str | None = None) -> None:
        """Record the effect of a successful write answered with ``body`` (normalised ``path``); ``recorded``
        names the recorded interaction that answered it (None: the synthetic model did)."""
        if not 200 <= status < 300 or method in ("GET", "HEAD", "OPTIONS"):
            return
        found = match_route(path)
        kind = found[0].kind if found is not None else None
        if method == "POST" and kind in (RouteKind.COLLECTION, None):
            self._created(path, _json_object(body))
            self._stamp(path, recorded)
            return
        if kind not in (RouteKind.ITEM, None):
            return
        parent, _, last = path.rpartition("/")
        ident = unquote(last)
        if not parent or not ident:
            return
        changes = self.collections.setdefault(parent, Changes())
        self._stamp(parent, recorded)
        if method == "DELETE":
            changes.created.pop(ident, None)
            changes.changed.pop(ident, None)
            changes.deleted.add(ident)
        elif method in ("PUT", "PATCH") and (doc := _json_object(body)) is not None:
            if ident in changes.created:
                changes.created[ident] = doc if method == "PUT" else _merge(changes.created[ident], doc)
            elif method == "PATCH":
                # Only what a merge patch answered is kept: it holds whatever the write set. A PUT answers a
                # whole object whose later recorded reads are newer (a provisioning request progressing).
                changes.changed[ident] = _merge(changes.changed.get(ident, {}), doc)

    def _stamp(self, path: str, recorded: str | None) -> None:
        changes = self.collections.get(path)
        if changes is None:
            return
        where = _position(recorded) if recorded else None
        if where is None:
            changes.live = True
        elif changes.last_recorded is None or changes.last_recorded[0] != where[0] or where[1] > changes.last_recorded[1]:
            changes.last_recorded = where

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
        """The recorded ``items`` of the collection at ``path`` as this session now sees them: deleted elements
        gone, patches merged, created elements the recording lacks appended (a recorded element, taken after the
        write, is newer than the write's answer and stays as recorded)."""
        changes = self.collections.get(path)
        if changes is None or key is None:
            return items
        out: list[Mapping[str, Any]] = []
        seen: set[str] = set()
        for item in items:
            ident = str(identity_value(item, key))
            seen.add(ident)
            if ident in changes.deleted:
                continue
            patch = changes.changed.get(ident)
            out.append(_merge(item, patch) if patch is not None else item)
        out.extend(obj for ident, obj in changes.created.items() if ident not in seen)
        return out

    def item(self, path: str, ident: str, recorded: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        """One element of the collection at ``path`` as this session sees it (None: absent)."""
        changes = self.collections.get(path)
        if changes is None:
            return recorded
        if ident in changes.deleted:
            return None
        current = recorded if recorded is not None else changes.created.get(ident)
        patch = changes.changed.get(ident)
        return _merge(current, patch) if current is not None and patch is not None else current


class Overlays:
    """Overlays by session, the least recently used beyond ``limit`` forgotten."""

    def __init__(self, limit: int = 1000) -> None:
        #: Sessions that wrote something (the hot path tests this dict: empty means nothing to bring up to date).
        self.by_session: OrderedDict[str, Overlay] = OrderedDict()
        self.limit = limit

    def get(self, session: str) -> Overlay | None:
        """The overlay of ``session``, if it wrote anything."""
        return self.by_session.get(session)

    def note(self, session: str, method: str, path: str, status: int, body: bytes,
             recorded: str | None = None) -> None:
        """Record a successful write of ``session`` (``recorded``: the interaction that answered it)."""
        if not 200 <= status < 300 or method in ("GET", "HEAD", "OPTIONS"):
            return
        overlay = self.by_session.get(session)
        if overlay is None:
            overlay = self.by_session[session] = Overlay()
            while len(self.by_session) > self.limit:
                self.by_session.popitem(last=False)
        else:
            self.by_session.move_to_end(session)
        overlay.note(method, path, status, body, recorded)
        if not overlay.collections:
            del self.by_session[session]

    def reset(self, session: str | None = None) -> None:
        """Forget one session's writes, or every session's."""
        if session is None:
            self.by_session.clear()
        else:
            self.by_session.pop(session, None)
