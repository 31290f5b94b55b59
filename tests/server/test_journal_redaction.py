"""The admin journal, strict-miss answers and the access log show request targets redacted by the recording
rules: a credential in a query never reaches /__admin/requests or a log line."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
import requests

from replayer.server.embedded import EmbeddedServer

from .conftest import INV, POOLS, interaction

CANARY = "c4naryQueryT0ken9"


def test_journal_redacts_query_credentials(serve: Callable[..., EmbeddedServer]) -> None:
    server = serve({"pools.yaml": [interaction("GET", f"{INV}/resourcePools", body=POOLS)]})
    hit = requests.get(f"{server.url}{INV}/resourcePools?access_token={CANARY}", timeout=5)
    miss = requests.get(f"{server.url}{INV}/resourcePools/nope?X-Amz-Signature={CANARY}&key={CANARY}&fields=name",
                        timeout=5)
    assert hit.status_code == 200 and miss.status_code == 404
    assert CANARY not in miss.text  # the strict-miss ProblemDetails names the request, redacted
    for view in ("requests", "requests/unmatched", "near-misses"):
        text = requests.get(f"{server.url}/__admin/{view}", timeout=5).text
        assert CANARY not in text, view
    rows = requests.get(f"{server.url}/__admin/requests", timeout=5).json()
    assert [r["uri"] for r in rows] == [
        f"{INV}/resourcePools?access_token=%3Credacted%3Aaccess_token%3E",
        f"{INV}/resourcePools/nope?X-Amz-Signature=%3Credacted%3AX-Amz-Signature%3E&key=%3Credacted%3Akey%3E"
        "&fields=name",
    ]


def test_access_log_redacts_query_credentials(serve: Callable[..., EmbeddedServer],
                                              caplog: pytest.LogCaptureFixture) -> None:
    server = serve({"pools.yaml": [interaction("GET", f"{INV}/resourcePools", body=POOLS)]}, access_log=True)
    with caplog.at_level(logging.INFO, logger="replayer"):
        r = requests.get(f"{server.url}{INV}/resourcePools?refresh_token={CANARY}", timeout=5)
        assert r.status_code == 200
        lines = [rec.getMessage() for rec in caplog.records if rec.name.endswith(".access")]
        deadline = 50
        while not lines and deadline:  # the access line is written after the response is sent
            deadline -= 1
            requests.get(f"{server.url}/health", timeout=5)
            lines = [rec.getMessage() for rec in caplog.records if rec.name.endswith(".access")]
    assert lines, caplog.text
    assert CANARY not in caplog.text
    assert f'"GET {INV}/resourcePools?refresh_token=%3Credacted%3Arefresh_token%3E HTTP/1.1" 200' in lines[0]
    fields = next(rec.access for rec in caplog.records if rec.name.endswith(".access"))  # what --log-format json shows
    assert fields["path"] == f"{INV}/resourcePools?refresh_token=%3Credacted%3Arefresh_token%3E"
