"""The event log and CDRs in the database: the ``events`` and ``cdrs`` tables and their queries.

``events`` holds every :class:`LogRecord` once, keyed by its ``seq`` (given by the journal,
``tamas.runtime.eventlog``); ``append_many`` ignores a seq already stored, so the ingest
thread can re-send a batch after a crash without duplicating anything. ``cdrs`` holds one
:class:`Cdr` per call (``reporting.cdr``), replaced when written again.

``cdr_intervals`` holds, per 15-minute interval of the calls' start (UTC-aligned, so the
same in every zone), the number of answered inbound calls and their summed
``wait_seconds``: what :func:`first_response` averages. :func:`put_cdrs` keeps it in the
transaction that writes the CDRs (a CDR written again takes its old figures out), so the
KPI listing's first response time over a year reads 35,040 rows, not every CDR; only the
partial 15-minute intervals at the edges of a range are read from ``cdrs``.
:func:`rollup_cdrs` builds it again from ``cdrs``.

The tables are defined here on the shared ``metadata`` (migrations 0003 and 0011 create
them).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tamas.core.events import LogRecord
from tamas.reporting.cdr import CallResult, Cdr, CdrLeg
from tamas.store.tables import metadata

__all__ = [
    "append_many",
    "by_call",
    "cdrs",
    "cdrs_in_range",
    "events",
    "get_cdr",
    "in_range",
    "iterate",
    "max_seq",
    "put_cdrs",
    "rollup_cdrs",
]

events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", sa.Double, nullable=False),
    sa.Column("call_id", sa.Text, nullable=False),
    sa.Column("queue", sa.Text, nullable=False),
    sa.Column("agent", sa.Text, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),  # ["d1", "d2", ...]
    sa.Index(None, "at"),
    sa.Index(None, "call_id"),
    sa.Index(None, "queue", "at"),
    sa.Index(None, "agent", "at"),
)

cdrs = sa.Table(
    "cdrs",
    metadata,
    sa.Column("call_id", sa.Text, primary_key=True),
    sa.Column("started_at", sa.Double, nullable=False),
    sa.Column("answered_at", sa.Double, nullable=True),
    sa.Column("ended_at", sa.Double, nullable=True),
    sa.Column("caller", sa.Text, nullable=False),
    sa.Column("callee", sa.Text, nullable=False),
    sa.Column("direction", sa.Text, nullable=False),
    sa.Column("trunk", sa.Text, nullable=False),
    sa.Column("result", sa.Text, nullable=False),
    sa.Column("cause", sa.Text, nullable=False),
    sa.Column("queues", sa.JSON, nullable=False),
    sa.Column("agents", sa.JSON, nullable=False),
    sa.Column("legs", sa.JSON, nullable=False),
    sa.Column("recordings", sa.JSON, nullable=False),
    sa.Column("wait_seconds", sa.Double, nullable=False),
    sa.Column("queue_seconds", sa.Double, nullable=False),
    sa.Column("talk_seconds", sa.Double, nullable=False),
    sa.Column("hold_seconds", sa.Double, nullable=False),
    sa.Index(None, "started_at"),
)

cdr_intervals = sa.Table(
    "cdr_intervals",
    metadata,
    sa.Column("start", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("answered_inbound", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("wait_seconds", sa.Double, nullable=False, server_default="0"),
)

_ORDER = events.c.seq
#: the length of a ``cdr_intervals`` row (the report intervals' 15 minutes)
INTERVAL = 900
#: at most this many call ids in one ``IN (...)``
_CHUNK = 5000


def _insert_ignoring(engine: sa.Engine, table: sa.Table, key: str) -> Any:
    if engine.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=[key])
    if engine.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=[key])
    raise NotImplementedError(f"event log on {engine.dialect.name}")  # pragma: no cover


def _row(rec: LogRecord) -> dict[str, object]:
    return {
        "seq": rec.seq,
        "at": rec.at,
        "call_id": rec.call_id,
        "queue": rec.queue,
        "agent": rec.agent,
        "event": rec.event,
        "data": list(rec.data),
    }


def _record(row: sa.Row[Any]) -> LogRecord:
    m = row._mapping
    return LogRecord(
        seq=m["seq"],
        at=m["at"],
        call_id=m["call_id"],
        queue=m["queue"],
        agent=m["agent"],
        event=m["event"],
        data=tuple(m["data"]),
    )


def append_many(engine: sa.Engine, records: Sequence[LogRecord]) -> None:
    """Store numbered records in one transaction; a seq already stored is left as it is."""
    if not records:
        return
    if any(r.seq <= 0 for r in records):
        raise ValueError("only records numbered by the event log (seq > 0) can be stored")
    with engine.begin() as conn:
        conn.execute(_insert_ignoring(engine, events, "seq"), [_row(r) for r in records])


def max_seq(engine: sa.Engine) -> int:
    """The highest stored seq (0 when the table is empty)."""
    with engine.connect() as conn:
        value = conn.execute(sa.select(sa.func.max(events.c.seq))).scalar()
    return int(value or 0)


def by_call(engine: sa.Engine, call_id: str) -> list[LogRecord]:
    """Every record of one call, in seq order."""
    query = sa.select(events).where(events.c.call_id == call_id).order_by(_ORDER)
    with engine.connect() as conn:
        return [_record(row) for row in conn.execute(query)]


def in_range(
    engine: sa.Engine,
    start: float,
    end: float,
    *,
    queue: str | None = None,
    agent: str | None = None,
) -> list[LogRecord]:
    """Records with ``start <= at < end`` (of one queue and/or agent if given), in seq order."""
    query = sa.select(events).where(events.c.at >= start, events.c.at < end)
    if queue is not None:
        query = query.where(events.c.queue == queue)
    if agent is not None:
        query = query.where(events.c.agent == agent)
    with engine.connect() as conn:
        return [_record(row) for row in conn.execute(query.order_by(_ORDER))]


def iterate(
    engine: sa.Engine,
    *,
    after_seq: int = 0,
    start: float | None = None,
    end: float | None = None,
    batch: int = 5000,
) -> Iterator[LogRecord]:
    """Every record with seq > ``after_seq`` (and ``start <= at < end``), in seq order.

    Reads ``batch`` rows per query (keyset paging on seq), so a large log is never held
    in memory at once.
    """
    last = after_seq
    while True:
        query = sa.select(events).where(events.c.seq > last)
        if start is not None:
            query = query.where(events.c.at >= start)
        if end is not None:
            query = query.where(events.c.at < end)
        with engine.connect() as conn:
            rows = [_record(r) for r in conn.execute(query.order_by(_ORDER).limit(batch))]
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1].seq


def _cdr_row(cdr: Cdr) -> dict[str, object]:
    return {
        "call_id": cdr.call_id,
        "started_at": cdr.start,
        "answered_at": cdr.answer,
        "ended_at": cdr.end,
        "caller": cdr.caller,
        "callee": cdr.callee,
        "direction": cdr.direction,
        "trunk": cdr.trunk,
        "result": cdr.result.value,
        "cause": cdr.cause,
        "queues": list(cdr.queues),
        "agents": list(cdr.agents),
        "legs": [
            {
                "leg": leg.leg,
                "party": leg.party,
                "start": leg.start,
                "answer": leg.answer,
                "end": leg.end,
                "cause": leg.cause,
            }
            for leg in cdr.legs
        ],
        "recordings": list(cdr.recordings),
        "wait_seconds": cdr.wait_seconds,
        "queue_seconds": cdr.queue_seconds,
        "talk_seconds": cdr.talk_seconds,
        "hold_seconds": cdr.hold_seconds,
    }


def _cdr(row: sa.Row[Any]) -> Cdr:
    m = row._mapping
    return Cdr(
        call_id=m["call_id"],
        start=m["started_at"],
        answer=m["answered_at"],
        end=m["ended_at"],
        caller=m["caller"],
        callee=m["callee"],
        direction=m["direction"],
        trunk=m["trunk"],
        result=CallResult(m["result"]),
        cause=m["cause"],
        queues=tuple(m["queues"]),
        agents=tuple(m["agents"]),
        legs=tuple(CdrLeg(**leg) for leg in m["legs"]),
        recordings=tuple(m["recordings"]),
        wait_seconds=m["wait_seconds"],
        queue_seconds=m["queue_seconds"],
        talk_seconds=m["talk_seconds"],
        hold_seconds=m["hold_seconds"],
    )


def put_cdrs(engine: sa.Engine, items: Iterable[Cdr]) -> None:
    """Store CDRs in one transaction, replacing any stored for the same call, and keep
    ``cdr_intervals`` (the replaced CDRs' figures out, the new ones' in)."""
    rows = [_cdr_row(c) for c in items]
    if not rows:
        return
    ids = [str(r["call_id"]) for r in rows]
    sums: dict[int, list[float]] = {}
    with engine.begin() as conn:
        for i in range(0, len(ids), _CHUNK):
            chunk = cdrs.c.call_id.in_(ids[i : i + _CHUNK])
            old = sa.select(cdrs.c.started_at, cdrs.c.direction, cdrs.c.answered_at,
                            cdrs.c.wait_seconds).where(chunk)  # fmt: skip
            for r in conn.execute(old):
                _count(sums, r.started_at, r.direction, r.answered_at, r.wait_seconds, -1)
            conn.execute(sa.delete(cdrs).where(chunk))
        conn.execute(sa.insert(cdrs), rows)
        for new in rows:
            _count(sums, new["started_at"], new["direction"], new["answered_at"],
                   new["wait_seconds"], 1)  # fmt: skip
        _add_responses(conn, sums)


def _count(
    sums: dict[int, list[float]], at: Any, direction: Any, answered: Any, wait: Any, sign: int
) -> None:
    """Add (``sign`` 1) or take out (-1) one CDR's share of ``cdr_intervals``."""
    if direction != "inbound" or answered is None:
        return
    have = sums.setdefault(int(float(at) // INTERVAL) * INTERVAL, [0.0, 0.0])
    have[0] += sign
    have[1] += sign * float(wait)


def _add_responses(conn: sa.Connection, sums: dict[int, list[float]]) -> None:
    rows = [
        {"start": s, "answered_inbound": round(n), "wait_seconds": w}
        for s, (n, w) in sorted(sums.items())
        if n or w
    ]
    if not rows:
        return
    table = cdr_intervals
    stmt: Any = (
        postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["start"],
            set_={
                "answered_inbound": table.c.answered_inbound + stmt.excluded.answered_inbound,
                "wait_seconds": table.c.wait_seconds + stmt.excluded.wait_seconds,
            },
        ),
        rows,
    )


def _responded(start: float, end: float) -> Any:
    """The answered inbound CDRs started in [start, end)."""
    return (
        cdrs.c.started_at >= start,
        cdrs.c.started_at < end,
        cdrs.c.direction == "inbound",
        cdrs.c.answered_at.is_not(None),
    )


def rollup_cdrs(engine: sa.Engine) -> int:
    """Build ``cdr_intervals`` again from every CDR (in one transaction); returns its rows."""
    sums: dict[int, list[float]] = {}
    query = sa.select(cdrs.c.started_at, cdrs.c.wait_seconds).where(
        cdrs.c.direction == "inbound", cdrs.c.answered_at.is_not(None)
    )
    with engine.begin() as conn:
        conn.execute(sa.delete(cdr_intervals))
        for r in conn.execute(query.execution_options(yield_per=10_000)):
            _count(sums, r.started_at, "inbound", True, r.wait_seconds, 1)
        _add_responses(conn, sums)
    return len(sums)


def get_cdr(engine: sa.Engine, call_id: str) -> Cdr | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(cdrs).where(cdrs.c.call_id == call_id)).first()
    return None if row is None else _cdr(row)


def cdrs_in_range(engine: sa.Engine, start: float, end: float) -> list[Cdr]:
    """CDRs of calls started in ``[start, end)``, oldest first."""
    query = (
        sa.select(cdrs)
        .where(cdrs.c.started_at >= start, cdrs.c.started_at < end)
        .order_by(cdrs.c.started_at, cdrs.c.call_id)
    )
    with engine.connect() as conn:
        return [_cdr(row) for row in conn.execute(query)]


def first_response(engine: sa.Engine, start: float, end: float) -> float | None:
    """Mean seconds from the start to the answer of answered inbound calls started in
    ``[start, end)`` (the first response time; IVR included), or None without any.

    The whole 15-minute intervals of the range are read from ``cdr_intervals``, the partial
    ones at its edges from ``cdrs``."""
    first = -int(-start // INTERVAL) * INTERVAL
    last = int(end // INTERVAL) * INTERVAL
    raw = [(start, end)] if first >= last else [(start, first), (last, end)]
    count, total = 0, 0.0
    with engine.connect() as conn:
        for lo, hi in raw:
            if lo >= hi:
                continue
            n, waited = conn.execute(
                sa.select(sa.func.count(cdrs.c.wait_seconds), sa.func.sum(cdrs.c.wait_seconds))
                .where(*_responded(lo, hi))
            ).one()  # fmt: skip
            count, total = count + int(n), total + float(waited or 0.0)
        if first < last:
            table = cdr_intervals
            n, waited = conn.execute(
                sa.select(
                    sa.cast(sa.func.sum(table.c.answered_inbound), sa.BigInteger),
                    sa.func.sum(table.c.wait_seconds),
                ).where(table.c.start >= first, table.c.start < last)
            ).one()
            count, total = count + int(n or 0), total + float(waited or 0.0)
    return total / count if count > 0 else None
