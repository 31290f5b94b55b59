"""Drift between recordings, and recordings against the O2IMS definitions (docs/diff.md).

- ``config``: the ``diff:`` section of ``.o2replay.yaml``; ``rules``: paths, patterns, built-in ignores;
- ``pairing``: which old interaction is compared with which new one; ``identity``: arrays keyed by id;
- ``engine``: deepdiff -> ``Drift`` findings; ``validate``: spec checks, same findings;
- ``render``: text, markdown, json, github, junit; ``locate``: line numbers for annotations;
- ``learn``: ignore rules from two recordings of one upstream; ``git``: cassettes at a revision;
- ``textview``: the semantic view behind ``o2replay textconv``.
"""

from replayer.diff.config import DiffConfig, parse_diff_config
from replayer.diff.engine import Side, diff_interactions, diff_sides
from replayer.diff.model import Drift, DriftKind, Location, Report, Severity

__all__ = [
    "DiffConfig",
    "Drift",
    "DriftKind",
    "Location",
    "Report",
    "Severity",
    "Side",
    "diff_interactions",
    "diff_sides",
    "parse_diff_config",
]
