"""Helpers for the replay server tests: tiny cassettes written with the real writer, a real server per test."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from replayer.cassettes.model import Cassette, Interaction, InteractionMeta, Request, Response
from replayer.cassettes.files import atomic_write
from replayer.cassettes.yaml import dump_cassette
from replayer.server.config import ServeConfig
from replayer.server.embedded import EmbeddedServer

INV = "/o2ims-infrastructureInventory/v1"
PROV = "/o2ims-infrastructureProvisioning/v1"

POOLS = [
    {"resourcePoolId": "p1", "name": "edge1-compute", "location": "edge1", "description": "x86 \"KVM\"",
     "extensions": {"cpu": 32}},
    {"resourcePoolId": "p2", "name": "edge2-compute", "location": "edge2", "description": "arm",
     "extensions": {"cpu": 64}},
    {"resourcePoolId": "p3", "name": "edge3-storage", "location": "edge3", "description": "ssd",
     "extensions": {"cpu": 0}},
]


def interaction(method: str, uri: str, status: int = 200, body: Any = None, *,
                req_body: bytes = b"", req_headers: dict[str, list[str]] | None = None,
                headers: dict[str, list[str]] | None = None, duration: float | None = None) -> Interaction:
    """One interaction; a non-bytes body is encoded as JSON."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
    hdrs = {"Content-Type": ["application/json"]} if body is not None and not isinstance(body, bytes) else {}
    hdrs.update(headers or {})
    return Interaction(Request(method, f"http://o2ims.example:8080{uri}", req_headers or {}, req_body),
                       Response(status, "OK" if status == 200 else "", hdrs, raw),
                       InteractionMeta(duration=duration))


def write_cassette(path: Path, interactions: list[Interaction]) -> Path:
    """Write a cassette file with the project's own writer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, dump_cassette(Cassette(tuple(interactions), {})).encode())
    return path


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., EmbeddedServer]]:
    """Start a real server on 127.0.0.1:0 over the given cassettes; stopped after the test."""
    started: list[EmbeddedServer] = []

    def start(cassettes: dict[str, list[Interaction]] | None = None, **settings: Any) -> EmbeddedServer:
        folder = tmp_path / "cassettes"
        folder.mkdir(exist_ok=True)
        for name, items in (cassettes or {}).items():
            write_cassette(folder / name, items)
        settings.setdefault("synthetic", False)
        settings.setdefault("strict", True)
        config = replace(ServeConfig(paths=(str(folder),), port=0, use_cache=False), **settings)
        server = EmbeddedServer(config).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class Records(logging.Handler):
    """Every record a logger handles, kept as (level, message, has a traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.messages.append(record.getMessage())


@pytest.fixture
def server_log() -> Iterator[Records]:
    """The server's and aiohttp's log records, caught at the loggers themselves.

    ``configure_logging`` (run by ``serve`` in-process) turns their propagation off, so pytest's
    ``caplog`` may not see them; a handler on the logger always does.
    """
    names = ("replayer.server", "aiohttp.server", "aiohttp.web")
    records = Records()
    levels = {}
    for name in names:
        logger = logging.getLogger(name)
        levels[name] = logger.level
        logger.addHandler(records)
        logger.setLevel(logging.INFO)
    yield records
    for name in names:
        logging.getLogger(name).removeHandler(records)
        logging.getLogger(name).setLevel(levels[name])
