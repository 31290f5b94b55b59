"""Subscriptions (inventory, cluster and monitoring): create, list, get and delete, per session.

A subscription is kept in the session's state; changes are notified to it through
``replayer.synthetic.notify``. The monitoring API's ``filter`` names an event type, the others' an
O2IMS filter checked against the objects the API notifies about.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from replayer.o2ims.query import QueryError, check_filter
from replayer.synthetic.answers import SynthResponse, json_response
from replayer.synthetic.context import Ctx, Handler
from replayer.synthetic.generic import validate_body
from replayer.synthetic.state import Subscription

__all__ = ["SUBSCRIPTION_SEGMENTS", "subscription_handlers", "subscription_item_handlers"]

#: Collection segments holding subscriptions: their routes get the handlers below.
SUBSCRIPTION_SEGMENTS = ("subscriptions", "alarmSubscriptions")
JSON = dict[str, Any]

_ALARM_FILTERS = ("NEW", "CHANGE", "CLEAR", "ACKNOWLEDGE")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _subs(ctx: Ctx) -> list[Subscription]:
    ctx.cacheable = False
    return [s for s in ctx.state.subscriptions.values() if s.api == ctx.api]


def _check_subscription(ctx: Ctx, body: Any) -> str | None:
    """Why a subscription body is unacceptable, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    callback = body.get("callback")
    if not isinstance(callback, str):
        return "callback: required, a string holding an absolute http(s) URL"
    parts = urlsplit(callback)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in callback):
        return f"callback: expected an absolute http(s) URL, got {callback!r}"
    consumer = body.get("consumerSubscriptionId")
    if consumer is not None and (not isinstance(consumer, str) or not _UUID.match(consumer)):
        return f"consumerSubscriptionId: expected a UUID, got {consumer!r}"
    flt = body.get("filter")
    if flt is not None and not isinstance(flt, str):
        return f"filter: expected a string, got {flt!r}"
    if ctx.api == "infrastructureMonitoring":
        if flt is not None and flt not in _ALARM_FILTERS:
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
    if ctx.api == "infrastructureCluster":
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
    reason = _check_subscription(ctx, body) or validate_body(ctx)
    if reason:
        return ctx.problem(400, reason)
    api = ctx.api
    if ctx.state.has_callback(api, body["callback"]):
        # Only the monitoring definitions document 409; inventory and cluster answer 400 (docs/o2ims-coverage.md).
        status = 409 if api == "infrastructureMonitoring" else 400
        return ctx.problem(status, f"a subscription with callback {body['callback']!r} already exists")
    number = ctx.state.next_subscription_number()
    sub_id = ctx.model.id("subscription", ctx.state.name, api, str(number))
    sub = Subscription(sub_id, api, ctx.version or "v1", body["callback"],
                       body.get("consumerSubscriptionId"), body.get("filter"))
    ctx.state.subscriptions[sub_id] = sub
    ctx.services.now(ctx.state)
    location = f"{ctx.path}/{sub_id}"
    return json_response(201, sub.body(), {"Location": location})


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
    if sub is None:
        return ctx.not_found("subscription", ident)
    del ctx.state.subscriptions[ident]
    ctx.services.now(ctx.state)
    return SynthResponse(200, {}, b"")


def subscription_handlers() -> dict[str, Handler]:
    """The collection handlers of a subscriptions path (the item ones: ``subscription_item_handlers``)."""
    return {"GET": list_subscriptions, "POST": create_subscription}


def subscription_item_handlers() -> dict[str, Handler]:
    """GET and DELETE of one subscription."""
    return {"GET": get_subscription, "DELETE": delete_subscription}

