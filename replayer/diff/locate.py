"""Line numbers of findings, for annotations: the line a drift path (``status``, ``headers.x``,
``body[id=p1].name``, ``notification...``) names in interaction N, found through the cassette locator
(``replayer.cassettes.locate``). Run only on the output path, once per file that has findings.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from replayer.cassettes.locate import LineIndex
from replayer.diff.model import Drift, Location, Report
from replayer.diff.rules import split_pattern, unescape_value

__all__ = ["line_of", "resolve_lines"]

#: Returns the text of a cassette file by the name its Location carries (None: not readable).
Reader = Callable[[str], str | None]


def line_of(index: LineIndex, interaction: int | None, path: str) -> int | None:
    """The line of ``path`` (``status``, ``headers.x``, ``body...``, ``notification...``) in interaction N."""
    span = index.span(interaction) if interaction is not None else None
    if span is None:
        return None
    start, end = span[0] - 1, span[1]
    tokens = split_pattern(path) if path else ()
    if tokens and tokens[0] == "notification":
        body = index.find_key(start - 1, end, "body")  # the request's body comes first
        return start + 1 if body is None else _block(index, body, end, tokens[1:])
    response = index.find_key(start, end, "response")
    if not path or response is None:
        return start + 1
    if tokens[0] == "status":
        status = index.find_key(response, end, "status")
        code = index.find_key(status, end, "code") if status is not None else None
        return (code if code is not None else status if status is not None else response) + 1
    if tokens[0] == "headers":
        headers = index.find_key(response, end, "headers")
        name = tokens[1] if len(tokens) > 1 else ""
        hit = index.find_key(headers, end, name, ignore_case=True) if headers is not None else None
        return (hit if hit is not None else headers if headers is not None else response) + 1
    body = index.find_key(response, end, "body")
    if body is None:
        return response + 1
    string = index.find_key(body, end, "string")
    return _block(index, string if string is not None else body, end, tokens[1:])


def _block(index: LineIndex, at: int, end: int, tokens: tuple[str, ...]) -> int:
    """The line of ``tokens`` in the body scalar starting on (0-based) line ``at``."""
    lines = index.lines
    if not lines[at].rstrip().endswith(("|", "|-", "|+", ">", ">-")):
        return at + 1  # a one-line body
    return _body_line(lines, at + 1, end, tokens)


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
        return dataclasses.replace(at, line=line_of(idx, at.interaction, path) if idx else None)

    findings = tuple(_with(f, fix(0, f.old_at, f.path), fix(1, f.new_at, f.path)) for f in report.findings)
    return dataclasses.replace(report, findings=findings)


def _with(f: Drift, old_at: Location | None, new_at: Location | None) -> Drift:
    return dataclasses.replace(f, old_at=old_at, new_at=new_at)
