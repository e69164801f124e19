"""Simulation runs: determinism by seed, abandonment, schedules, ringing behaviour, config."""

from __future__ import annotations

import textwrap

import pytest

from tamas.acd.api import AgentSpec, QueueSpec
from tamas.config import parse_config
from tamas.core.events import LogRecord
from tamas.sim.fromconfig import queue_skills, specs_from_config
from tamas.sim.models import (
    AgentSchedule,
    ArrivalProfile,
    Break,
    Constant,
    Distribution,
    Exponential,
)
from tamas.sim.simulation import AgentPlan, Scenario, simulate
from tamas.sim.summary import SummaryFold

HOUR = 3600.0


def basic(
    *,
    agents: int = 3,
    per_hour: float = 60.0,
    patience: Distribution | None = None,
    seed: int = 1,
    wrapup: float = 0.0,
    plans: tuple[AgentPlan, ...] | None = None,
) -> Scenario:
    return Scenario(
        queues=(QueueSpec(name="q", wrapup=wrapup),),
        agents=plans
        or tuple(AgentPlan(spec=AgentSpec(id=f"a{i}", queues={"q": 0})) for i in range(agents)),
        arrivals={"q": ArrivalProfile.constant(per_hour=per_hour)},
        handle_time=Exponential(mean=150.0),
        patience=patience,
        seed=seed,
    )


def run(scenario: Scenario, **kw: float) -> list[LogRecord]:
    records: list[LogRecord] = []
    simulate(scenario, records.append, **kw)  # type: ignore[arg-type]
    return records


def test_same_seed_same_log_other_seed_other_log() -> None:
    first = run(basic(patience=Exponential(mean=60.0), wrapup=5.0), calls=2000)
    again = run(basic(patience=Exponential(mean=60.0), wrapup=5.0), calls=2000)
    other = run(basic(patience=Exponential(mean=60.0), wrapup=5.0, seed=2), calls=2000)
    assert first == again
    assert first != other
    assert sum(r.event == "ENTERQUEUE" for r in first) == 2000


def test_finite_patience_gives_abandons_infinite_none() -> None:
    # 3 agents, 1.25 erlangs per agent offered: overloaded, so callers must give up.
    patient = run(basic(per_hour=90.0), calls=500)
    impatient = run(basic(per_hour=90.0, patience=Exponential(mean=30.0)), calls=500)
    assert not any(r.event == "ABANDON" for r in patient)
    abandons = [r for r in impatient if r.event == "ABANDON"]
    assert len(abandons) > 50
    fold = SummaryFold()
    for r in impatient:
        fold.add(r)
    kpis = fold.result(impatient[-1].at)
    assert kpis.abandoned == len(abandons)
    assert kpis.answered + kpis.abandoned == 500


def test_schedules_log_in_pause_and_log_out_agents() -> None:
    shift = AgentSchedule(
        start=8 * HOUR,
        end=12 * HOUR,
        breaks=(Break(start=10 * HOUR, duration=1800.0, reason="lunch"),),
    )
    plans = (
        AgentPlan(spec=AgentSpec(id="day", queues={"q": 0}), schedule=shift),
        AgentPlan(spec=AgentSpec(id="always", queues={"q": 0})),
    )
    records = run(basic(plans=plans, per_hour=20.0), until=24 * HOUR)
    mine = [r for r in records if r.agent == "day"]
    logins = [r.at for r in mine if r.event == "AGENTLOGIN"]
    pauses = [r for r in mine if r.event == "PAUSE"]
    unpauses = [r.at for r in mine if r.event == "UNPAUSE"]
    logoffs = [r.at for r in mine if r.event == "AGENTLOGOFF"]
    assert logins == [8 * HOUR]
    # The pause is taken at 10:00 or, if a call is on, when it (and wrap-up) ends.
    assert len(pauses) == 1 and pauses[0].data == ("lunch",)
    assert 10 * HOUR <= pauses[0].at < 10.5 * HOUR
    assert unpauses == [10.5 * HOUR]
    assert len(logoffs) == 1 and 12 * HOUR <= logoffs[0] < 13 * HOUR
    connects = [r.at for r in mine if r.event == "CONNECT"]
    assert connects, "the scheduled agent took calls"
    for at in connects:
        assert 8 * HOUR <= at < logoffs[0]
        assert not pauses[0].at <= at < 10.5 * HOUR
    # Outside the shift the other agent takes every call.
    night = [r for r in records if r.event == "CONNECT" and not 8 * HOUR <= r.at < 12 * HOUR]
    assert night and all(r.agent == "always" for r in night)


def test_schedules_repeat_every_day() -> None:
    shift = AgentSchedule(start=9 * HOUR, end=17 * HOUR)
    plans = (AgentPlan(spec=AgentSpec(id="a", queues={"q": 0}), schedule=shift),)
    records = run(
        basic(plans=plans, per_hour=10.0, patience=Constant(value=600.0)), until=72 * HOUR
    )
    logins = [r.at for r in records if r.event == "AGENTLOGIN"]
    assert logins == [9 * HOUR, 33 * HOUR, 57 * HOUR]
    # Calls at night find nobody and give up after 10 minutes.
    assert any(r.event == "ABANDON" for r in records)


def test_ring_delay_and_missed_rings() -> None:
    plans = tuple(
        AgentPlan(
            spec=AgentSpec(id=f"a{i}", queues={"q": 0}),
            answer_probability=0.7,
            ring_delay=Constant(value=4.0),
        )
        for i in range(4)
    )
    records = run(basic(plans=plans, per_hour=40.0), calls=400)
    assert any(r.event == "RINGNOANSWER" for r in records)
    fold = SummaryFold()
    for r in records:
        fold.add(r)
    kpis = fold.result(records[-1].at)
    assert kpis.answered == 400
    assert kpis.p_wait == 1.0  # nobody is answered before the 4 s ring delay
    assert kpis.asa >= 4.0


def test_scenario_from_config_sections() -> None:
    config = parse_config(
        textwrap.dedent(
            """
            queues:
              - {name: sales, strategy: round_robin, wrapup: 0, skills: {fa: 2}}
              - {name: support, wrapup: 3, overflow: {timeout: "queue:sales"}, max_wait: 30}
            agents:
              - {id: ali, queues: {sales: 0, support: 1}, skills: {fa: 3}}
              - {id: sara, queues: {support: 0}}
            """
        ),
        "center.yaml",
    )
    queues, agents = specs_from_config(config)
    assert [q.name for q in queues] == ["sales", "support"]
    assert queues[1].overflow["timeout"].target == "sales"
    assert agents[0].skills == {"fa": 3} and agents[1].queues == {"support": 0}
    skills = queue_skills(config)
    assert skills == {"sales": {"fa": 2}}
    scenario = Scenario(
        queues=queues,
        agents=tuple(AgentPlan(spec=a) for a in agents),
        arrivals={
            "sales": ArrivalProfile.constant(per_hour=10.0),
            "support": ArrivalProfile.constant(per_hour=30.0),
        },
        handle_time=Exponential(mean=120.0),
        skills=skills,
        seed=3,
    )
    records = run(scenario, until=8 * HOUR)
    events = {r.event for r in records}
    assert {"ENTERQUEUE", "CONNECT", "COMPLETECALLER"} <= events
    # Support callers who wait 30 s move to sales (overflow to a queue re-enters the caller).
    moved = [r for r in records if r.event == "EXITWITHTIMEOUT" and r.queue == "support"]
    assert moved
    reentered = {r.call_id for r in records if r.event == "ENTERQUEUE" and r.queue == "sales"}
    assert {r.call_id for r in moved} <= reentered


def test_a_run_needs_a_bound() -> None:
    with pytest.raises(ValueError):
        simulate(basic(), lambda _r: None)


def two_queues(profile_a: ArrivalProfile) -> Scenario:
    return Scenario(
        queues=(QueueSpec(name="a", wrapup=0.0), QueueSpec(name="b", wrapup=0.0)),
        agents=tuple(
            AgentPlan(spec=AgentSpec(id=f"x{i}", queues={"a": 0, "b": 0})) for i in range(3)
        ),
        arrivals={"a": profile_a, "b": ArrivalProfile.constant(per_hour=30.0)},
        handle_time=Exponential(mean=60.0),
        seed=4,
    )


def test_each_queue_keeps_arriving_until_the_end() -> None:
    records = run(two_queues(ArrivalProfile(calls=(0.0,))), until=4 * HOUR)
    entered = [r for r in records if r.event == "ENTERQUEUE"]
    assert entered and all(r.queue == "b" for r in entered)
    assert entered[-1].at > 3.5 * HOUR  # queue a's empty stream did not end the run
    both = run(two_queues(ArrivalProfile.constant(per_hour=30.0)), calls=300)
    entered = [r for r in both if r.event == "ENTERQUEUE"]
    assert len(entered) == 300 and {r.queue for r in entered} == {"a", "b"}


def test_start_at_an_epoch_midnight() -> None:
    midnight = 20_422 * 86_400.0  # 2025-12-01 00:00 UTC
    shift = AgentSchedule(start=9 * HOUR, end=17 * HOUR)
    plans = (AgentPlan(spec=AgentSpec(id="a", queues={"q": 0}), schedule=shift),)
    profile = ArrivalProfile(calls=tuple(4.0 if 36 <= slot < 68 else 0.0 for slot in range(96)))
    scenario = Scenario(
        queues=(QueueSpec(name="q", wrapup=0.0),),
        agents=plans,
        arrivals={"q": profile},
        handle_time=Exponential(mean=60.0),
        seed=9,
    )
    records: list[LogRecord] = []
    simulate(scenario, records.append, until=2 * 86_400.0, start=midnight)
    assert [r.at for r in records if r.event == "AGENTLOGIN"] == [
        midnight + 9 * HOUR,
        midnight + 33 * HOUR,
    ]
    entered = [r.at - midnight for r in records if r.event == "ENTERQUEUE"]
    assert entered and all(9 * HOUR <= t % 86_400.0 < 17 * HOUR for t in entered)
    assert max(entered) < 2 * 86_400.0


def test_full_queue_rejects_callers() -> None:
    scenario = Scenario(
        queues=(QueueSpec(name="q", wrapup=0.0, max_callers=2),),
        agents=(AgentPlan(spec=AgentSpec(id="a", queues={"q": 0})),),
        arrivals={"q": ArrivalProfile.constant(per_hour=60.0)},  # 2.5 erlangs on one agent
        handle_time=Exponential(mean=150.0),
        seed=5,
    )
    records = run(scenario, calls=300)
    fold = SummaryFold()
    for r in records:
        fold.add(r)
    kpis = fold.result(records[-1].at)
    assert kpis.rejected > 50
    assert kpis.rejected + kpis.offered == 300 == kpis.rejected + kpis.answered
