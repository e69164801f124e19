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

Erlang A's waits. An arriving caller sees the stationary state (PASTA). Finding ``n < c``
callers it is answered at once; finding ``c + j`` it has ``j`` callers ahead. Ahead of it the
queue moves at rate ``r_i = c*mu + i*theta`` while ``i`` callers are ahead (an agent frees up,
or one of them hangs up), and it is answered at rate ``c*mu`` when first; meanwhile its own
patience runs at rate ``theta``, independently. So its *offered* wait ``V`` (the wait it would
have with infinite patience) is a sum of exponentials of rates ``r_0 .. r_j``, and with
``x = c*mu/theta`` the partial fractions of that sum collapse to
``f_V(s) = theta * Gamma(x+j+1) / (Gamma(x) * j!) * exp(-c*mu*s) * (1 - exp(-theta*s))^j``:
``U = exp(-theta*V)`` is Beta(x, j+1). The caller is answered within ``T`` if ``V <= T`` and
its patience outlasts ``V``, which has probability ``E[U; U >= exp(-theta*T)]``
``= x/(x+j+1) * (1 - I(exp(-theta*T); x+1, j+1))``, ``I`` the regularized incomplete beta
function; with an integer second parameter it is the finite sum
``I(y; a, j+1) = y^a * sum_{k<=j} Gamma(a+k)/(Gamma(a)*k!) * (1-y)^k`` (terms kept in log
space). ``x/(x+j+1) = c*mu/(c*mu+(j+1)*theta)`` is its chance to be answered at all, and its
mean wait when answered is ``E[V*U] = x/(x+j+1) * sum_{k<=j} 1/(c*mu+(k+1)*theta)``
(``E[log U]`` of a Beta). Summed over ``j`` with the stationary weights these give the service
level (answered within ``T`` / offered: an abandon counts as not answered in time) and the ASA
(mean wait of answered calls). As ``theta -> 0`` both tend to Erlang C's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "MAX_STATES",
    "ErlangA",
    "TooLong",
    "agents_for_service_level",
    "agents_for_service_level_a",
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
    #: Share of all callers answered within ``threshold`` (abandons count as not in time).
    service_level: float
    #: Mean wait of the answered callers (average speed of answer), unit of ``aht``.
    asa: float
    #: The threshold ``service_level`` was computed for.
    threshold: float


def erlang_a(
    agents: int, arrival_rate: float, aht: float, patience: float, *, threshold: float = 20.0
) -> ErlangA:
    """Erlang A with exponential patience of mean ``patience`` (same unit as ``aht``);
    ``service_level`` is the share answered within ``threshold``."""
    _check(agents, arrival_rate * aht)
    if aht <= 0 or patience <= 0:
        raise ValueError(f"aht and patience must be positive ({aht}, {patience})")
    if threshold < 0:
        raise ValueError(f"threshold must not be negative, not {threshold}")
    if arrival_rate == 0:
        return ErlangA(p_wait=0.0, p_abandon=0.0, mean_queue=0.0, mean_wait=0.0, occupancy=0.0,
                       service_level=1.0, asa=0.0, threshold=threshold)  # fmt: skip
    mu, theta = 1.0 / aht, 1.0 / patience
    probs = _stationary(agents, arrival_rate, mu, theta)
    p_wait = math.fsum(probs[agents:])
    mean_queue = math.fsum((k - agents) * p for k, p in enumerate(probs) if k > agents)
    p_abandon = theta * mean_queue / arrival_rate
    within, answered_wait = _waits(agents, mu, theta, threshold, probs)
    answered = 1.0 - p_abandon
    return ErlangA(
        p_wait=p_wait,
        p_abandon=p_abandon,
        mean_queue=mean_queue,
        mean_wait=mean_queue / arrival_rate,
        occupancy=arrival_rate * answered * aht / agents,
        service_level=math.fsum(probs[:agents]) + within,
        asa=answered_wait / answered if answered > 0 else math.inf,
        threshold=threshold,
    )


#: States of the Erlang A chain beyond which a load is refused: an overloaded queue whose
#: callers practically never give up (patience vastly longer than the handle time) would need
#: more states than memory holds; its service level is ~0 anyway.
MAX_STATES = 200_000


class TooLong(ValueError):
    """The Erlang A chain does not become negligible within MAX_STATES states."""


def _stationary(agents: int, arrival_rate: float, mu: float, theta: float) -> list[float]:
    """P(n callers in the system), n = 0.. until negligible (birth-death chain, log space)."""
    log_lambda = math.log(arrival_rate)
    logw = [0.0]
    top = 0.0
    n = 0
    while True:
        n += 1
        if n > agents + MAX_STATES:
            raise TooLong(
                f"{agents} agents are overloaded and callers almost never give up (patience "
                f"{1 / theta:.3g} against a handle time of {1 / mu:.3g}): Erlang A does not "
                "settle; use more agents, a shorter patience, or Erlang C"
            )
        death = mu * min(n, agents) + theta * max(n - agents, 0)
        value = logw[-1] + log_lambda - math.log(death)
        logw.append(value)
        top = max(top, value)
        if n > agents and death > arrival_rate and value < top - 40.0:
            break
    weights = [math.exp(v - top) for v in logw]
    total = math.fsum(weights)
    return [w / total for w in weights]


def _waits(
    agents: int, mu: float, theta: float, threshold: float, probs: list[float]
) -> tuple[float, float]:
    """(P(waits, then answered within threshold), E[wait; answered]) summed over the callers
    who find ``j = n - agents >= 0`` ahead (theory at the top of the module)."""
    cmu = agents * mu
    log_u0 = -theta * threshold  # log of y = exp(-theta*T)
    log_1mu0 = math.log(-math.expm1(log_u0)) if threshold > 0 else -math.inf
    x = cmu / theta
    log_t = 0.0  # log of Gamma(x+1+k)/(Gamma(x+1)*k!) * (1-y)^k, k = 0
    tail = math.exp((x + 1.0) * log_u0)  # I(y; x+1, j+1), j = 0
    harmonic = 0.0  # sum_{k<=j} 1/(c*mu + (k+1)*theta)
    within: list[float] = []
    waited: list[float] = []
    for j, p in enumerate(probs[agents:]):
        if j > 0 and threshold > 0:  # threshold 0: I = y^a = 1, no waiter is in time
            log_t += math.log((x + j) / j) + log_1mu0
            tail += math.exp((x + 1.0) * log_u0 + log_t)
        harmonic += 1.0 / (cmu + (j + 1) * theta)
        served = cmu / (cmu + (j + 1) * theta)
        within.append(p * served * max(0.0, 1.0 - tail))
        waited.append(p * served * harmonic)
    return math.fsum(within), math.fsum(waited)


def agents_for_service_level_a(
    arrival_rate: float,
    aht: float,
    patience: float,
    target: float,
    threshold: float,
    *,
    max_agents: int = 100_000,
) -> int:
    """Fewest agents whose Erlang A service level within ``threshold`` reaches ``target``.

    The service level grows with the agents, so the answer is bracketed by doubling and then
    found by bisection: about ``2*log2(answer)`` evaluations of :func:`erlang_a`.
    """
    if not 0.0 < target < 1.0:
        raise ValueError(f"target must be between 0 and 1 (exclusive), not {target}")
    traffic = arrival_rate * aht
    if traffic < 0:
        raise ValueError(f"arrival rate and aht must not be negative ({arrival_rate}, {aht})")
    if traffic == 0:
        return 1

    def meets(agents: int) -> bool:
        try:
            sl = erlang_a(agents, arrival_rate, aht, patience, threshold=threshold).service_level
        except TooLong:  # overloaded, with (almost) nobody giving up: nowhere near the target
            return False
        return sl >= target

    low, high = 0, max(1, math.ceil(traffic))  # meets(low) is False by convention
    while not meets(high):
        low = high
        if high >= max_agents:
            raise ValueError(f"no staffing up to {max_agents} agents reaches {target}")
        high = min(2 * high, max_agents)
    while high - low > 1:
        middle = (low + high) // 2
        if meets(middle):
            high = middle
        else:
            low = middle
    return high
