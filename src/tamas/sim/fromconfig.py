"""The ACD's queue and agent specs from a center's configuration (``queues:``, ``agents:``).

The simulator sits above ``tamas.config`` in the layers, so it can read a :class:`Config`
and build the same :class:`QueueSpec`/:class:`AgentSpec` values the server would run with.
Settings the configuration has and the ACD spec lacks (``callback_retries``,
``announce_*`` details, ``language``) do not change routing and are left out.
"""

from __future__ import annotations

from collections.abc import Mapping

from tamas.acd.api import AgentSpec, Destination, DestinationKind, QueueSpec
from tamas.config.center import AgentConfig, QueueConfig, parse_destination
from tamas.config.model import Config

__all__ = ["agent_spec", "destination", "queue_skills", "queue_spec", "specs_from_config"]


def destination(value: str) -> Destination:
    """``"queue:sales"`` -> ``Destination(QUEUE, "sales")``."""
    kind, target = parse_destination(value)
    return Destination(kind=DestinationKind(kind), target=target)


def queue_spec(queue: QueueConfig) -> QueueSpec:
    return QueueSpec(
        name=queue.name,
        strategy=queue.strategy,
        ring_timeout=queue.ring_timeout,
        retry=queue.retry,
        wrapup=queue.wrapup,
        max_callers=queue.max_callers,
        max_wait=queue.max_wait,
        join_empty=queue.join_empty,
        leave_empty=queue.leave_empty,
        overflow={reason: destination(d) for reason, d in queue.overflow.items()},
        announce_every=queue.announce_every,
        announce_position=queue.announce_position,
        announce_wait=queue.announce_wait,
        exit_keys={key: destination(d) for key, d in queue.exit_keys.items()},
        callback_offer_wait=queue.callback_offer_wait,
        autopause_misses=queue.autopause_misses,
        tier_wait=tuple(queue.tier_wait),
        skill_relax=queue.skill_relax,
        survey=queue.survey,
    )


def agent_spec(agent: AgentConfig) -> AgentSpec:
    return AgentSpec(
        id=agent.id,
        name=agent.name,
        skills=dict(agent.skills),
        queues=dict(agent.queues),
        wrapup=agent.wrapup,
    )


def queue_skills(config: Config) -> dict[str, Mapping[str, int]]:
    """What callers of each queue need (``queues[].skills``), for CallerArrived.skills."""
    return {q.name: dict(q.skills) for q in config.queues if q.skills}


def specs_from_config(config: Config) -> tuple[tuple[QueueSpec, ...], tuple[AgentSpec, ...]]:
    """Every configured queue and agent as the ACD's specs."""
    return (
        tuple(queue_spec(q) for q in config.queues),
        tuple(agent_spec(a) for a in config.agents),
    )
