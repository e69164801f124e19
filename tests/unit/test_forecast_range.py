"""Forecast accuracy of a range (tamas.wfm.accuracy) and its rows in the KPI listing."""

from __future__ import annotations

import pytest

from tamas.reporting.intervals import AgentInterval, QueueInterval
from tamas.reporting.kpi_list import WorkforceKpis, kpi_table
from tamas.reporting.settings import ReportSettings
from tamas.wfm.accuracy import RangeAccuracy, accuracy_by_queue, range_accuracy
from tamas.wfm.history import History

DAY = 86400
START = 1_800_000_000 - 1_800_000_000 % DAY  # a UTC midnight


def history(weeks: int, bump: float = 0.0) -> History:
    """``weeks`` weeks of 1 call every hour (4 intervals: 1, 0, 0, 0); the last interval
    of the first day of the last week gets ``bump`` more."""
    counts: list[float | None] = [1.0 if i % 4 == 0 else 0.0 for i in range(weeks * 7 * 96)]
    counts[(weeks - 1) * 7 * 96 + 95] = bump or 0.0
    return History(queue="q", start=float(START), counts=tuple(counts), zone="UTC")


def test_a_repeated_pattern_is_forecast_exactly_and_a_bump_is_the_error() -> None:
    h = history(5, bump=3.0)
    begin = START + 4 * 7 * DAY
    r = range_accuracy(h, start=begin, end=begin + 7 * DAY)
    # 24 calls a day for 7 days; the bump adds 3 where 0 was forecast
    assert r.intervals == 7 * 96 and r.actual == 7 * 24 + 3
    assert r.forecast == pytest.approx(7 * 24) and r.error == pytest.approx(3)
    assert r.wape == pytest.approx(3 / 171)
    # MAPE: 168 intervals with 1 call (error 0) and the bump's (|0 - 3| / 3 = 1): 1 / 169
    assert r.mape == pytest.approx(1 / 169) and r.with_calls == 169


def test_a_range_cut_short_and_too_little_history() -> None:
    h = history(5)
    begin = START + 4 * 7 * DAY
    r = range_accuracy(h, start=begin, end=begin + DAY // 2)  # half a day: 48 intervals
    assert r.intervals == 48 and r.wape == pytest.approx(0.0)
    early = range_accuracy(h, start=START + 7 * DAY, end=START + 14 * DAY)
    assert early.wape is None and "at least 14 days" in early.note


def test_the_report_sums_queues_and_the_kpi_rows() -> None:
    a = RangeAccuracy(queue="a", intervals=10, actual=100, forecast=90, error=20, wape=0.2,
                      mape=0.5, with_calls=4)  # fmt: skip
    b = RangeAccuracy(queue="b", intervals=10, actual=300, forecast=310, error=20, wape=1 / 15,
                      mape=0.1, with_calls=6)  # fmt: skip
    table = accuracy_by_queue([a, b], target=0.85)
    total = table.rows[-1]
    # WAPE (20 + 20) / (100 + 300); MAPE (0.5 * 4 + 0.1 * 6) / 10
    assert total["wape"] == pytest.approx(0.1) and total["mape"] == pytest.approx(0.26)
    assert total["accuracy"] == pytest.approx(0.9) and table.targets == {"accuracy": 0.85}
    settings = ReportSettings(targets={"forecast_wape": 0.15, "adherence": 0.95})
    kpis = {r["kpi"]: r for r in kpi_table(
        QueueInterval(queue="", start=0), AgentInterval(agent="", start=0), settings,
        workforce=WorkforceKpis(scheduled=True, adherence=0.92, conformance=1.01,
                                forecast_wape=0.2, forecast_mape=0.3)).rows}  # fmt: skip
    assert kpis["adherence"]["status"] == "low"  # the center's target 95 %
    assert kpis["forecast_wape"]["status"] == "high"  # a ceiling of 15 %
    assert kpis["forecast_accuracy"]["value"] == pytest.approx(0.8)
    plain = {r["kpi"]: r for r in kpi_table(
        QueueInterval(queue="", start=0), AgentInterval(agent="", start=0), ReportSettings(),
        workforce=WorkforceKpis(scheduled=True, adherence=0.91)).rows}  # fmt: skip
    assert plain["adherence"]["target_low"] == 0.9 and plain["adherence"]["status"] == "ok"
    none = kpi_table(QueueInterval(queue="", start=0), AgentInterval(agent="", start=0),
                     ReportSettings(), workforce=WorkforceKpis())  # fmt: skip
    assert "adherence" not in {r["kpi"] for r in none.rows}  # no schedules, no row
