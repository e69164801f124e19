"""Jalali (Solar Hijri) calendar: known dates, leap years, and every day 1900-2100 vs jdatetime."""

from __future__ import annotations

from datetime import date, timedelta

import jdatetime
import pytest

from tamas.core.jalali import (
    MONTHS_EN,
    MONTHS_FA,
    JalaliDate,
    format_jalali,
    from_jalali,
    is_leap,
    month_length,
    to_arabic_digits,
    to_jalali,
    to_persian_digits,
)

KNOWN = [
    # Nowruz (1 Farvardin) of recent years
    (date(2020, 3, 20), (1399, 1, 1)),
    (date(2021, 3, 21), (1400, 1, 1)),
    (date(2023, 3, 21), (1402, 1, 1)),
    (date(2024, 3, 20), (1403, 1, 1)),
    (date(2025, 3, 21), (1404, 1, 1)),
    (date(2026, 3, 21), (1405, 1, 1)),
    # 1403 is a leap year: Esfand 30 is the day before Nowruz 1404
    (date(2025, 3, 20), (1403, 12, 30)),
    # 1402 is not: Esfand 29 is the day before Nowruz 1403
    (date(2024, 3, 19), (1402, 12, 29)),
    # 22 Bahman 1357 and 12 Farvardin 1358
    (date(1979, 2, 11), (1357, 11, 22)),
    (date(1979, 4, 1), (1358, 1, 12)),
    # Yalda: the last night of Azar
    (date(2024, 12, 20), (1403, 9, 30)),
    # the last day of the first half (31 Shahrivar) and the first of Mehr
    (date(2024, 9, 21), (1403, 6, 31)),
    (date(2024, 9, 22), (1403, 7, 1)),
]


@pytest.mark.parametrize(("gregorian", "jalali"), KNOWN)
def test_known_dates(gregorian: date, jalali: tuple[int, int, int]) -> None:
    j = to_jalali(gregorian)
    assert (j.year, j.month, j.day) == jalali
    assert from_jalali(*jalali) == gregorian


def test_every_day_from_1900_to_2100_agrees_with_jdatetime() -> None:
    day, last = date(1900, 1, 1), date(2100, 12, 31)
    checked = 0
    while day <= last:
        ours = to_jalali(day)
        theirs = jdatetime.date.fromgregorian(date=day)
        assert (ours.year, ours.month, ours.day) == (theirs.year, theirs.month, theirs.day), day
        assert ours.to_gregorian() == day
        day += timedelta(days=1)
        checked += 1
    # 201 years of 365 days plus 49 leap days (1900 and 2100 are not leap years)
    assert checked == 201 * 365 + 49


def test_leap_years_follow_the_33_year_cycle() -> None:
    # a cycle starts at 1375: leaps at offsets 0, 4, ..., 28 -> 8 per 33 years
    assert [y for y in range(1375, 1408) if is_leap(y)] == [
        1375, 1379, 1383, 1387, 1391, 1395, 1399, 1403,
    ]  # fmt: skip
    assert is_leap(1408)  # the next cycle starts with a leap year
    assert not is_leap(1404)
    for year in range(1279, 1480):
        theirs = jdatetime.date(year, 1, 1).isleap()
        assert is_leap(year) == theirs, year
        days = (from_jalali(year + 1, 1, 1) - from_jalali(year, 1, 1)).days
        assert days == (366 if is_leap(year) else 365)


def test_month_lengths_and_invalid_dates() -> None:
    assert [month_length(1403, m) for m in range(1, 13)] == [31] * 6 + [30] * 5 + [30]
    assert month_length(1402, 12) == 29
    with pytest.raises(ValueError, match="no day 30"):
        JalaliDate(year=1402, month=12, day=30)
    with pytest.raises(ValueError, match="no day 31"):
        from_jalali(1403, 7, 31)
    with pytest.raises(ValueError, match="not 1-12"):
        JalaliDate(year=1403, month=13, day=1)
    with pytest.raises(ValueError, match="not 1-12"):
        month_length(1403, 0)


def test_far_dates_convert_both_ways() -> None:
    # outside 1900-2100 the arithmetic rule still gives a consistent round trip
    for day in (date(1, 1, 1), date(622, 3, 22), date(1600, 3, 20), date(9999, 12, 31)):
        assert to_jalali(day).to_gregorian() == day


def test_formatting() -> None:
    azar10 = date(2024, 11, 30)  # 1403/09/10
    assert format_jalali(azar10) == "1403/09/10"
    assert format_jalali(azar10, month_names="en") == "10 Azar 1403"
    assert format_jalali(azar10, month_names="fa") == "10 آذر 1403"
    assert format_jalali(azar10, persian_digits=True) == "۱۴۰۳/۰۹/۱۰"  # noqa: RUF001
    assert to_persian_digits("12:05") == "۱۲:۰۵"  # noqa: RUF001
    assert to_arabic_digits("1403") == "١٤٠٣"
    assert len(MONTHS_FA) == len(MONTHS_EN) == 12
    assert MONTHS_EN[0] == "Farvardin" and MONTHS_FA[11] == "اسفند"
    with pytest.raises(ValueError, match="month names"):
        format_jalali(azar10, month_names="de")
    assert str(JalaliDate(year=99, month=1, day=2)) == "0099/01/02"
    assert JalaliDate(year=1403, month=1, day=1) < JalaliDate(year=1403, month=1, day=2)
