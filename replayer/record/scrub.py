"""Clean by construction: the detectors of ``o2replay scan`` run over every redacted interaction before it is
written; whatever they still find is replaced by ``<redacted:scan>``. No IO.

Redaction and scanning are two views of one rule set, but the scan also reads a value in ways the
redactor does not (a single-line string ``"password: x"``, a ``Basic`` token in an odd place); this pass
makes a written cassette pass ``o2replay scan`` whatever the traffic. What it catches is counted
(``Recorder.caught``) and shown in the record summary.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import unquote_plus

from replayer.cassettes.model import Headers, Interaction, header_value, is_json_content
from replayer.record.redact_formats import decode_text
from replayer.record.redact_rules import RedactRules, normalise_name
from replayer.record.redact_values import JsonPairs, dumps_json, loads_json
from replayer.record.scan import detect, header_value_is_secret, json_findings

__all__ = ["SCAN_PLACEHOLDER", "scrub_interaction", "scrub_text"]

#: What the scan pass writes in place of a secret the rules did not redact.
SCAN_PLACEHOLDER = "<redacted:scan>"

#: Substrings without which no value pattern of the scan can match.
_TRIGGERS = ("-----BEGIN", "LS0tLS1CRUdJT", "eyJ", "Basic", "AKIA", "ASIA")
#: Every name a scan detector reads a value for (``key: v``, ``"key": v``, ``key=v``, ``{key: v}``,
#: ``key="v"``) is matched by this, so when none of them is secret no name detector can fire. The second group
#: is set when the value is already a placeholder or an empty typed one (``0``, ``false``, ``{}``...), which no
#: detector reports. Possessive quantifiers: no backtracking inside a word (this runs on every body).
_KEY_RE = re.compile(
    r"""[\s"'{,;?&#]([\w.\-\[\]%+]++)\\?["']?[ \t]*+[:=][ \t]*+"""
    r"""((?:\\?["']?(?:<redacted[^>\s]*>|%3Credacted[^&;\s"']*%3E)\\?["']?"""
    r"""|0|false|null|\{\}|\[\])[ \t]*(?:[,}\];&]|$))?""", re.M)


def _probe(text: str, rules: RedactRules) -> tuple[bool, bool]:
    """``(lines, scoped)``: whether a line detector of ``o2replay scan`` could find anything in ``text``, and
    whether it names a scope (``profileData``) whose members the JSON walk must check. Decided without running
    the detectors (the common answer is no): a value-pattern trigger, markup other than placeholders, escapes,
    or a secret name before a ``:`` or ``=``."""
    probe = text.replace("<redacted", "") if "<redacted" in text else text
    lines = ("\\" in probe or "<" in probe or any(t in probe for t in _TRIGGERS) or "earer" in probe.lower()
             or ("://" in probe and "@" in probe))
    scoped = False
    for key, done in set(_KEY_RE.findall("\n" + text)):  # a key may open the text
        for name in (key, unquote_plus(key)) if "%" in key or "+" in key else (key,):
            lines = lines or not done and (rules.field_is_secret(name) or rules.param_is_secret(name))
            scoped = scoped or normalise_name(name) in rules.scoped
        if lines and scoped:
            break
    return lines, scoped


def _may_hit(text: str, rules: RedactRules) -> bool:
    return _probe(text, rules)[0]


def scrub_text(text: str, rules: RedactRules) -> tuple[str, list[str]]:
    """``text`` with every detector hit replaced, line by line, and what was found."""
    if not _may_hit(text, rules):
        return text, []
    found: list[str] = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        for _ in range(8):  # a replacement can reveal a second hit on the line; bounded
            hits = detect(line, rules)
            if not hits:
                break
            found.extend(h.what for h in hits)
            for hit in sorted(hits, key=lambda h: h.start, reverse=True):
                line = line[:hit.start] + SCAN_PLACEHOLDER + line[hit.end:]
        lines[i] = line
    return "\n".join(lines), found


def _scrub_json(doc: Any, rules: RedactRules, found: list[str], scopes: tuple[str, ...] = ()) -> Any:
    """A parsed body with members the scan flags replaced and strings scrubbed (as ``json_findings`` walks)."""
    if isinstance(doc, (dict, JsonPairs)):
        items = doc.items() if isinstance(doc, dict) else doc
        out = []
        for name, value in items:
            if list(json_findings({name: value}, rules, scopes, shallow=True)):
                found.append(f"credential-like field {name!r} has a value")
                out.append((name, SCAN_PLACEHOLDER if not isinstance(value, (dict, list)) else type(value)()))
                continue
            n = normalise_name(name)
            out.append((name, _scrub_json(value, rules, found, (*scopes, n) if n in rules.scoped else scopes)))
        return dict(out) if isinstance(doc, dict) else JsonPairs(out)
    if isinstance(doc, list):
        return [_scrub_json(v, rules, found, scopes) for v in doc]
    if isinstance(doc, str) and _may_hit(doc, rules) and list(json_findings(doc, rules)):
        text, hits = scrub_text(doc, rules)
        found.extend(hits)
        return text
    return doc


def _scrub_body(headers: Headers, body: bytes, rules: RedactRules, found: list[str]) -> bytes:
    if not body:
        return body
    ctype = header_value(headers, "Content-Type") or ""
    text, charset = decode_text(body, ctype)
    lines, scoped = _probe(text, rules)
    if not lines and not scoped:
        return body
    before = len(found)
    try:
        doc = loads_json(text)
    except ValueError:
        red, hits = scrub_text(text, rules)
        found.extend(hits)
    else:
        scrubbed = _scrub_json(doc, rules, found)
        red = text if len(found) == before else dumps_json(scrubbed, indent=2 if is_json_content(ctype) else None)
        if lines or len(found) > before:
            red, hits = scrub_text(red, rules)
            found.extend(hits)
    if len(found) == before:
        return body
    try:
        return red.encode(charset)
    except UnicodeEncodeError:
        return red.encode("utf-8")


def _scrub_headers(headers: Headers, rules: RedactRules, found: list[str]) -> Headers:
    out: Headers = {}
    for name, values in headers.items():
        new = []
        for value in values:
            if rules.header_is_secret(name) and header_value_is_secret(name, value):
                found.append(f"unredacted {name} header")
                new.append(SCAN_PLACEHOLDER)
                continue
            red, hits = scrub_text(value, rules)
            found.extend(hits)
            new.append(red)
        out[name] = new
    return out


def scrub_interaction(interaction: Interaction, rules: RedactRules) -> tuple[Interaction, list[str]]:
    """The interaction with everything the scan detectors still find replaced, and what they found."""
    found: list[str] = []
    req, resp = interaction.request, interaction.response
    uri, hits = scrub_text(req.uri, rules)
    found.extend(hits)
    request = replace(req, uri=uri, headers=_scrub_headers(req.headers, rules, found),
                      body=_scrub_body(req.headers, req.body, rules, found))
    response = replace(resp, headers=_scrub_headers(resp.headers, rules, found),
                       body=_scrub_body(resp.headers, resp.body, rules, found))
    if not found:
        return interaction, found
    return replace(interaction, request=request, response=response), found
