"""``tamas simulate``: run the real ACD on a virtual clock and print the KPIs.

Without ``--config`` one queue ``sim`` is served by ``--agents`` agents who are logged in the
whole run and always answer at once; calls arrive at ``--rate`` per hour with exponential
handle times of mean ``--aht``: an M/M/c queue (M/M/c+M with ``--patience``), so Erlang C
(or Erlang A) predictions are printed beside the measured figures. With ``--config`` the
queues and agents come from the configuration's ``queues:`` and ``agents:`` sections, and
arrival profiles, the call model and agents' shifts from its ``simulation:`` section
(:func:`tamas.sim.fromconfig.scenario_from_config`); options given here override it.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

from tamas.acd.api import AgentSpec, QueueSpec
from tamas.acd.strategies import STRATEGIES
from tamas.config import ConfigError, load_config
from tamas.config.model import Config
from tamas.core.events import LogRecord
from tamas.core.queue_log import format_line
from tamas.runtime.eventlog import encode_record
from tamas.sim.fromconfig import Overrides, scenario_from_config
from tamas.sim.models import (
    DAY,
    ArrivalProfile,
    Constant,
    Distribution,
    Exponential,
    LogNormal,
)
from tamas.sim.simulation import AgentPlan, Scenario, simulate
from tamas.sim.summary import Kpis, SummaryFold
from tamas.wfm.erlang import asa, erlang_a, erlang_c, occupancy, service_level

__all__ = ["add_parser", "run"]

EXIT_INVALID = 2
DEFAULT_AHT = 180.0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = commands.add_parser(
        "simulate",
        help="simulate calls through the ACD and print the KPIs",
        description=(
            "Drive the real ACD with synthetic callers on a virtual clock (no waiting: "
            "thousands of calls a second) and print what the event log shows: offered, "
            "answered, abandoned, P(wait), ASA, service level, AHT, occupancy. Without "
            "--config, an M/M/c queue with Erlang C's prediction beside each figure."
        ),
        epilog=(
            "examples:\n"
            "  tamas simulate --calls 100000 --agents 11 --rate 200 --aht 180\n"
            "  tamas simulate --hours 8 --agents 50 --rate 900 --patience 60 --seed 7\n"
            "  tamas simulate --config tamas.yaml --days 1 --events day.queue_log\n"
            "docs: docs/simulator.md\n"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sim.add_argument(
        "--config", type=Path, metavar="FILE",
        help="take queues, agents and the simulation: section from FILE",
    )  # fmt: skip
    span = sim.add_mutually_exclusive_group(required=True)
    span.add_argument("--calls", type=int, metavar="N", help="simulate N calls")
    span.add_argument("--hours", type=float, metavar="H", help="simulate H hours of arrivals")
    span.add_argument("--days", type=float, metavar="D", help="simulate D days of arrivals")
    sim.add_argument("--agents", type=int, default=10, metavar="N", help="agents (default 10)")
    sim.add_argument(
        "--rate", type=float, metavar="PER_HOUR",
        help="calls per hour per queue (default: 85%% load, 0.85 x agents x 3600 / aht / queues)",
    )  # fmt: skip
    sim.add_argument("--aht", type=float, metavar="S", help="mean handle time (default 180)")
    sim.add_argument(
        "--handle", choices=("exponential", "lognormal", "constant"),
        help="handle-time distribution (default exponential; lognormal: cv 1)",
    )  # fmt: skip
    sim.add_argument("--patience", type=float, metavar="S", help="mean patience (default: none)")
    sim.add_argument("--wrapup", type=float, default=0.0, metavar="S", help="queue wrap-up")
    sim.add_argument(
        "--strategy", choices=sorted(STRATEGIES), default="longest_idle", metavar="NAME",
        help=f"queue strategy: {', '.join(sorted(STRATEGIES))} (default longest_idle)",
    )  # fmt: skip
    sim.add_argument("--threshold", type=float, default=20.0, metavar="S", help="service level T")
    sim.add_argument("--seed", type=int, default=1, metavar="N", help="random seed (default 1)")
    sim.add_argument(
        "--events", type=Path, metavar="FILE",
        help="write the event log: .jsonl (the journal's lines) or .queue_log (Asterisk's)",
    )  # fmt: skip
    sim.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    problem = _check(args)
    if problem:
        print(f"tamas simulate: {problem}", file=sys.stderr)
        return EXIT_INVALID
    try:
        scenario, erlang_ok = _scenario(args)
    except (ConfigError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    fold = SummaryFold(threshold=args.threshold)
    out: IO[str] | None = None
    sink: Callable[[LogRecord], None] = fold.add
    if args.events is not None:
        out = args.events.open("w", encoding="utf-8")
        sink = _writer(args.events.suffix, out, fold)
    try:
        result = simulate(scenario, sink, calls=args.calls, until=_until(args))
    finally:
        if out is not None:
            out.close()
    kpis = fold.result(result.end)
    agents = len(scenario.agents)
    profiles = list(scenario.arrivals.values())
    rate = profiles[0].rate_at(0.0) * 3600.0 if profiles else 0.0
    if all(len(p.calls) == 1 for p in profiles):
        arrivals = f"{rate:g} calls/h per queue"
    else:  # daily profiles: what a day brings
        per_day = sum(p.per_day * DAY / (len(p.calls) * p.interval) for p in profiles)
        arrivals = f"{per_day:g} calls a day expected"
    print(f"simulated {result.calls} calls, {result.records} records, "
          f"{result.end / 3600.0:.2f} h of virtual time")  # fmt: skip
    print(f"{len(scenario.queues)} queue(s), {agents} agents, {arrivals}, seed {scenario.seed}")
    _print(kpis, _prediction(args, agents, rate) if erlang_ok else None)
    return 0


def _until(args: argparse.Namespace) -> float | None:
    if args.hours is not None:
        return float(args.hours) * 3600.0
    if args.days is not None:
        return float(args.days) * DAY
    return None


def _check(args: argparse.Namespace) -> str:
    if args.calls is not None and args.calls < 1:
        return "--calls must be at least 1"
    if args.hours is not None and args.hours <= 0:
        return "--hours must be positive"
    if args.days is not None and args.days <= 0:
        return "--days must be positive"
    if args.agents < 1 or (args.aht is not None and args.aht <= 0):
        return "--agents and --aht must be positive"
    if args.patience is not None and args.patience <= 0:
        return "--patience must be positive"
    if args.events is not None and args.events.suffix not in (".jsonl", ".queue_log"):
        return "--events must end in .jsonl or .queue_log"
    return ""


def _scenario(args: argparse.Namespace) -> tuple[Scenario, bool]:
    """The scenario and whether it is an M/M/c(+M) queue Erlang can predict."""
    if args.config is not None:
        config: Config = load_config(args.config)
        overrides = Overrides(
            rate=args.rate, aht=args.aht, handle=args.handle, patience=args.patience,
            agents=args.agents, seed=args.seed,
        )  # fmt: skip
        try:
            return scenario_from_config(config, overrides), False
        except ValueError as exc:
            raise ValueError(f"{args.config}: {exc}") from None
    aht = DEFAULT_AHT if args.aht is None else args.aht
    handle: Distribution = LogNormal(mean=aht) if args.handle == "lognormal" else (
        Constant(value=aht) if args.handle == "constant" else Exponential(mean=aht))  # fmt: skip
    patience = None if args.patience is None else Exponential(mean=args.patience)
    queues = (QueueSpec(name="sim", strategy=args.strategy, wrapup=args.wrapup),)
    agent_specs = tuple(
        AgentSpec(id=f"agent{i + 1}", queues={"sim": 0}) for i in range(args.agents)
    )
    rate = args.rate if args.rate is not None else 0.85 * args.agents * 3600.0 / aht
    scenario = Scenario(
        queues=queues,
        agents=tuple(AgentPlan(spec=a) for a in agent_specs),
        arrivals={"sim": ArrivalProfile.constant(per_hour=rate)},
        handle_time=handle,
        patience=patience,
        seed=args.seed,
    )
    erlang_ok = args.handle in (None, "exponential") and args.wrapup == 0
    return scenario, erlang_ok


def _prediction(args: argparse.Namespace, agents: int, per_hour: float) -> dict[str, float]:
    lam = per_hour / 3600.0
    aht = DEFAULT_AHT if args.aht is None else args.aht
    if args.patience is not None:
        a = erlang_a(agents, lam, aht, args.patience)
        return {"p_wait": a.p_wait, "abandon_rate": a.p_abandon, "occupancy": a.occupancy}
    traffic = lam * aht
    if traffic >= agents:
        return {}
    return {
        "p_wait": erlang_c(agents, traffic),
        "asa": asa(agents, lam, aht),
        "service_level": service_level(agents, lam, aht, args.threshold),
        "occupancy": occupancy(agents, lam, aht),
        "abandon_rate": 0.0,
        "aht": aht,
    }


def _print(kpis: Kpis, predicted: dict[str, float] | None) -> None:
    rows = [
        ("offered", f"{kpis.offered}", None),
        ("answered", f"{kpis.answered}", None),
        ("abandoned", f"{kpis.abandoned}", None),
        ("other exits", f"{kpis.other_exits}", None),
        ("rejected", f"{kpis.rejected}", None),
        ("waiting at end", f"{kpis.waiting_at_end}", None),
        ("P(wait)", f"{kpis.p_wait:.4f}", "p_wait"),
        ("ASA (s)", f"{kpis.asa:.2f}", "asa"),
        (f"service level {kpis.threshold:g} s", f"{kpis.service_level:.4f}", "service_level"),
        ("abandon rate", f"{kpis.abandon_rate:.4f}", "abandon_rate"),
        ("AHT (s)", f"{kpis.aht:.2f}", "aht"),
        ("occupancy", f"{kpis.occupancy:.4f}", "occupancy"),
        ("max wait (s)", f"{kpis.max_wait:.1f}", None),
    ]
    label = "Erlang A" if predicted is not None and "asa" not in predicted else "Erlang C"
    print(f"{'':22} {'measured':>12}" + (f" {label:>12}" if predicted else ""))
    for name, value, key in rows:
        line = f"{name:22} {value:>12}"
        if predicted and key in predicted:
            line += f" {predicted[key]:>12.4f}"
        print(line)


def _writer(suffix: str, out: IO[str], fold: SummaryFold) -> Callable[[LogRecord], None]:
    seq = 0

    def jsonl(record: LogRecord) -> None:
        nonlocal seq
        seq += 1
        fold.add(record)
        out.write(encode_record(dataclasses.replace(record, seq=seq)) + "\n")

    def queue_log(record: LogRecord) -> None:
        fold.add(record)
        out.write(format_line(record) + "\n")

    return jsonl if suffix == ".jsonl" else queue_log
