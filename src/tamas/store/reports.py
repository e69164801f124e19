"""Report aggregates in the database: 15-minute, hourly and daily rows, the aggregator's state.

Theory of operation
-------------------
``queue_intervals`` and ``agent_intervals`` hold one row per (queue|agent, start) with the
additive counters of ``tamas.reporting.intervals``; ``agent_pause_intervals`` holds the
paused seconds per (agent, start, reason); ``center_intervals`` holds the queues' 15-minute
rows summed over every queue (one row per ``start``: it has no zone, a 15-minute start is
the same instant in every zone, so it is kept always and filled by its migration, 0010);
``center_agent_intervals`` and ``center_agent_pause_intervals`` (0012) the same for the
agents' rows (per ``start``) and their pauses (per ``start`` and ``reason``).
``queue_days``, ``agent_days`` and
``agent_pause_days`` hold the same counters per LOCAL day (``day``: the epoch of the local
midnight in the center's time zone, :func:`tamas.reporting.intervals.local_day`; 23, 24 or
25 hours long across daylight-saving changes). ``queue_hours`` holds them per queue and LOCAL
hour of the same zone (``hour``: the start of the 60-minute interval a report in that zone
groups a 15-minute row into, :func:`tamas.reporting.intervals.interval_start`), and
``center_hours`` the same summed over every queue (one row per hour: a 60-minute interval
report of all queues reads a row per interval and sums nothing).
``report_state`` has one row: the seq of the last event folded in, the aggregator's snapshot
(JSON) and ``day_zone``, the zone the day and hour tables are in (NULL: not built, see
below). ``report_callers`` holds the recent caller
numbers of the FCR count (``Aggregator.take_caller_changes``), kept apart from the snapshot
so that a batch writes only the numbers it changed.

:func:`apply` adds a batch of deltas ("x = x + dx", ``max_wait`` by max) to the 15-minute
rows, to the center's 15-minute rows (queues and agents) AND to their hour and day rows,
writes the caller changes, the new seq and the snapshot in ONE transaction, so the rows and
the state always agree: after a crash the maintainer restores the snapshot and continues
after its seq, and a batch is never counted twice (a batch whose seq is not beyond the
stored one is skipped; with ``expect_seq`` a writer that is not where the stored state is
gets :class:`ReportStateConflict`).

*The day tables' zone.* Day and hour rows are written in the stored ``day_zone`` whatever
zone the writer was given (its ``zone`` only names the zone of a new state), so those tables
are always whole in that zone. Migrations 0007 and 0009 leave ``day_zone`` NULL on a
database that has rows already: then ``apply`` writes no day or hour rows, and
:func:`rollup_days` (the maintainer calls it when it starts) sums the 15-minute rows into
days and hours and sets the zone, in one transaction. :func:`rollup_days` also moves the
tables to another zone.

Queries sum in SQL (``SUM ... GROUP BY``) over rows with ``start`` in ``[start, end)``,
optionally for some queues or agents, grouped per queue/agent, per interval of 15, 30 or 60
minutes or per local day, per team (summed in Python from the per-queue/agent sums) or in
total. The whole local days of the range are read from the coarser tables and only the
partial days at its edges from the 15-minute rows: per local day from the day tables when
they are in the query's zone; per queue, agent, team or in total from the day tables
whatever their zone (a sum over whole days of any zone is the same sum); per 60-minute
interval of the queues from the hour tables when they are in the query's zone
(``center_hours`` without a queue filter, else ``queue_hours``). Otherwise (another zone,
tables not built, 15- or 30-minute intervals, agents per interval) everything is read from
the 15-minute rows: the same figures, slower. Wherever 15-minute rows are summed over every
queue or agent (no filter, grouped per interval, per day or in total, edges included) they
come from ``center_intervals`` (``center_agent_intervals``,
``center_agent_pause_intervals``): one row per 15 minutes, not one per queue or agent.
15-minute rows are summed per ``start`` in SQL and put into their 15/30/60-minute interval
in Python (a ``GROUP BY`` of the interval expression made SQLite sort every row: slower).
:func:`queue_columns` gives the interval report its rows as columns (``QueueColumns``: no
``QueueInterval`` per interval); for 15-minute intervals it reads one row per ``start`` in
``start`` order and merges nothing in Python.
:func:`peak_interval` (the busiest 15-minute interval) is one ``ORDER BY offered DESC LIMIT
1`` over ``center_intervals`` (with a queue filter, ``GROUP BY start ORDER BY sum(offered)
DESC LIMIT 1`` over the queues' rows).

The tables are defined here on the shared ``metadata`` (migrations 0006, 0007, 0009, 0010
and 0012 create them).
"""

from __future__ import annotations

import bisect
import itertools
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta, timezone
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tamas.core.errors import TamasError
from tamas.core.events import LogRecord
from tamas.reporting.aggregator import Aggregator, CallerChanges, RecentCaller
from tamas.reporting.intervals import (
    AGENT_COLUMNS,
    INTERVAL,
    QUEUE_COLUMNS,
    AgentInterval,
    Deltas,
    QueueColumns,
    QueueInterval,
    as_tz,
    day_starts,
    interval_start,
    local_day,
    local_offset,
    next_day,
)
from tamas.reporting.kpi import group_agent_rows, group_queue_rows
from tamas.reporting.settings import ReportSettings
from tamas.store import events as store_events
from tamas.store.tables import metadata

__all__ = [
    "Grouping",
    "ReportStateConflict",
    "agent_days",
    "agent_intervals",
    "agent_pause_days",
    "agent_pause_intervals",
    "agent_rows",
    "apply",
    "center_agent_intervals",
    "center_agent_pause_intervals",
    "center_hours",
    "center_intervals",
    "clear",
    "day_zone",
    "days_ready",
    "load_callers",
    "load_state",
    "peak_interval",
    "queue_columns",
    "queue_days",
    "queue_hours",
    "queue_intervals",
    "queue_rows",
    "rebuild",
    "report_callers",
    "report_state",
    "rollup_days",
]

Grouping = Literal["queue", "agent", "team", "interval", "day", "total"]


class ReportStateConflict(TamasError):
    """The stored report state is not where the writer expected (another writer, a rebuild)."""


def _counter(name: str, is_int: bool) -> sa.Column[Any]:
    kind: Any = sa.BigInteger if is_int else sa.Double
    return sa.Column(name, kind, nullable=False, server_default="0")


def _rows_table(name: str, who: str, time: str, columns: Iterable[tuple[str, bool]]) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column(who, sa.Text, primary_key=True),
        sa.Column(time, sa.BigInteger, primary_key=True, autoincrement=False),
        *(_counter(n, i) for n, i in columns),
        sa.Index(None, time),
    )


def _pause_table(name: str, time: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("agent", sa.Text, primary_key=True),
        sa.Column(time, sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("reason", sa.Text, primary_key=True),
        sa.Column("seconds", sa.Double, nullable=False, server_default="0"),
        sa.Index(None, time),
    )


queue_intervals = _rows_table("queue_intervals", "queue", "start", QUEUE_COLUMNS)
agent_intervals = _rows_table("agent_intervals", "agent", "start", AGENT_COLUMNS)
agent_pause_intervals = _pause_table("agent_pause_intervals", "start")
queue_hours = _rows_table("queue_hours", "queue", "hour", QUEUE_COLUMNS)
center_intervals = sa.Table(
    "center_intervals",
    metadata,
    sa.Column("start", sa.BigInteger, primary_key=True, autoincrement=False),
    *(_counter(n, i) for n, i in QUEUE_COLUMNS),
)
center_hours = sa.Table(
    "center_hours",
    metadata,
    sa.Column("hour", sa.BigInteger, primary_key=True, autoincrement=False),
    *(_counter(n, i) for n, i in QUEUE_COLUMNS),
)
center_agent_intervals = sa.Table(
    "center_agent_intervals",
    metadata,
    sa.Column("start", sa.BigInteger, primary_key=True, autoincrement=False),
    *(_counter(n, i) for n, i in AGENT_COLUMNS),
)
center_agent_pause_intervals = sa.Table(
    "center_agent_pause_intervals",
    metadata,
    sa.Column("start", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("reason", sa.Text, primary_key=True),
    sa.Column("seconds", sa.Double, nullable=False, server_default="0"),
)
queue_days = _rows_table("queue_days", "queue", "day", QUEUE_COLUMNS)
agent_days = _rows_table("agent_days", "agent", "day", AGENT_COLUMNS)
agent_pause_days = _pause_table("agent_pause_days", "day")

report_state = sa.Table(
    "report_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("snapshot", sa.Text, nullable=False),
    sa.Column("day_zone", sa.Text, nullable=True),
)

report_callers = sa.Table(
    "report_callers",
    metadata,
    sa.Column("number", sa.Text, primary_key=True),
    sa.Column("call_id", sa.Text, nullable=False),
    sa.Column("queue", sa.Text, nullable=False),
    sa.Column("start", sa.BigInteger, nullable=False),
    sa.Column("at", sa.Double, nullable=False),
    sa.Column("answered", sa.Boolean, nullable=False),
    sa.Column("marked", sa.Boolean, nullable=False),
)

_QUEUE_NAMES = tuple(n for n, _ in QUEUE_COLUMNS)
_NO_COLUMNS: tuple[tuple[int, ...], ...] = tuple(() for _ in QUEUE_COLUMNS)
_AGENT_NAMES = tuple(n for n, _ in AGENT_COLUMNS)
HOUR = 3600
_DAY_TABLES = (center_hours, queue_hours, queue_days, agent_days, agent_pause_days)
_ALL_TABLES = (
    queue_intervals, center_intervals, agent_intervals, agent_pause_intervals,
    center_agent_intervals, center_agent_pause_intervals, *_DAY_TABLES, report_callers,
    report_state,
)  # fmt: skip


# --------------------------------------------------------------------------- writing


def _insert(conn: sa.Connection, table: sa.Table) -> tuple[Any, Any]:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table), sa.func.greatest
    if dialect == "sqlite":
        return sqlite.insert(table), sa.func.max  # two-argument max() is SQLite's scalar max
    raise NotImplementedError(f"report aggregates on {dialect}")  # pragma: no cover


def _upsert(
    conn: sa.Connection,
    table: sa.Table,
    keys: list[str],
    rows: list[dict[str, Any]],
    *,
    replace: bool = False,
) -> None:
    """Insert ``rows``; on a key already there add to it (``max_wait`` by max), or replace."""
    if not rows:
        return
    stmt, bigger = _insert(conn, table)
    values = _merged(stmt, bigger, table, [n for n in rows[0] if n not in keys], replace)
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=values), rows)


def _merged(
    stmt: Any, bigger: Any, table: sa.Table, names: Iterable[str], replace: bool = False
) -> dict[str, Any]:
    """SET clauses of an upsert: add the new value, ``max_wait`` by max (or replace)."""
    return {
        name: (
            stmt.excluded[name]
            if replace
            else bigger(table.c[name], stmt.excluded[name])
            if name == "max_wait"
            else table.c[name] + stmt.excluded[name]
        )
        for name in names
    }


def _state_row(conn: sa.Connection) -> Any:
    query = sa.select(report_state.c.last_seq, report_state.c.day_zone).where(
        report_state.c.id == 1
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).first()


def load_state(engine: sa.Engine) -> tuple[int, dict[str, Any]]:
    """The seq of the last event folded in (0: none) and the aggregator snapshot ({}: none)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(report_state).where(report_state.c.id == 1)).first()
    if row is None:
        return 0, {}
    snapshot: dict[str, Any] = json.loads(row.snapshot)
    return int(row.last_seq), snapshot


def load_callers(engine: sa.Engine) -> dict[str, RecentCaller]:
    """The recent caller numbers kept apart from the snapshot (``Aggregator.restore``)."""
    with engine.connect() as conn:
        return {
            r.number: RecentCaller(
                call_id=r.call_id,
                queue=r.queue,
                start=int(r.start),
                at=float(r.at),
                answered=bool(r.answered),
                marked=bool(r.marked),
            )
            for r in conn.execute(sa.select(report_callers))
        }


def day_zone(engine: sa.Engine) -> str | None:
    """The zone the day tables are in (None: not built yet, or no state at all)."""
    with engine.connect() as conn:
        zone: str | None = conn.execute(
            sa.select(report_state.c.day_zone).where(report_state.c.id == 1)
        ).scalar()
    return zone


def days_ready(engine: sa.Engine, zone: str) -> bool:
    """Whether queries in ``zone`` read the day tables (else the slower 15-minute rows)."""
    with engine.connect() as conn:
        return _days_ready(conn, zone)


def _days_ready(conn: sa.Connection, zone: str) -> bool:
    row = conn.execute(sa.select(report_state.c.day_zone).where(report_state.c.id == 1)).first()
    return row is None or row.day_zone == zone


def apply(
    engine: sa.Engine,
    deltas: Deltas,
    last_seq: int,
    snapshot: Mapping[str, Any],
    *,
    expect_seq: int | None = None,
    zone: str = "UTC",
    callers: CallerChanges | None = None,
) -> bool:
    """Add ``deltas`` to the 15-minute, hour and day rows, write the ``callers`` changes and
    store ``last_seq`` and ``snapshot``, all in one transaction.

    ``zone`` is the zone of the day and hour tables when there is no state yet; afterwards
    their rows are written in the stored zone (none while it is NULL, see the module doc).
    Returns False (and changes nothing) when the stored seq is already ``last_seq`` or
    beyond: the batch was applied before. With ``expect_seq``, raises ReportStateConflict
    when the stored seq is neither that nor ``last_seq`` or beyond.
    """
    text = json.dumps(snapshot, separators=(",", ":"))
    with engine.begin() as conn:
        row = _state_row(conn)
        stored = None if row is None else int(row.last_seq)
        if stored is not None and stored >= last_seq:
            return False
        if expect_seq is not None and (stored or 0) != expect_seq:
            raise ReportStateConflict(
                f"report state is at seq {stored or 0}, the writer expected {expect_seq}"
            )
        days: str | None = zone if row is None else row.day_zone
        _write_deltas(conn, deltas, days)
        if callers is not None:
            _write_callers(conn, callers)
        if row is None:
            conn.execute(
                sa.insert(report_state),
                {"id": 1, "last_seq": last_seq, "snapshot": text, "day_zone": days},
            )
        else:
            conn.execute(
                sa.update(report_state)
                .where(report_state.c.id == 1)
                .values(last_seq=last_seq, snapshot=text)
            )
    return True


def _write_deltas(conn: sa.Connection, deltas: Deltas, zone: str | None) -> None:
    queue_rows_ = [
        {"queue": q, "start": s, **row.columns()} for (q, s), row in sorted(deltas.queues.items())
    ]
    agent_rows_ = [
        {"agent": a, "start": s, **row.columns()} for (a, s), row in sorted(deltas.agents.items())
    ]
    _upsert(conn, queue_intervals, ["queue", "start"], queue_rows_)
    _upsert(conn, agent_intervals, ["agent", "start"], agent_rows_)
    _upsert(conn, agent_pause_intervals, ["agent", "start", "reason"], _pauses(deltas, "start"))
    _upsert(conn, center_intervals, ["start"], _summed(deltas.queues.items()))
    agents = Deltas()
    for (_, s), arow in deltas.agents.items():
        agents.agent("", s).add(arow)
    _upsert(conn, center_agent_intervals, ["start"], [
        {"start": s, **row.columns()} for (_, s), row in sorted(agents.agents.items())
    ])  # fmt: skip
    _upsert(conn, center_agent_pause_intervals, ["start", "reason"], [
        {k: v for k, v in row.items() if k != "agent"} for row in _pauses(agents, "start")
    ])  # fmt: skip
    if zone is None:
        return
    tz, day_of, hour_of = as_tz(zone), dict[int, int](), dict[int, int]()
    by_day, by_hour = Deltas(), Deltas()
    for (q, s), qrow in deltas.queues.items():
        day = day_of.get(s) or day_of.setdefault(s, local_day(s, tz))
        by_day.queue(q, day).add(qrow)
        hour = hour_of.get(s) or hour_of.setdefault(s, interval_start(s, HOUR, tz))
        by_hour.queue(q, hour).add(qrow)
    for (a, s), arow in deltas.agents.items():
        day = day_of.get(s) or day_of.setdefault(s, local_day(s, tz))
        by_day.agent(a, day).add(arow)
    _upsert(conn, queue_hours, ["queue", "hour"], [
        {"queue": q, "hour": h, **row.columns()} for (q, h), row in sorted(by_hour.queues.items())
    ])  # fmt: skip
    _upsert(conn, center_hours, ["hour"], _summed(by_hour.queues.items(), "hour"))
    _upsert(conn, queue_days, ["queue", "day"], [
        {"queue": q, "day": d, **row.columns()} for (q, d), row in sorted(by_day.queues.items())
    ])  # fmt: skip
    _upsert(conn, agent_days, ["agent", "day"], [
        {"agent": a, "day": d, **row.columns()} for (a, d), row in sorted(by_day.agents.items())
    ])  # fmt: skip
    _upsert(conn, agent_pause_days, ["agent", "day", "reason"], _pauses(by_day, "day"))


def _summed(
    rows: Iterable[tuple[tuple[str, int], QueueInterval]], time: str = "start"
) -> list[dict[str, Any]]:
    """Queue rows summed over the queues per time: the center's rows."""
    center = Deltas()
    for (_, at), qrow in rows:
        center.queue("", at).add(qrow)
    return [{time: at, **row.columns()} for (_, at), row in sorted(center.queues.items())]


def _pauses(deltas: Deltas, time: str) -> list[dict[str, Any]]:
    return [
        {"agent": a, time: s, "reason": reason, "seconds": seconds}
        for (a, s), row in sorted(deltas.agents.items())
        for reason, seconds in sorted(row.paused_by.items())
    ]


def _write_callers(conn: sa.Connection, changes: CallerChanges) -> None:
    removed = sorted(changes.removed)
    for i in range(0, len(removed), 500):
        conn.execute(
            sa.delete(report_callers).where(report_callers.c.number.in_(removed[i : i + 500]))
        )
    rows = [
        {
            "number": n,
            "call_id": c.call_id,
            "queue": c.queue,
            "start": c.start,
            "at": c.at,
            "answered": c.answered,
            "marked": c.marked,
        }
        for n, c in changes.upserted.items()
    ]
    _upsert(conn, report_callers, ["number"], rows, replace=True)


def rollup_days(engine: sa.Engine, zone: str) -> int:
    """Sum the 15-minute rows into the day tables and the hour table in ``zone`` (replacing
    what they held) and record the zone, in one transaction; returns the number of days.
    Nothing to do (0) while there is no state: the first :func:`apply` starts the tables in
    its zone."""
    tz = as_tz(zone)
    with engine.begin() as conn:
        if _state_row(conn) is None:
            return 0
        # the write first: on SQLite it takes the database's write lock before the reads
        conn.execute(sa.update(report_state).where(report_state.c.id == 1).values(day_zone=None))
        for table in _DAY_TABLES:
            conn.execute(sa.delete(table))
        bounds = [
            conn.execute(sa.select(sa.func.min(t.c.start), sa.func.max(t.c.start))).one()
            for t in (queue_intervals, agent_intervals)
        ]
        starts = [int(v) for pair in bounds for v in pair if v is not None]
        days = day_starts(min(starts), max(starts), tz) if starts else []
        for day, following in itertools.pairwise(days):
            for fine, daily, keys in _ROLLUPS:
                cols = [keys[0], "day", *keys[1:], *_value_names(fine)]
                conn.execute(
                    sa.insert(daily).from_select(cols, _rollup(fine, keys, day, following))
                )
        if starts:
            _rollup_hours(conn, min(starts), max(starts) + 1, tz)
        conn.execute(sa.update(report_state).where(report_state.c.id == 1).values(day_zone=zone))
    return max(0, len(days) - 1)


def _rollup_hours(conn: sa.Connection, lo: int, hi: int, tz: Any) -> None:
    """Sum the queues' 15-minute rows with start in [lo, hi) into ``queue_hours``, and those
    into ``center_hours`` (both empty)."""
    names = ["queue", "hour", *_QUEUE_NAMES]
    stmt, bigger = _insert(conn, queue_hours)
    for first, last, offset in _offset_runs(lo, hi, tz):
        fine = queue_intervals
        hour = _interval_expr(fine.c.start, offset, HOUR)
        select = (
            sa.select(fine.c.queue, hour, *(_total(fine.c[n]) for n in _QUEUE_NAMES))
            .where(fine.c.start >= first, fine.c.start < last)
            .group_by(fine.c.queue, hour)
        )
        # two runs meet inside an hour only where a zone moves its clock by less than one
        conn.execute(
            stmt.from_select(names, select).on_conflict_do_update(
                index_elements=["queue", "hour"],
                set_=_merged(stmt, bigger, queue_hours, _QUEUE_NAMES),
            )
        )
    hours = queue_hours
    conn.execute(
        sa.insert(center_hours).from_select(
            ["hour", *_QUEUE_NAMES],
            sa.select(hours.c.hour, *(_total(hours.c[n]) for n in _QUEUE_NAMES)).group_by(
                hours.c.hour
            ),
        )
    )


def _offset_runs(lo: float, hi: float, tz: Any) -> list[tuple[int, int, int]]:
    """[first, last) ranges of 15-minute starts covering [lo, hi), each with the one UTC
    offset (seconds) that ``tz`` has at every 15-minute start in it.

    The offset is looked at where each local day ends, and at every 15-minute start of a
    day that ends in another offset than the run it began in (zones change their offset at
    15-minute boundaries, and not twice in a day)."""
    first, end = _floor(lo), -_floor(-hi)
    if end <= first:
        return []
    runs: list[tuple[int, int, int]] = []
    at, offset = first, local_offset(first, tz)
    day = first
    while day < end:
        following = max(day + INTERVAL, min(end, -_floor(-next_day(local_day(day, tz), tz))))
        if local_offset(following - INTERVAL, tz) != offset:
            for s in range(day, following, INTERVAL):
                now = local_offset(s, tz)
                if now != offset:
                    runs.append((at, s, offset))
                    at, offset = s, now
        day = following
    runs.append((at, end, offset))
    return runs


def _floor(at: float) -> int:
    """The 15-minute start at or before ``at``."""
    return int(at // INTERVAL) * INTERVAL


def _interval_expr(start: Any, offset: int, size: int) -> Any:
    """SQL for ``interval_start(start, size)`` where the zone's offset is ``offset``: the
    constants inline, so that the SELECT and the GROUP BY are the same expression."""
    offset_sql = sa.literal_column(str(int(offset)), sa.BigInteger)
    size_sql = sa.literal_column(str(int(size)), sa.BigInteger)
    return (start - (start + offset_sql) % size_sql).label("at")


def _value_names(table: sa.Table) -> tuple[str, ...]:
    if table is queue_intervals:
        return _QUEUE_NAMES
    if table is agent_intervals:
        return _AGENT_NAMES
    return ("seconds",)


def _total(column: Any) -> Any:
    """max(max_wait), sum(the rest); an integer sum cast back to BIGINT (PostgreSQL sums a
    BIGINT into NUMERIC, which the driver returns as Decimal: slow to turn into floats)."""
    if column.name == "max_wait":
        return sa.func.max(column)
    if isinstance(column.type, sa.BigInteger):
        return sa.cast(sa.func.sum(column), sa.BigInteger)
    return sa.func.sum(column)


def _rollup(fine: sa.Table, keys: Sequence[str], day: int, following: int) -> Any:
    """SELECT keys[0], day, other keys, sums ... of one day's 15-minute rows."""
    return (
        sa.select(
            fine.c[keys[0]],
            sa.literal(day, sa.BigInteger),
            *(fine.c[k] for k in keys[1:]),
            *(_total(fine.c[n]) for n in _value_names(fine)),
        )
        .where(fine.c.start >= day, fine.c.start < following)
        .group_by(*(fine.c[k] for k in keys))
    )


_ROLLUPS: tuple[tuple[sa.Table, sa.Table, tuple[str, ...]], ...] = (
    (queue_intervals, queue_days, ("queue",)),
    (agent_intervals, agent_days, ("agent",)),
    (agent_pause_intervals, agent_pause_days, ("agent", "reason")),
)


def clear(engine: sa.Engine) -> None:
    """Delete every aggregate row and the state (the next fold starts from seq 0)."""
    with engine.begin() as conn:
        for table in _ALL_TABLES:
            conn.execute(sa.delete(table))


def rebuild(
    engine: sa.Engine, settings: ReportSettings, *, zone: str = "UTC", batch: int = 50_000
) -> int:
    """Clear the aggregates and fold the whole events table again (day tables in ``zone``),
    and build the CDRs' ``cdr_intervals`` again; returns the last seq.

    Stop any :class:`tamas.runtime.reports.ReportMaintainer` on this database first (or let
    it restart: it reloads the state when ``apply`` reports a conflict).
    """
    clear(engine)
    store_events.rollup_cdrs(engine)
    aggregator = Aggregator(settings)
    last = 0
    chunk: list[LogRecord] = []
    for rec in store_events.iterate(engine, batch=batch):
        chunk.append(rec)
        if len(chunk) >= batch:
            last = _fold(engine, aggregator, chunk, last, zone)
            chunk = []
    if chunk:
        last = _fold(engine, aggregator, chunk, last, zone)
    return last


def _fold(
    engine: sa.Engine, aggregator: Aggregator, chunk: list[LogRecord], last: int, zone: str
) -> int:
    deltas = aggregator.feed(chunk)
    seq = chunk[-1].seq
    apply(engine, deltas, seq, aggregator.snapshot(include_callers=False), expect_seq=last,
          zone=zone, callers=aggregator.take_caller_changes())  # fmt: skip
    return seq


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class _Family:
    """A kind of rows: its 15-minute, hour (if any) and day tables, the 15-minute and hour
    tables summed over every name (if any), its name column, extra keys, values."""

    fine: sa.Table
    hourly: sa.Table | None
    daily: sa.Table
    who: str
    extra: tuple[str, ...]
    values: tuple[str, ...]
    center_fine: sa.Table | None = None
    center_hourly: sa.Table | None = None

    def table(self, kind: _Kind, *, whole: bool) -> tuple[sa.Table, sa.Column[Any]]:
        """The table of ``kind`` and its time column; with ``whole`` (the sum over every
        name is asked for) the center's table where there is one."""
        if kind == "day":
            return self.daily, self.daily.c.day
        if kind == "hour":
            if whole and self.center_hourly is not None:
                return self.center_hourly, self.center_hourly.c.hour
            if self.hourly is not None:
                return self.hourly, self.hourly.c.hour
        if whole and self.center_fine is not None:
            return self.center_fine, self.center_fine.c.start
        return self.fine, self.fine.c.start


_Kind = Literal["fine", "hour", "day"]
_QUEUES = _Family(
    queue_intervals, queue_hours, queue_days, "queue", (), _QUEUE_NAMES,
    center_fine=center_intervals, center_hourly=center_hours,
)  # fmt: skip
_AGENTS = _Family(
    agent_intervals, None, agent_days, "agent", (), _AGENT_NAMES,
    center_fine=center_agent_intervals,
)  # fmt: skip
_PAUSES = _Family(
    agent_pause_intervals, None, agent_pause_days, "agent", ("reason",), ("seconds",),
    center_fine=center_agent_pause_intervals,
)  # fmt: skip

#: (the table to read, from, to) pieces of a range
_Parts = list[tuple[_Kind, float, float]]
_Sums = dict[tuple[Any, ...], list[float]]


@dataclass(frozen=True, slots=True)
class _Query:
    start: float
    end: float
    group_by: str
    names: Collection[str] | None
    tz: Any
    zone: str
    size: int


def _query(
    start: float,
    end: float,
    group_by: str,
    names: Collection[str] | None,
    zone: str,
    utc_offset: int | None,
    size: int,
) -> _Query:
    if group_by == "interval" and (size <= 0 or size % 900):
        raise ValueError("interval sizes must be multiples of 900 s")
    if utc_offset is not None:  # a fixed offset: its days are never in the day tables
        tz: Any = timezone(timedelta(seconds=utc_offset))
        zone = "UTC" if utc_offset == 0 else f"UTC{utc_offset:+d}s"
    else:
        tz = as_tz(zone)
    return _Query(start, end, group_by, names, tz, zone, size)


def _parts(conn: sa.Connection, fam: _Family, q: _Query) -> _Parts:
    """Whole local days from the day (or hour) tables where they serve the query, the rest
    from the 15-minute rows (see the module doc)."""
    row = conn.execute(sa.select(report_state.c.day_zone).where(report_state.c.id == 1)).first()
    stored: str | None = None if row is None else row.day_zone
    ready = row is None or stored == q.zone  # no state: every table is empty
    tz = q.tz
    middle: _Kind
    if q.group_by == "interval":
        if not (ready and q.size == HOUR and fam.hourly is not None):
            return [("fine", q.start, q.end)]
        middle = "hour"
    elif q.group_by == "day":
        if not ready:
            return [("fine", q.start, q.end)]
        middle = "day"
    else:  # the sum over whole days of any zone: the day tables' own zone will do
        if row is not None and stored is None:
            return [("fine", q.start, q.end)]
        if stored is not None and not ready:
            tz = as_tz(stored)
        middle = "day"
    first = local_day(q.start, tz)
    if first < q.start:
        first = next_day(first, tz)
    last = local_day(q.end, tz)
    if first >= last:
        return [("fine", q.start, q.end)]
    return [("fine", q.start, first), (middle, first, last), ("fine", last, q.end)]


def _collect(conn: sa.Connection, fam: _Family, q: _Query, parts: _Parts) -> _Sums:
    """Sums per (name, time key, extra keys) over ``parts``, merged in Python."""
    by_name = q.group_by in (fam.who, "team")
    whole = q.names is None and not by_name  # the center's tables will do
    timed = q.group_by in ("interval", "day")
    maxes = {i for i, n in enumerate(fam.values) if n == "max_wait"}
    out: _Sums = {}
    for kind, lo, hi in parts:
        if lo >= hi:
            continue
        table, time = fam.table(kind, whole=whole)
        keys = [
            *([table.c[fam.who]] if by_name else []),
            *([time] if timed else []),
            *(table.c[e] for e in fam.extra),
        ]
        # a center table keyed by time (and reason) has one row per key already
        as_is = timed and fam.who not in table.c
        values = (table.c[n] if as_is else _total(table.c[n]) for n in fam.values)
        query = sa.select(*keys, *values).where(time >= lo, time < hi)
        if q.names is not None:
            query = query.where(table.c[fam.who].in_(sorted(q.names)))
        if keys and not as_is:
            query = query.group_by(*keys)
        _merge(out, conn.execute(query), q, kind, lo, hi, by_name, len(keys), fam, maxes)
    return out


def _merge(
    out: _Sums,
    result: Iterable[Any],
    q: _Query,
    kind: _Kind,
    lo: float,
    hi: float,
    by_name: bool,
    width: int,
    fam: _Family,
    maxes: set[int],
) -> None:
    """Add one query's rows to ``out`` under their group keys."""
    timed = q.group_by in ("interval", "day")
    # hour rows are their 60-minute interval's already; 15-minute rows come per start (in
    # the index's order: on SQLite cheaper than a GROUP BY the interval expression), which
    # is their 15-minute interval's start in every zone (offsets are multiples of 15 min)
    regroup = q.group_by == "interval" and kind == "fine" and q.size != INTERVAL
    days: list[int] = []
    # the zone's offset per run of 15-minute starts (``_offset_runs``): a row's interval is
    # ``interval_start`` without a datetime per row
    runs = _offset_runs(lo, hi, q.tz) if regroup else []
    firsts = [first for first, _, _ in runs]
    extra = len(fam.extra)
    for r in result:
        values = r[width:]
        if values[0] is None:
            continue  # no rows at all (an aggregate without GROUP BY)
        name = r[0] if by_name else ""
        at = int(r[int(by_name)]) if timed else 0
        if q.group_by == "day" and kind != "day":
            if not days:
                days = day_starts(lo, hi, q.tz)
            at = days[bisect.bisect_right(days, at) - 1]
        elif regroup:
            offset = runs[bisect.bisect_right(firsts, at) - 1][2]
            at -= (at + offset) % q.size
        key = (name, at, *r[width - extra : width])
        numbers = list(values)  # sums of NOT NULL columns: ints (cast back) and floats
        have = out.get(key)
        if have is None:
            out[key] = numbers
            continue
        for i, v in enumerate(numbers):
            have[i] = max(have[i], v) if i in maxes else have[i] + v


def peak_interval(
    engine: sa.Engine, start: float, end: float, *, queues: Collection[str] | None = None
) -> tuple[int, int] | None:
    """(start, offered) of the 15-minute interval in [start, end) with the most calls offered
    in ``queues`` (all: None, read from ``center_intervals``), the earliest of equals; None
    without queue rows."""
    if queues is None:
        center = center_intervals
        query = (
            sa.select(center.c.start, center.c.offered)
            .where(center.c.start >= start, center.c.start < end)
            .order_by(center.c.offered.desc(), center.c.start)
            .limit(1)
        )
    else:
        fine = queue_intervals
        total = sa.func.sum(fine.c.offered)
        query = (
            sa.select(fine.c.start, total)
            .where(fine.c.start >= start, fine.c.start < end, fine.c.queue.in_(sorted(queues)))
            .group_by(fine.c.start)
            .order_by(total.desc(), fine.c.start)
            .limit(1)
        )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else (int(row[0]), int(row[1]))


def queue_rows(
    engine: sa.Engine,
    start: float,
    end: float,
    *,
    group_by: Grouping = "queue",
    queues: Collection[str] | None = None,
    teams: Mapping[str, Collection[str]] | None = None,
    size: int = 900,
    zone: str = "UTC",
    utc_offset: int | None = None,
) -> list[QueueInterval]:
    """Queue rows with ``start <= row start < end`` summed per group (see the module doc).

    ``interval`` and ``day`` groups start at local boundaries of ``zone`` (a row's ``start``
    is then the group's start); ``utc_offset`` (seconds east of UTC), if given, is a fixed
    zone instead (no daylight saving; it never reads the day tables).
    """
    if group_by == "team" and queues is None and teams is not None:
        queues = {q for members in teams.values() for q in members}
    q = _query(start, end, group_by, queues, zone, utc_offset, size)
    with engine.connect() as conn:
        sums = _collect(conn, _QUEUES, q, _parts(conn, _QUEUES, q))
    rows = [
        QueueInterval.from_values(name, at, values) for (name, at), values in sorted(sums.items())
    ]
    if group_by == "team":
        return group_queue_rows(rows, "team", teams=teams)
    return rows


def queue_columns(
    engine: sa.Engine,
    start: float,
    end: float,
    *,
    queues: Collection[str] | None = None,
    size: int = 900,
    zone: str = "UTC",
    utc_offset: int | None = None,
) -> QueueColumns:
    """The rows of :func:`queue_rows` grouped per ``size``-second interval, as columns (no
    :class:`QueueInterval` per interval: ``kpi.interval_report`` reads them as they are).

    15-minute intervals are read as the query gives them, one row per ``start`` in ``start``
    order (``center_intervals``, or the queues' rows summed per ``start``), with no merge
    in Python; other sizes as :func:`queue_rows` reads them. ``grouping`` is set when every
    row's start is its own interval's start in ``zone`` (see :func:`_own_intervals`)."""
    q = _query(start, end, "interval", queues, zone, utc_offset, size)
    with engine.connect() as conn:
        parts = _parts(conn, _QUEUES, q)
        if size == INTERVAL and len(parts) == 1 and parts[0][0] == "fine":
            # one row per start already: the columns as they come
            fetched = list(zip(*_fine_per_start(conn, q), strict=True))
            starts, values = (fetched[0], fetched[1:]) if fetched else ((), _NO_COLUMNS)
            columns = QueueColumns.of([""] * len(starts), starts, values)
        else:
            sums = sorted(_collect(conn, _QUEUES, q, parts).items())
            columns = QueueColumns.from_rows(
                [""] * len(sums), [at for (_, at), _ in sums], [numbers for _, numbers in sums]
            )
    if not _own_intervals(columns.starts, size, q.tz):
        return columns
    return QueueColumns(columns.queues, columns.starts, columns.values,
                        ("interval", size, q.zone))  # fmt: skip


def _fine_per_start(conn: sa.Connection, q: _Query) -> list[Any]:
    """(start, sums ...) per 15-minute start in [q.start, q.end), in start order: the
    center's rows as stored, or the queues' rows of ``q.names`` summed per start."""
    if q.names is None:
        table = center_intervals
        values: list[Any] = [table.c[n] for n in _QUEUE_NAMES]
    else:
        table = queue_intervals
        values = [_total(table.c[n]) for n in _QUEUE_NAMES]
    time = table.c.start
    query = sa.select(time, *values).where(time >= q.start, time < q.end).order_by(time)
    if q.names is not None:
        query = query.where(table.c.queue.in_(sorted(q.names))).group_by(time)
    return list(conn.execute(query))


def _own_intervals(starts: Sequence[int], size: int, tz: Any) -> bool:
    """Whether every one of the sorted, distinct 15-minute ``starts`` is the start of its
    own ``size``-second interval in ``tz`` (``interval_start(at, size, tz) == at``), with the
    zone's offset per run of starts (``_offset_runs``): no datetime per row."""
    if not starts:
        return True
    if any(at % INTERVAL for at in starts):
        return False
    for first, last, offset in _offset_runs(starts[0], starts[-1] + 1, tz):
        lo, hi = bisect.bisect_left(starts, first), bisect.bisect_left(starts, last)
        if any((at + offset) % size for at in starts[lo:hi]):
            return False
    return True


def agent_rows(
    engine: sa.Engine,
    start: float,
    end: float,
    *,
    group_by: Grouping = "agent",
    agents: Collection[str] | None = None,
    teams: Mapping[str, Collection[str]] | None = None,
    size: int = 900,
    zone: str = "UTC",
    utc_offset: int | None = None,
) -> list[AgentInterval]:
    """Agent rows (pauses by reason included) summed per group, like :func:`queue_rows`."""
    if group_by == "team" and agents is None and teams is not None:
        agents = {a for members in teams.values() for a in members}
    q = _query(start, end, group_by, agents, zone, utc_offset, size)
    with engine.connect() as conn:
        parts = _parts(conn, _AGENTS, q)
        sums = _collect(conn, _AGENTS, q, parts)
        paused: dict[tuple[str, int], dict[str, float]] = {}
        for (name, at, reason), (seconds,) in _collect(conn, _PAUSES, q, parts).items():
            paused.setdefault((name, at), {})[reason] = seconds
    rows = [
        AgentInterval.from_columns(
            name, at, dict(zip(_AGENT_NAMES, values, strict=True)), paused.get((name, at))
        )
        for (name, at), values in sorted(sums.items())
    ]
    if group_by == "team":
        return group_agent_rows(rows, "team", teams=teams)
    return rows
