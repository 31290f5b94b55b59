"""Redaction of a decoded body, whatever it claims to be: decode by charset, then redact what parses. No IO.

A body is decoded by its declared charset, else as UTF-8 (a BOM is honoured), else as Latin-1 (which
decodes every byte, so no body escapes structural redaction for not being UTF-8). Then, whatever the
declared media type: multipart bodies part by part (by field name, and each part's content by its own
type), JSON (duplicate members each) and NDJSON, XML and HTML by element and attribute name, forms
(``a=1&b=2``), then text line by line; a text that is YAML is checked once more as parsed (flow
mappings). The redacted text is encoded back with the charset it was decoded with.

Multipart bodies are parsed by the standard library's ``email`` parser (``email.parser.BytesParser``
with the ``HTTP`` policy): maintained with Python, it undoes a part's Content-Transfer-Encoding and
needs no dependency.
"""

from __future__ import annotations

import codecs
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
import yaml

from replayer import limits
from replayer.cassettes.model import media_type
from replayer.record.redact_rules import RedactRules, is_placeholder, label, placeholder
from replayer.record.redact_values import dumps_json, loads_json, redact_json, redact_pairs, redact_text, redact_value

__all__ = ["redact_body_bytes", "redact_document", "decode_text", "charset_of"]

_CHARSET_RE = re.compile(r";\s*charset\s*=\s*\"?([A-Za-z0-9._:\-]+)", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
#: Bodies larger than this are redacted by value patterns and lines only (a YAML parse is slow).
_YAML_LIMIT = 256 * 1024


def charset_of(content_type: str) -> str | None:
    """The declared charset of a Content-Type value, if Python knows it."""
    m = _CHARSET_RE.search(content_type or "")
    if not m:
        return None
    try:
        return codecs.lookup(m.group(1)).name
    except LookupError:
        return None


def decode_text(body: bytes, content_type: str) -> tuple[str, str]:
    """``(text, charset)``: the declared charset, else a BOM's, else UTF-8, else Latin-1 (never fails)."""
    candidates = [c for c in (charset_of(content_type),) if c]
    candidates += [enc for bom, enc in _BOMS if body.startswith(bom)][:1]
    candidates += ["utf-8", "latin-1"]
    for charset in candidates:
        try:
            return body.decode(charset), charset
        except (UnicodeDecodeError, LookupError):
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def redact_body_bytes(content_type: str, body: bytes, rules: RedactRules) -> bytes:
    """A decoded (not content-encoded) body with every secret replaced; unchanged bodies keep their bytes."""
    if not body:
        return body
    media = media_type(content_type)
    if media.startswith("multipart/"):
        out = _redact_multipart(content_type, body, rules)
        if out is not None:
            return out
    text, charset = decode_text(body, content_type)
    red = redact_document(text, media, rules)
    if red == text:
        return body
    try:
        return red.encode(charset)
    except UnicodeEncodeError:  # a placeholder is ASCII; this only happens for charsets without ASCII
        return red.encode("utf-8")


def redact_document(text: str, media: str, rules: RedactRules) -> str:
    """Redact a decoded body by what it parses as (see the module docstring)."""
    head = text.lstrip()[:1]
    json_media = media == "application/json" or media.endswith("+json")
    if head in ("{", "[", '"') or json_media:
        out = _redact_json_text(text, rules, pretty=json_media or "\n" in text.strip())
        if out is not None:
            return out
        if "\n" in text.strip():
            out = _redact_ndjson(text, rules)
            if out is not None:
                return out
    if head == "<":
        text = _redact_markup(text, rules)
    elif media == "application/x-www-form-urlencoded" or _FORM_RE.fullmatch(text.strip()):
        return redact_value(redact_pairs(text, rules, plus=True), rules)
    text = redact_text(text, rules)
    if head != "<" and ":" in text and len(text) <= _YAML_LIMIT:
        text = _redact_yaml(text, rules)
    return text


_FORM_RE = re.compile(r"[A-Za-z0-9_.\-\[\]%+*]+=[^\s&;]*(?:[&;][A-Za-z0-9_.\-\[\]%+*]+=[^\s&;]*)*")


def _redact_json_text(text: str, rules: RedactRules, *, pretty: bool) -> str | None:
    try:
        doc = loads_json(text)
    except ValueError:
        return None
    red = redact_json(doc, rules)
    if red == doc:
        return text
    return dumps_json(red, indent=2 if pretty else None)


def _redact_ndjson(text: str, rules: RedactRules) -> str | None:
    """One JSON document per line (application/x-ndjson, JSON lines, event streams kept as text)."""
    lines = text.split("\n")
    out = []
    for line in lines:
        if not line.strip():
            out.append(line)
            continue
        red = _redact_json_text(line, rules, pretty=False)
        if red is None:
            return None
        out.append(red)
    return "\n".join(out)


# --------------------------------------------------------------------------- YAML


class _Loader(yaml.SafeLoader):
    """Safe YAML without timestamps (a date stays a string, so nothing but secrets changes)."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, regexp) for tag, regexp in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}


def _redact_yaml(text: str, rules: RedactRules) -> str:
    """A text that parses as a YAML mapping or list, checked as parsed (line redaction misses flow mappings)."""
    try:
        limits.check_json_depth(text)  # flow collections nest with the same brackets as JSON
        doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except (yaml.YAMLError, ValueError, RecursionError):
        return text
    if not isinstance(doc, (dict, list)):
        return text
    red = redact_json(doc, rules)
    if red == doc:
        return text
    dumped: str = yaml.safe_dump(red, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return dumped


# --------------------------------------------------------------------------- XML and HTML

_ELEMENT_RE = re.compile(
    r"<(?P<tag>[A-Za-z_][\w:.\-]*)(?P<attrs>(?:\s[^<>]*)?)>(?P<text>(?:<!\[CDATA\[.*?\]\]>|[^<])*)</(?P=tag)\s*>",
    re.S)
_TAG_RE = re.compile(r"<(?P<tag>[A-Za-z_][\w:.\-]*)(?P<attrs>\s[^<>]*?)(?P<end>/?)>", re.S)
_ATTR_RE = re.compile(r"(?P<name>[A-Za-z_:][\w:.\-]*)(?P<eq>\s*=\s*)(?P<q>[\"'])(?P<value>.*?)(?P=q)", re.S)
#: Attributes that name the field whose value another attribute holds (``<input name="password" value="...">``,
#: ``<meta name="csrf-token" content="...">``, ``<param name="token" value="...">``).
_NAMING_ATTRS = ("name", "id", "key", "property")
_VALUE_ATTRS = ("value", "content")


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def _element(m: re.Match[str], rules: RedactRules) -> str:
    tag, text = m.group("tag"), m.group("text")
    if not text.strip() or not rules.field_is_secret(_local(tag)) or is_placeholder(text):
        return m.group(0)
    inner = placeholder(label(_local(tag)), text, rules)
    return f"<{tag}{m.group('attrs')}>{inner}</{tag}>"


def _tag(m: re.Match[str], rules: RedactRules) -> str:
    attrs = {a.group("name").lower(): a.group("value") for a in _ATTR_RE.finditer(m.group("attrs"))}
    named = next((attrs[n] for n in _NAMING_ATTRS if n in attrs and rules.field_is_secret(attrs[n])), None)

    def attr(a: re.Match[str]) -> str:
        name, value = a.group("name"), a.group("value")
        secret = rules.field_is_secret(_local(name)) or (named is not None and name.lower() in _VALUE_ATTRS)
        if not secret or not value or is_placeholder(value):
            return a.group(0)
        return f"{name}{a.group('eq')}{a.group('q')}{placeholder(label(named or _local(name)), value, rules)}{a.group('q')}"

    return f"<{m.group('tag')}{_ATTR_RE.sub(attr, m.group('attrs'))}{m.group('end')}>"


def _redact_markup(text: str, rules: RedactRules) -> str:
    """XML or HTML: text of elements with a secret name, attributes with a secret name or naming one."""
    text = _ELEMENT_RE.sub(lambda m: _element(m, rules), text)
    return _TAG_RE.sub(lambda m: _tag(m, rules), text)


# --------------------------------------------------------------------------- multipart


def _part_name(part: EmailMessage) -> str | None:
    name = part.get_param("name", header="content-disposition")
    return name if isinstance(name, str) else None


def _redact_part(part: EmailMessage, rules: RedactRules) -> tuple[list[tuple[str, str]], bytes, bool]:
    """A part's headers (a transfer encoding dropped: the content is written decoded), its redacted content,
    and whether anything was redacted."""
    headers = [(k, str(v)) for k, v in part.raw_items() if k.lower() != "content-transfer-encoding"]
    if part.is_multipart():
        inner = part.as_bytes(policy=policy.HTTP).split(b"\r\n\r\n", 1)[-1]
        content = redact_body_bytes(str(part.get("Content-Type", "")), inner, rules)
        return headers, content, content != inner
    raw = part.get_payload(decode=True)
    content = raw if isinstance(raw, bytes) else b""
    name = _part_name(part)
    if name is not None and rules.param_is_secret(name):
        text = content.decode("utf-8", "replace")
        if is_placeholder(text):
            return headers, content, False
        return headers, placeholder(label(name), text, rules).encode(), True
    red = redact_body_bytes(str(part.get("Content-Type", "text/plain")), content, rules)
    return headers, red, red != content


def _redact_multipart(content_type: str, body: bytes, rules: RedactRules) -> bytes | None:
    """Each part by its field name and by its content; None when the body is not multipart after all."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    msg = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not isinstance(msg, EmailMessage) or not msg.is_multipart():
        return None
    boundary = msg.get_boundary()
    parts = [_redact_part(p, rules) for p in msg.iter_parts() if isinstance(p, EmailMessage)]
    if not boundary or not parts:
        return None
    if not any(changed for _, _, changed in parts):
        return body
    # Rebuilt from the parsed parts (a preamble and an epilogue, which carry nothing, are left out).
    out = bytearray()
    for headers, content, _ in parts:
        out += f"--{boundary}\r\n".encode("latin-1", "replace")
        for k, v in headers:
            out += f"{k}: {v}\r\n".encode("utf-8")
        out += b"\r\n" + content + b"\r\n"
    out += f"--{boundary}--\r\n".encode("latin-1", "replace")
    return bytes(out)
