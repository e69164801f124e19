"""The ``simulation:`` section: what ``tamas simulate --config`` draws calls and shifts from.

```yaml
simulation:
  aht: 180                 # mean handle time (s) of every queue, unless a queue sets its own
  handle: lognormal        # exponential | lognormal (with cv) | constant
  cv: 1.0
  patience: 120            # mean patience (s, exponential); absent: callers wait forever
  wrapup: 15               # after-call work (s); absent: each queue's own queues[].wrapup
  answer_probability: 0.98 # every agent's, unless an agent sets its own
  queues:
    sales: {hours: {"08": 120, "09": 300, "10": 280}}   # calls in each hour (others: none)
    support: {per_hour: 60, aht: 420, patience: 300}    # the same rate all day, own model
    billing: {quarter_hours: [0, 0, ...]}               # 96 counts, 00:00-00:15 first
  schedule:                # every agent's shift, unless an agent has its own
    {start: "08:00", end: "17:00", breaks: [{start: "12:00", minutes: 30, reason: lunch}]}
  agents:
    sara: {schedule: {start: "13:00", end: "22:00"}, answer_probability: 0.9}
```

Times of day are local to the run's midnight (virtual time 0). A shift whose ``end`` is not
after its ``start`` ends the next day (a night shift); so does a break earlier than the
shift's start. A queue's ``aht``, ``handle``, ``cv``, ``patience`` and ``wrapup`` default to
the section's (:meth:`SimulationConfig.call_model`, :meth:`SimulationConfig.wrapup_of`).
The values here are plain numbers; :mod:`tamas.sim.fromconfig` turns them
into the simulator's models. References (queue names, agent ids) and shifts that do not
fit are checked by :func:`check_simulation`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import pairwise
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from tamas.config.errors import Issue
from tamas.config.section import Section

if TYPE_CHECKING:
    from tamas.config.model import Config

__all__ = [
    "DAY_SECONDS",
    "QUARTERS",
    "AgentSimulation",
    "BreakConfig",
    "QueueSimulation",
    "ScheduleConfig",
    "SimulationConfig",
    "check_simulation",
    "time_of_day",
]

#: Quarter hours in a day: the length of an arrival profile.
QUARTERS = 96
DAY_SECONDS = 86_400.0
_CLOCK = re.compile(r"([01][0-9]|2[0-4]):([0-5][0-9])")


def time_of_day(text: str) -> float:
    """``"08:30"`` -> 30600.0 seconds after midnight (``"24:00"`` is the day's end)."""
    match = _CLOCK.fullmatch(text)
    if match is None or (match[1] == "24" and match[2] != "00"):
        raise ValueError("must be a time of day HH:MM, 00:00 to 24:00")
    return int(match[1]) * 3600.0 + int(match[2]) * 60.0


def _clock(value: str) -> str:
    time_of_day(value)
    return value


ClockTime = Annotated[str, AfterValidator(_clock)]
Count = Annotated[float, Field(ge=0)]
Hour = Annotated[int, Field(ge=0, le=23)]
Positive = Annotated[float, Field(gt=0)]
Seconds = Annotated[float, Field(ge=0)]
Probability = Annotated[float, Field(ge=0, le=1)]


class BreakConfig(Section):
    start: ClockTime
    minutes: Positive
    reason: str = Field(default="break", min_length=1)


class ScheduleConfig(Section):
    """A daily shift with breaks; the same every day of the run."""

    start: ClockTime
    end: ClockTime
    breaks: tuple[BreakConfig, ...] = ()

    def seconds(self) -> tuple[float, float, tuple[tuple[float, float, str], ...]]:
        """``(start, end, ((break start, duration, reason), ...))`` in seconds after the first
        midnight; ``end`` and breaks before ``start`` fall on the next day."""
        start, end = time_of_day(self.start), time_of_day(self.end)
        if end <= start:
            end += DAY_SECONDS
        breaks = []
        for b in self.breaks:
            at = time_of_day(b.start)
            if at < start:
                at += DAY_SECONDS
            breaks.append((at, b.minutes * 60.0, b.reason))
        return start, end, tuple(breaks)


class QueueSimulation(Section):
    """One queue's callers: exactly one arrival profile, optionally its own call model."""

    #: The same rate all day (calls per hour).
    per_hour: Count | None = None
    #: Expected calls in each quarter hour of the day, 00:00-00:15 first.
    quarter_hours: tuple[Count, ...] | None = Field(
        default=None, min_length=QUARTERS, max_length=QUARTERS
    )
    #: Expected calls in each listed hour of the day (``"08"``: 08:00-09:00); others none.
    hours: dict[Hour, Count] | None = None
    aht: Positive | None = None
    handle: Literal["exponential", "lognormal", "constant"] | None = None
    cv: Positive | None = None
    patience: Positive | None = None
    wrapup: Seconds | None = None

    @model_validator(mode="after")
    def _one_profile(self) -> QueueSimulation:
        given = [k for k in ("per_hour", "quarter_hours", "hours") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of per_hour, quarter_hours (96 counts) or hours "
                f"({' and '.join(given) or 'none'} given)"
            )
        return self

    def profile(self) -> tuple[float, ...]:
        """Expected calls in each of the day's 96 quarter hours."""
        if self.quarter_hours is not None:
            return tuple(self.quarter_hours)
        if self.per_hour is not None:
            return (self.per_hour / 4.0,) * QUARTERS
        by_hour = self.hours or {}
        return tuple(by_hour.get(q // 4, 0.0) / 4.0 for q in range(QUARTERS))


class AgentSimulation(Section):
    """How one agent of ``agents:`` behaves in the simulator (absent keys: the defaults)."""

    schedule: ScheduleConfig | None = None
    answer_probability: Probability | None = None


class SimulationConfig(Section):
    aht: Positive = 180.0
    handle: Literal["exponential", "lognormal", "constant"] = "exponential"
    #: The log-normal's coefficient of variation (std / mean).
    cv: Positive = 1.0
    #: Mean patience in seconds (exponential); null: callers wait forever.
    patience: Positive | None = None
    #: After-call work in seconds for every queue; null: each queue's own (``queues[].wrapup``).
    wrapup: Seconds | None = None
    answer_probability: Probability = 1.0
    #: Callers per queue (a name under ``queues:``).
    queues: dict[str, QueueSimulation] = {}
    #: Every agent's shift unless the agent has its own; null: logged in the whole run.
    schedule: ScheduleConfig | None = None
    agents: dict[str, AgentSimulation] = {}

    def call_model(self, queue: str) -> tuple[str, float, float, float | None]:
        """``(handle, aht, cv, patience)`` for ``queue``: its own values, else the section's."""
        q = self.queues.get(queue)
        if q is None:
            return self.handle, self.aht, self.cv, self.patience
        return (
            q.handle or self.handle,
            q.aht or self.aht,
            q.cv or self.cv,
            q.patience if q.patience is not None else self.patience,
        )

    def wrapup_of(self, queue: str) -> float | None:
        """``queue``'s after-call work here: its own, else the section's; None: the queue's
        configured ``wrapup`` stands."""
        q = self.queues.get(queue)
        if q is not None and q.wrapup is not None:
            return q.wrapup
        return self.wrapup

    def schedule_of(self, agent: str) -> ScheduleConfig | None:
        own = self.agents.get(agent)
        return own.schedule if own is not None and own.schedule is not None else self.schedule

    def answer_probability_of(self, agent: str) -> float:
        own = self.agents.get(agent)
        if own is not None and own.answer_probability is not None:
            return own.answer_probability
        return self.answer_probability


def _issue(loc: tuple[str | int, ...], message: str, hint: str, got: str | None = None) -> Issue:
    return Issue(loc=loc, position=None, message=message, hint=hint, got=got)


def _hint(name: str, names: list[str], what: str) -> str:
    from tamas.config.checks import did_you_mean

    if not names:
        return f"define the {what} first"
    return did_you_mean(name, names) or f"use one of: {', '.join(sorted(names))}"


def check_simulation(config: Config) -> Iterator[Issue]:
    """Unknown queues and agents, shifts that do not fit."""
    sim = config.simulation
    queues = [q.name for q in config.queues]
    for name in sim.queues:
        if name not in queues:
            yield _issue(("simulation", "queues", name), "no queue has this name",
                         _hint(name, queues, "queue under 'queues:'"), got=repr(name))  # fmt: skip
    agents = [a.id for a in config.agents]
    for name, agent in sim.agents.items():
        if name not in agents:
            yield _issue(("simulation", "agents", name), "no agent has this id",
                         _hint(name, agents, "agent under 'agents:'"), got=repr(name))  # fmt: skip
        if agent.schedule is not None:
            yield from _shift(("simulation", "agents", name, "schedule"), agent.schedule)
    if sim.schedule is not None:
        yield from _shift(("simulation", "schedule"), sim.schedule)


def _shift(loc: tuple[str | int, ...], schedule: ScheduleConfig) -> Iterator[Issue]:
    start, end, breaks = schedule.seconds()
    if start >= DAY_SECONDS:
        yield _issue((*loc, "start"), "a shift starts within the day", "start it by 23:59",
                     got=repr(schedule.start))  # fmt: skip
        return
    for i, (at, duration, _reason) in enumerate(breaks):
        if at + duration > end:
            yield _issue(
                (*loc, "breaks", i),
                "the break ends after the shift",
                f"end it by {schedule.end}",
                got=repr(schedule.breaks[i].start),
            )
    order = sorted(range(len(breaks)), key=lambda i: breaks[i][0])
    for before, i in pairwise(order):
        if breaks[before][0] + breaks[before][1] > breaks[i][0]:
            yield _issue(
                (*loc, "breaks", i),
                "this break starts before another one ends",
                "let breaks follow one another",
                got=repr(schedule.breaks[i].start),
            )
