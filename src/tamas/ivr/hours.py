"""Business hours: weekly open intervals in a time zone, holidays and special days.

Theory of operation: an instant (epoch seconds) is turned into local wall-clock time in the
calendar's zone with :mod:`zoneinfo`, so daylight-saving changes need no special care: a
08:00-17:00 day is 08:00-17:00 on the clock on the wall, whatever the UTC offset that day.
The local date is looked up first among holidays (closed, whatever the hours), then among
special days (their own intervals replace the weekday's), then the weekday's intervals
apply. Intervals are ``[start, end)`` in minutes after local midnight; ``24:00`` ends a day.

Dates are Gregorian. A holiday of another calendar (Nowruz, 1 Farvardin) is written as the
Gregorian date it falls on that year; jdatetime is not needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tamas.ivr.errors import IvrError

__all__ = [
    "WEEKDAYS",
    "Calendar",
    "CalendarError",
    "HoursState",
    "Interval",
    "SpecialDay",
    "calendar_from_dict",
    "hours_state",
    "is_open",
]

#: Weekday keys, Monday first (``datetime.weekday()`` order).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class HoursState(Enum):
    OPEN = "open"
    CLOSED = "closed"
    HOLIDAY = "holiday"


@dataclass(frozen=True, slots=True, kw_only=True)
class Interval:
    """Open from ``start`` to ``end`` minutes after local midnight (end excluded)."""

    start: int
    end: int

    def __contains__(self, minute: float) -> bool:
        return self.start <= minute < self.end


@dataclass(frozen=True, slots=True, kw_only=True)
class SpecialDay:
    """A date with other hours than its weekday (``()``: closed all day)."""

    day: date
    intervals: tuple[Interval, ...]
    name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Calendar:
    """Opening hours in ``zone`` (an IANA name such as ``Asia/Tehran``).

    ``weekly`` has seven entries, Monday first; ``holidays`` maps a date to its name.
    """

    name: str
    zone: str
    weekly: tuple[tuple[Interval, ...], ...]
    holidays: Mapping[date, str]
    special: Mapping[date, SpecialDay]


def hours_state(calendar: Calendar, epoch_seconds: float) -> HoursState:
    """Whether ``calendar`` is open, closed or on holiday at ``epoch_seconds``."""
    local = datetime.fromtimestamp(epoch_seconds, ZoneInfo(calendar.zone))
    day = local.date()
    if day in calendar.holidays:
        return HoursState.HOLIDAY
    special = calendar.special.get(day)
    intervals = special.intervals if special is not None else calendar.weekly[day.weekday()]
    minute = local.hour * 60 + local.minute + local.second / 60
    if any(minute in interval for interval in intervals):
        return HoursState.OPEN
    return HoursState.CLOSED


def is_open(calendar: Calendar, epoch_seconds: float) -> bool:
    return hours_state(calendar, epoch_seconds) is HoursState.OPEN


class CalendarError(IvrError):
    """A calendar's data is malformed. ``path`` is the key path, ``reason`` says why."""

    def __init__(self, *, path: tuple[str | int, ...], reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"calendar {'.'.join(str(p) for p in path)}: {reason}")


def calendar_from_dict(name: str, data: Mapping[str, Any]) -> Calendar:
    """A :class:`Calendar` from YAML-shaped data::

    zone: Asia/Tehran
    weekly: {sat: ["08:00-16:00"], ..., thu: ["08:00-12:00"]}   # missing days: closed
    holidays: [{date: 2026-03-21, name: Nowruz}, 2026-04-01]
    special: [{date: 2026-03-19, hours: ["08:00-10:00"], name: Last day of the year}]
    """
    path: tuple[str | int, ...] = (name,)
    for key in data:
        if key not in ("zone", "weekly", "holidays", "special"):
            _fail((*path, key), f"unknown key '{key}' (allowed: zone, weekly, holidays, special)")
    zone = data.get("zone", "UTC")
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        _fail((*path, "zone"), f"unknown time zone '{zone}' (an IANA name like Asia/Tehran)")
    weekly_raw = data.get("weekly", {})
    if not isinstance(weekly_raw, Mapping):
        _fail((*path, "weekly"), "expected a mapping of weekday (mon..sun) to intervals")
    for key in weekly_raw:
        if key not in WEEKDAYS:
            _fail((*path, "weekly", key), f"'{key}' is not a weekday ({', '.join(WEEKDAYS)})")
    weekly = tuple(_intervals((*path, "weekly", day), weekly_raw.get(day, [])) for day in WEEKDAYS)
    holidays: dict[date, str] = {}
    for i, item in enumerate(data.get("holidays", [])):
        at = (*path, "holidays", i)
        raw = item.get("date") if isinstance(item, Mapping) else item
        holidays[_date(at, raw)] = str(item.get("name", "")) if isinstance(item, Mapping) else ""
    special: dict[date, SpecialDay] = {}
    for i, item in enumerate(data.get("special", [])):
        at = (*path, "special", i)
        if not isinstance(item, Mapping) or "date" not in item:
            _fail(at, "a special day is {date: YYYY-MM-DD, hours: [...], name: ...}")
        day = _date((*at, "date"), item["date"])
        intervals = _intervals((*at, "hours"), item.get("hours", []))
        special[day] = SpecialDay(day=day, intervals=intervals, name=str(item.get("name", "")))
    return Calendar(name=name, zone=str(zone), weekly=weekly, holidays=holidays, special=special)


def _intervals(path: tuple[str | int, ...], raw: Any) -> tuple[Interval, ...]:
    if not isinstance(raw, list):
        _fail(path, "expected a list of intervals like '08:00-16:00'")
    out = []
    for i, text in enumerate(raw):
        parts = str(text).split("-")
        if len(parts) != 2:
            _fail((*path, i), f"'{text}' is not an interval like '08:00-16:00'")
        start, end = (_minute((*path, i), part.strip()) for part in parts)
        if end <= start:
            _fail((*path, i), f"'{text}' ends before it starts")
        out.append(Interval(start=start, end=end))
    return tuple(out)


def _minute(path: tuple[str | int, ...], text: str) -> int:
    hour, _, minute = text.partition(":")
    if not (hour.isdigit() and minute.isdigit() and len(minute) == 2):
        _fail(path, f"'{text}' is not a time like 08:30")
    value = int(hour) * 60 + int(minute)
    if int(minute) > 59 or value > 24 * 60:
        _fail(path, f"'{text}' is not a time of day (00:00 to 24:00)")
    return value


def _date(path: tuple[str | int, ...], raw: Any) -> date:
    if isinstance(raw, datetime):  # YAML gives a datetime for "2026-03-21 00:00"
        return raw.date()
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        _fail(path, f"'{raw}' is not a date like 2026-03-21")


def _fail(path: tuple[str | int, ...], reason: str) -> NoReturn:
    raise CalendarError(path=path, reason=reason)
