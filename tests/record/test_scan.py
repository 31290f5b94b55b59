"""`o2replay scan` and replayer.record.scan: planted secrets are found by file:line, placeholders are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from replayer.cli import main
from replayer.record.scan import scan_text

CLEAN = """\
version: 1
interactions:
- request:
    method: POST
    uri: http://h/oauth/token?access_token=%3Credacted%3Aaccess_token%3E
    headers:
      Authorization:
      - Bearer <redacted>
      Cookie:
      - session=<redacted:cookie>; theme=<redacted:cookie>
      X-Auth-Token:
      - <redacted:x-auth-token>
    body: grant_type=password&username=op&password=%3Credacted%3Apassword%3E
  response:
    status: {code: 200, message: OK}
    headers:
      Set-Cookie:
      - sid=<redacted:cookie>; Path=/; HttpOnly
    body:
      string: |-
        {
          "access_token": "<redacted:access_token>",
          "token_type": "Bearer",
          "expires_in": 300,
          "password": 0,
          "client_secret": {},
          "description": "key <redacted:pem> and <redacted:jwt>",
          "serviceUri": "https://<redacted:userinfo>@edge1.example"
        }
"""

PLANTED = [
    ("      - Bearer abcdefgh12345678", "bearer token"),
    ("      - Basic dXNlcjpwYXNzd29yZA==", "basic credentials"),
    ('          "id_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",', "JWT"),
    ("          -----BEGIN EC PRIVATE KEY-----", "private key (PEM)"),
    ("          -----BEGIN CERTIFICATE-----", "PEM block"),
    ("    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQ==", "base64-encoded PEM"),
    ('          "aws": "AKIAIOSFODNN7EXAMPLE",', "AWS access key id"),
    ("    uri: https://admin:hunter2@edge1.example/x", "password in URL"),
    ('          "refresh_token": "8xLOxBtZp8",', "credential-like field 'refresh_token' has a value"),
    ('          "password": "hunter2",', "credential-like field 'password' has a value"),
    ("    body: grant_type=password&client_secret=s3cr3tvalue", "credential-like parameter 'client_secret'"),
]


def test_clean_cassette_has_no_findings() -> None:
    assert scan_text(CLEAN) == []


@pytest.mark.parametrize(("line", "what"), PLANTED)
def test_each_planted_secret_is_found_on_its_line(line: str, what: str) -> None:
    lines = CLEAN.splitlines()
    lines.insert(25, line)
    findings = scan_text("\n".join(lines))
    assert [f.line for f in findings] == [26]
    assert findings[0].what.startswith(what)


@pytest.mark.parametrize(("header", "value"), [
    ("Authorization", "Token 0123456789abcdef"),
    ("Cookie", "prefs=realvalue; theme=<redacted:cookie>"),
    ("X-Auth-Token", "0123456789abcdef"),
])
def test_unredacted_secret_headers_are_found(header: str, value: str) -> None:
    text = f"    headers:\n      {header}:\n      - {value}\n      Accept:\n      - '*/*'\n"
    findings = scan_text(text)
    assert [(f.line, f.what) for f in findings] == [(3, f"unredacted {header} header")]


def test_cli_lists_file_line_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "clean.yaml").write_text(CLEAN)
    bad = tmp_path / "sub" / "bad.yaml"
    bad.parent.mkdir()
    bad.write_text(CLEAN.replace("- Bearer <redacted>", "- Bearer abcdefgh12345678"))
    (tmp_path / "notes.txt").write_text("Bearer abcdefgh12345678\n")  # folders: only cassette-like files
    assert main(["scan", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out == f"{bad}:8: bearer token\n"
    assert "1 secret-looking values in 2 files" in err


def test_cli_exits_0_when_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.yaml").write_text(CLEAN)
    cache = tmp_path / ".o2replay-cache"
    cache.mkdir()
    (cache / "x.json").write_text('{"password": "derived, ignored"}')
    assert main(["scan", str(tmp_path / "a.yaml"), str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""


def test_cli_missing_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml: no such file or directory" in capsys.readouterr().err


def test_extra_rules_make_more_fields_credential_like(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.yaml").write_text('  "pin": "12345678"\n')
    rules = tmp_path / "rules.yaml"
    rules.write_text("fields: [pin]\n")
    assert main(["scan", str(tmp_path / "a.yaml")]) == 0
    assert main(["scan", "--redact-rules", str(rules), str(tmp_path / "a.yaml")]) == 1
    assert "credential-like field 'pin'" in capsys.readouterr().out


def test_binary_bodies_are_decoded_and_scanned() -> None:
    import base64

    blob = base64.b64encode(b"\x00\xff token: Bearer abcdefgh12345678 \xfe").decode()
    text = f"  response:\n    body:\n      string: !!binary |\n        {blob[:40]}\n        {blob[40:]}\n  other: 1\n"
    assert [(f.line, f.what) for f in scan_text(text)] == [(3, "bearer token (in a binary body)")]
    clean = base64.b64encode(b"\x00\xff nothing here").decode()
    assert scan_text(f"      string: !!binary |\n        {clean}\n") == []


@pytest.mark.parametrize("style", ["vcrpy-double-quoted", "one-line-literal", "single-quoted"])
def test_secrets_in_bodies_kept_on_one_line_or_folded_are_found(tmp_path: Path, style: str,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """vcrpy writes bodies as YAML quoted strings, folded over lines; the scanner reads the parsed bodies too."""
    import json as _json

    import yaml as _yaml

    body = _json.dumps([{"extensions": {"profileData": {"cluster_token": "zQ9vX3mK7pL2rT8wY4nB6cD1fG5hJ0sA",
                                                        "endpoint": "https://api.edge1:6443"}},
                         "name": "dm", "password": "Sup3rS3cretPassw0rd"}])
    doc = {"version": 1, "interactions": [{
        "request": {"method": "GET", "uri": "http://x/o2ims-infrastructureInventory/v1/deploymentManagers",
                    "headers": {}, "body": None},
        "response": {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": body}}}]}
    if style == "vcrpy-double-quoted":
        text = _yaml.dump(doc, width=60, default_style='"')  # escaped quotes, folded over lines
    elif style == "one-line-literal":
        text = _yaml.dump(doc, width=10_000)
    else:
        text = _yaml.dump(doc, width=10_000, default_style="'")
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert main(["scan", str(path)]) == 1
    out = capsys.readouterr().out
    assert "'cluster_token' has a value" in out and "'password' has a value" in out
    assert "'endpoint'" not in out
