"""Notifications over real HTTP (issue 4 §4): a callback server on 127.0.0.1 receives alarm, inventory and
provisioning events; filters are honoured; failed deliveries are retried; the admin log shows it all."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from aiohttp import web
from synth_helpers import ServerThread

MON = "/o2ims-infrastructureMonitoring/v1"
INV = "/o2ims-infrastructureInventory/v1"
CLU = "/o2ims-infrastructureCluster/v1"


class Callback:
    """A consumer's callback endpoint; answers 500 to the first ``fail_first`` POSTs."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail_first = fail_first
        self.calls = 0
        app = web.Application()
        app.router.add_post("/{name}", self.handle)
        self.server = ServerThread(app).start()

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        if self.calls <= self.fail_first:
            return web.Response(status=500)
        self.received.append({"path": request.path, **json.loads(await request.read())})
        return web.Response(status=204)


@pytest.fixture
def callback() -> Iterator[Callback]:
    cb = Callback(fail_first=1)
    yield cb
    cb.server.stop()


def log(server: ServerThread, expect: int) -> list[dict[str, Any]]:
    """The admin delivery log once ``expect`` records settled (the server waits at most 10 s)."""
    records = requests.get(f"{server.url}/__admin/notifications", params={"wait": "10", "min": str(expect)},
                           timeout=15).json()
    assert len(records) >= expect and all(r["state"] != "pending" for r in records), records
    return list(records)


def test_alarm_events_filter_retry_and_log(server: ServerThread, callback: Callback) -> None:
    url = server.url
    cb = f"{callback.server.url}/alarms"
    sub = requests.post(f"{url}{MON}/alarmSubscriptions", json={
        "callback": cb, "consumerSubscriptionId": "0d9b2c6e-8f4a-4b1c-9e3d-7a6b5c4d3e2f", "filter": "CHANGE"},
        timeout=5).json()
    raised = requests.post(f"{url}/__admin/synthetic/alarms", json={
        "site": "edge1", "resource": "node-3", "definition": "NodeNotReady", "severity": 1}, timeout=5)
    assert raised.status_code == 201
    alarm_id = raised.json()["alarmEventRecordId"]
    patched = requests.patch(f"{url}{MON}/alarms/{alarm_id}", json={"alarmAcknowledged": True}, timeout=5)
    assert patched.status_code == 200
    requests.patch(f"{url}/__admin/synthetic/alarms/{alarm_id}", json={"perceivedSeverity": 2}, timeout=5)  # CHANGE: filtered out
    requests.patch(f"{url}{MON}/alarms/{alarm_id}", json={"perceivedSeverity": 5}, timeout=5)
    records = log(server, 3)
    assert [r["event"] for r in records] == ["alarm.new", "alarm.acknowledge", "alarm.clear"]
    assert records[0]["state"] == "delivered" and [a.get("status") for a in records[0]["attempts"]] == [500, 204]
    events = [(n["notificationEventType"], n["perceivedSeverity"]) for n in callback.received]
    assert events == [(0, 1), (3, 1), (2, 5)]
    first = callback.received[0]
    assert first["consumerSubscriptionId"] == "0d9b2c6e-8f4a-4b1c-9e3d-7a6b5c4d3e2f"
    assert first["alarmEventRecordId"] == alarm_id and first["objectRef"].endswith(alarm_id)
    assert records[0]["subscriptionId"] == sub["alarmSubscriptionId"]
    assert records[0]["payload"]["extensions"]["notificationId"] == records[0]["notificationId"]


def test_inventory_and_cluster_events(server: ServerThread, callback: Callback) -> None:
    url = server.url
    requests.post(f"{url}{INV}/subscriptions", json={
        "callback": f"{callback.server.url}/inventory", "filter": "(eq,extensions/site,edge2)"}, timeout=5)
    requests.post(f"{url}{CLU}/subscriptions", json={"callback": f"{callback.server.url}/cluster"}, timeout=5)
    skipped = requests.post(f"{url}/__admin/synthetic/resources", json={"site": "edge1", "pool": "storage"}, timeout=5)
    added = requests.post(f"{url}/__admin/synthetic/resources", json={"site": "edge2", "pool": "network"}, timeout=5)
    assert skipped.status_code == added.status_code == 201
    pool = added.json()["resourcePoolId"]
    listed = requests.get(f"{url}{INV}/resourcePools/{pool}/resources", timeout=5).json()
    assert listed[-1] == added.json() and listed[-1]["extensions"]["name"] == "nic-11"
    prid = "7c6d5e4f-3a2b-4c1d-8e9f-0a1b2c3d4e5f"
    requests.post(f"{url}/o2ims-infrastructureProvisioning/v1/provisioningRequests", json={
        "provisioningRequestId": prid, "name": "intent-7", "description": "", "templateName": "edge-cluster",
        "templateVersion": "v4-18-0", "templateParameters": {"nodeClusterName": "edge3-sno"}}, timeout=5)
    for _ in range(3):
        requests.get(f"{url}/o2ims-infrastructureProvisioning/v1/provisioningRequests/{prid}", timeout=5)
    records = log(server, 4)
    assert [r["event"] for r in records] == [
        "inventory.create", "provisioning.progressing", "cluster.create", "provisioning.fulfilled"]
    inventory = next(n for n in callback.received if n["path"] == "/inventory")
    assert inventory["notificationEventType"] == 0 and inventory["postObjectState"] == added.json()
    assert inventory["objectRef"] == f"{INV}/resourcePools/{pool}/resources/{added.json()['resourceId']}"
    clusters = requests.get(f"{url}{CLU}/nodeClusters", params={"filter": "(eq,name,edge3-sno)"}, timeout=5).json()
    assert len(clusters) == 1 and clusters[0]["extensions"]["provisioningRequestId"] == prid


def test_notification_ids_are_deterministic(server: ServerThread, callback: Callback) -> None:
    url = server.url
    ids = []
    for session in ("a", "a"):
        requests.post(f"{url}/__admin/synthetic/reset", json={"session": session}, timeout=5)
        requests.delete(f"{url}/__admin/notifications", timeout=5)
        headers = {"X-Replay-Session": session}
        requests.post(f"{url}{MON}/alarmSubscriptions", json={"callback": f"{callback.server.url}/x"},
                      headers=headers, timeout=5)
        requests.post(f"{url}/__admin/synthetic/alarms", json={
            "site": "edge4", "resource": "volume-2", "definition": "VolumeDegraded"}, headers=headers, timeout=5)
        ids.append([(r["notificationId"], r["payload"]["alarmRaisedTime"]) for r in log(server, 1)])
    assert ids[0] == ids[1]


def test_admin_rejects_bad_input(server: ServerThread) -> None:
    bad = requests.post(f"{server.url}/__admin/synthetic/alarms", json={
        "site": "edge1", "resource": "node-99", "definition": "NodeNotReady"}, timeout=5)
    assert bad.status_code == 400 and "node-99" in bad.json()["detail"]
    bad = requests.post(f"{server.url}/__admin/synthetic/resources", json={"site": "edge9"}, timeout=5)
    assert bad.status_code == 400 and "edge1" in bad.json()["detail"]


def test_wait_settled_returns_on_empty_log() -> None:
    from replayer.synthetic.notify import Notifier, Outbox

    async def run() -> bool:
        async with Notifier(Outbox()) as notifier:
            return await notifier.wait_settled(1.0)

    assert asyncio.run(run()) is True


def test_seconds_mode_advances_without_reads(callback: Callback) -> None:
    """In lifecycle mode ``seconds`` the notifier's tick moves requests on; subscribers hear about it."""
    from dataclasses import replace

    from synth_helpers import make_app

    from replayer.synthetic.api import SyntheticO2IMS
    from replayer.synthetic.profile import Lifecycle, LifecycleMode, load_profile

    now = [0.0]
    profile = replace(load_profile(), lifecycle=Lifecycle(LifecycleMode.SECONDS, 1, 2, 1))
    srv = ServerThread(make_app(SyntheticO2IMS(profile, clock=lambda: now[0]))).start()
    try:
        requests.post(f"{srv.url}{CLU}/subscriptions", json={"callback": f"{callback.server.url}/c"}, timeout=5)
        requests.post(f"{srv.url}/o2ims-infrastructureProvisioning/v1/provisioningRequests", json={
            "provisioningRequestId": "8c6d5e4f-3a2b-4c1d-8e9f-0a1b2c3d4e5f", "name": "intent-8", "description": "",
            "templateName": "edge-cluster", "templateVersion": "v4-18-0", "templateParameters": {}}, timeout=5)
        now[0] = 5.0  # no read follows: only the tick can notice
        records = log(srv, 3)
        assert [r["event"] for r in records] == ["provisioning.progressing", "cluster.create", "provisioning.fulfilled"]
    finally:
        srv.stop()


def test_admin_resource_delete_and_reset(server: ServerThread) -> None:
    url = server.url
    added = requests.post(f"{url}/__admin/synthetic/resources", json={"site": "edge3", "pool": "compute",
                                                                      "kind": "accelerator"}, timeout=5).json()
    assert added["extensions"]["name"] == "accelerator-7"
    gone = requests.delete(f"{url}/__admin/synthetic/resources/{added['resourceId']}", timeout=5)
    assert gone.status_code == 200
    again = requests.delete(f"{url}/__admin/synthetic/resources/{added['resourceId']}", timeout=5)
    assert again.status_code == 404
    raised = requests.post(f"{url}/__admin/synthetic/alarms", json={
        "site": "edge1", "resource": "nic-1", "definition": "NicPacketLoss"}, timeout=5).json()
    alarms = f"{url}{MON}/alarms"
    assert raised["alarmEventRecordId"] in [a["alarmEventRecordId"] for a in requests.get(alarms, timeout=5).json()]
    assert requests.post(f"{url}/__admin/synthetic/reset", json={"session": "default"}, timeout=5).status_code == 200
    assert len(requests.get(alarms, timeout=5).json()) == 3


def test_loopback_only_refuses_a_callback_outside_the_machine_without_resolving_it(server: ServerThread) -> None:
    # O2REPLAY_NOTIFY_LOOPBACK_ONLY=1 is set for the whole suite by tests/conftest.py
    r = requests.post(f"{server.url}{MON}/alarmSubscriptions", json={
        "callback": "http://consumer.example/alarms", "consumerSubscriptionId": "0d9b2c6e-8f4a-4b1c-9e3d-7a6b5c4d3e20"},
        timeout=5)
    assert r.status_code == 400 and r.headers["Content-Type"].startswith("application/problem+json")
    assert "consumer.example is not resolved" in r.json()["detail"]
    r = requests.post(f"{server.url}{MON}/alarmSubscriptions", json={"callback": "http://10.0.0.1/alarms"}, timeout=5)
    assert r.status_code == 400 and "10.0.0.1 is outside O2REPLAY_NOTIFY_LOOPBACK_ONLY=1" in r.json()["detail"]


@pytest.mark.parametrize(("flt", "status"), [
    ("(eq,extensions/site,edge1)", 201),
    ("(eq,extensions.site,edge1)", 400),  # '.' for '/': would never match, so it is refused
    ("(eq,nonexistent,x)", 400),
    ("(eq,name", 400),
])
def test_inventory_subscription_filters_are_checked_like_get_filters(server: ServerThread, flt: str,
                                                                     status: int) -> None:
    r = requests.post(f"{server.url}/o2ims-infrastructureInventory/v1/subscriptions",
                      json={"callback": f"http://127.0.0.1:9/cb/{abs(hash(flt))}", "filter": flt}, timeout=5)
    assert r.status_code == status, r.text
    if status == 400:
        assert r.headers["Content-Type"].startswith("application/problem+json")
