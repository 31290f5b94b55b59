"""Finding paths, path patterns with wildcards, and the built-in ignore rules for volatile O2IMS values.

A finding path is a list of tokens, rendered ``body[resourcePoolId=pool-1].extensions.cpu``:

The first token is ``status``, ``headers``, ``body`` (the response body) or ``notification`` (the
body of a notification the O2IMS sent, which is a request to the consumer). Then:

- ``name`` / ``.name``: an object member;
- ``[idKey=value]``: an array item matched by its identity key (O2IMS objects);
- ``[=value]``: an item of an array of scalars (compared as a multiset: order is not drift);
- ``[3]``: an array item by position (arrays of objects without an identity key).

A pattern uses the same tokens plus wildcards: ``*`` inside a token matches any characters,
``[*]`` matches any array item, ``**`` matches any number of tokens. A pattern that matches the
start of a path matches the path (ignoring ``body.extensions`` ignores everything under it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = [
    "ItemKey",
    "ScalarKey",
    "PathPattern",
    "Rule",
    "BUILTIN_IGNORES",
    "REDACTION_RE",
    "render_path",
    "path_tokens",
    "escape_value",
    "unescape_value",
    "glob_regex",
    "is_redacted",
]


@dataclass(frozen=True, slots=True)
class ItemKey:
    """The dict key standing for an array item matched by its identity key."""

    key: str
    value: Any

    def token(self) -> str:
        """The path token: ``[key=value]``."""
        return f"[{self.key}={escape_value(str(self.value))}]"


@dataclass(frozen=True, slots=True)
class ScalarKey:
    """The dict key standing for one occurrence of a value in an array of scalars."""

    value: Any
    occurrence: int

    def token(self) -> str:
        """The path token: ``[=value]`` (``[=value#2]`` for a second occurrence)."""
        text = "null" if self.value is None else str(self.value).lower() if isinstance(self.value, bool) \
            else escape_value(str(self.value))
        return f"[={text}]" if self.occurrence == 0 else f"[={text}#{self.occurrence}]"


def escape_value(text: str) -> str:
    """A value inside ``[...]``: ``%``, ``[``, ``]`` and ``#`` percent-encoded so the path stays parseable."""
    return text.replace("%", "%25").replace("[", "%5B").replace("]", "%5D").replace("#", "%23")


def unescape_value(text: str) -> str:
    """The inverse of ``escape_value``."""
    return text.replace("%5B", "[").replace("%5D", "]").replace("%23", "#").replace("%25", "%")


_PLAIN_KEY = re.compile(r"^[A-Za-z_$@][A-Za-z0-9_$@:-]*$")


def _token(part: Any) -> str:
    if isinstance(part, (ItemKey, ScalarKey)):
        return part.token()
    if isinstance(part, int) and not isinstance(part, bool):
        return f"[{part}]"
    text = str(part)
    return text if _PLAIN_KEY.match(text) else f'["{text}"]'


def path_tokens(parts: tuple[Any, ...] | list[Any]) -> tuple[str, ...]:
    """The tokens of a path given as dict keys and list indexes (first part: ``body``, ``headers``...)."""
    return tuple(_token(p) for p in parts)


def render_path(tokens: tuple[str, ...]) -> str:
    """Tokens joined for display: ``body[resourcePoolId=p1].name``."""
    out = ""
    for t in tokens:
        out += t if (t.startswith("[") or not out) else f".{t}"
    return out


_TOKEN_RE = re.compile(r'\["(?:[^"\\]|\\.)*"\]|\[[^\]]*\]|[^.\[]+')


def split_pattern(text: str) -> tuple[str, ...]:
    """Tokens of a pattern or a rendered path; raises ValueError for an unbalanced bracket."""
    if text.count("[") != text.count("]"):
        raise ValueError(f"unbalanced [ ] in path pattern {text!r}")
    tokens = tuple(m.group(0) for m in _TOKEN_RE.finditer(text))
    if not tokens:
        raise ValueError(f"empty path pattern {text!r}")
    return tokens


@lru_cache(maxsize=4096)
def glob_regex(glob: str, ignore_case: bool = False) -> re.Pattern[str]:
    """A regex for a glob where ``*`` matches anything and ``?`` one character; nothing else is special."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _token_matches(pattern: str, token: str) -> bool:
    if pattern == "[*]":
        return token.startswith("[")
    if pattern.startswith("[") != token.startswith("["):
        return False
    return bool(glob_regex(pattern).match(token))


@dataclass(frozen=True, slots=True)
class PathPattern:
    """A compiled path pattern (see the module docstring)."""

    text: str
    tokens: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> PathPattern:
        """Compile a pattern; raises ValueError naming it when malformed."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"path pattern must be a non-empty string, got {text!r}")
        tokens = split_pattern(text.strip())
        if tokens[0] not in ("body", "headers", "status", "notification", "**", "*"):
            raise ValueError(f"path pattern {text!r} must start with body, headers, status, notification or **")
        if tokens[0] == "headers":
            tokens = tuple(t.lower() for t in tokens)
        return cls(text.strip(), tokens)

    def matches(self, tokens: tuple[str, ...]) -> bool:
        """True when the pattern matches the path or a prefix of it."""
        return _match(self.tokens, 0, tokens, 0)


def _match(pat: tuple[str, ...], i: int, path: tuple[str, ...], j: int) -> bool:
    while i < len(pat):
        if pat[i] == "**":
            return any(_match(pat, i + 1, path, k) for k in range(j, len(path) + 1))
        if j >= len(path) or not _token_matches(pat[i], path[j]):
            return False
        i, j = i + 1, j + 1
    return True  # prefix match: the rest of the path is under the matched node


@dataclass(frozen=True, slots=True)
class Rule:
    """An ignore (or severity) rule: a path pattern, optionally limited to endpoints and finding kinds."""

    path: PathPattern
    endpoint: str | None = None
    kinds: frozenset[str] = frozenset()
    severity: str | None = None
    source: str = ""

    def applies(self, endpoint: str, kind: str, tokens: tuple[str, ...]) -> bool:
        """True when the rule covers a finding of ``kind`` at ``tokens`` on ``endpoint``."""
        if self.kinds and kind not in self.kinds:
            return False
        if self.endpoint is not None and not endpoint_matches(self.endpoint, endpoint):
            return False
        return self.path.matches(tokens)


def endpoint_matches(pattern: str, endpoint: str) -> bool:
    """Match ``"GET /path/{id}"`` against a glob; a glob without a method matches any method."""
    if " " not in pattern.strip():
        endpoint = endpoint.split(" ", 1)[-1]
    return bool(glob_regex(pattern.strip()).match(endpoint))


#: Values every O2IMS recording changes between two runs of an unchanged server:
#: alarm timestamps (O2IMS monitoring AlarmEventRecord), update times, notification ids, and the
#: per-response headers Date, ETag, X-Request-Id, Server.
BUILTIN_IGNORE_PATTERNS: tuple[str, ...] = (
    *(f"{root}.**.{name}" for root in ("body", "notification")
      for name in ("alarmRaisedTime", "alarmChangedTime", "alarmAcknowledgeTime", "alarmClearedTime",
                   "updateTime", "notificationId")),
    "headers.date",
    "headers.etag",
    "headers.x-request-id",
    "headers.server",
)

BUILTIN_IGNORES: tuple[Rule, ...] = tuple(Rule(PathPattern.parse(p), source="built-in")
                                          for p in BUILTIN_IGNORE_PATTERNS)

#: Placeholders the recorder writes instead of secrets (``<redacted>``, ``<redacted:sha256:...>``...).
REDACTION_RE = re.compile(r"<redacted[^>]*>|\*\*\*redacted\*\*\*", re.IGNORECASE)


def is_redacted(value: Any) -> bool:
    """True for a redaction placeholder: a change to or from one is never drift."""
    return isinstance(value, str) and bool(REDACTION_RE.search(value))
