"""Mixing groups on real engine legs (127.0.0.1 only): conference and supervisor monitoring.

Each "party" is a loopback UDP socket that sends a continuous tone of its own frequency as
20 ms G.711 packets to its leg and keeps what it receives. Which frequencies a party receives
(Goertzel power) tells who hears whom.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np
import numpy.typing as npt
import uvloop

from tamas.media.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from tamas.media.goertzel import goertzel_power
from tamas.media.mixer import HEARS, MonitorMode, Role
from tamas.media.tones import sine
from tamas.runtime.mediaengine import Codec, LocalMediaEngine, RemoteMedia
from tamas.runtime.mediaengine.leg import UdpLeg
from tamas.runtime.mediaengine.mixing import ConferenceRoom, MonitorSession

HOST = "127.0.0.1"
FREQ = {Role.CALLER: 400.0, Role.AGENT: 1000.0, Role.SUPERVISOR: 1700.0}
AMPLITUDE = 8000.0
LISTEN_SECONDS = 0.6


def run(test: Callable[[LocalMediaEngine], Coroutine[Any, Any, None]]) -> None:
    async def main() -> None:
        eng = LocalMediaEngine(bind=HOST, port_min=41000, port_max=41999, media_timeout=0)
        try:
            await asyncio.wait_for(test(eng), 60)
        finally:
            for party in _PARTIES:
                party.stop()
            _PARTIES.clear()
            await eng.aclose()
            await asyncio.sleep(0.01)

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())


_PARTIES: list[Party] = []


class Party(asyncio.DatagramProtocol):
    """Sends a tone (or a constant level) to a leg every 20 ms; decodes what comes back."""

    def __init__(self, leg: UdpLeg, codec: Codec, signal: Callable[[int], npt.ArrayLike]) -> None:
        self.leg = leg
        self.codec = codec
        self.signal = signal
        self.received: list[npt.NDArray[np.int16]] = []
        self.packets: list[bytes] = []
        self.transport: asyncio.DatagramTransport | None = None
        self._task: asyncio.Task[None] | None = None
        self.ssrc = id(self) & 0xFFFFFFFF

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.packets.append(data)
        decode = ulaw_decode if self.codec.name.value == "PCMU" else alaw_decode
        self.received.append(decode(data[12:]))

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._send())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.transport is not None:
            self.transport.close()

    async def _send(self) -> None:
        encode = ulaw_encode if self.codec.name.value == "PCMU" else alaw_encode
        loop = asyncio.get_running_loop()
        start = loop.time()
        n = 0
        while True:
            frame = self.signal(n)
            packet = struct.pack("!BBHII", 0x80, self.codec.payload_type, n, n * 160, self.ssrc)
            assert self.transport is not None
            self.transport.sendto(packet + encode(frame), (HOST, self.leg.local_port))
            n += 1
            await asyncio.sleep(max(0.0, start + n * 0.02 - loop.time()))

    def clear(self) -> None:
        self.received.clear()
        self.packets.clear()

    def hears(self, frequency: float) -> bool:
        """Whether the audio received (the last frames) carries ``frequency``."""
        audio = np.concatenate(self.received[-20:]) if self.received else np.zeros(160)
        # A tone of AMPLITUDE has power AMPLITUDE**2/2; "heard" is above 1 % of that (a
        # party that is not heard leaves only G.711 quantisation noise, far below).
        return goertzel_power(audio, frequency, 8000) > AMPLITUDE**2 / 2 * 0.01


def tone(frequency: float) -> Callable[[int], npt.ArrayLike]:
    full = sine(frequency, 1.0, level_dbm0=0.0)  # one second, phase continuous per frame
    scale = AMPLITUDE / max(1.0, float(np.max(np.abs(full))))
    samples = (full.astype(np.float64) * scale).astype(np.int16)
    return lambda n: samples[(n % 50) * 160 : (n % 50 + 1) * 160]


async def party(
    eng: LocalMediaEngine,
    label: str,
    signal: Callable[[int], npt.ArrayLike],
    codec: Codec | None = None,
) -> Party:
    codec = codec or Codec.pcmu()
    leg = await eng.open_leg("call-" + label, label)
    assert isinstance(leg, UdpLeg)
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_datagram_endpoint(
        lambda: Party(leg, codec, signal), local_addr=(HOST, 0)
    )
    assert proto.transport is not None
    port = proto.transport.get_extra_info("sockname")[1]
    leg.configure(RemoteMedia(address=HOST, port=port, codec=codec, signalling_address=HOST))
    _PARTIES.append(proto)
    proto.start()
    return proto


async def listen() -> None:
    await asyncio.sleep(LISTEN_SECONDS)


def test_conference_each_member_hears_all_others() -> None:
    async def main(eng: LocalMediaEngine) -> None:
        freqs = (400.0, 1000.0, 1700.0, 2300.0)
        codecs = (Codec.pcmu(), Codec.pcma(), Codec.pcmu(), Codec.pcma())
        parties = [
            await party(eng, f"m{i}", tone(f), c)
            for i, (f, c) in enumerate(zip(freqs, codecs, strict=True))
        ]
        emptied: list[ConferenceRoom] = []
        room = ConferenceRoom(eng, name="8000", on_empty=emptied.append)
        for p in parties:
            room.join(p.leg)
        await listen()
        for p, own in zip(parties, freqs, strict=True):
            heard = {f for f in freqs if p.hears(f)}
            assert heard == set(freqs) - {own}, (own, heard)

        # Mute m1 (1000 Hz): nobody hears it, it still hears the others.
        room.mute(parties[1].leg)
        for p in parties:
            p.clear()
        await listen()
        assert not parties[0].hears(1000.0) and parties[0].hears(1700.0)
        assert parties[1].hears(400.0) and parties[1].hears(2300.0)

        # m3 leaves: it is sent nothing more from the room, the others stop hearing it.
        room.leave(parties[3].leg)
        for p in parties:
            p.clear()
        await listen()
        assert parties[3].received == []
        assert not parties[0].hears(2300.0) and parties[0].hears(1700.0)

        for p in parties[:3]:
            room.leave(p.leg)
        assert emptied == [room] and room.closed and len(room) == 0

    run(main)


def test_conference_sum_is_clipped_not_wrapped() -> None:
    async def main(eng: LocalMediaEngine) -> None:
        loud = np.full(160, 25000, dtype=np.int16)
        a = await party(eng, "a", lambda n: loud)
        b = await party(eng, "b", lambda n: loud)
        c = await party(eng, "c", lambda n: np.zeros(160, dtype=np.int16))
        room = ConferenceRoom(eng)
        for p in (a, b, c):
            room.join(p.leg)
        await listen()
        frames = c.received[5:]
        assert frames
        # 25,000 + 25,000 wraps to a negative int16; clipped it is the top of the range
        # (G.711's largest code decodes to 32,124 in mu-law).
        assert all(int(f.min()) >= 0 for f in frames)
        assert any(int(f.min()) > 30000 for f in frames)

    run(main)


async def monitored(
    eng: LocalMediaEngine,
) -> tuple[dict[Role, Party], Collector]:
    p = {
        Role.CALLER: await party(eng, "caller", tone(FREQ[Role.CALLER])),
        Role.AGENT: await party(eng, "agent", tone(FREQ[Role.AGENT]), Codec.pcma()),
        Role.SUPERVISOR: await party(eng, "super", tone(FREQ[Role.SUPERVISOR])),
    }
    tap = Collector()
    eng.bridge(p[Role.CALLER].leg, p[Role.AGENT].leg, tap=tap)
    return p, tap


class Collector:
    def __init__(self) -> None:
        self.sides: list[int] = []

    def feed(self, side: int, packet: bytes, codec: Codec) -> None:
        self.sides.append(side)


def test_monitoring_follows_the_hears_table_in_every_mode() -> None:
    async def main(eng: LocalMediaEngine) -> None:
        p, _tap = await monitored(eng)
        session = MonitorSession(
            eng,
            caller=p[Role.CALLER].leg,
            agent=p[Role.AGENT].leg,
            supervisor=p[Role.SUPERVISOR].leg,
        )
        for mode in (
            MonitorMode.LISTEN,
            MonitorMode.WHISPER,
            MonitorMode.BARGE,
            MonitorMode.LISTEN,
        ):
            session.mode = mode
            await asyncio.sleep(0.1)  # the previous mode's packets drain
            for q in p.values():
                q.clear()
            await listen()
            for role, q in p.items():
                heard = {r for r in Role if q.hears(FREQ[r])}
                assert heard == set(HEARS[mode][role]), (mode, role, heard)
        session.stop()

    run(main)


def test_after_the_supervisor_leaves_the_call_is_relayed_again_with_its_tap() -> None:
    async def main(eng: LocalMediaEngine) -> None:
        p, tap = await monitored(eng)
        caller, agent, sup = p[Role.CALLER], p[Role.AGENT], p[Role.SUPERVISOR]
        session = MonitorSession(
            eng, caller=caller.leg, agent=agent.leg, supervisor=sup.leg, mode=MonitorMode.BARGE
        )
        await listen()
        # The recording tap kept receiving both parties on their sides while monitored.
        assert {0, 1} <= set(tap.sides)
        session.stop()
        assert caller.leg.peer is agent.leg and caller.leg.tap is tap
        await asyncio.sleep(0.1)
        for q in p.values():
            q.clear()
        tap.sides.clear()
        await listen()
        # Plain relay: the agent receives the caller's packets transcoded PCMU -> PCMA, with
        # the caller's own sequence numbers (not a mix under the leg's SSRC).
        assert caller.hears(FREQ[Role.AGENT]) and not caller.hears(FREQ[Role.SUPERVISOR])
        assert agent.hears(FREQ[Role.CALLER]) and not agent.hears(FREQ[Role.SUPERVISOR])
        assert agent.packets and all(
            struct.unpack_from("!I", pkt, 8)[0] == caller.ssrc for pkt in agent.packets
        )
        assert {0, 1} <= set(tap.sides)
        assert sup.received == []

    run(main)


def test_set_tap_while_monitored_changes_the_calls_tap() -> None:
    async def main(eng: LocalMediaEngine) -> None:
        p, old = await monitored(eng)
        caller, agent, sup = p[Role.CALLER], p[Role.AGENT], p[Role.SUPERVISOR]
        session = MonitorSession(eng, caller=caller.leg, agent=agent.leg, supervisor=sup.leg)
        new = Collector()
        eng.set_tap(agent.leg, new)  # e.g. recording started through the API meanwhile
        old.sides.clear()
        await listen()
        assert old.sides == [] and {0, 1} <= set(new.sides)
        session.stop()
        assert caller.leg.tap is new and agent.leg.tap is new
        eng.set_tap(caller.leg, None)  # a bridged leg again: the plain engine path
        assert caller.leg.tap is None

    run(main)


def test_a_member_on_hold_hears_the_music_then_the_mix_again() -> None:
    async def main(eng: LocalMediaEngine) -> None:
        p, _ = await monitored(eng)
        caller, agent, sup = p[Role.CALLER], p[Role.AGENT], p[Role.SUPERVISOR]
        session = MonitorSession(
            eng, caller=caller.leg, agent=agent.leg, supervisor=sup.leg, mode=MonitorMode.BARGE
        )
        music = tone(2900.0)

        class Music:
            n = 0

            def read_frame(self) -> npt.ArrayLike:
                self.n += 1
                return music(self.n)

        caller.leg.set_source(Music())  # type: ignore[arg-type]  # the agent put it on hold
        await asyncio.sleep(0.1)
        caller.clear()
        await listen()
        assert caller.hears(2900.0) and not caller.hears(FREQ[Role.AGENT])
        caller.leg.set_source(None)  # unhold
        await asyncio.sleep(0.1)
        caller.clear()
        await listen()
        assert not caller.hears(2900.0)
        assert caller.hears(FREQ[Role.AGENT]) and caller.hears(FREQ[Role.SUPERVISOR])
        session.stop()

    run(main)
