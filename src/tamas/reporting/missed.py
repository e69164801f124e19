"""The missed-call report and the call-back list, read from the raw event log of a range.

Theory of operation
-------------------
Records are grouped by call and read in log order (``seq``; ``at`` for records not yet
numbered). Each ENTERQUEUE opens a *visit* of that queue; the next record that takes the
caller out of the queue closes it. A visit closed by CONNECT (answered) or CALLBACKREQUESTED
(the callback report follows it) or VOICEMAIL (a message was left) is not missed; every other
visit gives one row, of one kind:

========================  ==============================================================
kind                      when
========================  ==============================================================
``disconnected``          a technical failure: the caller's leg (the call's first leg)
                          or the call ended with a cause that is not a hang-up (not
                          ``normal``, ``cancelled``, ``bye-before-answer``...: e.g.
                          ``failed``, ``ack-timeout``, ``internal-error``) while queued or
                          right after the ABANDON the ACD wrote for it (the runtime logs
                          LEGEND and CALLEND after the ACD's records); or the call ended
                          (CALLEND) with the visit still open: the ACD wrote no exit
``abandoned``             ABANDON: the caller hung up while waiting
``missed``                EXITWITHTIMEOUT or EXITEMPTY after at least one agent was rung and
                          did not answer (RINGNOANSWER) during the visit
``timeout``               EXITWITHTIMEOUT, no agent rung
``exit_empty``            EXITEMPTY, no agent rung (no agent could take the call)
``exit_key``              EXITWITHKEY: the caller chose to leave (``detail`` is the key),
                          whether or not agents were rung (``rings`` tells)
========================  ==============================================================

A visit still open when the records end (the caller is still waiting) is not listed. An
abandon shorter than ``short_abandon`` seconds is flagged ``short`` (often a wrong number).

**Which calls are in the range.** A visit belongs to ``[start, end)`` by the time of its
ENTERQUEUE, as the interval aggregates count an offered call; records before ``start`` (a
CALLSTART of a call that queued later) are read for the call's caller, and records after
``end`` close visits that entered in range.

**The call-back list.** Missed visits in range are grouped by caller number (digits only,
compared on the last 10 digits so ``+98912...`` and ``0912...`` match; empty and anonymous
callers cannot be called back and are left out). A caller is *reached* when, after their last
missed visit, a call from or to their number was answered (the CDR's answer: a CONNECT or an
answered leg other than the caller's own, which includes the same call answered later in
another queue) or a callback they requested was completed. Every record given counts as
evidence, also records after ``end``: ask with the records up to now to get today's list.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace

from tamas.core.events import NONE, LogRecord
from tamas.reporting.cdr import build_cdr
from tamas.reporting.table import Column, Kind, Table, Value

__all__ = [
    "MissedCall",
    "MissedKind",
    "callback_list",
    "find_missed",
    "missed_calls",
    "number_key",
]


class MissedKind(enum.StrEnum):
    """The kinds of missed visit (their values are the table's ``kind``)."""

    DISCONNECTED = "disconnected"
    ABANDONED = "abandoned"
    MISSED = "missed"
    TIMEOUT = "timeout"
    EXIT_EMPTY = "exit_empty"
    EXIT_KEY = "exit_key"


_NOT_MISSED = frozenset({"CONNECT", "CALLBACKREQUESTED", "CALLBACKCOMPLETED", "VOICEMAIL"})
_EXITS = frozenset({"ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY"})
#: Ending causes of someone hanging up (or the call moving on); any other cause is technical.
_HANGUP_CAUSES = frozenset(
    {"", "normal", "cancelled", "bye-before-answer", "transferred", "merged", "completed"}
)
_ANONYMOUS = frozenset({"", "anonymous", "unknown", "restricted", "private", "unavailable"})


@dataclass(frozen=True, slots=True, kw_only=True)
class MissedCall:
    """One queue visit that ended without an answer."""

    call_id: str
    queue: str
    caller: str
    entered: float
    left: float
    kind: MissedKind
    position_entry: int | None
    position_exit: int | None
    rings: int
    short: bool
    detail: str = ""

    @property
    def wait(self) -> float:
        return max(0.0, self.left - self.entered)


@dataclass(slots=True)
class _Visit:
    queue: str
    entered: float
    caller: str
    position: int | None
    rings: int = 0
    #: The technical ending cause seen while queued ("" if none).
    failed: str = ""


@dataclass(slots=True)
class _Call:
    caller: str = ""
    a_leg: str | None = None
    visit: _Visit | None = None
    missed: list[MissedCall] = field(default_factory=list)
    #: Index in ``missed`` of an ABANDON whose call has not ended yet: a technical ending
    #: cause right after it (the runtime logs LEGEND/CALLEND after the ACD's ABANDON) makes
    #: it a disconnection.
    abandoned: int | None = None


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _field(rec: LogRecord, index: int) -> str:
    return rec.data[index] if len(rec.data) > index else ""


def _by_call(records: Iterable[LogRecord]) -> dict[str, list[LogRecord]]:
    calls: dict[str, list[LogRecord]] = defaultdict(list)
    for rec in records:
        if rec.call_id != NONE:
            calls[rec.call_id].append(rec)
    for recs in calls.values():
        recs.sort(key=lambda r: (r.seq == 0, r.seq, r.at))
    return calls


def _close(
    call: _Call, call_id: str, rec: LogRecord, kind: MissedKind, short_abandon: float
) -> None:
    """End the open visit at ``rec`` as a missed one of ``kind``."""
    v = call.visit
    assert v is not None
    position: int | None = None
    detail = ""
    if rec.event == "ABANDON" or rec.event in ("EXITWITHTIMEOUT", "EXITEMPTY"):
        position = _int(_field(rec, 0))
    elif rec.event == "EXITWITHKEY":
        position, detail = _int(_field(rec, 1)), _field(rec, 0)
    elif rec.event == "CALLEND":
        detail = _field(rec, 0)
    if v.failed:
        kind, detail = MissedKind.DISCONNECTED, v.failed
    short = kind == MissedKind.ABANDONED and rec.at - v.entered < short_abandon
    call.missed.append(
        MissedCall(
            call_id=call_id,
            queue=v.queue,
            caller=v.caller or call.caller,
            entered=v.entered,
            left=rec.at,
            kind=kind,
            position_entry=v.position,
            position_exit=position,
            rings=v.rings,
            short=short,
            detail=detail,
        )
    )
    call.visit = None


def _exit_kind(event: str, rings: int) -> MissedKind:
    if event == "ABANDON":
        return MissedKind.ABANDONED
    if event == "EXITWITHKEY":
        return MissedKind.EXIT_KEY
    if rings:
        return MissedKind.MISSED
    return MissedKind.EXIT_EMPTY if event == "EXITEMPTY" else MissedKind.TIMEOUT


def _technical(cause: str) -> bool:
    """Whether an ending cause is a failure rather than someone hanging up."""
    return cause not in _HANGUP_CAUSES


def _ended(call: _Call, rec: LogRecord, cause: str, short_abandon: float) -> None:
    """The caller's leg or the call ended with ``cause``."""
    v = call.visit
    if v is not None:
        if _technical(cause):
            v.failed = cause
        if rec.event == "CALLEND":
            _close(call, rec.call_id, rec, MissedKind.DISCONNECTED, short_abandon)
    elif call.abandoned is not None and _technical(cause):
        i = call.abandoned
        call.missed[i] = replace(
            call.missed[i], kind=MissedKind.DISCONNECTED, short=False, detail=cause
        )
    call.abandoned = None


def _fold_call(call_id: str, records: Sequence[LogRecord], short_abandon: float) -> _Call:
    call = _Call()
    for rec in records:
        ev, v = rec.event, call.visit
        if ev == "CALLSTART":
            call.caller = _field(rec, 0)
        elif ev == "LEGSTART" and call.a_leg is None:
            call.a_leg = _field(rec, 0)
        elif ev == "ENTERQUEUE":
            call.abandoned = None
            call.visit = _Visit(
                queue=rec.queue,
                entered=rec.at,
                caller=_field(rec, 1),
                position=_int(_field(rec, 2)),
            )
        elif ev == "CALLEND" or (ev == "LEGEND" and _field(rec, 0) == call.a_leg):
            _ended(call, rec, _field(rec, 0 if ev == "CALLEND" else 1), short_abandon)
        elif v is None:
            continue
        elif ev == "RINGNOANSWER" and rec.queue == v.queue:
            v.rings += 1
        elif ev in _EXITS and rec.queue == v.queue:
            _close(call, call_id, rec, _exit_kind(ev, v.rings), short_abandon)
            if ev == "ABANDON":
                call.abandoned = len(call.missed) - 1
        elif ev in _NOT_MISSED:
            call.visit = None
    return call


def find_missed(
    records: Iterable[LogRecord],
    *,
    start: float,
    end: float,
    queues: Collection[str] = (),
    short_abandon: float = 5.0,
) -> list[MissedCall]:
    """Missed queue visits that entered in ``[start, end)``, oldest first."""
    out: list[MissedCall] = []
    for call_id, recs in _by_call(records).items():
        for m in _fold_call(call_id, recs, short_abandon).missed:
            if start <= m.entered < end and (not queues or m.queue in queues):
                out.append(m)
    out.sort(key=lambda m: (m.entered, m.call_id))
    return out


def _params(
    start: float, end: float, queues: Collection[str], short_abandon: float
) -> dict[str, Value]:
    return {
        "start": start,
        "end": end,
        "queues": ",".join(sorted(queues)),
        "short_abandon": short_abandon,
    }


MISSED_COLUMNS = (
    Column(key="time", title="Time", kind=Kind.TIME, description="when the caller joined"),
    Column(key="call_id", title="Call"),
    Column(key="caller", title="Caller", description="ENTERQUEUE callerid, else CALLSTART"),
    Column(key="queue", title="Queue"),
    Column(key="kind", title="Kind", description="abandoned, disconnected, missed, ..."),
    Column(key="position_entry", title="Position on entry", kind=Kind.INT),
    Column(key="position_exit", title="Position on leaving", kind=Kind.INT),
    Column(key="wait", title="Wait", kind=Kind.SECONDS, description="entry to leaving"),
    Column(key="rings", title="Agents rung", kind=Kind.INT, description="RINGNOANSWER count"),
    Column(key="short", title="Short abandon", description="abandoned within short_abandon s"),
    Column(key="detail", title="Detail", description="key pressed, or the ending cause"),
)


def missed_calls(
    records: Iterable[LogRecord],
    *,
    start: float,
    end: float,
    queues: Collection[str] = (),
    short_abandon: float = 5.0,
) -> Table:
    """One row per queue visit entered in ``[start, end)`` that ended unanswered."""
    found = find_missed(records, start=start, end=end, queues=queues, short_abandon=short_abandon)
    rows = tuple(
        {
            "time": m.entered,
            "call_id": m.call_id,
            "caller": m.caller,
            "queue": m.queue,
            "kind": m.kind.value,
            "position_entry": m.position_entry,
            "position_exit": m.position_exit,
            "wait": m.wait,
            "rings": m.rings,
            "short": m.short,
            "detail": m.detail,
        }
        for m in found
    )
    return Table(
        name="missed_calls",
        title="Missed calls",
        columns=MISSED_COLUMNS,
        rows=rows,
        params=_params(start, end, queues, short_abandon),
    )


def number_key(number: str) -> str:
    """A caller number as compared: its digits, the last 10 of them (``""`` if none)."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return digits[-10:]


def _reached(records: Sequence[LogRecord]) -> dict[str, float]:
    """The last time each number (``number_key``) was reached: answered or called back."""
    last: dict[str, float] = {}

    def mark(number: str, at: float) -> None:
        key = number_key(number)
        if key and at > last.get(key, float("-inf")):
            last[key] = at

    callback_numbers: dict[str, str] = {}
    for call_id, recs in _by_call(records).items():
        cdr = build_cdr(recs)
        callers = {cdr.caller, cdr.callee}
        for rec in recs:
            if rec.event == "ENTERQUEUE":
                callers.add(_field(rec, 1))
            elif rec.event in ("CALLBACKREQUESTED", "CALLBACKSTARTED") and _field(rec, 0):
                callback_numbers[call_id] = _field(rec, 0)
            elif rec.event == "CALLBACKCOMPLETED" and call_id in callback_numbers:
                mark(callback_numbers[call_id], rec.at)
        if cdr.answer is not None:
            for number in callers:
                mark(number, cdr.answer)
    return last


CALLBACK_COLUMNS = (
    Column(key="caller", title="Caller", description="the number as the last missed call gave it"),
    Column(key="missed", title="Missed calls", kind=Kind.INT),
    Column(key="first_missed", title="First missed", kind=Kind.TIME),
    Column(key="last_missed", title="Last missed", kind=Kind.TIME),
    Column(key="queues", title="Queues", description="queues missed in, first seen first"),
    Column(key="last_kind", title="Last kind"),
    Column(key="longest_wait", title="Longest wait", kind=Kind.SECONDS),
    Column(key="only_short", title="Only short abandons", description="maybe a wrong number"),
)


def callback_list(
    records: Iterable[LogRecord],
    *,
    start: float,
    end: float,
    queues: Collection[str] = (),
    short_abandon: float = 5.0,
    skip_short: bool = False,
) -> Table:
    """Callers with a missed visit in range not reached since their last one, oldest first.

    ``skip_short`` leaves out callers whose every missed visit was a short abandon.
    """
    records = list(records)
    found = find_missed(records, start=start, end=end, queues=queues, short_abandon=short_abandon)
    by_number: dict[str, list[MissedCall]] = defaultdict(list)
    for m in found:
        if m.caller.strip().lower() not in _ANONYMOUS and number_key(m.caller):
            by_number[number_key(m.caller)].append(m)
    reached = _reached(records)
    rows: list[tuple[float, str, dict[str, Value]]] = []
    for key, misses in by_number.items():
        last = misses[-1]
        if reached.get(key, float("-inf")) > last.entered:
            continue
        only_short = all(m.short for m in misses)
        if skip_short and only_short:
            continue
        rows.append(
            (
                last.entered,
                last.caller,
                {
                    "caller": last.caller,
                    "missed": len(misses),
                    "first_missed": misses[0].entered,
                    "last_missed": last.entered,
                    "queues": ",".join(dict.fromkeys(m.queue for m in misses)),
                    "last_kind": last.kind.value,
                    "longest_wait": max(m.wait for m in misses),
                    "only_short": only_short,
                },
            )
        )
    rows.sort(key=lambda r: (r[0], r[1]))
    params = _params(start, end, queues, short_abandon)
    params["skip_short"] = skip_short
    return Table(
        name="callback_list",
        title="Callers to call back",
        columns=CALLBACK_COLUMNS,
        rows=tuple(r[2] for r in rows),
        params=params,
    )
