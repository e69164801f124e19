"""Business hours across zones, Iran's week, holidays, special days and a DST change."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from tamas.ivr.hours import (
    CalendarError,
    HoursState,
    calendar_from_dict,
    hours_state,
    is_open,
)

TEHRAN = ZoneInfo("Asia/Tehran")
BERLIN = ZoneInfo("Europe/Berlin")

# Iran: Saturday to Wednesday full days, Thursday half a day, Friday closed.
IRAN = calendar_from_dict(
    "tehran",
    {
        "zone": "Asia/Tehran",
        "weekly": {
            "sat": ["08:00-16:00"],
            "sun": ["08:00-16:00"],
            "mon": ["08:00-16:00"],
            "tue": ["08:00-16:00"],
            "wed": ["08:00-16:00"],
            "thu": ["08:00-12:00"],
        },
        # Nowruz, 1 Farvardin 1405, given as its Gregorian date.
        "holidays": [
            {"date": "2026-03-21", "name": "Nowruz"},
            date(2026, 3, 22),
            datetime(2026, 3, 23, 0, 0),
        ],
        "special": [{"date": "2026-03-18", "hours": ["08:00-10:00"], "name": "Eve"}],
    },
)


def at(zone: ZoneInfo, *fields: int) -> float:
    return datetime(*fields, tzinfo=zone).timestamp()


def test_iran_week() -> None:
    # 2026-12-05 is a Saturday, 12-10 a Thursday, 12-11 a Friday.
    assert is_open(IRAN, at(TEHRAN, 2026, 12, 5, 9, 0))
    assert is_open(IRAN, at(TEHRAN, 2026, 12, 9, 15, 59))  # Wednesday
    assert not is_open(IRAN, at(TEHRAN, 2026, 12, 9, 16, 0))  # the end is excluded
    assert not is_open(IRAN, at(TEHRAN, 2026, 12, 5, 7, 59))
    assert is_open(IRAN, at(TEHRAN, 2026, 12, 10, 11, 30))  # Thursday morning
    assert not is_open(IRAN, at(TEHRAN, 2026, 12, 10, 12, 30))  # Thursday afternoon
    assert not is_open(IRAN, at(TEHRAN, 2026, 12, 11, 10, 0))  # Friday


def test_time_zone_is_applied() -> None:
    # 05:00 UTC is 08:30 in Tehran (UTC+3:30): open there.
    assert is_open(IRAN, at(ZoneInfo("UTC"), 2026, 12, 5, 5, 0))
    assert not is_open(IRAN, at(ZoneInfo("UTC"), 2026, 12, 5, 4, 29))


def test_holidays_and_special_days() -> None:
    # 2026-03-21 is a Saturday: a working day, but Nowruz.
    assert hours_state(IRAN, at(TEHRAN, 2026, 3, 21, 10, 0)) is HoursState.HOLIDAY
    assert hours_state(IRAN, at(TEHRAN, 2026, 3, 22, 10, 0)) is HoursState.HOLIDAY
    assert hours_state(IRAN, at(TEHRAN, 2026, 3, 23, 10, 0)) is HoursState.HOLIDAY
    assert is_open(IRAN, at(TEHRAN, 2026, 3, 24, 10, 0))  # a Tuesday after the holidays
    assert IRAN.holidays[date(2026, 3, 21)] == "Nowruz"
    # 2026-03-18 (Wednesday) closes at 10:00.
    assert is_open(IRAN, at(TEHRAN, 2026, 3, 18, 9, 0))
    assert hours_state(IRAN, at(TEHRAN, 2026, 3, 18, 11, 0)) is HoursState.CLOSED


def test_across_a_dst_change() -> None:
    berlin = calendar_from_dict(
        "berlin",
        {"zone": "Europe/Berlin", "weekly": {"sat": ["08:00-17:00"], "mon": ["08:00-17:00"]}},
    )
    utc = ZoneInfo("UTC")
    # Summer time starts 2026-03-29. 06:30 UTC is 07:30 CET on Saturday 28 (closed) but
    # 08:30 CEST on Monday 30 (open): the hours follow the wall clock.
    assert not is_open(berlin, at(utc, 2026, 3, 28, 6, 30))
    assert is_open(berlin, at(utc, 2026, 3, 30, 6, 30))
    # And back: winter time from 2026-10-25. 15:30 UTC is 17:30 CEST on Saturday 24
    # (closed), 16:30 CET on Monday 26 (open).
    assert not is_open(berlin, at(utc, 2026, 10, 24, 15, 30))
    assert is_open(berlin, at(utc, 2026, 10, 26, 15, 30))
    assert is_open(berlin, at(BERLIN, 2026, 3, 30, 8, 0))


def test_midnight_end() -> None:
    late = calendar_from_dict("late", {"zone": "UTC", "weekly": {"fri": ["18:00-24:00"]}})
    assert is_open(late, at(ZoneInfo("UTC"), 2026, 12, 4, 23, 59))
    assert not is_open(late, at(ZoneInfo("UTC"), 2026, 12, 5, 0, 0))


@pytest.mark.parametrize(
    ("data", "path", "reason"),
    [
        ({"zone": "Mars/Olympus"}, ("c", "zone"), "unknown time zone 'Mars/Olympus'"),
        ({"weekly": {"fri": ["9-17"]}}, ("c", "weekly", "fri", 0), "'9' is not a time"),
        ({"weekly": {"fri": ["17:00-09:00"]}}, ("c", "weekly", "fri", 0), "ends before"),
        ({"weekly": {"frei": []}}, ("c", "weekly", "frei"), "'frei' is not a weekday"),
        ({"holidays": ["2026-02-30"]}, ("c", "holidays", 0), "is not a date"),
        ({"hours": {}}, ("c", "hours"), "unknown key 'hours'"),
    ],
)
def test_calendar_errors(data: dict[str, object], path: tuple[object, ...], reason: str) -> None:
    with pytest.raises(CalendarError) as info:
        calendar_from_dict("c", data)
    assert info.value.path == path
    assert reason in info.value.reason
