"""Provisioning lifecycle, the earlier mock's routes (field by field against its captured answers), the
pipeline that polls ``/status`` until READY, sessions, and determinism across processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from synth_helpers import ServerThread

from replayer.synthetic.api import SynthRequest, SyntheticO2IMS
from replayer.synthetic.profile import load_profile

PROV = "/o2ims-infrastructureProvisioning/v1/provisioningRequests"
LEGACY = "/o2ims_infrastructureInventory/v1"
REFERENCE = Path("/work/shared/reference/legacy-mock")
if not REFERENCE.is_dir():
    REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "legacy-mock"


def pr(prid: str, template: str = "edge-cluster", version: str = "v4-18-0", name: str = "intent-1") -> dict[str, Any]:
    return {"provisioningRequestId": prid, "name": name, "description": "test", "templateName": template,
            "templateVersion": version, "templateParameters": {"nodeClusterName": "edge1-sno"}}


def ask(model: SyntheticO2IMS, method: str, path: str, body: Any = None, session: str = "s") -> Any:
    data = b"" if body is None else json.dumps(body).encode()
    return model.handle(SynthRequest(method, path, (), {}, data, session, "http://127.0.0.1"))


def phases(model: SyntheticO2IMS, prid: str, reads: int) -> list[Any]:
    out = []
    for _ in range(reads):
        resp = ask(model, "GET", f"{PROV}/{prid}")
        out.append(resp.json()["status"]["provisioningPhase"] if resp.status == 200 else resp.status)
    return out


@pytest.mark.parametrize(("template", "version", "expected"), [
    ("edge-cluster", "v4-18-0", ["PROGRESSING", "PROGRESSING", "FULFILLED", "FULFILLED"]),
    ("edge-cluster-broken", "v0-0-1", ["PROGRESSING", "PROGRESSING", "FAILED", "FAILED"]),
    ("no-such-template", "v1", ["FAILED", "FAILED", "FAILED", "FAILED"]),
])
def test_lifecycle_by_request_count(template: str, version: str, expected: list[str]) -> None:
    model = SyntheticO2IMS()
    prid = "1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"
    created = ask(model, "POST", PROV, pr(prid, template, version))
    assert created.status == 201 and created.json()["status"]["provisioningPhase"] == "PENDING"
    assert created.headers["Location"] == f"{PROV}/{prid}"
    assert phases(model, prid, 4) == expected
    assert ask(model, "DELETE", f"{PROV}/{prid}").status == 202
    assert phases(model, prid, 2) == ["DELETING", 404]


def test_lifecycle_by_seconds_with_injected_clock() -> None:
    now = [100.0]
    profile = load_profile()
    from dataclasses import replace

    from replayer.synthetic.profile import Lifecycle, LifecycleMode
    profile = replace(profile, lifecycle=Lifecycle(LifecycleMode.SECONDS, 2, 5, 1))
    model = SyntheticO2IMS(profile, clock=lambda: now[0])
    prid = "2a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"
    ask(model, "POST", PROV, pr(prid))
    seen = []
    for t in (101, 102.5, 104, 105.5):
        now[0] = t
        seen.append(phases(model, prid, 1)[0])
    assert seen == ["PENDING", "PROGRESSING", "PROGRESSING", "FULFILLED"]
    assert ask(model, "GET", f"{PROV}/{prid}").json()["status"]["updateTime"] == "2026-01-02T00:00:05.500000Z"


def test_sessions_are_isolated_and_reset() -> None:
    model = SyntheticO2IMS()
    prid = "3a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"
    ask(model, "POST", PROV, pr(prid), session="a")
    assert len(ask(model, "GET", PROV, session="a").json()) == 1
    assert ask(model, "GET", PROV, session="b").json() == []
    model.reset("a")
    assert ask(model, "GET", PROV, session="a").json() == []


def _without_volatile(obj: Any) -> Any:
    """The reference answers minus what the mock randomised (ids) or took from the wall clock."""
    volatile = {"deployment_manager_id", "resource_pool_id", "infrastructure_request_id", "created_at",
                "updated_at", "estimated_completion", "timestamp", "path"}
    if isinstance(obj, dict):
        return {k: _without_volatile(v) for k, v in obj.items() if k not in volatile}
    if isinstance(obj, list):
        return [_without_volatile(v) for v in obj]
    return obj


@pytest.mark.parametrize(("path", "reference"), [
    (f"{LEGACY}/deploymentManagers", "deploymentManagers.json"),
    (f"{LEGACY}/resourcePools", "resourcePools.json"),
    (f"{LEGACY}/deploymentManagers/{{dm1}}/o2ims_infrastructureProvisioningRequest", "provisioningRequests.json"),
    (f"{LEGACY}/deploymentManagers/does-not-exist", "error-404.json"),
])
def test_legacy_routes_match_the_earlier_mock(path: str, reference: str) -> None:
    model = SyntheticO2IMS()
    path = path.replace("{dm1}", model.model.deployment_managers[0]["deploymentManagerId"])
    ours = ask(model, "GET", path).json()
    theirs = json.loads((REFERENCE / reference).read_text())
    assert _without_volatile(ours) == _without_volatile(theirs)


def test_legacy_status_paging_and_errors() -> None:
    model = SyntheticO2IMS()
    # The earlier mock answered on localhost:30205; service_uri names the address the client used.
    status = model.handle(SynthRequest("GET", f"{LEGACY}/status", base_url="http://localhost:30205")).json()
    reference = json.loads((REFERENCE / "status.json").read_text())
    assert {k: v for k, v in status.items() if k != "provisioningRequests"} == reference
    page = model.handle(SynthRequest("GET", f"{LEGACY}/resourcePools", (("limit", "2"), ("offset", "3"))))
    assert [p["name"] for p in page.json()] == ["EDGE2-COMPUTE", "EDGE2-STORAGE"]
    bad = model.handle(SynthRequest("GET", f"{LEGACY}/resourcePools", (("limit", "x"),)))
    assert bad.status == 422 and bad.json()["error"]["status"] == 422
    assert ask(model, "POST", f"{LEGACY}/status").status == 405


def test_pipeline_polls_status_until_ready(server: ServerThread) -> None:
    """The earlier pipeline: create a request through the spec API, poll the mock's /status until READY."""
    prid = "4a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"
    created = requests.post(f"{server.url}{PROV}", json=pr(prid, name="intent-4242"), timeout=5)
    assert created.status_code == 201
    seen = []
    for _ in range(10):  # bounded poll, as the pipeline does (without its sleep: reads drive the lifecycle)
        status = requests.get(f"{server.url}{LEGACY}/status", timeout=5).json()
        seen.append(status["provisioningRequests"]["intent-4242"]["status"])
        if seen[-1] == "READY":
            break
    assert seen == ["PROGRESSING", "PROGRESSING", "READY"]
    listed = requests.get(f"{server.url}{LEGACY}/deploymentManagers/"
                          f"{SyntheticO2IMS().model.deployment_managers[0]['deploymentManagerId']}"
                          "/o2ims_infrastructureProvisioningRequest", params={"request_status": "COMPLETED"},
                          timeout=5).json()
    assert [r["name"] for r in listed] == ["5G-Core-EDGE1", "intent-4242"]


def test_docs_and_openapi(server: ServerThread) -> None:
    doc = requests.get(f"{server.url}/openapi.json", timeout=5).json()
    assert "/o2ims-infrastructureInventory/v1/resourcePools" in doc["paths"]
    assert f"{LEGACY}/status" in doc["paths"] and "/__admin/synthetic/alarms" in doc["paths"]
    page = requests.get(f"{server.url}/docs", timeout=5)
    assert page.status_code == 200 and "/openapi.json" in page.text


_DUMP = """
import hashlib, json, sys
from replayer.synthetic.api import SyntheticO2IMS, SynthRequest
from replayer.o2ims.routes import ROUTES
m = SyntheticO2IMS()
h = hashlib.sha256()
for r in ROUTES:
    if "GET" in r.methods and not r.params:
        h.update(m.handle(SynthRequest("GET", r.template)).body)
h.update(m.handle(SynthRequest("POST", "%s", (), {}, json.dumps(%s).encode())).body)
h.update(m.handle(SynthRequest("GET", "/o2ims_infrastructureInventory/v1/status")).body)
print(h.hexdigest())
""" % (PROV, json.dumps(pr("5a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d")))


def test_bodies_identical_across_processes() -> None:
    digests = {subprocess.run([sys.executable, "-c", _DUMP], capture_output=True, text=True, check=True,
                              timeout=60).stdout for _ in range(2)}
    assert len(digests) == 1 and len(next(iter(digests)).strip()) == 64
