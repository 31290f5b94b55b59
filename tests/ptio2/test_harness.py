"""The pti-o2 harness: sources, start and stop, authentication, and the edge1-4 seed as pti-o2 serves it."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
import requests

from replayer.synthetic.model import Model
from replayer.synthetic.oran_sc import render_oran_sc
from tests.ptio2.harness import DEFAULT_SOURCE, HarnessError, PtiO2, Source, parse_source, start_ptio2

INV = "/o2ims-infrastructureInventory/v1"
MON = "/o2ims-infrastructureMonitoring/v1"


@pytest.mark.parametrize(("text", "expected"), [
    (None, Source("git", "https://github.com/o-ran-sc/pti-o2.git", DEFAULT_SOURCE.rpartition("@")[2])),
    ("", Source("git", "https://github.com/o-ran-sc/pti-o2.git", DEFAULT_SOURCE.rpartition("@")[2])),
    ("git+https://example.org/pti-o2.git@abc123", Source("git", "https://example.org/pti-o2.git", "abc123")),
])
def test_parse_source_git(text: str | None, expected: Source) -> None:
    assert parse_source(text) == expected


def test_parse_source_paths(tmp_path: Path) -> None:
    tarball = tmp_path / "pti-o2.tar.gz"
    tarball.write_bytes(b"")
    assert parse_source(str(tarball)) == Source("tarball", str(tarball.resolve()))
    assert parse_source(str(tmp_path)) == Source("dir", str(tmp_path.resolve()))


@pytest.mark.parametrize("text", ["/nonexistent/pti-o2.tar.gz", "https://example.org/pti-o2.git", "notes.txt"])
def test_parse_source_rejects_with_one_line(text: str) -> None:
    with pytest.raises(HarnessError, match=r"^PTIO2_SOURCE .*") as info:
        parse_source(text)
    assert "\n" not in str(info.value)


def get(ref: PtiO2, path: str, **kw: object) -> requests.Response:
    headers = kw.pop("headers", ref.auth())
    return requests.get(ref.base_url + path, headers=headers, timeout=30, **kw)  # type: ignore[arg-type]


def test_seeded_inventory_is_the_rendered_profile(ptio2: PtiO2, edge_model: Model) -> None:
    doc = render_oran_sc(edge_model, ptio2.base_url)
    ocloud = get(ptio2, INV).json()
    assert (ocloud["oCloudId"], ocloud["globalcloudId"]) == (edge_model.ocloud_id, edge_model.global_cloud_id)
    assert ocloud["serviceUri"] == ptio2.base_url

    def ids(path: str, key: str) -> list[str]:
        answer = get(ptio2, path)
        assert answer.status_code == 200, answer.text
        return [item[key] for item in answer.json()]

    assert ids(f"{INV}/resourcePools", "resourcePoolId") == sorted(p["resourcePoolId"] for p in doc["resourcePools"])
    assert ids(f"{INV}/resourceTypes", "resourceTypeId") == sorted(t["resourceTypeId"] for t in doc["resourceTypes"])
    assert ids(f"{INV}/deploymentManagers", "deploymentManagerId") == sorted(
        d["deploymentManagerId"] for d in doc["deploymentManagers"])
    assert ids(f"{MON}/alarms", "alarmEventRecordId") == sorted(a["alarmEventRecordId"] for a in doc["alarms"])
    per_pool = Counter(r["resourcePoolId"] for r in doc["resources"])
    assert len(per_pool) == 4 and max(per_pool.values()) > 30  # one pool per site; edge4 spans two pages
    for pool, count in per_pool.items():
        answer = get(ptio2, f"{INV}/resourcePools/{pool}/resources")
        assert answer.headers["X-Total-Count"] == str(count)


def test_nodes_hold_their_nics_and_accelerators(ptio2: PtiO2, edge_model: Model) -> None:
    doc = render_oran_sc(edge_model, ptio2.base_url)
    node = next(r for r in doc["resources"] if r["extensions"]["name"] == "node-1" and r["parentId"] is None)
    answer = get(ptio2, f"{INV}/resourcePools/{node['resourcePoolId']}/resources/{node['resourceId']}?all_fields")
    assert answer.status_code == 200
    children = {e["extensions"]["name"] for e in answer.json()["elements"]}
    assert children == {"accelerator-1", "nic-1", "nic-2"}


@pytest.mark.parametrize(("kind", "status"), [("valid", 200), ("expired", 401), ("foreign", 401), (None, 401)])
def test_tokens(ptio2: PtiO2, kind: str | None, status: int) -> None:
    answer = get(ptio2, f"{INV}/resourcePools", headers=ptio2.auth(kind) if kind else {})
    assert answer.status_code == status
    if status == 401:
        assert "WWW-Authenticate" in answer.headers
        assert answer.json()["status"] == 401


def test_stop_ends_every_process_and_removes_the_folder() -> None:
    with start_ptio2(log=lambda _m: None) as ref:
        procs = dict(ref.procs)
        folder = ref.workdir
        assert set(procs) == {"postgres", "redis", "api"}
        assert get(ref, INV).status_code == 404  # up, nothing seeded: "oCloud doesn't exist"
    assert all(p.poll() is not None for p in procs.values())
    assert not folder.exists()
    for proc in procs.values():
        with pytest.raises(ProcessLookupError):
            os.kill(proc.pid, 0)


def test_the_documented_pyjwt_example_signs_a_token_pti_o2_accepts(ptio2: PtiO2) -> None:
    import re
    import subprocess

    doc = (Path(__file__).resolve().parents[2] / "docs" / "recording.md").read_text()
    example = next(b for b in re.findall(r"```python\n(.*?)```", doc, re.S) if "jwt.encode" in b)
    token = subprocess.run([str(ptio2.python), "-c", example], cwd=ptio2.workdir / "keys", capture_output=True,
                           text=True, timeout=60, check=True).stdout.strip()
    assert get(ptio2, f"{INV}/resourcePools", headers={"Authorization": f"Bearer {token}"}).status_code == 200


KILLED = """
import os
from tests.ptio2.harness import start_ptio2
with start_ptio2(log=lambda m: None) as ref:
    print(" ".join(str(p.pid) for p in ref.procs.values()), ref.workdir, flush=True)
    os._exit(0)  # dies without its teardown, as a killed test run would
"""


def test_servers_end_with_a_process_killed_before_its_teardown() -> None:
    import shutil
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", KILLED], cwd=root, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(root)})
    *pids, folder = done.stdout.split()
    assert len(pids) == 3, done.stderr
    deadline = time.monotonic() + 30
    alive = [int(p) for p in pids]
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _alive(p)]
        time.sleep(0.1)
    shutil.rmtree(folder, ignore_errors=True)
    assert alive == []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
