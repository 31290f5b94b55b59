"""Inventory API handlers (v1 release-4.21 and v2 main), and the subscription handlers it shares with cluster.

Paths below ``/o2ims-infrastructureInventory/{v1,v2}``: OCloudInfo, api_versions, deploymentManagers,
resourceTypes (+ alarmDictionary), resourcePools (+ resources), alarmDictionaries, subscriptions, and on
v2 locations and oCloudSites.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from replayer.o2ims.dialect import Dialect
from replayer.o2ims.query import QueryError, check_filter
from replayer.o2ims.spec import ViolationKind, bundled_specs
from replayer.synthetic.context import Ctx, Handler, SynthResponse, json_response
from replayer.synthetic.state import Subscription

__all__ = [
    "HANDLERS",
    "ItemsOf",
    "api_versions",
    "collection_handler",
    "find",
    "item_handler",
    "subscription_handlers",
    "validate_body",
]

API = "infrastructureInventory"
JSON = dict[str, Any]

def api_versions(ctx: Ctx) -> SynthResponse:
    """``/{prefix}/api_versions`` (every version) and ``/{prefix}/vN/api_versions`` (that one).

    openshift-kni answers a path ``uriPrefix`` (internal/service/resources/api/server.go ``GetAllVersions``);
    pti-o2 an absolute URL (o2ims/views/ocloud_route.py ``VersionRouter``: ``request.base_url`` less its last
    segment)."""
    api, version = ctx.route.api, ctx.route.version
    known = ctx.rules.api_versions.get(api, {})
    chosen = [known[version]] if version in known else list(known.values())
    prefix = f"/o2ims-{api}" + (f"/{version}" if version else "")
    if ctx.rules.absolute_uri_prefix:
        prefix = ctx.req.base_url.rstrip("/") + prefix
    return ctx.item({"uriPrefix": prefix, "apiVersions": [{"version": v} for v in chosen]})


def find(items: Iterable[Mapping[str, Any]], key: str, value: str) -> Mapping[str, Any] | None:
    """The item whose ``key`` equals ``value``."""
    return next((i for i in items if i.get(key) == value), None)


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


# ------------------------------------------------------------------------------------------------ handlers


def ocloud(ctx: Ctx) -> SynthResponse:
    """OCloudInfo (both ``globalcloudId`` and ``globalCloudId``); ``serviceUri`` is the URI root of every O2IMS
    service (the definitions' example: ``http://localhost:8000``): the base URL the client used."""
    body = dict(ctx.model.ocloud)
    body["serviceUri"] = ctx.req.base_url.rstrip("/")
    if ctx.owner.oran_sc is not None:
        body["extensions"] = None  # pti-o2 has no extensions column for its O-Cloud
    return ctx.item(body)


def _types(ctx: Ctx) -> list[JSON]:
    if ctx.owner.oran_sc is not None:
        return _oran_sc_types(ctx.owner.oran_sc)
    return ctx.model.resource_types_v1 if ctx.route.version == "v1" else ctx.model.resource_types_v2


def _oran_sc_types(doc: JSON) -> list[JSON]:
    """pti-o2's resource types with their alarm dictionary nested as its DTO shows it
    (o2ims/views/ocloud_dto.py ``ResourceTypeDTO``: the dictionary's ``id``, ``alarmDefinition``)."""
    dictionaries = {d["id"]: d for d in doc["alarmDictionaries"]}
    out = []
    for rt in doc["resourceTypes"]:
        d = dictionaries.get(rt["alarmDictionaryId"], {})
        nested = {k: d.get(k) for k in ("id", "alarmDictionaryVersion", "alarmDictionarySchemaVersion", "entityType",
                                        "vendor", "managementInterfaceId", "pkNotificationField")}
        nested["alarmDefinition"] = [{**a, "alarmAdditionalFields": None} for a in d.get("alarmDefinitions", [])]
        out.append({**rt, "alarmDictionary": nested, "extensions": None})
    return out


def _pools(ctx: Ctx) -> list[JSON]:
    if ctx.owner.oran_sc is not None:
        return list(ctx.owner.oran_sc["resourcePools"])
    return ctx.model.resource_pools_v1 if ctx.route.version == "v1" else ctx.model.resource_pools_v2


#: The keys pti-o2's nested DM models know (o2ims/views/ocloud_dto.py ``DeploymentManagerDTO``); others drop.
_DM_CAPABILITIES = ("OS",)
_DM_CAPACITY = ("cpu", "hugepages-2Mi", "hugepages-1Gi")


def _dms(ctx: Ctx) -> list[JSON]:
    if ctx.owner.oran_sc is not None:
        return [{**dm, "capabilities": {k: v for k, v in dm["capabilities"].items() if k in _DM_CAPABILITIES},
                 "capacity": {k: v for k, v in dm["capacity"].items() if k in _DM_CAPACITY}}
                for dm in ctx.owner.oran_sc["deploymentManagers"]]
    return ctx.model.deployment_managers


def pool_resources(ctx: Ctx, pool_id: str) -> Sequence[Mapping[str, Any]]:
    """The resources of a pool: the model's plus those the session added."""
    if ctx.owner.oran_sc is not None:
        return _site_pool_resources(ctx, pool_id)
    extra = ctx.state.extra_resources.get(pool_id)
    if extra:
        ctx.cacheable = False
        return [*ctx.model.resources.get(pool_id, []), *extra]
    return ctx.model.resources.get(pool_id, [])


def _site_pool_resources(ctx: Ctx, pool_id: str) -> list[Mapping[str, Any]]:
    """o-ran-sc: one pool per site holds every resource of the site, those the session added included."""
    assert ctx.owner.oran_sc is not None
    found: list[Mapping[str, Any]] = [r for r in ctx.owner.oran_sc["resources"] if r["resourcePoolId"] == pool_id]
    site = next((p["name"] for p in ctx.owner.oran_sc["resourcePools"] if p["resourcePoolId"] == pool_id), None)
    for (name, _role), role_pool in ctx.model.pool_of.items():
        extra = ctx.state.extra_resources.get(role_pool) if name == site else None
        if extra:
            ctx.cacheable = False
            found += [{**r, "resourcePoolId": pool_id} for r in extra]
    return found


#: Where a handler finds its objects: the model's, or the model's plus the session's.
ItemsOf = Callable[[Ctx], Sequence[Mapping[str, Any]]]


def collection_handler(items_of: ItemsOf) -> Handler:
    """A GET handler answering the list ``items_of`` gives, with the O2IMS query applied."""
    def handler(ctx: Ctx) -> SynthResponse:
        return ctx.collection(items_of(ctx))
    return handler


def item_handler(items_of: ItemsOf, key: str, what: str) -> Handler:
    """A GET handler answering the item whose ``key`` equals the path parameter of the same name, else 404."""
    def handler(ctx: Ctx) -> SynthResponse:
        ident = ctx.params[key]
        found = find(items_of(ctx), key, ident)
        return ctx.item(found) if found is not None else ctx.not_found(what, ident)
    return handler


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


# ------------------------------------------------------------------------------------------- subscriptions

_ALARM_FILTERS = ("NEW", "CHANGE", "CLEAR", "ACKNOWLEDGE")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _subs(ctx: Ctx) -> list[Subscription]:
    ctx.cacheable = False
    return [s for s in ctx.state.subscriptions.values() if s.api == ctx.route.api]


def _check_subscription(ctx: Ctx, body: Any) -> str | None:
    """Why a subscription body is unacceptable, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    callback = body.get("callback")
    if ctx.dialect is Dialect.O_RAN_SC and not callback:  # o2ims/views/ocloud_route.py, alarm_route.py post
        return "The callback parameter is required"
    if not isinstance(callback, str):
        return "callback: required, a string holding an absolute http(s) URL"
    parts = urlsplit(callback)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in callback):
        return f"callback: expected an absolute http(s) URL, got {callback!r}"
    refused = ctx.owner.callbacks.refuse_url(callback)
    if refused:
        return f"callback: refused: {refused}"
    consumer = body.get("consumerSubscriptionId")
    # pti-o2 takes any string (a plain column); the openshift-kni definitions type it a UUID.
    wants_uuid = ctx.dialect is not Dialect.O_RAN_SC
    if consumer is not None and (not isinstance(consumer, str) or (wants_uuid and not _UUID.match(consumer))):
        return f"consumerSubscriptionId: expected a UUID, got {consumer!r}"
    flt = body.get("filter")
    if flt is not None and not isinstance(flt, str):
        return f"filter: expected a string, got {flt!r}"
    if ctx.route.api == "infrastructureMonitoring":
        if flt is not None and flt not in _ALARM_FILTERS and not (ctx.dialect is Dialect.O_RAN_SC and flt == ""):
            return f"filter: expected one of {', '.join(_ALARM_FILTERS)}, got {flt!r}"
    elif flt:
        try:
            # An attribute no object of this API has would silently never match: refuse it now, as a GET
            # with the same filter would (a common slip: "extensions.site" for "extensions/site").
            check_filter(flt, _notified_objects(ctx))
        except QueryError as e:
            return str(e)
    return None


def _notified_objects(ctx: Ctx) -> list[JSON]:
    """Objects a subscription of this API can be notified about (what its filter is matched against)."""
    m = ctx.model
    if ctx.route.api == "infrastructureCluster":
        # Cluster subscriptions also get provisioning progress (ProvisioningRequestInfo objects), whose
        # attributes the model cannot list before a request exists: check only the inventory API strictly.
        return []
    pools = m.resource_pools_v1 + m.resource_pools_v2
    resources = [r for rs in m.resources.values() for r in rs]
    return [*m.deployment_managers, *m.resource_types_v1, *m.resource_types_v2, *pools, *resources]


def list_subscriptions(ctx: Ctx) -> SynthResponse:
    """The session's subscriptions of this API."""
    return ctx.collection([s.body() for s in _subs(ctx)])


def create_subscription(ctx: Ctx) -> SynthResponse:
    """POST a subscription: 201 with Location; 400 for a bad body; a duplicate callback is refused."""
    ctx.cacheable = False
    try:
        body = ctx.body_json()
    except ValueError as e:
        return ctx.problem(400, str(e))
    # pti-o2 checks no body against a schema (its flask-restx namespaces do not validate).
    reason = _check_subscription(ctx, body) or (validate_body(ctx) if ctx.dialect is not Dialect.O_RAN_SC else None)
    if reason:
        return ctx.problem(400, reason)
    api = ctx.route.api
    if _duplicate(ctx, body):
        status = ctx.rules.duplicate_status.get(api, 400)
        if ctx.dialect is Dialect.O_RAN_SC:  # o2ims/views/ocloud_view.py subscription_create
            return ctx.problem(status, "The value of parameters is duplicated")
        return ctx.problem(status, f"a subscription with callback {body['callback']!r} already exists",
                           attributes={"callback": body["callback"]})
    number = ctx.state.next_subscription_number()
    # The run id salts the id: a fresh server never hands out an id (nor, from it, a notificationId) that an
    # earlier run gave a consumer.
    sub_id = ctx.model.id("subscription", ctx.owner.run_id, ctx.state.name, api, str(number))
    blank = "" if ctx.dialect is Dialect.O_RAN_SC else None  # pti-o2 stores absent members as ""
    sub = Subscription(sub_id, api, ctx.route.version or "v1", body["callback"],
                       body.get("consumerSubscriptionId", blank), body.get("filter", blank))
    ctx.state.subscriptions[sub_id] = sub
    ctx.owner.now(ctx.state)
    headers = {"Location": f"{ctx.path}/{sub_id}"} if ctx.rules.subscription_location else None
    return json_response(201, sub.body(), headers)


def _duplicate(ctx: Ctx, body: dict[str, Any]) -> bool:
    """openshift-kni: one subscription per callback (a unique_callback constraint); pti-o2: the same callback,
    filter and consumerSubscriptionId together (o2ims/views/ocloud_view.py ``subscription_create``)."""
    api = ctx.route.api
    if ctx.dialect is not Dialect.O_RAN_SC:
        return ctx.state.has_callback(api, body["callback"])
    wanted = (body["callback"], body.get("filter") or "", body.get("consumerSubscriptionId") or "")
    return any(s.api == api and (s.callback, s.filter or "", s.consumer_id or "") == wanted
               for s in ctx.state.subscriptions.values())


def _subscription_param(ctx: Ctx) -> str:
    return ctx.params.get("subscriptionId") or ctx.params["alarmSubscriptionId"]


def get_subscription(ctx: Ctx) -> SynthResponse:
    """One subscription."""
    ident = _subscription_param(ctx)
    sub = next((s for s in _subs(ctx) if s.id == ident), None)
    return ctx.item(sub.body()) if sub is not None else ctx.not_found("subscription", ident)


def delete_subscription(ctx: Ctx) -> SynthResponse:
    """DELETE a subscription: 200 with no body."""
    ident = _subscription_param(ctx)
    sub = next((s for s in _subs(ctx) if s.id == ident), None)
    if sub is None:  # pti-o2 o2ims/views/ocloud_view.py, alarm_view.py subscription_delete
        what = "Alarm Subscription" if ctx.route.api == "infrastructureMonitoring" else "Subscription"
        return ctx.not_found("subscription", ident, f"{what} {ident} not found.")
    del ctx.state.subscriptions[ident]
    ctx.owner.now(ctx.state)
    body = ctx.rules.delete_body  # pti-o2 answers the JSON ``true``
    return SynthResponse(200, {"Content-Type": "application/json"} if body else {}, body)


def subscription_handlers() -> dict[str, Handler]:
    """The collection handlers of a subscriptions path (the item ones: ``subscription_item_handlers``)."""
    return {"GET": list_subscriptions, "POST": create_subscription}


def subscription_item_handlers() -> dict[str, Handler]:
    """GET and DELETE of one subscription."""
    return {"GET": get_subscription, "DELETE": delete_subscription}


HANDLERS: dict[tuple[str, str], dict[str, Handler]] = {
    (API, ""): {"GET": ocloud},
    (API, "/api_versions"): {"GET": api_versions},
    (API, "/deploymentManagers"): {"GET": collection_handler(_dms)},
    (API, "/deploymentManagers/{deploymentManagerId}"): {
        "GET": item_handler(_dms, "deploymentManagerId", "deployment manager")},
    (API, "/resourceTypes"): {"GET": collection_handler(_types)},
    (API, "/resourceTypes/{resourceTypeId}"): {
        "GET": item_handler(_types, "resourceTypeId", "resource type")},
    (API, "/resourceTypes/{resourceTypeId}/alarmDictionary"): {"GET": type_dictionary},
    (API, "/resourcePools"): {"GET": collection_handler(_pools)},
    (API, "/resourcePools/{resourcePoolId}"): {
        "GET": item_handler(_pools, "resourcePoolId", "resource pool")},
    (API, "/resourcePools/{resourcePoolId}/resources"): {"GET": resources},
    (API, "/resourcePools/{resourcePoolId}/resources/{resourceId}"): {"GET": resource},
    (API, "/alarmDictionaries"): {"GET": collection_handler(lambda c: c.model.alarm_dictionaries)},
    (API, "/alarmDictionaries/{alarmDictionaryId}"): {
        "GET": item_handler(lambda c: c.model.alarm_dictionaries, "alarmDictionaryId",
                     "alarm dictionary")},
    (API, "/locations"): {"GET": collection_handler(lambda c: c.model.locations)},
    (API, "/locations/{globalLocationId}"): {
        "GET": item_handler(lambda c: c.model.locations, "globalLocationId", "location")},
    (API, "/oCloudSites"): {"GET": collection_handler(lambda c: c.model.ocloud_sites)},
    (API, "/oCloudSites/{oCloudSiteId}"): {
        "GET": item_handler(lambda c: c.model.ocloud_sites, "oCloudSiteId", "O-Cloud site")},
    (API, "/subscriptions"): subscription_handlers(),
    (API, "/subscriptions/{subscriptionId}"): subscription_item_handlers(),
}
