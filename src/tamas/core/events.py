"""The event log's record: one line of what happened, in Asterisk queue_log's shape.

Asterisk's queue_log line is ``epoch|callid|queue|agent|event|data1|data2|...``; a
:class:`LogRecord` carries exactly those fields (``at`` as float epoch seconds), so that the
ACD's records export as a file that tools reading Asterisk's log understand. Tamas's own
events (IVR steps, callbacks, holds, surveys, voicemail, call legs) use the same shape with
their own event names; docs/event-log.md lists them all with their data fields.

``seq`` is given by the event log when the record is appended (0 before that).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NONE", "LogRecord"]

#: The queue or agent field of a record that concerns no queue or agent (as Asterisk writes).
NONE = "NONE"


@dataclass(frozen=True, slots=True, kw_only=True)
class LogRecord:
    """One event: when, which call, which queue and agent, what, and its data fields."""

    at: float
    call_id: str
    queue: str = NONE
    agent: str = NONE
    event: str
    data: tuple[str, ...] = ()
    seq: int = 0
