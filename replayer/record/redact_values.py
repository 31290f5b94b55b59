"""Redaction of values: strings, text, URIs, ``a=1&b=2`` pairs and parsed JSON (duplicate keys kept). No IO.

Value patterns find secrets whatever their name: PEM blocks (and base64-encoded PEM), JWTs, ``Bearer``
and ``Basic`` credentials, ``user:password@`` and secret query parameters of URLs inside any string, AWS
access key ids. Names (members, ``key: value`` lines, ``key=value`` pairs, query parameters) follow the
rules (``replayer.redact_rules``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

from replayer import limits
from replayer.record.redact_rules import RedactRules, bare_placeholder, is_placeholder, label, normalise_name, placeholder

__all__ = [
    "JsonPairs",
    "redact_value",
    "redact_text",
    "redact_pairs",
    "redact_uri",
    "redact_json",
    "loads_json",
    "dumps_json",
]

_PEM_RE = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.S)
_PEM_OPEN_RE = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*", re.S)
_PEM_B64_RE = re.compile(r"LS0tLS1CRUdJT[A-Za-z0-9+/=]*")
_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
#: A token68 after the scheme (RFC 9110 §11.4), never an auth-param: in ``Bearer realm="x"`` the word
#: ``realm`` is followed by ``=`` and a quote or token, so it is not a credential.
_BEARER_RE = re.compile(r"\b(Bearer)[ \t]+([A-Za-z0-9\-._~+/]++=*+)(?![A-Za-z0-9\-._~+/=\"]|[ \t]*=)", re.I)
_BASIC_RE = re.compile(r"\b(Basic)[ \t]+([A-Za-z0-9+/]{4,}=*+)(?![A-Za-z0-9+/=\"]|[ \t]*=)", re.I)
_URL_AUTH_RE = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]*://)[^/\s:@<>\"']+:[^/\s@<>\"']+@")
_URL_RE = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>`]+")
_AWS_RE = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
#: ``key=value`` anywhere in a string (env files, log lines, forms kept in text); the value stops at
#: a separator of forms, cookies and shell words.
_PAIR_RE = re.compile(r"(?<![A-Za-z0-9_.\-\[\]%])(?P<key>[A-Za-z_][A-Za-z0-9_.\-\[\]]*)=(?P<value>[^&;\s\"'<>,]+)")
_KV_LINE_RE = re.compile(
    r"^(?P<pre>[ \t]*(?:-[ \t]+)?(?:(?:export|set|declare[ \t]+-x)[ \t]+)?[\"']?)(?P<key>[A-Za-z0-9_.\-]+)"
    r"(?P<sep>[\"']?[ \t]*[:=][ \t]*)(?P<value>\S.*?)[ \t]*$",
    re.M,
)


def _is_basic_credentials(token: str) -> bool:
    """True when ``token`` is base64 of ``user:password`` (so ``Basic authentication`` in prose is not)."""
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in raw


def redact_value(text: str, rules: RedactRules) -> str:
    """One string with the value patterns applied (each only when a cheap substring test says it could match)."""
    if not rules.value_patterns:
        return text
    if "-----BEGIN" in text:
        text = _PEM_RE.sub(lambda m: placeholder("pem", m.group(0), rules), text)
        text = _PEM_OPEN_RE.sub(lambda m: placeholder("pem", m.group(0), rules), text)
    if "LS0tLS1CRUdJT" in text:
        text = _PEM_B64_RE.sub(lambda m: placeholder("pem-base64", m.group(0), rules), text)
    if "eyJ" in text:
        text = _JWT_RE.sub(lambda m: placeholder("jwt", m.group(0), rules), text)
    if "earer" in text or "EARER" in text:
        text = _BEARER_RE.sub(lambda m: f"{m.group(1)} {bare_placeholder(m.group(2), rules)}", text)
    if "asic" in text or "ASIC" in text:
        text = _BASIC_RE.sub(lambda m: f"{m.group(1)} {bare_placeholder(m.group(2), rules)}"
                             if _is_basic_credentials(m.group(2)) else m.group(0), text)
    if "://" in text:
        if "@" in text:
            text = _URL_AUTH_RE.sub(lambda m: f"{m.group(1)}{placeholder('userinfo', m.group(0), rules)}@", text)
        if "?" in text:
            text = _URL_RE.sub(lambda m: redact_uri(m.group(0), rules), text)
    if "AKIA" in text or "ASIA" in text:
        text = _AWS_RE.sub(lambda m: placeholder("aws-key", m.group(0), rules), text)
    if "=" in text:
        text = _PAIR_RE.sub(lambda m: _pair(m, rules), text)
    return text


def _pair(m: re.Match[str], rules: RedactRules) -> str:
    key, value = m.group("key"), m.group("value")
    if not rules.param_is_secret(key) or is_placeholder(unquote_plus(value)):
        return m.group(0)
    return f"{key}={placeholder(label(key), value, rules)}"


def _kv_line(m: re.Match[str], rules: RedactRules) -> str:
    key, value = m.group("key"), m.group("value")
    if not rules.field_is_secret(key) or is_placeholder(value.strip("\"'")) or value in ("|", ">", "|-", ">-"):
        return m.group(0)
    return f"{m.group('pre')}{key}{m.group('sep')}{placeholder(label(key), value, rules)}"


def redact_text(text: str, rules: RedactRules) -> str:
    """A text body or a multi-line string: value patterns, then secret ``key: value`` / ``key=value`` lines."""
    text = redact_value(text, rules)
    if "\n" in text or ":" in text or "=" in text:
        text = _KV_LINE_RE.sub(lambda m: _kv_line(m, rules), text)
    return text


# --------------------------------------------------------------------------- pairs and URIs


_PAIR_SEP_RE = re.compile(r"([&;])")


def redact_pairs(text: str, rules: RedactRules, *, plus: bool) -> str:
    """``a=1&b=2`` (or ``a=1;b=2``) with secret values replaced; untouched pairs keep their exact bytes."""
    parts = _PAIR_SEP_RE.split(text)
    for i in range(0, len(parts), 2):
        name, eq, value = parts[i].partition("=")
        key = unquote_plus(name)
        if eq and rules.param_is_secret(key) and not is_placeholder(unquote_plus(value)):
            holder = placeholder(label(key), unquote_plus(value), rules)
            parts[i] = f"{name}={quote_plus(holder) if plus else quote(holder, safe='')}"
        elif eq and "://" in value:  # a URL as a parameter value (redirect_uri=...?token=...)
            inner = unquote_plus(value)
            red = redact_value(inner, rules)
            if red != inner:
                parts[i] = f"{name}={quote_plus(red) if plus else quote(red, safe='')}"
    return "".join(parts)


def redact_uri(uri: str, rules: RedactRules) -> str:
    """A URI with secret query parameters and ``user:password@`` replaced."""
    head, q, query = uri.partition("?")
    query, h, fragment = query.partition("#")
    if "@" in head:
        head = _URL_AUTH_RE.sub(
            lambda m: f"{m.group(1)}{quote(placeholder('userinfo', m.group(0), rules), safe='')}@", head)
    if h and "=" in fragment:  # OAuth implicit flow: #access_token=...
        fragment = redact_pairs(fragment, rules, plus=False)
    return head + (q + redact_pairs(query, rules, plus=False) if q else "") + (h + fragment if h else "")


# --------------------------------------------------------------------------- JSON


class JsonPairs(list[tuple[str, Any]]):
    """A JSON object that repeats a member name, kept as its pairs so each is redacted and none is lost."""


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any] | JsonPairs:
    out = dict(pairs)
    return out if len(out) == len(pairs) else JsonPairs(pairs)


def loads_json(text: str | bytes) -> Any:
    """Parse JSON keeping objects with duplicate member names as ``JsonPairs``; raises ValueError (also for
    nesting deeper than ``limits.MAX_DEPTH``)."""
    limits.check_json_depth(text)
    return json.loads(text, object_pairs_hook=_pairs_hook)


def _typed_placeholder(name: str, value: Any, rules: RedactRules) -> Any:
    """A placeholder of the same JSON type as ``value``."""
    if isinstance(value, str):
        return value if is_placeholder(value) else placeholder(label(name), value, rules)
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return 0
    if isinstance(value, JsonPairs):
        return {}
    if isinstance(value, dict):
        return {}
    if isinstance(value, list):
        return []
    return None


def _member(name: str, value: Any, rules: RedactRules, scopes: tuple[str, ...]) -> Any:
    if rules.field_is_secret(name, scopes):
        return _typed_placeholder(name, value, rules)
    n = normalise_name(name)
    return redact_json(value, rules, (*scopes, n) if n in rules.scoped else scopes)


def _string(value: str, rules: RedactRules) -> str:
    stripped = value.lstrip()
    if stripped[:1] in ("{", "[") and len(stripped) > 2:  # JSON kept in a string (a form field, an event)
        try:
            doc = loads_json(value)
        except ValueError:
            pass
        else:
            red = redact_json(doc, rules)
            if red != doc:
                return dumps_json(red, indent=None)
    return redact_text(value, rules) if "\n" in value else redact_value(value, rules)


def redact_json(doc: Any, rules: RedactRules, scopes: tuple[str, ...] = ()) -> Any:
    """A copy of a parsed JSON document with secret members replaced by typed placeholders."""
    if isinstance(doc, dict):
        return {name: _member(name, value, rules, scopes) for name, value in doc.items()}
    if isinstance(doc, JsonPairs):
        return JsonPairs((name, _member(name, value, rules, scopes)) for name, value in doc)
    if isinstance(doc, list):
        return [redact_json(v, rules, scopes) for v in doc]
    if isinstance(doc, str):
        return _string(doc, rules)
    return doc


def _has_pairs(doc: Any) -> bool:
    if isinstance(doc, JsonPairs):
        return True
    if isinstance(doc, dict):
        return any(_has_pairs(v) for v in doc.values())
    if isinstance(doc, list):
        return any(_has_pairs(v) for v in doc)
    return False


def dumps_json(doc: Any, *, indent: int | None = 2) -> str:
    """JSON text (2-space indent, or compact for ``indent=None``), duplicate members written each."""
    if not _has_pairs(doc):
        if indent is None:
            return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        return json.dumps(doc, indent=indent, ensure_ascii=False)
    return _encode(doc, indent, 0)


def _encode(doc: Any, indent: int | None, level: int) -> str:
    if isinstance(doc, (dict, JsonPairs)):
        items = [f"{json.dumps(k, ensure_ascii=False)}:{'' if indent is None else ' '}{_encode(v, indent, level + 1)}"
                 for k, v in (doc.items() if isinstance(doc, dict) else doc)]
        return _wrap("{", "}", items, indent, level)
    if isinstance(doc, list):
        return _wrap("[", "]", [_encode(v, indent, level + 1) for v in doc], indent, level)
    return json.dumps(doc, ensure_ascii=False)


def _wrap(open_: str, close: str, items: list[str], indent: int | None, level: int) -> str:
    if not items:
        return open_ + close
    if indent is None:
        return open_ + ",".join(items) + close
    pad, inner = " " * (indent * level), " " * (indent * (level + 1))
    return open_ + "\n" + ",\n".join(inner + i for i in items) + "\n" + pad + close
