"""Each strategy's choice order on constructed candidates, and through the engine."""

import random
from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from tamas.acd import api
from tamas.acd.strategies import STRATEGIES, make_strategy
from tamas.acd.testing import Driver


@dataclass
class Cand:
    id: str
    penalty: int = 0
    order: int = 0
    idle_since: float = 0.0
    talk_time: float = 0.0
    calls_answered: int = 0
    skills: Mapping[str, int] = field(default_factory=dict)


@dataclass
class Call:
    call_id: str = "c"
    priority: int = 0
    entered_at: float = 0.0
    required: Mapping[str, int] = field(default_factory=dict)


def pick(name: str, cands: list[Cand], call: Call | None = None, seed: int = 1) -> list[str]:
    return make_strategy(name, random.Random(seed)).choose(cands, call or Call(), now=100.0)


def test_registry_has_every_strategy() -> None:
    assert set(STRATEGIES) == {
        "ringall", "longest_idle", "least_talk", "fewest_calls", "round_robin",
        "sequential", "random", "hunt3_priority", "hunt3_random", "skills",
    }  # fmt: skip


def test_ringall_rings_everyone() -> None:
    assert pick("ringall", [Cand("a", order=0), Cand("b", order=1)]) == ["a", "b"]


def test_longest_idle_takes_the_earliest_idle_since() -> None:
    cands = [Cand("a", order=0, idle_since=50), Cand("b", order=1, idle_since=10)]
    assert pick("longest_idle", cands) == ["b"]


def test_least_talk_and_fewest_calls() -> None:
    cands = [
        Cand("a", order=0, talk_time=300, calls_answered=1),
        Cand("b", order=1, talk_time=100, calls_answered=5),
    ]
    assert pick("least_talk", cands) == ["b"]
    assert pick("fewest_calls", cands) == ["a"]


def test_ties_go_to_member_order() -> None:
    cands = [Cand("b", order=1), Cand("a", order=0)]
    for name in ("longest_idle", "least_talk", "fewest_calls", "sequential"):
        assert pick(name, cands) == ["a"], name


def test_round_robin_continues_after_the_last_rung() -> None:
    rr = make_strategy("round_robin", random.Random(0))
    cands = [Cand("a", order=0), Cand("b", order=1), Cand("c", order=2)]
    got = [rr.choose(cands, Call(), now=0)[0] for _ in range(4)]
    assert got == ["a", "b", "c", "a"]
    # b busy: after a comes c
    assert rr.choose([cands[0], cands[2]], Call(), now=0) == ["c"]


def test_random_is_seeded_and_covers_candidates() -> None:
    cands = [Cand(x, order=i) for i, x in enumerate("abcd")]
    first = [pick("random", cands, seed=s)[0] for s in range(30)]
    again = [pick("random", cands, seed=s)[0] for s in range(30)]
    assert first == again
    assert set(first) == set("abcd")


def test_hunt3_priority_takes_three_best_penalties() -> None:
    cands = [
        Cand("a", penalty=2, order=0),
        Cand("b", penalty=0, order=1),
        Cand("c", penalty=1, order=2),
        Cand("d", penalty=0, order=3),
    ]
    assert pick("hunt3_priority", cands) == ["b", "d", "c"]


def test_hunt3_random_rings_three_distinct() -> None:
    cands = [Cand(x, order=i) for i, x in enumerate("abcde")]
    got = pick("hunt3_random", cands)
    assert len(got) == 3 and len(set(got)) == 3 and set(got) <= set("abcde")
    assert sorted(pick("hunt3_random", cands[:2])) == ["a", "b"]


def test_skills_prefers_the_highest_level_then_longest_idle() -> None:
    call = Call(required={"fa": 3})
    cands = [
        Cand("a", order=0, skills={"fa": 5}, idle_since=0),
        Cand("b", order=1, skills={"fa": 9}, idle_since=50),
        Cand("c", order=2, skills={"fa": 9}, idle_since=20),
    ]
    assert pick("skills", cands, call) == ["c"]


# ---- through the engine: only available agents of the open tier are offered


def engine(strategy: str, **kw: object) -> Driver:
    q = api.QueueSpec(name="q", strategy=strategy, wrapup=0, **kw)  # type: ignore[arg-type]
    agents = [api.AgentSpec(id=a, queues={"q": p}) for a, p in (("a", 0), ("b", 0), ("c", 1))]
    return Driver([q], agents)


def answer_and_end(d: Driver, t: float, call: str, agent: str) -> None:
    d.at(t, api.RingAnswered(call_id=call, agent=agent))
    d.at(t + 1, api.CallEnded(call_id=call, by="agent"))


def test_engine_round_robin_cycles_through_members() -> None:
    d = engine("round_robin")
    d.login(0, "a", "b")
    for i in range(3):
        d.at(10 * i + 1, api.CallerArrived(call_id=f"c{i}", queue="q"))
        (agents,) = d.rung(f"c{i}")
        answer_and_end(d, 10 * i + 2, f"c{i}", agents[0])
    assert d.rung() == [("a",), ("b",), ("a",)]


def test_engine_lowest_penalty_first_and_busy_agents_skipped() -> None:
    d = engine("ringall")
    d.login(0, "a", "b", "c")
    d.at(1, api.CallerArrived(call_id="c1", queue="q"))
    assert d.rung("c1") == [("a", "b")]  # c (penalty 1) not rung while penalty 0 is free
    d.at(2, api.RingAnswered(call_id="c1", agent="a"))
    d.at(3, api.AgentPause(agent="b", reason="lunch"))
    d.at(4, api.CallerArrived(call_id="c2", queue="q"))
    assert d.rung("c2") == [("c",)]  # no tier_wait: every penalty is eligible


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_strategy_serves_a_caller(name: str) -> None:
    d = engine(name)
    d.login(0, "a", "b", "c")
    d.at(1, api.CallerArrived(call_id="c1", queue="q"))
    (agents,) = d.rung("c1")
    assert agents and set(agents) <= {"a", "b", "c"}
    answer_and_end(d, 2, "c1", agents[0])
    assert d.names()[-1] == "COMPLETEAGENT"
