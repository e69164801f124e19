"""Report parameters from text: times in the report's zone, Jalali dates, lists, errors."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tamas.reporting.query import Group, QueryError, parse_query, parse_time

TEHRAN = ZoneInfo("Asia/Tehran")
# 2026-11-30 12:00 in Tehran (UTC+3:30, no DST since 2022) = 08:30 UTC
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=TEHRAN).timestamp()


def at(*parts: int) -> float:
    return datetime(*parts, tzinfo=TEHRAN).timestamp()  # type: ignore[misc]


def test_days_start_and_end_in_the_report_zone() -> None:
    assert parse_time("2026-11-01", TEHRAN, NOW) == at(2026, 11, 1)
    assert parse_time("2026-11-30", TEHRAN, NOW, end=True) == at(2026, 12, 1)
    assert parse_time("today", TEHRAN, NOW) == at(2026, 11, 30)
    assert parse_time("yesterday", TEHRAN, NOW, end=True) == at(2026, 11, 30)
    assert parse_time("now", TEHRAN, NOW) == NOW
    assert parse_time("2026-11-01T08:30", TEHRAN, NOW) == at(2026, 11, 1, 8, 30)
    # an explicit offset wins over the zone: 08:30Z is 12:00 in Tehran
    assert parse_time("2026-11-01T08:30+00:00", TEHRAN, NOW) == at(2026, 11, 1, 12, 0)
    assert parse_time("1790000000", TEHRAN, NOW) == 1790000000.0


def test_jalali_dates_in_either_digits() -> None:
    # 1405/09/09 is 2026-11-30 (1 Farvardin 1405 = 2026-03-21; 6*31 + 2*30 + 8 days later)
    assert parse_time("1405/09/09", TEHRAN, NOW) == at(2026, 11, 30)
    assert parse_time("۱۴۰۵/۰۹/۰۹", TEHRAN, NOW) == at(2026, 11, 30)
    assert parse_time("1405-01-01", TEHRAN, NOW) == at(2026, 3, 21)


def test_a_query_with_every_parameter() -> None:
    q = parse_query({"from": "2026-11-01", "to": "2026-11-30", "queue": "sales, support",
                     "agent": "1001", "team": "north", "group": "day", "interval": "30",
                     "tz": "Asia/Tehran"}, timezone="UTC", now=NOW)  # fmt: skip
    assert (q.start, q.end) == (at(2026, 11, 1), at(2026, 12, 1))
    assert q.queues == ("sales", "support") and q.agents == ("1001",) and q.team == "north"
    assert q.group is Group.DAY and q.interval == 1800 and q.timezone == "Asia/Tehran"


def test_defaults_are_today_so_far() -> None:
    q = parse_query({}, timezone="Asia/Tehran", now=NOW)
    assert (q.start, q.end) == (at(2026, 11, 30), NOW)
    assert q.group is None and q.interval == 900


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"from": "last tuesday"}, "from"),
        ({"from": "2026-13-01"}, "from"),
        ({"from": "1405/12/31"}, "from"),  # 1405 is not a Jalali leap year: Esfand has 29 days
        ({"from": "2026-11-02", "to": "2026-11-01T00:00"}, "to"),
        ({"group": "week"}, "group"),
        ({"interval": "20"}, "interval"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"channel": "chat"}, "channel"),
    ],
)
def test_bad_values_name_the_parameter(params: dict[str, str], param: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(params, timezone="UTC", now=NOW)
    assert info.value.param == param
