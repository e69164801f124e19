"""The simulator's virtual clock: a time and a priority queue of timed items.

Nothing here reads a real clock. Time moves only when :meth:`VirtualClock.pop` takes the
earliest item; items at the same time come out in the order they were scheduled (a sequence
number breaks ties), which keeps a run deterministic for a given seed.

Items are never cancelled: whoever handles one checks that it still applies (a caller's
patience timer that fires after the caller was answered is simply ignored). That keeps the
heap a plain :mod:`heapq` list.
"""

from __future__ import annotations

import heapq
from typing import Generic, TypeVar

__all__ = ["VirtualClock"]

T = TypeVar("T")


class VirtualClock(Generic[T]):
    """Virtual time (seconds) and the items due at future times."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self._heap: list[tuple[float, int, T]] = []
        self._seq = 0

    def __call__(self) -> float:
        """The current virtual time (so the clock fits :class:`tamas.core.clock.Clock`)."""
        return self.now

    def __len__(self) -> int:
        return len(self._heap)

    def at(self, when: float, item: T) -> None:
        """Schedule ``item`` at ``when`` (not before now: the past is clamped to now)."""
        self._seq += 1
        heapq.heappush(self._heap, (max(when, self.now), self._seq, item))

    def after(self, delay: float, item: T) -> None:
        """Schedule ``item`` ``delay`` seconds from now."""
        self.at(self.now + delay, item)

    def next_time(self) -> float | None:
        """When the earliest item is due, or None when nothing is scheduled."""
        return self._heap[0][0] if self._heap else None

    def pop(self) -> T:
        """Take the earliest item and move the clock to its time; IndexError when empty."""
        when, _seq, item = heapq.heappop(self._heap)
        self.now = when
        return item
