"""Helpers that run real SIP peers (SIPp, Kamailio, sippy's B2BUA, Tamas) on loopback.

Everything here binds to and sends to 127.0.0.1 only, every process is started by this module and
stopped by its own PID, and every wait is bounded in time. Used by the ``peers`` tests and by
``benchmarks/sip_cps.py``.
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
REPO_ROOT = Path(__file__).resolve().parents[2]

SIPP = shutil.which("sipp") or "/usr/bin/sipp"
KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"
KAMAILIO_MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules/"


def have(binary: str) -> bool:
    """True when ``binary`` (a name or a path) can be executed."""
    return shutil.which(binary) is not None or os.access(binary, os.X_OK)


def sippy_b2bua_command() -> list[str] | None:
    """How to start sippy's B2BUA: its console script, or the module through this Python."""
    script = shutil.which("b2bua")
    if script is not None:
        return [script]
    # Found, not imported: importing sippy.b2bua imports websockets' legacy server names,
    # whose DeprecationWarning the test configuration turns into an error (websockets 17).
    try:
        found = importlib.util.find_spec("sippy.b2bua") is not None
    except ImportError:
        found = False
    return [sys.executable, "-m", "sippy.b2bua"] if found else None


# --------------------------------------------------------------------------- ports


_handed_out: set[int] = set()
_port_lock = threading.Lock()  # tests start peers from several threads at once


def _port_is_free(port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def free_port(kind: str = "udp", *, span: int = 1) -> int:
    """A port on 127.0.0.1 free for UDP and TCP (``span`` consecutive ports from it, all free).

    Ports handed out earlier in this process are not handed out again.
    """
    with _port_lock:
        return _free_port(kind, span)


def _free_port(kind: str, span: int) -> int:
    sock_kind = socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
    for _ in range(200):
        with socket.socket(socket.AF_INET, sock_kind) as s:
            s.bind((LOOPBACK, 0))
            base: int = s.getsockname()[1]
        if span > 1:
            base -= base % 2  # even base: RTP convention, and room for RTCP
        ports = range(base, base + span)
        if base < 1024 or ports[-1] > 65535 or any(p in _handed_out for p in ports):
            continue
        if all(
            _port_is_free(p, socket.SOCK_DGRAM) and _port_is_free(p, socket.SOCK_STREAM)
            for p in ports
        ):
            _handed_out.update(ports)
            return base
    raise RuntimeError("no free port on 127.0.0.1")


def port_is_free(port: int) -> bool:
    """True when 127.0.0.1:port can be bound for both UDP and TCP right now."""
    return _port_is_free(port, socket.SOCK_DGRAM) and _port_is_free(port, socket.SOCK_STREAM)


def free_udp_port() -> int:
    return free_port("udp")


def free_tcp_port() -> int:
    return free_port("tcp")


def udp_port_bound(port: int) -> bool:
    """True when some process has a UDP socket bound to 127.0.0.1:port or *:port."""
    wanted = f":{port:04X}"
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local = line.split()[1]
            if local.endswith(wanted):
                return True
    return False


def wait_until(predicate: Any, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


# --------------------------------------------------------------------------- processes


@dataclass
class ManagedProcess:
    """A process this harness started; stopped by its own PID only."""

    name: str
    popen: subprocess.Popen[bytes]
    workdir: Path
    stdout_path: Path
    stderr_path: Path
    stop_signal: int = signal.SIGTERM
    _owned_tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, grace: float = 15.0) -> int | None:
        """SIGTERM (or the stop signal), then SIGKILL after ``grace`` seconds: a loaded 2-core
        machine can take seconds to let Tamas flush its store on the way out."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(self.stop_signal)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.popen.kill()
                self.popen.wait(timeout=5)
        return self.popen.returncode

    def output(self) -> str:
        parts = []
        for p in (self.stdout_path, self.stderr_path):
            with contextlib.suppress(OSError):
                parts.append(p.read_text(errors="replace"))
        return "\n".join(parts)

    def cleanup(self) -> None:
        self.stop()
        if self._owned_tmp is not None:
            self._owned_tmp.cleanup()
            self._owned_tmp = None

    def __enter__(self) -> ManagedProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


_live: list[ManagedProcess] = []


@atexit.register
def _stop_leftovers() -> None:
    """Stop, by PID, any process this module started and nobody stopped (e.g. after a crash)."""
    for proc in reversed(_live):
        with contextlib.suppress(Exception):
            proc.stop(grace=2.0)


def _spawn(
    name: str,
    argv: Sequence[str],
    workdir: Path | None,
    *,
    cpu: int | None = None,
    stop_signal: int = signal.SIGTERM,
    env: dict[str, str] | None = None,
) -> ManagedProcess:
    owned: tempfile.TemporaryDirectory[str] | None = None
    if workdir is None:
        owned = tempfile.TemporaryDirectory(prefix=f"tamas-{name}-")
        workdir = Path(owned.name)
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = list(argv)
    if cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(cpu), *cmd]  # taskset execs: the PID stays the program's
    stdout_path = workdir / f"{name}.stdout"
    stderr_path = workdir / f"{name}.stderr"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        popen = subprocess.Popen(
            cmd,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
        )
    proc = ManagedProcess(name, popen, workdir, stdout_path, stderr_path, stop_signal, owned)
    _live.append(proc)
    return proc


def process_cpu_seconds(pid: int, *, include_children: bool = True) -> float:
    """utime+stime of ``pid`` (all its threads) and, optionally, of its live descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}  # pid -> (ppid, seconds)
    candidates = [d for d in os.listdir("/proc") if d.isdigit()] if include_children else [str(pid)]
    for d in candidates:
        try:
            raw = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        rest = raw[raw.rfind(")") + 2 :].split()
        # rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
        stats[int(d)] = (int(rest[1]), (int(rest[11]) + int(rest[12])) / ticks)
    if pid not in stats:
        return 0.0
    total = 0.0
    wanted = {pid}
    changed = True
    while changed:
        changed = False
        for p, (ppid, _) in stats.items():
            if ppid in wanted and p not in wanted:
                wanted.add(p)
                changed = True
    for p in wanted:
        total += stats[p][1]
    return total


# --------------------------------------------------------------------------- SIPp


@dataclass
class SippRun:
    """One SIPp invocation (a UAC run to completion, or a UAS in the background)."""

    scenario: str | Path
    target: str | None = None  # "127.0.0.1:5060"; None for a UAS
    local_port: int | None = None
    calls: int | None = 1  # -m
    rate: float | None = 10.0  # -r, calls per second
    transport: str = "u1"  # -t: u1, un, t1, tn, l1 ...
    service: str | None = None  # -s: user part of the Request-URI
    hold_ms: int = 0  # -d: duration of <pause/> elements
    concurrency: int | None = None  # -l
    media_port: int | None = None  # -mp (picked when None)
    auth_user: str | None = None  # -au
    auth_password: str | None = None  # -ap
    variables: dict[str, str] = field(default_factory=dict)  # -set NAME VALUE
    extra_args: Sequence[str] = ()
    timeout: float = 60.0  # wall-clock limit for a foreground run
    trace_rtt: bool = False
    trace_messages: bool = False
    cpu: int | None = None  # taskset core
    # Socket buffers: SIPp's default (64 KB) drops datagrams above ~1,000 calls/s here, and
    # the drops turn into retransmissions and timeouts that look like a slow target.
    buff_size: int | None = 4194304

    def scenario_path(self) -> Path:
        p = Path(self.scenario)
        if not p.is_absolute() and not p.exists():
            p = SCENARIOS / p
        if p.suffix != ".xml" and not p.exists():
            p = p.with_suffix(".xml")
        return p

    def argv(self, workdir: Path) -> list[str]:
        argv = [SIPP]
        if self.target is not None:
            argv.append(self.target)
        argv += ["-sf", str(self.scenario_path()), "-i", LOOPBACK, "-t", self.transport]
        argv += ["-p", str(self.local_port if self.local_port is not None else free_udp_port())]
        argv += ["-mi", LOOPBACK, "-mp", str(self.media_port or free_port(span=4))]
        argv += ["-nostdin", "-trace_err", "-error_file", str(workdir / "errors.log")]
        argv += ["-trace_stat", "-stf", str(workdir / "stats.csv"), "-fd", "1"]
        argv += ["-trace_screen", "-screen_file", str(workdir / "screen.log")]
        if self.buff_size is not None:
            argv += ["-buff_size", str(self.buff_size)]
        if self.calls is not None:
            argv += ["-m", str(self.calls)]
        if self.rate is not None:
            argv += ["-r", f"{self.rate:g}", "-rp", "1000"]
        if self.concurrency is not None:
            argv += ["-l", str(self.concurrency)]
        if self.service is not None:
            argv += ["-s", self.service]
        if self.hold_ms:
            argv += ["-d", str(self.hold_ms)]
        if self.auth_user is not None:
            argv += ["-au", self.auth_user]
        if self.auth_password is not None:
            argv += ["-ap", self.auth_password]
        for name, value in self.variables.items():
            argv += ["-set", name, value]
        if self.trace_rtt:
            argv += ["-trace_rtt", "-rtt_freq", "1"]
        if self.trace_messages:
            argv += ["-trace_msg", "-message_file", str(workdir / "messages.log")]
        if self.target is not None:
            # SIPp's own limit, a little inside ours, so it exits and writes its statistics.
            argv += ["-timeout", f"{max(1, int(self.timeout) - 2)}s", "-timeout_error"]
        argv += list(self.extra_args)
        return argv


@dataclass
class SippResult:
    returncode: int | None
    successful: int
    failed: int
    command: list[str]
    workdir: Path
    stdout: str
    stderr: str
    errors: str
    stats: dict[str, str]
    rtt_ms: list[float]
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.failed == 0 and not self.timed_out

    def describe(self) -> str:
        screen = ""
        with contextlib.suppress(OSError):
            screen = (self.workdir / "screen.log").read_text(errors="replace")[-3000:]
        return (
            f"sipp rc={self.returncode} successful={self.successful} failed={self.failed}"
            f" timed_out={self.timed_out}\ncommand: {' '.join(self.command)}\n"
            f"stderr: {self.stderr[-2000:]}\nerrors: {self.errors[-3000:]}\nscreen: {screen}"
        )


def read_sipp_stats(path: Path) -> dict[str, str]:
    """The last row of a SIPp ``-trace_stat`` CSV, by column name ({} if none)."""
    try:
        with open(path, newline="", errors="replace") as f:
            rows = list(csv.reader(f, delimiter=";"))
    except OSError:
        return {}
    if len(rows) < 2:
        return {}
    header, last = rows[0], rows[-1]
    return {k: v for k, v in zip(header, last, strict=False) if k}


def read_sipp_rtt(workdir: Path, rtd: int = 1) -> list[float]:
    """Response-time samples (ms) for rtd ``rtd`` from SIPp's ``*_rtt.csv`` files in workdir."""
    samples: list[float] = []
    for path in sorted(workdir.glob("*_rtt.csv")):
        with open(path, errors="replace") as f:
            for line in f:
                parts = line.strip().split(";")
                if len(parts) < 3 or not parts[1].replace(".", "", 1).isdigit():
                    continue
                if parts[2].strip() == str(rtd):
                    samples.append(float(parts[1]))
    return samples


def _stat_int(stats: dict[str, str], name: str) -> int:
    try:
        return int(float(stats.get(name, "0") or 0))
    except ValueError:
        return 0


def _result_from(
    run_: SippRun,
    argv: list[str],
    workdir: Path,
    returncode: int | None,
    stdout: str,
    stderr: str,
    timed_out: bool,
) -> SippResult:
    stats = read_sipp_stats(workdir / "stats.csv")
    errors = ""
    with contextlib.suppress(OSError):
        errors = (workdir / "errors.log").read_text(errors="replace")
    return SippResult(
        returncode=returncode,
        successful=_stat_int(stats, "SuccessfulCall(C)"),
        failed=_stat_int(stats, "FailedCall(C)"),
        command=argv,
        workdir=workdir,
        stdout=stdout,
        stderr=stderr,
        errors=errors,
        stats=stats,
        rtt_ms=read_sipp_rtt(workdir) if run_.trace_rtt else [],
        timed_out=timed_out,
    )


def run_sipp_spec(spec: SippRun, workdir: Path | None = None) -> SippResult:
    """Run a SIPp UAC to completion (bounded by ``spec.timeout``) and collect its statistics."""
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="tamas-sipp-"))
    workdir.mkdir(parents=True, exist_ok=True)
    argv = spec.argv(workdir)
    if spec.cpu is not None and shutil.which("taskset"):
        argv = ["taskset", "-c", str(spec.cpu), *argv]
    out_path, err_path = workdir / "sipp.stdout", workdir / "sipp.stderr"
    timed_out = False
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(argv, cwd=workdir, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        try:
            proc.wait(timeout=spec.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.send_signal(signal.SIGINT)  # SIPp dumps its statistics on SIGINT
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
    return _result_from(
        spec,
        argv,
        workdir,
        proc.returncode,
        out_path.read_text(errors="replace")[-20000:],
        err_path.read_text(errors="replace"),
        timed_out,
    )


def run_sipp(
    scenario: str | Path,
    target: str,
    *,
    local_port: int | None = None,
    calls: int = 1,
    rate: float = 10.0,
    transport: str = "u1",
    extra_args: Sequence[str] = (),
    timeout: float = 60.0,
    workdir: Path | None = None,
    **spec_fields: Any,
) -> SippResult:
    """Run SIPp ``scenario`` (a name in tests/peers/scenarios or a path) against ``target``."""
    spec = SippRun(
        scenario=scenario,
        target=target,
        local_port=local_port,
        calls=calls,
        rate=rate,
        transport=transport,
        extra_args=extra_args,
        timeout=timeout,
        **spec_fields,
    )
    return run_sipp_spec(spec, workdir)


def start_sipp_background(
    scenario: str | Path,
    *,
    local_port: int,
    transport: str = "u1",
    extra_args: Sequence[str] = (),
    workdir: Path | None = None,
    cpu: int | None = None,
    wait: float = 5.0,
    **spec_fields: Any,
) -> ManagedProcess:
    """Start a SIPp UAS listening on 127.0.0.1:local_port; returns once the port is bound.

    Stop it with ``.stop()`` (SIGINT by PID, then SIGKILL); its statistics are in
    ``workdir/stats.csv`` (see ``read_sipp_stats``).
    """
    spec = SippRun(
        scenario=scenario,
        target=None,
        local_port=local_port,
        calls=None,
        rate=None,
        transport=transport,
        extra_args=extra_args,
        **spec_fields,
    )
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="tamas-sipp-uas-"))
    proc = _spawn("sipp-uas", spec.argv(workdir), workdir, cpu=cpu, stop_signal=signal.SIGINT)
    if not wait_until(lambda: udp_port_bound(local_port) or not proc.alive(), wait):
        proc.stop()
        raise RuntimeError(f"SIPp UAS did not bind {local_port}: {proc.output()[-2000:]}")
    if not proc.alive():
        raise RuntimeError(f"SIPp UAS exited: {proc.output()[-2000:]}")
    return proc


# --------------------------------------------------------------------------- OPTIONS probe


def sip_options_probe(port: int, *, host: str = LOOPBACK, timeout: float = 0.5) -> str | None:
    """Send one OPTIONS over UDP to host:port; return the first line of any reply, else None."""
    if host not in (LOOPBACK, "localhost", "::1"):
        raise ValueError("probes go to loopback only")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        lport = s.getsockname()[1]
        tag = uuid.uuid4().hex[:10]
        msg = (
            f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {LOOPBACK}:{lport};branch=z9hG4bK{tag};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:probe@{LOOPBACK}:{lport}>;tag={tag}\r\n"
            f"To: <sip:{host}:{port}>\r\n"
            f"Call-ID: probe-{tag}@{LOOPBACK}\r\n"
            "CSeq: 1 OPTIONS\r\n"
            f"Contact: <sip:probe@{LOOPBACK}:{lport}>\r\n"
            "Accept: application/sdp\r\n"
            "Content-Length: 0\r\n\r\n"
        )
        s.settimeout(timeout)
        s.sendto(msg.encode(), (LOOPBACK if host != "::1" else host, port))
        try:
            data = s.recv(65535)
        except (TimeoutError, ConnectionRefusedError, OSError):
            return None
    return data.split(b"\r\n", 1)[0].decode(errors="replace")


# --------------------------------------------------------------------------- Tamas


def tamas_loadgen_config(
    *,
    sip_port: int,
    data_dir: str | Path,
    uac_port: int = 5071,
    uas_port: int = 5072,
    log_level: str = "warning",
    anchor: bool = True,
) -> dict[str, Any]:
    """A Tamas config: SIPp at 127.0.0.1:uac_port is trunk "loadgen", its calls go to 2000,
    whose static contact is a SIPp UAS at 127.0.0.1:uas_port; 1001 is a digest extension.
    ``anchor``: ``media.anchor`` (False: SDP passes through, RTP goes between the parties)."""
    return {
        "server": {
            "bind": LOOPBACK,
            "sip_port": sip_port,
            "tls_port": 0,
            "ws_port": 0,
            "wss_port": 0,
            "http_port": 0,
            "domain": "tamas.local",
        },
        "data_dir": str(data_dir),
        "logging": {"level": log_level, "sip_trace": False},
        "security": {
            "rate_limit": {"messages_per_second": 100000, "burst": 100000},
            "auth_ban": {"failures": 5, "window_seconds": 60, "ban_seconds": 600},
        },
        "extensions": [
            {"number": "1001", "name": "A", "password": "demo1001"},
            {
                "number": "2000",
                "name": "Sink",
                "password": "x",
                "contact": f"sip:sink@{LOOPBACK}:{uas_port}",
            },
        ],
        "trunks": [
            {
                "name": "loadgen",
                "host": LOOPBACK,
                "port": uac_port,
                "transport": "udp",
                "inbound_match": "source",
                "match_port": True,
            }
        ],
        "inbound": [{"did": "*", "destination": "2000", "trunk": "loadgen"}],
        "media": {"anchor": anchor},
    }


def tamas_command() -> list[str]:
    """``python -m tamas.cli.main`` when the module is importable, else the ``tamas`` script."""

    with contextlib.suppress(ImportError, ValueError):
        if importlib.util.find_spec("tamas.cli.main") is not None:
            return [sys.executable, "-m", "tamas.cli.main"]
    script = shutil.which("tamas")
    if script is not None:
        return [script]
    return [sys.executable, "-m", "tamas.cli.main"]


def _tamas_package_root() -> Path | None:
    """Directory holding the ``tamas`` package this process imports (None if none is)."""

    spec = importlib.util.find_spec("tamas")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).resolve().parent.parent


def start_tamas(
    config: dict[str, Any],
    tmpdir: Path,
    port: int | None = None,
    *,
    cpu: int | None = None,
    ready_timeout: float = 60.0,
    env: dict[str, str] | None = None,
) -> ManagedProcess:
    """Write ``config`` as YAML in tmpdir, start ``tamas serve``, wait for an OPTIONS answer.

    ``port`` overrides ``config["server"]["sip_port"]``. Stop with ``.stop()`` (SIGTERM, then
    SIGKILL after 5 s).
    """
    import yaml

    cfg = dict(config)
    server = dict(cfg.get("server", {}))
    if port is not None:
        server["sip_port"] = port
    cfg["server"] = server
    sip_port = int(server.get("sip_port", 5060))
    data_dir = Path(cfg.get("data_dir") or tmpdir / "data")
    cfg["data_dir"] = str(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    tmpdir.mkdir(parents=True, exist_ok=True)
    cfg_path = tmpdir / "tamas.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    run_env = dict(os.environ if env is None else env)
    # The server runs the build this process imports: the source tree (editable or not
    # installed at all), or an installed build such as the mypyc-compiled one (setup.py).
    if _tamas_package_root() == REPO_ROOT / "src":
        run_env["PYTHONPATH"] = str(REPO_ROOT / "src") + os.pathsep + run_env.get("PYTHONPATH", "")
    argv = [*tamas_command(), "serve", "--config", str(cfg_path), "--data", str(data_dir)]
    proc = _spawn("tamas", argv, tmpdir, cpu=cpu, env=run_env)
    ready = wait_until(
        lambda: not proc.alive() or sip_options_probe(sip_port, timeout=0.3) is not None,
        ready_timeout,
        interval=0.1,
    )
    if not proc.alive() or not ready:
        out = proc.output()[-4000:]
        proc.stop()
        raise RuntimeError(f"tamas did not answer OPTIONS on {sip_port}: {out}")
    # UDP answers first; the stream listeners (TLS, WS, WSS) and the HTTP API start a bit later.
    for key in ("tls_port", "ws_port", "wss_port", "http_port"):
        tcp_port = int(server.get(key) or 0)
        if tcp_port and not wait_until(
            lambda: _tcp_open(tcp_port), ready_timeout, interval=0.1  # noqa: B023
        ):
            out = proc.output()[-4000:]
            proc.stop()
            raise RuntimeError(f"tamas did not listen on {key} {tcp_port}: {out}")
    return proc


def _tcp_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.3)
        return s.connect_ex((LOOPBACK, port)) == 0


# --------------------------------------------------------------------------- Kamailio


def kamailio_proxy_cfg(
    port: int,
    dest_port: int,
    *,
    auth_password: str | None = None,
    realm: str = "tamas.local",
) -> str:
    """A Kamailio config: stateful, record-routing proxy on 127.0.0.1:port that sends every new
    INVITE to 127.0.0.1:dest_port. With ``auth_password``, it is also an in-memory registrar
    that challenges REGISTER (401) and INVITE (407) with that password for every user."""
    auth_modules = ""
    auth_register = ""
    auth_invite = ""
    if auth_password is not None:
        auth_modules = (
            'loadmodule "auth.so"\nloadmodule "usrloc.so"\nloadmodule "registrar.so"\n'
            'modparam("usrloc", "db_mode", 0)\n'
        )
        auth_register = f"""
    if (is_method("REGISTER")) {{
        if (!pv_www_authenticate("{realm}", "{auth_password}", "0")) {{
            www_challenge("{realm}", "0");
            exit;
        }}
        consume_credentials();
        save("location");
        exit;
    }}"""
        auth_invite = f"""
    if (is_method("INVITE")) {{
        if (!pv_proxy_authenticate("{realm}", "{auth_password}", "0")) {{
            proxy_challenge("{realm}", "0");
            exit;
        }}
        consume_credentials();
    }}"""
    return f"""#!KAMAILIO
debug=1
log_stderror=yes
memdbg=5
memlog=5
children=1
auto_aliases=no
dns=no
rev_dns=no
dns_try_ipv6=no
use_dns_cache=no
maxbuffer=4194304
listen=udp:{LOOPBACK}:{port}
disable_tcp=yes
mpath="{KAMAILIO_MODULES}"
loadmodule "kex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
{auth_modules}
modparam("tm", "fr_timer", 5000)
modparam("tm", "fr_inv_timer", 30000)

request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (is_method("OPTIONS") && uri == myself && $rU == $null) {{
        sl_send_reply("200", "OK");
        exit;
    }}
    if (has_totag()) {{
        if (loose_route()) {{
            t_relay();
            exit;
        }}
        if (is_method("ACK") && t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    if (t_check_trans()) {{
        exit;
    }}
{auth_register}
{auth_invite}
    record_route();
    $du = "sip:{LOOPBACK}:{dest_port}";
    if (!t_relay()) {{
        sl_reply_error();
    }}
    exit;
}}
"""


def start_kamailio(
    cfg_text: str,
    port: int,
    *,
    workdir: Path | None = None,
    cpu: int | None = None,
    shm_mb: int = 4096,
    ready_timeout: float = 60.0,
) -> ManagedProcess:
    """Run Kamailio in the foreground (-DD -E) with ``cfg_text``, its own pid file and runtime
    dir; returns once it has bound UDP 127.0.0.1:port."""
    proc_dir = workdir or Path(tempfile.mkdtemp(prefix="tamas-kamailio-"))
    proc_dir.mkdir(parents=True, exist_ok=True)
    runtime = proc_dir / "run"
    runtime.mkdir(exist_ok=True)
    cfg = proc_dir / "kamailio.cfg"
    cfg.write_text(cfg_text)
    check = subprocess.run(
        [KAMAILIO, "-c", "-f", str(cfg), "-Y", str(runtime)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=proc_dir,
    )
    if check.returncode != 0:
        raise RuntimeError(f"kamailio config check failed: {check.stderr[-3000:]}")
    argv = [
        KAMAILIO,
        "-f", str(cfg),
        "-DD", "-E",
        "-x", "tlsf",
        "-m", str(shm_mb),
        "-M", "64",
        "-P", str(runtime / "kamailio.pid"),
        "-Y", str(runtime),
        "-w", str(proc_dir),
    ]  # fmt: skip
    proc = _spawn("kamailio", argv, proc_dir, cpu=cpu)
    if not wait_until(lambda: udp_port_bound(port) or not proc.alive(), ready_timeout):
        proc.stop()
        raise RuntimeError(f"kamailio did not bind {port}: {proc.output()[-3000:]}")
    if not proc.alive():
        raise RuntimeError(f"kamailio exited: {proc.output()[-3000:]}")
    time.sleep(0.3)  # workers fork after the bind
    return proc


# --------------------------------------------------------------------------- sippy


def start_sippy(
    port: int,
    target: str,
    *,
    workdir: Path | None = None,
    cpu: int | None = None,
    ready_timeout: float = 15.0,
    quiet: bool = True,
) -> ManagedProcess:
    """Run sippy's B2BUA on 127.0.0.1:port with every call statically routed to ``target``
    ("127.0.0.1:5072"); no RADIUS, no digest, foreground, its own log and command socket."""
    base = sippy_b2bua_command()
    if base is None:
        raise RuntimeError("sippy is not installed")
    proc_dir = workdir or Path(tempfile.mkdtemp(prefix="tamas-sippy-"))
    proc_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        *base,
        "-f",
        f"--sip_address={LOOPBACK}",
        f"--sip_port={port}",
        f"--static_route={target}",
        "--auth_enable=off",
        "--acct_enable=off",
        "--digest_auth=off",
        f"--b2bua_socket={proc_dir / 'b2bua.sock'}",
        f"--logfile={proc_dir / 'b2bua.log'}",
        f"--pidfile={proc_dir / 'b2bua.pid'}",
    ]
    env = dict(os.environ)
    if quiet:
        env["SIPLOG_LVL"] = "WARN"  # sippy logs every SIP message at INFO
    proc = _spawn("sippy", argv, proc_dir, cpu=cpu, env=env)
    if not wait_until(lambda: udp_port_bound(port) or not proc.alive(), ready_timeout):
        proc.stop()
        raise RuntimeError(f"sippy did not bind {port}: {proc.output()[-3000:]}")
    if not proc.alive():
        raise RuntimeError(f"sippy exited: {proc.output()[-3000:]}")
    return proc


@contextlib.contextmanager
def managed(proc: ManagedProcess) -> Iterator[ManagedProcess]:
    """``with managed(start_x(...)) as p:`` stops p by PID on exit."""
    try:
        yield proc
    finally:
        proc.cleanup()
