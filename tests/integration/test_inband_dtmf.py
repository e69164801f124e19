"""In-band DTMF on real engine legs (127.0.0.1 only): a trunk that sends its digits as tones.

A "phone" (a loopback UDP socket) sends G.711 RTP whose audio carries DTMF tones, 60 ms on and
60 ms off, over low noise, not aligned to the 20 ms packets. A leg configured with
``inband_dtmf`` must report exactly the keys sent, in order, as :class:`DigitReceived`; the same
audio on a leg without it reports nothing. Either way the audio is relayed to the bridged peer.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import uvloop

from tamas.media.g711 import alaw_encode, ulaw_encode
from tamas.media.tones import dtmf
from tamas.runtime.mediaengine import (
    Codec,
    DigitReceived,
    LocalMediaEngine,
    MediaEvent,
    RemoteMedia,
)

HOST = "127.0.0.1"
PORTS = (44000, 44199)
WAIT = 10.0


class Party(asyncio.DatagramProtocol):
    """A loopback UDP endpoint counting what it receives."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.count = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.count += 1

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])


def keyed_audio(digits: str, *, seed: int = 7) -> npt.NDArray[np.int16]:
    """110 ms of noise, then each key 60 ms on and 60 ms off, then 200 ms: 8 kHz PCM with
    Gaussian noise (about -50 dBm0) over all of it."""
    rate = 8000
    silence = np.zeros(round(0.060 * rate))
    parts: list[npt.NDArray[np.float64]] = [np.zeros(round(0.110 * rate))]
    for digit in digits:
        parts.append(dtmf(digit, 0.060, -12.0).astype(np.float64))
        parts.append(silence)
    parts.append(np.zeros(round(0.200 * rate)))
    signal = np.concatenate(parts)
    signal += np.random.default_rng(seed).normal(0.0, 30.0, len(signal))
    return np.clip(np.round(signal), -32768, 32767).astype(np.int16)


def packets(audio: npt.NDArray[np.int16], codec: Codec) -> list[bytes]:
    encode = ulaw_encode if codec.payload_type == 0 else alaw_encode
    out = []
    for n in range(len(audio) // 160):
        header = struct.pack("!BBHII", 0x80, codec.payload_type, 1000 + n, n * 160, 0xCAFE)
        out.append(header + encode(audio[n * 160 : (n + 1) * 160]))
    return out


def run(test: Callable[[LocalMediaEngine, list[MediaEvent]], Coroutine[Any, Any, None]]) -> None:
    async def main() -> None:
        events: list[MediaEvent] = []
        eng = LocalMediaEngine(
            bind=HOST, port_min=PORTS[0], port_max=PORTS[1], on_event=events.append,
            media_timeout=0,
        )  # fmt: skip
        try:
            await asyncio.wait_for(test(eng, events), 60)
        finally:
            await eng.aclose()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())


async def send_call(
    eng: LocalMediaEngine, codec: Codec, digits: str, *, inband: bool
) -> tuple[int, int]:
    """A trunk party sends ``digits`` as tones to a leg bridged to a phone; (sent, relayed)."""
    loop = asyncio.get_running_loop()
    trunk_t, trunk = await loop.create_datagram_endpoint(Party, local_addr=(HOST, 0))
    phone_t, phone = await loop.create_datagram_endpoint(Party, local_addr=(HOST, 0))
    try:
        a = await eng.open_leg("call-1", "trunk")
        b = await eng.open_leg("call-1", "phone")
        a.configure(RemoteMedia(address=HOST, port=trunk.port, codec=codec,
                                signalling_address=HOST, inband_dtmf=inband))  # fmt: skip
        b.configure(RemoteMedia(address=HOST, port=phone.port, codec=Codec.pcmu(),
                                signalling_address=HOST))  # fmt: skip
        eng.bridge(a, b)
        sent = packets(keyed_audio(digits), codec)
        for data in sent:
            trunk_t.sendto(data, (HOST, a.local_port))
            await asyncio.sleep(0.02)  # real time: the RTP clock and the loop's agree
        for _ in range(int(WAIT / 0.01)):  # until the phone has had every packet (or WAIT)
            if phone.count >= len(sent):
                break
            await asyncio.sleep(0.01)
        return len(sent), phone.count
    finally:
        trunk_t.close()
        phone_t.close()


@pytest.mark.parametrize("codec", [Codec.pcmu(), Codec.pcma()], ids=["PCMU", "PCMA"])
def test_tones_in_the_audio_are_reported_as_digits(codec: Codec) -> None:
    async def main(eng: LocalMediaEngine, events: list[MediaEvent]) -> None:
        sent, relayed = await send_call(eng, codec, "15#", inband=True)
        assert relayed == sent  # the tones still reach the other party
        digits = [e for e in events if isinstance(e, DigitReceived)]
        assert [(d.digit, d.label, d.call_id) for d in digits] == [
            ("1", "trunk", "call-1"),
            ("5", "trunk", "call-1"),
            ("#", "trunk", "call-1"),
        ]
        for d in digits:
            assert 40 <= d.duration_ms <= 100  # 60 ms tones, measured to a 20 ms block
            assert d.started_at <= d.at

    run(main)


def test_the_same_audio_without_inband_detection_reports_nothing() -> None:
    async def main(eng: LocalMediaEngine, events: list[MediaEvent]) -> None:
        sent, relayed = await send_call(eng, Codec.pcmu(), "15#", inband=False)
        assert relayed == sent
        assert [e for e in events if isinstance(e, DigitReceived)] == []

    run(main)


def test_reconfiguring_without_the_flag_turns_detection_off() -> None:
    async def main(eng: LocalMediaEngine, events: list[MediaEvent]) -> None:
        loop = asyncio.get_running_loop()
        trunk_t, trunk = await loop.create_datagram_endpoint(Party, local_addr=(HOST, 0))
        try:
            leg = await eng.open_leg("call-2", "trunk")
            on = RemoteMedia(address=HOST, port=trunk.port, codec=Codec.pcmu(),
                             signalling_address=HOST, inband_dtmf=True)  # fmt: skip
            leg.configure(on)
            leg.configure(RemoteMedia(address=HOST, port=trunk.port, codec=Codec.pcmu(),
                                      signalling_address=HOST))  # fmt: skip
            sent = packets(keyed_audio("9"), Codec.pcmu())
            for data in sent:
                trunk_t.sendto(data, (HOST, leg.local_port))
                await asyncio.sleep(0.002)
            for _ in range(int(WAIT / 0.01)):
                if leg.stats().packets_received >= len(sent):
                    break
                await asyncio.sleep(0.01)
            assert leg.stats().packets_received == len(sent)
            assert [e for e in events if isinstance(e, DigitReceived)] == []
            leg.configure(on)  # and on again: the next key is heard
            for n, data in enumerate(packets(keyed_audio("7", seed=3), Codec.pcmu())):
                buf = bytearray(data)
                struct.pack_into("!H", buf, 2, 2000 + n)
                trunk_t.sendto(bytes(buf), (HOST, leg.local_port))
                await asyncio.sleep(0.002)
            for _ in range(int(WAIT / 0.01)):
                if any(isinstance(e, DigitReceived) for e in events):
                    break
                await asyncio.sleep(0.01)
            assert [e.digit for e in events if isinstance(e, DigitReceived)] == ["7"]
        finally:
            trunk_t.close()

    run(main)


def test_a_key_followed_by_no_audio_at_all_is_reported() -> None:
    """A trunk that stops sending RTP after a tone (silence suppression) still gets its key:
    the engine's housekeeping ends it once no packet came for a second."""

    async def main(eng: LocalMediaEngine, events: list[MediaEvent]) -> None:
        loop = asyncio.get_running_loop()
        trunk_t, trunk = await loop.create_datagram_endpoint(Party, local_addr=(HOST, 0))
        try:
            leg = await eng.open_leg("call-3", "trunk")
            leg.configure(RemoteMedia(address=HOST, port=trunk.port, codec=Codec.pcmu(),
                                      signalling_address=HOST, inband_dtmf=True))  # fmt: skip
            audio = np.concatenate([np.zeros(800, dtype=np.int16), dtmf("0", 0.1, -12.0)])
            for data in packets(audio, Codec.pcmu()):  # ends with the tone: no release audio
                trunk_t.sendto(data, (HOST, leg.local_port))
                await asyncio.sleep(0.02)
            for _ in range(int(WAIT / 0.01)):
                if any(isinstance(e, DigitReceived) for e in events):
                    break
                await asyncio.sleep(0.01)
            digits = [e for e in events if isinstance(e, DigitReceived)]
            assert [(d.digit, d.duration_ms) for d in digits] == [("0", 100)]
        finally:
            trunk_t.close()

    run(main)
