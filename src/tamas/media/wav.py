"""WAV (RIFF WAVE) reading in every common encoding, and incremental writing (16-bit PCM, G.711).

Theory of operation
-------------------
A WAV file is a RIFF container: ``"RIFF" <size> "WAVE"`` then chunks, each ``<id:4> <size:4
LE> <data>`` padded to an even length. Two chunks matter: ``fmt `` (encoding, channels, rate,
block size, bits per sample) and ``data`` (interleaved samples, one *block* per instant).
Other chunks (``fact``, ``LIST``, ``PEAK``, ...) are skipped.

Encodings read (the ``wFormatTag``): 1 PCM (8-bit unsigned, 16/24/32-bit signed), 3 IEEE
float (32/64-bit), 6 A-law and 7 µ-law (8-bit, G.711), and 0xFFFE WAVE_FORMAT_EXTENSIBLE,
whose sub-format GUID carries one of those tags (sox writes 24/32-bit PCM that way). Samples
are scaled to the 16-bit range as float64 (24/32-bit keep their precision until the final
rounding), mixed down to mono by averaging the channels, resampled with
:mod:`tamas.media.resample`, then rounded to int16.

A file cut short is read up to its last whole block: a ``data`` size that runs past the end
of the file (or the 0xFFFFFFFF that streaming writers use) means "to the end of the file".
Anything else that is wrong is a :class:`WavError` naming the file and the problem.

:class:`WavWriter` writes 16-bit PCM, or G.711 µ-law or A-law codes (8 bits, format tags 7
and 6: a call's audio as it came off the wire, half the size), incrementally. A G.711 file's
``fmt `` chunk has the 18 bytes (``cbSize`` 0) and the ``fact`` chunk (its length in samples)
that the WAVE specification asks of a format other than PCM. Its header declares the sizes of
what has been written so far: it is patched on every :meth:`WavWriter.flush` and on close, so a file
whose writer stopped is a valid WAV of everything up to the last flush. Until the first flush
the header says 0xFFFFFFFF ("unknown"), which this module and sox read to the end of the file.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import IO, BinaryIO, Final

import numpy as np
import numpy.typing as npt

from tamas.core import TamasError
from tamas.media.g711 import ALAW_DECODE, ULAW_DECODE
from tamas.media.resample import resample

__all__ = [
    "WavEncoding",
    "WavError",
    "WavInfo",
    "WavWriter",
    "decode_wav",
    "parse_wav",
    "read_wav",
]

Int16Array = npt.NDArray[np.int16]
FloatArray = npt.NDArray[np.float64]

_EXTENSIBLE: Final = 0xFFFE
_GUID_TAIL: Final = bytes.fromhex("000000001000800000aa00389b71")
_UNKNOWN_SIZE: Final = 0xFFFFFFFF
_MIN_RATE: Final = 1000
_MAX_RATE: Final = 192000
_PCM_HEADER: Final = struct.Struct("<4sI4s4sIHHIIHH4sI")  # RIFF, fmt (16 bytes) and data headers
#: RIFF, fmt (18 bytes: cbSize 0), fact (the length in samples) and data headers.
_G711_HEADER: Final = struct.Struct("<4sI4s4sIHHIIHHH4sII4sI")


class WavError(TamasError):
    """A WAV file that cannot be read: the message names the file and the problem."""


class WavEncoding(IntEnum):
    """Sample encodings read (the WAVE format tags)."""

    PCM = 1
    FLOAT = 3
    ALAW = 6
    MULAW = 7


_BITS: Final[dict[WavEncoding, tuple[int, ...]]] = {
    WavEncoding.PCM: (8, 16, 24, 32),
    WavEncoding.FLOAT: (32, 64),
    WavEncoding.ALAW: (8,),
    WavEncoding.MULAW: (8,),
}
#: What WavWriter writes: the sample type of each encoding (little-endian 16-bit for PCM).
_WRITTEN: Final[dict[WavEncoding, np.dtype[np.int16] | np.dtype[np.uint8]]] = {
    WavEncoding.PCM: np.dtype(np.int16).newbyteorder("<"),
    WavEncoding.MULAW: np.dtype(np.uint8),
    WavEncoding.ALAW: np.dtype(np.uint8),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class WavInfo:
    """What the ``fmt `` and ``data`` chunks say."""

    encoding: WavEncoding
    channels: int
    sample_rate: int
    bits_per_sample: int
    """Bits of each sample's container (24-bit samples in 32-bit containers say 32)."""
    frames: int
    """Whole blocks (instants) in the data read."""
    truncated: bool
    """The data ran past the end of the file (cut short or never patched)."""

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate


def _chunks(data: bytes, name: str) -> tuple[bytes, bytes, bool]:
    """The fmt chunk, the data chunk and whether the data was cut short."""
    if len(data) < 12:
        raise WavError(f"{name}: not a WAV file (only {len(data)} bytes)")
    riff, _, wave = struct.unpack_from("<4sI4s", data)
    if riff != b"RIFF":
        kind = "an RF64 file (not supported)" if riff == b"RF64" else "not a RIFF file"
        raise WavError(f"{name}: {kind} (starts with {riff!r})")
    if wave != b"WAVE":
        raise WavError(f"{name}: a RIFF file of type {wave!r}, not WAVE")
    fmt: bytes | None = None
    offset = 12
    while offset + 8 <= len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, offset)
        body = offset + 8
        if chunk_id == b"data":
            if fmt is None:
                raise WavError(f"{name}: data chunk before the fmt chunk")
            end = body + size
            if size == _UNKNOWN_SIZE or end > len(data):
                return fmt, data[body:], True
            return fmt, data[body:end], False
        if body + size > len(data):
            raise WavError(f"{name}: {chunk_id!r} chunk runs past the end of the file")
        if chunk_id == b"fmt ":
            fmt = data[body : body + size]
        offset = body + size + (size & 1)
    if fmt is None:
        raise WavError(f"{name}: no fmt chunk")
    raise WavError(f"{name}: no data chunk")


def _parse_fmt(fmt: bytes, name: str) -> tuple[WavEncoding, int, int, int, int]:
    if len(fmt) < 16:
        raise WavError(f"{name}: fmt chunk of {len(fmt)} bytes is too short (needs 16)")
    tag, channels, rate, _, block_align, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == _EXTENSIBLE:
        if len(fmt) < 40:
            raise WavError(f"{name}: WAVE_FORMAT_EXTENSIBLE fmt chunk of {len(fmt)} bytes")
        guid = fmt[24:40]
        if guid[2:] != _GUID_TAIL:
            raise WavError(f"{name}: unknown WAVE_FORMAT_EXTENSIBLE sub-format {guid.hex()}")
        tag = struct.unpack_from("<H", guid)[0]
    try:
        encoding = WavEncoding(tag)
    except ValueError:
        raise WavError(
            f"{name}: encoding 0x{tag:04X} is not supported (PCM, IEEE float, A-law and µ-law are)"
        ) from None
    if channels == 0:
        raise WavError(f"{name}: fmt chunk says 0 channels")
    if not _MIN_RATE <= rate <= _MAX_RATE:
        raise WavError(
            f"{name}: sample rate {rate} Hz is not supported ({_MIN_RATE} to {_MAX_RATE} Hz are)"
        )
    if block_align == 0 or block_align % channels:
        raise WavError(f"{name}: block size {block_align} does not fit {channels} channels")
    container = block_align // channels * 8
    if container not in _BITS[encoding] or bits > container:
        raise WavError(
            f"{name}: {bits}-bit {encoding.name} in {container}-bit containers is not supported"
        )
    return encoding, channels, rate, block_align, container


def _samples(raw: bytes, encoding: WavEncoding, container: int) -> FloatArray:
    """Samples of the 16-bit scale as float64, still interleaved."""
    if encoding is WavEncoding.ALAW:
        return ALAW_DECODE[np.frombuffer(raw, np.uint8)].astype(np.float64)
    if encoding is WavEncoding.MULAW:
        return ULAW_DECODE[np.frombuffer(raw, np.uint8)].astype(np.float64)
    if encoding is WavEncoding.FLOAT:
        dtype = "<f4" if container == 32 else "<f8"
        return np.frombuffer(raw, dtype).astype(np.float64) * 32768.0
    if container == 8:  # unsigned, 128 is zero
        return (np.frombuffer(raw, np.uint8).astype(np.float64) - 128.0) * 256.0
    if container == 16:
        return np.frombuffer(raw, "<i2").astype(np.float64)
    if container == 24:
        triples = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        value = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        value = np.where(value >= 1 << 23, value - (1 << 24), value)
        return value.astype(np.float64) / 256.0
    return np.frombuffer(raw, "<i4").astype(np.float64) / 65536.0


def parse_wav(data: bytes, *, name: str = "<bytes>") -> tuple[WavInfo, FloatArray]:
    """The format and the samples, shape ``(frames, channels)``, on the 16-bit scale (float64).

    Float files are not clipped here: a float sample beyond ±1.0 comes out beyond ±32768.
    """
    fmt, body, truncated = _chunks(data, name)
    encoding, channels, rate, block_align, container = _parse_fmt(fmt, name)
    frames = len(body) // block_align
    whole = frames * block_align
    samples = _samples(body[:whole], encoding, container).reshape(frames, channels)
    info = WavInfo(
        encoding=encoding,
        channels=channels,
        sample_rate=rate,
        bits_per_sample=container,
        frames=frames,
        truncated=truncated or whole != len(body),
    )
    return info, samples


def decode_wav(data: bytes, *, rate: int | None = 8000, name: str = "<bytes>") -> Int16Array:
    """Mono int16 samples at ``rate`` (None keeps the file's rate) from a WAV file's bytes."""
    info, samples = parse_wav(data, name=name)
    mono = samples[:, 0] if info.channels == 1 else samples.mean(axis=1)
    return resample(mono, info.sample_rate, rate or info.sample_rate)


def read_wav(source: str | os.PathLike[str] | BinaryIO, *, rate: int | None = 8000) -> Int16Array:
    """Read a WAV file (a path or a binary file object) as mono int16 at ``rate``."""
    if isinstance(source, str | os.PathLike):
        name = os.fspath(source)
        try:
            with open(source, "rb") as file:
                data = file.read()
        except OSError as exc:
            raise WavError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    else:
        name = str(getattr(source, "name", "<file>"))
        data = source.read()
    return decode_wav(data, rate=rate, name=name)


def _write_all(fd: int, data: bytes | memoryview, at: int | None = None) -> None:
    """Write all of ``data`` at the file's position, or at offset ``at`` (``pwrite``)."""
    view = memoryview(data)
    while view:
        done = os.write(fd, view) if at is None else os.pwrite(fd, view, at)
        view = view[done:]
        if at is not None:
            at += done


class WavWriter:
    """Writes a WAV incrementally to a binary file (a path is opened and owned).

    :meth:`write` takes frames shaped ``(n,)`` (mono) or ``(n, channels)``: int16 samples for
    ``WavEncoding.PCM`` (16-bit), G.711 codes (uint8) for ``MULAW`` and ``ALAW``. The sizes
    in the header are patched on :meth:`flush` and :meth:`close` when the file is seekable.
    """

    def __init__(
        self,
        target: str | os.PathLike[str] | IO[bytes],
        *,
        sample_rate: int = 8000,
        channels: int = 1,
        encoding: WavEncoding = WavEncoding.PCM,
    ) -> None:
        if sample_rate <= 0 or channels <= 0:
            raise ValueError(f"bad WAV format: {channels} channels at {sample_rate} Hz")
        if encoding not in _WRITTEN:
            raise ValueError(f"WavWriter writes PCM, µ-law or A-law, not {encoding!r}")
        self.sample_rate = sample_rate
        self.channels = channels
        self.encoding = encoding
        self._dtype = _WRITTEN[encoding]
        self._width = self._dtype.itemsize  # bytes per sample
        self._owned = isinstance(target, str | os.PathLike)
        # A file of its own is written unbuffered: each write is one write(2) of the
        # samples, each header patch one pwrite(2) (the recording process writes every
        # recording every second or two: seek, write and seek back were three more calls).
        self._file: IO[bytes] = (
            open(target, "wb", buffering=0)  # noqa: SIM115 - owned, closed by close()
            if isinstance(target, str | os.PathLike)
            else target
        )
        self._start = self._file.tell() if self._file.seekable() else 0
        self._data_bytes = 0
        self._closed = False
        self._file.write(self._header(None))

    def _header(self, data_bytes: int | None) -> bytes:
        """The header (44 bytes, 58 for G.711); sizes unknown (0xFFFFFFFF, "to the end of
        the file") for None."""
        block = self._width * self.channels
        if data_bytes is None:
            data_bytes = _UNKNOWN_SIZE
        if self.encoding is not WavEncoding.PCM:
            frames = _UNKNOWN_SIZE if data_bytes == _UNKNOWN_SIZE else data_bytes // block
            return _G711_HEADER.pack(
                b"RIFF",
                min(_G711_HEADER.size - 8 + data_bytes, _UNKNOWN_SIZE),
                b"WAVE",
                b"fmt ",
                18,
                self.encoding,
                self.channels,
                self.sample_rate,
                self.sample_rate * block,
                block,
                8,
                0,
                b"fact",
                4,
                frames,
                b"data",
                min(data_bytes, _UNKNOWN_SIZE),
            )
        return _PCM_HEADER.pack(
            b"RIFF",
            min(36 + data_bytes, _UNKNOWN_SIZE),
            b"WAVE",
            b"fmt ",
            16,
            WavEncoding.PCM,
            self.channels,
            self.sample_rate,
            self.sample_rate * block,
            block,
            16,
            b"data",
            min(data_bytes, _UNKNOWN_SIZE),
        )

    @property
    def frames(self) -> int:
        """Frames (instants) written so far."""
        return self._data_bytes // (self._width * self.channels)

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate

    @property
    def file(self) -> IO[bytes]:
        return self._file

    def write(self, samples: npt.ArrayLike) -> None:
        if self._closed:
            raise ValueError("write to a closed WavWriter")
        array = np.asarray(samples)
        if array.dtype != self._dtype:
            raise TypeError(
                f"a {self.encoding.name} WavWriter writes {self._dtype} samples, not {array.dtype}"
            )
        if array.ndim == 1 and self.channels == 1:
            pass
        elif array.ndim != 2 or array.shape[1] != self.channels:
            raise ValueError(f"samples of shape {array.shape} for {self.channels} channel(s)")
        if not array.size:
            return  # (a memoryview of no samples cannot be cast to bytes)
        data = np.ascontiguousarray(array.astype(self._dtype, copy=False)).data.cast("B")
        if self._owned:
            _write_all(self._file.fileno(), data)
        else:
            self._file.write(data)
        self._data_bytes += len(data)

    def _patch(self) -> None:
        if self._owned:
            _write_all(self._file.fileno(), self._header(self._data_bytes), self._start)
            return
        if not self._file.seekable():
            return
        end = self._file.tell()
        self._file.seek(self._start)
        self._file.write(self._header(self._data_bytes))
        self._file.seek(end)

    def flush(self) -> None:
        """Patch the header to what has been written and flush the file object."""
        self._patch()
        self._file.flush()

    def close(self, *, fsync: bool = False) -> None:
        """Patch the header and flush (and fsync when asked); close the file if owned."""
        if self._closed:
            return
        self._closed = True
        self._patch()
        self._file.flush()
        if fsync:
            os.fsync(self._file.fileno())
        if self._owned:
            self._file.close()

    def __enter__(self) -> WavWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
