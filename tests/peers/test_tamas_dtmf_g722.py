"""Real peers: DTMF interworking and G.722 calls through a running Tamas.

* A SIPp caller (1001) whose SDP has no telephone-event presses 1, 5, # by SIP INFO
  (application/dtmf-relay); the callee, a SIPp UAS (1002) that negotiated telephone-event,
  has its SDP name this test's socket, which receives Tamas's RFC 4733 packets: decoded, they
  are the digits pressed.
* G.722 (``media.codecs: [G722, PCMU, PCMA]``): a SIPp caller offering only G.722 calls a
  G.722 UAS (relay) or a PCMA UAS (transcoding). Both SDPs name sockets of this test, which
  sends a tone as one party and checks what reaches the other (bytes, and the tone's
  frequency after decoding).
"""

from __future__ import annotations

import re
import socket
import struct
import subprocess
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import harness
import numpy as np
import pytest
from tamas_helpers import sip_messages
from test_tamas_baresip import Ctrl, registered, start_baresip
from test_tamas_baresip import setup as baresip_setup
from test_tamas_media import call_in_background, drain, tamas_sdp_port_to_caller
from test_tamas_sipp import register_uas, start_center, uas_successes

from conftest import Peers
from tamas.media.g711 import alaw_decode, alaw_encode
from tamas.media.g722 import Decoder, Encoder
from tamas.media.telephone_event import DigitEnded, EventReceiver

pytestmark = pytest.mark.peers

LOOPBACK = harness.LOOPBACK
WIDE = {"codecs": ["G722", "PCMU", "PCMA"]}
__all__ = ["baresip_setup", "start_center"]  # fixtures, used by name


def udp_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.bind((LOOPBACK, 0))
    sock.settimeout(0.05)
    return sock


@pytest.fixture
def caller_rtp() -> Iterator[socket.socket]:
    sock = udp_socket()
    try:
        yield sock
    finally:
        sock.close()


@pytest.fixture
def callee_rtp() -> Iterator[socket.socket]:
    sock = udp_socket()
    try:
        yield sock
    finally:
        sock.close()


def tamas_sdp_port_to_callee(trace: str) -> int | None:
    """The m= port of the INVITE Tamas sent the callee (its own SDP has ``s=-``)."""
    for msg in sip_messages(trace, "INVITE sip:"):
        if "\ns=-" in msg.replace("\r", ""):
            m = re.search(r"^m=audio (\d+) ", msg, re.M)
            if m:
                return int(m.group(1))
    return None


def rtp(seq: int, pt: int, payload: bytes) -> bytes:
    return struct.pack("!BBHII", 0x80, pt, seq, seq * 160, 0x5EED) + payload


def tone(freq: float, rate: int, seconds: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * freq * t) * 8000).astype(np.int16)


def peak_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64) * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


def test_info_digits_reach_an_rfc4733_callee(
    start_center: Any, peers: Peers, callee_rtp: socket.socket, caller_rtp: socket.socket
) -> None:
    c = start_center(logging={"level": "debug", "sip_trace": True})
    register_uas(peers, c, "1002", "uas_answer_rtp",
                 variables={"rtp_ip": LOOPBACK,
                            "rtp_port": str(callee_rtp.getsockname()[1])})  # fmt: skip
    thread, result = call_in_background(
        peers, c, scenario="tamas_call_info", user="1001", service="1002", hold_ms=1500,
        variables={"rtp_ip": LOOPBACK, "rtp_port": str(caller_rtp.getsockname()[1])},
    )  # fmt: skip
    received: list[tuple[bytes, tuple[str, int]]] = []
    deadline = time.monotonic() + 30
    while thread.is_alive() and time.monotonic() < deadline:
        received += drain(callee_rtp)
    thread.join(1)
    received += drain(callee_rtp)
    assert result and result[0].ok and result[0].successful == 1, result and result[0].describe()
    trace = c.trace()
    assert re.findall(r"digit (\S) from a \(info", trace) == ["1", "5", "#"], trace[-4000:]
    events = [p for p, _ in received if p[1] & 0x7F == 101]
    tamas_port = tamas_sdp_port_to_callee(trace)
    assert {addr for _, addr in received} == {(LOOPBACK, tamas_port)}
    receiver = EventReceiver()
    digits = []
    for p in events:
        seq, ts = struct.unpack_from("!HI", p, 2)
        for ev in receiver.receive(bool(p[1] & 0x80), seq, ts, p[12:16], 0.0):
            if isinstance(ev, DigitEnded):
                digits.append((ev.digit, ev.duration_ms))
    assert digits == [("1", 160), ("5", 200), ("#", 120)], digits
    assert sum(bool(p[1] & 0x80) for p in events) == 3  # one marker per key
    assert sum(bool(p[13] & 0x80) for p in events) == 9  # three end packets per key
    assert uas_successes(peers.procs[-1], 1) == 1


def g722_call(
    peers: Peers, c: Any, callee_scenario: str, caller_rtp: socket.socket,
    callee_rtp: socket.socket,
) -> tuple[Any, list[Any], int, int]:  # fmt: skip
    register_uas(peers, c, "1002", callee_scenario,
                 variables={"rtp_ip": LOOPBACK,
                            "rtp_port": str(callee_rtp.getsockname()[1])})  # fmt: skip
    thread, result = call_in_background(
        peers, c, scenario="tamas_call_g722", user="1001", service="1002", hold_ms=4000,
        variables={"rtp_ip": LOOPBACK, "rtp_port": str(caller_rtp.getsockname()[1])},
    )  # fmt: skip
    assert harness.wait_until(lambda: tamas_sdp_port_to_caller(c.trace()) is not None, 15.0)
    to_caller = tamas_sdp_port_to_caller(c.trace())
    to_callee = tamas_sdp_port_to_callee(c.trace())
    assert to_caller is not None and to_callee is not None
    return thread, result, to_caller, to_callee


def offered(trace: str, first_line: str) -> list[str]:
    """The m= formats of the first SDP in a message of the trace starting ``first_line``."""
    for msg in sip_messages(trace, first_line):
        m = re.search(r"^m=audio \d+ RTP/AVP ([\d ]+)", msg, re.M)
        if m and "\ns=-" in msg.replace("\r", ""):
            return m.group(1).split()
    return []


def test_g722_call_relayed_between_g722_phones(
    start_center: Any, peers: Peers, caller_rtp: socket.socket, callee_rtp: socket.socket
) -> None:
    c = start_center(media=WIDE)
    thread, result, to_caller, _ = g722_call(peers, c, "uas_answer_rtp_g722", caller_rtp,
                                             callee_rtp)  # fmt: skip
    assert offered(c.trace(), "INVITE sip:") == ["9", "0", "8", "101"]  # G.722 first
    enc = Encoder()
    x = tone(6000, 16000, 1.0)  # a wideband tone (G.711 stops at 4 kHz)
    sent = [enc.encode(x[i : i + 320]) for i in range(0, len(x), 320)]
    for n, payload in enumerate(sent):
        caller_rtp.sendto(rtp(n, 9, payload), (LOOPBACK, to_caller))
        time.sleep(0.02)
    time.sleep(0.3)
    got = [p[12:] for p, _ in drain(callee_rtp) if p[1] & 0x7F == 9]
    assert got == sent  # plain relay: the bytes sent
    dec = Decoder()
    heard = np.concatenate([dec.decode(p) for p in got])[1600:]
    assert abs(peak_hz(heard, 16000) - 6000) <= 5
    thread.join(30)
    assert result and result[0].ok, result and result[0].describe()


def test_g722_caller_and_pcma_callee_transcoded(
    start_center: Any, peers: Peers, caller_rtp: socket.socket, callee_rtp: socket.socket
) -> None:
    c = start_center(media=WIDE)
    thread, result, to_caller, to_callee = g722_call(peers, c, "uas_answer_rtp", caller_rtp,
                                                     callee_rtp)  # fmt: skip
    assert offered(c.trace(), "INVITE sip:") == ["9", "0", "8", "101"]
    enc = Encoder()
    x = tone(1000, 16000, 1.0)
    for n in range(50):  # the caller speaks G.722
        caller_rtp.sendto(rtp(n, 9, enc.encode(x[n * 320 : (n + 1) * 320])),
                          (LOOPBACK, to_caller))  # fmt: skip
        time.sleep(0.02)
    time.sleep(0.3)
    at_callee = [p[12:] for p, _ in drain(callee_rtp) if p[1] & 0x7F == 8]
    assert len(at_callee) >= 45 and {len(p) for p in at_callee} == {160}
    pcm = alaw_decode(b"".join(at_callee)).astype(np.float64)[400:]
    assert abs(peak_hz(pcm, 8000) - 1000) <= 3
    assert np.sqrt(np.mean(pcm**2)) > 3000  # the tone's level (8000 peak: 5657 RMS), not noise
    y = tone(600, 8000, 1.0)
    for n in range(50):  # the callee answers in PCMA
        callee_rtp.sendto(rtp(n, 8, alaw_encode(y[n * 160 : (n + 1) * 160])),
                          (LOOPBACK, to_callee))  # fmt: skip
        time.sleep(0.02)
    time.sleep(0.3)
    at_caller = [p[12:] for p, _ in drain(caller_rtp) if p[1] & 0x7F == 9]
    assert len(at_caller) >= 45 and {len(p) for p in at_caller} == {160}
    dec = Decoder()
    wide = np.concatenate([dec.decode(p) for p in at_caller]).astype(np.float64)[800:]
    assert abs(peak_hz(wide, 16000) - 600) <= 3
    thread.join(30)
    assert result and result[0].ok, result and result[0].describe()


def test_baresip_decodes_a_wideband_tone_relayed_by_tamas(
    baresip_setup: Any, peers: Peers, caller_rtp: socket.socket, tmp_path: Path
) -> None:
    """A SIPp G.722 caller (1001, its media this test's socket) calls baresip (1003, G.722
    only) through Tamas; the test sends a 5 kHz tone, which G.711 cannot carry, as G.722.
    baresip's own G.722 decoder (its sndfile module writes what it decoded) hears 5 kHz, and
    baresip's G.722 audio (its 440 Hz source) reaches the caller's socket."""
    start, procs, closers = baresip_setup
    port, tamas = start(media=WIDE)
    bs_port, ctrl_port = harness.free_port(), harness.free_port()
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    account = (
        f"<sip:1003@{LOOPBACK}:{port}>;auth_user=1003;auth_pass=demo1003;regint=300;"
        "answermode=auto;audio_codecs=G722/16000/1"
    )
    bs = start_baresip(tmp_path / "bs", account, bs_port, ctrl_port,
                       extra=("module g722.so", "module sndfile.so",
                              f"snd_path {dumps}"))  # fmt: skip
    procs.append(bs)
    # baresip's aufile source does not resample: its 440 Hz tone at the codec's 16 kHz
    # (read when the call is answered)
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(tmp_path / "bs" /
                    "tone.wav"), "synth", "60", "sine", "440", "vol", "0.3"],
                   check=True, timeout=30, capture_output=True)  # fmt: skip
    ctrl = Ctrl(ctrl_port)
    closers.append(ctrl.close)
    assert registered(ctrl, bs), (ctrl.events, bs.output()[-4000:], tamas.output()[-4000:])
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(peers.uac(
        "tamas_call_g722", port, service="1003", auth_user="1001", auth_password="demo1001",
        variables={"dom": f"{LOOPBACK}:{port}", "caller": "1001", "rtp_ip": LOOPBACK,
                   "rtp_port": str(caller_rtp.getsockname()[1])},
        hold_ms=4000, timeout=30, trace_messages=True,
    )), daemon=True)  # fmt: skip
    thread.start()
    assert harness.wait_until(lambda: tamas_sdp_port_to_caller(tamas.output()) is not None, 15.0)
    to_caller = tamas_sdp_port_to_caller(tamas.output())
    assert to_caller is not None
    enc = Encoder()
    x = tone(5000, 16000, 2.0)
    received: list[bytes] = []
    for n in range(100):
        caller_rtp.sendto(rtp(n, 9, enc.encode(x[n * 320 : (n + 1) * 320])),
                          (LOOPBACK, to_caller))  # fmt: skip
        received += [p for p, _ in drain_now(caller_rtp)]
        time.sleep(0.02)
    thread.join(30)
    received += [p for p, _ in drain(caller_rtp)]
    assert result and result[0].ok, (result and result[0].describe(), bs.output()[-3000:])
    assert ctrl.wait_event("CALL_CLOSED", 10) is not None, ctrl.events
    # baresip -> Tamas -> caller: G.722 carrying baresip's 440 Hz source
    from_baresip = [p[12:] for p in received if p[1] & 0x7F == 9]
    assert len(from_baresip) >= 50, (len(received), bs.output()[-3000:])
    dec = Decoder()
    heard = np.concatenate([dec.decode(p) for p in from_baresip]).astype(np.float64)[3200:]
    assert abs(peak_hz(heard, 16000) - 440) <= 5
    # caller -> Tamas -> baresip: its G.722 decoder heard the 5 kHz tone
    decoded = sorted(dumps.glob("*dec*.wav"))
    assert decoded, list(dumps.iterdir())
    with wave.open(str(decoded[0])) as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    assert rate == 16000, rate
    loud = samples[np.abs(samples) > 0]
    assert len(loud) > 16000, len(loud)  # over a second of the tone
    assert abs(peak_hz(samples[-24000:] if len(samples) > 24000 else samples, rate) - 5000) <= 10


def drain_now(sock: socket.socket) -> list[tuple[bytes, tuple[str, int]]]:
    """What is queued on ``sock`` now, without waiting."""
    got = []
    sock.setblocking(False)
    try:
        while True:
            try:
                got.append(sock.recvfrom(2048))
            except BlockingIOError:
                return got
    finally:
        sock.settimeout(0.05)
