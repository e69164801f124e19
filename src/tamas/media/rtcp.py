"""RTCP packets (RFC 3550 section 6): SR, RR, SDES, BYE in compound packets.

Theory of operation: a datagram on the RTCP port (or on the RTP port, when muxed per RFC 5761 --
see :func:`is_rtcp`) is a *compound* packet, several RTCP packets back to back, each with a
4-byte common header whose ``length`` field counts 32-bit words minus one (section 6.4.1).
:func:`parse_rtcp` splits and decodes them; packet types it does not model (APP, feedback, XR)
are kept as :class:`UnknownRtcp` so a compound packet round-trips. :func:`serialize_rtcp` joins
packets back. Padding (the P bit) is accepted and stripped on input, never produced on output.

Time in SR and LSR/DLSR is NTP format (section 4): a 64-bit fixed-point count of seconds since
1900-01-01. :func:`ntp_from_unix` converts a Unix time (the caller's clock, passed in) and
:func:`ntp_middle32` takes the middle 32 bits an RR echoes as LSR (section 6.4.1).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from tamas.media.rtp import RtpError

__all__ = [
    "NTP_UNIX_OFFSET",
    "Bye",
    "ReceiverReport",
    "ReportBlock",
    "RtcpError",
    "RtcpPacket",
    "RtcpType",
    "SdesChunk",
    "SdesItem",
    "SdesType",
    "SenderReport",
    "SourceDescription",
    "UnknownRtcp",
    "dlsr_from_seconds",
    "is_rtcp",
    "ntp_from_unix",
    "ntp_middle32",
    "ntp_to_unix",
    "parse_rtcp",
    "serialize_rtcp",
]

#: Seconds from the NTP epoch (1900) to the Unix epoch (1970).
NTP_UNIX_OFFSET = 2_208_988_800

_COMMON = struct.Struct("!BBH")
_SR_INFO = struct.Struct("!IIIIII")  # SSRC, NTP msw, NTP lsw, RTP ts, packets, octets
_BLOCK = struct.Struct("!IIIIII")  # SSRC, fraction|lost, highest seq, jitter, LSR, DLSR
_U32 = struct.Struct("!I")


class RtcpType(IntEnum):
    """RTCP packet types (RFC 3550 section 12.1)."""

    SR = 200
    RR = 201
    SDES = 202
    BYE = 203
    APP = 204


class SdesType(IntEnum):
    """SDES item types (RFC 3550 section 12.2)."""

    END = 0
    CNAME = 1
    NAME = 2
    EMAIL = 3
    PHONE = 4
    LOC = 5
    TOOL = 6
    NOTE = 7
    PRIV = 8


class RtcpError(RtpError):
    """The bytes are not a valid RTCP packet, or a packet cannot be encoded."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportBlock:
    """Reception statistics about one source (RFC 3550 section 6.4.1).

    ``fraction_lost`` is lost/expected since the previous report in 1/256 units;
    ``packets_lost`` is cumulative and signed (duplicates can make it negative), 24 bits;
    ``highest_seq`` is the extended highest sequence number (cycles << 16 | seq);
    ``jitter`` is in timestamp units; ``lsr`` is the middle 32 bits of the last SR's NTP time and
    ``dlsr`` the delay since that SR in 1/65536 seconds (both 0 without an SR).
    """

    ssrc: int
    fraction_lost: int = 0
    packets_lost: int = 0
    highest_seq: int = 0
    jitter: int = 0
    lsr: int = 0
    dlsr: int = 0

    @classmethod
    def parse(cls, data: bytes | bytearray | memoryview, offset: int = 0) -> ReportBlock:
        ssrc, loss, highest, jitter, lsr, dlsr = _BLOCK.unpack_from(data, offset)
        lost = loss & 0xFFFFFF
        if lost & 0x800000:
            lost -= 0x1000000
        return cls(
            ssrc=ssrc,
            fraction_lost=loss >> 24,
            packets_lost=lost,
            highest_seq=highest,
            jitter=jitter,
            lsr=lsr,
            dlsr=dlsr,
        )

    def __bytes__(self) -> bytes:
        if not 0 <= self.fraction_lost <= 0xFF:
            raise RtcpError(f"fraction lost {self.fraction_lost} does not fit 8 bits")
        if not -0x800000 <= self.packets_lost <= 0x7FFFFF:
            raise RtcpError(f"packets lost {self.packets_lost} does not fit 24 signed bits")
        loss = (self.fraction_lost << 24) | (self.packets_lost & 0xFFFFFF)
        try:
            return _BLOCK.pack(self.ssrc, loss, self.highest_seq, self.jitter, self.lsr, self.dlsr)
        except struct.error as exc:
            raise RtcpError(f"report block field out of range: {exc}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class SenderReport:
    """SR (section 6.4.1): sender info plus report blocks; ``extension`` is profile-specific."""

    ssrc: int
    ntp_msw: int
    ntp_lsw: int
    rtp_timestamp: int
    packet_count: int
    octet_count: int
    reports: tuple[ReportBlock, ...] = ()
    extension: bytes = b""

    def __bytes__(self) -> bytes:
        try:
            info = _SR_INFO.pack(
                self.ssrc,
                self.ntp_msw,
                self.ntp_lsw,
                self.rtp_timestamp,
                self.packet_count,
                self.octet_count,
            )
        except struct.error as exc:
            raise RtcpError(f"sender info field out of range: {exc}") from None
        body = info + b"".join(bytes(r) for r in self.reports) + self.extension
        return _packet(RtcpType.SR, len(self.reports), body)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiverReport:
    """RR (section 6.4.2): report blocks from a participant that is not sending."""

    ssrc: int
    reports: tuple[ReportBlock, ...] = ()
    extension: bytes = b""

    def __bytes__(self) -> bytes:
        body = _u32(self.ssrc) + b"".join(bytes(r) for r in self.reports) + self.extension
        return _packet(RtcpType.RR, len(self.reports), body)


@dataclass(frozen=True, slots=True, kw_only=True)
class SdesItem:
    """One SDES item (section 6.5): a type from :class:`SdesType` and up to 255 octets."""

    type: int
    value: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class SdesChunk:
    """The SDES items describing one source."""

    ssrc: int
    items: tuple[SdesItem, ...] = ()

    @property
    def cname(self) -> str | None:
        for item in self.items:
            if item.type == SdesType.CNAME:
                return item.value.decode("utf-8", errors="replace")
        return None

    def __bytes__(self) -> bytes:
        parts = [_u32(self.ssrc)]
        for item in self.items:
            if not 1 <= item.type <= 0xFF:
                raise RtcpError(f"SDES item type {item.type} is invalid")
            if len(item.value) > 0xFF:
                raise RtcpError("SDES item longer than 255 octets")
            parts += [bytes((item.type, len(item.value))), item.value]
        size = sum(len(p) for p in parts)
        parts.append(bytes(4 - size % 4))  # END item plus padding to a word: 1 to 4 zeros
        return b"".join(parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceDescription:
    """SDES (section 6.5): a chunk of items per source."""

    chunks: tuple[SdesChunk, ...] = ()

    @classmethod
    def for_cname(cls, ssrc: int, cname: str) -> SourceDescription:
        item = SdesItem(type=SdesType.CNAME, value=cname.encode())
        return cls(chunks=(SdesChunk(ssrc=ssrc, items=(item,)),))

    def __bytes__(self) -> bytes:
        body = b"".join(bytes(c) for c in self.chunks)
        return _packet(RtcpType.SDES, len(self.chunks), body)


@dataclass(frozen=True, slots=True, kw_only=True)
class Bye:
    """BYE (section 6.6): the sources leaving, with an optional reason."""

    sources: tuple[int, ...] = ()
    reason: str | None = None

    def __bytes__(self) -> bytes:
        try:
            body = struct.pack(f"!{len(self.sources)}I", *self.sources)
        except struct.error as exc:
            raise RtcpError(f"BYE SSRC out of range: {exc}") from None
        if self.reason is not None:
            text = self.reason.encode()
            if len(text) > 0xFF:
                raise RtcpError("BYE reason longer than 255 octets")
            body += bytes((len(text),)) + text
            body += bytes(-len(body) % 4)
        return _packet(RtcpType.BYE, len(self.sources), body)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownRtcp:
    """A packet type not modelled here (APP, RTPFB, PSFB, XR...), kept as its body bytes."""

    packet_type: int
    count: int = 0
    body: bytes = b""

    def __bytes__(self) -> bytes:
        return _packet(self.packet_type, self.count, self.body)


RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Bye | UnknownRtcp


def is_rtcp(data: bytes | bytearray | memoryview) -> bool:
    """RFC 5761 section 4 demultiplexing: whether a datagram on a muxed port is RTCP."""
    return len(data) >= 2 and 192 <= data[1] <= 223


def parse_rtcp(data: bytes | bytearray | memoryview) -> list[RtcpPacket]:
    """Split and decode a compound RTCP packet; raise :class:`RtcpError` if malformed."""
    if not data:
        raise RtcpError("empty RTCP packet")
    view = memoryview(data)
    packets: list[RtcpPacket] = []
    offset = 0
    while offset < len(view):
        if offset + 4 > len(view):
            raise RtcpError("truncated RTCP header")
        first, packet_type, words = _COMMON.unpack_from(view, offset)
        if first >> 6 != 2:
            raise RtcpError(f"RTCP version {first >> 6}, expected 2")
        end = offset + 4 * (words + 1)
        if end > len(view):
            raise RtcpError(f"RTCP packet length {words} runs past the datagram")
        body = view[offset + 4 : end]
        if first & 0x20:
            pad = body[-1] if body else 0
            if pad == 0 or pad > len(body):
                raise RtcpError(f"RTCP padding length {pad} is invalid")
            body = body[: len(body) - pad]
        packets.append(_parse_one(packet_type, first & 0x1F, body))
        offset = end
    return packets


def serialize_rtcp(packets: list[RtcpPacket] | tuple[RtcpPacket, ...]) -> bytes:
    """Join packets into one compound RTCP packet."""
    return b"".join(bytes(p) for p in packets)


def ntp_from_unix(t: float) -> tuple[int, int]:
    """NTP timestamp ``(seconds, fraction)`` of Unix time ``t`` (the 64-bit form, section 4)."""
    whole = int(t // 1)
    frac = int((t - whole) * (1 << 32))
    return (whole + NTP_UNIX_OFFSET) & 0xFFFFFFFF, min(frac, 0xFFFFFFFF)


def ntp_to_unix(msw: int, lsw: int) -> float:
    """Unix time of the NTP timestamp ``(msw, lsw)`` (era 0, i.e. before 2036)."""
    return msw - NTP_UNIX_OFFSET + lsw / (1 << 32)


def ntp_middle32(msw: int, lsw: int) -> int:
    """The middle 32 bits of an NTP timestamp: the LSR field of a report block."""
    return ((msw & 0xFFFF) << 16) | (lsw >> 16)


def dlsr_from_seconds(seconds: float) -> int:
    """A delay in seconds as DLSR, in 1/65536 seconds (clamped to 32 bits, 0 if negative)."""
    return max(0, min(int(seconds * 65536), 0xFFFFFFFF))


def _packet(packet_type: int, count: int, body: bytes) -> bytes:
    if count > 0x1F:
        raise RtcpError(f"{count} items in one RTCP packet; at most 31 fit")
    if len(body) % 4:
        raise RtcpError("RTCP packet body is not a multiple of 4 bytes")
    words = len(body) // 4
    if words > 0xFFFF:
        raise RtcpError("RTCP packet too long")
    if not 0 <= packet_type <= 0xFF:
        raise RtcpError(f"RTCP packet type {packet_type} is invalid")
    return _COMMON.pack(0x80 | count, packet_type, words) + body


def _u32(value: int) -> bytes:
    try:
        return _U32.pack(value)
    except struct.error as exc:
        raise RtcpError(f"SSRC out of range: {exc}") from None


def _parse_one(packet_type: int, count: int, body: memoryview) -> RtcpPacket:
    if packet_type == RtcpType.SR:
        if len(body) < _SR_INFO.size + count * _BLOCK.size:
            raise RtcpError(f"SR with {count} report blocks is too short")
        ssrc, msw, lsw, rtp_ts, packets, octets = _SR_INFO.unpack_from(body)
        end = _SR_INFO.size + count * _BLOCK.size
        return SenderReport(
            ssrc=ssrc,
            ntp_msw=msw,
            ntp_lsw=lsw,
            rtp_timestamp=rtp_ts,
            packet_count=packets,
            octet_count=octets,
            reports=_blocks(body, _SR_INFO.size, count),
            extension=bytes(body[end:]),
        )
    if packet_type == RtcpType.RR:
        if len(body) < 4 + count * _BLOCK.size:
            raise RtcpError(f"RR with {count} report blocks is too short")
        return ReceiverReport(
            ssrc=_U32.unpack_from(body)[0],
            reports=_blocks(body, 4, count),
            extension=bytes(body[4 + count * _BLOCK.size :]),
        )
    if packet_type == RtcpType.SDES:
        return SourceDescription(chunks=_sdes_chunks(body, count))
    if packet_type == RtcpType.BYE:
        if len(body) < 4 * count:
            raise RtcpError(f"BYE with {count} sources is too short")
        sources = struct.unpack_from(f"!{count}I", body)
        reason = None
        rest = body[4 * count :]
        if rest:
            size = rest[0]
            if 1 + size > len(rest):
                raise RtcpError("BYE reason runs past the packet")
            try:
                reason = bytes(rest[1 : 1 + size]).decode("utf-8")
            except UnicodeDecodeError:
                raise RtcpError("BYE reason is not UTF-8") from None
        return Bye(sources=sources, reason=reason)
    return UnknownRtcp(packet_type=packet_type, count=count, body=bytes(body))


def _blocks(body: memoryview, offset: int, count: int) -> tuple[ReportBlock, ...]:
    return tuple(ReportBlock.parse(body, offset + i * _BLOCK.size) for i in range(count))


def _sdes_chunks(body: memoryview, count: int) -> tuple[SdesChunk, ...]:
    chunks = []
    offset = 0
    for _ in range(count):
        if offset + 4 > len(body):
            raise RtcpError("SDES chunk runs past the packet")
        ssrc = _U32.unpack_from(body, offset)[0]
        offset += 4
        items = []
        while True:
            if offset >= len(body):
                raise RtcpError("SDES chunk has no END item")
            item_type = body[offset]
            if item_type == SdesType.END:
                offset = (offset + 4) & ~3  # the null octets run to the next word boundary
                break
            if offset + 2 > len(body):
                raise RtcpError("SDES item runs past the packet")
            start = offset + 2
            offset = start + body[offset + 1]
            if offset > len(body):
                raise RtcpError("SDES item runs past the packet")
            items.append(SdesItem(type=item_type, value=bytes(body[start:offset])))
        chunks.append(SdesChunk(ssrc=ssrc, items=tuple(items)))
    return tuple(chunks)
