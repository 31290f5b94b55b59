"""The admin API under ``/__admin/``, and ``/health`` and ``/metrics``.

Admin routes answer loopback clients only, unless ``--admin-token`` is set: then every client must
send that bearer token. The guard wraps each admin handler, so the replay hot path has no middleware.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from functools import wraps

from aiohttp import web

from replayer import __version__
from replayer.errors import ReplayerError
from replayer.limits import loads
from replayer.server.config import parse_fault
from replayer.server.answer import json_response, problem_response, render, unauthorised
from replayer.server.inbound import read_body
from replayer.server.keys import RUNTIME
from replayer.server.request import base_url_of
from replayer.server.metrics import CONTENT_TYPE as METRICS_TYPE
from replayer.server.runtime import Runtime

__all__ = ["setup_admin", "admin_guard", "ADMIN_PREFIX", "SERVICE_NAME"]

ADMIN_PREFIX = "/__admin"
SERVICE_NAME = "o2ims-replay"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _is_loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _base(request: web.Request) -> str:
    return base_url_of({k.lower(): v for k, v in request.headers.items()}, request.scheme, request.host)


def _problem(request: web.Request, status: int, detail: str) -> web.StreamResponse:
    """An admin API error (always the default ProblemDetails shape: the admin API is not O2IMS)."""
    return problem_response(status, detail, request.path, "admin", base_url=_base(request))


def admin_guard(handler: Handler) -> Handler:
    """Wrap an admin handler: loopback only, or the admin bearer token when one is configured."""

    @wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        token = request.app[RUNTIME].config.admin_token
        if token:
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), token):
                return render(unauthorised(request.path, "the admin API needs the admin bearer token",
                                           base_url=_base(request)))
        elif not _is_loopback(request.remote):
            return _problem(request, 403, "the admin API answers loopback clients only (see --admin-token)")
        return await handler(request)

    return guarded


def _rt(request: web.Request) -> Runtime:
    return request.app[RUNTIME]


async def health(request: web.Request) -> web.StreamResponse:
    """``GET /health``: the earlier mock's shape (status, timestamp, service, version)."""
    return json_response({"status": "healthy", "timestamp": datetime.now(timezone.utc).isoformat(),
                          "service": SERVICE_NAME, "version": __version__}, source="server")


async def metrics(request: web.Request) -> web.StreamResponse:
    """``GET /metrics``: Prometheus text; under ``--workers N``, the sum over every worker."""
    rt = _rt(request)
    if rt.peers:
        from replayer.server.peers import merged_metrics

        return web.Response(body=(await merged_metrics(rt)).render().encode(),
                            headers={"Content-Type": METRICS_TYPE})
    return web.Response(body=rt.metrics.render().encode(), headers={"Content-Type": METRICS_TYPE})


async def cassettes(request: web.Request) -> web.StreamResponse:
    """``GET /__admin/cassettes``: loaded files and their interaction counts."""
    live = _rt(request).live
    return json_response({
        "loadedAt": datetime.fromtimestamp(live.loaded_at, timezone.utc).isoformat(),
        "interactions": live.interactions,
        "cassettes": [{"name": c.name, "path": c.path, "digest": c.digest, "interactions": c.interactions}
                      for c in live.cassettes],
        "derivedCollections": sorted(live.derived.collections),
    })


def _refused_with_workers(request: web.Request) -> web.StreamResponse | None:
    """409 for a state change under ``--workers N``: it would reach the one worker that took the request."""
    workers = _rt(request).config.workers
    if workers <= 1:
        return None
    detail = (f"with --workers {workers} every worker process keeps its own cursors, faults and cassettes, and "
              f"this request reached one of them: put faults in .o2replay.yaml, reload with --watch, or serve "
              f"with one worker to change them at run time")
    return _problem(request, 409, detail)


async def reload(request: web.Request) -> web.StreamResponse:
    """``POST /__admin/reload``: load the cassettes again; a broken file keeps the old set (409)."""
    if (refused := _refused_with_workers(request)) is not None:
        return refused
    rt = _rt(request)
    try:
        new = await rt.reload()
    except ReplayerError as e:
        return json_response({"status": "error", "error": str(e), "interactions": rt.live.interactions}, 409)
    return json_response({"status": "reloaded", "cassettes": len(new.cassettes), "interactions": new.interactions})


async def reset(request: web.Request) -> web.StreamResponse:
    """``POST /__admin/reset[?session=ID]``: rewind cursors and synthetic state."""
    if (refused := _refused_with_workers(request)) is not None:
        return refused
    session = request.query.get("session")
    _rt(request).reset(session)
    return json_response({"status": "reset", "session": session})


async def requests_all(request: web.Request) -> web.StreamResponse:
    """``GET /__admin/requests[?limit=N]``: the journal of served requests."""
    return json_response(_rt(request).journal.dump("requests", _limit(request)))


async def requests_unmatched(request: web.Request) -> web.StreamResponse:
    """``GET /__admin/requests/unmatched``: requests no recorded interaction matched."""
    return json_response(_rt(request).journal.dump("unmatched", _limit(request)))


async def near_misses(request: web.Request) -> web.StreamResponse:
    """``GET /__admin/near-misses``: misses with their closest recorded requests."""
    return json_response(_rt(request).journal.dump("near-misses", _limit(request)))


async def clear_requests(request: web.Request) -> web.StreamResponse:
    """``DELETE /__admin/requests``: empty the journal."""
    _rt(request).journal.clear()
    return json_response({"status": "cleared"})


def _limit(request: web.Request) -> int | None:
    raw = request.query.get("limit")
    if raw is None:
        return None
    if not raw.isdigit():
        raise web.HTTPBadRequest(text=f"limit must be a non-negative integer, got {raw!r}")
    return int(raw)


async def faults_list(request: web.Request) -> web.StreamResponse:
    """``GET /__admin/faults``: the installed fault rules."""
    return json_response([f.to_dict() for f in _rt(request).faults.active])


async def faults_add(request: web.Request) -> web.StreamResponse:
    """``POST /__admin/faults``: install a rule (JSON body: path, method, status, delay_ms, reset, truncate...)."""
    if (refused := _refused_with_workers(request)) is not None:
        return refused
    try:
        try:
            doc = loads(await read_body(request) or b"null")
        except ValueError as e:
            raise ValueError(f"the request body must be a JSON fault rule: {e}") from None
        rule = parse_fault(doc, "body")
    except ValueError as e:
        return _problem(request, 400, str(e))
    return json_response(_rt(request).faults.add(rule).to_dict(), 201)


async def faults_delete(request: web.Request) -> web.StreamResponse:
    """``DELETE /__admin/faults[/{id}]``: remove one rule or all."""
    if (refused := _refused_with_workers(request)) is not None:
        return refused
    rt = _rt(request)
    raw = request.match_info.get("fault_id")
    if raw is None:
        rt.faults.clear()
        return json_response({"status": "cleared"})
    if not raw.isdigit() or not rt.faults.remove(int(raw)):
        return _problem(request, 404, f"no fault with id {raw}")
    return json_response({"status": "removed", "id": int(raw)})


async def unknown_admin(request: web.Request) -> web.StreamResponse:
    """Any other ``/__admin/...`` request: a 404 of the admin API, never an O2IMS request."""
    detail = f"no admin endpoint answers {request.method} {request.path} (see docs/replay.md)"
    return _problem(request, 404, detail)


def setup_admin_fallback(app: web.Application) -> None:
    """Route every ``/__admin/`` path no admin route took to ``unknown_admin``; register it after every other
    admin route (the server's and the synthetic model's) and before the replay catch-all."""
    app.router.add_route("*", ADMIN_PREFIX + r"/{tail:[\s\S]*}", unknown_admin)


def setup_admin(app: web.Application) -> None:
    """Register ``/health``, ``/metrics`` and the guarded ``/__admin/`` routes."""
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    p = ADMIN_PREFIX
    for method, path, handler in (
        ("GET", f"{p}/cassettes", cassettes),
        ("POST", f"{p}/reload", reload),
        ("POST", f"{p}/reset", reset),
        ("GET", f"{p}/requests", requests_all),
        ("DELETE", f"{p}/requests", clear_requests),
        ("GET", f"{p}/requests/unmatched", requests_unmatched),
        ("GET", f"{p}/near-misses", near_misses),
        ("GET", f"{p}/faults", faults_list),
        ("POST", f"{p}/faults", faults_add),
        ("DELETE", f"{p}/faults", faults_delete),
        ("DELETE", f"{p}/faults/{{fault_id}}", faults_delete),
    ):
        app.router.add_route(method, path, admin_guard(handler))
