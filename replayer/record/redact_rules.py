"""Redaction rules: which header, query parameter and member names hold secrets, and the placeholders. No IO.

Rules come from ``replayer/data/redact_rules.yaml`` (the defaults) optionally extended by a user file
(docs/recording.md#redaction). A name is secret when it is listed, when it matches a glob, or when one of
its word parts (``apiToken`` -> ``api``, ``token``; ``X-Amz-Security-Token`` -> ``x``, ``amz``,
``security``, ``token``; ``auth[token]`` -> ``auth``, ``token``) is a listed word, unless it is on an
allowlist (``keep``, and ``keep_fields`` for JSON members that only look like secrets).

A redacted value becomes a stable placeholder (``"<redacted:access_token>"``), identical across recordings
so that diffs stay quiet and replay still matches. A secret is never hashed in the clear: when placeholders
must tell secrets apart, a keyed HMAC whose key never enters the cassette is used.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import yaml

__all__ = [
    "PLACEHOLDER_RE",
    "RedactRules",
    "default_rules",
    "rules_from_dict",
    "rules_from_yaml",
    "normalise_name",
    "normalise_pattern",
    "name_words",
    "is_placeholder",
    "placeholder",
    "bare_placeholder",
    "label",
]

#: What every placeholder looks like; ``o2replay scan`` ignores these.
PLACEHOLDER_RE = re.compile(r"<redacted(?::[A-Za-z0-9_.\-]+)*>")

_RULE_KEYS = ("defaults", "headers", "header_patterns", "drop_headers", "params", "fields", "field_patterns",
              "words", "scoped", "keep", "keep_fields", "value_patterns")


@dataclass(frozen=True, slots=True)
class RedactRules:
    """What to redact. Names are held normalised (see ``normalise_name``), words lower-case."""

    headers: frozenset[str] = frozenset()
    header_patterns: tuple[str, ...] = ()
    drop_headers: frozenset[str] = frozenset()
    params: frozenset[str] = frozenset()
    fields: frozenset[str] = frozenset()
    field_patterns: tuple[str, ...] = ()
    #: Word parts that make any header, parameter or member name secret.
    words: frozenset[str] = frozenset()
    scoped: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    value_patterns: bool = True
    #: Names never redacted by name (they win over every list, word and pattern).
    keep: frozenset[str] = frozenset()
    #: JSON members and text keys never redacted by name (headers and parameters keep their rules).
    keep_fields: frozenset[str] = frozenset()
    #: HMAC key; when set, string placeholders carry a keyed digest so that two secrets differ.
    key: bytes | None = field(default=None, repr=False)
    #: Answers already given, by (kind, name, scopes): the same few names come back in every exchange.
    _answers: dict[tuple[str, str, tuple[str, ...]], bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_answers", {})

    def _has_word(self, name: str) -> bool:
        return not self.words.isdisjoint(name_words(name))

    def _cached(self, kind: str, name: str, scopes: tuple[str, ...]) -> bool:
        key = (kind, name, scopes)
        answer = self._answers.get(key)
        if answer is None:
            if len(self._answers) > 65536:  # names are bounded in practice; a fuzzer's are not
                self._answers.clear()
            if kind == "h":
                answer = self._header_is_secret(name)
            elif kind == "f":
                answer = self._field_is_secret(name, scopes)
            else:
                answer = self._param_is_secret(name)
            self._answers[key] = answer
        return answer

    def header_is_secret(self, name: str) -> bool:
        """True when a header's value must be redacted."""
        return self._cached("h", name, ())

    def field_is_secret(self, name: str, scopes: tuple[str, ...] = ()) -> bool:
        """True when a JSON member / text key named ``name`` (inside ``scopes``) must be redacted."""
        return self._cached("f", name, scopes)

    def param_is_secret(self, name: str) -> bool:
        """True when a query parameter or form field must be redacted."""
        return self._cached("p", name, ())

    def _header_is_secret(self, name: str) -> bool:
        n = normalise_name(name)
        if n in self.keep:
            return False
        return n in self.headers or _globs(self.header_patterns).fullmatch(n) is not None or self._has_word(name)

    def _field_is_secret(self, name: str, scopes: tuple[str, ...]) -> bool:
        n = normalise_name(name)
        if n in self.keep or n in self.keep_fields:
            return False
        if n in self.fields or _globs(self.field_patterns).fullmatch(n) is not None or self._has_word(name):
            return True
        return any(_globs(self.scoped.get(s, ())).fullmatch(n) is not None for s in scopes)

    def _param_is_secret(self, name: str) -> bool:
        n = normalise_name(name)
        if n in self.keep:
            return False
        return (n in self.params or n in self.fields or _globs(self.field_patterns).fullmatch(n) is not None
                or self._has_word(name))


@lru_cache(maxsize=4096)
def normalise_name(name: str) -> str:
    """Lower-case with '-', '_', '.' and blanks removed: ``client_secret`` == ``Client-Secret``."""
    return _NAME_SEP_RE.sub("", name).lower()


_NAME_SEP_RE = re.compile(r"[-_.\s]")
_WORD_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_NEVER = re.compile(r"(?!)")


@lru_cache(maxsize=8192)
def name_words(name: str) -> frozenset[str]:
    """The lower-case word parts of a name: camelCase, snake_case, kebab-case, ``a[b]``, ``a.b``."""
    return frozenset(w.lower() for w in _WORD_RE.findall(name))


@lru_cache(maxsize=256)
def _globs(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One compiled regex for a tuple of fnmatch patterns (a regex that never matches for none)."""
    if not patterns:
        return _NEVER
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def is_placeholder(value: str) -> bool:
    """True when the whole value is a redaction placeholder."""
    return PLACEHOLDER_RE.fullmatch(value.strip()) is not None


# --------------------------------------------------------------------------- loading


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
        words=base.words | {w.lower() for w in _names(doc, "words")},
        scoped={k: v for k, v in scoped.items() if k not in keep},
        value_patterns=value_patterns,
        keep=frozenset(base.keep | keep),
        keep_fields=base.keep_fields | {normalise_name(n) for n in _names(doc, "keep_fields")},
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


def _digest(rules: RedactRules, secret: str) -> str:
    assert rules.key is not None
    return hmac.new(rules.key, secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:12]


def placeholder(name: str, secret: str, rules: RedactRules) -> str:
    """``<redacted:name>`` (``<redacted:name:HMAC>`` with a key)."""
    if rules.key is None:
        return f"<redacted:{name}>"
    return f"<redacted:{name}:{_digest(rules, secret)}>"


def bare_placeholder(secret: str, rules: RedactRules) -> str:
    """``<redacted>`` (or ``<redacted:HMAC>``), for values whose kind the context already says."""
    if rules.key is None:
        return "<redacted>"
    return f"<redacted:{_digest(rules, secret)}>"


def label(name: str) -> str:
    """A name made fit for a placeholder label."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name)[:64] or "value"
