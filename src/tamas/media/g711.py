"""G.711 µ-law and A-law (ITU-T G.711, 1988), table-driven.

Theory of operation
-------------------
Both laws are 8-segment piecewise-linear companders. The tables below are computed once at
import from the algorithm, on 16-bit linear PCM:

* Decoding is a 256-entry ``int16`` table indexed by the code.
* Encoding is a 65536-entry ``uint8`` table indexed by the sample's bit pattern read as
  ``uint16`` (``samples.view(np.uint16)``), so a frame is encoded by one fancy-index.
* µ-law <-> A-law transcoding is a 256-byte ``bytes.translate`` table: decode with one law,
  encode with the other (no numpy per packet).

µ-law works on 14-bit magnitudes (16-bit >> 2) with a bias of 33 (132 on the 16-bit scale);
it is a mid-tread quantiser, so zero is a level and codes 0xFF/0x7F are +0/-0. Inputs are
quantised by sign and magnitude (``|x| + 132``), so ``encode(-x) == encode(x) ^ 0x80`` for
x != 0; this is the classic Sun ``g711.c`` 16-bit ``linear2ulaw``. Codes are transmitted
inverted (G.711 table 2a: all bits complemented).

A-law works on 13-bit values (16-bit >> 3); it is a mid-riser quantiser with no zero level
(0xD5 decodes to +8, 0x55 to -8). Negative inputs are taken in one's complement (``~x``), as
G.711 table 1a and the ITU-T G.191 reference code do, so the decision levels are symmetric
about -0.5. Even bits are inverted on the line (XOR 0x55).

Reference values (G.711 tables 1a/2a, scaled to 16 bits): µ-law 0xFF -> 0, 0x00 -> -32124,
0x80 -> +32124; A-law 0xD5 -> +8, 0x55 -> -8, 0xAA -> +32256, 0x2A -> -32256.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "ALAW_DECODE",
    "ALAW_ENCODE",
    "ALAW_TO_ULAW",
    "ULAW_DECODE",
    "ULAW_ENCODE",
    "ULAW_TO_ALAW",
    "alaw_decode",
    "alaw_encode",
    "alaw_to_ulaw",
    "ulaw_decode",
    "ulaw_encode",
    "ulaw_to_alaw",
]

Int16Array = npt.NDArray[np.int16]

_ULAW_BIAS: Final = 0x84  # 33 on the 14-bit scale
_ULAW_SEG_END: Final = (0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF, 0x3FFF, 0x7FFF)


def _segment(magnitude: int, seg_end: tuple[int, ...]) -> int:
    for seg, end in enumerate(seg_end):
        if magnitude <= end:
            return seg
    return len(seg_end)


def _ulaw_encode_one(sample: int) -> int:
    if sample < 0:
        magnitude, mask = _ULAW_BIAS - sample, 0x7F
    else:
        magnitude, mask = _ULAW_BIAS + sample, 0xFF
    seg = _segment(magnitude, _ULAW_SEG_END)
    if seg >= 8:  # overload: clip to the largest level
        return 0x7F ^ mask
    return ((seg << 4) | ((magnitude >> (seg + 3)) & 0x0F)) ^ mask


def _ulaw_decode_one(code: int) -> int:
    inverted = ~code & 0xFF
    seg = (inverted >> 4) & 0x07
    magnitude = ((((inverted & 0x0F) << 3) + _ULAW_BIAS) << seg) - _ULAW_BIAS
    return -magnitude if inverted & 0x80 else magnitude


def _alaw_encode_one(sample: int) -> int:
    if sample >= 0:
        magnitude, sign = sample >> 4, 0x80
    else:
        magnitude, sign = (~sample) >> 4, 0x00  # one's complement: -1..-16 -> 0
    # magnitude is on a 12-bit scale: segment 0 and 1 both have a step of 1 there.
    if magnitude < 16:
        code = magnitude
    else:
        seg = 1
        while magnitude > 31:
            magnitude >>= 1
            seg += 1
        if seg >= 8:  # overload
            seg, magnitude = 7, 31
        code = (seg << 4) | (magnitude - 16)
    return (code | sign) ^ 0x55


def _alaw_decode_one(code: int) -> int:
    value = code ^ 0x55
    seg = (value >> 4) & 0x07
    mantissa = value & 0x0F
    # Segment 0 has no implied leading one; each later segment doubles the step.
    base = (mantissa << 4) + (8 if seg == 0 else 0x108)
    magnitude = base << max(seg - 1, 0)
    return magnitude if value & 0x80 else -magnitude


def _build_decode(decode_one: Callable[[int], int]) -> Int16Array:
    table = np.array([decode_one(code) for code in range(256)], dtype=np.int16)
    table.setflags(write=False)
    return table


def _build_encode(encode_one: Callable[[int], int]) -> npt.NDArray[np.uint8]:
    # Index i is the uint16 bit pattern of the int16 sample: i < 32768 is i, else i - 65536.
    table = np.array(
        [encode_one(i if i < 0x8000 else i - 0x10000) for i in range(0x10000)], dtype=np.uint8
    )
    table.setflags(write=False)
    return table


ULAW_DECODE: Final = _build_decode(_ulaw_decode_one)
ALAW_DECODE: Final = _build_decode(_alaw_decode_one)
ULAW_ENCODE: Final = _build_encode(_ulaw_encode_one)
ALAW_ENCODE: Final = _build_encode(_alaw_encode_one)

#: Code-for-code transcoding tables (``bytes.translate`` tables; ``np.frombuffer`` for numpy).
ULAW_TO_ALAW: Final = bytes(int(ALAW_ENCODE[int(v) & 0xFFFF]) for v in ULAW_DECODE)
ALAW_TO_ULAW: Final = bytes(int(ULAW_ENCODE[int(v) & 0xFFFF]) for v in ALAW_DECODE)


def _as_index(samples: npt.ArrayLike) -> npt.NDArray[np.uint16]:
    array = np.asarray(samples)
    if array.dtype != np.int16:
        if array.dtype.kind not in "iu":
            raise TypeError(f"G.711 encodes integer PCM samples, not {array.dtype}")
        array = np.clip(array, -32768, 32767).astype(np.int16)
    return np.ascontiguousarray(array).view(np.uint16)


def ulaw_decode(data: bytes) -> Int16Array:
    """Decode µ-law bytes to 16-bit linear samples (a new array)."""
    return ULAW_DECODE[np.frombuffer(data, dtype=np.uint8)]


def alaw_decode(data: bytes) -> Int16Array:
    """Decode A-law bytes to 16-bit linear samples (a new array)."""
    return ALAW_DECODE[np.frombuffer(data, dtype=np.uint8)]


def ulaw_encode(samples: npt.ArrayLike) -> bytes:
    """Encode 16-bit linear samples to µ-law; wider integers are clipped to int16 first."""
    return ULAW_ENCODE[_as_index(samples)].tobytes()


def alaw_encode(samples: npt.ArrayLike) -> bytes:
    """Encode 16-bit linear samples to A-law; wider integers are clipped to int16 first."""
    return ALAW_ENCODE[_as_index(samples)].tobytes()


def ulaw_to_alaw(data: bytes) -> bytes:
    """Transcode µ-law to A-law code by code (decode, then re-encode)."""
    return data.translate(ULAW_TO_ALAW)


def alaw_to_ulaw(data: bytes) -> bytes:
    """Transcode A-law to µ-law code by code (decode, then re-encode)."""
    return data.translate(ALAW_TO_ULAW)


if __name__ == "__main__":  # micro-benchmark: python -m tamas.media.g711
    import timeit

    frame_pcm = (np.sin(np.arange(160) * 0.3) * 8000).astype(np.int16)
    frame_ulaw = ulaw_encode(frame_pcm)
    frame_alaw = ulaw_to_alaw(frame_ulaw)
    cases = {
        "ulaw_to_alaw (160 B)": lambda: ulaw_to_alaw(frame_ulaw),
        "alaw_to_ulaw (160 B)": lambda: alaw_to_ulaw(frame_alaw),
        "ulaw_decode (160 B)": lambda: ulaw_decode(frame_ulaw),
        "ulaw_encode (160 samples)": lambda: ulaw_encode(frame_pcm),
        "alaw_encode (160 samples)": lambda: alaw_encode(frame_pcm),
    }
    for name, func in cases.items():
        runs = 100_000
        best = min(timeit.repeat(func, number=runs, repeat=5))
        print(f"{name:28s} {best / runs * 1e6:7.2f} µs/frame")
