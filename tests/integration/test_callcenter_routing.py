"""Conditional forwarding and ring groups, with the real B2BUA, media engine and center.

SIP in memory (:mod:`memsip`), RTP on real sockets on 127.0.0.1 (the rig of test_b2bua_media).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from memsip import HOST, until
from test_b2bua_media import (
    B_PORT,
    C_PORT,
    CARRIER,
    CONFIG,
    PHONE_PORT,
    Media,
    RtpPort,
    authed_invite,
    media_of,
    play,
    resp,
)

from tamas.core.events import LogRecord

FORWARD = CONFIG.replace(
    'contact: "sip:b@127.0.0.1:5072"}}',
    'contact: "sip:b@127.0.0.1:5072", forward: {{busy: "extension:3000"}}}}',
)
GROUP = CONFIG + (
    '    - {{number: "650", kind: ring_group, members: ["2000", "3000"], ring_strategy: hunt,'
    " ring_seconds: 5}}\n"
)


def test_a_busy_extension_forwards_to_another(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(media: Media) -> None:
        net = media.net
        carrier, b, c = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b"), net.phone(
            C_PORT, "c")  # fmt: skip
        rtp_a, rtp_c = RtpPort(), RtpPort()
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=rtp_a.sdp(codecs="0 8 101"))
        b_invite = b.expect_request("INVITE")
        b.reply(b_invite, 486, tag="btag")
        b.expect("ACK")
        await until(lambda: "INVITE" in c.peek())
        c_invite = c.expect_request("INVITE")
        messages = carrier.take()
        ok = resp(messages[-1])
        assert ok.status == 200  # Tamas answered the caller to forward the call
        _, a_port, _, _ = media_of(ok.body)
        dialog = carrier.dialog_as_uac(invite, ok)
        carrier.ack(dialog, invite)
        c.answer(c_invite, "ctag", body=rtp_c.sdp())
        c.expect("ACK")
        _, c_port, _, _ = media_of(c_invite.body)
        rtp_a.send(a_port, b"\x55" * 160)
        await until(lambda: rtp_c.poll() >= 1)
        assert rtp_c.received[-1][1] == (HOST, c_port)
        carrier.request(dialog, "BYE")
        carrier.expect("200 BYE")
        c.reply(c.expect_request("BYE"), 200)
        rtp_a.close()
        rtp_c.close()

    events: list[LogRecord] = []
    (rec,) = play(tmp_path, caplog, scenario, config=FORWARD, events=events)
    forward = next(r for r in events if r.event == "FORWARD")
    assert forward.data == ("2000", "busy", "extension:3000")
    assert rec.cause == "bye-from-a"


def test_a_hunt_group_rings_its_members_in_turn(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(media: Media) -> None:
        net = media.net
        phone, b, c = net.phone(PHONE_PORT, "1001"), net.phone(B_PORT, "b"), net.phone(
            C_PORT, "c")  # fmt: skip
        rtp, rtp_c = RtpPort(), RtpPort()
        invite = authed_invite(phone, "sip:650@127.0.0.1:5060", rtp.sdp(codecs="0 101"), "a1001")
        ok = resp(phone.take()[-1])
        assert ok.status == 200
        _, port, _, _ = media_of(ok.body)
        dialog = phone.dialog_as_uac(invite, ok)
        phone.ack(dialog, invite)
        await until(lambda: "INVITE" in b.peek())
        assert c.peek() == []  # one at a time
        b.reply(b.expect_request("INVITE"), 486, tag="btag")
        b.expect("ACK")
        await until(lambda: "INVITE" in c.peek())
        c_invite = c.expect_request("INVITE")
        c.answer(c_invite, "ctag", body=rtp_c.sdp())
        c.expect("ACK")
        rtp.send(port, b"\x66" * 160)
        await until(lambda: rtp_c.poll() >= 1)
        phone.request(dialog, "BYE")
        phone.expect("200 BYE")
        c.reply(c.expect_request("BYE"), 200)
        rtp.close()
        rtp_c.close()

    events: list[LogRecord] = []
    (rec,) = play(tmp_path, caplog, scenario, config=GROUP, events=events)
    group = next(r for r in events if r.event == "RINGGROUP")
    assert group.data == ("650", "hunt", "2000 3000")
    assert rec.cause == "bye-from-a"


UNAVAILABLE = CONFIG.replace(
    '  - {{number: "1001", name: Al, password: a1001}}',
    '  - {{number: "1001", name: Al, password: a1001, forward: {{unavailable: "extension:3000"}}}}',
).replace('destination: "2000", trunk: carrier', 'destination: "1001", trunk: carrier')


def test_a_did_to_an_unregistered_extension_forwards(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(media: Media) -> None:
        net = media.net
        carrier, c = net.phone(CARRIER, "carrier"), net.phone(C_PORT, "c")
        rtp_a, rtp_c = RtpPort(), RtpPort()
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=rtp_a.sdp(codecs="0 8 101"))
        await until(lambda: "INVITE" in c.peek())  # 1001 has no phone: straight to 3000
        c_invite = c.expect_request("INVITE")
        ok = resp(carrier.take()[-1])
        assert ok.status == 200
        dialog = carrier.dialog_as_uac(invite, ok)
        carrier.ack(dialog, invite)
        c.answer(c_invite, "ctag", body=rtp_c.sdp())
        c.expect("ACK")
        carrier.request(dialog, "BYE")
        carrier.expect("200 BYE")
        c.reply(c.expect_request("BYE"), 200)
        rtp_a.close()
        rtp_c.close()

    events: list[LogRecord] = []
    (rec,) = play(tmp_path, caplog, scenario, config=UNAVAILABLE, events=events)
    forward = next(r for r in events if r.event == "FORWARD")
    assert forward.data == ("1001", "unavailable", "extension:3000")
    assert rec.cause == "bye-from-a"
