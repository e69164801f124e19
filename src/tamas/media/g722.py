"""G.722 wideband audio (ITU-T G.722, 64 kbit/s) and its conversions to and from G.711.

Theory of operation
-------------------
G.722 codes 16 kHz audio (50-7000 Hz) as two ADPCM sub-bands, 8 bits per pair of input
samples: a 20 ms frame is 320 samples in, 160 bytes out. It is an ADPCM codec, so encoder and
decoder carry state from one frame to the next: each *stream* (each direction of each leg)
needs its own :class:`Encoder`/:class:`Decoder`, fed in order.

RFC 3551 section 4.5.2: G.722's RTP clock rate is 8000 Hz although it samples at 16 kHz (an
error in RFC 1890 kept for compatibility), so a 20 ms packet advances the RTP timestamp by 160,
as G.711's does, and SDP says ``a=rtpmap:9 G722/8000``.

The codec itself is the ``G722`` package from PyPI (sippy's libg722, a C implementation of the
ITU reference that passes the ITU test vectors; public domain). This module wraps it with
numpy int16 arrays and adds what the engine needs around it:

* :class:`NarrowDecoder` decodes to 8 kHz (decode at 16 kHz, then
  :class:`~tamas.media.resample.StreamResampler` 16 -> 8 kHz with its anti-alias low-pass):
  what a recording, a mixer or the in-band DTMF detector, all at 8 kHz, take;
* :class:`WideEncoder` encodes 8 kHz frames (prompts, music on hold, G.711 audio) as G.722
  (resampled 8 -> 16 kHz first: the audio keeps its telephone band, the codec is wideband);
* :class:`Transcoder` converts one stream's payloads between G.722 and G.711 (PCMU or PCMA).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import G722 as _g722  # type: ignore[import-not-found,import-untyped,unused-ignore]
import numpy as np
import numpy.typing as npt

from tamas.media.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from tamas.media.resample import StreamResampler

__all__ = [
    "BIT_RATE",
    "SAMPLE_RATE",
    "Decoder",
    "Encoder",
    "NarrowDecoder",
    "Transcoder",
    "WideEncoder",
]

Int16Array = npt.NDArray[np.int16]

#: G.722's audio sampling rate; its RTP clock rate is 8000 (see the module docstring).
SAMPLE_RATE: Final = 16000
BIT_RATE: Final = 64000
_NARROW: Final = 8000
_G711_DECODE = {"PCMU": ulaw_decode, "PCMA": alaw_decode}
_G711_ENCODE = {"PCMU": ulaw_encode, "PCMA": alaw_encode}


class Encoder:
    """16 kHz linear PCM to G.722, one stream (stateful: feed frames in order)."""

    __slots__ = ("_codec",)

    def __init__(self) -> None:
        self._codec = _g722.G722(SAMPLE_RATE, BIT_RATE)

    def encode(self, pcm: npt.ArrayLike) -> bytes:
        """``pcm`` (int16, 16 kHz, an even number of samples) as G.722 bytes (half as many)."""
        samples = np.ascontiguousarray(pcm, dtype=np.int16)
        return bytes(self._codec.encode(samples))


class Decoder:
    """G.722 to 16 kHz linear PCM, one stream (stateful: feed payloads in order)."""

    __slots__ = ("_codec",)

    def __init__(self) -> None:
        self._codec = _g722.G722(SAMPLE_RATE, BIT_RATE)

    def decode(self, payload: bytes) -> Int16Array:
        """Two 16 kHz samples per byte of ``payload``."""
        if not payload:
            return np.zeros(0, dtype=np.int16)
        return np.frombuffer(bytes(self._codec.decode(payload)), dtype=np.int16)


class NarrowDecoder:
    """G.722 to 8 kHz linear PCM (decoded at 16 kHz, low-passed and decimated), one stream."""

    __slots__ = ("_decoder", "_down")

    def __init__(self) -> None:
        self._decoder = Decoder()
        self._down = StreamResampler(SAMPLE_RATE, _NARROW)

    def decode(self, payload: bytes) -> Int16Array:
        """One 8 kHz sample per byte of ``payload`` (160 for a 20 ms packet)."""
        return self._down.process(self._decoder.decode(payload))


class WideEncoder:
    """8 kHz linear PCM to G.722 (upsampled to 16 kHz first), one stream."""

    __slots__ = ("_encoder", "_up")

    def __init__(self) -> None:
        self._encoder = Encoder()
        self._up = StreamResampler(_NARROW, SAMPLE_RATE)

    def encode(self, pcm: npt.ArrayLike | bytes) -> bytes:
        """One byte of G.722 per 8 kHz sample of ``pcm`` (int16 samples or their native
        bytes; 160 for a 20 ms frame)."""
        if isinstance(pcm, bytes | bytearray):
            pcm = np.frombuffer(pcm, dtype=np.int16)
        return self._encoder.encode(self._up.process(pcm))


class Transcoder:
    """Converts one stream's payloads from codec ``source`` to ``target``, where one of them
    is ``"G722"`` and the other ``"PCMU"`` or ``"PCMA"`` (stateful: one per direction)."""

    __slots__ = ("_decode", "_encode", "source", "target")

    def __init__(self, source: str, target: str) -> None:
        self.source = source
        self.target = target
        self._decode: Callable[[bytes], Int16Array]
        self._encode: Callable[[Int16Array], bytes]
        if source == "G722" and target in _G711_ENCODE:
            self._decode = NarrowDecoder().decode
            self._encode = _G711_ENCODE[target]
        elif target == "G722" and source in _G711_DECODE:
            self._decode = _G711_DECODE[source]
            self._encode = WideEncoder().encode
        else:
            raise ValueError(f"no G.722 transcoding from {source} to {target}")

    def convert(self, payload: bytes) -> bytes:
        return self._encode(self._decode(payload))
