"""The queues' hour table (migration 0009) on SQLite and PostgreSQL: the same figures as the
15-minute rows in every zone (daylight saving, a zone at +03:30, one that moves its clock
by 30 minutes), kept exactly once by apply, a restart of the maintainer and a rebuild,
rolled up at the upgrade; the interval grouping done in SQL; the peak interval in SQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from reportlog import LOG, T0

from tamas.core.events import NONE, LogRecord
from tamas.reporting import kpi
from tamas.reporting.aggregator import Aggregator
from tamas.reporting.intervals import Deltas, QueueInterval, interval_start
from tamas.reporting.settings import ReportSettings
from tamas.runtime.reports import ReportMaintainer
from tamas.store import Store, migrate, open_store, reports
from tamas.store import events as store_events

SETTINGS = ReportSettings()
BERLIN, TEHRAN, LORD_HOWE = "Europe/Berlin", "Asia/Tehran", "Australia/Lord_Howe"
#: Local midnights in Berlin around the spring change (29 March 2026 has 23 hours).
MAR28, MAR31 = (int(datetime(2026, 3, d, tzinfo=ZoneInfo(BERLIN)).timestamp()) for d in (28, 31))
#: Lord Howe Island moves its clock by 30 minutes: 02:00 -> 02:30 on 4 October 2026.
OCT3, OCT6 = (int(datetime(2026, 10, d, tzinfo=ZoneInfo(LORD_HOWE)).timestamp()) for d in (3, 6))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


def calls(first: float, hours: int, seq: int = 0) -> list[LogRecord]:
    """A call every 7 minutes for ``hours`` hours from ``first``, into "sales" or "support":
    every third abandons after 20 + i % 50 s, the others are answered after 3 + i % 40 s and
    talk 60 + i % 200 s (a 10 s hold on every fourth)."""
    out: list[LogRecord] = []

    def add(at: float, call: str, queue: str, event: str, agent: str = NONE,
            data: tuple[str, ...] = ()) -> None:  # fmt: skip
        out.append(LogRecord(seq=seq + len(out) + 1, at=at, call_id=call, queue=queue,
                             agent=agent, event=event, data=data))  # fmt: skip

    add(first, "", NONE, "AGENTLOGIN", "a", ("dev",))
    for i in range(hours * 60 // 7):
        at, call, queue = first + 420.0 * i + 1, f"c{seq}-{i}", ("sales", "support")[i % 2]
        add(at, call, queue, "ENTERQUEUE", data=("", f"09{i % 13:03d}", "1"))
        if i % 3 == 0:
            wait = 20 + i % 50
            add(at + wait, call, queue, "ABANDON", data=("1", "1", str(wait)))
            continue
        wait, talk = 3 + i % 40, 60 + i % 200
        add(at + wait, call, queue, "CONNECT", "a", (str(wait), "dev", "1"))
        if i % 4 == 1:
            add(at + wait + 5, call, queue, "HOLD", "a")
            add(at + wait + 15, call, queue, "UNHOLD", "a")
        add(at + wait + talk, call, queue, "COMPLETECALLER", "a", (str(wait), str(talk), "1"))
    out.sort(key=lambda r: r.at)
    return [
        LogRecord(seq=seq + i + 1, at=r.at, call_id=r.call_id, queue=r.queue, agent=r.agent,
                  event=r.event, data=r.data)
        for i, r in enumerate(out)
    ]  # fmt: skip


def fold(engine: sa.Engine, log: list[LogRecord], batch: int, zone: str) -> None:
    """Apply ``log`` in batches, restoring the aggregator from the stored state each time
    (what a maintainer restarted after every batch does)."""
    for i in range(0, len(log), batch):
        seq, state = reports.load_state(engine)
        agg = Aggregator.restore(SETTINGS, state)
        chunk = log[i : i + batch]
        reports.apply(engine, agg.feed(chunk), chunk[-1].seq, agg.snapshot(), expect_seq=seq,
                      zone=zone)  # fmt: skip


def from_quarters(
    engine: sa.Engine, start: float, end: float, zone: str, size: int = 3600
) -> list[QueueInterval]:
    """The intervals summed in Python from the 15-minute rows themselves (the reference)."""
    with engine.connect() as conn:
        rows = [
            QueueInterval.from_columns(r.queue, int(r.start), r._mapping)
            for r in conn.execute(
                sa.select(reports.queue_intervals).where(
                    reports.queue_intervals.c.start >= start, reports.queue_intervals.c.start < end
                )
            )
        ]
    return kpi.group_queue_rows(rows, "interval", size=size, zone=zone)


Flat = dict[tuple[str, int, str], float]


def hour_table(engine: sa.Engine) -> Flat:
    """The hour table as {(queue, hour, column): value}."""
    with engine.connect() as conn:
        return {
            (r.queue, int(r.hour), k): float(v)
            for r in conn.execute(sa.select(reports.queue_hours))
            for k, v in r._mapping.items()
            if k not in ("queue", "hour")
        }


def center_table(engine: sa.Engine) -> dict[tuple[int, str], float]:
    with engine.connect() as conn:
        return {
            (int(r.hour), k): float(v)
            for r in conn.execute(sa.select(reports.center_hours))
            for k, v in r._mapping.items()
            if k != "hour"
        }


def center_from_hours(hours: Flat) -> dict[tuple[int, str], float]:
    """What the center's hour table must hold: the queues' hour rows summed per hour."""
    out: dict[tuple[int, str], float] = {}
    for (_, hour, name), value in hours.items():
        key, have = (hour, name), out.get((hour, name), 0.0)
        out[key] = max(have, value) if name == "max_wait" else have + value
    return out


def hours_from_quarters(engine: sa.Engine, zone: str) -> Flat:
    """What the hour table must hold: each 15-minute row added to its local hour in ``zone``."""
    want: dict[tuple[str, int], QueueInterval] = {}
    with engine.connect() as conn:
        for r in conn.execute(sa.select(reports.queue_intervals)):
            key = (r.queue, interval_start(int(r.start), 3600, zone))
            row = QueueInterval.from_columns(r.queue, int(r.start), r._mapping)
            want.setdefault(key, QueueInterval(queue=r.queue, start=key[1])).add(row)
    return {(*k, n): float(v) for k, row in want.items() for n, v in row.columns().items()}


def same(got: list[QueueInterval], want: list[QueueInterval]) -> None:
    assert [(r.start, r.offered) for r in got] == [(r.start, r.offered) for r in want]
    for g, w in zip(got, want, strict=True):
        assert g.columns() == pytest.approx(w.columns())


@pytest.mark.parametrize("zone", [BERLIN, TEHRAN])
def test_hour_rows_are_the_quarters_summed_across_daylight_saving(store: Store, zone: str) -> None:
    engine = store.engine
    log = calls(MAR28 + 7200, 3 * 24 - 3)  # 28 March 02:00 .. 31 March 00:00 Berlin
    fold(engine, log, 97, zone)
    assert reports.day_zone(engine) == zone
    assert hour_table(engine) == pytest.approx(hours_from_quarters(engine, zone))
    assert center_table(engine) == pytest.approx(center_from_hours(hour_table(engine)))
    # 3 * 24 - 3 hours of a call every 7 minutes: 591 calls, in 69 or 70 local hours
    # (Tehran's hours start at :30 UTC: the first and last are partial)
    hours = reports.queue_rows(engine, MAR28, MAR31, group_by="interval", size=3600, zone=zone)
    assert sum(r.offered for r in hours) == (3 * 24 - 3) * 60 // 7
    same(hours, from_quarters(engine, MAR28, MAR31, zone))
    # From 10:20 on the 28th to 10:20 on the 30th: partial days from the 15-minute rows,
    # the whole days between from the hour table.
    edge = 10 * 3600 + 1200
    same(
        reports.queue_rows(
            engine, MAR28 + edge, MAR31 - 86400 + edge, group_by="interval", size=3600, zone=zone
        ),
        from_quarters(engine, MAR28 + edge, MAR31 - 86400 + edge, zone),
    )


def test_the_interval_report_reads_the_hour_rows(store: Store) -> None:
    engine = store.engine
    fold(engine, calls(MAR28, 72), 500, BERLIN)
    both = ["sales", "support"]

    def hours(queues: list[str] | None = None) -> list[QueueInterval]:
        return reports.queue_rows(engine, MAR28, MAR31, group_by="interval", size=3600,
                                  zone=BERLIN, queues=queues)  # fmt: skip

    before = hours()
    assert hours(both) == before
    with engine.begin() as conn:  # change the hour rows only: the report follows them
        conn.execute(
            sa.update(reports.queue_hours).values(offered=reports.queue_hours.c.offered + 1000)
        )
        conn.execute(
            sa.update(reports.center_hours).values(offered=reports.center_hours.c.offered + 10)
        )
    after, filtered = hours(), hours(both)
    # 71 hours (29 March has 23): without a filter the center's hour row (10 more), with
    # one the hour rows of the 2 queues (1000 more each)
    assert len(after) == len(before) == len(filtered) == 71
    assert [a.offered - b.offered for a, b in zip(after, before, strict=True)] == [10] * 71
    assert [a.offered - b.offered for a, b in zip(filtered, before, strict=True)] == [2000] * 71
    # another zone, or 30 minutes, reads the 15-minute rows (grouped in SQL): unchanged
    for zone, size in ((TEHRAN, 3600), (BERLIN, 1800), ("UTC", 3600)):
        same(
            reports.queue_rows(engine, MAR28, MAR31, group_by="interval", size=size, zone=zone),
            from_quarters(engine, MAR28, MAR31, zone, size),
        )


def test_a_zone_moving_its_clock_by_30_minutes(store: Store) -> None:
    """Two offset runs meet inside a local hour: the rollup adds them in one hour row."""
    engine = store.engine
    fold(engine, calls(OCT3, 72), 1000, "UTC")
    assert reports.rollup_days(engine, LORD_HOWE) == 4
    assert hour_table(engine) == pytest.approx(hours_from_quarters(engine, LORD_HOWE))
    assert center_table(engine) == pytest.approx(center_from_hours(hour_table(engine)))
    for size in (3600, 1800):
        same(
            reports.queue_rows(engine, OCT3, OCT6, group_by="interval", size=size, zone=LORD_HOWE),
            from_quarters(engine, OCT3, OCT6, LORD_HOWE, size),
        )


def test_hour_rows_exactly_once_across_restarts_and_rebuild(store: Store) -> None:
    engine = store.engine
    log = calls(MAR28, 48)
    store_events.append_many(engine, log)
    first = ReportMaintainer(engine, SETTINGS, batch=40, zone=BERLIN)
    for _ in range(5):
        first.step()
    # a second writer that loaded the same state applies the next batch first
    second = ReportMaintainer(engine, SETTINGS, batch=40, zone=BERLIN)
    second.step()
    assert first.step() == 40  # refused by expect_seq / skipped: it reloads
    del first  # a restart: a new maintainer continues from the stored seq
    third = ReportMaintainer(engine, SETTINGS, batch=33, zone=BERLIN)
    while third.step():
        pass
    assert reports.load_state(engine)[0] == log[-1].seq
    incremental = hour_table(engine)
    assert incremental == pytest.approx(hours_from_quarters(engine, BERLIN))
    assert sum(v for k, v in incremental.items() if k[2] == "offered") == 48 * 60 // 7
    # a batch applied twice is counted once
    agg = Aggregator(SETTINGS)
    assert not reports.apply(engine, agg.feed(log[:10]), 10, agg.snapshot())
    assert hour_table(engine) == incremental
    center = center_table(engine)
    assert center == pytest.approx(center_from_hours(incremental))
    assert reports.rebuild(engine, SETTINGS, zone=BERLIN, batch=57) == log[-1].seq
    assert hour_table(engine) == pytest.approx(incremental)
    assert center_table(engine) == pytest.approx(center)


def test_upgrade_to_0009_rolls_the_hours_up(store: Store) -> None:
    engine = store.engine
    store_events.append_many(engine, LOG)
    fold(engine, LOG, 9, TEHRAN)
    want = hour_table(engine)
    assert want and want == pytest.approx(hours_from_quarters(engine, TEHRAN))
    migrate.downgrade(engine, "0008")
    assert "queue_hours" not in sa.inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert reports.day_zone(engine) is None
    assert hour_table(engine) == {} and center_table(engine) == {}
    # until rolled up, a report reads the 15-minute rows: the same figures
    hours = reports.queue_rows(engine, T0, T0 + 86400, group_by="interval", size=3600,
                               zone=TEHRAN)  # fmt: skip
    same(hours, from_quarters(engine, T0, T0 + 86400, TEHRAN))
    # 4 calls offered to sales and 2 to support (test_store_reports), T0 is 11:30 in Tehran
    assert sum(r.offered for r in hours) == 6 and hours[0].start == int(T0) - 1800
    maintainer = ReportMaintainer(engine, SETTINGS, zone=TEHRAN)
    maintainer.step()
    assert reports.day_zone(engine) == TEHRAN
    assert hour_table(engine) == pytest.approx(want)
    assert center_table(engine) == pytest.approx(center_from_hours(want))


def test_peak_interval_in_sql(store: Store) -> None:
    engine = store.engine
    assert reports.peak_interval(engine, MAR28, MAR31) is None
    deltas = Deltas()
    # 15-minute rows: two queues, the busiest quarter is the sum over both queues
    for start, q, offered in ((MAR28, "a", 5), (MAR28, "b", 4), (MAR28 + 900, "a", 8),
                              (MAR28 + 3600, "b", 9), (MAR28 + 7200, "a", 9)):  # fmt: skip
        deltas.queue(q, start).offered = offered
    reports.apply(engine, deltas, 1, {}, zone=BERLIN)
    quarters = reports.queue_rows(engine, MAR28, MAR31, group_by="interval", zone="UTC")
    assert reports.peak_interval(engine, MAR28, MAR31) == kpi.peak_interval(quarters)
    assert reports.peak_interval(engine, MAR28, MAR31) == (MAR28, 9)  # 5 + 4; the earliest of 9s
    assert reports.peak_interval(engine, MAR28, MAR31, queues=["b"]) == (MAR28 + 3600, 9)
    assert reports.peak_interval(engine, MAR28 + 1, MAR31) == (MAR28 + 3600, 9)
    assert reports.peak_interval(engine, MAR28, MAR31, queues=["none"]) is None


def test_totals_in_another_zone_read_the_day_tables(store: Store) -> None:
    engine = store.engine
    fold(engine, calls(MAR28, 72), 500, BERLIN)
    (want,) = reports.queue_rows(engine, MAR28 + 5000, MAR31 - 5000, group_by="total",
                                 zone=BERLIN)  # fmt: skip
    with engine.begin() as conn:  # the day rows are read: change them, the total follows
        conn.execute(sa.update(reports.queue_days).values(offered=reports.queue_days.c.offered
                                                          + 1000))  # fmt: skip
    (got,) = reports.queue_rows(engine, MAR28 + 5000, MAR31 - 5000, group_by="total",
                                zone=TEHRAN)  # fmt: skip
    # Berlin's 29 March is the one whole day in range: 2 queues, 1000 more each
    assert got.offered == want.offered + 2000


def test_the_hour_tables_match_migration_0009(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from tamas.store.tables import metadata

    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in differences if "_hours" in repr(d)] == []


def test_the_report_service_gives_the_figures_of_the_15_minute_rows(store: Store) -> None:
    """The interval report and the KPI listing through ReportService (what the CLI and the
    API call), against the same reports built from the 15-minute rows."""
    from tamas.config.reports import ReportsConfig
    from tamas.runtime.reportservice import ReportService

    engine = store.engine
    fold(engine, calls(MAR28, 72), 300, TEHRAN)
    service = ReportService(engine, ReportsConfig(timezone=TEHRAN), clock=lambda: MAR31 + 7200)
    edge = 5 * 3600 + 1800  # the range starts and ends inside local days
    params = {"from": str(MAR28 + edge), "to": str(MAR31 - edge)}
    quarters = reports.queue_rows(engine, MAR28 + edge, MAR31 - edge, group_by="interval")
    for size in (60, 30):
        got = service.run("intervals", service.query({**params, "interval": str(size)}))
        want = kpi.interval_report(quarters, SETTINGS, size=size * 60, zone=TEHRAN)
        assert [r["start"] for r in got.rows] == [r["start"] for r in want.rows]
        for g, w in zip(got.rows, want.rows, strict=True):
            assert g == pytest.approx(w)
    listing = {r["kpi"]: r["value"] for r in service.run("kpis", service.query(params)).rows}
    peak = kpi.peak_interval(quarters)
    assert peak is not None and (listing["peak_interval"], listing["peak_offered"]) == peak
    assert listing["offered"] == sum(r.offered for r in quarters)
