"""Volatile request-body fields left out of matching (``ignore_body``): JSON paths and form fields, for every
request or per endpoint, named in near-miss explanations; parsed from flags and .o2replay.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replayer.cassettes.model import Interaction, Request, Response
from replayer.errors import UsageError
from replayer.matching import BodyIgnore, CassetteIndex, MatchOn, canonical_body, request_key
from replayer.server.config import serve_config

SUBS = "http://o2ims/o2ims-infrastructureInventory/v1/subscriptions"


def _req(body: object, uri: str = SUBS, method: str = "POST") -> Request:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Request(method, uri, {}, raw)


def _on(*specs: str) -> MatchOn:
    return MatchOn(ignore_body=tuple(BodyIgnore.parse(s) for s in specs))


SUB = {"callback": "http://smo/notify", "consumerSubscriptionId": "c-1", "filter": "(eq,name,edge1)",
       "extensions": {"requestedAt": "2026-01-01T00:00:00Z", "items": [{"id": 1, "nonce": "a"}]}}


def _with(**changes: object) -> dict[str, object]:
    doc = json.loads(json.dumps(SUB))
    for path, value in changes.items():
        node = doc
        *parents, last = path.split("__")
        for p in parents:
            node = node[p]
        node[last] = value
    return doc


@pytest.mark.parametrize(("specs", "changed", "equal"), [
    ((), {"consumerSubscriptionId": "c-2"}, False),
    (("body.consumerSubscriptionId",), {"consumerSubscriptionId": "c-2"}, True),
    (("body.consumerSubscriptionId",), {"filter": "(eq,name,edge2)"}, False),
    (("POST */subscriptions body.consumerSubscriptionId",), {"consumerSubscriptionId": "c-2"}, True),
    (("GET */subscriptions body.consumerSubscriptionId",), {"consumerSubscriptionId": "c-2"}, False),
    (("*/resourcePools body.consumerSubscriptionId",), {"consumerSubscriptionId": "c-2"}, False),
    (("body.**.requestedAt",), {"extensions__requestedAt": "2026-02-02T00:00:00Z"}, True),
    (("body.extensions",), {"extensions__requestedAt": "x"}, True),
    (("body.extensions.items[*].nonce",), {"extensions__items": [{"id": 1, "nonce": "b"}]}, True),
    (("body.extensions.items[*].nonce",), {"extensions__items": [{"id": 2, "nonce": "b"}]}, False),
])
def test_json_fields_left_out_of_the_key(specs: tuple[str, ...], changed: dict[str, object], equal: bool) -> None:
    on = _on(*specs)
    assert (request_key(_req(SUB), on) == request_key(_req(_with(**changed)), on)) is equal


def test_a_missing_ignored_field_still_matches() -> None:
    on = _on("body.consumerSubscriptionId")
    without = {k: v for k, v in SUB.items() if k != "consumerSubscriptionId"}
    assert request_key(_req(SUB), on) == request_key(_req(without), on)


def test_form_fields() -> None:
    on = _on("/oauth/token form.nonce*")
    a = Request("POST", "http://idp/oauth/token", {}, b"grant_type=client_credentials&nonce_1=x&scope=a+b")
    b = Request("POST", "http://idp/oauth/token", {}, b"grant_type=client_credentials&nonce_1=y&scope=a+b")
    c = Request("POST", "http://idp/oauth/token", {}, b"grant_type=password&nonce_1=y&scope=a+b")
    assert request_key(a, on) == request_key(b, on) != request_key(c, on)
    assert canonical_body(b"not a=form&&", (BodyIgnore.parse("form.a"),)) == b"not a=form&&"


def test_near_miss_names_the_rules_that_applied() -> None:
    recorded = Interaction(_req(SUB), Response(201, "Created", {}, b"{}"))
    on = _on("POST */subscriptions body.consumerSubscriptionId", "*/resourcePools body.x")
    index: CassetteIndex[None] = CassetteIndex([("subs.yaml", [recorded])], on)
    asked = _req(_with(consumerSubscriptionId="c-9", filter="(eq,name,edge4)"))
    [near] = index.nearest(request_key(asked, on))
    assert near.differences == ('body field filter: "(eq,name,edge4)", recorded "(eq,name,edge1)"',)
    assert near.to_dict()["ignored"] == ["POST */subscriptions body.consumerSubscriptionId"]


@pytest.mark.parametrize(("spec", "message"), [
    ("consumerSubscriptionId", "must be a JSON path starting with body"),
    ("POST subscriptions body.x", "endpoint must be [METHOD ]/path-glob"),
    ("form.", "name the form field"),
    ("body.a[", "unbalanced"),
    ("a b c d", "expected FIELD, PATH FIELD or METHOD PATH FIELD"),
])
def test_bad_rules_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        BodyIgnore.parse(spec)


def test_config_file_and_flags() -> None:
    section = {"match_on": "method,path,body", "ignore_body": [
        "body.**.requestedAt",
        {"endpoint": "POST /o2ims-infrastructureInventory/v1/subscriptions",
         "fields": ["body.consumerSubscriptionId", "body.callback"]}]}
    cfg = serve_config({}, section, config_path=Path(".o2replay.yaml"))
    assert [str(r) for r in cfg.match_on.ignore_body] == [
        "body.**.requestedAt", "POST /o2ims-infrastructureInventory/v1/subscriptions body.consumerSubscriptionId",
        "POST /o2ims-infrastructureInventory/v1/subscriptions body.callback"]
    assert not cfg.match_on.query  # match_on from the same section still holds
    flagged = serve_config({"ignore_body": ["form.state"]}, section, config_path=Path(".o2replay.yaml"))
    assert [str(r) for r in flagged.match_on.ignore_body] == ["form.state"]  # the flag replaces the file's list
    with pytest.raises(UsageError, match=r"^\.o2replay\.yaml: replay\.ignore_body\[0\]: .*starting with body"):
        serve_config({}, {"ignore_body": ["consumerSubscriptionId"]}, config_path=Path(".o2replay.yaml"))
    with pytest.raises(UsageError, match=r"replay\.ignore_body\[0\] must be a string or a mapping with fields"):
        serve_config({}, {"ignore_body": [{"endpoint": "*"}]}, config_path=Path(".o2replay.yaml"))


def test_serve_flag_reaches_the_config(capsys: pytest.CaptureFixture[str]) -> None:
    from replayer.cli import main

    assert main(["serve", "--ignore-body", "consumerSubscriptionId", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--ignore-body[0]: 'consumerSubscriptionId' must be a JSON path" in err
