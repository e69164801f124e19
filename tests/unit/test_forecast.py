"""Forecast of next week's calls per 15-minute interval, and its accuracy on held-out weeks.

Histories are synthetic: a known rate per local slot (weekday x time of day) and Poisson
counts drawn from it with a fixed seed, so the forecast can be compared with the truth.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tamas.core.events import LogRecord
from tamas.reporting.table import Kind
from tamas.wfm.forecast import ForecastError, accuracy, accuracy_table, forecast
from tamas.wfm.history import History, count_arrivals, from_slot_counts

ZONE = "Europe/Berlin"
TZ = ZoneInfo(ZONE)
Rate = Callable[[datetime], float]


def office(local: datetime) -> float:
    """Calls expected in a 15-minute interval: open 08-20, peaks at 10:30 and 15:00,
    Mondays 30 % busier, weekends half."""
    hour = local.hour + local.minute / 60
    if hour < 8 or hour >= 20:
        return 0.0
    base = 60 * math.exp(-(((hour - 10.5) / 2) ** 2)) + 35 * math.exp(-(((hour - 15) / 1.5) ** 2))
    day = local.weekday()
    return base * (1.3 if day == 0 else 0.5 if day >= 5 else 1.0)


def afternoon(local: datetime) -> float:
    """Another pattern: one peak at 16:00."""
    hour = local.hour + local.minute / 60
    if hour < 8 or hour >= 20:
        return 0.0
    return 80 * math.exp(-(((hour - 16) / 2) ** 2))


def midnight(year: int, month: int, day: int) -> float:
    return datetime(year, month, day, tzinfo=TZ).timestamp()


def make_history(rate: Callable[[float], float], start: float, days: int, seed: int = 1) -> History:
    """Poisson counts per interval for ``days`` days (of 24 h) from ``start``."""
    rng = np.random.default_rng(seed)
    n = days * 96
    counts = tuple(float(rng.poisson(rate(start + i * 900))) for i in range(n))
    return History(queue="q", start=start, counts=counts, zone=ZONE)


def local_rate(pattern: Rate) -> Callable[[float], float]:
    return lambda t: pattern(datetime.fromtimestamp(t, TZ))


def wape(pairs: list[tuple[float, float]]) -> float:
    return sum(abs(f - a) for f, a in pairs) / sum(a for _f, a in pairs)


def against(fc_intervals: tuple[tuple[float, float], ...], truth: Callable[[float], float]):  # type: ignore[no-untyped-def]
    return [(f, truth(t)) for t, f in fc_intervals]


# 2024-09-02 is a Monday; no daylight-saving change until 2024-10-27.
START = midnight(2024, 9, 2)


def test_known_weekly_pattern_is_forecast_closely() -> None:
    truth = local_rate(office)
    history = make_history(truth, START, days=42)  # 6 weeks
    fc = forecast(history)
    assert fc.start == midnight(2024, 10, 14)  # the Monday after the 6 weeks
    assert len(fc.intervals) == 7 * 96 and fc.unknown_slots == 0
    assert fc.trend == 1.0  # no trend in the data, none found significant
    # The weighted mean of 4 weeks (weights 4,3,2,1) of Poisson counts has a variance of
    # lambda * (16+9+4+1)/100 = 0.3 lambda; at lambda ~ 30-80 per interval that is a
    # relative sd of sqrt(0.3 / lambda): 6 % at 80, 10 % at 30, 25 % at 5 (the shoulders of
    # the day); E|error| ~ 0.8 sd: WAPE ~ 8 % (seeds 1-3 gave 7.6-8.3 %).
    err = wape(against(fc.intervals, truth))
    assert err < 0.1, err
    # Whole-week total: sd sqrt(0.3 * 16 000) = 69 calls of ~16 000.
    expected_total = sum(truth(t) for t, _f in fc.intervals)
    assert fc.total == pytest.approx(expected_total, rel=0.02)


def test_accuracy_on_held_out_weeks() -> None:
    truth = local_rate(office)
    history = make_history(truth, START, days=42)
    result = accuracy(history, holdout_weeks=2)
    assert [d.day for d in result.days][:2] == ["2024-09-30", "2024-10-01"]
    assert len(result.days) == 14
    # Against Poisson actuals the floor is the actuals' own noise: E|N - lambda| / lambda
    # ~ sqrt(2 / (pi lambda)) ~ 9-15 % at these volumes, plus the forecast's ~6 %.
    assert result.wape is not None and 0.05 < result.wape < 0.2, result.wape
    assert result.mape is not None and result.mape >= result.wape * 0.8
    assert result.actual == pytest.approx(sum(d.actual for d in result.days))
    table = accuracy_table(result)
    assert table.rows[-1]["day"] == "overall"
    assert table.rows[-1]["wape"] == result.wape
    assert table.column("wape").kind is Kind.RATIO


def test_a_pattern_shift_is_followed() -> None:
    # Weeks 1-3 follow ``office``, weeks 4-6 ``afternoon``: the forecast weighs the last
    # 3 weeks 4+3+2 = 9 of 10, so it sits within ~10 % of the new pattern.
    old, new = local_rate(office), local_rate(afternoon)
    switch = START + 21 * 86400
    history = make_history(lambda t: old(t) if t < switch else new(t), START, days=42)
    fc = forecast(history)
    to_new = wape(against(fc.intervals, new))
    to_old = wape(against(fc.intervals, old))
    assert to_new < 0.15, to_new
    assert to_old > 0.4, to_old


def test_a_steady_growth_is_followed_by_the_trend_factor() -> None:
    # +8 % a week for 6 weeks. The weighted mean sits at mean age 1 week (weights 4,3,2,1
    # on ages 0..3), i.e. 1.08**2 = 1.166 below the forecast week; half of the extrapolated
    # ratio is applied: factor ~ 1 + 0.5 * 0.166 = 1.083.
    base = local_rate(office)

    def growing(t: float) -> float:
        return base(t) * 1.08 ** ((t - START) // (7 * 86400))

    history = make_history(growing, START, days=42)
    fc = forecast(history)
    assert 1.05 < fc.trend < 1.12, fc.trend
    truth_total = sum(growing(t) for t, _f in fc.intervals)  # week 7: 1.08**6
    no_trend_total = fc.total / fc.trend
    assert abs(fc.total - truth_total) < abs(no_trend_total - truth_total)


def test_too_little_history_is_a_clear_error() -> None:
    history = make_history(local_rate(office), START, days=10)
    with pytest.raises(ForecastError, match=r"at least 14 days of history.*there are 10"):
        forecast(history)
    three_weeks = make_history(local_rate(office), START, days=21)
    forecast(three_weeks)  # enough for a forecast
    with pytest.raises(ForecastError, match="hold-out week from 2024-09-09"):
        accuracy(three_weeks, holdout_weeks=2)  # the first hold-out has 7 days before it
    with pytest.raises(ForecastError, match="weeks must be at least 2"):
        forecast(three_weeks, weeks=1)


def test_gaps_and_outage_days_are_left_out() -> None:
    truth = local_rate(office)
    history = make_history(truth, START, days=42)
    counts = list(history.counts)
    # Week 5's Monday (2024-09-30) unknown; week 6's Monday (2024-10-07): no call at all
    # (an outage); scattered unknown intervals on other days.
    monday5 = int((midnight(2024, 9, 30) - START) // 900)
    monday6 = int((midnight(2024, 10, 7) - START) // 900)
    counts[monday5 : monday5 + 96] = [None] * 96
    counts[monday6 : monday6 + 96] = [0.0] * 96
    for i in range(100, len(counts), 37):
        counts[i] = None
    gappy = History(queue="q", start=START, counts=tuple(counts), zone=ZONE)
    fc = forecast(gappy)
    monday = [(f, truth(t)) for t, f in fc.intervals[:96]]
    # Mondays from weeks 4 and 3 only (weights 2 and 1): without the outage rule the zero
    # Monday (weight 4) would pull the forecast down to ~(2+1)/(4+2+1) = 43 %.
    assert sum(f for f, _a in monday) == pytest.approx(sum(a for _f, a in monday), rel=0.05)
    assert wape(against(fc.intervals, truth)) < 0.1


def test_a_slot_never_observed_is_zero_and_counted() -> None:
    history = make_history(local_rate(office), START, days=28)
    counts = list(history.counts)
    # Tuesday 10:00 local (slot 40) unknown in every week.
    for week in range(4):
        counts[week * 7 * 96 + 96 + 40] = None
    fc = forecast(History(queue="q", start=START, counts=tuple(counts), zone=ZONE))
    assert fc.unknown_slots == 1
    assert fc.intervals[96 + 40][1] == 0.0


def test_daylight_saving_weeks() -> None:
    truth = local_rate(office)
    # History to Saturday 2024-10-26; the forecast week (from Sunday 2024-10-27) has the
    # day clocks go back: 25 hours, 100 intervals, 02:00-02:45 twice.
    history = make_history(truth, START, days=55)
    fc = forecast(history)
    assert fc.start == midnight(2024, 10, 27)
    assert len(fc.intervals) == 7 * 96 + 4
    # Every forecast interval's local time matches the pattern: peak at 10:30 local on the
    # Monday after the change (UTC+1) as before it (UTC+2).
    monday = [(t, f) for t, f in fc.intervals if datetime.fromtimestamp(t, TZ).day == 28]
    peak = max(monday, key=lambda item: item[1])[0]
    assert datetime.fromtimestamp(peak, TZ).hour in (10, 11)
    assert wape(against(fc.intervals, truth)) < 0.1  # as in the first test
    # Spring: history 2025-03-02..03-29, forecast from Sunday 2025-03-30, a 23-hour day
    # (92 intervals).
    spring = make_history(truth, midnight(2025, 3, 2), days=28, seed=3)
    fc2 = forecast(spring)
    assert fc2.start == midnight(2025, 3, 30)
    assert len(fc2.intervals) == 7 * 96 - 4
    # A hold-out week with the spring change in it (2025-03-24..30), scored per interval.
    longer = make_history(truth, midnight(2025, 3, 3), days=28, seed=4)
    result = accuracy(longer, holdout_weeks=1)
    assert [d.day for d in result.days][-1] == "2025-03-30"
    assert len(result.days) == 7
    assert result.wape is not None and result.wape < 0.25


def test_other_zone_with_half_hour_offset() -> None:
    # Asia/Tehran is UTC+03:30 (no daylight saving since 2022): local slots are still
    # whole quarter hours of the epoch.
    tehran = ZoneInfo("Asia/Tehran")
    begin = datetime(2025, 1, 4, tzinfo=tehran).timestamp()  # a Saturday
    rng = np.random.default_rng(5)
    counts = tuple(
        float(rng.poisson(office(datetime.fromtimestamp(begin + i * 900, tehran))))
        for i in range(21 * 96)
    )
    fc = forecast(History(queue="q", start=begin, counts=counts, zone="Asia/Tehran"))
    assert fc.start == begin + 21 * 86400
    first_open = next(t for t, f in fc.intervals if f > 0)
    assert datetime.fromtimestamp(first_open, tehran).strftime("%H:%M") == "08:00"


def test_count_arrivals_per_queue_and_interval() -> None:
    def rec(at: float, queue: str, event: str = "ENTERQUEUE") -> LogRecord:
        return LogRecord(at=at, call_id=f"c{at}", queue=queue, event=event)

    base = 1_700_000_100.0  # 100 s after a quarter hour (1_700_000_000 = 1888888 * 900 + 800)
    quarter = math.floor(base / 900) * 900
    records = [
        rec(quarter + 1, "sales"),
        rec(quarter + 899.9, "sales"),
        rec(quarter + 900, "sales"),  # next interval
        rec(quarter + 3 * 900 + 5, "sales"),  # one empty interval before it
        rec(quarter + 10, "support"),
        rec(quarter + 20, "sales", "CONNECT"),  # not an arrival
    ]
    got = count_arrivals(records, zone=ZONE)
    assert sorted(got) == ["sales", "support"]
    assert got["sales"].start == quarter
    assert got["sales"].counts == (2.0, 1.0, 0.0, 1.0)
    assert got["support"].counts == (1.0, 0.0, 0.0, 0.0)  # same range for every queue
    only = count_arrivals(records, zone=ZONE, queue="support", start=quarter, end=quarter + 1800)
    assert only["support"].counts == (1.0, 0.0)
    assert count_arrivals([], zone=ZONE) == {}
    slots = from_slot_counts({"x": {10: 3, 12: 1}}, zone=ZONE)
    assert slots["x"].start == 9000 and slots["x"].counts == (3.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="unknown time zone"):
        count_arrivals(records, zone="Mars/Olympus")


def test_history_refuses_bad_shapes() -> None:
    with pytest.raises(ValueError):
        History(queue="q", start=100.0, counts=(1.0,), zone=ZONE)  # not on an interval
    with pytest.raises(ValueError):
        History(queue="q", start=0.0, counts=(-1.0,), zone=ZONE)
    with pytest.raises(ValueError):
        History(queue="q", start=0.0, counts=(1.0,), zone=ZONE, interval=7 * 60)
    assert list(History(queue="q", start=0.0, counts=(1.0, None), zone=ZONE).items()) == [
        (0.0, 1.0),
        (900.0, None),
    ]


def test_forecast_ignores_days_after_history_when_start_given() -> None:
    # A start beyond the history: the training window holds only what it has.
    history = make_history(local_rate(office), START, days=28)
    later = midnight(2024, 10, 14)  # 14 days after the history's end: 2 weeks in window
    fc = forecast(history, start=later)
    assert fc.start == later
    with pytest.raises(ForecastError):
        forecast(history, start=later + timedelta(days=7).total_seconds())
