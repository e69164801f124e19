"""Schedule adherence and conformance: did each agent work when the schedule said?

Theory of operation
-------------------
The input is the agents' weekly schedules (shifts per weekday with planned breaks, in
seconds after local midnight: :class:`DayShift`) and their login sessions with the pauses in
them, as :func:`tamas.reporting.sessions_report.find_sessions` derives them from the event
log. The shifts of each local day in the range are placed on the clock of the center's time
zone (wall-clock times, so 09:00 stays 09:00 across a daylight-saving change).

The range is cut at every edge (a login, a logout, a pause, a shift, a break, a local
midnight) into pieces in which nothing changes; each piece is one of:

=====================  ==========================  ===================================
scheduled as           agent                       counts as
=====================  ==========================  ===================================
work (shift, no break)  logged in, not paused       in adherence; worked
work                    paused (any reason)         out: unplanned pause
work                    logged off                  out: not logged in
break (reason R)        paused with reason R        in adherence
break (reason R)        paused with another reason  out: unplanned pause
break (reason R)        logged in, not paused       out: working in a break; worked
break (reason R)        logged off                  out: not logged in
nothing                 logged in, not paused       outside a shift; worked
=====================  ==========================  ===================================

Per agent and local day: ``scheduled`` is the shifts' length, breaks included;
``adherence = in_adherence / scheduled`` (the share of the scheduled time spent doing what
was scheduled, when it was scheduled); ``conformance = worked / (scheduled - planned
breaks)`` (the time worked, whenever it was, against the work time scheduled; it may pass
100 %). Time logged in outside any shift is shown (``outside_shift``) but is not in the
adherence denominator: an agent who stays late is not out of adherence for it, and their
conformance shows it. Only time up to ``now`` is judged (the rest of today is not yet).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from tamas.reporting.sessions_report import Session
from tamas.reporting.table import Column, Kind, Table, Value

__all__ = [
    "ADHERENCE_TARGET",
    "AgentDay",
    "Break",
    "DayShift",
    "WeeklySchedule",
    "adherence_days",
    "adherence_table",
    "overall_adherence",
]


#: The usual industry target for schedule adherence (``reports.targets.adherence`` changes it).
ADHERENCE_TARGET = 0.90


@dataclass(frozen=True, slots=True, kw_only=True)
class Break:
    """A planned pause: seconds after local midnight, and the pause reason expected."""

    start: float
    end: float
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DayShift:
    """A shift of one weekday: seconds after local midnight (``end`` at most 86400)."""

    start: float
    end: float
    breaks: tuple[Break, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= 86400:
            raise ValueError(f"a shift is within a day and ends after it starts ({self})")
        for b in self.breaks:
            if not self.start <= b.start < b.end <= self.end:
                raise ValueError(f"break {b} is outside the shift {self.start}-{self.end}")


#: Per agent: per weekday (Monday 0 .. Sunday 6) the shifts, in time order, not overlapping.
WeeklySchedule = Mapping[str, Mapping[int, Sequence[DayShift]]]


@dataclass(slots=True, kw_only=True)
class AgentDay:
    """One agent's figures for one local day (seconds)."""

    agent: str
    day: date
    start: float  # the local midnight
    scheduled: float = 0.0
    planned_breaks: float = 0.0
    in_adherence: float = 0.0
    not_logged_in: float = 0.0
    unplanned_pause: float = 0.0
    working_in_break: float = 0.0
    outside_shift: float = 0.0
    worked: float = 0.0

    @property
    def out_of_adherence(self) -> float:
        return self.not_logged_in + self.unplanned_pause + self.working_in_break

    @property
    def adherence(self) -> float | None:
        return self.in_adherence / self.scheduled if self.scheduled > 0 else None

    @property
    def conformance(self) -> float | None:
        work = self.scheduled - self.planned_breaks
        return self.worked / work if work > 0 else None


@dataclass(slots=True)
class _Spans:
    """Sorted, disjoint [start, end) spans with a label, looked up by time."""

    starts: list[float] = field(default_factory=list)
    items: list[tuple[float, float, str]] = field(default_factory=list)

    def add(self, start: float, end: float, label: str) -> None:
        if end > start:
            self.items.append((start, end, label))

    def seal(self) -> None:
        self.items.sort()
        self.starts = [s for s, _e, _l in self.items]

    def at(self, t: float) -> str | None:
        i = bisect.bisect_right(self.starts, t) - 1
        if i >= 0 and self.items[i][0] <= t < self.items[i][1]:
            return self.items[i][2]
        return None

    def edges(self) -> Iterable[float]:
        for s, e, _l in self.items:
            yield s
            yield e


_WORK = "\x00work"  # the label of scheduled work time (a reason can never be this)


def _wall(day: date, seconds: float, tz: ZoneInfo) -> float:
    """Epoch seconds of ``seconds`` after the wall-clock midnight of ``day`` (86400: the next
    midnight), read on the wall clock of ``tz``."""
    whole, rest = divmod(seconds, 86400)
    local = datetime.combine(day + timedelta(days=int(whole)), time()) + timedelta(seconds=rest)
    return local.replace(tzinfo=tz).timestamp()


def _days(start: float, end: float, tz: ZoneInfo) -> list[date]:
    first = datetime.fromtimestamp(start, tz).date()
    last = datetime.fromtimestamp(max(start, end - 1e-6), tz).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def adherence_days(
    schedules: WeeklySchedule,
    sessions: Iterable[Session],
    *,
    start: float,
    end: float,
    now: float,
    zone: str,
    agents: Collection[str] = (),
) -> list[AgentDay]:
    """Per scheduled agent (only ``agents`` when given) and local day of ``[start, end)``
    with scheduled or worked time up to ``now``: the figures of the module's table, by agent
    then day. ``sessions`` are every login session that may overlap the range (a session
    still open, ``logout`` None, lasts until ``now``)."""
    tz = ZoneInfo(zone)
    stop = min(end, now)
    names = sorted(a for a in schedules if not agents or a in agents)
    logged: dict[str, _Spans] = {a: _Spans() for a in names}
    paused: dict[str, _Spans] = {a: _Spans() for a in names}
    for s in sessions:
        if s.agent not in logged:
            continue
        until = s.logout if s.logout is not None else max(now, s.login)
        logged[s.agent].add(s.login, until, "in")
        for i, (p_from, p_to, reason) in enumerate(s.pauses):
            if s.logout is None and s.paused_at_end and i == len(s.pauses) - 1:
                p_to = until  # still paused
            paused[s.agent].add(p_from, min(p_to, until), reason)
    days = _days(start, stop, tz) if stop > start else []
    midnights = [_wall(d, 0, tz) for d in days]
    out: list[AgentDay] = []
    for agent in names:
        plan = _Spans()
        for d in days:
            for shift in schedules[agent].get(d.weekday(), ()):
                cursor = shift.start
                for brk in sorted(shift.breaks, key=lambda x: x.start):
                    plan.add(_wall(d, cursor, tz), _wall(d, brk.start, tz), _WORK)
                    plan.add(_wall(d, brk.start, tz), _wall(d, brk.end, tz), brk.reason)
                    cursor = brk.end
                plan.add(_wall(d, cursor, tz), _wall(d, shift.end, tz), _WORK)
        for spans in (plan, logged[agent], paused[agent]):
            spans.seal()
        cuts = {start, stop, *midnights, *plan.edges(), *logged[agent].edges(),
                *paused[agent].edges()}  # fmt: skip
        points = sorted(t for t in cuts if start <= t <= stop)
        rows = [AgentDay(agent=agent, day=d, start=max(m, start))
                for d, m in zip(days, midnights, strict=True)]  # fmt: skip
        for a, b in pairwise(points):
            row = rows[max(0, bisect.bisect_right(midnights, a) - 1)]
            _count(row, b - a, plan.at(a), logged[agent].at(a) is not None, paused[agent].at(a))
        out.extend(r for r in rows if r.scheduled > 0 or r.worked > 0)
    return out


def _count(row: AgentDay, length: float, planned: str | None, on: bool, pause: str | None) -> None:
    """Add one piece of time in which nothing changes to its day's figures."""
    pause = pause if on else None  # a pause outside a login is not a pause
    working = on and pause is None
    if working:
        row.worked += length
    if planned is None:
        if working:
            row.outside_shift += length
        return
    row.scheduled += length
    if planned != _WORK:
        row.planned_breaks += length
    if not on:
        row.not_logged_in += length
    elif planned == _WORK:
        if working:
            row.in_adherence += length
        else:
            row.unplanned_pause += length
    elif pause == planned:
        row.in_adherence += length
    elif pause is not None:
        row.unplanned_pause += length
    else:
        row.working_in_break += length


def overall_adherence(days: Iterable[AgentDay]) -> tuple[float | None, float | None]:
    """(adherence, conformance) of many agent days together (time-weighted)."""
    scheduled = in_adh = work = worked = 0.0
    for d in days:
        scheduled += d.scheduled
        in_adh += d.in_adherence
        work += d.scheduled - d.planned_breaks
        worked += d.worked
    return (in_adh / scheduled if scheduled > 0 else None,
            worked / work if work > 0 else None)  # fmt: skip


COLUMNS = (
    Column(key="agent", title="Agent"),
    Column(key="day", title="Day", description="the local date"),
    Column(key="start", title="Day start", kind=Kind.TIME, description="its local midnight"),
    Column(key="scheduled", title="Scheduled", kind=Kind.SECONDS,
           description="the shifts' length, planned breaks included"),
    Column(key="planned_breaks", title="Planned breaks", kind=Kind.SECONDS),
    Column(key="in_adherence", title="In adherence", kind=Kind.SECONDS,
           description="logged in and not paused in a shift, or paused with the planned "
           "reason in a planned break"),
    Column(key="not_logged_in", title="Not logged in", kind=Kind.SECONDS,
           description="scheduled time logged off"),
    Column(key="unplanned_pause", title="Unplanned pause", kind=Kind.SECONDS,
           description="paused in work time, or with another reason than the break's"),
    Column(key="working_in_break", title="Working in a break", kind=Kind.SECONDS,
           description="logged in and not paused in a planned break"),
    Column(key="out_of_adherence", title="Out of adherence", kind=Kind.SECONDS),
    Column(key="outside_shift", title="Logged in outside a shift", kind=Kind.SECONDS,
           description="not in the adherence figures; counted as worked"),
    Column(key="worked", title="Worked", kind=Kind.SECONDS,
           description="logged in and not paused, in or outside a shift"),
    Column(key="adherence", title="Adherence", kind=Kind.RATIO,
           description="in adherence / scheduled"),
    Column(key="conformance", title="Conformance", kind=Kind.RATIO,
           description="worked / (scheduled - planned breaks)"),
)  # fmt: skip


_SUMMED = ("scheduled", "planned_breaks", "in_adherence", "not_logged_in", "unplanned_pause",
           "working_in_break", "outside_shift", "worked")  # fmt: skip


def adherence_table(
    days: Sequence[AgentDay],
    *,
    params: Mapping[str, Value] | None = None,
    target: float | None = None,
) -> Table:
    """One row per agent and day, then a ``total`` row (every agent and day together)."""
    rows: list[dict[str, Value]] = [_row(d) for d in days]
    if days:
        total = AgentDay(agent="total", day=days[0].day, start=math.nan)
        for d in days:
            for key in _SUMMED:
                setattr(total, key, getattr(total, key) + getattr(d, key))
        row = _row(total)
        row.update(day="", start=None)
        rows.append(row)
    return Table(name="adherence", title="Schedule adherence", columns=COLUMNS,
                 rows=tuple(rows), params=dict(params or {}),
                 targets={} if target is None else {"adherence": target})  # fmt: skip


def _row(d: AgentDay) -> dict[str, Value]:
    return {
        "agent": d.agent, "day": d.day.isoformat(), "start": d.start,
        "scheduled": d.scheduled, "planned_breaks": d.planned_breaks,
        "in_adherence": d.in_adherence, "not_logged_in": d.not_logged_in,
        "unplanned_pause": d.unplanned_pause, "working_in_break": d.working_in_break,
        "out_of_adherence": d.out_of_adherence, "outside_shift": d.outside_shift,
        "worked": d.worked, "adherence": d.adherence, "conformance": d.conformance,
    }  # fmt: skip
