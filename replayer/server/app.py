"""``create_app(config) -> web.Application``: the replay server as an aiohttp application.

Route order: ``/health``, ``/metrics`` and ``/__admin/...`` first, then whatever the synthetic model
registers (its admin routes, ``/docs``, ``/openapi.json``), then one catch-all replay handler. No
middleware: the cassette hit path stays as short as a bare handler's (issue 3, §10).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from replayer.server.admin import ADMIN_PREFIX, admin_guard, setup_admin
from replayer.server.config import ServeConfig
from replayer.server.handlers import ReplayHandler
from replayer.server.keys import RUNTIME
from replayer.server.runtime import Runtime, log
from replayer.server.state import LoadedSet
from replayer.server.watch import watch_ctx

__all__ = ["create_app", "make_synthetic"]


def make_synthetic(config: ServeConfig) -> Any:
    """The synthetic O2IMS model, or None when it is off or not installed."""
    if not config.synthetic:
        return None
    try:
        from replayer.synthetic import SyntheticO2IMS, load_profile
    except ImportError:
        log.warning("synthetic O2IMS not available: misses get %d", config.miss_status)
        return None
    return SyntheticO2IMS(load_profile(config.profile) if config.profile else None)


def _setup_synthetic(app: web.Application, model: Any) -> None:
    try:
        from replayer import synthetic
    except ImportError:
        return
    if model is not None and hasattr(synthetic, "setup_synthetic"):
        synthetic.setup_synthetic(app, model)
    if hasattr(synthetic, "setup_docs"):
        synthetic.setup_docs(app, model)
    _guard_admin_routes(app)


def _guard_admin_routes(app: web.Application) -> None:
    """Put the admin guard (loopback or admin token) on ``/__admin/`` routes other modules registered."""
    for route in app.router.routes():
        canonical = route.resource.canonical if route.resource is not None else ""
        handler = route.handler
        if canonical.startswith(ADMIN_PREFIX) and not getattr(handler, "admin_guarded", False):
            # aiohttp has no public way to wrap a registered route; ResourceRoute keeps it in ``_handler``.
            route._handler = admin_guard(handler)  # type: ignore[assignment]


def create_app(config: ServeConfig, *, live: LoadedSet | None = None) -> web.Application:
    """The replay server for ``config``; loads the cassettes unless ``live`` is given (CassetteError)."""
    model = make_synthetic(config)
    rt = Runtime(config, live, model)
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[RUNTIME] = rt
    setup_admin(app)
    _setup_synthetic(app, model)
    if config.watch:
        app.cleanup_ctx.append(watch_ctx)
    app.router.add_route("*", "/{tail:.*}", ReplayHandler(rt).handle)
    return app
