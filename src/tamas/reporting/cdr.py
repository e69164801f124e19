"""Call detail records folded from one call's event log records.

Theory of operation
-------------------
The runtime writes call-level events (CALLSTART, LEGSTART, LEGANSWER, LEGEND, HOLD/UNHOLD,
RECORDING, BLINDTRANSFER/ATTENDEDTRANSFER, CALLEND) and the ACD writes Asterisk's queue
events (ENTERQUEUE, CONNECT, ABANDON, ...) under the same call id. ``build_cdr`` folds them,
in ``seq`` order (``at`` for records not yet numbered), into one :class:`Cdr`:

* the first LEGSTART is the caller's leg (the A leg); any other leg answering, or a CONNECT,
  is the call being *answered* (a person took it; the IVR answering the A leg is not);
* ``agents`` are the agent fields of CONNECT and LEGANSWER records in order, without
  repeats: a transfer from one agent to another gives a chain of two;
* the result is decided once, in this order: answered; voicemail (VOICEMAIL); callback
  (CALLBACKREQUESTED); abandoned (ABANDON, or a CALLEND cause ``cancelled``); missed (the call
  left a queue unanswered, or CALLEND ``no_answer``/``busy``/``unavailable``); failed
  (anything else, including a call whose CALLEND has not been written yet);
* hold is the sum of HOLD..UNHOLD spans (an open hold ends with the call), talk is the time
  from answer to end less hold, wait is the time from start to answer (to end when
  unanswered) and queue time is the sum of the spans from ENTERQUEUE to the record that
  took the caller out of that queue.

docs/event-log.md lists each event's data fields.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from tamas.core.events import NONE, LogRecord

__all__ = ["CallResult", "Cdr", "CdrError", "CdrLeg", "build_cdr"]

#: Records that take a caller out of a queue (Asterisk's vocabulary).
QUEUE_EXITS = frozenset(
    {
        "CONNECT",
        "ABANDON",
        "EXITWITHTIMEOUT",
        "EXITWITHKEY",
        "EXITEMPTY",
        "CALLBACKREQUESTED",
        "VOICEMAIL",
    }
)
_MISSED_CAUSES = frozenset({"no_answer", "busy", "unavailable"})
_MISSED_EXITS = frozenset({"EXITWITHTIMEOUT", "EXITWITHKEY", "EXITEMPTY"})


class CdrError(ValueError):
    """The records cannot make one call's CDR (none, or of several calls)."""


class CallResult(enum.StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    MISSED = "missed"
    FAILED = "failed"
    VOICEMAIL = "voicemail"
    CALLBACK = "callback"


@dataclass(frozen=True, slots=True, kw_only=True)
class CdrLeg:
    """One leg of a call: who it reached, when it started, was answered and ended."""

    leg: str
    party: str
    start: float
    answer: float | None = None
    end: float | None = None
    cause: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Cdr:
    """One call as a whole. Times are epoch seconds; ``end`` is None while the call lasts."""

    call_id: str
    start: float
    answer: float | None
    end: float | None
    caller: str
    callee: str
    direction: str
    trunk: str
    result: CallResult
    cause: str
    queues: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    legs: tuple[CdrLeg, ...] = ()
    recordings: tuple[str, ...] = ()
    wait_seconds: float = 0.0
    queue_seconds: float = 0.0
    talk_seconds: float = 0.0
    hold_seconds: float = 0.0


@dataclass(slots=True)
class _Fold:
    call_id: str
    start: float
    caller: str = ""
    callee: str = ""
    direction: str = ""
    trunk: str = ""
    answer: float | None = None
    end: float | None = None
    cause: str = ""
    last_at: float = 0.0
    a_leg: str | None = None
    legs: dict[str, CdrLeg] = field(default_factory=dict)
    queues: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    recordings: list[str] = field(default_factory=list)
    events: set[str] = field(default_factory=set)
    hold_since: float | None = None
    hold: float = 0.0
    queued_since: float | None = None
    queued: float = 0.0


def build_cdr(records: Iterable[LogRecord]) -> Cdr:
    """The CDR of the call the records belong to (CdrError if none, or of several calls)."""
    ordered = sorted(records, key=lambda r: (r.seq == 0, r.seq, r.at))
    if not ordered:
        raise CdrError("no records to build a CDR from")
    call_ids = {r.call_id for r in ordered}
    if len(call_ids) != 1:
        raise CdrError(f"records of {len(call_ids)} calls given, one expected")
    first = ordered[0]
    fold = _Fold(call_id=first.call_id, start=first.at)
    for rec in ordered:
        _apply(fold, rec)
    return _finish(fold)


def _field(rec: LogRecord, index: int) -> str:
    return rec.data[index] if len(rec.data) > index else ""


def _apply(f: _Fold, rec: LogRecord) -> None:
    f.last_at = max(f.last_at, rec.at)
    f.events.add(rec.event)
    if rec.queue != NONE and rec.queue not in f.queues:
        f.queues.append(rec.queue)
    ev = rec.event
    if ev == "CALLSTART":
        f.start = rec.at
        f.caller, f.callee = _field(rec, 0), _field(rec, 1)
        f.direction, f.trunk = _field(rec, 2), _field(rec, 3)
    elif ev == "LEGSTART":
        leg = _field(rec, 0)
        f.legs[leg] = CdrLeg(leg=leg, party=_field(rec, 1), start=rec.at)
        if f.a_leg is None:
            f.a_leg = leg
    elif ev == "LEGANSWER":
        leg = _field(rec, 0)
        known = f.legs.get(leg) or CdrLeg(leg=leg, party="", start=rec.at)
        f.legs[leg] = _replace_leg(known, answer=rec.at)
        if leg != f.a_leg:
            _answered(f, rec)
    elif ev == "LEGEND":
        leg = _field(rec, 0)
        known = f.legs.get(leg) or CdrLeg(leg=leg, party="", start=rec.at)
        f.legs[leg] = _replace_leg(known, end=rec.at, cause=_field(rec, 1))
    elif ev == "CONNECT":
        _answered(f, rec)
    elif ev == "ENTERQUEUE":
        if f.queued_since is None:
            f.queued_since = rec.at
    elif ev == "HOLD":
        if f.hold_since is None:
            f.hold_since = rec.at
    elif ev == "UNHOLD":
        if f.hold_since is not None:
            f.hold += rec.at - f.hold_since
            f.hold_since = None
    elif ev == "RECORDING":
        if rec.data and rec.data[0] not in f.recordings:
            f.recordings.append(rec.data[0])
    elif ev == "CALLEND":
        f.end = rec.at
        f.cause = _field(rec, 0)
    if ev in QUEUE_EXITS and f.queued_since is not None:
        f.queued += rec.at - f.queued_since
        f.queued_since = None


def _answered(f: _Fold, rec: LogRecord) -> None:
    if f.answer is None:
        f.answer = rec.at
    if rec.agent != NONE and rec.agent not in f.agents:
        f.agents.append(rec.agent)


def _replace_leg(
    leg: CdrLeg, *, answer: float | None = None, end: float | None = None, cause: str = ""
) -> CdrLeg:
    return CdrLeg(
        leg=leg.leg,
        party=leg.party,
        start=leg.start,
        answer=leg.answer if answer is None else answer,
        end=leg.end if end is None else end,
        cause=cause or leg.cause,
    )


def _result(f: _Fold) -> CallResult:
    if f.answer is not None:
        return CallResult.ANSWERED
    if "VOICEMAIL" in f.events:
        return CallResult.VOICEMAIL
    if "CALLBACKREQUESTED" in f.events:
        return CallResult.CALLBACK
    if "ABANDON" in f.events or f.cause == "cancelled":
        return CallResult.ABANDONED
    if f.events & _MISSED_EXITS or f.queues or f.cause in _MISSED_CAUSES:
        return CallResult.MISSED
    return CallResult.FAILED


def _finish(f: _Fold) -> Cdr:
    end_or_now = f.end if f.end is not None else f.last_at
    hold = f.hold + (end_or_now - f.hold_since if f.hold_since is not None else 0.0)
    queued = f.queued + (end_or_now - f.queued_since if f.queued_since is not None else 0.0)
    talk = max(0.0, end_or_now - f.answer - hold) if f.answer is not None else 0.0
    wait = (f.answer if f.answer is not None else end_or_now) - f.start
    return Cdr(
        call_id=f.call_id,
        start=f.start,
        answer=f.answer,
        end=f.end,
        caller=f.caller,
        callee=f.callee,
        direction=f.direction,
        trunk=f.trunk,
        result=_result(f),
        cause=f.cause,
        queues=tuple(f.queues),
        agents=tuple(f.agents),
        legs=tuple(f.legs.values()),
        recordings=tuple(f.recordings),
        wait_seconds=max(0.0, wait),
        queue_seconds=queued,
        talk_seconds=talk,
        hold_seconds=hold,
    )
