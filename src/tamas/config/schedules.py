"""``reports.schedules``: the agents' weekly shifts with planned breaks (the adherence report).

```yaml
reports:
  timezone: Asia/Tehran            # shifts are wall-clock times of this zone
  teams:
    - {name: north, agents: ["1001", "1002"]}
  schedules:
    - team: north                  # or agent: "1001"
      days: [sat, sun, mon, tue, wed]
      shifts:
        - start: "08:00"
          end: "16:00"
          breaks: [{start: "13:00", minutes: 30, reason: lunch}]
    - agent: "1002"                # an agent's own entry for a weekday replaces its team's
      days: [wed]
      shifts: [{start: "12:00", end: "20:00"}]
```

A shift has the shape of the simulator's (``simulation.schedule``: ``start``, ``end``,
``breaks`` of ``start``, ``minutes`` and ``reason``, the pause reason the agent gives), but
it lies within one day: ``end`` is after ``start`` (``24:00`` is the day's end) and a night
shift is written as two, ``22:00``-``24:00`` and the next weekday's ``00:00``-``06:00``.
:func:`check_schedules` refuses unknown agents and teams, shifts that end before they start,
breaks outside their shift, and shifts of one agent that overlap on a weekday.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import TYPE_CHECKING, Literal

from pydantic import model_validator

from tamas.config.errors import Issue
from tamas.config.section import Section
from tamas.config.simulation import ScheduleConfig, time_of_day
from tamas.reporting.adherence import Break, DayShift

if TYPE_CHECKING:
    from tamas.config.reports import ReportsConfig

__all__ = ["WEEKDAYS", "ScheduleEntry", "check_schedules", "weekly_schedule"]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
#: Weekday names in Python's order (Monday is 0).
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ScheduleEntry(Section):
    """Shifts of one agent or of every agent of a team, on the weekdays listed."""

    agent: str | None = None
    team: str | None = None
    days: tuple[Weekday, ...] = ()
    shifts: tuple[ScheduleConfig, ...] = ()

    @model_validator(mode="after")
    def _one_owner(self) -> ScheduleEntry:
        if (self.agent is None) == (self.team is None):
            raise ValueError("give exactly one of agent or team")
        return self


def _issue(loc: tuple[str | int, ...], message: str, hint: str, got: str | None = None) -> Issue:
    return Issue(loc=loc, position=None, message=message, hint=hint, got=got)


def _day_shift(shift: ScheduleConfig) -> DayShift | None:
    """The shift in seconds, or None when it does not fit in a day (checked apart)."""
    start, end = time_of_day(shift.start), time_of_day(shift.end)
    breaks = []
    for b in shift.breaks:
        at = time_of_day(b.start)
        breaks.append(Break(start=at, end=at + b.minutes * 60.0, reason=b.reason))
    try:
        return DayShift(start=start, end=end, breaks=tuple(breaks))
    except ValueError:
        return None


def _members(reports: ReportsConfig, entry: ScheduleEntry) -> tuple[str, ...]:
    if entry.agent is not None:
        return (entry.agent,)
    team = reports.team(entry.team or "")
    return () if team is None else team.agents


def weekly_schedule(reports: ReportsConfig) -> dict[str, dict[int, list[DayShift]]]:
    """Per agent and weekday (Monday 0) the shifts, in time order. An agent's own entries
    for a weekday replace its teams' entries for that weekday."""
    own: dict[str, dict[int, list[DayShift]]] = {}
    teams: dict[str, dict[int, list[DayShift]]] = {}
    for entry in reports.schedules:
        target = own if entry.agent is not None else teams
        shifts = [s for s in map(_day_shift, entry.shifts) if s is not None]
        for agent in _members(reports, entry):
            week = target.setdefault(agent, {})
            for day in entry.days:
                week.setdefault(WEEKDAYS.index(day), []).extend(shifts)
    out: dict[str, dict[int, list[DayShift]]] = {}
    for agent in sorted({*own, *teams}):
        week = {**teams.get(agent, {}), **own.get(agent, {})}
        out[agent] = {d: sorted(s, key=lambda s: s.start) for d, s in sorted(week.items())}
    return out


def check_schedules(reports: ReportsConfig, agents: set[str]) -> Iterator[Issue]:
    """Unknown agents and teams, shifts that do not fit in a day, overlapping shifts."""
    for i, entry in enumerate(reports.schedules):
        loc: tuple[str | int, ...] = ("reports", "schedules", i)
        if entry.agent is not None and entry.agent not in agents:
            from tamas.config.checks import did_you_mean

            yield _issue((*loc, "agent"), "no agent has this id",
                         did_you_mean(entry.agent, agents) or "use an id from agents:",
                         got=repr(entry.agent))  # fmt: skip
        if entry.team is not None and reports.team(entry.team) is None:
            yield _issue((*loc, "team"), "no team has this name",
                         "define it under reports.teams", got=repr(entry.team))  # fmt: skip
        for key in ("days", "shifts"):
            if not getattr(entry, key):
                yield _issue((*loc, key), f"no {key} given",
                             "list weekdays (mon ... sun)" if key == "days"
                             else "list shifts: {start: '08:00', end: '16:00'}")  # fmt: skip
        for j, shift in enumerate(entry.shifts):
            yield from _shift((*loc, "shifts", j), shift)
    yield from _overlaps(reports)


def _shift(loc: tuple[str | int, ...], shift: ScheduleConfig) -> Iterator[Issue]:
    start, end = time_of_day(shift.start), time_of_day(shift.end)
    if end <= start:
        yield _issue((*loc, "end"), "the shift ends before it starts",
                     f"end it after {shift.start} (24:00 at the latest); write a night shift "
                     "as two shifts, to 24:00 and from the next weekday's 00:00",
                     got=repr(shift.end))  # fmt: skip
        return
    spans = []
    for k, b in enumerate(shift.breaks):
        at = time_of_day(b.start)
        if at < start or at + b.minutes * 60 > end:
            yield _issue((*loc, "breaks", k), "the break is outside its shift",
                         f"place it within {shift.start}-{shift.end}",
                         got=repr(b.start))  # fmt: skip
        spans.append((at, at + b.minutes * 60, k))
    for (_s0, e0, _k0), (s1, _e1, k1) in pairwise(sorted(spans)):
        if s1 < e0:
            yield _issue((*loc, "breaks", k1), "this break starts before another one ends",
                         "let breaks follow one another",
                         got=repr(shift.breaks[k1].start))  # fmt: skip


def _overlaps(reports: ReportsConfig) -> Iterator[Issue]:
    """Two shifts of one agent on one weekday that overlap (after own entries replace the
    team's); the issue names the later entry's shift."""
    owned: dict[tuple[str, int, bool], list[tuple[float, float, int, int]]] = {}
    for i, entry in enumerate(reports.schedules):
        for j, shift in enumerate(entry.shifts):
            s = _day_shift(shift)
            if s is None:
                continue
            for agent in _members(reports, entry):
                for name in entry.days:
                    key = (agent, WEEKDAYS.index(name), entry.agent is not None)
                    owned.setdefault(key, []).append((s.start, s.end, i, j))
    seen: set[tuple[int, int]] = set()
    for (agent, day, is_own), spans in sorted(owned.items()):
        if not is_own and (agent, day, True) in owned:
            continue  # replaced by the agent's own entries for this weekday
        for (_s0, e0, i0, j0), (s1, _e1, i1, j1) in pairwise(sorted(spans)):
            if s1 < e0 and (i1, j1) not in seen:
                seen.add((i1, j1))
                first = reports.schedules[i0].shifts[j0]
                yield _issue(("reports", "schedules", i1, "shifts", j1),
                             f"agent {agent}'s shifts overlap on {WEEKDAYS[day]} (with "
                             f"reports.schedules[{i0}].shifts[{j0}], {first.start}-{first.end})",
                             "let one shift end before the next starts")  # fmt: skip
