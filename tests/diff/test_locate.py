"""Line numbers of drift paths for annotations, through the cassette locator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replayer.cassettes.locate import LineIndex, compose_item_starts, scan_item_starts
from replayer.diff.locate import line_of

from .conftest import DMS, ix, pool, write


def test_scan_agrees_with_the_yaml_node_tree(tmp_path: Path) -> None:
    c = write(tmp_path / "c.yaml", *[ix(body=[pool(f"p{i}"), pool("q")]) for i in range(5)], ix(DMS, []),
              metadata={"recorded_with": "test"})
    text = c.read_text()
    assert scan_item_starts(text) == compose_item_starts(text)
    assert len(compose_item_starts(text)) == 6


HAND_WRITTEN = """\
version: 1
interactions:
  # indented items, as some editors write them
  - request: {method: GET, uri: 'http://h/o2ims-infrastructureInventory/v1/resourcePools', headers: {}}
    response:
      status:
        code: 200
        message: OK
      headers:
        Content-Type: [application/json]
      body:
        string: |
          [
            {
              "resourcePoolId": "p1",
              "name": "a"
            }
          ]
  - request: {method: GET, uri: 'http://h/x', headers: {}}
    response: {status: {code: 204}, headers: {}, body: {string: ''}}
metadata: {}
"""


@pytest.mark.parametrize(("interaction", "path", "line"), [
    (0, "", 4),
    (0, "status", 7),
    (0, "headers.content-type", 10),
    (0, "body[resourcePoolId=p1].name", 16),
    (0, "body[resourcePoolId=p1]", 15),
    (0, "body", 12),
    (1, "", 19),
    (1, "status", 20),
    (2, "status", None),
])
def test_lines_in_a_hand_written_cassette(interaction: int, path: str, line: int | None) -> None:
    assert line_of(LineIndex(HAND_WRITTEN), interaction, path) == line


def test_flow_style_falls_back_to_compose() -> None:
    text = "version: 1\ninteractions: [\n  {request: {method: GET, uri: /a}, response: {status: 200}},\n" \
           "  {request: {method: GET, uri: /b}, response: {status: 200}}]\n"
    assert scan_item_starts(text) is None
    assert line_of(LineIndex(text), 1, "") == 4


def test_notification_paths_point_into_the_request_body(tmp_path: Path) -> None:
    body = json.dumps({"alarmEventRecordId": "a1", "perceivedSeverity": "MAJOR"}, indent=2).encode()
    note = ix("/consumer/notify", {}, method="POST", request_body=body)
    c = write(tmp_path / "c.yaml", ix(DMS, []), note)
    lines = c.read_text().splitlines()
    line = line_of(LineIndex(c.read_text()), 1, "notification.perceivedSeverity")
    assert line is not None and '"perceivedSeverity": "MAJOR"' in lines[line - 1]


@pytest.mark.parametrize("text", [
    "version: 1\ninteractions: []\n",
    "version: 1\ninteractions:\nmetadata: {}\n",
    "version: 1\ninteractions:\n",
    "interactions:\n# comment\n\n- request: {}\n  response: {}\n- request: {}\n  response: {}\nversion: 1\n",
    "version: 1\ninteractions:\n  - request: {}\n    response: {}\n  # a comment\n  - request: {}\n"
    "    response: {}\nmetadata: {a: 1}\n",
])
def test_scan_edge_layouts_agree_with_compose(text: str) -> None:
    assert scan_item_starts(text) == compose_item_starts(text)
