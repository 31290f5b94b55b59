"""RFC 7807 ProblemDetails, as every O2IMS API returns its errors."""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

__all__ = ["PROBLEM_CONTENT_TYPE", "problem_body", "problem_bytes"]

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_body(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    instance: str = "",
    type_: str = "about:blank",
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ProblemDetails object: type, title, status, detail, instance, plus any extension members."""
    try:
        default_title = HTTPStatus(status).phrase
    except ValueError:
        default_title = "Error"
    body: dict[str, Any] = {
        "type": type_,
        "title": title or default_title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if extra:
        body.update(extra)
    return body


def problem_bytes(status: int, detail: str, **kwargs: Any) -> bytes:
    """The encoded JSON of ``problem_body``."""
    return json.dumps(problem_body(status, detail, **kwargs), indent=2).encode("utf-8")
