"""The replay server end to end: matching, sequences, sessions, headers, misses, journal."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests

from replayer.matching import MatchOn, OnExhausted
from replayer.server.embedded import EmbeddedServer
from tests.server.conftest import INV, POOLS, PROV, interaction

Serve = Callable[..., EmbeddedServer]


def pr(phase: str) -> dict[str, object]:
    return {"provisioningRequestId": "pr1", "status": {"provisioningPhase": phase}}


def test_cassette_hit_replays_body_and_says_where_it_came_from(serve: Serve) -> None:
    server = serve({"inv.yaml": [interaction("GET", f"{INV}/resourcePools", body=POOLS, headers={
        "Connection": ["keep-alive"], "Transfer-Encoding": ["chunked"], "Content-Length": ["1"],
        "Date": ["Mon, 01 Jan 2024 00:00:00 GMT"], "X-Upstream": ["o2ims-a"]})]})
    r = requests.get(server.url + f"{INV}/resourcePools", timeout=5)
    assert r.status_code == 200
    assert r.json() == POOLS
    assert r.headers["X-Replay-Source"] == "cassette"
    assert r.headers["X-Replay-Interaction"] == "inv.yaml#0"
    assert r.headers["X-Upstream"] == "o2ims-a"  # recorded headers are replayed...
    assert "Transfer-Encoding" not in r.headers  # ...except hop-by-hop ones
    assert r.headers["Content-Length"] == str(len(r.content))  # recomputed
    assert "2024" not in r.headers["Date"]  # refreshed


def test_each_matching_rule_end_to_end(serve: Serve) -> None:
    server = serve({"m.yaml": [
        interaction("GET", f"{INV}/resourcePools?filter=(eq,name,a)&fields=name", body=["query"]),
        interaction("POST", f"{INV}/subscriptions", body={"ok": 1},
                    req_body=b'{"callback": "http://c", "consumerSubscriptionId": "s1"}'),
        interaction("GET", f"{INV}/deploymentManagers/", body=["dms"]),
    ]})
    u = server.url
    assert requests.get(u + f"{INV}/resourcePools?fields=name&filter=(eq,name,a)", timeout=5).json() == ["query"]
    assert requests.get(u + f"{INV}/deploymentManagers", timeout=5).json() == ["dms"]
    assert requests.get(u + f"{INV}/%64eploymentManagers/", timeout=5).json() == ["dms"]
    body = b'{\n  "consumerSubscriptionId": "s1",\n  "callback": "http://c"\n}'
    assert requests.post(u + f"{INV}/subscriptions", data=body, timeout=5).json() == {"ok": 1}
    assert requests.post(u + f"{INV}/subscriptions", data=b'{"callback": "http://d"}', timeout=5).status_code == 404
    assert requests.delete(u + f"{INV}/deploymentManagers", timeout=5).status_code == 404


def test_header_matching_when_configured(serve: Serve) -> None:
    server = serve({"h.yaml": [
        interaction("GET", f"{INV}/resourcePools", body=["a"], req_headers={"X-Tenant": ["a"]}),
        interaction("GET", f"{INV}/resourcePools", body=["b"], req_headers={"X-Tenant": ["b"]}),
    ]}, match_on=MatchOn.parse("method,path,query,headers:X-Tenant"))
    get = lambda t: requests.get(server.url + f"{INV}/resourcePools", headers={"x-tenant": t}, timeout=5)  # noqa: E731
    assert get("b").json() == ["b"]
    assert get("a").json() == ["a"]
    assert get("c").status_code == 404


def test_sequence_replays_in_order_then_repeats_last(serve: Serve) -> None:
    server = serve({"pr.yaml": [interaction("GET", f"{PROV}/provisioningRequests/pr1", body=pr(p))
                                for p in ("PENDING", "PROGRESSING", "FULFILLED")]})
    phases = [requests.get(server.url + f"{PROV}/provisioningRequests/pr1", timeout=5).json()["status"]
              ["provisioningPhase"] for _ in range(5)]
    assert phases == ["PENDING", "PROGRESSING", "FULFILLED", "FULFILLED", "FULFILLED"]


def test_on_exhausted_404_and_cycle(serve: Serve) -> None:
    items = {"pr.yaml": [interaction("GET", f"{PROV}/provisioningRequests/pr1", body=pr(p)) for p in ("A", "B")]}
    url = f"{PROV}/provisioningRequests/pr1"
    strict = serve(items, on_exhausted=OnExhausted.NOT_FOUND)
    assert [requests.get(strict.url + url, timeout=5).status_code for _ in range(3)] == [200, 200, 404]
    cycle = serve(items, on_exhausted=OnExhausted.CYCLE)
    got = [requests.get(cycle.url + url, timeout=5).json()["status"]["provisioningPhase"] for _ in range(3)]
    assert got == ["A", "B", "A"]


def test_sessions_in_parallel_have_independent_cursors_and_reset(serve: Serve) -> None:
    phases = [f"P{i}" for i in range(6)]
    server = serve({"pr.yaml": [interaction("GET", f"{PROV}/provisioningRequests/pr1", body=pr(p)) for p in phases]})

    def poll(session: str) -> list[str]:
        with requests.Session() as s:
            s.headers["X-Replay-Session"] = session
            return [s.get(server.url + f"{PROV}/provisioningRequests/pr1", timeout=5).json()["status"]
                    ["provisioningPhase"] for _ in phases]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(poll, ["job-a", "job-b", "job-c", "job-d"]))
    assert results == [phases] * 4
    r = requests.post(server.url + "/__admin/reset?session=job-a", timeout=5)
    assert r.status_code == 200
    get = lambda s: requests.get(server.url + f"{PROV}/provisioningRequests/pr1",  # noqa: E731
                                 headers={"X-Replay-Session": s}, timeout=5).json()["status"]["provisioningPhase"]
    assert get("job-a") == "P0"
    assert get("job-b") == "P5"  # untouched by job-a's reset
    requests.post(server.url + "/__admin/reset", timeout=5)
    assert get("job-b") == "P0"


def test_strict_miss_lists_nearest_recorded_requests_with_what_differs(serve: Serve) -> None:
    server = serve({"m.yaml": [
        interaction("GET", f"{INV}/deploymentManagers?filter=(eq,name,edge1)", body=[]),
        interaction("POST", f"{INV}/subscriptions", req_body=b'{"callback": "http://c"}', body={}),
    ]}, miss_status=418)
    r = requests.get(server.url + f"{INV}/deploymentManagers?filter=(eq,name,edge2)", timeout=5)
    assert r.status_code == 418
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert r.headers["X-Replay-Source"] == "miss"
    doc = r.json()
    assert doc["status"] == 418
    assert "no recorded interaction matches GET" in doc["detail"]
    first = doc["nearest"][0]
    assert first["interaction"] == "m.yaml#0"
    assert first["differences"] == ["query parameter filter: '(eq,name,edge2)', recorded '(eq,name,edge1)'"]
    r = requests.post(server.url + f"{INV}/subscriptions", json={"callback": "http://other"}, timeout=5)
    assert r.json()["nearest"][0]["differences"] == ['body field callback: "http://other", recorded "http://c"']
    unmatched = requests.get(server.url + "/__admin/requests/unmatched", timeout=5).json()
    assert [u["uri"] for u in unmatched] == [f"{INV}/deploymentManagers?filter=(eq,name,edge2)", f"{INV}/subscriptions"]
    near = requests.get(server.url + "/__admin/near-misses?limit=1", timeout=5).json()
    assert len(near) == 1 and near[0]["nearest"][0]["interaction"] == "m.yaml#1"


def test_journal_is_bounded_and_lists_sources(serve: Serve) -> None:
    server = serve({"inv.yaml": [interaction("GET", f"{INV}/resourcePools", body=POOLS)]}, journal_size=3)
    for _ in range(5):
        requests.get(server.url + f"{INV}/resourcePools", timeout=5)
    requests.get(server.url + f"{INV}/nothing", timeout=5)
    rows = requests.get(server.url + "/__admin/requests", timeout=5).json()
    assert len(rows) == 3
    assert [r["source"] for r in rows] == ["cassette", "cassette", "miss"]
    assert rows[0]["interaction"] == "inv.yaml#0"
    assert requests.delete(server.url + "/__admin/requests", timeout=5).status_code == 200
    assert requests.get(server.url + "/__admin/requests", timeout=5).json() == []


def test_admin_lists_cassettes_and_counts(serve: Serve) -> None:
    server = serve({"a.yaml": [interaction("GET", f"{INV}/resourcePools", body=POOLS)],
                    "sub/b.yaml": [interaction("GET", f"{INV}/x", body=[]), interaction("GET", f"{INV}/y", body=[])]})
    doc = requests.get(server.url + "/__admin/cassettes", timeout=5).json()
    assert [(c["name"], c["interactions"]) for c in doc["cassettes"]] == [("a.yaml", 1), ("sub/b.yaml", 2)]
    assert doc["interactions"] == 3
    assert doc["derivedCollections"] == [f"{INV}/resourcePools", f"{INV}/x", f"{INV}/y"]


def test_health_has_the_earlier_mocks_shape(serve: Serve) -> None:
    server = serve()
    doc = requests.get(server.url + "/health", timeout=5).json()
    legacy = json.loads(open("/work/shared/reference/legacy-mock/health.json").read()) \
        if __import__("os").path.exists("/work/shared/reference/legacy-mock/health.json") else doc
    assert set(doc) == set(legacy) == {"status", "timestamp", "service", "version"}
    assert doc["status"] == "healthy"


def test_head_is_answered_from_a_recorded_get(serve: Serve) -> None:
    server = serve({"inv.yaml": [interaction("GET", f"{INV}/deploymentManagers", body=["dm"])]})
    r = requests.head(server.url + f"{INV}/deploymentManagers", timeout=5)
    assert r.status_code == 200
    assert r.headers["X-Replay-Interaction"] == "inv.yaml#0"
    assert r.content == b""
