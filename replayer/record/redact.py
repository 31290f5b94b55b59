"""Pure redaction of recorded exchanges: headers, URIs and bodies of every format. No IO.

The rules (``replayer.redact_rules``) say which names hold secrets; ``replayer.redact_values`` redacts
strings, text, URIs and JSON; ``replayer.redact_formats`` decodes a body by its charset and redacts it by
what it parses as. A redacted value becomes a stable placeholder of the same JSON type
(``"<redacted:access_token>"``, ``0``, ``false``, ``{}``, ``[]``), identical across recordings so that
diffs stay quiet and replay still matches (docs/recording.md#redaction).
"""

from __future__ import annotations

import re
from dataclasses import replace

from replayer.cassettes.model import Headers, Interaction, header_value
from replayer.record.redact_formats import redact_body_bytes
from replayer.record.redact_rules import (
    PLACEHOLDER_RE,
    RedactRules,
    bare_placeholder,
    default_rules,
    is_placeholder,
    label,
    normalise_name,
    placeholder,
    rules_from_dict,
    rules_from_yaml,
)
from replayer.record.redact_values import redact_json, redact_text, redact_uri, redact_value

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
    "safe_uri",
]

# --------------------------------------------------------------------------- headers, URI, bodies


#: An authentication scheme before the credentials (RFC 9110 §11.4): kept, so a replay shows what kind it was.
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_\-]*)[ \t]+\S")


def _redact_header_value(name: str, value: str, rules: RedactRules) -> str:
    lname = name.lower()
    if lname in ("cookie", "set-cookie2") or lname.endswith("-cookie") and not lname.startswith("set-"):
        return "; ".join(_redact_cookie_pair(p.strip(), rules) for p in value.split(";") if p.strip())
    if lname.startswith("set-cookie"):
        first, _, attrs = value.partition(";")
        return _redact_cookie_pair(first.strip(), rules) + (f";{attrs}" if attrs else "")
    if is_placeholder(value):
        return value
    m = _SCHEME_RE.match(value)
    if m and "auth" in lname:  # Authorization, Proxy-Authorization, X-Authorization, X-Custom-Auth...
        return f"{m.group(1)} {bare_placeholder(value, rules)}"
    return placeholder(label(lname), value, rules)


def _redact_cookie_pair(pair: str, rules: RedactRules) -> str:
    name, eq, value = pair.partition("=")
    if not eq:
        return pair if is_placeholder(pair) else placeholder("cookie", pair, rules)
    return f"{name}={value if is_placeholder(value) else placeholder('cookie', value, rules)}"


def redact_headers(headers: Headers, rules: RedactRules) -> Headers:
    """Headers with secret values replaced (scheme and cookie names kept) and dropped ones removed.

    Other headers get the value patterns, URLs in them (``Location``, ``Refresh: 0; url=...``) their query.
    """
    out: Headers = {}
    for name, values in headers.items():
        n = normalise_name(name)
        if n in rules.drop_headers:
            continue
        if rules.header_is_secret(name):
            out[name] = [_redact_header_value(name, v, rules) for v in values]
        elif n in ("location", "contentlocation", "referer"):
            out[name] = [redact_value(redact_uri(v, rules), rules) for v in values]
        else:
            out[name] = [redact_value(v, rules) for v in values]
    return out


def redact_body(headers: Headers, body: bytes, rules: RedactRules) -> bytes:
    """A decoded body with secrets replaced, by what it parses as (``replayer.redact_formats``).

    A redacted JSON body is re-encoded with a 2-space indent (as ``normalise_message`` does).
    """
    return redact_body_bytes(header_value(headers, "Content-Type") or "", body, rules)


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


def safe_uri(uri: str) -> str:
    """A request target with credentials in its query and ``user:password@`` redacted by the default rules (for
    logs, the replay server's journal and its error answers)."""
    return redact_uri(uri, default_rules()) if "?" in uri or "@" in uri or "#" in uri else uri
