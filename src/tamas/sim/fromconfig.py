"""The simulator's scenario from a center's configuration.

The simulator sits above ``tamas.config`` in the layers, so it can read a :class:`Config`
and build the same :class:`QueueSpec`/:class:`AgentSpec` values the server would run with.
Settings the configuration has and the ACD spec lacks (``callback_retries``,
``announce_*`` details, ``language``) do not change routing and are left out.

:func:`scenario_from_config` adds the ``simulation:`` section (arrival profiles, each queue's
call model and after-call work, agents' shifts and answering); values given on the command
line (:class:`Overrides`) win over the section's, for every queue.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from tamas.acd.api import AgentSpec, Destination, DestinationKind, QueueSpec
from tamas.config.center import AgentConfig, QueueConfig, parse_destination
from tamas.config.model import Config
from tamas.config.simulation import ScheduleConfig, SimulationConfig
from tamas.sim.models import (
    AgentSchedule,
    ArrivalProfile,
    Break,
    Constant,
    Distribution,
    Exponential,
    LogNormal,
)
from tamas.sim.simulation import AgentPlan, Scenario

__all__ = [
    "Overrides",
    "agent_schedule",
    "agent_spec",
    "arrival_profiles",
    "call_models",
    "destination",
    "distribution",
    "queue_skills",
    "queue_spec",
    "scenario_from_config",
    "specs_from_config",
]

#: The load the command line's default rate aims at (share of the agents' capacity).
DEFAULT_LOAD = 0.85


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Overrides:
    """Values from the command line; None keeps the configuration's."""

    #: Calls per hour in every queue, all day (replaces the arrival profiles).
    rate: float | None = None
    aht: float | None = None
    handle: str | None = None
    patience: float | None = None
    #: Agents serving every queue when the configuration has no ``agents:``.
    agents: int = 10
    seed: int = 1


def distribution(handle: str, mean: float, cv: float = 1.0) -> Distribution:
    """``exponential``, ``lognormal`` (with ``cv``) or ``constant`` with ``mean``."""
    if handle == "lognormal":
        return LogNormal(mean=mean, cv=cv)
    if handle == "constant":
        return Constant(value=mean)
    if handle == "exponential":
        return Exponential(mean=mean)
    raise ValueError(f"unknown distribution {handle!r} (exponential, lognormal, constant)")


def agent_schedule(schedule: ScheduleConfig) -> AgentSchedule:
    start, end, breaks = schedule.seconds()
    return AgentSchedule(
        start=start,
        end=end,
        breaks=tuple(Break(start=at, duration=d, reason=why) for at, d, why in breaks),
    )


def call_models(
    sim: SimulationConfig, queues: tuple[QueueSpec, ...], o: Overrides
) -> dict[str, tuple[Distribution, Distribution | None]]:
    """Each queue's ``(handle time, patience)``: the command line's values, else the queue's
    own under ``simulation.queues``, else the section's."""
    models: dict[str, tuple[Distribution, Distribution | None]] = {}
    for q in queues:
        handle, aht, cv, patience = sim.call_model(q.name)
        handle = o.handle if o.handle is not None else handle
        aht = o.aht if o.aht is not None else aht
        patience = o.patience if o.patience is not None else patience
        models[q.name] = (
            distribution(handle, aht, cv),
            None if patience is None else Exponential(mean=patience),
        )
    return models


def arrival_profiles(config: Config) -> dict[str, ArrivalProfile]:
    """The ``simulation.queues`` profiles, 96 quarter hours each."""
    return {name: ArrivalProfile(calls=q.profile()) for name, q in config.simulation.queues.items()}


def scenario_from_config(config: Config, overrides: Overrides | None = None) -> Scenario:
    """The scenario of ``config``'s queues, agents and ``simulation:`` section.

    Arrivals: ``overrides.rate`` in every queue; else the section's profiles (queues it does
    not list get no callers of their own); else, without profiles, 85 % of the agents'
    capacity shared evenly between the queues. Raises ValueError without ``queues:``.
    """
    o = overrides or Overrides()
    sim = config.simulation
    queues, specs = specs_from_config(config)
    if not queues:
        raise ValueError("no queues: section to simulate")
    queues = tuple(
        q if (w := sim.wrapup_of(q.name)) is None else dataclasses.replace(q, wrapup=w)
        for q in queues
    )
    if not specs:
        serve = {q.name: 0 for q in queues}
        specs = tuple(AgentSpec(id=f"agent{i + 1}", queues=serve) for i in range(o.agents))
    # The section's own model is the default; every queue is named in the per-queue maps.
    handle = o.handle if o.handle is not None else sim.handle
    aht = o.aht if o.aht is not None else sim.aht
    patience = o.patience if o.patience is not None else sim.patience
    models = call_models(sim, queues, o)
    arrivals: dict[str, ArrivalProfile]
    if o.rate is None and sim.queues:
        arrivals = arrival_profiles(config)
    else:
        rate = o.rate
        if rate is None:  # the mean handle time over the queues, each with the same rate
            mean = sum(m[0].mean for m in models.values()) / len(models)
            rate = DEFAULT_LOAD * len(specs) * 3600.0 / mean / len(queues)
        arrivals = {q.name: ArrivalProfile.constant(per_hour=rate) for q in queues}
    plans = []
    for spec in specs:
        shift = sim.schedule_of(spec.id)
        plans.append(
            AgentPlan(
                spec=spec,
                schedule=None if shift is None else agent_schedule(shift),
                answer_probability=sim.answer_probability_of(spec.id),
            )
        )
    return Scenario(
        queues=queues,
        agents=tuple(plans),
        arrivals=arrivals,
        handle_time=distribution(handle, aht, sim.cv),
        patience=None if patience is None else Exponential(mean=patience),
        queue_handle_time={name: m[0] for name, m in models.items()},
        queue_patience={name: m[1] for name, m in models.items()},
        skills=queue_skills(config),
        seed=o.seed,
    )
