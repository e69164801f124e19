"""Erlang C and Erlang A: waiting, service level and staffing of a queue of agents.

Theory of operation
-------------------
Erlang C is the M/M/c queue: Poisson arrivals at rate ``lambda``, exponential handle times of
mean ``aht``, ``c`` agents, callers who wait forever. The offered traffic is
``A = lambda * aht`` erlangs and the queue is stable only when ``A < c``.

The textbook formula ``C = (A^c/c! * c/(c-A)) / (sum_{k<c} A^k/k! + A^c/c! * c/(c-A))``
overflows for a few hundred agents (``A^c`` and ``c!``). It is computed here from Erlang B's
recursion ``B(0) = 1, B(k) = A*B(k-1) / (k + A*B(k-1))``, whose terms stay in ``[0, 1]``,
and the identity ``C = c*B / (c - A*(1 - B))``. This is exact in real arithmetic and stable
in floating point for thousands of agents.

From ``C``: the average speed of answer (mean wait over all calls) is ``C * aht / (c - A)``,
and the wait of a caller who waits is exponential with rate ``(c - A) / aht``, so the service
level (share answered within ``T`` seconds) is ``1 - C * exp(-(c - A) * T / aht)``.

Erlang A (M/M/c+M) adds exponential patience of mean ``patience``: a waiting caller hangs up
at rate ``theta = 1/patience``. It is solved here as its birth-death chain: state ``n``
(callers in the system) goes up at ``lambda`` and down at ``mu*min(n, c) + theta*max(n-c, 0)``.
The stationary weights are summed in log space (no overflow) until they fall below
``exp(-40)`` of the largest, which the growing abandonment rate guarantees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "ErlangA",
    "agents_for_service_level",
    "asa",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "occupancy",
    "service_level",
]


def _check(agents: int, traffic: float) -> None:
    if agents < 1:
        raise ValueError(f"agents must be at least 1, not {agents}")
    if traffic < 0:
        raise ValueError(f"traffic must not be negative, not {traffic}")


def erlang_b(agents: int, traffic_erlangs: float) -> float:
    """Blocking probability of ``agents`` lines offered ``traffic_erlangs`` (no queue)."""
    _check(agents, traffic_erlangs)
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic_erlangs * b / (k + traffic_erlangs * b)
    return b


def _c_from_b(agents: int, traffic: float, b: float) -> float:
    return agents * b / (agents - traffic * (1.0 - b))


def erlang_c(agents: int, traffic_erlangs: float) -> float:
    """Probability that a caller waits (all ``agents`` busy); 1.0 when the queue is unstable."""
    _check(agents, traffic_erlangs)
    if traffic_erlangs >= agents:
        return 1.0
    return _c_from_b(agents, traffic_erlangs, erlang_b(agents, traffic_erlangs))


def asa(agents: int, arrival_rate: float, aht: float) -> float:
    """Average speed of answer in the unit of ``aht`` (mean wait over all calls).

    ``arrival_rate`` is calls per unit of ``aht`` (per second with ``aht`` in seconds).
    Infinite when the queue is unstable.
    """
    traffic = arrival_rate * aht
    if traffic >= agents:
        return math.inf
    return erlang_c(agents, traffic) * aht / (agents - traffic)


def service_level(agents: int, arrival_rate: float, aht: float, threshold: float) -> float:
    """Share of calls answered within ``threshold`` (same unit as ``aht``)."""
    traffic = arrival_rate * aht
    if traffic >= agents:
        return 0.0
    c = erlang_c(agents, traffic)
    return 1.0 - c * math.exp(-(agents - traffic) * threshold / aht)


def occupancy(agents: int, arrival_rate: float, aht: float) -> float:
    """Share of the agents' time spent handling calls (capped at 1.0 when overloaded)."""
    _check(agents, arrival_rate * aht)
    return min(1.0, arrival_rate * aht / agents)


def agents_for_service_level(
    arrival_rate: float, aht: float, target: float, threshold: float, *, max_agents: int = 100_000
) -> int:
    """Fewest agents whose service level within ``threshold`` reaches ``target`` (0..1).

    One pass of Erlang B's recursion: each step adds an agent, so the cost is linear in the
    answer.
    """
    if not 0.0 < target < 1.0:
        raise ValueError(f"target must be between 0 and 1 (exclusive), not {target}")
    traffic = arrival_rate * aht
    if traffic < 0:
        raise ValueError(f"arrival rate and aht must not be negative ({arrival_rate}, {aht})")
    if traffic == 0:
        return 1
    b = 1.0
    for agents in range(1, max_agents + 1):
        b = traffic * b / (agents + traffic * b)
        if agents <= traffic:
            continue
        c = _c_from_b(agents, traffic, b)
        if 1.0 - c * math.exp(-(agents - traffic) * threshold / aht) >= target:
            return agents
    raise ValueError(f"no staffing up to {max_agents} agents reaches {target}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ErlangA:
    """Steady state of an M/M/c+M queue (Erlang A)."""

    #: Probability that an arriving caller finds every agent busy (and waits).
    p_wait: float
    #: Probability that a caller hangs up before being answered.
    p_abandon: float
    #: Mean number of callers waiting.
    mean_queue: float
    #: Mean time in queue over all callers (answered and abandoned), unit of ``aht``.
    mean_wait: float
    #: Share of the agents' time spent on answered calls.
    occupancy: float


def erlang_a(agents: int, arrival_rate: float, aht: float, patience: float) -> ErlangA:
    """Erlang A with exponential patience of mean ``patience`` (same unit as ``aht``)."""
    _check(agents, arrival_rate * aht)
    if aht <= 0 or patience <= 0:
        raise ValueError(f"aht and patience must be positive ({aht}, {patience})")
    if arrival_rate == 0:
        return ErlangA(p_wait=0.0, p_abandon=0.0, mean_queue=0.0, mean_wait=0.0, occupancy=0.0)
    mu, theta = 1.0 / aht, 1.0 / patience
    log_lambda = math.log(arrival_rate)
    logw = [0.0]
    top = 0.0
    n = 0
    while True:
        n += 1
        death = mu * min(n, agents) + theta * max(n - agents, 0)
        value = logw[-1] + log_lambda - math.log(death)
        logw.append(value)
        top = max(top, value)
        if n > agents and death > arrival_rate and value < top - 40.0:
            break
    weights = [math.exp(v - top) for v in logw]
    total = math.fsum(weights)
    p_wait = math.fsum(weights[agents:]) / total
    mean_queue = math.fsum((k - agents) * w for k, w in enumerate(weights) if k > agents) / total
    p_abandon = theta * mean_queue / arrival_rate
    return ErlangA(
        p_wait=p_wait,
        p_abandon=p_abandon,
        mean_queue=mean_queue,
        mean_wait=mean_queue / arrival_rate,
        occupancy=arrival_rate * (1.0 - p_abandon) * aht / agents,
    )
