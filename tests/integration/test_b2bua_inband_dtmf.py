"""A trunk configured ``dtmf: inband``: the digits in its audio reach the call logic.

Uses the anchored-call rig of ``test_b2bua_media`` (memsip signalling, real engine legs and RTP
sockets on 127.0.0.1) with the carrier trunk switched to in-band DTMF.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
import test_b2bua_media as rig

from tamas.media.g711 import ulaw_encode
from tamas.media.tones import dtmf


def tone_packets(digits: str) -> list[bytes]:
    """20 ms PCMU payloads: 50 ms of quiet, each key 60 ms on and 60 ms off, 200 ms quiet."""
    quiet = np.zeros(480, dtype=np.int16)
    parts = [np.zeros(400, dtype=np.int16)]
    for digit in digits:
        parts += [dtmf(digit, 0.060, -12.0), quiet]
    parts.append(np.zeros(1600, dtype=np.int16))
    audio = np.concatenate(parts)
    return [ulaw_encode(audio[i : i + 160]) for i in range(0, len(audio) - 159, 160)]


@pytest.mark.parametrize("inband", [True, False], ids=["inband", "rfc4733"])
def test_trunk_tones_become_call_digits(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
    inband: bool,
) -> None:  # fmt: skip
    if inband:
        config = rig.CONFIG.replace("match_port: true}}", "match_port: true, dtmf: inband}}")
        assert config != rig.CONFIG
        monkeypatch.setattr(rig, "CONFIG", config)

    async def scenario(media: rig.Media) -> None:
        call = rig.Anchored(media)
        payloads = tone_packets("42")
        for payload in payloads:  # the carrier's tones, in real time
            call.rtp_a.send(call.tamas_a_port, payload)
            await asyncio.sleep(0.02)
        await rig.until(lambda: call.rtp_b.poll() >= len(payloads))
        # the phone (an RTP endpoint, not a trunk) sends the same tones: not listened to
        for payload in payloads:
            call.rtp_b.send(call.tamas_b_port, payload)
            await asyncio.sleep(0.02)
        await rig.until(lambda: call.rtp_a.poll() >= len(payloads))
        if inband:
            await rig.until(lambda: len(media.digits) >= 2)
            assert [(d.digit, d.side) for d in media.digits] == [("4", "a"), ("2", "a")]
        else:
            assert media.digits == []
        call.hang_up()

    rig.play(tmp_path, caplog, scenario)


def test_outbound_call_to_an_inband_trunk(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Extension 1001 dials 9 + a number through the carrier: the carrier's leg listens."""
    config = rig.CONFIG.replace("match_port: true}}", "match_port: true, dtmf: inband}}")
    config = config.replace("inbound:", 'dialplan:\n  - {{prefix: "9", strip: 1, trunk: carrier}}'
                            "\ninbound:")  # fmt: skip
    monkeypatch.setattr(rig, "CONFIG", config)

    async def scenario(media: rig.Media) -> None:
        net = media.net
        phone, carrier = net.phone(rig.PHONE_PORT, "1001"), net.phone(rig.CARRIER, "carrier")
        rtp_phone, rtp_carrier = rig.RtpPort(), rig.RtpPort()
        invite = rig.authed_invite(phone, "sip:95551234@127.0.0.1:5060",
                                   rtp_phone.sdp(codecs="0 101"), "a1001")  # fmt: skip
        c_invite = carrier.expect_request("INVITE")
        _, tamas_c_port, _, _ = rig.media_of(c_invite.body)
        carrier.answer(c_invite, "ctag", body=rtp_carrier.sdp(codecs="0 101"))
        carrier.expect("ACK")
        ok = rig.resp(phone.take()[-1])
        assert ok.status == 200
        _, tamas_p_port, _, _ = rig.media_of(ok.body)
        p_dialog = phone.dialog_as_uac(invite, ok)
        phone.ack(p_dialog, invite)
        payloads = tone_packets("*9")
        for payload in payloads:  # the phone's tones are relayed, not listened to
            rtp_phone.send(tamas_p_port, payload)
            await asyncio.sleep(0.02)
        await rig.until(lambda: rtp_carrier.poll() >= len(payloads))
        assert media.digits == []
        for payload in payloads:  # the carrier's are heard
            rtp_carrier.send(tamas_c_port, payload)
            await asyncio.sleep(0.02)
        await rig.until(lambda: len(media.digits) >= 2)
        assert [(d.digit, d.side) for d in media.digits] == [("*", "b"), ("9", "b")]
        phone.request(p_dialog, "BYE")
        phone.expect("200 BYE")
        carrier.reply(carrier.expect_request("BYE"), 200)
        rtp_phone.close()
        rtp_carrier.close()

    (rec,) = rig.play(tmp_path, caplog, scenario)
    assert (rec.caller, rec.trunk) == ("1001", "carrier")
