"""KPI functions and the standard reports over the hand-built log (reportlog.py); each
expected value is worked out in the comment beside it."""

from __future__ import annotations

import pytest
from reportlog import B0, B1, LOG

from tamas.reporting import kpi
from tamas.reporting.aggregator import Aggregator
from tamas.reporting.intervals import AgentInterval, QueueInterval
from tamas.reporting.kpi import ReportSettings, SlFormula

SETTINGS = ReportSettings()


def rows() -> tuple[list[QueueInterval], list[AgentInterval]]:
    deltas = Aggregator(SETTINGS).feed(LOG)
    return list(deltas.queues.values()), list(deltas.agents.values())


def sales() -> QueueInterval:
    return next(r for r in rows()[0] if r.queue == "sales")


@pytest.mark.parametrize(
    ("formula", "short", "expected"),
    [
        # Sales: answered within 20 s = 2 (waits 15 and 10); answered 2; abandoned 2 (3 s, 60 s).
        (SlFormula.ANSWERED, 5.0, 2 / 2),
        (SlFormula.OFFERED, 5.0, 2 / (2 + 2)),
        # Abandoned after 20 s: only c3 (60 s) -> 2 / (2 + 1).
        (SlFormula.ABANDONED_AFTER, 5.0, 2 / 3),
        # Short abandons (< 5 s): c2 -> 2 / (2 + 2 - 1).
        (SlFormula.SHORT_EXCLUDED, 5.0, 2 / 3),
        # With short_abandon 2 s, c2 (3 s) is not short -> 2 / (2 + 2 - 0).
        (SlFormula.SHORT_EXCLUDED, 2.0, 2 / 4),
    ],
)
def test_service_level_formulas(formula: SlFormula, short: float, expected: float) -> None:
    settings = ReportSettings(sl_formula=formula, short_abandon=short)
    row = Aggregator(settings).feed(LOG).queues[("sales", B0)]
    assert kpi.service_level(row, settings) == pytest.approx(expected)


def test_service_level_threshold_picks_its_band() -> None:
    row = sales()
    # T = 10: only c4 (10 s) -> 1 / (2 + 2) with the default formula.
    assert kpi.service_level(row, ReportSettings(sl_threshold=10)) == pytest.approx(1 / 4)
    # T = 4 is below the first band (5 s): nothing is within it.
    assert kpi.service_level(row, ReportSettings(sl_threshold=4)) == 0.0


def test_queue_kpis_of_the_sales_row() -> None:
    row = sales()
    assert kpi.asa(row) == pytest.approx(12.5)  # (15 + 10) / 2
    assert kpi.avg_ring(row) == pytest.approx(2.0)  # (3 + 1) / 2
    assert kpi.aht(row) == pytest.approx(125.0)  # (200 talk + 20 hold + 30 ACW) / 2 handled
    assert kpi.avg_talk(row) == pytest.approx(100.0)  # 200 / 2
    assert kpi.avg_hold(row) == pytest.approx(10.0)  # 20 / 2
    assert kpi.avg_acw(row) == pytest.approx(15.0)  # 30 / 2
    assert kpi.abandon_rate(row) == pytest.approx(0.5)  # 2 abandoned / 4 offered
    assert kpi.short_abandon_rate(row) == pytest.approx(0.25)  # c2 / 4
    assert kpi.missed_rate(row) == pytest.approx(0.25)  # c3 rang a1, then abandoned / 4
    assert kpi.unanswered_rate(row) == pytest.approx(0.5)  # c1 and c3 rang a1 / 4
    assert kpi.transfer_rate(row) == 0.0  # the transfer was in support
    assert kpi.fcr(row) == pytest.approx(0.5)  # 1 - 1 repeat (c1) / 2 answered
    assert kpi.csat(row) == 1.0 and kpi.csat_score(row) == 5.0  # one answer, 5 of 5


def test_kpis_of_nothing_are_none() -> None:
    empty = QueueInterval(queue="q", start=0)
    assert kpi.service_level(empty, SETTINGS) is None
    assert kpi.asa(empty) is None and kpi.fcr(empty) is None and kpi.csat(empty) is None
    assert kpi.occupancy(AgentInterval(agent="a", start=0)) is None


def test_agent_kpis() -> None:
    agents = kpi.group_agent_rows(rows()[1], "agent")
    a1, a2 = agents
    # a1: busy = 100 talk; available 600 + 200 = 800; login 1200.
    assert kpi.occupancy(a1) == pytest.approx(100 / 900)
    assert kpi.utilization(a1) == pytest.approx(100 / 1200)
    # a2: busy = 160 + 20 + 30 = 210; available 690 + 900 = 1590; login 1800; no pauses.
    assert kpi.occupancy(a2) == pytest.approx(210 / 1800)
    assert kpi.utilization(a2) == pytest.approx(210 / 1800)
    assert kpi.aht(a2) == pytest.approx(105.0)  # 210 / 2 handled


def test_peak_interval() -> None:
    queues, _ = rows()
    assert kpi.peak_interval(queues) == (B0, 6)  # every call entered in the first 15 min
    assert kpi.peak_interval([]) is None
    later = QueueInterval(queue="q", start=B1, offered=7)
    assert kpi.peak_interval([*queues, later]) == (B1, 7)


def test_queue_report_table() -> None:
    queues, _ = rows()
    table = kpi.queue_report(queues, SETTINGS)
    assert [r["queue"] for r in table.rows] == ["sales", "support"]
    first = table.rows[0]
    assert (first["offered"], first["answered"], first["abandoned"]) == (4, 2, 2)
    assert first["service_level"] == pytest.approx(0.5)  # 2 / (2 + 2)
    assert first["answered_within_10"] == 1 and first["answered_within_20"] == 2
    assert table.targets["service_level"] == 0.8
    assert table.targets["abandon_rate_low"] == 0.05 and table.targets["abandon_rate_high"] == 0.08
    assert table.params["sl_formula"] == "offered"
    assert table.column("asa").kind.value == "seconds"
    total = kpi.queue_report(queues, SETTINGS, group_by="total")
    assert total.rows[0]["offered"] == 6 and "queue" not in total.rows[0]
    # support: 1 answered of 1 (30 s > 20 s: not within) and 0 abandoned -> SL 0.
    # all: within 2 / (answered 3 + abandoned 2) = 0.4.
    teams = kpi.queue_report(
        queues, SETTINGS, group_by="team", teams={"all": ["sales", "support"], "s": ["support"]}
    )
    assert [(r["team"], r["service_level"]) for r in teams.rows] == [
        ("all", pytest.approx(0.4)),
        ("s", 0.0),
    ]


def test_interval_report_sums_to_the_size() -> None:
    queues, _ = rows()
    table = kpi.interval_report(queues, SETTINGS, size=3600)
    assert [(r["start"], r["offered"]) for r in table.rows] == [(B0 // 3600 * 3600, 6)]
    with pytest.raises(ValueError, match="interval size"):
        kpi.interval_report(queues, SETTINGS, size=600)


def test_agent_report_has_a_column_per_pause_reason() -> None:
    _, agents = rows()
    table = kpi.agent_report(agents, SETTINGS)
    a1 = table.rows[0]
    assert a1["agent"] == "a1" and a1["pause:lunch"] == pytest.approx(300)  # 700..1000
    assert table.rows[1]["pause:lunch"] == 0.0  # a2 never paused
    assert a1["login"] == pytest.approx(1200) and a1["ring_missed"] == 2
    assert a1["occupancy"] == pytest.approx(100 / 900)
    by_day = kpi.agent_report(agents, SETTINGS, group_by="day", zone="Asia/Tehran")
    assert len(by_day.rows) == 1 and by_day.rows[0]["login"] == pytest.approx(3000)
    assert table.targets["occupancy_low"] == 0.6


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        ReportSettings(sl_threshold=-1)
    with pytest.raises(ValueError):
        ReportSettings(csat_satisfied=0)
    with pytest.raises(ValueError, match="grouping"):
        kpi.group_queue_rows(rows()[0], "month")  # type: ignore[arg-type]
