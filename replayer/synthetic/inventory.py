"""Inventory API (v1 release-4.21 and v2 main): which list each collection answers, and what is special.

Paths below ``/o2ims-infrastructureInventory/{v1,v2}``: OCloudInfo, api_versions, deploymentManagers,
resourceTypes (+ alarmDictionary), resourcePools (+ resources), alarmDictionaries, subscriptions, and on
v2 locations and oCloudSites. The GET handlers of plain collections and their items are generated from
the route table (``replayer.synthetic.table``); resources added at run time live here too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from replayer.synthetic.answers import SynthResponse
from replayer.synthetic.context import Ctx, Handler
from replayer.synthetic.generic import ItemsOf, find
from replayer.synthetic.model import RESOURCE_KINDS
from replayer.synthetic.notify import CREATE, DELETE, change_notifications
from replayer.synthetic.services import Services
from replayer.synthetic.state import SessionState

__all__ = ["HANDLERS", "LISTS", "add_resource", "remove_resource"]

API = "infrastructureInventory"
JSON = dict[str, Any]

# ------------------------------------------------------------------------------------------------ handlers


def ocloud(ctx: Ctx) -> SynthResponse:
    """OCloudInfo (both ``globalcloudId`` and ``globalCloudId``)."""
    body = dict(ctx.model.ocloud)
    body["serviceUri"] = f"{ctx.req.base_url.rstrip('/')}/o2ims-{API}/{ctx.version}"
    return ctx.item(body)


def _types(ctx: Ctx) -> list[JSON]:
    return ctx.model.resource_types_v1 if ctx.version == "v1" else ctx.model.resource_types_v2


def _pools(ctx: Ctx) -> list[JSON]:
    return ctx.model.resource_pools_v1 if ctx.version == "v1" else ctx.model.resource_pools_v2


def pool_resources(ctx: Ctx, pool_id: str) -> Sequence[Mapping[str, Any]]:
    """The resources of a pool: the model's plus those the session added."""
    extra = ctx.state.extra_resources.get(pool_id)
    if extra:
        ctx.cacheable = False
        return [*ctx.model.resources.get(pool_id, []), *extra]
    return ctx.model.resources.get(pool_id, [])


def type_dictionary(ctx: Ctx) -> SynthResponse:
    """The alarm dictionary of a resource type."""
    ident = ctx.params["resourceTypeId"]
    rtype = find(ctx.model.resource_types_v2, "resourceTypeId", ident)
    if rtype is None:
        return ctx.not_found("resource type", ident)
    dictionary = find(ctx.model.alarm_dictionaries, "alarmDictionaryId", rtype["alarmDictionaryId"])
    assert dictionary is not None
    return ctx.item(dictionary)


def resources(ctx: Ctx) -> SynthResponse:
    """The resources of one pool."""
    pool_id = ctx.params["resourcePoolId"]
    if find(_pools(ctx), "resourcePoolId", pool_id) is None:
        return ctx.not_found("resource pool", pool_id)
    return ctx.collection(pool_resources(ctx, pool_id))


def resource(ctx: Ctx) -> SynthResponse:
    """One resource of one pool."""
    pool_id, rid = ctx.params["resourcePoolId"], ctx.params["resourceId"]
    if find(_pools(ctx), "resourcePoolId", pool_id) is None:
        return ctx.not_found("resource pool", pool_id)
    found = find(pool_resources(ctx, pool_id), "resourceId", rid)
    return ctx.item(found) if found is not None else ctx.not_found("resource", rid)


# ------------------------------------------------------------------------------- resources added at run time

_POOL_KINDS = {"compute": ("node", "accelerator"), "storage": ("volume",), "network": ("nic",)}


def add_resource(services: Services, session: str, site_name: Any, pool: Any, kind: Any,
                 description: Any, extensions: Any) -> JSON:
    """Add a resource to a pool of a site in a session and notify (create); ValueError names a bad argument."""
    model = services.model
    site = next((s for s in model.profile.sites if s.name == site_name), None)
    if site is None:
        raise ValueError(f"site: expected one of {', '.join(s.name for s in model.profile.sites)}, got {site_name!r}")
    if pool not in _POOL_KINDS:
        raise ValueError(f"pool: expected one of compute, storage, network, got {pool!r}")
    kind = _POOL_KINDS[pool][0] if kind is None else kind
    if kind not in _POOL_KINDS[pool]:
        raise ValueError(f"kind: a {pool} pool holds {', '.join(_POOL_KINDS[pool])}, got {kind!r}")
    if not isinstance(extensions, dict):
        raise ValueError("extensions: expected an object")
    state = services.session(session)
    pool_id = model.id("resourcePool", site.name, pool)
    existing = [*model.resources[pool_id], *state.extra_resources.get(pool_id, [])]
    number = sum(1 for r in existing if r["resourceTypeId"] == model.id("resourceType", kind)) + 1
    name = f"{kind}-{number}"
    resource = {
        "resourceId": model.id("resource", state.name, site.name, name),
        "resourcePoolId": pool_id,
        "resourceTypeId": model.id("resourceType", kind),
        "globalAssetId": f"urn:o2ims-replay:{site.name}:{name}",
        "description": str(description or f"{RESOURCE_KINDS[kind][4]} {name} at {site.title}"),
        "elements": [],
        "tags": [site.name, kind],
        "groups": [f"{site.name}-{pool}"],
        "extensions": {"name": name, "site": site.name, "added": True, **extensions},
    }
    state.extra_resources.setdefault(pool_id, []).append(resource)
    services.now(state)
    ref = f"/resourcePools/{pool_id}/resources/{resource['resourceId']}"
    services.emit(change_notifications(state, API, CREATE, ref, None, resource, "inventory.create"))
    return resource


def remove_resource(services: Services, state: SessionState, ident: str) -> JSON | None:
    """Remove a resource added at run time and notify (delete); None when the session added no such resource."""
    for pool_id, items in state.extra_resources.items():
        for resource in items:
            if resource["resourceId"] == ident:
                items.remove(resource)
                services.now(state)
                ref = f"/resourcePools/{pool_id}/resources/{ident}"
                services.emit(change_notifications(state, API, DELETE, ref, resource, None, "inventory.delete"))
                return resource
    return None


#: Collections whose elements are more than a model attribute (those are in ``replayer.synthetic.table``).
LISTS: dict[tuple[str, str], ItemsOf] = {(API, "/resourceTypes"): _types, (API, "/resourcePools"): _pools}

#: What the route table cannot generate.
HANDLERS: dict[tuple[str, str], dict[str, Handler]] = {
    (API, ""): {"GET": ocloud},
    (API, "/resourceTypes/{resourceTypeId}/alarmDictionary"): {"GET": type_dictionary},
    (API, "/resourcePools/{resourcePoolId}/resources"): {"GET": resources},
    (API, "/resourcePools/{resourcePoolId}/resources/{resourceId}"): {"GET": resource},
}
