"""Property: whatever the place, encoding and content type of a secret, no canary is ever written, and every
cassette the recorder writes passes ``o2replay scan``. Exchanges go through the real Recorder into real files.

``O2REPLAY_FUZZ_EXAMPLES`` raises the number of examples (``make fuzz``)."""

from __future__ import annotations

import base64
import gzip
import json
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from urllib.parse import quote

import brotli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replayer.cassettes.load import load_cassette
from replayer.record.recorder import Exchange, Recorder, parse_config
from replayer.record.scan import scan_cassette

EXAMPLES = int(os.environ.get("O2REPLAY_FUZZ_EXAMPLES", "150"))
INV = "/o2ims-infrastructureInventory/v1"

#: Names a secret can hide under (each is secret by the default rules: listed, by glob or by word part).
SECRET_NAMES = ["password", "client_secret", "apiToken", "access_token", "sessionId", "passphrase", "pwd",
                "bmc_pass", "X-Api-Key", "refreshToken", "db_password", "privateKey", "auth_token", "secret"]
BENIGN = ["name", "description", "resourcePoolId", "oCloudId", "globalLocationId", "extensions", "labels"]


@dataclass(frozen=True)
class Placed:
    """Where the canary went: the request target, extra request headers, and a body with its media type."""

    query: str
    headers: dict[str, list[str]]
    body: str
    media: str
    structured: bool  # False: the body's bytes cannot carry a charset other than UTF-8 (multipart)


canaries = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", min_size=10,
                   max_size=24).map(lambda s: f"Cnry{s}")


def _nest(draw: st.DrawFn, leaf: object) -> object:
    for _ in range(draw(st.integers(0, 4))):
        key = draw(st.sampled_from(BENIGN))
        leaf = {key: leaf, "name": "edge1"} if draw(st.booleans()) else [{"id": 1}, {key: leaf}]
    return leaf


@st.composite
def placements(draw: st.DrawFn, canary: str) -> Placed:
    name = draw(st.sampled_from(SECRET_NAMES))
    basic = base64.b64encode(f"admin:{canary}".encode()).decode()
    kinds: dict[str, Callable[[], Placed]] = {
        "query": lambda: Placed(f"?filter=(eq,name,x)&{quote(name)}={canary}", {}, "", "", True),
        "query;": lambda: Placed(f"?a=1;{quote(name)}={canary}", {}, "", "", True),
        "header": lambda: Placed("", {f"X-{name}": [canary]}, "", "", True),
        "authorization": lambda: Placed("", {"Authorization": [f"Bearer {canary}"]}, "", "", True),
        "json": lambda: Placed("", {}, json.dumps(_nest(draw, {name: canary, "name": "n"})), "json", True),
        "json-dup": lambda: Placed("", {}, f'{{"{name}":"{canary}","{name}":null}}', "json", True),
        "profileData": lambda: Placed("", {}, json.dumps({"extensions": {"profileData": {
            draw(st.sampled_from(["admin_client_key", "cluster_token", "bmc_pass", "helm_password"])): canary}}}),
            "json", True),
        "json-url": lambda: Placed("", {}, json.dumps({"callback": f"http://c/cb?{name}={canary}"}), "json", True),
        "json-basic": lambda: Placed("", {}, json.dumps({"h": f"Basic {basic}"}), "json", True),
        "json-bearer": lambda: Placed("", {}, json.dumps({"h": f"Bearer {canary}"}), "json", True),
        "json-userinfo": lambda: Placed("", {}, json.dumps({"u": f"https://op:{canary}@edge1/api"}), "json", True),
        "json-pem": lambda: Placed("", {}, json.dumps({"k": f"-----BEGIN PRIVATE KEY-----\n{canary}\n"
                                                           "-----END PRIVATE KEY-----"}), "json", True),
        "ndjson": lambda: Placed("", {}, f'{{"a":1}}\n{json.dumps({name: canary})}\n', "ndjson", True),
        "form": lambda: Placed("", {}, f"site=edge1&{quote(name)}={canary}&scope=o2ims", "form", True),
        "multipart": lambda: Placed("", {}, (
            f'--XyZ\r\nContent-Disposition: form-data; name="user"\r\n\r\nop\r\n'
            f'--XyZ\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{canary}\r\n--XyZ--\r\n'),
            "multipart", False),
        "multipart-json": lambda: Placed("", {}, (
            f'--XyZ\r\nContent-Disposition: form-data; name="meta"\r\nContent-Type: application/json\r\n\r\n'
            f'{json.dumps({name: canary})}\r\n--XyZ--\r\n'), "multipart", False),
        "xml": lambda: Placed("", {}, f"<r><n>x</n><{name}>{canary}</{name}></r>", "xml", True),
        "xml-attr": lambda: Placed("", {}, f'<r><login user="op" {name}="{canary}"/></r>', "xml", True),
        "html": lambda: Placed("", {}, f'<form><input name="{name}" value="{canary}"></form>', "html", True),
        "text-kv": lambda: Placed("", {}, f"site: edge1\n{name}: {canary}\n", "text", True),
        "text-export": lambda: Placed("", {}, f"export {name.upper()}={canary}\n", "text", True),
        "yaml-flow": lambda: Placed("", {}, f"creds: {{user: op, {name}: {canary}}}\n", "yaml", True),
        "text-basic": lambda: Placed("", {}, f"curl -H 'Authorization: Basic {basic}' http://h/\n", "text", True),
    }
    return kinds[draw(st.sampled_from(sorted(kinds)))]()


_MEDIA = {"json": "application/json", "ndjson": "application/x-ndjson", "form": "application/x-www-form-urlencoded",
          "multipart": "multipart/form-data; boundary=XyZ", "xml": "application/xml", "html": "text/html",
          "text": "text/plain", "yaml": "application/yaml", "": "application/json"}
_ENCODINGS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda b: gzip.compress(b, mtime=0), "deflate": zlib.compress, "br": brotli.compress,
    "identity": lambda b: b,
}


@st.composite
def exchanges(draw: st.DrawFn) -> tuple[str, Exchange]:
    canary = draw(canaries)
    placed = draw(placements(canary))
    declared = draw(st.sampled_from(["declared", "text/plain", "application/octet-stream", "none"]))
    media = _MEDIA[placed.media] if declared == "declared" or placed.media == "multipart" else declared
    charset = draw(st.sampled_from(["utf-8", "iso-8859-1", "utf-16"] if placed.structured else ["utf-8"]))
    body = placed.body
    if body and charset == "iso-8859-1" and placed.media in ("json", "text", "yaml", "xml", "html", "form"):
        body = body.replace("edge1", "\xe9dge1").replace("op", "\xf6p")  # bytes that are not UTF-8
    headers = dict(placed.headers)
    raw = body.encode(charset)
    if body and media != "none":
        headers["Content-Type"] = [media + (f"; charset={charset}" if charset != "utf-8" and media != "none" else "")]
    elif charset != "utf-8":
        raw = body.encode("utf-8")  # nothing says which charset: only UTF-8 and Latin-1 can be sniffed
    codings = draw(st.lists(st.sampled_from(sorted(_ENCODINGS)), max_size=2)) if raw else []
    for coding in codings:
        raw = _ENCODINGS[coding](raw)
    if codings:
        # as one header line ("identity, gzip") or one line per coding
        headers["Content-Encoding"] = [", ".join(codings)] if draw(st.booleans()) else list(codings)
    in_response = draw(st.booleans()) and placed.query == ""
    req_h, resp_h = ({}, headers) if in_response else (headers, {})
    exchange = Exchange("POST", f"http://o2ims.example{INV}/subscriptions{placed.query}", req_h,
                        b"" if in_response else raw, 200, "OK", resp_h, raw if in_response else b"[]")
    return canary, exchange


def _written_bodies(path: Path) -> list[bytes]:
    return [b for i in load_cassette(path).interactions for b in (i.request.body, i.response.body)]


@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(exchanges())
def test_no_canary_is_ever_written_and_scan_passes(case: tuple[str, Exchange]) -> None:
    canary, exchange = case
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.yaml"
        recorder = Recorder(parse_config(cassette=str(path), record_paths=["/"]))
        outcome = recorder.record(exchange)
        recorder.close()
        if not outcome.recorded:  # an OAuth2 token exchange (a form with grant_type, an answer with access_token)
            assert outcome.reason == "an OAuth2 token exchange is never recorded" and not path.exists()
            return
        text = path.read_text(encoding="utf-8")
        assert canary not in text
        for body in _written_bodies(path):
            for form in (canary.encode(), canary.encode("utf-16-le"), canary.encode("utf-16-be")):
                assert form not in body
        assert scan_cassette(text, load_cassette(path)) == []
