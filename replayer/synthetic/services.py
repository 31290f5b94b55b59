"""What handlers may ask of the synthetic O2IMS beyond their request: the small ``Services`` protocol.

Handlers and lifecycle code take a ``Services`` instead of the whole ``SyntheticO2IMS``, so they depend
on five names, not on the class that dispatches to them (``SyntheticO2IMS`` implements it; a test can
pass anything that does).
"""

from __future__ import annotations

from typing import Protocol

from replayer.synthetic.model import Model
from replayer.synthetic.notify import Notification
from replayer.synthetic.profile import Profile
from replayer.synthetic.state import SessionState

__all__ = ["Services"]


class Services(Protocol):
    """The model, the profile, a clock, change timestamps, sessions and the notification outbox."""

    @property
    def model(self) -> Model:
        """The static inventory (shared by every session)."""

    @property
    def profile(self) -> Profile:
        """The profile the model was built from (lifecycle settings, sites, page size)."""

    def clock(self) -> float:
        """Seconds on a monotonic clock (drives lifecycles in ``seconds`` mode)."""

    def now(self, state: SessionState) -> str:
        """The timestamp of a state change in ``state`` now (each call is one change)."""

    def session(self, name: str) -> SessionState:
        """The state of session ``name``, created on first use."""

    def emit(self, items: list[Notification]) -> None:
        """Queue notifications for delivery."""
