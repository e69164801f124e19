"""The ACD engine: ``handle(event, now) -> Outcome``, ``next_deadline()``.

Theory of operation.

*Lines.* Each queue keeps its callers in one list sorted by (priority desc, arrival, seq).
A callback that keeps its place stays in that list without a channel; one scheduled for a
time (or waiting to retry) leaves the list and comes back, with its original sort key, when
its time comes — so it is served before callers who arrived after the original call.

*Dispatch.* Whenever an agent may have become free or a caller may have become servable, the
engine walks the queue's line in order and, for each caller not already ringing and not in
its pause between rounds, filters the queue's *available* members (skills after relaxation,
penalty tier open for this caller's wait), lets the strategy choose and reserves the chosen
agents (state RESERVED) with one RingAgents (or StartCallback). It stops as soon as the queue
has no available member, so the work per event is bounded by the line and the available
members, not the whole center.

*Timers.* Every caller and agent has at most one wake-up time (the earliest of its ring
timeout, pause end, max wait, next announcement, next tier/skill step, wrap-up end, device
re-check). A heap holds ``(time, seq, record)``; an entry whose time no longer equals the
record's ``wake_at`` is stale and skipped. ``Tick`` processes every record due.

*Records first.* Every decision appends LogRecords (Asterisk queue_log names, docs/acd.md)
to ``Outcome.records`` and commands to ``Outcome.commands``; the runtime writes the records
durably before executing the commands.

*Outside events that no longer apply* (a ring report for an agent we stopped ringing, a pause
for a logged-out agent, a hangup of a call already routed) are ignored: the outside world
races with our commands. Unknown queue or agent ids raise :class:`AcdError` (configuration
mismatch), and an internal move the agent table lacks raises ``InvalidTransition``.

*Parts.* This module is the event table, the lines, dispatch and ringing, calls ending and
the timers. Who may be rung and whom the strategy picks is :mod:`tamas.acd.selection`;
callbacks (:mod:`tamas.acd.callback`) and agent presence (:mod:`tamas.acd.presence`: login,
logout, pause, hold, reconciliation) have their own modules too. They are functions over
:class:`Acd`, called from the event table and from the steps here, and use this class's
private helpers (``_log``, ``_move``, ``_dispatch``, ``_schedule``...) as its methods do.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tamas.acd import api, callback, presence, selection
from tamas.acd.agent_state import AgentInput, AgentState, next_state
from tamas.acd.errors import AcdError, CallbackInProgress, DuplicateCallback, UnknownCallback
from tamas.acd.model import IN_CALL, Agent, Caller, CallerPhase, Member, Queue, seconds
from tamas.acd.selection import EPS
from tamas.acd.strategies import Ranked, make_strategy
from tamas.core.events import NONE, LogRecord

#: (The errors are re-exported: they were defined here, and callers import them from here.)
__all__ = ["Acd", "AcdError", "CallbackInProgress", "DuplicateCallback", "UnknownCallback"]

_MISS_CAUSES = ("no-answer", "rejected")
_NOT_SERVING = (AgentState.LOGGED_OUT, AgentState.PAUSED)
_AVAILABLE = AgentState.AVAILABLE
_LOGGED_OUT = AgentState.LOGGED_OUT
_HANGUP = api.Destination(kind=api.DestinationKind.HANGUP)


def _check(spec: api.QueueSpec) -> None:
    """Refuse periods that would make the engine wake up forever at the same instant."""
    periods = [spec.ring_timeout, spec.retry, spec.position_every, spec.announce_every]
    if any(p is not None and p <= 0 for p in [*periods, spec.skill_relax]):
        raise AcdError(
            f"queue {spec.name!r}: ring_timeout, retry, position_every, announce_every and "
            "skill_relax must be positive"
        )


class Acd:
    """The automatic call distributor for a set of queues and agents."""

    def __init__(
        self,
        queues: Sequence[api.QueueSpec],
        agents: Sequence[api.AgentSpec],
        options: api.AcdOptions | None = None,
    ) -> None:
        self.options = options or api.AcdOptions()
        rng = random.Random(self.options.seed)
        for qspec in queues:
            _check(qspec)
        self._queues: dict[str, Queue] = {
            q.name: Queue(q, make_strategy(q.strategy, rng), self.options.aht_window)
            for q in queues
        }
        self._agents: dict[str, Agent] = {}
        for spec in agents:
            agent = Agent(spec)
            self._agents[spec.id] = agent
            for qname, penalty in spec.queues.items():
                queue = self._queue(qname)
                member = Member(agent, queue, penalty, len(queue.members))
                queue.members.append(member)
                queue.penalties = queue.penalties or penalty != 0
                agent.members.append(member)
        self._by_device: dict[str, Agent] = {}
        self._callers: dict[str, Caller] = {}
        self._heap: list[tuple[float, int, Caller | Agent]] = []
        self._seq = itertools.count()
        self._out = api.Outcome()
        self._now = 0.0

    # ------------------------------------------------------------------ public surface

    def handle(self, event: api.Event, now: float) -> api.Outcome:
        """Apply one event at time ``now``; returns the records to log and commands to run."""
        self._now = now
        self._out = out = api.Outcome()
        handler = _HANDLERS[type(event)]
        handler(self, event)
        return out

    def next_deadline(self) -> float | None:
        """When to send the next Tick (None: nothing scheduled)."""
        heap = self._heap
        while heap and heap[0][2].wake_at != heap[0][0]:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def agent_state(self, agent: str) -> AgentState:
        return self._agent(agent).state

    def waiting(self, queue: str) -> list[str]:
        """Call ids in the line, in order (callbacks keeping their place included)."""
        return [c.call_id for c in self._queue(queue).line]

    def estimated_wait(self, queue: str, position: int) -> float:
        return self._queue(queue).ewt(position, self.options.default_aht)

    def callbacks(self, queue: str | None = None) -> list[api.PendingCallback]:
        """The pending callbacks (of ``queue``, or of every queue in configuration order):
        those in the line in line order, then those out of it by the time they rejoin."""
        return callback.pending(self, queue)

    def check_invariants(self) -> None:
        """Raise AssertionError if an agent rings with no ringing call, or vice versa."""
        for agent in self._agents.values():
            if agent.state is AgentState.RESERVED:
                c = agent.call
                assert c is not None and c.ringing.get(agent.id) is agent, agent.id
                assert c.phase is CallerPhase.WAITING and c in c.queue.line, agent.id
            elif agent.state in (AgentState.ON_CALL, AgentState.ON_HOLD):
                assert agent.call is not None and agent.call.phase is CallerPhase.CONNECTED
            for m in agent.members:
                assert (agent.state is AgentState.AVAILABLE) == (agent.id in m.queue.available)
        for q in self._queues.values():
            strategy = q.strategy
            if isinstance(strategy, Ranked):
                ids = strategy.indexed()
                assert sorted(ids) == sorted(q.available), q.name
                ranks = [(strategy.rank(q.available[i]), q.available[i].order) for i in ids]
                assert ranks == sorted(ranks), q.name
            assert q.serving == sum(m.agent.state not in _NOT_SERVING for m in q.members)
            assert q.logged_in == sum(m.agent.state is not AgentState.LOGGED_OUT for m in q.members)
        for c in self._callers.values():
            for agent in c.ringing.values():
                assert agent.state is AgentState.RESERVED and agent.call is c, c.call_id

    # ------------------------------------------------------------------ small helpers

    def _queue(self, name: str) -> Queue:
        try:
            return self._queues[name]
        except KeyError:
            raise AcdError(f"unknown queue {name!r}") from None

    def _agent(self, agent_id: str) -> Agent:
        try:
            return self._agents[agent_id]
        except KeyError:
            raise AcdError(f"unknown agent {agent_id!r}") from None

    def _log(self, call_id: str, queue: str, agent: str, event: str, *data: str) -> None:
        self._out.records.append(
            LogRecord(
                at=self._now, call_id=call_id, queue=queue, agent=agent, event=event, data=data
            )
        )

    def _emit(self, command: api.Command) -> None:
        self._out.commands.append(command)

    def _move(self, agent: Agent, how: AgentInput) -> None:
        """The only place an agent's state changes (through the table)."""
        old = agent.state
        new = next_state(old, how)
        if new is old:
            return
        agent.state = new
        agent.since = self._now
        aid = agent.id
        if old is _AVAILABLE:
            for m in agent.members:
                q = m.queue
                del q.available[aid]
                q.strategy.removed(m)
        elif new is _AVAILABLE:
            for m in agent.members:
                q = m.queue
                q.available[aid] = m
                q.strategy.added(m)
        logged_in = (new is not _LOGGED_OUT) - (old is not _LOGGED_OUT)
        serving = (old in _NOT_SERVING) - (new in _NOT_SERVING)
        if logged_in or serving:
            for m in agent.members:
                q = m.queue
                q.logged_in += logged_in
                q.serving += serving
        if new not in IN_CALL:
            agent.call = None
        elif how is AgentInput.RING or how is AgentInput.ANSWER:
            agent.device_state = ""  # only a report from now on may contradict this state

    def _wake(self, rec: Caller | Agent, when: float | None) -> None:
        if rec.wake_at == when:
            return
        rec.wake_at = when
        if when is not None:
            heapq.heappush(self._heap, (when, next(self._seq), rec))

    # ------------------------------------------------------------------ callers in

    def _on_arrived(self, ev: api.CallerArrived) -> None:
        if ev.call_id in self._callers:
            return
        q = self._queue(ev.queue)
        spec = q.spec
        if spec.max_callers is not None and q.live >= spec.max_callers:
            self._log(ev.call_id, q.name, NONE, "FULL", "", ev.caller, str(len(q.line) + 1))
            self._emit(
                api.RouteCaller(
                    call_id=ev.call_id, destination=self._overflow(q, "full"), reason="full"
                )
            )
            return
        if not spec.join_empty and q.logged_in == 0:
            self._log(ev.call_id, q.name, NONE, "JOINEMPTY", "", ev.caller, str(len(q.line) + 1))
            self._emit(
                api.RouteCaller(
                    call_id=ev.call_id, destination=self._overflow(q, "empty"), reason="empty"
                )
            )
            return
        now = self._now
        c = Caller(
            call_id=ev.call_id,
            queue=q,
            caller=ev.caller,
            priority=ev.priority,
            skills=ev.skills,
            entered_at=now,
            seq=next(self._seq),
        )
        c.origposition = q.insert(c)
        q.live += 1
        self._callers[c.call_id] = c
        if spec.announce_every:
            c.next_periodic = now + spec.announce_every
        if spec.announce_position or spec.announce_wait:
            c.next_position = now + spec.position_every
        self._log(c.call_id, q.name, NONE, "ENTERQUEUE", "", ev.caller, str(c.origposition))
        callback.offer(self, c, c.origposition)
        self._dispatch(q)
        self._schedule(c)

    def _on_transferred(self, ev: api.TransferredToQueue) -> None:
        """An agent sent their connected caller into a queue (or the IVR sent a new call)."""
        self._queue(ev.queue)
        c = self._callers.get(ev.call_id)
        caller, priority, skills = ev.caller, ev.priority, ev.skills
        if c is not None:
            if c.phase is not CallerPhase.CONNECTED or c.agent is None:
                return  # still waiting somewhere: not ours to move
            if c.agent.id != ev.from_agent:
                return
            caller = caller or c.caller
            self._end_call(c, "agent", to_queue=ev.queue)
        self._on_arrived(
            api.CallerArrived(
                call_id=ev.call_id, queue=ev.queue, caller=caller, priority=priority, skills=skills
            )
        )

    def _overflow(self, q: Queue, reason: str) -> api.Destination:
        return q.spec.overflow.get(reason, _HANGUP)

    def _live_waiting(self, call_id: str) -> Caller | None:
        c = self._callers.get(call_id)
        if c is None or c.phase is not CallerPhase.WAITING or c.is_callback:
            return None
        return c

    def _leave(self, c: Caller) -> tuple[int, str, str]:
        """Take a waiting caller out of the line; returns (position, origposition, wait)."""
        q = c.queue
        pos = q.position(c)
        q.line.remove(c)
        if not c.is_callback:
            q.live -= 1
        del self._callers[c.call_id]
        self._wake(c, None)
        return pos, str(c.origposition), seconds(self._now - c.entered_at)

    def _exit(
        self,
        c: Caller,
        event: str,
        reason: api.OverflowReason,
        dest: api.Destination | None = None,
        key: str | None = None,
    ) -> list[Agent]:
        freed = self._cancel_ring(c)
        pos, orig, wait = self._leave(c)
        data = (str(pos), orig, wait) if key is None else (key, str(pos), orig, wait)
        self._log(c.call_id, c.queue.name, NONE, event, *data)
        self._emit(
            api.RouteCaller(
                call_id=c.call_id,
                destination=dest or self._overflow(c.queue, reason),
                reason=reason,
            )
        )
        return freed

    def _on_hungup(self, ev: api.CallerHungUp) -> None:
        c = self._callers.get(ev.call_id)
        if c is None:
            return  # unknown or already routed
        if c.phase is CallerPhase.CONNECTED:
            self._end_call(c, "caller")
            return
        if c.is_callback:
            return  # the caller's channel after a callback request: never ABANDON
        freed = self._cancel_ring(c)
        pos, orig, wait = self._leave(c)
        self._log(c.call_id, c.queue.name, NONE, "ABANDON", str(pos), orig, wait)
        self._redispatch(freed)

    def _on_pressed(self, ev: api.CallerPressed) -> None:
        c = self._live_waiting(ev.call_id)
        if c is None:
            return
        spec = c.queue.spec
        dest = spec.exit_keys.get(ev.digit) or spec.overflow.get("key")
        if dest is None:
            return
        if dest.kind is api.DestinationKind.CALLBACK:
            self._emit(api.RouteCaller(call_id=c.call_id, destination=dest, reason="key"))
            callback.request(self, c, c.caller, None)
            return
        self._redispatch(self._exit(c, "EXITWITHKEY", "key", dest, ev.digit))

    # ------------------------------------------------------------------ ringing

    def _dispatch(self, q: Queue) -> None:
        """Offer the queue's available members to its callers, in line order."""
        if not q.available:
            return
        now = self._now
        spec = q.spec
        # A ranked strategy picks from its index, unless penalties must be compared first.
        ranked = q.strategy.ranked and not q.penalties
        for c in q.line:  # (nothing below adds to or removes from the line)
            if not q.available:
                return
            if c.ringing or c.retry_until > now:
                continue
            wait = now - c.entered_at + EPS
            if c.skills:  # (without skills ``required`` stays the empty ``skills``)
                c.required = selection.required(c, wait)
            if ranked:
                chosen = selection.pick_ranked(self, c, wait)
            else:
                chosen = selection.pick_scan(self, c, wait)
            if not chosen:
                continue
            if c.is_callback:
                chosen = chosen[:1]
            agents = [self._agents[a] for a in chosen]
            for agent in agents:
                self._move(agent, AgentInput.RING)
                agent.call = c
                c.ringing[agent.id] = agent
            c.ring_started = now
            c.retry_until = 0.0
            if c.is_callback:
                callback.start(self, c, agents[0])
            else:
                c.ring_deadline = now + spec.ring_timeout
                self._emit(
                    api.RingAgents(
                        call_id=c.call_id,
                        agents=tuple((a.id, a.device) for a in agents),
                        timeout=spec.ring_timeout,
                    )
                )
            self._schedule(c)

    def _cancel_ring(self, c: Caller) -> list[Agent]:
        """Stop every ring of ``c`` (RINGCANCELED each); returns the agents, now freed.

        The caller redispatches them once ``c`` has left the line (or it could be rung again).
        """
        if not c.ringing:
            return []
        agents = list(c.ringing.values())
        c.ringing.clear()
        ms = str(int((self._now - c.ring_started) * 1000))
        for agent in agents:
            self._log(c.call_id, c.queue.name, agent.id, "RINGCANCELED", ms)
            self._free_after_ring(agent)
        self._emit(api.StopRinging(call_id=c.call_id, agents=tuple(a.id for a in agents)))
        return agents

    def _free_after_ring(self, agent: Agent) -> None:
        self._move(agent, AgentInput.RING_ENDED)
        presence.apply_pending(self, agent)

    def _redispatch(self, agents: Iterable[Agent]) -> None:
        """Dispatch the queues of the agents now available, the longest-waiting line first."""
        queues: list[Queue] = []
        for agent in agents:
            if agent.state is _AVAILABLE:
                for m in agent.members:
                    q = m.queue
                    if q.line and q not in queues:
                        queues.append(q)
        if len(queues) > 1:
            queues.sort(key=lambda q: q.line[0].key)
        for q in queues:
            self._dispatch(q)

    def _missed(self, c: Caller, agent: Agent, cause: str) -> None:
        """One agent's ring for ``c`` ended unanswered (RINGNOANSWER, misses, autopause).

        When no ring is left, the caller pauses ``retry`` s before the next attempt, unless
        the agent could not be rung at all (busy, unreachable): then the next member is tried
        at once, as Asterisk does. Agents tried in this round are skipped until every
        eligible member has been tried.
        """
        del c.ringing[agent.id]
        c.tried.add(agent.id)
        ms = str(int((self._now - c.ring_started) * 1000))
        self._log(c.call_id, c.queue.name, agent.id, "RINGNOANSWER", ms)
        limit = c.queue.spec.autopause_misses
        if cause in _MISS_CAUSES:
            agent.misses += 1
        if limit and agent.misses >= limit:
            self._move(agent, AgentInput.AUTOPAUSE)
            agent.pending_pause = None
            self._log(c.call_id, c.queue.name, agent.id, "AUTOPAUSE", str(agent.misses))
            for m in agent.members:
                self._log(NONE, m.queue.name, agent.id, "PAUSE", "autopause")
        else:
            self._free_after_ring(agent)
        if not c.ringing and cause in _MISS_CAUSES:
            c.retry_until = self._now + c.queue.spec.retry

    def _on_ring_failed(self, ev: api.RingFailed) -> None:
        c = self._callers.get(ev.call_id)
        if c is None or ev.agent not in c.ringing:
            return
        agent = c.ringing[ev.agent]
        self._missed(c, agent, ev.cause)
        self._redispatch([agent])
        self._schedule(c)

    def _on_ring_answered(self, ev: api.RingAnswered) -> None:
        c = self._callers.get(ev.call_id)
        if c is None or ev.agent not in c.ringing or c.is_callback:
            return  # stale, or the agent leg of a callback (the customer is dialled next)
        agent = c.ringing.pop(ev.agent)
        others = list(c.ringing.values())
        q = c.queue
        if others:
            c.ringing.clear()
            ms = str(int((self._now - c.ring_started) * 1000))
            for other in others:
                self._log(c.call_id, q.name, other.id, "RINGCANCELED", ms)
                self._free_after_ring(other)
        self._connect(c, agent)
        self._log(
            c.call_id,
            q.name,
            agent.id,
            "CONNECT",
            seconds(self._now - c.entered_at),
            agent.device,
            seconds(self._now - c.ring_started),
        )
        if others:
            self._emit(api.StopRinging(call_id=c.call_id, agents=tuple(a.id for a in others)))
        self._emit(api.Connect(call_id=c.call_id, agent=agent.id, device=agent.device))
        if others:
            self._redispatch(others)

    def _connect(self, c: Caller, agent: Agent) -> None:
        q = c.queue
        q.line.remove(c)
        if not c.is_callback:
            q.live -= 1
        c.phase = CallerPhase.CONNECTED
        c.connected_at = self._now
        self._wake(c, None)
        self._move(agent, AgentInput.ANSWER)
        agent.call = c
        c.agent = agent
        agent.misses = 0
        agent.calls_answered += 1

    # ------------------------------------------------------------------ calls ending

    def _on_call_ended(self, ev: api.CallEnded) -> None:
        c = self._callers.get(ev.call_id)
        if c is None:
            return
        if c.phase is CallerPhase.CONNECTED:
            self._end_call(c, ev.by)
        elif c.phase is CallerPhase.WAITING and not c.is_callback:
            self._on_hungup(api.CallerHungUp(call_id=c.call_id))

    def _close_call(
        self, c: Caller, by: str, *, lost: bool = False, to_queue: str | None = None
    ) -> tuple[Agent, float]:
        """Log the end of a connected call and count it; returns the agent and its wrap-up.

        ``to_queue``: the agent transferred the caller there (BLINDTRANSFER, Asterisk's
        extension|context|holdtime|calltime|origposition with the queue as extension).
        """
        agent = c.agent
        assert agent is not None
        del self._callers[c.call_id]
        c.agent = None
        q = c.queue
        now = self._now
        talk = now - c.connected_at
        agent.talk_time += talk
        agent.idle_since = now
        times = (seconds(c.connected_at - c.entered_at), seconds(talk), str(c.origposition))
        if to_queue is not None:
            self._log(c.call_id, q.name, agent.id, "BLINDTRANSFER", to_queue, "queue", *times)
        else:
            event = "COMPLETECALLER" if by == "caller" else "COMPLETEAGENT"
            self._log(c.call_id, q.name, agent.id, event, *times)
        wrapup = agent.spec.wrapup if agent.spec.wrapup is not None else q.spec.wrapup
        if lost:
            wrapup = 0.0
        q.add_handle_time(talk + wrapup)
        return agent, wrapup

    def _end_call(self, c: Caller, by: str, to_queue: str | None = None) -> None:
        agent, wrapup = self._close_call(c, by, to_queue=to_queue)
        if wrapup > 0:
            self._move(agent, AgentInput.CALL_END)
            agent.wrapup_until = self._now + wrapup
            self._log(c.call_id, c.queue.name, agent.id, "WRAPUPSTART", seconds(wrapup))
            self._schedule_agent(agent)
        else:
            self._move(agent, AgentInput.CALL_END_NO_WRAPUP)
        presence.apply_pending(self, agent)
        self._redispatch([agent])

    def _end_wrapup(self, agent: Agent) -> None:
        call = NONE
        self._log(call, NONE, agent.id, "WRAPUPEND")
        self._move(agent, AgentInput.WRAPUP_END)

    # ------------------------------------------------------------------ timers

    def _schedule(self, c: Caller) -> None:
        if c.phase is CallerPhase.CONNECTED or c.call_id not in self._callers:
            self._wake(c, None)
            return
        if c.phase is CallerPhase.SCHEDULED:
            self._wake(c, c.not_before)
            return
        spec = c.queue.spec
        best = math.inf  # the earliest of the times that apply
        if not c.is_callback:
            if spec.max_wait is not None:
                best = c.entered_at + spec.max_wait
            if c.next_periodic is not None and c.next_periodic < best:
                best = c.next_periodic
            if c.next_position is not None and c.next_position < best:
                best = c.next_position
        due: float | None
        if c.ringing:
            due = c.ring_deadline
        elif c.retry_until > self._now:
            due = c.retry_until
        else:
            due = selection.next_step(c, self._now)
        if due is not None and due < best:
            best = due
        self._wake(c, best if best < math.inf else None)

    def _schedule_agent(self, agent: Agent, recheck: float | None = None) -> None:
        times = [recheck] if recheck is not None else []
        if agent.state is AgentState.WRAPUP:
            times.append(agent.wrapup_until)
        self._wake(agent, min(times) if times else None)

    def _on_tick(self, ev: api.Tick) -> None:
        now = self._now
        heap = self._heap
        while heap and heap[0][0] <= now:
            when, _, rec = heapq.heappop(heap)
            if rec.wake_at != when:
                continue
            rec.wake_at = None
            if isinstance(rec, Agent):
                self._agent_due(rec)
            else:
                self._caller_due(rec)

    def _agent_due(self, agent: Agent) -> None:
        if agent.state is AgentState.WRAPUP and agent.wrapup_until <= self._now:
            self._end_wrapup(agent)
            presence.apply_pending(self, agent)
            self._redispatch([agent])
        elif agent.state in IN_CALL:
            presence.reconcile(self, agent)

    def _caller_due(self, c: Caller) -> None:
        now = self._now
        q = c.queue
        spec = q.spec
        if c.phase is CallerPhase.SCHEDULED:
            callback.rejoin(self, c)
            return
        if not c.is_callback and spec.max_wait is not None and now >= c.entered_at + spec.max_wait:
            self._redispatch(self._exit(c, "EXITWITHTIMEOUT", "timeout"))
            return
        if c.ringing and now >= c.ring_deadline:
            agents = list(c.ringing.values())
            if c.is_callback:
                callback.ring_timed_out(self, c, agents[0])
            else:
                for agent in agents:
                    self._missed(c, agent, "no-answer")
                self._emit(api.StopRinging(call_id=c.call_id, agents=tuple(a.id for a in agents)))
            self._redispatch(agents)
            if c.call_id not in self._callers or c.phase is not CallerPhase.WAITING:
                return
        self._announce(c)
        self._dispatch(q)
        self._schedule(c)

    def _announce(self, c: Caller) -> None:
        now = self._now
        spec = c.queue.spec
        if c.next_periodic is not None and c.next_periodic <= now and spec.announce_every:
            while c.next_periodic <= now:
                c.next_periodic += spec.announce_every
            pos = c.queue.position(c)
            self._emit(
                api.Announce(
                    call_id=c.call_id,
                    kind="periodic",
                    position=pos,
                    wait_s=c.queue.ewt(pos, self.options.default_aht),
                )
            )
        if c.next_position is not None and c.next_position <= now:
            while c.next_position <= now:
                c.next_position += spec.position_every
            pos = c.queue.position(c)
            ewt = c.queue.ewt(pos, self.options.default_aht)
            if spec.announce_position:
                self._emit(
                    api.Announce(call_id=c.call_id, kind="position", position=pos, wait_s=ewt)
                )
            if spec.announce_wait:
                self._emit(api.Announce(call_id=c.call_id, kind="wait", position=pos, wait_s=ewt))
            callback.offer(self, c, pos)


_HANDLERS: dict[type, Callable[[Acd, Any], None]] = {
    api.CallerArrived: Acd._on_arrived,
    api.CallerHungUp: Acd._on_hungup,
    api.CallerPressed: Acd._on_pressed,
    api.AgentLogin: presence.on_login,
    api.AgentLogout: presence.on_logout,
    api.AgentPause: presence.on_pause,
    api.AgentUnpause: presence.on_unpause,
    api.RingAnswered: Acd._on_ring_answered,
    api.RingFailed: Acd._on_ring_failed,
    api.CallEnded: Acd._on_call_ended,
    api.AgentHold: presence.on_hold,
    api.AgentUnhold: presence.on_unhold,
    api.DeviceState: presence.on_device,
    api.Tick: Acd._on_tick,
    api.CallbackRequested: callback.on_requested,
    api.CallbackResult: callback.on_result,
    api.TransferredToQueue: Acd._on_transferred,
    api.CallbackScheduled: callback.on_scheduled,
    api.CallbackCancelled: callback.on_cancelled,
}
