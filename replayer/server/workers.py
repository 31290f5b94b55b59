"""Running the server: one process, or ``--workers N`` forked processes sharing the port (SO_REUSEPORT).

The parent loads and indexes the cassettes once (a bad file exits 2 before any fork), resolves the
port (0 picks a free one), forks the workers, waits until each is listening, prints the one banner and
forwards SIGTERM/SIGINT. Each worker has its own cursors and journal: send one session's sequence to one
worker (or run one worker) when sequence order matters. Metrics are counted per worker and added up by
the worker that answers ``/metrics`` (replayer/server/peers.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import shutil
import tempfile
import os
import signal
import socket
import ssl
import sys
from collections.abc import Callable
from typing import Any

from aiohttp import web

from replayer.errors import UsageError
from replayer.lifetime import die_with_parent
from replayer.server.announce import Banner, banner
from replayer.server.app import create_app
from replayer.server.config import ServeConfig
from replayer.server.inbound import INBOUND, KEEPALIVE_TIMEOUT, GuardedSite
from replayer.server.keys import RUNTIME
from replayer.server.logs import AccessLogger
from replayer.server.peers import peer_site, peer_socket
from replayer.server.runtime import log
from replayer.server.state import LoadedSet
from replayer.server.tls import resolve_tls, ssl_context

__all__ = ["serve_forever", "run_workers"]


def _has_docs(app: web.Application) -> bool:
    return any(getattr(r, "canonical", "") == "/docs" for r in app.router.resources())


def _url(host: str, port: int, scheme: str = "http") -> str:
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def _ssl(config: ServeConfig) -> ssl.SSLContext | None:
    """The server's TLS context (None: plain HTTP); UsageError for unusable files."""
    try:
        tls = resolve_tls(config)
        return ssl_context(tls) if tls is not None else None
    except ValueError as e:
        raise UsageError(str(e)) from None


async def serve_forever(config: ServeConfig, live: LoadedSet, *, port: int | None = None, reuse_port: bool = False,
                        on_ready: Callable[[str, bool], None] | None = None,
                        peers: tuple[str, tuple[str, ...]] | None = None) -> None:
    """Serve until SIGTERM or SIGINT, then shut down gracefully (in-flight requests finish).

    ``peers``: this worker's private socket and the other workers' (``--workers N``: /metrics adds up).
    """
    app = create_app(config, live=live)
    async with contextlib.AsyncExitStack() as stack:
        if peers is not None:
            app[RUNTIME].peers = peers[1]
            await stack.enter_async_context(peer_site(app[RUNTIME], peers[0]))
        await _serve(app, config, port, reuse_port, on_ready)


async def _serve(app: web.Application, config: ServeConfig, port: int | None, reuse_port: bool,
                 on_ready: Callable[[str, bool], None] | None) -> None:
    ctx = _ssl(config)
    # The loaded set is long-lived: move it out of the collector's generations so a full collection
    # does not walk 100k interactions in the middle of serving (a p99 spike otherwise). No gc.collect()
    # first: loading makes no cyclic garbage (a collect found none) and it costs 0.55 s at 100k.
    gc.freeze()
    access = log.getChild("access") if config.access_log else None
    runner = web.AppRunner(app, access_log=access, access_log_class=AccessLogger, handle_signals=False,
                           shutdown_timeout=10.0, keepalive_timeout=KEEPALIVE_TIMEOUT)
    await runner.setup()
    try:
        site = GuardedSite(runner, config.host, config.port if port is None else port, app[INBOUND],
                           reuse_port=reuse_port or None, backlog=1024, ssl_context=ctx)
        try:
            await site.start()
        except OSError as e:
            raise UsageError(f"cannot listen on {config.host}:{config.port}: {e.strerror or e}") from None
        bound = runner.addresses[0]
        url = _url(config.host, int(bound[1]), config.scheme)
        guard = app[RUNTIME].guard
        if guard is not None:
            guard.bind(url)
        if on_ready is not None:
            on_ready(url, _has_docs(app))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("shutting down (pid %d)", os.getpid())
    finally:
        await runner.cleanup()


def _resolve_port(host: str, port: int) -> socket.socket:
    """A bound (not listening) SO_REUSEPORT socket holding the port the workers will share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    return sock


def _child(config: ServeConfig, live: LoadedSet, port: int, ready_w: int, parent: int,
           peers: tuple[str, tuple[str, ...]]) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    die_with_parent(parent)

    def ready(url: str, docs: bool) -> None:
        os.write(ready_w, b"D" if docs else b"R")
        os.close(ready_w)

    code = 0
    try:
        asyncio.run(serve_forever(config, live, port=port, reuse_port=True, on_ready=ready, peers=peers))
    except BaseException as e:  # noqa: BLE001 - a worker reports and exits, never returns into the parent's code
        log.error("worker %d failed: %s", os.getpid(), e)
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_workers(config: ServeConfig, live: LoadedSet, announce: Callable[[Banner], Any]) -> int:
    """Fork ``config.workers`` processes on one port; returns the exit code once they have stopped."""
    holder = _resolve_port(config.host, config.port)
    port = holder.getsockname()[1]
    sockets = tempfile.mkdtemp(prefix="o2replay-workers-")
    try:
        return _run_workers(config, live, announce, holder, port, sockets)
    finally:
        shutil.rmtree(sockets, ignore_errors=True)


def _run_workers(config: ServeConfig, live: LoadedSet, announce: Callable[[Banner], Any], holder: socket.socket,
                 port: int, sockets: str) -> int:
    paths = [peer_socket(sockets, i) for i in range(config.workers)]
    pids: list[int] = []
    stopping: list[bool] = []

    def forward(signum: int, frame: Any) -> None:
        # Installed before the first fork: a SIGTERM during start-up stops the workers already forked too.
        stopping.append(True)
        _stop(pids)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    ready_r, ready_w = os.pipe()
    parent = os.getpid()
    for index in range(config.workers):
        pid = os.fork()
        if pid == 0:
            os.close(ready_r)
            holder.close()
            _child(config, live, port, ready_w, parent,
                   (paths[index], tuple(p for i, p in enumerate(paths) if i != index)))
        pids.append(pid)
        if stopping:
            _stop(pids)
    os.close(ready_w)
    flags = b""
    while len(flags) < len(pids) and not stopping:
        try:
            chunk = os.read(ready_r, 64)
        except InterruptedError:
            continue
        if not chunk:
            break  # a worker died before listening
        flags += chunk
    os.close(ready_r)
    holder.close()
    if len(flags) < len(pids) and not stopping:
        _stop(pids)
        _supervise(pids, stopping)
        log.error("a worker failed to start")
        return 1
    if not stopping:
        announce(banner(config, live, _url(config.host, port, config.scheme), b"D" in flags))
    return _supervise(pids, stopping)


def _stop(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def _supervise(pids: list[int], stopping: list[bool]) -> int:
    """Wait for the workers (the parent's SIGTERM/SIGINT handler stops them); one failing stops the rest."""
    code = 0
    alive = set(pids)
    while alive:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        alive.discard(pid)
        if os.waitstatus_to_exitcode(status) != 0 and not stopping:
            log.error("worker %d exited with %d; stopping the others", pid, os.waitstatus_to_exitcode(status))
            code = 1
            stopping.append(True)
            _stop(list(alive))
    return code
