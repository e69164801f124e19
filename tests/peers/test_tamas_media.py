"""Anchored media with real peers: SIPp plays RTP and RFC 2833 key presses through Tamas.

The caller is SIPp (extension 1001) whose SDP names a UDP socket of this test, so the test sees
exactly what Tamas sends to the caller; the callee is a SIPp UAS (1002) that plays the Debian
package's captures (``uas_answer_play``). Everything is on 127.0.0.1, except one SDP that
*names* 192.0.2.1 to prove that Tamas sends nothing to an SDP address that is not the
signalling peer's until the party's own RTP has come (latching).
"""

from __future__ import annotations

import re
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import harness
import numpy as np
import pytest
from tamas_helpers import sip_messages
from test_tamas_baresip import Ctrl, registered, start_baresip
from test_tamas_baresip import setup as baresip_setup
from test_tamas_sipp import Center, ext_run, register_uas, start_center, uas_successes

from conftest import Peers
from tamas.media.g711 import alaw_decode

pytestmark = pytest.mark.peers

LOOPBACK = harness.LOOPBACK
CAPTURES = Path("/usr/share/sip-tester")
__all__ = ["baresip_setup", "start_center"]  # fixtures, used by name


def pcap_rtp(path: Path) -> list[bytes]:
    """The RTP packets of a classic pcap of Ethernet/IPv4/UDP frames."""
    data = path.read_bytes()
    out, offset = [], 24
    while offset < len(data):
        _, _, length, _ = struct.unpack_from("<IIII", data, offset)
        frame = data[offset + 16 : offset + 16 + length]
        offset += 16 + length
        ip_header = (frame[14] & 0x0F) * 4
        out.append(frame[14 + ip_header + 8 :])
    return out


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """The caller's media socket (its port goes into the caller's SDP)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.bind((LOOPBACK, 0))
    sock.settimeout(0.05)
    try:
        yield sock
    finally:
        sock.close()


def drain(sock: socket.socket) -> list[tuple[bytes, tuple[str, int]]]:
    got = []
    while True:
        try:
            got.append(sock.recvfrom(2048))
        except TimeoutError:
            return got


def tamas_sdp_port_to_caller(trace: str) -> int | None:
    """The m= port of the 2xx Tamas sent the caller (its own SDP has ``s=-``)."""
    for msg in sip_messages(trace, "SIP/2.0 200"):
        if "CSeq: 2 INVITE" in msg and "\ns=-" in msg.replace("\r", ""):
            m = re.search(r"^m=audio (\d+) ", msg, re.M)
            if m:
                return int(m.group(1))
    return None


def call_in_background(peers: Peers, c: Center, **kw: Any) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(ext_run(peers, c, **kw)), daemon=True)
    thread.start()
    return thread, result


def test_rtp_and_digits_through_tamas(
    start_center: Any, peers: Peers, listener: socket.socket
) -> None:
    c = start_center(logging={"level": "debug", "sip_trace": True})
    uas_media = harness.free_port(span=4)
    register_uas(peers, c, "1002", "uas_answer_play", media_port=uas_media)
    port = listener.getsockname()[1]
    r = ext_run(peers, c, "tamas_call_rtp", user="1001", service="1002", hold_ms=3500,
                variables={"rtp_ip": LOOPBACK, "rtp_port": str(port)})  # fmt: skip
    assert r.ok and r.successful == 1, r.describe()
    received = drain(listener)
    trace = c.trace()
    tamas_port = tamas_sdp_port_to_caller(trace)
    assert tamas_port is not None, trace[-4000:]
    sources = {addr for _, addr in received}
    # everything came from Tamas's port for the caller, not from the callee's SIPp
    assert sources == {(LOOPBACK, tamas_port)}, sources
    assert tamas_port not in (uas_media, uas_media + 2)
    audio = [p for p, _ in received if p[1] & 0x7F == 8]
    events = [p for p, _ in received if p[1] & 0x7F == 101]
    sent = [p for p in pcap_rtp(CAPTURES / "g711a.pcap") if p[1] & 0x7F == 8]
    assert len(audio) >= 30, len(audio)  # about 2 s of 30 ms packets at least
    # a plain relay: the payloads are the capture's, in order
    assert [p[12:] for p in audio] == [p[12:] for p in sent[: len(audio)]]
    assert len(events) >= 3
    digits = re.findall(r"digit (\S) from b \(rfc4733", trace)
    assert digits == ["1", "5", "#"], digits
    assert uas_successes(peers.procs[-1], 1) == 1


def test_no_rtp_to_a_foreign_sdp_address_before_latching(
    start_center: Any, peers: Peers, listener: socket.socket
) -> None:
    """The caller's SDP names 192.0.2.1 (not its signalling address): Tamas sends it nothing
    until the caller's own RTP arrives, then answers to where that came from."""
    c = start_center()
    register_uas(peers, c, "1002", "uas_answer_play")
    port = listener.getsockname()[1]
    thread, result = call_in_background(
        peers, c, scenario="tamas_call_rtp", user="1001", service="1002", hold_ms=4500,
        variables={"rtp_ip": "192.0.2.1", "rtp_port": str(port)},
    )  # fmt: skip
    assert harness.wait_until(lambda: tamas_sdp_port_to_caller(c.trace()) is not None, 10.0)
    tamas_port = tamas_sdp_port_to_caller(c.trace())
    assert tamas_port is not None
    time.sleep(1.5)  # the callee is sending key presses and audio meanwhile
    assert drain(listener) == []
    listener.sendto(struct.pack("!BBHII", 0x80, 8, 1, 160, 0x42) + b"\xd5" * 160,
                    (LOOPBACK, tamas_port))  # fmt: skip
    assert harness.wait_until(lambda: bool(drain(listener)), 3.0), "no RTP after latching"
    thread.join(30)
    assert result and result[0].ok, result and result[0].describe()


def test_echo_test_returns_the_callers_audio(
    start_center: Any, peers: Peers, listener: socket.socket
) -> None:
    apps = {"applications": [{"number": "*43", "kind": "echo"}]}
    c = start_center(media=apps)
    port = listener.getsockname()[1]
    thread, result = call_in_background(
        peers, c, scenario="tamas_call_rtp", user="1001", service="*43", hold_ms=2500,
        variables={"rtp_ip": LOOPBACK, "rtp_port": str(port)},
    )  # fmt: skip
    assert harness.wait_until(lambda: tamas_sdp_port_to_caller(c.trace()) is not None, 10.0)
    tamas_port = tamas_sdp_port_to_caller(c.trace())
    assert tamas_port is not None
    sent = [p for p in pcap_rtp(CAPTURES / "g711a.pcap") if p[1] & 0x7F == 8][80:120]
    for p in sent:  # the capture's PCMA audio, 30 ms packets
        listener.sendto(p, (LOOPBACK, tamas_port))
        time.sleep(0.03)
    time.sleep(0.3)
    back = [p[12:] for p, _ in drain(listener) if p[1] & 0x7F == 8]
    spoken = b"".join(p[12:] for p in sent)
    # the echo is the caller's audio re-framed in 20 ms packets (silence while it waits)
    echoed = [f for f in back if len(set(f)) > 8 and f in spoken]
    assert len(echoed) >= 20, (len(back), len(echoed))
    thread.join(30)
    assert result and result[0].ok, result and result[0].describe()


def test_baresip_hears_sipp_through_tamas(baresip_setup: Any, peers: Peers, tmp_path: Path) -> None:
    """SIPp (1001) calls baresip (1003) through Tamas and plays its PCMA capture; baresip's
    sndfile module writes what it decoded: sox finds audio in it, not silence."""
    start, procs, closers = baresip_setup
    port, tamas = start()
    bs_port, ctrl_port = harness.free_port(), harness.free_port()
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    account = (
        f"<sip:1003@{LOOPBACK}:{port}>;auth_user=1003;auth_pass=demo1003;regint=300;"
        "answermode=auto;audio_codecs=PCMA,PCMU"
    )
    bs = start_baresip(tmp_path / "bs", account, bs_port, ctrl_port,
                       extra=("module sndfile.so", f"snd_path {dumps}"))  # fmt: skip
    procs.append(bs)
    ctrl = Ctrl(ctrl_port)
    closers.append(ctrl.close)
    assert registered(ctrl, bs), (ctrl.events, bs.output()[-4000:], tamas.output()[-4000:])
    r = peers.uac(
        "tamas_call_play", port, service="1003", auth_user="1001", auth_password="demo1001",
        variables={"dom": f"{LOOPBACK}:{port}", "caller": "1001"}, hold_ms=4000, timeout=30,
    )  # fmt: skip
    assert r.ok and r.successful == 1, (r.describe(), bs.output()[-4000:])
    assert ctrl.wait_event("CALL_CLOSED", 10) is not None, ctrl.events
    decoded = sorted(dumps.glob("*dec*.wav"))
    assert decoded, list(dumps.iterdir())
    stat = subprocess.run(["sox", str(decoded[0]), "-n", "stat"], capture_output=True,
                          text=True, timeout=30, check=True).stderr  # fmt: skip
    rms = float(re.search(r"RMS\s+amplitude:\s+([0-9.]+)", stat).group(1))  # type: ignore[union-attr]
    length = float(re.search(r"Length \(seconds\):\s+([0-9.]+)", stat).group(1))  # type: ignore[union-attr]
    assert length > 2.0, stat
    assert rms > 0.01, stat  # speech, not silence
    # Tamas carried it: the caller's media leg counted the packets it relayed
    assert re.search(r"media a: [1-9]\d* packets in, \d+ out", tamas.output()), tamas.output()[
        -3000:
    ]


def test_prompt_spoken_by_espeak_then_hang_up(
    start_center: Any, peers: Peers, listener: socket.socket
) -> None:
    """*44 (the demo's prompt) answers, speaks its text through espeak-ng and hangs up."""
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is missing (scripts/test.sh installs it)")
    text = "Welcome to Tamas. This call will now end. Goodbye."
    apps = {"applications": [{"number": "*44", "kind": "prompt", "text": text}]}
    c = start_center(media=apps)
    port = listener.getsockname()[1]
    r = ext_run(peers, c, "tamas_call_prompt", user="1001", service="*44",
                variables={"rtp_ip": LOOPBACK, "rtp_port": str(port)})  # fmt: skip
    assert r.ok and r.successful == 1, r.describe()
    packets = [p for p, _ in drain(listener)]
    audio = b"".join(p[12:] for p in packets if p[1] & 0x7F == 8)
    assert len(audio) >= 8000, len(audio)  # more than a second of speech
    samples = alaw_decode(audio).astype(np.float64)
    assert np.sqrt(np.mean(samples**2)) > 300  # speech, not silence
    assert "prompt-played" in c.trace()


def test_hold_answered_by_tamas_with_music_to_the_held_party(
    start_center: Any, peers: Peers, listener: socket.socket
) -> None:
    """SIPp (1001) holds and resumes a call to a SIPp UAS (1002) whose SDP names this test's
    socket: Tamas answers both re-INVITEs itself (a=recvonly, then a=sendrecv; the UAS fails
    on any relayed request) and the held party hears music on hold meanwhile."""
    c = start_center()
    port = listener.getsockname()[1]
    register_uas(peers, c, "1002", "uas_answer_rtp",
                 variables={"rtp_ip": LOOPBACK, "rtp_port": str(port)})  # fmt: skip
    r = ext_run(peers, c, "tamas_call_hold", user="1001", service="1002")
    assert r.ok and r.successful == 1, r.describe()
    assert uas_successes(peers.procs[-1], 1) == 1  # no re-INVITE reached the callee
    music = [p for p, _ in drain(listener) if p[1] & 0x7F == 8]
    assert len(music) >= 25, len(music)  # about 2 s of 20 ms frames while held
    level = np.sqrt(np.mean(alaw_decode(b"".join(p[12:] for p in music)).astype(float) ** 2))
    assert level > 50, level  # the chime, not silence
    trace = c.trace()
    assert "a holds the call" in trace and "a resumes the call" in trace
