"""``SyntheticO2IMS``: the deterministic, stateful edge1-4 O2IMS the replay server falls back to (issue 4).

    model = SyntheticO2IMS()                       # the bundled edge1-4 profile
    resp = model.handle(SynthRequest("GET", "/o2ims-infrastructureInventory/v1/resourcePools"))

``handle`` is synchronous and pure apart from the in-memory session state; static answers are cached
encoded. ``setup_synthetic(app, model)`` adds the notifier and the ``/__admin/synthetic`` routes to an
aiohttp app; ``setup_docs(app, model)`` adds ``/docs`` and ``/openapi.json``.
"""

from __future__ import annotations

import collections
import os
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from replayer.errors import UsageError
from replayer.o2ims.dialect import DEFAULT_DIALECT, Dialect, rules, serves
from replayer.o2ims.query import QueryError
from replayer.o2ims.routes import Route, is_legacy_path, match_route, normalise_path
from replayer.synthetic import artifacts, cluster, inventory, legacy, monitoring, provisioning
from replayer.synthetic.callbacks import CallbackPolicy, default_policy
from replayer.synthetic.context import Ctx, Handler, SynthRequest, SynthResponse, problem
from replayer.synthetic.model import Model, build_model, iso_time
from replayer.synthetic.notify import Notification, Outbox
from replayer.synthetic.oran_sc import render_oran_sc
from replayer.synthetic.profile import LifecycleMode, Profile, load_profile
from replayer.synthetic.state import SessionState

if TYPE_CHECKING:
    from replayer.synthetic.admin import Handler as AdminHandler

__all__ = ["SynthRequest", "SynthResponse", "SyntheticO2IMS", "setup_docs", "setup_synthetic"]

#: Offset of state-change timestamps from the profile epoch: seeded objects sit on the epoch's first day,
#: changes made through the API are stamped from the second day on (docs/synthetic.md, "Time").
CHANGE_OFFSET = timedelta(days=1)

_HANDLERS: dict[tuple[str, str], dict[str, Handler]] = {}
for _module in (inventory, monitoring, provisioning, cluster, artifacts):
    _HANDLERS.update(_module.HANDLERS)

JSON = dict[str, Any]
_CACHE_LIMIT = 4096
_MAX_SESSIONS = 1000


def route_key(route: Route) -> tuple[str, str]:
    """(api, path below the version) of a route: the handler table's key."""
    segs = route.template.split("/")
    rest = segs[3:] if route.version else segs[2:]
    return route.api, ("/" + "/".join(rest)) if rest else ""


class SyntheticO2IMS:
    """The synthetic O-Cloud: answers O2IMS and legacy-mock requests from a profile, with per-session state."""

    def __init__(self, profile: Profile | None = None, *, clock: Callable[[], float] = time.monotonic,
                 outbox: Outbox | None = None, dialect: Dialect | None = None, run_id: str | None = None,
                 callbacks: CallbackPolicy | None = None) -> None:
        self.profile = profile if profile is not None else load_profile()
        #: Where subscription callbacks may point (checked at subscription and again on every delivery).
        self.callbacks = callbacks if callbacks is not None else default_policy(os.environ)
        #: Which O2IMS implementation the model behaves like: the argument, else the profile's, else the default.
        self.dialect: Dialect = dialect or self.profile.dialect or DEFAULT_DIALECT
        #: Salts every id the model generates (subscriptions, raised alarms, notifications), so that ids never
        #: repeat across restarts; everything else stays byte-identical. Fix it for byte-identical runs.
        self.run_id = run_id if run_id is not None else secrets.token_hex(8)
        try:
            self.model: Model = build_model(self.profile)
        except ValueError as e:
            raise UsageError(f"{self.profile.source}: {e}") from None
        #: The o-ran-sc inventory: the model laid out as pti-o2 stores it (one pool per site, children).
        self.oran_sc: JSON | None = (render_oran_sc(self.model, "") if rules(self.dialect).pool_per_site
                                     else None)
        self.clock = clock
        self.outbox = outbox if outbox is not None else Outbox()
        self._sessions: collections.OrderedDict[str, SessionState] = collections.OrderedDict()
        self._cache: collections.OrderedDict[tuple[object, ...], SynthResponse] = collections.OrderedDict()

    # ------------------------------------------------------------------------------------------ sessions

    def session(self, name: str) -> SessionState:
        """The state of session ``name`` (created on first use; the least recently used beyond 1000 go)."""
        state = self._sessions.get(name)
        if state is None:
            state = SessionState.fresh(name, self.model, self.clock())
            self._sessions[name] = state
            while len(self._sessions) > _MAX_SESSIONS:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(name)
        return state

    def sessions(self) -> list[str]:
        """Names of the sessions with state."""
        return list(self._sessions)

    def reset(self, session: str | None = None) -> None:
        """Forget one session's state, or every session's (None)."""
        if session is None:
            self._sessions.clear()
        else:
            self._sessions.pop(session, None)

    def now(self, state: SessionState) -> str:
        """The timestamp of a state change now: logical in ``requests`` mode, clock-based in ``seconds``."""
        state.changes += 1
        if self.profile.lifecycle.mode is LifecycleMode.SECONDS:
            elapsed = timedelta(seconds=round(self.clock() - state.started, 3))
        else:
            elapsed = timedelta(seconds=state.changes)
        return iso_time(self.model.epoch + CHANGE_OFFSET + elapsed)

    def emit(self, items: list[Notification]) -> None:
        """Queue notifications for delivery."""
        self.outbox.put(items)

    def tick(self) -> None:
        """Advance time-driven provisioning lifecycles of every session (the notifier calls this)."""
        if self.profile.lifecycle.mode is LifecycleMode.SECONDS:
            for state in list(self._sessions.values()):
                provisioning.advance_all(self, state, read=False)

    # ------------------------------------------------------------------------------------------ requests

    def handle(self, req: SynthRequest) -> SynthResponse:
        """Answer one request."""
        # The server hands over the decoded path: a decoded '?' or '#' (from %3F, %23) is part of an id, not a
        # delimiter, and a '.'/'..' segment names nothing here (RFC 3986 5.2.4 would turn an item path into
        # its parent's).
        raw = req.path.replace("#", "%23").replace("?", "%3F")
        if "/." in raw and any(seg in (".", "..") for seg in raw.split("/")):
            return problem(404, f"no O2IMS resource at {raw}", req, raw, self.dialect)
        path = normalise_path(raw)
        if is_legacy_path(path):
            if req.method != "GET" or not legacy.is_static(path):
                return legacy.handle(self, req, path)
            legacy_key = ("legacy", path, req.query, req.base_url)
            if (cached := self._cache.get(legacy_key)) is None:
                cached = legacy.handle(self, req, path)
                self._remember(legacy_key, cached)
            return cached
        found = match_route(path)
        if found is None or not serves(self.dialect, found[0]):
            return problem(404, f"no O2IMS resource at {path}", req, path, self.dialect)
        route, params = found
        method = "GET" if req.method == "HEAD" else req.method
        if not route.allows(method):
            allow = ", ".join(route.methods)
            headers = {"Allow": allow} if rules(self.dialect).allow_header_on_405 else None
            return problem(405, f"method {req.method} is not allowed on {route.template}; allowed: {allow}",
                           req, path, self.dialect, headers)
        known = self._sessions.get(req.session)
        # Any state change bumps ``changes``, so a cached answer never outlives the state it was built from.
        version = known.changes if known is not None else 0
        key = (req.session, version, path, req.query, req.base_url) if method == "GET" else None
        if key is not None and (cached := self._cache.get(key)) is not None:
            return cached
        handler = _HANDLERS.get(route_key(route), {}).get(method)
        if handler is None:
            return problem(404, f"no O2IMS resource at {path}", req, path, self.dialect)
        ctx = Ctx(req, path, route, params, self.model, self.session(req.session), self)
        try:
            resp = handler(ctx)
        except QueryError as e:
            return problem(400, e.detail(self.dialect is Dialect.O_RAN_SC), req, path, self.dialect,
                           attributes={"param": e.param})
        if key is not None and ctx.cacheable and resp.status == 200:
            self._remember(key, resp)
        return resp

    def _remember(self, key: tuple[object, ...], resp: SynthResponse) -> None:
        # Static answers only (handlers clear ctx.cacheable when session state shaped the answer).
        self._cache[key] = resp
        if len(self._cache) > _CACHE_LIMIT:
            self._cache.popitem(last=False)


def setup_synthetic(app: web.Application, model: SyntheticO2IMS,
                    guard: Callable[[AdminHandler], AdminHandler] | None = None) -> None:
    """Register the notifier (``app.cleanup_ctx``) and the ``/__admin/`` routes, each wrapped by ``guard``."""
    from replayer.synthetic.admin import setup_admin

    setup_admin(app, model, guard)


def setup_docs(app: web.Application, model: SyntheticO2IMS | None) -> None:
    """Register ``/docs`` and ``/openapi.json`` describing everything the server serves."""
    from replayer.synthetic.openapi import setup_openapi

    setup_openapi(app, model)
