"""The start-up announcement: the banner line (text, or one JSON object under ``--log-format json``) and
the ``--ready-file`` (JSON with the URL and port, written once listening, removed on exit). The ready
file's URL is one a local client can connect to (``0.0.0.0`` becomes ``127.0.0.1``); ``host`` is the
address the server is bound to."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from replayer.cassettes.files import atomic_write
from replayer.server.config import ServeConfig
from replayer.server.state import LoadedSet

__all__ = ["Banner", "ReadyFile", "banner"]


@dataclass(frozen=True, slots=True)
class Banner:
    """What the server says once it listens."""

    url: str
    host: str
    port: int
    cassettes: int
    interactions: int
    mode: str
    match_on: str
    on_exhausted: str
    workers: int
    auth: str | None  # "bearer", "oauth2, jwks URL", "oauth2, tokens at URL/oauth/token"; None: open
    mutual_tls: bool
    docs: str | None
    admin: str

    def text(self) -> str:
        """The one readable start-up line."""
        parts = [f"o2replay serve: {self.url}",
                 f"{self.cassettes} cassettes, {self.interactions} interactions",
                 f"mode: {self.mode}, match on {self.match_on}, on exhausted {self.on_exhausted}",
                 f"workers: {self.workers}"]
        if self.auth:
            parts.append(f"auth: {self.auth}")
        if self.mutual_tls:
            parts.append("mutual TLS")
        if self.docs:
            parts.append(f"docs: {self.docs}")
        parts.append(f"admin: {self.admin}")
        return " | ".join(parts)

    def json(self) -> str:
        """The same as one JSON object, shaped like the server's JSON log lines."""
        doc: dict[str, Any] = {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "level": "info", "logger": "replayer.server", "event": "listening", "message": self.text(),
            **asdict(self)}
        return json.dumps(doc, ensure_ascii=False)

    def __str__(self) -> str:
        return self.text()


def banner(config: ServeConfig, live: LoadedSet, url: str, docs: bool) -> Banner:
    """The banner of a server listening at ``url``."""
    parts = urlsplit(url)
    auth = None
    if config.oauth:
        auth = f"oauth2, jwks {config.oauth_jwks}" if config.oauth_jwks else f"oauth2, tokens at {url}/oauth/token"
    elif config.auth_tokens is not None:
        auth = "bearer"
    return Banner(url=url, host=config.host, port=int(parts.port or 0), cassettes=len(live.cassettes),
                  interactions=live.interactions, mode=config.mode, match_on=str(config.match_on),
                  on_exhausted=str(config.on_exhausted), workers=config.workers, auth=auth,
                  mutual_tls=bool(config.tls_client_ca), docs=f"{url}/docs" if docs else None,
                  admin=f"{url}/__admin/cassettes")


def _local_url(b: Banner) -> str:
    """A URL a client on this machine can connect to: a wildcard bind address becomes loopback."""
    scheme = urlsplit(b.url).scheme
    if b.host in ("0.0.0.0", ""):
        return f"{scheme}://127.0.0.1:{b.port}"
    if b.host == "::":
        return f"{scheme}://[::1]:{b.port}"
    return b.url


class ReadyFile:
    """Prints the banner in the configured format and writes ``--ready-file`` (atomically: a reader never
    sees half a file); ``remove()`` deletes it again on the way out."""

    def __init__(self, config: ServeConfig) -> None:
        self.json = config.log_format == "json"
        self.path = Path(config.ready_file) if config.ready_file else None
        self.written = False

    def announce(self, b: Banner) -> None:
        """Write the ready file, then print the banner (so a reader of either finds the server up)."""
        if self.path is not None:
            doc = {"url": _local_url(b), "host": b.host, "port": b.port, "pid": os.getpid(), "workers": b.workers}
            atomic_write(self.path, json.dumps(doc) + "\n")
            self.written = True
        print(b.json() if self.json else b.text(), file=sys.stdout, flush=True)

    def remove(self) -> None:
        """Delete the ready file written by this process (a stopped server is not ready)."""
        if self.path is not None and self.written:
            with contextlib.suppress(OSError):
                self.path.unlink()
