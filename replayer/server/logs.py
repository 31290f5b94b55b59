"""Logging for ``o2replay serve``: ``--log-format text`` (one readable line) or ``json`` (one object a line)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

__all__ = ["configure_logging", "JsonFormatter"]


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
