"""How fast the simulator runs a month of a contact center, and a long Erlang C check.

    python benchmarks/simulate.py                      # 30 days x 12 h, 200 agents
    python benchmarks/simulate.py --days 3 --profile   # plus where the time goes
    python benchmarks/simulate.py --erlang             # 3 x 300 000 calls vs Erlang C

The center: one queue (longest idle, 10 s wrap-up), 200 agents working 08:00-20:00 with a
30-minute break each (staggered over 11:00-15:00), answering 98 % of rings after 2 s;
calls arrive 08:00-20:00 following a two-peak daily profile sized for about 85 % load,
log-normal handle times (mean 180 s, cv 1), exponential patience (mean 120 s). Every record
goes through the KPI fold. Prints calls, records, wall and CPU time and calls per second.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.machinery
import math
import pstats
import time
from types import ModuleType

import tamas.acd.engine
import tamas.sim.simulation
from tamas.acd.api import AgentSpec, QueueSpec
from tamas.core.events import LogRecord
from tamas.sim.models import (
    INTERVAL,
    AgentSchedule,
    ArrivalProfile,
    Break,
    Constant,
    Exponential,
    LogNormal,
)
from tamas.sim.simulation import AgentPlan, Scenario, simulate
from tamas.sim.summary import SummaryFold
from tamas.wfm.erlang import asa, erlang_c

HOUR = 3600.0


def build(module: ModuleType) -> str:
    """``compiled`` when ``module`` was imported from a C extension (TAMAS_COMPILE=1)."""
    origin = module.__file__ or ""
    compiled = origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
    return "compiled" if compiled else "pure"


def daily_profile(calls_per_day: float) -> ArrivalProfile:
    """96 quarter-hours: zero outside 08:00-20:00, two peaks (10:30 and 16:00) inside."""
    shape = []
    for slot in range(96):
        t = (slot + 0.5) * INTERVAL / HOUR
        if not 8.0 <= t < 20.0:
            shape.append(0.0)
            continue
        shape.append(
            0.6 + math.exp(-(((t - 10.5) / 1.5) ** 2)) + 0.8 * math.exp(-(((t - 16.0) / 1.5) ** 2))
        )
    total = sum(shape)
    return ArrivalProfile(calls=tuple(calls_per_day * s / total for s in shape))


def center(agents: int, load: float, seed: int) -> Scenario:
    handle = 180.0 + 10.0 + 2.0  # talk + wrap-up + ring, per call
    calls_per_day = load * agents * 12 * HOUR / handle
    plans = []
    for i in range(agents):
        lunch = 11 * HOUR + (i % 8) * 1800.0
        schedule = AgentSchedule(
            start=8 * HOUR, end=20 * HOUR, breaks=(Break(start=lunch, duration=1800.0),)
        )
        plans.append(
            AgentPlan(
                spec=AgentSpec(id=f"agent{i:03d}", queues={"main": 0}),
                schedule=schedule,
                answer_probability=0.98,
                ring_delay=Constant(value=2.0),
            )
        )
    return Scenario(
        queues=(QueueSpec(name="main", strategy="longest_idle", wrapup=10.0),),
        agents=tuple(plans),
        arrivals={"main": daily_profile(calls_per_day)},
        handle_time=LogNormal(mean=180.0, cv=1.0),
        patience=Exponential(mean=120.0),
        seed=seed,
    )


def month(args: argparse.Namespace) -> None:
    scenario = center(args.agents, args.load, args.seed)
    fold = SummaryFold()
    wall, cpu = time.perf_counter(), time.process_time()
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
    result = simulate(scenario, fold.add, until=args.days * 24 * HOUR)
    if args.profile:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    k = fold.result(result.end)
    print(
        f"{args.days} days, {args.agents} agents: {result.calls} calls, {result.records} "
        f"records, {result.events} ACD events (ACD {build(tamas.acd.engine)}, "
        f"simulator {build(tamas.sim.simulation)})"
    )
    print(
        f"wall {wall:.1f} s, cpu {cpu:.1f} s: {result.calls / wall:,.0f} calls/s wall, "
        f"{result.calls / cpu:,.0f} calls/s cpu, {result.events / cpu:,.0f} events/s cpu"
    )
    print(
        f"answered {k.answered}, abandoned {k.abandoned} ({k.abandon_rate:.1%}), "
        f"ASA {k.asa:.1f} s, SL20 {k.service_level:.1%}, AHT {k.aht:.0f} s, "
        f"occupancy {k.occupancy:.1%}"
    )
    if args.profile:
        stats = pstats.Stats(profiler).sort_stats("tottime")
        stats.print_stats(args.profile)


def erlang(args: argparse.Namespace) -> None:
    aht = 100.0
    warmup = 200 * aht
    for agents, traffic in ((2, 1.2), (11, 10.0), (50, 45.0)):
        scenario = Scenario(
            queues=(QueueSpec(name="q", wrapup=0.0),),
            agents=tuple(
                AgentPlan(spec=AgentSpec(id=f"a{i}", queues={"q": 0})) for i in range(agents)
            ),
            arrivals={"q": ArrivalProfile.constant(per_hour=traffic / aht * 3600.0)},
            handle_time=Exponential(mean=aht),
            seed=args.seed,
        )
        fold = SummaryFold(warmup=warmup)
        span = [0.0, 0.0]  # first and last arrival after the warm-up

        def sink(record: LogRecord, fold: SummaryFold = fold, span: list[float] = span) -> None:
            fold.add(record)
            if record.event == "ENTERQUEUE" and record.at >= warmup:
                span[0] = span[0] or record.at
                span[1] = record.at

        cpu = time.process_time()
        result = simulate(scenario, sink, calls=args.erlang_calls)
        cpu = time.process_time() - cpu
        k = fold.result(result.end)
        p, w = erlang_c(agents, traffic), asa(agents, traffic / aht, aht)
        # The traffic the run actually drew: offered / arrival span x measured AHT.
        rate = (k.offered - 1) / (span[1] - span[0])
        p_real, w_real = erlang_c(agents, rate * k.aht), asa(agents, rate, k.aht)
        print(
            f"c={agents:3} A={traffic:5.1f}: P(wait) {k.p_wait:.4f} vs {p:.4f} "
            f"({k.p_wait / p - 1:+.2%}), ASA {k.asa:6.2f} vs {w:6.2f} ({k.asa / w - 1:+.2%}); "
            f"drawn A={rate * k.aht:.3f}: P {p_real:.4f} ({k.p_wait / p_real - 1:+.2%}), "
            f"ASA {w_real:6.2f} ({k.asa / w_real - 1:+.2%}); {result.calls} calls, {cpu:.0f} s cpu"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--load", type=float, default=0.85, help="offered load per agent")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", type=int, nargs="?", const=30, default=0, metavar="TOP")
    parser.add_argument("--erlang", action="store_true", help="run the Erlang C check instead")
    parser.add_argument("--erlang-calls", type=int, default=300_000)
    args = parser.parse_args()
    if args.erlang:
        erlang(args)
    else:
        month(args)


if __name__ == "__main__":
    main()
