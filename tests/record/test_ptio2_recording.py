"""No false positive on a real O2IMS: recording the O-RAN SC O2IMS server (pti-o2) through the real mitmdump
recorder changes nothing but its credentials. Every recorded answer equals what the client received, the
401 challenges are stored as sent, and only the Authorization header differs on the request side."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from replayer.cassettes.load import load_cassette
from replayer.record.scan import scan_cassette
from tests.ptio2.harness import PtiO2

from .conftest import Mitmdump, client

INV = "/o2ims-infrastructureInventory/v1"
MON = "/o2ims-infrastructureMonitoring/v1"
CALLBACK = "http://127.0.0.1:9/o2ims-consumer/notifications"


@pytest.fixture
def proxy(ptio2_reseed: PtiO2, tmp_path: Path, confdir: Path) -> Iterator[Mitmdump]:
    """mitmdump recording in front of pti-o2 (reverse mode)."""
    proc = Mitmdump(f"reverse:{ptio2_reseed.base_url}", tmp_path / "ptio2.yaml", confdir,
                    "record_mode=all")
    yield proc
    proc.stop()


def _calls(ref: PtiO2, s: requests.Session, base: str) -> list[tuple[requests.Response, dict[str, str]]]:
    """The exchanges: every inventory and monitoring collection and one of each item, a subscription's life,
    and unauthorised requests (401 with the server's challenge)."""
    auth = ref.auth()
    out: list[tuple[requests.Response, dict[str, str]]] = []

    def call(method: str, path: str, headers: dict[str, str] | None = None, **kw: Any) -> requests.Response:
        sent = {**(auth if headers is None else headers), "Accept": "application/json"}
        r = s.request(method, base + path, headers=sent, timeout=30, **kw)
        out.append((r, sent))
        return r

    call("GET", INV)
    for collection, key in (("resourceTypes", "resourceTypeId"), ("resourcePools", "resourcePoolId"),
                            ("deploymentManagers", "deploymentManagerId")):
        items = call("GET", f"{INV}/{collection}").json()
        call("GET", f"{INV}/{collection}/{items[0][key]}")
    dm = call("GET", f"{INV}/deploymentManagers").json()[0]["deploymentManagerId"]
    call("GET", f"{INV}/deploymentManagers/{dm}?profile=native_k8sapi")
    pool = call("GET", f"{INV}/resourcePools?filter=(eq,name,edge1)").json()[0]["resourcePoolId"]
    call("GET", f"{INV}/resourcePools/{pool}/resources")
    alarms = call("GET", f"{MON}/alarms").json()
    if alarms:
        call("GET", f"{MON}/alarms/{alarms[0]['alarmEventRecordId']}")
    sub = call("POST", f"{INV}/subscriptions", json={"callback": CALLBACK, "filter": "(eq,name,edge1)"})
    if sub.status_code in (200, 201):
        call("GET", f"{INV}/subscriptions")
        call("DELETE", f"{INV}/subscriptions/{sub.json()['subscriptionId']}")
    call("GET", f"{INV}/resourcePools", headers={})
    call("GET", f"{INV}/resourcePools", headers=ref.auth("expired"))
    call("GET", f"{INV}/resourcePools", headers=ref.auth("foreign"))
    return out


#: What pti-o2 serves in a deployment manager's profileData that is a credential (certificates and keys of the
#: cluster's admin user, its CA); every other member of every answer must be recorded as received.
CREDENTIALS = frozenset({"cluster_ca_cert", "admin_client_cert", "admin_client_key"})


def _differences(recorded: Any, received: Any, path: str = "") -> list[tuple[str, Any]]:
    """(path, recorded value) of every leaf that differs."""
    if isinstance(recorded, dict) and isinstance(received, dict) and recorded.keys() == received.keys():
        return [d for k in recorded for d in _differences(recorded[k], received[k], f"{path}/{k}")]
    if isinstance(recorded, list) and isinstance(received, list) and len(recorded) == len(received):
        return [d for i, (a, b) in enumerate(zip(recorded, received)) for d in _differences(a, b, f"{path}/{i}")]
    return [] if recorded == received else [(path, recorded)]


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body


def test_recording_a_real_o2ims_changes_nothing_but_its_credentials(proxy: Mitmdump, ptio2_reseed: PtiO2) -> None:
    with client() as s:
        calls = _calls(ptio2_reseed, s, proxy.url)
    proxy.recorded(len(calls))
    assert proxy.stop() == 0
    assert proxy.wait_for(r"closed .*: (\d+) exchanges recorded, (\d+) caught").group(2) == "0"
    text = proxy.cassette.read_text(encoding="utf-8")
    cassette = load_cassette(proxy.cassette)
    assert scan_cassette(text, cassette) == []
    assert len(cassette.interactions) == len(calls)
    challenges = redacted_credentials = 0
    for (answer, sent), recorded in zip(calls, cassette.interactions):
        req, resp = recorded.request, recorded.response
        assert resp.status == answer.status_code, req.uri
        for where, value in _differences(_json(resp.body), _json(answer.content)):
            assert "/profileData/" in where and where.rpartition("/")[2] in CREDENTIALS, (req.uri, where)
            assert value == f"<redacted:{where.rpartition('/')[2]}>"
            redacted_credentials += 1
        for name, value in answer.headers.items():
            if name.lower() not in ("content-length", "content-encoding", "transfer-encoding", "date", "server"):
                assert resp.headers.get(name, resp.headers.get(name.title())) == [value], (req.uri, name)
        challenges += "WWW-Authenticate" in answer.headers
        for name, value in sent.items():
            expected = "Bearer <redacted>" if name == "Authorization" else value
            assert req.headers[name] == [expected], (req.uri, name)
        assert ptio2_reseed.token not in text
    assert challenges >= 3  # the 401s: their challenge is stored as the server sent it
    assert redacted_credentials >= 3  # the deployment manager's profileData credentials
