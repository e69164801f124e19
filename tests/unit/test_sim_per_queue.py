"""Each queue's own handle time, patience and after-call work in the simulator.

A two-queue center is built from a configuration's ``simulation:`` section (the path
``tamas simulate --config`` takes): sales with exponential handle times of mean 120 s and
impatient callers, support with log-normal handle times of mean 300 s (cv 0.5) and callers
who wait forever, each queue served by its own agents.

Tolerance. Handle times are independent draws, so the standard error of a queue's measured
AHT is the sample standard deviation over sqrt(n) (no batch means needed, unlike the waits
of test_sim_erlang.py). A queue passes when its AHT is within 4 standard errors of its
configured mean (a correct simulator fails that about once in 15 000 seeds); the standard
error itself must be under 1.5 % of the mean, so the check can tell 120 s from, say, 130 s
or the other queue's 300 s. The share of talk times under a quarter of the mean tells the
distributions apart (exponential: 1 - exp(-1/4) = 0.221; this log-normal: 0.0035), checked
the same way with the binomial standard error.
"""

from __future__ import annotations

import math
import statistics
import textwrap

from tamas.acd.api import AgentSpec, Destination, DestinationKind, QueueSpec
from tamas.config import parse_config
from tamas.core.events import LogRecord
from tamas.sim.fromconfig import Overrides, scenario_from_config
from tamas.sim.models import ArrivalProfile, Constant, Exponential, LogNormal
from tamas.sim.simulation import AgentPlan, Scenario, simulate

HOUR = 3600.0
Z = 4.0

CENTER = """\
queues:
  - {name: sales, wrapup: 0}
  - {name: support, wrapup: 0}
agents:
{agents}
simulation:
  aht: 120
  queues:
    sales: {per_hour: 126, patience: 60}       # 6 agents x 0.7 erlang x 3600 / 120
    support: {per_hour: 67.2, aht: 300, handle: lognormal, cv: 0.5, wrapup: 20}
"""


def center() -> str:
    sales = [f"  - {{id: s{i}, queues: {{sales: 0}}}}" for i in range(6)]
    support = [f"  - {{id: t{i}, queues: {{support: 0}}}}" for i in range(8)]
    return CENTER.replace("{agents}", "\n".join(sales + support))


def talk_times(records: list[LogRecord]) -> dict[str, list[float]]:
    """Seconds from CONNECT to the call's end, by queue, counted from the records alone."""
    connected: dict[str, tuple[str, float]] = {}
    talk: dict[str, list[float]] = {}
    for r in records:
        if r.event == "CONNECT":
            connected[r.call_id] = (r.queue, r.at)
        elif r.event in ("COMPLETECALLER", "COMPLETEAGENT"):
            queue, at = connected.pop(r.call_id)
            talk.setdefault(queue, []).append(r.at - at)
    return talk


def within(measured: float, expected: float, se: float) -> bool:
    return abs(measured - expected) <= Z * se


def test_each_queue_has_its_own_handle_time_patience_and_wrapup() -> None:
    config = parse_config(center(), "c.yaml")
    scenario = scenario_from_config(config, Overrides(seed=3))
    records: list[LogRecord] = []
    simulate(scenario, records.append, until=100 * HOUR)
    talk = talk_times(records)
    for queue, mean, quarter_share in (
        ("sales", 120.0, 1.0 - math.exp(-0.25)),  # exponential
        ("support", 300.0, 0.0035),  # log-normal, cv 0.5: P(X < mean / 4)
    ):
        times = talk[queue]
        n = len(times)
        aht = statistics.fmean(times)
        se = statistics.stdev(times) / math.sqrt(n)
        assert se < 0.015 * mean, (queue, n, se)
        assert within(aht, mean, se), (queue, n, aht, se)
        share = sum(t < mean / 4.0 for t in times) / n
        share_se = math.sqrt(quarter_share * (1.0 - quarter_share) / n)
        assert within(share, quarter_share, max(share_se, 1.0 / n)), (queue, share)
    # patience: sales callers give up after 60 s on average, support's (the section's
    # default, none) wait forever
    abandons = {r.queue for r in records if r.event == "ABANDON"}
    assert abandons == {"sales"}
    # after-call work: support's 20 s from the section, sales keeps its configured 0
    wrapups = {(r.queue, r.data[0]) for r in records if r.event == "WRAPUPSTART"}
    assert wrapups == {("support", "20")}


def test_the_queue_that_answers_gives_the_handle_time_the_first_gives_patience() -> None:
    # "front" has no agents and sends every caller on to "back" at once (join when empty
    # is refused): patience is drawn in front (constant 1000 s: nobody gives up), the handle
    # time in back (constant 77 s; front's 5 s would be used if the arrival queue counted).
    scenario = Scenario(
        queues=(
            QueueSpec(
                name="front",
                join_empty=False,
                overflow={"empty": Destination(kind=DestinationKind.QUEUE, target="back")},
            ),
            QueueSpec(name="back", wrapup=0.0),
        ),
        agents=(AgentPlan(spec=AgentSpec(id="a", queues={"back": 0})),),
        arrivals={"front": ArrivalProfile.constant(per_hour=20)},
        handle_time=Constant(value=5.0),
        patience=Constant(value=1.0),
        queue_handle_time={"back": Constant(value=77.0)},
        queue_patience={"front": Constant(value=1000.0), "back": Constant(value=1.0)},
        seed=1,
    )
    records: list[LogRecord] = []
    simulate(scenario, records.append, calls=50)
    talk = talk_times(records)
    assert set(talk) == {"back"} and len(talk["back"]) == 50
    assert all(math.isclose(t, 77.0) for t in talk["back"])
    assert not any(r.event == "ABANDON" for r in records)


def test_section_values_are_the_default_and_the_command_line_wins() -> None:
    config = parse_config(center(), "c.yaml")
    scenario = scenario_from_config(config)
    assert scenario.handle_time == Exponential(mean=120.0)
    assert scenario.queue_handle_time == {
        "sales": Exponential(mean=120.0),
        "support": LogNormal(mean=300.0, cv=0.5),
    }
    assert scenario.patience is None
    assert scenario.queue_patience == {"sales": Exponential(mean=60.0), "support": None}
    assert {q.name: q.wrapup for q in scenario.queues} == {"sales": 0.0, "support": 20.0}
    over = scenario_from_config(config, Overrides(aht=90, handle="constant", patience=30))
    assert set(over.queue_handle_time.values()) == {Constant(value=90.0)}
    assert set(over.queue_patience.values()) == {Exponential(mean=30.0)}


def test_a_section_wide_wrapup_replaces_the_queues_own() -> None:
    text = center().replace("  aht: 120\n", "  aht: 120\n  wrapup: 7\n")
    scenario = scenario_from_config(parse_config(text, "c.yaml"))
    assert {q.name: q.wrapup for q in scenario.queues} == {"sales": 7.0, "support": 20.0}
    # without it, each queue's configured wrap-up stands
    plain = textwrap.dedent(
        """\
        queues: [{name: sales, wrapup: 4}, {name: support}]
        simulation: {queues: {sales: {per_hour: 1}}}
        """
    )
    scenario = scenario_from_config(parse_config(plain, "c.yaml"))
    assert {q.name: q.wrapup for q in scenario.queues} == {"sales": 4.0, "support": 10.0}
