"""Limits on nesting depth: one documented bound for every JSON body and cassette structure.

Python's parsers and every recursive walk over parsed data (redaction, canonical JSON, deepdiff,
the synthetic model) stop with a ``RecursionError`` somewhere between a few hundred and a few thousand
levels, each at a different depth. Rather than a traceback at whichever depth a walker gives up,
everything that reads user input measures nesting first, without recursion and in linear time, and
refuses more than ``MAX_DEPTH`` levels with a one-line message. Real O2IMS documents nest about ten
levels (a deployment manager's ``extensions.profileData`` is the deepest); 100 leaves a wide margin
and is what deepdiff can still walk on Python's default recursion limit.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_DEPTH", "DepthError", "json_depth", "check_json_depth", "loads", "depth_message"]

#: The deepest nesting of arrays and objects accepted in a body or a cassette (docs/cassette-format.md).
MAX_DEPTH = 100

# Brackets become ( and ), quotes stay, every other byte is deleted.
_BRACKETS = bytes.maketrans(b"[{]}", b"(())")
_NOT_KEPT = bytes(b for b in range(256) if b not in b'[]{}"')


class DepthError(ValueError):
    """Raised when a body or a document nests deeper than ``limit`` levels."""

    def __init__(self, limit: int = MAX_DEPTH, what: str = "") -> None:
        self.limit = limit
        super().__init__(depth_message(limit, what))


def depth_message(limit: int = MAX_DEPTH, what: str = "") -> str:
    """``<what> nests deeper than 100 levels of arrays and objects (the limit)``."""
    return f"{what + ' ' if what else ''}nests deeper than {limit} levels of arrays and objects (the limit)"


def _outside_strings(data: bytes) -> bytes:
    """The brackets of a JSON text that are not inside a string, as ( and )."""
    if b'\\"' in data:  # in JSON, backslashes only escape inside strings: drop \\ first, then \"
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    s = data.translate(_BRACKETS, _NOT_KEPT)
    if b'"' in s:
        # Strings without brackets are adjacent quote pairs. When every quote pairs off, each run of
        # quotes had even length, so every bracket left sits between a closing and an opening quote.
        s = s.replace(b'""', b"")
        if b'"' in s:  # some string holds a bracket: quotes alternate open/close, keep the outside parts
            s = b"".join(s.split(b'"')[::2])
    return s


def json_depth(text: bytes | str, cap: int = MAX_DEPTH + 1) -> int:
    """How deep the arrays and objects of a JSON text nest, counted up to ``cap``; linear, no recursion.

    Each round deletes every innermost ``()`` pair, so the rounds count the nesting. Text that is
    not JSON gets a meaningless but finite number; only the bound matters here.
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    s = _outside_strings(data)
    if b"(" * cap in s:  # a run of openers: the usual shape of a hostile body, no need to count
        return cap
    depth = 0
    while s and depth < cap:
        shorter = s.replace(b"()", b"")
        if len(shorter) == len(s):
            break  # unbalanced: not JSON, json.loads will say so
        s, depth = shorter, depth + 1
    return depth


def check_json_depth(text: bytes | str, limit: int = MAX_DEPTH, what: str = "") -> None:
    """Raise DepthError when ``text`` nests deeper than ``limit``."""
    if isinstance(text, bytes):
        openers = text.count(b"[") + text.count(b"{")
    else:
        openers = text.count("[") + text.count("{")
    if openers > limit and json_depth(text, limit + 1) > limit:
        raise DepthError(limit, what)


def loads(text: bytes | str, limit: int = MAX_DEPTH, what: str = "") -> Any:
    """``json.loads`` that raises DepthError (a ValueError) instead of recursing past ``limit``."""
    check_json_depth(text, limit, what)
    try:
        return json.loads(text)
    except RecursionError:  # not reached under the check above; a ValueError all the same
        raise DepthError(limit, what) from None
