"""Report aggregates in the database (SQLite and PostgreSQL): exactly-once apply, SQL sums per
grouping, rebuild equal to incremental maintenance, day tables in local days (daylight
saving, partial days at the edges, another zone, the upgrade), the callers table,
migrations 0006 and 0007."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from reportlog import B0, B1, LOG, T0

from tamas.core.events import LogRecord
from tamas.reporting.aggregator import Aggregator
from tamas.reporting.intervals import BANDS, Deltas, QueueInterval
from tamas.reporting.settings import ReportSettings
from tamas.runtime.reports import ReportMaintainer
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
    local_midnight = (int(T0) + 12600) // 86400 * 86400 - 12600
    days = reports.queue_rows(store.engine, T0, END, group_by="day", utc_offset=12600)
    assert [(r.start, r.offered) for r in days] == [(local_midnight, 6)]
    days = reports.queue_rows(store.engine, T0, END, group_by="day", zone="Asia/Tehran")
    assert [(r.start, r.offered) for r in days] == [(local_midnight, 6)]
    # Tehran's hours start at :30 UTC: T0 (08:00 UTC) is in the hour from 07:30 UTC.
    hours = reports.queue_rows(
        store.engine, T0, END, group_by="interval", size=3600, zone="Asia/Tehran"
    )
    assert [(r.start, r.offered) for r in hours] == [(int(T0) - 1800, 6)]
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


BERLIN = "Europe/Berlin"
#: Local midnights in Berlin around the spring change (29 March 2026 has 23 hours).
MAR28, MAR29, MAR30, MAR31 = (
    int(datetime(2026, 3, d, tzinfo=ZoneInfo(BERLIN)).timestamp()) for d in (28, 29, 30, 31)
)


def hourly(first: int, last: int) -> Deltas:
    """One call offered (and a 60 s longest wait) in every 15-minute row of [first, last);
    agent "a" logged in for all of it, paused 100 s ("tea") in each row."""
    deltas = Deltas()
    for start in range(first, last, 900):
        row = deltas.queue("q", start)
        row.offered, row.max_wait = 1, 60.0
        agent = deltas.agent("a", start)
        agent.login, agent.paused, agent.paused_by = 900.0, 100.0, {"tea": 100.0}
    return deltas


def per_day(engine: sa.Engine, start: float, end: float, zone: str) -> list[tuple[int, int]]:
    return [
        (r.start, r.offered)
        for r in reports.queue_rows(engine, start, end, group_by="day", zone=zone)
    ]


def test_local_days_across_daylight_saving_from_the_day_tables(store: Store) -> None:
    engine = store.engine
    assert reports.apply(engine, hourly(MAR28, MAR31), 1, {}, zone=BERLIN)
    assert reports.day_zone(engine) == BERLIN and reports.days_ready(engine, BERLIN)
    # 96 rows on 28 March, 92 on the 23-hour 29 March, 96 on the 30th.
    assert per_day(engine, MAR28, MAR31, BERLIN) == [(MAR28, 96), (MAR29, 92), (MAR30, 96)]
    # The whole days really come from the day tables: change a day row, the report follows.
    with engine.begin() as conn:
        conn.execute(
            sa.update(reports.queue_days).values(offered=reports.queue_days.c.offered + 1000)
        )
    assert per_day(engine, MAR28, MAR31, BERLIN) == [(MAR28, 1096), (MAR29, 1092), (MAR30, 1096)]
    # From 10:00 on the 28th to 10:00 on the 30th: partial days from the 15-minute rows
    # (14 h = 56 rows; 10 h = 40 rows), the whole 29th (1092) from the day table.
    ten = 10 * 3600
    assert per_day(engine, MAR28 + ten, MAR30 + ten, BERLIN) == [
        (MAR28, 56), (MAR29, 1092), (MAR30, 40)
    ]  # fmt: skip
    (total,) = reports.queue_rows(engine, MAR28 + ten, MAR30 + ten, group_by="total", zone=BERLIN)
    assert (total.offered, total.max_wait) == (56 + 1092 + 40, 60.0)
    # A range inside one day reads only 15-minute rows: 08:00..09:00 is 4 rows.
    assert per_day(engine, MAR29 + 8 * 3600, MAR29 + 9 * 3600, BERLIN) == [(MAR29, 4)]


def test_agent_day_rows_keep_pauses_by_reason(store: Store) -> None:
    engine = store.engine
    reports.apply(engine, hourly(MAR28, MAR31), 1, {}, zone=BERLIN)
    got = reports.agent_rows(engine, MAR28, MAR31, group_by="day", zone=BERLIN)
    # 29 March: 92 rows of 900 s login and 100 s of tea.
    assert [(r.start, r.login, r.paused_by) for r in got][1] == (
        MAR29, pytest.approx(92 * 900), pytest.approx({"tea": 9200})
    )  # fmt: skip
    (a,) = reports.agent_rows(engine, MAR28 + 3600, MAR31, zone=BERLIN)
    # 96 + 92 + 96 = 284 rows, less the first hour's 4: 280 rows of 100 s.
    assert a.paused_by == pytest.approx({"tea": 28_000}) and a.agent == "a"


def test_another_zone_falls_back_to_the_15_minute_rows_until_rolled_up(store: Store) -> None:
    engine = store.engine
    reports.apply(engine, hourly(MAR28, MAR31), 1, {}, zone=BERLIN)
    tehran = "Asia/Tehran"  # +03:30, no daylight saving: local days start at 20:30 UTC
    assert not reports.days_ready(engine, tehran)
    first, last = MAR28 + 86400, MAR30  # 29 March 00:00 Berlin (23:00 UTC, the 28th) ..
    want = per_day(engine, first, last, tehran)
    # .. a Tehran day from 28 March 20:30 UTC: 30 minutes of it are before the range start
    # (23:00 UTC is 02:30 Tehran: 21.5 h of the Tehran 29th are in range = 86 rows); the
    # range ends 30 March 00:00 Berlin = 29 March 22:00 UTC = 30 March 01:30 Tehran: 6 rows.
    tehran29 = int(datetime(2026, 3, 29, tzinfo=ZoneInfo(tehran)).timestamp())
    assert want == [(tehran29, 86), (tehran29 + 86400, 6)]
    assert reports.rollup_days(engine, tehran) == 4  # 28 .. 31 March, Tehran days
    assert reports.days_ready(engine, tehran) and not reports.days_ready(engine, BERLIN)
    assert per_day(engine, first, last, tehran) == want
    # Berlin now reads the 15-minute rows: the same figures as before.
    assert per_day(engine, MAR28, MAR31, BERLIN) == [(MAR28, 96), (MAR29, 92), (MAR30, 96)]
    # A writer given another zone adds to the day rows of the stored zone (Tehran).
    reports.apply(engine, hourly(MAR31, MAR31 + 900), 2, {}, zone=BERLIN)
    assert reports.day_zone(engine) == tehran
    (row,) = reports.queue_rows(engine, MAR28, MAR31 + 86400, group_by="total", zone=tehran)
    assert row.offered == 96 + 92 + 96 + 1


def test_the_callers_table_keeps_the_snapshot_small(store: Store) -> None:
    engine = store.engine
    agg = Aggregator(SETTINGS)
    records = []
    for i in range(1000):
        at = T0 + i * 60.0
        records += [
            LogRecord(seq=2 * i + 1, at=at, call_id=f"c{i}", queue="q", event="ENTERQUEUE",
                      data=("", f"0900{i:04d}", "1")),
            LogRecord(seq=2 * i + 2, at=at + 2, call_id=f"c{i}", queue="q", event="ABANDON",
                      data=("1", "1", "2")),
        ]  # fmt: skip
    deltas = agg.feed(records)
    snapshot = agg.snapshot(include_callers=False)
    changes = agg.take_caller_changes()
    assert reports.apply(engine, deltas, 2000, snapshot, callers=changes)
    callers = reports.load_callers(engine)
    assert len(callers) == 1000 and callers["09000007"].call_id == "c7"
    with engine.connect() as conn:
        text = conn.execute(sa.select(reports.report_state.c.snapshot)).scalar_one()
    assert len(text) < 2000 and "09000007" not in text
    # Eight days later they are forgotten: the rows are deleted.
    late = LogRecord(seq=2001, at=T0 + 8 * 86400, call_id="cz", queue="q", event="FULL")
    deltas = agg.feed([late])
    reports.apply(engine, deltas, 2001, agg.snapshot(include_callers=False),
                  callers=agg.take_caller_changes())  # fmt: skip
    assert reports.load_callers(engine) == {}


def test_upgrade_from_0006_rolls_up_the_days_and_moves_the_callers(store: Store) -> None:
    engine = store.engine
    # As 0006 kept them: callers inside the snapshot, no day tables. c1 (0911) is answered
    # in the first 13 records; c4 (0911 again, record 23) makes it a repeat contact.
    agg = Aggregator(SETTINGS)
    reports.apply(engine, agg.feed(LOG[:13]), 13, agg.snapshot())
    migrate.downgrade(engine, "0006")
    migrate.upgrade(engine)
    assert reports.day_zone(engine) is None and not reports.days_ready(engine, "UTC")
    assert by_queue(engine)["sales"].offered == 3  # c1, c2, c3: read from the 15-min rows
    store_events.append_many(engine, LOG)
    maintainer = ReportMaintainer(engine, SETTINGS, zone="Asia/Tehran")
    while maintainer.step():
        pass
    assert reports.day_zone(engine) == "Asia/Tehran"
    assert "0911" in reports.load_callers(engine)
    day = int(datetime(2027, 1, 15, tzinfo=ZoneInfo("Asia/Tehran")).timestamp())
    rows = reports.queue_rows(engine, day, day + 86400, zone="Asia/Tehran")
    sales = {r.queue: r for r in rows}["sales"]
    # As in test_hand_log_sums_per_queue: 4 offered, 2 answered, c1 a repeat contact.
    assert (sales.offered, sales.answered, sales.repeat_contacts) == (4, 2, 1)
    assert rows == reports.queue_rows(engine, T0, END)  # whole day == the 15-minute rows


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

    mine = ("queue_intervals", "agent_intervals", "agent_pause_intervals", "report_state",
            "queue_days", "agent_days", "agent_pause_days", "report_callers")  # fmt: skip
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in differences if any(t in repr(d) for t in mine)] == []
