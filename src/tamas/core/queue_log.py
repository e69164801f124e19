"""Asterisk queue_log lines: ``epoch|callid|queue|agent|EVENT|data1|data2|...``.

Asterisk writes one line per queue event to ``/var/log/asterisk/queue_log``: the time in
integer epoch seconds, the caller channel's unique id (or ``NONE``), the queue (or
``NONE``), the member (agent) or ``NONE``, the event name and its data fields, all joined by
``|`` with no quoting. :func:`format_line` writes a :class:`LogRecord` that way, so tools
that read Asterisk's log (QueueMetrics and others) read Tamas's export; :func:`parse_line`
reads such a line back.

Two things do not survive the round trip, by the format's design: ``at`` is written as whole
seconds (rounded down, as Asterisk does), and a ``|`` or line break inside a field, which the
format cannot carry, is written as a space. ``parse_line`` also accepts fractional epochs
(some tools write them) and an empty queue or agent field (read as ``NONE``).
"""

from __future__ import annotations

import math

from tamas.core.errors import TamasError
from tamas.core.events import NONE, LogRecord

__all__ = ["QueueLogError", "format_line", "parse_line"]

_UNSAFE = str.maketrans({"|": " ", "\n": " ", "\r": " "})


class QueueLogError(TamasError, ValueError):
    """A queue_log line that cannot be used: ``lineno`` and ``reason`` say which and why."""

    def __init__(self, lineno: int, reason: str, line: str) -> None:
        shown = line if len(line) <= 80 else line[:77] + "..."
        super().__init__(f"line {lineno}: {reason}: {shown!r}")
        self.lineno = lineno
        self.reason = reason


def format_line(rec: LogRecord) -> str:
    """The record as one queue_log line, without the line break."""
    fields = [rec.call_id, rec.queue, rec.agent, rec.event, *rec.data]
    return "|".join([str(math.floor(rec.at)), *(f.translate(_UNSAFE) for f in fields)])


def parse_line(line: str, lineno: int) -> LogRecord:
    """The record of one queue_log line (QueueLogError if the line cannot be used)."""
    text = line.rstrip("\r\n")
    fields = text.split("|")
    if not text.strip():
        raise QueueLogError(lineno, "empty line", line)
    if len(fields) < 5:
        raise QueueLogError(lineno, f"{len(fields)} field(s), at least 5 expected", line)
    epoch, call_id, queue, agent, event, *data = fields
    try:
        at = float(epoch)
    except ValueError:
        raise QueueLogError(lineno, f"time {epoch!r} is not epoch seconds", line) from None
    if not math.isfinite(at) or at < 0:
        raise QueueLogError(lineno, f"time {epoch!r} is not epoch seconds", line)
    if not call_id:
        raise QueueLogError(lineno, "empty call id (Asterisk writes NONE)", line)
    if not event or not all(c.isascii() and (c.isupper() or c.isdigit() or c == "_")
                            for c in event):  # fmt: skip
        raise QueueLogError(lineno, f"event {event!r} is not an event name", line)
    return LogRecord(
        at=at, call_id=call_id, queue=queue or NONE, agent=agent or NONE, event=event,
        data=tuple(data),
    )  # fmt: skip
