"""Pinned simulator runs: the same seed must keep giving the very same records and KPIs.

These runs touch every happening of the simulator (arrivals on a profile, patience, rings
answered late or not at all, shifts with breaks, overflow to another queue, skills, wrap-up)
and hash their whole event log. The digests and figures below were recorded from the
simulator as it was before its speed work (commit c5f1cf2); a change to the loop, the clock
or the fold that alters a single record or figure fails here. If a change of *behaviour* is
intended, re-record them and say why in the commit.

Unlike the other sim tests, the expected values here are not derived by hand: they are a
regression pin on a stochastic run. The hand-checkable invariants next to them (offered =
finished + waiting, record counts) still say what the figures mean.
"""

from __future__ import annotations

import hashlib

from tamas.acd.api import AgentSpec, Destination, DestinationKind, QueueSpec
from tamas.core.events import LogRecord
from tamas.sim.models import (
    AgentSchedule,
    ArrivalProfile,
    Break,
    Constant,
    Exponential,
    LogNormal,
)
from tamas.sim.simulation import AgentPlan, RunResult, Scenario, simulate
from tamas.sim.summary import Kpis, SummaryFold

HOUR = 3600.0
#: 2026-11-30 00:00 UTC, so the records carry real dates.
MIDNIGHT = 1_795_996_800.0


def _profile() -> ArrivalProfile:
    """Zero at night, 40 calls per quarter-hour 08:00-12:00, 25 per quarter-hour 12:00-18:00."""
    return ArrivalProfile(calls=(0.0,) * 32 + (40.0,) * 16 + (25.0,) * 24 + (0.0,) * 24)


def center() -> Scenario:
    """Two queues; sales overflows to support after 60 s; 14 agents on shifts with breaks."""
    plans = []
    for i in range(14):
        queues = {"sales": 0, "support": 1} if i < 9 else {"support": 0}
        schedule = AgentSchedule(
            start=8 * HOUR + (i % 3) * 600.0,
            end=18 * HOUR,
            breaks=(Break(start=12 * HOUR + (i % 4) * 900.0, duration=900.0, reason="lunch"),),
        )
        plans.append(
            AgentPlan(
                spec=AgentSpec(id=f"a{i:02d}", queues=queues, skills={"fa": 1 + i % 3}),
                schedule=schedule,
                answer_probability=0.9,
                ring_delay=Exponential(mean=3.0),
            )
        )
    queues = (
        QueueSpec(
            name="sales",
            strategy="longest_idle",
            wrapup=15.0,
            max_wait=60.0,
            overflow={"timeout": Destination(kind=DestinationKind.QUEUE, target="support")},
        ),
        QueueSpec(name="support", strategy="ringall", wrapup=5.0, ring_timeout=10.0),
    )
    return Scenario(
        queues=queues,
        agents=tuple(plans),
        arrivals={"sales": _profile(), "support": ArrivalProfile.constant(per_hour=30.0)},
        handle_time=LogNormal(mean=200.0, cv=1.2),
        patience=Exponential(mean=150.0),
        skills={"support": {"fa": 2}},
        seed=7,
    )


def always_on() -> Scenario:
    """One queue, 4 agents logged in throughout who answer at once, callers wait forever."""
    return Scenario(
        queues=(QueueSpec(name="q", strategy="fewest_calls", wrapup=0.0),),
        agents=tuple(AgentPlan(spec=AgentSpec(id=f"b{i}", queues={"q": 0})) for i in range(4)),
        arrivals={"q": ArrivalProfile.constant(per_hour=70.0)},
        handle_time=Constant(value=180.0),
        seed=3,
    )


def digest(records: list[LogRecord]) -> str:
    h = hashlib.sha256()
    for r in records:
        fields = (repr(r.at), r.call_id, r.queue, r.agent, r.event, *r.data, str(r.seq))
        h.update("\x1f".join(fields).encode())
        h.update(b"\n")
    return h.hexdigest()


def run(scenario: Scenario, **kw: float) -> tuple[RunResult, list[LogRecord], Kpis]:
    records: list[LogRecord] = []
    fold = SummaryFold()

    def sink(record: LogRecord) -> None:
        records.append(record)
        fold.add(record)

    result = simulate(scenario, sink, **kw)  # type: ignore[arg-type]
    return result, records, fold.result(result.end)


def test_two_days_of_a_small_center_are_pinned() -> None:
    result, records, k = run(center(), until=2 * 24 * HOUR, start=MIDNIGHT)
    assert result.records == len(records)
    # Every offered call ends one way or the other, or is still waiting at the end.
    assert k.offered == k.answered + k.abandoned + k.other_exits + k.waiting_at_end
    assert (result.calls, result.records, result.events, result.end) == PINNED_CENTER_RESULT
    assert digest(records) == PINNED_CENTER_DIGEST
    assert k == PINNED_CENTER_KPIS


def test_an_always_on_queue_by_call_count_is_pinned() -> None:
    result, records, k = run(always_on(), calls=3000)
    # 3000 callers who never give up: all offered, all answered, nobody left waiting.
    assert (k.offered, k.answered, k.abandoned, k.waiting_at_end) == (3000, 3000, 0, 0)
    # Constant handle time: AHT is exactly 180 s.
    assert k.aht == 180.0
    assert (result.calls, result.records, result.events, result.end) == PINNED_ON_RESULT
    assert digest(records) == PINNED_ON_DIGEST
    assert k == PINNED_ON_KPIS


# Recorded from commit c5f1cf2 (before the speed work); see the module docstring.
PINNED_CENTER_RESULT = (3947, 17610, 14368, 1796169790.4790301)
PINNED_CENTER_DIGEST = "0e4821648b73d07c86274bdb6d3c296f822bcf824dc8cc6e508ed0ad4ea0ad58"
PINNED_CENTER_KPIS = Kpis(
    offered=4135,
    answered=2740,
    abandoned=1207,
    other_exits=188,
    rejected=0,
    waiting_at_end=0,
    p_wait=1.0,  # every ring takes a random delay > 0: nobody is answered at once
    asa=11.06186401469864,
    service_level=0.539540507859734,
    threshold=20.0,
    abandon_rate=0.2918984280532044,  # 1207 / (2740 + 1207 + 188)
    aht=198.75523032254546,
    occupancy=0.5598468799038687,
    max_wait=200.90406441688538,
)
PINNED_ON_RESULT = (3000, 9008, 9004, 154500.5964834823)
PINNED_ON_DIGEST = "9ad998b6d1e4e6fdbc07752891656ad89e836c5d96678f208ba7f15a33350ab7"
PINNED_ON_KPIS = Kpis(
    offered=3000,
    answered=3000,
    abandoned=0,
    other_exits=0,
    rejected=0,
    waiting_at_end=0,
    p_wait=0.7396666666666667,
    asa=166.45211113369217,
    service_level=0.30733333333333335,
    threshold=20.0,
    abandon_rate=0.0,
    aht=180.0,
    occupancy=0.8737830343226726,
    max_wait=934.9218351689779,
)
