"""The AHT per forecast interval and the patience measured from handle-time samples (pure)."""

from __future__ import annotations

import pytest

from tamas.wfm.forecast import Forecast
from tamas.wfm.handle_time import (
    DEFAULT_AHT,
    HandleSample,
    HandleTimes,
    forecast_aht,
    measure_patience,
)

DAY = 86400
MONDAY = 20003  # 2024-10-07, a Monday (day 20000 was a Friday)


def at(day: int, hour: int) -> float:
    return float(day * DAY + hour * 3600)


def sample(day: int, hour: int, handled: int, each: float, **kw: float) -> HandleSample:
    return HandleSample(start=at(day, hour), handled=handled, seconds=handled * each, **kw)  # type: ignore[arg-type]


# The forecast: Monday 2024-10-07 from the 2 weeks before it (days 19989 .. 20002), UTC.
TIMES = [at(MONDAY, 9), at(MONDAY + 1, 9), at(MONDAY, 3), at(MONDAY + 2, 3)]
FC = Forecast(queue="sales", zone="UTC", interval=900, start=at(MONDAY, 0),
              intervals=tuple((t, 5.0) for t in TIMES), weeks=2, trend=1.0,
              unknown_slots=0)  # fmt: skip
HANDLE = HandleTimes(queue="sales", zone="UTC", samples=(
    # Mondays 09:00 of both weeks: 6 calls of 100 s each
    sample(MONDAY - 14, 9, 6, 100.0), sample(MONDAY - 7, 9, 6, 100.0),
    # Tuesdays 09:00: 2 calls of 400 s each (too few for the slot alone)
    sample(MONDAY - 13, 9, 2, 400.0), sample(MONDAY - 6, 9, 2, 400.0),
    # outside the 2 weeks weighed: ignored (3 weeks back, and the forecast day itself)
    sample(MONDAY - 21, 9, 100, 1000.0), sample(MONDAY, 9, 100, 1000.0),
))  # fmt: skip


def test_each_interval_takes_the_most_specific_pool_with_enough_calls() -> None:
    result = forecast_aht(HANDLE, FC)  # at least 10 handled calls per pool
    assert [(a, s) for _t, a, s in result.intervals] == [
        # Monday 09:00: its slot has 6 + 6 = 12 calls: 1200 s / 12 = 100 s
        (100.0, "interval"),
        # Tuesday 09:00: its slot has 2 + 2 = 4 < 10; 09:00 of every day has 12 + 4 = 16:
        # (1200 + 1600) / 16 = 175 s
        (175.0, "time_of_day"),
        # Monday 03:00: no call at 03:00 on any day; Mondays: 12 calls of 100 s
        (100.0, "weekday"),
        # Wednesday 03:00: no Wednesday at all; the whole window: 16 calls, 2800 s -> 175 s
        (175.0, "history"),
    ]
    assert [t for t, _a, _s in result.intervals] == TIMES
    assert (result.handled, result.overall) == (16, 175.0)
    assert result.sources() == {"interval": 1, "time_of_day": 1, "weekday": 1,
                                "history": 1, "default": 0}  # fmt: skip


def test_too_few_calls_anywhere_is_the_default() -> None:
    # 16 handled calls in the window < 20 asked: every interval takes 180 s
    result = forecast_aht(HANDLE, FC, min_handled=20)
    assert {(a, s) for _t, a, s in result.intervals} == {(DEFAULT_AHT, "default")}
    assert result.overall == 175.0  # still reported
    empty = forecast_aht(HandleTimes(queue="sales", zone="UTC", samples=()), FC)
    assert {(a, s) for _t, a, s in empty.intervals} == {(180.0, "default")}
    assert (empty.handled, empty.overall) == (0, None)
    with pytest.raises(ValueError, match="min_handled"):
        forecast_aht(HANDLE, FC, min_handled=0)


def test_slots_are_local_time() -> None:
    # Tehran is UTC+03:30: the UTC 05:30 samples are the local 09:00 slot of Monday.
    fc = Forecast(queue="q", zone="Asia/Tehran", interval=900,
                  start=at(MONDAY, 0) - 3.5 * 3600,
                  intervals=((at(MONDAY, 5) + 1800, 1.0), (at(MONDAY, 9), 1.0)), weeks=2,
                  trend=1.0, unknown_slots=0)  # fmt: skip
    times = HandleTimes(queue="q", zone="Asia/Tehran", samples=(
        HandleSample(start=at(MONDAY - 7, 5) + 1800, handled=10, seconds=1000.0),
        HandleSample(start=at(MONDAY - 7, 9), handled=10, seconds=3000.0),
    ))  # fmt: skip
    assert [(a, s) for _t, a, s in forecast_aht(times, fc).intervals] == [
        (100.0, "interval"), (300.0, "interval")]  # fmt: skip


def test_patience_is_the_waits_over_the_abandoned_calls() -> None:
    samples = tuple(
        sample(MONDAY - d, 9, 4, 100.0, abandoned=1, wait_abandoned=30.0, wait_answered=20.0)
        for d in range(1, 13)
    )  # 12 days, each 1 abandon after 30 s and 4 answered after 5 s
    times = HandleTimes(queue="sales", zone="UTC", samples=samples)
    measured = measure_patience(times, FC)
    # (12 x 30 + 12 x 20) / 12 abandoned = 50 s
    assert (measured.seconds, measured.abandoned, measured.waited) == (50.0, 12, 600.0)
    # fewer than 10 abandoned calls: no estimate
    few = measure_patience(HandleTimes(queue="sales", zone="UTC", samples=samples[:9]), FC)
    assert (few.seconds, few.abandoned) == (None, 9)
    assert measure_patience(times, FC, min_abandoned=13).seconds is None
