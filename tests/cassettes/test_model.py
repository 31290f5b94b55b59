"""The in-memory cassette model: normalisation of bodies and the vcrpy v1 dictionaries (no IO)."""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

import brotli  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replayer.cassettes.model import (
    Cassette,
    Interaction,
    InteractionKind,
    InteractionMeta,
    Request,
    Response,
    cassette_from_dict,
    header_value,
    interaction_from_dict,
    interaction_to_dict,
    is_json_content,
    normalise_message,
)

DOC = {"resourcePoolId": "p1", "name": "édge1", "extensions": {"n": [1, 2.5, True, None]}}
COMPACT = json.dumps(DOC).encode()
PRETTY = json.dumps(DOC, indent=2, ensure_ascii=False).encode()


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize(("encoding", "encoded"), [
    ("gzip", gzip.compress(COMPACT)),
    ("x-gzip", gzip.compress(COMPACT)),
    ("deflate", zlib.compress(COMPACT)),
    ("deflate", raw_deflate(COMPACT)),
    ("br", brotli.compress(COMPACT)),
    ("identity", COMPACT),
    ("gzip, br", brotli.compress(gzip.compress(COMPACT))),
])
def test_compressed_bodies_are_stored_decoded(encoding: str, encoded: bytes) -> None:
    headers = {"Content-Type": ["application/json"], "Content-Encoding": [encoding],
               "Content-Length": [str(len(encoded))]}
    out_headers, body = normalise_message(headers, encoded)
    assert body == PRETTY
    assert header_value(out_headers, "content-encoding") is None
    assert out_headers["Content-Length"] == [str(len(PRETTY))]


def test_unknown_or_corrupt_encoding_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unsupported Content-Encoding 'zstd'"):
        normalise_message({"Content-Encoding": ["zstd"]}, b"x")
    with pytest.raises(ValueError, match="cannot decode gzip body"):
        normalise_message({"Content-Encoding": ["gzip"]}, b"not gzip")


@pytest.mark.parametrize("ctype", ["application/json", "application/problem+json", "application/json; charset=utf-8",
                                   "application/vnd.o2ims+json"])
def test_json_bodies_are_pretty_printed_with_two_spaces(ctype: str) -> None:
    _, body = normalise_message({"Content-Type": [ctype]}, COMPACT)
    assert body == PRETTY
    assert body.startswith(b'{\n  "resourcePoolId": "p1",\n  "name": "\xc3\xa9dge1"')


@pytest.mark.parametrize(("ctype", "body"), [
    ("text/plain", COMPACT), (None, COMPACT), ("application/json", b"{not json"), ("application/json", b""),
])
def test_other_bodies_are_left_alone(ctype: str | None, body: bytes) -> None:
    headers = {"Content-Type": [ctype]} if ctype else {}
    assert normalise_message(headers, body) == (headers, body)


def test_chunked_bodies_get_a_content_length() -> None:
    headers, body = normalise_message({"Transfer-Encoding": ["chunked"], "Content-Type": ["text/plain"]}, b"abc")
    assert headers == {"Content-Type": ["text/plain"], "Content-Length": ["3"]}


def test_normalising_is_idempotent() -> None:
    once = normalise_message({"Content-Type": ["application/json"], "Content-Length": ["1"]}, COMPACT)
    assert normalise_message(*once) == once


def test_loading_keeps_json_someone_formatted_by_hand() -> None:
    four = json.dumps(DOC, indent=4).encode()
    headers = {"Content-Type": ["application/json"], "Content-Length": ["1"]}
    assert normalise_message(headers, four, loading=True)[1] == four
    assert normalise_message(headers, COMPACT, loading=True)[1] == PRETTY
    assert normalise_message(headers, four)[1] == PRETTY


def test_loading_takes_an_undecodable_body_as_decoded() -> None:
    # vcrpy with urllib3 2 records the decoded body and keeps "Content-Encoding: gzip"
    headers = {"Content-Type": ["application/json"], "Content-Encoding": ["gzip"], "Content-Length": ["9"]}
    out_headers, body = normalise_message(headers, COMPACT, loading=True)
    assert body == PRETTY and out_headers == {"Content-Type": ["application/json"], "Content-Length": [str(len(PRETTY))]}
    assert normalise_message(headers, gzip.compress(COMPACT), loading=True)[1] == PRETTY
    with pytest.raises(ValueError, match="cannot decode gzip body"):
        normalise_message(headers, COMPACT)


def test_is_json_content() -> None:
    assert is_json_content("Application/JSON; charset=utf-8")
    assert is_json_content("application/problem+json")
    assert not is_json_content("text/json-ish")
    assert not is_json_content(None)


def test_request_path_and_query() -> None:
    req = Request("GET", "http://h/o2ims-infrastructureInventory/v1/resourcePools?filter=(eq,name,a)&fields=name&x=")
    assert req.path == "/o2ims-infrastructureInventory/v1/resourcePools"
    assert req.query == [("filter", "(eq,name,a)"), ("fields", "name"), ("x", "")]
    assert repr(req).startswith("<Request [GET http://h/")


def make(meta: InteractionMeta | None = None, body: bytes = PRETTY) -> Interaction:
    return Interaction(
        Request("POST", "http://h/x", {"User-Agent": ["t"], "accept": ["a", "b"]}, b"\x00\xffbin"),
        Response(201, "Created", {"Content-Type": ["application/json"]}, body),
        meta or InteractionMeta(),
    )


def test_dict_layout_is_vcrpy_v1() -> None:
    d = interaction_to_dict(make())
    assert list(d) == ["request", "response"]  # no meta by default: default recordings stay byte-identical
    assert d["request"] == {"method": "POST", "uri": "http://h/x", "headers": {"accept": ["a", "b"],
                                                                              "User-Agent": ["t"]},
                            "body": b"\x00\xffbin"}
    assert d["response"]["status"] == {"code": 201, "message": "Created"}
    assert d["response"]["body"] == {"string": PRETTY.decode()}
    assert list(d["request"]["headers"]) == ["accept", "User-Agent"]  # sorted case-insensitively


def test_meta_is_written_only_when_set() -> None:
    meta = InteractionMeta(InteractionKind.NOTIFICATION, "2025-11-26T01:00:00Z", 0.1234567)
    d = interaction_to_dict(make(meta))
    assert d["meta"] == {"kind": "notification", "recorded_at": "2025-11-26T01:00:00Z", "duration": 0.123457}
    assert interaction_to_dict(make(InteractionMeta(duration=0.5)))["meta"] == {"duration": 0.5}


def test_tolerated_forms() -> None:
    d = interaction_to_dict(make())
    d["response"]["status"] = 204
    d["response"]["headers"] = {"X-Count": 3, "X-One": "v"}
    d["request"]["body"] = {"string": "text"}
    i = interaction_from_dict(d)
    assert (i.response.status, i.response.reason) == (204, "")
    assert i.response.headers == {"X-Count": ["3"], "X-One": ["v"]}
    assert i.request.body == b"text"
    assert i.request.method == "POST"


METHOD = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
HEADERS = st.dictionaries(st.text(alphabet="abcdefghijklmnopqrstuvwxyz-ABC", min_size=1, max_size=12),
                          st.lists(st.text(st.characters(exclude_characters="\r\n\x00"), max_size=20),
                                   min_size=1, max_size=3), max_size=4)
BODY = st.one_of(st.binary(max_size=64), st.text(max_size=64).map(str.encode))


@st.composite
def interactions(draw: st.DrawFn) -> Interaction:
    meta = InteractionMeta(draw(st.sampled_from(list(InteractionKind))),
                           draw(st.none() | st.just("2025-11-26T01:00:00.123Z")),
                           draw(st.none() | st.floats(min_value=0, max_value=100).map(lambda f: round(f, 6))))
    return Interaction(
        Request(draw(METHOD), "http://h/" + draw(st.text(alphabet="abc/?=&%", max_size=20)), draw(HEADERS),
                draw(BODY)),
        Response(draw(st.integers(100, 599)), draw(st.text(max_size=20)), draw(HEADERS), draw(BODY)),
        meta,
    )


@settings(max_examples=100, deadline=None, database=None)
@given(interactions())
def test_dict_round_trip(interaction: Interaction) -> None:
    again = interaction_from_dict(interaction_to_dict(interaction))
    headers_sorted = dict(sorted(interaction.request.headers.items(), key=lambda kv: kv[0].lower()))
    assert again.request == Request(interaction.request.method, interaction.request.uri, headers_sorted,
                                    interaction.request.body)
    assert again.response.body == interaction.response.body
    assert again.response.status == interaction.response.status
    assert again.meta == interaction.meta


def test_cassette_from_dict_keeps_metadata_and_order() -> None:
    doc: dict[str, Any] = {"version": 1, "metadata": {"upstream": "u"},
                           "interactions": [interaction_to_dict(make()), interaction_to_dict(make(body=b"2"))]}
    c = cassette_from_dict(doc)
    assert isinstance(c, Cassette) and len(c) == 2
    assert c.metadata == {"upstream": "u"}
    assert c.interactions[1].response.body == b"2"


def test_cassette_from_dict_names_the_interaction() -> None:
    doc = {"version": 1, "interactions": [interaction_to_dict(make()), {"request": {}, "response": {}}]}
    with pytest.raises(ValueError, match=r"^interaction 1: request\.method missing \(expected a string\)$"):
        cassette_from_dict(doc)
