#!/usr/bin/env python3
"""Highest clean calls-per-second of Tamas, Kamailio and sippy's B2BUA, measured with SIPp.

Each target runs on 127.0.0.1 pinned to one core (default 0); SIPp's UAC and UAS run pinned to the
other core (default 1). The UAC places calls of --hold-ms (default 1000 ms) through the target to
the UAS; each rate is held for --step-seconds (default 10). A step is *clean* when every call
succeeded and the 99th percentile of call setup (INVITE sent -> 200 received, SIPp rtd 1 from
-trace_rtt) is below --p99-ms (default 50). Rates climb a ladder (100, 200, 400, 800, 1600, 3200,
5000, 8000, ...) until a step is not clean, then bisect between the last clean and the first
unclean rate. The target and the UAS are restarted for every step. The whole run is bounded by
--max-seconds, shared evenly between targets.

Tamas is measured in up to two media modes (--media, default both): "tamas" with media anchored
(media.anchor true, the default configuration: Tamas answers each party with its own SDP and
relays the RTP) and "tamas-passthrough" with SDP passed through unchanged (media.anchor false:
RTP would go between the parties, as through Kamailio, a proxy, and sippy without rtpproxy).
Each is its own row, with its ratio to Kamailio and sippy of the same run.

Everything is sent to 127.0.0.1 only. Examples:

    python benchmarks/sip_cps.py --targets kamailio,sippy --max-seconds 300
    python benchmarks/sip_cps.py --targets tamas,kamailio --media pass-through
    python benchmarks/sip_cps.py --targets tamas,kamailio --media pass-through --rounds 3

--rounds N repeats the whole measurement N times in one invocation, the targets' order
reversed every other round (so that a drift of the machine's speed does not always favour the
same target), with --max-seconds for each round, and ends with every round's ratios and their
median: one run's ratio moves with the machine (by 2x on 2026-12-01), a series of same-run
pairs shows how far.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "peers"))

import harness  # noqa: E402

LADDER = (100, 200, 400, 800, 1600, 3200, 5000, 8000, 12000, 16000)
TARGETS = ("tamas", "kamailio", "sippy")
#: --media: which Tamas rows "tamas" in --targets stands for (a row's name: media.anchor).
MEDIA_MODES = {
    "anchored": {"tamas": True},
    "pass-through": {"tamas-passthrough": False},
    "both": {"tamas": True, "tamas-passthrough": False},
}
#: Every Tamas row: its name, and media.anchor in its config.
TAMAS_ROWS = {"tamas": True, "tamas-passthrough": False}


@dataclass
class Step:
    rate: float
    calls: int
    successful: int
    failed: int
    p50_ms: float | None
    p99_ms: float | None
    target_cpu_pct: float
    loadgen_cpu_pct: float
    wall_s: float
    clean: bool
    note: str = ""


@dataclass
class TargetResult:
    target: str
    max_clean_cps: float | None = None
    p99_ms: float | None = None
    cpu_pct: float | None = None
    steps: list[Step] = field(default_factory=list)
    error: str = ""


def percentile(samples: list[float], q: float) -> float | None:
    if not samples:
        return None
    s = sorted(samples)
    k = max(0, min(len(s) - 1, math.ceil(q / 100.0 * len(s)) - 1))
    return s[k]


@dataclass
class Ports:
    target: int
    uac: int
    uas: int


def _pick_port(preferred: int | None) -> int:
    if preferred and harness.port_is_free(preferred):
        return preferred
    return harness.free_udp_port()


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.root = Path(args.workdir or tempfile.mkdtemp(prefix="tamas-cps-"))
        self.root.mkdir(parents=True, exist_ok=True)

    def log(self, msg: str) -> None:
        print(msg, flush=True)

    # -- target starters: each returns the running target process
    def _start_target(self, name: str, ports: Ports, step_dir: Path) -> harness.ManagedProcess:
        core = self.args.target_core
        if name == "kamailio":
            cfg = harness.kamailio_proxy_cfg(ports.target, ports.uas)
            return harness.start_kamailio(
                cfg, ports.target, workdir=step_dir / "kamailio", cpu=core
            )
        if name == "sippy":
            return harness.start_sippy(
                ports.target,
                f"{harness.LOOPBACK}:{ports.uas}",
                workdir=step_dir / "sippy",
                cpu=core,
            )
        if name in TAMAS_ROWS:
            tdir = step_dir / "tamas"
            tcfg = harness.tamas_loadgen_config(
                sip_port=ports.target,
                data_dir=tdir / "data",
                uac_port=ports.uac,
                uas_port=ports.uas,
                anchor=TAMAS_ROWS[name],
            )
            return harness.start_tamas(tcfg, tdir, ports.target, cpu=core)
        raise ValueError(name)

    def run_step(
        self, name: str, ports: Ports, rate: float, deadline: float, attempt: int = 1
    ) -> Step:
        a = self.args
        # one directory per attempt: the latency samples of one try must not mix with another's
        step_dir = self.root / name / f"rate-{rate:g}" / f"try-{attempt}"
        step_dir.mkdir(parents=True, exist_ok=True)
        calls = max(1, round(rate * a.step_seconds))
        uas = harness.start_sipp_background(
            "uas_answer",
            local_port=ports.uas,
            workdir=step_dir / "uas",
            cpu=a.loadgen_core,
        )
        target: harness.ManagedProcess | None = None
        try:
            target = self._start_target(name, ports, step_dir)
            if a.warmup_calls:
                # Every target gets the same warm-up (caches, lazy imports, first database
                # write) so that the step measures the steady state, not the start-up.
                harness.run_sipp_spec(
                    harness.SippRun(
                        scenario="uac_call",
                        target=f"{harness.LOOPBACK}:{ports.target}",
                        local_port=ports.uac,
                        calls=a.warmup_calls,
                        rate=min(rate, 50.0),
                        service="2000",
                        hold_ms=100,
                        timeout=30.0,
                        cpu=a.loadgen_core,
                    ),
                    step_dir / "warmup",
                )
            budget = max(5.0, deadline - time.monotonic())
            timeout = min(budget, a.step_seconds + a.hold_ms / 1000.0 + 30.0)
            spec = harness.SippRun(
                scenario="uac_call",
                target=f"{harness.LOOPBACK}:{ports.target}",
                local_port=ports.uac,
                calls=calls,
                rate=rate,
                service="2000",
                hold_ms=a.hold_ms,
                trace_rtt=True,
                timeout=timeout,
                cpu=a.loadgen_core,
                extra_args=["-rtt_freq", "100", "-max_recv_loops", "10000"],
            )
            cpu0 = harness.process_cpu_seconds(target.pid)
            gen0 = harness.process_cpu_seconds(uas.pid)
            uac0 = _children_cpu_seconds()
            t0 = time.monotonic()
            res = harness.run_sipp_spec(spec, step_dir / "uac")
            wall = time.monotonic() - t0
            cpu1 = harness.process_cpu_seconds(target.pid)
            gen1 = harness.process_cpu_seconds(uas.pid)
            uac_cpu = _children_cpu_seconds() - uac0
            p99 = percentile(res.rtt_ms, 99)
            clean = (
                res.returncode == 0
                and not res.timed_out
                and res.failed == 0
                and res.successful == calls
                and p99 is not None
                and p99 < a.p99_ms
            )
            note = ""
            if res.timed_out:
                note = "timed out"
            elif res.returncode not in (0, 1):
                note = f"sipp rc={res.returncode}: {res.stderr.strip()[-200:]}"
            if not target.alive():
                note = (note + "; target died").strip("; ")
            return Step(
                rate=rate,
                calls=calls,
                successful=res.successful,
                failed=res.failed,
                p50_ms=percentile(res.rtt_ms, 50),
                p99_ms=p99,
                target_cpu_pct=100.0 * (cpu1 - cpu0) / wall if wall > 0 else 0.0,
                loadgen_cpu_pct=100.0 * ((gen1 - gen0) + uac_cpu) / wall if wall > 0 else 0.0,
                wall_s=wall,
                clean=clean,
                note=note,
            )
        finally:
            if target is not None:
                target.stop()
            uas.stop()

    def report(self, name: str, st: Step) -> None:
        fmt = _fmt_ms
        self.log(
            f"   {name} @ {st.rate:>6g} cps: ok {st.successful}/{st.calls} failed {st.failed}"
            f"  p50 {fmt(st.p50_ms)} p99 {fmt(st.p99_ms)} ms  target CPU"
            f" {st.target_cpu_pct:5.1f}%  sipp CPU {st.loadgen_cpu_pct:5.1f}%"
            f"  {'CLEAN' if st.clean else 'not clean'} {st.note}"
        )

    def bench_target(self, name: str, budget_s: float) -> TargetResult:
        a = self.args
        out = TargetResult(name)
        deadline = time.monotonic() + budget_s
        step_cost = a.step_seconds + a.hold_ms / 1000.0 + 6.0
        if name in TAMAS_ROWS:
            ports = Ports(_pick_port(a.tamas_port), _pick_port(5071), _pick_port(5072))
        else:
            ports = Ports(harness.free_udp_port(), harness.free_udp_port(), harness.free_udp_port())
        self.log(f"== {name}: target :{ports.target}  uac :{ports.uac}  uas :{ports.uas}")

        def try_rate(rate: float) -> bool | None:
            if time.monotonic() + step_cost > deadline:
                self.log(f"   {name}: time budget spent, stopping")
                return None
            for attempt in range(1, a.attempts + 1):
                if attempt > 1 and time.monotonic() + step_cost > deadline:
                    break
                try:
                    st = self.run_step(name, ports, rate, deadline, attempt)
                except Exception as exc:  # a target that cannot start is a result, not a crash
                    out.error = f"{type(exc).__name__}: {exc}"[:500]
                    self.log(f"   {name} @ {rate:g} cps: ERROR {out.error}")
                    return None
                st.note = (st.note + f" attempt {attempt}/{a.attempts}").strip()
                self.report(name, st)
                out.steps.append(st)
                if st.clean:
                    break
            if st.clean and (out.max_clean_cps is None or rate > out.max_clean_cps):
                out.max_clean_cps, out.p99_ms, out.cpu_pct = rate, st.p99_ms, st.target_cpu_pct
            return st.clean

        good: float | None = None
        bad: float | None = None
        for rate in [r for r in a.ladder if r <= a.max_rate]:
            ok = try_rate(rate)
            if ok is None:
                return out
            if ok:
                good = rate
            else:
                bad = rate
                break
        if bad is None:
            return out
        lo = good or 0.0
        for _ in range(a.bisect_steps):
            if bad - lo <= max(a.min_gap, 0.05 * bad):
                break
            mid = float(round((lo + bad) / 2))
            if mid <= 0:
                break
            ok = try_rate(mid)
            if ok is None:
                break
            if ok:
                lo = mid
            else:
                bad = mid
        return out


def _children_cpu_seconds() -> float:
    """CPU of this process's reaped children (the finished SIPp UAC, around one run)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _fmt_ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f}"


def _fmt(v: float | None, spec: str = ".0f") -> str:
    return "-" if v is None else format(v, spec)


def print_table(results: dict[str, TargetResult], out: Callable[[str], None]) -> None:
    out("")
    out(f"{'target':<18} {'max clean CPS':>14} {'p99 setup ms':>13} {'target CPU %':>13}  note")
    for name, r in results.items():
        out(
            f"{name:<18} {_fmt(r.max_clean_cps):>14} {_fmt(r.p99_ms):>13}"
            f" {_fmt(r.cpu_pct, '.1f'):>13}  {r.error[:80]}"
        )
    for mine in TAMAS_ROWS:
        if mine not in results:
            continue
        for other in ("sippy", "kamailio"):
            figure = ratio(results, mine, other)
            out(f"{mine}/{other}: {'n/a' if figure is None else f'{figure:.2f}'}")


def ratio(results: dict[str, TargetResult], mine: str, other: str) -> float | None:
    """``mine``'s highest clean rate over ``other``'s, when both have one."""
    t, o = results.get(mine), results.get(other)
    if t is None or o is None or not t.max_clean_cps or not o.max_clean_cps:
        return None
    return t.max_clean_cps / o.max_clean_cps


def print_series(rounds: list[dict[str, TargetResult]], out: Callable[[str], None]) -> None:
    """Every round's ratios of each Tamas row to each reference, and their median."""
    out("")
    out("series of rounds:")
    for mine in TAMAS_ROWS:
        for other in ("kamailio", "sippy"):
            figures = [ratio(results, mine, other) for results in rounds]
            if all(f is None for f in figures):
                continue
            known = sorted(f for f in figures if f is not None)  # not empty: see above
            each = ", ".join("n/a" if f is None else f"{f:.2f}" for f in figures)
            out(
                f"{mine}/{other}: {each}  (median {statistics.median(known):.2f},"
                f" lowest {known[0]:.2f})"
            )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help="comma list of " + "/".join(TARGETS) + " (tamas: the rows of --media)",
    )
    p.add_argument(
        "--media",
        choices=tuple(MEDIA_MODES),
        default="both",
        help="Tamas's media: anchored (row tamas, media.anchor true, the default config),"
        " pass-through (row tamas-passthrough, media.anchor false: SDP unchanged, as through"
        " Kamailio and sippy) or both rows (default)",
    )
    p.add_argument("--max-seconds", type=float, default=600.0, help="whole-run time bound")
    p.add_argument("--step-seconds", type=float, default=10.0, help="seconds of load per rate")
    p.add_argument("--hold-ms", type=int, default=1000, help="call duration (UAC pause)")
    p.add_argument("--p99-ms", type=float, default=50.0, help="clean: p99 call setup below this")
    p.add_argument(
        "--ladder",
        type=lambda s: [float(x) for x in s.split(",")],
        default=list(LADDER),
        help="rates to climb, comma list",
    )
    p.add_argument("--max-rate", type=float, default=16000.0, help="never offer more than this")
    p.add_argument("--bisect-steps", type=int, default=4, help="bisection steps after the ladder")
    p.add_argument("--min-gap", type=float, default=25.0, help="stop bisecting below this gap")
    p.add_argument(
        "--warmup-calls",
        type=int,
        default=100,
        help="calls placed (at up to 50 cps) before each measured step, for every target",
    )
    p.add_argument(
        "--attempts",
        type=int,
        default=1,
        help="tries per rate; a rate is clean if any try is (filters stalls caused by other"
        " processes on a shared machine)",
    )
    p.add_argument("--target-core", type=int, default=0, help="core the target is pinned to")
    p.add_argument("--loadgen-core", type=int, default=1, help="core SIPp is pinned to")
    p.add_argument("--tamas-port", type=int, default=5060, help="Tamas SIP port (if free)")
    p.add_argument("--workdir", default=None, help="keep SIPp/target logs here")
    p.add_argument("--json", default=None, help="write results as JSON to this file")
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure every target this many times, the order reversed every other round;"
        " --max-seconds is per round (default 1)",
    )
    args = p.parse_args(argv)
    targets: list[str] = []
    for t in (t.strip() for t in args.targets.split(",")):
        if not t:
            continue
        if t not in TARGETS:
            p.error(f"unknown target {t!r}")
        targets.extend(MEDIA_MODES[args.media] if t == "tamas" else [t])
    args.targets = targets
    return args


def tamas_build() -> str:
    """Which Tamas the server runs: the one this interpreter imports (see harness.start_tamas),
    mypyc-compiled when its SIP modules are extension modules."""
    import importlib.util

    spec = importlib.util.find_spec("tamas.sip.message")
    if spec is None or spec.origin is None:
        return "not importable: the tamas script on PATH"
    kind = "compiled (mypyc)" if not spec.origin.endswith(".py") else "pure Python"
    return f"{kind}, {Path(spec.origin).parents[2]}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not harness.have(harness.SIPP):
        print("SIPp (sip-tester) is not installed", file=sys.stderr)
        return 2
    if any(t in TAMAS_ROWS for t in args.targets):
        print(f"tamas: {tamas_build()} (python {sys.executable}); media {args.media}")
    bench = Bench(args)
    rounds: list[dict[str, TargetResult]] = []
    for number in range(1, args.rounds + 1):
        order = list(args.targets) if number % 2 else list(reversed(args.targets))
        if args.rounds > 1:
            stamp = time.strftime("%H:%M:%S", time.gmtime())
            print(f"\n=== round {number}/{args.rounds} ({stamp} UTC): {', '.join(order)}")
        start = time.monotonic()
        results: dict[str, TargetResult] = {}
        for i, name in enumerate(order):
            left = args.max_seconds - (time.monotonic() - start)
            share = left / (len(order) - i)
            results[name] = bench.bench_target(name, share)
        results = {name: results[name] for name in args.targets}  # rows in the asked order
        print_table(results, print)
        print(f"(logs in {bench.root}; round {time.monotonic() - start:.0f} s)")
        rounds.append(results)
    if args.rounds > 1:
        print_series(rounds, print)
    if args.json:
        dump = [{k: asdict(v) for k, v in results.items()} for results in rounds]
        Path(args.json).write_text(json.dumps(dump[0] if args.rounds == 1 else dump, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
