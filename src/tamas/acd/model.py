"""The engine's mutable records: agents, queue members, callers, queues (and two helpers
the engine's modules share).

These are private to :mod:`tamas.acd` (the engine owns them and mutates them in place for
speed); strategies see agents through :class:`Member`, which satisfies
:class:`tamas.acd.strategies.AgentView`, and callers through :class:`Caller`
(:class:`tamas.acd.strategies.CallerView`).

Estimated wait (EWT). Each queue keeps the handle times (talk + wrap-up) of its last
``aht_window`` calls; AHT is their mean, or ``default_aht`` before any call ended. Then

    EWT(position) = position * AHT / max(1, agents serving)

where "serving" counts members logged in and not paused (on a call, ringing, in wrap-up or
available). It is the M/M/c rule of thumb that each of ``n`` busy agents frees a place every
AHT seconds; it ignores abandonment and is meant for announcements and callback offers.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Mapping
from enum import Enum

from tamas.acd.agent_state import AgentState
from tamas.acd.api import AgentSpec, QueueSpec
from tamas.acd.strategies import Strategy

__all__ = ["IN_CALL", "Agent", "Caller", "CallerPhase", "Member", "Queue", "seconds"]

#: The states in which an agent is tied to a caller (``Agent.call`` is set).
IN_CALL = (AgentState.RESERVED, AgentState.ON_CALL, AgentState.ON_HOLD)


def seconds(duration: float) -> str:
    """A duration as the log writes it (Asterisk's queue_log): whole seconds, truncated."""
    return str(int(duration))


class Agent:
    """One agent's live record (state, device, counters for the strategies)."""

    __slots__ = (
        "call",
        "calls_answered",
        "device",
        "device_state",
        "id",
        "idle_since",
        "login_at",
        "members",
        "misses",
        "pending_logout",
        "pending_pause",
        "since",
        "spec",
        "state",
        "talk_time",
        "wake_at",
        "wrapup_until",
    )

    def __init__(self, spec: AgentSpec) -> None:
        self.spec = spec
        self.id = spec.id
        self.device = ""
        self.device_state = ""
        self.state = AgentState.LOGGED_OUT
        self.since = 0.0
        self.login_at = 0.0
        self.idle_since = 0.0
        self.talk_time = 0.0
        self.calls_answered = 0
        self.misses = 0
        self.call: Caller | None = None  # the caller being rung for, or talked to
        self.pending_pause: str | None = None
        self.pending_logout = False
        self.wrapup_until = 0.0
        self.wake_at: float | None = None
        self.members: list[Member] = []


class Member:
    """An agent as a member of one queue: penalty and place in the member list."""

    __slots__ = ("agent", "order", "penalty", "queue")

    def __init__(self, agent: Agent, queue: Queue, penalty: int, order: int) -> None:
        self.agent = agent
        self.queue = queue
        self.penalty = penalty
        self.order = order

    @property
    def id(self) -> str:
        return self.agent.id

    @property
    def idle_since(self) -> float:
        return self.agent.idle_since

    @property
    def talk_time(self) -> float:
        return self.agent.talk_time

    @property
    def calls_answered(self) -> int:
        return self.agent.calls_answered

    @property
    def skills(self) -> Mapping[str, int]:
        return self.agent.spec.skills


class CallerPhase(Enum):
    __hash__ = object.__hash__
    WAITING = "waiting"  # in the line (may be ringing agents or pausing between rounds)
    SCHEDULED = "scheduled"  # a callback waiting for its time, out of the line
    CONNECTED = "connected"


class Caller:
    """A caller in (or served from) a queue; a callback is a caller without a channel."""

    __slots__ = (
        "agent",
        "attempts",
        "call_id",
        "callback_number",
        "caller",
        "connected_at",
        "entered_at",
        "key",
        "next_periodic",
        "next_position",
        "not_before",
        "offered",
        "origposition",
        "phase",
        "priority",
        "queue",
        "required",
        "retry_until",
        "ring_deadline",
        "ring_started",
        "ringing",
        "skills",
        "tried",
        "wake_at",
    )

    def __init__(
        self,
        *,
        call_id: str,
        queue: Queue,
        caller: str,
        priority: int,
        skills: Mapping[str, int],
        entered_at: float,
        seq: int,
    ) -> None:
        self.call_id = call_id
        self.queue = queue
        self.caller = caller
        self.priority = priority
        self.skills = dict(skills)
        self.required: Mapping[str, int] = self.skills
        self.entered_at = entered_at
        self.key = (-priority, entered_at, seq)
        self.origposition = 0
        self.phase = CallerPhase.WAITING
        self.ringing: dict[str, Agent] = {}
        self.tried: set[str] = set()  # agents rung without answer in this round
        self.ring_started = 0.0
        self.ring_deadline = 0.0
        self.retry_until = 0.0
        self.next_periodic: float | None = None
        self.next_position: float | None = None
        self.offered = False
        self.callback_number: str | None = None  # set once the caller asked for a callback
        self.attempts = 0
        self.not_before = 0.0
        self.connected_at = 0.0
        self.agent: Agent | None = None  # the agent talking to this caller
        self.wake_at: float | None = None

    @property
    def is_callback(self) -> bool:
        return self.callback_number is not None


class Queue:
    """A queue: its line of callers (sorted), members, strategy and handle-time history."""

    __slots__ = (
        "aht_sum",
        "available",
        "handle_times",
        "line",
        "live",
        "logged_in",
        "members",
        "name",
        "penalties",
        "serving",
        "spec",
        "strategy",
    )

    def __init__(self, spec: QueueSpec, strategy: Strategy, aht_window: int) -> None:
        self.spec = spec
        self.name = spec.name
        self.strategy = strategy
        self.members: list[Member] = []
        self.penalties = False  # does any member have a penalty other than 0?
        self.line: list[Caller] = []  # sorted by Caller.key: priority, then arrival
        self.available: dict[str, Member] = {}  # members whose agent is AVAILABLE
        self.logged_in = 0
        self.serving = 0  # members logged in and not paused
        self.live = 0  # callers in the line with a channel (not callbacks)
        self.handle_times: deque[float] = deque(maxlen=max(1, aht_window))
        self.aht_sum = 0.0

    def insert(self, caller: Caller) -> int:
        """Put ``caller`` in its place; returns its 1-based position."""
        i = bisect.bisect(self.line, caller.key, key=lambda c: c.key)
        self.line.insert(i, caller)
        return i + 1

    def position(self, caller: Caller) -> int:
        return self.line.index(caller) + 1

    def add_handle_time(self, seconds: float) -> None:
        if len(self.handle_times) == self.handle_times.maxlen:
            self.aht_sum -= self.handle_times[0]
        self.handle_times.append(seconds)
        self.aht_sum += seconds

    def aht(self, default: float) -> float:
        return self.aht_sum / len(self.handle_times) if self.handle_times else default

    def ewt(self, position: int, default_aht: float) -> float:
        return position * self.aht(default_aht) / max(1, self.serving)
