"""RTP packets (RFC 3550 section 5.1) and sequence/timestamp arithmetic.

Two ways in, by cost:

* :meth:`RtpPacket.parse` / ``bytes(packet)`` build and emit a full, validated packet object. Used
  where the payload is decoded anyway (playback, mixing, DTMF).
* :func:`peek_header` and :func:`rewrite_header` read and patch the fixed header of a packet in a
  buffer, without building objects. The relay path forwards packets with them.

Sequence numbers are 16-bit and timestamps 32-bit counters that wrap; :func:`seq_diff`,
:func:`seq_newer`, :func:`ts_diff` and :func:`ts_newer` compare them in modular arithmetic (RFC 1982
serial numbers): ``a`` is newer than ``b`` when it is less than half the space ahead.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from tamas.core.errors import TamasError

__all__ = [
    "RTP_HEADER_SIZE",
    "RTP_VERSION",
    "RtpError",
    "RtpExtension",
    "RtpPacket",
    "peek_header",
    "rewrite_header",
    "seq_add",
    "seq_diff",
    "seq_newer",
    "ts_add",
    "ts_diff",
    "ts_newer",
]

RTP_VERSION = 2
RTP_HEADER_SIZE = 12

_HEADER = struct.Struct("!BBHII")
_SEQ_TS_SSRC = struct.Struct("!HII")
_EXT_HEADER = struct.Struct("!HH")

_SEQ_MOD = 1 << 16
_TS_MOD = 1 << 32


class RtpError(TamasError):
    """The bytes are not a valid RTP packet, or a packet cannot be encoded."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RtpExtension:
    """A header extension (RFC 3550 section 5.3.1), kept as raw bytes.

    ``profile`` is the 16-bit "defined by profile" field (``0xBEDE`` for RFC 8285 one-byte
    headers); ``data`` is the extension body, a multiple of 4 bytes long.
    """

    profile: int
    data: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class RtpPacket:
    """One RTP packet; the version is always 2.

    ``padding`` is the number of padding octets at the end (0: the P bit is clear). On output the
    padding is zeros followed by the count, so captured packets whose padding carries other bytes
    round-trip in their fields but not byte for byte.
    """

    payload_type: int
    sequence_number: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrc: tuple[int, ...] = ()
    extension: RtpExtension | None = None
    padding: int = 0

    @classmethod
    def parse(cls, data: bytes | bytearray | memoryview) -> RtpPacket:
        """Decode ``data``; raise :class:`RtpError` if it is not a well-formed RTP packet."""
        length = len(data)
        if length < RTP_HEADER_SIZE:
            raise RtpError(f"RTP packet too short: {length} bytes")
        first, second, seq, ts, ssrc = _HEADER.unpack_from(data)
        if first >> 6 != RTP_VERSION:
            raise RtpError(f"RTP version {first >> 6}, expected 2")

        offset = RTP_HEADER_SIZE
        cc = first & 0x0F
        csrc: tuple[int, ...] = ()
        if cc:
            end = offset + 4 * cc
            if end > length:
                raise RtpError(f"RTP CSRC count {cc} runs past the packet")
            csrc = struct.unpack_from(f"!{cc}I", data, offset)
            offset = end

        extension = None
        if first & 0x10:
            if offset + 4 > length:
                raise RtpError("RTP header extension runs past the packet")
            profile, words = _EXT_HEADER.unpack_from(data, offset)
            offset += 4
            end = offset + 4 * words
            if end > length:
                raise RtpError(f"RTP header extension of {words} words runs past the packet")
            extension = RtpExtension(profile=profile, data=bytes(data[offset:end]))
            offset = end

        padding = 0
        end = length
        if first & 0x20:
            padding = data[-1]
            if padding == 0 or offset + padding > length:
                raise RtpError(f"RTP padding length {padding} is invalid")
            end -= padding

        return cls(
            payload_type=second & 0x7F,
            sequence_number=seq,
            timestamp=ts,
            ssrc=ssrc,
            payload=bytes(data[offset:end]),
            marker=bool(second & 0x80),
            csrc=csrc,
            extension=extension,
            padding=padding,
        )

    def __bytes__(self) -> bytes:
        if not 0 <= self.payload_type <= 0x7F:
            raise RtpError(f"RTP payload type {self.payload_type} is not 7-bit")
        if len(self.csrc) > 15:
            raise RtpError(f"{len(self.csrc)} CSRCs; at most 15 fit")
        if not 0 <= self.padding <= 0xFF:
            raise RtpError(f"RTP padding {self.padding} does not fit an octet")
        ext = self.extension
        first = (
            (RTP_VERSION << 6)
            | (0x20 if self.padding else 0)
            | (0x10 if ext is not None else 0)
            | len(self.csrc)
        )
        second = (0x80 if self.marker else 0) | self.payload_type
        try:
            parts = [
                _HEADER.pack(first, second, self.sequence_number, self.timestamp, self.ssrc),
                struct.pack(f"!{len(self.csrc)}I", *self.csrc),
            ]
            if ext is not None:
                words, rest = divmod(len(ext.data), 4)
                if rest:
                    raise RtpError("RTP header extension data is not a multiple of 4 bytes")
                parts += [_EXT_HEADER.pack(ext.profile, words), ext.data]
        except struct.error as exc:
            raise RtpError(f"RTP header field out of range: {exc}") from None
        parts.append(self.payload)
        if self.padding:
            parts.append(bytes(self.padding - 1) + bytes((self.padding,)))
        return b"".join(parts)


def peek_header(data: bytes | bytearray | memoryview) -> tuple[int, int, int, int, bool]:
    """Return ``(payload_type, sequence_number, timestamp, ssrc, marker)`` of an RTP packet.

    Only the fixed header is checked (length and version); nothing is copied.
    """
    if len(data) < RTP_HEADER_SIZE:
        raise RtpError(f"RTP packet too short: {len(data)} bytes")
    first, second, seq, ts, ssrc = _HEADER.unpack_from(data)
    if first >> 6 != RTP_VERSION:
        raise RtpError(f"RTP version {first >> 6}, expected 2")
    return second & 0x7F, seq, ts, ssrc, bool(second & 0x80)


def rewrite_header(
    buf: bytearray,
    *,
    ssrc: int,
    seq: int,
    ts: int,
    pt: int | None = None,
    marker: bool | None = None,
) -> None:
    """Patch the fixed header of the RTP packet in ``buf`` in place.

    ``seq`` and ``ts`` are taken modulo 2**16 and 2**32, so a relay may pass ``seq + offset``.
    ``pt`` and ``marker`` are left as they are when ``None``. The rest of the packet (CSRCs,
    extension, payload, padding) is untouched.
    """
    if len(buf) < RTP_HEADER_SIZE:
        raise RtpError(f"RTP packet too short: {len(buf)} bytes")
    _SEQ_TS_SSRC.pack_into(buf, 2, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc & 0xFFFFFFFF)
    if pt is not None or marker is not None:
        second = buf[1]
        if pt is not None:
            second = (second & 0x80) | (pt & 0x7F)
        if marker is not None:
            second = (second & 0x7F) | (0x80 if marker else 0)
        buf[1] = second


def seq_diff(a: int, b: int) -> int:
    """``a - b`` for 16-bit sequence numbers, in ``[-32768, 32767]``."""
    return ((a - b + 0x8000) & 0xFFFF) - 0x8000


def seq_newer(a: int, b: int) -> bool:
    """Whether sequence number ``a`` comes after ``b`` (less than half the space ahead)."""
    return 0 < ((a - b) & 0xFFFF) < 0x8000


def seq_add(seq: int, n: int) -> int:
    """``seq + n`` wrapped to 16 bits (``n`` may be negative)."""
    return (seq + n) % _SEQ_MOD


def ts_diff(a: int, b: int) -> int:
    """``a - b`` for 32-bit RTP timestamps, in ``[-2**31, 2**31 - 1]``."""
    return ((a - b + 0x80000000) & 0xFFFFFFFF) - 0x80000000


def ts_newer(a: int, b: int) -> bool:
    """Whether timestamp ``a`` comes after ``b`` (less than half the space ahead)."""
    return 0 < ((a - b) & 0xFFFFFFFF) < 0x80000000


def ts_add(ts: int, n: int) -> int:
    """``ts + n`` wrapped to 32 bits (``n`` may be negative)."""
    return (ts + n) % _TS_MOD
