"""Reports rendered for people and tools: text, markdown, json, github, junit.

Every renderer is a pure function ``Report -> str``; the command picks one and prints it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

from replayer.diff.model import SEVERITY_RANK, Drift, DriftKind, Location, Report, Severity

__all__ = ["FORMATS", "SCHEMA_VERSION", "render", "render_text", "render_markdown", "render_json",
           "render_github", "render_junit", "report_to_dict"]

SCHEMA_VERSION = 1
FORMATS = ("text", "markdown", "json", "github", "junit")
_ORDER = (Severity.BREAKING, Severity.WARNING, Severity.INFO)
_COLOURS = {Severity.BREAKING: "\x1b[31;1m", Severity.WARNING: "\x1b[33m", Severity.INFO: "\x1b[36m"}
_RESET = "\x1b[0m"


def render(report: Report, fmt: str, *, fail_on: Severity | None, colour: bool = False) -> str:
    """The report in one of FORMATS."""
    renderers: dict[str, Callable[[], str]] = {
        "text": lambda: render_text(report, colour=colour),
        "markdown": lambda: render_markdown(report),
        "json": lambda: render_json(report, fail_on=fail_on),
        "github": lambda: render_github(report),
        "junit": lambda: render_junit(report, fail_on=fail_on),
    }
    return renderers[fmt]()


def _sorted(findings: tuple[Drift, ...]) -> list[Drift]:
    return sorted(findings, key=lambda f: (f.file, f.endpoint, -SEVERITY_RANK[f.severity], f.path, f.kind.value))


def _summary(report: Report) -> str:
    c = report.counts()
    return (f"{c[Severity.BREAKING]} breaking, {c[Severity.WARNING]} warning, {c[Severity.INFO]} info "
            f"({report.ignored} ignored, {report.accepted} accepted) in {_n(report.files, 'file')}, "
            f"{_n(report.interactions, 'interaction')}")


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# --------------------------------------------------------------------------- text


def render_text(report: Report, *, colour: bool = False) -> str:
    """Findings grouped per file and endpoint; ANSI colour only when asked (a TTY without NO_COLOR)."""
    lines: list[str] = []
    if report.sources[0] or report.sources[1]:
        lines.append(f"o2replay {report.command}: {report.sources[0]} -> {report.sources[1]}"
                     if report.sources[1] else f"o2replay {report.command}: {report.sources[0]}")
    last_file, last_ep = None, None
    for f in _sorted(report.findings):
        if f.file != last_file:
            lines.append(f"\n{f.file}")
            last_file, last_ep = f.file, None
        if f.endpoint != last_ep:
            lines.append(f"  {f.endpoint}")
            last_ep = f.endpoint
        label = f"{f.severity.value.upper():8}"
        if colour:
            label = f"{_COLOURS[f.severity]}{label}{_RESET}"
        lines.append(f"    {label} {f.kind.value:21} {f.message}")
    if not report.findings:
        lines.append("no drift" if report.command == "diff" else "no findings")
    lines.append(("\n" if report.findings else "") + "summary: " + _summary(report))
    return "\n".join(lines).lstrip("\n") + "\n"


# --------------------------------------------------------------------------- markdown


def _cell(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > limit:
        text = text[:limit] + "…"
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "'")
    return f"`{text}`" if text else ""


_ICON = {Severity.BREAKING: "🔴 breaking", Severity.WARNING: "🟠 warning", Severity.INFO: "🔵 info"}


def render_markdown(report: Report) -> str:
    """A pull-request comment: a summary table by severity and endpoint, then collapsible details."""
    c = report.counts()
    title = "O2IMS drift" if report.command == "diff" else "O2IMS spec check"
    out = [f"### {title}: {c[Severity.BREAKING]} breaking, {c[Severity.WARNING]} warning, {c[Severity.INFO]} info",
           ""]
    if not report.findings:
        out += [f"No {'drift' if report.command == 'diff' else 'findings'}. ({_summary(report)})", ""]
        return "\n".join(out)
    groups: dict[tuple[str, str], list[Drift]] = defaultdict(list)
    for f in _sorted(report.findings):
        groups[(f.file, f.endpoint)].append(f)
    out += ["| Endpoint | File | 🔴 breaking | 🟠 warning | 🔵 info |", "|---|---|---:|---:|---:|"]
    for row, ((file, endpoint), items) in enumerate(groups.items()):
        if row == MARKDOWN_ROWS:
            out.append(f"| *{len(groups) - row} more endpoint(s)* | | | | |")
            break
        n = {s: sum(1 for f in items if f.severity is s) for s in _ORDER}
        out.append(f"| {_cell(endpoint)} | {_cell(file)} | {n[Severity.BREAKING]} | {n[Severity.WARNING]} "
                   f"| {n[Severity.INFO]} |")
    out += ["", f"<sub>{_summary(report)}</sub>", ""]
    size = sum(len(line) + 1 for line in out)
    shown = 0
    for (file, endpoint), items in groups.items():
        block = _details(file, endpoint, items)
        if size + len(block) > MARKDOWN_LIMIT:
            break
        out.append(block)
        size += len(block) + 1
        shown += 1
    if shown < len(groups):
        out += [f"*Details of {len(groups) - shown} more endpoint(s) left out to stay under GitHub's comment "
                "size limit: see `--format json` or the job log.*", ""]
    return "\n".join(out)


#: GitHub refuses comments over 65,536 characters: the summary table stops after MARKDOWN_ROWS rows,
#: the details before MARKDOWN_LIMIT characters.
MARKDOWN_LIMIT = 60_000
MARKDOWN_ROWS = 200


def _details(file: str, endpoint: str, items: list[Drift]) -> str:
    out = [f"<details><summary><code>{_html(endpoint)}</code> in <code>{_html(file)}</code> "
           f"({len(items)})</summary>", "",
           "| Severity | Kind | Path | Old | New | Line |", "|---|---|---|---|---|---:|"]
    for f in items:
        old = "*absent*" if f.kind in _NO_OLD else _cell(f.old)
        new = "*absent*" if f.kind in _NO_NEW else _cell(f.new)
        out.append(f"| {_ICON[f.severity]} | {f.kind.value} | {_cell(f.path or '-')} | {old} "
                   f"| {new} | {_line(f.new_at or f.old_at)} |")
    out += ["", "</details>", ""]
    return "\n".join(out)


#: Kinds with no old (added) or no new (removed) value: the cell says so rather than showing ``null``.
_NO_OLD = frozenset({DriftKind.FIELD_ADDED, DriftKind.ITEM_ADDED, DriftKind.ENDPOINT_ADDED,
                     DriftKind.INTERACTION_ADDED})
_NO_NEW = frozenset({DriftKind.FIELD_REMOVED, DriftKind.ITEM_REMOVED, DriftKind.ENDPOINT_REMOVED,
                     DriftKind.INTERACTION_REMOVED})


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _line(at: Location | None) -> str:
    return str(at.line) if at is not None and at.line is not None else ""


# --------------------------------------------------------------------------- json


def _location(at: Location | None) -> dict[str, Any] | None:
    if at is None:
        return None
    return {"file": at.file, "interaction": at.interaction, "line": at.line}


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def report_to_dict(report: Report, *, fail_on: Severity | None) -> dict[str, Any]:
    """The report as the documented JSON document (docs/diff-json-schema.json)."""
    c = report.counts()
    return {
        "schema_version": SCHEMA_VERSION,
        "command": report.command,
        "old": report.sources[0],
        "new": report.sources[1],
        "fail_on": fail_on.value if fail_on else "never",
        "failed": report.fails(fail_on),
        "summary": {"breaking": c[Severity.BREAKING], "warning": c[Severity.WARNING], "info": c[Severity.INFO],
                    "total": len(report.findings), "ignored": report.ignored, "accepted": report.accepted,
                    "files": report.files, "interactions": report.interactions},
        "findings": [
            {"id": f.fingerprint(), "severity": f.severity.value, "kind": f.kind.value, "file": f.file,
             "endpoint": f.endpoint, "path": f.path, "message": f.message, "old": _jsonable(f.old),
             "new": _jsonable(f.new), "old_location": _location(f.old_at), "new_location": _location(f.new_at)}
            for f in _sorted(report.findings)
        ],
    }


def render_json(report: Report, *, fail_on: Severity | None) -> str:
    """The JSON document, indented, keys in schema order."""
    return json.dumps(report_to_dict(report, fail_on=fail_on), indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- github


_LEVEL = {Severity.BREAKING: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    """GitHub workflow commands (``::error file=F,line=L,title=T::message``), one per finding."""
    out = []
    for f in _sorted(report.findings):
        at = f.new_at or f.old_at
        props = [f"file={_escape_prop(at.file)}"] if at else []
        if at is not None and at.line is not None:
            props.append(f"line={at.line}")
        props.append(f"title={_escape_prop(f'{f.kind.value}: {f.endpoint}')}")
        out.append(f"::{_LEVEL[f.severity]} {','.join(props)}::{_escape_data(f.message)}")
    out.append(f"o2replay {report.command}: {_summary(report)}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- junit


def render_junit(report: Report, *, fail_on: Severity | None) -> str:
    """JUnit XML: a test case per file and endpoint; findings at or above ``fail_on`` are failures."""
    groups: dict[tuple[str, str], list[Drift]] = defaultdict(list)
    for f in _sorted(report.findings):
        groups[(f.file, f.endpoint)].append(f)
    suite = ET.Element("testsuite", name=f"o2replay {report.command}", tests=str(max(1, len(groups))))
    failures = 0
    for (file, endpoint), items in groups.items():
        case = ET.SubElement(suite, "testcase", classname=file, name=endpoint)
        failing = [f for f in items if fail_on is not None and SEVERITY_RANK[f.severity] >= SEVERITY_RANK[fail_on]]
        if failing:
            failures += 1
            fail = ET.SubElement(case, "failure", message=f"{len(failing)} finding(s) at or above {fail_on}",
                                 type=failing[0].kind.value)
            fail.text = "\n".join(_junit_line(f) for f in failing)
        rest = [f for f in items if f not in failing]
        if rest:
            ET.SubElement(case, "system-out").text = "\n".join(_junit_line(f) for f in rest)
    if not groups:
        ET.SubElement(suite, "testcase", classname=report.command, name="no drift")
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    root = ET.Element("testsuites", name="o2replay", tests=suite.get("tests", "0"), failures=str(failures))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _junit_line(f: Drift) -> str:
    at = f.new_at or f.old_at
    where = f"{at.file}:{at.line}" if at and at.line else (at.file if at else "")
    return f"[{f.severity.value}] {f.kind.value} {f.path} {f.message} ({where})"
