"""The contact center end to end over real sockets: SIPp callers, SIPp agents, Tamas between.

A SIPp caller (extension 1001) dials the IVR; its SDP names a UDP socket of this test, which
sends the RFC 4733 key presses (and hears Tamas's prompts). The agent is a SIPp UAS
registered as extension 1002; ``login_when_registered`` logs its agent in. Afterwards the
event log in the center's database is read back.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import socket
import time
import wave
from collections.abc import Iterator
from typing import Any

import harness
import numpy as np
import pytest
from test_tamas_conferencing import tamas_port_for
from test_tamas_media import call_in_background
from test_tamas_sipp import register_uas, start_center

from conftest import Peers
from tamas.core.events import LogRecord
from tamas.media.g711 import alaw_encode
from tamas.media.tones import sine
from tamas.media.wav import parse_wav
from tamas.store import events as store_events
from tamas.store import open_store
from tamas.store.recordings import Recordings

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
                "options": {"1": {"queue": "sales"}, "0": {"voicemail": "100"}},
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
        "voicemail": {"boxes": [{"box": "100", "pin": "1234", "email": "center@example.com"}],
                      "smtp": {"host": LOOPBACK, "port": 25}},
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


_PRESSES = itertools.count()


def press(sock: socket.socket, port: int, digit: str) -> None:
    """Send one RFC 4733 key press (three updates, three end packets) to Tamas's port; each
    press has its own timestamp and sequence numbers (one event per timestamp)."""
    event = "0123456789*#".index(digit)
    n0 = next(_PRESSES)
    ts = 160_000 + n0 * 8_000
    for n in range(6):
        end = n >= 3
        duration = 160 * (n + 1) if not end else 640
        payload = bytes([event, (0x80 if end else 0) | 10]) + duration.to_bytes(2, "big")
        seq = (500 + n0 * 10 + n) & 0xFFFF
        header = bytes([0x80, (0x80 if n == 0 else 0) | 101]) + seq.to_bytes(2, "big")
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


def recording_of(c: Any, call_id: str) -> Any:
    store = open_store(f"sqlite:///{c.tmp / 'data' / 'tamas.db'}")
    try:
        rows = Recordings(store.engine).list_recordings(call_id=call_id)
    finally:
        store.close()
    assert len(rows) == 1, rows
    return rows[0]


def names(records: list[LogRecord], call_id: str | None = None) -> list[str]:
    return [r.event for r in records if call_id is None or r.call_id == call_id]


def test_ivr_queue_agent_round_trip(
    start_center: Any, peers: Peers, media_sock: socket.socket
) -> None:
    c = start_center(**center_sections(), recording={"policy": "always"})
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
    recording = recording_of(c, call_id)  # the agent's side recorded on the right channel
    # a µ-law WAV (recording.samples: g711), which Python's wave module does not read
    info, frames = parse_wav((c.tmp / "data" / recording.path).read_bytes())
    assert info.channels == 2 and info.frames / 8000 > 3.0
    assert np.abs(frames[:, 1].astype(np.int64)).mean() > 50
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
    press(media_sock, port, "2")  # the callback key: Tamas reads back the number to call
    assert harness.wait_until(lambda: "confirm the callback number" in c.trace(), 10)
    press(media_sock, port, "1")  # confirmed
    thread.join(40)  # Tamas says when to expect the call, then hangs up
    assert result and result[0].ok, "\n".join(
        line for line in c.trace().splitlines() if "INFO tamas.c" in line or "ERROR" in line
    )
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


class Inbox:
    """aiosmtpd handler: keeps every message received."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(bytes(envelope.original_content))
        return "250 OK"


def talk(sock: socket.socket, port: int, seconds: float, hz: float = 700.0) -> None:
    """Send a tone as PCMA RTP, 20 ms a packet, to Tamas's port."""
    payload = alaw_encode((sine(hz, 0.02, -10.0)).astype("int16"))
    start = time.monotonic()
    for n in range(round(seconds / 0.02)):
        header = bytes([0x80, 8]) + (1000 + n).to_bytes(2, "big")
        header += (n * 160).to_bytes(4, "big") + (0x5151).to_bytes(4, "big")
        sock.sendto(header + payload, (LOOPBACK, port))
        time.sleep(max(0.0, start + (n + 1) * 0.02 - time.monotonic()))


def test_a_caller_leaves_a_voicemail_from_the_ivr_and_it_is_mailed(
    start_center: Any, peers: Peers, media_sock: socket.socket
) -> None:
    controller_mod = pytest.importorskip("aiosmtpd.controller")
    smtp_port = harness.free_port(kind="tcp")
    inbox = Inbox()
    controller = controller_mod.Controller(inbox, hostname=LOOPBACK, port=smtp_port)
    controller.start()
    try:
        sections = center_sections()
        sections["voicemail"]["smtp"]["port"] = smtp_port
        c = start_center(**sections)
        thread, result = call_in_background(
            peers, c, scenario="tamas_call_rtp", user="1001", service="100", hold_ms=14000,
            variables={"rtp_ip": LOOPBACK, "rtp_port": str(media_sock.getsockname()[1])},
        )  # fmt: skip
        assert harness.wait_until(lambda: tamas_port_for(c.trace(), "1001") is not None, 15)
        port = tamas_port_for(c.trace(), "1001")
        assert port is not None
        time.sleep(1.0)
        press(media_sock, port, "0")
        assert harness.wait_until(lambda: "recording voicemail for 100" in c.trace(), 15), (
            c.trace()[-3000:]
        )
        talk(media_sock, port, 3.0)
        thread.join(40)
        assert result and result[0].ok, result and result[0].describe()
        assert harness.wait_until(lambda: len(inbox.messages) == 1, 20), c.trace()[-3000:]
    finally:
        controller.stop()
    mail = email.message_from_bytes(inbox.messages[0], policy=email.policy.default)
    assert mail["To"] == "center@example.com"
    (attachment,) = list(mail.iter_attachments())  # type: ignore[attr-defined]
    audio = attachment.get_content()
    wav_path = c.tmp / "mail.wav"
    wav_path.write_bytes(audio)
    with wave.open(str(wav_path)) as w:
        assert (w.getnchannels(), w.getframerate()) == (1, 8000)
        assert w.getnframes() / 8000 >= 2.5  # the 3 s we said after the beep, at least
    assert harness.wait_until(lambda: "VOICEMAIL" in names(events_of(c)), 10)
    records = events_of(c)
    vm = next(r for r in records if r.event == "VOICEMAIL")
    assert vm.data[0] == "100"
    assert harness.wait_until(lambda: getattr(cdr_of(c, vm.call_id), "result", "") == "voicemail",
                              10)  # fmt: skip


def test_post_call_survey_after_the_agent_hangs_up(
    start_center: Any, peers: Peers, media_sock: socket.socket
) -> None:
    c = start_center(**center_sections(survey=True))
    # the agent answers, talks 2 s, hangs up; the caller stays to rate the call
    register_uas(peers, c, "1002", "uas_answer_hangup", media_port=harness.free_port(span=4))
    assert harness.wait_until(lambda: "agent ann logs in on 1002" in c.trace(), 5)
    thread, result = call_in_background(
        peers, c, scenario="tamas_call_prompt", user="1001", service="600",
        variables={"rtp_ip": LOOPBACK, "rtp_port": str(media_sock.getsockname()[1])},
    )  # fmt: skip
    assert harness.wait_until(lambda: "asked to rate the call" in c.trace(), 20), c.trace()[-3000:]
    port = tamas_port_for(c.trace(), "1001")
    assert port is not None
    press(media_sock, port, "4")
    thread.join(40)  # Tamas thanks the caller and hangs up
    assert result and result[0].ok, result and result[0].describe()
    assert harness.wait_until(lambda: "SURVEY" in names(events_of(c)), 10)
    records = events_of(c)
    survey = next(r for r in records if r.event == "SURVEY")
    assert (survey.data[:2], survey.agent, survey.queue) == (("4", "5"), "ann", "sales")
    flow = names(records, survey.call_id)
    assert flow.index("COMPLETEAGENT") < flow.index("SURVEY") < flow.index("CALLEND")
