"""G.722 legs in the media engine on real loopback sockets: relay between two G.722 legs,
transcoding G.722 <-> G.711, prompts to a G.722 leg and a tap's view of one."""

from __future__ import annotations

import asyncio
import itertools
import struct
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np
import uvloop

from tamas.media.g711 import ulaw_decode, ulaw_encode
from tamas.media.g722 import Decoder, Encoder, NarrowDecoder
from tamas.runtime.mediaengine import Codec, LocalMediaEngine, MediaLeg, RemoteMedia
from tamas.runtime.mediaengine.mixing import ConferenceRoom

HOST = "127.0.0.1"
PORTS = (41500, 41999)


class Phone(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.packets: list[bytes] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.packets.append(data)

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    async def talk(self, leg: MediaLeg, payloads: list[bytes], pt: int) -> None:
        assert self.transport is not None
        for seq, payload in enumerate(payloads):
            head = struct.pack("!BBHII", 0x80, pt, seq, seq * 160, 0xBEEF)
            self.transport.sendto(head + payload, (HOST, leg.local_port))
            await asyncio.sleep(0.002)


_PHONES: list[Phone] = []


def run(test: Callable[[LocalMediaEngine], Coroutine[Any, Any, None]]) -> None:
    async def main() -> None:
        eng = LocalMediaEngine(bind=HOST, port_min=PORTS[0], port_max=PORTS[1])
        try:
            await asyncio.wait_for(test(eng), 60)
        finally:
            await eng.aclose()
            for p in _PHONES:
                if p.transport is not None:
                    p.transport.close()
            _PHONES.clear()
            await asyncio.sleep(0.01)

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())


async def phone() -> Phone:
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_datagram_endpoint(Phone, local_addr=(HOST, 0))
    _PHONES.append(proto)
    return proto


async def leg_to(eng: LocalMediaEngine, p: Phone, codec: Codec, label: str) -> MediaLeg:
    leg = await eng.open_leg("call-1", label)
    leg.configure(RemoteMedia(address=HOST, port=p.port, codec=codec, signalling_address=HOST,
                              telephone_event_pt=101))  # fmt: skip
    return leg


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


def tone(freq: float, rate: int, seconds: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * freq * t) * 8000).astype(np.int16)


def g722_payloads(x16: np.ndarray) -> list[bytes]:
    enc = Encoder()
    return [enc.encode(x16[i : i + 320]) for i in range(0, len(x16), 320)]


def peak_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64) * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


def tone_snr_db(y: np.ndarray, freq: float, rate: int) -> float:
    t = np.arange(len(y)) / rate
    basis = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, y.astype(np.float64), rcond=None)
    fitted = basis @ coef
    rest = y - fitted
    return float(10 * np.log10(np.mean(fitted**2) / max(np.mean(rest**2), 1e-9)))


def test_two_g722_legs_are_relayed_untouched() -> None:
    async def main(eng: LocalMediaEngine) -> None:
        alice, bob = await phone(), await phone()
        a = await leg_to(eng, alice, Codec.g722(), "caller")
        b = await leg_to(eng, bob, Codec.g722(), "callee")
        eng.bridge(a, b)
        payloads = g722_payloads(tone(5000, 16000, 0.2))  # a wideband tone
        await alice.talk(a, payloads, 9)
        await until(lambda: len(bob.packets) == len(payloads))
        assert [p[12:] for p in bob.packets] == payloads  # byte for byte, no transcoding
        assert {p[1] & 0x7F for p in bob.packets} == {9}
        dec = Decoder()
        heard = np.concatenate([dec.decode(p[12:]) for p in bob.packets])
        assert abs(peak_hz(heard[800:], 16000) - 5000) <= 5

    run(main)


def test_g722_and_pcmu_legs_are_transcoded_both_ways() -> None:
    async def main(eng: LocalMediaEngine) -> None:
        alice, bob = await phone(), await phone()
        a = await leg_to(eng, alice, Codec.g722(), "caller")
        b = await leg_to(eng, bob, Codec.pcmu(), "callee")
        eng.bridge(a, b)
        # G.722 (a 1 kHz tone at 16 kHz) -> PCMU
        payloads = g722_payloads(tone(1000, 16000, 0.5))
        await alice.talk(a, payloads, 9)
        await until(lambda: len(bob.packets) == len(payloads))
        assert {p[1] & 0x7F for p in bob.packets} == {0}
        assert {len(p) - 12 for p in bob.packets} == {160}
        assert [struct.unpack_from("!I", p, 4)[0] for p in bob.packets] == [
            n * 160 for n in range(len(payloads))
        ]  # the RTP clock is 8000 on both sides (RFC 3551's G.722 quirk)
        heard = np.concatenate([ulaw_decode(p[12:]) for p in bob.packets])[400:]
        assert abs(peak_hz(heard, 8000) - 1000) <= 3
        assert tone_snr_db(heard, 1000, 8000) > 25
        # PCMU (a 600 Hz tone) -> G.722
        x8 = tone(600, 8000, 0.5)
        await bob.talk(b, [ulaw_encode(x8[i : i + 160]) for i in range(0, 4000, 160)], 0)
        await until(lambda: len(alice.packets) == 25)
        assert {p[1] & 0x7F for p in alice.packets} == {9}
        assert {len(p) - 12 for p in alice.packets} == {160}
        dec = Decoder()
        wide = np.concatenate([dec.decode(p[12:]) for p in alice.packets])[800:]
        assert abs(peak_hz(wide, 16000) - 600) <= 3
        assert tone_snr_db(wide, 600, 16000) > 25

    run(main)


class Tone:
    def __init__(self, freq: float) -> None:
        self.samples = tone(freq, 8000, 10.0)
        self.n = 0

    def read_frame(self) -> np.ndarray:
        frame = self.samples[self.n * 160 : (self.n + 1) * 160]
        self.n += 1
        return frame


def test_a_prompt_to_a_g722_leg_is_encoded_at_16khz() -> None:
    async def main(eng: LocalMediaEngine) -> None:
        alice = await phone()
        a = await leg_to(eng, alice, Codec.g722(), "caller")
        a.set_source(Tone(800))
        await until(lambda: len(alice.packets) >= 20)
        a.set_source(None)
        packets = list(alice.packets)
        assert {p[1] & 0x7F for p in packets} == {9}
        assert {len(p) - 12 for p in packets} == {160}
        ts = [struct.unpack_from("!I", p, 4)[0] for p in packets]
        assert all((b - a) & 0xFFFFFFFF == 160 for a, b in itertools.pairwise(ts))
        dec = Decoder()
        wide = np.concatenate([dec.decode(p[12:]) for p in packets])[800:]
        assert abs(peak_hz(wide, 16000) - 800) <= 5
        assert tone_snr_db(wide, 800, 16000) > 25

    run(main)


class ListTap:
    def __init__(self) -> None:
        self.fed: list[tuple[int, bytes, Codec]] = []

    def feed(self, side: int, packet: bytes, codec: Codec) -> None:
        self.fed.append((side, packet, codec))


def test_a_tap_hears_a_g722_leg_as_8khz_pcmu() -> None:
    async def main(eng: LocalMediaEngine) -> None:
        alice, bob = await phone(), await phone()
        a = await leg_to(eng, alice, Codec.g722(), "caller")
        b = await leg_to(eng, bob, Codec.g722(), "callee")
        tap = ListTap()
        eng.bridge(a, b, tap=tap)
        payloads = g722_payloads(tone(1000, 16000, 0.4))
        await alice.talk(a, payloads, 9)
        await until(lambda: len(tap.fed) == len(payloads))
        assert {(side, codec.name.value) for side, _, codec in tap.fed} == {(0, "PCMU")}
        assert all(p[1] & 0x7F == 0 and len(p) == 172 for _, p, _ in tap.fed)
        pcm = np.concatenate([ulaw_decode(p[12:]) for _, p, _ in tap.fed])[400:]
        assert abs(peak_hz(pcm, 8000) - 1000) <= 3
        narrow = NarrowDecoder()  # the same as decoding the packets at 8 kHz directly
        direct = np.concatenate([narrow.decode(p) for p in payloads])[400:]
        assert np.max(np.abs(ulaw_decode(ulaw_encode(direct)).astype(int) - pcm)) == 0
        assert [p[12:] for p in bob.packets] == payloads  # the relay itself is untouched

    run(main)


async def speak(p: Phone, leg: MediaLeg, payloads: list[bytes], pt: int) -> None:
    """Send ``payloads`` in real time (20 ms apart), as a phone does."""
    assert p.transport is not None
    loop = asyncio.get_running_loop()
    start = loop.time()
    for seq, payload in enumerate(payloads):
        head = struct.pack("!BBHII", 0x80, pt, seq, seq * 160, 0xFEED + pt)
        p.transport.sendto(head + payload, (HOST, leg.local_port))
        await asyncio.sleep(max(0.0, start + (seq + 1) * 0.02 - loop.time()))


def test_a_g722_member_of_a_conference_hears_and_is_heard() -> None:
    async def main(eng: LocalMediaEngine) -> None:
        wide_phone, narrow_phone = await phone(), await phone()
        w = await leg_to(eng, wide_phone, Codec.g722(), "wide")
        n = await leg_to(eng, narrow_phone, Codec.pcmu(), "narrow")
        room = ConferenceRoom(eng, name="9000")
        room.join(w)  # type: ignore[arg-type]
        room.join(n)  # type: ignore[arg-type]
        x16, x8 = tone(1000, 16000, 1.0), tone(400, 8000, 1.0)
        await asyncio.gather(
            speak(wide_phone, w, g722_payloads(x16), 9),
            speak(narrow_phone, n, [ulaw_encode(x8[i : i + 160]) for i in range(0, 8000, 160)], 0),
        )
        room.leave(w)  # type: ignore[arg-type]
        room.leave(n)  # type: ignore[arg-type]
        dec = Decoder()
        wide_heard = np.concatenate([dec.decode(p[12:]) for p in wide_phone.packets])
        narrow_heard = np.concatenate([ulaw_decode(p[12:]) for p in narrow_phone.packets])
        assert {p[1] & 0x7F for p in wide_phone.packets} == {9}
        assert abs(peak_hz(wide_heard[-8000:], 16000) - 400) <= 3  # the other member
        assert abs(peak_hz(narrow_heard[-4000:], 8000) - 1000) <= 3  # the G.722 member

    run(main)
