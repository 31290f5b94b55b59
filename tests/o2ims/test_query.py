"""O2IMS query semantics (ETSI GS NFV-SOL 013 5.2-5.4): filters, attribute selectors, paging."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from replayer.o2ims.problem import problem_body
from replayer.o2ims.query import (
    EMPTY_QUERY,
    Page,
    Query,
    QueryError,
    Term,
    Value,
    matches,
    next_link,
    parse_filter,
    parse_query,
    project,
    select,
)

POOLS: list[dict[str, Any]] = [
    {
        "resourcePoolId": "p1",
        "name": "edge1-compute",
        "description": "Compute pool, rack A",
        "cores": 128,
        "ratio": 0.5,
        "enabled": True,
        "tags": ["x86_64", "sriov"],
        "extensions": {"site": "edge1", "country": "ES", "nodes": 4, "gpu": None},
        "members": [{"memberId": "m1", "role": "worker"}, {"memberId": "m2", "role": "master"}],
    },
    {
        "resourcePoolId": "p2",
        "name": "edge2 storage",
        "description": "Storage, (NVMe); 'fast'",
        "cores": 16,
        "ratio": 1.25,
        "enabled": False,
        "tags": ["nvme"],
        "extensions": {"site": "edge2", "country": "US", "nodes": 5},
        "members": [{"memberId": "m3", "role": "worker"}],
    },
    {
        "resourcePoolId": "p3",
        "name": "edge3,network",
        "description": "Network",
        "cores": 9,
        "ratio": 2,
        "enabled": True,
        "tags": [],
        "extensions": {"site": "edge3", "country": "ES"},
    },
]


def ids(query: Query, items: list[dict[str, Any]] = POOLS) -> list[str]:
    return [item["resourcePoolId"] for item in select(items, query).items]


def q(**params: str) -> Query:
    return parse_query(params.items())


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # eq / neq on strings, numbers, booleans
        ("(eq,name,edge1-compute)", ["p1"]),
        ("(neq,name,edge1-compute)", ["p2", "p3"]),
        ("(eq,cores,16)", ["p2"]),
        ("(eq,cores,16.0)", ["p2"]),  # numbers compare numerically
        ("(eq,ratio,2)", ["p3"]),
        ("(eq,cores,abc)", []),  # not a number: never equal ...
        ("(neq,cores,abc)", ["p1", "p2", "p3"]),  # ... so always unequal
        ("(eq,enabled,true)", ["p1", "p3"]),
        ("(eq,enabled,false)", ["p2"]),
        ("(neq,enabled,true)", ["p2"]),
        ("(eq,enabled,'true')", ["p1", "p3"]),
        ("(eq,enabled,yes)", []),
        # ordering: numbers numerically, strings lexically
        ("(gt,cores,16)", ["p1"]),
        ("(gte,cores,16)", ["p1", "p2"]),
        ("(lt,cores,16)", ["p3"]),
        ("(lte,cores,16)", ["p2", "p3"]),
        ("(gt,cores,9.5)", ["p1", "p2"]),
        ("(lt,ratio,1)", ["p1"]),
        ("(gt,name,edge2)", ["p2", "p3"]),
        ("(lt,name,edge2)", ["p1"]),
        ("(gt,description,N)", ["p2", "p3"]),
        ("(gt,description,Network)", ["p2"]),
        ("(gt,enabled,false)", ["p1", "p3"]),
        # in / nin take lists
        ("(in,name,edge1-compute,'edge3,network')", ["p1", "p3"]),
        ("(nin,name,edge1-compute,'edge3,network')", ["p2"]),
        ("(in,cores,9,128)", ["p1", "p3"]),
        ("(in,name,nothing)", []),
        # cont / ncont: substring, case-sensitive, lists mean "any of"
        ("(cont,description,pool)", ["p1"]),
        ("(cont,description,Pool)", []),
        ("(cont,description,rack,Network)", ["p1", "p3"]),
        ("(ncont,description,rack,Network)", ["p2"]),
        ("(cont,cores,12)", []),  # cont applies to strings only
        # nested attributes
        ("(eq,extensions/site,edge2)", ["p2"]),
        ("(eq,extensions/country,ES)", ["p1", "p3"]),
        ("(gte,extensions/nodes,5)", ["p2"]),
        ("(neq,extensions/nodes,4)", ["p2", "p3"]),  # absent counts as not equal
        # arrays: a match on any element
        ("(eq,tags,sriov)", ["p1"]),
        ("(cont,tags,nv)", ["p2"]),
        ("(neq,tags,nvme)", ["p1", "p3"]),  # no element equals
        ("(in,tags,nvme,sriov)", ["p1", "p2"]),
        ("(eq,members/role,master)", ["p1"]),
        ("(eq,members/role,worker)", ["p1", "p2"]),
        ("(neq,members/role,worker)", ["p3"]),
        # null: absent or JSON null
        ("(eq,extensions/gpu,null)", ["p1", "p2", "p3"]),
        ("(neq,extensions/nodes,null)", ["p1", "p2"]),
        ("(eq,members,null)", ["p3"]),
        ("(eq,name,'null')", []),  # quoted: the string
        ("(gt,cores,null)", []),
        # quoting
        ("(eq,name,'edge2 storage')", ["p2"]),
        ("(eq,name,edge2 storage)", ["p2"]),  # spaces need no quotes
        ("(eq,name,'edge3,network')", ["p3"]),
        ("(eq,description,'Storage, (NVMe); ''fast''')", ["p2"]),
        ("(cont,description,'''fast''')", ["p2"]),
        ("(cont,description,'(NVMe);')", ["p2"]),
        ("(eq,resourcePoolId,p1)", ["p1"]),
        # combined terms: AND
        ("(eq,extensions/country,ES);(gt,cores,100)", ["p1"]),
        ("(eq,extensions/country,ES);(eq,enabled,true);(lt,cores,10)", ["p3"]),
        ("(eq,extensions/country,ES);(eq,extensions/country,US)", []),
        ("(cont,name,edge);(cont,name,edge)", ["p1", "p2", "p3"]),
    ],
)
def test_filter(expr: str, expected: list[str]) -> None:
    assert ids(q(filter=expr)) == expected
    assert [p["resourcePoolId"] for p in POOLS if matches(p, expr)] == expected


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("eq,name,x", "filter: expected '(' to open term 1, found 'e' at character 1 in 'eq,name,x'"),
        ("(eqq,name,x)", "filter: unknown operator 'eqq' in term 1 (valid: cont, eq, gt, gte, in, lt, lte, ncont, "
         "neq, nin) at character 2 in '(eqq,name,x)'"),
        ("(EQ,name,x)", "filter: unknown operator 'EQ' in term 1"),
        ("(,name,x)", "filter: missing operator in term 1"),
        ("(eq,name,x,y)", "filter: operator 'eq' takes exactly one value, got 2 in term 1 '(eq,name,x,y)' "
         "(in, nin, cont and ncont take a list)"),
        ("(gt,cores,1,2)", "filter: operator 'gt' takes exactly one value, got 2"),
        ("(eq,name,'x)", "filter: unterminated quoted value at character 10 in \"(eq,name,'x)\""),
        ("(eq,name,'x'y)", "filter: expected ',' or ')' after a quoted value at character 13"),
        ("(eq,name,x'y')", "filter: a quote inside a value; quote the whole value and double the quote ('') at "
         "character 11"),
        ("(eq,name,x);", "filter: expected '(' to open term 2, found nothing at end of expression in '(eq,name,x);'"),
        ("(eq,name,x);;(eq,name,y)", "filter: expected '(' to open term 2, found ';' at character 13"),
        ("(eq,name,x)(eq,name,y)", "filter: expected ';' between terms at character 12"),
        ("(eq,,x)", "filter: missing attribute name at character 5 in '(eq,,x)'"),
        ("(eq,extensions//site,x)", "filter: empty segment in attribute path 'extensions//site' at character 5"),
        ("(eq,/site,x)", "filter: empty segment in attribute path '/site'"),
        ("(eq,name)", "filter: expected ',' after attribute 'name' (every term needs a value), found ')' at "
         "character 9"),
        ("(eq,name,)", "filter: empty value at character 10 in '(eq,name,)'"),
        ("(in,name,a,)", "filter: empty value at character 12"),
        ("(eq,name,x", "filter: expected ')' to close term 1, found nothing at end of expression"),
        ("(eq,name,x))", "filter: expected ';' between terms at character 12"),
        ("(eq,name,(x))", "filter: empty value at character 10"),
        ("", "filter: empty filter expression"),
        ("(eq,nope,x)", "filter: unknown attribute 'nope' in term '(eq,nope,x)'"),
        ("(eq,extensions/nope,x)", "filter: unknown attribute 'extensions/nope'"),
        ("(eq,Name,x)", "filter: unknown attribute 'Name'"),  # attribute names are case-sensitive
        ("(eq,name,x);(eq,nope,x)", "filter: unknown attribute 'nope' in term '(eq,nope,x)'"),
    ],
)
def test_bad_filter(expr: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        select(POOLS, q(filter=expr))
    assert str(info.value).startswith(message)
    assert info.value.param == "filter"


def test_attribute_of_one_item_is_known() -> None:
    # extensions/gpu exists only in p1: that is enough for the attribute to be known.
    assert ids(q(filter="(eq,extensions/gpu,null)")) == ["p1", "p2", "p3"]
    assert ids(q(filter="(eq,members/memberId,m3)")) == ["p2"]


def test_unknown_attribute_in_empty_collection_is_accepted() -> None:
    assert select([], q(filter="(eq,anything,x)")) == Page([], None, 0)


@pytest.mark.parametrize(
    ("obj", "expr", "expected"),
    [
        ({"a": "s"}, "(eq,a/b,null)", True),  # through a scalar: absent
        ({"a": "s"}, "(neq,a/b,x)", True),
        ({"a": "s"}, "(eq,a/b,x)", False),
        ({"a": [{"b": 1}, {"c": 2}]}, "(eq,a/b,1)", True),  # through an array of objects
        ({"a": [{"b": 1}, {"c": 2}]}, "(eq,a/c,2)", True),
        ({"a": [{"b": 1}, {"c": 2}]}, "(gt,a/b,1)", False),
        ({"a": [[1, 2], [3]]}, "(eq,a,3)", False),  # nested arrays are not flattened twice
        ({"a": []}, "(eq,a,null)", True),  # an empty array has no value
        ({"a": []}, "(neq,a,x)", True),
        ({"a": {"b": None}}, "(eq,a/b,null)", True),
        ({"a": {"b": None}}, "(neq,a/b,null)", False),
        ({"a": {"b": None}}, "(in,a/b,x,null)", True),
        ({"a": {"b": None}}, "(nin,a/b,null)", False),
        ({"a": {"b": 0}}, "(eq,a/b,false)", False),  # 0 is a number, not a boolean
        ({"a": True}, "(eq,a,1)", False),  # and true is not 1
        ({"a": 10}, "(gt,a,9)", True),  # numerically, where strings would say "10" < "9"
        ({"a": "10"}, "(gt,a,9)", False),  # a string compares lexically
        ({"a": 1e300}, "(gt,a,1e299)", True),
        ({"a": 1}, "(eq,a,inf)", False),  # non-finite numbers are not numbers here
        ({"a": 12345678901234567890}, "(eq,a,12345678901234567890)", True),  # big ints stay exact
        ({"a": 12345678901234567890}, "(eq,a,12345678901234567891)", False),
        ({"a": "x"}, "(cont,a,null)", False),
        ({"a": {"b": 1}}, "(eq,a,1)", False),  # an object never matches
        ({"a": {"b": 1}}, "(neq,a,1)", True),
    ],
)
def test_matches_edge_cases(obj: dict[str, Any], expr: str, expected: bool) -> None:
    assert matches(obj, expr) is expected
    from collections import OrderedDict

    assert matches(OrderedDict(obj), expr) is expected  # dict subclasses take the general path


def test_matches_does_not_check_attributes() -> None:
    # Subscription filters meet one object at a time: an absent attribute simply does not match.
    assert not matches({"a": 1}, "(eq,b,1)")
    assert matches({"a": 1}, "(neq,b,1)")
    assert matches({"a": 1}, "")
    assert matches({"a": 1}, None)
    with pytest.raises(QueryError):
        matches({"a": 1}, "(eq,b")


def test_parse_filter_terms() -> None:
    terms = parse_filter("(in,extensions/site,'a,b',c);(eq,x,null)")
    assert terms == (
        Term("in", ("extensions", "site"), (Value("a,b", quoted=True), Value("c"))),
        Term("eq", ("x",), (Value("null"),)),
    )
    assert terms[0].attribute == "extensions/site"
    assert terms[0].source == "(in,extensions/site,'a,b',c)"
    assert terms[1].values[0].is_null and not Value("null", quoted=True).is_null


# ------------------------------------------------------------------------------------------------ selectors

DM = {
    "deploymentManagerId": "d1",
    "name": "edge1",
    "capabilities": {"helm": True},
    "capacity": {"cpu": 4},
    "extensions": {"country": "ES", "hub": "hub0", "profileData": {"a": 1}},
    "elements": [{"resourceId": "r1", "extensions": {"x": 1}}, {"resourceId": "r2"}],
}
DEFAULTS = ("capabilities", "capacity", "extensions")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, DM),
        ({"fields": "name"}, {"name": "edge1"}),
        ({"fields": "name,deploymentManagerId"}, {"deploymentManagerId": "d1", "name": "edge1"}),
        ({"fields": "extensions/country"}, {"extensions": {"country": "ES"}}),
        ({"fields": "extensions/country,extensions"}, {"extensions": DM["extensions"]}),
        ({"fields": "extensions,extensions/country"}, {"extensions": DM["extensions"]}),
        ({"fields": "elements/resourceId"}, {"elements": [{"resourceId": "r1"}, {"resourceId": "r2"}]}),
        ({"fields": "nope"}, {}),  # unknown selectors select nothing and are not an error
        ({"exclude_fields": "extensions"}, {k: v for k, v in DM.items() if k != "extensions"}),
        ({"exclude_fields": "extensions/profileData,capacity"},
         {**{k: v for k, v in DM.items() if k != "capacity"}, "extensions": {"country": "ES", "hub": "hub0"}}),
        ({"exclude_fields": "elements/extensions"},
         {**DM, "elements": [{"resourceId": "r1"}, {"resourceId": "r2"}]}),
        ({"exclude_fields": "nope"}, DM),
        # exclude_fields wins over fields
        ({"fields": "name,extensions", "exclude_fields": "extensions/profileData"},
         {"name": "edge1", "extensions": {"country": "ES", "hub": "hub0"}}),
        ({"fields": "name", "exclude_fields": "name"}, {}),
        # exclude_default drops the route's default set; with fields, the listed ones come back
        ({"exclude_default": ""}, {"deploymentManagerId": "d1", "name": "edge1", "elements": DM["elements"]}),
        ({"exclude_default": "true"}, {"deploymentManagerId": "d1", "name": "edge1", "elements": DM["elements"]}),
        ({"exclude_default": "false"}, DM),
        ({"exclude_default": "", "fields": "capacity"},
         {"deploymentManagerId": "d1", "name": "edge1", "capacity": {"cpu": 4}, "elements": DM["elements"]}),
        ({"exclude_default": "", "exclude_fields": "elements"}, {"deploymentManagerId": "d1", "name": "edge1"}),
        ({"all_fields": ""}, DM),
        ({"all_fields": "true"}, DM),
        ({"all_fields": "false"}, DM),
    ],
)
def test_project(params: dict[str, str], expected: dict[str, Any]) -> None:
    query = q(**params)
    result = project(DM, query, default_excluded=DEFAULTS)
    assert result == expected
    assert list(result) == [k for k in DM if k in result]  # key order kept
    assert select([DM], query, default_excluded=DEFAULTS).items == [expected]


def test_project_does_not_touch_the_input() -> None:
    before = repr(DM)
    project(DM, q(exclude_fields="extensions/profileData,elements/extensions"), default_excluded=DEFAULTS)
    project(DM, q(exclude_default=""), default_excluded=DEFAULTS)
    assert repr(DM) == before


@pytest.mark.parametrize(
    ("params", "param", "message"),
    [
        ({"all_fields": "", "exclude_default": ""}, "all_fields",
         "all_fields: cannot be combined with exclude_default"),
        ({"all_fields": "", "fields": "a"}, "all_fields", "all_fields: cannot be combined with fields"),
        ({"all_fields": "", "fields": "a", "exclude_fields": "b"}, "all_fields",
         "all_fields: cannot be combined with fields, exclude_fields"),
        ({"fields": ""}, "fields", "fields: empty attribute name in ''"),
        ({"fields": "a,,b"}, "fields", "fields: empty attribute name in 'a,,b'"),
        ({"exclude_fields": "a/"}, "exclude_fields", "exclude_fields: empty attribute name in 'a/'"),
        ({"all_fields": "yes"}, "all_fields", "all_fields: takes no value (or true/false), got 'yes'"),
        ({"exclude_default": "1"}, "exclude_default", "exclude_default: takes no value (or true/false), got '1'"),
        ({"nextpage_opaque_marker": ""}, "nextpage_opaque_marker", "nextpage_opaque_marker: empty marker"),
    ],
)
def test_bad_selectors(params: dict[str, str], param: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        q(**params)
    assert str(info.value) == message
    assert info.value.param == param


# -------------------------------------------------------------------------------------------------- parsing


def test_parse_query_fast_path_and_flags() -> None:
    assert parse_query([]) is EMPTY_QUERY
    assert parse_query([("limit", "5"), ("offset", "2")]) is EMPTY_QUERY
    assert EMPTY_QUERY.is_empty and not EMPTY_QUERY.has_selection
    assert parse_query([], page_size=10).page_size == 10
    assert parse_query([], page_size=10).is_empty
    query = parse_query(
        [("filter", "(eq,a,1)"), ("x", "y"), ("filter", "(eq,b,2)"), ("fields", "a"), ("fields", "b/c")]
    )
    assert [t.attribute for t in query.filter] == ["a", "b"]
    assert query.filter_text == "(eq,a,1);(eq,b,2)"
    assert query.fields == (("a",), ("b", "c"))
    assert query.has_selection and not query.is_empty
    assert not q(filter="(eq,a,1)").has_selection
    assert not q(filter="(eq,a,1)").is_empty


def test_query_error_problem() -> None:
    with pytest.raises(QueryError) as info:
        q(filter="(bad")
    e = info.value
    body = problem_body(400, e.detail(), path="/o2ims-infrastructureInventory/v1/resourcePools",
                        base_url="http://127.0.0.1:1", attributes={"param": e.param})
    assert body["status"] == 400
    assert body["title"] == "Bad Request"
    assert body["detail"] == str(e)
    assert body["instance"] == "http://127.0.0.1:1/o2ims-infrastructureInventory/v1/resourcePools"
    assert body["additionalAttributes"] == {"param": "filter"}
    assert isinstance(e, ValueError)
    assert e.detail(o_ran_sc=True) == "Filter operation bad is invalid"


# --------------------------------------------------------------------------------------------------- paging

ITEMS = [{"id": f"i{n:02d}", "n": n, "even": n % 2 == 0} for n in range(25)]


def walk(query_params: list[tuple[str, str]], page_size: int, scope: str = "") -> list[Page]:
    pages = [select(ITEMS, parse_query(query_params), page_size=page_size, scope=scope)]
    for _ in range(100):  # bounded
        marker = pages[-1].next_marker
        if marker is None:
            return pages
        query = parse_query([*query_params, ("nextpage_opaque_marker", marker)])
        pages.append(select(ITEMS, query, page_size=page_size, scope=scope))
    raise AssertionError("paging did not end")


@pytest.mark.parametrize(
    ("params", "size", "lengths"),
    [
        ([], 10, [10, 10, 5]),
        ([], 25, [25]),
        ([], 24, [24, 1]),
        ([], 1, [1] * 25),
        ([], 100, [25]),
        ([("filter", "(eq,even,true)")], 5, [5, 5, 3]),
        ([("filter", "(gt,n,100)")], 5, [0]),
        ([("filter", "(lt,n,20)"), ("fields", "id")], 8, [8, 8, 4]),
    ],
)
def test_paging_walks_every_item_once(params: list[tuple[str, str]], size: int, lengths: list[int]) -> None:
    pages = walk(params, size, scope="/things")
    assert [len(p.items) for p in pages] == lengths
    seen = [item["id"] for page in pages for item in page.items]
    expected = [i["id"] for i in select(ITEMS, parse_query(params)).items]
    assert seen == expected
    assert all(p.total == len(expected) for p in pages)
    assert pages[-1].next_marker is None


def test_no_page_size_means_one_page() -> None:
    page = select(ITEMS, EMPTY_QUERY)
    assert len(page.items) == 25 and page.next_marker is None and page.total == 25


def test_query_page_size_is_the_default() -> None:
    page = select(ITEMS, parse_query([], page_size=10))
    assert len(page.items) == 10 and page.next_marker is not None
    assert len(select(ITEMS, parse_query([], page_size=10), page_size=30).items) == 25


def test_markers_are_deterministic_and_opaque() -> None:
    first = select(ITEMS, EMPTY_QUERY, page_size=10, scope="/a").next_marker
    assert first == select(ITEMS, EMPTY_QUERY, page_size=10, scope="/a").next_marker
    assert first is not None and first.isascii() and "=" not in first and "/" not in first and "+" not in first


def _marker(params: list[tuple[str, str]] = [], scope: str = "/a") -> str:  # noqa: B006
    marker = select(ITEMS, parse_query(params), page_size=10, scope=scope).next_marker
    assert marker is not None
    return marker


def _forge(marker: str, offset: int) -> str:
    raw = base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4)).decode()
    digest = raw.partition(".")[2]
    return base64.urlsafe_b64encode(f"{offset}.{digest}".encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("marker", "params", "scope", "message"),
    [
        ("not-a-marker", [], "/a", "not a marker issued by this server: 'not-a-marker'"),
        ("!!!", [], "/a", "not a marker issued by this server"),
        ("ëë", [], "/a", "not a marker issued by this server"),
        (_forge(_marker(), 3), [], "/a", "does not belong to this query; restart from the first page"),
        (_forge(_marker(), -1), [], "/a", "does not belong to this query"),
        (_marker()[:-2], [], "/a", "nextpage_opaque_marker:"),
        (_marker(), [("filter", "(eq,even,true)")], "/a", "does not belong to this query"),
        (_marker(), [("fields", "id")], "/a", "does not belong to this query"),
        (_marker(), [], "/b", "does not belong to this query"),
        (_marker([("filter", "(eq,even,true)")]), [], "/a", "does not belong to this query"),
    ],
)
def test_marker_tampering_is_rejected(marker: str, params: list[tuple[str, str]], scope: str, message: str) -> None:
    query = parse_query([*params, ("nextpage_opaque_marker", marker)])
    with pytest.raises(QueryError) as info:
        select(ITEMS, query, page_size=10, scope=scope)
    assert message in str(info.value)
    assert info.value.param == "nextpage_opaque_marker"


def test_marker_past_a_shrunk_collection_gives_an_empty_last_page() -> None:
    marker = _marker()
    page = select(ITEMS[:5], parse_query([("nextpage_opaque_marker", marker)]), page_size=10, scope="/a")
    assert page == Page([], None, 5)


def test_bad_page_size() -> None:
    with pytest.raises(ValueError, match="page_size must be at least 1, got 0"):
        select(ITEMS, EMPTY_QUERY, page_size=0)


@pytest.mark.parametrize(
    ("base", "path", "params", "expected"),
    [
        ("http://127.0.0.1:30205", "/o2ims-infrastructureInventory/v1/resourcePools", [], "<http://127.0.0.1:30205"
         "/o2ims-infrastructureInventory/v1/resourcePools?nextpage_opaque_marker=MTA>; rel=\"next\""),
        ("http://h/", "/p", [("filter", "(eq,name,'a b')"), ("nextpage_opaque_marker", "old")],
         "<http://h/p?filter=%28eq%2Cname%2C%27a+b%27%29&nextpage_opaque_marker=MTA>; rel=\"next\""),
    ],
)
def test_next_link(base: str, path: str, params: list[tuple[str, str]], expected: str) -> None:
    assert next_link(base, path, params, "MTA") == expected


def test_fields_keeps_the_identity_key_it_is_given() -> None:
    from replayer.o2ims.query import parse_query, project, select

    q = parse_query([("fields", "name")])
    obj = {"resourceTypeId": "rt-1", "name": "node", "vendor": "acme"}
    assert project(obj, q, keep=("resourceTypeId",)) == {"resourceTypeId": "rt-1", "name": "node"}
    assert project(obj, q) == {"name": "node"}
    assert select([obj], q, keep=("resourceTypeId",)).items == [{"resourceTypeId": "rt-1", "name": "node"}]
    everything = parse_query([("all_fields", "")])
    assert project(obj, everything, keep=("resourceTypeId",)) == obj
