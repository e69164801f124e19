"""The wallboard and the reports agree, on a real server with a real SIPp caller.

A caller waits in a queue with no agent and hangs up: the real-time WebSocket shows them
waiting while they wait, then its ``today`` figures and ``GET /api/v1/reports/queues`` (the
historical report of the same day) show the same offered and abandoned call.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import harness
import pytest
from test_tamas_callcenter import center_sections
from test_tamas_media import call_in_background
from test_tamas_sipp import start_center
from websockets.sync.client import connect

from conftest import Peers

pytestmark = pytest.mark.peers

LOOPBACK = harness.LOOPBACK
__all__ = ["start_center"]  # a fixture, used by name


@pytest.fixture
def media_sock() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOOPBACK, 0))
    sock.settimeout(0.05)
    yield sock
    sock.close()


def until(ws: Any, test: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
    """Read pushed messages until one passes ``test``."""
    deadline = time.monotonic() + timeout
    seen: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            seen = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        except TimeoutError:
            break
        if test(seen):
            return seen
    raise AssertionError(f"no pushed message passed within {timeout} s; last: {seen}")


def test_wallboard_shows_the_waiting_caller_and_agrees_with_the_report(
    start_center: Any, peers: Peers, media_sock: socket.socket
) -> None:
    http_port = harness.free_port("tcp")
    server = {"bind": LOOPBACK, "http_port": http_port, "tls_port": 0, "ws_port": 0,
              "wss_port": 0, "domain": "tamas.local"}  # fmt: skip
    c = start_center(**center_sections(), server={**server, "sip_port": 0})
    with connect(f"ws://{LOOPBACK}:{http_port}/api/v1/realtime/ws") as ws:
        first = until(ws, lambda m: "sales" in m["queues"], 10)
        assert first["queues"]["sales"]["waiting"] == 0
        rtp = {"rtp_ip": LOOPBACK, "rtp_port": str(media_sock.getsockname()[1])}
        thread, result = call_in_background(peers, c, scenario="tamas_call_rtp", user="1001",
                                            service="600", hold_ms=4000, variables=rtp)
        waiting = until(ws, lambda m: m["queues"]["sales"]["waiting"] == 1, 15)
        assert waiting["queues"]["sales"]["callers"][0]["caller"] == "1001"
        thread.join(30)
        assert result and result[0].ok, result and result[0].describe()

        def abandoned(m: dict[str, Any]) -> bool:
            rows = {r["queue"]: r for r in (m.get("today") or {}).get("queues", [])}
            return m["queues"]["sales"]["waiting"] == 0 and rows.get("sales", {}).get(
                "abandoned") == 1  # fmt: skip

        pushed = until(ws, abandoned, 30)
    with urllib.request.urlopen(
        f"http://{LOOPBACK}:{http_port}/api/v1/reports/queues", timeout=10
    ) as response:
        report = json.loads(response.read())
    historical = {r["queue"]: r for r in report["rows"]}
    live = {r["queue"]: r for r in pushed["today"]["queues"]}
    assert historical["sales"]["offered"] == 1 and historical["sales"]["abandoned"] == 1
    assert live["sales"] == historical["sales"]
