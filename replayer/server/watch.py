"""``--watch``: reload the cassettes when a file under the served paths changes (issue 3, §6).

Polling (stat of every cassette file, no extra dependency). A change is acted on once two polls agree,
then the whole set is loaded in a thread and swapped in; a file that does not parse (half-written by a
non-atomic writer, or broken) keeps the old set and logs one line, and is retried when it changes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from aiohttp import web

from replayer.cassettes.files import find_cassettes
from replayer.errors import ReplayerError
from replayer.server.keys import RUNTIME
from replayer.server.runtime import Runtime, log

__all__ = ["fingerprint", "watch_ctx", "watch_loop"]


def fingerprint(paths: Iterable[str | Path]) -> tuple[tuple[str, int, int], ...]:
    """(file, mtime_ns, size) of every cassette file under ``paths``."""
    out = []
    for raw in paths:
        try:
            files = [f for f, _ in find_cassettes([raw])]
        except ReplayerError:
            continue  # a missing folder is not a change to act on
        for f in files:
            with contextlib.suppress(OSError):
                st = os.stat(f)
                out.append((str(f), st.st_mtime_ns, st.st_size))
    return tuple(sorted(out))


async def watch_loop(rt: Runtime, interval: float) -> None:
    """Poll forever (until cancelled); reload on a settled change."""
    loop = asyncio.get_running_loop()
    paths = rt.config.paths
    last = await loop.run_in_executor(None, fingerprint, paths)
    while True:
        await asyncio.sleep(interval)
        now = await loop.run_in_executor(None, fingerprint, paths)
        if now == last:
            continue
        await asyncio.sleep(min(interval, 0.2))  # let a writer finish: act once two polls agree
        settled = await loop.run_in_executor(None, fingerprint, paths)
        if settled != now:
            continue
        last = settled
        log.info("cassettes changed on disk, reloading")
        with contextlib.suppress(ReplayerError):  # logged by reload; the old set keeps serving
            await rt.reload()


async def watch_ctx(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx`` entry running ``watch_loop`` for the app's lifetime."""
    rt = app[RUNTIME]
    task = asyncio.create_task(watch_loop(rt, rt.config.watch_interval))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
