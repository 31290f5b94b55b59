"""The O2IMS knowledge the server borrows from ``replayer.o2ims.routes``: templates, identity keys, defaults.

Thin adapters only; the rules themselves live in ``replayer.o2ims`` (one implementation, shared with the
synthetic model).
"""

from __future__ import annotations

from typing import Any

from replayer.o2ims import routes

__all__ = ["template_of", "identity_key", "identity_value", "is_item_path", "default_excluded"]

template_of = routes.template_of
identity_value = routes.identity_value


def identity_key(collection_path: str, items: list[dict[str, Any]]) -> str | None:
    """The attribute (path) identifying an element of a recorded collection, if every element has a unique one."""
    key = routes.identity_key_for(collection_path)
    if key is None:
        return None
    values = [routes.identity_value(it, key) for it in items]
    if all(isinstance(v, (str, int)) for v in values) and len(set(values)) == len(values):
        return key
    return None


def is_item_path(path: str) -> bool:
    """True unless the route table knows ``path`` as something other than one element of a collection."""
    found = routes.match_route(path)
    return found is None or found[0].kind is routes.RouteKind.ITEM


def default_excluded(path: str) -> tuple[str, ...]:
    """Attributes ``exclude_default`` drops from the elements of the collection at ``path``."""
    found = routes.match_route(path)
    return routes.default_excluded(found[0] if found else None)
