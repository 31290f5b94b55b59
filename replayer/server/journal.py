"""A bounded journal of served requests, misses and near misses, for ``/__admin/requests``.

Request targets are kept with credentials in their query redacted by the recording rules (``safe_uri``):
the journal is readable by whoever may use the admin API, which is not who may hold the tokens.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from replayer.matching import NearMiss
from replayer.record.redact import safe_uri
from replayer.server.tls import CLIENT

__all__ = ["Journal"]

# (time, session, method, uri, status, source, interaction, (client certificate subject, token principal))
_Row = tuple[float, str, str, str, int, str, str | None, tuple[str | None, str | None]]


class Journal:
    """The last ``size`` requests, the last unmatched ones, and the near misses reported for them."""

    def __init__(self, size: int = 1000) -> None:
        self.size = size
        self.requests: deque[_Row] = deque(maxlen=size or 1)
        self.unmatched: deque[_Row] = deque(maxlen=size or 1)
        self.near_misses: deque[tuple[_Row, tuple[NearMiss, ...]]] = deque(maxlen=size or 1)

    def record(self, session: str, method: str, uri: str, status: int, source: str,
               interaction: str | None = None) -> None:
        """Journal one served request (cheap: one tuple appended to a bounded deque)."""
        if self.size:
            self.requests.append((time.time(), session, method, safe_uri(uri), status, source, interaction, CLIENT.get()))

    def record_miss(self, session: str, method: str, uri: str, status: int, source: str,
                    near: tuple[NearMiss, ...]) -> None:
        """Journal a request no recorded interaction matched, with its closest recorded requests."""
        if not self.size:
            return
        row = (time.time(), session, method, safe_uri(uri), status, source, None, CLIENT.get())
        self.unmatched.append(row)
        if near:
            self.near_misses.append((row, near))

    def clear(self) -> None:
        """Forget everything."""
        self.requests.clear()
        self.unmatched.clear()
        self.near_misses.clear()

    @staticmethod
    def row_dict(row: _Row) -> dict[str, Any]:
        """The JSON form of one journal row."""
        t, session, method, uri, status, source, interaction, (client, user) = row
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z",
            "session": session, "method": method, "uri": uri, "status": status, "source": source}
        if interaction:
            out["interaction"] = interaction
        if client:
            out["client"] = client  # the verified client certificate's subject (mutual TLS)
        if user:
            out["user"] = user  # the access token's principal
        return out

    def dump(self, which: str, limit: int | None = None) -> list[dict[str, Any]]:
        """``requests``, ``unmatched`` or ``near-misses`` as JSON-ready dicts, newest last."""
        if which == "near-misses":
            rows = list(self.near_misses)[-limit:] if limit else list(self.near_misses)
            return [dict(self.row_dict(r), nearest=[n.to_dict() for n in near]) for r, near in rows]
        src = self.requests if which == "requests" else self.unmatched
        items = list(src)[-limit:] if limit else list(src)
        return [self.row_dict(r) for r in items]
