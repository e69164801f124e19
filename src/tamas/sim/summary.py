"""A run's KPIs folded from its event log records (a minimal fold; tamas.reporting is the
full one).

Theory of operation
-------------------
The fold reads only event names and times, in the order the records were written:

* ``ENTERQUEUE`` opens a caller's stay in a queue (keyed by call id and queue). ``CONNECT``
  closes it as answered, with wait = CONNECT time - ENTERQUEUE time; ``ABANDON`` as abandoned;
  ``EXITWITHTIMEOUT``, ``EXITEMPTY``, ``EXITWITHKEY``, ``EXITFULL`` and ``CALLBACKREQUEST`` as
  other exits. A stay still open at the end is counted as waiting. ``FULL`` and
  ``JOINEMPTY`` (the caller was refused before entering) count as rejected, not offered.
* ``COMPLETECALLER``/``COMPLETEAGENT`` end a conversation: talk time = end - CONNECT.
* An agent is *staffed* from ``AGENTLOGIN``/``ADDMEMBER`` to ``AGENTLOGOFF``/``REMOVEMEMBER``,
  except between ``PAUSE`` and ``UNPAUSE``; the records may be repeated per queue, so each is
  applied as "set the flag", not "toggle". Occupancy = talk time / staffed time.

Calls that entered before ``warmup`` are left out (a simulation starts with an empty queue,
which flatters the first minutes), and staffed and talk time are counted from ``warmup`` on.

Definitions: ``p_wait`` = share of finished calls (answered, abandoned or exited) not
answered at the instant they entered; ``asa`` = mean wait of answered calls; service level =
answered within T / finished; abandon rate = abandoned / finished; ``aht`` = mean talk time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from tamas.core.events import LogRecord

__all__ = ["Kpis", "SummaryFold"]

# What each event name means to the fold (one dict lookup per record; names not here, such
# as RINGNOANSWER or WRAPUPSTART, are skipped).
_ENTER: Final = 1
_CONNECT: Final = 2
_COMPLETE: Final = 3
_ABANDON: Final = 4
_OTHER_EXIT: Final = 5
_REJECTED: Final = 6
_LOGIN: Final = 7
_LOGOFF: Final = 8
_PAUSE: Final = 9
_UNPAUSE: Final = 10
_KINDS: Final[dict[str, int]] = {
    "ENTERQUEUE": _ENTER,
    "CONNECT": _CONNECT,
    "COMPLETECALLER": _COMPLETE,
    "COMPLETEAGENT": _COMPLETE,
    "ABANDON": _ABANDON,
    "EXITWITHTIMEOUT": _OTHER_EXIT,
    "EXITEMPTY": _OTHER_EXIT,
    "EXITWITHKEY": _OTHER_EXIT,
    "EXITFULL": _OTHER_EXIT,
    "CALLBACKREQUEST": _OTHER_EXIT,
    "FULL": _REJECTED,
    "JOINEMPTY": _REJECTED,
    "AGENTLOGIN": _LOGIN,
    "ADDMEMBER": _LOGIN,
    "AGENTLOGOFF": _LOGOFF,
    "REMOVEMEMBER": _LOGOFF,
    "PAUSE": _PAUSE,
    "PAUSEALL": _PAUSE,
    "UNPAUSE": _UNPAUSE,
    "UNPAUSEALL": _UNPAUSE,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Kpis:
    """What a run measured. Times are seconds; ratios are 0..1 (0 when undefined)."""

    offered: int
    answered: int
    abandoned: int
    other_exits: int
    rejected: int
    waiting_at_end: int
    p_wait: float
    asa: float
    service_level: float
    threshold: float
    abandon_rate: float
    aht: float
    occupancy: float
    max_wait: float


@dataclass(slots=True)
class _Agent:
    logged_in: bool = False
    paused: bool = False
    since: float = 0.0  # start of the current staffed span

    @property
    def staffed(self) -> bool:
        return self.logged_in and not self.paused


@dataclass(slots=True)
class SummaryFold:
    """Feed records with :meth:`add`; read the KPIs with :meth:`result`."""

    threshold: float = 20.0
    warmup: float = 0.0
    _entered: dict[tuple[str, str], float] = field(default_factory=dict)
    _connected: dict[str, float] = field(default_factory=dict)
    _agents: dict[str, _Agent] = field(default_factory=dict)
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    other_exits: int = 0
    rejected: int = 0
    immediate: int = 0
    within: int = 0
    total_wait: float = 0.0
    max_wait: float = 0.0
    talks: int = 0
    talk_time: float = 0.0
    busy_time: float = 0.0
    staffed_time: float = 0.0

    def add(self, record: LogRecord) -> None:
        kind = _KINDS.get(record.event, 0)
        if kind == 0:
            return
        if kind == _ENTER:
            if record.at >= self.warmup:
                self.offered += 1
                self._entered[(record.call_id, record.queue)] = record.at
        elif kind == _CONNECT:
            entered = self._entered.pop((record.call_id, record.queue), None)
            self._connected[record.call_id] = record.at
            if entered is not None:
                wait = record.at - entered
                self.answered += 1
                self.total_wait += wait
                self.max_wait = max(self.max_wait, wait)
                self.immediate += wait <= 0.0
                self.within += wait <= self.threshold
        elif kind == _COMPLETE:
            start = self._connected.pop(record.call_id, None)
            if start is not None:
                self.busy_time += max(0.0, record.at - max(start, self.warmup))
                if start >= self.warmup:
                    self.talks += 1
                    self.talk_time += record.at - start
        elif kind in (_ABANDON, _OTHER_EXIT):
            if self._entered.pop((record.call_id, record.queue), None) is not None:
                if kind == _ABANDON:
                    self.abandoned += 1
                else:
                    self.other_exits += 1
        elif kind == _REJECTED:
            self.rejected += record.at >= self.warmup
        else:
            self._agent_event(kind, record)

    def _agent_event(self, kind: int, record: LogRecord) -> None:
        agent = self._agents.get(record.agent)
        if agent is None:
            agent = self._agents[record.agent] = _Agent()
        was = agent.staffed
        if kind == _LOGIN:
            agent.logged_in = True
            agent.paused = False
        elif kind == _LOGOFF:
            agent.logged_in = False
        elif kind == _PAUSE:
            agent.paused = True
        else:
            agent.paused = False
        if agent.staffed and not was:
            agent.since = record.at
        elif was and not agent.staffed:
            self.staffed_time += max(0.0, record.at - max(agent.since, self.warmup))

    def result(self, end: float) -> Kpis:
        """The KPIs, with staffed spans still open counted up to ``end``."""
        staffed = self.staffed_time + sum(
            max(0.0, end - max(a.since, self.warmup)) for a in self._agents.values() if a.staffed
        )
        busy = self.busy_time + sum(
            max(0.0, end - max(s, self.warmup)) for s in self._connected.values()
        )
        finished = self.answered + self.abandoned + self.other_exits
        return Kpis(
            offered=self.offered,
            answered=self.answered,
            abandoned=self.abandoned,
            other_exits=self.other_exits,
            rejected=self.rejected,
            waiting_at_end=len(self._entered),
            p_wait=_ratio(finished - self.immediate, finished),
            asa=_ratio(self.total_wait, self.answered),
            service_level=_ratio(self.within, finished),
            threshold=self.threshold,
            abandon_rate=_ratio(self.abandoned, finished),
            aht=_ratio(self.talk_time, self.talks),
            occupancy=_ratio(busy, staffed),
            max_wait=self.max_wait,
        )


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0
