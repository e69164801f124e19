"""The agents' 15-minute rows summed over every agent (center_agent_intervals and
center_agent_pause_intervals, migration 0012) on SQLite and PostgreSQL: the same agent
report per interval as the agents' own rows, kept exactly once by apply, a restart of the
maintainer and a rebuild, filled by the upgrade."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from reportlog import LOG, T0
from test_report_hours import BERLIN, MAR28, TEHRAN, calls, fold

from tamas.core.events import NONE, LogRecord
from tamas.reporting import kpi
from tamas.reporting.aggregator import Aggregator
from tamas.reporting.intervals import AgentInterval
from tamas.reporting.settings import ReportSettings
from tamas.runtime.reports import ReportMaintainer
from tamas.store import Store, migrate, open_store, reports
from tamas.store import events as store_events

SETTINGS = ReportSettings()
Flat = dict[tuple[object, ...], float]


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


def shifts(first: float, hours: int) -> list[LogRecord]:
    """``calls`` (agent "a" answers them) and agent "b", logged in from ``first`` for
    ``hours`` hours, pausing 10 minutes every hour from :50 ("break", every third hour
    "lunch"), so pauses cross the 15-minute boundary at the hour."""
    log = calls(first, hours)
    extra = [LogRecord(seq=0, at=first, call_id="", queue=NONE, agent="b", event="AGENTLOGIN",
                       data=("dev-b",))]  # fmt: skip
    for h in range(hours):
        reason = "lunch" if h % 3 == 2 else "break"
        at = first + h * 3600 + 3000
        extra.append(LogRecord(seq=0, at=at, call_id="", queue=NONE, agent="b", event="PAUSE",
                               data=(reason,)))  # fmt: skip
        extra.append(LogRecord(seq=0, at=at + 600, call_id="", queue=NONE, agent="b",
                               event="UNPAUSE"))  # fmt: skip
    merged = sorted([*log, *extra], key=lambda r: r.at)
    return [
        LogRecord(seq=i + 1, at=r.at, call_id=r.call_id, queue=r.queue, agent=r.agent,
                  event=r.event, data=r.data)
        for i, r in enumerate(merged)
    ]  # fmt: skip


def agent_quarters(engine: sa.Engine, start: float, end: float) -> list[AgentInterval]:
    """Every agent's 15-minute rows with start in [start, end), pauses by reason, as stored."""
    rows, pauses = reports.agent_intervals, reports.agent_pause_intervals
    with engine.connect() as conn:
        paused: dict[tuple[str, int], dict[str, float]] = {}
        for p in conn.execute(
            sa.select(pauses).where(pauses.c.start >= start, pauses.c.start < end)
        ):
            paused.setdefault((p.agent, int(p.start)), {})[p.reason] = float(p.seconds)
        return [
            AgentInterval.from_columns(
                r.agent, int(r.start), r._mapping, paused.get((r.agent, int(r.start)))
            )
            for r in conn.execute(sa.select(rows).where(rows.c.start >= start, rows.c.start < end))
        ]


def center_tables(engine: sa.Engine) -> Flat:
    """Both center agent tables as {(start, column or "pause:REASON"): value}."""
    with engine.connect() as conn:
        out: Flat = {
            (int(r.start), k): float(v)
            for r in conn.execute(sa.select(reports.center_agent_intervals))
            for k, v in r._mapping.items()
            if k != "start"
        }
        for p in conn.execute(sa.select(reports.center_agent_pause_intervals)):
            out[(int(p.start), f"pause:{p.reason}")] = float(p.seconds)
    return out


def center_from_agents(engine: sa.Engine) -> Flat:
    """What the center agent tables must hold: the agents' rows added per start."""
    summed: dict[int, AgentInterval] = {}
    for row in agent_quarters(engine, 0, 2**40):
        summed.setdefault(row.start, AgentInterval(agent="", start=row.start)).add(row)
    out: Flat = {}
    for s, row in summed.items():
        out.update({(s, n): float(v) for n, v in row.columns().items()})
        out.update({(s, f"pause:{k}"): v for k, v in row.paused_by.items()})
    return out


def reference(
    engine: sa.Engine, start: float, end: float, zone: str, size: int
) -> list[AgentInterval]:
    """The agents per interval summed in Python from the agents' own 15-minute rows."""
    return kpi.group_agent_rows(agent_quarters(engine, start, end), "interval", size=size,
                                zone=zone)  # fmt: skip


def per_interval(
    engine: sa.Engine, start: float, end: float, zone: str, size: int, agents: list[str] | None
) -> list[AgentInterval]:
    return reports.agent_rows(engine, start, end, group_by="interval", size=size, zone=zone,
                              agents=agents)  # fmt: skip


def same(got: list[AgentInterval], want: list[AgentInterval]) -> None:
    assert [r.start for r in got] == [r.start for r in want]
    for g, w in zip(got, want, strict=True):
        assert g.columns() == pytest.approx(w.columns())
        assert g.paused_by == pytest.approx(w.paused_by)


@pytest.mark.parametrize("zone", [BERLIN, TEHRAN])
def test_center_agent_rows_are_the_agents_summed(store: Store, zone: str) -> None:
    engine = store.engine
    fold(engine, shifts(MAR28, 30), 89, zone)  # across Berlin's spring change
    center = center_tables(engine)
    assert center == pytest.approx(center_from_agents(engine))
    # b pauses 10 minutes an hour: 20 of the 30 pauses for a break, 10 for lunch
    assert sum(v for k, v in center.items() if k[1] == "pause:break") == pytest.approx(20 * 600)
    assert sum(v for k, v in center.items() if k[1] == "pause:lunch") == pytest.approx(10 * 600)
    edge = 7 * 3600 + 1200
    for lo, hi in ((MAR28, MAR28 + 30 * 3600), (MAR28 + edge, MAR28 + 29 * 3600 - edge)):
        for size in (900, 1800, 3600):
            got = per_interval(engine, lo, hi, zone, size, None)
            same(got, reference(engine, lo, hi, zone, size))
            same(per_interval(engine, lo, hi, zone, size, ["a", "b"]), got)
            table = kpi.agent_report(got, SETTINGS, group_by="interval", size=size, zone=zone)
            want = kpi.agent_report(reference(engine, lo, hi, zone, size), SETTINGS,
                                    group_by="interval", size=size, zone=zone)  # fmt: skip
            assert [r["start"] for r in table.rows] == [r["start"] for r in want.rows]
            for g, w in zip(table.rows, want.rows, strict=True):
                assert g == pytest.approx(w)


def test_the_hand_built_log_gives_the_same_agent_intervals(store: Store) -> None:
    """reportlog's story: a1 pauses for lunch from T0+700 to T0+1000 (200 s in the first
    quarter, 100 s in the second) and logs off at T0+1200; a2 logs off at T0+1800."""
    engine = store.engine
    fold(engine, LOG, 5, TEHRAN)
    assert center_tables(engine) == pytest.approx(center_from_agents(engine))
    got = per_interval(engine, T0, T0 + 86400, TEHRAN, 900, None)
    same(got, reference(engine, T0, T0 + 86400, TEHRAN, 900))
    assert [(r.start, r.paused_by) for r in got] == [
        (int(T0), {"lunch": 200.0}), (int(T0) + 900, {"lunch": 100.0})
    ]  # fmt: skip
    # logged in: a1 1200 s, a2 1800 s, split at T0+900: 900 + 900 and 300 + 900
    assert [r.login for r in got] == [1800.0, 1200.0]


def test_the_agent_report_per_interval_reads_the_center_rows(store: Store) -> None:
    engine = store.engine
    lo, hi = MAR28, MAR28 + 24 * 3600
    fold(engine, shifts(lo, 24), 500, BERLIN)
    before = per_interval(engine, lo, hi, BERLIN, 1800, None)
    with engine.begin() as conn:  # change the center's rows only: the report follows them
        table = reports.center_agent_intervals
        conn.execute(sa.update(table).values(answered=table.c.answered + 10))
        pauses = reports.center_agent_pause_intervals
        conn.execute(sa.update(pauses).values(seconds=pauses.c.seconds + 1))
    after = per_interval(engine, lo, hi, BERLIN, 1800, None)
    assert len(after) == len(before) == 48
    # two quarters per 30 minutes: 20 more answered in each
    assert [a.answered - b.answered for a, b in zip(after, before, strict=True)] == [20] * 48
    # b's pause from :50 to :00 is the one pause row of each hour, in the quarter from :45:
    # 1 s more in every half hour from :30
    grew = [sum(a.paused_by.values()) - sum(b.paused_by.values())
            for a, b in zip(after, before, strict=True)]  # fmt: skip
    assert grew == pytest.approx([0.0, 1.0] * 24)
    # with an agent filter: the agents' own rows, unchanged
    same(per_interval(engine, lo, hi, BERLIN, 1800, ["a", "b"]), before)


def test_center_agent_rows_exactly_once_across_restarts_and_rebuild(store: Store) -> None:
    engine = store.engine
    log = shifts(MAR28, 24)
    store_events.append_many(engine, log)
    first = ReportMaintainer(engine, SETTINGS, batch=40, zone=BERLIN)
    for _ in range(5):
        first.step()
    second = ReportMaintainer(engine, SETTINGS, batch=40, zone=BERLIN)
    second.step()
    assert first.step() == 40  # refused by expect_seq / skipped: it reloads
    third = ReportMaintainer(engine, SETTINGS, batch=33, zone=BERLIN)
    while third.step():
        pass
    incremental = center_tables(engine)
    assert incremental == pytest.approx(center_from_agents(engine))
    agg = Aggregator(SETTINGS)  # a batch applied twice is counted once
    assert not reports.apply(engine, agg.feed(log[:10]), 10, agg.snapshot())
    assert center_tables(engine) == incremental
    assert reports.rebuild(engine, SETTINGS, zone=BERLIN, batch=57) == log[-1].seq
    assert center_tables(engine) == pytest.approx(incremental)
    reports.clear(engine)
    assert center_tables(engine) == {}


def test_migration_0012_down_and_up_fills_the_center_agent_rows(store: Store) -> None:
    engine = store.engine
    fold(engine, shifts(MAR28, 12), 200, TEHRAN)
    want = center_tables(engine)
    assert want and want == pytest.approx(center_from_agents(engine))
    migrate.downgrade(engine, "0011")
    assert store.revision() == "0011"
    tables = set(sa.inspect(engine).get_table_names())
    assert not {"center_agent_intervals", "center_agent_pause_intervals"} & tables
    assert {"agent_intervals", "center_intervals", "cdr_intervals"} <= tables
    migrate.upgrade(engine)
    assert store.revision() == migrate.head_revision()
    assert center_tables(engine) == pytest.approx(want)  # filled from the agents' rows
    assert reports.day_zone(engine) == TEHRAN


def test_the_tables_match_migration_0012(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from tamas.store.tables import metadata

    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in differences if "center_agent" in repr(d)] == []
