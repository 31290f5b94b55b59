"""Typed application keys (``web.AppKey``) of the replay server."""

from __future__ import annotations

from aiohttp import web

from replayer.server.runtime import Runtime

__all__ = ["RUNTIME"]

#: The server's mutable runtime: config, the loaded set, cursors, journal, metrics, faults.
RUNTIME = web.AppKey("o2replay_runtime", Runtime)
