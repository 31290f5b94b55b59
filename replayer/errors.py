"""Exceptions raised by o2ims-replay.

ReplayerError                 base of everything we raise on purpose
 ├── UsageError               a bad flag, option or config value (CLI exit 2)
 └── CassetteError            a cassette file that cannot be read or is malformed (CLI exit 2)

Helpers raise ValueError; boundaries re-raise one of these with ``from e``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ReplayerError", "UsageError", "CassetteError"]


class ReplayerError(Exception):
    """Base class of every error o2ims-replay raises on purpose."""


class UsageError(ReplayerError):
    """Raised for a bad command-line flag, option or configuration value."""


class CassetteError(ReplayerError):
    """Raised when a cassette cannot be read; renders as ``path:line: interaction N: message``."""

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        line: int | None = None,
        interaction: int | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.interaction = interaction
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        what = self.message if self.interaction is None else f"interaction {self.interaction}: {self.message}"
        return f"{where}: {what}"

