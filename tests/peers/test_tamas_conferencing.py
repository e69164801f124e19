"""Conference and supervisor monitoring with SIPp peers through a running Tamas.

SIPp does the signalling (digest, INVITE, ACK, BYE); each SIPp caller's SDP names a UDP socket
of this test, which sends a tone of its own frequency to Tamas's port for that call and keeps
what Tamas sends back. Goertzel power on that audio tells whom each party hears. Everything is
on 127.0.0.1.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import harness
import numpy as np
import pytest
from tamas_helpers import sip_messages
from test_tamas_media import call_in_background
from test_tamas_sipp import register_uas, start_center

from conftest import Peers
from tamas.media.g711 import alaw_decode, alaw_encode
from tamas.media.goertzel import goertzel_power
from tamas.media.tones import sine

pytestmark = pytest.mark.peers

LOOPBACK = harness.LOOPBACK
AMPLITUDE = 8000.0
__all__ = ["start_center"]  # a fixture, used by name


@pytest.fixture
def sockets() -> Iterator[list[socket.socket]]:
    made: list[socket.socket] = []
    yield made
    for s in made:
        s.close()


def media_socket(made: list[socket.socket]) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.bind((LOOPBACK, 0))
    sock.settimeout(0.05)
    made.append(sock)
    return sock


def tamas_port_for(trace: str, user: str) -> int | None:
    """The m= port of Tamas's 2xx to the INVITE (with credentials) of SIPp caller ``user``."""
    for msg in sip_messages(trace, "SIP/2.0 200"):
        flat = msg.replace("\r", "")
        if "CSeq: 2 INVITE" in flat and "\ns=-" in flat and f"<sip:{user}@" in flat:
            m = re.search(r"^m=audio (\d+) ", flat, re.M)
            if m:
                return int(m.group(1))
    return None


def wait_port(c: Any, user: str, calls: list[tuple[Any, list[Any]]] | None = None) -> int:
    """Tamas's media port for ``user``'s call; on a timeout, says what the SIPp calls did."""
    harness.wait_until(lambda: tamas_port_for(c.trace(), user) is not None, 20.0)
    port = tamas_port_for(c.trace(), user)
    if port is None:
        done = [r[0].describe() for _, r in calls or () if r]
        pytest.fail(f"no 200 with SDP to {user}; finished SIPp calls: {done}; "
                    f"Tamas's log ends: {c.trace()[-3000:]}")  # fmt: skip
    return port


def take(sock: socket.socket) -> list[bytes]:
    """What has arrived so far (Tamas sends every 20 ms: do not wait for a quiet moment)."""
    got = []
    sock.setblocking(False)
    try:
        while True:
            got.append(sock.recv(2048))
    except BlockingIOError:
        return got
    finally:
        sock.settimeout(0.05)


def talk(parties: list[tuple[socket.socket, int, float]], seconds: float = 1.0) -> list[Any]:
    """Each party sends its tone (PCMA, 20 ms) to its Tamas port; what each received."""
    for sock, _, _ in parties:
        take(sock)
    payloads = []
    for _, _, hz in parties:
        samples = sine(hz, 0.02, level_dbm0=0.0).astype(np.float64)
        payloads.append(alaw_encode((samples / np.abs(samples).max() * AMPLITUDE).astype(np.int16)))
    got: list[list[bytes]] = [[] for _ in parties]
    start = time.monotonic()
    for n in range(round(seconds / 0.02)):
        for i, (sock, port, _) in enumerate(parties):
            header = bytes([0x80, 8]) + (n & 0xFFFF).to_bytes(2, "big")
            header += (n * 160).to_bytes(4, "big") + (0x1000 + i).to_bytes(4, "big")
            sock.sendto(header + payloads[i], (LOOPBACK, port))
        time.sleep(max(0.0, start + (n + 1) * 0.02 - time.monotonic()))
    for i, (sock, _, _) in enumerate(parties):
        got[i] = [p for p in take(sock) if p[1] & 0x7F == 8]
    return got


def hears(packets: list[bytes], hz: float) -> bool:
    if len(packets) < 10:
        return False
    audio = np.concatenate([alaw_decode(p[12:]) for p in packets[-25:]])
    return goertzel_power(audio, hz, 8000) > AMPLITUDE**2 / 2 * 0.01


def test_conference_room_with_sipp_callers(
    start_center: Any, peers: Peers, sockets: list[socket.socket]
) -> None:
    c = start_center(media={"applications": [{"number": "8000", "kind": "conference"}]})
    one, two = media_socket(sockets), media_socket(sockets)
    calls = [
        call_in_background(peers, c, scenario="tamas_call_rtp", user=user, service="8000",
                           hold_ms=5000, variables={"rtp_ip": LOOPBACK,
                                                    "rtp_port": str(s.getsockname()[1])})
        for user, s in (("1001", one), ("1002", two))
    ]  # fmt: skip
    port_one, port_two = wait_port(c, "1001", calls), wait_port(c, "1002", calls)
    got_one, got_two = talk([(one, port_one, 400.0), (two, port_two, 1700.0)])
    assert hears(got_one, 1700.0) and not hears(got_one, 400.0)
    assert hears(got_two, 400.0) and not hears(got_two, 1700.0)
    for thread, result in calls:
        thread.join(30)
        assert result and result[0].ok, result and result[0].describe()
    assert "joined conference 8000 (2 members)" in c.trace()
    assert harness.wait_until(lambda: "conference 8000 ended" in c.trace(), 5.0)


def test_supervisor_listens_to_a_sipp_call(
    start_center: Any, peers: Peers, sockets: list[socket.socket]
) -> None:
    extensions = [
        {"number": f"{n}", "password": f"demo{n}", "supervisor": n == 1010}
        for n in range(1001, 1011)
    ]
    apps = {"applications": [{"number": "*30", "kind": "monitor", "mode": "listen"}]}
    c = start_center(media=apps, extensions=extensions)
    register_uas(peers, c, "1002", "uas_answer_play", media_port=harness.free_port(span=4))
    caller, sup = media_socket(sockets), media_socket(sockets)
    main = call_in_background(
        peers, c, scenario="tamas_call_rtp", user="1001", service="1002", hold_ms=9000,
        variables={"rtp_ip": LOOPBACK, "rtp_port": str(caller.getsockname()[1])},
    )  # fmt: skip
    caller_port = wait_port(c, "1001")
    time.sleep(0.5)  # the call is answered and bridged
    monitor = call_in_background(
        peers, c, scenario="tamas_call_rtp", user="1010", service="*301002", hold_ms=3000,
        variables={"rtp_ip": LOOPBACK, "rtp_port": str(sup.getsockname()[1])},
    )  # fmt: skip
    sup_port = wait_port(c, "1010")
    assert harness.wait_until(lambda: "1010 monitors 1002 (listen)" in c.trace(), 5.0)
    got_caller, got_sup = talk([(caller, caller_port, 400.0), (sup, sup_port, 1700.0)])
    assert hears(got_sup, 400.0)  # the supervisor hears the caller ...
    assert not hears(got_caller, 1700.0)  # ... and is not heard
    assert len(got_caller) >= 25  # the caller still hears the agent (SIPp's capture)
    for thread, result in (monitor, main):
        thread.join(30)
        assert result and result[0].ok, result and result[0].describe()
