"""The ``diff:`` section of ``.o2replay.yaml``, parsed once into a frozen ``DiffConfig``.

::

    diff:
      builtin_ignores: true            # the volatile O2IMS values of rules.BUILTIN_IGNORE_PATTERNS
      ignore:                          # path patterns (see replayer/diff/rules.py)
        - body.**.lastHeartbeat
        - path: body[*].extensions.temperature
          endpoint: GET /o2ims-infrastructureInventory/v1/resourcePools
      identity_keys:                   # endpoint glob or collection name -> id field
        /o2ims-infrastructureInventory/v1/resourcePools: resourcePoolId
        things: thingId
      severity:                        # overrides, first match wins
        - {kind: field_added, severity: info}
        - {path: body.**.description, severity: info}
      headers: [content-type, location, link, allow]   # compared headers (replaces the default list)
      baseline: drift-baseline.json    # accepted drift: a previous `--format json` report

Precedence: command-line flag > this section > built-in default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replayer.diff.model import DEFAULT_SEVERITY, DriftKind, Severity, parse_severity
from replayer.diff.rules import BUILTIN_IGNORES, PathPattern, Rule
from replayer.errors import UsageError

__all__ = ["DiffConfig", "DEFAULT_HEADERS", "parse_diff_config", "severity_for"]

#: Response headers whose change is drift (RFC 9110 representation and control data a client acts on).
DEFAULT_HEADERS: tuple[str, ...] = (
    "content-type", "location", "link", "allow", "content-language", "www-authenticate",
    "retry-after", "cache-control", "deprecation", "sunset", "api-version",
)

_KEYS = ("builtin_ignores", "ignore", "identity_keys", "severity", "headers", "baseline")


@dataclass(frozen=True, slots=True)
class DiffConfig:
    """Everything that shapes a diff besides the two inputs."""

    ignores: tuple[Rule, ...] = BUILTIN_IGNORES
    identity_keys: tuple[tuple[str, str], ...] = ()
    severity_rules: tuple[Rule, ...] = ()
    headers: tuple[str, ...] = DEFAULT_HEADERS
    baseline: Path | None = None
    builtin_ignores: bool = True


def parse_diff_config(section: Mapping[str, Any], *, source: str = ".o2replay.yaml",
                      base_dir: Path | None = None) -> DiffConfig:
    """Parse the ``diff:`` section; raises UsageError naming the file and the bad key."""
    try:
        return _parse(section, source, base_dir)
    except ValueError as e:
        raise UsageError(f"{source}: diff.{e}") from None


def _parse(section: Mapping[str, Any], source: str, base_dir: Path | None) -> DiffConfig:
    unknown = sorted(set(section) - set(_KEYS))
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown key (expected one of {', '.join(_KEYS)})")
    builtin = section.get("builtin_ignores", True)
    if not isinstance(builtin, bool):
        raise ValueError(f"builtin_ignores: must be true or false, got {builtin!r}")
    user = tuple(_rule(item, f"ignore[{i}]", source) for i, item in enumerate(_list(section, "ignore")))
    severity = tuple(_severity_rule(item, f"severity[{i}]", source)
                     for i, item in enumerate(_list(section, "severity")))
    return DiffConfig(
        ignores=(BUILTIN_IGNORES if builtin else ()) + user,
        identity_keys=_identity_keys(section.get("identity_keys") or {}),
        severity_rules=severity,
        headers=_headers(section.get("headers")),
        baseline=_baseline(section.get("baseline"), base_dir),
        builtin_ignores=builtin,
    )


def _list(section: Mapping[str, Any], key: str) -> list[Any]:
    value = section.get(key) or []
    if not isinstance(value, list):
        raise ValueError(f"{key}: must be a list")
    return value


def _rule(item: Any, where: str, source: str) -> Rule:
    if isinstance(item, str):
        return Rule(_pattern(item, where), source=f"{source} {where}")
    if not isinstance(item, dict):
        raise ValueError(f"{where}: must be a path pattern or a mapping with path (and endpoint, kind)")
    extra = sorted(set(item) - {"path", "endpoint", "kind", "severity"})
    if extra:
        raise ValueError(f"{where}.{extra[0]}: unknown key (expected path, endpoint, kind, severity)")
    endpoint = item.get("endpoint")
    if endpoint is not None and not isinstance(endpoint, str):
        raise ValueError(f"{where}.endpoint: must be a string such as 'GET /o2ims-infrastructureInventory/v1/*'")
    return Rule(_pattern(item.get("path", "**"), f"{where}.path"), endpoint, _kinds(item.get("kind"), where),
                source=f"{source} {where}")


def _severity_rule(item: Any, where: str, source: str) -> Rule:
    if not isinstance(item, dict) or "severity" not in item:
        raise ValueError(f"{where}: must be a mapping with severity (and path, endpoint, kind)")
    rule = _rule(item, where, source)
    level = parse_severity(item["severity"], f"{where}.severity")
    return Rule(rule.path, rule.endpoint, rule.kinds, level.value, rule.source)


def _pattern(text: Any, where: str) -> PathPattern:
    if not isinstance(text, str):
        raise ValueError(f"{where}: must be a string path pattern, got {text!r}")
    try:
        return PathPattern.parse(text)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


def _kinds(value: Any, where: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    items = [value] if isinstance(value, str) else value
    valid = {k.value for k in DriftKind}
    for k in items:
        if k not in valid:
            raise ValueError(f"{where}.kind: unknown kind {k!r} (expected one of {', '.join(sorted(valid))})")
    return frozenset(items)


def _identity_keys(raw: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict):
        raise ValueError("identity_keys: must map an endpoint glob or collection name to an id field")
    for k, v in raw.items():
        if not isinstance(k, str) or not isinstance(v, str) or not v:
            raise ValueError(f"identity_keys.{k}: must be a field name such as resourcePoolId, got {v!r}")
    return tuple(raw.items())


def _headers(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return DEFAULT_HEADERS
    if not isinstance(raw, list) or not all(isinstance(h, str) for h in raw):
        raise ValueError("headers: must be a list of header names")
    return tuple(h.lower() for h in raw)


def _baseline(raw: Any, base_dir: Path | None) -> Path | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ValueError("baseline: must be the path of a `o2replay diff --format json` report")
    path = Path(raw)
    return path if path.is_absolute() or base_dir is None else base_dir / path



def severity_for(config: DiffConfig, kind: DriftKind, endpoint: str, tokens: tuple[str, ...],
                 default: Severity | None = None) -> Severity | None:
    """The severity of a finding after the config's rules: None when an ignore rule covers it."""
    if any(rule.applies(endpoint, kind.value, tokens) for rule in config.ignores):
        return None
    for rule in config.severity_rules:  # first match wins
        if rule.severity and rule.applies(endpoint, kind.value, tokens):
            return Severity(rule.severity)
    return default or DEFAULT_SEVERITY[kind]
