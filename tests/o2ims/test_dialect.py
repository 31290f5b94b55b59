"""The two O2IMS dialects: each rule that differs, against both dialects (pure: dicts in, dicts out)."""

from __future__ import annotations

from typing import Any

import pytest

from replayer.o2ims.dialect import Dialect, default_attributes, infer_dialect, parse_dialect, rules, serves
from replayer.o2ims.listing import item_answer, list_answer, view_of
from replayer.o2ims.problem import build_problem, problem_body
from replayer.o2ims.query import QueryError
from replayer.o2ims.routes import ROUTES_BY_TEMPLATE, match_route

KNI, SC = Dialect.OPENSHIFT_KNI, Dialect.O_RAN_SC
INV = "/o2ims-infrastructureInventory/v1"
POOLS_PATH = f"{INV}/resourcePools"
POOLS = [
    {"resourcePoolId": f"p{i}", "name": f"pool-{i}", "description": "d", "oCloudId": "c", "globalLocationId": "g",
     "location": "rack", "extensions": {"site": f"edge{i}", "cpu": i}}
    for i in (3, 1, 2)
]


def route(path: str) -> Any:
    found = match_route(path)
    assert found is not None
    return found[0]


def listing(dialect: Dialect, *pairs: tuple[str, str], items: list[dict[str, Any]] = POOLS,
            page_size: int | None = None, raw_query: str = "") -> tuple[list[dict[str, Any]], dict[str, str]]:
    body, headers = list_answer(items, list(pairs), view_of(dialect, route(POOLS_PATH), page_size=page_size),
                                path=POOLS_PATH, raw_query=raw_query, base_url="http://h:1")
    return body, dict(headers)


def test_parse_dialect_lists_the_valid_values() -> None:
    assert parse_dialect(" O-RAN-SC ") is SC
    with pytest.raises(ValueError, match="openshift-kni, o-ran-sc"):
        parse_dialect("oran")


@pytest.mark.parametrize(("template", "kni", "sc"), [
    (f"{INV}/resourcePools", True, True),
    ("/o2ims-infrastructureInventory/v2/resourcePools", True, False),
    (f"{INV}/alarmDictionaries", True, False),
    ("/o2ims-infrastructureProvisioning/v1/provisioningRequests", True, False),
    ("/o2ims-infrastructureMonitoring/v1/alarmServiceConfiguration", True, True),
])
def test_routes_per_dialect(template: str, kni: bool, sc: bool) -> None:
    r = ROUTES_BY_TEMPLATE[template]
    assert (serves(KNI, r), serves(SC, r)) == (kni, sc)


def test_problem_shapes() -> None:
    kni = problem_body(404, "pool 'x' not found", dialect=KNI, path=f"{POOLS_PATH}/x", base_url="http://h:1",
                       attributes={"resourcePoolId": "x"})
    assert kni == {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "pool 'x' not found",
                   "instance": f"http://h:1{POOLS_PATH}/x", "additionalAttributes": {"resourcePoolId": "x"}}
    sc = problem_body(404, "Resource pool x doesn't exist", dialect=SC, path=f"{POOLS_PATH}/x",
                      base_url="http://h:1", attributes={"resourcePoolId": "x"})
    # o2common/views/route_exception.py ProblemDetails: werkzeug's "<code> <Name>: ", [] instance, path type.
    assert sc == {"detail": "404 Not Found: Resource pool x doesn't exist", "instance": [], "status": 404,
                  "title": "Not Found", "type": f"{POOLS_PATH}/x"}
    assert list(sc) == sorted(sc)
    assert problem_body(405, "x", dialect=SC, path="/p")["detail"] == (
        "405 Method Not Allowed: The method is not allowed for the requested URL.")
    built = build_problem(400, "bad", dialect=SC, path="/p")
    assert (built.content_type, built.reason) == ("application/json", "BAD REQUEST")
    built = build_problem(400, "bad", dialect=KNI, path="/p")
    assert (built.content_type, built.reason) == ("application/problem+json", None)


def test_fields_projects_in_openshift_kni_and_adds_in_o_ran_sc() -> None:
    kni, _ = listing(KNI, ("fields", "name"))
    assert kni[0] == {"resourcePoolId": "p3", "name": "pool-3"}
    sc, _ = listing(SC, ("fields", "extensions"))
    # pti-o2: the default attribute set always stays, fields adds to it; lists come sorted by id.
    assert sc[0] == {"resourcePoolId": "p1", "name": "pool-1", "description": "d", "oCloudId": "c",
                     "globalLocationId": "g", "extensions": {"site": "edge1", "cpu": 1}}


def test_default_answers() -> None:
    kni, _ = listing(KNI)
    assert kni[0] == POOLS[0]
    sc, _ = listing(SC)
    assert set(sc[0]) == set(default_attributes(SC, route(POOLS_PATH)) or ()) - {"parentId"}
    everything, _ = listing(SC, ("all_fields", ""))
    assert everything[0] == POOLS[1]


def test_unknown_selector_attribute() -> None:
    with pytest.raises(QueryError) as info:
        listing(SC, ("fields", "nosuch"))
    assert info.value.detail(o_ran_sc=True) == "Selector attribute nosuch not found"
    kni, _ = listing(KNI, ("fields", "nosuch"))  # openshift-kni projects what exists
    assert kni[0] == {"resourcePoolId": "p3"}


def test_exclude_fields_and_exclude_default() -> None:
    sc, _ = listing(SC, ("exclude_fields", "description"))
    assert "description" in sc[0] and "extensions" in sc[0]  # a default attribute stays; the rest are added
    sc, _ = listing(SC, ("exclude_fields", "extensions"))
    assert "extensions" not in sc[0] and "location" in sc[0]
    sc, _ = listing(SC, ("exclude_default", "true"))
    assert sc == [{}, {}, {}]
    kni, _ = listing(KNI, ("exclude_default", "true"))
    assert "extensions" not in kni[0] and kni[0]["name"] == "pool-3"


def test_o_ran_sc_alarms_have_no_default_set() -> None:
    alarms = view_of(SC, route("/o2ims-infrastructureMonitoring/v1/alarms"))
    item = {"alarmEventRecordId": "a", "perceivedSeverity": "1", "extensions": {}}
    shown = item_answer(item, [], alarms)
    # Every attribute of the model, null where the record has none, and nothing the model lacks.
    assert shown["perceivedSeverity"] == "1" and shown["alarmAcknowledgeTime"] is None and "extensions" not in shown
    with pytest.raises(QueryError) as info:
        item_answer(item, [("fields", "perceivedSeverity")], alarms)
    assert info.value.detail(o_ran_sc=True) == "Selector attribute None not found"
    with pytest.raises(QueryError) as info:
        item_answer(item, [("fields", "nosuch")], alarms)
    assert info.value.detail(o_ran_sc=True) == "Selector attribute nosuch not found"
    subs = view_of(SC, route("/o2ims-infrastructureMonitoring/v1/alarmSubscriptions"))
    with pytest.raises(QueryError) as info:  # an empty list still knows its model's attributes
        list_answer([], [("filter", "(eq,nosuch,x)")], subs, path="/p")
    assert info.value.detail(o_ran_sc=True) == "Filter attrName nosuch is invalid"
    assert list_answer([], [("filter", "")], subs, path="/p") == ([], [("X-Total-Count", "0")])


def test_paging_by_page_number() -> None:
    page2, headers2 = listing(SC, ("nextpage_opaque_marker", "2"), page_size=1, raw_query="nextpage_opaque_marker=2")
    assert [p["resourcePoolId"] for p in page2] == ["p2"]
    assert headers2["X-Total-Count"] == "3"
    assert headers2["Link"] == (
        f'<{POOLS_PATH}?nextpage_opaque_marker=1>; rel="first",<{POOLS_PATH}?nextpage_opaque_marker=1>; '
        f'rel="prev",<{POOLS_PATH}?nextpage_opaque_marker=3>; rel="next",<{POOLS_PATH}?nextpage_opaque_marker=3>;'
        ' rel="last"')
    _, first = listing(SC, page_size=1, raw_query="fields=name")
    assert first["Link"].startswith(f'<{POOLS_PATH}?fields=name&nextpage_opaque_marker=2>; rel="next"')
    with pytest.raises(QueryError) as info:
        listing(SC, ("nextpage_opaque_marker", "4"), page_size=1)
    assert info.value.detail(o_ran_sc=True) == "Page size 4 bad request."
    empty, headers = listing(SC, ("filter", "(eq,name,none)"))
    assert (empty, headers) == ([], {"X-Total-Count": "0"})
    assert rules(SC).default_page_size == 30


def test_paging_by_opaque_marker() -> None:
    page, headers = listing(KNI, page_size=2)
    assert len(page) == 2 and "X-Total-Count" not in headers and headers["Link"].endswith('rel="next"')


def test_singletons_keep_their_id_and_exclusions_leave_no_empty_object() -> None:
    ocloud = {"oCloudId": "c", "globalCloudId": "g", "name": "n", "extensions": {"a": "1"}}
    view = view_of(KNI, route("/o2ims-infrastructureInventory/v2"))
    assert item_answer(ocloud, [("fields", "name")], view) == {"oCloudId": "c", "name": "n"}
    both = item_answer(ocloud, [("fields", "extensions/a"), ("exclude_fields", "extensions/a")], view)
    assert both == {"oCloudId": "c"}


def exchange(uri: str, status: int = 200, headers: dict[str, str] | None = None,
             body: bytes = b"[]") -> tuple[str, int, dict[str, str], bytes]:
    return uri, status, headers or {}, body


def test_inference() -> None:
    sc = infer_dialect([
        exchange(f"http://h{POOLS_PATH}", headers={"x-total-count": "3"}),
        exchange(f"http://h{POOLS_PATH}/x", 404, {"content-type": "application/json"},
                 b'{"detail": "404 Not Found: x", "instance": [], "status": 404}'),
    ])
    assert sc.dialect is SC and "X-Total-Count" in sc.describe()
    kni = infer_dialect([
        exchange("http://h/o2ims-infrastructureInventory/v2/resourcePools"),
        exchange(f"{POOLS_PATH}/x", 404, {"content-type": "application/problem+json"}, b'{"status": 404}'),
        exchange(f"{POOLS_PATH}?nextpage_opaque_marker=NS4xMjM"),
    ])
    assert kni.dialect is KNI
    assert infer_dialect([exchange(POOLS_PATH)]).dialect is None
