"""A bridge tap's view of G.722 audio: the packets converted to PCMU at 8 kHz.

Taps (recording, monitoring, the echo test) decode G.711 at 8 kHz. When a leg of a tapped
bridge speaks G.722, the engine puts a :class:`NarrowTap` in front of the tap: each G.722
packet is decoded (16 kHz), resampled to 8 kHz and handed on as a PCMU packet with the same
RTP header (payload type 0), so every tap keeps working unchanged; G.711 packets pass as they
are. The conversion costs a G.722 decode per packet (tens of microseconds) and is paid only on
tapped bridges with a G.722 leg. A recorder that wants the wideband audio itself can use
:class:`tamas.media.g722.NarrowDecoder` (or :class:`~tamas.media.g722.Decoder` at 16 kHz).
"""

from __future__ import annotations

from tamas.media.g711 import ulaw_encode
from tamas.media.g722 import NarrowDecoder
from tamas.runtime.mediaengine.api import Codec, CodecName, Tap

__all__ = ["NarrowTap", "narrow_tap"]

_PCMU = Codec.pcmu()


class NarrowTap:
    """Feeds ``inner`` G.711 in place of G.722 (see the module docstring)."""

    __slots__ = ("_decoders", "inner")

    def __init__(self, inner: Tap) -> None:
        self.inner = inner
        self._decoders: dict[int, NarrowDecoder] = {}  # by side: one stream each

    def feed(self, side: int, packet: bytes, codec: Codec) -> None:
        if codec.name is not CodecName.G722:
            self.inner.feed(side, packet, codec)
            return
        start = 12 + 4 * (packet[0] & 0x0F)
        if packet[0] & 0x10 and len(packet) >= start + 4:
            start += 4 + 4 * int.from_bytes(packet[start + 2 : start + 4], "big")
        end = len(packet) - (packet[-1] if packet[0] & 0x20 else 0)
        if start >= end:
            return
        decoder = self._decoders.get(side)
        if decoder is None:
            decoder = self._decoders[side] = NarrowDecoder()
        pcmu = ulaw_encode(decoder.decode(packet[start:end]))
        header = bytes((packet[0] & 0xDF, packet[1] & 0x80)) + packet[2:start]
        self.inner.feed(side, header + pcmu, _PCMU)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)  # the tap's other methods (e.g. a mixer's retap)


def narrow_tap(tap: Tap | None, *codecs: Codec | None) -> Tap | None:
    """``tap`` as a bridge with legs in ``codecs`` must carry it: wrapped in a
    :class:`NarrowTap` if a leg speaks G.722, unwrapped otherwise."""
    if isinstance(tap, NarrowTap):
        tap = tap.inner
    if tap is None or not any(c is not None and c.name is CodecName.G722 for c in codecs):
        return tap
    return NarrowTap(tap)
