"""Admin routes of the synthetic model (under ``/__admin/``, which the server protects) and its notifier.

    GET    /__admin/notifications[?session=S][&wait=SECONDS[&min=N]]  what was sent and what the callbacks answered
    DELETE /__admin/notifications                              forget the delivery log
    POST   /__admin/synthetic/alarms                           raise an alarm {site, resource, definition, severity}
    PATCH  /__admin/synthetic/alarms/{alarmEventRecordId}      change severity / acknowledge {perceivedSeverity, acknowledge}
    POST   /__admin/synthetic/resources                        add a resource {site, pool, kind?, description?, extensions?}
    DELETE /__admin/synthetic/resources/{resourceId}           remove an added resource
    POST   /__admin/synthetic/reset                            drop a session's state {session?} (all when absent)

The session is the body's ``session``, else the ``session`` query parameter, else ``X-Replay-Session``,
else ``default``. Errors are ProblemDetails.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from replayer.limits import loads
from replayer.o2ims.problem import PROBLEM_CONTENT_TYPE, build_problem, encode_json
from replayer.synthetic.api import SyntheticO2IMS
from replayer.synthetic.model import RESOURCE_KINDS
from replayer.synthetic.monitoring import raise_alarm, update_alarm
from replayer.synthetic.notify import CREATE, DELETE, NOTIFIER_KEY, DeliveryPolicy, Notifier, change_notifications, notifier_ctx

__all__ = ["MODEL_KEY", "setup_admin"]

MODEL_KEY = web.AppKey("o2replay_synthetic_model", SyntheticO2IMS)
_POOL_KINDS = {"compute": ("node", "accelerator"), "storage": ("volume",), "network": ("nic",)}
_MAX_WAIT = 30.0


def _problem(status: int, detail: str) -> web.Response:
    p = build_problem(status, detail)
    return web.Response(status=status, body=p.body, content_type=p.content_type)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        raw = await request.read()
    except RequestPayloadError as e:  # a body that does not decode under its Content-Encoding
        raise web.HTTPBadRequest(body=build_problem(400, f"body cannot be read: {' '.join(str(e).split())}").body,
                                 content_type=PROBLEM_CONTENT_TYPE) from None
    if not raw:
        return {}
    try:
        body = loads(raw, what="body")
    except ValueError as e:  # not JSON, not UTF-8, or nested deeper than the limit
        raise web.HTTPBadRequest(body=build_problem(400, f"body is not JSON: {e}").body,
                                 content_type=PROBLEM_CONTENT_TYPE) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(body=build_problem(400, "body must be a JSON object").body,
                                 content_type=PROBLEM_CONTENT_TYPE)
    return body


def _session(request: web.Request, body: dict[str, Any]) -> str:
    return str(body.get("session") or request.query.get("session") or request.headers.get("X-Replay-Session")
               or "default")


def _json(status: int, obj: Any) -> web.Response:
    return web.Response(status=status, body=encode_json(obj), content_type="application/json")


async def notifications(request: web.Request) -> web.Response:
    """The delivery log; ``wait=S`` first waits (at most S seconds) until at least ``min`` notifications were
    made and every delivery has settled."""
    notifier: Notifier = request.app[NOTIFIER_KEY]
    wait = request.query.get("wait")
    if wait is not None:
        try:
            seconds = min(float(wait), _MAX_WAIT)
            minimum = int(request.query.get("min", "0"))
        except ValueError:
            return _problem(400, f"wait/min: expected seconds and a count, got {wait!r}, "
                                 f"{request.query.get('min')!r}")
        await notifier.wait_settled(seconds, minimum)
    return _json(200, notifier.records(request.query.get("session")))


async def clear_notifications(request: web.Request) -> web.Response:
    """Forget the delivery log."""
    request.app[NOTIFIER_KEY].clear()
    return web.Response(status=204)


async def post_alarm(request: web.Request) -> web.Response:
    """Raise an alarm in a session; its subscribers get a NEW notification."""
    model = request.app[MODEL_KEY]
    body = await _body(request)
    missing = [k for k in ("site", "resource", "definition") if not isinstance(body.get(k), str)]
    if missing:
        return _problem(400, f"missing string field(s): {', '.join(missing)}")
    severity = body.get("severity", body.get("perceivedSeverity", 2))
    if not isinstance(severity, int) or isinstance(severity, bool):
        return _problem(400, f"severity: expected an integer 0..4, got {severity!r}")
    extensions = body.get("extensions") or {}
    if not isinstance(extensions, dict) or not all(isinstance(v, str) for v in extensions.values()):
        return _problem(400, "extensions: expected an object of strings")
    state = model.session(_session(request, body))
    try:
        alarm = raise_alarm(model, state, body["site"], body["resource"], body["definition"], severity, extensions)
    except ValueError as e:
        return _problem(400, str(e))
    return _json(201, alarm)


async def patch_alarm(request: web.Request) -> web.Response:
    """Change an alarm's severity (5 clears it) or acknowledge it; subscribers are notified."""
    model = request.app[MODEL_KEY]
    body = await _body(request)
    state = model.session(_session(request, body))
    ident = request.match_info["alarmId"]
    if ident not in state.alarms:
        return _problem(404, f"alarm {ident!r} not found in session {state.name!r}")
    severity = body.get("perceivedSeverity")
    if severity is not None and (not isinstance(severity, int) or isinstance(severity, bool)
                                 or not 0 <= severity <= 5):
        return _problem(400, f"perceivedSeverity: expected an integer 0..5, got {severity!r}")
    alarm = update_alarm(model, state, ident, acknowledge=bool(body.get("acknowledge")), severity=severity)
    return _json(200, alarm)


async def post_resource(request: web.Request) -> web.Response:
    """Add a resource to a pool in a session; inventory subscribers get a create notification."""
    model = request.app[MODEL_KEY]
    body = await _body(request)
    site = next((s for s in model.profile.sites if s.name == body.get("site")), None)
    if site is None:
        return _problem(400, f"site: expected one of {', '.join(s.name for s in model.profile.sites)}, "
                             f"got {body.get('site')!r}")
    pool = body.get("pool", "compute")
    if pool not in _POOL_KINDS:
        return _problem(400, f"pool: expected one of compute, storage, network, got {pool!r}")
    kind = body.get("kind", _POOL_KINDS[pool][0])
    if kind not in _POOL_KINDS[pool]:
        return _problem(400, f"kind: a {pool} pool holds {', '.join(_POOL_KINDS[pool])}, got {kind!r}")
    extensions = body.get("extensions") or {}
    if not isinstance(extensions, dict):
        return _problem(400, "extensions: expected an object")
    state = model.session(_session(request, body))
    pool_id = model.model.pool_of[(site.name, pool)]
    existing = [*model.model.resources[pool_id], *state.extra_resources.get(pool_id, [])]
    number = sum(1 for r in existing if r["resourceTypeId"] == model.model.id("resourceType", kind)) + 1
    name = f"{kind}-{number}"
    resource = {
        "resourceId": model.model.id("resource", state.name, site.name, name),
        "resourcePoolId": pool_id,
        "resourceTypeId": model.model.id("resourceType", kind),
        "globalAssetId": f"urn:o2ims-replay:{site.name}:{name}",
        "description": str(body.get("description") or f"{RESOURCE_KINDS[kind][4]} {name} at {site.title}"),
        "elements": [],
        "tags": [site.name, kind],
        "groups": [f"{site.name}-{pool}"],
        "extensions": {"name": name, "site": site.name, "added": True, **extensions},
    }
    state.extra_resources.setdefault(pool_id, []).append(resource)
    model.now(state)
    ref = f"/resourcePools/{pool_id}/resources/{resource['resourceId']}"
    model.emit(change_notifications(state, "infrastructureInventory", CREATE, ref, None, resource,
                                    "inventory.create"))
    return _json(201, resource)


async def delete_resource(request: web.Request) -> web.Response:
    """Remove a resource added through the admin API; inventory subscribers get a delete notification."""
    model = request.app[MODEL_KEY]
    state = model.session(_session(request, {}))
    ident = request.match_info["resourceId"]
    for pool_id, items in state.extra_resources.items():
        for resource in items:
            if resource["resourceId"] == ident:
                items.remove(resource)
                model.now(state)
                ref = f"/resourcePools/{pool_id}/resources/{ident}"
                model.emit(change_notifications(state, "infrastructureInventory", DELETE, ref, resource, None,
                                                "inventory.delete"))
                return _json(200, resource)
    return _problem(404, f"no added resource {ident!r} in session {state.name!r}")


async def reset(request: web.Request) -> web.Response:
    """Drop one session's state (``session`` in the body or query), or every session's."""
    body = await _body(request)
    session = body.get("session") or request.query.get("session")
    request.app[MODEL_KEY].reset(str(session) if session else None)
    return _json(200, {"reset": session or "all"})


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def setup_admin(app: web.Application, model: SyntheticO2IMS,
                guard: Callable[[Handler], Handler] | None = None) -> None:
    """Register the notifier and the admin routes, each wrapped by ``guard`` (the server's access check)."""
    notifier = Notifier(model.outbox, DeliveryPolicy(callbacks=model.callbacks), tick=model.tick)
    app[MODEL_KEY] = model
    app[NOTIFIER_KEY] = notifier
    app.cleanup_ctx.append(notifier_ctx(notifier))
    wrap = guard or (lambda h: h)
    routes: list[tuple[str, str, Handler]] = [
        ("GET", "/__admin/notifications", notifications),
        ("DELETE", "/__admin/notifications", clear_notifications),
        ("POST", "/__admin/synthetic/alarms", post_alarm),
        ("PATCH", "/__admin/synthetic/alarms/{alarmId}", patch_alarm),
        ("POST", "/__admin/synthetic/resources", post_resource),
        ("DELETE", "/__admin/synthetic/resources/{resourceId}", delete_resource),
        ("POST", "/__admin/synthetic/reset", reset),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, wrap(handler))
