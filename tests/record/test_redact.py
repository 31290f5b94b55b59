"""replayer.record.redact: pure redaction of headers, URIs, JSON, forms and text."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

import pytest

from replayer.cassettes.model import Interaction, Request, Response
from replayer.record.redact import (
    default_rules,
    is_placeholder,
    redact_body,
    redact_headers,
    redact_interaction,
    redact_json,
    redact_text,
    redact_uri,
    rules_from_yaml,
)

R = default_rules()
JSON = {"Content-Type": ["application/json"]}
FORM = {"Content-Type": ["application/x-www-form-urlencoded"]}
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEsecretkeymaterial\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("Authorization", "Bearer s3cr3t.t0k3n", "Bearer <redacted>"),
    ("authorization", "Basic dXNlcjpwYXNz", "Basic <redacted>"),
    ("Proxy-Authorization", "Negotiate abc", "Negotiate <redacted>"),
    ("Cookie", "session=abc; theme=dark", "session=<redacted:cookie>; theme=<redacted:cookie>"),
    ("Set-Cookie", "sid=abc; Path=/; HttpOnly", "sid=<redacted:cookie>; Path=/; HttpOnly"),
    ("X-Auth-Token", "abc", "<redacted:x-auth-token>"),
    ("x-ssl-client-der", "MIIB", "<redacted:x-ssl-client-der>"),
    ("X-Ssl-Client-Verify", "SUCCESS", "<redacted:x-ssl-client-verify>"),
    ("X-Custom-Api-Key", "k", "<redacted:x-custom-api-key>"),  # header_patterns: *apikey*
    ("Accept", "application/json", "application/json"),
    ("Location", "https://h/cb?code=abc&state=1", "https://h/cb?code=%3Credacted%3Acode%3E&state=1"),
    ("X-Trace", "Bearer eyJhbGciOi.eyJzdWIiOi.sig", "Bearer <redacted:jwt>"),  # value patterns in any header
])
def test_headers(name: str, value: str, expected: str) -> None:
    assert redact_headers({name: [value]}, R) == {name: [expected]}


def test_drop_headers_and_keep_from_a_rules_file() -> None:
    rules = rules_from_yaml("drop_headers: [Date]\nkeep: [X-Auth-Token]\n", R)
    out = redact_headers({"Date": ["today"], "X-Auth-Token": ["visible"], "Cookie": ["a=1"]}, rules)
    assert out == {"X-Auth-Token": ["visible"], "Cookie": ["a=<redacted:cookie>"]}


@pytest.mark.parametrize(("uri", "expected"), [
    ("http://h/p?access_token=abc&filter=(eq,name,x)", "http://h/p?access_token=%3Credacted%3Aaccess_token%3E&filter=(eq,name,x)"),
    ("http://h/p?Client_Secret=abc", "http://h/p?Client_Secret=%3Credacted%3AClient_Secret%3E"),
    ("http://h/p?a=1&b=2", "http://h/p?a=1&b=2"),
    ("http://u:pw@h/p", "http://%3Credacted%3Auserinfo%3E@h/p"),
    ("http://h/p?token=x#frag", "http://h/p?token=%3Credacted%3Atoken%3E#frag"),
])
def test_uri(uri: str, expected: str) -> None:
    assert redact_uri(uri, R) == expected
    assert redact_uri(expected, R) == expected  # idempotent


@pytest.mark.parametrize(("value", "placeholder"), [
    ("s3cret", "<redacted:password>"), (1234, 0), (12.5, 0), (True, False), ({"a": 1}, {}), ([1, 2], []), (None, None),
])
def test_json_placeholders_keep_the_type(value: Any, placeholder: Any) -> None:
    assert redact_json({"password": value}, R) == {"password": placeholder}


def test_json_fields_at_any_depth_and_any_spelling() -> None:
    doc = {"a": [{"b": {"clientSecret": "x", "Access-Token": "y", "refresh_token": "z", "idToken": "w",
                        "name": "edge1", "token_type": "Bearer", "expires_in": 300}}]}
    out = redact_json(doc, R)["a"][0]["b"]
    assert out == {"clientSecret": "<redacted:clientSecret>", "Access-Token": "<redacted:Access-Token>",
                   "refresh_token": "<redacted:refresh_token>", "idToken": "<redacted:idToken>",
                   "name": "edge1", "token_type": "Bearer", "expires_in": 300}


def test_profile_data_credentials_are_redacted_the_rest_kept() -> None:
    dm = {"deploymentManagerId": "dm-1", "extensions": {"profileName": "native_k8sapi", "profileData": {
        "cluster_api_endpoint": "https://edge1:6443", "admin_user": "admin", "cluster_ca_cert": "CA",
        "admin_client_cert": "CERT", "admin_client_key": "KEY", "nested": {"bootstrap_token": "T"},
    }}}
    pd = redact_json(dm, R)["extensions"]["profileData"]
    assert pd == {"cluster_api_endpoint": "https://edge1:6443", "admin_user": "admin",
                  "cluster_ca_cert": "<redacted:cluster_ca_cert>", "admin_client_cert": "<redacted:admin_client_cert>",
                  "admin_client_key": "<redacted:admin_client_key>", "nested": {"bootstrap_token": "<redacted:bootstrap_token>"}}
    # outside profileData, a member named like that is left alone
    assert redact_json({"admin_client_cert_ref": "x"}, R) == {"admin_client_cert_ref": "x"}


@pytest.mark.parametrize(("text", "secret"), [
    (f"description: {PEM} trailing", "MIIEsecretkeymaterial"),
    ("-----BEGIN CERTIFICATE-----\nMIIBtruncated", "MIIBtruncated"),
    ("client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo=", "LS0tLS1CRUdJTi"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl here", "c2lnbmF0dXJl"),
    ("Authorization: Bearer abcdef123456", "abcdef123456"),
    ("see https://admin:hunter2@edge1.example/api", "hunter2"),
    ("key AKIAABCDEFGHIJKLMNOP", "AKIAABCDEFGHIJKLMNOP"),
    ("users:\n- name: a\n  user:\n    token: kube-secret-token\n    password: pw1\n", "kube-secret-token"),
    ("CLIENT_SECRET=abc123\nOTHER=1\n", "abc123"),
])
def test_text_patterns(text: str, secret: str) -> None:
    out = redact_text(text, R)
    assert secret not in out
    assert "<redacted" in out


def test_token_type_bearer_is_not_mistaken_for_a_token() -> None:
    text = "token_type: Bearer\nexpires_in: 300\n"
    assert redact_text(text, R) == text


def test_pem_inside_json_strings() -> None:
    body = json.dumps({"description": f"key is {PEM}", "name": "x"}).encode()
    out = json.loads(redact_body(JSON, body, R))
    assert out == {"description": "key is <redacted:pem>", "name": "x"}


def test_oauth_token_request_form() -> None:
    body = b"grant_type=password&username=op&password=p%40ss&client_id=smo&client_secret=abc+def&scope=o2ims"
    out = redact_body(FORM, body, R).decode()
    assert out == ("grant_type=password&username=op&password=%3Credacted%3Apassword%3E&client_id=smo"
                   "&client_secret=%3Credacted%3Aclient_secret%3E&scope=o2ims")


def test_unchanged_json_keeps_its_bytes_and_binary_is_untouched() -> None:
    body = b'{"name":"edge1"}'
    assert redact_body(JSON, body, R) is body
    binary = b"\x00\xff plain bytes"
    assert redact_body({"Content-Type": ["application/octet-stream"]}, binary, R) is binary


def test_binary_bodies_still_lose_tokens_and_pem() -> None:
    binary = b"\x00\xffAuthorization: Bearer secrettoken\x01" + PEM.encode() + b"\xfe"
    out = redact_body({"Content-Type": ["application/octet-stream"]}, binary, R)
    assert out == b"\x00\xffAuthorization: Bearer <redacted>\x01<redacted:pem>\xfe"


def test_hmac_key_tells_secrets_apart_without_a_plain_hash() -> None:
    keyed = replace(R, key=b"k" * 32)
    a = redact_json({"password": "alpha"}, keyed)["password"]
    b = redact_json({"password": "bravo"}, keyed)["password"]
    assert a != b and is_placeholder(a) and a == redact_json({"password": "alpha"}, keyed)["password"]
    for algo in ("sha256", "sha1", "md5"):
        assert hashlib.new(algo, b"alpha").hexdigest()[:12] not in a
    assert redact_headers({"Authorization": ["Bearer t1"]}, keyed) != redact_headers({"Authorization": ["Bearer t2"]}, keyed)


def test_redact_interaction_covers_request_and_response() -> None:
    i = Interaction(
        Request("POST", "http://h/oauth/token?access_token=q", {"Authorization": ["Basic abc"], **FORM},
                b"client_secret=s&grant_type=client_credentials"),
        Response(200, "OK", {"Set-Cookie": ["s=1"], **JSON}, b'{"access_token": "t", "token_type": "Bearer"}'),
    )
    out = redact_interaction(i, R)
    text = repr(out.request.headers) + out.request.uri + out.request.body.decode() + out.response.body.decode()
    assert "=q" not in text and "Basic abc" not in text and "client_secret=s&" not in text and '"t"' not in text
    assert json.loads(out.response.body) == {"access_token": "<redacted:access_token>", "token_type": "Bearer"}
    assert redact_interaction(out, R) == out  # idempotent


@pytest.mark.parametrize(("text", "message"), [
    ("headers: X-Foo\n", "headers must be a list of strings"),
    ("nonsense: [a]\n", "unknown key 'nonsense'"),
    ("scoped: [a]\n", "scoped must be a mapping"),
    ("value_patterns: maybe\n", "value_patterns must be true or false"),
    ("headers: [a\n", "line 2: invalid YAML"),
    ("- a\n", "rules must be a mapping"),
])
def test_bad_rules_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
        rules_from_yaml(text, R)


def test_defaults_false_starts_from_nothing() -> None:
    rules = rules_from_yaml("defaults: false\nfields: [pin]\nvalue_patterns: false\n", R)
    assert redact_json({"password": "x", "pin": 1234}, rules) == {"password": "x", "pin": 0}
    assert redact_headers({"Authorization": ["Bearer x"]}, rules) == {"Authorization": ["Bearer x"]}
