"""What the server accepts from a client, and how long it waits: the limits every connection meets.

- ``--max-connections``: open client connections at once. One more is answered ``503`` (a
  ProblemDetails with ``Retry-After: 1``) and closed, so a flood of idle sockets cannot use up the
  process's file descriptors.
- ``--header-timeout``: a new connection must deliver a complete request head (request line and
  headers) within this many seconds, or it is closed; slow or silent clients (half-open sockets,
  slowloris) cannot hold a connection. Between requests on a kept-alive connection aiohttp's
  idle timeout applies (``KEEPALIVE_TIMEOUT``).
- ``--body-timeout``: once the head is in, the body must arrive within this many seconds, else
  ``408``.
- A body that does not decode under its ``Content-Encoding`` is a ``400``, as is a JSON body that
  nests deeper than ``replayer.limits.MAX_DEPTH``.

Each limit logs one warning line when it is hit (at most one per second for connection floods).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, cast

from aiohttp import web
from aiohttp.web_protocol import RequestHandler, RequestPayloadError
from aiohttp.web_request import BaseRequest

from replayer.limits import DepthError, check_json_depth
from replayer.o2ims.problem import PROBLEM_CONTENT_TYPE, build_problem

__all__ = ["InboundLimits", "GuardedSite", "read_body", "INBOUND", "KEEPALIVE_TIMEOUT"]

log = logging.getLogger("replayer.server")

#: Seconds an idle kept-alive connection stays open between requests (aiohttp's keepalive_timeout).
KEEPALIVE_TIMEOUT = 75.0


@dataclass(frozen=True, slots=True)
class InboundLimits:
    """Connection and read limits (``--max-connections``, ``--header-timeout``, ``--body-timeout``)."""

    max_connections: int = 1000
    header_timeout: float = 10.0
    body_timeout: float = 30.0


#: The limits of the running server, for handlers that read bodies.
INBOUND = web.AppKey("o2replay_inbound_limits", InboundLimits)


def _problem(error: type[web.HTTPException], status: int, detail: str, path: str) -> web.HTTPException:
    """A ProblemDetails raised as an aiohttp HTTPException; the connection closes after it."""
    exc = error(text=build_problem(status, detail, path=path).body.decode("ascii"),
                 content_type=PROBLEM_CONTENT_TYPE, headers={"X-Replay-Source": "request"})
    exc.force_close()
    return exc


async def read_body(request: web.Request) -> bytes:
    """The request body, within the body timeout; raises a 400 or 408 ProblemDetails (an HTTPException)."""
    limits = request.config_dict.get(INBOUND) or InboundLimits()
    try:
        async with asyncio.timeout(limits.body_timeout):
            body = await request.read()
    except TimeoutError:
        log.warning("body timeout: %s %s from %s sent no complete body within %gs (--body-timeout); "
                    "answered 408", request.method, request.path, request.remote, limits.body_timeout)
        raise _problem(web.HTTPRequestTimeout, 408,
                       f"the request body did not arrive within {limits.body_timeout:g} seconds",
                       request.path) from None
    except RequestPayloadError as e:
        reason = " ".join(str(e).split()).removeprefix("400, message: ")
        encoding = request.headers.get("Content-Encoding", "")
        # The rest of the body is unreadable: end it here, so aiohttp does not drain it after the answer
        # (its lingering read would raise the same error again and log a traceback).
        request.content.feed_eof()
        raise _problem(web.HTTPBadRequest, 400,
                       f"the request body cannot be read as Content-Encoding {encoding!r}: {reason}",
                       request.path) from None
    if body[:1] in (b"{", b"[") or body.lstrip()[:1] in (b"{", b"["):
        try:
            check_json_depth(body, what="the JSON request body")
        except DepthError as e:
            raise _problem(web.HTTPBadRequest, 400, str(e), request.path) from None
    return body


# --------------------------------------------------------------------------- connections

_FULL = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
         b"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s")


class _Guard:
    """Counts the open connections of one site and rate-limits the warnings."""

    def __init__(self, limits: InboundLimits) -> None:
        self.limits = limits
        self.open = 0
        self.refused = 0
        self.timed_out = 0
        self._last_warning = 0.0

    def warn(self, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._last_warning >= 1.0:
            self._last_warning = now
            log.warning(message, *args)


class _GuardedProtocol(asyncio.Protocol):
    """Wraps aiohttp's per-connection protocol: counts it, refuses it when full, times its first head."""

    def __init__(self, guard: _Guard, make: Any) -> None:
        self._guard = guard
        self._make = make
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._head = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        g = self._guard
        self._transport = cast(asyncio.Transport, transport)
        if g.open >= g.limits.max_connections:
            g.refused += 1
            g.warn("connection limit: %d connections open (--max-connections); refusing new ones with 503 "
                   "(%d refused so far)", g.open, g.refused)
            body = build_problem(503, f"the server has {g.open} open connections, its limit "
                                      "(--max-connections); retry shortly").body
            self._transport.write(_FULL % (len(body), body))
            self._transport.close()
            return
        g.open += 1
        self._inner = self._make()
        self._inner.connection_made(transport)
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(g.limits.header_timeout, self._head_timeout)

    def _head_timeout(self) -> None:
        self._timer = None
        if self._transport is None or self._transport.is_closing():
            return
        g = self._guard
        g.timed_out += 1
        peer = self._transport.get_extra_info("peername")
        g.warn("header timeout: closed a connection from %s that sent no complete request head within %gs "
               "(--header-timeout; %d so far)", peer[0] if peer else "?", g.limits.header_timeout, g.timed_out)
        self._transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._timer is not None:
            # Keep only the tail a head's end could straddle; the head ends at the first blank line.
            self._head = self._head[-3:] + data
            if b"\r\n\r\n" in self._head or b"\n\n" in self._head:
                self._timer.cancel()
                self._timer = None
                self._head = b""
        if self._inner is not None:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._inner is not None:
            self._guard.open -= 1
            inner, self._inner = self._inner, None
            inner.connection_lost(exc)


class _ProblemRequestHandler(RequestHandler):
    """aiohttp's connection handler, answering malformed HTTP with a ProblemDetails and one log line."""

    def handle_error(self, request: BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        """A 4xx for a request aiohttp could not parse (bad framing, oversized line or header, bad method)."""
        if status >= 500:  # a fault of ours: keep aiohttp's handling and its traceback in the log
            return super().handle_error(request, status, exc, message)
        detail = " ".join(str(exc if exc is not None else message or "bad request").split())
        detail = detail.removeprefix(f"{status}, message: ").removesuffix(" ^")
        log.warning("bad request from %s answered %d: %s", request.remote, status, detail)
        if request.writer.output_size > 0:
            raise ConnectionError("a response was already sent; cannot send the error")
        resp = web.Response(status=status, body=build_problem(status, f"malformed HTTP request: {detail}").body,
                            content_type=PROBLEM_CONTENT_TYPE, headers={"X-Replay-Source": "request"})
        resp.force_close()
        return resp


def _handler_factory(server: web.Server) -> Any:
    """Makes ``_ProblemRequestHandler`` as ``web.Server.__call__`` makes RequestHandler (web_server.py)."""
    loop, kwargs = server._loop, server._kwargs  # noqa: SLF001 - aiohttp has no public hook for this
    return lambda: _ProblemRequestHandler(server, loop=loop, **kwargs)


class GuardedSite(web.TCPSite):
    """``web.TCPSite`` whose connections meet ``InboundLimits`` (count, first head deadline)."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, limits: InboundLimits, **kwargs: Any) -> None:
        super().__init__(runner, host, port, **kwargs)
        self.guard = _Guard(limits)

    async def start(self) -> None:
        """Listen, wrapping the runner's protocol factory."""
        await web.BaseSite.start(self)  # registers the site with its runner
        server = self._runner.server
        assert server is not None
        guard, make = self.guard, _handler_factory(server)
        loop = asyncio.get_running_loop()
        # As web.TCPSite.start, with the factory wrapped (aiohttp/web_runner.py, TCPSite.start).
        self._server = await loop.create_server(
            lambda: _GuardedProtocol(guard, make), self._host, self._port, ssl=self._ssl_context,
            backlog=self._backlog, reuse_address=self._reuse_address, reuse_port=self._reuse_port)
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port
