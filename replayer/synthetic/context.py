"""Request, response and per-request context of the synthetic O2IMS, with the response builders.

Handlers are plain functions ``(ctx) -> SynthResponse``; they read ``ctx.model`` (static) and
``ctx.state`` (the session) and answer through the helpers below, so every answer is encoded the same
way: compact JSON, ProblemDetails for errors (RFC 7807), a ``Link`` header for the next page.
"""

from __future__ import annotations

import json
from urllib.parse import quote_plus
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from replayer import limits
from replayer.o2ims.dialect import DEFAULT_DIALECT, Dialect, DialectRules, rules
from replayer.o2ims.listing import View, item_answer, list_answer, view_of
from replayer.o2ims.problem import build_problem, encode_json, instance_url
from replayer.o2ims.query import Query, parse_query
from replayer.o2ims.routes import Route
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
    raw_query: str | None = None  # the query string as sent (None: rebuilt from ``query``)


@dataclass(frozen=True, slots=True)
class SynthResponse:
    """The answer: status, headers and the encoded body."""

    status: int
    headers: dict[str, str]
    body: bytes
    reason: str | None = None  # the status line's reason when not the default one

    def json(self) -> Any:
        """The body decoded as JSON (tests and tools)."""
        return limits.loads(self.body) if self.body else None


#: Compact, key-order-preserving JSON: identical objects give identical bytes (the server's one encoder).
encode = encode_json


def json_response(status: int, obj: Any, headers: Mapping[str, str] | None = None) -> SynthResponse:
    """A JSON answer."""
    return SynthResponse(status, {"Content-Type": JSON_CONTENT_TYPE, **(headers or {})}, encode(obj))


def problem(status: int, detail: str, req: SynthRequest, path: str, dialect: Dialect = DEFAULT_DIALECT,
            headers: Mapping[str, str] | None = None, attributes: Mapping[str, Any] | None = None) -> SynthResponse:
    """An RFC 7807 ProblemDetails answer to ``req`` (at normalised ``path``), in ``dialect``'s shape."""
    p = build_problem(status, detail, dialect=dialect, path=path, base_url=req.base_url, attributes=attributes)
    return SynthResponse(status, {**(headers or {}), "Content-Type": p.content_type}, p.body, p.reason)


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

    @property
    def dialect(self) -> Dialect:
        """The implementation the model behaves like."""
        return self.owner.dialect

    @property
    def rules(self) -> DialectRules:
        """The rules of that implementation."""
        return rules(self.owner.dialect)

    def query(self) -> Query:
        """The O2IMS query parameters; QueryError when malformed."""
        return parse_query(self.req.query, lenient=self.dialect is Dialect.O_RAN_SC)

    def problem(self, status: int, detail: str, headers: Mapping[str, str] | None = None,
                attributes: Mapping[str, Any] | None = None) -> SynthResponse:
        """A ProblemDetails answer whose instance is this request's URL (the definitions type it a URI)."""
        return problem(status, detail, self.req, self.path, self.dialect, headers, attributes)

    def view(self) -> View:
        """How this route's objects are presented."""
        return view_of(self.dialect, self.route, page_size=self.model.profile.page_size)

    @property
    def instance(self) -> str:
        """The absolute URL of this request (ProblemDetails.instance)."""
        return instance_url(self.req.base_url, self.path)

    def not_found(self, what: str, ident: str, o_ran_sc: str | None = None) -> SynthResponse:
        """404 for an unknown id; ``o_ran_sc`` is pti-o2's wording when it is not "<What> X doesn't exist"."""
        param = self.route.id_param or "id"
        if self.dialect is Dialect.O_RAN_SC:  # pti-o2 o2ims/views: "Resource pool X doesn't exist"
            return self.problem(404, o_ran_sc or f"{what[:1].upper()}{what[1:]} {ident} doesn't exist")
        return self.problem(404, f"{what} {ident!r} not found", attributes={param: ident})

    def collection(self, items: Sequence[Mapping[str, Any]]) -> SynthResponse:
        """A list answer with filter, selectors and paging applied (SOL013 5.2-5.4)."""
        raw_query = self.req.raw_query
        if raw_query is None:
            raw_query = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in self.req.query)
        body, headers = list_answer(items, self.req.query, self.view(), path=self.path, raw_query=raw_query,
                                    base_url=self.req.base_url)
        return json_response(200, body, dict(headers))

    def item(self, obj: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None) -> SynthResponse:
        """One object, with attribute selectors applied."""
        return json_response(status, item_answer(obj, self.req.query, self.view()), headers)

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
