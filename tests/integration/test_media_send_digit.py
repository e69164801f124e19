"""RFC 4733 sending by the media engine (``engine.send_digit``) on real loopback sockets.

The "phones" are plain UDP sockets on 127.0.0.1 that record what the engine sends them; the
packets are checked field by field (marker, E bit, repeated ends, durations, timestamps,
sequence continuity with the leg's own audio) and decoded with the receiving side's
:class:`EventReceiver`.
"""

from __future__ import annotations

import asyncio
import itertools
import struct
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import uvloop

from tamas.media.telephone_event import DigitEnded, EventReceiver, TelephoneEvent
from tamas.runtime.mediaengine import (
    Codec,
    LocalMediaEngine,
    MediaError,
    MediaLeg,
    RemoteMedia,
)

HOST = "127.0.0.1"
PORTS = (41000, 41499)
TE = 101


@dataclass(frozen=True)
class Packet:
    arrived: float
    marker: bool
    pt: int
    seq: int
    ts: int
    ssrc: int
    payload: bytes

    @property
    def event(self) -> TelephoneEvent:
        return TelephoneEvent.parse(self.payload)


class Phone(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.packets: list[Packet] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        _b0, b1, seq, ts, ssrc = struct.unpack_from("!BBHII", data)
        now = asyncio.get_running_loop().time()
        self.packets.append(Packet(now, bool(b1 & 0x80), b1 & 0x7F, seq, ts, ssrc, data[12:]))

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def events(self) -> list[Packet]:
        return [p for p in self.packets if p.pt == TE]


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


_PHONES: list[Phone] = []


async def phone() -> Phone:
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_datagram_endpoint(Phone, local_addr=(HOST, 0))
    _PHONES.append(proto)
    return proto


async def leg_to(eng: LocalMediaEngine, p: Phone, *, te: int | None = TE, ptime: int = 20,
                 label: str = "callee") -> MediaLeg:  # fmt: skip
    leg = await eng.open_leg("call-1", label)
    leg.configure(RemoteMedia(address=HOST, port=p.port, codec=Codec.pcmu(),
                              signalling_address=HOST, telephone_event_pt=te,
                              ptime=ptime))  # fmt: skip
    return leg


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


def decoded(packets: list[Packet]) -> list[tuple[str, int]]:
    receiver = EventReceiver()
    out: list[tuple[str, int]] = []
    for p in packets:
        for ev in receiver.receive(p.marker, p.seq, p.ts, p.payload, p.arrived):
            if isinstance(ev, DigitEnded):
                out.append((ev.digit, ev.duration_ms))
    return out


class Tone:
    """An endless 20 ms source of a 440 Hz tone (prompt-like audio on the leg's own stream)."""

    def __init__(self) -> None:
        self.n = 0

    def read_frame(self) -> np.ndarray:
        t = (np.arange(160) + 160 * self.n) / 8000
        self.n += 1
        return (np.sin(2 * np.pi * 440 * t) * 6000).astype(np.int16)


def test_one_digit_packets_follow_rfc4733() -> None:
    async def main(eng: LocalMediaEngine) -> None:
        bob = await phone()
        leg = await leg_to(eng, bob)
        assert eng.send_digit(leg, "5", duration_ms=100)
        await until(lambda: sum(p.event.end for p in bob.events()) == 3)
        await asyncio.sleep(0.1)
        events = bob.events()
        assert len(events) == len(bob.packets) == 5 + 3  # 0..80 ms updates, then 3 ends
        assert [p.marker for p in events] == [True] + [False] * 7
        assert {p.ts for p in events} == {events[0].ts}  # one event: one timestamp
        assert {p.ssrc for p in events} == {leg.ssrc}  # type: ignore[attr-defined]
        seqs = [p.seq for p in events]
        assert seqs == [(seqs[0] + i) & 0xFFFF for i in range(8)]
        assert [p.event.duration for p in events] == [0, 160, 320, 480, 640, 800, 800, 800]
        assert [p.event.end for p in events] == [False] * 5 + [True] * 3
        assert {p.event.event for p in events} == {5}
        # paced at the packet time: 7 intervals of 20 ms from the first to the last
        assert events[-1].arrived - events[0].arrived >= 0.7 * 7 * 0.02
        assert decoded(events) == [("5", 100)]

    run(main)


def test_updates_follow_the_legs_ptime() -> None:
    async def main(eng: LocalMediaEngine) -> None:
        bob = await phone()
        leg = await leg_to(eng, bob, ptime=40)
        assert eng.send_digit(leg, "#", duration_ms=200)
        await until(lambda: sum(p.event.end for p in bob.events()) == 3)
        durations = [p.event.duration for p in bob.events()]
        assert durations == [0, 320, 640, 960, 1280, 1600, 1600, 1600]
        assert decoded(bob.events()) == [("#", 200)]

    run(main)


def test_queued_digits_go_out_one_after_the_other() -> None:
    async def main(eng: LocalMediaEngine) -> None:
        bob = await phone()
        leg = await leg_to(eng, bob)
        for d in "12*":
            assert eng.send_digit(leg, d, duration_ms=80)
        await until(lambda: sum(p.event.end for p in bob.events()) == 9)
        events = bob.events()
        assert decoded(events) == [("1", 80), ("2", 80), ("*", 80)]
        starts = [p for p in events if p.marker]
        assert len(starts) == 3 and len({p.ts for p in starts}) == 3
        # each event starts after the previous one's span (5 packets of 160 units + ends)
        assert all(((b.ts - a.ts) & 0xFFFFFFFF) >= 7 * 160 for a, b in itertools.pairwise(starts))
        seqs = [p.seq for p in events]
        assert seqs == [(seqs[0] + i) & 0xFFFF for i in range(len(seqs))]

    run(main)


def test_digit_and_own_audio_are_one_continuous_stream() -> None:
    async def main(eng: LocalMediaEngine) -> None:
        bob = await phone()
        leg = await leg_to(eng, bob)
        leg.set_source(Tone())
        await until(lambda: len(bob.packets) >= 10)
        assert eng.send_digit(leg, "9", duration_ms=120)
        await until(lambda: sum(p.event.end for p in bob.events()) == 3)
        await until(lambda: bob.packets[-1].pt == 0 and len(bob.packets) >= 30)
        leg.set_source(None)
        packets = list(bob.packets)
        assert {p.ssrc for p in packets} == {leg.ssrc}  # type: ignore[attr-defined]
        seqs = [p.seq for p in packets]
        assert seqs == [(seqs[0] + i) & 0xFFFF for i in range(len(seqs))]  # no gap, no repeat
        first = next(i for i, p in enumerate(packets) if p.pt == TE)
        last = max(i for i, p in enumerate(packets) if p.pt == TE)
        assert all(p.pt == TE for p in packets[first : last + 1])  # no audio inside the event
        before, event, after = packets[first - 1], packets[first], packets[last + 1]
        assert ((event.ts - before.ts) & 0xFFFFFFFF) == 160  # the audio's next timestamp
        assert ((after.ts - event.ts) & 0xFFFFFFFF) >= 960  # past the 120 ms event
        assert decoded(packets[first : last + 1]) == [("9", 120)]

    run(main)


def test_relayed_audio_pauses_during_the_digit() -> None:
    async def main(eng: LocalMediaEngine) -> None:
        alice, bob = await phone(), await phone()
        a = await leg_to(eng, alice, label="caller")
        b = await leg_to(eng, bob)
        eng.bridge(a, b)
        assert alice.transport is not None
        stop = False

        async def talk() -> None:
            seq = 0
            while not stop:
                pkt = struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 0xA11CE) + b"\xff" * 160
                alice.transport.sendto(pkt, (HOST, a.local_port))  # type: ignore[union-attr]
                seq += 1
                await asyncio.sleep(0.02)

        task = asyncio.create_task(talk())
        await until(lambda: len(bob.packets) >= 5)
        assert eng.send_digit(b, "3", duration_ms=100)
        await until(lambda: sum(p.event.end for p in bob.events()) == 3)
        await until(lambda: bob.packets[-1].pt == 0 and bob.packets[-2].pt == 0)
        stop = True
        await task
        packets = list(bob.packets)
        first = next(i for i, p in enumerate(packets) if p.pt == TE)
        last = max(i for i, p in enumerate(packets) if p.pt == TE)
        assert all(p.pt == TE for p in packets[first : last + 1])
        assert {p.ssrc for p in packets if p.pt == 0} == {0xA11CE}  # relayed as it came
        assert decoded(packets[first : last + 1]) == [("3", 100)]

    run(main)


def test_no_telephone_event_no_digit_and_bad_digits_refused() -> None:
    async def main(eng: LocalMediaEngine) -> None:
        bob = await phone()
        plain = await leg_to(eng, bob, te=None)
        assert eng.send_digit(plain, "1") is False
        leg = await leg_to(eng, bob, label="other")
        with pytest.raises(MediaError):
            eng.send_digit(leg, "x")
        with pytest.raises(MediaError):
            eng.send_digit(leg, "1", duration_ms=0)
        leg.close()
        with pytest.raises(MediaError):
            eng.send_digit(leg, "1")
        await asyncio.sleep(0.1)
        assert bob.packets == []

    run(main)
