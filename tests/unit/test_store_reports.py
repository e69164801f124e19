"""Report aggregates in the database (SQLite and PostgreSQL): exactly-once apply, SQL sums per
grouping, rebuild equal to incremental maintenance, migration 0006."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from reportlog import B0, B1, LOG, T0

from tamas.reporting.aggregator import Aggregator
from tamas.reporting.intervals import BANDS, Deltas, QueueInterval
from tamas.reporting.settings import ReportSettings
from tamas.store import Store, migrate, open_store, reports
from tamas.store import events as store_events

SETTINGS = ReportSettings()
END = T0 + 86400


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


def incremental(engine: sa.Engine, batch: int) -> None:
    """Feed LOG in batches of ``batch`` records, restoring from the stored state each time."""
    for i in range(0, len(LOG), batch):
        seq, state = reports.load_state(engine)
        agg = Aggregator.restore(SETTINGS, state)
        chunk = [r for r in LOG[i : i + batch] if r.seq > seq]
        reports.apply(engine, agg.feed(chunk), chunk[-1].seq, agg.snapshot(), expect_seq=seq)


def by_queue(engine: sa.Engine) -> dict[str, QueueInterval]:
    return {r.queue: r for r in reports.queue_rows(engine, T0, END)}


def test_hand_log_sums_per_queue(store: Store) -> None:
    incremental(store.engine, 7)
    rows = by_queue(store.engine)
    sales, support = rows["sales"], rows["support"]
    # Worked out in test_report_intervals: sales 4 offered, 2 answered (waits 15, 10),
    # 2 abandoned (3 s, 60 s), talk 100 + 100, hold 20, ACW 30, longest wait 60.
    assert (sales.offered, sales.answered, sales.abandoned, sales.short_abandoned) == (4, 2, 2, 1)
    assert (sales.wait_answered, sales.talk, sales.hold, sales.acw) == (25, 200, 20, 30)
    assert sales.answered_within[BANDS.index(20)] == 2
    assert sales.abandoned_within[BANDS.index(60)] == 2
    assert (sales.max_wait, sales.repeat_contacts, sales.csat_count) == (60, 1, 1)
    assert (support.offered, support.transferred, support.timeouts, support.rejected) == (
        2,
        1,
        1,
        1,
    )
    assert reports.load_state(store.engine)[0] == LOG[-1].seq


def test_groupings_and_filters(store: Store) -> None:
    incremental(store.engine, 100)
    total = reports.queue_rows(store.engine, T0, END, group_by="total")
    assert len(total) == 1 and total[0].offered == 6  # 4 sales + 2 support
    hours = reports.queue_rows(store.engine, T0, END, group_by="interval", size=3600)
    assert [(r.start, r.offered) for r in hours] == [(int(T0) // 3600 * 3600, 6)]
    quarter = reports.queue_rows(store.engine, T0, END, group_by="interval", size=900)
    assert [(r.start, r.offered) for r in quarter] == [(B0, 6)]
    # Tehran (+03:30): the local day starts at 20:30 UTC the day before.
    days = reports.queue_rows(store.engine, T0, END, group_by="day", utc_offset=12600)
    local_midnight = (int(T0) + 12600) // 86400 * 86400 - 12600
    assert [(r.start, r.offered) for r in days] == [(local_midnight, 6)]
    only = reports.queue_rows(store.engine, T0, END, queues=["support"])
    assert [(r.queue, r.offered) for r in only] == [("support", 2)]
    assert reports.queue_rows(store.engine, T0 + 900, END) == []  # [start, end): rows from B1
    teams = {"front": ["sales"], "all": ["sales", "support"]}
    team_rows = reports.queue_rows(store.engine, T0, END, group_by="team", teams=teams)
    assert [(r.queue, r.offered) for r in team_rows] == [("all", 6), ("front", 4)]


def test_agent_sums_with_pauses_by_reason(store: Store) -> None:
    incremental(store.engine, 5)
    agents = {r.agent: r for r in reports.agent_rows(store.engine, T0, END)}
    a1, a2 = agents["a1"], agents["a2"]
    # a1: login 0..1200; lunch 700..1000; talk 100; available 1200 - 300 - 100 = 800.
    assert a1.login == pytest.approx(1200) and a1.paused_by == pytest.approx({"lunch": 300})
    assert (a1.talk, a1.ring_missed) == (pytest.approx(100), 2)
    assert a1.available == pytest.approx(800)
    # a2: login 0..1800, busy 160 + 20 + 30.
    assert a2.login == pytest.approx(1800) and a2.busy == pytest.approx(210)
    per_quarter = reports.agent_rows(store.engine, T0, END, group_by="interval", agents=["a1"])
    assert [(r.start, r.paused_by) for r in per_quarter] == [
        (B0, pytest.approx({"lunch": 200})),
        (B1, pytest.approx({"lunch": 100})),
    ]
    team = reports.agent_rows(store.engine, T0, END, group_by="team", teams={"t": ["a1", "a2"]})
    assert team[0].agent == "t" and team[0].login == pytest.approx(3000)


def test_apply_is_exactly_once(store: Store) -> None:
    agg = Aggregator(SETTINGS)
    deltas = agg.feed(LOG[:12])
    assert reports.apply(store.engine, deltas, 12, agg.snapshot())
    assert not reports.apply(store.engine, deltas, 12, agg.snapshot())  # the same batch again
    assert not reports.apply(store.engine, deltas, 5, agg.snapshot())  # an older one
    assert by_queue(store.engine)["sales"].offered == 2  # c1 and c2, once
    with pytest.raises(reports.ReportStateConflict):
        reports.apply(store.engine, deltas, 20, agg.snapshot(), expect_seq=7)
    assert reports.load_state(store.engine) == (12, agg.snapshot())


def test_max_wait_merges_with_max(store: Store) -> None:
    for seq, wait in ((1, 40.0), (2, 10.0), (3, 70.0)):
        d = Deltas()
        d.queue("q", B0).max_wait = wait
        d.queue("q", B0).offered = 1
        reports.apply(store.engine, d, seq, {})
    (row,) = reports.queue_rows(store.engine, T0, END)
    assert (row.offered, row.max_wait) == (3, 70.0)


def test_rebuild_equals_incremental(store: Store) -> None:
    incremental(store.engine, 3)
    queues = reports.queue_rows(store.engine, T0, END, group_by="interval")
    agents = reports.agent_rows(store.engine, T0, END, group_by="interval")
    store_events.append_many(store.engine, LOG)
    assert reports.rebuild(store.engine, SETTINGS, batch=4) == LOG[-1].seq
    assert reports.queue_rows(store.engine, T0, END, group_by="interval") == queues
    rebuilt = reports.agent_rows(store.engine, T0, END, group_by="interval")
    assert [(r.agent, r.start) for r in rebuilt] == [(r.agent, r.start) for r in agents]
    for got, want in zip(rebuilt, agents, strict=True):
        assert got.columns() == pytest.approx(want.columns())
    assert reports.load_state(store.engine)[0] == LOG[-1].seq


def test_migration_0006_down_and_up_again(store: Store) -> None:
    incremental(store.engine, 100)
    migrate.downgrade(store.engine, "0005")
    assert store.revision() == "0005"
    names = set(sa.inspect(store.engine).get_table_names())
    assert not names & {"queue_intervals", "agent_intervals", "agent_pause_intervals"}
    assert "report_state" not in names and "events" in names
    migrate.upgrade(store.engine)
    assert store.revision() == migrate.head_revision()
    assert reports.queue_rows(store.engine, T0, END) == []
    assert reports.load_state(store.engine) == (0, {})


def test_the_tables_match_migration_0006(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from tamas.store.tables import metadata

    mine = ("queue_intervals", "agent_intervals", "agent_pause_intervals", "report_state")
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in differences if any(t in repr(d) for t in mine)] == []
