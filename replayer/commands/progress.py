"""A progress line on stderr during long work, so a big run never looks hung.

Nothing is printed for work that ends within ``after`` seconds (the common case, and tests); past
that, one line every ``every`` seconds: ``o2replay validate: 120000 interactions in 3 files so far``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TypeVar

__all__ = ["Progress"]

T = TypeVar("T")


class Progress:
    """Counts files and items; prints a line now and then once the work has taken a while."""

    def __init__(self, command: str, *, every: float = 5.0, after: float = 2.0,
                 clock: Callable[[], float] = time.monotonic, out: IO[str] | None = None) -> None:
        self.command = command
        self.files = 0
        self.items = 0
        self._every, self._clock, self._out = every, clock, out
        self._next = clock() + after

    def file(self) -> None:
        """One more file started."""
        self.files += 1

    def count(self, items: Iterable[T], noun: str = "interactions") -> Iterator[T]:
        """Pass ``items`` through, counting them (the clock is read every 500 items)."""
        for item in items:
            self.items += 1
            if self.items % 500 == 0 and self._clock() >= self._next:
                self._next = self._clock() + self._every
                files = f"{self.files} file{'s' * (self.files != 1)}"
                print(f"o2replay {self.command}: {self.items} {noun} in {files} so far",
                      file=self._out or sys.stderr, flush=True)
            yield item
