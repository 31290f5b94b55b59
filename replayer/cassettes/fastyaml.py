"""A strict, fast reader for exactly the YAML subset our cassette dumper writes.

libyaml spends most of a cassette load producing events for the JSON bodies, which our dumper
writes as literal blocks (``|``, ``|-``, ``|+``). This reader finds the end of a literal block with
one regular-expression search and strips its indentation with one ``str.replace``, so a body costs
a few C calls instead of an event per character run. It handles:

- block mappings and block sequences (including the compact ``- key: value`` form and sequences
  at the same indentation as their key), ``[]`` and ``{}``;
- plain scalars, resolved exactly as PyYAML's SafeLoader resolves them (its implicit resolvers
  and SafeConstructor's constructors for null, bool, int, float and timestamp);
- single- and double-quoted scalars with YAML 1.1 escapes, also folded over several lines (how
  vcrpy writes long bodies);
- literal block scalars with chomping (``-``, ``+``) and indentation indicators, ``!!binary``;
- LF or CRLF line ends, and the ``...`` document end marker the emitter writes after ``|+``.

Anything else (comments, anchors, other tags, flow collections, folded ``>`` blocks, plain
scalars over several lines, tabs in structure, odd characters, a missing final newline ...) raises ``Unsupported``: the caller then parses the text with libyaml, which also
produces the error messages with line numbers.
The rule is never to return something different from ``yaml.load(text, CSafeLoader)``;
``tests/cassettes/test_fastyaml.py`` compares both on generated and mutated documents.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import yaml
from yaml.nodes import ScalarNode

from replayer.limits import MAX_DEPTH

__all__ = ["Unsupported", "Memo", "load"]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STR = "tag:yaml.org,2002:str"
#: Tags a plain scalar may resolve to here; merge keys (``<<``) and ``=`` go to libyaml.
_SIMPLE_TAGS = frozenset(
    "tag:yaml.org,2002:" + t for t in ("str", "null", "bool", "int", "float", "timestamp")
)

#: Characters outside YAML 1.1's printable set (§5.1), plus the ones libyaml treats as line breaks
#: or byte-order marks (NEL, LS, PS, BOM): any of them sends the document to libyaml.
_ODD_CHARS = re.compile(
    "[^\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
# Quoted scalars: "unrolled" loops with possessive quantifiers (Python 3.11), so a match keeps no
# backtracking state per character. The plain ``(?:[^"\\]|\\.)*`` form needed about 140 bytes of
# memory per body byte on vcrpy's long double-quoted bodies (bench/bench_fastyaml.py, docs/performance.md).
_SINGLE = re.compile(r"'([^']*+(?:''[^']*+)*+)'")
_SINGLE_ANY = _SINGLE  # matched at an offset, across line breaks
_DOUBLE_ANY = re.compile(r'"([^"\\]*+(?:\\[\s\S][^"\\]*+)*+)"')
_DOUBLE = re.compile(r'"([^"\\]*+(?:\\.[^"\\]*+)*+)"')
_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")
_QUOTED_KEY = re.compile(r"""('[^']*+(?:''[^']*+)*+'|"[^"\\]*+(?:\\.[^"\\]*+)*+") *:(?: +|$)""")
#: A plain key: no indicator first, no ``#`` and no tab anywhere, no trailing space.
_PLAIN_KEY = re.compile(r"[^-?:,\[\]{}#&*!|>'\"%@` ][^#]*(?<! )")
_BLOCK_HEADER = re.compile(r"\|(?:([1-9])([-+]?)|([-+])([1-9])?)?")
#: YAML 1.1 §5.7 escapes, as libyaml reads them.
_ESCAPES = {
    "0": "\0", "a": "\x07", "b": "\x08", "t": "\t", "\t": "\t", "n": "\n", "v": "\x0b", "f": "\x0c",
    "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0",
    "L": "\u2028", "P": "\u2029",
}
_SPACES = re.compile(" *")
_MISSING: Any = object()
_block_ends: dict[int, re.Pattern[str]] = {}


class Unsupported(Exception):
    """The text uses YAML outside the subset this reader handles; parse it with libyaml instead."""


class Memo:
    """What a reader learns about plain scalars, keys and strings, kept across documents.

    Loading a cassette one interaction at a time (``cassettes.stream``) parses thousands of small
    documents that repeat the same keys and values; sharing one Memo keeps the speed of one big
    parse. Each cache is emptied past ``limit`` entries, so memory stays bounded on a long stream.
    """

    __slots__ = ("scalars", "keys", "strings", "limit")

    def __init__(self, limit: int = 20_000) -> None:
        self.scalars: dict[str, Any] = {}
        self.keys: dict[str, Any] = {}
        self.strings: dict[str, str] = {}
        self.limit = limit

    def trimmed(self) -> Memo:
        """This memo, with any cache past the limit emptied."""
        for cache in (self.scalars, self.keys, self.strings):
            if len(cache) > self.limit:
                cache.clear()
        return self


def load(data: str | bytes, memo: Memo | None = None) -> Any:
    """The document in ``data``, exactly as ``yaml.load(data, CSafeLoader)`` returns it.

    Raises ``Unsupported`` for anything outside the subset described in the module docstring.
    ``memo`` shares what was learnt between calls (see ``Memo``).
    """
    return _Reader(_text_of(data), memo.trimmed() if memo is not None else Memo()).document()


def _text_of(data: str | bytes) -> str:
    if isinstance(data, bytes):
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise Unsupported("UTF-16")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise Unsupported("not UTF-8") from None
    if "\r" in data:
        # A CR is only ever a line break here (quoted scalars are single-line), so CRLF -> LF
        # keeps the meaning; a lone CR would be a break too, but rare enough for libyaml.
        if data.count("\r") != data.count("\r\n"):
            raise Unsupported("lone CR")
        data = data.replace("\r\n", "\n")
    if not data.endswith("\n") or _ODD_CHARS.search(data):
        raise Unsupported("no final newline or special characters")
    return data


def _block_end(indent: int) -> re.Pattern[str]:
    """Finds the newline before the first non-blank line indented less than ``indent``."""
    rx = _block_ends.get(indent)
    if rx is None:
        rx = _block_ends[indent] = re.compile(r"\n(?! {%d}| *\n)" % indent)
    return rx


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if len(code) == 1:
        try:
            return _ESCAPES[code]
        except KeyError:
            raise Unsupported(f"escape \\{code}") from None
    value = int(code[1:], 16)
    if 0xD800 <= value <= 0xDFFF or value > 0x10FFFF:
        raise Unsupported("surrogate escape")
    return chr(value)


def _trailing_backslashes(s: str) -> int:
    return len(s) - len(s.rstrip("\\"))


def _fold(lines: list[str], double: bool) -> str:
    """Join the raw lines of a quoted scalar the way libyaml folds them (before unescaping)."""
    out: list[str] = []
    last, i = len(lines) - 1, 0
    while True:
        line = lines[i] if i == 0 else lines[i].lstrip(" ")
        if i == last:
            out.append(line)
            return "".join(out)
        escaped = double and _trailing_backslashes(line) % 2 == 1  # "\\" + break: no space
        if escaped:
            out.append(line[:-1])
        else:
            kept = line.rstrip(" ")
            if double and kept != line and _trailing_backslashes(kept) % 2 == 1:
                kept += " "  # the first stripped space was escaped ("\\ ")
            out.append(kept)
        empty = 0
        while i + 1 + empty < last and not lines[i + 1 + empty].strip(" "):
            empty += 1
        out.append("\n" * empty if empty or escaped else " ")
        i += 1 + empty


class _Reader:
    """A cursor over the lines of one document; ``col == -1`` once the document has ended."""

    __slots__ = ("text", "end", "tabs", "pos", "col", "eol", "memo", "keys", "strings", "resolvers", "wildcard",
                 "loader")

    def __init__(self, text: str, memo: Memo) -> None:
        self.text = text
        self.end = len(text)
        self.tabs = "\t" in text
        self.pos = self.col = self.eol = 0
        self.memo = memo.scalars
        self.keys = memo.keys
        self.strings = memo.strings
        self.resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = _Loader.yaml_implicit_resolvers
        self.wildcard = self.resolvers.get(None, [])
        self.loader: Any = None
        self._advance(0)

    # ----------------------------------------------------------------------------- lines

    def _advance(self, p: int) -> None:
        """Move to the first non-blank line at or after offset ``p`` (a line start)."""
        text, end, spaces = self.text, self.end, _SPACES.match
        while p < end:
            q = spaces(text, p).end()  # type: ignore[union-attr]
            first = text[q]
            if first == "\n":
                p = q + 1
                continue
            eol = text.index("\n", q)
            if first in "#%" or (self.tabs and "\t" in text[p:eol]):
                raise Unsupported("tab, comment or directive")
            if q == p and (first == "." or first == "-") and text[p:p + 3] in ("...", "---") \
                    and text[p + 3] in " \n":
                if text[p:eol] != "..." or text[eol + 1:].strip(" \n"):
                    raise Unsupported("document marker")
                break
            self.pos, self.eol, self.col = q, eol, q - p
            return
        self.pos, self.eol, self.col = end, end, -1

    def _is_dash(self) -> bool:
        text, pos = self.text, self.pos
        return text[pos] == "-" and text[pos + 1] in " \n"

    # ----------------------------------------------------------------------------- nodes

    def document(self) -> Any:
        """The whole document; an empty one is None, as in PyYAML."""
        if self.col == -1:
            return None
        if self.col != 0:
            raise Unsupported("indented top-level node")
        value = self._node(-1, inline=False)
        if self.col != -1:
            raise Unsupported("content after the top-level node")
        return value

    def _node(self, parent: int, *, inline: bool) -> Any:
        """The node starting at the cursor; ``inline`` when it follows ``- `` on the same line."""
        if self.col > MAX_DEPTH:  # each level indents at least one column; libyaml's path words the error
            raise Unsupported("nested deeper than the limit")
        if self._is_dash():
            return self._sequence(self.col)
        line = self.text[self.pos:self.eol]
        entry = self._split_key(line)
        if entry is not None:
            return self._mapping(self.col, entry)
        if not inline:
            raise Unsupported("scalar on its own line")
        return self._value(line, parent)

    def _mapping(self, col: int, entry: tuple[Any, str]) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        text, keys, memo = self.text, self.keys, self.memo
        key, rest = entry
        while True:
            if key in out:  # libyaml keeps the last silently; the strict loader words the error
                raise Unsupported("duplicate key")
            if rest:
                # A plain scalar seen before (GET, OK, application/json ...) was checked and
                # resolved then: ``memo`` holds nothing else, and no key or quoted text is in it.
                value = memo.get(rest, _MISSING)
                if value is _MISSING:
                    out[key] = self._value(rest, col)
                else:
                    out[key] = value
                    self._advance(self.eol + 1)
            else:
                self._advance(self.eol + 1)
                if self.col > col:
                    out[key] = self._node(col, inline=False)
                elif self.col == col and self._is_dash():
                    out[key] = self._sequence(col)
                else:
                    out[key] = None
            if self.col < col:
                return out
            pos, eol = self.pos, self.eol
            if self.col > col or (text[pos] == "-" and text[pos + 1] in " \n"):
                raise Unsupported("bad indentation after a mapping value")
            i = text.find(":", pos, eol)
            if i > pos and (i + 1 == eol or text[i + 1] == " "):
                key = keys.get(text[pos:i], _MISSING)  # a plain key seen (and checked) before
                if key is not _MISSING:
                    rest = text[i + 1:eol].lstrip(" ")
                    continue
            found = self._split_key(text[pos:eol])
            if found is None:
                raise Unsupported("expected a key")
            key, rest = found

    def _sequence(self, col: int) -> list[Any]:
        out: list[Any] = []
        text = self.text
        while True:
            pos = self.pos
            if pos + 1 == self.eol:  # a lone "-": the item is on the following lines, or null
                self._advance(self.eol + 1)
                out.append(self._node(col, inline=False) if self.col > col else None)
            else:
                skip = 2
                while text[pos + skip] == " ":
                    skip += 1
                if pos + skip == self.eol:
                    raise Unsupported("'- ' followed by nothing")
                value = self.memo.get(text[pos + skip:self.eol], _MISSING)  # as in _mapping
                if value is not _MISSING:
                    out.append(value)
                    self._advance(self.eol + 1)
                else:
                    self.pos, self.col = pos + skip, self.col + skip
                    out.append(self._node(col, inline=True))
            if self.col < col or (self.col == col and not self._is_dash()):
                return out
            if self.col > col:
                raise Unsupported("bad indentation after a sequence item")

    def _split_key(self, line: str) -> tuple[Any, str] | None:
        """``(key, rest of line)`` when the line is a ``key: ...`` entry, else None."""
        first = line[0]
        if first == "'" or first == '"':
            m = _QUOTED_KEY.match(line)
            if m is None:
                return None
            return self._quoted(m.group(1)), line[m.end():]
        i = line.find(":")
        if i <= 0 or (i + 1 < len(line) and line[i + 1] != " "):
            return None
        raw = line[:i]
        try:
            key = self.keys[raw]
        except KeyError:
            if _PLAIN_KEY.fullmatch(raw) is None:
                raise Unsupported("unusual key") from None
            key = self.keys[raw] = self._plain(raw)
        return key, line[i + 1:].lstrip(" ")

    def _value(self, value: str, parent: int) -> Any:
        """A value written after ``key: `` or ``- ``; moves the cursor past it."""
        start = self.eol - len(value)
        value = value.rstrip(" ")
        first = value[0]
        if (first == "'" and _SINGLE.fullmatch(value) is None) or (first == '"' and _DOUBLE.fullmatch(value) is None):
            return self._folded(start, parent)
        if first == "|":
            return self._literal(value, parent)
        if first == "!":
            if not value.startswith("!!binary |"):
                raise Unsupported("tag")
            text = self._literal(value[9:], parent)
            try:
                return base64.decodebytes(text.encode("ascii"))
            except (UnicodeEncodeError, binascii.Error):
                raise Unsupported("bad base64") from None
        if first == "'" or first == '"':
            out: Any = self._quoted(value)
        elif value == "[]":
            out = []
        elif value == "{}":
            out = {}
        elif first in "[]{},#&*%@`>" or (first in "-?:" and (len(value) == 1 or value[1] == " ")):
            raise Unsupported("indicator")
        elif ": " in value or " #" in value or value[-1] == ":":
            raise Unsupported("plain scalar with ': ' or ' #'")
        else:
            out = self._plain(value)
        self._advance(self.eol + 1)
        return out

    def _folded(self, start: int, parent: int) -> str:
        """A quoted scalar over several lines, as vcrpy writes long bodies (YAML 1.1 §4.6.2, §9.1.1).

        Each line break folds to a space, or, before empty lines, to one newline per empty line;
        white space around breaks goes; in double quotes, ``\\`` before a break joins the lines.
        Continuation lines must be indented deeper than ``parent``.
        """
        text = self.text
        double = text[start] == '"'
        m = (_DOUBLE_ANY if double else _SINGLE_ANY).match(text, start)
        if m is None:
            raise Unsupported("unterminated quoted scalar")
        eol = text.index("\n", m.end())
        inner = m.group(1)
        if text[m.end():eol].strip(" ") or "\t" in inner or "\n" not in inner:
            raise Unsupported("content after a quoted scalar, or a tab in it")
        lines = inner.split("\n")
        for line in lines[1:]:
            if line.strip(" ") and len(line) - len(line.lstrip(" ")) <= parent:
                raise Unsupported("continuation line not indented")
        out = _fold(lines, double)
        out = _ESCAPE.sub(_unescape, out) if double else out.replace("''", "'")
        self._advance(eol + 1)
        return self.strings.setdefault(out, out)

    def _quoted(self, token: str) -> str:
        if token[0] == "'":
            m = _SINGLE.fullmatch(token)
            if m is None:
                raise Unsupported("multi-line or unterminated single-quoted scalar")
            s = m.group(1).replace("''", "'")
        else:
            m = _DOUBLE.fullmatch(token)
            if m is None:
                raise Unsupported("multi-line or unterminated double-quoted scalar")
            s = m.group(1)
            if "\\" in s:
                s = _ESCAPE.sub(_unescape, s)
        return self.strings.setdefault(s, s)

    def _plain(self, value: str) -> Any:
        """A plain scalar resolved as SafeLoader resolves it (``yaml.resolver``, YAML 1.1 types)."""
        try:
            return self.memo[value]
        except KeyError:
            pass
        tag = _STR
        for tag_, regexp in self.resolvers.get(value[0], []) + self.wildcard:
            if regexp.match(value):
                tag = tag_
                break
        if tag == _STR:
            out: Any = value
        elif tag in _SIMPLE_TAGS:
            if self.loader is None:
                self.loader = _Loader("")
            try:
                out = self.loader.yaml_constructors[tag](self.loader, ScalarNode(tag, value))
            except Exception:  # noqa: BLE001 - e.g. 2025-13-45: libyaml's path words the error
                raise Unsupported(f"cannot construct {value!r}") from None
        else:
            raise Unsupported(f"plain scalar resolving to {tag}")
        self.memo[value] = out
        return out

    def _literal(self, header: str, parent: int) -> str:
        """A literal block scalar (YAML 1.1 §9.1.3); ``parent`` is the enclosing block's column."""
        m = _BLOCK_HEADER.fullmatch(header)
        if m is None:
            raise Unsupported("block header")
        digit, chomp = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3) or "")
        text, start = self.text, self.eol + 1
        if digit:
            indent = max(parent, 0) + int(digit)
        else:
            first_eol = text.find("\n", start)
            if first_eol < 0:
                raise Unsupported("empty block at the end")
            first = text[start:first_eol]
            indent = len(first) - len(first.lstrip(" "))
            # libyaml refuses a tab where it is still detecting the indentation
            if indent == len(first) or indent <= parent or first[indent] == "\t":
                raise Unsupported("block starting with a blank line, or empty")
        found = _block_end(indent).search(text, self.eol)
        stop = found.start() if found is not None else self.end - 1
        if stop == self.eol:
            raise Unsupported("empty block")
        raw = text[start:stop + 1]
        if " \n" in raw or "\t\n" in raw:
            raise Unsupported("trailing white space in a block")
        lines = ("\n" + raw).replace("\n" + " " * indent, "\n")[1:]
        self._advance(stop + 1)
        if chomp == "+":
            return lines
        body = lines.rstrip("\n")
        if not body:
            raise Unsupported("block of blank lines")
        return body if chomp == "-" else body + "\n"
