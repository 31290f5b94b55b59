"""Handlers every API shares, and the two builders the handler table makes collections from.

``api_versions``; ``collection_handler(items_of)`` (a list with the O2IMS query applied) and
``item_handler(items_of, key, what)`` (one element by its identity key, else 404); ``validate_body``
(a request body against the vendored definitions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from replayer.o2ims.routes import identity_value
from replayer.o2ims.spec import ViolationKind, bundled_specs
from replayer.synthetic.answers import SynthResponse
from replayer.synthetic.context import Ctx, Handler
from replayer.synthetic.model import API_VERSION

__all__ = ["VERSIONS", "ItemsOf", "api_versions", "collection_handler", "find", "item_handler", "validate_body"]

#: Major version -> the minor versions served (the vendored definitions' info.version).
VERSIONS: dict[str, dict[str, str]] = {
    "infrastructureInventory": {"v1": "1.0.0", "v2": "2.0.0"},
    "infrastructureMonitoring": {"v1": API_VERSION},
    "infrastructureProvisioning": {"v1": "1.2.0"},
    "infrastructureCluster": {"v1": API_VERSION},
    "infrastructureArtifacts": {"v1": API_VERSION},
}


def api_versions(ctx: Ctx) -> SynthResponse:
    """``/{prefix}/api_versions`` (every version) and ``/{prefix}/vN/api_versions`` (that one)."""
    api, version = ctx.api, ctx.version
    known = VERSIONS[api]
    chosen = [known[version]] if version else list(known.values())
    prefix = f"/o2ims-{api}" + (f"/{version}" if version else "")
    return ctx.item({"uriPrefix": prefix, "apiVersions": [{"version": v} for v in chosen]})


def find(items: Iterable[Mapping[str, Any]], key: str, value: str) -> Mapping[str, Any] | None:
    """The item whose ``key`` (an attribute path, as in ``IDENTITY_KEYS``) equals ``value``."""
    return next((i for i in items if identity_value(i, key) == value), None)


def validate_body(ctx: Ctx) -> str | None:
    """The first schema violation of the request body against the vendored definitions, or None."""
    specs = bundled_specs()
    # The body is JSON whatever the content type says (merge-patch+json or plain json are both accepted),
    # so it is checked against the documented schema of its operation's first media type.
    op = specs.find_operation(ctx.method, ctx.path)
    if op is None or not op.request_body:
        return None
    content_type = next(iter(op.request_body))
    problems = [p for p in specs.validate_request_body(ctx.method, ctx.path, content_type, ctx.req.body)
                if p.kind is not ViolationKind.WRONG_CONTENT_TYPE]
    return str(problems[0]) if problems else None



#: Where a handler finds its objects: the model's, or the model's plus the session's.
ItemsOf = Callable[[Ctx], Sequence[Mapping[str, Any]]]


def collection_handler(items_of: ItemsOf) -> Handler:
    """A GET handler answering the list ``items_of`` gives, with the O2IMS query applied."""
    def handler(ctx: Ctx) -> SynthResponse:
        return ctx.collection(items_of(ctx))
    return handler


def item_handler(items_of: ItemsOf, key: str, what: str) -> Handler:
    """A GET handler answering the item whose ``key`` equals the route's last path parameter, else 404."""
    def handler(ctx: Ctx) -> SynthResponse:
        ident = ctx.params[ctx.route.id_param or key] if ctx.route is not None else ctx.params[key]
        found = find(items_of(ctx), key, ident)
        return ctx.item(found) if found is not None else ctx.not_found(what, ident)
    return handler
