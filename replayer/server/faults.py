"""Fault injection per route (issue 3, §7): an error status, a delay, a connection reset, a truncated body.

Rules come from ``replay.faults`` in ``.o2replay.yaml`` or from ``/__admin/faults``; a rule matches on a
path glob (``fnmatch``, against the normalised path) and an optional method. ``times`` limits a rule to
the first N matching requests, so a consumer's retry can be tested (fail once, then succeed).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from aiohttp import web

from replayer.o2ims.dialect import Dialect
from replayer.o2ims.problem import build_problem
from replayer.o2ims.routes import template_of
from replayer.server.answer import Answer, problem_answer
from replayer.server.request import ParsedRequest
from replayer.server.config import FaultRule

__all__ = ["Faults", "ActiveFault", "inject_status", "reset_connection", "send_truncated"]


@dataclass(slots=True)
class ActiveFault:
    """A rule as installed, with its id and how many times it may still fire."""

    id: int
    rule: FaultRule
    remaining: int | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form shown by ``GET /__admin/faults``."""
        return {"id": self.id, **self.rule.to_dict(), "remaining": self.remaining}


class Faults:
    """The installed fault rules, checked in order; the first that matches fires."""

    def __init__(self, rules: Iterable[FaultRule] = (), *, rng: random.Random | None = None) -> None:
        self._ids = itertools.count(1)
        self.active: list[ActiveFault] = []
        self._rng = rng or random.Random()
        for rule in rules:
            self.add(rule)

    def __bool__(self) -> bool:
        return bool(self.active)

    def add(self, rule: FaultRule) -> ActiveFault:
        """Install a rule; returns it with its id."""
        fault = ActiveFault(next(self._ids), rule, rule.times)
        self.active.append(fault)
        return fault

    def remove(self, fault_id: int) -> bool:
        """Remove one rule by id; False when there is none."""
        before = len(self.active)
        self.active = [f for f in self.active if f.id != fault_id]
        return len(self.active) != before

    def clear(self) -> None:
        """Remove every rule."""
        self.active = []

    def match(self, method: str, path: str) -> FaultRule | None:
        """The rule that fires for this request, if any (consumes one of its ``times``)."""
        for fault in self.active:
            rule = fault.rule
            if rule.method and rule.method != method:
                continue
            if not fnmatchcase(path, rule.path):
                continue
            if fault.remaining is not None:
                if fault.remaining <= 0:
                    continue
                fault.remaining -= 1
            if rule.probability < 1 and self._rng.random() >= rule.probability:
                continue
            return rule
        return None


def inject_status(rule: FaultRule, req: ParsedRequest, dialect: Dialect) -> Answer:
    """The error answer of a status fault, as ProblemDetails."""
    assert rule.status is not None
    problem = build_problem(rule.status, f"fault injected by o2ims-replay for {req.path}", dialect=dialect,
                            path=req.path, base_url=req.base_url)
    return problem_answer(problem, "fault", template=template_of(req.path))


def _abort(request: web.Request, *, rst: bool) -> None:
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if rst and sock is not None:
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN: a real "connection reset".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def reset_connection(request: web.Request) -> web.StreamResponse:
    """Reset the client's connection without an answer."""
    _abort(request, rst=True)
    raise asyncio.CancelledError  # nothing more to send on this connection


async def send_truncated(request: web.Request, response: web.Response) -> web.StreamResponse:
    """Send the headers with the full Content-Length, then half the body, then close the connection."""
    body = bytes(response.body) if isinstance(response.body, (bytes, bytearray)) else b""
    stream = web.StreamResponse(status=response.status, reason=response.reason, headers=response.headers)
    stream.content_length = len(body)
    await stream.prepare(request)
    await stream.write(body[: len(body) // 2])
    _abort(request, rst=False)
    raise asyncio.CancelledError
