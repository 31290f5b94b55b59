"""The cassette locator: interactions, fields and the reverse, by line scan and by the YAML node tree."""

from __future__ import annotations

import pytest

from replayer.cassettes.locate import LineIndex, compose_item_starts, scan_item_starts
from replayer.cassettes.model import FieldError, cassette_from_dict, interaction_from_dict

TEXT = """\
version: 1
interactions:
- request:
    method: GET
    uri: http://h/a
  response:
    status:
      code: 200
    headers: {}
    body:
      string: ok
- request:
    method: GET
    uri: http://h/b
  response:
    status: {code: 204}
    body: {string: ''}
metadata:
  upstream: u
"""


def test_spans_and_the_interaction_holding_a_line() -> None:
    index = LineIndex(TEXT)
    assert len(index) == 2
    assert index.span(0) == (3, 11) and index.span(1) == (12, 17) and index.span(2) is None
    assert [index.interaction_at(n) for n in (1, 2, 3, 11, 12, 17, 18, 19)] == [None, None, 0, 0, 1, 1, None, None]


@pytest.mark.parametrize(("interaction", "field", "line"), [
    (0, "response.status.code", 8),
    (0, "response.status", 8),  # the node of a mapping starts at its first key
    (0, "response.body.string", 11),
    (0, "response.nothing.here", 7),  # the deepest node that exists: the response mapping
    (0, "", 3),
    (1, "response.status.code", 16),
    (2, "response", None),
])
def test_field_lines_follow_the_node_tree(interaction: int, field: str, line: int | None) -> None:
    assert LineIndex(TEXT).field_line(interaction, field) == line


def test_field_at_a_line_and_top_level_keys() -> None:
    index = LineIndex(TEXT)
    assert index.field_at(0, 8) == "response.status.code"
    assert index.field_at(1, 14) == "request.uri"
    assert index.top_line("metadata") == 19 and index.top_line("nothing") == 1 and index.top_line("") == 1


def test_key_lines_by_the_line_scan() -> None:
    index = LineIndex(TEXT)
    assert index.key_line(0, "response", "body", "string") == 10  # 0-based
    assert index.key_line(1, "response", "body", "string") == 16  # flow style: the deepest key found
    assert index.key_line(5, "response") is None


def test_scan_and_compose_agree_and_flow_style_falls_back() -> None:
    assert scan_item_starts(TEXT) == compose_item_starts(TEXT) == [2, 11]
    flow = "version: 1\ninteractions: [\n  {request: {method: GET, uri: /a}, response: {status: 200}},\n" \
           "  {request: {method: GET, uri: /b}, response: {status: 200}}]\n"
    assert scan_item_starts(flow) is None
    assert LineIndex(flow).span(1) == (4, 4)


@pytest.mark.parametrize(("doc", "field"), [
    ({"request": {"method": "GET", "uri": "u"}, "response": {"status": {"code": 999}, "body": {"string": ""}}},
     "response.status.code"),
    ({"request": {"method": 1, "uri": "u"}, "response": {}}, "request.method"),
    ({"request": {"method": "GET", "uri": "u"}, "response": {"status": 200}}, "response.body"),
    ("not a mapping", ""),
])
def test_model_errors_carry_the_field_as_data(doc: object, field: str) -> None:
    with pytest.raises(FieldError) as exc:
        interaction_from_dict(doc)
    assert exc.value.field == field


def test_document_errors_name_the_top_level_key() -> None:
    with pytest.raises(FieldError) as exc:
        cassette_from_dict({"version": 2, "interactions": []})
    assert exc.value.field == "version"
