"""The event log and CDRs in the database: the ``events`` and ``cdrs`` tables and their queries.

``events`` holds every :class:`LogRecord` once, keyed by its ``seq`` (given by the journal,
``tamas.runtime.eventlog``); ``append_many`` ignores a seq already stored, so the ingest
thread can re-send a batch after a crash without duplicating anything. ``cdrs`` holds one
:class:`Cdr` per call (``reporting.cdr``), replaced when written again.

The tables are defined here on the shared ``metadata`` (migration 0003 creates them).
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

_ORDER = events.c.seq


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
    """Store CDRs in one transaction, replacing any stored for the same call."""
    rows = [_cdr_row(c) for c in items]
    if not rows:
        return
    with engine.begin() as conn:
        conn.execute(sa.delete(cdrs).where(cdrs.c.call_id.in_([r["call_id"] for r in rows])))
        conn.execute(sa.insert(cdrs), rows)


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
    ``[start, end)`` (the first response time; IVR included), or None without any."""
    query = sa.select(sa.func.avg(cdrs.c.wait_seconds)).where(
        cdrs.c.started_at >= start,
        cdrs.c.started_at < end,
        cdrs.c.direction == "inbound",
        cdrs.c.answered_at.is_not(None),
    )
    with engine.connect() as conn:
        value = conn.execute(query).scalar()
    return None if value is None else float(value)
