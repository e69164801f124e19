"""baresip (a real softphone, headless) registered to Tamas, called by and calling SIPp.

baresip runs with its own config dir, listens on 127.0.0.1 only, plays a generated WAV and
reports events over its ctrl_tcp socket (netstring-framed JSON).
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import harness
import pytest
from tamas_helpers import assert_clean, tamas_config

from conftest import Peers

pytestmark = pytest.mark.peers

LOOPBACK = harness.LOOPBACK
BARESIP = shutil.which("baresip")
MODULES = Path("/usr/lib/baresip/modules")


class Ctrl:
    """baresip's ctrl_tcp socket: netstring-framed JSON events and commands."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.create_connection((LOOPBACK, port), timeout=1.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.buf = b""
        self.events: list[dict[str, Any]] = []

    def _read(self, timeout: float) -> None:
        self.sock.settimeout(timeout)
        with contextlib.suppress(TimeoutError, socket.timeout):
            data = self.sock.recv(65536)
            self.buf += data
        while b":" in self.buf:
            head, _, rest = self.buf.partition(b":")
            if not head.isdigit() or len(rest) < int(head) + 1:
                break
            n = int(head)
            payload, self.buf = rest[:n], rest[n + 1 :]
            with contextlib.suppress(ValueError):
                self.events.append(json.loads(payload))

    def wait_event(self, kind: str, timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while True:
            for ev in self.events:
                if ev.get("type") == kind:
                    return ev
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._read(min(left, 0.5))

    def command(self, command: str, params: str = "") -> None:
        body = json.dumps({"command": command, "params": params, "token": "t1"}).encode()
        self.sock.sendall(str(len(body)).encode() + b":" + body + b",")

    def close(self) -> None:
        self.sock.close()


def registered(ctrl: Ctrl, proc: harness.ManagedProcess, timeout: float = 15.0) -> bool:
    """baresip reported its registration: a REGISTER_OK event, or (when it registered before the
    control socket was connected, which then misses the event) its "200 OK ... binding" log line."""
    return harness.wait_until(
        lambda: (
            ctrl.wait_event("REGISTER_OK", 0.2) is not None
            or re.search(r"1003@127\.0\.0\.1: \{0/UDP/v4\} 200 OK .*binding", proc.output())
            is not None
        ),
        timeout,
        interval=0.1,
    )


def make_wav(path: Path, seconds: int = 60) -> None:
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(path), "synth", str(seconds),
         "sine", "440", "vol", "0.3"],
        check=True, timeout=30, capture_output=True,
    )  # fmt: skip


def start_baresip(
    workdir: Path, account: str, sip_port: int, ctrl_port: int, extra: tuple[str, ...] = ()
) -> harness.ManagedProcess:
    conf = workdir / "baresip"
    conf.mkdir(parents=True, exist_ok=True)
    wav = workdir / "tone.wav"
    make_wav(wav)
    rtp = harness.free_port(span=2)
    (conf / "config").write_text(
        "\n".join(
            [
                "poll_method epoll",
                f"sip_listen {LOOPBACK}:{sip_port}",
                f"net_interface {LOOPBACK}",
                f"audio_source aufile,{wav}",
                "audio_player aubridge,nil",
                "audio_alert aubridge,nil",
                f"rtp_ports {rtp}-{rtp + 20}",
                f"module_path {MODULES}",
                "module g711.so",
                "module aufile.so",
                "module aubridge.so",
                "module_app account.so",
                "module_app menu.so",
                "module_app ctrl_tcp.so",
                f"ctrl_tcp_listen {LOOPBACK}:{ctrl_port}",
                "sip_trans_def udp",
                *extra,
                "",
            ]
        )
    )
    (conf / "accounts").write_text(account + "\n")
    (conf / "contacts").write_text("")
    return harness._spawn("baresip", [BARESIP, "-f", str(conf), "-s"], workdir)


@pytest.fixture
def setup(need_sipp: None, tmp_path: Path) -> Iterator[Any]:
    if BARESIP is None or not (MODULES / "ctrl_tcp.so").exists():
        pytest.skip("baresip (with ctrl_tcp) is not installed")
    if shutil.which("sox") is None:
        pytest.skip("sox is not installed")
    procs: list[harness.ManagedProcess] = []
    closers: list[Any] = []
    tamas: list[harness.ManagedProcess] = []

    def start(**sections: Any) -> tuple[int, harness.ManagedProcess]:
        port = harness.free_port()
        proc = harness.start_tamas(tamas_config(port, tmp_path / "tamas", **sections),
                                   tmp_path / "tamas", port)  # fmt: skip
        tamas.append(proc)
        return port, proc

    try:
        yield start, procs, closers
    finally:
        for c in closers:
            c()
        for p in procs:
            p.stop()
        for t in tamas:
            t.stop()
        for t in tamas:
            assert_clean(t)


def test_baresip_registers_and_answers_sipp_call(setup: Any, peers: Peers, tmp_path: Path) -> None:
    start, procs, closers = setup
    port, tamas = start()
    bs_port, ctrl_port = harness.free_port(), harness.free_port()
    account = (
        f"<sip:1003@{LOOPBACK}:{port}>;auth_user=1003;auth_pass=demo1003;regint=300;"
        "answermode=auto;audio_codecs=PCMA,PCMU"
    )
    bs = start_baresip(tmp_path / "bs", account, bs_port, ctrl_port)
    procs.append(bs)
    ctrl = Ctrl(ctrl_port)
    closers.append(ctrl.close)
    assert registered(ctrl, bs), (ctrl.events, bs.output()[-4000:], tamas.output()[-4000:])
    r = peers.uac(
        "tamas_call", port, service="1003", auth_user="1001", auth_password="demo1001",
        variables={"dom": f"{LOOPBACK}:{port}", "caller": "1001"}, hold_ms=1500, timeout=30,
    )  # fmt: skip
    assert r.ok and r.successful == 1, (r.describe(), bs.output()[-4000:])
    est = ctrl.wait_event("CALL_ESTABLISHED", 5)
    assert est is not None, ctrl.events


def test_baresip_calls_sipp_extension(setup: Any, peers: Peers, tmp_path: Path) -> None:
    start, procs, closers = setup
    uas_port = harness.free_udp_port()
    exts = tamas_config(1, tmp_path)["extensions"]
    exts[1] = {"number": "1002", "name": "Desk", "contact": f"sip:desk@{LOOPBACK}:{uas_port}"}
    port, tamas = start(extensions=exts)
    _, uas = peers.uas("uas_answer", uas_port)
    bs_port, ctrl_port = harness.free_port(), harness.free_port()
    account = (
        f"<sip:1003@{LOOPBACK}:{port}>;auth_user=1003;auth_pass=demo1003;regint=300;"
        "audio_codecs=PCMA,PCMU"
    )
    bs = start_baresip(tmp_path / "bs", account, bs_port, ctrl_port)
    procs.append(bs)
    ctrl = Ctrl(ctrl_port)
    closers.append(ctrl.close)
    assert registered(ctrl, bs), (ctrl.events, bs.output()[-4000:])
    ctrl.command("dial", f"sip:1002@{LOOPBACK}:{port}")
    est = ctrl.wait_event("CALL_ESTABLISHED", 15)
    assert est is not None, (ctrl.events, bs.output()[-4000:], tamas.output()[-4000:])
    time.sleep(1.0)
    ctrl.command("hangup")
    closed = ctrl.wait_event("CALL_CLOSED", 10)
    assert closed is not None, ctrl.events

    def successes() -> int:
        stats = harness.read_sipp_stats(uas.workdir / "stats.csv")
        return harness._stat_int(stats, "SuccessfulCall(C)")

    harness.wait_until(lambda: successes() >= 1, 8, interval=0.2)
    assert successes() == 1
