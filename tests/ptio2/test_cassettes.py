"""The bundled recordings of a real O2IMS, ``cassettes/reference/o-ran-sc/`` (``make cassettes``): what they
hold, that strict replay gives every recorded answer, that no token reached them, and that regenerating them
gives the same files."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from replayer.cassettes.load import load_cassette
from replayer.server.config import ServeConfig
from replayer.server.rewrite import base_of, rewrite_body
from replayer.server.embedded import EmbeddedServer
from tests.ptio2.harness import PtiO2

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "cassettes" / "reference" / "o-ran-sc"
FILES = sorted(FOLDER.glob("*.yaml"))
COMMITTED_PORT = 38610
UUID = "[0-9a-f-]{36}"

#: Every GET route pti-o2 serves for O2IMS inventory and monitoring (o2ims/views/*_route.py).
PTIO2_GET_ROUTES = [
    r"/o2ims-infrastructureInventory/api_versions", r"/o2ims-infrastructureInventory/v1/api_versions",
    r"/o2ims-infrastructureInventory/v1", r"/o2ims-infrastructureInventory/v1/resourceTypes",
    rf"/o2ims-infrastructureInventory/v1/resourceTypes/{UUID}", r"/o2ims-infrastructureInventory/v1/resourcePools",
    rf"/o2ims-infrastructureInventory/v1/resourcePools/{UUID}",
    rf"/o2ims-infrastructureInventory/v1/resourcePools/{UUID}/resources",
    rf"/o2ims-infrastructureInventory/v1/resourcePools/{UUID}/resources/{UUID}",
    r"/o2ims-infrastructureInventory/v1/deploymentManagers",
    rf"/o2ims-infrastructureInventory/v1/deploymentManagers/{UUID}",
    r"/o2ims-infrastructureInventory/v1/subscriptions", rf"/o2ims-infrastructureInventory/v1/subscriptions/{UUID}",
    r"/o2ims-infrastructureMonitoring/api_versions", r"/o2ims-infrastructureMonitoring/v1/api_versions",
    r"/o2ims-infrastructureMonitoring/v1/alarms", rf"/o2ims-infrastructureMonitoring/v1/alarms/{UUID}",
    r"/o2ims-infrastructureMonitoring/v1/alarmSubscriptions",
    rf"/o2ims-infrastructureMonitoring/v1/alarmSubscriptions/{UUID}",
    r"/o2ims-infrastructureMonitoring/v1/alarmServiceConfiguration",
]


def test_the_files() -> None:
    assert [f.name for f in FILES] == ["inventory.yaml", "monitoring.yaml", "writes.yaml"]


def test_every_route_paging_errors_and_writes_are_recorded() -> None:
    interactions = [i for f in FILES for i in load_cassette(f).interactions]
    gets = {i.request.path for i in interactions if i.request.method == "GET" and i.response.status == 200}
    missing = [r for r in PTIO2_GET_ROUTES if not any(re.fullmatch(r, p) for p in gets)]
    assert missing == []
    paged = [i for i in interactions if "nextpage_opaque_marker=2" in i.request.uri]
    assert paged and all('rel="prev"' in i.response.headers["Link"][0] for i in paged)
    assert {400, 401, 404, 405} <= {i.response.status for i in interactions if i.request.method == "GET"
                                    or i.request.method == "DELETE"}
    writes = [(i.request.method, i.response.status) for i in load_cassette(FOLDER / "writes.yaml").interactions]
    assert {("POST", 201), ("POST", 409), ("DELETE", 200), ("DELETE", 404), ("PATCH", 200)} <= set(writes)


def test_no_token_reached_the_files() -> None:
    for f in FILES:
        text = f.read_text()
        assert "eyJ" not in text, f"{f.name} holds what looks like a JWT"
        assert text.count("Bearer <redacted>") >= 1


@pytest.mark.parametrize("cassette", FILES, ids=lambda f: f.stem)
def test_strict_replay_gives_every_recorded_answer(cassette: Path) -> None:
    # One file per server: inventory.yaml and writes.yaml both list /subscriptions, before and after a POST.
    config = ServeConfig(paths=(str(cassette),), port=0, strict=True, synthetic=False, use_cache=False)
    with EmbeddedServer(config) as server:
        _replay_in_order(server.url, cassette)


def _replay_in_order(strict_server: str, cassette: Path) -> None:
    session = uuid.uuid4().hex
    for index, interaction in enumerate(load_cassette(cassette).interactions):
        req = interaction.request
        headers = {"X-Replay-Session": session}
        if req.body:
            headers["Content-Type"] = "application/json"
        target = req.uri.split("://", 1)[-1]
        resp = requests.request(req.method, strict_server + target[target.index("/"):], data=req.body or None,
                                headers=headers, timeout=10)
        where = f"{cassette.name}#{index} {req.method} {req.uri}"
        assert resp.status_code == interaction.response.status, where
        assert resp.headers["X-Replay-Source"] == "cassette", where
        # Recorded against pti-o2's port: recorded addresses name the replay server instead.
        assert resp.content == rewrite_body(interaction.response.body, base_of(req.uri), strict_server), where


@pytest.mark.slow
def test_regenerating_gives_the_committed_files(ptio2_reseed: PtiO2, mitm_confdir: Path, tmp_path: Path) -> None:
    """inventory.yaml and monitoring.yaml are deterministic (writes.yaml holds pti-o2's random subscription ids)."""
    from scripts.make_ptio2_cassettes import record_all

    record_all(ptio2_reseed, tmp_path, mitm_confdir)
    port = ptio2_reseed.base_url.rsplit(":", 1)[1]
    assert len(port) == len(str(COMMITTED_PORT))  # ephemeral ports have five digits: lengths agree
    for name in ("inventory.yaml", "monitoring.yaml"):
        fresh = (tmp_path / name).read_bytes().replace(f"127.0.0.1:{port}".encode(),
                                                      f"127.0.0.1:{COMMITTED_PORT}".encode())
        assert fresh == (FOLDER / name).read_bytes(), f"run `make cassettes` and commit: {name} differs"
