"""Cassettes in memory, and their conversion to and from vcrpy's v1 dictionaries. No IO.

On disk a cassette is vcrpy's format (``vcr/serialize.py``)::

    version: 1
    metadata: {...}            # ours; vcrpy ignores top-level keys it does not know
    interactions:
    - request:  {method, uri, headers: {Name: [v, ...]}, body: str | !!binary | null}
      response: {status: {code, message}, headers, body: {string: str | !!binary}}
      meta:     {kind, recorded_at, duration}   # ours, beside request/response where vcrpy ignores it

Bodies are held as bytes in memory. ``normalise_message`` makes them reviewable before they are
stored: compressed bodies decoded, JSON pretty-printed with a 2-space indent, Content-Length fixed.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from replayer import limits

__all__ = [
    "CASSETTE_VERSION",
    "Headers",
    "InteractionKind",
    "Request",
    "Response",
    "InteractionMeta",
    "Interaction",
    "Cassette",
    "interaction_from_dict",
    "interaction_to_dict",
    "cassette_from_dict",
    "metadata_to_dict",
    "normalise_message",
    "header_value",
    "is_json_content",
    "media_type",
]

CASSETTE_VERSION = 1

#: Header name as recorded -> its values, in recorded order.
Headers = dict[str, list[str]]


class InteractionKind(StrEnum):
    """What an interaction is: a call to the O2IMS API, or a notification the O2IMS sent a consumer."""

    API = "api"
    NOTIFICATION = "notification"


@dataclass(frozen=True, slots=True)
class Request:
    """One recorded HTTP request."""

    method: str
    uri: str
    headers: Headers = field(default_factory=dict)
    body: bytes = b""

    @property
    def path(self) -> str:
        """The path part of the URI, as recorded."""
        return urlsplit(self.uri).path or "/"

    @property
    def query(self) -> list[tuple[str, str]]:
        """The query parameters, in recorded order."""
        return parse_qsl(urlsplit(self.uri).query, keep_blank_values=True)

    def __repr__(self) -> str:
        return f"<Request [{self.method} {self.uri}]>"


@dataclass(frozen=True, slots=True)
class Response:
    """One recorded HTTP response."""

    status: int
    reason: str = ""
    headers: Headers = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError when it is not JSON."""
        return limits.loads(self.body)

    def __repr__(self) -> str:
        return f"<Response [{self.status} {self.reason}]>"


@dataclass(frozen=True, slots=True)
class InteractionMeta:
    """What we record beside vcrpy's request/response: kind and optional timing."""

    kind: InteractionKind = InteractionKind.API
    recorded_at: str | None = None
    duration: float | None = None


@dataclass(frozen=True, slots=True)
class Interaction:
    """A request and the response it got."""

    request: Request
    response: Response
    meta: InteractionMeta = field(default_factory=InteractionMeta)


@dataclass(frozen=True, slots=True)
class Cassette:
    """An ordered list of interactions plus free-form metadata."""

    interactions: tuple[Interaction, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.interactions)


# --------------------------------------------------------------------------- headers and bodies


def header_value(headers: Headers, name: str) -> str | None:
    """The first value of a header, looked up case-insensitively."""
    lname = name.lower()
    for key, values in headers.items():
        if key.lower() == lname and values:
            return values[0]
    return None


def _without(headers: Headers, *names: str) -> Headers:
    drop = {n.lower() for n in names}
    return {k: v for k, v in headers.items() if k.lower() not in drop}


def _set_header(headers: Headers, name: str, value: str) -> Headers:
    out = _without(headers, name)
    out[name] = [value]
    return out


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type value, lower-case, without parameters (``""`` when absent)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json_content(content_type: str | None) -> bool:
    """True for application/json, application/problem+json and other +json media types."""
    media = media_type(content_type)
    return media == "application/json" or media.endswith("+json")


def _decode_content(encoding: str, body: bytes) -> bytes:
    """Undo one Content-Encoding; raises ValueError for an unknown or corrupt encoding."""
    enc = encoding.strip().lower()
    try:
        if enc in ("gzip", "x-gzip"):
            return gzip.decompress(body)
        if enc == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:  # raw deflate without the zlib header, as some servers send
                return zlib.decompress(body, -zlib.MAX_WBITS)
        if enc == "br":
            import brotli  # type: ignore[import-untyped]

            return bytes(brotli.decompress(body))
        if enc == "identity":
            return body
    except Exception as e:  # noqa: BLE001 - every codec raises its own type
        raise ValueError(f"cannot decode {enc} body: {e}") from e
    raise ValueError(f"unsupported Content-Encoding {encoding!r} (expected gzip, deflate, br or identity)")


def pretty_json(body: bytes) -> bytes | None:
    """The body re-encoded as 2-space-indented JSON, or None when it is not JSON (or repeats a member name,
    which a re-encoding would lose)."""
    try:
        # UTF-8 only: json.loads would take UTF-16 too, and re-encoding that as UTF-8 would contradict the
        # message's declared charset.
        text = body.decode("utf-8")
        limits.check_json_depth(text)
        doc = json.loads(text, object_pairs_hook=_unique_members)
    except ValueError:
        return None
    return json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("a member name is repeated")
    return out


def normalise_message(headers: Headers, body: bytes, *, loading: bool = False) -> tuple[Headers, bytes]:
    """Make a body reviewable: decode Content-Encoding, pretty-print JSON, fix Content-Length.

    Idempotent, so loading a normalised cassette changes nothing. ``loading=True`` is for messages
    read from a cassette: a JSON body already spanning several lines is kept as written (it is
    reviewable, and re-encoding every body would dominate the load time), and a body that does not
    decode under its Content-Encoding is taken as decoded already, as vcrpy records them with urllib3 2.
    """
    # Every Content-Encoding line counts, in order (``identity`` then ``gzip`` on two lines is gzip).
    encoding = ",".join(v for k, vs in headers.items() if k.lower() == "content-encoding" for v in vs)
    if encoding and body:
        try:
            for enc in reversed([e for e in encoding.split(",") if e.strip()]):
                body = _decode_content(enc, body)
        except ValueError:
            if not loading:
                raise
        headers = _without(headers, "Content-Encoding")
    elif encoding:
        headers = _without(headers, "Content-Encoding")
    if body and not (loading and b"\n" in body) and is_json_content(header_value(headers, "Content-Type")):
        body = pretty_json(body) or body
    if header_value(headers, "Content-Length") is not None:
        headers = _set_header(headers, _header_name(headers, "Content-Length"), str(len(body)))
    if header_value(headers, "Transfer-Encoding") is not None:
        headers = _without(headers, "Transfer-Encoding")
        headers = _set_header(headers, "Content-Length", str(len(body)))
    return headers, body


def _header_name(headers: Headers, name: str) -> str:
    for key in headers:
        if key.lower() == name.lower():
            return key
    return name


# --------------------------------------------------------------------------- dict conversion


def _body_to_yaml(body: bytes) -> str | bytes:
    """Text bodies as str (YAML literal blocks), anything else as bytes (YAML ``!!binary``)."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body


def _headers_to_dict(headers: Headers) -> dict[str, list[str]]:
    # Sorted by name so that identical traffic gives identical files whatever the wire order.
    return {k: list(headers[k]) for k in sorted(headers, key=str.lower)}


def interaction_to_dict(interaction: Interaction) -> dict[str, Any]:
    """The vcrpy v1 dictionary of one interaction, plus our ``meta`` beside it."""
    req, resp = interaction.request, interaction.response
    out: dict[str, Any] = {
        "request": {
            "method": req.method,
            "uri": req.uri,
            "headers": _headers_to_dict(req.headers),
            "body": _body_to_yaml(req.body) if req.body else None,
        },
        "response": {
            "status": {"code": resp.status, "message": resp.reason},
            "headers": _headers_to_dict(resp.headers),
            "body": {"string": _body_to_yaml(resp.body)},
        },
    }
    meta = _meta_to_dict(interaction.meta)
    if meta:
        out["meta"] = meta
    return out


def _meta_to_dict(meta: InteractionMeta) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if meta.kind is not InteractionKind.API:
        out["kind"] = meta.kind.value
    if meta.recorded_at is not None:
        out["recorded_at"] = meta.recorded_at
    if meta.duration is not None:
        out["duration"] = round(meta.duration, 6)
    return out


def metadata_to_dict(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Metadata with keys in a stable order."""
    return {k: metadata[k] for k in sorted(metadata)}


class _Field:
    """Reads typed fields out of nested dicts, naming the dotted path in every error."""

    @staticmethod
    def get(d: Any, path: str, key: str, types: type | tuple[type, ...], *, optional: bool = False) -> Any:
        if not isinstance(d, dict):
            raise ValueError(f"{path or 'interaction'} must be a mapping, got {_type_name(d)}")
        where = f"{path}.{key}" if path else key
        if key not in d or (d[key] is None and not optional):
            if optional:
                return None
            raise ValueError(f"{where} missing (expected {_types_name(types)})")
        value = d[key]
        if value is None:
            return None
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
            raise ValueError(f"{where} must be {_types_name(types)}, got {_describe(value)}")
        return value


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", int: "an integer", bool: "a boolean",
            float: "a number", bytes: "binary data", type(None): "null"}.get(type(value), type(value).__name__)


def _describe(value: Any) -> str:
    """The type of a value, and the value itself when it is a short scalar: ``a string 'OK'``."""
    if isinstance(value, (str, int, float, bool)) and len(repr(value)) <= 40:
        return f"{_type_name(value)} {value!r}"
    return _type_name(value)


def _types_name(types: type | tuple[type, ...]) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", int: "an integer", bytes: "binary data",
             float: "a number", bool: "a boolean"}
    return " or ".join(names.get(t, t.__name__) for t in _as_tuple(types))


def _headers_from(d: Any, path: str) -> Headers:
    raw = _Field.get(d, path, "headers", dict, optional=True) or {}
    out: Headers = {}
    for name, values in raw.items():
        if type(name) is str and type(values) is list and all(type(v) is str for v in values):
            out[name] = list(values)  # the common case, checked cheaply
        else:
            if not isinstance(name, str):
                raise ValueError(f"{path}.headers has a non-string name {name!r}")
            if isinstance(values, (str, int, float)) and not isinstance(values, bool):
                values = [values]
            if not isinstance(values, list) or not all(isinstance(v, (str, int, float)) for v in values):
                raise ValueError(f"{path}.headers.{name} must be a list of strings, got {_describe(values)}")
            out[name] = [str(v) for v in values]
        _check_header(path, name, out[name])
    return out


#: RFC 9110 5.6.2: a field name is a token.
_TOKEN_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _check_header(path: str, name: str, values: list[str]) -> None:
    """A header HTTP can carry: a token name, values without CR, LF or NUL (RFC 9110 5.5)."""
    if not _TOKEN_RE.fullmatch(name):
        raise ValueError(f"{path}.headers: {name!r} is not a valid header name (letters, digits and !#$%&'*+.^_`|~-)")
    for value in values:
        if "\r" in value or "\n" in value or "\0" in value:
            raise ValueError(f"{path}.headers.{name} holds a line break or NUL ({value[:40]!r}), which no HTTP "
                             "message can carry; remove it")


def _body_from(value: Any, where: str) -> bytes:
    if value is None:
        return b""
    if isinstance(value, dict):  # vcrpy's response form {string: ...}; some tools use it for requests too
        if "string" not in value:
            raise ValueError(f"{where}.string missing (expected a string or !!binary data)")
        value = value["string"]
        where = f"{where}.string"
        if value is None:
            return b""
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError as e:  # lone surrogates from a hand-edited file
            raise ValueError(f"{where} is not valid text: {e.reason}") from e
    if isinstance(value, bytes):
        return value
    raise ValueError(f"{where} must be a string or binary data (!!binary), got {_describe(value)}")


def _check_depth(body: bytes, where: str) -> None:
    """A JSON-looking body must nest at most ``limits.MAX_DEPTH`` levels (every reader walks it)."""
    if body[:1] in (b"{", b"[") or body.lstrip()[:1] in (b"{", b"["):
        limits.check_json_depth(body, what=where)


def _status_from(d: Any) -> tuple[int, str]:
    status = _Field.get(d, "response", "status", (dict, int))
    if isinstance(status, int):  # tolerated: a bare code
        code, message = status, ""
    else:
        code = _Field.get(status, "response.status", "code", int)
        message = _Field.get(status, "response.status", "message", str, optional=True) or ""
    if not 100 <= code <= 599:
        raise ValueError(f"response.status.code must be between 100 and 599, got {code}")
    return code, message


def interaction_from_dict(d: Any, *, normalise: bool = True) -> Interaction:
    """Build an Interaction from a vcrpy v1 dict; raises ValueError naming the bad field."""
    if not isinstance(d, dict):
        raise ValueError(f"an interaction must be a mapping with 'request' and 'response', got {_describe(d)}")
    req = _Field.get(d, "", "request", dict)
    resp = _Field.get(d, "", "response", dict)
    method = _Field.get(req, "request", "method", str)
    if not method.isalpha():
        raise ValueError(f"request.method must be an HTTP method such as GET, got {method!r}")
    uri = _Field.get(req, "request", "uri", str)
    request = Request(method.upper(), uri, _headers_from(req, "request"), _body_from(req.get("body"), "request.body"))
    code, message = _status_from(resp)
    headers = _headers_from(resp, "response")
    if "body" not in resp:
        raise ValueError("response.body missing (expected a mapping with 'string')")
    body = _body_from(resp["body"], "response.body")
    _check_depth(request.body, "request.body")
    _check_depth(body, "response.body")
    if normalise:
        headers, body = normalise_message(headers, body, loading=True)
    response = Response(code, message, headers, body)
    return Interaction(request, response, _meta_from(d.get("meta")))


def _meta_from(raw: Any) -> InteractionMeta:
    if raw is None:
        return InteractionMeta()
    if not isinstance(raw, dict):
        raise ValueError(f"meta must be a mapping (kind, recorded_at, duration), got {_describe(raw)}")
    kind = raw.get("kind", "api")
    try:
        kind_enum = InteractionKind(kind)
    except ValueError:
        raise ValueError(f"meta.kind must be one of api, notification; got {kind!r}") from None
    recorded_at = raw.get("recorded_at")
    duration = raw.get("duration")
    if duration is not None and (not isinstance(duration, (int, float)) or isinstance(duration, bool) or duration < 0
                                 or not math.isfinite(duration)):
        raise ValueError(f"meta.duration must be a non-negative, finite number of seconds, got {duration!r}")
    return InteractionMeta(kind_enum, None if recorded_at is None else str(recorded_at),
                           None if duration is None else float(duration))


def cassette_from_dict(doc: Any, *, on_interaction_error: Any = None) -> Cassette:
    """Build a Cassette from a loaded vcrpy document; raises ValueError (or calls the hook) on bad input.

    ``on_interaction_error(index, ValueError)`` lets the IO layer add file and line to the message.
    """
    if doc is None:
        raise ValueError("the file is empty; a cassette is a mapping with 'version: 1' and 'interactions'")
    if not isinstance(doc, dict):
        raise ValueError(f"a cassette must be a mapping with 'version' and 'interactions', got {_type_name(doc)}")
    version = doc.get("version")
    if version != CASSETTE_VERSION:
        raise ValueError(f"version must be {CASSETTE_VERSION} (vcrpy's cassette format), got {version!r}")
    raw = doc.get("interactions")
    if raw is None:
        raise ValueError("interactions missing (expected a list; write 'interactions: []' for none)")
    if not isinstance(raw, list):
        raise ValueError(f"interactions must be a list (each item starting with '- request:'), got {_type_name(raw)}")
    metadata = doc.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ValueError(f"metadata must be a mapping, got {_describe(metadata)}")
    out: list[Interaction] = []
    for i, item in enumerate(raw):
        try:
            out.append(interaction_from_dict(item))
        except ValueError as e:
            if on_interaction_error is None:
                raise ValueError(f"interaction {i}: {e}") from e
            on_interaction_error(i, e)
            raise
    return Cassette(tuple(out), metadata)


def with_interactions(cassette: Cassette, interactions: Iterable[Interaction]) -> Cassette:
    """A copy of the cassette holding other interactions."""
    return replace(cassette, interactions=tuple(interactions))
