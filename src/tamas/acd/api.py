"""The ACD's public vocabulary: configuration, events in, commands out.

The runtime (or the simulator) builds an :class:`tamas.acd.engine.Acd` from
:class:`QueueSpec` and :class:`AgentSpec` values, feeds it one event at a time with ``now``
(float seconds, epoch in production, virtual in the simulator) and executes what comes back:

    out = acd.handle(event, now)
    event_log.append_all(out.records)     # durably, FIRST
    for command in out.commands: execute(command)
    rearm_timer(acd.next_deadline())      # then Tick(now) when it fires

:class:`Outcome` keeps the log records and the commands in two lists so the order rule
("log before acting") is structural. Records use Asterisk's queue_log vocabulary; see
docs/acd.md for every event name and its data fields.

Ids are plain strings: ``call_id`` is the caller's channel id (Asterisk's uniqueid); a
callback's ``callback_id`` is the ``call_id`` of the call that asked for it, or, for one
scheduled with no call (:class:`CallbackScheduled`), a fresh id the runtime gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

from tamas.core.events import LogRecord

__all__ = [
    "AcdOptions",
    "AgentHold",
    "AgentLogin",
    "AgentLogout",
    "AgentPause",
    "AgentSpec",
    "AgentUnhold",
    "AgentUnpause",
    "Announce",
    "CallEnded",
    "CallbackCancelled",
    "CallbackRequested",
    "CallbackResult",
    "CallbackScheduled",
    "CallbackState",
    "CallerArrived",
    "CallerHungUp",
    "CallerPressed",
    "Command",
    "Connect",
    "Destination",
    "DestinationKind",
    "DeviceState",
    "Event",
    "Outcome",
    "PendingCallback",
    "QueueSpec",
    "RingAgents",
    "RingAnswered",
    "RingFailed",
    "RouteCaller",
    "StartCallback",
    "StopRinging",
    "Tick",
    "TransferredToQueue",
]

AgentId = str
CallId = str
Device = str


# --------------------------------------------------------------------------- configuration


class DestinationKind(Enum):
    """Where a caller leaving a queue is sent."""

    QUEUE = "queue"
    VOICEMAIL = "voicemail"
    CALLBACK = "callback"
    EXTENSION = "extension"
    EXTERNAL = "external"
    IVR = "ivr"
    HANGUP = "hangup"


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    """A place to send a caller: ``kind`` and its ``target`` (queue name, mailbox, number...)."""

    kind: DestinationKind
    target: str = ""


#: The reasons a caller is routed out of a queue (keys of ``QueueSpec.overflow``).
OverflowReason = Literal["full", "timeout", "empty", "key"]


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueSpec:
    """One queue's policy. Times are seconds; ``None`` turns a feature off."""

    name: str
    #: A key of :data:`tamas.acd.strategies.STRATEGIES`.
    strategy: str = "longest_idle"
    #: How long agents ring for one attempt.
    ring_timeout: float = 15.0
    #: Pause between ring rounds when nobody answered.
    retry: float = 2.0
    #: After-call work an agent gets when a call ends (AgentSpec.wrapup overrides).
    wrapup: float = 10.0
    max_callers: int | None = None
    max_wait: float | None = None
    #: May a caller join while no member is logged in?
    join_empty: bool = True
    #: Do waiting callers leave when the last member logs out?
    leave_empty: bool = False
    #: Where callers go on "full", "timeout", "empty" and "key"; a missing reason means hangup.
    overflow: Mapping[str, Destination] = field(default_factory=dict)
    #: Periodic announcement every N s of wait.
    announce_every: float | None = None
    announce_position: bool = False
    announce_wait: bool = False
    #: How often the position / wait announcements are played.
    position_every: float = 60.0
    #: Digits a waiting caller may press to leave: {"1": Destination(CALLBACK)}. A digit that
    #: is not here goes to ``overflow["key"]`` when that is set, otherwise is ignored.
    exit_keys: Mapping[str, Destination] = field(default_factory=dict)
    #: Offer a callback once the estimated wait exceeds this.
    callback_offer_wait: float | None = None
    #: Pause an agent after this many consecutive missed rings (0 = never).
    autopause_misses: int = 0
    #: Penalty level k (k >= 1) becomes eligible after tier_wait[min(k, len) - 1] s of wait;
    #: penalty 0 always. Empty: no escalation, every penalty eligible at once.
    tier_wait: tuple[float, ...] = ()
    #: Seconds of wait per level the caller's required minimum skill level drops (floor 1).
    skill_relax: float | None = None
    survey: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSpec:
    """An agent: the queues they serve with a penalty each, and their skills (1..10)."""

    id: AgentId
    name: str = ""
    skills: Mapping[str, int] = field(default_factory=dict)
    queues: Mapping[str, int] = field(default_factory=dict)
    wrapup: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AcdOptions:
    """Engine-wide settings."""

    #: Handle times kept per queue for the estimated wait, and the AHT assumed without any.
    aht_window: int = 50
    default_aht: float = 180.0
    #: A callback is tried this many times, ``callback_retry`` s apart, then listed.
    callback_attempts: int = 3
    callback_retry: float = 300.0
    #: Seconds the runtime may spend on one callback attempt (StartCallback.window).
    callback_window: float = 60.0
    #: Device-state reconciliation waits this long after the agent's last state change, so a
    #: device report racing with our own commands cannot undo them.
    reconcile_grace: float = 5.0
    #: An agent whose device reports "unregistered" (and has no live call) is logged out.
    logout_on_unregistered: bool = True
    #: Seed of the RNG used by the random strategies.
    seed: int = 0


# --------------------------------------------------------------------------- events in


@dataclass(frozen=True, slots=True, kw_only=True)
class CallerArrived:
    """A caller asks to join ``queue``; ``skills`` is {skill: minimum level}."""

    call_id: CallId
    queue: str
    caller: str = ""
    priority: int = 0
    skills: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallerHungUp:
    """The caller hung up (while waiting or ringing: ABANDON; while connected: use CallEnded)."""

    call_id: CallId


@dataclass(frozen=True, slots=True, kw_only=True)
class CallerPressed:
    """A waiting caller pressed a DTMF key."""

    call_id: CallId
    digit: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentLogin:
    agent: AgentId
    device: Device


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentLogout:
    agent: AgentId


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentPause:
    agent: AgentId
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentUnpause:
    agent: AgentId


@dataclass(frozen=True, slots=True, kw_only=True)
class RingAnswered:
    """``agent`` answered the ring for ``call_id`` (or the callback ``call_id``)."""

    call_id: CallId
    agent: AgentId


RingFailCause = Literal["busy", "unreachable", "rejected", "no-answer"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RingFailed:
    """Ringing ``agent`` for ``call_id`` ended without an answer."""

    call_id: CallId
    agent: AgentId
    cause: RingFailCause


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEnded:
    """A connected call (or callback conversation) ended; ``by`` says who hung up."""

    call_id: CallId
    by: Literal["caller", "agent"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentHold:
    agent: AgentId


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentUnhold:
    agent: AgentId


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceState:
    """What a device reports now; drives reconciliation of agents stuck in a call state."""

    device: Device
    state: Literal["idle", "busy", "unregistered"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Tick:
    """The deadline given by ``next_deadline()`` has come (``now`` is passed to handle)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackRequested:
    """The waiting caller wants to be called back at ``number``.

    ``at`` None: the callback keeps the caller's place in the line. ``at`` an epoch time: the
    callback waits until then, then joins ahead of callers who arrived after the original call.
    """

    call_id: CallId
    number: str
    at: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackResult:
    """How a StartCallback attempt went: ``answered`` (customer on the line) or ``failed``."""

    callback_id: CallId
    outcome: Literal["answered", "failed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackScheduled:
    """A callback with no live call (from a form, the CRM, the missed-call list).

    It joins ``queue``'s line as a callback at ``at`` (epoch time; None or a time already
    past: now), ordered among the callers by ``priority`` and that time, then goes on like a
    requested callback. ``callback_id`` must be new to the ACD (the runtime makes it up; it
    is the records' call id). Refused with AcdError: an unknown queue, an id in use
    (DuplicateCallback), an empty number, an ``at`` that is not finite.
    """

    callback_id: CallId
    queue: str
    number: str
    at: float | None = None
    priority: int = 0
    skills: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackCancelled:
    """Drop a pending callback (scheduled, requested or waiting to retry): CALLBACKCANCELLED.

    Refused with UnknownCallback when no callback with that id is pending, and with
    CallbackInProgress while an agent is being called for it (StartCallback under way).
    """

    callback_id: CallId
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferredToQueue:
    """``from_agent`` transferred the connected caller ``call_id`` into ``queue``.

    The call ends for the agent (BLINDTRANSFER, then wrap-up) and the caller joins ``queue``
    as a new arrival (ENTERQUEUE; full/empty rules apply). ``caller`` empty: the number the
    call came with. A call the ACD does not know joins the queue like CallerArrived.
    """

    call_id: CallId
    queue: str
    from_agent: AgentId
    caller: str = ""
    priority: int = 0
    skills: Mapping[str, int] = field(default_factory=dict)


Event = (
    CallerArrived
    | CallerHungUp
    | CallerPressed
    | AgentLogin
    | AgentLogout
    | AgentPause
    | AgentUnpause
    | RingAnswered
    | RingFailed
    | CallEnded
    | AgentHold
    | AgentUnhold
    | DeviceState
    | Tick
    | CallbackRequested
    | CallbackResult
    | TransferredToQueue
    | CallbackScheduled
    | CallbackCancelled
)


# --------------------------------------------------------------------------- commands out


@dataclass(frozen=True, slots=True, kw_only=True)
class RingAgents:
    """Ring these agents' devices for the waiting ``call_id``, at most ``timeout`` s."""

    call_id: CallId
    agents: tuple[tuple[AgentId, Device], ...]
    timeout: float


@dataclass(frozen=True, slots=True, kw_only=True)
class StopRinging:
    """Stop ringing these agents for ``call_id`` (someone else answered, or it timed out)."""

    call_id: CallId
    agents: tuple[AgentId, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Connect:
    """Bridge the waiting caller ``call_id`` with ``agent``'s answered leg on ``device``."""

    call_id: CallId
    agent: AgentId
    device: Device


AnnounceKind = Literal["periodic", "position", "wait", "callback-offer"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Announce:
    """Play an announcement to a waiting caller; ``wait_s`` is the estimated wait."""

    call_id: CallId
    kind: AnnounceKind
    position: int
    wait_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteCaller:
    """Take ``call_id`` out of the queue and send it to ``destination``."""

    call_id: CallId
    destination: Destination
    reason: Literal["full", "timeout", "empty", "key"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StartCallback:
    """Call ``agent`` on ``device`` and, once answered, the customer at ``number``.

    Report the result with CallbackResult within ``window`` s (the engine gives up then),
    or RingFailed(callback_id, agent, cause) if the agent does not answer.
    """

    callback_id: CallId
    agent: AgentId
    device: Device
    number: str
    window: float


Command = RingAgents | StopRinging | Connect | Announce | RouteCaller | StartCallback


# --------------------------------------------------------------------------- read-only views

#: A pending callback: in the line (``waiting``), an agent being called for it (``ringing``),
#: out of the line until its time (``scheduled``), or until its next attempt (``retry-wait``).
CallbackState = Literal["waiting", "ringing", "scheduled", "retry-wait"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingCallback:
    """One callback not yet carried out, as ``Acd.callbacks()`` lists it."""

    callback_id: CallId
    queue: str
    number: str
    state: CallbackState
    #: When it (re)joins the line (scheduled, retry-wait); None while in the line.
    at: float | None
    #: Its place in the line, from 1 (waiting, ringing); None while out of the line.
    position: int | None
    #: Attempts made so far (failed ones; the one under way is not counted).
    attempts: int
    #: The agent being called for it (ringing), else None.
    agent: AgentId | None = None


@dataclass(slots=True)
class Outcome:
    """What one ``handle`` call decided: append ``records`` durably, then run ``commands``."""

    records: list[LogRecord] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
