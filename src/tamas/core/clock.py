"""Time is an argument: pure cores take ``now``; the runtime owns the real clock."""

from typing import Protocol


class Clock(Protocol):
    """Something that tells the current time in seconds (monotonic for timers)."""

    def __call__(self) -> float: ...
