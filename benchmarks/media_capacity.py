"""Media capacity: the most concurrent bridged G.711 calls one relay process carries "clean".

Clean (issue 3): loss < 0.1 % and p99 added latency <= 10 ms in EVERY repeat of the window
(loss alone hides overload: socket buffers absorb it while latency climbs). Each call is two
20 ms streams, one per direction, so N calls are 100 * N packets per second through the relay.

Targets, in the same run:
  tamas      the Tamas media engine (benchmarks/media/relay_server.py), uvloop, no recording
  tamas+rec  the same with a recording tap on every bridge (written by Tamas's recording
             process, whose CPU is counted with the relay's)
  rtpengine  rtpengine-daemon, userspace forwarding (--table=-1), calls set up over ng
  rtpengine+rec  the same with rtpengine's own recording of every call ("record call" in the
             offer; --recording-method=pcap: the daemon writes each call's packets to a pcap
             file, undecoded): a like-for-like reference for tamas+rec, which decodes and
             writes WAV files. Not in the default targets.
  uvloop     the leanest uvloop relay (benchmarks/media/lean_relay.py): each packet sent on
             unexamined; the floor CPython + uvloop + the kernel set, not a Tamas figure

The relay is pinned to core 0 and the load generator to core 1 (taskset). The generator is a C
program of ours (benchmarks/media/rtpload.c, compiled with gcc into a temporary directory):
sendmmsg/recvmmsg, send time in each payload, latency and loss per stream. It reports its
send lag behind schedule, so a run the generator could not keep up with is visible.

For each target the number of calls climbs by --step from --start until a level is not clean,
then halves the gap down to --resolution. A level that is not clean is tried again
(--attempts, default 2) before it counts: other work on the machine can spoil one try.
CPU per call is the relay's utime+stime from /proc/<pid>/stat over the measured windows.

  flock /tmp/tamas-bench.lock .venv/bin/python benchmarks/media_capacity.py
  flock /tmp/tamas-bench.lock .venv/bin/python benchmarks/media_capacity.py --quick

This is a measurement, not a test: figures vary with whatever else runs on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
MEDIA = HERE / "media"
sys.path.insert(0, str(MEDIA))

from ngclient import NgClient, bridge_call  # noqa: E402

MAX_LOSS = 0.001
MAX_P99_MS = 10.0
TICKS = os.sysconf("SC_CLK_TCK")
RELAY_CORE, LOAD_CORE = "0", "1"
#: A command prefix for the relay and the generator: empty, or with --realtime chrt's FIFO class.
PRIORITY: list[str] = []
REALTIME = 10
#: With --realtime, the scheduling class of Tamas's recording process (chrt's options and
#: priority, and a nice value or None): by default the normal class at nice -20, ahead of
#: every other normal process but outside the real-time class, so that it gets the time the
#: relay leaves; --recorder-class fifo: FIFO just below the relay.
RECORDER_CLASSES: dict[str, tuple[list[str], int | None]] = {
    "normal": (["-o", "-p", "0"], -20),
    "fifo": (["-f", "-p", str(REALTIME - 5)], None),
}
RECORDER_CLASS: list[tuple[list[str], int | None]] = [RECORDER_CLASSES["normal"]]
#: --record-interval: seconds between the recorder's batches (None: the server's default).
RECORD_INTERVAL: float | None = None


@dataclass
class Level:
    target: str
    calls: int
    repeats: list[dict[str, float]]
    generator: dict[str, float]
    cpu_per_call_pct: float
    relay_cpu_pct: float
    relay_summary: dict[str, float] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return (
            bool(self.repeats)
            and all(r["loss"] < MAX_LOSS and 0 <= r["p99_ms"] <= MAX_P99_MS for r in self.repeats)
            and not self.relay_summary.get("recordings_failed", 0)
            and not self.relay_summary.get("recordings_short", 0)
        )

    @property
    def generator_cpu_pct(self) -> float:
        """The load generator's CPU over its run, % of its core. Near 100 % the generator's own
        waits for its core add to the latency it measures (it stamps a slot's packets before
        sending them): such a level says nothing of the relay."""
        wall = self.generator.get("wall_s", 0.0)
        return 100.0 * self.generator.get("cpu_s", 0.0) / wall if wall > 0 else 0.0

    def line(self) -> str:
        worst_loss = max(r["loss"] for r in self.repeats) if self.repeats else 1.0
        worst_p99 = max(r["p99_ms"] for r in self.repeats) if self.repeats else -1
        p50 = max(r["p50_ms"] for r in self.repeats) if self.repeats else -1
        return (
            f"{self.target:10s} {self.calls:5d} calls  loss {worst_loss * 100:7.3f} %  "
            f"p50 {p50:7.2f} ms  p99 {worst_p99:8.2f} ms  relay CPU {self.relay_cpu_pct:5.1f} %"
            f"  ({self.cpu_per_call_pct:.3f} %/call)"
            f"  gen lag {self.generator['max_send_lag_ms']:.1f} ms,"
            f" CPU {self.generator_cpu_pct:.0f} %"
            + (
                f"  rec: {self.relay_summary['recordings_failed']:.0f} failed,"
                f" {self.relay_summary.get('recordings_short', 0):.0f} short,"
                f" {self.relay_summary['recorded_min_s']:.1f}-"
                f"{self.relay_summary['recorded_max_s']:.1f} s,"
                f" process {self.relay_summary['recorder_process_cpu_s']:.1f} s CPU"
                if "recordings_failed" in self.relay_summary
                and self.relay_summary.get("recorded_max_s")
                else ""
            )
            + f"  {'CLEAN' if self.clean else 'not clean'}"
        )


def free_port_pair() -> tuple[int, int]:
    """Two free UDP ports (each with a free port + 1, where relays send RTCP)."""
    ports: list[int] = []
    while len(ports) < 2:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port % 2 == 0 and port + 1 < 65536 and port not in ports:
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as t:
                    t.bind(("127.0.0.1", port + 1))
                ports.append(port)
            except OSError:
                continue
    return ports[0], ports[1]


def descendants(pid: int) -> list[int]:
    """The live descendant processes of ``pid`` (Tamas's recording process)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *descendants(int(child))]
    return found


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and of its live descendants (Tamas's recording process)."""
    total = 0.0
    for each in (pid, *descendants(pid)):
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14, 15)
    return total


def tamas_build() -> str:
    """Which Tamas the relay imports (the same interpreter and environment): "compiled" when
    the media engine's leg is a mypyc extension (``TAMAS_COMPILE=1``, as scripts/install.sh
    builds the server), else "source"; with the module's path."""
    code = "import tamas.runtime.mediaengine.leg as m; print(m.__file__)"
    path = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    return f"{'source' if path.endswith('.py') else 'compiled'} ({path})"


def relay_command(
    script: str, calls: int, gen_a: int, gen_b: int, record_dir: Path | None = None
) -> list[str]:
    """How to run one of the Python relays in benchmarks/media (relay_server.py, lean_relay.py)
    with this interpreter: ``calls`` calls towards the generator's ports ``gen_a``/``gen_b``."""
    cmd = [sys.executable, str(MEDIA / script), "--calls", str(calls)]
    cmd += ["--gen-a", str(gen_a), "--gen-b", str(gen_b)]
    if record_dir is not None:
        cmd += ["--record", str(record_dir)]
        if RECORD_INTERVAL is not None:
            cmd += ["--record-interval", str(RECORD_INTERVAL)]
    return cmd


def compile_generator(workdir: Path) -> Path:
    exe = workdir / "rtpload"
    subprocess.run(["gcc", "-O2", "-Wall", "-o", str(exe), str(MEDIA / "rtpload.c")], check=True)
    return exe


class TamasRelay:
    def __init__(self, record_dir: Path | None, script: str = "relay_server.py") -> None:
        self.record_dir = record_dir
        self.script = script
        self.proc: subprocess.Popen[str] | None = None

    def start(self, calls: int, gen_a: int, gen_b: int) -> tuple[int, list[tuple[int, int]]]:
        if self.record_dir is not None:
            shutil.rmtree(self.record_dir, ignore_errors=True)
            self.record_dir.mkdir(parents=True)
        cmd = [*PRIORITY, "taskset", "-c", RELAY_CORE]
        cmd += relay_command(self.script, calls, gen_a, gen_b, self.record_dir)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        pairs = []
        for line in self.proc.stdout:
            if line.strip() == "READY":
                break
            a, b = line.split()
            pairs.append((int(a), int(b)))
        else:
            raise RuntimeError("relay_server exited before READY")
        if PRIORITY:
            # The recording process inherited the relay's FIFO class: give it RECORDER_CLASS.
            ((policy, nice),) = RECORDER_CLASS
            for child in descendants(self.proc.pid):
                subprocess.run(["chrt", "-a", *policy, str(child)], check=True)
                if nice is not None:
                    for task in (Path("/proc") / str(child) / "task").iterdir():
                        os.setpriority(os.PRIO_PROCESS, int(task.name), nice)
        return self.proc.pid, pairs

    def stop(self) -> dict[str, float]:
        assert self.proc is not None
        try:
            out, _ = self.proc.communicate(timeout=60)  # closing stdin stops the relay
        except subprocess.TimeoutExpired:  # never leave a relay running (least of all FIFO)
            self.proc.kill()
            out, _ = self.proc.communicate()
        self.proc = None
        if self.record_dir is not None:  # checked by the relay (its summary): not kept
            shutil.rmtree(self.record_dir, ignore_errors=True)
        lines = [ln for ln in out.splitlines() if ln.startswith("{")]
        return json.loads(lines[-1]) if lines else {}


class RtpengineRelay:
    def __init__(self, workdir: Path, record_dir: Path | None = None) -> None:
        self.workdir = workdir
        self.record_dir = record_dir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, calls: int, gen_a: int, gen_b: int) -> tuple[int, list[tuple[int, int]]]:
        ng_port = free_port_pair()[0]
        log = open(self.workdir / "rtpengine.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                *PRIORITY,
                "taskset",
                "-c",
                RELAY_CORE,
                "rtpengine",
                "--config-file=none",
                "--foreground",
                "--log-stderr",
                "--log-level=3",
                "--table=-1",
                "--interface=127.0.0.1",
                f"--listen-ng=127.0.0.1:{ng_port}",
                "--port-min=20000",
                "--port-max=29999",
                "--timeout=600",
                "--num-threads=1",
                *self.recording_options(),
            ],
            stdout=log,
            stderr=log,
        )
        client = NgClient(ng_port, timeout=0.5)
        for _ in range(100):  # wait for the control socket
            try:
                client.request({"command": "ping"})
                break
            except (TimeoutError, OSError, RuntimeError):
                time.sleep(0.1)
        client.sock.settimeout(5.0)
        record = self.record_dir is not None
        pairs = [bridge_call(client, i, gen_a, gen_b, record=record) for i in range(calls)]
        client.close()
        return self.proc.pid, pairs

    def recording_options(self) -> list[str]:
        """rtpengine's own recording (rtpengine+rec): each call's packets written by the
        daemon into a pcap file (its userspace method; the other, "proc", needs its kernel
        module), with a metadata file per call."""
        if self.record_dir is None:
            return []
        shutil.rmtree(self.record_dir, ignore_errors=True)
        self.record_dir.mkdir(parents=True)
        return [
            f"--recording-dir={self.record_dir}",
            "--recording-method=pcap",
            "--recording-format=raw",
        ]

    def stop(self) -> dict[str, float]:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        return {}


def measure(
    target: str,
    relay: TamasRelay | RtpengineRelay,
    calls: int,
    gen: Path,
    args: argparse.Namespace,
    workdir: Path,
) -> Level:
    gen_a, gen_b = free_port_pair()
    pid, pairs = relay.start(calls, gen_a, gen_b)
    try:
        targets = workdir / "targets.txt"
        targets.write_text("".join(f"{a} {b}\n" for a, b in pairs))
        load = subprocess.Popen(
            [
                *PRIORITY,
                "taskset",
                "-c",
                LOAD_CORE,
                str(gen),
                str(gen_a),
                str(gen_b),
                str(targets),
                str(args.warmup),
                str(args.window),
                str(args.repeats),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.05 + args.warmup)
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(args.window * args.repeats)
        cpu1, t1 = cpu_seconds(pid), time.monotonic()
        out, _ = load.communicate(timeout=120)
    finally:
        summary = relay.stop()
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if load.returncode != 0 or not any("generator" in r for r in records):
        raise RuntimeError(f"the load generator failed (exit {load.returncode})")
    relay_pct = 100 * (cpu1 - cpu0) / (t1 - t0)
    return Level(
        target=target,
        calls=calls,
        repeats=[r for r in records if "repeat" in r],
        generator=next(r for r in records if "generator" in r),
        cpu_per_call_pct=relay_pct / calls,
        relay_cpu_pct=relay_pct,
        relay_summary=summary,
    )


def find_capacity(
    target: str,
    relay: TamasRelay | RtpengineRelay,
    gen: Path,
    args: argparse.Namespace,
    workdir: Path,
) -> tuple[int, list[Level]]:
    levels: list[Level] = []

    def run(calls: int) -> bool:
        for _ in range(args.attempts):  # the machine is shared: a burst elsewhere can spoil one
            level = measure(target, relay, calls, gen, args, workdir)
            levels.append(level)
            print(level.line(), flush=True)
            if level.clean:
                return True
        return False

    if args.quick:
        ok = run(args.start)
        return (args.start if ok else 0), levels
    good, bad = 0, 0
    calls = args.start
    while calls <= args.max_calls:
        if run(calls):
            good = calls
            calls += args.step
        else:
            bad = calls
            break
    if bad == 0:
        return good, levels
    while bad - good > args.resolution:
        mid = (good + bad) // 2
        mid -= mid % max(1, args.resolution // 2)
        if mid <= good or mid >= bad:
            break
        if run(mid):
            good = mid
        else:
            bad = mid
    return good, levels


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one small level per target, short windows (smoke test, < 1 min)",
    )
    parser.add_argument("--targets", default="tamas,tamas+rec,rtpengine")
    parser.add_argument("--start", type=int, default=200)
    parser.add_argument("--step", type=int, default=200)
    parser.add_argument("--resolution", type=int, default=50)
    parser.add_argument("--max-calls", type=int, default=3000)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--window", type=float, default=15.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--attempts",
        type=int,
        default=2,
        help="tries of a level before it counts as not clean (default 2)",
    )
    parser.add_argument("--json", type=Path, help="also write every level measured here")
    parser.add_argument(
        "--record-dir",
        type=Path,
        help="where tamas+rec writes its files (default: the run's temporary directory,"
        " on the disk of /tmp; /dev/shm keeps the disk's writeback out of the figures)",
    )
    parser.add_argument(
        "--realtime",
        action="store_true",
        help="run the relay and the generator in the real-time FIFO class (root): other work"
        " on the shared machine then gets only the time they leave, for every target alike",
    )
    parser.add_argument(
        "--recorder-class",
        choices=sorted(RECORDER_CLASSES),
        default="normal",
        help="with --realtime: the scheduling class of Tamas's recording process (default"
        " normal: the normal class at nice -20; fifo: FIFO just below the relay)",
    )
    parser.add_argument(
        "--record-interval",
        type=float,
        help="tamas+rec: seconds between the recorder's hand-overs to its process"
        " (default: the server's)",
    )
    args = parser.parse_args()
    global RECORD_INTERVAL
    RECORD_INTERVAL = args.record_interval
    if args.realtime:
        # Every thread of the relay inherits the class (rtpengine's poller is a thread of its
        # own). Tamas's recording process is put back in the normal class once it runs
        # (TamasRelay.start), at nice -20, unless --recorder-class fifo: in FIFO just below
        # the relay it also got only the time the relay leaves, but the two together could
        # keep the core busy in the real-time class for a whole second, and the kernel then
        # runs the normal class for 50 ms (RT throttling; the fair server on kernels 6.12 and
        # later): a 50 ms stall of the relay, seen with `perf sched timehist` at 700 recorded
        # calls. At its own nice 19 in the normal class it fell 10 s behind (its recordings
        # ended early) at 850 calls with the core at 81 %; at nice -20 it kept up at 900
        # (docs/media-engine.md, "The recording process's class").
        PRIORITY[:] = ["chrt", "-f", str(REALTIME)]
        RECORDER_CLASS[:] = [RECORDER_CLASSES[args.recorder_class]]
    if args.quick:
        args.start = min(args.start, 20)
        args.warmup, args.window, args.repeats, args.attempts = 1.0, 3.0, 1, 1

    print(
        f"clean = loss < {MAX_LOSS * 100} % and p99 <= {MAX_P99_MS} ms in each of "
        f"{args.repeats} x {args.window:g} s windows; relay on core {RELAY_CORE}, "
        f"generator on core {LOAD_CORE}",
        flush=True,
    )
    if any(t.startswith("tamas") for t in args.targets.split(",")):
        print(f"tamas build: {tamas_build()}", flush=True)
    results: dict[str, int] = {}
    all_levels: list[Level] = []
    with tempfile.TemporaryDirectory(prefix="tamas-media-bench-") as tmp:
        workdir = Path(tmp)
        gen = compile_generator(workdir)
        for target in args.targets.split(","):
            relay: TamasRelay | RtpengineRelay
            if target == "tamas":
                relay = TamasRelay(None)
            elif target == "tamas+rec":
                relay = TamasRelay((args.record_dir or workdir) / "tamas-recordings")
            elif target == "uvloop":
                relay = TamasRelay(None, "lean_relay.py")
            elif target == "rtpengine":
                if shutil.which("rtpengine") is None:
                    print("rtpengine: not installed (apt-get install rtpengine-daemon)")
                    continue
                relay = RtpengineRelay(workdir)
            elif target == "rtpengine+rec":
                if shutil.which("rtpengine") is None:
                    print("rtpengine: not installed (apt-get install rtpengine-daemon)")
                    continue
                where = (args.record_dir or workdir) / "rtpengine-recordings"
                relay = RtpengineRelay(workdir, where)
            else:
                raise SystemExit(f"unknown target {target}")
            capacity, levels = find_capacity(target, relay, gen, args, workdir)
            results[target] = capacity
            all_levels += levels
            clean = [lv for lv in levels if lv.clean and lv.calls == capacity]
            if clean:
                print(f"    at it: {clean[0].line()}", flush=True)
            per_call = f"{clean[0].cpu_per_call_pct:.3f} % of a core per call" if clean else "-"
            print(f"==> {target}: {capacity} clean calls ({per_call})", flush=True)

    print("\nsummary")
    for target, capacity in results.items():
        print(f"  {target:10s} {capacity:5d} clean calls")
    base = results.get("rtpengine")
    if base is not None:
        for target in ("tamas", "tamas+rec", "uvloop"):
            if target in results:
                ratio = f"{results[target] / base:.2f}" if base else "n/a (rtpengine: none clean)"
                print(f"  ratio {target}/rtpengine = {ratio}")
    base = results.get("rtpengine+rec")
    if base is not None and "tamas+rec" in results:
        ratio = f"{results['tamas+rec'] / base:.2f}" if base else "n/a (none clean)"
        print(f"  ratio tamas+rec/rtpengine+rec = {ratio} (each with its own recording)")
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "target": lv.target,
                        "calls": lv.calls,
                        "clean": lv.clean,
                        "repeats": lv.repeats,
                        "generator": lv.generator,
                        "relay_cpu_pct": lv.relay_cpu_pct,
                        "cpu_per_call_pct": lv.cpu_per_call_pct,
                        "relay": lv.relay_summary,
                    }
                    for lv in all_levels
                ],
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
