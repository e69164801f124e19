"""The interval report computed a column at a time (``store.reports.queue_columns`` and
``kpi.interval_report`` of ``QueueColumns``) on SQLite and PostgreSQL: the same table as the
row path (``queue_rows``, a ``QueueInterval`` and a KPI call per interval) for several
queues over days across daylight saving, 15/30/60-minute intervals, zones at whole, half and
quarter hours, queue filters, ranges cut inside days, every service-level formula, and
intervals with nothing offered or answered (the same Nones and zeros); a hand-worked oracle
for a few intervals; the fallback to rows where the columns are not grouped as asked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from test_report_hours import BERLIN, LORD_HOWE, MAR28, MAR31, OCT3, OCT6, TEHRAN

from tamas.config.reports import ReportsConfig
from tamas.reporting import kpi
from tamas.reporting.intervals import (
    BANDS,
    QUEUE_COLUMNS,
    Deltas,
    QueueColumns,
    QueueInterval,
)
from tamas.reporting.settings import ReportSettings, SlFormula
from tamas.reporting.table import Table
from tamas.runtime.reportservice import ReportService
from tamas.store import Store, open_store, reports

SETTINGS = ReportSettings()
QUEUES = ("q1", "q2", "q3")
KATHMANDU = "Asia/Kathmandu"  # +05:45: 30- and 60-minute intervals start at :15 / :45 UTC


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


def counters(k: int, queue: int) -> QueueInterval:
    """A queue row whose every counter is a function of (k, queue); every 11th row of a
    queue and two hours a day of every queue (k % 96 in 40..47) have nothing offered,
    answered or handled (their ratios are None), every 7th nothing answered but abandons.
    Seconds are multiples of 1/4: exact whatever the order of sums."""
    row = QueueInterval(queue=QUEUES[queue], start=0)
    if (k + queue) % 11 == 0 or 40 <= k % 96 < 48:
        row.rejected = 1  # refused before entering: a row with nothing offered
        return row
    answered = 0 if (k + queue) % 7 == 0 else 1 + (k * 3 + queue) % 9
    abandoned = (k + 2 * queue) % 4
    row.offered = answered + abandoned + (k % 3 == 0)
    row.answered, row.abandoned = answered, abandoned
    row.short_abandoned = min(abandoned, k % 2)
    row.timeouts, row.exit_key, row.exit_empty = k % 2, (k + queue) % 3 == 1, k % 5 == 4
    row.disconnected, row.callbacks_requested = k % 13 == 3, k % 6 == 2
    row.callbacks_completed, row.callbacks_failed, row.callbacks_listed = k % 9 == 1, k % 4, 0
    row.wait_answered = answered * (3.25 + k % 17)
    row.wait_abandoned = abandoned * (10.5 + k % 5)
    row.ring = answered * 2.75
    row.handled = answered - (k % 5 == 0 and answered > 0)
    row.talk = row.handled * (60.25 + (k * 7) % 300)
    row.hold = row.handled * (k % 3) * 5.5
    row.acw = row.handled * 12.75
    row.rang_unanswered, row.missed = (k + queue) % 3, min(abandoned, k % 2)
    row.transferred = min(answered, k % 3)
    row.csat_count = answered // 2
    row.csat_sum, row.csat_satisfied = row.csat_count * 4.5, row.csat_count - (k % 2)
    row.csat_satisfied = max(0, row.csat_satisfied)
    row.repeat_contacts = min(answered, (k + queue) % 4)
    row.max_wait = 5.0 + (k * 13 + queue) % 200
    for i, edge in enumerate(BANDS):
        row.answered_within[i] = min(answered, (answered * edge) // 60)
        row.abandoned_within[i] = min(abandoned, (abandoned * edge) // 90)
    return row


def fill(engine: sa.Engine, first: int, last: int, zone: str) -> None:
    """Rows of the three queues for most 15-minute starts in [first, last): q3 only every
    third, none at all in every 17th (a gap), applied a day at a time (day and hour tables
    in ``zone``)."""
    seq = 0
    for day in range(first, last, 86400):
        deltas = Deltas()
        for start in range(day, min(day + 86400, last), 900):
            k = (start - first) // 900
            if k % 17 == 5:
                continue
            for q in range(3):
                if q == 2 and k % 3:
                    continue
                deltas.queue(QUEUES[q], start).add(counters(k, q))
        seq += 1
        reports.apply(engine, deltas, seq, {}, zone=zone)


def both(
    engine: sa.Engine,
    start: float,
    end: float,
    *,
    size: int,
    zone: str,
    queues: list[str] | None = None,
    settings: ReportSettings = SETTINGS,
) -> tuple[Table, Table, QueueColumns]:
    """The interval report from the columns, the one from the rows, and the columns."""
    columns = reports.queue_columns(engine, start, end, queues=queues, size=size, zone=zone)
    rows = reports.queue_rows(engine, start, end, group_by="interval", queues=queues,
                              size=size, zone=zone)  # fmt: skip
    return (
        kpi.interval_report(columns, settings, size=size, zone=zone),
        kpi.interval_report(rows, settings, size=size, zone=zone),
        columns,
    )


def assert_same(fast: Table, slow: Table) -> None:
    assert fast.name == slow.name and fast.title == slow.title
    assert fast.columns == slow.columns
    assert fast.params == slow.params and fast.targets == slow.targets
    assert len(fast.rows) == len(slow.rows) > 0
    for a, b in zip(fast.rows, slow.rows, strict=True):
        assert list(a.items()) == list(b.items())  # the same keys in the same order
        for key, value in a.items():  # ints stay ints, Nones stay Nones
            assert type(value) is type(b[key]), key


@pytest.mark.parametrize("size", [900, 1800, 3600])
@pytest.mark.parametrize("zone", [BERLIN, TEHRAN, KATHMANDU, "UTC"])
@pytest.mark.parametrize("queues", [None, ["q1", "q3"]])
def test_columns_give_the_rows_report_across_daylight_saving(
    store: Store, size: int, zone: str, queues: list[str] | None
) -> None:
    engine = store.engine
    fill(engine, MAR28, MAR31, BERLIN)  # the day and hour tables in Berlin
    # whole days, and a range cut inside days (its edges from the 15-minute rows)
    for start, end in ((MAR28, MAR31), (MAR28 + 37_800 + 450, MAR31 - 20_000)):
        fast, slow, columns = both(engine, start, end, size=size, zone=zone, queues=queues)
        assert columns.grouping == ("interval", size, zone)  # the column path was taken
        assert_same(fast, slow)
        nothing = [r for r in fast.rows if r["offered"] == 0]
        assert nothing and all(r["abandon_rate"] is None for r in nothing)
        assert all(r["service_level"] is None and r["fcr"] is None for r in nothing)


@pytest.mark.parametrize(
    "settings",
    [
        ReportSettings(sl_formula=formula, sl_threshold=threshold)
        for formula in SlFormula
        for threshold in (20.0, 3.0, 45.0, 1000.0)  # 3 s: below the first band edge
    ],
    ids=lambda s: f"{s.sl_formula.value}-{s.sl_threshold:g}",
)
def test_every_service_level_formula(store: Store, settings: ReportSettings) -> None:
    engine = store.engine
    fill(engine, MAR28, MAR28 + 86400, "UTC")
    for size in (900, 1800):
        fast, slow, _ = both(engine, MAR28, MAR28 + 86400, size=size, zone="UTC",
                             settings=settings)  # fmt: skip
        assert_same(fast, slow)
        assert fast.params["sl_formula"] == settings.sl_formula.value


def test_a_zone_moving_its_clock_by_30_minutes(store: Store) -> None:
    engine = store.engine
    fill(engine, OCT3, OCT6, LORD_HOWE)
    for size in (900, 1800, 3600):
        fast, slow, columns = both(engine, OCT3, OCT6, size=size, zone=LORD_HOWE)
        assert_same(fast, slow)
        # an hour that holds the change is grouped by its first row's offset in SQL, and
        # starts where ``interval_start`` reads the other offset: the report sums the rows
        # again in Python (the columns are not taken as grouped), as it always did
        assert columns.grouping == (None if size == 3600 else ("interval", size, LORD_HOWE))


def test_the_columns_by_hand(store: Store) -> None:
    """Three intervals worked out: q1 and q2 summed, one interval with nothing offered."""
    engine, t0 = store.engine, MAR28
    deltas = Deltas()
    a = deltas.queue("q1", t0)
    a.offered, a.answered, a.abandoned, a.short_abandoned = 5, 3, 2, 1
    a.wait_answered, a.talk, a.hold, a.acw, a.handled = 30.0, 300.0, 20.0, 40.0, 3
    a.answered_within = [1 if edge < 20 else 2 for edge in BANDS]
    a.abandoned_within = [1 if edge < 20 else 2 for edge in BANDS]
    a.repeat_contacts, a.csat_count, a.csat_satisfied, a.max_wait = 1, 2, 1, 50.0
    b = deltas.queue("q2", t0)
    b.offered, b.answered, b.wait_answered, b.max_wait = 1, 1, 12.0, 70.0
    b.answered_within = [0 if edge < 15 else 1 for edge in BANDS]
    deltas.queue("q1", t0 + 900).rejected = 2  # refused: nothing offered
    c = deltas.queue("q2", t0 + 1800)
    c.offered, c.abandoned, c.short_abandoned, c.max_wait = 2, 2, 2, 4.0
    reports.apply(engine, deltas, 1, {}, zone="UTC")
    table = kpi.interval_report(reports.queue_columns(engine, t0, t0 + 2700), SETTINGS)
    first, empty, abandons = table.rows
    assert first["start"] == t0
    assert (first["offered"], first["answered"], first["abandoned"]) == (6, 4, 2)
    assert first["service_level"] == 3 / 6  # answered within 20 s ÷ (answered + abandoned)
    assert first["asa"] == 42.0 / 4
    assert first["aht"] == 360.0 / 3 and first["avg_talk"] == 100.0
    assert first["abandon_rate"] == 2 / 6 and first["short_abandon_rate"] == 1 / 6
    assert first["fcr"] == 1.0 - 1 / 4 and first["csat"] == 0.5
    assert first["max_wait"] == 70.0 and first["answered_within_20"] == 3
    assert empty["start"] == t0 + 900 and empty["offered"] == 0
    assert all(empty[k] is None for k in ("service_level", "asa", "aht", "fcr", "csat",
                                           "abandon_rate", "transfer_rate"))  # fmt: skip
    assert empty["answered_within_20"] == 0 and empty["max_wait"] == 0.0
    assert abandons["service_level"] == 0.0 and abandons["abandon_rate"] == 1.0
    assert abandons["asa"] is None and abandons["short_abandon_rate"] == 1.0
    assert [r["start"] for r in table.rows] == [t0, t0 + 900, t0 + 1800]


def test_rows_of_the_columns_are_the_rows(store: Store) -> None:
    engine = store.engine
    fill(engine, MAR28, MAR28 + 86400, TEHRAN)
    for size in (900, 1800, 3600):
        columns = reports.queue_columns(engine, MAR28, MAR28 + 86400, size=size, zone=TEHRAN)
        rows = reports.queue_rows(engine, MAR28, MAR28 + 86400, group_by="interval",
                                  size=size, zone=TEHRAN)  # fmt: skip
        assert columns.rows() == rows
        assert len(columns) == len(rows) and len(columns.values) == len(QUEUE_COLUMNS)


def test_columns_grouped_otherwise_fall_back_to_the_rows(store: Store) -> None:
    """Columns of another zone or size are summed again per row, as the rows would be."""
    engine = store.engine
    fill(engine, MAR28, MAR31, BERLIN)
    columns = reports.queue_columns(engine, MAR28, MAR31, size=900, zone=BERLIN)
    for size, zone in ((1800, TEHRAN), (3600, KATHMANDU), (900, TEHRAN)):
        fast = kpi.interval_report(columns, SETTINGS, size=size, zone=zone)
        slow = kpi.interval_report(columns.rows(), SETTINGS, size=size, zone=zone)
        assert_same(fast, slow)
    # a fixed offset is not the zone of a report: its columns are grouped in "UTC+12600s"
    fixed = reports.queue_columns(engine, MAR28, MAR31, size=3600, utc_offset=12600)
    assert fixed.grouping == ("interval", 3600, "UTC+12600s")
    assert_same(kpi.interval_report(fixed, SETTINGS, size=3600, zone=TEHRAN),
                kpi.interval_report(fixed.rows(), SETTINGS, size=3600, zone=TEHRAN))  # fmt: skip


def test_an_empty_range(store: Store) -> None:
    columns = reports.queue_columns(store.engine, MAR28, MAR31)
    assert len(columns) == 0 and columns.rows() == []
    table = kpi.interval_report(columns, SETTINGS)
    assert table.rows == () and table == kpi.interval_report([], SETTINGS)


def test_the_report_service_reads_the_columns(store: Store) -> None:
    engine = store.engine
    fill(engine, MAR28, MAR31, TEHRAN)
    config = ReportsConfig(timezone=TEHRAN)
    service = ReportService(engine, config, clock=lambda: MAR31 + 1.0)
    for interval, size in (("15", 900), ("30", 1800), ("60", 3600)):
        for extra in ({}, {"queue": "q2,q3"}):
            query = service.query({"from": str(MAR28), "to": str(MAR31), "interval": interval,
                                   **extra})  # fmt: skip
            got = service.run("intervals", query)
            queues = ["q2", "q3"] if extra else None
            rows = reports.queue_rows(engine, MAR28, MAR31, group_by="interval", size=size,
                                      zone=TEHRAN, queues=queues)  # fmt: skip
            assert_same(got, kpi.interval_report(rows, service.settings, size=size, zone=TEHRAN))
