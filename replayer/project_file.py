"""The project config file ``.o2replay.yaml``: found, read and split into sections. No semantics here.

Each consumer parses its own section into a frozen dataclass: ``replay:`` (replayer/server/config.py),
``diff:`` (replayer/diff/config.py), ``record:`` (replayer/commands/record.py). The synthetic model takes its
settings from its profile file (``replay: profile:``). Precedence everywhere:
command-line flag > ``O2REPLAY_*`` environment variable (``serve`` and ``record``, replayer/environment.py)
> config file > built-in default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from replayer.errors import UsageError

__all__ = ["CONFIG_NAME", "ProjectConfig", "find_config", "load_config"]

CONFIG_NAME = ".o2replay.yaml"
SECTIONS = ("replay", "diff", "record")


@dataclass(frozen=True, slots=True)
class ProjectConfig:
    """The raw sections of a config file, and where it was read from (None: no file)."""

    path: Path | None = None
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        """One section as a dict (empty when absent)."""
        return self.sections.get(name, {})


def find_config(start: str | Path = ".") -> Path | None:
    """The nearest ``.o2replay.yaml`` in ``start`` or one of its parents."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def load_config(path: str | Path | None = None, *, search_from: str | Path = ".") -> ProjectConfig:
    """Read the given config file, or the nearest one; raise UsageError naming file and line."""
    found = Path(path) if path is not None else find_config(search_from)
    if found is None:
        return ProjectConfig()
    try:
        doc = yaml.safe_load(found.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"{found}: cannot read config: {e.strerror}") from None
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else 0
        raise UsageError(f"{found}:{line}: invalid YAML: {e.problem}") from None
    if doc is None:
        return ProjectConfig(found)
    if not isinstance(doc, dict):
        raise UsageError(f"{found}: config must be a mapping with sections {', '.join(SECTIONS)}")
    unknown = sorted(set(doc) - set(SECTIONS))
    if unknown:
        raise UsageError(f"{found}: unknown section {unknown[0]!r} (expected one of {', '.join(SECTIONS)})")
    for name, body in doc.items():
        if not isinstance(body, dict):
            raise UsageError(f"{found}: section {name!r} must be a mapping")
    return ProjectConfig(found, {k: dict(v) for k, v in doc.items()})
