"""The ACD: queues, agents, routing strategies, callbacks (a pure core: handle(event, now)).

Public surface: :class:`Acd` (the engine), the types in :mod:`tamas.acd.api`, the agent
state table in :mod:`tamas.acd.agent_state` and the strategy registry in
:mod:`tamas.acd.strategies`. docs/acd.md describes them.
"""

from tamas.acd.agent_state import TRANSITIONS, AgentInput, AgentState, InvalidTransition
from tamas.acd.engine import Acd
from tamas.acd.errors import AcdError, CallbackInProgress, DuplicateCallback, UnknownCallback
from tamas.acd.strategies import STRATEGIES, Strategy

__all__ = [
    "STRATEGIES",
    "TRANSITIONS",
    "Acd",
    "AcdError",
    "AgentInput",
    "AgentState",
    "CallbackInProgress",
    "DuplicateCallback",
    "InvalidTransition",
    "Strategy",
    "UnknownCallback",
]
