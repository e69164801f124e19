"""SIPVicious (svwar, svcrack) against a running Tamas on 127.0.0.1.

svwar must not be able to tell existing extensions (1001-1010) from missing ones, whatever the
method; svcrack must find no password, and its failures must get its source banned.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import harness
import pytest
from tamas_helpers import assert_clean, tamas_config

pytestmark = pytest.mark.peers

LOOPBACK = harness.LOOPBACK
SVWAR = shutil.which("sipvicious_svwar")
SVCRACK = shutil.which("sipvicious_svcrack")


@pytest.fixture
def center(tmp_path: Path) -> Iterator[Any]:
    if SVWAR is None or SVCRACK is None:
        pytest.skip("sipvicious is not installed (pip install sipvicious)")
    started: list[harness.ManagedProcess] = []

    def start(**sections: Any) -> tuple[int, harness.ManagedProcess]:
        port = harness.free_port()
        tmp = tmp_path / f"tamas-{len(started)}"
        proc = harness.start_tamas(tamas_config(port, tmp, **sections), tmp, port)
        started.append(proc)
        return port, proc

    try:
        yield start
    finally:
        for p in started:
            p.stop()
        for p in started:
            assert_clean(p)


def run_tool(argv: list[str], cwd: Path, timeout: float = 60) -> str:
    """Run a SIPVicious tool to completion (bounded); its combined output."""
    proc = subprocess.run(
        argv,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return proc.stdout + proc.stderr


def found_extensions(output: str) -> list[str]:
    """Extensions in svwar's result table (rows like ``| 1001 | reqauth |``)."""
    return re.findall(r"^\|\s*(\d+)\s*\|", output, re.MULTILINE)


@pytest.mark.parametrize("method", ["REGISTER", "INVITE", "OPTIONS"])
def test_svwar_finds_no_extension(center: Any, tmp_path: Path, method: str) -> None:
    port, proc = center()
    assert SVWAR is not None
    local = harness.free_port()
    out = run_tool(
        [
            SVWAR, "-e1000-1012", "-vv", "-m", method, "-b", LOOPBACK, "-P", str(local),
            "-t", "0.05", "--maximumtime=20", "--force", f"udp://{LOOPBACK}:{port}",
        ],
        tmp_path,
    )  # fmt: skip
    assert "Traceback" not in out, out
    assert found_extensions(out) == [], out
    # svwar itself got Tamas's answer to its made-up user (not a timeout that also lists nothing).
    assert "socket error" not in out and "Bad user = " in out, out
    # It really probed Tamas, and Tamas answered its made-up user and the real ones alike, so
    # svwar could not tell them apart (it says so and gives up, or lists nothing).
    assert proc.alive()
    trace = proc.output()
    asked = re.findall(rf"<<< from udp:127\.0\.0\.1:{local}\n{method} ", trace)
    assert len(asked) >= 2, trace[-3000:]
    finals = set(re.findall(rf">>> to udp:127\.0\.0\.1:{local}\nSIP/2\.0 ([2-6]\d\d)", trace))
    assert len(finals) == 1, finals


def test_svcrack_finds_nothing_and_is_banned(center: Any, tmp_path: Path) -> None:
    port, proc = center(
        security={
            "rate_limit": {"messages_per_second": 10000, "burst": 10000},
            "auth_ban": {"failures": 5, "window_seconds": 60, "ban_seconds": 600},
        },
        logging={"level": "info", "sip_trace": False},
    )
    assert SVCRACK is not None
    words = tmp_path / "words.txt"
    guesses = ["1234", "password", "1001", "admin", "secret", "demo", "qwerty", "letmein"]
    words.write_text("\n".join([*guesses, "12345", "000000", "demo100", "sip"]) + "\n")
    # Straight at Tamas: the default config offers the MD5 challenge only, which svcrack answers.
    out = run_tool(
        [
            SVCRACK, "-u", "1001", "-vv", "-d", str(words), "-b", LOOPBACK,
            "-P", str(harness.free_port()), "-t", "0.05", "--maximumtime=20",
            f"udp://{LOOPBACK}:{port}",
        ],
        tmp_path,
    )  # fmt: skip
    assert "Traceback" not in out, out
    assert not re.search(r"^\|\s*1001\s*\|", out, re.MULTILINE), out
    # svcrack read Tamas's challenge and sent its guesses with credentials (not a timeout).
    assert "socket error" not in out and "Got initial response, challenges: 1" in out, out
    assert out.count("Sending REGISTER with auth=True") >= 5, out
    log = proc.output()
    bans = re.findall(r"SECURITY ban ip=127\.0\.0\.1 reason=auth-failures failures=5 .*", log)
    assert len(bans) == 1, log[-4000:]
    assert "window=60s" in bans[0] and "duration=600s" in bans[0], bans
    # The banned source is ignored altogether: no answer to OPTIONS from it now.
    assert harness.sip_options_probe(port, timeout=0.5) is None
