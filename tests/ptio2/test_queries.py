"""The differential query generator and the answer comparison (pure: no server)."""

from __future__ import annotations

from collections import Counter

from tests.ptio2.compare import Answer, differences, normalise
from tests.ptio2.queries import OPERATORS, Collection, Query, attributes, every_query, generate

POOLS = Collection("/o2ims-infrastructureInventory/v1/resourcePools", "resourcePoolId", (
    {"resourcePoolId": "p1", "name": "edge1", "location": "Edge Site 1", "extensions": None},
    {"resourcePoolId": "p2", "name": "edge2", "location": "Edge Site 2", "extensions": None},
), pages=2)
ALARMS = Collection("/o2ims-infrastructureMonitoring/v1/alarms", "alarmEventRecordId", (
    {"alarmEventRecordId": "a1", "perceivedSeverity": 1, "alarmAcknowledged": False, "extensions": {"x": 1}},
))


def test_attributes_keep_scalar_values_of_every_kind() -> None:
    assert attributes(ALARMS) == {"alarmAcknowledged": [False], "alarmEventRecordId": ["a1"], "extensions": [],
                                  "perceivedSeverity": [1]}


def test_every_operator_over_every_attribute() -> None:
    filters = [q.path for q in every_query([POOLS, ALARMS]) if q.family == "filter"]
    for attr in ("name", "location", "extensions", "resourcePoolId", "perceivedSeverity", "alarmAcknowledged"):
        for op in OPERATORS:
            assert any(f"filter=({op},{attr}," in p for p in filters), (op, attr)


def test_families() -> None:
    families = Counter(q.family for q in every_query([POOLS, ALARMS]))
    assert set(families) == {"singleton", "list", "filter", "filter-malformed", "fields", "exclude_fields",
                             "selector", "paging", "item", "wrong-id", "wrong-method", "token", "unknown-route"}
    pages = [q.path for q in every_query([POOLS]) if q.family == "paging"]
    assert any(p.endswith("marker=3") for p in pages)  # one past the last of two pages
    assert any(p.endswith("marker=abc") for p in pages)


def test_generate_is_deterministic_bounded_and_covers_every_family() -> None:
    one, two = generate([POOLS, ALARMS], 60, seed=7), generate([POOLS, ALARMS], 60, seed=7)
    assert one == two and len(one) == 60
    assert {q.family for q in one} == {q.family for q in every_query([POOLS, ALARMS])}
    assert generate([POOLS, ALARMS], 60, seed=8) != one
    assert generate([POOLS], None) == every_query([POOLS])


def test_normalise_only_what_is_documented() -> None:
    doc = {"serviceUri": "http://127.0.0.1:5/o2ims", "subscriptionId": "s-1", "other": "Subscription s-1 gone",
           "alarmAcknowledgeTime": "2026-01-01T00:00:00", "alarmRaisedTime": "2026-01-01T00:00:00",
           "list": [{"subscriptionId": "s-2"}]}
    assert normalise(doc, "http://127.0.0.1:5", frozenset({"s-1"})) == {
        "serviceUri": "<base>/o2ims", "subscriptionId": "<generated>", "other": "Subscription <generated> gone",
        "alarmAcknowledgeTime": "<time>", "alarmRaisedTime": "2026-01-01T00:00:00", "list": [{"subscriptionId": "s-2"}]}


def test_differences_name_each_aspect() -> None:
    query = Query("list", "GET", "/x")
    a = Answer(200, "application/json", "2", None, [1, 2])
    assert differences(query, a, a) == []
    b = Answer(400, "application/json", None, None, {"status": 400})
    assert [d.aspect for d in differences(query, a, b)] == ["status", "x-total-count", "body"]
