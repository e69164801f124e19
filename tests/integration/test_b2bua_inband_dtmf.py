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
