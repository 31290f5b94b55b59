"""One parsed request, built once off the hot path and handed to every answer source.

    parsed = parse_request(request, body, session)
    parsed.path, parsed.query, parsed.base_url, parsed.route

``base_url`` is the root URL the client used to reach the server: scheme, host and port, from ``Forwarded``
(RFC 7239) or ``X-Forwarded-Proto``/``X-Forwarded-Host`` when a proxy set them, else from the request itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from aiohttp import web

from replayer.o2ims.routes import Route, match_route, normalise_path

__all__ = ["ParsedRequest", "base_url_of", "parse_request"]


def _forwarded(value: str) -> tuple[str | None, str | None]:
    """(proto, host) of the first element of a ``Forwarded`` header (the client-facing proxy)."""
    proto = host = None
    first = value.split(",", 1)[0]
    for pair in first.split(";"):
        name, _, raw = pair.strip().partition("=")
        text = raw.strip().strip('"')
        if name.lower() == "proto" and text:
            proto = text.lower()
        elif name.lower() == "host" and text:
            host = text
    return proto, host


def base_url_of(headers: Mapping[str, str], scheme: str, host: str) -> str:
    """``scheme://host[:port]`` as the client saw it (header names lower case in ``headers``)."""
    proto = fwd_host = None
    if "forwarded" in headers:
        proto, fwd_host = _forwarded(headers["forwarded"])
    proto = proto or headers.get("x-forwarded-proto", "").split(",", 1)[0].strip().lower() or None
    fwd_host = fwd_host or headers.get("x-forwarded-host", "").split(",", 1)[0].strip() or None
    scheme = proto if proto in ("http", "https") else scheme
    host = fwd_host or host
    return f"{scheme}://{host}"


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """What every answer source needs from a request, parsed once."""

    method: str
    raw_path: str  # path and query as sent
    path: str  # normalised (replayer.o2ims.routes.normalise_path)
    decoded_path: str  # aiohttp's percent-decoded path
    raw_query: str
    query: tuple[tuple[str, str], ...]
    session: str
    base_url: str
    route: Route | None
    params: dict[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)  # names lower case
    body: bytes = b""

    @property
    def path_qs(self) -> str:
        """The path and query, decoded, for messages."""
        return f"{self.decoded_path}?{self.raw_query}" if self.raw_query else self.decoded_path


def parse_request(request: web.Request, body: bytes, session: str) -> ParsedRequest:
    """Parse ``request`` once."""
    raw = request.raw_path
    path_part, _, raw_query = raw.partition("?")
    path = normalise_path(path_part)
    headers = {k.lower(): v for k, v in request.headers.items()}
    found = match_route(path)
    route, params = found if found is not None else (None, {})
    return ParsedRequest(
        method=request.method, raw_path=raw, path=path, decoded_path=request.path, raw_query=raw_query,
        query=tuple(parse_qsl(raw_query, keep_blank_values=True)), session=session,
        base_url=base_url_of(headers, request.scheme, request.host), route=route, params=params,
        headers=headers, body=body,
    )
