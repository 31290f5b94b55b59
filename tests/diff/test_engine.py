"""The drift engine: one known drift of each kind gives exactly that finding; noise gives none."""

from __future__ import annotations

import json
from typing import Any

import pytest

from replayer.cassettes.model import Interaction
from replayer.diff.config import DiffConfig, parse_diff_config
from replayer.diff.engine import diff_interactions
from replayer.diff.identity import KeyedList, prepare
from replayer.diff.model import DriftKind, Severity
from replayer.diff.rules import ItemKey

from .conftest import ALARMS, DMS, POOLS, ix, pool

BASE = [pool("p1"), pool("p2")]


def _one(old: list[Interaction], new: list[Interaction], config: DiffConfig | None = None) -> tuple[Any, ...]:
    found = diff_interactions(old, new, config)
    assert len(found) == 1, [f.message for f in found]
    f = found[0]
    return f.kind, f.severity, f.path


CASES: list[tuple[str, list[Interaction], list[Interaction], tuple[Any, ...]]] = [
    ("field removed", [ix(body=BASE)], [ix(body=[pool("p1"), {k: v for k, v in pool("p2").items() if k != "name"}])],
     (DriftKind.FIELD_REMOVED, Severity.BREAKING, "body[resourcePoolId=p2].name")),
    ("field added", [ix(body=BASE)], [ix(body=[pool("p1", site="s1"), pool("p2")])],
     (DriftKind.FIELD_ADDED, Severity.WARNING, "body[resourcePoolId=p1].site")),
    ("type changed", [ix(body=BASE)], [ix(body=[pool("p1", extensions={"cpu": "32"}), pool("p2")])],
     (DriftKind.TYPE_CHANGED, Severity.BREAKING, "body[resourcePoolId=p1].extensions.cpu")),
    ("value changed", [ix(body=BASE)], [ix(body=[pool("p1"), pool("p2", description="storage")])],
     (DriftKind.VALUE_CHANGED, Severity.INFO, "body[resourcePoolId=p2].description")),
    ("array item added", [ix(body=BASE)], [ix(body=[*BASE, pool("p3")])],
     (DriftKind.ITEM_ADDED, Severity.WARNING, "body[resourcePoolId=p3]")),
    ("array item removed", [ix(body=BASE)], [ix(body=[pool("p2")])],
     (DriftKind.ITEM_REMOVED, Severity.WARNING, "body[resourcePoolId=p1]")),
    ("scalar item added", [ix(body={"types": ["VM", "CT"]}, path=DMS + "/dm1")],
     [ix(body={"types": ["CT", "VM", "BM"]}, path=DMS + "/dm1")],
     (DriftKind.ITEM_ADDED, Severity.WARNING, "body.types[=BM]")),
    ("new enum value", [ix(body=[{"alarmEventRecordId": "a1", "perceivedSeverity": "MAJOR"}], path=ALARMS)],
     [ix(body=[{"alarmEventRecordId": "a1", "perceivedSeverity": "INDETERMINATE"}], path=ALARMS)],
     (DriftKind.ENUM_VALUE_ADDED, Severity.WARNING, "body[alarmEventRecordId=a1].perceivedSeverity")),
    ("status class changed", [ix(body=BASE)], [ix(body={"status": 500}, status=500)],
     (DriftKind.STATUS_CLASS_CHANGED, Severity.BREAKING, "status")),
    ("status changed in class", [ix(body=BASE)], [ix(body=BASE, status=203)],
     (DriftKind.STATUS_CHANGED, Severity.WARNING, "status")),
    ("content type changed", [ix(body=BASE)], [ix(raw=b"pools", content_type="text/plain")],
     (DriftKind.CONTENT_TYPE_CHANGED, Severity.BREAKING, "headers.content-type")),
    ("location header changed", [ix(body=BASE, headers={"Location": "http://a:1/x/1"})],
     [ix(body=BASE, headers={"Location": "http://b:2/x/2"})],
     (DriftKind.HEADER_CHANGED, Severity.WARNING, "headers.location")),
    ("endpoint removed", [ix(body=BASE), ix(DMS, [])], [ix(body=BASE)],
     (DriftKind.ENDPOINT_REMOVED, Severity.BREAKING, "")),
    ("endpoint added", [ix(body=BASE)], [ix(body=BASE), ix(DMS, [])],
     (DriftKind.ENDPOINT_ADDED, Severity.WARNING, "")),
    ("repeated request one fewer", [ix(body=BASE), ix(body=BASE)], [ix(body=BASE)],
     (DriftKind.INTERACTION_REMOVED, Severity.WARNING, "")),
    ("non-JSON body changed", [ix(raw=b"ok", content_type="text/plain")], [ix(raw=b"okay", content_type="text/plain")],
     (DriftKind.BODY_CHANGED, Severity.INFO, "body")),
    ("empty list got an item", [ix(body=[])], [ix(body=[pool("p1")])],
     (DriftKind.ITEM_ADDED, Severity.WARNING, "body[resourcePoolId=p1]")),
    ("list emptied", [ix(DMS + "/d", {"deploymentManagerId": "d", "tags": ["a"]})],
     [ix(DMS + "/d", {"deploymentManagerId": "d", "tags": []})],
     (DriftKind.ITEM_REMOVED, Severity.WARNING, "body.tags[=a]")),
    ("object became an array", [ix(DMS + "/d", {"x": {}})], [ix(DMS + "/d", {"x": [{"resourceId": "r"}]})],
     (DriftKind.TYPE_CHANGED, Severity.BREAKING, "body.x")),
    ("null became a value", [ix(path=DMS + "/dm1", body={"deploymentManagerId": "dm1", "x": None})],
     [ix(path=DMS + "/dm1", body={"deploymentManagerId": "dm1", "x": "y"})],
     (DriftKind.VALUE_CHANGED, Severity.INFO, "body.x")),
]


@pytest.mark.parametrize(("old", "new", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_one_known_drift_gives_exactly_that_finding(old: list[Interaction], new: list[Interaction],
                                                    expected: tuple[Any, ...]) -> None:
    assert _one(old, new) == expected


NOISE: list[tuple[str, list[Interaction], list[Interaction]]] = [
    ("identical", [ix(body=BASE), ix(DMS, [])], [ix(body=BASE), ix(DMS, [])]),
    ("reordered list", [ix(body=BASE)], [ix(body=list(reversed(BASE)))]),
    ("reordered scalars", [ix(body={"t": ["a", "b", "c"]}, path=DMS + "/x")],
     [ix(body={"t": ["c", "a", "b"]}, path=DMS + "/x")]),
    ("reordered interactions", [ix(body=BASE), ix(DMS, [])], [ix(DMS, []), ix(body=BASE)]),
    ("volatile alarm times", [ix(ALARMS, [{"alarmEventRecordId": "a", "alarmRaisedTime": "2026-01-01T00:00:00Z",
                                           "alarmChangedTime": "1", "alarmAcknowledgeTime": None}])],
     [ix(ALARMS, [{"alarmEventRecordId": "a", "alarmRaisedTime": "2026-02-02T00:00:00Z",
                   "alarmChangedTime": "2", "alarmAcknowledgeTime": "3"}])]),
    ("volatile headers", [ix(body=BASE, headers={"Date": "Mon", "ETag": "1", "X-Request-Id": "a", "Server": "x"})],
     [ix(body=BASE, headers={"Date": "Tue", "ETag": "2", "X-Request-Id": "b", "Server": "y"})]),
    ("updateTime and notificationId", [ix(DMS + "/d", {"updateTime": "1", "n": {"notificationId": "a"}})],
     [ix(DMS + "/d", {"updateTime": "2", "n": {"notificationId": "b"}})]),
    ("redaction placeholder", [ix(DMS + "/d", {"token": "<redacted>"})], [ix(DMS + "/d", {"token": "abc"})]),
    ("integer vs float", [ix(DMS + "/d", {"n": 1})], [ix(DMS + "/d", {"n": 1.0})]),
    ("location origin only", [ix(body=BASE, headers={"Location": "http://127.0.0.1:1/a/1"})],
     [ix(body=BASE, headers={"Location": "http://127.0.0.1:2/a/1"})]),
    ("charset=utf-8 added", [ix(body=BASE)], [ix(body=BASE, content_type="application/json; charset=utf-8")]),
    ("whitespace of JSON", [ix(raw=b'{"a": 1}')], [ix(raw=b'{\n  "a": 1\n}')]),
]


@pytest.mark.parametrize(("old", "new"), [c[1:] for c in NOISE], ids=[c[0] for c in NOISE])
def test_noise_gives_no_drift(old: list[Interaction], new: list[Interaction]) -> None:
    assert [f.message for f in diff_interactions(old, new)] == []


def test_without_builtin_ignores_volatile_values_are_reported() -> None:
    cfg = parse_diff_config({"builtin_ignores": False})
    found = diff_interactions([ix(DMS + "/d", {"updateTime": "1"})], [ix(DMS + "/d", {"updateTime": "2"})], cfg)
    assert [(f.kind, f.path) for f in found] == [(DriftKind.VALUE_CHANGED, "body.updateTime")]


def test_top_level_array_of_unknown_objects_uses_a_unique_id_field() -> None:
    old = [{"thing_id": "a", "v": 1}, {"thing_id": "b", "v": 2}]
    new = [{"thing_id": "b", "v": 2}, {"thing_id": "a", "v": 3}]
    found = diff_interactions([ix("/things", old)], [ix("/things", new)])
    assert [(f.kind, f.path, f.old, f.new) for f in found] == [(DriftKind.VALUE_CHANGED, "body[thing_id=a].v", 1, 3)]


def test_configured_identity_key_wins() -> None:
    cfg = parse_diff_config({"identity_keys": {"widgets": "label"}})
    old = [{"label": "a", "v": 1}, {"label": "b", "v": 2}]
    new = [{"label": "b", "v": 2}, {"label": "a", "v": 1}]
    assert diff_interactions([ix("/api/widgets", old)], [ix("/api/widgets", new)], cfg) == []
    # without the key, the arrays are positional and the reorder shows
    assert diff_interactions([ix("/api/widgets", old)], [ix("/api/widgets", new)]) != []


def test_legacy_snake_case_ids_pair_items() -> None:
    path = "/o2ims_infrastructureInventory/v1/resourcePools"
    old = [{"resource_pool_id": "x", "name": "A"}, {"resource_pool_id": "y", "name": "B"}]
    found = diff_interactions([ix(path, old)], [ix(path, [old[1], {**old[0], "name": "C"}])])
    assert [(f.path, f.new) for f in found] == [("body[resource_pool_id=x].name", "C")]


def test_user_ignore_and_severity_rules() -> None:
    cfg = parse_diff_config({
        "ignore": [{"path": "body[*].extensions", "endpoint": f"GET {POOLS}"}],
        "severity": [{"kind": "field_added", "severity": "info"}],
    })
    old = [ix(body=BASE)]
    new = [ix(body=[pool("p1", extensions={"cpu": 64}), pool("p2", site="s")])]
    found = diff_interactions(old, new, cfg)
    assert [(f.kind, f.severity, f.path) for f in found] == [
        (DriftKind.FIELD_ADDED, Severity.INFO, "body[resourcePoolId=p2].site")]


def test_ignore_rule_for_other_endpoint_does_not_apply() -> None:
    cfg = parse_diff_config({"ignore": [{"path": "body.**.name", "endpoint": f"GET {DMS}"}]})
    found = diff_interactions([ix(body=BASE)], [ix(body=[pool("p1", name="z"), pool("p2")])], cfg)
    assert [f.path for f in found] == ["body[resourcePoolId=p1].name"]


def test_requests_pair_by_query_and_body_not_order() -> None:
    old = [ix(query="filter=(eq,name,a)", body=[pool("p1")]), ix(query="filter=(eq,name,b)", body=[pool("p2")])]
    new = [ix(query="filter=(eq,name,b)", body=[pool("p2")]), ix(query="filter=(eq,name,a)", body=[pool("p1")])]
    assert diff_interactions(old, new) == []


def test_ids_in_paths_pair_by_template() -> None:
    found = diff_interactions([ix(POOLS + "/p1", pool("p1"))], [ix(POOLS + "/p9", pool("p9"))])
    assert {f.path for f in found} == {"body.resourcePoolId", "body.name"}
    assert {f.endpoint for f in found} == {f"GET {POOLS}/{{resourcePoolId}}"}


def test_schema_check_runs_only_on_drifted_bodies() -> None:
    seen: list[int] = []

    def check(interaction: Interaction) -> list[tuple[str, str]]:
        seen.append(interaction.response.status)
        return [("schema /0", "name: required")] if b'"name"' not in interaction.response.body else []

    same = ix(DMS, [])
    new_pool = {k: v for k, v in pool("p1").items() if k != "name"}
    found = diff_interactions([same, ix(body=[pool("p1")])], [same, ix(body=[new_pool])], schema_check=check)
    assert [(f.kind, f.severity) for f in found] == [(DriftKind.FIELD_REMOVED, Severity.BREAKING),
                                                   (DriftKind.SCHEMA_BROKEN, Severity.BREAKING)]
    assert len(seen) == 2  # old and new of the drifted pair only


def test_prepare_keys_nested_arrays_by_their_identity() -> None:
    doc = {"alarmDefinition": [{"alarmDefinitionId": "d1", "x": 1}]}
    prepared = prepare(doc)
    assert prepared == {"alarmDefinition": {ItemKey("alarmDefinitionId", "d1"): {"x": 1, "alarmDefinitionId": "d1"}}}
    assert type(prepared["alarmDefinition"]) is KeyedList


def test_notifications_pair_by_callback_and_position() -> None:
    from dataclasses import replace

    from replayer.cassettes.model import InteractionKind, InteractionMeta

    def note(n: int, severity: str) -> Interaction:
        body = json.dumps({"notificationId": f"n{n}", "alarmEventRecordId": "a1", "perceivedSeverity": severity})
        i = ix("/consumer/notify", {}, method="POST", request_body=body.encode())
        return replace(i, meta=InteractionMeta(InteractionKind.NOTIFICATION))

    found = diff_interactions([note(1, "MAJOR"), note(2, "MINOR")], [note(7, "MAJOR"), note(8, "MAJOR")])
    # paired by callback and position although the bodies differ; notificationId is volatile
    assert [(f.kind, f.path, f.old_at.interaction if f.old_at else None) for f in found] == [
        (DriftKind.ENUM_VALUE_ADDED, "notification.perceivedSeverity", 1)]


def test_reordered_nested_list_of_named_objects_is_no_drift() -> None:
    from replayer.diff.identity import prepare

    a = {"extensions": {"nets": [{"name": "a", "mtu": 1500}, {"name": "b", "mtu": 9000}]}}
    b = {"extensions": {"nets": [{"name": "b", "mtu": 9000}, {"name": "a", "mtu": 1500}]}}
    assert prepare(a) == prepare(b)
    c = {"extensions": {"nets": [{"name": "b", "mtu": 9000}, {"name": "a", "mtu": 1400}]}}
    assert prepare(a) != prepare(c)
