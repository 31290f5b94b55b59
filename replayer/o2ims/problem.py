"""The one ProblemDetails builder (RFC 7807) of the whole server, in either implementation's shape, and the one
JSON encoder for bodies the server builds itself.

- openshift-kni (internal/service/common/api/generated ``ProblemDetails``, the common definitions):
  ``application/problem+json``; ``type``, ``title``, ``status``, ``detail``, ``instance`` (an absolute URI: the
  definitions type it ``format: uri``) and, for request-specific facts, ``additionalAttributes`` (a map of
  strings).
- o-ran-sc (pti-o2 o2common/views/route_exception.py ``ProblemDetails`` and ``configure_exception``):
  ``application/json``; ``detail`` is werkzeug's ``"<code> <Name>: <message>"``, ``instance`` an empty list,
  ``type`` the request path, keys in alphabetical order (``serialize`` walks ``dir(self)``), and the status
  line's reason in upper case (``404 NOT FOUND``).

Replay-specific diagnostics (a miss's nearest recorded requests) ride as extension members in both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from replayer.o2ims.dialect import DEFAULT_DIALECT, Dialect, rules

__all__ = ["PROBLEM_CONTENT_TYPE", "Problem", "build_problem", "encode_json", "instance_url", "problem_body"]

PROBLEM_CONTENT_TYPE = "application/problem+json"


def encode_json(doc: Any) -> bytes:
    """Compact, key-order-preserving JSON, non-ASCII escaped: every body the server builds is encoded by this.

    ASCII only, because JSON has no charset parameter and some clients guess one from the bytes (requests'
    charset detection turned an echoed UTF-8 callback into invalid JSON)."""
    return json.dumps(doc, separators=(",", ":")).encode("ascii")


_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def instance_url(base_url: str, path: str) -> str:
    """An absolute URL (RFC 3986) of ``path`` under ``base_url``: existing ``%XX`` escapes kept, anything else
    that may not appear in a URI percent-encoded."""
    return base_url.rstrip("/") + quote(_LONE_PERCENT.sub("%25", path), safe="/-._~!$&'()*+,;=:@%")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


@dataclass(frozen=True, slots=True)
class Problem:
    """An encoded ProblemDetails answer: status, status-line reason (None: the default), type, body."""

    status: int
    reason: str | None
    content_type: str
    body: bytes

    def json(self) -> Any:
        """The body decoded (tests and tools)."""
        return json.loads(self.body)


def problem_body(
    status: int,
    detail: str,
    *,
    dialect: Dialect = DEFAULT_DIALECT,
    path: str = "",
    base_url: str = "",
    attributes: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ProblemDetails object of ``dialect`` for a request to ``path`` served at ``base_url``.

    ``attributes`` are request facts (the bad parameter, the id not found): openshift-kni's
    ``additionalAttributes``; o-ran-sc has no such member and drops them. ``extra`` adds extension members.
    """
    if dialect is Dialect.O_RAN_SC:
        # A wrong method never reaches a view: werkzeug's own 405 text (observed; configure_exception's
        # "Method not allowed" handler is not the one that runs).
        if status == 405:
            detail = "The method is not allowed for the requested URL."
        text = f"{status} {_phrase(status)}: {detail}"
        body: dict[str, Any] = {"detail": text, "instance": [], "status": status, "title": _phrase(status),
                                "type": path}
        if extra:
            body.update(extra)
        return dict(sorted(body.items()))
    body = {"type": "about:blank", "title": _phrase(status), "status": status, "detail": detail}
    if path:
        body["instance"] = instance_url(base_url, path) if base_url else path
    if attributes:
        body["additionalAttributes"] = {str(k): str(v) for k, v in attributes.items()}
    if extra:
        body.update(extra)
    return body


def build_problem(
    status: int,
    detail: str,
    *,
    dialect: Dialect = DEFAULT_DIALECT,
    path: str = "",
    base_url: str = "",
    attributes: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Problem:
    """The encoded ProblemDetails answer (see ``problem_body``)."""
    body = problem_body(status, detail, dialect=dialect, path=path, base_url=base_url, attributes=attributes,
                        extra=extra)
    r = rules(dialect)
    reason = _phrase(status).upper() if r.reason_upper else None
    return Problem(status, reason, r.problem_content_type, encode_json(body))
