"""The catch-all replay handler: exact cassette hit, then derived answer, then synthetic or a strict miss.

The cassette hit is the hot path (issue 3, §10): one cached key lookup on (method, raw path), one dict
lookup in the index, a cursor step only for real sequences, and a ``web.Response`` over bytes and
headers prepared at load time. Everything else (faults, latency, derived, synthetic, misses) leaves the
hot path early.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from time import perf_counter
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from replayer.matching import RequestKey, key_from_parts, normalise_path
from replayer.o2ims.problem import PROBLEM_CONTENT_TYPE, problem_bytes
from replayer.server import faults as fault_io
from replayer.server.config import LatencyMode
from replayer.server.inbound import read_body
from replayer.server.o2ims_bridge import template_of
from replayer.server.runtime import Runtime, log
from replayer.server.state import INTERACTION, SOURCE
from replayer.synthetic import SynthRequest, SyntheticO2IMS

__all__ = ["Answer", "ReplayHandler", "unauthorised", "json_response", "problem_response", "SESSION_HEADER"]

SESSION_HEADER = "X-Replay-Session"
_KEY_CACHE_MAX = 50_000


def unauthorised(path: str, detail: str = "a valid bearer token is required") -> web.Response:
    """401 ProblemDetails with ``WWW-Authenticate: Bearer``."""
    return problem_response(401, detail, path, "auth", headers={"WWW-Authenticate": 'Bearer realm="o2ims"'})


def problem_response(status: int, detail: str, path: str, source: str, extra: Mapping[str, Any] | None = None,
                     headers: Mapping[str, str] | None = None) -> web.Response:
    """An RFC 7807 ``application/problem+json`` response, marked with where it came from."""
    return web.Response(status=status, body=problem_bytes(status, detail, instance=path, extra=extra),
                        content_type=PROBLEM_CONTENT_TYPE, headers={**(headers or {}), SOURCE: source})


@dataclass(frozen=True, slots=True)
class Answer:
    """A computed response, where it came from, its route template and the recorded duration (for latency)."""

    response: web.Response
    source: str
    template: str
    duration: float | None = None


class ReplayHandler:
    """``handle(request)`` answers every path the admin API does not own."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def _key(self, request: web.Request, method: str, raw: str, body: bytes) -> RequestKey:
        rt = self.rt
        path, _, qs = raw.partition("?")
        headers = {k.lower(): v for k, v in request.headers.items()} if rt.config.match_on.headers else None
        return key_from_parts(rt.config.match_on, method, path, qs, body, headers,
                              request.host.split(":", 1)[0] if rt.config.match_on.host else "", request.scheme)

    def _cached_key(self, request: web.Request, method: str, raw: str) -> RequestKey:
        """The key of a body-less request, memoised on (method, raw path and query)."""
        cache = self.rt.key_cache
        key = self._key(request, method, raw, b"")
        if len(cache) >= _KEY_CACHE_MAX:
            cache.clear()
        cache[(method, raw)] = key
        return key

    async def _key_and_body(self, request: web.Request) -> tuple[RequestKey, bytes]:
        method, raw = request.method, request.raw_path
        if self.rt.simple_keys and not request.body_exists:
            return self.rt.key_cache.get((method, raw)) or self._cached_key(request, method, raw), b""
        body = await read_body(request)
        return self._key(request, method, raw, body), body

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one request; the cassette hit without faults or latency is the inlined hot path."""
        t0 = perf_counter()
        rt = self.rt
        if rt.guard is not None and (refused := await rt.guard.check(request)) is not None:
            return self._done(refused, "auth", "", t0)
        if rt.faults.active or rt.latency_on:
            return await self._handle_slow(request, t0)
        method = request.method
        raw = request.raw_path
        body = b""
        if rt.simple_keys and not request.body_exists:
            key = rt.key_cache.get((method, raw)) or self._cached_key(request, method, raw)
        else:
            body = await read_body(request)
            key = self._key(request, method, raw, body)
        session = request.headers.get(SESSION_HEADER) or "default"
        seq = rt.live.index.sequences.get(key)
        if seq is not None:
            rec = seq[0] if len(seq) == 1 and rt.single_repeats else rt.cursors.pick(session, key, seq)
            if rec is not None:
                p = rec.payload
                resp = web.Response(body=p.body, status=p.status, reason=p.reason, headers=p.headers)
                resp.headers[INTERACTION] = p.interaction
                rt.metrics.observe("cassette", p.template or p.route(), p.status, perf_counter() - t0)
                rt.journal.record(session, method, raw, p.status, "cassette", p.interaction)
                return resp
        answer = await self._not_recorded(request, session, key, body, exhausted=seq is not None)
        return self._done(answer.response, answer.source, answer.template, t0)

    async def _handle_slow(self, request: web.Request, t0: float) -> web.StreamResponse:
        """Faults and latency (§7). A status or reset fault fires before anything is answered, so it
        changes no state (no cursor step, no synthetic side effect); delay and truncation wrap the answer."""
        rt = self.rt
        path = normalise_path(request.raw_path.partition("?")[0])
        rule = rt.faults.match(request.method, path) if rt.faults.active else None
        delay = rule.delay_ms / 1000 if rule is not None else 0.0
        if rule is not None and (rule.reset or rule.status is not None):
            if delay > 0:
                await asyncio.sleep(delay)
            session = request.headers.get(SESSION_HEADER) or "default"
            if rule.reset:
                rt.journal.record(session, request.method, request.raw_path, 0, "fault", "connection reset")
                rt.metrics.observe("fault", template_of(path), 0, perf_counter() - t0)
                return await fault_io.reset_connection(request)
            injected = fault_io.inject_status(rule, request.path)
            rt.journal.record(session, request.method, request.raw_path, injected.status, "fault")
            return self._done(injected, "fault", template_of(path), t0)
        key, body = await self._key_and_body(request)
        answer = await self._answer(request, request.headers.get(SESSION_HEADER) or "default", key, body)
        delay += _latency_seconds(rt, answer.duration)
        if delay > 0:
            await asyncio.sleep(delay)
        if rule is not None and rule.truncate:
            rt.metrics.observe("fault", answer.template, answer.response.status, perf_counter() - t0)
            return await fault_io.send_truncated(request, answer.response)
        return self._done(answer.response, answer.source, answer.template, t0)

    async def _answer(self, request: web.Request, session: str, key: RequestKey, body: bytes) -> Answer:
        """The answer without the hot path's shortcuts: cassette, then everything else."""
        rt = self.rt
        seq = rt.live.index.sequences.get(key)
        if seq is not None:
            rec = rt.cursors.pick(session, key, seq)
            if rec is not None:
                p = rec.payload
                resp = web.Response(body=p.body, status=p.status, reason=p.reason, headers=p.headers)
                resp.headers[INTERACTION] = p.interaction
                rt.journal.record(session, request.method, request.raw_path, p.status, "cassette", p.interaction)
                return Answer(resp, "cassette", p.template or p.route(), p.duration)
        return await self._not_recorded(request, session, key, body, exhausted=seq is not None)

    # ----------------------------------------------------------------------- not a cassette hit

    async def _not_recorded(self, request: web.Request, session: str, key: RequestKey, body: bytes, *,
                            exhausted: bool) -> Answer:
        rt = self.rt
        method = request.method
        path = normalise_path(request.raw_path.partition("?")[0])
        if exhausted:
            detail = f"every recorded response to {method} {request.path_qs} was played (on_exhausted: 404)"
            rt.journal.record_miss(session, method, request.raw_path, 404, "exhausted", ())
            return Answer(problem_response(404, detail, request.path, "exhausted"), "exhausted", template_of(path))
        if method == "HEAD" and key[0] == "HEAD":  # RFC 9110 9.3.2: HEAD is GET without the body
            get_key = ("GET", *key[1:])
            if get_key in rt.live.index.sequences:
                return await self._answer(request, session, get_key, body)
        if method in ("GET", "HEAD"):
            query = parse_qsl(request.raw_path.partition("?")[2], keep_blank_values=True)
            d = rt.live.derived.answer(path, query, f"{request.scheme}://{request.host}")
            # An id missing from a recorded collection is a 404 (the recording is authoritative), except in a
            # collection consumers create objects in (subscriptions, provisioning requests): the object may
            # have been created in the synthetic model this session, so without --strict it falls through.
            if d is not None and d.creatable and rt.synthetic is not None and not rt.config.strict:
                d = None
            if d is not None:
                headers = {SOURCE: "derived", "X-Replay-Derived-From": d.source, **dict(d.headers)}
                resp = web.Response(status=d.status, body=d.body, content_type=d.content_type, headers=headers)
                rt.journal.record(session, method, request.raw_path, d.status, "derived", d.source)
                return Answer(resp, "derived", template_of(path))
        if rt.synthetic is not None and not rt.config.strict:
            return await self._synthetic(request, rt.synthetic, session, path, body)
        return self._miss(request, session, key, path)

    async def _synthetic(self, request: web.Request, model: SyntheticO2IMS, session: str, path: str,
                         body: bytes) -> Answer:
        if not body and request.body_exists:
            body = await read_body(request)
        sreq = SynthRequest(
            method=request.method, path=request.path,
            query=tuple(parse_qsl(request.raw_path.partition("?")[2], keep_blank_values=True)),
            headers={k.lower(): v for k, v in request.headers.items()}, body=body, session=session,
            base_url=f"{request.scheme}://{request.host}")
        sresp = model.handle(sreq)
        headers = {k: v for k, v in sresp.headers.items() if k.lower() != "content-length"}
        headers[SOURCE] = "synthetic"
        resp = web.Response(status=sresp.status, body=sresp.body, headers=headers)
        self.rt.journal.record(session, request.method, request.raw_path, sresp.status, "synthetic")
        return Answer(resp, "synthetic", template_of(path))

    def _miss(self, request: web.Request, session: str, key: RequestKey, path: str) -> Answer:
        rt = self.rt
        near = tuple(rt.live.index.nearest(key))
        status = rt.config.miss_status
        detail = f"no recorded interaction matches {request.method} {request.path_qs}"
        log.warning("%s; nearest: %s", detail,
                    "; ".join(f"{n.source} ({', '.join(n.differences) or 'same'})" for n in near) or "none")
        resp = problem_response(status, detail, request.path, "miss",
                        {"nearest": [n.to_dict() for n in near], "matchOn": str(rt.config.match_on)})
        rt.journal.record(session, request.method, request.raw_path, status, "miss")
        rt.journal.record_miss(session, request.method, request.raw_path, status, "miss", near)
        return Answer(resp, "miss", template_of(path))

    def _done(self, resp: web.StreamResponse, source: str, template: str, t0: float) -> web.StreamResponse:
        self.rt.metrics.observe(source, template, resp.status, perf_counter() - t0)
        return resp


def _latency_seconds(rt: Runtime, recorded: float | None) -> float:
    lat = rt.config.latency
    if lat.mode is LatencyMode.RECORDED:
        return recorded or 0.0
    if lat.mode is LatencyMode.FIXED:
        return lat.low_ms / 1000
    if lat.mode is LatencyMode.RANGE:
        return random.uniform(lat.low_ms, lat.high_ms) / 1000
    return 0.0


def json_response(doc: Any, status: int = 200) -> web.Response:
    """A JSON response (admin API)."""
    return web.Response(status=status, body=json.dumps(doc, indent=2).encode(), content_type="application/json")
