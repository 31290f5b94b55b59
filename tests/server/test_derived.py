"""O2IMS-aware answers derived from a recorded collection (issue 3, §4); the operator table is o2ims-core's."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import pytest
import requests

from replayer.server.embedded import EmbeddedServer
from tests.server.conftest import INV, POOLS, interaction

Serve = Callable[..., EmbeddedServer]


@pytest.fixture
def pools(serve: Serve) -> EmbeddedServer:
    return serve({"inv.yaml": [
        interaction("GET", f"{INV}/resourcePools", body=POOLS),
        interaction("GET", f"{INV}/resourcePools?filter=(eq,location,edge1)", body=["recorded wins"]),
    ]})


@pytest.mark.parametrize(("query", "names"), [
    ("filter=(eq,location,edge2)", ["edge2-compute"]),
    ("filter=(neq,location,edge2)", ["edge1-compute", "edge3-storage"]),
    ("filter=(in,location,edge1,edge3)", ["edge1-compute", "edge3-storage"]),
    ("filter=(cont,name,compute);(gt,extensions/cpu,40)", ["edge2-compute"]),
    ("filter=(eq,description,'x86 \"KVM\"')", ["edge1-compute"]),
    ("filter=(lte,extensions/cpu,32)", ["edge1-compute", "edge3-storage"]),
])
def test_filters_apply_to_the_recorded_collection(pools: EmbeddedServer, query: str, names: list[str]) -> None:
    r = requests.get(f"{pools.url}{INV}/resourcePools?{quote(query, safe='=&')}", timeout=5)
    assert r.status_code == 200, r.text
    assert r.headers["X-Replay-Source"] == "derived"
    assert r.headers["X-Replay-Derived-From"] == "inv.yaml#0"
    assert [p["name"] for p in r.json()] == names


def test_an_exact_recorded_match_wins_over_a_derived_answer(pools: EmbeddedServer) -> None:
    r = requests.get(f"{pools.url}{INV}/resourcePools?filter=(eq,location,edge1)", timeout=5)
    assert r.headers["X-Replay-Source"] == "cassette"
    assert r.json() == ["recorded wins"]


def test_fields_and_exclude_fields(pools: EmbeddedServer) -> None:
    r = requests.get(f"{pools.url}{INV}/resourcePools?fields=name,extensions/cpu", timeout=5)
    assert r.json()[0] == {"resourcePoolId": "p1", "name": "edge1-compute", "extensions": {"cpu": 32}}
    r = requests.get(f"{pools.url}{INV}/resourcePools?exclude_fields=extensions,description", timeout=5)
    assert r.json()[1] == {"resourcePoolId": "p2", "name": "edge2-compute", "location": "edge2"}


@pytest.mark.parametrize("query", ["filter=(eq,location", "filter=(eq,nosuchattribute,1)", "filter=(like,name,a)"])
def test_bad_filter_is_400_problem_details(pools: EmbeddedServer, query: str) -> None:
    r = requests.get(f"{pools.url}{INV}/resourcePools?{query}", timeout=5)
    assert r.status_code == 400
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert r.json()["status"] == 400
    assert "filter" in r.json()["detail"]


def test_one_element_of_a_recorded_collection_and_an_absent_id(pools: EmbeddedServer) -> None:
    r = requests.get(f"{pools.url}{INV}/resourcePools/p2", timeout=5)
    assert r.status_code == 200
    assert r.headers["X-Replay-Source"] == "derived"
    assert r.json() == POOLS[1]
    r = requests.get(f"{pools.url}{INV}/resourcePools/p2?fields=name", timeout=5)
    assert r.json() == {"resourcePoolId": "p2", "name": "edge2-compute"}  # fields keeps the identity key
    r = requests.get(f"{pools.url}{INV}/resourcePools/nope", timeout=5)
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert "'nope' is not in the recorded collection" in r.json()["detail"]


def test_paging_follows_the_next_link(serve: Serve) -> None:
    many = [{"resourcePoolId": f"p{i:03d}", "name": f"pool-{i}"} for i in range(250)]
    server = serve({"inv.yaml": [interaction("GET", f"{INV}/resourcePools", body=many)]}, page_size=100)
    url: str | None = f"{server.url}{INV}/resourcePools?filter=(cont,name,pool)"
    seen: list[str] = []
    pages = 0
    for _ in range(50):  # bounded: 250 items cannot take more pages than this
        if url is None:
            break
        r = requests.get(url, timeout=5)
        assert r.status_code == 200
        seen += [p["resourcePoolId"] for p in r.json()]
        pages += 1
        url = r.links.get("next", {}).get("url")
    assert url is None
    assert pages == 3
    assert seen == [p["resourcePoolId"] for p in many]


def test_an_id_missing_from_a_recorded_collection(serve: Serve) -> None:
    """Read-only collections: the recording is authoritative (404). Collections consumers create objects in
    (POST): the object may exist in the synthetic model, created this session, so it falls through."""
    from replayer.synthetic import SyntheticO2IMS

    pool_id = SyntheticO2IMS().model.resource_pools_v1[0]["resourcePoolId"]
    subs = [{"subscriptionId": "s-recorded", "callback": "http://127.0.0.1:9/cb"}]
    recorded = {"inv.yaml": [interaction("GET", f"{INV}/resourcePools", body=POOLS),
                             interaction("GET", f"{INV}/subscriptions", body=subs)]}
    lenient = serve(recorded, synthetic=True, strict=False)
    r = requests.get(f"{lenient.url}{INV}/resourcePools/{pool_id}", timeout=5)
    assert (r.status_code, r.headers["X-Replay-Source"]) == (404, "derived")
    created = requests.post(f"{lenient.url}{INV}/subscriptions", json={"callback": "http://127.0.0.1:9/new"},
                            timeout=5)
    assert (created.status_code, created.headers["X-Replay-Source"]) == (201, "synthetic")
    sub_id = created.json()["subscriptionId"]
    r = requests.get(f"{lenient.url}{INV}/subscriptions/{sub_id}", timeout=5)
    # The session's write shows in the recorded collection: the item and the list agree.
    assert (r.status_code, r.headers["X-Replay-Source"]) == (200, "derived") and r.json() == created.json()
    strict = serve(recorded, synthetic=True, strict=True)
    r = requests.get(f"{strict.url}{INV}/subscriptions/{sub_id}", timeout=5)
    assert (r.status_code, r.headers["X-Replay-Source"]) == (404, "derived")


def test_page_size_pages_synthetic_lists_too(serve: Serve) -> None:
    server = serve({}, synthetic=True, strict=False, page_size=5)
    r = requests.get(f"{server.url}{INV}/resourcePools", timeout=5)
    assert r.headers["X-Replay-Source"] == "synthetic"
    assert len(r.json()) == 5 and 'rel="next"' in r.headers["Link"]
