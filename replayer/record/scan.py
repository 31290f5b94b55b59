"""Find anything secret-looking left in a cassette (or any text file), line by line. No IO.

What counts (issue 2 §4): bearer and basic credentials, JWTs, PEM blocks (private keys,
certificates) and base64-encoded PEM, AWS access keys, ``user:password@`` in URLs, unredacted
values of secret headers (Authorization, Cookie, ...) and of credential-like fields
(``password``, ``client_secret``, ``*token``, ...; the names of the default redaction rules).
Redaction placeholders (``<redacted...>``, also percent-encoded) are never findings.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from replayer.cassettes.model import Cassette
from replayer.diff.locate import LineIndex
from replayer.record.redact_rules import PLACEHOLDER_RE, RedactRules, default_rules, normalise_name
from replayer.record.redact_values import JsonPairs, loads_json

__all__ = ["Finding", "Hit", "detect", "header_value_is_secret", "json_findings", "scan_cassette", "scan_text"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One secret-looking thing: 1-based line and a short description."""

    line: int
    what: str

    def render(self, path: str) -> str:
        """``path:line: what``."""
        return f"{path}:{self.line}: {self.what}"


_BEARER = r"\bBearer[ \t]+(?P<secret>[A-Za-z0-9\-._~+/]{8,}+=*+)(?![A-Za-z0-9\-._~+/=\"]|[ \t]*=)"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"), "private key (PEM)"),
    (re.compile(r"-----BEGIN (?!(?:[A-Z0-9]+ )*PRIVATE KEY)[A-Z0-9 ]+-----"), "PEM block"),
    (re.compile(r"LS0tLS1CRUdJT[A-Za-z0-9+/=]{8,}"), "base64-encoded PEM"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "JWT"),
    (re.compile(_BEARER, re.I), "bearer token"),
    (re.compile(r"\bBasic[ \t]+(?P<secret>[A-Za-z0-9+/]{8,}=*)"), "basic credentials"),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "AWS access key id"),
    (re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://(?P<secret>[^/\s:@<>\"'%]+:[^/\s@<>\"']+)@"), "password in URL"),
)

_KV_RE = re.compile(r"^[ \t]*(?:-[ \t]+)?(?:(?:export|set)[ \t]+)?[\"']?(?P<key>[A-Za-z0-9_.\-]+)[\"']?[ \t]*:[ \t]*"
                    r"(?P<value>.*?)[ \t,]*$")
_PAIR_RE = re.compile(r"(?:^|[?&;\s#])(?P<key>[A-Za-z0-9_.\-\[\]]+)=(?P<value>[^&;\s\"'<>,]*)")
_HEADER_KEY_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<key>[A-Za-z0-9_\-]+):[ \t]*$")
_ITEM_RE = re.compile(r"^(?P<indent>[ \t]*)-[ \t]+(?P<value>.*?)[ \t]*$")
#: ``"key": value`` anywhere in a line: JSON kept on one line, in a YAML quoted string (``\"key\": \"v\"``, as
#: vcrpy writes bodies) or in a flow mapping (``{password: x}``, keys unquoted). Multi-line bodies are caught
#: by _KV_RE line by line.
_INLINE_KV_RE = re.compile(
    r'(?:\\?["\'](?P<key>[A-Za-z0-9_.\-]+)\\?["\']|(?<=[{,])[ \t]*(?P<flow>[A-Za-z0-9_.\-]+))[ \t]*:[ \t]*'
    r'(?:\\?"(?P<quoted>(?:[^"\\]|\\(?!"))*)\\?"|\'(?P<single>[^\']*)\'|(?P<bare>[^,\s}\]"\\]+))')
#: XML and HTML: ``<password>x</password>``, ``<x password="...">``, ``<input name="password" value="...">``.
_ELEMENT_RE = re.compile(r"<(?P<key>[A-Za-z_][\w:.\-]*)(?:\s[^<>]*)?>(?P<value>[^<]+)</(?P=key)\s*>")
_ATTR_RE = re.compile(r"\s(?P<key>[A-Za-z_:][\w:.\-]*)\s*=\s*[\"'](?P<value>[^\"'<>]*)[\"']")
_NAMED_VALUE_RE = re.compile(
    r"<[A-Za-z][\w:.\-]*[^<>]*?\s(?:name|id|key|property)\s*=\s*[\"'](?P<key>[^\"'<>]+)[\"'][^<>]*?"
    r"\s(?:value|content)\s*=\s*[\"'](?P<value>[^\"'<>]*)[\"']")
_BENIGN = {"", "null", "~", "true", "false", "0", "{}", "[]", "''", '""', "|", "|-", ">", ">-"}
_LEFT_OVER_RE = re.compile(r"[A-Za-z0-9+/=_\-]{8,}")


@dataclass(frozen=True, slots=True)
class Hit:
    """One detector's finding in a string: what it is, and the span of the secret in that string."""

    what: str
    start: int
    end: int


def _clean(value: str) -> str:
    value = value.strip().strip(",").strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return unquote_plus(value)


def _is_secret_value(value: str) -> bool:
    v = _clean(value)
    if v.lower() in _BENIGN or PLACEHOLDER_RE.fullmatch(v):
        return False
    return len(v) >= 4


def header_value_is_secret(name: str, value: str) -> bool:
    v = _clean(value)
    lname = name.lower()
    if lname in ("cookie", "set-cookie"):
        pairs = v.split(";")[:1] if lname == "set-cookie" else v.split(";")
        return any(_is_secret_value(p.partition("=")[2]) for p in pairs)
    v = PLACEHOLDER_RE.sub("", v)
    v = re.sub(r"^\s*[A-Za-z][A-Za-z0-9_\-]*\s*$", "", v)  # a bare auth scheme left by `Bearer <redacted>`
    return bool(_LEFT_OVER_RE.search(v))


def _is_basic_credentials(token: str) -> bool:
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in raw


def _pattern_hits(line: str) -> list[Hit]:
    hits = []
    for pattern, what in _PATTERNS:
        for m in pattern.finditer(line):
            if PLACEHOLDER_RE.search(m.group(0)):
                continue
            group = "secret" if "secret" in pattern.groupindex else 0
            if what == "basic credentials" and not _is_basic_credentials(m.group(group)):
                continue
            hits.append(Hit(what, m.start(group), m.end(group)))
    return hits


def _field_hit(m: re.Match[str], group: str, rules: RedactRules, kind: str = "field") -> Hit | None:
    key = m.group("key") if m.group("key") is not None else m.group("flow")
    if kind == "parameter":
        secret = rules.param_is_secret(unquote_plus(key))
    else:
        secret = rules.field_is_secret(key.rsplit(":", 1)[-1])
    if not secret or not _is_secret_value(m.group(group)):
        return None
    return Hit(f"credential-like {kind} {key!r} has a value", m.start(group), m.end(group))


def detect(line: str, rules: RedactRules) -> list[Hit]:
    """What one line (or one string) shows: the value patterns it matches, else credential-like names with a
    value (``key: value``, ``"key": "value"``, ``key=value``, XML elements and attributes)."""
    hits = _pattern_hits(line)
    if hits:
        return hits
    kv = _KV_RE.match(line)
    if kv and (hit := _field_hit(kv, "value", rules)):
        hits.append(hit)
    if ":" in line:
        for m in _INLINE_KV_RE.finditer(line):
            group = next(g for g in ("quoted", "single", "bare") if m.group(g) is not None)
            if hit := _field_hit(m, group, rules):
                hits.append(hit)
    if "=" in line:
        for m in _PAIR_RE.finditer(line):
            if hit := _field_hit(m, "value", rules, "parameter"):
                hits.append(hit)
    if "<" in line:
        for regex in (_ELEMENT_RE, _ATTR_RE, _NAMED_VALUE_RE):
            for m in regex.finditer(line):
                if hit := _field_hit(m, "value", rules):
                    hits.append(hit)
    return hits


def _line_findings(line: str, rules: RedactRules) -> Iterator[str]:
    """What a line shows (see ``detect``), by description."""
    for hit in detect(line, rules):
        yield hit.what


_BINARY_RE = re.compile(r"^(?P<indent>[ \t]*)(?:-[ \t]+)?[A-Za-z_]+:[ \t]*!!binary[ \t]*[|>]-?[ \t]*$")


_MAX_INFLATED = 16 * 1024 * 1024


def _unwrap(data: bytes) -> bytes:
    """A body still gzip- or zlib-compressed (a Content-Encoding a recorder did not undo), inflated
    (at most 16 MiB); anything else as it is."""
    if data[:2] == b"\x1f\x8b":
        wbits = 31
    elif len(data) > 1 and data[0] == 0x78 and (data[0] << 8 | data[1]) % 31 == 0:
        wbits = 15
    else:
        return data
    try:
        return zlib.decompressobj(wbits).decompress(data, _MAX_INFLATED)
    except zlib.error:
        return data


def _binary_findings(lines: list[str], start: int) -> list[str]:
    """Findings inside the base64 block after ``lines[start]`` (a ``key: !!binary |`` line)."""
    indent = len(lines[start]) - len(lines[start].lstrip())
    block = []
    for line in lines[start + 1:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        block.append(line.strip())
    try:
        data = base64.b64decode("".join(block), validate=True)
    except (binascii.Error, ValueError):
        return []
    rules = default_rules()
    decoded = _unwrap(data).decode("latin-1")
    return sorted({f"{w} (in a binary body)" for piece in decoded.splitlines() for w in _line_findings(piece, rules)})


def scan_text(text: str, rules: RedactRules | None = None) -> list[Finding]:
    """Every secret-looking thing in ``text``, by line; YAML header lists are checked by header name.

    ``!!binary`` bodies are decoded and scanned too; their findings point at the ``!!binary`` line.
    """
    rules = rules or default_rules()
    findings: list[Finding] = []
    header: tuple[str, int] | None = None  # (name, indent) of a `Name:` line whose items follow
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if _BINARY_RE.match(line):
            findings.extend(Finding(number, what) for what in _binary_findings(lines, number - 1))
        seen = set()
        for what in _line_findings(line, rules):
            if what not in seen:
                seen.add(what)
                findings.append(Finding(number, what))
        hk = _HEADER_KEY_RE.match(line)
        item = _ITEM_RE.match(line)
        if hk:
            header = (hk.group("key"), len(hk.group("indent")))
        elif item and header and len(item.group("indent")) >= header[1]:
            if rules.header_is_secret(header[0]) and header_value_is_secret(header[0], item.group("value")) and not seen:
                findings.append(Finding(number, f"unredacted {header[0]} header"))
        else:
            header = None
    return findings


def json_findings(doc: Any, rules: RedactRules, scopes: tuple[str, ...] = (), *,
                  shallow: bool = False) -> Iterator[str]:
    """Members the redactor would replace that still hold a value (walked as ``redact_json`` walks; objects
    with a repeated member name too), and what string values show line by line. ``shallow``: this level only."""
    if isinstance(doc, (dict, JsonPairs)):
        for name, value in doc.items() if isinstance(doc, dict) else doc:
            if rules.field_is_secret(name, scopes):
                if value is not None and not isinstance(value, (dict, list)) and _is_secret_value(str(value)) \
                        or isinstance(value, (dict, list)) and value:
                    yield f"credential-like field {name!r} has a value"
                continue
            if not shallow:
                n = normalise_name(name)
                yield from json_findings(value, rules, (*scopes, n) if n in rules.scoped else scopes)
    elif isinstance(doc, list):
        if not shallow:
            for value in doc:
                yield from json_findings(value, rules, scopes)
    elif isinstance(doc, str):
        for piece in doc.splitlines() or [doc]:
            yield from _line_findings(piece, rules)


def _body_findings(body: bytes, rules: RedactRules) -> Iterator[str]:
    """Findings in one body: JSON walked member by member (with profileData-like scopes), text by line."""
    text = _unwrap(body).decode("utf-8", errors="replace")
    try:
        doc = loads_json(text)
    except ValueError:
        for piece in text.splitlines():
            yield from _line_findings(piece, rules)
        return
    yield from json_findings(doc, rules)


def scan_cassette(text: str, cassette: Cassette, rules: RedactRules | None = None) -> list[Finding]:
    """``scan_text`` plus the bodies of every interaction as parsed, so that a secret inside a body kept on
    one line or folded over lines (a YAML quoted string, as vcrpy writes bodies) is found too; such a
    finding points at the interaction's body line."""
    rules = rules or default_rules()
    findings = scan_text(text, rules)
    index = LineIndex(text)
    for number, interaction in enumerate(cassette.interactions):
        span = index.span(number)
        if span is None:
            continue
        already = {f.what for f in findings if span[0] <= f.line <= span[1]}
        line = index.line(number, "body") or span[0]
        for body in (interaction.request.body, interaction.response.body):
            for what in _body_findings(body, rules) if body else ():
                if what not in already:
                    already.add(what)
                    findings.append(Finding(line, what))
    return sorted(findings, key=lambda f: f.line)
