"""The built-in media engine on real UDP sockets (127.0.0.1 only), driven by uvloop.

"Phones" here are plain loopback UDP sockets: they send RTP to a leg's port and record what
arrives. Addresses such as 192.0.2.1 appear only as SDP text; nothing is ever sent to them.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uvloop

from tamas.media.g711 import alaw_to_ulaw, ulaw_decode, ulaw_encode, ulaw_to_alaw
from tamas.media.rtcp import ReceiverReport, ReportBlock, parse_rtcp, serialize_rtcp
from tamas.media.telephone_event import EventSender
from tamas.media.wav import parse_wav
from tamas.runtime.mediaengine import (
    Codec,
    DigitReceived,
    LegClosed,
    LocalMediaEngine,
    MediaError,
    MediaEvent,
    MediaLeg,
    MediaTimeout,
    RemoteMedia,
    SourceFinished,
)
from tamas.runtime.mediaengine.leg import UdpLeg
from tamas.runtime.recorder import Recorder

HOST = "127.0.0.1"
PORTS = (40000, 40999)
WAIT = 5.0


_PHONES: list[Phone] = []
_ENGINES: list[LocalMediaEngine] = []


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``test`` on a uvloop loop; close every phone it opened (uvloop's close waits for
    open transports)."""

    async def main() -> None:
        try:
            await asyncio.wait_for(test(), 60)
        finally:
            while _ENGINES:  # a failed test must fail, not hang in uvloop's close
                await _ENGINES.pop().aclose()
            while _PHONES:
                transport = _PHONES.pop().transport
                if transport is not None:
                    transport.close()
            await asyncio.sleep(0.01)

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())


def rtp(
    seq: int,
    payload: bytes,
    *,
    pt: int = 0,
    ts: int | None = None,
    ssrc: int = 0x1234,
    marker: bool = False,
) -> bytes:
    ts = seq * 160 if ts is None else ts
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq, ts, ssrc) + payload


class Phone(asyncio.DatagramProtocol):
    """A loopback UDP endpoint that records every datagram it receives."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.put_nowait((data, addr))

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def send(self, data: bytes, leg: MediaLeg, *, rtcp: bool = False) -> None:
        assert self.transport is not None
        self.transport.sendto(data, (HOST, leg.local_port + (1 if rtcp else 0)))

    async def next(self, timeout: float = WAIT) -> bytes:
        data, _ = await asyncio.wait_for(self.received.get(), timeout)
        return data

    async def nothing_for(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        assert self.received.empty(), f"got {self.received.qsize()} datagrams, expected none"


async def phone(port: int = 0) -> Phone:
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_datagram_endpoint(Phone, local_addr=(HOST, port))
    _PHONES.append(proto)
    return proto


def remote(
    p: Phone,
    codec: Codec | None = None,
    *,
    address: str = HOST,
    signalling: str = HOST,
    te: int | None = 101,
) -> RemoteMedia:
    return RemoteMedia(
        address=address,
        port=p.port,
        codec=codec or Codec.pcmu(),
        signalling_address=signalling,
        telephone_event_pt=te,
    )


class Events:
    def __init__(self) -> None:
        self.items: list[MediaEvent] = []
        self.arrived = asyncio.Event()

    def __call__(self, event: MediaEvent) -> None:
        self.items.append(event)
        self.arrived.set()

    async def wait_for(self, kind: type[Any], count: int = 1, timeout: float = WAIT) -> list[Any]:
        async def enough() -> None:
            while sum(isinstance(e, kind) for e in self.items) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), timeout)
        return [e for e in self.items if isinstance(e, kind)]


def engine(events: Events | None = None, **kw: Any) -> LocalMediaEngine:
    kw.setdefault("port_min", PORTS[0])
    kw.setdefault("port_max", PORTS[1])
    eng = LocalMediaEngine(bind=HOST, on_event=events, **kw)
    _ENGINES.append(eng)
    return eng


async def bridged(
    eng: LocalMediaEngine, codec_a: Codec | None = None, codec_b: Codec | None = None
) -> tuple[Phone, Phone, MediaLeg, MediaLeg]:
    alice, bob = await phone(), await phone()
    a = await eng.open_leg("call-1", "caller")
    b = await eng.open_leg("call-1", "callee")
    a.configure(remote(alice, codec_a))
    b.configure(remote(bob, codec_b))
    eng.bridge(a, b)
    return alice, bob, a, b


def test_legs_get_even_rtp_ports_in_range_and_release_them() -> None:
    async def main() -> None:
        eng = engine()
        a = await eng.open_leg("c", "caller")
        b = await eng.open_leg("c", "callee")
        assert a.local_port % 2 == 0 and b.local_port % 2 == 0
        assert PORTS[0] <= a.local_port < PORTS[1] and a.local_port != b.local_port
        assert a.local_address == HOST
        assert eng.ports.in_use == 2
        stats = eng.close_call("c")
        assert [s.label for s in stats] == ["caller", "callee"]
        assert eng.parked == 2 and eng.ports.in_use == 2  # parked for reuse, still bound
        await eng.aclose()
        assert eng.parked == 0 and eng.ports.in_use == 0

    run(main)


def test_relay_both_directions_byte_exact() -> None:
    async def main() -> None:
        eng = engine()
        alice, bob, a, b = await bridged(eng)
        for seq in range(5):
            out = rtp(seq, bytes((seq + i) % 256 for i in range(160)), ssrc=0xAAAA)
            alice.send(out, a)
            assert await bob.next() == out
            back = rtp(1000 + seq, bytes(range(160)), ssrc=0xBBBB, marker=seq == 0)
            bob.send(back, b)
            assert await alice.next() == back
        stats = {s.label: s for s in eng.close_call("call-1")}
        assert stats["caller"].packets_received == 5 and stats["caller"].packets_sent == 5
        assert stats["callee"].packets_received == 5 and stats["callee"].packets_sent == 5
        assert stats["caller"].packets_lost == 0
        assert stats["caller"].latched_to == (HOST, alice.port)
        await eng.aclose()

    run(main)


def test_a_long_datagram_is_dropped_once_then_longer_ones_are_read_whole() -> None:
    async def main() -> None:
        eng = engine()
        alice, bob, a, _b = await bridged(eng)
        short = rtp(0, bytes(160))
        alice.send(short, a)
        assert await bob.next() == short
        for seq in (1, 2, 3):  # 120 ms of G.711 in one packet: longer than a leg reads at first
            alice.send(rtp(seq, bytes(range(256)) * 3 + bytes(192)), a)
        assert await bob.next() == rtp(2, bytes(range(256)) * 3 + bytes(192))  # 1 dropped
        assert await bob.next() == rtp(3, bytes(range(256)) * 3 + bytes(192))
        alice.send(short, a)
        assert await bob.next() == short
        stats = {s.label: s for s in eng.close_call("call-1")}
        assert stats["caller"].dropped == 1 and stats["callee"].packets_sent == 4
        await eng.aclose()

    run(main)


def test_latches_to_the_source_actually_seen() -> None:
    async def main() -> None:
        eng = engine()
        alice, bob, a, b = await bridged(eng)
        behind_nat = await phone()  # bob's packets really come from another port
        behind_nat.send(rtp(1, bytes(160)), b)
        assert await alice.next() == rtp(1, bytes(160))
        alice.send(rtp(7, b"\x01" * 160), a)
        assert await behind_nat.next() == rtp(7, b"\x01" * 160)
        await bob.nothing_for(0.2)  # the SDP port no longer gets anything
        await eng.aclose()

    run(main)


def test_a_stranger_cannot_take_over_a_latched_leg() -> None:
    async def main() -> None:
        eng = engine()
        alice, bob, a, b = await bridged(eng)
        bob.send(rtp(1, bytes(160)), b)
        await alice.next()
        assert b.stats().latched_to == (HOST, bob.port)
        assert isinstance(b, UdpLeg) and b.connected  # the kernel filters other sources
        # Another loopback address (not the signalling peer's IP) never gets through: while
        # the leg is connected the kernel drops it, and while it listens to anyone (after a
        # second of silence) the latching rules drop it.
        loop = asyncio.get_running_loop()
        _, stranger = await loop.create_datagram_endpoint(Phone, local_addr=("127.0.0.2", 0))
        _PHONES.append(stranger)
        assert stranger.transport is not None
        stranger.transport.sendto(rtp(2, b"\x66" * 160), (HOST, b.local_port))
        await alice.nothing_for(0.2)
        b.hear_anyone()
        assert not b.connected
        stranger.transport.sendto(rtp(2, b"\x66" * 160), (HOST, b.local_port))
        await alice.nothing_for(0.2)
        assert b.stats().dropped == 1 and b.stats().latched_to == (HOST, bob.port)
        alice.send(rtp(3, b"\x01" * 160), a)
        assert await bob.next() == rtp(3, b"\x01" * 160)
        await stranger.nothing_for(0.1)
        # The latched party's next packet connects the leg again.
        bob.send(rtp(4, bytes(160)), b)
        assert await alice.next() == rtp(4, bytes(160))
        assert b.connected

    run(main)


def test_a_moved_phone_re_latches_after_a_second_of_silence() -> None:
    """The signalling peer's IP from a new port (its NAT binding moved) re-latches: once the
    old address has been silent for a second, the engine's housekeeping disconnects the leg
    and the new address's packets reach the latching rules (a real phone sends every 20 ms,
    so a few are lost meanwhile)."""

    async def main() -> None:
        eng = engine()
        alice, bob, a, b = await bridged(eng)
        bob.send(rtp(1, bytes(160)), b)
        await alice.next()
        moved = await phone()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10 * WAIT
        seq = 10
        while alice.received.empty():
            assert loop.time() < deadline, "the moved phone never re-latched"
            seq += 1
            moved.send(rtp(seq, bytes(160)), b)
            await asyncio.sleep(0.02)
        assert b.stats().latched_to == (HOST, moved.port)
        alice.send(rtp(5, b"\x02" * 160), a)
        assert await moved.next() == rtp(5, b"\x02" * 160)
        await bob.nothing_for(0.1)

    run(main)


def test_a_wildcard_bound_engine_relays_without_connecting() -> None:
    """Bound to 0.0.0.0 a connected socket would pin its local address to the route's: such
    legs keep recvfrom/sendto (leg.py)."""

    async def main() -> None:
        eng = LocalMediaEngine(bind="0.0.0.0", advertise=HOST, port_min=PORTS[0], port_max=PORTS[1])
        _ENGINES.append(eng)
        alice, bob, a, b = await bridged(eng)
        bob.send(rtp(1, bytes(160)), b)
        assert await alice.next() == rtp(1, bytes(160))
        alice.send(rtp(2, b"\x01" * 160), a)
        assert await bob.next() == rtp(2, b"\x01" * 160)
        assert isinstance(a, UdpLeg) and isinstance(b, UdpLeg)
        assert not a.connected and not b.connected
        assert b.stats().latched_to == (HOST, bob.port)

    run(main)


def test_sdp_address_not_used_unless_it_is_the_signalling_peer() -> None:
    async def main() -> None:
        eng = engine()
        alice, bob = await phone(), await phone()
        a = await eng.open_leg("call-1", "caller")
        b = await eng.open_leg("call-1", "callee")
        a.configure(remote(alice))
        # Bob's SDP points at a loopback listener, but the SIP peer was elsewhere: untrusted.
        b.configure(remote(bob, signalling="192.0.2.7"))
        eng.bridge(a, b)
        for seq in range(5):
            alice.send(rtp(seq, bytes(160)), a)
        await bob.nothing_for(0.3)
        assert b.stats().packets_sent == 0
        # Once RTP arrives from the listener, the leg latches and sends there.
        bob.send(rtp(100, bytes(160)), b)
        await alice.next()
        alice.send(rtp(9, b"\x05" * 160), a)
        assert await bob.next() == rtp(9, b"\x05" * 160)

        # And an SDP address that is not even loopback (192.0.2.1) gets nothing either:
        # the leg stays silent until a loopback source is heard.
        c = await eng.open_leg("call-2", "caller")
        d = await eng.open_leg("call-2", "callee")
        carol, dave = await phone(), await phone()
        c.configure(remote(carol))
        d.configure(
            RemoteMedia(
                address="192.0.2.1", port=dave.port, codec=Codec.pcmu(), signalling_address=HOST
            )
        )
        eng.bridge(c, d)
        for seq in range(5):
            carol.send(rtp(seq, bytes(160)), c)
        await dave.nothing_for(0.3)
        assert d.stats().packets_sent == 0
        dave.send(rtp(1, bytes(160)), d)
        await carol.next()
        carol.send(rtp(6, b"\x06" * 160), c)
        assert await dave.next() == rtp(6, b"\x06" * 160)
        await eng.aclose()

    run(main)


def test_pcmu_pcma_transcoding() -> None:
    async def main() -> None:
        eng = engine()
        alice, bob, a, b = await bridged(eng, Codec.pcmu(), Codec.pcma())
        ulaw = bytes(range(96, 256))  # 160 codes
        alice.send(rtp(1, ulaw, pt=0, marker=True), a)
        got = await bob.next()
        assert got[1] == 0x80 | 8  # marker kept, payload type of PCMA
        assert got[2:12] == rtp(1, b"")[2:12]  # sequence, timestamp and SSRC kept
        assert got[12:] == ulaw_to_alaw(ulaw)
        # G.711 reference points: mu-law 0xFF (0) -> A-law 0xD5 (+8); 0x80 (+32124) -> 0xAA.
        alice.send(rtp(2, b"\xff\x80" * 80, pt=0), a)
        assert (await bob.next())[12:14] == b"\xd5\xaa"
        alaw = bytes(range(160))
        bob.send(rtp(5, alaw, pt=8), b)
        back = await alice.next()
        assert back[1] & 0x7F == 0
        assert back[12:] == alaw_to_ulaw(alaw)
        # The audio survives: a tone decoded on the far side is the tone sent, within G.711.
        tone = (np.sin(np.arange(160) * 0.2) * 8000).astype(np.int16)
        alice.send(rtp(3, ulaw_encode(tone), pt=0), a)
        pcma = (await bob.next())[12:]
        bob.send(rtp(6, pcma, pt=8), b)
        roundtrip = ulaw_decode((await alice.next())[12:]).astype(int)
        assert np.max(np.abs(roundtrip - tone)) < 400
        await eng.aclose()

    run(main)


def test_rfc4733_digits_reported_and_relayed() -> None:
    async def main() -> None:
        events = Events()
        eng = engine(events)
        alice, bob, a, _ = await bridged(eng)
        sender = EventSender(interval_ms=20)
        seq = 0
        for n, (digit, ms) in enumerate((("1", 100), ("#", 160), ("1", 80))):
            start_ts = 8000 * (n + 1)
            for pkt in sender.packets(digit, ms):
                alice.send(
                    rtp(
                        seq,
                        pkt.payload,
                        pt=101,
                        ts=start_ts + pkt.timestamp_offset,
                        marker=pkt.marker,
                    ),
                    a,
                )
                seq += 1
                await asyncio.sleep(0.002)
        digits = await events.wait_for(DigitReceived, 3)
        assert [(d.digit, d.duration_ms, d.label) for d in digits] == [
            ("1", 100, "caller"),
            ("#", 160, "caller"),
            ("1", 80, "caller"),
        ]
        assert all(d.started_at <= d.at for d in digits)
        relayed = 0
        while not bob.received.empty():
            data = await bob.next()
            assert data[1] & 0x7F == 101
            relayed += 1
        assert relayed == seq
        await eng.aclose()

    run(main)


def test_sipp_dtmf_pcaps_are_recognised() -> None:
    """The RFC 2833 captures SIPp ships: each pcap's digit is reported once."""
    pcaps = Path("/usr/share/sip-tester")
    assert (pcaps / "dtmf_2833_5.pcap").exists(), "sip-tester (SIPp) is not installed"

    async def main() -> None:
        events = Events()
        eng = engine(events)
        alice = await phone()
        a = await eng.open_leg("call-1", "caller")
        a.configure(remote(alice))
        names = ["1", "5", "9", "star", "pound"]
        for name in names:
            for payload in udp_payloads(pcaps / f"dtmf_2833_{name}.pcap"):
                alice.send(payload, a)
                await asyncio.sleep(0.001)
            await asyncio.sleep(0.05)
        digits = await events.wait_for(DigitReceived, len(names))
        assert "".join(d.digit for d in digits) == "159*#"
        await eng.aclose()

    run(main)


def udp_payloads(path: Path) -> list[bytes]:
    """The UDP payloads of a classic pcap file of Ethernet/IPv4 frames."""
    data = path.read_bytes()
    magic = struct.unpack_from("<I", data)[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack_from(endian + "I", data, 20)[0]
    offset, out = 24, []
    while offset + 16 <= len(data):
        incl = struct.unpack_from(endian + "IIII", data, offset)[2]
        frame = data[offset + 16 : offset + 16 + incl]
        offset += 16 + incl
        ip = frame[14:] if linktype == 1 else frame[16:] if linktype == 113 else frame
        if ip and ip[0] >> 4 == 4 and ip[9] == 17:
            udp = ip[(ip[0] & 0x0F) * 4 :]
            out.append(bytes(udp[8 : struct.unpack_from("!H", udp, 4)[0]]))
    return out


def test_media_timeout_event() -> None:
    async def main() -> None:
        events = Events()
        eng = engine(events, media_timeout=1.0)
        alice = await phone()
        a = await eng.open_leg("call-9", "caller")
        a.configure(remote(alice))
        for seq in range(3):
            alice.send(rtp(seq, bytes(160)), a)
        (timeout,) = await events.wait_for(MediaTimeout, timeout=15)
        assert (timeout.call_id, timeout.label) == ("call-9", "caller")
        assert timeout.silent_for >= 1.0
        await eng.aclose()

    run(main)


def test_no_media_timeout_when_off() -> None:
    async def main() -> None:
        events = Events()
        eng = engine(events, media_timeout=0)
        alice = await phone()
        a = await eng.open_leg("call-9", "caller")
        a.configure(remote(alice))
        await asyncio.sleep(2.5)
        assert not [e for e in events.items if isinstance(e, MediaTimeout)]
        await eng.aclose()

    run(main)


def test_rtcp_reports_and_loss_statistics() -> None:
    async def main() -> None:
        eng = engine(rtcp_interval=1.0)
        alice = await phone()
        alice_rtcp = await phone(alice.port + 1)
        a = await eng.open_leg("call-1", "caller")
        a.configure(remote(alice))
        sent = [s for s in range(100) if s % 10 != 3]  # 10 of 100 lost
        for seq in sent:
            alice.send(rtp(seq, bytes(160), ssrc=0x5151), a)
        # The far end reports 25 % loss and 80 units (10 ms) of jitter about our stream.
        rr = ReceiverReport(
            ssrc=0x5151,
            reports=(ReportBlock(ssrc=a_ssrc(a), fraction_lost=64, packets_lost=5, jitter=80),),
        )
        alice_rtcp.send(serialize_rtcp([rr]), a, rtcp=True)
        report = await alice_rtcp.next(timeout=10)
        packets = parse_rtcp(report)
        assert isinstance(packets[0], ReceiverReport)
        (block,) = packets[0].reports
        assert block.ssrc == 0x5151
        assert block.packets_lost == 10
        assert block.highest_seq == 99
        stats = a.stats()
        assert stats.packets_lost == 10 and stats.packets_received == 90
        assert stats.remote_fraction_lost == 0.25 and stats.remote_jitter_ms == 10.0
        await eng.aclose()

    run(main)


def a_ssrc(leg: MediaLeg) -> int:
    return int(getattr(leg, "ssrc", 0))


class Frames:
    def __init__(self, frames: list[np.ndarray[Any, np.dtype[np.int16]]]) -> None:
        self.frames = list(frames)

    def read_frame(self) -> np.ndarray[Any, np.dtype[np.int16]] | None:
        return self.frames.pop(0) if self.frames else None


def test_source_plays_to_a_leg_instead_of_the_peer() -> None:
    async def main() -> None:
        events = Events()
        eng = engine(events)
        alice, bob, a, b = await bridged(eng)
        frames = [np.full(160, 1000 * (i + 1), dtype=np.int16) for i in range(3)]
        b.set_source(Frames(frames))
        alice.send(rtp(1, b"\x11" * 160), a)  # held: not relayed to bob meanwhile
        got = [await bob.next() for _ in range(3)]
        await events.wait_for(SourceFinished)
        assert [g[12:] for g in got] == [ulaw_encode(f) for f in frames]
        seqs = [struct.unpack_from("!H", g, 2)[0] for g in got]
        assert seqs == [(seqs[0] + i) & 0xFFFF for i in range(3)]
        assert got[0][1] & 0x80 and not got[1][1] & 0x80  # marker on the first packet
        assert all(g[12:] != b"\x11" * 160 for g in got)
        alice.send(rtp(2, b"\x22" * 160), a)  # the source ended: relay resumes
        assert await bob.next() == rtp(2, b"\x22" * 160)
        await eng.aclose()

    run(main)


class Broken:
    def read_frame(self) -> np.ndarray[Any, np.dtype[np.int16]] | None:
        raise ValueError("bad prompt")


def test_a_failing_source_is_removed_and_other_sources_go_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        eng = engine()
        alice, bob, a, b = await bridged(eng)
        frames = [np.full(160, 500, dtype=np.int16) for _ in range(10)]
        a.set_source(Broken())
        b.set_source(Frames(frames))
        got = [await bob.next() for _ in range(10)]  # every frame of the good source arrives
        assert [g[12:] for g in got] == [ulaw_encode(f) for f in frames]
        assert a.source is None  # type: ignore[attr-defined]
        bob.send(rtp(1, b"\x33" * 160), b)  # the broken leg is back to its bridged peer
        assert await alice.next() == rtp(1, b"\x33" * 160)
        await eng.aclose()

    with caplog.at_level("ERROR", logger="tamas.media"):
        run(main)
    failed = [r for r in caplog.records if "audio source failed" in r.getMessage()]
    assert len(failed) == 1 and failed[0].exc_info is None  # one line, no traceback


class Collector:
    """A tap that keeps what it is fed."""

    def __init__(self) -> None:
        self.fed: list[tuple[int, bytes, Codec]] = []

    def feed(self, side: int, packet: bytes, codec: Codec) -> None:
        self.fed.append((side, packet, codec))


def test_tap_gets_both_directions_as_received() -> None:
    async def main() -> None:
        eng = engine()
        alice, bob, a, b = await bridged(eng, Codec.pcmu(), Codec.pcma())
        tap = Collector()
        eng.set_tap(b, tap)
        sent = []
        for seq in range(3):
            pa, pb = rtp(seq, bytes([seq]) * 160), rtp(seq, bytes([50 + seq]) * 160, pt=8)
            alice.send(pa, a)
            await bob.next()
            bob.send(pb, b)
            await alice.next()
            sent += [(0, pa, Codec.pcmu()), (1, pb, Codec.pcma())]
        assert tap.fed == sent  # side 0 is the bridge's first leg; packets as they came in
        eng.set_tap(a, None)
        alice.send(rtp(9, bytes(160)), a)
        await bob.next()
        assert len(tap.fed) == 6
        await eng.aclose()

    run(main)


def test_recorder_tap_writes_a_stereo_wav(tmp_path: Path) -> None:
    async def main() -> None:
        eng = engine()
        recorder = Recorder(interval=0.05, delay=0.05)
        alice, bob, a, b = await bridged(eng)
        recording = recorder.open(tmp_path / "call.wav")
        eng.set_tap(a, recording)
        tone = ulaw_encode((np.sin(np.arange(160) * 0.3) * 8000).astype(np.int16))
        for seq in range(25):  # half a second each way, in real time
            alice.send(rtp(seq, tone, ssrc=1), a)
            bob.send(rtp(seq, b"\xff" * 160, ssrc=2), b)
            await asyncio.sleep(0.02)
        meta = await recording.stop()
        await recorder.aclose()
        assert meta.channels == 2
        info, frames = parse_wav((tmp_path / "call.wav").read_bytes())  # µ-law: not wave's
        assert info.channels == 2 and info.sample_rate == 8000
        left, right = frames[:, 0], frames[:, 1]
        assert np.abs(left).max() > 4000  # the caller's tone
        assert np.abs(right).max() == 0  # the callee sent mu-law silence
        await eng.aclose()

    run(main)


def test_closed_event_carries_stats_and_no_fd_leak() -> None:
    async def main() -> None:
        events = Events()
        eng = engine(events)
        before = len(os.listdir("/proc/self/fd"))
        for i in range(1000):
            leg = await eng.open_leg(f"c{i}", "caller")
            leg.close()
            leg.close()  # idempotent
        await asyncio.sleep(0.1)
        # closed legs' sockets wait to be reused, a bounded number of them
        assert 0 < eng.parked <= eng.park_max and eng.ports.in_use == eng.parked
        assert len(os.listdir("/proc/self/fd")) <= before + 2 * eng.parked
        closed = [e for e in events.items if isinstance(e, LegClosed)]
        assert len(closed) == 1000 and closed[0].stats.call_id == "c0"
        await eng.aclose()
        await asyncio.sleep(0.1)
        assert eng.ports.in_use == 0 and eng.parked == 0
        assert len(os.listdir("/proc/self/fd")) <= before

    run(main)


def test_a_closed_legs_sockets_are_reused_after_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    import tamas.runtime.mediaengine.engine as engine_module

    monkeypatch.setattr(engine_module, "REUSE_AFTER", 0.2)

    async def main() -> None:
        eng = engine()
        alice, bob, a, b = await bridged(eng)
        old_ports = {a.local_port, b.local_port}
        eng.close_call("call-1")
        assert eng.parked == 2
        alice.send(rtp(1, bytes(160)), a)  # a late packet of the old call: dropped
        bob.send(rtp(1, bytes(160)), b)
        fresh = await eng.open_leg("call-2", "caller")  # parked too briefly: a new pair
        assert fresh.local_port not in old_ports and eng.parked == 2
        fresh.close()
        await asyncio.sleep(0.3)
        carol, dave = await phone(), await phone()
        c = await eng.open_leg("call-3", "caller")
        d = await eng.open_leg("call-3", "callee")
        assert {c.local_port, d.local_port} == old_ports  # the oldest parked pairs
        c.configure(remote(carol))
        d.configure(remote(dave))
        eng.bridge(c, d)
        out = rtp(7, bytes(range(160)), ssrc=0xCCCC)
        carol.send(out, c)
        assert await dave.next() == out
        back = rtp(8, bytes(range(160)), ssrc=0xDDDD)
        dave.send(back, d)
        assert await carol.next() == back
        stats = {s.label: s for s in eng.close_call("call-3")}
        # the old call's late packets never reached the new legs or their parties
        assert stats["caller"].packets_received == 1 and stats["caller"].latched_to == (
            HOST, carol.port)  # fmt: skip
        assert alice.received.empty() and bob.received.empty()
        assert carol.received.empty() and dave.received.empty()
        await eng.aclose()

    run(main)


def test_a_parked_pair_closed_meanwhile_is_not_reused() -> None:
    async def main() -> None:
        eng = engine(port_min=41100, port_max=41105)  # 3 pairs: at most 1 parked
        a = await eng.open_leg("a", "caller")
        b = await eng.open_leg("b", "caller")
        a.close()
        assert eng.parked == 1
        _, _, _, rtcp = eng._parked[0]
        rtcp.close()  # e.g. the loop closing its transports
        await asyncio.sleep(0.05)
        c = await eng.open_leg("c", "caller")  # a fresh pair, not the closed one
        assert eng.parked == 0 and c.local_port not in (a.local_port, b.local_port)
        phone_c = await phone()
        c.configure(remote(phone_c))
        c.send_digit("1", duration_ms=40)
        assert await phone_c.next()  # it sends: its transport is open
        b.close()
        c.close()
        await eng.aclose()
        assert eng.ports.in_use == 0

    run(main)


def test_parked_sockets_are_bounded() -> None:
    async def main() -> None:
        eng = engine(port_min=41000, port_max=41019)  # 10 pairs: at most 5 parked
        assert eng.park_max == 5
        legs = [await eng.open_leg(f"c{i}", "caller") for i in range(8)]
        for leg in legs:
            leg.close()
        assert eng.parked == 5 and eng.ports.in_use == 5  # the other three were closed
        again = await eng.open_leg("d", "caller")  # full park: the oldest pair at once
        assert again.local_port == legs[3].local_port and eng.parked == 4
        await eng.aclose()
        assert eng.ports.in_use == 0

    run(main)


def test_port_range_skips_ports_in_use_and_runs_out_cleanly() -> None:
    async def main() -> None:
        low = 40900
        held = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        held.bind((HOST, low + 1))  # another program holds the RTCP port of the first pair
        try:
            eng = engine(port_min=low, port_max=low + 5)
            legs = [await eng.open_leg("c", str(i)) for i in range(2)]
            assert [leg.local_port for leg in legs] == [low + 2, low + 4]
            with pytest.raises(MediaError, match="no free RTP port pair"):
                await eng.open_leg("c", "x")
            legs[0].close()
            await asyncio.sleep(0.05)  # the transport closes its socket on the next loop turn
            again = await eng.open_leg("c", "y")
            assert again.local_port == low + 2
            await eng.aclose()
        finally:
            held.close()

    run(main)
