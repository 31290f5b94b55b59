"""``create_app(config) -> web.Application``: the replay server as an aiohttp application.

Route order: ``/health``, ``/metrics`` and ``/__admin/...`` first, then whatever the synthetic model
registers (its admin routes, ``/docs``, ``/openapi.json``), then a 404 for any other ``/__admin/`` path, then
one catch-all replay handler. No
middleware: the cassette hit path stays as short as a bare handler's (issue 3, §10).
"""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from replayer.server.admin import admin_guard, setup_admin, setup_admin_fallback
from replayer.server.config import ServeConfig
from replayer.server.handlers import ReplayHandler
from replayer.server.inbound import INBOUND, InboundLimits
from replayer.server.keys import RUNTIME
from replayer.server.oauth import build_guard
from replayer.server.runtime import Runtime, resolve_dialect
from replayer.server.state import LoadedSet
from replayer.server.watch import watch_ctx
from replayer.o2ims.dialect import Dialect
from replayer.synthetic import Profile, SyntheticO2IMS, load_profile, setup_docs, setup_synthetic

__all__ = ["create_app", "make_synthetic"]


def make_synthetic(config: ServeConfig, profile: Profile | None = None,
                   dialect: Dialect | None = None) -> SyntheticO2IMS | None:
    """The synthetic O2IMS model, or None when it is off."""
    if not config.synthetic:
        return None
    if profile is None:
        profile = load_profile(config.profile) if config.profile else load_profile()
    if config.page_size is not None:  # --page-size pages synthetic lists too (over the profile's paging)
        profile = replace(profile, page_size=config.page_size)
    return SyntheticO2IMS(profile, dialect=dialect or config.dialect, run_id=config.run_id,
                          callbacks=config.callbacks)


def _setup_synthetic(app: web.Application, model: SyntheticO2IMS | None) -> None:
    if model is not None:
        setup_synthetic(app, model, admin_guard)
    setup_docs(app, model)


def create_app(config: ServeConfig, *, live: LoadedSet | None = None) -> web.Application:
    """The replay server for ``config``; loads the cassettes unless ``live`` is given (CassetteError)."""
    rt = Runtime(config, live)
    profile = (load_profile(config.profile) if config.profile else load_profile()) if config.synthetic else None
    rt.dialect = resolve_dialect(config, rt.live, profile.dialect if profile is not None else None)
    model = make_synthetic(config, profile, rt.dialect)
    rt.synthetic = model
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[RUNTIME] = rt
    app[INBOUND] = InboundLimits(config.max_connections, config.header_timeout, config.body_timeout)
    setup_admin(app)
    rt.guard = build_guard(config, app)
    _setup_synthetic(app, model)
    if config.watch:
        app.cleanup_ctx.append(watch_ctx)
    setup_admin_fallback(app)
    app.router.add_route("*", r"/{tail:[\s\S]*}", ReplayHandler(rt).handle)  # [\s\S]: paths with a decoded %0A too
    return app
