"""The incremental fold from event log records to interval deltas (``intervals``).

Theory of operation
-------------------
``Aggregator.feed(records)`` takes records in ``seq`` order and returns the :class:`Deltas`
they cause; the store adds them to its rows. The state between batches is small and
JSON-able (:meth:`Aggregator.snapshot`), stored with the rows in one transaction, so that
after a restart :meth:`Aggregator.restore` continues exactly where the stored rows end.

*Stays.* An ``ENTERQUEUE`` opens a stay of the call (one open stay per call id; a transfer to
another queue closes one and opens the next). Everything about the stay is counted in the row
of the queue and the 15-minute interval where it entered: offered at once; answered
(``CONNECT``, or ``CALLBACKCOMPLETED``), abandoned, the exits (``EXITWITHTIMEOUT``,
``EXITWITHKEY``, ``EXITEMPTY``) and the callback outcomes when they happen; talk and hold when
the conversation ends (``COMPLETECALLER``/``COMPLETEAGENT``/``BLINDTRANSFER``/
``ATTENDEDTRANSFER``, or ``CALLEND``); after-call work at the agent's ``WRAPUPEND``; the survey
score at ``SURVEY``. The wait is the time from ``ENTERQUEUE`` to the record that took the
caller out (it includes the ring of the agent who answered; IVR time comes before the
``ENTERQUEUE`` and is not in it). A call that rang an agent who did not answer
(``RINGNOANSWER``) counts once in ``rang_unanswered``, and in ``missed`` if it then left
unanswered. A ``CALLEND`` while the caller waits (no ``ABANDON``: the system lost the call)
counts as ``disconnected``.

*Repeat contacts (FCR).* The newest stay of each caller number (``ENTERQUEUE``'s callerid) is
remembered for ``fcr_window``; a new call from that number within the window marks the earlier
call, if it was answered, as a repeat contact (once). A center may have a hundred thousand
numbers in a week, too many to write whole with every batch: the store keeps them in a table
of their own, and the aggregator says what changed. ``snapshot(include_callers=False)``
leaves them out, :meth:`Aggregator.take_caller_changes` gives the numbers added or changed
and those forgotten since the last call, and ``restore(..., callers=...)`` takes them back.

*Agents.* An agent is at each moment in one state: on a call (talk or hold), in after-call
work, paused (with its reason), available, or logged out, decided in that order (a call
counts even without a login, as for Asterisk's static members). Every record that concerns the
agent first closes the current state's span at its time, cut at interval boundaries; at the
end of each ``feed`` every open span is closed at the newest record's time and reopened, so
the rows are current. Login = the sum of the other states.

*Odd records.* Imported queue_log files hold lines that do not fit (a ``CONNECT`` of a call
never seen entering, an agent record without an agent). They are counted by event name in
:attr:`Aggregator.unusable` and in ``Deltas.unusable`` and otherwise ignored; nothing raises.
Events of no interest to the aggregates (IVR, legs, ...) are skipped without counting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tamas.core.events import NONE, LogRecord
from tamas.reporting.intervals import (
    BANDS,
    INTERVAL,
    AgentInterval,
    Deltas,
    QueueInterval,
    bucket,
)
from tamas.reporting.settings import ReportSettings

__all__ = ["Aggregator", "CallerChanges", "RecentCaller"]

SNAPSHOT_VERSION = 1
#: A conversation's queue row is remembered this long after it ended (late SURVEY, COMPLETE).
ENDED_KEEP = 3600.0
#: A caller still "waiting" after this long was lost without a record: dropped, disconnected.
STALE_WAIT = 86400.0
PRUNE_EVERY = 300.0

_EXITS = {"EXITWITHTIMEOUT": "timeouts", "EXITWITHKEY": "exit_key", "EXITEMPTY": "exit_empty"}
_ENDS = frozenset({"COMPLETECALLER", "COMPLETEAGENT", "BLINDTRANSFER", "ATTENDEDTRANSFER"})
_TRANSFERS = frozenset({"BLINDTRANSFER", "ATTENDEDTRANSFER"})
_AGENT_PRESENCE = frozenset(
    {"AGENTLOGIN", "AGENTLOGOFF", "ADDMEMBER", "REMOVEMEMBER", "PAUSE", "UNPAUSE", "PAUSEALL",
     "UNPAUSEALL", "WRAPUPSTART", "WRAPUPEND"}
)  # fmt: skip


@dataclass(slots=True)
class _Stay:
    call_id: str
    queue: str
    entered: float
    caller: str = ""
    phase: str = "waiting"  # waiting | callback | scheduled | connected
    agent: str = NONE
    connected_at: float = 0.0
    hold_since: float | None = None
    hold: float = 0.0
    rung: bool = False

    @property
    def row(self) -> tuple[str, int]:
        return (self.queue, bucket(self.entered))


@dataclass(slots=True)
class _Agent:
    login: bool = False
    members: set[str] = field(default_factory=set)
    pause: str | None = None
    call: str | None = None
    on_hold: bool = False
    in_acw: bool = False
    acw_since: float = 0.0
    acw_row: tuple[str, int] | None = None
    state: str | None = None  # talk | hold | acw | pause | available | None (logged out)
    reason: str = ""  # the pause reason of the current span
    since: float = 0.0

    def current(self) -> tuple[str | None, str]:
        if self.call is not None:
            return ("hold" if self.on_hold else "talk"), ""
        if self.in_acw:
            return "acw", ""
        if not (self.login or self.members):
            return None, ""
        if self.pause is not None:
            return "pause", self.pause
        return "available", ""


@dataclass(slots=True)
class _Recent:
    call_id: str
    row: tuple[str, int]
    at: float
    answered: bool = False
    marked: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RecentCaller:
    """The newest stay of a caller number, remembered for ``fcr_window`` (FCR)."""

    call_id: str
    queue: str
    start: int  # the 15-minute row of the stay
    at: float  # when it entered the queue
    answered: bool = False
    marked: bool = False  # counted as a repeat contact already


@dataclass(frozen=True, slots=True, kw_only=True)
class CallerChanges:
    """Caller numbers added or changed (``upserted``) and forgotten (``removed``)."""

    upserted: dict[str, RecentCaller] = field(default_factory=dict)
    removed: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.upserted or self.removed)


class Aggregator:
    """Feed records in seq order; get the deltas for the 15-minute rows."""

    def __init__(self, settings: ReportSettings) -> None:
        self.settings = settings
        self.clock = 0.0  # the newest record time seen
        self.unusable: dict[str, int] = {}
        self._stays: dict[str, _Stay] = {}
        self._ended: dict[str, tuple[str, int, str, float]] = {}  # call -> queue, start, agent, at
        self._agents: dict[str, _Agent] = {}
        self._recent: dict[str, _Recent] = {}
        self._callers_changed: set[str] = set()
        self._callers_removed: set[str] = set()
        self._next_prune = 0.0
        self._d = Deltas()

    # ------------------------------------------------------------------ API

    def feed(self, records: Iterable[LogRecord]) -> Deltas:
        """Fold ``records`` (in seq order) and return the changes to the rows."""
        self._d = Deltas()
        for rec in records:
            if rec.at > self.clock:
                self.clock = rec.at
            handler = _HANDLERS.get(rec.event)
            if handler is not None:
                handler(self, rec)
        for agent_id, agent in self._agents.items():
            if agent.state is not None:
                self._settle(agent_id, agent, self.clock)
        if self.clock >= self._next_prune:
            self._prune()
        deltas, self._d = self._d, Deltas()
        return deltas

    @property
    def waiting(self) -> int:
        """Callers in a queue now (callbacks keeping their place included)."""
        return sum(1 for s in self._stays.values() if s.phase in ("waiting", "callback"))

    def take_caller_changes(self) -> CallerChanges:
        """The caller numbers changed and forgotten since the last call (or the restore)."""
        upserted = {
            n: RecentCaller(
                call_id=r.call_id,
                queue=r.row[0],
                start=r.row[1],
                at=r.at,
                answered=r.answered,
                marked=r.marked,
            )
            for n in sorted(self._callers_changed)
            if (r := self._recent.get(n)) is not None
        }
        changes = CallerChanges(upserted=upserted, removed=frozenset(self._callers_removed))
        self._callers_changed = set()
        self._callers_removed = set()
        return changes

    def snapshot(self, *, include_callers: bool = True) -> dict[str, Any]:
        """The state as plain JSON-able data (see :meth:`restore`); without the recent
        callers when ``include_callers`` is False (the store keeps them apart)."""
        state = {
            "version": SNAPSHOT_VERSION,
            "clock": self.clock,
            "next_prune": self._next_prune,
            "unusable": dict(self.unusable),
            "stays": [
                [
                    s.call_id,
                    s.queue,
                    s.entered,
                    s.caller,
                    s.phase,
                    s.agent,
                    s.connected_at,
                    s.hold_since,
                    s.hold,
                    s.rung,
                ]
                for s in self._stays.values()
            ],
            "ended": [[c, *v] for c, v in self._ended.items()],
            "agents": {
                a_id: [
                    a.login,
                    sorted(a.members),
                    a.pause,
                    a.call,
                    a.on_hold,
                    a.in_acw,
                    a.acw_since,
                    list(a.acw_row) if a.acw_row else None,
                    a.state,
                    a.reason,
                    a.since,
                ]
                for a_id, a in self._agents.items()
            },
        }
        if include_callers:
            state["recent"] = {
                n: [r.call_id, r.row[0], r.row[1], r.at, r.answered, r.marked]
                for n, r in self._recent.items()
            }
        return state

    @classmethod
    def restore(
        cls,
        settings: ReportSettings,
        state: dict[str, Any],
        callers: Mapping[str, RecentCaller] | None = None,
    ) -> Aggregator:
        """An aggregator continuing from a :meth:`snapshot` (an empty dict: a fresh one) and
        the recent ``callers`` kept apart. Callers inside ``state`` (a whole snapshot) count
        as changed, so that the first :meth:`take_caller_changes` hands them all to a store
        that keeps them apart."""
        agg = cls(settings)
        for n, c in (callers or {}).items():
            agg._recent[n] = _Recent(c.call_id, (c.queue, c.start), c.at, c.answered, c.marked)
        if not state:
            return agg
        if state.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"report state version {state.get('version')} is not supported")
        agg.clock = float(state["clock"])
        agg._next_prune = float(state["next_prune"])
        agg.unusable = {str(k): int(v) for k, v in state["unusable"].items()}
        for c, q, entered, caller, phase, agent, conn, hold_since, hold, rung in state["stays"]:
            agg._stays[c] = _Stay(c, q, entered, caller, phase, agent, conn, hold_since, hold,
                                  rung)  # fmt: skip
        for c, q, start, agent, at in state["ended"]:
            agg._ended[c] = (q, int(start), agent, at)
        for a_id, v in state["agents"].items():
            login, members, pause, call, on_hold, in_acw, acw_since, acw_row = v[:8]
            state_name, reason, since = v[8:]
            agg._agents[a_id] = _Agent(
                login, set(members), pause, call, on_hold, in_acw, acw_since,
                (acw_row[0], int(acw_row[1])) if acw_row else None, state_name, reason, since,
            )  # fmt: skip
        for n, (c, q, start, at, answered, marked) in state.get("recent", {}).items():
            agg._recent[n] = _Recent(c, (q, int(start)), at, answered, marked)
            agg._callers_changed.add(n)
        return agg

    # ------------------------------------------------------------------ helpers

    def _odd(self, rec: LogRecord) -> None:
        self.unusable[rec.event] = self.unusable.get(rec.event, 0) + 1
        self._d.unusable += 1

    def _qrow(self, row: tuple[str, int]) -> QueueInterval:
        return self._d.queue(row[0], row[1])

    def _agent(self, agent_id: str, at: float) -> _Agent:
        """The agent, its current span closed at ``at`` (call :meth:`_moved` after changes)."""
        agent = self._agents.get(agent_id)
        if agent is None:
            agent = self._agents[agent_id] = _Agent(since=at)
        self._settle(agent_id, agent, at)
        return agent

    def _moved(self, agent: _Agent) -> None:
        agent.state, agent.reason = agent.current()

    def _settle(self, agent_id: str, agent: _Agent, at: float) -> None:
        """Count the span of the current state up to ``at``, cut at interval boundaries."""
        start = agent.since
        if at <= start:
            return
        agent.since = at
        state = agent.state
        if state is None:
            return
        while start < at:
            b = bucket(start)
            end = min(at, b + INTERVAL)
            seconds = end - start
            row = self._d.agent(agent_id, b)
            row.login += seconds
            if state == "pause":
                row.paused += seconds
                reason = agent.reason or "none"
                row.paused_by[reason] = row.paused_by.get(reason, 0.0) + seconds
            elif state == "talk":
                row.talk += seconds
            elif state == "hold":
                row.hold += seconds
            elif state == "acw":
                row.acw += seconds
            else:
                row.available += seconds
            start = end

    def _end_acw(self, agent: _Agent, at: float) -> None:
        if agent.in_acw:
            if agent.acw_row is not None:
                self._qrow(agent.acw_row).acw += max(0.0, at - agent.acw_since)
            agent.in_acw = False
            agent.acw_row = None

    def _close(self, stay: _Stay, at: float) -> float:
        """Remove a stay that left the queue unanswered; returns its wait (max_wait kept)."""
        del self._stays[stay.call_id]
        wait = max(0.0, at - stay.entered)
        row = self._qrow(stay.row)
        row.max_wait = max(row.max_wait, wait)
        if stay.rung:
            row.missed += 1
        return wait

    def _end_talk(self, stay: _Stay, at: float, transfer: bool) -> None:
        del self._stays[stay.call_id]
        hold = stay.hold + (max(0.0, at - stay.hold_since) if stay.hold_since is not None else 0)
        row = self._qrow(stay.row)
        row.talk += max(0.0, at - stay.connected_at - hold)
        row.hold += hold
        row.handled += 1
        row.transferred += transfer
        self._ended[stay.call_id] = (stay.queue, bucket(stay.entered), stay.agent, at)

    def _prune(self) -> None:
        now = self.clock
        self._next_prune = now + PRUNE_EVERY
        window = self.settings.fcr_window
        kept = {n: r for n, r in self._recent.items() if now - r.at <= window}
        if len(kept) < len(self._recent):
            gone = self._recent.keys() - kept.keys()
            self._callers_removed |= gone
            self._callers_changed -= gone
            self._recent = kept
        self._ended = {c: v for c, v in self._ended.items() if now - v[3] <= ENDED_KEEP}
        for stay in list(self._stays.values()):
            if stay.phase == "waiting" and now - stay.entered > STALE_WAIT:
                self._close(stay, now)
                self._qrow(stay.row).disconnected += 1
            elif stay.phase in ("callback", "scheduled") and now - stay.entered > window:
                del self._stays[stay.call_id]

    # ------------------------------------------------------------------ queue events

    def _enterqueue(self, rec: LogRecord) -> None:
        if rec.queue == NONE:
            return self._odd(rec)
        old = self._stays.get(rec.call_id)
        if old is not None:  # re-entered without a record closing the last stay
            self._odd(rec)
            if old.phase == "connected":
                self._end_talk(old, rec.at, transfer=False)
            else:
                self._close(old, rec.at)
                self._qrow(old.row).disconnected += 1
        caller = rec.data[1] if len(rec.data) > 1 else ""
        stay = self._stays[rec.call_id] = _Stay(rec.call_id, rec.queue, rec.at, caller)
        row = self._qrow(stay.row)
        row.offered += 1
        if caller:
            self._repeat(caller, rec, stay.row)

    def _repeat(self, caller: str, rec: LogRecord, row: tuple[str, int]) -> None:
        prev = self._recent.get(caller)
        if prev is not None and prev.call_id == rec.call_id:
            return  # the same call entering another queue
        if (
            prev is not None
            and prev.answered
            and not prev.marked
            and rec.at - prev.at <= self.settings.fcr_window
        ):
            prev.marked = True
            self._qrow(prev.row).repeat_contacts += 1
        self._recent[caller] = _Recent(rec.call_id, row, rec.at)
        self._callers_changed.add(caller)
        self._callers_removed.discard(caller)

    def _connect(self, rec: LogRecord) -> None:
        agent_id = rec.agent
        stay = self._stays.get(rec.call_id)
        if stay is None or stay.phase == "connected":
            self._odd(rec)
        else:
            wait = max(0.0, rec.at - stay.entered)
            row = self._qrow(stay.row)
            if stay.phase == "scheduled":  # a scheduled callback: done, not an answered call
                row.callbacks_completed += 1
                stay.phase, stay.agent, stay.connected_at = "connected", agent_id, rec.at
            else:
                self._answered(stay, row, rec, wait)
        if agent_id == NONE:
            return
        agent = self._agent(agent_id, rec.at)
        self._end_acw(agent, rec.at)
        agent.call, agent.on_hold = rec.call_id, False
        self._d.agent(agent_id, bucket(rec.at)).answered += 1
        self._moved(agent)

    def _answered(self, stay: _Stay, row: QueueInterval, rec: LogRecord, wait: float) -> None:
        row.answered += 1
        row.wait_answered += wait
        row.max_wait = max(row.max_wait, wait)
        for i, edge in enumerate(BANDS):
            if wait <= edge:
                row.answered_within[i] += 1
        if rec.event == "CALLBACKCOMPLETED":
            row.callbacks_completed += 1
        else:
            row.ring += _float(rec.data, 2)
        stay.phase, stay.agent, stay.connected_at = "connected", rec.agent, rec.at
        recent = self._recent.get(stay.caller)
        if recent is not None and recent.call_id == rec.call_id:
            recent.answered = True
            self._callers_changed.add(stay.caller)

    def _abandon(self, rec: LogRecord) -> None:
        stay = self._stays.get(rec.call_id)
        if stay is None or stay.phase != "waiting":
            return self._odd(rec)
        wait = self._close(stay, rec.at)
        row = self._qrow(stay.row)
        row.abandoned += 1
        row.wait_abandoned += wait
        row.short_abandoned += wait < self.settings.short_abandon
        for i, edge in enumerate(BANDS):
            if wait <= edge:
                row.abandoned_within[i] += 1

    def _exit(self, rec: LogRecord) -> None:
        stay = self._stays.get(rec.call_id)
        if stay is None or stay.phase != "waiting":
            return self._odd(rec)
        self._close(stay, rec.at)
        row = self._qrow(stay.row)
        name = _EXITS[rec.event]
        setattr(row, name, getattr(row, name) + 1)

    def _rejected(self, rec: LogRecord) -> None:
        if rec.queue == NONE:
            return self._odd(rec)
        self._d.queue(rec.queue, bucket(rec.at)).rejected += 1

    def _callback(self, rec: LogRecord) -> None:
        stay = self._stays.get(rec.call_id)
        if rec.event == "CALLBACKREQUESTED" and stay is None and rec.queue != NONE:
            # scheduled through the API: a callback with no caller waiting, so not an offered
            # call; counted as requested (and completed, failed, listed) where it was asked
            number = rec.data[0] if rec.data else ""
            stay = self._stays[rec.call_id] = _Stay(rec.call_id, rec.queue, rec.at, number,
                                                    "scheduled")  # fmt: skip
            self._qrow(stay.row).callbacks_requested += 1
            return None
        if stay is None or stay.phase == "connected":
            return self._odd(rec)
        row = self._qrow(stay.row)
        if rec.event == "CALLBACKCANCELLED":
            if stay.phase == "waiting":
                return self._odd(rec)
            del self._stays[stay.call_id]
        elif rec.event == "CALLBACKREQUESTED":
            if stay.phase != "waiting":
                return self._odd(rec)
            row.callbacks_requested += 1
            stay.phase = "callback"
        elif rec.event == "CALLBACKFAILED":
            row.callbacks_failed += 1
        else:  # CALLBACKLISTED
            del self._stays[stay.call_id]
            row.callbacks_listed += 1

    def _ringnoanswer(self, rec: LogRecord) -> None:
        stay = self._stays.get(rec.call_id)
        if stay is not None and stay.phase != "connected" and not stay.rung:
            stay.rung = True
            self._qrow(stay.row).rang_unanswered += 1
        if rec.agent != NONE:
            self._d.agent(rec.agent, bucket(rec.at)).ring_missed += 1
        elif stay is None:
            self._odd(rec)

    def _end(self, rec: LogRecord) -> None:
        transfer = rec.event in _TRANSFERS
        stay = self._stays.get(rec.call_id)
        if stay is not None and stay.phase == "connected":
            self._end_talk(stay, rec.at, transfer)
        elif rec.call_id not in self._ended:
            self._odd(rec)
        agent_id = rec.agent
        agent = self._agents.get(agent_id) if agent_id != NONE else None
        if agent is None or agent.call != rec.call_id:
            return  # (a COMPLETEAGENT after the transfer that ended the conversation)
        self._settle(agent_id, agent, rec.at)
        agent.call, agent.on_hold = None, False
        row = self._d.agent(agent_id, bucket(rec.at))
        row.handled += 1
        row.transfers += transfer
        self._moved(agent)

    def _hold(self, rec: LogRecord) -> None:
        stay = self._stays.get(rec.call_id)
        if stay is None or stay.phase != "connected":
            return  # a hold on a call that is no queue conversation
        on = rec.event == "HOLD"
        if on and stay.hold_since is None:
            stay.hold_since = rec.at
        elif not on and stay.hold_since is not None:
            stay.hold += max(0.0, rec.at - stay.hold_since)
            stay.hold_since = None
        agent_id = rec.agent if rec.agent != NONE else stay.agent
        agent = self._agents.get(agent_id)
        if agent is not None and agent.call == rec.call_id:
            self._settle(agent_id, agent, rec.at)
            agent.on_hold = on
            self._moved(agent)

    def _callend(self, rec: LogRecord) -> None:
        stay = self._stays.get(rec.call_id)
        if stay is not None and stay.phase == "waiting":
            self._close(stay, rec.at)
            self._qrow(stay.row).disconnected += 1
        elif stay is not None and stay.phase == "connected":
            agent_id = stay.agent
            self._end_talk(stay, rec.at, transfer=False)
            agent = self._agents.get(agent_id)
            if agent is not None and agent.call == rec.call_id:
                self._settle(agent_id, agent, rec.at)
                agent.call, agent.on_hold = None, False
                self._d.agent(agent_id, bucket(rec.at)).handled += 1
                self._moved(agent)
        self._ended.pop(rec.call_id, None)

    def _survey(self, rec: LogRecord) -> None:
        raw = rec.data[0] if rec.data else ""
        if not raw:
            return  # the caller gave no score
        try:
            score, scale = float(raw), float(rec.data[1]) if len(rec.data) > 1 else 5.0
        except ValueError:
            return self._odd(rec)
        if not (scale > 0 and 0 <= score <= scale):
            return self._odd(rec)
        five = score * 5.0 / scale
        good = score >= self.settings.csat_satisfied * scale - 1e-9
        ended = self._ended.get(rec.call_id)
        rows: list[QueueInterval | AgentInterval] = []
        if ended is not None:
            rows.append(self._d.queue(ended[0], ended[1]))
        elif rec.queue != NONE:
            rows.append(self._d.queue(rec.queue, bucket(rec.at)))
        if rec.agent != NONE:
            rows.append(self._d.agent(rec.agent, bucket(rec.at)))
        for row in rows:
            row.csat_sum += five
            row.csat_count += 1
            row.csat_satisfied += good

    # ------------------------------------------------------------------ agent events

    def _presence(self, rec: LogRecord) -> None:
        if rec.agent == NONE:
            return self._odd(rec)
        ev, at = rec.event, rec.at
        agent = self._agent(rec.agent, at)
        present = agent.login or bool(agent.members)
        if ev == "AGENTLOGIN" or ev == "ADDMEMBER":
            if not present:
                agent.pause = None
            if ev == "AGENTLOGIN":
                agent.login = True
            elif rec.queue != NONE:
                agent.members.add(rec.queue)
        elif ev == "REMOVEMEMBER":
            agent.members.discard(rec.queue)
        elif ev == "AGENTLOGOFF":
            agent.login = False
            agent.members.clear()
            agent.pause = None
            self._end_acw(agent, at)
        elif ev == "PAUSE" or ev == "PAUSEALL":
            agent.pause = rec.data[0] if rec.data and rec.data[0] else ""
        elif ev == "UNPAUSE" or ev == "UNPAUSEALL":
            agent.pause = None
        elif ev == "WRAPUPSTART":
            self._end_acw(agent, at)
            agent.in_acw, agent.acw_since = True, at
            ended = self._ended.get(rec.call_id)
            agent.acw_row = (ended[0], ended[1]) if ended is not None else None
        else:  # WRAPUPEND
            self._end_acw(agent, at)
        self._moved(agent)


def _float(data: tuple[str, ...], index: int) -> float:
    try:
        return max(0.0, float(data[index]))
    except (IndexError, ValueError):
        return 0.0


_HANDLERS: dict[str, Any] = {
    "ENTERQUEUE": Aggregator._enterqueue,
    "CONNECT": Aggregator._connect,
    "CALLBACKCOMPLETED": Aggregator._connect,
    "ABANDON": Aggregator._abandon,
    "FULL": Aggregator._rejected,
    "JOINEMPTY": Aggregator._rejected,
    "CALLBACKREQUESTED": Aggregator._callback,
    "CALLBACKFAILED": Aggregator._callback,
    "CALLBACKLISTED": Aggregator._callback,
    "CALLBACKCANCELLED": Aggregator._callback,
    "RINGNOANSWER": Aggregator._ringnoanswer,
    "HOLD": Aggregator._hold,
    "UNHOLD": Aggregator._hold,
    "CALLEND": Aggregator._callend,
    "SURVEY": Aggregator._survey,
    **{e: Aggregator._exit for e in _EXITS},
    **{e: Aggregator._end for e in _ENDS},
    **{e: Aggregator._presence for e in _AGENT_PRESENCE},
}
