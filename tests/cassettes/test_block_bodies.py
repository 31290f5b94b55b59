"""JSON bodies stay literal blocks (one line per member in `git diff`) whatever characters they hold: an emoji
(above U+FFFF), a byte order mark, line separators, C1 controls."""

from __future__ import annotations

import json

import pytest
import yaml

from replayer.cassettes.model import Cassette, Interaction, Request, Response, normalise_message
from replayer.cassettes.yaml import dump_cassette, parse_cassette

JSON = {"Content-Type": ["application/json"]}


@pytest.mark.parametrize(("raw", "shown"), [
    ('{"description": "edge site \U0001F680", "n": 1}'.encode(), '"description": "edge site \U0001F680",'),
    (b"\xef\xbb\xbf" + b'{"name": "edge1"}', '"name": "edge1"'),
    ('{"note": "a\u2028b\u0085c"}'.encode(), '"note": "a\\u2028b\\u0085c"'),
    ('{"note": "bom\ufeffinside"}'.encode(), '"note": "bom\\ufeffinside"'),
])
def test_body_is_a_block_and_means_the_same(raw: bytes, shown: str) -> None:
    headers, body = normalise_message(JSON, raw)
    it = Interaction(Request("GET", "http://o2ims/o2ims-infrastructureInventory/v1"), Response(200, "OK", headers, body))
    text = dump_cassette(Cassette((it,)))
    assert "string: |-\n" in text, text
    assert f"\n          {shown}" in text or f"\n        {shown}" in text or shown in text.split("|-", 1)[1]
    back = parse_cassette(text)
    assert json.loads(back.interactions[0].response.body) == json.loads(raw.removeprefix(b"\xef\xbb\xbf"))
    assert yaml.safe_load(text)["interactions"][0]["response"]["body"]["string"] == body.decode()  # libyaml agrees
    assert dump_cassette(back) == text  # stable: loading and writing again changes nothing
