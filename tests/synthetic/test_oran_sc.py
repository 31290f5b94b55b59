"""The default profile laid out as the O-RAN SC INF O2 service stores it (the pti-o2 seed)."""

from __future__ import annotations

import json
from collections import Counter

from replayer.synthetic.model import build_model
from replayer.synthetic.oran_sc import dumps, render_oran_sc
from replayer.synthetic.profile import load_profile


def test_rendering_is_deterministic() -> None:
    one = dumps(render_oran_sc(build_model(load_profile()), "http://127.0.0.1:1"))
    two = dumps(render_oran_sc(build_model(load_profile()), "http://127.0.0.1:1"))
    assert one == two
    assert json.loads(one)["ocloud"]["serviceUri"] == "http://127.0.0.1:1"


def test_one_pool_per_site_holding_every_resource_of_the_site() -> None:
    model = build_model(load_profile())
    doc = render_oran_sc(model, "http://x")
    assert [p["name"] for p in doc["resourcePools"]] == ["edge1", "edge2", "edge3", "edge4"]
    per_pool = Counter(r["resourcePoolId"] for r in doc["resources"])
    expected = [len(model.resources[model.id("resourcePool", s.name, role)]) for s in model.profile.sites
                for role in ("compute", "network", "storage")]
    assert sum(per_pool.values()) == sum(expected) == 104
    assert sorted(per_pool.values()) == [20, 24, 28, 32]


def test_nics_and_accelerators_are_children_of_their_node() -> None:
    doc = render_oran_sc(build_model(load_profile()), "http://x")
    by_id = {r["resourceId"]: r for r in doc["resources"]}
    for r in doc["resources"]:
        name = r["extensions"]["name"]
        if name.startswith(("nic-", "accelerator-")):
            parent = by_id[r["parentId"]]
            assert parent["extensions"]["name"] == r["extensions"]["node"]
            assert parent["resourcePoolId"] == r["resourcePoolId"]
        else:
            assert r["parentId"] is None


def test_alarms_reference_seeded_objects() -> None:
    doc = render_oran_sc(build_model(load_profile()), "http://x")
    resources = {r["resourceId"] for r in doc["resources"]}
    definitions = {d["alarmDefinitionId"] for dic in doc["alarmDictionaries"] for d in dic["alarmDefinitions"]}
    causes = {c["probableCauseId"] for c in doc["probableCauses"]}
    assert len(doc["alarms"]) == 3
    for alarm in doc["alarms"]:
        assert alarm["resourceId"] in resources
        assert alarm["alarmDefinitionId"] in definitions
        assert alarm["probableCauseId"] in causes
