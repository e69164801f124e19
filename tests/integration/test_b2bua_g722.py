"""G.722 calls through the anchored B2BUA (``media.codecs: [G722, PCMU, PCMA]``): two G.722
parties are relayed untouched; a G.722-only caller and a G.711 callee are transcoded; music on
hold reaches a G.722 party encoded as G.722.

Uses the anchored-call rig of ``test_b2bua_media`` (memsip signalling, the real media engine
and RTP sockets on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
import test_b2bua_media as rig

from tamas.media.g711 import ulaw_decode, ulaw_encode
from tamas.media.g722 import Decoder, Encoder

_PREALLOC = "  prealloc_legs: {prealloc}\n"
WIDE = rig.CONFIG.replace(_PREALLOC, _PREALLOC + "  codecs: [G722, PCMU, PCMA]\n")


def tone(freq: float, rate: int, seconds: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * freq * t) * 8000).astype(np.int16)


def peak_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64) * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


class Call:
    """carrier (``a_codecs``) -> 2000 (``b_codecs``), answered, with real RTP sockets."""

    def __init__(self, media: rig.Media, a_codecs: str, b_codecs: str) -> None:
        net = media.net
        self.carrier, self.b = net.phone(rig.CARRIER, "carrier"), net.phone(rig.B_PORT, "b")
        self.rtp_a, self.rtp_b = rig.RtpPort(), rig.RtpPort()
        self.invite = self.carrier.invite("sip:5551000@127.0.0.1:5060",
                                          body=self.rtp_a.sdp(codecs=a_codecs))  # fmt: skip
        b_invite = self.b.expect_request("INVITE")
        _, self.tamas_b_port, self.b_offer, _ = rig.media_of(b_invite.body)
        self.b_dialog = self.b.answer(b_invite, "btag", body=self.rtp_b.sdp(codecs=b_codecs))
        self.b.expect("ACK")
        _, ok = self.carrier.expect("100 INVITE", "200 INVITE")
        self.ok = rig.resp(ok)
        _, self.tamas_a_port, self.a_answer, _ = rig.media_of(self.ok.body)
        self.a_dialog = self.carrier.dialog_as_uac(self.invite, self.ok)
        self.carrier.ack(self.a_dialog, self.invite)

    def hang_up(self) -> None:
        self.carrier.request(self.a_dialog, "BYE")
        self.carrier.expect("200 BYE")
        self.b.reply(self.b.expect_request("BYE"), 200)
        self.rtp_a.close()
        self.rtp_b.close()


def payloads(port: rig.RtpPort, pt: int) -> list[bytes]:
    port.poll()
    return [data[12:] for data, _ in port.received if data[1] & 0x7F == pt]


def test_two_g722_parties_are_relayed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(media: rig.Media) -> None:
        call = Call(media, "0 9 101", "9 101")
        assert call.b_offer == ["9", "0", "8", "101"]  # G.722 first, as configured
        assert call.a_answer == ["9", "101"]
        enc = Encoder()
        x = tone(6000, 16000, 0.4)  # above what G.711 carries
        sent = [enc.encode(x[i : i + 320]) for i in range(0, len(x), 320)]
        for payload in sent:
            call.rtp_a.send(call.tamas_a_port, payload, pt=9)
            await asyncio.sleep(0.005)
        await rig.until(lambda: len(payloads(call.rtp_b, 9)) >= len(sent))
        got = payloads(call.rtp_b, 9)
        assert got == sent  # relayed byte for byte
        dec = Decoder()
        heard = np.concatenate([dec.decode(p) for p in got])[1600:]
        assert abs(peak_hz(heard, 16000) - 6000) <= 5
        call.hang_up()

    rig.play(tmp_path, caplog, scenario, config=WIDE)


def test_g722_caller_and_g711_callee_are_transcoded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(media: rig.Media) -> None:
        call = Call(media, "9 101", "0 101")  # a G.722-only phone calls a G.711 one
        assert call.b_offer == ["9", "0", "8", "101"]
        assert call.a_answer == ["9", "101"]
        enc = Encoder()
        x = tone(1000, 16000, 0.4)
        for i in range(0, len(x), 320):
            call.rtp_a.send(call.tamas_a_port, enc.encode(x[i : i + 320]), pt=9)
            await asyncio.sleep(0.005)
        await rig.until(lambda: len(payloads(call.rtp_b, 0)) >= 20)
        pcm = np.concatenate([ulaw_decode(p) for p in payloads(call.rtp_b, 0)])[400:]
        assert abs(peak_hz(pcm, 8000) - 1000) <= 3
        y = tone(700, 8000, 0.4)
        for i in range(0, len(y), 160):
            call.rtp_b.send(call.tamas_b_port, ulaw_encode(y[i : i + 160]), pt=0)
            await asyncio.sleep(0.005)
        await rig.until(lambda: len(payloads(call.rtp_a, 9)) >= 20)
        dec = Decoder()
        wide = np.concatenate([dec.decode(p) for p in payloads(call.rtp_a, 9)])[800:]
        assert abs(peak_hz(wide, 16000) - 700) <= 3
        call.hang_up()

    rig.play(tmp_path, caplog, scenario, config=WIDE)


def test_music_on_hold_to_a_g722_party(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(media: rig.Media) -> None:
        call = Call(media, "9 0 101", "9 101")
        hold = call.rtp_b.sdp(codecs="9 101", direction="sendonly", version=2)
        reinvite = call.b.request(call.b_dialog, "INVITE", body=hold)
        call.b.expect("100 INVITE", "200 INVITE")
        call.b.ack(call.b_dialog, reinvite)
        call.rtp_a.poll()
        call.rtp_a.received.clear()
        await rig.until(lambda: len(payloads(call.rtp_a, 9)) >= 25)
        got = payloads(call.rtp_a, 9)
        assert {len(p) for p in got} == {160}
        dec = Decoder()
        music = np.concatenate([dec.decode(p) for p in got]).astype(np.float64)
        assert np.sqrt(np.mean(music**2)) > 100  # not silence
        call.hang_up()

    rig.play(tmp_path, caplog, scenario, config=WIDE)
