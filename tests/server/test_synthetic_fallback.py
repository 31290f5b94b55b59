"""Misses fall through to the synthetic O2IMS unless strict; its admin routes get our guard."""

from __future__ import annotations

from collections.abc import Callable

import requests

from replayer.server.embedded import EmbeddedServer
from tests.server.conftest import INV, POOLS, interaction

Serve = Callable[..., EmbeddedServer]
RECORDED = {"inv.yaml": [interaction("GET", f"{INV}/resourcePools", body=POOLS)]}


def test_miss_goes_to_the_synthetic_model(serve: Serve) -> None:
    server = serve(RECORDED, synthetic=True, strict=False)
    assert requests.get(f"{server.url}{INV}/resourcePools", timeout=5).headers["X-Replay-Source"] == "cassette"
    r = requests.get(f"{server.url}{INV}/deploymentManagers", timeout=5)
    assert r.status_code == 200
    assert r.headers["X-Replay-Source"] == "synthetic"
    assert isinstance(r.json(), list) and r.json()
    legacy = requests.get(f"{server.url}/o2ims_infrastructureInventory/v1/status", timeout=5)
    assert legacy.status_code == 200 and legacy.headers["X-Replay-Source"] == "synthetic"
    assert requests.get(f"{server.url}/openapi.json", timeout=5).status_code == 200
    rows = requests.get(f"{server.url}/__admin/requests", timeout=5).json()
    assert [r["source"] for r in rows] == ["cassette", "synthetic", "synthetic"]


def test_strict_wins_over_synthetic(serve: Serve) -> None:
    server = serve(RECORDED, synthetic=True, strict=True)
    r = requests.get(f"{server.url}{INV}/deploymentManagers", timeout=5)
    assert r.status_code == 404 and r.headers["X-Replay-Source"] == "miss"


def test_synthetic_admin_routes_are_guarded_too(serve: Serve) -> None:
    server = serve(RECORDED, synthetic=True, strict=False, admin_token="adm")
    assert requests.get(f"{server.url}/__admin/notifications", timeout=5).status_code == 401
    ok = requests.get(f"{server.url}/__admin/notifications", headers={"Authorization": "Bearer adm"}, timeout=5)
    assert ok.status_code == 200


def test_admin_reset_also_resets_the_synthetic_state_of_a_session(serve: Serve) -> None:
    server = serve({}, synthetic=True, strict=False)
    url = f"{server.url}{INV}/subscriptions"
    s1 = {"X-Replay-Session": "s1"}
    created = requests.post(url, json={"callback": "http://127.0.0.1:9/cb", "consumerSubscriptionId": "3f2b6c1e-8a4d-4b7e-9c0f-1d2e3f4a5b6c"},
                            headers=s1, timeout=5)
    assert created.status_code in (200, 201), created.text
    assert len(requests.get(url, headers=s1, timeout=5).json()) == 1
    assert requests.get(url, headers={"X-Replay-Session": "s2"}, timeout=5).json() == []
    requests.post(f"{server.url}/__admin/reset?session=s1", timeout=5)
    assert requests.get(url, headers=s1, timeout=5).json() == []


def test_legacy_mock_collection_derives_its_elements(serve: Serve) -> None:
    legacy = "/o2ims_infrastructureInventory/v1/resourcePools"
    pools = [{"resource_pool_id": "a1", "name": "EDGE1-COMPUTE"}, {"resource_pool_id": "b2", "name": "EDGE2-COMPUTE"}]
    server = serve({"legacy.yaml": [interaction("GET", legacy, body=pools)]})
    r = requests.get(f"{server.url}{legacy}/b2", timeout=5)
    assert r.status_code == 200 and r.headers["X-Replay-Source"] == "derived"
    assert r.json() == pools[1]
