"""Logging for ``o2replay serve``: ``--log-format text`` (one readable line) or ``json`` (one object a line).

With ``--access-log`` every request is one line carrying method, path, route template, status, answer
source (cassette, derived, synthetic, miss, admin...), session, interaction and duration, and who the
client is when it says so (certificate subject under mutual TLS, token principal under OAuth2); under
JSON they are fields of the object. The fields are read from the finished response (the handlers already mark it
with ``X-Replay-Source`` and ``X-Replay-Interaction``), so the hot path does no logging work.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from replayer.o2ims.routes import normalise_path, template_of
from replayer.server.answer import INTERACTION, SESSION_HEADER, SOURCE
from replayer.record.redact import safe_uri
from replayer.server.tls import IDENTITY, peer_subject

__all__ = ["configure_logging", "JsonFormatter", "AccessLogger", "access_fields"]


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message (and exc when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,  # which worker, under --workers N
            "message": record.getMessage(),
        }
        access = getattr(record, "access", None)
        if isinstance(access, dict):
            doc.update(access)
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


def _route(request: web.BaseRequest) -> str:
    """The route template: the aiohttp route for our own endpoints, the O2IMS template for replayed ones."""
    match_info = getattr(request, "match_info", None)
    route = getattr(match_info, "route", None)
    canonical = getattr(getattr(route, "resource", None), "canonical", "") or ""
    if canonical and "{tail" not in canonical:
        return str(canonical)
    return template_of(normalise_path(request.path))


def access_fields(request: web.BaseRequest, response: web.StreamResponse, seconds: float) -> dict[str, Any]:
    """The fields of one access-log line."""
    return {
        "method": request.method,
        "path": safe_uri(request.raw_path),  # query credentials redacted by the recording rules
        "route": _route(request),
        "status": response.status,
        "source": response.headers.get(SOURCE, "admin" if request.path.startswith("/__admin") else "server"),
        "session": request.headers.get(SESSION_HEADER) or "default",
        "interaction": response.headers.get(INTERACTION),
        "duration_ms": round(seconds * 1000, 3),
        "remote": request.remote,
        "client": peer_subject(request),  # the verified client certificate's subject (mutual TLS)
        "user": request.get(IDENTITY),  # the token's principal (--auth oauth2)
    }


class AccessLogger(AbstractAccessLogger):
    """aiohttp's access-log hook: one line per request with the fields of ``access_fields``."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        f = access_fields(request, response, time)
        who = "".join(f' {k}="{f[k]}"' for k in ("client", "user") if f[k])
        self.logger.info(
            '%s "%s %s HTTP/%d.%d" %d %s route=%s session=%s interaction=%s %.1fms%s',
            f["remote"], f["method"], f["path"], request.version.major, request.version.minor, f["status"],
            f["source"], f["route"], f["session"], f["interaction"] or "-", f["duration_ms"], who,
            extra={"access": f})


def configure_logging(fmt: str = "text", *, access_log: bool = False) -> None:
    """Send the server's and aiohttp's logs to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("replayer", "aiohttp.server", "aiohttp.web"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
    access = logging.getLogger("aiohttp.access")
    access.handlers[:] = [handler] if access_log else []
    access.setLevel(logging.INFO)
    access.propagate = False

