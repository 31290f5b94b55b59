"""Connection limit, header and body timeouts, on a real server with raw sockets."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest

from replayer.errors import UsageError
from replayer.server.config import serve_config
from replayer.server.embedded import EmbeddedServer
from tests.server.conftest import Records
from tests.server.test_hostile_requests import exchange

Serve = Callable[..., EmbeddedServer]
HEALTH = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def connect(server: EmbeddedServer, timeout: float = 20.0) -> socket.socket:
    parts = urlsplit(server.url)
    return socket.create_connection((parts.hostname, parts.port), timeout=timeout)


def closed_by_server(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (the socket timeout bounds the wait)."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def logged(log: Records, text: str, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(text in m for m in list(log.messages)):
            return True
        time.sleep(0.02)  # polling the log records of the server thread, bounded by the deadline
    return False


@pytest.mark.parametrize("sent", [b"", b"GET /health HTTP/1.1\r\nHost: x\r\n", b"G"])
def test_a_connection_without_a_complete_head_is_closed(sent: bytes, serve: Serve,
                                                        server_log: Records) -> None:
    server = serve(header_timeout=0.3)
    with connect(server) as sock:
        sock.sendall(sent)
        started = time.monotonic()
        assert closed_by_server(sock) == b""
        assert time.monotonic() - started < 15  # closed by the server, not by our socket timeout
    assert logged(server_log, "header timeout: closed a connection from 127.0.0.1")
    assert exchange(server.url, HEALTH)[0] == 200  # the server itself is fine


def test_a_slow_body_gets_408(serve: Serve, server_log: Records) -> None:
    server = serve(body_timeout=0.3)
    with connect(server) as sock:
        sock.sendall(b"POST /o2ims-infrastructureInventory/v1/subscriptions HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"call")
        answer = closed_by_server(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert b"application/problem+json" in head
    assert json.loads(body)["detail"] == "the request body did not arrive within 0.3 seconds"
    assert logged(server_log, "body timeout: POST /o2ims-infrastructureInventory/v1/subscriptions")


def test_past_the_connection_limit_new_connections_get_503(serve: Serve, server_log: Records) -> None:
    server = serve(max_connections=3, header_timeout=60)
    held = [connect(server) for _ in range(3)]
    try:
        with connect(server) as extra:
            answer = closed_by_server(extra)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503 ")
        assert b"Retry-After: 1" in head
        assert "its limit (--max-connections)" in json.loads(body)["detail"]
        assert logged(server_log, "connection limit: 3 connections open (--max-connections)")
    finally:
        held.pop().close()
    # One slot is free again once the server has seen the close: a request gets through.
    deadline = time.monotonic() + 10
    while exchange(server.url, HEALTH)[0] != 200:
        assert time.monotonic() < deadline, "the freed slot was never reused"
        time.sleep(0.05)  # waiting for the server to process the close, bounded
    for sock in held:
        sock.close()


def test_a_complete_request_is_not_affected_by_the_limits(serve: Serve) -> None:
    server = serve(header_timeout=5, body_timeout=5, max_connections=2)
    for _ in range(5):  # sequential connections: each is counted out again
        status, _, _ = exchange(server.url, HEALTH)
        assert status == 200


@pytest.mark.parametrize(("flags", "message"), [
    ({"header_timeout": "0"}, "--header-timeout must be a positive number of seconds, got '0'"),
    ({"body_timeout": "nan"}, "--body-timeout must be a positive number of seconds, got 'nan'"),
    ({"body_timeout": "inf"}, "--body-timeout must be a positive number of seconds, got 'inf'"),
    ({"header_timeout": "soon"}, "--header-timeout must be a positive number of seconds, got 'soon'"),
    ({"max_connections": "0"}, "--max-connections must be an integer from 1 to 1000000, got '0'"),
])
def test_bad_limits_are_one_line_usage_errors(flags: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as exc:
        serve_config(flags)
    assert str(exc.value) == message


def test_limits_from_flags_and_the_config_file() -> None:
    config = serve_config({"body_timeout": "2.5"}, {"max_connections": 50, "header_timeout": 4})
    assert (config.max_connections, config.header_timeout, config.body_timeout) == (50, 4.0, 2.5)
    default = serve_config({})
    assert (default.max_connections, default.header_timeout, default.body_timeout) == (1000, 10.0, 30.0)
