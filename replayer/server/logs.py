"""Logging for ``o2replay serve``: ``--log-format text`` (one readable line) or ``json`` (one object a line)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from replayer.record.redact_rules import default_rules
from replayer.record.redact_values import redact_uri, redact_value

__all__ = ["configure_logging", "JsonFormatter", "RedactingAccessLogger", "safe_uri"]


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message (and exc when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


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


def safe_uri(uri: str) -> str:
    """A request target with credentials in its query (and ``user:password@``) redacted by the recording rules."""
    return redact_uri(uri, default_rules()) if "?" in uri or "@" in uri or "#" in uri else uri


class RedactingAccessLogger(AbstractAccessLogger):
    """aiohttp's access log line (``%a "%r" %s %b "%{Referer}i" "%{User-Agent}i"`` and the time taken) with the
    request target and the Referer redacted like a recorded request: no credential from a query reaches a log."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Log one served request."""
        version = request.version
        referer = request.headers.get("Referer", "-")
        self.logger.info(
            '%s "%s %s HTTP/%d.%d" %d %d "%s" "%s" %.6fs',
            request.remote or "-", request.method, safe_uri(request.path_qs), version.major, version.minor,
            response.status, response.body_length, redact_value(safe_uri(referer), default_rules()),
            request.headers.get("User-Agent", "-"), time,
        )
