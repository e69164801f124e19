"""The Jalali (Solar Hijri, Persian) calendar: date conversion, month names, formatting.

Theory of operation
-------------------
A Jalali year starts at Nowruz (1 Farvardin, around 20/21 March). Its first six months have
31 days, the next five 30, and Esfand has 29 days, or 30 in a leap year (365 or 366 days).
The official calendar places Nowruz by the March equinox as seen in Tehran; for the years
that matter to a call center it agrees with an arithmetic rule of 33-year cycles with 8 leap
years each (the rule FarsiWeb's jalali.c and the ``jdatetime`` package use, which the tests
compare against for every day of 1900-2100):

* a cycle is 33 years, 33 * 365 + 8 = 12053 days; one cycle starts at 1375 (1996-03-20), so
  cycles start at 1375 + 33k (1342, 1375, 1408, ...);
* at offsets 0, 4, 8, ..., 28 of a cycle the year is a leap year (1399, 1403, 1408 ...);
  offsets 29 to 32 are common years (the gap of five years between two leaps, once a cycle).

A date is turned into a count of days from 1 Farvardin 1375 (Python's ``date.toordinal`` on
the Gregorian side), split into whole cycles, then into 4-year blocks of 1461 days (leap year
first) and the 365-day year at offset 32, then into months. The reverse sums the same parts.
The rule drifts from the astronomical calendar far from today (outside about 1800-2250 CE);
dates there still convert consistently both ways.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = [
    "MONTHS_EN",
    "MONTHS_FA",
    "JalaliDate",
    "format_jalali",
    "from_jalali",
    "is_leap",
    "month_length",
    "to_arabic_digits",
    "to_jalali",
    "to_persian_digits",
]

#: Month names in Persian, Farvardin first.
MONTHS_FA = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)
#: Month names transliterated into English.
MONTHS_EN = (
    "Farvardin",
    "Ordibehesht",
    "Khordad",
    "Tir",
    "Mordad",
    "Shahrivar",
    "Mehr",
    "Aban",
    "Azar",
    "Dey",
    "Bahman",
    "Esfand",
)

_ORIGIN_YEAR = 1375  # a cycle starts here
_ORIGIN = date(1996, 3, 20).toordinal()  # 1 Farvardin 1375
_CYCLE_YEARS = 33
_CYCLE_DAYS = 33 * 365 + 8
_BLOCK_DAYS = 4 * 365 + 1
_FIRST_HALF = 6 * 31  # days in Farvardin..Shahrivar

_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class JalaliDate:
    """A valid Jalali date (ValueError otherwise)."""

    year: int
    month: int
    day: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"Jalali month {self.month} is not 1-12")
        if not 1 <= self.day <= month_length(self.year, self.month):
            raise ValueError(f"{self.year}/{self.month:02d} has no day {self.day}")

    def to_gregorian(self) -> date:
        return date.fromordinal(_ORIGIN + _days_before_year(self.year) + self._day_of_year())

    def _day_of_year(self) -> int:
        """Days since 1 Farvardin of the same year (0-based)."""
        if self.month <= 7:
            return 31 * (self.month - 1) + self.day - 1
        return _FIRST_HALF + 30 * (self.month - 7) + self.day - 1

    def __str__(self) -> str:
        return f"{self.year:04d}/{self.month:02d}/{self.day:02d}"


def is_leap(year: int) -> bool:
    """Whether the Jalali year has 366 days (Esfand 30 exists)."""
    offset = (year - _ORIGIN_YEAR) % _CYCLE_YEARS
    return offset % 4 == 0 and offset < 32


def month_length(year: int, month: int) -> int:
    if not 1 <= month <= 12:
        raise ValueError(f"Jalali month {month} is not 1-12")
    if month <= 6:
        return 31
    if month <= 11:
        return 30
    return 30 if is_leap(year) else 29


def _days_before_year(year: int) -> int:
    """Days from 1 Farvardin 1375 to 1 Farvardin of ``year`` (negative before 1375)."""
    cycles, offset = divmod(year - _ORIGIN_YEAR, _CYCLE_YEARS)
    # Leap years at offsets 0, 4, ... below ``offset``: ceil(offset / 4).
    return cycles * _CYCLE_DAYS + offset * 365 + (offset + 3) // 4


def to_jalali(day: date) -> JalaliDate:
    """The Jalali date of a Gregorian date."""
    cycles, n = divmod(day.toordinal() - _ORIGIN, _CYCLE_DAYS)
    block, n = divmod(n, _BLOCK_DAYS)
    if block == 8:  # offset 32: the common year closing the cycle
        offset = 32
    elif n < 366:  # the leap year opening the block
        offset = 4 * block
    else:
        years, n = divmod(n - 366, 365)
        offset = 4 * block + 1 + years
    year = _ORIGIN_YEAR + cycles * _CYCLE_YEARS + offset
    if n < _FIRST_HALF:
        return JalaliDate(year=year, month=n // 31 + 1, day=n % 31 + 1)
    n -= _FIRST_HALF
    return JalaliDate(year=year, month=n // 30 + 7, day=n % 30 + 1)


def from_jalali(year: int, month: int, day: int) -> date:
    """The Gregorian date of a Jalali date (ValueError if it does not exist)."""
    return JalaliDate(year=year, month=month, day=day).to_gregorian()


def to_persian_digits(text: str) -> str:
    """Digits 0-9 written as Persian ones (Extended Arabic-Indic, U+06F0..U+06F9)."""
    return text.translate(_PERSIAN_DIGITS)


def to_arabic_digits(text: str) -> str:
    """Digits 0-9 written as Arabic ones (Arabic-Indic, U+0660..U+0669)."""
    return text.translate(_ARABIC_DIGITS)


def format_jalali(day: date, *, month_names: str = "", persian_digits: bool = False) -> str:
    """A Gregorian date shown in the Jalali calendar.

    ``month_names`` ``""`` gives ``1403/09/10``; ``"fa"`` gives ``10 آذر 1403`` and ``"en"``
    ``10 Azar 1403``. ``persian_digits`` writes the digits as Persian ones.
    """
    j = to_jalali(day)
    if month_names == "":
        text = str(j)
    elif month_names in ("fa", "en"):
        names = MONTHS_FA if month_names == "fa" else MONTHS_EN
        text = f"{j.day} {names[j.month - 1]} {j.year}"
    else:
        raise ValueError(f"month names {month_names!r}: expected '', 'fa' or 'en'")
    return to_persian_digits(text) if persian_digits else text
