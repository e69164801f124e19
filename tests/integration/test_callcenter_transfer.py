"""Transfers to what Tamas answers itself: a park slot (and picking it up), a queue.

The real B2BUA, media engine and contact center; SIP in memory (:mod:`memsip`), RTP on real
sockets on 127.0.0.1 (the rig of test_b2bua_media).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from memsip import HOST, until
from test_b2bua_media import (
    B_PORT,
    C_PORT,
    CONFIG,
    PHONE_PORT,
    Anchored,
    Media,
    RtpPort,
    authed_invite,
    engine_leg,
    media_of,
    play,
    req,
    resp,
)

from tamas.core.events import LogRecord

PARKING = CONFIG + '    - {{number: "70", kind: park, park_seconds: 30}}\n'
QUEUE = (
    CONFIG
    + '    - {{number: "600", kind: queue, queue: sales}}\n'
    + "queues:\n  - {{name: sales, ring_timeout: 5, wrapup: 0, announce_every: null}}\n"
    + 'agents:\n  - {{id: cy, extension: "3000", queues: {{sales: 0}}}}\n'
)


def events_named(records: list[LogRecord], *names: str) -> list[str]:
    return [r.event for r in records if r.event in names]


def test_park_then_pick_up_from_another_phone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(media: Media) -> None:
        call = Anchored(media)
        b = call.b
        b.request(call.b_dialog, "REFER", headers=(("Refer-To", "<sip:701@tamas.local>"),))
        _, done, bye = b.expect("202 REFER", "NOTIFY", "BYE")
        assert b"SIP/2.0 200" in req(done).body
        b.reply(req(done), 200)
        b.reply(req(bye), 200)
        a_leg = engine_leg(media, call.tamas_a_port)
        await until(lambda: a_leg.source is not None)  # the parked caller hears music
        # 1001 dials the slot and gets the caller
        phone = media.net.phone(PHONE_PORT, "1001")
        rtp = RtpPort()
        invite = authed_invite(phone, "sip:701@127.0.0.1:5060", rtp.sdp(codecs="0 101"), "a1001")
        ok = resp(phone.take()[-1])
        assert ok.status == 200
        _, phone_port, _, _ = media_of(ok.body)
        dialog = phone.dialog_as_uac(invite, ok)
        phone.ack(dialog, invite)
        await until(lambda: a_leg.source is None)  # the music stops
        call.rtp_a.send(call.tamas_a_port, b"\x21" * 160)
        await until(lambda: rtp.poll() >= 1)
        assert rtp.received[-1][1] == (HOST, phone_port)
        rtp.send(phone_port, b"\x42" * 160)
        await until(lambda: call.rtp_a.poll() >= 1)
        call.carrier.request(call.a_dialog, "BYE")
        call.carrier.expect("200 BYE")
        phone.reply(phone.expect_request("BYE"), 200)
        for port in (call.rtp_a, call.rtp_b, rtp):
            port.close()
        await asyncio.sleep(0)

    events: list[LogRecord] = []
    records = play(tmp_path, caplog, scenario, config=PARKING, events=events)
    assert events_named(events, "PARK", "UNPARK") == ["PARK", "UNPARK"]
    park = next(r for r in events if r.event == "PARK")
    assert park.data == ("701", "2000")
    assert sorted(r.cause for r in records) == ["bye-from-a", "merged"]


def test_an_empty_slot_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(media: Media) -> None:
        phone = media.net.phone(PHONE_PORT, "1001")
        rtp = RtpPort()
        invite = authed_invite(phone, "sip:705@127.0.0.1:5060", rtp.sdp(codecs="0 101"), "a1001")
        ok = resp(phone.take()[-1])
        dialog = phone.dialog_as_uac(invite, ok)
        phone.ack(dialog, invite)
        await until(lambda: "BYE" in phone.peek(), 20)  # after "parking slot 7 0 5 is empty"
        phone.reply(phone.expect_request("BYE"), 200)
        assert rtp.poll() > 10  # the message was heard
        rtp.close()

    (rec,) = play(tmp_path, caplog, scenario, config=PARKING, events=[])
    assert rec.cause == "park slot empty"


def test_transfer_to_a_queue_reaches_its_agent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(media: Media) -> None:
        assert media.center is not None
        media.center.login("cy", "3000")
        call = Anchored(media)
        b, c = call.b, media.net.phone(C_PORT, "c")
        b.request(call.b_dialog, "REFER", headers=(("Refer-To", "<sip:600@tamas.local>"),))
        _, done, bye = b.expect("202 REFER", "NOTIFY", "BYE")
        b.reply(req(done), 200)
        b.reply(req(bye), 200)
        await until(lambda: "INVITE" in c.peek(), 5)  # the queue rings its agent
        c_invite = c.expect_request("INVITE")
        rtp_c = RtpPort()
        c_dialog = c.answer(c_invite, "ctag", body=rtp_c.sdp())
        c.expect("ACK")
        _, c_port, _, _ = media_of(c_invite.body)
        call.rtp_a.send(call.tamas_a_port, b"\x33" * 160)
        await until(lambda: rtp_c.poll() >= 1)
        assert rtp_c.received[-1][1] == (HOST, c_port)
        # the agent holds the call, then resumes it: the ACD follows
        center = media.center
        assert center.engine.agent_state("cy").value == "on_call"
        for cseq, direction, state in ((2, "sendonly", "on_hold"), (3, "sendrecv", "on_call")):
            c.request(c_dialog, "INVITE", body=rtp_c.sdp(direction=direction, version=cseq))
            c.expect("100 INVITE", "200 INVITE")
            c.request(c_dialog, "ACK", cseq=cseq)
            assert center.engine.agent_state("cy").value == state
        call.carrier.request(call.a_dialog, "BYE")
        call.carrier.expect("200 BYE")
        c.reply(c.expect_request("BYE"), 200)
        for port in (call.rtp_a, call.rtp_b, rtp_c):
            port.close()

    events: list[LogRecord] = []
    (rec,) = play(tmp_path, caplog, scenario, config=QUEUE, events=events)
    assert events_named(events, "ENTERQUEUE", "CONNECT", "HOLD", "UNHOLD", "COMPLETECALLER") == [
        "ENTERQUEUE", "CONNECT", "HOLD", "UNHOLD", "COMPLETECALLER",
    ]  # fmt: skip
    hold = next(r for r in events if r.event == "HOLD")
    assert (hold.queue, hold.agent) == ("sales", "cy")
    assert rec.cause == "bye-from-a"


def test_attended_transfer_joins_the_caller_with_the_consulted_party(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(media: Media) -> None:
        call = Anchored(media)  # the carrier's caller talks to 2000 (B)
        b, c = call.b, media.net.phone(C_PORT, "c")
        # B consults 3000 (C) in a second call through Tamas
        b_as_2000 = media.net.phone(B_PORT, "2000")
        rtp_b2, rtp_c = RtpPort(), RtpPort()
        consult = authed_invite(b_as_2000, "sip:3000@127.0.0.1:5060", rtp_b2.sdp(), "b2000")
        await until(lambda: "INVITE" in c.peek())
        c_invite = c.expect_request("INVITE")
        c.answer(c_invite, "ctag", body=rtp_c.sdp())
        c.expect("ACK")
        ok = resp(b.take()[-1])
        assert ok.status == 200
        consult_dialog = b_as_2000.dialog_as_uac(consult, ok)
        b_as_2000.ack(consult_dialog, consult)
        # B transfers: the caller to C, replacing the consultation dialog
        replaces = (f"{consult_dialog.call_id}%3Bto-tag%3D{consult_dialog.remote_tag}"
                    f"%3Bfrom-tag%3D{consult_dialog.local_tag}")  # fmt: skip
        refer_to = f"<sip:3000@tamas.local?Replaces={replaces}>"
        b.request(call.b_dialog, "REFER", headers=(("Refer-To", refer_to),))
        _, done, bye1, bye2 = b.expect("202 REFER", "NOTIFY", "BYE", "BYE")
        assert b"SIP/2.0 200" in req(done).body
        for msg in (done, bye1, bye2):
            b.reply(req(msg), 200)
        _, c_port, _, _ = media_of(c_invite.body)
        call.rtp_a.send(call.tamas_a_port, b"\x77" * 160)
        await until(lambda: rtp_c.poll() >= 1)
        assert rtp_c.received[-1][1] == (HOST, c_port)
        call.carrier.request(call.a_dialog, "BYE")
        call.carrier.expect("200 BYE")
        c.reply(c.expect_request("BYE"), 200)
        for port in (call.rtp_a, call.rtp_b, rtp_b2, rtp_c):
            port.close()

    records = play(tmp_path, caplog, scenario, events=[])
    assert sorted(r.cause for r in records) == ["bye-from-a", "merged"]
    assert "attended transfer of a to 3000" in caplog.text


def test_a_replaces_naming_no_dialog_is_481(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(media: Media) -> None:
        call = Anchored(media)
        call.b.request(
            call.b_dialog,
            "REFER",
            headers=(
                ("Refer-To", "<sip:3000@tamas.local?Replaces=nope%3Bto-tag%3Dx%3Bfrom-tag%3Dy>"),
            ),
        )
        call.b.expect("481 REFER")
        call.hang_up()

    play(tmp_path, caplog, scenario)
