"""Identity keys: arrays re-keyed before deepdiff so that order never counts.

Arrays of O2IMS objects are matched by their identity key (``resourcePoolId``...), arrays of scalars
as multisets; arrays of objects without a unique id stay positional. Key choice, first match wins:
``identity_keys`` of ``.o2replay.yaml``, the key of the endpoint's route (``replayer.o2ims.routes``),
the key of a nested array's attribute (``ARRAY_IDENTITY_KEYS``), every other known key (spec and the
earlier mock's snake_case ids), then any field ending in ``Id``/``_id`` whose values are unique, then a
unique ``name``.
"""

from __future__ import annotations

import functools
from typing import Any

from replayer.diff.config import DiffConfig
from replayer.diff.rules import ItemKey, ScalarKey, endpoint_matches
from replayer.o2ims.routes import (
    ARRAY_IDENTITY_KEYS,
    IDENTITY_KEYS,
    LEGACY_IDENTITY_KEYS,
    identity_key_for,
    identity_value,
)

__all__ = ["KeyedList", "endpoint_keys_for", "prepare", "unprepare"]


class KeyedList(dict[Any, Any]):
    """An array re-keyed by ItemKey or ScalarKey. Its own type, so that deepdiff still sees an object
    turning into an array (``{}`` -> ``[{...}]``) as a type change and never as items added."""

    __slots__ = ()



@functools.lru_cache(maxsize=64)
def _known_keys(config: DiffConfig) -> tuple[str, ...]:
    keys = [*(v for _, v in config.identity_keys), *IDENTITY_KEYS.values(), *LEGACY_IDENTITY_KEYS.values(),
            *ARRAY_IDENTITY_KEYS.values()]
    return tuple(dict.fromkeys(keys))


@functools.lru_cache(maxsize=4096)
def endpoint_keys_for(config: DiffConfig, endpoint: str) -> tuple[str, ...]:
    """Identity keys to try for arrays in this endpoint's bodies: configured, then the route's, then all known."""
    preferred: list[str] = []
    template = endpoint.split(" ", 1)[-1]
    for pattern, key in config.identity_keys:
        if ("/" in pattern and endpoint_matches(pattern, endpoint)) or (
                "/" not in pattern and pattern in template.split("/")):
            preferred.append(key)
    route_key = identity_key_for(template)
    if route_key:
        preferred.append(route_key)
    return tuple(dict.fromkeys([*preferred, *_known_keys(config)]))


def _identity_key(items: list[dict[str, Any]], keys: tuple[str, ...]) -> str | None:
    # Last resort, a unique ``name`` (extensions' lists of named things, e.g. nets or interfaces).
    candidates = [*keys, *sorted(k for k in items[0] if k.endswith(("Id", "_id")) or k == "id"), "name"]
    for key in candidates:
        values = [identity_value(it, key) for it in items]
        if all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values) \
                and len(set(values)) == len(values):
            return key
    return None


def prepare(doc: Any, keys: tuple[str, ...] = (), name: str | None = None) -> Any:
    """Re-key arrays so order never counts: objects by identity key, scalars as a multiset."""
    if isinstance(doc, dict):
        return {k: prepare(v, keys, k) for k, v in doc.items()}
    if not isinstance(doc, list) or not doc:
        return doc
    if all(isinstance(x, dict) for x in doc):
        nested = ARRAY_IDENTITY_KEYS.get(name or "")
        key = _identity_key(doc, (nested, *keys) if nested else keys)
        if key is None:
            return [prepare(x, keys) for x in doc]
        return KeyedList((ItemKey(key, identity_value(x, key)), prepare(x, keys)) for x in doc)
    if all(not isinstance(x, (dict, list)) for x in doc):
        seen: dict[Any, int] = {}
        out = KeyedList()
        for x in doc:
            n = seen.get((type(x), x), 0)
            seen[(type(x), x)] = n + 1
            out[ScalarKey(x, n)] = x
        return out
    return [prepare(x, keys) for x in doc]


def unprepare(doc: Any) -> Any:
    """The plain JSON value of a prepared one (re-keyed arrays back to lists)."""
    if isinstance(doc, KeyedList):
        return [unprepare(v) for v in doc.values()]
    if isinstance(doc, dict):
        return {k: unprepare(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [unprepare(v) for v in doc]
    return doc
