"""Line numbers of findings, for annotations: the YAML node tree of a cassette maps interaction N and the
field a finding names to a line. Composed only on the output path, once per file that has findings.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import yaml

from replayer.diff.model import Drift, Location, Report
from replayer.diff.rules import split_pattern, unescape_value

__all__ = ["LineIndex", "resolve_lines"]

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Returns the text of a cassette file by the name its Location carries (None: not readable).
Reader = Callable[[str], str | None]


def _child(node: Any, key: str) -> Any:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if getattr(k, "value", None) == key), None)


_KEY_RE = re.compile(r"^( *)(?:- )?([A-Za-z_-]+):")
_HEAD_RE = re.compile(r"^interactions:[ \t]*([^\n]*)$", re.M)
_CONTENT_RE = re.compile(r"^(?![ \t]*(?:#|$))( *)(- )?", re.M)  # the next line that is not blank or a comment


def _item_starts_by_scan(text: str) -> list[int] | None:
    """0-based first lines of the interactions, found with regexes over the text (no YAML parse).

    Items of the top-level ``interactions:`` block sequence are the lines at its item indent that start
    with ``- ``: block scalars (bodies) are always indented deeper, so no body line can look like one.
    None when the layout is not that simple (flow style...): the caller composes the YAML.
    """
    head = _HEAD_RE.search(text)
    if head is None:
        return None
    rest = head.group(1).strip()
    if rest == "[]":
        return []
    if rest and not rest.startswith("#"):
        return None
    first = _CONTENT_RE.search(text, head.end() + 1)
    if first is None or head.end() + 1 > len(text):
        return []
    if first.group(2) is None:
        return None if len(first.group(1)) > 0 else []
    indent = len(first.group(1))
    end = re.compile(rf"^ {{0,{indent}}}(?=[^ \n])(?!- |#)", re.M).search(text, first.start())
    stop = end.start() if end else len(text)
    starts, line, pos = [], text.count("\n", 0, first.start()), first.start()
    for item in re.compile(rf"^{' ' * indent}- ", re.M).finditer(text, first.start(), stop):
        line += text.count("\n", pos, item.start())
        pos = item.start()
        starts.append(line)
    return starts


def _item_starts_by_compose(text: str) -> list[int]:
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return []
    items = _child(root, "interactions")
    return [int(n.start_mark.line) for n in items.value] if isinstance(items, yaml.SequenceNode) else []


class LineIndex:
    """Lines of the interactions of one cassette text, and of fields inside them (a line scan, no YAML parse)."""

    def __init__(self, text: str) -> None:
        self._lines = text.split("\n")
        starts = _item_starts_by_scan(text)
        self._starts = starts if starts is not None else _item_starts_by_compose(text)

    def span(self, interaction: int) -> tuple[int, int] | None:
        """The 1-based first and last line of interaction N, or None when there is no such interaction."""
        if not 0 <= interaction < len(self._starts):
            return None
        end = self._starts[interaction + 1] if interaction + 1 < len(self._starts) else len(self._lines)
        return self._starts[interaction] + 1, end

    def line(self, interaction: int | None, path: str) -> int | None:
        """The 1-based line of ``path`` (``status``, ``headers.x``, ``body...``) in interaction N."""
        if interaction is None or not 0 <= interaction < len(self._starts):
            return None
        start = self._starts[interaction]
        end = self._starts[interaction + 1] if interaction + 1 < len(self._starts) else len(self._lines)
        tokens = split_pattern(path) if path else ()
        if tokens and tokens[0] == "notification":
            body = self._find(start - 1, end, "body")  # the request's body comes first
            if body is None:
                return start + 1
            return self._block(body, end, tokens[1:])
        response = self._find(start, end, "response")
        if not path or response is None:
            return start + 1
        if tokens[0] == "status":
            status = self._find(response, end, "status")
            code = self._find(status, end, "code") if status is not None else None
            return (code if code is not None else status if status is not None else response) + 1
        if tokens[0] == "headers":
            headers = self._find(response, end, "headers")
            name = tokens[1] if len(tokens) > 1 else ""
            hit = self._find(headers, end, name, ignore_case=True) if headers is not None else None
            return (hit if hit is not None else headers if headers is not None else response) + 1
        body = self._find(response, end, "body")
        if body is None:
            return response + 1
        string = self._find(body, end, "string")
        return self._block(string if string is not None else body, end, tokens[1:])

    def _block(self, at: int, end: int, tokens: tuple[str, ...]) -> int:
        """The line of ``tokens`` in the body scalar starting on line ``at``."""
        if not self._lines[at].rstrip().endswith(("|", "|-", "|+", ">", ">-")):
            return at + 1  # a one-line body
        return _body_line(self._lines, at + 1, end, tokens)

    def _find(self, start: int, end: int, key: str, *, ignore_case: bool = False) -> int | None:
        """The first line in (start, end) holding the mapping key ``key``."""
        for i in range(start + 1, end):
            m = _KEY_RE.match(self._lines[i])
            if m is None:
                continue
            found = m.group(2).lower() == key.lower() if ignore_case else m.group(2) == key
            if found:
                return i
        return None


def _body_line(lines: list[str], first: int, end: int, tokens: tuple[str, ...]) -> int:
    """Follow the tokens through the pretty-printed JSON of a literal block, line by line."""
    if not tokens:
        return first
    at = first
    for token in tokens:
        needle = _needle(token)
        if needle is None:
            continue
        hit = next((i for i in range(at, end) if needle.search(lines[i])), None)
        if hit is None:
            break
        at = hit
    return at + 1


def _needle(token: str) -> re.Pattern[str] | None:
    if token.startswith("[") and "=" in token:
        key, _, value = token[1:-1].partition("=")
        if not key:  # [=value]: an item of an array of scalars ("#2": its third occurrence)
            value = unescape_value(value.split("#", 1)[0])
            return re.compile(r'^\s*"?' + re.escape(value) + r'"?,?\s*$')
        value = unescape_value(value)
        return re.compile(r'"' + re.escape(key) + r'":\s*(?:"' + re.escape(value) + r'"|' + re.escape(value)
                          + r'(?=\s*[,}\]]|\s*$))')
    if token.startswith("["):
        return None  # a position: the next key token finds the line
    name = token[2:-2] if token.startswith('["') else token
    return re.compile(r'^\s*"' + re.escape(name) + r'":')


def resolve_lines(report: Report, old_reader: Reader, new_reader: Reader) -> Report:
    """The report with a line on every location whose file can be read."""
    cache: dict[tuple[int, str], LineIndex | None] = {}

    def index(side: int, file: str) -> LineIndex | None:
        if (side, file) not in cache:
            text = (old_reader if side == 0 else new_reader)(file)
            cache[(side, file)] = LineIndex(text) if text is not None else None
        return cache[(side, file)]

    def fix(side: int, at: Location | None, path: str) -> Location | None:
        if at is None or at.line is not None:
            return at
        idx = index(side, at.file)
        return dataclasses.replace(at, line=idx.line(at.interaction, path) if idx else None)

    findings = tuple(_with(f, fix(0, f.old_at, f.path), fix(1, f.new_at, f.path)) for f in report.findings)
    return dataclasses.replace(report, findings=findings)


def _with(f: Drift, old_at: Location | None, new_at: Location | None) -> Drift:
    return dataclasses.replace(f, old_at=old_at, new_at=new_at)
