"""Helpers of test_b2bua_dtmf_interworking: RFC 4733 packets out and in."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from tamas.media.telephone_event import DigitEnded, EventReceiver, TelephoneEvent

TE = 101


@dataclass(frozen=True)
class Packet:
    raw: bytes
    marker: bool
    pt: int
    seq: int
    ts: int
    ssrc: int

    @property
    def event(self) -> TelephoneEvent:
        return TelephoneEvent.parse(self.raw[12:])


def packets(port: object) -> list[Packet]:
    port.poll()  # type: ignore[attr-defined]
    out = []
    for data, _ in port.received:  # type: ignore[attr-defined]
        _, b1, seq, ts, ssrc = struct.unpack_from("!BBHII", data)
        out.append(Packet(data, bool(b1 & 0x80), b1 & 0x7F, seq, ts, ssrc))
    return out


def events(port: object) -> list[Packet]:
    return [p for p in packets(port) if p.pt == TE]


def ends(port: object) -> int:
    return sum(p.event.end for p in events(port))


def digits(evs: list[Packet]) -> list[tuple[str, int]]:
    receiver = EventReceiver()
    out = []
    for p in evs:
        for ev in receiver.receive(p.marker, p.seq, p.ts, p.raw[12:], 0.0):
            if isinstance(ev, DigitEnded):
                out.append((ev.digit, ev.duration_ms))
    return out


def event_packets(code: int, *, ts: int, duration: int, seq: int = 100) -> list[bytes]:
    """An event in 160-unit steps, then three end packets (SSRC 0x1234)."""
    durations = list(range(160, duration, 160)) + [duration] * 3
    out = []
    for i, d in enumerate(durations):
        end = 0x80 if i >= len(durations) - 3 else 0
        header = struct.pack("!BBHII", 0x80, TE | (0x80 if i == 0 else 0), seq + i, ts, 0x1234)
        out.append(header + struct.pack("!BBH", code, end | 10, d))
    return out


def send_event(port: object, to: int, code: int, *, ts: int, duration: int) -> list[bytes]:
    sent = event_packets(code, ts=ts, duration=duration)
    for data in sent:
        port.sock.sendto(data, ("127.0.0.1", to))  # type: ignore[attr-defined]
    return sent
