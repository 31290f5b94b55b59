"""The one place that answers "which line" in a cassette's text, for load errors, diff, validate and scan.

``LineIndex(text)`` knows where each interaction starts and ends and finds lines inside them:

- by a line scan (no YAML parse): fast, works on text libyaml rejects, and matches how our dumper,
  vcrpy and hand editors lay cassettes out (items of a top-level ``interactions:`` block sequence);
  a layout it does not know (flow style) falls back to the YAML node tree;
- by the YAML node tree (composed once, on first need) for what a load error is about: the node of a
  dotted field (``response.status.code``), or the field whose value is on a given line.

Lines are 1-based everywhere in the answers.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

__all__ = ["LineIndex", "compose_item_starts", "scan_item_starts"]

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_KEY_RE = re.compile(r"^( *)(?:- )?([A-Za-z_-]+):")
_HEAD_RE = re.compile(r"^interactions:[ \t]*([^\n]*)$", re.M)
_CONTENT_RE = re.compile(r"^(?![ \t]*(?:#|$))( *)(- )?", re.M)  # the next line that is not blank or a comment


def _child(node: Any, key: str) -> Any:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if getattr(k, "value", None) == key), None)


def _compose(text: str | bytes) -> Any:
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return None


def _scan(text: str) -> tuple[list[int], int] | None:
    """0-based first lines of the interactions and the line where their block ends, by regexes (no parse).

    Items of the top-level ``interactions:`` block sequence are the lines at its item indent that start
    with ``- ``: block scalars (bodies) are always indented deeper, so no body line can look like one.
    None when the layout is not that simple (flow style...).
    """
    head = _HEAD_RE.search(text)
    if head is None:
        return None
    rest = head.group(1).strip()
    head_line = text.count("\n", 0, head.start())
    if rest == "[]":
        return [], head_line + 1
    if rest and not rest.startswith("#"):
        return None
    first = _CONTENT_RE.search(text, head.end() + 1)
    if first is None or head.end() + 1 > len(text):
        return [], head_line + 1
    if first.group(2) is None:
        return None if len(first.group(1)) > 0 else ([], head_line + 1)
    indent = len(first.group(1))
    end = re.compile(rf"^ {{0,{indent}}}(?=[^ \t\n])(?!- |#)", re.M).search(text, first.start())
    stop = end.start() if end else len(text)
    starts, line, pos = [], text.count("\n", 0, first.start()), first.start()
    for item in re.compile(rf"^{' ' * indent}- ", re.M).finditer(text, first.start(), stop):
        line += text.count("\n", pos, item.start())
        pos = item.start()
        starts.append(line)
    return starts, (text.count("\n", 0, stop) if end else len(text.splitlines()))


def scan_item_starts(text: str) -> list[int] | None:
    """0-based first lines of the interactions found by the line scan; None for a layout it does not know."""
    found = _scan(text)
    return None if found is None else found[0]


def compose_item_starts(text: str | bytes) -> list[int]:
    """0-based first lines of the interactions in the YAML node tree ([] when the text does not compose)."""
    items = _child(_compose(text), "interactions")
    return [int(n.start_mark.line) for n in items.value] if isinstance(items, yaml.SequenceNode) else []


class LineIndex:
    """Lines of the interactions of one cassette text, of fields inside them, and the reverse."""

    def __init__(self, text: str | bytes) -> None:
        self._raw = text
        shown = text if isinstance(text, str) else text.decode("utf-8", "replace")
        self.lines = shown.split("\n")
        found = _scan(shown)
        if found is None:
            self._root = _compose(text)
            items = _child(self._root, "interactions")
            nodes = items.value if isinstance(items, yaml.SequenceNode) else []
            self._starts = [int(n.start_mark.line) for n in nodes]
            self._end = int(items.end_mark.line) + 1 if nodes else len(self.lines)
            self._composed = True
        else:
            self._starts, self._end = found
            self._root, self._composed = None, False

    def __len__(self) -> int:
        return len(self._starts)

    def _tree(self) -> Any:
        if not self._composed:
            self._root, self._composed = _compose(self._raw), True
        return self._root

    def _stop(self, interaction: int) -> int:
        """0-based line after the last line of interaction N."""
        return self._starts[interaction + 1] if interaction + 1 < len(self._starts) else max(self._end, 1)

    def span(self, interaction: int) -> tuple[int, int] | None:
        """The first and last line of interaction N, or None when there is no such interaction."""
        if not 0 <= interaction < len(self._starts):
            return None
        return self._starts[interaction] + 1, self._stop(interaction)

    def interaction_at(self, line: int | None) -> int | None:
        """Which interaction holds ``line`` (None: before the first, or after the interactions' block)."""
        if line is None or not self._starts or not self._starts[0] < line <= self._end:
            return None
        return max(i for i, start in enumerate(self._starts) if start < line)

    def find_key(self, start: int, end: int, key: str, *, ignore_case: bool = False) -> int | None:
        """The first 0-based line in (start, end) holding the mapping key ``key`` (a line scan)."""
        for i in range(start + 1, end):
            m = _KEY_RE.match(self.lines[i])
            if m is None:
                continue
            if (m.group(2).lower() == key.lower()) if ignore_case else m.group(2) == key:
                return i
        return None

    def key_line(self, interaction: int, *keys: str, ignore_case_last: bool = False) -> int | None:
        """The 0-based line of the deepest of ``keys`` (a path, ``response``, ``status``...) found in
        interaction N by the line scan, or its first line when none is; None when there is no such interaction."""
        if not 0 <= interaction < len(self._starts):
            return None
        at, end = self._starts[interaction], self._stop(interaction)
        for n, key in enumerate(keys):
            hit = self.find_key(at - (n == 0), end, key, ignore_case=ignore_case_last and n == len(keys) - 1)
            if hit is None:
                break
            at = hit
        return at

    # ------------------------------------------------------------------ through the YAML node tree

    def _item(self, interaction: int) -> Any:
        items = _child(self._tree(), "interactions")
        if not isinstance(items, yaml.SequenceNode) or not 0 <= interaction < len(items.value):
            return None
        return items.value[interaction]

    def field_line(self, interaction: int, field: str) -> int | None:
        """The line of the deepest node of the dotted ``field`` that exists in interaction N (its own
        line when the field is empty or absent); None when the text does not compose to that interaction."""
        node = self._item(interaction)
        if node is None:
            return None
        for part in field.split(".") if field else ():
            child = _child(node, part)
            if child is None:
                break
            node = child
        return int(node.start_mark.line) + 1

    def field_at(self, interaction: int, line: int) -> str | None:
        """The dotted field (``response.body.string``) whose value is on ``line`` of interaction N."""
        node, parts = self._item(interaction), []
        while isinstance(node, yaml.MappingNode):
            before = [(k, v) for k, v in node.value if k.start_mark.line < line]
            if not before:
                break
            key, node = before[-1]
            parts.append(str(key.value))
        return ".".join(parts) or None

    def top_line(self, key: str) -> int:
        """The line of a top-level key's value (``version``, ``interactions``); 1 when there is none."""
        root = self._tree()
        if not isinstance(root, yaml.MappingNode):
            return 1 if root is None else int(root.start_mark.line) + 1
        value = _child(root, key) if key else None
        return int(value.start_mark.line) + 1 if value is not None else 1
