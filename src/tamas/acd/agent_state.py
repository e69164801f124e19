"""The agent state machine: one table, ``{AgentState: {AgentInput: AgentState}}``.

Theory of operation. The engine never assigns an agent's state directly: it asks
:func:`next_state` and stores the answer, so every possible move is a row of
:data:`TRANSITIONS` (docs/acd.md prints the table). A move the table lacks raises
:class:`InvalidTransition` — a defect in the engine, not a runtime condition. Requests from
outside (a pause while logged out, a stale ring report) are checked with :func:`allowed`
first and ignored when the table has no row for them.

Pause and logout requested during a call do not interrupt it: the table keeps the agent in
the call state (``PAUSE`` on ``ON_CALL`` stays ``ON_CALL``) and the engine remembers the
request, applying it when the call and its wrap-up are over.

Reconciliation is in the table too: ``DEVICE_IDLE`` takes an agent the engine believes is
ringing or talking back to ``AVAILABLE`` and ``DEVICE_GONE`` logs them out, which is how a
lost call (the runtime never reported its end) cannot leave an agent stuck.
"""

from __future__ import annotations

from enum import Enum

from tamas.core.errors import TamasError

__all__ = ["TRANSITIONS", "AgentInput", "AgentState", "InvalidTransition", "allowed", "next_state"]


class AgentState(Enum):
    __hash__ = object.__hash__  # members are singletons; C-level hashing keeps lookups fast
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RESERVED = "reserved"  # ringing for one caller (or being called for a callback)
    ON_CALL = "on_call"
    ON_HOLD = "on_hold"
    WRAPUP = "wrapup"
    PAUSED = "paused"


class AgentInput(Enum):
    __hash__ = object.__hash__
    LOGIN = "login"
    LOGOUT = "logout"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    AUTOPAUSE = "autopause"  # too many missed rings
    RING = "ring"  # reserved for a caller
    RING_ENDED = "ring_ended"  # no answer, busy, cancelled: the reservation is over
    ANSWER = "answer"
    HOLD = "hold"
    UNHOLD = "unhold"
    CALL_END = "call_end"  # the call ended and the agent has after-call work
    CALL_END_NO_WRAPUP = "call_end_no_wrapup"
    WRAPUP_END = "wrapup_end"
    DEVICE_IDLE = "device_idle"  # reconciliation: the device is idle, we thought otherwise
    DEVICE_GONE = "device_gone"  # reconciliation: the device unregistered


S = AgentState
I = AgentInput  # noqa: E741

#: Every legal move. Rows are read "in state S, on input I, go to state T".
TRANSITIONS: dict[AgentState, dict[AgentInput, AgentState]] = {
    S.LOGGED_OUT: {
        I.LOGIN: S.AVAILABLE,
    },
    S.AVAILABLE: {
        I.LOGOUT: S.LOGGED_OUT,
        I.PAUSE: S.PAUSED,
        I.RING: S.RESERVED,
        I.DEVICE_GONE: S.LOGGED_OUT,
        I.LOGIN: S.AVAILABLE,  # logging in again (new device)
    },
    S.RESERVED: {
        I.ANSWER: S.ON_CALL,
        I.RING_ENDED: S.AVAILABLE,
        I.AUTOPAUSE: S.PAUSED,
        I.LOGOUT: S.LOGGED_OUT,
        I.PAUSE: S.RESERVED,  # applied when the ring is over
        I.DEVICE_IDLE: S.AVAILABLE,
        I.DEVICE_GONE: S.LOGGED_OUT,
    },
    S.ON_CALL: {
        I.HOLD: S.ON_HOLD,
        I.CALL_END: S.WRAPUP,
        I.CALL_END_NO_WRAPUP: S.AVAILABLE,
        I.PAUSE: S.ON_CALL,  # applied after the call
        I.LOGOUT: S.ON_CALL,  # applied after the call
        I.DEVICE_IDLE: S.AVAILABLE,
        I.DEVICE_GONE: S.LOGGED_OUT,
    },
    S.ON_HOLD: {
        I.UNHOLD: S.ON_CALL,
        I.CALL_END: S.WRAPUP,
        I.CALL_END_NO_WRAPUP: S.AVAILABLE,
        I.PAUSE: S.ON_HOLD,
        I.LOGOUT: S.ON_HOLD,
        I.DEVICE_IDLE: S.AVAILABLE,
        I.DEVICE_GONE: S.LOGGED_OUT,
    },
    S.WRAPUP: {
        I.WRAPUP_END: S.AVAILABLE,
        I.PAUSE: S.PAUSED,  # ends the wrap-up early
        I.LOGOUT: S.LOGGED_OUT,
        I.DEVICE_GONE: S.LOGGED_OUT,
    },
    S.PAUSED: {
        I.UNPAUSE: S.AVAILABLE,
        I.PAUSE: S.PAUSED,  # a new reason
        I.LOGOUT: S.LOGGED_OUT,
        I.DEVICE_GONE: S.LOGGED_OUT,
    },
}


class InvalidTransition(TamasError):
    """The engine tried a move the agent state table does not have (a defect)."""

    def __init__(self, state: AgentState, event: AgentInput) -> None:
        super().__init__(f"agent state {state.value} has no transition on {event.value}")
        self.state = state
        self.event = event


def allowed(state: AgentState, event: AgentInput) -> bool:
    """Whether the table has a row for ``event`` in ``state``."""
    return event in TRANSITIONS[state]


def next_state(state: AgentState, event: AgentInput) -> AgentState:
    """The state after ``event``; raises :class:`InvalidTransition` when there is none."""
    try:
        return TRANSITIONS[state][event]
    except KeyError:
        raise InvalidTransition(state, event) from None
