"""The contact center end to end over real sockets: SIPp callers, SIPp agents, Tamas between.

A SIPp caller (extension 1001) dials the IVR; its SDP names a UDP socket of this test, which
sends the RFC 4733 key presses (and hears Tamas's prompts). The agent is a SIPp UAS
registered as extension 1002; ``login_when_registered`` logs its agent in. Afterwards the
event log in the center's database is read back.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import harness
import pytest
from test_tamas_conferencing import tamas_port_for
from test_tamas_media import call_in_background
from test_tamas_sipp import register_uas, start_center

from conftest import Peers
from tamas.core.events import LogRecord
from tamas.store import events as store_events
from tamas.store import open_store

pytestmark = pytest.mark.peers

LOOPBACK = harness.LOOPBACK
__all__ = ["start_center"]  # a fixture, used by name

FLOW = {
    "main": {
        "language": "en",
        "steps": [
            {"id": "menu", "menu": {
                "prompt": {"en": "Press 1 for sales."},
                "timeout": 10, "retries": 2,
                "options": {"1": {"queue": "sales"}},
                "fail": {"hangup": True},
            }},
        ],
    }
}  # fmt: skip


def center_sections(**queue: Any) -> dict[str, Any]:
    return {
        "queues": [{"name": "sales", "ring_timeout": 10, "wrapup": 1, "announce_every": None,
                    **queue}],
        "agents": [{"id": "ann", "name": "Ann", "extension": "1002", "queues": {"sales": 0},
                    "login_when_registered": True}],
        "ivr": FLOW,
        "media": {"applications": [{"number": "100", "kind": "ivr", "flow": "main"},
                                   {"number": "600", "kind": "queue", "queue": "sales"}]},
    }  # fmt: skip


@pytest.fixture
def media_sock() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOOPBACK, 0))
    sock.settimeout(0.05)
    yield sock
    sock.close()


def press(sock: socket.socket, port: int, digit: str) -> None:
    """Send one RFC 4733 key press (three updates, three end packets) to Tamas's port."""
    event = "0123456789*#".index(digit)
    ts = 160_000
    for n in range(6):
        end = n >= 3
        duration = 160 * (n + 1) if not end else 640
        payload = bytes([event, (0x80 if end else 0) | 10]) + duration.to_bytes(2, "big")
        header = bytes([0x80, (0x80 if n == 0 else 0) | 101]) + (500 + n).to_bytes(2, "big")
        sock.sendto(header + ts.to_bytes(4, "big") + (0x4242).to_bytes(4, "big") + payload,
                    (LOOPBACK, port))  # fmt: skip
        time.sleep(0.02)


def events_of(c: Any) -> list[LogRecord]:
    store = open_store(f"sqlite:///{c.tmp / 'data' / 'tamas.db'}")
    try:
        return list(store_events.iterate(store.engine))
    finally:
        store.close()


def cdr_of(c: Any, call_id: str) -> Any:
    store = open_store(f"sqlite:///{c.tmp / 'data' / 'tamas.db'}")
    try:
        return store_events.get_cdr(store.engine, call_id)
    finally:
        store.close()


def names(records: list[LogRecord], call_id: str | None = None) -> list[str]:
    return [r.event for r in records if call_id is None or r.call_id == call_id]


def test_ivr_queue_agent_round_trip(
    start_center: Any, peers: Peers, media_sock: socket.socket
) -> None:
    c = start_center(**center_sections())
    register_uas(peers, c, "1002", "uas_answer_play", media_port=harness.free_port(span=4))
    assert harness.wait_until(lambda: "agent ann logs in on 1002" in c.trace(), 5)
    thread, result = call_in_background(
        peers, c, scenario="tamas_call_rtp", user="1001", service="100", hold_ms=9000,
        variables={"rtp_ip": LOOPBACK, "rtp_port": str(media_sock.getsockname()[1])})  # fmt: skip
    assert harness.wait_until(lambda: tamas_port_for(c.trace(), "1001") is not None, 15)
    port = tamas_port_for(c.trace(), "1001")
    assert port is not None
    time.sleep(1.0)  # the menu prompt plays (a key barges in, but let it start)
    press(media_sock, port, "1")
    assert harness.wait_until(lambda: "connected to agent ann" in c.trace(), 15), c.trace()[-3000:]
    thread.join(40)
    assert result and result[0].ok, result and result[0].describe()
    assert harness.wait_until(lambda: "CALLEND" in names(events_of(c)), 10), c.trace()[-5000:]
    records = events_of(c)
    call_id = next(r.call_id for r in records if r.event == "ENTERQUEUE")
    flow = names(records, call_id)
    assert flow.index("IVRKEY") < flow.index("ENTERQUEUE") < flow.index("CONNECT")
    assert flow.index("CONNECT") < flow.index("COMPLETECALLER")
    assert "ABANDON" not in flow
    login = [r for r in records if r.event == "AGENTLOGIN"]
    assert login and login[0].agent == "ann"
    connect = next(r for r in records if r.event == "CONNECT")
    assert connect.queue == "sales" and connect.agent == "ann"
    assert flow[0] == "CALLSTART" and "CALLEND" in flow, " ".join(flow)
    assert harness.wait_until(lambda: cdr_of(c, call_id) is not None, 10)
    cdr = cdr_of(c, call_id)
    assert cdr.result == "answered" and cdr.agents == ("ann",), cdr
    seqs = [r.seq for r in records]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_caller_who_hangs_up_while_waiting_is_an_abandon(
    start_center: Any, peers: Peers, media_sock: socket.socket
) -> None:
    c = start_center(**center_sections())  # nobody registers: no agent is logged in
    thread, result = call_in_background(
        peers, c, scenario="tamas_call_rtp", user="1001", service="600", hold_ms=3000,
        variables={"rtp_ip": LOOPBACK, "rtp_port": str(media_sock.getsockname()[1])})  # fmt: skip
    thread.join(30)
    assert result and result[0].ok, result and result[0].describe()
    assert harness.wait_until(lambda: "ABANDON" in names(events_of(c)), 10), c.trace()[-3000:]
    records = events_of(c)
    abandon = next(r for r in records if r.event == "ABANDON")
    enter = next(r for r in records if r.event == "ENTERQUEUE")
    assert abandon.call_id == enter.call_id and abandon.queue == "sales"
    position, origposition, waited = abandon.data[:3]
    assert (position, origposition) == ("1", "1")
    assert 2 <= int(waited) <= 6
    assert "CONNECT" not in names(records)
    assert harness.wait_until(lambda: cdr_of(c, enter.call_id) is not None, 10)
    assert cdr_of(c, enter.call_id).result == "abandoned"


def test_callback_keeps_the_place_and_calls_the_agent_then_the_customer(
    start_center: Any, peers: Peers, media_sock: socket.socket
) -> None:
    c = start_center(**center_sections(exit_keys={"2": "callback"}))
    # the customer's phone (extension 1001) answers the callback later, and hangs up after 2 s
    register_uas(peers, c, "1001", "uas_answer_hangup", media_port=harness.free_port(span=4))
    thread, result = call_in_background(
        peers, c, scenario="tamas_call_prompt", user="1001", service="600",
        variables={"rtp_ip": LOOPBACK, "rtp_port": str(media_sock.getsockname()[1])})  # fmt: skip
    assert harness.wait_until(lambda: tamas_port_for(c.trace(), "1001") is not None, 15)
    port = tamas_port_for(c.trace(), "1001")
    assert port is not None
    time.sleep(0.5)
    press(media_sock, port, "2")
    thread.join(40)  # Tamas says when to expect the call, then hangs up
    assert result and result[0].ok, result and result[0].describe()
    assert "ended: callback-requested" in c.trace(), "\n".join(
        line for line in c.trace().splitlines() if "INFO tamas.c" in line or "ERROR" in line
    )
    # an agent logs in (registers): the callback is started, agent first, then the customer
    register_uas(peers, c, "1002", "uas_answer_play", media_port=harness.free_port(span=4))
    assert harness.wait_until(lambda: "CALLBACKCOMPLETED" in names(events_of(c)), 20), c.trace()[
        -4000:
    ]
    records = events_of(c)
    requested = next(r for r in records if r.event == "CALLBACKREQUESTED")
    assert requested.data[0] == "1001" and requested.queue == "sales"
    original = names(records, requested.call_id)
    assert "ABANDON" not in original and "ENTERQUEUE" in original
    completed = next(r for r in records if r.event == "CALLBACKCOMPLETED")
    assert completed.call_id == requested.call_id and completed.agent == "ann"
    start = next(r for r in records if r.event == "CALLBACKSTART")
    assert start.data[0] == requested.call_id  # the new call says which callback it carries
    assert harness.wait_until(lambda: "CALLEND" in names(events_of(c), start.call_id), 15)
