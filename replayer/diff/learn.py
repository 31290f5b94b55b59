"""``o2replay diff --learn A B``: from two recordings of one unchanged upstream, propose the ignore rules
that silence their differences, as YAML to paste under ``diff:`` in ``.o2replay.yaml``.

Each finding's path is generalised (array items become ``[*]``); a path that differs on several
endpoints becomes one rule without ``endpoint``. Whole-interaction findings (requests recorded once
only, endpoints on one side) cannot be silenced by a path and are listed as comments.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import yaml

from replayer.diff.model import Drift, Report
from replayer.diff.rules import render_path, split_pattern

__all__ = ["learn_rules", "render_learned"]


def _generalise(path: str) -> str:
    return render_path(tuple("[*]" if t.startswith("[") else t for t in split_pattern(path)))


def learn_rules(report: Report) -> tuple[list[dict[str, Any]], list[Drift]]:
    """(ignore rules, findings no path rule can silence) for a diff of two recordings of one upstream.

    Every rule names the finding kinds it saw, so a field learnt as volatile (value_changed) is
    still reported when it disappears (field_removed), and a list learnt to vary in membership
    (item_added) still reports changes inside its items.
    """
    by_path: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    unsilenced: list[Drift] = []
    for f in report.findings:
        if not f.path:
            unsilenced.append(f)
            continue
        by_path[_generalise(f.path)][f.endpoint].add(f.kind.value)
    rules: list[dict[str, Any]] = []
    for path in sorted(by_path):
        endpoints = by_path[path]
        kinds = sorted(set().union(*endpoints.values()))
        kind: str | list[str] = kinds[0] if len(kinds) == 1 else kinds
        if len(endpoints) > 1:
            rules.append({"path": path, "kind": kind})
        else:
            rules.append({"path": path, "endpoint": next(iter(endpoints)), "kind": kind})
    return rules, unsilenced


def render_learned(report: Report) -> str:
    """The proposed ``diff:`` section, with the unsilenced findings as comments."""
    rules, unsilenced = learn_rules(report)
    head = [f"# Proposed by `o2replay diff --learn {report.sources[0]} {report.sources[1]}`:",
            f"# {len(rules)} ignore rule(s) silencing {len(report.findings) - len(unsilenced)} difference(s) "
            "between two recordings of an unchanged O2IMS.",
            "# Paste under `diff:` in .o2replay.yaml (merge with an existing `ignore:` list)."]
    body = yaml.safe_dump({"diff": {"ignore": rules}}, sort_keys=False, default_flow_style=None, width=4096) \
        if rules else "diff:\n  ignore: []\n"
    tail = []
    if unsilenced:
        tail.append("# Not silenced by a path rule (requests or endpoints recorded on one side only):")
        tail += [f"#   {f.kind.value}: {f.message} ({f.file})" for f in unsilenced]
    return "\n".join(head) + "\n" + body + ("\n".join(tail) + "\n" if tail else "")
