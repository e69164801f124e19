"""The queues' 15-minute rows summed over every queue (center_intervals, migration 0010) on
SQLite and PostgreSQL: the same interval reports and peak as the 15-minute queue rows, kept
exactly once by apply, a restart of the maintainer and a rebuild, filled by the upgrade."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from reportlog import LOG, T0
from test_report_hours import BERLIN, MAR28, MAR31, TEHRAN, calls, fold, same

from tamas.reporting import kpi
from tamas.reporting.aggregator import Aggregator
from tamas.reporting.intervals import QueueInterval
from tamas.reporting.settings import ReportSettings
from tamas.runtime.reports import ReportMaintainer
from tamas.store import Store, migrate, open_store, reports
from tamas.store import events as store_events

SETTINGS = ReportSettings()
Center = dict[tuple[int, str], float]


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


def quarters(engine: sa.Engine, start: float, end: float) -> list[QueueInterval]:
    """Every queue's 15-minute rows with start in [start, end), as stored."""
    table = reports.queue_intervals
    with engine.connect() as conn:
        return [
            QueueInterval.from_columns(r.queue, int(r.start), r._mapping)
            for r in conn.execute(
                sa.select(table).where(table.c.start >= start, table.c.start < end)
            )
        ]


def center_table(engine: sa.Engine) -> Center:
    """center_intervals as {(start, column): value}."""
    with engine.connect() as conn:
        return {
            (int(r.start), k): float(v)
            for r in conn.execute(sa.select(reports.center_intervals))
            for k, v in r._mapping.items()
            if k != "start"
        }


def center_from_quarters(engine: sa.Engine) -> Center:
    """What center_intervals must hold: the queues' 15-minute rows added per start (in
    Python, max_wait by max)."""
    summed: dict[int, QueueInterval] = {}
    for row in quarters(engine, 0, 2**40):
        summed.setdefault(row.start, QueueInterval(queue="", start=row.start)).add(row)
    return {(s, n): float(v) for s, row in summed.items() for n, v in row.columns().items()}


def reference(
    engine: sa.Engine, start: float, end: float, zone: str, size: int
) -> list[QueueInterval]:
    """The intervals summed in Python from the stored 15-minute queue rows."""
    return kpi.group_queue_rows(quarters(engine, start, end), "interval", size=size, zone=zone)


def report_rows(
    engine: sa.Engine, start: float, end: float, zone: str, size: int, queues: list[str] | None
) -> list[QueueInterval]:
    return reports.queue_rows(engine, start, end, group_by="interval", size=size, zone=zone,
                              queues=queues)  # fmt: skip


@pytest.mark.parametrize("zone", [BERLIN, TEHRAN])
def test_center_rows_are_the_quarters_summed(store: Store, zone: str) -> None:
    engine = store.engine
    log = calls(MAR28 + 7200, 3 * 24 - 3)  # across Berlin's spring change
    fold(engine, log, 97, zone)
    center = center_table(engine)
    assert center == pytest.approx(center_from_quarters(engine))
    # a call every 7 minutes: every 15-minute start from 02:00 on the 28th has a row
    assert len({s for s, _ in center}) == (3 * 24 - 3) * 4
    # from 10:20 on the 28th to 10:20 on the 30th (edges inside intervals and days)
    edge = 10 * 3600 + 1200
    for lo, hi in ((MAR28, MAR31), (MAR28 + edge, MAR31 - 86400 + edge)):
        for size in (900, 1800, 3600):
            got = report_rows(engine, lo, hi, zone, size, None)
            same(got, reference(engine, lo, hi, zone, size))
            same(report_rows(engine, lo, hi, zone, size, ["sales", "support"]), got)
        assert sum(r.offered for r in report_rows(engine, lo, hi, zone, 900, ["sales"])) < sum(
            r.offered for r in report_rows(engine, lo, hi, zone, 900, None)
        )


def test_the_hand_built_log_gives_the_same_intervals(store: Store) -> None:
    """reportlog's story: 6 calls into sales and support in the first 15 minutes after T0,
    lunch pause across T0 + 900 (agents only: no queue row there)."""
    engine = store.engine
    fold(engine, LOG, 7, TEHRAN)
    assert center_table(engine) == pytest.approx(center_from_quarters(engine))
    for size in (900, 1800):
        got = report_rows(engine, T0, T0 + 86400, TEHRAN, size, None)
        same(got, reference(engine, T0, T0 + 86400, TEHRAN, size))
        # 4 calls offered to sales and 2 to support (test_store_reports), all in the
        # quarter from T0 (11:30 in Tehran: a 30-minute interval starts there too)
        assert [(r.start, r.offered) for r in got] == [(int(T0), 6)]
        table = kpi.interval_report(got, SETTINGS, size=size, zone=TEHRAN)
        want = kpi.interval_report(
            reference(engine, T0, T0 + 86400, TEHRAN, size), SETTINGS, size=size, zone=TEHRAN
        )
        assert table.rows == want.rows
    assert reports.peak_interval(engine, T0, T0 + 86400) == (int(T0), 6)


def test_the_interval_reports_and_the_peak_read_the_center_rows(store: Store) -> None:
    engine = store.engine
    lo, hi = MAR28, MAR28 + 72 * 3600
    fold(engine, calls(lo, 72), 500, BERLIN)
    both = ["sales", "support"]
    before = {size: report_rows(engine, lo, hi, BERLIN, size, None) for size in (900, 1800)}
    peak = reports.peak_interval(engine, lo, hi)
    assert peak == reports.peak_interval(engine, lo, hi, queues=both)
    with engine.begin() as conn:  # change the center's rows only: the reports follow them
        conn.execute(
            sa.update(reports.center_intervals).values(
                offered=reports.center_intervals.c.offered + 10
            )
        )
        conn.execute(
            sa.update(reports.center_intervals)
            .where(reports.center_intervals.c.start == lo + 3 * 900)
            .values(offered=1000)
        )
    for size, n in ((900, 1), (1800, 2)):
        after, filtered = (report_rows(engine, lo, hi, BERLIN, size, q) for q in (None, both))
        assert len(after) == len(before[size]) == 72 * 3600 // size
        same(filtered, before[size])  # with a queue filter: the queue rows, unchanged
        grew = [a.offered - b.offered for a, b in zip(after, before[size], strict=True)]
        # 10 more in every quarter; the fourth quarter set to 1000
        assert grew[1 if size == 900 else 0] == 10 * n and max(grew) > 900
    assert reports.peak_interval(engine, lo, hi) == (lo + 3 * 900, 1000)
    assert reports.peak_interval(engine, lo, hi, queues=both) == peak


def test_center_rows_exactly_once_across_restarts_and_rebuild(store: Store) -> None:
    engine = store.engine
    log = calls(MAR28, 48)
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
    incremental = center_table(engine)
    assert incremental == pytest.approx(center_from_quarters(engine))
    assert sum(v for k, v in incremental.items() if k[1] == "offered") == 48 * 60 // 7
    agg = Aggregator(SETTINGS)  # a batch applied twice is counted once
    assert not reports.apply(engine, agg.feed(log[:10]), 10, agg.snapshot())
    assert center_table(engine) == incremental
    assert reports.rebuild(engine, SETTINGS, zone=BERLIN, batch=57) == log[-1].seq
    assert center_table(engine) == pytest.approx(incremental)
    reports.clear(engine)
    assert center_table(engine) == {}


def test_center_rows_are_written_while_the_day_tables_are_not_built(store: Store) -> None:
    """The center's rows have no zone: apply keeps them while ``day_zone`` is NULL."""
    engine = store.engine
    log = calls(MAR28, 24)
    fold(engine, log[:100], 100, BERLIN)
    with engine.begin() as conn:  # as 0007 or 0009 leave an upgraded database
        conn.execute(sa.update(reports.report_state).values(day_zone=None))
    fold(engine, log[100:], 50, BERLIN)
    assert reports.day_zone(engine) is None
    assert center_table(engine) == pytest.approx(center_from_quarters(engine))
    same(
        report_rows(engine, MAR28, MAR31, BERLIN, 1800, None),
        reference(engine, MAR28, MAR31, BERLIN, 1800),
    )


def test_migration_0010_down_and_up_fills_the_center_rows(store: Store) -> None:
    engine = store.engine
    fold(engine, calls(MAR28, 30), 200, TEHRAN)
    want = center_table(engine)
    assert want and want == pytest.approx(center_from_quarters(engine))
    migrate.downgrade(engine, "0009")
    assert store.revision() == "0009"
    tables = set(sa.inspect(engine).get_table_names())
    assert "center_intervals" not in tables and {"queue_intervals", "center_hours"} <= tables
    migrate.upgrade(engine)
    assert store.revision() == migrate.head_revision()
    assert center_table(engine) == pytest.approx(want)  # filled from the queue rows
    assert reports.day_zone(engine) == TEHRAN  # nothing to roll up: the zone stays
    assert reports.peak_interval(engine, MAR28, MAR31) == reports.peak_interval(
        engine, MAR28, MAR31, queues=["sales", "support"]
    )


def test_the_table_matches_migration_0010(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from tamas.store.tables import metadata

    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in differences if "center_intervals" in repr(d)] == []
