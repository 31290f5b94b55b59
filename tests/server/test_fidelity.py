"""Behaving like a real O2IMS: one error shape whatever answers, writes seen by recorded lists, served addresses,
and each dialect difference through a real server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import requests

from replayer.cassettes.model import Interaction, InteractionMeta, Request, Response
from replayer.o2ims.dialect import Dialect
from replayer.server.embedded import EmbeddedServer
from replayer.synthetic import SynthRequest, SyntheticO2IMS
from tests.server.conftest import INV, POOLS, interaction

Serve = Callable[..., EmbeddedServer]
MON = "/o2ims-infrastructureMonitoring/v1"
BAD_FILTER = {"filter": "(foo,name,x)"}
KNI, SC = Dialect.OPENSHIFT_KNI, Dialect.O_RAN_SC


def recorded_at(base: str, method: str, path: str, body: Any, status: int = 200,
                headers: dict[str, list[str]] | None = None) -> Interaction:
    """An interaction recorded against a server at ``base``."""
    raw = json.dumps(body).encode()
    return Interaction(Request(method, f"{base}{path}", {}, b""),
                       Response(status, "OK", {"Content-Type": ["application/json"], **(headers or {})}, raw),
                       InteractionMeta())


# ------------------------------------------------------------------------------------------ one error shape


def _sources(serve: Serve, dialect: Dialect) -> dict[str, requests.Response]:
    """The same kind of failure answered by each source of one server setup per source."""
    synthetic = serve({}, synthetic=True, strict=False, dialect=dialect)
    derived = serve({"inv.yaml": [interaction("GET", f"{INV}/resourcePools", body=POOLS)]}, dialect=dialect)
    auth = serve({}, synthetic=True, strict=False, dialect=dialect, auth_tokens=frozenset({"t0k3n"}))
    return {
        "synthetic": requests.get(f"{synthetic.url}{INV}/resourcePools", params=BAD_FILTER, timeout=5),
        "derived": requests.get(f"{derived.url}{INV}/resourcePools", params=BAD_FILTER, timeout=5),
        "miss": requests.get(f"{derived.url}{INV}/deploymentManagers", timeout=5),
        "auth": requests.get(f"{auth.url}{INV}/resourcePools", timeout=5),
        "synthetic-404": requests.get(f"{synthetic.url}{INV}/resourcePools/nope", timeout=5),
        "derived-404": requests.get(f"{derived.url}{INV}/resourcePools/nope", timeout=5),
    }


@pytest.mark.parametrize("dialect", [KNI, SC])
def test_every_source_answers_errors_in_one_shape(serve: Serve, dialect: Dialect) -> None:
    answers = _sources(serve, dialect)
    expected_sources = {"synthetic": "synthetic", "derived": "derived", "miss": "miss", "auth": "auth",
                        "synthetic-404": "synthetic", "derived-404": "derived"}
    for name, r in answers.items():
        assert r.headers["X-Replay-Source"] == expected_sources[name], name
        body = r.json()
        assert body["status"] == r.status_code, name
        path = r.request.path_url.split("?")[0]  # type: ignore[union-attr]
        if dialect is KNI:
            assert r.headers["Content-Type"].startswith("application/problem+json"), name
            assert body["instance"] == r.url.split("?")[0], name  # absolute: format uri
            assert {"type", "title", "status", "detail", "instance"} <= set(body), name
        else:
            assert r.headers["Content-Type"].startswith("application/json"), name
            assert (body["instance"], body["type"]) == ([], path), name
            assert body["detail"].startswith(f"{r.status_code} "), name
            assert r.reason == r.reason.upper(), name
    # The same bad request gets the same body whichever source answers it (the base URLs differ only).
    synthetic, derived = (answers[k].json() for k in ("synthetic", "derived"))
    if dialect is KNI:
        for body in (synthetic, derived):
            body.pop("instance")
        assert synthetic["additionalAttributes"] == {"param": "filter"}
    assert synthetic == derived
    assert answers["auth"].headers["WWW-Authenticate"].startswith("Bearer")


def test_bodies_are_encoded_one_way(serve: Serve) -> None:
    derived = serve({"inv.yaml": [interaction("GET", f"{INV}/resourcePools", body=POOLS)]})
    synthetic = serve({}, synthetic=True, strict=False)
    for server in (derived, synthetic):
        r = requests.get(f"{server.url}{INV}/resourcePools", params={"fields": "name"}, timeout=5)
        assert r.status_code == 200 and b"\n" not in r.content and b'", "' not in r.content


# ------------------------------------------------------------------------------------- one state everywhere


@pytest.mark.parametrize("collection", [f"{MON}/alarmSubscriptions", f"{INV}/subscriptions"])
def test_a_write_shows_in_the_recorded_list(serve: Serve, collection: str) -> None:
    key = "alarmSubscriptionId" if "alarm" in collection else "subscriptionId"
    recorded = [{key: "11111111-1111-4111-8111-111111111111", "callback": "http://127.0.0.1:9/recorded"}]
    server = serve({"subs.yaml": [interaction("GET", collection, body=recorded)]}, synthetic=True, strict=False)
    before = requests.get(f"{server.url}{collection}", timeout=5)
    assert before.headers["X-Replay-Source"] == "cassette" and before.json() == recorded
    created = requests.post(f"{server.url}{collection}", json={"callback": "http://127.0.0.1:9/new"}, timeout=5)
    assert (created.status_code, created.headers["X-Replay-Source"]) == (201, "synthetic")
    new_id = created.json()[key]
    listed = requests.get(f"{server.url}{collection}", timeout=5)
    assert listed.headers["X-Replay-Source"] == "derived"
    assert [s[key] for s in listed.json()] == [recorded[0][key], new_id]
    one = requests.get(f"{server.url}{collection}/{new_id}", timeout=5)
    assert one.status_code == 200 and one.json() == created.json()
    filtered = requests.get(f"{server.url}{collection}", params={"filter": "(eq,callback,http://127.0.0.1:9/new)"},
                            timeout=5)
    assert [s[key] for s in filtered.json()] == [new_id]
    other = requests.get(f"{server.url}{collection}", headers={"X-Replay-Session": "other"}, timeout=5)
    assert other.json() == recorded  # a session sees its own writes only
    assert requests.delete(f"{server.url}{collection}/{new_id}", timeout=5).status_code == 200
    assert [s[key] for s in requests.get(f"{server.url}{collection}", timeout=5).json()] == [recorded[0][key]]
    assert requests.get(f"{server.url}{collection}/{new_id}", timeout=5).status_code == 404
    requests.post(f"{server.url}/__admin/reset", timeout=5)
    assert requests.get(f"{server.url}{collection}", timeout=5).headers["X-Replay-Source"] == "cassette"


def test_recorded_writes_show_in_the_recorded_list_in_strict_mode(serve: Serve) -> None:
    sub = {"subscriptionId": "22222222-2222-4222-8222-222222222222", "callback": "http://127.0.0.1:9/x"}
    server = serve({"subs.yaml": [
        interaction("GET", f"{INV}/subscriptions", body=[]),
        interaction("POST", f"{INV}/subscriptions", 201, body=sub, req_body=b'{"callback":"http://127.0.0.1:9/x"}'),
        interaction("DELETE", f"{INV}/subscriptions/{sub['subscriptionId']}", 200, body=b""),
    ]})
    assert requests.get(f"{server.url}{INV}/subscriptions", timeout=5).json() == []
    r = requests.post(f"{server.url}{INV}/subscriptions", data=b'{"callback":"http://127.0.0.1:9/x"}', timeout=5)
    assert (r.status_code, r.headers["X-Replay-Source"]) == (201, "cassette")
    assert requests.get(f"{server.url}{INV}/subscriptions", timeout=5).json() == [sub]
    assert requests.get(f"{server.url}{INV}/subscriptions/{sub['subscriptionId']}", timeout=5).json() == sub
    requests.delete(f"{server.url}{INV}/subscriptions/{sub['subscriptionId']}", timeout=5)
    assert requests.get(f"{server.url}{INV}/subscriptions", timeout=5).json() == []
    miss = requests.get(f"{server.url}{INV}/deploymentManagers", timeout=5)
    assert (miss.status_code, miss.headers["X-Replay-Source"]) == (404, "miss")  # strict stays strict


def test_generated_ids_differ_across_restarts_and_stay_fixed_with_a_run_id() -> None:
    def first_ids(model: SyntheticO2IMS) -> tuple[str, str]:
        body = json.dumps({"callback": "http://127.0.0.1:9/cb"}).encode()
        sub = model.handle(SynthRequest("POST", f"{MON}/alarmSubscriptions", body=body)).json()
        from replayer.synthetic.monitoring import raise_alarm

        alarm = raise_alarm(model, model.session("default"), "edge1", "node-1", "NodeNotReady", 1)
        return sub["alarmSubscriptionId"], alarm["alarmEventRecordId"]

    assert first_ids(SyntheticO2IMS()) != first_ids(SyntheticO2IMS())
    assert first_ids(SyntheticO2IMS(run_id="ci")) == first_ids(SyntheticO2IMS(run_id="ci"))


# ------------------------------------------------------------------------------------------------ addresses


def test_recorded_addresses_become_the_served_one(serve: Serve) -> None:
    old = "http://127.0.0.1:38600"
    ocloud = {"oCloudId": "c", "serviceUri": old, "description": f"see {old}1/x"}
    pools = [{"resourcePoolId": "p1", "name": "a", "extensions": {"href": f"{old}{INV}/resourcePools/p1"}}]
    link = {"Link": [f'<{old}{INV}/resourcePools?nextpage_opaque_marker=x>; rel="next"']}
    cassette = {"inv.yaml": [recorded_at(old, "GET", INV, ocloud),
                             recorded_at(old, "GET", f"{INV}/resourcePools", pools, headers=link)]}
    server = serve(cassette)
    info = requests.get(f"{server.url}{INV}", timeout=5).json()
    assert info["serviceUri"] == server.url and info["description"] == f"see {old}1/x"  # a longer port stays
    listed = requests.get(f"{server.url}{INV}/resourcePools", timeout=5)
    assert listed.headers["Link"].startswith(f"<{server.url}{INV}/resourcePools?")
    assert listed.json()[0]["extensions"]["href"] == f"{server.url}{INV}/resourcePools/p1"
    derived = requests.get(f"{server.url}{INV}/resourcePools/p1", timeout=5)
    assert derived.headers["X-Replay-Source"] == "derived"
    assert derived.json()["extensions"]["href"] == f"{server.url}{INV}/resourcePools/p1"
    proxied = requests.get(f"{server.url}{INV}", headers={"X-Forwarded-Proto": "https",
                                                          "X-Forwarded-Host": "o2ims.example.com"}, timeout=5)
    assert proxied.json()["serviceUri"] == "https://o2ims.example.com"
    forwarded = requests.get(f"{server.url}{INV}", headers={"Forwarded": 'proto=https;host="gw:8443"'}, timeout=5)
    assert forwarded.json()["serviceUri"] == "https://gw:8443"
    kept = serve(cassette, rewrite_urls=False)
    assert requests.get(f"{kept.url}{INV}", timeout=5).json()["serviceUri"] == old


def test_synthetic_and_legacy_addresses_are_the_served_root(serve: Serve) -> None:
    server = serve({}, synthetic=True, strict=False)
    assert requests.get(f"{server.url}{INV}", timeout=5).json()["serviceUri"] == server.url
    status = requests.get(f"{server.url}/o2ims_infrastructureInventory/v1/status", timeout=5).json()
    assert status["service_uri"] == f"{server.url}/o2ims_infrastructureInventory/v1"


# ------------------------------------------------------------------------------------ dialect differences


@pytest.fixture
def both(serve: Serve) -> dict[Dialect, str]:
    """A synthetic server per dialect."""
    return {d: serve({}, synthetic=True, strict=False, dialect=d).url for d in Dialect}


def test_routes_and_versions(both: dict[Dialect, str]) -> None:
    v2 = "/o2ims-infrastructureInventory/v2"
    assert requests.get(f"{both[KNI]}{v2}", timeout=5).status_code == 200
    assert requests.get(f"{both[SC]}{v2}", timeout=5).status_code == 404
    kni = requests.get(f"{both[KNI]}{MON}/api_versions", timeout=5).json()
    sc = requests.get(f"{both[SC]}{MON}/api_versions", timeout=5).json()
    assert kni == {"uriPrefix": MON, "apiVersions": [{"version": "1.0.0"}]}
    assert sc == {"uriPrefix": f"{both[SC]}{MON}", "apiVersions": [{"version": "1.1.0"}]}


def test_method_not_allowed(both: dict[Dialect, str]) -> None:
    kni = requests.put(f"{both[KNI]}{INV}/resourcePools", timeout=5)
    sc = requests.put(f"{both[SC]}{INV}/resourcePools", timeout=5)
    assert (kni.status_code, sc.status_code) == (405, 405)
    assert kni.headers["Allow"] == "GET" and "Allow" not in sc.headers
    assert sc.json()["detail"] == "405 Method Not Allowed: The method is not allowed for the requested URL."
    assert sc.reason == "METHOD NOT ALLOWED"


def test_subscriptions(both: dict[Dialect, str]) -> None:
    body = {"callback": "http://127.0.0.1:9/cb"}
    out: dict[Dialect, tuple[Any, ...]] = {}
    for d, url in both.items():
        created = requests.post(f"{url}{INV}/subscriptions", json=body, timeout=5)
        again = requests.post(f"{url}{INV}/subscriptions", json=body, timeout=5)
        gone = requests.delete(f"{url}{INV}/subscriptions/{created.json()['subscriptionId']}", timeout=5)
        out[d] = (created.status_code, "Location" in created.headers, again.status_code, gone.status_code,
                  gone.content, created.json().get("filter"))
    assert out[KNI] == (201, True, 400, 200, b"", None)
    assert out[SC] == (201, False, 409, 200, b"true", "")


def test_paging_and_inventory_layout(both: dict[Dialect, str]) -> None:
    kni = requests.get(f"{both[KNI]}{INV}/resourcePools", timeout=5)
    sc = requests.get(f"{both[SC]}{INV}/resourcePools", timeout=5)
    assert len(kni.json()) == 12 and "X-Total-Count" not in kni.headers  # compute, storage, network per site
    ids = [p["resourcePoolId"] for p in sc.json()]
    assert ids == sorted(ids)  # pti-o2 lists come sorted by id
    assert len(sc.json()) == 4 and sc.headers["X-Total-Count"] == "4"  # one pool per site holds everything
    assert "extensions" in kni.json()[0] and "extensions" not in sc.json()[0]  # o-ran-sc: the default set only
    pool = sc.json()[0]["resourcePoolId"]
    resources = requests.get(f"{both[SC]}{INV}/resourcePools/{pool}/resources", timeout=5)
    total = int(resources.headers["X-Total-Count"])
    assert 10 < total <= 30 and "Link" not in resources.headers  # one page of 30
    past = requests.get(f"{both[SC]}{INV}/resourcePools/{pool}/resources", params={"nextpage_opaque_marker": 2},
                        timeout=5)
    assert (past.status_code, past.json()["detail"]) == (400, "400 Bad Request: Page size 2 bad request.")


def test_alarm_shapes(both: dict[Dialect, str]) -> None:
    kni = requests.get(f"{both[KNI]}{MON}/alarms", timeout=5).json()[0]
    sc = requests.get(f"{both[SC]}{MON}/alarms", timeout=5).json()[0]
    assert isinstance(kni["perceivedSeverity"], int) and isinstance(sc["perceivedSeverity"], str)
    assert sc["resourceTypeId"] == sc["resourceTypeID"] and "extensions" not in sc


def test_dialect_inferred_from_the_cassettes(serve: Serve) -> None:
    listed = interaction("GET", f"{INV}/resourcePools", body=POOLS, headers={"X-Total-Count": ["3"]})
    server = serve({"inv.yaml": [listed]})
    miss = requests.get(f"{server.url}{INV}/deploymentManagers", timeout=5).json()
    assert miss["instance"] == [] and miss["detail"].startswith("404 Not Found: ")
    forced = serve({"inv.yaml": [listed]}, dialect=KNI)
    assert requests.get(f"{forced.url}{INV}/deploymentManagers", timeout=5).json()["instance"].startswith("http")


def test_acknowledging_and_clearing_twice(both: dict[Dialect, str]) -> None:
    outcome: dict[Dialect, tuple[int, int, int, int]] = {}
    for d, url in both.items():
        alarm = requests.get(f"{url}{MON}/alarms", timeout=5).json()[0]["alarmEventRecordId"]
        item = f"{url}{MON}/alarms/{alarm}"
        codes = [requests.patch(item, json=body, headers={"Content-Type": "application/merge-patch+json"},
                                timeout=5).status_code
                 for body in ({"alarmAcknowledged": True}, {"alarmAcknowledged": True},
                              {"perceivedSeverity": 5}, {"perceivedSeverity": 5})]
        outcome[d] = (codes[0], codes[1], codes[2], codes[3])
    assert outcome[KNI] == (200, 409, 200, 409)
    assert outcome[SC] == (200, 200, 200, 400)  # pti-o2 acknowledges again; clearing again is a 400
