"""Comparing two O2IMS answers: what must be equal, and what is normalised before comparing.

Equal: the status, the ``Content-Type``, ``X-Total-Count`` and ``Link`` headers, and the body as JSON (bytes when
it is not JSON). Normalised first, and only these (docs/dialects.md, "Checked against pti-o2"): each side's own
base URL becomes ``<base>`` (``serviceUri``, ``uriPrefix``), ids a server generates (``subscriptionId``,
``alarmSubscriptionId`` of objects created in the run) become ``<generated>``, and the times a write stamps
(``alarmAcknowledgeTime``, ``alarmChangedTime``, ``alarmClearedTime``) become ``<time>``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from replayer.record.redact import default_rules, redact_json
from tests.ptio2.queries import Query

GENERATED_IDS = ("subscriptionId", "alarmSubscriptionId")
STAMPED_TIMES = ("alarmAcknowledgeTime", "alarmChangedTime", "alarmClearedTime")


def parsed(body: bytes) -> Any:
    """The body as JSON, or the bytes themselves when it is not JSON."""
    try:
        return json.loads(body)
    except ValueError:
        return body


def redacted(body: bytes) -> Any:
    """The body as JSON with secrets replaced as the recorder replaces them (``replayer.record.redact``)."""
    doc = parsed(body)
    return redact_json(doc, default_rules()) if not isinstance(doc, bytes) else doc


@dataclass(frozen=True, slots=True)
class Answer:
    """What is compared of one answer."""

    status: int
    content_type: str
    total: str | None
    link: str | None
    body: Any

    @classmethod
    def of(cls, resp: requests.Response, base_url: str, generated: frozenset[str] = frozenset()) -> Answer:
        """The normalised answer of ``resp`` from the server at ``base_url``."""
        return cls(resp.status_code, resp.headers.get("Content-Type", ""), resp.headers.get("X-Total-Count"),
                   resp.headers.get("Link"), normalise(parsed(resp.content), base_url, generated))


def normalise(doc: Any, base_url: str, generated: frozenset[str] = frozenset()) -> Any:
    """Replace the base URL, generated ids (those in ``generated``) and stamped times, at any depth."""
    if isinstance(doc, dict):
        out = {}
        for key, value in doc.items():
            if key in STAMPED_TIMES and isinstance(value, str) and value:
                out[key] = "<time>"
            elif key in GENERATED_IDS and value in generated:
                out[key] = "<generated>"
            else:
                out[key] = normalise(value, base_url, generated)
        return out
    if isinstance(doc, list):
        return [normalise(v, base_url, generated) for v in doc]
    if isinstance(doc, str):
        text = doc.replace(base_url, "<base>") if base_url else doc
        for ident in generated:  # a generated id named in a message ("Subscription <id> not found.")
            text = text.replace(ident, "<generated>")
        return text
    return doc


@dataclass(frozen=True, slots=True)
class Difference:
    """One aspect of one query on which the two sides differ."""

    query: Query
    aspect: str  # status, content-type, x-total-count, link, body
    real: Any
    ours: Any

    def __str__(self) -> str:
        return f"{self.query}: {self.aspect}: pti-o2 {_short(self.real)} / ours {_short(self.ours)}"


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, bytes) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def differences(query: Query, real: Answer, ours: Answer) -> list[Difference]:
    """Every aspect on which ``real`` and ``ours`` differ (empty: the same answer)."""
    out = []
    for aspect, a, b in (("status", real.status, ours.status), ("content-type", real.content_type, ours.content_type),
                         ("x-total-count", real.total, ours.total), ("link", real.link, ours.link),
                         ("body", real.body, ours.body)):
        if a != b:
            out.append(Difference(query, aspect, a, b))
    return out


def auth_header(kind: str, tokens: Mapping[str, str]) -> dict[str, str]:
    """The Authorization header a query's ``auth`` stands for."""
    if kind == "none":
        return {}
    if kind == "malformed":
        return {"Authorization": "Bearer not-a-jwt"}
    if kind == "basic":
        return {"Authorization": "Basic dXNlcjpwYXNz"}
    return {"Authorization": f"Bearer {tokens[kind]}"}


def send(http: requests.Session, base_url: str, query: Query, tokens: Mapping[str, str],
         extra: Mapping[str, str] | None = None) -> requests.Response:
    """Send ``query`` to the server at ``base_url``."""
    headers = {"Accept": "application/json", **auth_header(query.auth, tokens), **(extra or {})}
    return http.request(query.method, base_url + query.path, json=query.body, headers=headers, timeout=30)
