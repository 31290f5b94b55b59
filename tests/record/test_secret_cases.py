"""Every way a secret used to reach a cassette, each a test named after it: recorded through the real
Recorder into a real file, then the file is checked for the canary and scanned with ``o2replay scan``'s code."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from replayer.cassettes.load import load_cassette
from replayer.o2ims.routes import O2IMS_PATH_PREFIXES
from replayer.record.recorder import Exchange, Recorder, parse_config
from replayer.record.redact import default_rules, redact_body, redact_headers, redact_uri
from replayer.record.scan import scan_cassette, scan_text

CANARY = "Cnry7xQ2vLk9pZ"
INV = "/o2ims-infrastructureInventory/v1"
UP = "http://o2ims.example:8080"
R = default_rules()


def record(tmp_path: Path, *, uri: str = f"{INV}/subscriptions", req_headers: dict[str, list[str]] | None = None,
           body: bytes = b"", resp_headers: dict[str, list[str]] | None = None, resp_body: bytes = b"[]",
           ) -> tuple[str, Recorder]:
    """Record one exchange and return the cassette's text (the recorder is returned for its counters)."""
    rec = Recorder(parse_config(cassette=str(tmp_path / "c.yaml"), record_paths=O2IMS_PATH_PREFIXES))
    outcome = rec.record(Exchange("POST", f"{UP}{uri}", req_headers or {}, body, 200, "OK",
                                  resp_headers or {"Content-Type": ["application/json"]}, resp_body))
    assert outcome.recorded, outcome.reason
    rec.close()
    return (tmp_path / "c.yaml").read_text(encoding="utf-8"), rec


def assert_clean(text: str, path: Path) -> None:
    """No canary in the file (plain, or inside a !!binary body) and nothing for ``o2replay scan``."""
    assert CANARY not in text
    for body in (b for i in load_cassette(path).interactions for b in (i.request.body, i.response.body)):
        assert CANARY.encode() not in body and CANARY.encode("utf-16-le") not in body
    assert scan_cassette(text, load_cassette(path)) == []


def ctype(value: str) -> dict[str, list[str]]:
    return {"Content-Type": [value]}


# ------------------------------------------------------------------------------- bodies that are not UTF-8


def test_latin1_json_with_declared_charset_is_redacted_structurally(tmp_path: Path) -> None:
    body = json.dumps({"name": "café", "password": CANARY}, ensure_ascii=False).encode("latin-1")
    text, _ = record(tmp_path, req_headers=ctype("application/json; charset=iso-8859-1"), body=body)
    assert_clean(text, tmp_path / "c.yaml")
    req = load_cassette(tmp_path / "c.yaml").interactions[0].request
    assert json.loads(req.body.decode("latin-1")) == {"name": "café", "password": "<redacted:password>"}


def test_latin1_form_body_is_redacted(tmp_path: Path) -> None:
    body = f"user=op%E9&name=caf\xe9&client_secret={CANARY}".encode("latin-1")
    text, _ = record(tmp_path, req_headers=ctype("application/x-www-form-urlencoded; charset=iso-8859-1"), body=body)
    assert_clean(text, tmp_path / "c.yaml")
    assert load_cassette(tmp_path / "c.yaml").interactions[0].request.body == \
        b"user=op%E9&name=caf\xe9&client_secret=%3Credacted%3Aclient_secret%3E"


def test_undeclared_latin1_json_is_sniffed(tmp_path: Path) -> None:
    body = f'{{"site":"K\xf6ln","apiToken":"{CANARY}"}}'.encode("latin-1")
    text, _ = record(tmp_path, req_headers=ctype("application/octet-stream"), body=body)
    assert_clean(text, tmp_path / "c.yaml")


def test_utf16_json_with_declared_charset(tmp_path: Path) -> None:
    body = json.dumps({"password": CANARY}).encode("utf-16")
    text, _ = record(tmp_path, req_headers=ctype("application/json; charset=utf-16"), body=body)
    assert_clean(text, tmp_path / "c.yaml")


# ------------------------------------------------------------------------------- multipart


def multipart(*parts: tuple[str, str, str]) -> bytes:
    out = ""
    for name, headers, value in parts:
        out += f'--B0undary\r\nContent-Disposition: form-data; name="{name}"\r\n{headers}\r\n{value}\r\n'
    return (out + "--B0undary--\r\n").encode()


def test_multipart_form_fields_are_redacted_by_name(tmp_path: Path) -> None:
    body = multipart(("username", "", "op"), ("password", "", CANARY), ("client_secret", "", CANARY))
    text, _ = record(tmp_path, req_headers=ctype("multipart/form-data; boundary=B0undary"), body=body)
    assert_clean(text, tmp_path / "c.yaml")
    req = load_cassette(tmp_path / "c.yaml").interactions[0].request.body
    assert b"\r\n\r\nop\r\n" in req and b"<redacted:password>" in req and b"<redacted:client_secret>" in req


def test_multipart_parts_are_redacted_by_content(tmp_path: Path) -> None:
    b64 = base64.b64encode(f"token: {CANARY}\n".encode()).decode()
    body = multipart(("meta", "Content-Type: application/json\r\n", json.dumps({"apiKey": CANARY})),
                     ("env", "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n", b64))
    text, _ = record(tmp_path, req_headers=ctype("multipart/form-data; boundary=B0undary"), body=body)
    assert_clean(text, tmp_path / "c.yaml")


def test_multipart_without_secrets_keeps_its_bytes() -> None:
    body = multipart(("a", "", "1"), ("b", "Content-Type: application/json\r\n", '{"x": 1}'))
    assert redact_body(ctype("multipart/form-data; boundary=B0undary"), body, R) == body


# ------------------------------------------------------------------------------- JSON under other names


def test_compact_json_under_text_plain_is_redacted(tmp_path: Path) -> None:
    text, _ = record(tmp_path, req_headers=ctype("text/plain"), body=f'{{"password":"{CANARY}"}}'.encode())
    assert_clean(text, tmp_path / "c.yaml")


def test_ndjson_lines_are_redacted(tmp_path: Path) -> None:
    body = f'{{"n":1}}\n{{"refresh_token":"{CANARY}"}}\n'.encode()
    text, _ = record(tmp_path, req_headers=ctype("application/x-ndjson"), body=body)
    assert_clean(text, tmp_path / "c.yaml")
    assert load_cassette(tmp_path / "c.yaml").interactions[0].request.body == \
        b'{"n":1}\n{"refresh_token":"<redacted:refresh_token>"}\n'


def test_duplicate_keys_are_each_redacted_and_kept(tmp_path: Path) -> None:
    text, _ = record(tmp_path, req_headers=ctype("application/json"),
                     body=f'{{"password":"{CANARY}","password":null}}'.encode())
    assert_clean(text, tmp_path / "c.yaml")
    body = load_cassette(tmp_path / "c.yaml").interactions[0].request.body
    assert body == b'{\n  "password": "<redacted:password>",\n  "password": null\n}'


def test_query_string_inside_a_json_string_value_is_redacted(tmp_path: Path) -> None:
    body = json.dumps({"callback": f"http://consumer/cb?access_token={CANARY}&x=1"}).encode()
    text, _ = record(tmp_path, req_headers=ctype("application/json"), body=body)
    assert_clean(text, tmp_path / "c.yaml")
    assert "http://consumer/cb?access_token=%3Credacted%3Aaccess_token%3E&x=1" in text


def test_json_kept_inside_a_json_string_is_redacted(tmp_path: Path) -> None:
    body = json.dumps({"event": json.dumps({"client_secret": CANARY})}).encode()
    text, _ = record(tmp_path, req_headers=ctype("application/json"), body=body)
    assert_clean(text, tmp_path / "c.yaml")


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_basic_credentials_in_json_or_text_bodies(tmp_path: Path, content_type: str) -> None:
    basic = "Basic " + base64.b64encode(f"admin:{CANARY}".encode()).decode()
    body = json.dumps({"header": basic}).encode() if content_type == "application/json" else f"use {basic}\n".encode()
    text, _ = record(tmp_path, req_headers=ctype(content_type), body=body)
    assert_clean(text, tmp_path / "c.yaml")
    assert "Basic <redacted>" in text


def test_basic_in_prose_is_not_a_credential() -> None:
    body = b"Basic authentication is not supported; use a token"
    assert redact_body(ctype("text/plain"), body, R) == body


# ------------------------------------------------------------------------------- names the rules missed


@pytest.mark.parametrize("query", [
    f"X-Amz-Security-Token={CANARY}", f"X-Amz-Signature={CANARY}", f"X-Amz-Credential={CANARY}%2F20260101",
    f"auth[token]={CANARY}", f"key={CANARY}", f"a=1;session_id={CANARY}", f"a=1;token={CANARY}",
])
def test_query_parameters(tmp_path: Path, query: str) -> None:
    text, _ = record(tmp_path, uri=f"{INV}/subscriptions?{query}")
    assert_clean(text, tmp_path / "c.yaml")


@pytest.mark.parametrize("name", ["X-Authorization", "Authentication", "X-Auth", "X-Custom-Auth", "X-Access-Key",
                                  "X-Session-Id", "X-Api-Token", "X-Signature", "X-Csrf-Token"])
def test_headers(tmp_path: Path, name: str) -> None:
    text, _ = record(tmp_path, req_headers={name: [CANARY]})
    assert_clean(text, tmp_path / "c.yaml")


def test_refresh_header_url_query_is_redacted(tmp_path: Path) -> None:
    text, _ = record(tmp_path, resp_headers={"Refresh": [f"0; url=https://idp/cb?access_token={CANARY}"]})
    assert_clean(text, tmp_path / "c.yaml")
    assert "0; url=https://idp/cb?access_token=%3Credacted%3Aaccess_token%3E" in text


@pytest.mark.parametrize("member", ["apiToken", "pass", "pwd", "passphrase", "sessionId", "authorization",
                                    "bmc_pass", "db-password", "ssh_private_key", "secretAccessKey"])
def test_json_members(tmp_path: Path, member: str) -> None:
    body = json.dumps({"deploymentManagerId": "dm-1", "extensions": {"profileData": {member: CANARY}},
                       "top": {member: CANARY}}).encode()
    text, _ = record(tmp_path, req_headers=ctype("application/json"), body=body)
    assert_clean(text, tmp_path / "c.yaml")


@pytest.mark.parametrize(("content_type", "body"), [
    ("application/xml", f"<creds><user>op</user><password>{CANARY}</password></creds>"),
    ("application/xml", f"<creds><ns:password><![CDATA[{CANARY}]]></ns:password></creds>"),
    ("application/xml", f'<login user="op" token="{CANARY}"/>'),
    ("text/html", f'<form><input type="password" name="password" value="{CANARY}"></form>'),
    ("text/html", f'<meta name="csrf-token" content="{CANARY}">'),
])
def test_xml_and_html(tmp_path: Path, content_type: str, body: str) -> None:
    text, _ = record(tmp_path, req_headers=ctype(content_type), body=body.encode())
    assert_clean(text, tmp_path / "c.yaml")


def test_export_lines_in_text(tmp_path: Path) -> None:
    body = f"export DB_PASSWORD={CANARY}\nexport PATH=/usr/bin\n".encode()
    text, _ = record(tmp_path, req_headers=ctype("text/plain"), body=body)
    assert_clean(text, tmp_path / "c.yaml")
    assert "export PATH=/usr/bin" in text


def test_yaml_flow_mappings(tmp_path: Path) -> None:
    body = f"cluster: edge1\ncreds: {{user: op, passphrase: {CANARY}}}\n".encode()
    text, _ = record(tmp_path, req_headers=ctype("application/yaml"), body=body)
    assert_clean(text, tmp_path / "c.yaml")


def test_content_encoding_on_two_header_lines(tmp_path: Path) -> None:
    body = gzip.compress(json.dumps({"password": CANARY}).encode(), mtime=0)
    text, _ = record(tmp_path, req_headers={"Content-Type": ["application/json"],
                                            "Content-Encoding": ["identity", "gzip"]}, body=body)
    assert_clean(text, tmp_path / "c.yaml")
    assert "Content-Encoding" not in text


def test_scan_finds_a_gzip_body_left_encoded() -> None:
    data = base64.b64encode(gzip.compress(f'{{"password": "{CANARY}"}}'.encode(), mtime=0)).decode()
    text = f"    body: !!binary |\n      {data}\n"
    assert [f.what for f in scan_text(text)] == ["credential-like field 'password' has a value (in a binary body)"]


def test_scan_finds_duplicate_keys_xml_and_flow_mappings() -> None:
    for line in (f'{{"password":"<redacted>","password":"{CANARY}"}}', f"<password>{CANARY}</password>",
                 f"{{user: op, passphrase: {CANARY}}}", f'<input name="password" value="{CANARY}">'):
        assert scan_text(f"    body: '{line}'\n"), line


# ------------------------------------------------------------------------------- over-redaction


@pytest.mark.parametrize("challenge", [
    'Bearer realm="Authentication Required"',
    'Bearer realm="o2ims", error="invalid_token", error_description="The access token expired"',
    'Basic realm="o2ims", charset="UTF-8"',
])
def test_www_authenticate_challenge_is_kept(challenge: str) -> None:
    headers = {"WWW-Authenticate": [challenge], "Proxy-Authenticate": [challenge]}
    assert redact_headers(headers, R) == headers


def test_a_challenge_in_a_body_is_kept() -> None:
    body = b'{"detail": "send Bearer realm=\\"o2ims\\" credentials", "token_type": "Bearer"}'
    assert redact_body(ctype("application/json"), body, R) == body


@pytest.mark.parametrize(("doc", "why"), [
    ({"labels": [{"key": "zone", "value": "a"}]}, "label maps"),
    ({"groupKey": "{}:{alertname=\"x\"}"}, "alarm grouping"),
    ({"token_type": "Bearer", "expires_in": 300}, "OAuth token metadata"),
    ({"resourceTypeId": "rt-1", "globalAssetId": "asset-1", "passive": True}, "O2IMS identifiers"),
    ({"tokenUrl": "https://idp/token"}, "OpenAPI security schemes"),
])
def test_allowlisted_names_are_kept(doc: dict[str, Any], why: str) -> None:
    body = json.dumps(doc).encode()
    assert redact_body(ctype("application/json"), body, R) == body, why


def test_replay_session_header_is_kept() -> None:
    assert redact_headers({"X-Replay-Session": ["ci-42"]}, R) == {"X-Replay-Session": ["ci-42"]}


def test_o2ims_query_is_kept() -> None:
    uri = "http://h/o2ims-infrastructureInventory/v1/resourcePools?filter=(eq,name,a);(cont,description,b)&fields=name"
    assert redact_uri(uri, R) == uri


# ------------------------------------------------------------------------------- clean by construction


def test_scan_after_redaction_catches_what_the_rules_missed_and_counts_it(tmp_path: Path) -> None:
    # A single-line string "password: ..." is no member and no key line for the redactor, but the scan reads it.
    body = json.dumps({"note": f"password: {CANARY}"}).encode()
    text, rec = record(tmp_path, req_headers=ctype("application/json"), body=body)
    assert_clean(text, tmp_path / "c.yaml")
    assert rec.caught == 1 and "<redacted:scan>" in text


# ------------------------------------------------------------------------------- no false positive


ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted((ROOT / "cassettes").rglob("*.yaml"))


@pytest.mark.parametrize("path", BUNDLED, ids=[str(p.relative_to(ROOT)) for p in BUNDLED])
def test_no_false_positive_on_bundled_cassettes(path: Path) -> None:
    """Redacting a bundled cassette again changes nothing, and the scan after redaction finds nothing."""
    from replayer.record.redact import redact_interaction
    from replayer.record.scrub import scrub_interaction

    for number, interaction in enumerate(load_cassette(path).interactions):
        redacted = redact_interaction(interaction, R)
        assert redacted == interaction, f"{path.name}: interaction {number}"
        assert scrub_interaction(redacted, R)[1] == [], f"{path.name}: interaction {number}"
