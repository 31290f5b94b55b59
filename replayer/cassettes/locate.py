"""Where in a cassette's text a load error is: the line, the interaction holding it, the field.

Used when a cassette does not load (``replayer.cassettes.yaml``). A file libyaml rejects cannot be
composed, so the interaction is found by counting items; a file that composes is walked as nodes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from replayer.errors import CassetteError

__all__ = ["bad_scalar", "locate_field", "locate_top", "located", "yaml_problem"]

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def located(path: str | Path, text: str | bytes, message: str, line: int | None) -> CassetteError:
    """A CassetteError naming the interaction and, when the file composes, the field at ``line``."""
    index = _interaction_at(text, line)
    field = _field_at(text, index, line) if index is not None and line is not None else None
    return CassetteError(path, f"{field}: {message}" if field else message, line=line, interaction=index)


def _field_at(text: str | bytes, index: int, line: int) -> str | None:
    """The dotted field (``response.body.string``) whose value is on ``line`` of interaction ``index``."""
    root = _compose(text)
    items = next((v for k, v in root.value if k.value == "interactions"), None) \
        if isinstance(root, yaml.MappingNode) else None
    if not isinstance(items, yaml.SequenceNode) or index >= len(items.value):
        return None
    node, parts = items.value[index], []
    while isinstance(node, yaml.MappingNode):
        before = [(k, v) for k, v in node.value if k.start_mark.line < line]
        if not before:
            break
        key, node = before[-1]
        parts.append(str(key.value))
    return ".".join(parts) or None


def yaml_problem(e: yaml.MarkedYAMLError, text: str | bytes) -> str:
    """One line saying what libyaml found, with a hint for the usual hand-editing mistakes."""
    problem = " ".join((e.problem or e.context or "invalid YAML").split())
    if problem.startswith("could not determine a constructor for the tag"):
        tag = problem.rsplit(" ", 1)[-1].strip("'").replace("tag:yaml.org,2002:", "!!")
        return (f"tag {tag} is not allowed: a cassette holds plain data "
                "(strings, numbers, lists, mappings and !!binary)")
    if problem.startswith("failed to decode base64 data"):
        return f"!!binary data is not valid base64 ({problem.split(': ', 2)[-1]})"
    mark = e.problem_mark
    if mark is not None and isinstance(text, str):
        lines = text.splitlines()
        bad = lines[mark.line] if mark.line < len(lines) else ""
        if "\t" in bad[: len(bad) - len(bad.lstrip())]:
            return "invalid YAML: a tab in the indentation (YAML indents with spaces only)"
    if e.context and e.context_mark is not None and e.context_mark.line != getattr(mark, "line", None):
        return f"invalid YAML: {problem} {e.context} that starts at line {e.context_mark.line + 1}"
    return f"invalid YAML: {problem}"


def _interaction_at(text: str | bytes, line: int | None) -> int | None:
    """Which interaction holds ``line``, counting ``- `` items under a top-level ``interactions:``.

    A textual count, since a file libyaml rejects cannot be composed; it matches how our dumper
    and vcrpy lay cassettes out, and says nothing when the layout is different.
    """
    if line is None or not isinstance(text, str):
        return None
    index, inside = -1, False
    for number, raw in enumerate(text.splitlines()[:line], start=1):
        if raw.startswith("interactions:"):
            inside, index = raw.rstrip() == "interactions:", -1
        elif inside and (raw.startswith("- ") or raw == "-"):
            index += 1
        elif inside and raw and not raw[0].isspace() and not raw.startswith("#"):
            inside = False
        if number == line:
            return index if inside and index >= 0 else None
    return None


def bad_scalar(text: str | bytes) -> tuple[int | None, str]:
    """Line and text of the first plain scalar SafeConstructor cannot build (``2025-13-45``)."""
    root = _compose(text)
    loader = _Loader("")
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            try:
                loader.construct_object(node)
            except (ValueError, OverflowError, yaml.YAMLError):
                return int(node.start_mark.line) + 1, str(node.value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in reversed(node.value) for n in reversed(pair))
    return None, "a value"



def _compose(text: str | bytes) -> Any:
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return None


def locate_top(text: str | bytes, message: str) -> int | None:
    root = _compose(text)
    if not isinstance(root, yaml.MappingNode):
        return 1 if root is None else root.start_mark.line + 1
    key = message.split(" ", 1)[0]
    for k, v in root.value:
        if k.value == key:
            return int(v.start_mark.line) + 1
    return 1


def locate_field(text: str | bytes, index: int, message: str) -> int | None:
    """The line of the field a message names (``response.status.code ...``) in interaction ``index``."""
    root = _compose(text)
    if not isinstance(root, yaml.MappingNode):
        return None
    items = next((v for k, v in root.value if k.value == "interactions"), None)
    if not isinstance(items, yaml.SequenceNode) or index >= len(items.value):
        return None
    node: Any = items.value[index]
    for part in message.split(" ", 1)[0].split("."):
        if not isinstance(node, yaml.MappingNode):
            break
        child = next((v for k, v in node.value if k.value == part), None)
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1

