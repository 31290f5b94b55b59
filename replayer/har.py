"""HAR 1.2 (HTTP Archive) to recorder exchanges, and cassettes to HAR. No IO.

Import turns each HAR entry into the ``Exchange`` a proxy would have seen, so the recorder
(``replayer.record.recorder``) classifies, normalises and redacts it exactly as during a recording.
HAR bodies are stored decoded (HAR 1.2, ``content.text``; base64 when ``encoding: base64``), so a
``Content-Encoding`` header is dropped on import. Browsers add HTTP/2 pseudo-headers (``:authority``)
and private ``_``-prefixed members; the first are dropped, the second ignored.

Export writes what browsers' devtools, Postman and mitmproxy read (mitmproxy's own reader is
``mitmproxy/io/har.py``, ``request_to_flow``; its writer ``mitmproxy/addons/savehar.py``,
``SaveHar.flow_entry``): one entry per interaction, text bodies as text, others base64.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from replayer.cassettes.model import Cassette, Headers, Interaction, InteractionKind, header_value
from replayer.record.recorder import Exchange, headers_from_pairs

__all__ = ["HarEntry", "exchanges_from_har", "har_from_cassette", "dump_har", "HAR_EPOCH"]

#: ``startedDateTime`` of an interaction recorded without timing: HAR requires one, and a fixed value
#: keeps the export of the same cassette byte-identical.
HAR_EPOCH = "1970-01-01T00:00:00.000Z"


class HarEntry:
    """One HAR entry read as an Exchange, or the reason it cannot be (``exchange is None``)."""

    __slots__ = ("index", "exchange", "skipped")

    def __init__(self, index: int, exchange: Exchange | None, skipped: str = "") -> None:
        self.index = index
        self.exchange = exchange
        self.skipped = skipped


# --------------------------------------------------------------------------- import


def _get(d: Any, key: str, where: str, types: type | tuple[type, ...]) -> Any:
    if not isinstance(d, dict) or key not in d:
        raise ValueError(f"{where}.{key}: missing")
    value = d[key]
    if not isinstance(value, types) or isinstance(value, bool) and types is not bool:
        raise ValueError(f"{where}.{key}: expected {getattr(types, '__name__', 'a value')}, "
                         f"got {type(value).__name__}")
    return value


def _headers(raw: Any, where: str) -> Headers:
    if not isinstance(raw, list):
        raise ValueError(f"{where}: expected a list of {{name, value}} objects")
    pairs = []
    for i, h in enumerate(raw):
        name = _get(h, "name", f"{where}[{i}]", str)
        value = _get(h, "value", f"{where}[{i}]", str)
        if not name.startswith(":"):  # HTTP/2 pseudo-headers: the URL and status already say it
            pairs.append((name, value))
    return headers_from_pairs(pairs)


def _content(raw: Mapping[str, Any], where: str) -> bytes:
    text = raw.get("text")
    if text is None:
        return b""
    if not isinstance(text, str):
        raise ValueError(f"{where}.text: expected a string")
    if raw.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except ValueError:
            raise ValueError(f"{where}.text: not valid base64 although encoding is base64") from None
    return text.encode("utf-8")


def _request_body(req: Mapping[str, Any], where: str) -> bytes:
    post = req.get("postData")
    if not isinstance(post, dict):
        return b""
    if post.get("text") is not None:
        return _content(post, f"{where}.postData")
    params = post.get("params")
    if isinstance(params, list) and params:  # a form given only as params (HAR 1.2 allows either)
        return urlencode([(str(p.get("name", "")), str(p.get("value", ""))) for p in params]).encode()
    return b""


def _timestamp(value: Any, where: str) -> float:
    if not isinstance(value, str):
        raise ValueError(f"{where}.startedDateTime: missing")
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{where}.startedDateTime: not an ISO 8601 date-time: {value!r}") from None
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp()


def _entry(raw: Any, where: str) -> Exchange | str:
    req = _get(raw, "request", where, dict)
    resp = _get(raw, "response", where, dict)
    method = _get(req, "method", f"{where}.request", str).upper()
    url = _get(req, "url", f"{where}.request", str)
    if urlsplit(url).scheme not in ("http", "https"):
        return f"not an http(s) URL: {url[:80]}"
    status = _get(resp, "status", f"{where}.response", int)
    if status <= 0:  # browsers list failed and blocked requests with status 0
        return "no response (status 0: failed, blocked or cancelled in the browser)"
    started = _timestamp(raw.get("startedDateTime"), where)
    elapsed = raw.get("time")
    duration = float(elapsed) / 1000 if isinstance(elapsed, (int, float)) and elapsed > 0 else 0.0
    resp_headers = _headers(resp.get("headers", []), f"{where}.response.headers")
    # content.text is the decoded body: the Content-Encoding it travelled with no longer applies.
    resp_headers = {k: v for k, v in resp_headers.items() if k.lower() != "content-encoding"}
    content = resp.get("content") if isinstance(resp.get("content"), dict) else {}
    return Exchange(
        method=method, url=url,
        request_headers=_headers(req.get("headers", []), f"{where}.request.headers"),
        request_body=_request_body(req, f"{where}.request"),
        status=status, reason=str(resp.get("statusText") or ""),
        response_headers=resp_headers, response_body=_content(content, f"{where}.response.content"),
        started=started, ended=started + duration,
    )


def exchanges_from_har(doc: Any) -> list[HarEntry]:
    """The entries of a parsed HAR document; raises ValueError naming the first malformed member."""
    log = _get(doc, "log", "HAR", dict)
    entries = _get(log, "entries", "log", list)
    out = []
    for i, raw in enumerate(entries):
        result = _entry(raw, f"log.entries[{i}]")
        out.append(HarEntry(i, None, result) if isinstance(result, str) else HarEntry(i, result))
    return out


# --------------------------------------------------------------------------- export


def _pairs(headers: Headers) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, values in headers.items() for value in values]


def _text(headers: Headers, body: bytes) -> dict[str, Any]:
    """A HAR content object: text when the body is UTF-8, base64 otherwise."""
    out: dict[str, Any] = {"size": len(body), "mimeType": header_value(headers, "Content-Type") or ""}
    if not body:
        out["text"] = ""
        return out
    try:
        out["text"] = body.decode("utf-8")
    except UnicodeDecodeError:
        out["text"] = base64.b64encode(body).decode("ascii")
        out["encoding"] = "base64"
    return out


def _cookies(headers: Headers, name: str) -> list[dict[str, str]]:
    out = []
    for value in (v for k, vs in headers.items() if k.lower() == name for v in vs):
        pairs = value.split(";") if name == "cookie" else value.split(";")[:1]
        for pair in pairs:
            key, eq, val = pair.strip().partition("=")
            if eq and key:
                out.append({"name": key, "value": val})
    return out


def _request(it: Interaction) -> dict[str, Any]:
    req = it.request
    out: dict[str, Any] = {
        "method": req.method, "url": req.uri, "httpVersion": "HTTP/1.1",
        "cookies": _cookies(req.headers, "cookie"), "headers": _pairs(req.headers),
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(req.uri).query,
                                                                     keep_blank_values=True)],
        "headersSize": -1, "bodySize": len(req.body),
    }
    if req.body:
        content = _text(req.headers, req.body)
        post: dict[str, Any] = {"mimeType": content["mimeType"], "text": content["text"]}
        if "encoding" in content:
            post["encoding"] = content["encoding"]
        out["postData"] = post
    return out


def _response(it: Interaction) -> dict[str, Any]:
    resp = it.response
    return {
        "status": resp.status, "statusText": resp.reason, "httpVersion": "HTTP/1.1",
        "cookies": _cookies(resp.headers, "set-cookie"), "headers": _pairs(resp.headers),
        "content": _text(resp.headers, resp.body),
        "redirectURL": header_value(resp.headers, "Location") or "",
        "headersSize": -1, "bodySize": len(resp.body),
    }


def _entry_of(it: Interaction, started: str) -> dict[str, Any]:
    ms = round((it.meta.duration or 0.0) * 1000, 3)
    entry: dict[str, Any] = {
        "startedDateTime": it.meta.recorded_at or started,
        "time": ms,
        "request": _request(it),
        "response": _response(it),
        "cache": {},
        "timings": {"send": 0, "wait": ms, "receive": 0},
    }
    if it.meta.kind is InteractionKind.NOTIFICATION:
        entry["comment"] = "notification: a request the O2IMS sent to a consumer's callback"
    return entry


def har_from_cassette(cassette: Cassette, *, version: str) -> dict[str, Any]:
    """The HAR 1.2 document of a cassette (deterministic: the same cassette gives the same document)."""
    started = str(cassette.metadata.get("recorded_at") or HAR_EPOCH)
    return {"log": {
        "version": "1.2",
        "creator": {"name": "o2ims-replay", "version": version},
        "entries": [_entry_of(it, started) for it in cassette.interactions],
    }}


def dump_har(doc: Mapping[str, Any]) -> str:
    """HAR text as browsers write it: 2-space indented JSON, non-ASCII kept."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
