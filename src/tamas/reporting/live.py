"""What is happening now: callers waiting per queue and each agent's state, from the log.

Theory of operation
-------------------
A wallboard needs "calls waiting now", "longest wait now" and how many agents are
available, talking, in wrap-up or paused, per queue. :class:`LiveBoard` folds the event log's
records (the same records the historical reports are built from) into that picture:

* a caller waits in a queue from ENTERQUEUE until the record that takes them out of it
  (CONNECT, ABANDON, EXIT*, CALLBACKREQUESTED, BLINDTRANSFER into another queue writes a
  new ENTERQUEUE there); a callback is counted apart, as pending from CALLBACKREQUESTED until
  CALLBACKCOMPLETED, CALLBACKLISTED or CALLBACKCANCELLED (``callbacks``);
* an agent's state follows AGENTLOGIN/AGENTLOGOFF, PAUSE/UNPAUSE (and the *ALL forms),
  the ringing of an agent's leg (LEGSTART with the agent) until RINGNOANSWER/RINGCANCELED/
  CONNECT, CONNECT (on call), HOLD/UNHOLD with the agent set (on hold), the end of the call
  (COMPLETE*, transfers) and WRAPUPSTART/WRAPUPEND;
* queue membership comes from ADDMEMBER/REMOVEMEMBER (the ACD writes one per queue at
  login and logout) and from the ``members`` given at start (the configuration), so an
  agent logged in before the board started still counts where it belongs.

The board holds no clock: ``snapshot(now)`` turns "since" times into ages. The historical
figures of the same period come from the interval aggregates; the runtime feeds both from
one subscription, so the two never disagree about which records happened.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tamas.core.events import NONE, LogRecord

__all__ = ["AgentNow", "LiveBoard", "LiveState", "Waiting"]

_LEAVES_QUEUE = frozenset(
    {"CONNECT", "ABANDON", "EXITWITHTIMEOUT", "EXITWITHKEY", "EXITEMPTY", "CALLBACKREQUESTED"}
)
_CALL_ENDS = frozenset({"COMPLETECALLER", "COMPLETEAGENT", "BLINDTRANSFER", "ATTENDEDTRANSFER"})


class LiveState(enum.StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    ON_HOLD = "on_hold"
    WRAPUP = "wrapup"
    PAUSED = "paused"


@dataclass(slots=True)
class Waiting:
    call_id: str
    queue: str
    caller: str
    since: float


@dataclass(slots=True)
class AgentNow:
    agent: str
    state: LiveState = LiveState.LOGGED_OUT
    since: float = 0.0
    reason: str = ""  # the pause reason
    call_id: str = ""
    queue: str = ""
    paused: bool = False  # paused, to resume after the call or wrap-up in progress
    device: str = ""
    queues: set[str] = field(default_factory=set)


class LiveBoard:
    """Callers waiting and agent states, folded from event log records."""

    def __init__(self, members: Mapping[str, Iterable[str]] | None = None) -> None:
        """``members``: queue -> agent ids, from the configuration."""
        self._waiting: dict[str, Waiting] = {}  # call_id -> waiting caller
        self._callbacks: dict[str, Waiting] = {}  # call_id -> callback keeping its place
        self._agents: dict[str, AgentNow] = {}
        self._queues: set[str] = set()
        self.last_seq = 0
        for queue, agents in (members or {}).items():
            self._queues.add(queue)
            for agent in agents:
                self._agent(agent).queues.add(queue)

    def _agent(self, agent: str) -> AgentNow:
        now = self._agents.get(agent)
        if now is None:
            now = self._agents[agent] = AgentNow(agent=agent)
        return now

    def feed(self, records: Iterable[LogRecord]) -> None:
        for rec in records:
            self.last_seq = max(self.last_seq, rec.seq)
            self._apply(rec)

    def _apply(self, rec: LogRecord) -> None:
        ev = rec.event
        if rec.queue != NONE:
            self._queues.add(rec.queue)
        if ev == "ENTERQUEUE":
            caller = rec.data[1] if len(rec.data) > 1 else ""
            self._waiting[rec.call_id] = Waiting(rec.call_id, rec.queue, caller, rec.at)
            self._callbacks.pop(rec.call_id, None)
        elif ev in _LEAVES_QUEUE:
            left = self._waiting.pop(rec.call_id, None)
            if ev == "CALLBACKREQUESTED":  # a waiting caller's, or one scheduled by the API
                number = rec.data[0] if rec.data else ""
                self._callbacks[rec.call_id] = left or Waiting(rec.call_id, rec.queue, number,
                                                               rec.at)  # fmt: skip
        elif ev in ("CALLBACKCOMPLETED", "CALLBACKLISTED", "CALLBACKCANCELLED"):
            self._callbacks.pop(rec.call_id, None)
        if rec.agent == NONE:
            return
        agent = self._agent(rec.agent)
        if ev == "AGENTLOGIN":
            agent.device = rec.data[0] if rec.data else ""
            self._move(agent, LiveState.AVAILABLE, rec.at)
            agent.paused = False
        elif ev == "AGENTLOGOFF":
            self._move(agent, LiveState.LOGGED_OUT, rec.at)
            agent.paused, agent.reason, agent.call_id = False, "", ""
        elif ev == "ADDMEMBER":
            agent.queues.add(rec.queue)
        elif ev == "REMOVEMEMBER":
            agent.queues.discard(rec.queue)
        elif ev in ("PAUSE", "PAUSEALL"):
            agent.paused, agent.reason = True, rec.data[0] if rec.data else ""
            if agent.state is LiveState.AVAILABLE:
                self._move(agent, LiveState.PAUSED, rec.at)
        elif ev in ("UNPAUSE", "UNPAUSEALL"):
            agent.paused, agent.reason = False, ""
            if agent.state is LiveState.PAUSED:
                self._move(agent, LiveState.AVAILABLE, rec.at)
        elif ev == "LEGSTART" and agent.state is LiveState.AVAILABLE:
            agent.call_id = rec.call_id
            self._move(agent, LiveState.RINGING, rec.at)
        elif ev in ("RINGNOANSWER", "RINGCANCELED") and agent.state is LiveState.RINGING:
            self._idle(agent, rec.at)
        elif ev in ("CONNECT", "CALLBACKCOMPLETED"):
            agent.call_id, agent.queue = rec.call_id, rec.queue
            self._move(agent, LiveState.ON_CALL, rec.at)
        elif ev == "HOLD" and agent.state is LiveState.ON_CALL:
            self._move(agent, LiveState.ON_HOLD, rec.at)
        elif ev == "UNHOLD" and agent.state is LiveState.ON_HOLD:
            self._move(agent, LiveState.ON_CALL, rec.at)
        elif ev in _CALL_ENDS and agent.call_id == rec.call_id:
            agent.call_id = ""
            self._idle(agent, rec.at)
        elif ev == "WRAPUPSTART":
            self._move(agent, LiveState.WRAPUP, rec.at)
        elif ev == "WRAPUPEND" and agent.state is LiveState.WRAPUP:
            self._idle(agent, rec.at)

    def _idle(self, agent: AgentNow, at: float) -> None:
        self._move(agent, LiveState.PAUSED if agent.paused else LiveState.AVAILABLE, at)

    @staticmethod
    def _move(agent: AgentNow, state: LiveState, at: float) -> None:
        if agent.state is not state:
            agent.state, agent.since = state, at

    # -- reading

    def waiting(self, queue: str) -> list[Waiting]:
        """The callers waiting in ``queue``, longest first."""
        return sorted((w for w in self._waiting.values() if w.queue == queue),
                      key=lambda w: (w.since, w.call_id))  # fmt: skip

    def callbacks(self, queue: str) -> list[Waiting]:
        """Callbacks of ``queue`` not yet completed or given up (in line, ringing, or waiting
        to be retried)."""
        return sorted((c for c in self._callbacks.values() if c.queue == queue),
                      key=lambda c: (c.since, c.call_id))  # fmt: skip

    def agent(self, agent: str) -> AgentNow | None:
        return self._agents.get(agent)

    def snapshot(self, now: float) -> dict[str, object]:
        """The board as JSON: per queue and per agent, with ages at ``now``."""
        queues: dict[str, object] = {}
        for queue in sorted(self._queues):
            waiting = self.waiting(queue)
            states = {s.value: 0 for s in LiveState if s is not LiveState.LOGGED_OUT}
            for a in self._agents.values():
                if queue in a.queues and a.state is not LiveState.LOGGED_OUT:
                    states[a.state.value] += 1
            queues[queue] = {
                "waiting": len(waiting),
                "longest_wait": round(now - waiting[0].since, 3) if waiting else 0.0,
                "callbacks_pending": len(self.callbacks(queue)),
                "agents_logged_in": sum(states.values()),
                "agents": states,
                "callers": [
                    {
                        "call_id": w.call_id,
                        "caller": w.caller,
                        "since": w.since,
                        "wait": round(now - w.since, 3),
                    }
                    for w in waiting
                ],
            }
        agents = {
            a.agent: {
                "state": a.state.value,
                "since": a.since,
                "for": round(now - a.since, 3) if a.state is not LiveState.LOGGED_OUT else 0.0,
                "reason": a.reason,
                "call_id": a.call_id,
                "queues": sorted(a.queues),
                "device": a.device,
            }
            for a in sorted(self._agents.values(), key=lambda a: a.agent)
        }
        return {"at": now, "seq": self.last_seq, "queues": queues, "agents": agents}
