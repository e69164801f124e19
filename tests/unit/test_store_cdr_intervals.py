"""The first response time's 15-minute sums (cdr_intervals, migration 0011) on SQLite and
PostgreSQL: kept by put_cdrs (a CDR written again takes its old figures out), read for the
whole intervals of a range (the CDRs at its edges), built again by rollup_cdrs and the
report rebuild, filled by the upgrade."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from test_store_events import cdr

from tamas.reporting.cdr import CallResult
from tamas.reporting.settings import ReportSettings
from tamas.store import Store, migrate, open_store, reports
from tamas.store import events as ev

T = 1_800_000_000.0  # an interval start (2_000_000 * 900)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


def table(engine: sa.Engine) -> dict[int, tuple[int, float]]:
    with engine.connect() as conn:
        return {
            int(r.start): (int(r.answered_inbound), float(r.wait_seconds))
            for r in conn.execute(sa.select(ev.cdr_intervals))
        }


def from_cdrs(engine: sa.Engine, start: float, end: float) -> float | None:
    """The mean over the CDRs themselves (what first_response read before 0011)."""
    c = ev.cdrs.c
    query = sa.select(sa.func.avg(c.wait_seconds)).where(
        c.started_at >= start, c.started_at < end, c.direction == "inbound",
        c.answered_at.is_not(None),
    )  # fmt: skip
    with engine.connect() as conn:
        value = conn.execute(query).scalar()
    return None if value is None else float(value)


def put_day(engine: sa.Engine) -> None:
    """Answered inbound calls, by 15-minute interval from T (waits in seconds):
    [T, T+900): c1 at T+10 waits 4, c2 at T+899.5 waits 6;  [T+900, +1800): c3 at T+900
    waits 20; [T+2700, +3600): c4 at T+3000 waits 30. Not counted: c5 (outbound, at T+20),
    c6 (inbound, never answered, at T+30)."""
    ev.put_cdrs(engine, [
        cdr("c1", T + 10, answer=T + 14, wait_seconds=4.0),
        cdr("c2", T + 899.5, answer=T + 905.5, wait_seconds=6.0),
        cdr("c3", T + 900, answer=T + 920, wait_seconds=20.0),
    ])  # fmt: skip
    ev.put_cdrs(engine, [
        cdr("c4", T + 3000, answer=T + 3030, wait_seconds=30.0),
        cdr("c5", T + 20, direction="outbound", wait_seconds=100.0),
        cdr("c6", T + 30, answer=None, result=CallResult.ABANDONED, wait_seconds=50.0),
    ])  # fmt: skip


def test_the_rows_hold_the_answered_inbound_calls_per_15_minutes(store: Store) -> None:
    engine = store.engine
    assert ev.first_response(engine, T, T + 86400) is None
    put_day(engine)
    assert table(engine) == {T: (2, 10.0), T + 900: (1, 20.0), T + 2700: (1, 30.0)}
    # whole intervals: (4 + 6 + 20 + 30) / 4
    assert ev.first_response(engine, T, T + 3600) == 15.0
    # edges inside intervals: from T+5 to T+3001 all four, to T+2999 three: (4+6+20)/3
    assert ev.first_response(engine, T + 5, T + 3001) == 15.0
    assert ev.first_response(engine, T + 5, T + 2999) == 10.0
    # within one interval (read from the CDRs): c2 alone, then none
    assert ev.first_response(engine, T + 11, T + 900) == 6.0
    assert ev.first_response(engine, T + 11, T + 899) is None
    # from T+900: c3 and c4 (25); c2 started before
    assert ev.first_response(engine, T + 900, T + 86400) == 25.0
    for lo, hi in ((T, T + 3600), (T + 5, T + 3001), (T + 899.6, T + 2000), (T - 5000, T + 1)):
        assert ev.first_response(engine, lo, hi) == pytest.approx(from_cdrs(engine, lo, hi))


def test_a_cdr_written_again_takes_its_old_figures_out(store: Store) -> None:
    engine = store.engine
    put_day(engine)
    ev.put_cdrs(engine, [
        cdr("c1", T + 10, answer=None, result=CallResult.MISSED),  # no longer answered
        cdr("c3", T + 1000, answer=T + 1008, wait_seconds=8.0),  # a new wait
        cdr("c6", T + 1900, answer=T + 1912, wait_seconds=12.0),  # answered now, later
        cdr("c7", T + 3500, answer=T + 3502, wait_seconds=2.0),  # a new call
    ])  # fmt: skip
    # [T, +900): c2 (6); [T+900, +1800): c3 (8); [T+1800, +2700): c6 (12); [T+2700): c4, c7
    assert table(engine) == {
        T: (1, 6.0),
        T + 900: (1, 8.0),
        T + 1800: (1, 12.0),
        T + 2700: (2, 32.0),
    }
    assert ev.first_response(engine, T, T + 3600) == pytest.approx((6 + 8 + 12 + 30 + 2) / 5)
    ev.put_cdrs(engine, [cdr("c2", T + 899.5, direction="outbound")])
    assert table(engine)[T] == (0, 0.0)
    assert ev.first_response(engine, T, T + 900) is None


def test_first_response_reads_the_rows(store: Store) -> None:
    engine = store.engine
    put_day(engine)
    with engine.begin() as conn:  # change the rows only: the whole intervals follow them
        conn.execute(
            sa.update(ev.cdr_intervals).where(ev.cdr_intervals.c.start == T + 2700)
            .values(answered_inbound=3, wait_seconds=90.0)
        )  # fmt: skip
    # (4 + 6 + 20 + 90) / (4 - 1 + 3)
    assert ev.first_response(engine, T, T + 3600) == 20.0
    # an end inside that interval: c4 (30) is read from the CDRs, as before
    assert ev.first_response(engine, T, T + 3599) == 15.0
    assert ev.rollup_cdrs(engine) == 3
    assert ev.first_response(engine, T, T + 3600) == 15.0


def test_the_report_rebuild_builds_the_rows_again(store: Store) -> None:
    engine = store.engine
    put_day(engine)
    want = table(engine)
    with engine.begin() as conn:
        conn.execute(sa.delete(ev.cdr_intervals))
    reports.rebuild(engine, ReportSettings())
    assert table(engine) == want


def test_migration_0011_down_and_up_fills_the_rows(store: Store) -> None:
    engine = store.engine
    put_day(engine)
    want = table(engine)
    migrate.downgrade(engine, "0010")
    assert store.revision() == "0010"
    assert "cdr_intervals" not in sa.inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert store.revision() == migrate.head_revision()
    assert table(engine) == want
    assert ev.first_response(engine, T, T + 3600) == 15.0


def test_the_table_matches_migration_0011(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from tamas.store.tables import metadata

    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in differences if "cdr_intervals" in repr(d)] == []
