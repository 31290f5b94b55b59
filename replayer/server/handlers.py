"""The catch-all replay handler: exact cassette hit, then derived answer, then synthetic or a strict miss.

The cassette hit is the hot path: one cached key lookup on (method, raw path), one dict lookup in the index, a
cursor step only for real sequences, and an ``Answer`` over bytes and headers prepared at load time. Everything
else (authentication, faults, latency, a session's writes, derived, synthetic, misses) parses the request
once (``ParsedRequest``) and leaves the hot path early. Access control (tokens, OAuth2, mutual TLS) runs
first, in ``oauth.Guard``. Every answer is rendered by ``answer.render``.
"""

from __future__ import annotations

import asyncio
import random
from time import perf_counter

from aiohttp import web

from replayer.matching import RequestKey, key_from_parts
from replayer.o2ims.problem import build_problem
from replayer.o2ims.routes import normalise_path, template_of
from replayer.record.redact import safe_uri
from replayer.server import faults as fault_io
from replayer.server.answer import (
    DERIVED_FROM,
    SESSION_HEADER,
    Answer,
    problem_answer,
    render,
)
from replayer.server.config import LatencyMode
from replayer.server.derived import DerivedAnswer, brought_up_to_date
from replayer.server.request import ParsedRequest, base_url_of, parse_request
from replayer.server.rewrite import rewrite_body, rewrite_headers
from replayer.server.inbound import read_body
from replayer.server.runtime import Runtime, log
from replayer.server.state import Prepared
from replayer.synthetic import SynthRequest, SyntheticO2IMS

__all__ = ["ReplayHandler"]

_KEY_CACHE_MAX = 50_000
_READS = ("GET", "HEAD")


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
        """Answer one request; the cassette hit without auth, faults, latency or session writes is inlined."""
        t0 = perf_counter()
        rt = self.rt
        if rt.guard is not None and (refused := await rt.guard.check(request, rt.dialect)) is not None:
            return self._done(refused, t0)
        if rt.faults.active or rt.latency_on or rt.overlays.by_session:
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
                base = self._base(request) if p.recorded_base and rt.config.rewrite_urls else ""
                answer = self._hit(p, base)
                rt.metrics.observe("cassette", answer.template, answer.status, perf_counter() - t0)
                rt.journal.record(session, method, raw, answer.status, "cassette", answer.interaction)
                if method not in _READS:
                    rt.overlays.note(session, method, normalise_path(raw.partition("?")[0]), answer.status,
                                     answer.body, answer.interaction)
                return render(answer)
        parsed = parse_request(request, body or await read_body(request), session)
        answer = await self._not_recorded(parsed, key, exhausted=seq is not None)
        return self._done(answer, t0)

    @staticmethod
    def _base(request: web.Request) -> str:
        return base_url_of({k.lower(): v for k, v in request.headers.items()}, request.scheme, request.host)

    @staticmethod
    def _hit(p: Prepared, base: str) -> Answer:
        """The answer of a recorded interaction; with ``base``, its recorded address becomes that one."""
        answer = Answer(p.status, p.body, "cassette", p.headers, reason=p.reason,
                        template=p.template or p.route(), duration=p.duration, interaction=p.interaction)
        if base and p.recorded_base and base != p.recorded_base:
            answer.body = rewrite_body(p.body, p.recorded_base, base)
            answer.headers = rewrite_headers(p.headers, p.recorded_base, base)
        return answer

    def _replay(self, req: ParsedRequest, key: RequestKey, p: Prepared) -> Answer:
        """A cassette hit off the hot path: journal it and note its write."""
        answer = self._hit(p, req.base_url if self.rt.config.rewrite_urls else "")
        self.rt.journal.record(req.session, req.method, req.raw_path, answer.status, "cassette", answer.interaction)
        self.rt.overlays.note(req.session, req.method, req.path, answer.status, answer.body, answer.interaction)
        return answer

    async def _handle_slow(self, request: web.Request, t0: float) -> web.StreamResponse:
        """Faults, latency and a session's writes. A status or reset fault fires before anything is answered, so
        it changes no state (no cursor step, no synthetic side effect); delay and truncation wrap the answer."""
        rt = self.rt
        key, body = await self._key_and_body(request)
        req = parse_request(request, body, request.headers.get(SESSION_HEADER) or "default")
        rule = rt.faults.match(req.method, req.path) if rt.faults.active else None
        delay = rule.delay_ms / 1000 if rule is not None else 0.0
        if rule is not None and (rule.reset or rule.status is not None):
            if delay > 0:
                await asyncio.sleep(delay)
            if rule.reset:
                rt.journal.record(req.session, req.method, req.raw_path, 0, "fault", "connection reset")
                rt.metrics.observe("fault", template_of(req.path), 0, perf_counter() - t0)
                return await fault_io.reset_connection(request)
            injected = fault_io.inject_status(rule, req, rt.dialect)
            rt.journal.record(req.session, req.method, req.raw_path, injected.status, "fault")
            return self._done(injected, t0)
        answer = await self._answer(req, key)
        delay += _latency_seconds(rt, answer.duration)
        if delay > 0:
            await asyncio.sleep(delay)
        if rule is not None and rule.truncate:
            rt.metrics.observe("fault", answer.template, answer.status, perf_counter() - t0)
            return await fault_io.send_truncated(request, render(answer))
        return self._done(answer, t0)

    async def _answer(self, req: ParsedRequest, key: RequestKey) -> Answer:
        """The answer without the hot path's shortcuts: cassette (brought up to date with the session's
        writes), then everything else."""
        rt = self.rt
        seq = rt.live.index.sequences.get(key)
        if seq is not None:
            rec = rt.cursors.pick(req.session, key, seq)
            if rec is not None:
                answer = self._replay(req, key, rec.payload)
                overlay = rt.overlays.get(req.session) if req.method in _READS else None
                if (overlay is not None and answer.status == 200 and overlay.touches(req.path)
                        and not overlay.recorded_after(req.path, answer.interaction)):
                    fresh = brought_up_to_date(req, answer.body, rt.dialect, overlay)
                    if fresh is not None:
                        return self._derived_answer(req, fresh)
                return answer
        return await self._not_recorded(req, key, exhausted=seq is not None)

    # ----------------------------------------------------------------------- not a cassette hit

    def _problem(self, req: ParsedRequest, status: int, detail: str, source: str,
                 extra: dict[str, object] | None = None) -> Answer:
        p = build_problem(status, detail, dialect=self.rt.dialect, path=req.path, base_url=req.base_url,
                          extra=extra)
        return problem_answer(p, source, template=template_of(req.path))

    def _derived(self, req: ParsedRequest) -> Answer | None:
        rt = self.rt
        d = rt.live.derived.answer(req, rt.dialect, rt.overlays.get(req.session), rt.config.rewrite_urls)
        # An id missing from a recorded collection is a 404 (the recording is authoritative), except in a
        # collection consumers create objects in (subscriptions, provisioning requests): the object may
        # have been created in the synthetic model this session, so without --strict it falls through.
        if d is None or (d.creatable and rt.synthetic is not None and not rt.config.strict):
            return None
        rt.journal.record(req.session, req.method, req.raw_path, d.status, "derived", d.source)
        return self._derived_answer(req, d)

    @staticmethod
    def _derived_answer(req: ParsedRequest, d: DerivedAnswer) -> Answer:
        headers = {"Content-Type": d.content_type, DERIVED_FROM: d.source, **dict(d.headers)}
        return Answer(d.status, d.body, "derived", headers, reason=d.reason, template=template_of(req.path))

    async def _not_recorded(self, req: ParsedRequest, key: RequestKey, *, exhausted: bool) -> Answer:
        rt = self.rt
        if exhausted:
            detail = f"every recorded response to {req.method} {req.path_qs} was played (on_exhausted: 404)"
            rt.journal.record_miss(req.session, req.method, req.raw_path, 404, "exhausted", ())
            return self._problem(req, 404, detail, "exhausted")
        if req.method == "HEAD" and key[0] == "HEAD":  # RFC 9110 9.3.2: HEAD is GET without the body
            get_key = ("GET", *key[1:])
            if get_key in rt.live.index.sequences:
                seq = rt.live.index.sequences[get_key]
                rec = rt.cursors.pick(req.session, get_key, seq)
                if rec is not None:
                    return self._replay(req, get_key, rec.payload)
        if req.method in _READS:
            derived = self._derived(req)
            if derived is not None:
                return derived
        if rt.synthetic is not None and not rt.config.strict:
            return self._synthetic(req, rt.synthetic)
        return self._miss(req, key)

    def _synthetic(self, req: ParsedRequest, model: SyntheticO2IMS) -> Answer:
        sreq = SynthRequest(method=req.method, path=req.decoded_path, query=req.query, headers=req.headers,
                            body=req.body, session=req.session, base_url=req.base_url,
                            raw_query=req.raw_query)
        sresp = model.handle(sreq)
        headers = {k: v for k, v in sresp.headers.items() if k.lower() != "content-length"}
        self.rt.journal.record(req.session, req.method, req.raw_path, sresp.status, "synthetic")
        self.rt.overlays.note(req.session, req.method, req.path, sresp.status, sresp.body)
        return Answer(sresp.status, sresp.body, "synthetic", headers, reason=sresp.reason,
                      template=template_of(req.path))

    def _miss(self, req: ParsedRequest, key: RequestKey) -> Answer:
        rt = self.rt
        near = tuple(rt.live.index.nearest(key))
        status = rt.config.miss_status
        detail = f"no recorded interaction matches {req.method} {safe_uri(req.path_qs)}"
        log.warning("%s; nearest: %s", detail,
                    "; ".join(f"{n.source} ({', '.join(n.differences) or 'same'})" for n in near) or "none")
        answer = self._problem(req, status, detail, "miss",
                               {"nearest": [n.to_dict() for n in near], "matchOn": str(rt.config.match_on)})
        rt.journal.record(req.session, req.method, req.raw_path, status, "miss")
        rt.journal.record_miss(req.session, req.method, req.raw_path, status, "miss", near)
        return answer

    def _done(self, answer: Answer, t0: float) -> web.StreamResponse:
        self.rt.metrics.observe(answer.source, answer.template, answer.status, perf_counter() - t0)
        return render(answer)


def _latency_seconds(rt: Runtime, recorded: float | None) -> float:
    lat = rt.config.latency
    if lat.mode is LatencyMode.RECORDED:
        return recorded or 0.0
    if lat.mode is LatencyMode.FIXED:
        return lat.low_ms / 1000
    if lat.mode is LatencyMode.RANGE:
        return random.uniform(lat.low_ms, lat.high_ms) / 1000
    return 0.0
