"""``SyntheticO2IMS``: the deterministic, stateful edge1-4 O2IMS the replay server falls back to.

    model = SyntheticO2IMS()                       # the bundled edge1-4 profile
    resp = model.handle(SynthRequest("GET", "/o2ims-infrastructureInventory/v1/resourcePools"))

``handle`` is synchronous and pure apart from the in-memory session state; static answers are cached
encoded. It implements ``Services`` for its handlers. The HTTP side (the notifier, the admin routes,
``/docs``) is the server's: ``replayer.server.synthetic_admin`` and ``replayer.server.docs``.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from datetime import timedelta

from replayer.errors import UsageError
from replayer.o2ims.query import QueryError
from replayer.o2ims.routes import is_legacy_path, match_route, normalise_path
from replayer.synthetic import legacy, provisioning
from replayer.synthetic.answers import SynthRequest, SynthResponse, instance_url, problem
from replayer.synthetic.context import Ctx
from replayer.synthetic.model import Model, build_model, iso_time
from replayer.synthetic.notify import Notification, Outbox
from replayer.synthetic.profile import LifecycleMode, Profile, load_profile
from replayer.synthetic.state import SessionState
from replayer.synthetic.table import HANDLERS, route_key

__all__ = ["SynthRequest", "SynthResponse", "SyntheticO2IMS"]

#: Offset of state-change timestamps from the profile epoch: seeded objects sit on the epoch's first day,
#: changes made through the API are stamped from the second day on (docs/synthetic.md, "Time").
CHANGE_OFFSET = timedelta(days=1)

_CACHE_LIMIT = 4096
_MAX_SESSIONS = 1000


class SyntheticO2IMS:
    """The synthetic O-Cloud: answers O2IMS and legacy-mock requests from a profile, with per-session state."""

    def __init__(self, profile: Profile | None = None, *, clock: Callable[[], float] = time.monotonic,
                 outbox: Outbox | None = None) -> None:
        self.profile = profile if profile is not None else load_profile()
        try:
            self.model: Model = build_model(self.profile)
        except ValueError as e:
            raise UsageError(f"{self.profile.source}: {e}") from None
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
            return problem(404, f"no O2IMS resource at {raw}", instance_url(req.base_url, raw))
        path = normalise_path(raw)
        instance = instance_url(req.base_url, path)  # ProblemDetails.instance is a URI
        if is_legacy_path(path):
            ctx = Ctx(req, path, None, {}, self)
            if req.method != "GET" or not legacy.is_static(path):
                return legacy.handle(ctx)
            legacy_key = ("legacy", path, req.query, req.base_url)
            if (cached := self._cache.get(legacy_key)) is None:
                cached = legacy.handle(ctx)
                self._remember(legacy_key, cached)
            return cached
        found = match_route(path)
        if found is None:
            return problem(404, f"no O2IMS resource at {path}", instance)
        route, params = found
        method = "GET" if req.method == "HEAD" else req.method
        if not route.allows(method):
            allow = ", ".join(route.methods)
            return problem(405, f"method {req.method} is not allowed on {route.template}; allowed: {allow}",
                           instance, {"Allow": allow})
        known = self._sessions.get(req.session)
        # Any state change bumps ``changes``, so a cached answer never outlives the state it was built from.
        version = known.changes if known is not None else 0
        key = (req.session, version, path, req.query, req.base_url) if method == "GET" else None
        if key is not None and (cached := self._cache.get(key)) is not None:
            return cached
        handler = HANDLERS.get(route_key(route), {}).get(method)
        if handler is None:
            return problem(404, f"no O2IMS resource at {path}", instance)
        ctx = Ctx(req, path, route, params, self, self.session(req.session))
        try:
            resp = handler(ctx)
        except QueryError as e:
            return problem(400, str(e), instance, param=e.param)
        if key is not None and ctx.cacheable and resp.status == 200:
            self._remember(key, resp)
        return resp

    def _remember(self, key: tuple[object, ...], resp: SynthResponse) -> None:
        # Static answers only (handlers clear ctx.cacheable when session state shaped the answer).
        self._cache[key] = resp
        if len(self._cache) > _CACHE_LIMIT:
            self._cache.popitem(last=False)

