"""What the simulator draws from: time distributions, the arrival process, agents' schedules.

Every random draw takes the run's :class:`random.Random` explicitly, so one seed gives one
run. Times are seconds.

Arrivals are a Poisson process whose rate is constant within each interval of a daily profile
(96 intervals of 15 minutes by default) and repeats every day. The next arrival is drawn with
the current interval's rate; if it would fall past the interval's end, the draw is discarded
and redone from the boundary with the next rate. The exponential's lack of memory makes this
exact for piecewise-constant rates.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "DAY",
    "INTERVAL",
    "AgentSchedule",
    "ArrivalProfile",
    "Break",
    "Constant",
    "Distribution",
    "Exponential",
    "LogNormal",
]

#: Seconds in a day and in one interval of an arrival profile.
DAY = 86_400.0
INTERVAL = 900.0


class Distribution(Protocol):
    """A non-negative random duration."""

    @property
    def mean(self) -> float: ...

    def sample(self, rng: random.Random) -> float: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Constant:
    """Always the same duration (ring delays, deterministic tests)."""

    value: float

    @property
    def mean(self) -> float:
        return self.value

    def sample(self, rng: random.Random) -> float:
        return self.value


@dataclass(frozen=True, slots=True, kw_only=True)
class Exponential:
    """Exponential with the given mean (the M of M/M/c)."""

    mean: float

    def __post_init__(self) -> None:
        if self.mean <= 0:
            raise ValueError(f"exponential mean must be positive, not {self.mean}")

    def sample(self, rng: random.Random) -> float:
        return rng.expovariate(1.0 / self.mean)


@dataclass(frozen=True, slots=True, kw_only=True)
class LogNormal:
    """Log-normal with the given mean and coefficient of variation (std / mean).

    Real handle times are skewed: most calls are short, a few are very long; a log-normal
    with cv around 1 fits them better than an exponential's fixed shape.
    """

    mean: float
    cv: float = 1.0

    def __post_init__(self) -> None:
        if self.mean <= 0 or self.cv <= 0:
            raise ValueError(f"log-normal mean and cv must be positive ({self.mean}, {self.cv})")

    def sample(self, rng: random.Random) -> float:
        sigma2 = math.log1p(self.cv * self.cv)
        return rng.lognormvariate(math.log(self.mean) - sigma2 / 2.0, math.sqrt(sigma2))


@dataclass(frozen=True, slots=True, kw_only=True)
class ArrivalProfile:
    """Expected calls per interval, repeated every ``len(calls) * interval`` seconds."""

    calls: tuple[float, ...]
    interval: float = INTERVAL

    def __post_init__(self) -> None:
        if not self.calls or any(c < 0 for c in self.calls):
            raise ValueError("an arrival profile needs one or more non-negative counts")
        if self.interval <= 0:
            raise ValueError(f"interval must be positive, not {self.interval}")

    @classmethod
    def constant(cls, per_hour: float) -> ArrivalProfile:
        """The same rate all day."""
        return cls(calls=(per_hour * INTERVAL / 3600.0,))

    @property
    def per_day(self) -> float:
        """Expected calls in one cycle of the profile."""
        return sum(self.calls)

    def rate_at(self, when: float) -> float:
        """Arrivals per second at ``when``."""
        index = int(when // self.interval) % len(self.calls)
        return self.calls[index] / self.interval

    def next_arrival(self, now: float, rng: random.Random) -> float | None:
        """Time of the first arrival after ``now``, or None when the profile is all zeros."""
        calls, interval = self.calls, self.interval
        slots = len(calls)
        t = now
        empty = 0  # consecutive intervals without calls: a whole cycle of them means none ever
        while empty < slots:
            slot = math.floor(t / interval)
            end = (slot + 1) * interval
            rate = calls[slot % slots] / interval
            if rate > 0:
                empty = 0
                candidate = t + rng.expovariate(rate)
                if candidate < end:
                    return candidate
            else:
                empty += 1
            t = end
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Break:
    """A pause in a shift: from ``start`` (seconds after midnight) for ``duration``."""

    start: float
    duration: float
    reason: str = "break"


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSchedule:
    """A daily shift (seconds after midnight) with breaks; the same every day.

    ``end`` may be past midnight (a night shift: ``start=79200, end=108000``).
    """

    start: float
    end: float
    breaks: tuple[Break, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= self.start + DAY:
            raise ValueError(f"shift must start before it ends, within a day ({self})")
        for b in self.breaks:
            if not (self.start <= b.start and b.start + b.duration <= self.end):
                raise ValueError(f"break {b} is outside the shift {self.start}-{self.end}")

    def events(self, days: int) -> list[tuple[float, str, str]]:
        """``(time, kind, reason)`` for ``days`` days; kind is login/pause/unpause/logoff."""
        out: list[tuple[float, str, str]] = []
        for day in range(days):
            base = day * DAY
            out.append((base + self.start, "login", ""))
            for b in sorted(self.breaks, key=lambda b: b.start):
                out.append((base + b.start, "pause", b.reason))
                out.append((base + b.start + b.duration, "unpause", b.reason))
            out.append((base + self.end, "logoff", ""))
        return out
