"""Drift of a real O2IMS: pti-o2 recorded before and after changes made through its own domain classes;
``o2replay diff`` reports exactly those changes and nothing else."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from replayer.synthetic.model import Model
from tests.ptio2 import walk
from tests.ptio2.fixtures import edge_document
from tests.ptio2.harness import PtiO2
from tests.ptio2.recording import recording

INV = walk.INV + "/v1"
MON = walk.MON + "/v1"
WHEN = "2026-01-02T08:00:00Z"


def _record(ref: PtiO2, requests_: list[tuple[str, str]], cassette: Path, confdir: Path) -> list[walk.Seen]:
    with recording(ref.base_url, cassette, confdir) as proxy:
        c = walk.Consumer(proxy, ref.auth())
        try:
            for method, path in requests_:
                c.send(method, path)
        finally:
            c.close()
    return c.seen


def _diff(old: Path, new: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "replayer", "diff", str(old), str(new), "--format", "json",
                           "--fail-on", "never"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_diff_reports_exactly_the_domain_changes(ptio2_reseed: PtiO2, edge_model: Model, mitm_confdir: Path,
                                                 tmp_path: Path) -> None:
    ref = ptio2_reseed
    doc = edge_document(edge_model, ref)
    first = walk.session(ref.base_url, ref.auth(), (walk.inventory, walk.monitoring))
    traffic = [(s.method, s.path) for s in first]
    before = tmp_path / "before" / "pti-o2.yaml"
    after = tmp_path / "after" / "pti-o2.yaml"
    _record(ref, traffic, before, mitm_confdir)

    edge1 = next(p for p in doc["resourcePools"] if p["name"] == "edge1")
    node1 = next(r for r in doc["resources"] if r["resourcePoolId"] == edge1["resourcePoolId"]
                 and r["extensions"]["name"] == "node-1")
    nic = {**next(r for r in doc["resources"] if r["parentId"] == node1["resourceId"]
                  and r["extensions"]["name"] == "nic-1"),
           "resourceId": edge_model.id("resource", "edge1", "nic-9"), "globalAssetId": "urn:o2ims-replay:edge1:nic-9",
           "description": "SR-IOV capable 25GbE network interface nic-9 at EDGE1"}
    nic["extensions"] = {**nic["extensions"], "name": "nic-9"}
    alarm = doc["alarms"][0]
    pool2 = next(p for p in doc["resourcePools"] if p["name"] == "edge2")
    ref.change([{"op": "add_resource", "resource": nic},
                {"op": "acknowledge_alarm", "alarmEventRecordId": alarm["alarmEventRecordId"], "time": WHEN},
                {"op": "rename_pool", "resourcePoolId": pool2["resourcePoolId"], "name": "edge2-renamed"}], WHEN)
    _record(ref, traffic, after, mitm_confdir)

    report = _diff(before.parent, after.parent)
    found = {(f["endpoint"], f["kind"], f["path"], json.dumps(f["old"]), json.dumps(f["new"]))
             for f in report["findings"]}
    ack, pool2_id = alarm["alarmEventRecordId"], pool2["resourcePoolId"]
    # The acknowledgement and change times are dates: o2replay diff ignores those by default (docs/diff.md).
    assert found == {
        (f"GET {INV}/resourcePools", "value_changed", f"body[resourcePoolId={pool2_id}].name",
         '"edge2"', '"edge2-renamed"'),
        (f"GET {INV}/resourcePools/{{resourcePoolId}}", "value_changed", "body.name", '"edge2"', '"edge2-renamed"'),
        (f"GET {INV}/resourcePools/{{resourcePoolId}}/resources", "item_added", f"body[resourceId={nic['resourceId']}]",
         "null", json.dumps(_item(ref, edge1["resourcePoolId"], nic["resourceId"]))),
        (f"GET {MON}/alarms", "value_changed", f"body[alarmEventRecordId={ack}].alarmAcknowledged", "false", "true"),
        (f"GET {MON}/alarms/{{alarmEventRecordId}}", "value_changed", "body.alarmAcknowledged", "false", "true"),
    }
    assert report["summary"]["total"] == 5


def _item(ref: PtiO2, pool: str, resource: str) -> Any:
    """The added resource as pti-o2 lists it."""
    listed = walk.session(ref.base_url, ref.auth(), (lambda c: walk.get_pages(c, f"{INV}/resourcePools/{pool}/resources"),))
    return next(item for page in listed for item in page.json() if item["resourceId"] == resource)
