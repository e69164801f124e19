"""After-hours forwarding: ``extensions[].hours`` + ``forward.closed``, with the real B2BUA,
media engine and center (the rig of test_b2bua_media). The center's clock is set by the
test, never read from the wall.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from memsip import until
from test_b2bua_media import (
    B_PORT,
    C_PORT,
    CARRIER,
    CONFIG,
    PHONE_PORT,
    Media,
    RtpPort,
    Scenario,
    authed_invite,
    play,
    resp,
)

from tamas.core.events import LogRecord

#: 2026-11-30 00:00 UTC, a Monday.
MONDAY = 1_795_996_800.0
OPEN_AT = MONDAY + 10 * 3600.0  # 10:00, inside 08:00-17:00
CLOSED_AT = MONDAY + 20 * 3600.0  # 20:00, after 17:00

CLOSED = CONFIG.replace(
    'contact: "sip:b@127.0.0.1:5072"}}',
    'contact: "sip:b@127.0.0.1:5072", hours: office, forward: {{closed: "extension:3000"}}}}',
) + (
    "calendars:\n  office: {{zone: UTC, weekly: {{mon: ['08:00-17:00'], tue: ['08:00-17:00']}}}}\n"
)


def _forwards(events: list[LogRecord]) -> list[tuple[str, ...]]:
    return [r.data for r in events if r.event == "FORWARD"]


def _closed_call_reaches_3000(caller: str) -> Scenario:
    async def scenario(media: Media) -> None:
        assert media.center is not None
        media.center.clock = lambda: CLOSED_AT
        net = media.net
        b, c = net.phone(B_PORT, "b"), net.phone(C_PORT, "c")
        rtp_a, rtp_c = RtpPort(), RtpPort()
        if caller == "carrier":
            phone = net.phone(CARRIER, "carrier")
            invite = phone.invite("sip:5551000@127.0.0.1:5060", body=rtp_a.sdp(codecs="0 8"))
        else:
            phone = net.phone(PHONE_PORT, "1001")
            invite = authed_invite(phone, "sip:2000@127.0.0.1:5060", rtp_a.sdp(), "a1001")
        await until(lambda: "INVITE" in c.peek())  # straight to 3000
        assert b.peek() == []  # 2000 was never rung
        c_invite = c.expect_request("INVITE")
        ok = resp(phone.take()[-1])
        assert ok.status == 200  # Tamas answered the caller to forward the call
        dialog = phone.dialog_as_uac(invite, ok)
        phone.ack(dialog, invite)
        c.answer(c_invite, "ctag", body=rtp_c.sdp())
        c.expect("ACK")
        phone.request(dialog, "BYE")
        phone.expect("200 BYE")
        c.reply(c.expect_request("BYE"), 200)
        rtp_a.close()
        rtp_c.close()

    return scenario


@pytest.mark.parametrize("caller", ["carrier", "1001"])
def test_a_closed_extension_forwards_without_ringing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, caller: str
) -> None:
    events: list[LogRecord] = []
    scenario = _closed_call_reaches_3000(caller)
    (rec,) = play(tmp_path, caplog, scenario, config=CLOSED, events=events)
    assert _forwards(events) == [("2000", "closed", "extension:3000")]
    assert rec.cause == "bye-from-a"
    assert "2000 is closed; forwarded to extension:3000" in caplog.text


def test_an_open_extension_rings(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(media: Media) -> None:
        assert media.center is not None
        media.center.clock = lambda: OPEN_AT
        net = media.net
        carrier, b = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b")
        rtp_a, rtp_b = RtpPort(), RtpPort()
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=rtp_a.sdp(codecs="0 8"))
        b_invite = b.expect_request("INVITE")  # 2000 rings, as always in its hours
        b.answer(b_invite, "btag", body=rtp_b.sdp())
        b.expect("ACK")
        ok = resp(carrier.take()[-1])
        assert ok.status == 200
        dialog = carrier.dialog_as_uac(invite, ok)
        carrier.ack(dialog, invite)
        carrier.request(dialog, "BYE")
        carrier.expect("200 BYE")
        b.reply(b.expect_request("BYE"), 200)
        rtp_a.close()
        rtp_b.close()

    events: list[LogRecord] = []
    (rec,) = play(tmp_path, caplog, scenario, config=CLOSED, events=events)
    assert _forwards(events) == []
    assert rec.cause == "bye-from-a"


def test_without_closed_forwarding_a_closed_extension_rings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``hours`` alone changes nothing: the extension rings after hours too."""
    config = CLOSED.replace(', forward: {{closed: "extension:3000"}}', "")

    async def scenario(media: Media) -> None:
        assert media.center is not None
        media.center.clock = lambda: CLOSED_AT
        net = media.net
        carrier, b = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b")
        rtp_a = RtpPort()
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=rtp_a.sdp(codecs="0 8"))
        b.reply(b.expect_request("INVITE"), 486, tag="btag")  # rung, and busy
        b.expect("ACK")
        await until(lambda: "486 INVITE" in carrier.peek())
        carrier.ack_failure(invite, resp(carrier.take()[-1]))
        rtp_a.close()

    events: list[LogRecord] = []
    (rec,) = play(tmp_path, caplog, scenario, config=config, events=events)
    assert _forwards(events) == []
    assert rec.status == 486
