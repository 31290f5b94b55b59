"""Requests and answers of the synthetic O2IMS, and the builders every answer goes through.

Every answer is encoded the same way: compact JSON, ProblemDetails for errors (RFC 7807), identical
objects giving identical bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from replayer import limits
from replayer.o2ims.problem import PROBLEM_CONTENT_TYPE, problem_bytes

__all__ = ["JSON_CONTENT_TYPE", "SynthRequest", "SynthResponse", "encode", "instance_url", "json_response", "problem"]

JSON_CONTENT_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class SynthRequest:
    """One HTTP request as the replay server hands it over (header names lower-case)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    session: str = "default"
    base_url: str = "http://127.0.0.1"


@dataclass(frozen=True, slots=True)
class SynthResponse:
    """The answer: status, headers and the encoded body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON (tests and tools)."""
        return limits.loads(self.body) if self.body else None


def instance_url(base_url: str, path: str) -> str:
    """An absolute, percent-encoded URL for ProblemDetails.instance (RFC 3986: a valid URI)."""
    return base_url.rstrip("/") + quote(path, safe="/-._~!$&'()*+,;=:@")


def encode(obj: Any) -> bytes:
    """Compact, key-order-preserving JSON: identical objects give identical bytes."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_response(status: int, obj: Any, headers: Mapping[str, str] | None = None) -> SynthResponse:
    """A JSON answer."""
    return SynthResponse(status, {"Content-Type": JSON_CONTENT_TYPE, **(headers or {})}, encode(obj))


def problem(status: int, detail: str, instance: str = "", headers: Mapping[str, str] | None = None,
            **extra: Any) -> SynthResponse:
    """An RFC 7807 ProblemDetails answer."""
    body = problem_bytes(status, detail, instance=instance, extra=extra or None)
    return SynthResponse(status, {"Content-Type": PROBLEM_CONTENT_TYPE, **(headers or {})}, body)
