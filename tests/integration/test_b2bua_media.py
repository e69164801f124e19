"""Anchored calls: the real B2BUA with a real media engine on 127.0.0.1, SIP in memory.

SIP goes through :mod:`memsip` (no sockets); RTP goes through real UDP sockets on loopback:
each party's SDP names a socket the test owns, so the tests can check both what Tamas says in
SDP and where the audio actually goes. After every scenario no call may hold an engine leg:
the engine has only the legs the pool keeps ready.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import time
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from memsip import HOST, Net, Phone, until

from tamas.config import parse_config
from tamas.core.events import LogRecord
from tamas.media.g711 import alaw_decode, alaw_encode, ulaw_encode
from tamas.runtime.anchor import BridgeLookup, CallDigit
from tamas.runtime.app import MediaRuntime, build_sip_stack, start_media
from tamas.runtime.callcenter.build import build_center
from tamas.runtime.callcenter.center import CallCenter
from tamas.runtime.mediaengine.leg import UdpLeg
from tamas.runtime.storewriter import StoreWriter
from tamas.sip.auth import DigestClient
from tamas.sip.builders import cancel_for, new_branch, new_tag
from tamas.sip.dialog import Dialog
from tamas.sip.headers import Headers
from tamas.sip.message import Request, Response
from tamas.sip.sdp import Direction, SessionDescription
from tamas.sip.uri import parse_uri
from tamas.store import Binding, CallRecord, open_store

CARRIER, B_PORT, C_PORT, PHONE_PORT, D1_PORT, D2_PORT = 5071, 5072, 5073, 5077, 5074, 5075
MEDIA_PORTS = (42000, 42999)

CONFIG = """
server: {{bind: 127.0.0.1, sip_port: 5060, tls_port: 0, ws_port: 0, wss_port: 0, http_port: 0}}
security: {{rate_limit: {{messages_per_second: 100000, burst: 100000}}}}
extensions:
  - {{number: "2000", name: Bea, password: b2000, contact: "sip:b@127.0.0.1:5072"}}
  - {{number: "3000", name: Cy, password: c3000, contact: "sip:c@127.0.0.1:5073"}}
  - {{number: "1001", name: Al, password: a1001}}
trunks:
  - {{name: carrier, host: 127.0.0.1, port: 5071, inbound_match: source, match_port: true}}
inbound:
  - {{did: "*", destination: "2000", trunk: carrier}}
media:
  port_min: {port_min}
  port_max: {port_max}
  timeout_seconds: {timeout}
  prealloc_legs: {prealloc}
  applications:
    - {{number: "*43", kind: echo}}
    - {{number: "*44", kind: prompt, prompt_file: "{prompt}"}}
"""

Scenario = Callable[["Media"], Awaitable[None]]


@dataclass
class Media:
    net: Net
    runtime: MediaRuntime
    digits: list[CallDigit]
    center: CallCenter | None = None


def play(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    scenario: Scenario,
    *,
    timeout: float = 30.0,
    prealloc: int = 4,
    config: str | None = None,
    prompt_audio: bytes | None = None,
    checks: Callable[[MediaRuntime], None] | None = None,
    events: list[LogRecord] | None = None,
) -> list[CallRecord]:
    """Run ``scenario`` against a B2BUA with a real media engine built from ``config`` (a
    template with CONFIG's fields; CONFIG itself by default); ``checks`` run on the runtime
    after the scenario, before it closes. With ``events``, the contact center is built too
    (queues, IVR, parking...) and its event log records are collected there."""
    prompt = tmp_path / "prompt.wav"
    if prompt_audio is None:  # 0.3 s of a 500 Hz tone
        t = np.arange(2400) / 8000
        prompt_audio = (np.sin(2 * np.pi * 500 * t) * 8000).astype("<i2").tobytes()
    with wave.open(str(prompt), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(prompt_audio)
    template = CONFIG if config is None else config
    text = template.format(port_min=MEDIA_PORTS[0], port_max=MEDIA_PORTS[1], timeout=timeout,
                           prealloc=prealloc, prompt=prompt)  # fmt: skip
    config = parse_config(text, "test.yaml")
    store = open_store(f"sqlite:///{tmp_path}/t.db")
    writer = StoreWriter(store)

    async def main() -> None:
        stack = build_sip_stack(config, store, writer)
        net = Net(stack)
        runtime = await start_media(config, stack, tmp_path)
        assert runtime is not None
        digits: list[CallDigit] = []
        runtime.anchor.digit_hooks.append(digits.append)
        center = None
        if events is not None:
            center = build_center(config, stack.b2bua, runtime.anchor, runtime.apps,
                                  runtime.speaker, events.extend)  # fmt: skip
        try:
            await scenario(Media(net, runtime, digits, center))
            net.assert_quiet()
            b2bua = stack.b2bua
            assert b2bua.calls == {}, "a call is still up"
            assert b2bua.legs == {}, f"legs left: {list(b2bua.legs.values())}"
            # no engine leg left behind: only the pool's ready legs are open
            assert set(runtime.engine.legs) == set(runtime.anchor.pool.idle)
            assert runtime.anchor.owners == {}
            if checks is not None:
                checks(runtime)
        finally:
            if center is not None:
                center.close()
            await runtime.aclose()
        assert list(runtime.engine.legs) == []

    caplog.set_level(logging.INFO, logger="tamas")
    try:
        asyncio.run(main())
    finally:
        writer.close()
    records = store.calls.recent_calls()
    store.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    return records


# -- helpers ----------------------------------------------------------------------------------
class RtpPort:
    """A party's RTP socket on 127.0.0.1 (its port goes into the party's SDP)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.received: list[tuple[bytes, tuple[str, int]]] = []
        self.seq = 0

    def sdp(self, *, codecs: str = "0", direction: str = "sendrecv", version: int = 1,
            address: str = HOST) -> bytes:  # fmt: skip
        names = {
            "0": "PCMU/8000",
            "8": "PCMA/8000",
            "9": "G722/8000",
            "101": "telephone-event/8000",
        }
        maps = "".join(f"a=rtpmap:{pt} {names[pt]}\r\n" for pt in codecs.split())
        return (
            f"v=0\r\no=- {self.port} {version} IN IP4 {address}\r\ns=-\r\nc=IN IP4 {address}\r\n"
            f"t=0 0\r\nm=audio {self.port} RTP/AVP {codecs}\r\n{maps}a={direction}\r\n"
        ).encode()

    def send(
        self, port: int, payload: bytes, pt: int = 0, marker: bool = False, ts: int | None = None
    ) -> None:
        self.seq += 1
        stamp = self.seq * 160 if ts is None else ts
        header = struct.pack("!BBHII", 0x80, pt | (0x80 if marker else 0), self.seq, stamp,
                             0x1234)  # fmt: skip
        self.sock.sendto(header + payload, (HOST, port))

    def poll(self) -> int:
        while True:
            try:
                self.received.append(self.sock.recvfrom(2048))
            except BlockingIOError:
                return len(self.received)

    def close(self) -> None:
        self.sock.close()


def media_of(body: bytes) -> tuple[str, int, list[str], Direction]:
    sd = SessionDescription.parse(body)
    m = sd.media[0]
    conn = m.effective_connection(sd)
    assert conn is not None
    return conn.host, m.port, list(m.formats), m.effective_direction(sd)


def engine_leg(media: Media, port: int) -> UdpLeg:
    (leg,) = [leg for leg in media.runtime.engine.legs if leg.local_port == port]
    return leg


def req(msg: Request | Response) -> Request:
    assert isinstance(msg, Request), msg
    return msg


def resp(msg: Request | Response) -> Response:
    assert isinstance(msg, Response), msg
    return msg


class Anchored:
    """carrier -> 2000 (B), answered, both parties with real RTP sockets."""

    def __init__(self, media: Media, *, b_codecs: str = "0 101") -> None:
        net = media.net
        self.media = media
        self.carrier, self.b = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b")
        self.rtp_a, self.rtp_b = RtpPort(), RtpPort()
        self.invite = self.carrier.invite("sip:5551000@127.0.0.1:5060",
                                          body=self.rtp_a.sdp(codecs="0 8 101"))  # fmt: skip
        self.b_invite = self.b.expect_request("INVITE")
        host, self.tamas_b_port, formats, _ = media_of(self.b_invite.body)
        assert host == HOST and self.tamas_b_port != self.rtp_a.port
        assert formats == ["0", "8", "101"]  # the caller's codecs, passed through
        self.b_dialog = self.b.answer(self.b_invite, "btag", body=self.rtp_b.sdp(codecs=b_codecs))
        self.b.expect("ACK")
        _, ok = self.carrier.expect("100 INVITE", "200 INVITE")
        self.ok = resp(ok)
        host, self.tamas_a_port, self.a_formats, _ = media_of(self.ok.body)
        assert host == HOST and self.tamas_a_port not in (self.tamas_b_port, self.rtp_b.port)
        self.a_dialog = self.carrier.dialog_as_uac(self.invite, self.ok)
        self.carrier.ack(self.a_dialog, self.invite)

    def hang_up(self) -> None:
        self.carrier.request(self.a_dialog, "BYE")
        self.carrier.expect("200 BYE")
        self.b.reply(self.b.expect_request("BYE"), 200)
        self.rtp_a.close()
        self.rtp_b.close()


# -- anchored basic call -----------------------------------------------------------------------
def test_anchored_call_relays_rtp(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(media: Media) -> None:
        call = Anchored(media)
        assert call.a_formats == ["0", "101"]  # B chose PCMU: the caller is answered with it
        a_leg, b_leg = engine_leg(media, call.tamas_a_port), engine_leg(media, call.tamas_b_port)
        assert a_leg.peer is b_leg
        payload = bytes(range(160))
        for _ in range(3):
            call.rtp_a.send(call.tamas_a_port, payload)
        await until(lambda: call.rtp_b.poll() >= 3)
        data, source = call.rtp_b.received[0]
        assert source == (HOST, call.tamas_b_port)  # from Tamas's port, not the caller's
        assert data[12:] == payload  # a plain relay
        call.rtp_b.send(call.tamas_b_port, payload[::-1])
        await until(lambda: call.rtp_a.poll() >= 1)
        assert call.rtp_a.received[0][0][12:] == payload[::-1]
        call.hang_up()

    (rec,) = play(tmp_path, caplog, scenario)
    assert rec.cause == "bye-from-a"
    assert "media a: 3 packets in, 1 out" in caplog.text


def test_codecs_differ_transcoded(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """B answers PCMA only; the caller, who prefers PCMU, is answered PCMA (a plain relay).
    A caller offering PCMU only gets PCMU and the engine transcodes."""

    async def scenario(media: Media) -> None:
        net = media.net
        carrier, b = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b")
        rtp_a, rtp_b = RtpPort(), RtpPort()
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=rtp_a.sdp(codecs="0"))
        b_invite = b.expect_request("INVITE")
        assert media_of(b_invite.body)[2] == ["0", "8", "101"]  # PCMA added: Tamas transcodes
        b.answer(b_invite, "btag", body=rtp_b.sdp(codecs="8"))
        b.expect("ACK")
        _, ok = carrier.expect("100 INVITE", "200 INVITE")
        _, a_port, formats, _ = media_of(resp(ok).body)
        assert formats == ["0"]
        a_dialog = carrier.dialog_as_uac(invite, resp(ok))
        carrier.ack(a_dialog, invite)
        silence_ulaw = ulaw_encode(np.zeros(160, np.int16))
        rtp_a.send(a_port, silence_ulaw)
        await until(lambda: rtp_b.poll() >= 1)
        data = rtp_b.received[0][0]
        assert data[1] & 0x7F == 8 and data[12:] == b"\xd5" * 160  # A-law silence
        carrier.request(a_dialog, "BYE")
        carrier.expect("200 BYE")
        b.reply(b.expect_request("BYE"), 200)
        rtp_a.close()
        rtp_b.close()

    play(tmp_path, caplog, scenario)


def test_offer_without_g711_refused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(media: Media) -> None:
        carrier = media.net.phone(CARRIER, "carrier")
        rtp = RtpPort()
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=rtp.sdp(codecs="9"))
        _, refused = carrier.expect("100 INVITE", "488 INVITE")
        carrier.ack_failure(invite, resp(refused))
        rtp.close()

    (rec,) = play(tmp_path, caplog, scenario)
    assert rec.status == 488


# -- early media -----------------------------------------------------------------------------------
def test_early_media_bridged_before_answer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(media: Media) -> None:
        net = media.net
        carrier, b = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b")
        rtp_a, rtp_b = RtpPort(), RtpPort()
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=rtp_a.sdp(codecs="0 101"))
        b_invite = b.expect_request("INVITE")
        b_port = media_of(b_invite.body)[1]
        b.reply(b_invite, 183, tag="btag", body=rtp_b.sdp())
        _, progress = carrier.expect("100 INVITE", "183 INVITE")
        early = resp(progress).body
        assert media_of(early)[0] == HOST
        rtp_b.send(b_port, b"\x7f" * 160)  # the far end's ringback reaches the caller
        await until(lambda: rtp_a.poll() >= 1)
        b.answer(b_invite, "btag", body=rtp_b.sdp())
        b.expect("ACK")
        ok = carrier.expect_response("200 INVITE")
        assert ok.body == early  # the same answer in the 183 and the 200
        a_dialog = carrier.dialog_as_uac(invite, ok)
        carrier.ack(a_dialog, invite)
        b.request(Dialog.for_uas(b_invite, "btag", b.contact, confirmed=True), "BYE")
        b.expect("200 BYE")
        carrier.reply(carrier.expect_request("BYE"), 200)
        rtp_a.close()
        rtp_b.close()

    (rec,) = play(tmp_path, caplog, scenario)
    assert rec.cause == "bye-from-b"


# -- hold ---------------------------------------------------------------------------------------
def test_hold_answered_by_tamas_with_music(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(media: Media) -> None:
        call = Anchored(media)
        carrier, b = call.carrier, call.b
        b_leg = engine_leg(media, call.tamas_b_port)
        hold = call.rtp_a.sdp(codecs="0 101", direction="sendonly", version=2)
        reinvite = carrier.request(call.a_dialog, "INVITE", body=hold)
        _, ok = carrier.expect("100 INVITE", "200 INVITE")
        host, port, _, direction = media_of(resp(ok).body)
        assert (host, port, direction) == (HOST, call.tamas_a_port, Direction.RECVONLY)
        assert SessionDescription.parse(resp(ok).body).origin.sess_version == (
            SessionDescription.parse(call.ok.body).origin.sess_version + 1
        )
        carrier.ack(call.a_dialog, reinvite)
        net_quiet = media.net.wire.pending()
        assert net_quiet == {}  # nothing relayed to B
        assert b_leg.source is not None  # B hears music on hold
        await until(lambda: call.rtp_b.poll() >= 5)
        # unhold: the music stops, the bridge is still there
        unhold = call.rtp_a.sdp(codecs="0 101", version=3)
        reinvite = carrier.request(call.a_dialog, "INVITE", body=unhold)
        _, ok = carrier.expect("100 INVITE", "200 INVITE")
        assert media_of(resp(ok).body)[3] is Direction.SENDRECV
        carrier.ack(call.a_dialog, reinvite)
        assert b_leg.source is None and b_leg.peer is engine_leg(media, call.tamas_a_port)
        # a re-INVITE without an offer: Tamas offers in the 200, the ACK answers
        reinvite = b.request(call.b_dialog, "INVITE")
        _, ok = b.expect("100 INVITE", "200 INVITE")
        assert media_of(resp(ok).body)[1] == call.tamas_b_port
        b.request(call.b_dialog, "ACK", body=call.rtp_b.sdp(version=2), cseq=reinvite.cseq.seq)
        media.net.assert_quiet()
        call.hang_up()

    play(tmp_path, caplog, scenario)
    assert "a holds the call" in caplog.text and "a resumes the call" in caplog.text


# -- DTMF over SIP INFO -------------------------------------------------------------------------
def test_info_dtmf_relay_is_a_digit(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(media: Media) -> None:
        call = Anchored(media)
        call.b.request(call.b_dialog, "INFO", body=b"Signal=5\r\nDuration=160\r\n",
                       ctype="application/dtmf-relay")  # fmt: skip
        call.b.expect("200 INFO")
        call.b.request(call.b_dialog, "INFO", body=b"Signal=11\r\nDuration=100\r\n",
                       ctype="application/dtmf-relay")  # fmt: skip
        call.b.expect("200 INFO")
        media.net.assert_quiet()  # not relayed to the carrier
        # RFC 4733 digits through the engine: a "7", three end packets
        for i, flags in enumerate((0x00, 0x00, 0x80, 0x80, 0x80)):
            event = struct.pack("!BBH", 7, flags | 10, 160 * (i + 1))
            call.rtp_a.send(call.tamas_a_port, event, pt=101, marker=i == 0, ts=8000)
        await until(lambda: len(media.digits) >= 3)
        assert [(d.digit, d.side, d.via) for d in media.digits] == [
            ("5", "b", "info"), ("#", "b", "info"), ("7", "a", "rfc4733"),
        ]  # fmt: skip
        assert media.digits[0].duration_ms == 160
        call.hang_up()

    play(tmp_path, caplog, scenario)


# -- media timeout -------------------------------------------------------------------------------
def test_media_timeout_hangs_up(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(media: Media) -> None:
        call = Anchored(media)
        await until(lambda: call.carrier.peek() == ["BYE"], timeout=10.0)
        call.carrier.reply(call.carrier.expect_request("BYE"), 200)
        call.b.reply(call.b.expect_request("BYE"), 200)
        call.rtp_a.close()
        call.rtp_b.close()

    (rec,) = play(tmp_path, caplog, scenario, timeout=1.0)
    assert rec.cause == "media-timeout"
    assert "no RTP from" in caplog.text


# -- delayed offer -----------------------------------------------------------------------------
def test_delayed_offer_anchored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(media: Media) -> None:
        net = media.net
        carrier, b = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b")
        rtp_a, rtp_b = RtpPort(), RtpPort()
        invite = carrier.invite("sip:5551000@127.0.0.1:5060")
        b_invite = b.expect_request("INVITE")
        assert b_invite.body == b""  # the offer is still delayed
        b_dialog = b.answer(b_invite, "btag", body=rtp_b.sdp(codecs="8 101"))
        _, ok = carrier.expect("100 INVITE", "200 INVITE")
        host, a_port, formats, _ = media_of(resp(ok).body)
        assert host == HOST and formats == ["8", "0", "101"]  # Tamas's offer, B's codecs first
        b.expect()  # B's ACK waits for the caller's answer
        a_dialog = carrier.dialog_as_uac(invite, resp(ok))
        carrier.request(a_dialog, "ACK", body=rtp_a.sdp(codecs="8 101"), cseq=1)
        ack = b.expect_request("ACK")
        b_host, b_port, b_formats, _ = media_of(ack.body)
        assert b_host == HOST and b_port != a_port and b_formats == ["8", "101"]
        rtp_a.send(a_port, b"\xd5" * 160, pt=8)
        await until(lambda: rtp_b.poll() >= 1)
        assert rtp_b.received[0][1] == (HOST, b_port)
        b.request(b_dialog, "BYE")
        b.expect("200 BYE")
        carrier.reply(carrier.expect_request("BYE"), 200)
        rtp_a.close()
        rtp_b.close()

    play(tmp_path, caplog, scenario)


# -- blind transfer: the transferee's RTP does not move ----------------------------------------
def test_anchored_transfer_rebridges(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(media: Media) -> None:
        call = Anchored(media)
        carrier, b, c = call.carrier, call.b, media.net.phone(C_PORT, "c")
        rtp_c = RtpPort()
        a_leg = engine_leg(media, call.tamas_a_port)
        # B holds the caller first (the case of "transfer of a held call")
        b.request(call.b_dialog, "INVITE", body=call.rtp_b.sdp(direction="sendonly", version=2))
        b.expect("100 INVITE", "200 INVITE")
        b.request(call.b_dialog, "ACK", cseq=2)
        assert a_leg.source is not None  # music on hold
        b.request(call.b_dialog, "REFER", headers=(("Refer-To", "<sip:3000@tamas.local>"),))
        _, trying = b.expect("202 REFER", "NOTIFY")
        b.reply(req(trying), 200)
        c_invite = c.expect_request("INVITE")
        c_host, c_port, c_formats, _ = media_of(c_invite.body)
        assert c_host == HOST and c_port not in (call.tamas_a_port, call.tamas_b_port)
        assert c_formats == ["0", "8", "101"]
        assert a_leg.source is not None  # ringback tones while the target rings
        c.answer(c_invite, "ctag", body=rtp_c.sdp())
        c.expect("ACK")
        done, bye = b.expect("NOTIFY", "BYE")
        b.reply(req(done), 200)
        b.reply(req(bye), 200)
        carrier.expect()  # no re-INVITE: the caller's RTP stays where it was
        assert a_leg.source is None and a_leg.peer is engine_leg(media, c_port)
        call.rtp_a.send(call.tamas_a_port, b"\x11" * 160)
        await until(lambda: rtp_c.poll() >= 1)
        assert rtp_c.received[0][1] == (HOST, c_port)
        carrier.request(call.a_dialog, "BYE")
        carrier.expect("200 BYE")
        c.reply(c.expect_request("BYE"), 200)
        for port in (call.rtp_a, call.rtp_b, rtp_c):
            port.close()

    (rec,) = play(tmp_path, caplog, scenario)
    assert rec.cause == "bye-from-a"


def test_anchored_transfer_fails_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(media: Media) -> None:
        call = Anchored(media)
        b, c = call.b, media.net.phone(C_PORT, "c")
        a_leg = engine_leg(media, call.tamas_a_port)
        b.request(call.b_dialog, "REFER", headers=(("Refer-To", "<sip:3000@tamas.local>"),))
        _, trying = b.expect("202 REFER", "NOTIFY")
        b.reply(req(trying), 200)
        c_invite = c.expect_request("INVITE")
        c.reply(c_invite, 486, tag="ctag")
        c.expect("ACK")
        b.reply(b.expect_request("NOTIFY"), 200)
        assert a_leg.source is None and a_leg.peer is engine_leg(media, call.tamas_b_port)
        call.hang_up()

    play(tmp_path, caplog, scenario)


# -- calls Tamas answers itself ----------------------------------------------------------------
def authed_invite(phone: Phone, uri: str, body: bytes, password: str) -> Request:
    """INVITE as extension ``phone.user``, answering Tamas's digest challenge."""
    call_id, tag = f"{new_tag()}@{HOST}", new_tag()

    def build(cseq: int, auth: tuple[str, str] | None) -> Request:
        h = Headers()
        h.add("Via", f"SIP/2.0/UDP {HOST}:{phone.port};branch={new_branch()};rport")
        h.add("Max-Forwards", "70")
        h.add("From", f"<sip:{phone.user}@tamas.local>;tag={tag}")
        h.add("To", f"<{uri}>")
        h.add("Call-ID", call_id)
        h.add("CSeq", f"{cseq} INVITE")
        h.add("Contact", phone.contact)
        if auth is not None:
            h.add(*auth)
        if body:
            h.add("Content-Type", "application/sdp")
        return Request(method="INVITE", uri=parse_uri(uri), headers=h, body=body)

    first = build(1, None)
    phone.send(first)
    challenge = phone.take()[-1]
    assert isinstance(challenge, Response) and challenge.status in (401, 407)
    phone.ack_failure(first, challenge)
    name = "Proxy-Authenticate" if challenge.status == 407 else "WWW-Authenticate"
    value = DigestClient(phone.user, password).authorize(
        challenge.headers.get(name) or "", method="INVITE", uri=uri, cnonce="abc"
    )
    header = "Proxy-Authorization" if challenge.status == 407 else "Authorization"
    second = build(2, (header, value))
    phone.send(second)
    return second


def test_echo_application(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(media: Media) -> None:
        phone = media.net.phone(PHONE_PORT, "1001")
        rtp = RtpPort()
        invite = authed_invite(phone, "sip:*43@127.0.0.1:5060", rtp.sdp(codecs="8 0 101"), "a1001")
        ok = resp(phone.take()[-1])
        assert ok.status == 200
        host, port, formats, _ = media_of(ok.body)
        assert host == HOST and formats == ["8", "101"]
        dialog = phone.dialog_as_uac(invite, ok)
        phone.ack(dialog, invite)
        tone = (np.sin(np.arange(160) * 0.3) * 6000).astype(np.int16)
        sent = alaw_encode(tone)
        for _ in range(10):
            rtp.send(port, sent, pt=8)
            await asyncio.sleep(0.02)
        await until(lambda: rtp.poll() >= 10)
        echoed = [alaw_decode(d[12:]) for d, _ in rtp.received]
        loud = [f for f in echoed if np.abs(f.astype(np.int32)).max() > 3000]
        assert loud, "the caller's audio did not come back"
        assert np.array_equal(loud[0], alaw_decode(sent))
        phone.request(dialog, "BYE")
        phone.expect("200 BYE")
        rtp.close()

    (rec,) = play(tmp_path, caplog, scenario)
    assert (rec.caller, rec.callee, rec.cause) == ("1001", "*43", "bye-from-a")


def test_prompt_application_plays_then_hangs_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(media: Media) -> None:
        phone = media.net.phone(PHONE_PORT, "1001")
        rtp = RtpPort()
        invite = authed_invite(phone, "sip:*44@127.0.0.1:5060", rtp.sdp(codecs="0"), "a1001")
        ok = resp(phone.take()[-1])
        dialog = phone.dialog_as_uac(invite, ok)
        phone.ack(dialog, invite)
        started = time.monotonic()
        await until(lambda: phone.peek() == ["BYE"], timeout=5.0)
        assert time.monotonic() - started >= 0.25  # the 0.3 s prompt was played first
        phone.reply(phone.expect_request("BYE"), 200)
        assert rtp.poll() >= 12  # 15 frames of 20 ms
        rtp.close()

    (rec,) = play(tmp_path, caplog, scenario)
    assert rec.cause == "prompt-played"


# -- an INVITE that finds no leg ready waits for one ---------------------------------------------
def test_invite_waits_for_the_pool(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(media: Media) -> None:
        pool = media.runtime.anchor.pool
        assert pool.available() == 1  # fewer than the two a call needs
        carrier, b = media.net.phone(CARRIER, "carrier"), media.net.phone(B_PORT, "b")
        rtp = RtpPort()
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=rtp.sdp())
        await until(lambda: b.peek() == ["INVITE"])
        b_invite = b.expect_request("INVITE")
        b.reply(b_invite, 486, tag="btag")
        b.expect("ACK")
        _, busy = carrier.expect("100 INVITE", "486 INVITE")
        carrier.ack_failure(invite, resp(busy))
        rtp.close()

    play(tmp_path, caplog, scenario, prealloc=1)


# -- forks share one engine leg; cancelled calls keep none --------------------------------------
def test_forks_share_a_leg_and_cancel_releases_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(media: Media) -> None:
        net = media.net
        for port in (D1_PORT, D2_PORT):
            net.stack.location.put(Binding(
                aor="3000", contact_uri=f"sip:d{port}@127.0.0.1:{port}", flow_transport="UDP",
                flow_host="127.0.0.1", flow_port=port, expires_at=time.time() + 3600,
                call_id=f"reg-{port}", cseq=1,
            ))  # fmt: skip
        phone = net.phone(PHONE_PORT, "1001")
        d1, d2, c = net.phone(D1_PORT, "d1"), net.phone(D2_PORT, "d2"), net.phone(C_PORT, "c")
        rtp = RtpPort()
        engine = media.runtime.engine
        before = len(list(engine.legs))
        invite = authed_invite(phone, "sip:3000@127.0.0.1:5060", rtp.sdp(), "a1001")
        inv1, inv2, inv3 = (p.expect_request("INVITE") for p in (c, d1, d2))
        assert inv1.body == inv2.body == inv3.body  # one offer, one port for every fork
        # the caller's leg and one leg for the forks; the pool refills in the background
        owned = {lm.engine for _, lm in media.runtime.anchor.owners.values()}
        assert len(owned) == 2
        assert len(list(engine.legs)) >= before
        for p, inv, tag in ((c, inv1, "ct"), (d1, inv2, "d1t"), (d2, inv3, "d2t")):
            p.reply(inv, 180, tag=tag)
        phone.take()
        phone.send(cancel_for(invite))
        ok, terminated = phone.take()[-2:]
        assert resp(ok).status == 200 and resp(terminated).status == 487
        phone.ack_failure(invite, resp(terminated))
        for p, inv, tag in ((c, inv1, "ct"), (d1, inv2, "d1t"), (d2, inv3, "d2t")):
            cancel = p.expect_request("CANCEL")
            p.reply(cancel, 200, tag=tag)
            p.reply(inv, 487, tag=tag)
            p.expect("ACK")
        assert media.runtime.anchor.owners == {}
        rtp.close()

    (rec,) = play(tmp_path, caplog, scenario)
    assert rec.cause == "cancelled"


def test_update_with_a_new_address_reconfigures_the_leg(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """B moves its media to another port (and law) by UPDATE: Tamas answers it, the caller
    hears nothing of it, and B's audio now goes to the new port, transcoded."""

    async def scenario(media: Media) -> None:
        call = Anchored(media)
        moved = RtpPort()
        b_leg = engine_leg(media, call.tamas_b_port)
        call.b.request(call.b_dialog, "UPDATE", body=moved.sdp(codecs="8", version=2))
        ok = call.b.expect_response("200 UPDATE")
        _, port, formats, _ = media_of(ok.body)
        assert (port, formats) == (call.tamas_b_port, ["8"])
        media.net.assert_quiet()  # nothing reached the caller
        assert b_leg.target == (HOST, moved.port)
        call.rtp_a.send(call.tamas_a_port, b"\xff" * 160)  # µ-law silence from the caller
        await until(lambda: moved.poll() >= 1)
        data = moved.received[0][0]
        assert data[1] & 0x7F == 8 and data[12:] == b"\xd5" * 160  # as A-law silence
        assert call.rtp_b.poll() == 0
        moved.close()
        call.hang_up()

    play(tmp_path, caplog, scenario)


# -- the seam recording control uses --------------------------------------------------------------
class FakeTap:
    def __init__(self) -> None:
        self.fed: list[int] = []

    def feed(self, side: int, packet: bytes, codec: object) -> None:
        self.fed.append(side)


def test_recording_seam_survives_a_transfer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Hooks tell when a call is answered and bridged and when it ends; the bridge lookup
    says which side is the caller's; a re-made bridge (transfer) keeps the call's tap."""

    async def scenario(media: Media) -> None:
        anchor = media.runtime.anchor
        lookup = BridgeLookup(media.net.stack.b2bua)
        answered: list[str] = []
        ended: list[str] = []
        tap = FakeTap()
        anchor.answered_hooks.append(answered.append)
        anchor.ended_hooks.append(ended.append)
        anchor.tap_for = lambda call_id: tap if call_id in answered else None
        call = Anchored(media)
        (call_id,) = answered
        assert lookup.has_call(call_id) and not lookup.has_call("nope")
        bridge = lookup.bridge(call_id)
        assert bridge is not None and bridge.caller_side == 0
        assert bridge.leg is engine_leg(media, call.tamas_a_port)
        media.runtime.engine.set_tap(bridge.leg, tap)  # what recording control does
        call.rtp_a.send(call.tamas_a_port, b"\x01" * 160)
        await until(lambda: tap.fed == [0])
        b, c = call.b, media.net.phone(C_PORT, "c")
        rtp_c = RtpPort()
        b.request(call.b_dialog, "REFER", headers=(("Refer-To", "<sip:3000@tamas.local>"),))
        _, trying = b.expect("202 REFER", "NOTIFY")
        b.reply(req(trying), 200)
        c_invite = c.expect_request("INVITE")
        c.answer(c_invite, "ctag", body=rtp_c.sdp())
        c.expect("ACK")
        done, bye = b.expect("NOTIFY", "BYE")
        b.reply(req(done), 200)
        b.reply(req(bye), 200)
        assert answered == [call_id]  # still one answered call
        call.rtp_a.send(call.tamas_a_port, b"\x02" * 160)
        await until(lambda: tap.fed == [0, 0])  # the new bridge carries the tap
        call.carrier.request(call.a_dialog, "BYE")
        call.carrier.expect("200 BYE")
        c.reply(c.expect_request("BYE"), 200)
        assert ended == [call_id] and lookup.bridge(call_id) is None
        for port in (call.rtp_a, call.rtp_b, rtp_c):
            port.close()

    play(tmp_path, caplog, scenario)
