"""Request, response and per-request context of the synthetic O2IMS, with the response builders.

Handlers are plain functions ``(ctx) -> SynthResponse``; they read ``ctx.model`` (static) and
``ctx.state`` (the session) and answer through the helpers below, so every answer is encoded the same
way: compact JSON, ProblemDetails for errors (RFC 7807), a ``Link`` header for the next page.
"""

from __future__ import annotations

import json
from urllib.parse import quote
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from replayer import limits
from replayer.o2ims.problem import PROBLEM_CONTENT_TYPE, problem_bytes
from replayer.o2ims.query import Query, next_link, parse_query, project, select
from replayer.o2ims.routes import Route, always_kept, default_excluded
from replayer.synthetic.model import Model
from replayer.synthetic.state import SessionState

if TYPE_CHECKING:
    from replayer.synthetic.api import SyntheticO2IMS

__all__ = ["Ctx", "Handler", "SynthRequest", "SynthResponse", "encode", "instance_url", "json_response", "problem"]

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


@dataclass(slots=True)
class Ctx:
    """What a handler sees: the request, its route and path parameters, the model and the session."""

    req: SynthRequest
    path: str
    route: Route
    params: dict[str, str]
    model: Model
    state: SessionState
    owner: SyntheticO2IMS
    cacheable: bool = True  # set False by handlers whose answer depends on session state

    @property
    def method(self) -> str:
        """The request method (HEAD is answered as GET)."""
        return "GET" if self.req.method == "HEAD" else self.req.method

    def query(self) -> Query:
        """The O2IMS query parameters; QueryError when malformed."""
        return parse_query(self.req.query)

    def problem(self, status: int, detail: str, headers: Mapping[str, str] | None = None) -> SynthResponse:
        """A ProblemDetails answer whose instance is this request's URL (the definitions type it a URI)."""
        return problem(status, detail, self.instance, headers)

    @property
    def instance(self) -> str:
        """The absolute URL of this request (ProblemDetails.instance)."""
        return instance_url(self.req.base_url, self.path)

    def not_found(self, what: str, ident: str) -> SynthResponse:
        """404 for an unknown id."""
        return self.problem(404, f"{what} {ident!r} not found")

    def collection(self, items: Sequence[Mapping[str, Any]]) -> SynthResponse:
        """A list answer with filter, selectors and paging applied (SOL013 5.2-5.4)."""
        query = self.query()
        page = select(
            items, query, default_excluded=default_excluded(self.route),
            page_size=self.model.profile.page_size, scope=self.path, keep=always_kept(self.route),
        )
        headers = {}
        if page.next_marker is not None:
            headers["Link"] = next_link(self.req.base_url, self.path, self.req.query, page.next_marker)
        return json_response(200, page.items, headers)

    def item(self, obj: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None) -> SynthResponse:
        """One object, with attribute selectors applied."""
        query = self.query()
        selected = project(obj, query, default_excluded=default_excluded(self.route), keep=always_kept(self.route))
        return json_response(status, selected, headers)

    def body_json(self) -> Any:
        """The request body as JSON; ValueError with a one-line reason when it is not."""
        if not self.req.body:
            raise ValueError("request body is empty; a JSON object is required")
        try:
            return limits.loads(self.req.body)
        except ValueError as e:  # not UTF-8, not JSON, or nested deeper than the limit
            raise ValueError(f"request body is not valid JSON: {e}") from None


#: A request handler: the context in, the answer out.
Handler = Callable[[Ctx], SynthResponse]
