"""The IVR report: where callers go in each flow, and where they drop, from the raw log.

Theory of operation
-------------------
The IVR session logs (docs/ivr.md) IVRSTART when a call enters a flow, IVRSTEP for each step
it enters, IVRKEY / IVRINVALID / IVRTIMEOUT at a step that waits for keys, and ends with
IVREXIT (the destination it routes to, or ``hangup``) or IVRHANGUP (the caller hung up at
that step). Every record's data starts with the flow and the step id.

A *session* is one IVRSTART and the IVR records of the same call after it, up to the next
IVRSTART of that call (a call sent to a flow again starts a new session). A session belongs
to ``[start, end)`` by its IVRSTART time; IVR records of a call whose IVRSTART is not among
the records given (it started before them) are not counted. Records after ``end`` of a
session that started in range are counted, so a session is never cut in two.

Two tables:

* :func:`ivr_steps` - one row per flow and step: times entered, the keys pressed there
  (a distribution, ``1=12 2=5``), invalid entries, timeouts, exits by destination, callers
  who hung up there (drops) and the drop rate (drops / entered).
* :func:`ivr_destinations` - one row per flow and outcome: each IVREXIT destination, the
  callers who hung up in the flow (``caller hung up``) and sessions with no end in the records
  (``(in progress)``), with their share of the flow's sessions.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from tamas.core.events import NONE, LogRecord
from tamas.reporting.table import Column, Kind, Table, Value

__all__ = ["HUNG_UP", "IN_PROGRESS", "ivr_destinations", "ivr_steps"]

#: The outcome of a session in which the caller hung up (IVRHANGUP).
HUNG_UP = "caller hung up"
#: The outcome of a session that has no IVREXIT or IVRHANGUP among the records.
IN_PROGRESS = "(in progress)"

_IVR_EVENTS = frozenset(
    {"IVRSTART", "IVRSTEP", "IVRKEY", "IVRINVALID", "IVRTIMEOUT", "IVREXIT", "IVRHANGUP"}
)


@dataclass(slots=True)
class _Step:
    kind: str = ""
    entered: int = 0
    keys: Counter[str] = field(default_factory=Counter)
    invalid: int = 0
    timeouts: int = 0
    exits: Counter[str] = field(default_factory=Counter)
    hangups: int = 0


@dataclass(slots=True)
class _Flow:
    sessions: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    steps: dict[str, _Step] = field(default_factory=dict)

    def step(self, step_id: str) -> _Step:
        if step_id not in self.steps:
            self.steps[step_id] = _Step()
        return self.steps[step_id]


def _field(rec: LogRecord, index: int) -> str:
    return rec.data[index] if len(rec.data) > index else ""


def _fold(
    records: Iterable[LogRecord], start: float, end: float, flows: Collection[str]
) -> dict[str, _Flow]:
    by_call: dict[str, list[LogRecord]] = defaultdict(list)
    for rec in records:
        if rec.event in _IVR_EVENTS and rec.call_id != NONE:
            by_call[rec.call_id].append(rec)
    result: dict[str, _Flow] = {}
    for recs in by_call.values():
        recs.sort(key=lambda r: (r.seq == 0, r.seq, r.at))
        flow: _Flow | None = None  # the open session's flow, if it counts
        ended = True
        for rec in recs:
            ev, name, step_id = rec.event, _field(rec, 0), _field(rec, 1)
            if ev == "IVRSTART":
                if flow is not None and not ended:
                    flow.outcomes[IN_PROGRESS] += 1
                flow, ended = None, False
                if start <= rec.at < end and (not flows or name in flows):
                    flow = result.setdefault(name, _Flow())
                    flow.sessions += 1
                continue
            if flow is None or ended:
                continue
            step = flow.step(step_id)
            if ev == "IVRSTEP":
                step.entered += 1
                step.kind = _field(rec, 2)
            elif ev == "IVRKEY":
                step.keys[_field(rec, 2)] += 1
            elif ev == "IVRINVALID":
                step.invalid += 1
            elif ev == "IVRTIMEOUT":
                step.timeouts += 1
            elif ev == "IVREXIT":
                step.exits[_field(rec, 2)] += 1
                flow.outcomes[_field(rec, 2)] += 1
                ended = True
            elif ev == "IVRHANGUP":
                step.hangups += 1
                flow.outcomes[HUNG_UP] += 1
                ended = True
        if flow is not None and not ended:
            flow.outcomes[IN_PROGRESS] += 1
    return result


def distribution(counts: Mapping[str, int]) -> str:
    """``{"2": 5, "1": 12}`` -> ``"1=12 2=5"`` (keys in order; empty if none)."""
    return " ".join(f"{key}={n}" for key, n in sorted(counts.items()))


def _params(start: float, end: float, flows: Collection[str]) -> dict[str, Value]:
    return {"start": start, "end": end, "flows": ",".join(sorted(flows))}


STEP_COLUMNS = (
    Column(key="flow", title="Flow"),
    Column(key="step", title="Step"),
    Column(key="kind", title="Kind", description="the step's kind (menu, play, route ...)"),
    Column(key="entered", title="Entered", kind=Kind.INT, description="IVRSTEP records"),
    Column(key="keys", title="Keys", description="IVRKEY per key: key=count"),
    Column(key="invalid", title="Invalid", kind=Kind.INT, description="IVRINVALID records"),
    Column(key="timeouts", title="Timeouts", kind=Kind.INT, description="IVRTIMEOUT records"),
    Column(key="exited", title="Exits", kind=Kind.INT, description="IVREXIT at this step"),
    Column(key="exits", title="Exits by destination", description="destination=count"),
    Column(key="hangups", title="Hang-ups", kind=Kind.INT, description="IVRHANGUP here"),
    Column(key="drop_rate", title="Drop rate", kind=Kind.RATIO, description="hangups/entered"),
)


def ivr_steps(
    records: Iterable[LogRecord], *, start: float, end: float, flows: Collection[str] = ()
) -> Table:
    """One row per flow and step (flows by name, steps in the order first seen)."""
    rows: list[dict[str, Value]] = []
    folded = _fold(records, start, end, flows)
    for name in sorted(folded):
        for step_id, s in folded[name].steps.items():
            rows.append(
                {
                    "flow": name,
                    "step": step_id,
                    "kind": s.kind,
                    "entered": s.entered,
                    "keys": distribution(s.keys),
                    "invalid": s.invalid,
                    "timeouts": s.timeouts,
                    "exited": sum(s.exits.values()),
                    "exits": distribution(s.exits),
                    "hangups": s.hangups,
                    "drop_rate": s.hangups / s.entered if s.entered else None,
                }
            )
    return Table(
        name="ivr_steps",
        title="IVR steps",
        columns=STEP_COLUMNS,
        rows=tuple(rows),
        params=_params(start, end, flows),
    )


DESTINATION_COLUMNS = (
    Column(key="flow", title="Flow"),
    Column(key="outcome", title="Outcome", description="IVREXIT destination, or hung up"),
    Column(key="sessions", title="Sessions", kind=Kind.INT),
    Column(key="share", title="Share", kind=Kind.RATIO, description="of the flow's sessions"),
)


def ivr_destinations(
    records: Iterable[LogRecord], *, start: float, end: float, flows: Collection[str] = ()
) -> Table:
    """Where each flow's sessions went: one row per flow and outcome, most frequent first."""
    rows: list[dict[str, Value]] = []
    folded = _fold(records, start, end, flows)
    for name in sorted(folded):
        flow = folded[name]
        for outcome, n in sorted(flow.outcomes.items(), key=lambda kv: (-kv[1], kv[0])):
            rows.append(
                {"flow": name, "outcome": outcome, "sessions": n, "share": n / flow.sessions}
            )
    return Table(
        name="ivr_destinations",
        title="IVR destinations",
        columns=DESTINATION_COLUMNS,
        rows=tuple(rows),
        params=_params(start, end, flows),
    )
