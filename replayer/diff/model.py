"""What ``o2replay diff`` and ``o2replay validate`` report: ``Drift`` findings and the ``Report`` holding them.

Both commands produce the same shape so that every renderer (text, markdown, json, github, junit) and
the exit-code gate serve both.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Severity", "DriftKind", "Location", "Drift", "Report", "SEVERITY_RANK", "parse_severity"]


class Severity(StrEnum):
    """How much a finding matters to a consumer."""

    INFO = "info"
    WARNING = "warning"
    BREAKING = "breaking"


#: Order used by ``--fail-on`` and the summaries: info < warning < breaking.
SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.BREAKING: 2}


def parse_severity(value: str, where: str) -> Severity:
    """A Severity from its name; raises ValueError listing the valid names."""
    try:
        return Severity(str(value).lower())
    except ValueError:
        raise ValueError(f"{where}: unknown severity {value!r} (expected breaking, warning or info)") from None


class DriftKind(StrEnum):
    """Every kind of finding, with its default severity in ``DEFAULT_SEVERITY``."""

    ENDPOINT_ADDED = "endpoint_added"
    ENDPOINT_REMOVED = "endpoint_removed"
    INTERACTION_ADDED = "interaction_added"
    INTERACTION_REMOVED = "interaction_removed"
    STATUS_CHANGED = "status_changed"
    STATUS_CLASS_CHANGED = "status_class_changed"
    HEADER_CHANGED = "header_changed"
    CONTENT_TYPE_CHANGED = "content_type_changed"
    FIELD_ADDED = "field_added"
    FIELD_REMOVED = "field_removed"
    TYPE_CHANGED = "type_changed"
    VALUE_CHANGED = "value_changed"
    ENUM_VALUE_ADDED = "enum_value_added"
    ITEM_ADDED = "item_added"
    ITEM_REMOVED = "item_removed"
    BODY_CHANGED = "body_changed"
    SCHEMA_BROKEN = "schema_broken"
    # validate
    SPEC_VIOLATION = "spec_violation"
    STALE = "stale"
    UNKNOWN_AGE = "unknown_age"


DEFAULT_SEVERITY: dict[DriftKind, Severity] = {
    DriftKind.ENDPOINT_ADDED: Severity.WARNING,
    DriftKind.ENDPOINT_REMOVED: Severity.BREAKING,
    DriftKind.INTERACTION_ADDED: Severity.INFO,
    DriftKind.INTERACTION_REMOVED: Severity.WARNING,
    DriftKind.STATUS_CHANGED: Severity.WARNING,
    DriftKind.STATUS_CLASS_CHANGED: Severity.BREAKING,
    DriftKind.HEADER_CHANGED: Severity.WARNING,
    DriftKind.CONTENT_TYPE_CHANGED: Severity.BREAKING,
    DriftKind.FIELD_ADDED: Severity.WARNING,
    DriftKind.FIELD_REMOVED: Severity.BREAKING,
    DriftKind.TYPE_CHANGED: Severity.BREAKING,
    DriftKind.VALUE_CHANGED: Severity.INFO,
    DriftKind.ENUM_VALUE_ADDED: Severity.WARNING,
    DriftKind.ITEM_ADDED: Severity.WARNING,
    DriftKind.ITEM_REMOVED: Severity.WARNING,
    DriftKind.BODY_CHANGED: Severity.INFO,
    DriftKind.SCHEMA_BROKEN: Severity.BREAKING,
    DriftKind.SPEC_VIOLATION: Severity.BREAKING,
    DriftKind.STALE: Severity.WARNING,
    DriftKind.UNKNOWN_AGE: Severity.INFO,
}


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding sits: cassette file, interaction index, and (once resolved for output) a line."""

    file: str
    interaction: int | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Drift:
    """One finding: what changed, where, how much it matters.

    ``path`` names the place inside the exchange: ``status``, ``headers.content-type``,
    ``body.name``, ``body[resourcePoolId=pool-1].extensions.cpu`` (an item matched by its
    identity key), ``body.tags[3]`` (by position), or ``""`` for a whole interaction or endpoint.
    """

    kind: DriftKind
    severity: Severity
    endpoint: str
    path: str
    message: str
    old: Any = None
    new: Any = None
    old_at: Location | None = None
    new_at: Location | None = None

    @property
    def file(self) -> str:
        """The cassette the finding belongs to (the new side when there is one)."""
        at = self.new_at or self.old_at
        return at.file if at else ""

    def fingerprint(self) -> str:
        """A stable id of the finding, independent of line numbers: used by the accepted-drift baseline."""
        raw = json.dumps([self.file, self.endpoint, self.kind.value, self.path, _plain(self.old), _plain(self.new)],
                         sort_keys=True, default=str)
        return hashlib.blake2b(raw.encode("utf-8"), digest_size=8).hexdigest()


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else str(value)


@dataclass(frozen=True, slots=True)
class Report:
    """The outcome of one diff or validate run."""

    command: str
    findings: tuple[Drift, ...] = ()
    files: int = 0
    interactions: int = 0
    ignored: int = 0
    accepted: int = 0
    sources: tuple[str, str] = ("", "")
    extra: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[Severity, int]:
        """Number of findings per severity (every severity present, zero included)."""
        out = {s: 0 for s in Severity}
        for f in self.findings:
            out[f.severity] += 1
        return out

    def worst(self) -> Severity | None:
        """The highest severity found, or None when there is nothing."""
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=SEVERITY_RANK.__getitem__)

    def fails(self, threshold: Severity | None) -> bool:
        """True when a finding is at or above ``threshold`` (None: never fail)."""
        if threshold is None:
            return False
        return any(SEVERITY_RANK[f.severity] >= SEVERITY_RANK[threshold] for f in self.findings)
