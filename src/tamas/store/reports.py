"""Report aggregates in the database: 15-minute queue and agent rows and the aggregator's state.

Theory of operation
-------------------
``queue_intervals`` and ``agent_intervals`` hold one row per (queue|agent, start) with the
additive counters of ``tamas.reporting.intervals``; ``agent_pause_intervals`` holds the
paused seconds per (agent, start, reason). ``report_state`` has one row: the seq of the last
event folded in and the aggregator's snapshot (JSON).

:func:`apply` adds a batch of deltas ("x = x + dx", ``max_wait`` by max) and writes the new
seq and snapshot in ONE transaction, so the rows and the state always agree: after a crash
the maintainer restores the snapshot and continues after its seq, and a batch is never
counted twice (a batch whose seq is not beyond the stored one is skipped; with
``expect_seq`` a writer that is not where the stored state is gets
:class:`ReportStateConflict`).

Queries sum in SQL (``SUM ... GROUP BY``) over rows with ``start`` in ``[start, end)``,
optionally for some queues or agents, grouped per queue/agent, per interval of 15, 30 or 60
minutes or per day (at local boundaries, ``utc_offset`` seconds east of UTC, a multiple of
900), per team (summed in Python from the per-queue/agent sums) or in total.

The tables are defined here on the shared ``metadata`` (migration 0006 creates them).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tamas.core.errors import TamasError
from tamas.core.events import LogRecord
from tamas.reporting.aggregator import Aggregator
from tamas.reporting.intervals import (
    AGENT_COLUMNS,
    QUEUE_COLUMNS,
    AgentInterval,
    Deltas,
    QueueInterval,
)
from tamas.reporting.kpi import group_agent_rows, group_queue_rows
from tamas.reporting.settings import ReportSettings
from tamas.store import events as store_events
from tamas.store.tables import metadata

__all__ = [
    "Grouping",
    "ReportStateConflict",
    "agent_intervals",
    "agent_pause_intervals",
    "agent_rows",
    "apply",
    "load_state",
    "queue_intervals",
    "queue_rows",
    "rebuild",
    "report_state",
]

Grouping = Literal["queue", "agent", "team", "interval", "day", "total"]
DAY = 86400


class ReportStateConflict(TamasError):
    """The stored report state is not where the writer expected (another writer, a rebuild)."""


def _counter(name: str, is_int: bool) -> sa.Column[Any]:
    kind: Any = sa.BigInteger if is_int else sa.Double
    return sa.Column(name, kind, nullable=False, server_default="0")


queue_intervals = sa.Table(
    "queue_intervals",
    metadata,
    sa.Column("queue", sa.Text, primary_key=True),
    sa.Column("start", sa.BigInteger, primary_key=True, autoincrement=False),
    *(_counter(n, i) for n, i in QUEUE_COLUMNS),
    sa.Index(None, "start"),
)

agent_intervals = sa.Table(
    "agent_intervals",
    metadata,
    sa.Column("agent", sa.Text, primary_key=True),
    sa.Column("start", sa.BigInteger, primary_key=True, autoincrement=False),
    *(_counter(n, i) for n, i in AGENT_COLUMNS),
    sa.Index(None, "start"),
)

agent_pause_intervals = sa.Table(
    "agent_pause_intervals",
    metadata,
    sa.Column("agent", sa.Text, primary_key=True),
    sa.Column("start", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("reason", sa.Text, primary_key=True),
    sa.Column("seconds", sa.Double, nullable=False, server_default="0"),
    sa.Index(None, "start"),
)

report_state = sa.Table(
    "report_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("snapshot", sa.Text, nullable=False),
)

_QUEUE_NAMES = tuple(n for n, _ in QUEUE_COLUMNS)
_AGENT_NAMES = tuple(n for n, _ in AGENT_COLUMNS)


# --------------------------------------------------------------------------- writing


def _upsert(
    conn: sa.Connection, table: sa.Table, keys: list[str], rows: list[dict[str, Any]]
) -> None:
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table)
        bigger: Any = sa.func.greatest
    elif dialect == "sqlite":
        stmt = sqlite.insert(table)
        bigger = sa.func.max  # max(a, b) with two arguments is SQLite's scalar max
    else:  # pragma: no cover
        raise NotImplementedError(f"report aggregates on {dialect}")
    values = {
        name: (
            bigger(table.c[name], stmt.excluded[name])
            if name == "max_wait"
            else table.c[name] + stmt.excluded[name]
        )
        for name in rows[0]
        if name not in keys
    }
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=values), rows)


def load_state(engine: sa.Engine) -> tuple[int, dict[str, Any]]:
    """The seq of the last event folded in (0: none) and the aggregator snapshot ({}: none)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(report_state).where(report_state.c.id == 1)).first()
    if row is None:
        return 0, {}
    snapshot: dict[str, Any] = json.loads(row.snapshot)
    return int(row.last_seq), snapshot


def apply(
    engine: sa.Engine,
    deltas: Deltas,
    last_seq: int,
    snapshot: Mapping[str, Any],
    *,
    expect_seq: int | None = None,
) -> bool:
    """Add ``deltas`` and store ``last_seq`` and ``snapshot``, all in one transaction.

    Returns False (and changes nothing) when the stored seq is already ``last_seq`` or
    beyond: the batch was applied before. With ``expect_seq``, raises ReportStateConflict
    when the stored seq is neither that nor ``last_seq`` or beyond.
    """
    text = json.dumps(snapshot, separators=(",", ":"))
    with engine.begin() as conn:
        query = sa.select(report_state.c.last_seq).where(report_state.c.id == 1)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        stored = conn.execute(query).scalar()
        if stored is not None and stored >= last_seq:
            return False
        if expect_seq is not None and (stored or 0) != expect_seq:
            raise ReportStateConflict(
                f"report state is at seq {stored or 0}, the writer expected {expect_seq}"
            )
        _write_deltas(conn, deltas)
        if stored is None:
            conn.execute(sa.insert(report_state), {"id": 1, "last_seq": last_seq, "snapshot": text})
        else:
            conn.execute(
                sa.update(report_state)
                .where(report_state.c.id == 1)
                .values(last_seq=last_seq, snapshot=text)
            )
    return True


def _write_deltas(conn: sa.Connection, deltas: Deltas) -> None:
    queue_rows_ = [
        {"queue": q, "start": s, **row.columns()} for (q, s), row in sorted(deltas.queues.items())
    ]
    agent_rows_ = [
        {"agent": a, "start": s, **row.columns()} for (a, s), row in sorted(deltas.agents.items())
    ]
    pause_rows = [
        {"agent": a, "start": s, "reason": reason, "seconds": seconds}
        for (a, s), row in sorted(deltas.agents.items())
        for reason, seconds in sorted(row.paused_by.items())
    ]
    _upsert(conn, queue_intervals, ["queue", "start"], queue_rows_)
    _upsert(conn, agent_intervals, ["agent", "start"], agent_rows_)
    _upsert(conn, agent_pause_intervals, ["agent", "start", "reason"], pause_rows)


def clear(engine: sa.Engine) -> None:
    """Delete every aggregate row and the state (the next fold starts from seq 0)."""
    with engine.begin() as conn:
        for table in (queue_intervals, agent_intervals, agent_pause_intervals, report_state):
            conn.execute(sa.delete(table))


def rebuild(engine: sa.Engine, settings: ReportSettings, *, batch: int = 50_000) -> int:
    """Clear the aggregates and fold the whole events table again; returns the last seq.

    Stop any :class:`tamas.runtime.reports.ReportMaintainer` on this database first (or let
    it restart: it reloads the state when ``apply`` reports a conflict).
    """
    clear(engine)
    aggregator = Aggregator(settings)
    last = 0
    chunk: list[LogRecord] = []
    for rec in store_events.iterate(engine, batch=batch):
        chunk.append(rec)
        if len(chunk) >= batch:
            last = _fold(engine, aggregator, chunk, last)
            chunk = []
    if chunk:
        last = _fold(engine, aggregator, chunk, last)
    return last


def _fold(engine: sa.Engine, aggregator: Aggregator, chunk: list[LogRecord], last: int) -> int:
    deltas = aggregator.feed(chunk)
    seq = chunk[-1].seq
    apply(engine, deltas, seq, aggregator.snapshot(), expect_seq=last)
    return seq


# --------------------------------------------------------------------------- reading


def _group_key(column: Any, group_by: str, size: int, utc_offset: int) -> Any:
    if group_by in ("interval", "day"):
        width = DAY if group_by == "day" else size
        if width % 900 or utc_offset % 900:
            raise ValueError("interval sizes and utc_offset must be multiples of 900 s")
        return column - ((column + utc_offset) % width)
    return sa.literal(0)


def _name_key(table: sa.Table, name: str, group_by: str) -> Any:
    if group_by in (name, "team"):
        return table.c[name]
    return sa.literal("")


def queue_rows(
    engine: sa.Engine,
    start: float,
    end: float,
    *,
    group_by: Grouping = "queue",
    queues: Collection[str] | None = None,
    teams: Mapping[str, Collection[str]] | None = None,
    size: int = 900,
    utc_offset: int = 0,
) -> list[QueueInterval]:
    """Queue rows with ``start <= row start < end`` summed per group (see the module doc)."""
    if group_by == "team" and queues is None and teams is not None:
        queues = {q for members in teams.values() for q in members}
    table = queue_intervals
    name = _name_key(table, "queue", group_by).label("name")
    key = _group_key(table.c.start, group_by, size, utc_offset).label("key")
    sums = [
        (sa.func.max(table.c[n]) if n == "max_wait" else sa.func.sum(table.c[n])).label(n)
        for n in _QUEUE_NAMES
    ]
    query = _ranged(sa.select(name, key, *sums), table, "queue", start, end, queues)
    with engine.connect() as conn:
        result = conn.execute(query.group_by(name, key).order_by(name, key))
        rows = [QueueInterval.from_columns(r.name, int(r.key), r._mapping) for r in result]
    if group_by == "team":
        return group_queue_rows(rows, "team", teams=teams)
    return rows


def agent_rows(
    engine: sa.Engine,
    start: float,
    end: float,
    *,
    group_by: Grouping = "agent",
    agents: Collection[str] | None = None,
    teams: Mapping[str, Collection[str]] | None = None,
    size: int = 900,
    utc_offset: int = 0,
) -> list[AgentInterval]:
    """Agent rows (pauses by reason included) summed per group, like :func:`queue_rows`."""
    if group_by == "team" and agents is None and teams is not None:
        agents = {a for members in teams.values() for a in members}
    table = agent_intervals
    name = _name_key(table, "agent", group_by).label("name")
    key = _group_key(table.c.start, group_by, size, utc_offset).label("key")
    sums = [sa.func.sum(table.c[n]).label(n) for n in _AGENT_NAMES]
    query = _ranged(sa.select(name, key, *sums), table, "agent", start, end, agents)
    pauses = agent_pause_intervals
    p_name = _name_key(pauses, "agent", group_by).label("name")
    p_key = _group_key(pauses.c.start, group_by, size, utc_offset).label("key")
    p_query = _ranged(
        sa.select(p_name, p_key, pauses.c.reason, sa.func.sum(pauses.c.seconds).label("s")),
        pauses,
        "agent",
        start,
        end,
        agents,
    ).group_by(p_name, p_key, pauses.c.reason)
    with engine.connect() as conn:
        paused: dict[tuple[str, int], dict[str, float]] = {}
        for r in conn.execute(p_query):
            paused.setdefault((r.name, int(r.key)), {})[r.reason] = float(r.s)
        result = conn.execute(query.group_by(name, key).order_by(name, key))
        rows = [
            AgentInterval.from_columns(
                r.name, int(r.key), r._mapping, paused.get((r.name, int(r.key)))
            )
            for r in result
        ]
    if group_by == "team":
        return group_agent_rows(rows, "team", teams=teams)
    return rows


def _ranged(
    query: Any,
    table: sa.Table,
    name: str,
    start: float,
    end: float,
    names: Iterable[str] | None,
) -> Any:
    query = query.where(table.c.start >= start, table.c.start < end)
    if names is not None:
        query = query.where(table.c[name].in_(sorted(names)))
    return query
