"""Matching rules, the cassette index, replay cursors and the closest miss (issue 3, §2, §3, §5)."""

from __future__ import annotations

import pytest

from replayer.cassettes.model import Interaction, InteractionKind, InteractionMeta, Request, Response
from replayer.matching import (
    DEFAULT_MATCH_ON,
    CassetteIndex,
    Cursors,
    MatchOn,
    OnExhausted,
    canonical_body,
    request_key,
)


def req(method: str = "GET", uri: str = "http://a/x", body: bytes = b"", **headers: str) -> Request:
    return Request(method, uri, {k.replace("_", "-"): [v] for k, v in headers.items()}, body)


SAME = [
    ("trailing slash", req(uri="http://a/x/y/"), req(uri="http://a/x/y")),
    ("percent-encoded unreserved", req(uri="http://a/x/%79"), req(uri="http://a/x/y")),
    ("double slash", req(uri="http://a//x//y"), req(uri="http://a/x/y")),
    ("query order", req(uri="http://a/x?b=2&a=1"), req(uri="http://a/x?a=1&b=2")),
    ("query encoding", req(uri="http://a/x?f=(eq,name,a%20b)"), req(uri="http://a/x?f=(eq,name,a b)")),
    ("method case", req(method="get"), req(method="GET")),
    ("host and scheme", req(uri="https://o2ims.real:8443/x"), req(uri="http://127.0.0.1:30205/x")),
    ("JSON key order and whitespace", req("POST", body=b'{"b": 1,\n "a": [1, 2]}'),
     req("POST", body=b'{"a":[1,2],"b":1}')),
    ("headers ignored by default", req(X_Tenant="a"), req(X_Tenant="b")),
]

DIFFERENT = [
    ("method", req("GET"), req("DELETE")),
    ("path", req(uri="http://a/x/y"), req(uri="http://a/x/z")),
    ("query value", req(uri="http://a/x?a=1"), req(uri="http://a/x?a=2")),
    ("extra query parameter", req(uri="http://a/x?a=1"), req(uri="http://a/x?a=1&b=")),
    ("JSON value", req("POST", body=b'{"a": 1}'), req("POST", body=b'{"a": 2}')),
    ("text body", req("POST", body=b"a=1"), req("POST", body=b"a=2")),
]


@pytest.mark.parametrize(("name", "a", "b"), SAME, ids=[s[0] for s in SAME])
def test_equivalent_requests_have_equal_keys(name: str, a: Request, b: Request) -> None:
    assert request_key(a) == request_key(b)


@pytest.mark.parametrize(("name", "a", "b"), DIFFERENT, ids=[s[0] for s in DIFFERENT])
def test_different_requests_have_different_keys(name: str, a: Request, b: Request) -> None:
    assert request_key(a) != request_key(b)


@pytest.mark.parametrize(("spec", "a", "b", "equal"), [
    ("method,path", req(uri="http://a/x?a=1"), req(uri="http://a/x?a=2"), True),
    ("method,path,query,headers:X-Tenant", req(X_Tenant="a"), req(X_Tenant="b"), False),
    ("method,path,query,headers:X-Tenant", req(X_Tenant="a"), req(x_tenant="a"), True),
    ("method,path,host", req(uri="http://a/x"), req(uri="http://b/x"), False),
    ("method,path,scheme", req(uri="http://a/x"), req(uri="https://a/x"), False),
    ("path", req("GET"), req("POST"), True),
])
def test_match_on_selects_the_compared_parts(spec: str, a: Request, b: Request, equal: bool) -> None:
    mo = MatchOn.parse(spec)
    assert (request_key(a, mo) == request_key(b, mo)) is equal


def test_match_on_parse_round_trips_and_rejects_unknown_parts() -> None:
    mo = MatchOn.parse("method, path,headers:X-A, host")
    assert str(mo) == "method,path,host,headers:x-a"
    assert MatchOn.parse(str(DEFAULT_MATCH_ON)) == DEFAULT_MATCH_ON
    with pytest.raises(ValueError, match="unknown match_on part 'bodyy'.*method, path, query"):
        MatchOn.parse("method,bodyy")


def test_canonical_body_keeps_non_json_bytes() -> None:
    assert canonical_body(b"{not json") == b"{not json"
    assert canonical_body(b' {"b":1, "a":{"d":1,"c":2}} ') == b'{"a":{"c":2,"d":1},"b":1}'


def inter(method: str, uri: str, body: bytes = b"", status: int = 200, text: str = "",
          kind: InteractionKind = InteractionKind.API) -> Interaction:
    return Interaction(Request(method, uri, {}, body), Response(status, "", {}, text.encode()), InteractionMeta(kind))


def test_index_keeps_sequences_in_recorded_order_across_cassettes() -> None:
    index: CassetteIndex[None] = CassetteIndex([
        ("a.yaml", [inter("GET", "http://h/pr/1", text="PENDING"), inter("GET", "http://h/other")]),
        ("b.yaml", [inter("GET", "http://h/pr/1/", text="FULFILLED"),
                    inter("POST", "http://h/cb", kind=InteractionKind.NOTIFICATION)]),
    ])
    seq = index.lookup(request_key(req(uri="http://x/pr/1")))
    assert seq is not None
    assert [r.source for r in seq] == ["a.yaml#0", "b.yaml#0"]
    assert len(index) == 3  # the notification is not something a client asks for
    assert index.lookup(request_key(req("POST", "http://h/cb"))) is None


@pytest.mark.parametrize(("mode", "expected"), [
    (OnExhausted.REPEAT_LAST, ["1", "2", "3", "3", "3"]),
    (OnExhausted.CYCLE, ["1", "2", "3", "1", "2"]),
    (OnExhausted.NOT_FOUND, ["1", "2", "3", None, None]),
])
def test_cursors_play_in_order_then_follow_on_exhausted(mode: OnExhausted, expected: list[str | None]) -> None:
    index: CassetteIndex[None] = CassetteIndex([("c", [inter("GET", "http://h/s", text=t) for t in "123"])])
    key = request_key(req(uri="http://h/s"))
    seq = index.lookup(key)
    assert seq is not None
    cursors = Cursors(mode)
    got = [r.interaction.response.body.decode() if (r := cursors.pick("s", key, seq)) else None for _ in range(5)]
    assert got == expected


def test_cursors_are_per_session_and_reset_per_session() -> None:
    index: CassetteIndex[None] = CassetteIndex([("c", [inter("GET", "http://h/s", text=t) for t in "12"])])
    key = request_key(req(uri="http://h/s"))
    seq = index.lookup(key)
    assert seq is not None
    cursors = Cursors()
    body = lambda s: cursors.pick(s, key, seq).interaction.response.body  # type: ignore[union-attr]  # noqa: E731
    assert [body("a"), body("a"), body("b")] == [b"1", b"2", b"1"]
    cursors.reset("a")
    assert [body("a"), body("b")] == [b"1", b"2"]
    cursors.reset()
    assert body("b") == b"1"


def test_nearest_ranks_and_names_what_differs() -> None:
    index: CassetteIndex[None] = CassetteIndex([("c", [
        inter("GET", "http://h/o2/v1/resourcePools?filter=(eq,name,a)"),
        inter("POST", "http://h/o2/v1/subscriptions", body=b'{"callback": "http://x", "filter": "a"}'),
        inter("GET", "http://h/o2/v1/deploymentManagers"),
    ])])
    near = index.nearest(request_key(req(uri="http://h/o2/v1/resourcePools?filter=(eq,name,b)")))
    assert near[0].source == "c#0"
    assert near[0].differences == ("query parameter filter: '(eq,name,b)', recorded '(eq,name,a)'",)
    near = index.nearest(request_key(req("POST", "http://h/o2/v1/subscriptions", body=b'{"callback": "http://y"}')))
    assert near[0].source == "c#1"
    assert near[0].differences == ('body field callback: "http://y", recorded "http://x"',
                                   'body field filter: missing, recorded "a"')
    near = index.nearest(request_key(req("DELETE", "http://h/o2/v1/deploymentManagers")))
    assert near[0].source == "c#2"
    assert near[0].differences == ("method: DELETE, recorded GET",)
    assert [n.score for n in near] == sorted(n.score for n in near)


def test_nearest_finds_a_sibling_among_many_recordings() -> None:
    fillers = [inter("GET", f"http://h/o2/v1/resourcePools/p{i}/resources/r{i}") for i in range(5000)]
    index: CassetteIndex[None] = CassetteIndex([("c", [*fillers, inter("GET", "http://h/o2/v1/deploymentManagers/dm-1")])])
    near = index.nearest(request_key(req(uri="http://h/o2/v1/deploymentManagers/dm-2")))
    assert near[0].source == "c#5000"
    assert near[0].differences == ("path: /o2/v1/deploymentManagers/dm-2, recorded /o2/v1/deploymentManagers/dm-1",)


def test_a_credential_in_the_query_matches_its_redaction_placeholder() -> None:
    from replayer.matching import key_from_parts, normalise_query

    recorded = "access_token=%3Credacted%3Aaccess_token%3E&filter=(eq,name,a)"
    sent = "filter=(eq,name,a)&access_token=eyJhbGciOiJIUzI1NiJ9.real"
    assert normalise_query(recorded) == normalise_query(sent)
    assert normalise_query("filter=(eq,name,a)") != normalise_query("filter=(eq,name,b)")
    assert key_from_parts(MatchOn.parse("method,path,query"), "GET", "/x", recorded) == \
        key_from_parts(MatchOn.parse("method,path,query"), "GET", "/x", sent)
