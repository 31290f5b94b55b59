"""``/metrics`` under ``--workers N``: the worker that answers a scrape adds up every worker's counts.

Each worker also listens on a private Unix socket (in a folder the parent makes and removes) serving one
route, its own metrics as JSON. A scrape of ``/metrics`` on the shared port reaches one worker; it asks
the others over their sockets and renders the sum. Why not prometheus_client's multiprocess mode: that
puts a lock and an mmap write in every request's counting (the hot path keeps plain dict updates here),
adds a dependency, and needs dead-process bookkeeping; and why not the parent: the parent owns no
listening socket (the workers share the port with SO_REUSEPORT), so it never sees the scrape. Counts are
exact at scrape time; a worker that does not answer within the timeout is left out and counted in
``o2replay_workers_unreachable``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from replayer.server.metrics import Metrics
from replayer.server.runtime import Runtime, log

__all__ = ["PEER_TIMEOUT", "peer_socket", "peer_site", "merged_metrics"]

#: Seconds to wait for another worker's counts.
PEER_TIMEOUT = 2.0
_ROUTE = "/worker/metrics"


def peer_socket(folder: str | Path, index: int) -> str:
    """The Unix socket path of worker ``index``."""
    return str(Path(folder) / f"worker-{index}.sock")


@contextlib.asynccontextmanager
async def peer_site(rt: Runtime, path: str) -> AsyncIterator[None]:
    """Serve this worker's metrics on its private socket while the block runs."""

    async def own(request: web.Request) -> web.StreamResponse:
        return web.json_response(rt.metrics.snapshot())

    app = web.Application()
    app.router.add_get(_ROUTE, own)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.UnixSite(runner, path).start()
        yield
    finally:
        await runner.cleanup()


async def _fetch(path: str) -> dict[str, Any] | None:
    try:
        timeout = aiohttp.ClientTimeout(total=PEER_TIMEOUT)
        async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=path), timeout=timeout) as s:
            async with s.get(f"http://worker{_ROUTE}") as resp:
                resp.raise_for_status()
                doc: dict[str, Any] = await resp.json()
                return doc
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as e:
        log.warning("worker metrics at %s not available: %s", path, e)
        return None


async def merged_metrics(rt: Runtime) -> Metrics:
    """This worker's metrics plus every other worker's (``rt.peers``), added up."""
    snaps = await asyncio.gather(*(_fetch(p) for p in rt.peers))
    total = Metrics.merged([rt.metrics.snapshot(), *(s for s in snaps if s is not None)])
    total.gauges["o2replay_workers_reporting"] = 1 + sum(s is not None for s in snaps)
    total.gauges["o2replay_workers_unreachable"] = sum(s is None for s in snaps)
    return total
