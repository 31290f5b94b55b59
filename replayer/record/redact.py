"""Pure redaction of recorded exchanges: headers, query, form, JSON and text bodies. No IO.

Rules come from ``replayer/data/redact_rules.yaml`` (the defaults) optionally extended by a user
file (docs/recording.md#redaction). A redacted value becomes a stable placeholder of the same JSON
type (``"<redacted:access_token>"``, ``0``, ``false``, ``{}``, ``[]``), identical across recordings
so that diffs stay quiet and replay still matches. A secret is never hashed in the clear: when
placeholders must tell secrets apart, a keyed HMAC whose key never enters the cassette is used
(issue 2 §4).
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from importlib import resources
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

import yaml

from replayer import limits
from replayer.cassettes.model import Headers, Interaction, header_value, is_json_content, media_type

__all__ = [
    "PLACEHOLDER_RE",
    "RedactRules",
    "default_rules",
    "rules_from_dict",
    "rules_from_yaml",
    "normalise_name",
    "is_placeholder",
    "redact_headers",
    "redact_uri",
    "redact_body",
    "redact_text",
    "redact_json",
    "redact_interaction",
]

#: What every placeholder looks like; ``o2replay scan`` ignores these.
PLACEHOLDER_RE = re.compile(r"<redacted(?::[A-Za-z0-9_.\-]+)*>")

_RULE_KEYS = ("defaults", "headers", "header_patterns", "drop_headers", "params", "fields", "field_patterns",
              "scoped", "keep", "value_patterns")


@dataclass(frozen=True, slots=True)
class RedactRules:
    """What to redact. Names are held normalised (see ``normalise_name``)."""

    headers: frozenset[str] = frozenset()
    header_patterns: tuple[str, ...] = ()
    drop_headers: frozenset[str] = frozenset()
    params: frozenset[str] = frozenset()
    fields: frozenset[str] = frozenset()
    field_patterns: tuple[str, ...] = ()
    scoped: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    value_patterns: bool = True
    #: Names never redacted by name (they win over every list and pattern).
    keep: frozenset[str] = frozenset()
    #: HMAC key; when set, string placeholders carry a keyed digest so that two secrets differ.
    key: bytes | None = field(default=None, repr=False)

    def header_is_secret(self, name: str) -> bool:
        """True when a header's value must be redacted."""
        n = normalise_name(name)
        if n in self.keep:
            return False
        return n in self.headers or _globs(self.header_patterns).fullmatch(n) is not None

    def field_is_secret(self, name: str, scopes: tuple[str, ...] = ()) -> bool:
        """True when a JSON member / text key named ``name`` (inside ``scopes``) must be redacted."""
        n = normalise_name(name)
        if n in self.keep:
            return False
        if n in self.fields or _globs(self.field_patterns).fullmatch(n) is not None:
            return True
        return any(_globs(self.scoped.get(s, ())).fullmatch(n) is not None for s in scopes)

    def param_is_secret(self, name: str) -> bool:
        """True when a query parameter or form field must be redacted."""
        n = normalise_name(name)
        return n not in self.keep and (n in self.params or self.field_is_secret(name))


@lru_cache(maxsize=4096)
def normalise_name(name: str) -> str:
    """Lower-case with '-', '_', '.' and blanks removed: ``client_secret`` == ``Client-Secret``."""
    return _NAME_SEP_RE.sub("", name).lower()


_NAME_SEP_RE = re.compile(r"[-_.\s]")
_NEVER = re.compile(r"(?!)")


@lru_cache(maxsize=256)
def _globs(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One compiled regex for a tuple of fnmatch patterns (a regex that never matches for none)."""
    if not patterns:
        return _NEVER
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def is_placeholder(value: str) -> bool:
    """True when the whole value is a redaction placeholder."""
    return PLACEHOLDER_RE.fullmatch(value.strip()) is not None


# --------------------------------------------------------------------------- rules


def _names(doc: Mapping[str, Any], key: str) -> list[str]:
    value = doc.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key} must be a list of strings")
    return value


def _scoped(doc: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    value = doc.get("scoped") or {}
    if not isinstance(value, dict):
        raise ValueError("scoped must be a mapping of member name -> list of patterns")
    out = {}
    for name, patterns in value.items():
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise ValueError(f"scoped.{name} must be a list of patterns")
        out[normalise_name(str(name))] = tuple(normalise_pattern(p) for p in patterns)
    return out


def normalise_pattern(pattern: str) -> str:
    """A glob normalised like names (its '*', '?' and '[...]' kept)."""
    return re.sub(r"[-_.\s]", "", pattern).lower()


def rules_from_dict(doc: Any, base: RedactRules | None = None) -> RedactRules:
    """Rules from a parsed YAML mapping, extending ``base``; raises ValueError naming the bad key."""
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ValueError(f"rules must be a mapping with keys {', '.join(_RULE_KEYS)}")
    unknown = sorted(set(doc) - set(_RULE_KEYS))
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (expected one of {', '.join(_RULE_KEYS)})")
    if doc.get("defaults", True) is False or base is None:
        base = RedactRules()
    keep = {normalise_name(n) for n in _names(doc, "keep")}
    value_patterns = doc.get("value_patterns", base.value_patterns)
    if not isinstance(value_patterns, bool):
        raise ValueError("value_patterns must be true or false")
    scoped = {**base.scoped, **_scoped(doc)}
    return RedactRules(
        headers=_merge(base.headers, _names(doc, "headers"), keep),
        header_patterns=base.header_patterns + tuple(normalise_pattern(p) for p in _names(doc, "header_patterns")),
        drop_headers=_merge(base.drop_headers, _names(doc, "drop_headers"), keep),
        params=_merge(base.params, _names(doc, "params"), keep),
        fields=_merge(base.fields, _names(doc, "fields"), keep),
        field_patterns=base.field_patterns + tuple(normalise_pattern(p) for p in _names(doc, "field_patterns")),
        scoped={k: v for k, v in scoped.items() if k not in keep},
        value_patterns=value_patterns,
        keep=frozenset(base.keep | keep),
        key=base.key,
    )


def _merge(base: frozenset[str], extra: Iterable[str], keep: set[str]) -> frozenset[str]:
    return frozenset(n for n in (*base, *(normalise_name(e) for e in extra)) if n not in keep)


def rules_from_yaml(text: str, base: RedactRules | None = None) -> RedactRules:
    """Rules from YAML text; raises ValueError with the line of a YAML syntax error."""
    try:
        doc = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else 0
        raise ValueError(f"line {line}: invalid YAML: {e.problem}") from None
    return rules_from_dict(doc, base)


@cache
def default_rules() -> RedactRules:
    """The bundled defaults (``replayer/data/redact_rules.yaml``), which cover O2IMS."""
    text = resources.files("replayer").joinpath("data/redact_rules.yaml").read_text(encoding="utf-8")
    return rules_from_yaml(text, None)


# --------------------------------------------------------------------------- placeholders


def _placeholder(label: str, secret: str, rules: RedactRules) -> str:
    if rules.key is None:
        return f"<redacted:{label}>"
    digest = hmac.new(rules.key, secret.encode("utf-8"), hashlib.sha256).hexdigest()[:12]
    return f"<redacted:{label}:{digest}>"


def _bare_placeholder(secret: str, rules: RedactRules) -> str:
    """``<redacted>`` (or ``<redacted:HMAC>``), for values whose kind the context already says."""
    if rules.key is None:
        return "<redacted>"
    return f"<redacted:{hmac.new(rules.key, secret.encode('utf-8'), hashlib.sha256).hexdigest()[:12]}>"


def _label(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name)[:64] or "value"


def _typed_placeholder(label: str, value: Any, rules: RedactRules) -> Any:
    """A placeholder of the same JSON type as ``value``."""
    if isinstance(value, str):
        return value if is_placeholder(value) else _placeholder(label, value, rules)
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return 0
    if isinstance(value, dict):
        return {}
    if isinstance(value, list):
        return []
    return None


# --------------------------------------------------------------------------- values and text

_PEM_RE = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.S)
_PEM_OPEN_RE = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*", re.S)
_PEM_B64_RE = re.compile(r"LS0tLS1CRUdJT[A-Za-z0-9+/=]*")
_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER_RE = re.compile(r"\b(Bearer)[ \t]+[A-Za-z0-9\-._~+/]+=*", re.I)
_URL_AUTH_RE = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]*://)[^/\s:@<>\"']+:[^/\s@<>\"']+@")
_AWS_RE = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
_KV_LINE_RE = re.compile(
    r"^(?P<pre>[ \t]*(?:-[ \t]+)?[\"']?)(?P<key>[A-Za-z0-9_.\-]+)(?P<sep>[\"']?[ \t]*[:=][ \t]*)(?P<value>\S.*?)[ \t]*$",
    re.M,
)


def _redact_patterns(text: str, rules: RedactRules) -> str:
    # Each regex runs only when a cheap substring test says it could match (most strings: none does).
    if not rules.value_patterns:
        return text
    if "-----BEGIN" in text:
        text = _PEM_RE.sub(lambda m: _placeholder("pem", m.group(0), rules), text)
        text = _PEM_OPEN_RE.sub(lambda m: _placeholder("pem", m.group(0), rules), text)
    if "LS0tLS1CRUdJT" in text:
        text = _PEM_B64_RE.sub(lambda m: _placeholder("pem-base64", m.group(0), rules), text)
    if "eyJ" in text:
        text = _JWT_RE.sub(lambda m: _placeholder("jwt", m.group(0), rules), text)
    if "earer" in text or "EARER" in text:
        text = _BEARER_RE.sub(lambda m: f"{m.group(1)} {_bare_placeholder(m.group(0), rules)}", text)
    if "@" in text and "://" in text:
        text = _URL_AUTH_RE.sub(lambda m: f"{m.group(1)}{_placeholder('userinfo', m.group(0), rules)}@", text)
    if "AKIA" in text or "ASIA" in text:
        text = _AWS_RE.sub(lambda m: _placeholder("aws-key", m.group(0), rules), text)
    return text


def _redact_kv_lines(text: str, rules: RedactRules) -> str:
    """``key: value`` and ``key=value`` lines (YAML kubeconfigs, env files) with secret keys."""

    def sub(m: re.Match[str]) -> str:
        key, value = m.group("key"), m.group("value")
        if not rules.field_is_secret(key) or is_placeholder(value.strip("\"'")) or value in ("|", ">", "|-", ">-"):
            return m.group(0)
        return f"{m.group('pre')}{key}{m.group('sep')}{_placeholder(_label(key), value, rules)}"

    return _KV_LINE_RE.sub(sub, text)


def redact_text(text: str, rules: RedactRules) -> str:
    """Redact a text body or a multi-line string: value patterns, then secret ``key: value`` lines."""
    text = _redact_patterns(text, rules)
    return _redact_kv_lines(text, rules) if "\n" in text or ":" in text or "=" in text else text


# --------------------------------------------------------------------------- JSON


def redact_json(doc: Any, rules: RedactRules, scopes: tuple[str, ...] = ()) -> Any:
    """A copy of a parsed JSON document with secret members replaced by typed placeholders."""
    if isinstance(doc, dict):
        out = {}
        for name, value in doc.items():
            if rules.field_is_secret(name, scopes):
                out[name] = _typed_placeholder(_label(name), value, rules)
                continue
            n = normalise_name(name)
            inner = (*scopes, n) if n in rules.scoped else scopes
            out[name] = redact_json(value, rules, inner)
        return out
    if isinstance(doc, list):
        return [redact_json(v, rules, scopes) for v in doc]
    if isinstance(doc, str):
        return redact_text(doc, rules) if "\n" in doc else _redact_patterns(doc, rules)
    return doc


# --------------------------------------------------------------------------- headers, URI, bodies


_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_\-]*)\s+\S")


def _redact_header_value(name: str, value: str, rules: RedactRules) -> str:
    lname = name.lower()
    if lname == "cookie":
        return "; ".join(_redact_cookie_pair(p.strip(), rules) for p in value.split(";") if p.strip())
    if lname == "set-cookie":
        first, _, attrs = value.partition(";")
        return _redact_cookie_pair(first.strip(), rules) + (f";{attrs}" if attrs else "")
    m = _SCHEME_RE.match(value)
    if m and lname in ("authorization", "proxy-authorization"):
        return f"{m.group(1)} {_bare_placeholder(value, rules)}"
    return value if is_placeholder(value) else _placeholder(_label(lname), value, rules)


def _redact_cookie_pair(pair: str, rules: RedactRules) -> str:
    name, eq, value = pair.partition("=")
    if not eq:
        return _placeholder("cookie", pair, rules)
    return f"{name}={value if is_placeholder(value) else _placeholder('cookie', value, rules)}"


def redact_headers(headers: Headers, rules: RedactRules) -> Headers:
    """Headers with secret values replaced (scheme and cookie names kept) and dropped ones removed."""
    out: Headers = {}
    for name, values in headers.items():
        n = normalise_name(name)
        if n in rules.drop_headers:
            continue
        if rules.header_is_secret(name):
            out[name] = [_redact_header_value(name, v, rules) for v in values]
        elif name.lower() in ("location", "content-location", "link", "referer"):
            out[name] = [_redact_patterns(redact_uri(v, rules), rules) for v in values]
        else:
            out[name] = [_redact_patterns(v, rules) for v in values]
    return out


def _redact_pairs(text: str, rules: RedactRules, *, plus: bool) -> str:
    """``a=1&b=2`` with secret values replaced; untouched pairs keep their exact bytes."""
    parts = []
    for part in text.split("&"):
        name, eq, value = part.partition("=")
        key = unquote_plus(name)
        if eq and rules.param_is_secret(key) and not is_placeholder(unquote_plus(value)):
            holder = _placeholder(_label(key), unquote_plus(value), rules)
            part = f"{name}={quote_plus(holder) if plus else quote(holder, safe='')}"
        parts.append(part)
    return "&".join(parts)


def redact_uri(uri: str, rules: RedactRules) -> str:
    """A URI with secret query parameters and ``user:password@`` replaced."""
    head, q, query = uri.partition("?")
    query, h, fragment = query.partition("#")
    head = _URL_AUTH_RE.sub(lambda m: f"{m.group(1)}{quote(_placeholder('userinfo', m.group(0), rules), safe='')}@",
                            head)
    return head + (q + _redact_pairs(query, rules, plus=False) if q else "") + (h + fragment if h else "")


def redact_body(headers: Headers, body: bytes, rules: RedactRules) -> bytes:
    """A decoded body with secrets replaced: JSON by member, forms by field, text by pattern and line.

    JSON is re-encoded with a 2-space indent (as ``normalise_message`` does); binary bodies only get
    the value patterns (PEM, JWT, bearer, URL passwords, AWS keys).
    """
    if not body:
        return body
    ctype = header_value(headers, "Content-Type") or ""
    if is_json_content(ctype) or (not ctype and body.lstrip()[:1] in (b"{", b"[")):
        try:
            doc = limits.loads(body)
        except ValueError:
            pass
        else:
            redacted = redact_json(doc, rules)
            if redacted == doc:
                return body
            return json.dumps(redacted, indent=2, ensure_ascii=False).encode("utf-8")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        # Binary: the value patterns are ASCII, so a latin-1 round trip is lossless. A binary body that
        # carries a PEM block or a token loses its framing; a secret on disk would be worse.
        raw = body.decode("latin-1")
        red = _redact_patterns(raw, rules)
        return body if red == raw else red.encode("latin-1")
    if media_type(ctype) == "application/x-www-form-urlencoded":
        text = _redact_pairs(text, rules, plus=True)
        return _redact_patterns(text, rules).encode("utf-8")
    return redact_text(text, rules).encode("utf-8")


def redact_interaction(interaction: Interaction, rules: RedactRules) -> Interaction:
    """The interaction with every secret replaced; bodies must already be decoded (``normalise_message``)."""
    req, resp = interaction.request, interaction.response
    request = replace(
        req,
        uri=redact_uri(req.uri, rules),
        headers=redact_headers(req.headers, rules),
        body=redact_body(req.headers, req.body, rules),
    )
    response = replace(
        resp,
        headers=redact_headers(resp.headers, rules),
        body=redact_body(resp.headers, resp.body, rules),
    )
    return replace(interaction, request=request, response=response)
