"""Next week's calls per interval from history, and how accurate that method was.

Theory of operation
-------------------
Call volume repeats by the week: Monday 10:00 looks like last Monday 10:00 more than like
anything else. So the forecast of an interval is a weighted average of *the same local slot*
(weekday x time of day) over the last ``weeks`` weeks, scaled by a trend factor:

* **Slots are local.** An interval's slot is the weekday and wall-clock time of its start in
  the center's time zone (:mod:`zoneinfo`), so 09:00 stays 09:00 across daylight-saving
  changes. On the day clocks go back, the repeated hour gives two observations of the same
  slot in one week (their mean is used); on the day clocks go forward, the skipped slots have
  no observation that week. The forecast week is laid out the same way: each real
  15-minute interval of each local day gets its slot's value, so a forecast day has 92 or
  100 intervals when it is a daylight-saving day.
* **Weights.** Week 1 (the most recent) weighs ``weeks``, week 2 ``weeks - 1``, ... the
  oldest 1: recent weeks count more (a changed pattern is followed within a couple of weeks)
  but no single week decides (noise is averaged out).
* **Gaps.** An interval whose count is unknown (``None`` in the history, or outside it) is
  left out of its slot's average; the other weeks' weights are renormalized. A local day
  with no call at all while the same weekday of the other weeks has a median of at least
  ``MIN_DAY_CALLS`` calls is an outage or a holiday, not a pattern: it is treated as unknown
  too. A slot with no observation in any week is forecast as 0 (``Forecast.unknown_slots``).
* **Trend.** Each week's total (corrected for its unknown intervals) is regressed on its age
  with the same weights. The weighted average sits at the weights' mean age, one to two
  weeks back, so a real trend would be missed by that much; when the slope is significant
  (more than twice its standard error, at least 3 weeks) half of the extrapolation to the
  forecast week is applied, limited to x0.8..x1.25 (``Forecast.trend``). Half, because a
  one-off level step also looks like a slope over a few weeks.

Accuracy (:func:`accuracy`) is measured the honest way: for each of the last
``holdout_weeks`` complete weeks, forecast it from the history *before* it only and compare
with what happened. WAPE = sum |forecast - actual| / sum actual (the error per call, robust
to quiet intervals); MAPE = mean of |forecast - actual| / actual over intervals with calls
(shown for comparison; small counts inflate it). Both per local day and overall.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from tamas.core.errors import TamasError
from tamas.reporting.table import Column, Kind, Table
from tamas.wfm.history import History, zone_of

__all__ = [
    "DAY_MIN_HISTORY",
    "MIN_DAY_CALLS",
    "Accuracy",
    "DayAccuracy",
    "Forecast",
    "ForecastError",
    "accuracy",
    "accuracy_table",
    "day_of",
    "forecast",
    "local_slot",
    "midnight",
]

#: Days with data the training weeks must hold.
DAY_MIN_HISTORY = 14
#: A day with no calls counts as an outage when its weekday's median is at least this.
MIN_DAY_CALLS = 10.0
_TREND_LIMITS = (0.8, 1.25)
_TREND_SHARE = 0.5

Slot = tuple[int, int]  # (weekday Monday=0, interval of the local day)


class ForecastError(TamasError, ValueError):
    """The history cannot give a forecast (too little of it, bad parameters)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Forecast:
    """Expected calls per interval over ``days`` local days from ``start``."""

    queue: str
    zone: str
    interval: int
    #: Local midnight that begins the forecast, epoch seconds.
    start: float
    #: ``(interval start, expected calls)`` in time order.
    intervals: tuple[tuple[float, float], ...]
    #: Training weeks used and the factor applied for the trend (1.0: none).
    weeks: int
    trend: float
    #: Slots with no observation in any training week (forecast as 0).
    unknown_slots: int

    @property
    def total(self) -> float:
        return math.fsum(c for _t, c in self.intervals)


@dataclass(frozen=True, slots=True, kw_only=True)
class DayAccuracy:
    day: str  # local date, ISO
    start: float  # its local midnight, epoch seconds
    actual: float
    forecast: float
    wape: float | None
    mape: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Accuracy:
    """Forecast error on held-out weeks, per local day and overall."""

    queue: str
    holdout_weeks: int
    weeks: int
    days: tuple[DayAccuracy, ...]
    actual: float
    forecast: float
    wape: float | None
    mape: float | None


def forecast(
    history: History, *, weeks: int = 4, start: float | None = None, days: int = 7
) -> Forecast:
    """Forecast ``days`` local days from ``start`` (default: the local midnight at or after
    the end of the history) from the ``weeks`` weeks before it."""
    if weeks < 2:
        raise ForecastError(f"weeks must be at least 2, not {weeks}")
    if days < 1:
        raise ForecastError(f"days must be at least 1, not {days}")
    tz = zone_of(history.zone)
    first_day = _midnight_after(history.end, tz) if start is None else _day_of(start, tz)
    begin = _midnight(first_day, tz)
    observed = _observe(history, tz, first_day, weeks)
    known_days = {d for (d, _slot) in observed}
    if len(known_days) < DAY_MIN_HISTORY:
        raise ForecastError(
            f"queue {history.queue}: a forecast needs at least {DAY_MIN_HISTORY} days of "
            f"history in the {weeks} weeks before {first_day.isoformat()}; "
            f"there are {len(known_days)}"
        )
    by_week = _by_week(observed, first_day, weeks)
    profile = _profile(by_week, weeks)
    trend = _trend(by_week, profile, weeks)
    out: list[tuple[float, float]] = []
    unknown: set[Slot] = set()
    for t, slot in _layout(first_day, days, tz, history.interval):
        value = profile.get(slot)
        if value is None:
            unknown.add(slot)
            value = 0.0
        out.append((t, value * trend))
    return Forecast(queue=history.queue, zone=history.zone, interval=history.interval,
                    start=begin, intervals=tuple(out), weeks=weeks, trend=trend,
                    unknown_slots=len(unknown))  # fmt: skip


def accuracy(history: History, holdout_weeks: int = 1, *, weeks: int = 4) -> Accuracy:
    """Forecast each of the last ``holdout_weeks`` complete local weeks of ``history`` from
    the history before it, and measure the error against what happened."""
    if holdout_weeks < 1:
        raise ForecastError(f"holdout_weeks must be at least 1, not {holdout_weeks}")
    tz = zone_of(history.zone)
    end_day = _day_of(history.end, tz)  # the last complete local day ends at its midnight
    rows: list[DayAccuracy] = []
    errors: list[float] = []
    actual_total = forecast_total = 0.0
    ape: list[float] = []
    actual = dict(history.items())
    for h in range(holdout_weeks, 0, -1):
        first = end_day - timedelta(days=7 * h)
        begin = _midnight(first, tz)
        train = _before(history, begin)
        try:
            predicted = forecast(train, weeks=weeks, start=begin)
        except ForecastError as exc:
            raise ForecastError(f"hold-out week from {first.isoformat()}: {exc}") from None
        per_day: dict[date, list[tuple[float, float]]] = {}
        for t, f in predicted.intervals:
            a = actual.get(t)
            if a is None:
                continue  # unknown: not scored
            per_day.setdefault(_day_of(t, tz), []).append((f, a))
        for day, pairs in sorted(per_day.items()):
            day_actual = math.fsum(a for _f, a in pairs)
            day_forecast = math.fsum(f for f, _a in pairs)
            day_err = math.fsum(abs(f - a) for f, a in pairs)
            day_ape = [abs(f - a) / a for f, a in pairs if a > 0]
            rows.append(DayAccuracy(
                day=day.isoformat(), start=_midnight(day, tz), actual=day_actual,
                forecast=day_forecast, wape=day_err / day_actual if day_actual else None,
                mape=statistics.fmean(day_ape) if day_ape else None,
            ))  # fmt: skip
            errors.append(day_err)
            actual_total += day_actual
            forecast_total += day_forecast
            ape.extend(day_ape)
    error_total = math.fsum(errors)
    return Accuracy(queue=history.queue, holdout_weeks=holdout_weeks, weeks=weeks,
                    days=tuple(rows), actual=actual_total, forecast=forecast_total,
                    wape=error_total / actual_total if actual_total else None,
                    mape=statistics.fmean(ape) if ape else None)  # fmt: skip


def accuracy_table(result: Accuracy) -> Table:
    """Per-day accuracy rows and an ``overall`` row, as a report table."""
    cols = (
        Column(key="day", title="Day", kind=Kind.TEXT, description="local date (or overall)"),
        Column(key="start", title="Start", kind=Kind.TIME, description="local midnight"),
        Column(key="actual", title="Actual", kind=Kind.FLOAT, description="calls that came"),
        Column(key="forecast", title="Forecast", kind=Kind.FLOAT, description="calls forecast"),
        Column(key="wape", title="WAPE", kind=Kind.RATIO,
               description="sum |forecast - actual| / sum actual over the day's intervals"),
        Column(key="mape", title="MAPE", kind=Kind.RATIO,
               description="mean |forecast - actual| / actual over intervals with calls"),
    )  # fmt: skip
    rows = [
        {"day": d.day, "start": d.start, "actual": d.actual, "forecast": round(d.forecast, 3),
         "wape": d.wape, "mape": d.mape}
        for d in result.days
    ]  # fmt: skip
    rows.append({"day": "overall", "start": None, "actual": result.actual,
                 "forecast": round(result.forecast, 3), "wape": result.wape,
                 "mape": result.mape})  # fmt: skip
    return Table(name="forecast_accuracy", title="Forecast accuracy on held-out weeks",
                 columns=cols, rows=tuple(rows),
                 params={"queue": result.queue, "holdout_weeks": result.holdout_weeks,
                         "weeks": result.weeks})  # fmt: skip


# -- local days and slots -------------------------------------------------------------------


def _day_of(t: float, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(t, tz).date()


def _midnight(day: date, tz: ZoneInfo) -> float:
    # A midnight skipped by a daylight-saving change (fold=0) maps to the instant of the jump.
    return datetime.combine(day, clock_time(0), tzinfo=tz).timestamp()


def _midnight_after(t: float, tz: ZoneInfo) -> date:
    """The local day that starts at or after ``t``."""
    day = _day_of(t, tz)
    return day if _midnight(day, tz) >= t else day + timedelta(days=1)


def _slot(t: float, tz: ZoneInfo, interval: int) -> tuple[date, Slot]:
    local = datetime.fromtimestamp(t, tz)
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    return local.date(), (local.weekday(), seconds // interval)


def _layout(first: date, days: int, tz: ZoneInfo, interval: int) -> Iterator[tuple[float, Slot]]:
    """Every real interval of ``days`` local days from ``first``, with its slot."""
    for offset in range(days):
        day = first + timedelta(days=offset)
        t, end = _midnight(day, tz), _midnight(day + timedelta(days=1), tz)
        while t < end:
            yield t, _slot(t, tz, interval)[1]
            t += interval


def _before(history: History, end: float) -> History:
    keep = max(0, min(len(history.counts), int((end - history.start) // history.interval)))
    return History(queue=history.queue, start=history.start, counts=history.counts[:keep],
                   zone=history.zone, interval=history.interval)  # fmt: skip


#: The local-day helpers, for the modules that lay out history the same way (handle times).
day_of = _day_of
midnight = _midnight
local_slot = _slot


# -- the method -----------------------------------------------------------------------------


def _observe(
    history: History, tz: ZoneInfo, first_day: date, weeks: int
) -> dict[tuple[date, Slot], list[float]]:
    """Known counts of the training window by (local day, slot); outage days removed."""
    low = _midnight(first_day - timedelta(days=7 * weeks), tz)
    high = _midnight(first_day, tz)
    observed: dict[tuple[date, Slot], list[float]] = {}
    for t, count in history.items():
        if count is None or not low <= t < high:
            continue
        day, slot = _slot(t, tz, history.interval)
        observed.setdefault((day, slot), []).append(count)
    totals: dict[date, float] = {}
    for key, values in observed.items():
        day = key[0]
        totals[day] = totals.get(day, 0.0) + math.fsum(values)
    by_weekday: dict[int, list[float]] = {}
    for day, total in totals.items():
        by_weekday.setdefault(day.weekday(), []).append(total)
    outages = {
        day
        for day, total in totals.items()
        if total == 0 and statistics.median(by_weekday[day.weekday()]) >= MIN_DAY_CALLS
    }
    return {key: v for key, v in observed.items() if key[0] not in outages}


def _by_week(
    observed: dict[tuple[date, Slot], list[float]], first_day: date, weeks: int
) -> list[dict[Slot, float]]:
    """Index 0 = the most recent week: slot -> mean count in that week."""
    out: list[dict[Slot, float]] = [{} for _ in range(weeks)]
    for (day, slot), values in observed.items():
        age = ((first_day - day).days - 1) // 7
        out[age][slot] = statistics.fmean(values)
    return out


def _weights(weeks: int) -> list[float]:
    return [float(weeks - age) for age in range(weeks)]


def _profile(by_week: list[dict[Slot, float]], weeks: int) -> dict[Slot, float]:
    weights = _weights(weeks)
    sums: dict[Slot, float] = {}
    norms: dict[Slot, float] = {}
    for age, week in enumerate(by_week):
        for slot, value in week.items():
            sums[slot] = sums.get(slot, 0.0) + weights[age] * value
            norms[slot] = norms.get(slot, 0.0) + weights[age]
    return {slot: sums[slot] / norms[slot] for slot in sums}


def _trend(by_week: list[dict[Slot, float]], profile: dict[Slot, float], weeks: int) -> float:
    whole = math.fsum(profile.values())
    if whole <= 0:
        return 1.0
    points: list[tuple[float, float, float]] = []  # (age, total, weight)
    for age, week in enumerate(by_week):
        expected = math.fsum(profile[s] for s in week)
        if expected <= 0 or expected < 0.5 * whole:
            continue  # too little of that week is known to judge its total
        points.append((float(age), math.fsum(week.values()) * whole / expected, weeks - age))
    if len(points) < 3:
        return 1.0
    return _damped_factor(points)


def _damped_factor(points: Iterable[tuple[float, float, float]]) -> float:
    pts = list(points)
    w_sum = math.fsum(w for _a, _t, w in pts)
    mean_age = math.fsum(w * a for a, _t, w in pts) / w_sum
    mean_total = math.fsum(w * t for _a, t, w in pts) / w_sum
    sxx = math.fsum(w * (a - mean_age) ** 2 for a, _t, w in pts)
    if sxx <= 0 or mean_total <= 0:
        return 1.0
    slope = math.fsum(w * (a - mean_age) * (t - mean_total) for a, t, w in pts) / sxx
    # Weighted least squares: the unit-weight residual variance over n - 2 degrees of freedom.
    squares = math.fsum(w * (t - mean_total - slope * (a - mean_age)) ** 2 for a, t, w in pts)
    residual = squares / (len(pts) - 2)
    se = math.sqrt(residual / sxx)
    if abs(slope) <= 2 * se:
        return 1.0
    projected = mean_total + slope * (-1.0 - mean_age)  # age -1: the forecast week
    factor = 1.0 + _TREND_SHARE * (projected / mean_total - 1.0)
    return min(max(factor, _TREND_LIMITS[0]), _TREND_LIMITS[1])
