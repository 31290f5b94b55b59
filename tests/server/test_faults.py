"""Fault injection (status, delay, reset, truncated body) and latency (issue 3, §7)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests

from replayer.server.config import FaultRule, parse_fault, parse_latency
from replayer.server.embedded import EmbeddedServer
from tests.server.conftest import INV, POOLS, interaction

Serve = Callable[..., EmbeddedServer]
RECORDED = {"inv.yaml": [interaction("GET", f"{INV}/resourcePools", body=POOLS, duration=0.15),
                         interaction("GET", f"{INV}/deploymentManagers", body=[])]}


def test_status_fault_from_config_only_on_its_route_and_times(serve: Serve) -> None:
    server = serve(RECORDED, faults=(FaultRule(path=f"{INV}/resourcePools*", status=503, times=2),))
    url = f"{server.url}{INV}/resourcePools"
    assert [requests.get(url, timeout=5).status_code for _ in range(3)] == [503, 503, 200]
    assert requests.get(f"{server.url}{INV}/deploymentManagers", timeout=5).status_code == 200
    r = requests.get(f"{server.url}/metrics", timeout=5)
    assert f'o2replay_requests_total{{source="fault",route="{INV}/resourcePools",status="503"}} 2' in r.text
    journal = requests.get(f"{server.url}/__admin/requests", timeout=5).json()
    assert [(row["status"], row["source"]) for row in journal][:3] == [(503, "fault"), (503, "fault"), (200, "cassette")]


def test_faults_through_the_admin_api(serve: Serve) -> None:
    server = serve(RECORDED)
    url = f"{server.url}{INV}/deploymentManagers"
    r = requests.post(f"{server.url}/__admin/faults", json={"path": f"{INV}/deploymentManagers", "method": "GET",
                                                             "status": 500}, timeout=5)
    assert r.status_code == 201
    fault_id = r.json()["id"]
    assert requests.get(url, timeout=5).status_code == 500
    assert requests.head(url, timeout=5).status_code == 200  # another method
    assert [f["id"] for f in requests.get(f"{server.url}/__admin/faults", timeout=5).json()] == [fault_id]
    assert requests.delete(f"{server.url}/__admin/faults/{fault_id}", timeout=5).status_code == 200
    assert requests.get(url, timeout=5).status_code == 200
    bad = requests.post(f"{server.url}/__admin/faults", json={"path": "*", "stauts": 500}, timeout=5)
    assert bad.status_code == 400 and "body.stauts is not a fault field" in bad.json()["detail"]


def test_connection_reset(serve: Serve) -> None:
    server = serve(RECORDED, faults=(FaultRule(path="*/resourcePools", reset=True, times=1),))
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}{INV}/resourcePools", timeout=5)
    assert requests.get(f"{server.url}{INV}/resourcePools", timeout=5).json() == POOLS


def test_truncated_body(serve: Serve) -> None:
    server = serve(RECORDED, faults=(FaultRule(path="*/resourcePools", truncate=True, times=1),))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(f"{server.url}{INV}/resourcePools", timeout=5)
    assert requests.get(f"{server.url}{INV}/resourcePools", timeout=5).json() == POOLS


def test_delay_fault_and_fixed_and_recorded_latency(serve: Serve) -> None:
    server = serve(RECORDED, faults=(FaultRule(path="*/deploymentManagers", delay_ms=200),))
    t0 = time.monotonic()
    assert requests.get(f"{server.url}{INV}/deploymentManagers", timeout=5).status_code == 200
    assert time.monotonic() - t0 >= 0.2
    recorded = serve(RECORDED, latency=parse_latency("recorded"))
    t0 = time.monotonic()
    requests.get(f"{recorded.url}{INV}/resourcePools", timeout=5)
    assert time.monotonic() - t0 >= 0.15  # meta.duration of the interaction


@pytest.mark.parametrize(("text", "shown"), [("none", "none"), ("recorded", "recorded"), ("25", "25"),
                                             ("10-50", "10-50")])
def test_latency_parses(text: str, shown: str) -> None:
    assert str(parse_latency(text)) == shown


@pytest.mark.parametrize("text", ["fast", "-5", "50-10", "1-2-3"])
def test_latency_rejects_bad_values(text: str) -> None:
    with pytest.raises(ValueError, match="latency must be none, recorded, <ms> or <min>-<max>"):
        parse_latency(text)


@pytest.mark.parametrize(("raw", "message"), [
    ({"path": "*"}, "does nothing"),
    ({"status": 700}, "status must be between 100 and 599"),
    ({"reset": "yes"}, "reset has the wrong type"),
    ("503", "must be a mapping"),
])
def test_fault_rules_are_validated(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_fault(raw, "replay.faults[0]")


def test_a_status_fault_changes_no_replay_state(serve: Serve) -> None:
    url = f"{INV}/resourcePools/p1"
    server = serve({"seq.yaml": [interaction("GET", url, body={"n": 1}), interaction("GET", url, body={"n": 2})]},
                   faults=(FaultRule(path=url, status=502, times=1),))
    got = [requests.get(server.url + url, timeout=5) for _ in range(3)]
    assert [r.status_code for r in got] == [502, 200, 200]
    assert [r.json().get("n") for r in got[1:]] == [1, 2]  # the fault did not consume the first recording


def test_admin_fault_errors_are_problem_details(serve: Serve) -> None:
    server = serve(RECORDED)
    bad = requests.post(f"{server.url}/__admin/faults", json={"path": f"{INV}/x", "status": 99}, timeout=5)
    gone = requests.delete(f"{server.url}/__admin/faults/4242", timeout=5)
    for r, status in ((bad, 400), (gone, 404)):
        assert r.status_code == status
        assert r.headers["Content-Type"].startswith("application/problem+json")
        assert r.json()["status"] == status and r.json()["instance"].startswith(f"{server.url}/__admin/faults")


def test_a_fault_body_that_is_not_json_says_so(serve: Serve) -> None:
    server = serve(RECORDED)
    r = requests.post(f"{server.url}/__admin/faults", data=b"notjson", timeout=5)
    assert r.status_code == 400
    assert r.json()["detail"].startswith("the request body must be a JSON fault rule")
