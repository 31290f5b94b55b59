"""The replay server's runtime: the current cassette set and everything that changes while serving.

One ``Runtime`` per worker process. ``live`` is replaced as a whole on reload (one attribute
assignment, atomic for the event loop), so a request always sees one complete set.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from replayer.errors import ReplayerError
from replayer.matching import Cursors, OnExhausted, RequestKey
from replayer.o2ims.dialect import DEFAULT_DIALECT, Dialect
from replayer.server.config import LatencyMode, ServeConfig
from replayer.server.faults import Faults
from replayer.server.journal import Journal
from replayer.server.metrics import Metrics
from replayer.server.overlay import Overlays
from replayer.server.state import LoadedSet, empty_set, load_set

if TYPE_CHECKING:
    from replayer.server.oauth import Guard
    from replayer.synthetic import SyntheticO2IMS

__all__ = ["Runtime", "log", "resolve_dialect"]

log = logging.getLogger("replayer.server")


def resolve_dialect(config: ServeConfig, live: LoadedSet, profile_dialect: Dialect | None) -> Dialect:
    """``--dialect`` (or ``replay.dialect``), else the profile's ``dialect:``, else what the cassettes recorded,
    else openshift-kni; logs the choice when it was inferred."""
    if config.dialect is not None:
        return config.dialect
    if profile_dialect is not None:
        return profile_dialect
    if live.inferred.dialect is not None:
        log.info("dialect inferred from the cassettes: %s", live.inferred.describe())
        return live.inferred.dialect
    return DEFAULT_DIALECT


class Runtime:
    """Mutable server state; only the event loop thread touches it."""

    def __init__(self, config: ServeConfig, live: LoadedSet | None = None,
                 synthetic: SyntheticO2IMS | None = None) -> None:
        self.config = config
        self.live = live if live is not None else (
            load_set(config.paths, config.match_on, use_cache=config.use_cache,
                     page_size=config.page_size, cache_dir=config.cache_dir) if config.paths
            else empty_set(config.match_on))
        self.cursors = Cursors(config.on_exhausted)
        self.journal = Journal(config.journal_size)
        self.metrics = Metrics()
        self.faults = Faults(config.faults)
        self.synthetic = synthetic
        self.dialect: Dialect = config.dialect or DEFAULT_DIALECT  # create_app resolves it
        #: What each session wrote: lists and items derived from recordings show it.
        self.overlays = Overlays()
        #: Authentication, authorisation and mutual TLS identity (server/oauth.py); None: all open.
        self.guard: Guard | None = None
        self.key_cache: dict[tuple[str, str], RequestKey] = {}
        mo = config.match_on
        #: Keys depend only on method and raw path+query: they can be cached per (method, raw path).
        self.simple_keys = not (mo.headers or mo.host or mo.scheme)
        #: Latency applies: the hot path checks this and ``faults.active`` (the slow path then applies both).
        self.latency_on = config.latency.mode is not LatencyMode.NONE
        #: A sequence of one answers every time unless ``on_exhausted: 404`` counts plays.
        self.single_repeats = config.on_exhausted is not OnExhausted.NOT_FOUND
        self.started = time.time()
        #: Under --workers N: the other workers' private sockets, asked for their metrics on a scrape.
        self.peers: tuple[str, ...] = ()
        self._reload_lock = asyncio.Lock()
        self._update_gauges()


    def _update_gauges(self) -> None:
        self.metrics.gauges["o2replay_cassettes_loaded"] = len(self.live.cassettes)
        self.metrics.gauges["o2replay_interactions_loaded"] = self.live.interactions

    async def reload(self) -> LoadedSet:
        """Load the cassettes again in a worker thread, then swap them in; a bad file keeps the old set."""
        async with self._reload_lock:
            loop = asyncio.get_running_loop()
            cfg = self.config
            try:
                new = await loop.run_in_executor(None, lambda: load_set(
                    cfg.paths, cfg.match_on, use_cache=cfg.use_cache, page_size=cfg.page_size,
                    cache_dir=cfg.cache_dir))
            except ReplayerError as e:
                self.metrics.reloads["error"] += 1
                log.error("reload failed, still serving the previous cassettes: %s", e)
                raise
            self.live = new
            self.metrics.reloads["ok"] += 1
            self._update_gauges()
            log.info("reloaded %d cassettes, %d interactions", len(new.cassettes), new.interactions)
            return new

    def reset(self, session: str | None = None) -> None:
        """Rewind replay cursors (one session or all) and the synthetic model's state."""
        self.cursors.reset(session)
        self.overlays.reset(session)
        if self.synthetic is not None:
            self.synthetic.reset(session)
