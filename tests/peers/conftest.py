"""Fixtures for tests that run real SIP peers (SIPp, Kamailio, sippy) on 127.0.0.1."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness


class Peers:
    """Starts peer processes for one test and stops every one of them, by PID, at teardown."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.procs: list[harness.ManagedProcess] = []
        self._n = 0
        self._lock = threading.Lock()

    def _dir(self, name: str) -> Path:
        with self._lock:  # calls start from several threads at once
            self._n += 1
            n = self._n
        d = self.tmp_path / f"{n:02d}-{name}"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def _keep(self, proc: harness.ManagedProcess) -> harness.ManagedProcess:
        with self._lock:
            self.procs.append(proc)
        return proc

    def uas(
        self, scenario: str, port: int | None = None, **kw: Any
    ) -> tuple[int, harness.ManagedProcess]:
        port = port or harness.free_udp_port()
        proc = harness.start_sipp_background(
            scenario, local_port=port, workdir=self._dir(f"uas-{scenario}"), **kw
        )
        return port, self._keep(proc)

    def kamailio(self, cfg_text: str, port: int) -> harness.ManagedProcess:
        return self._keep(harness.start_kamailio(cfg_text, port, workdir=self._dir("kamailio")))

    def sippy(self, port: int, target: str) -> harness.ManagedProcess:
        return self._keep(harness.start_sippy(port, target, workdir=self._dir("sippy")))

    def uac(self, scenario: str, target_port: int, **kw: Any) -> harness.SippResult:
        kw.setdefault("timeout", 60.0)
        return harness.run_sipp(
            scenario,
            f"{harness.LOOPBACK}:{target_port}",
            workdir=self._dir(f"uac-{scenario}"),
            **kw,
        )

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            proc.cleanup()
        self.procs.clear()


@pytest.fixture
def peers(tmp_path: Path) -> Iterator[Peers]:
    p = Peers(tmp_path)
    try:
        yield p
    finally:
        p.stop_all()


def require(binary: str, what: str) -> None:
    if not harness.have(binary):
        pytest.skip(f"{what} is not installed ({binary} not found)")


@pytest.fixture
def need_sipp() -> None:
    require(harness.SIPP, "SIPp (Debian package sip-tester)")


@pytest.fixture
def need_kamailio(need_sipp: None) -> None:
    require(harness.KAMAILIO, "Kamailio (Debian package kamailio)")


@pytest.fixture
def need_sippy(need_sipp: None) -> None:
    if harness.sippy_b2bua_command() is None:
        pytest.skip("sippy is not installed (pip install sippy)")
