"""The one answer type of the replay server and the one place it becomes an aiohttp response.

Every answer (cassette hit, derived, synthetic, strict miss, exhausted sequence, auth failure, admin, injected
fault) is an ``Answer``; ``render`` turns it into a ``web.Response`` and sets the source headers. The header
names the server adds live here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import CIMultiDictProxy

from replayer.o2ims.dialect import DEFAULT_DIALECT, Dialect
from replayer.o2ims.problem import Problem, build_problem, encode_json

__all__ = [
    "Answer",
    "DERIVED_FROM",
    "INTERACTION",
    "SESSION_HEADER",
    "SOURCE",
    "json_answer",
    "json_response",
    "problem_answer",
    "problem_response",
    "render",
    "unauthorised",
]

#: Where an answer came from: cassette, derived, synthetic, miss, exhausted, auth, fault, admin.
SOURCE = "X-Replay-Source"
#: The recorded interaction that answered (``<cassette>#<index>``).
INTERACTION = "X-Replay-Interaction"
#: The recorded collection a derived answer was computed from.
DERIVED_FROM = "X-Replay-Derived-From"
#: The replay session of a request (cursors and state are per session).
SESSION_HEADER = "X-Replay-Session"

JSON_TYPE = "application/json"
Headers = Mapping[str, str] | CIMultiDictProxy[str]


@dataclass(slots=True)
class Answer:
    """A response to send: status, headers, body, where it came from, and what metrics and latency need."""

    status: int
    body: bytes
    source: str
    headers: Headers | None = None
    content_type: str | None = None  # set when ``headers`` do not carry Content-Type
    reason: str | None = None
    template: str = ""  # the route template (metrics)
    duration: float | None = None  # the recorded duration (latency: recorded)
    interaction: str | None = None


def render(answer: Answer) -> web.Response:
    """The aiohttp response of ``answer``, with ``X-Replay-Source`` (and ``X-Replay-Interaction``) set."""
    resp = web.Response(body=answer.body, status=answer.status, reason=answer.reason, headers=answer.headers,
                        content_type=answer.content_type)
    resp.headers[SOURCE] = answer.source
    if answer.interaction is not None:
        resp.headers[INTERACTION] = answer.interaction
    return resp


def problem_answer(problem: Problem, source: str, headers: Mapping[str, str] | None = None,
                   template: str = "") -> Answer:
    """The answer of a built ProblemDetails."""
    return Answer(problem.status, problem.body, source, {**(headers or {}), "Content-Type": problem.content_type},
                  reason=problem.reason, template=template)


def json_answer(doc: Any, status: int = 200, source: str = "admin") -> Answer:
    """A JSON answer the server builds itself."""
    return Answer(status, encode_json(doc), source, content_type=JSON_TYPE)


def json_response(doc: Any, status: int = 200, source: str = "admin") -> web.Response:
    """A rendered JSON answer of the admin API (``source="server"`` for ``/health``)."""
    return render(json_answer(doc, status, source))


def problem_response(status: int, detail: str, path: str, source: str, *, base_url: str = "",
                     dialect: Dialect = DEFAULT_DIALECT, headers: Mapping[str, str] | None = None,
                     extra: Mapping[str, Any] | None = None) -> web.Response:
    """A rendered ProblemDetails answer (admin API and guards)."""
    problem = build_problem(status, detail, dialect=dialect, path=path, base_url=base_url, extra=extra)
    return render(problem_answer(problem, source, headers))


def unauthorised(path: str, detail: str = "a valid bearer token is required", *, base_url: str = "",
                 dialect: Dialect = DEFAULT_DIALECT) -> Answer:
    """401 ProblemDetails with ``WWW-Authenticate: Bearer``."""
    problem = build_problem(401, detail, dialect=dialect, path=path, base_url=base_url)
    return problem_answer(problem, "auth", {"WWW-Authenticate": 'Bearer realm="o2ims"'})
