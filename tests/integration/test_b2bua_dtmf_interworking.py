"""DTMF interworking in an anchored call: a key pressed one way on one side reaches the other
side the way that side negotiated (RFC 4733 events, or SIP INFO application/dtmf-relay).

Uses the anchored-call rig of ``test_b2bua_media`` (memsip signalling, the real media engine
on 127.0.0.1): the carrier calls extension 2000 ("b"), both with real RTP sockets.
"""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

import interwork_rig as h
import pytest
import test_b2bua_inband_dtmf as inband
import test_b2bua_media as rig

from tamas.media.telephone_event import TelephoneEvent


def test_info_from_the_phone_reaches_the_carrier_as_rfc4733(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(media: rig.Media) -> None:
        call = rig.Anchored(media)  # the carrier offered telephone-event 101
        for body in (b"Signal=5\r\nDuration=160\r\n", b"Signal=11\r\nDuration=100\r\n"):
            call.b.request(call.b_dialog, "INFO", body=body, ctype="application/dtmf-relay")
            call.b.expect("200 INFO")
        await rig.until(lambda: h.ends(call.rtp_a) >= 6)
        events = h.events(call.rtp_a)
        assert h.digits(events) == [("5", 160), ("#", 100)]
        assert [p.marker for p in events].count(True) == 2
        assert {p.pt for p in events} == {101}
        media.net.assert_quiet()  # no SIP INFO to the carrier: it has RFC 4733
        call.hang_up()

    rig.play(tmp_path, caplog, scenario)


def test_inband_tones_from_a_trunk_reach_the_phone_as_rfc4733(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = rig.CONFIG.replace("match_port: true}}", "match_port: true, dtmf: inband}}")
    monkeypatch.setattr(rig, "CONFIG", config)

    async def scenario(media: rig.Media) -> None:
        call = rig.Anchored(media)  # the phone answered with telephone-event 101
        for payload in inband.tone_packets("42"):
            call.rtp_a.send(call.tamas_a_port, payload)
            await asyncio.sleep(0.02)
        await rig.until(lambda: h.ends(call.rtp_b) >= 6)
        assert [(d.digit, d.via) for d in media.digits] == [("4", "inband"), ("2", "inband")]
        got = h.digits(h.events(call.rtp_b))
        assert [d for d, _ in got] == ["4", "2"]
        assert all(ms >= 80 for _, ms in got)  # the tones lasted 60 ms: at least 80 ms out
        call.hang_up()

    rig.play(tmp_path, caplog, scenario)


def test_rfc4733_reaches_a_phone_without_it_as_sip_info(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(media: rig.Media) -> None:
        call = rig.Anchored(media, b_codecs="0")  # the phone did not answer telephone-event
        h.send_event(call.rtp_a, call.tamas_a_port, 7, ts=8000, duration=1200)
        await rig.until(lambda: len(media.digits) >= 1)
        await asyncio.sleep(0.05)
        info = call.b.expect_request("INFO")
        assert info.content_type == "application/dtmf-relay"
        fields = dict(line.split("=", 1) for line in info.body.decode().split("\r\n") if line)
        assert fields == {"Signal": "7", "Duration": "150"}
        call.b.reply(info, 200)
        assert h.events(call.rtp_b) == []  # no events to a phone that did not want them
        call.hang_up()

    rig.play(tmp_path, caplog, scenario)


def test_rfc4733_on_both_sides_is_relayed_as_it_came(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(media: rig.Media) -> None:
        call = rig.Anchored(media)
        sent = h.send_event(call.rtp_a, call.tamas_a_port, 9, ts=16000, duration=800)
        await rig.until(lambda: len(media.digits) >= 1)
        await asyncio.sleep(0.3)  # time for anything Tamas would add
        events = h.events(call.rtp_b)
        assert [p.raw[12:] for p in events] == [s[12:] for s in sent]  # only the relayed ones
        assert {p.ssrc for p in events} == {0x1234}  # the carrier's stream
        media.net.assert_quiet()
        call.hang_up()

    rig.play(tmp_path, caplog, scenario)


def test_info_to_info_when_neither_side_has_rfc4733(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(media: rig.Media) -> None:
        net = media.net
        carrier, b = net.phone(rig.CARRIER, "carrier"), net.phone(rig.B_PORT, "b")
        rtp_a, rtp_b = rig.RtpPort(), rig.RtpPort()
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=rtp_a.sdp(codecs="0"))
        b_invite = b.expect_request("INVITE")
        b.answer(b_invite, "btag", body=rtp_b.sdp(codecs="0"))
        b.expect("ACK")
        _, ok = carrier.expect("100 INVITE", "200 INVITE")
        a_dialog = carrier.dialog_as_uac(invite, rig.resp(ok))
        carrier.ack(a_dialog, invite)
        carrier.request(a_dialog, "INFO", body=b"Signal=*\r\nDuration=250\r\n",
                        ctype="application/dtmf-relay")  # fmt: skip
        carrier.expect("200 INFO")
        info = b.expect_request("INFO")
        assert info.body == b"Signal=*\r\nDuration=250\r\n"
        b.reply(info, 200)
        carrier.request(a_dialog, "BYE")
        carrier.expect("200 BYE")
        b.reply(b.expect_request("BYE"), 200)
        rtp_a.close()
        rtp_b.close()
        await asyncio.sleep(0)

    rig.play(tmp_path, caplog, scenario)


def test_event_payload_sanity() -> None:
    """The helper's packets are what RFC 4733 section 2.3 says."""
    sent = h.event_packets(3, ts=100, duration=480)
    parsed = [TelephoneEvent.parse(p[12:]) for p in sent]
    assert [(e.event, e.end, e.duration) for e in parsed] == [
        (3, False, 160), (3, False, 320), (3, True, 480), (3, True, 480), (3, True, 480),
    ]  # fmt: skip
    assert [struct.unpack_from("!I", p, 4)[0] for p in sent] == [100] * 5
