"""Drive the real ACD engine with synthetic callers and agents on a virtual clock.

Theory of operation
-------------------
The simulator plays the runtime's part. It keeps one :class:`VirtualClock` of *happenings*
(a caller arrives, a caller's patience runs out, an agent picks up, a ring times out, a call
ends, a shift changes, the engine's deadline comes) and handles the earliest one:

* the happening becomes an ACD event (CallerArrived, CallerHungUp, RingAnswered, RingFailed,
  CallEnded, AgentLogin/Pause/Unpause/Logout, Tick) fed to ``acd.handle(event, now)``;
* the outcome's records go to the sink (the event log, the same records the server writes),
  then its commands are carried out the way a runtime would: RingAgents draws, per agent,
  whether and after what delay they answer (else a no-answer when the ring times out);
  Connect draws the handle time (the answering queue's model) and schedules the end;
  RouteCaller takes the caller out (a ``queue`` destination makes it arrive in that queue);
  StopRinging cancels rings;
* the engine's ``next_deadline()`` is re-armed as a Tick happening.

Happenings are never removed from the clock: each one checks on arrival that it still
applies (patience that runs out after the caller was answered does nothing).

Randomness comes from one :class:`random.Random` per purpose (arrivals, handle times,
patience, agents), each seeded from the scenario's seed, so a seed gives the same log and
changing, say, the strategy leaves the callers' arrivals and patience the same (common random
numbers, fairer comparisons).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from tamas.acd.api import (
    AcdOptions,
    AgentLogin,
    AgentLogout,
    AgentPause,
    AgentSpec,
    AgentUnpause,
    CallEnded,
    CallerArrived,
    CallerHungUp,
    Connect,
    DestinationKind,
    Event,
    QueueSpec,
    RingAgents,
    RingAnswered,
    RingFailed,
    RouteCaller,
    StopRinging,
    Tick,
)
from tamas.acd.engine import Acd
from tamas.core.events import LogRecord
from tamas.sim.clock import VirtualClock
from tamas.sim.models import DAY, AgentSchedule, ArrivalProfile, Constant, Distribution

__all__ = ["AgentPlan", "RunResult", "Scenario", "Simulation", "simulate"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentPlan:
    """One simulated agent: the ACD's spec plus how the person behaves."""

    spec: AgentSpec
    #: Daily shift with breaks; None: logged in from the start to the end.
    schedule: AgentSchedule | None = None
    #: Chance that the agent answers a ring at all (else it rings out).
    answer_probability: float = 1.0
    #: Time from the ring to the pick-up.
    ring_delay: Distribution = field(default=Constant(value=0.0))


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """Everything a run needs; ``arrivals`` maps queue names to their arrival profiles.

    ``handle_time`` and ``patience`` are every queue's unless ``queue_handle_time`` or
    ``queue_patience`` name the queue. A call's handle time is the model of the queue that
    connects it (after an overflow, the second queue's); its patience is drawn once, when it
    arrives, from the model of the queue it arrives in (the caller's patience is the
    caller's: an overflow does not draw a new one). Wrap-up is the queue's
    (``QueueSpec.wrapup``), applied by the ACD.
    """

    queues: tuple[QueueSpec, ...]
    agents: tuple[AgentPlan, ...]
    arrivals: Mapping[str, ArrivalProfile]
    handle_time: Distribution
    #: Time a caller will wait before hanging up; None: forever.
    patience: Distribution | None = None
    #: Handle time of calls connected from the named queues (others: ``handle_time``).
    queue_handle_time: Mapping[str, Distribution] = field(default_factory=dict)
    #: Patience of callers arriving in the named queues (others: ``patience``); a None value
    #: makes that queue's callers wait forever.
    queue_patience: Mapping[str, Distribution | None] = field(default_factory=dict)
    #: What callers of each queue need, ``{queue: {skill: minimum level}}``.
    skills: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    options: AcdOptions = field(default_factory=AcdOptions)
    seed: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """What a run did (the KPIs are folded from the records; see tamas.sim.summary)."""

    calls: int
    records: int
    events: int
    end: float


# Happenings on the virtual clock: ``(kind, subject, detail)`` tuples, the kind one of the
# numbers below. Plain tuples, not objects: a run makes hundreds of thousands of them a day,
# and a tuple costs no __init__ call (and nothing to box for a compiled build).
_ARRIVE: Final = 0  # subject: the queue
_GIVE_UP: Final = 1  # subject: the call (its patience ran out)
_PICK_UP: Final = 2  # subject: the call, detail: the agent
_RING_OUT: Final = 3  # subject: the call, detail: the agent
_HANG_UP: Final = 4  # subject: the call (the conversation's end)
_LOGIN: Final = 5  # subject: the agent (shift changes, detail: the pause reason)
_LOGOFF: Final = 6
_PAUSE: Final = 7
_UNPAUSE: Final = 8
_DAY: Final = 9  # the next day's shifts are due (the day is counted by the simulation)
_DEADLINE: Final = 10  # the engine's next_deadline()

_Happening = tuple[int, str, str]
_SHIFTS = {"login": _LOGIN, "logoff": _LOGOFF, "pause": _PAUSE, "unpause": _UNPAUSE}
_NO_SKILLS: Mapping[str, int] = {}
_TICK = Tick()

#: After the last arrival, how long the run goes on to let the queues drain.
DRAIN = 6 * 3600.0


class Simulation:
    """One run of a scenario; :meth:`run` feeds every record to ``sink``."""

    def __init__(self, scenario: Scenario, sink: Callable[[LogRecord], None]) -> None:
        self.scenario = scenario
        self._sink = sink
        seed = scenario.seed
        self._arrival_rng = random.Random(f"{seed}:arrivals")
        self._handle_rng = random.Random(f"{seed}:handle")
        self._patience_rng = random.Random(f"{seed}:patience")
        self._agent_rng = random.Random(f"{seed}:agents")
        options = dataclasses.replace(scenario.options, seed=seed)
        self.acd = Acd(
            queues=scenario.queues,
            agents=tuple(a.spec for a in scenario.agents),
            options=options,
        )
        self._plans = {a.spec.id: a for a in scenario.agents}
        self.clock: VirtualClock[_Happening] = VirtualClock()
        self._deadline_at: float | None = None
        # The call models by queue: one dict lookup per call.
        self._handle_of: dict[str, Distribution] = {
            q.name: scenario.queue_handle_time.get(q.name, scenario.handle_time)
            for q in scenario.queues
        }
        self._patience_of: dict[str, Distribution | None] = {
            q.name: scenario.queue_patience.get(q.name, scenario.patience) for q in scenario.queues
        }
        #: Callers waiting (in a queue or ringing an agent): call -> the queue.
        self._waiting: dict[str, str] = {}
        self._talking: set[str] = set()
        self._rings: set[tuple[str, str]] = set()
        self._calls = 0
        self._records = 0
        self._events = 0
        self._max_calls: int | None = None
        self._until: float | None = None
        self._arrivals_over = False
        self._streams = 0
        self._start = 0.0
        self._day = 0

    def run(
        self, *, calls: int | None = None, until: float | None = None, start: float = 0.0
    ) -> RunResult:
        """Simulate ``calls`` arrivals or arrivals until ``until`` s after ``start``, whichever
        comes first, then let the queues drain (at most :data:`DRAIN` seconds).

        ``start`` is the virtual time of the first midnight (an epoch of a UTC midnight gives
        records with real dates; profiles and schedules are read from midnight).
        """
        if calls is None and until is None:
            raise ValueError("a run needs calls or until")
        self._max_calls = calls
        self._until = None if until is None else start + until
        self._start = start
        clock = self.clock
        clock.now = start
        self._streams = len(self.scenario.arrivals)
        self._arrivals_over = self._streams == 0
        for queue, profile in self.scenario.arrivals.items():
            self._next_arrival(queue, profile, start)
        clock.at(start, (_DAY, "", ""))
        while not self._arrivals_over and len(clock):
            self._happen(clock.pop())
        stop_at = clock.now + DRAIN
        while len(clock) and (self._waiting or self._talking):
            next_time = clock.next_time()
            if (0.0 if next_time is None else next_time) > stop_at:
                break
            self._happen(clock.pop())
        return RunResult(
            calls=self._calls, records=self._records, events=self._events, end=clock.now
        )

    # ------------------------------------------------------------------ happenings

    def _happen(self, happening: _Happening) -> None:
        """Turn one happening into an ACD event, if it still applies."""
        kind, subject, detail = happening
        if kind == _DEADLINE:
            self._deadline_at = None
            due = self.acd.next_deadline()
            if due is not None and due <= self.clock.now:
                self._feed(_TICK)
            else:
                self._arm()
        elif kind == _ARRIVE:
            self._arrive(subject)
        elif kind in (_PICK_UP, _RING_OUT):
            key = (subject, detail)
            if key in self._rings:
                self._rings.discard(key)
                if kind == _PICK_UP:
                    self._feed(RingAnswered(call_id=subject, agent=detail))
                else:
                    self._feed(RingFailed(call_id=subject, agent=detail, cause="no-answer"))
        elif kind == _HANG_UP:
            if subject in self._talking:
                self._talking.discard(subject)
                self._feed(CallEnded(call_id=subject, by="caller"))
        elif kind == _GIVE_UP:
            if subject in self._waiting:
                del self._waiting[subject]
                self._feed(CallerHungUp(call_id=subject))
        elif kind == _DAY:
            self._start_day()
        else:
            self._shift(kind, subject, detail)

    def _arrive(self, queue: str) -> None:
        if self._max_calls is not None and self._calls >= self._max_calls:
            return  # another queue's stream reached the limit first
        self._calls += 1
        call_id = f"sim-{self._calls}"
        self._waiting[call_id] = queue
        patience = self._patience_of.get(queue, self.scenario.patience)
        if patience is not None:
            self.clock.after(patience.sample(self._patience_rng), (_GIVE_UP, call_id, ""))
        skills = self.scenario.skills.get(queue, _NO_SKILLS)
        self._feed(CallerArrived(call_id=call_id, queue=queue, skills=skills))
        self._next_arrival(queue, self.scenario.arrivals[queue], self.clock.now)

    def _next_arrival(self, queue: str, profile: ArrivalProfile, now: float) -> None:
        """Draw the queue's next arrival, or end its stream (the run's arrivals are over
        when the call limit is reached or every queue's stream has ended)."""
        if self._max_calls is not None and self._calls >= self._max_calls:
            self._arrivals_over = True
            return
        when = profile.next_arrival(now, self._arrival_rng)
        if when is None or (self._until is not None and when >= self._until):
            self._streams -= 1
            self._arrivals_over = self._streams <= 0
            return
        self.clock.at(when, (_ARRIVE, queue, ""))

    def _start_day(self) -> None:
        day = self._day
        self._day += 1
        base = self._start + day * DAY
        clock = self.clock
        for agent_id, plan in self._plans.items():
            if plan.schedule is None:
                if day == 0:
                    clock.at(base, (_LOGIN, agent_id, ""))
                continue
            for when, kind, reason in plan.schedule.events(1):
                clock.at(base + when, (_SHIFTS[kind], agent_id, reason))
        if not self._arrivals_over:
            clock.at(base + DAY, (_DAY, "", ""))

    def _shift(self, kind: int, agent: str, reason: str) -> None:
        event: Event
        if kind == _LOGIN:
            event = AgentLogin(agent=agent, device=f"sim/{agent}")
        elif kind == _LOGOFF:
            event = AgentLogout(agent=agent)
        elif kind == _PAUSE:
            event = AgentPause(agent=agent, reason=reason)
        else:
            event = AgentUnpause(agent=agent)
        self._feed(event)

    # ------------------------------------------------------------------ the engine

    def _feed(self, event: Event) -> None:
        self._events += 1
        out = self.acd.handle(event, self.clock.now)
        records = out.records
        if records:
            sink = self._sink
            for record in records:
                sink(record)
            self._records += len(records)
        for command in out.commands:
            if isinstance(command, Connect):
                call_id = command.call_id
                queue = self._waiting.pop(call_id, "")
                self._talking.add(call_id)
                handle = self._handle_of.get(queue, self.scenario.handle_time)
                duration = handle.sample(self._handle_rng)
                self.clock.after(duration, (_HANG_UP, call_id, ""))
            elif isinstance(command, RingAgents):
                self._ring(command)
            elif isinstance(command, StopRinging):
                for agent in command.agents:
                    self._rings.discard((command.call_id, agent))
            elif isinstance(command, RouteCaller):
                self._route(command)
            # Announce, StartCallback: the simulated caller just waits, asks no callback.
        self._arm()

    def _route(self, command: RouteCaller) -> None:
        call_id = command.call_id
        self._waiting.pop(call_id, None)
        if command.destination.kind is DestinationKind.QUEUE:
            target = command.destination.target
            self._waiting[call_id] = target
            skills = self.scenario.skills.get(target, _NO_SKILLS)
            self._feed(CallerArrived(call_id=call_id, queue=target, skills=skills))

    def _ring(self, command: RingAgents) -> None:
        rng = self._agent_rng
        call_id = command.call_id
        for agent, _device in command.agents:
            self._rings.add((call_id, agent))
            plan = self._plans[agent]
            p = plan.answer_probability
            delay = plan.ring_delay.sample(rng)
            if (p >= 1.0 or rng.random() < p) and delay < command.timeout:
                self.clock.after(delay, (_PICK_UP, call_id, agent))
            else:
                self.clock.after(command.timeout, (_RING_OUT, call_id, agent))

    def _arm(self) -> None:
        due = self.acd.next_deadline()
        if due is not None and (self._deadline_at is None or due < self._deadline_at):
            self._deadline_at = due
            self.clock.at(due, (_DEADLINE, "", ""))


def simulate(
    scenario: Scenario,
    sink: Callable[[LogRecord], None],
    *,
    calls: int | None = None,
    until: float | None = None,
    start: float = 0.0,
) -> RunResult:
    """Run ``scenario`` once; see :meth:`Simulation.run`."""
    return Simulation(scenario, sink).run(calls=calls, until=until, start=start)
