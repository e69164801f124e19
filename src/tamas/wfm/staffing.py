"""A staffing plan: agents needed per interval (Erlang C or Erlang A) and the headcount to
schedule after shrinkage.

For each interval the input gives the expected calls, the interval's length, the average
handle time and the service-level goal (``target`` share answered within ``threshold``
seconds); with ``patience`` (mean seconds a caller waits before hanging up) Erlang A is used,
otherwise Erlang C. The agents needed on the phones are the fewest who reach the goal and
keep occupancy at or under ``max_occupancy`` when given. Shrinkage is the share of paid time
an agent is not available for calls (breaks, meetings, training, absence), so the headcount
to schedule is ``ceil(agents / (1 - shrinkage))``. An interval with no calls needs nobody,
and its service level, ASA and occupancy are undefined (None).

Formulas are in :mod:`tamas.wfm.erlang`; docs/staffing.md has the long form.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tamas.core.errors import TamasError
from tamas.reporting.table import Column, Kind, Table, Value
from tamas.wfm import erlang

#: The lowest occupancy cap taken: a cap near 0 asks for unbounded agents (and work).
MIN_OCCUPANCY_CAP = 0.05

__all__ = [
    "StaffingError",
    "StaffingInput",
    "StaffingRow",
    "plan",
    "scheduled_headcount",
    "staff",
    "staffing_table",
]

#: Headcount rounding forgives float noise: 14 / (1 - 0.3) is 20.000000000000004, not 21.
_EPSILON = 1e-9


class StaffingError(TamasError, ValueError):
    """An input a staffing plan cannot be made from."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffingInput:
    """One interval's expected traffic and goal."""

    #: Expected calls in the interval (a forecast may give fractions).
    calls: float
    #: Mean handle time (talk + hold + after-call work), seconds.
    aht: float
    #: Length of the interval, seconds.
    interval: float = 1800.0
    #: Service-level goal: this share of calls answered within ``threshold``.
    target: float = 0.8
    threshold: float = 20.0
    #: Mean patience in seconds (Erlang A); None: callers wait as long as it takes (Erlang C).
    patience: float | None = None
    #: Highest acceptable share of the agents' time on calls (e.g. 0.85); None: no limit.
    max_occupancy: float | None = None
    #: Share of paid time not available for calls, 0 <= shrinkage < 1.
    shrinkage: float = 0.0
    #: Start of the interval (epoch seconds), carried to the row; None for a one-off question.
    start: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.calls) and self.calls >= 0):
            raise StaffingError(f"calls must be a number >= 0, not {self.calls}")
        if not (math.isfinite(self.aht) and self.aht > 0):
            raise StaffingError(f"aht must be positive, not {self.aht}")
        if not (math.isfinite(self.interval) and self.interval > 0):
            raise StaffingError(f"interval must be positive, not {self.interval}")
        if not 0.0 < self.target < 1.0:
            raise StaffingError(f"target service level must be in (0, 1), not {self.target}")
        if not (math.isfinite(self.threshold) and self.threshold >= 0):
            raise StaffingError(f"threshold must be >= 0 seconds, not {self.threshold}")
        if self.patience is not None and not (self.patience > 0 and math.isfinite(self.patience)):
            raise StaffingError(f"patience must be positive, not {self.patience}")
        if self.max_occupancy is not None and not MIN_OCCUPANCY_CAP <= self.max_occupancy <= 1.0:
            raise StaffingError(f"max occupancy must be in [{MIN_OCCUPANCY_CAP}, 1], not "
                                f"{self.max_occupancy}")  # fmt: skip
        if not 0.0 <= self.shrinkage < 1.0:
            raise StaffingError(f"shrinkage must be in [0, 1), not {self.shrinkage}")

    @property
    def arrival_rate(self) -> float:
        """Calls per second."""
        return self.calls / self.interval

    @property
    def traffic(self) -> float:
        """Offered load in erlangs (calls x aht / interval)."""
        return self.calls * self.aht / self.interval


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffingRow:
    """What one interval needs and what that staffing is expected to give."""

    start: float | None
    calls: float
    aht: float
    #: Offered load, erlangs.
    traffic: float
    #: Agents needed on the phones.
    agents: int
    #: Headcount to schedule: ceil(agents / (1 - shrinkage)).
    scheduled: int
    #: Expected share answered within the threshold (None without calls).
    service_level: float | None
    #: Expected mean wait of answered calls, seconds (None without calls).
    asa: float | None
    #: Expected share of the agents' time on calls (None without agents).
    occupancy: float | None
    #: Expected share of callers who hang up while waiting (Erlang A; None for Erlang C).
    abandon_rate: float | None
    #: Probability that a caller waits at all.
    p_wait: float | None
    #: "erlang_c" or "erlang_a".
    model: str


def scheduled_headcount(agents: int, shrinkage: float) -> int:
    """Agents to schedule so that ``agents`` are on the phones after ``shrinkage``."""
    if not 0.0 <= shrinkage < 1.0:
        raise StaffingError(f"shrinkage must be in [0, 1), not {shrinkage}")
    return math.ceil(agents / (1.0 - shrinkage) - _EPSILON)


def staff(need: StaffingInput) -> StaffingRow:
    """The staffing of one interval."""
    model = "erlang_c" if need.patience is None else "erlang_a"
    if need.calls == 0:
        return StaffingRow(start=need.start, calls=0.0, aht=need.aht, traffic=0.0, agents=0,
                           scheduled=0, service_level=None, asa=None, occupancy=None,
                           abandon_rate=None, p_wait=None, model=model)  # fmt: skip
    rate, traffic = need.arrival_rate, need.traffic
    if need.patience is None:
        agents = erlang.agents_for_service_level(rate, need.aht, need.target, need.threshold)
        if need.max_occupancy is not None:
            agents = max(agents, math.ceil(traffic / need.max_occupancy - _EPSILON))
        return StaffingRow(
            start=need.start,
            calls=need.calls,
            aht=need.aht,
            traffic=traffic,
            agents=agents,
            scheduled=scheduled_headcount(agents, need.shrinkage),
            service_level=erlang.service_level(agents, rate, need.aht, need.threshold),
            asa=erlang.asa(agents, rate, need.aht),
            occupancy=erlang.occupancy(agents, rate, need.aht),
            abandon_rate=None,
            p_wait=erlang.erlang_c(agents, traffic),
            model=model,
        )
    patience = need.patience
    agents = erlang.agents_for_service_level_a(rate, need.aht, patience, need.target,
                                               need.threshold)  # fmt: skip
    result = erlang.erlang_a(agents, rate, need.aht, patience, threshold=need.threshold)
    if need.max_occupancy is not None:
        # Occupancy of Erlang A (answered traffic / agents) falls as agents are added.
        while result.occupancy > need.max_occupancy + _EPSILON:
            agents += 1
            result = erlang.erlang_a(agents, rate, need.aht, patience, threshold=need.threshold)
    return StaffingRow(
        start=need.start,
        calls=need.calls,
        aht=need.aht,
        traffic=traffic,
        agents=agents,
        scheduled=scheduled_headcount(agents, need.shrinkage),
        service_level=result.service_level,
        asa=result.asa,
        occupancy=result.occupancy,
        abandon_rate=result.p_abandon,
        p_wait=result.p_wait,
        model=model,
    )


def plan(inputs: Iterable[StaffingInput]) -> list[StaffingRow]:
    """The staffing of every interval, in the order given."""
    return [staff(need) for need in inputs]


_COLUMNS = (
    Column(key="start", title="Interval", kind=Kind.TIME,
           description="start of the interval (empty for a single calculation)"),
    Column(key="calls", title="Calls", kind=Kind.FLOAT, description="expected calls"),
    Column(key="aht", title="AHT", kind=Kind.SECONDS, description="mean handle time"),
    Column(key="traffic", title="Erlangs", kind=Kind.FLOAT,
           description="offered load: calls x AHT / interval length"),
    Column(key="agents", title="Agents", kind=Kind.INT,
           description="agents needed on the phones (Erlang C, or Erlang A with patience)"),
    Column(key="scheduled", title="Scheduled", kind=Kind.INT,
           description="headcount to schedule: ceil(agents / (1 - shrinkage))"),
    Column(key="service_level", title="Service level", kind=Kind.RATIO,
           description="expected share of calls answered within the threshold"),
    Column(key="asa", title="ASA", kind=Kind.SECONDS,
           description="expected mean wait of answered calls"),
    Column(key="occupancy", title="Occupancy", kind=Kind.RATIO,
           description="expected share of the agents' time on calls"),
    Column(key="abandon_rate", title="Abandon rate", kind=Kind.RATIO,
           description="expected share of callers who hang up waiting (Erlang A only)"),
    Column(key="p_wait", title="P(wait)", kind=Kind.RATIO,
           description="probability that a caller waits at all"),
    Column(key="model", title="Model", kind=Kind.TEXT,
           description="erlang_c (callers wait forever) or erlang_a (with patience)"),
)  # fmt: skip


def staffing_table(
    rows: Sequence[StaffingRow],
    *,
    params: Mapping[str, Value] | None = None,
    target: float | None = None,
) -> Table:
    """The plan as a report table (``target``: the service-level goal, shown beside values)."""
    return Table(
        name="staffing",
        title="Staffing plan",
        columns=_COLUMNS,
        rows=tuple(
            {
                "start": r.start,
                "calls": round(r.calls, 3),
                "aht": r.aht,
                "traffic": round(r.traffic, 4),
                "agents": r.agents,
                "scheduled": r.scheduled,
                "service_level": _finite(r.service_level),
                "asa": _finite(r.asa),
                "occupancy": _finite(r.occupancy),
                "abandon_rate": _finite(r.abandon_rate),
                "p_wait": _finite(r.p_wait),
                "model": r.model,
            }
            for r in rows
        ),
        params=dict(params or {}),
        targets={} if target is None else {"service_level": target},
    )


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value
