"""Profiles: the default loads with the issue's numbers; the documented example loads; bad input is one
line naming file, line and field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from replayer.errors import UsageError
from replayer.synthetic.api import SynthRequest, SyntheticO2IMS
from replayer.synthetic.profile import load_profile, parse_profile

DOC = Path(__file__).resolve().parents[2] / "docs" / "synthetic.md"


def test_default_profile_has_the_edge_sites() -> None:
    p = load_profile()
    assert [(s.name, s.nodes, s.cpu_cores, s.memory_gb, s.bandwidth_gbps) for s in p.sites] == [
        ("edge1", 4, 128, 512, 100), ("edge2", 5, 160, 640, 200), ("edge3", 6, 192, 768, 300),
        ("edge4", 7, 224, 896, 400)]
    e1 = p.sites[0]
    assert (e1.cpu_cores_free, e1.memory_gb_free, e1.storage_gb, e1.storage_gb_free) == (64, 256, 4000, 2000)
    assert (e1.kubernetes_version, e1.cluster_cidr, e1.storage_tb, e1.iops, e1.latency_ms) == (
        "v1.28.3", "10.201.0.0/16", 20, 100000, 1.1)
    assert [t.name for t in p.templates if t.failing] == ["edge-cluster-broken"]


def test_documented_example_profile_loads_and_serves() -> None:
    block = re.search(r"## Profile format\n\n```yaml\n(.*?)```", DOC.read_text(), re.S)
    assert block is not None
    profile = parse_profile(block.group(1), "docs/synthetic.md")
    model = SyntheticO2IMS(profile)
    first = model.handle(SynthRequest("GET", "/o2ims-infrastructureInventory/v1/resourcePools"))
    assert [p["name"] for p in first.json()] == ["LAB1-COMPUTE", "LAB1-STORAGE", "LAB1-NETWORK", "LAB2-COMPUTE",
                                                  "LAB2-STORAGE"]
    assert 'rel="next"' in first.headers["Link"]
    marker = first.headers["Link"].split("nextpage_opaque_marker=")[1].split(">")[0]
    rest = model.handle(SynthRequest("GET", "/o2ims-infrastructureInventory/v1/resourcePools",
                                     (("nextpage_opaque_marker", marker),)))
    assert [p["name"] for p in rest.json()] == ["LAB2-NETWORK"] and "Link" not in rest.headers
    alarms = model.handle(SynthRequest("GET", "/o2ims-infrastructureMonitoring/v1/alarms")).json()
    assert alarms[0]["extensions"]["resourceName"] == "node-2"


@pytest.mark.parametrize(("text", "message"), [
    ("sites: []\n", "x.yaml:1: sites: at least one site is required"),
    ("sites:\n  - name: Edge1\n", "x.yaml:2: sites[0].name: expected lower-case letters"),
    ("colour: red\nsites: []\n", "x.yaml:1: colour: unknown field; valid fields: version, dialect, cloud"),
    ("lifecycle:\n  mode: sometimes\nsites: []\n", "x.yaml:2: lifecycle.mode: expected one of requests, seconds"),
    ("cloud:\n  epoch: yesterday\nsites: []\n", "x.yaml:2: cloud.epoch: expected an RFC 3339 UTC time"),
    ("sites: [\n", "x.yaml:2: invalid YAML"),
])
def test_bad_profiles_name_file_line_and_field(text: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_profile(text, "x.yaml")
    assert str(err.value).startswith(message)


def test_free_exceeding_total_is_refused() -> None:
    text = load_profile().source
    doc = Path(text).read_text().replace("cpu_cores_free: 64", "cpu_cores_free: 200")
    with pytest.raises(UsageError, match=r"edge1-4.yaml:\d+: sites\[0\].cpu_cores_free: 200 exceeds cpu_cores 128"):
        parse_profile(doc, text)


def test_alarm_on_unknown_definition_is_a_usage_error() -> None:
    doc = Path(load_profile().source).read_text().replace("definition: NicLinkDown", "definition: Nope")
    with pytest.raises(UsageError, match="no definition 'Nope' for a nic; valid: NicLinkDown, NicPacketLoss"):
        SyntheticO2IMS(parse_profile(doc, "p.yaml"))


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read profile"):
        load_profile(tmp_path / "none.yaml")


def test_documented_python_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {})  # noqa: S102 - our own documentation
