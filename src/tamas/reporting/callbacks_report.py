"""The callbacks report: requested, completed, failed and given-up callbacks, from the raw log.

Theory of operation
-------------------
The ACD (docs/acd.md, "Callbacks") logs under the id of the call that asked:
CALLBACKREQUESTED (number, position, scheduled time or empty) when the caller leaves keeping
their place; CALLBACKSTARTED (number, attempt) each time an agent is reserved and the number
dialled; CALLBACKFAILED (attempt) when an attempt was not answered; CALLBACKCOMPLETED
(waittime, attempt) when the callee answered and was connected; CALLBACKLISTED (number,
attempts) when the attempts ran out and the callback was given up (it stays on a list for
people to handle).

A callback belongs to ``[start, end)`` by its CALLBACKREQUESTED time. Later records of it are
read whenever they happened, also after ``end``: a callback asked for at 17:55 and completed
at 18:10 is a completed callback of the 17:00-18:00 range. It is *pending* when neither its
completion nor its listing is among the records given. A call that asks again later starts
another callback; the records that follow belong to the newest one.

* :func:`callbacks_by_queue` - per queue: requested, completed, listed (given up), pending,
  attempts (CALLBACKSTARTED), failed attempts (CALLBACKFAILED), completion rate (completed /
  requested), mean and longest time from request to completion.
* :func:`callbacks_open` - the callbacks of the range still to handle: pending ones and
  listed ones, oldest first, with the number to call and their attempts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from tamas.core.events import NONE, LogRecord
from tamas.reporting.table import Column, Kind, Table, Value

__all__ = ["Callback", "callbacks_by_queue", "callbacks_open", "find_callbacks"]

_EVENTS = frozenset(
    {
        "CALLBACKREQUESTED",
        "CALLBACKSTARTED",
        "CALLBACKFAILED",
        "CALLBACKCOMPLETED",
        "CALLBACKLISTED",
        "CALLBACKCANCELLED",
    }
)


@dataclass(slots=True, kw_only=True)
class Callback:
    """One callback request and what became of it."""

    call_id: str
    queue: str
    number: str
    requested: float
    scheduled: float | None = None
    attempts: int = 0
    failed: int = 0
    last_attempt: float | None = None
    completed: float | None = None
    listed: float | None = None
    cancelled: float | None = None

    @property
    def status(self) -> str:
        if self.completed is not None:
            return "completed"
        if self.listed is not None:
            return "listed"
        if self.cancelled is not None:
            return "cancelled"
        return "pending"


def _field(rec: LogRecord, index: int) -> str:
    return rec.data[index] if len(rec.data) > index else ""


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def find_callbacks(
    records: Iterable[LogRecord], *, start: float, end: float, queues: Collection[str] = ()
) -> list[Callback]:
    """The callbacks requested in ``[start, end)``, oldest first."""
    by_call: dict[str, list[LogRecord]] = defaultdict(list)
    for rec in records:
        if rec.event in _EVENTS and rec.call_id != NONE:
            by_call[rec.call_id].append(rec)
    found: list[Callback] = []
    for call_id, recs in by_call.items():
        recs.sort(key=lambda r: (r.seq == 0, r.seq, r.at))
        current: Callback | None = None
        for rec in recs:
            if rec.event == "CALLBACKREQUESTED":
                current = Callback(
                    call_id=call_id,
                    queue=rec.queue,
                    number=_field(rec, 0),
                    requested=rec.at,
                    scheduled=_float(_field(rec, 2)),
                )
                if start <= rec.at < end and (not queues or rec.queue in queues):
                    found.append(current)
            elif current is None:
                continue
            elif rec.event == "CALLBACKSTARTED":
                current.attempts += 1
                current.last_attempt = rec.at
                current.number = _field(rec, 0) or current.number
            elif rec.event == "CALLBACKFAILED":
                current.failed += 1
            elif rec.event == "CALLBACKCOMPLETED" and current.completed is None:
                current.completed = rec.at
            elif rec.event == "CALLBACKLISTED" and current.listed is None:
                current.listed = rec.at
            elif rec.event == "CALLBACKCANCELLED" and current.cancelled is None:
                current.cancelled = rec.at
    found.sort(key=lambda c: (c.requested, c.call_id))
    return found


def _params(start: float, end: float, queues: Collection[str]) -> dict[str, Value]:
    return {"start": start, "end": end, "queues": ",".join(sorted(queues))}


QUEUE_COLUMNS = (
    Column(key="queue", title="Queue"),
    Column(key="requested", title="Requested", kind=Kind.INT),
    Column(key="completed", title="Completed", kind=Kind.INT),
    Column(key="listed", title="Given up", kind=Kind.INT, description="CALLBACKLISTED"),
    Column(key="cancelled", title="Cancelled", kind=Kind.INT, description="CALLBACKCANCELLED"),
    Column(key="pending", title="Pending", kind=Kind.INT, description="none of these yet"),
    Column(key="attempts", title="Attempts", kind=Kind.INT, description="CALLBACKSTARTED"),
    Column(key="failed", title="Failed attempts", kind=Kind.INT, description="CALLBACKFAILED"),
    Column(key="completion_rate", title="Completion rate", kind=Kind.RATIO,
           description="completed / requested"),
    Column(key="avg_to_complete", title="Mean time to complete", kind=Kind.SECONDS,
           description="CALLBACKCOMPLETED time - CALLBACKREQUESTED time, mean"),
    Column(key="max_to_complete", title="Longest time to complete", kind=Kind.SECONDS),
)  # fmt: skip


def callbacks_by_queue(
    records: Iterable[LogRecord], *, start: float, end: float, queues: Collection[str] = ()
) -> Table:
    """Per queue (by name): what became of the callbacks requested in the range."""
    per_queue: dict[str, list[Callback]] = defaultdict(list)
    for cb in find_callbacks(records, start=start, end=end, queues=queues):
        per_queue[cb.queue].append(cb)
    rows: list[dict[str, Value]] = []
    for queue in sorted(per_queue):
        cbs = per_queue[queue]
        spans = [cb.completed - cb.requested for cb in cbs if cb.completed is not None]
        rows.append(
            {
                "queue": queue,
                "requested": len(cbs),
                "completed": len(spans),
                "listed": sum(cb.status == "listed" for cb in cbs),
                "cancelled": sum(cb.status == "cancelled" for cb in cbs),
                "pending": sum(cb.status == "pending" for cb in cbs),
                "attempts": sum(cb.attempts for cb in cbs),
                "failed": sum(cb.failed for cb in cbs),
                "completion_rate": len(spans) / len(cbs),
                "avg_to_complete": sum(spans) / len(spans) if spans else None,
                "max_to_complete": max(spans) if spans else None,
            }
        )
    return Table(
        name="callbacks",
        title="Callbacks",
        columns=QUEUE_COLUMNS,
        rows=tuple(rows),
        params=_params(start, end, queues),
    )


OPEN_COLUMNS = (
    Column(key="requested", title="Requested", kind=Kind.TIME),
    Column(key="call_id", title="Call"),
    Column(key="queue", title="Queue"),
    Column(key="number", title="Number", description="the number to call (the last dialled)"),
    Column(key="status", title="Status", description="pending or listed (given up)"),
    Column(key="scheduled", title="Scheduled for", kind=Kind.TIME),
    Column(key="attempts", title="Attempts", kind=Kind.INT),
    Column(key="last_attempt", title="Last attempt", kind=Kind.TIME),
    Column(key="age", title="Age", kind=Kind.SECONDS,
           description="from the request to the range's end (to the listing if given up)"),
)  # fmt: skip


def callbacks_open(
    records: Iterable[LogRecord], *, start: float, end: float, queues: Collection[str] = ()
) -> Table:
    """The range's callbacks not completed: pending and given-up ones, oldest first."""
    rows: list[dict[str, Value]] = []
    for cb in find_callbacks(records, start=start, end=end, queues=queues):
        if cb.status in ("completed", "cancelled"):
            continue
        until = cb.listed if cb.listed is not None else end
        rows.append(
            {
                "requested": cb.requested,
                "call_id": cb.call_id,
                "queue": cb.queue,
                "number": cb.number,
                "status": cb.status,
                "scheduled": cb.scheduled,
                "attempts": cb.attempts,
                "last_attempt": cb.last_attempt,
                "age": max(0.0, until - cb.requested),
            }
        )
    return Table(
        name="callbacks_open",
        title="Callbacks to handle",
        columns=OPEN_COLUMNS,
        rows=tuple(rows),
        params=_params(start, end, queues),
    )
