"""The hostile request corpus against a real server: every answer is a 4xx ProblemDetails, never a 500."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from replayer.server.embedded import EmbeddedServer
from tests.server.hostile_requests import CORPUS, INV, Hostile
from tests.server.conftest import POOLS, Records, interaction

Serve = Callable[..., EmbeddedServer]


def exchange(url: str, raw: bytes, timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes on a new connection; read the answer until the server closes it."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        try:
            sock.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early and closed; its answer is still readable
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else 0
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":
        out, rest = b"", body
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    return status, headers, body


def test_the_corpus_is_large_and_named_uniquely() -> None:
    names = [h.name for h in CORPUS]
    assert len(names) == len(set(names))
    assert len(CORPUS) >= 40




@pytest.mark.parametrize("mode", ["strict", "synthetic"])
def test_every_hostile_request_gets_its_one_line_problem(mode: str, serve: Serve, server_log: Records) -> None:
    cassettes = {"pools.yaml": [interaction("GET", f"{INV}/resourcePools", body=POOLS)]}
    server = serve(cassettes, strict=mode == "strict", synthetic=mode == "synthetic")
    failures = []
    for h in CORPUS:
        if mode not in h.modes:
            continue
        status, headers, body = exchange(server.url, h.raw)
        problem = _problem(headers, body)
        detail = str(problem.get("detail", "")) if problem else ""
        ok = status == h.status and problem is not None and h.detail in detail and "\n" not in detail
        if not ok:
            failures.append(f"{h.name}: got {status} {headers.get('content-type')} {body[:200]!r}")
    assert not failures, "\n".join(failures)
    status, _, _ = exchange(server.url, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200
    errors = [r.getMessage() for r in server_log.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, errors


def _problem(headers: dict[str, str], body: bytes) -> dict[str, object] | None:
    if not headers.get("content-type", "").startswith("application/problem+json"):
        return None
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None
