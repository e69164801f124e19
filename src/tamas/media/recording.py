"""Call recording assembly: two directions of RTP audio onto one timeline, pauses as silence.

Theory of operation
-------------------
A recording has a *timeline* of samples at 8 kHz starting at ``start`` (the ``now`` it was
created). Sample ``p`` of the timeline is the instant ``start + p / 8000``. Two *sides* are
placed on it: the caller's audio (what Tamas received from the caller) on channel 0, the
agent's on channel 1. The output is stereo (caller left, agent right) or a mono mix of the
two (int32 sum, clipped).

*Encoding.* A recording keeps 16-bit PCM (``WavEncoding.PCM``: G.711 payloads are decoded as
they are placed) or G.711 codes (``MULAW``, ``ALAW``: payloads are placed as they came, the
other law's transcoded code for code through a 256-byte table, PCM fed encoded). Unwritten
samples are the encoding's silence: 0, µ-law's 0xFF (zero) or A-law's 0xD5 (+8: A-law has no
zero code). A G.711 recording does no arithmetic on the audio unless it is mixed to mono.

*Placement by RTP timestamp.* Within a stream the sender's RTP timestamps (RFC 3550 section
5.1) say exactly where each packet's samples belong relative to the others, whatever the
network did to their arrival times. So each side has an *anchor*: an offset such that
``position = extended_timestamp + offset``. It is set from the first packet's arrival time
(``(arrival - start) * 8000``), and set again when the stream changes (a new SSRC), when a
packet's place is more than ``max_jump`` seconds (default 2) from its arrival time (the
timestamps jumped, as some phones do after hold), or when ``resync_late`` packets in a row
(default 50, one second) arrive too late to be placed (the sender's clock went back a little).
Network jitter below those bounds never moves the anchor, so the two channels stay aligned.
Timestamps are extended past their 32-bit wrap.
A lost packet leaves its samples unwritten, which is silence: the file keeps the call's
duration and both channels stay aligned.

*Emission.* Samples are kept in a pending buffer until the timeline position is ``delay``
seconds behind ``now`` (reordered and jittered packets have that long to arrive), then
emitted by :meth:`Recording.advance` as a chunk for the file writer: a copy, or with
``copy=False`` a view of the buffer itself (the recording process writes it out at once, so
the final audio is never copied in Python). The buffer is a window that slides: emitted
samples stay behind its head until the end is reached, then the pending ones move back to the
front and what they leave is set to silence (one pass over the emitted samples, which
resetting them at each emission also took). A packet whose place has
already been emitted is *late* and dropped (counted). :meth:`Recording.stop` emits everything
up to ``now`` without waiting: the end of a call is never lost, and the recording lasts
exactly ``stop - start``.

*Pause.* :meth:`Recording.pause` and :meth:`Recording.resume` take ``now``; the timeline span
between them is emitted as silence on both channels, whatever was received, and listed in
:attr:`Recording.paused_spans` (seconds from the start) for the recording's metadata. Audio
keeps flowing through the placement while paused, so alignment survives the pause.

Cost: in a batch (:meth:`Recording.feed_rtp_batch`), each run of packets whose timestamps
follow each other (the usual case: one run per batch) is placed with one array copy (and,
for PCM, decoded with one G.711 table look-up); the headers of a run of same-size plain
packets are cut off in the same numpy pass. What remains per packet is reading its header with one
``struct.unpack_from`` (about 0.3 µs).
(Reading a batch's headers as one numpy array was tried: slower below ~40 packets, as numpy's
fixed cost per call dominates.)
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Final

import numpy as np
import numpy.typing as npt

from tamas.media.g711 import (
    ALAW_DECODE,
    ALAW_TO_ULAW,
    ULAW_DECODE,
    ULAW_TO_ALAW,
    alaw_encode,
    ulaw_encode,
)
from tamas.media.wav import WavEncoding

__all__ = [
    "Law",
    "Layout",
    "PausedSpan",
    "Recording",
    "RecordingState",
    "Side",
    "SideStats",
    "rtp_payload",
]

Int16Array = npt.NDArray[np.int16]
Uint8Array = npt.NDArray[np.uint8]
#: What a recording emits: int16 samples (PCM), or G.711 codes (uint8) in its law.
Chunk = Int16Array | Uint8Array

_RATE: Final = 8000
#: Payload type (with the marker bit), timestamp and SSRC of a plain RTP header.
_PLAIN_HEADER: Final = struct.Struct("!xBxxII")
_TS_MOD: Final = 1 << 32
_TS_HALF: Final = 1 << 31
#: Below this many packets a batch is placed packet by packet: numpy's fixed cost per call
#: is more than the loop's (measured: even at about 20 packets).
_VECTOR_MIN: Final = 16
_NO_MARKER: Final = bytes(b & 0x7F for b in range(256))


class Side(IntEnum):
    """Whose audio: the channel it goes to in a stereo file."""

    CALLER = 0
    AGENT = 1


class Layout(Enum):
    STEREO = "stereo"  # caller left, agent right
    MONO = "mono"  # both mixed


class Law(Enum):
    """G.711 law of a payload."""

    ULAW = "PCMU"
    ALAW = "PCMA"


_DECODE: Final = {Law.ULAW: ULAW_DECODE, Law.ALAW: ALAW_DECODE}
_ENCODE: Final = {Law.ULAW: ulaw_encode, Law.ALAW: alaw_encode}
#: The G.711 encodings a recording can keep, their law and their silence (the code of 0:
#: µ-law has one; A-law's nearest are 0xD5 and 0x55, +8 and -8 on the 16-bit scale).
_LAW_OF: Final = {WavEncoding.MULAW: Law.ULAW, WavEncoding.ALAW: Law.ALAW}
_SILENCE: Final = {WavEncoding.PCM: 0, WavEncoding.MULAW: 0xFF, WavEncoding.ALAW: 0xD5}
#: Decoding for a mono mix: A-law's two codes nearest zero (+8, -8) count as zero there, so
#: that silence mixed with silence stays A-law's silence.
_MIX_DECODE: Final = {
    Law.ULAW: ULAW_DECODE,
    Law.ALAW: np.where(np.abs(ALAW_DECODE) == 8, 0, ALAW_DECODE).astype(np.int16),
}
#: Code-for-code transcoding into a law from the other one (indexed by the code).
_INTO: Final = {
    Law.ULAW: np.frombuffer(ALAW_TO_ULAW, np.uint8),
    Law.ALAW: np.frombuffer(ULAW_TO_ALAW, np.uint8),
}


class RecordingState(Enum):
    RECORDING = "recording"
    PAUSED = "paused"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True, kw_only=True)
class PausedSpan:
    """A paused stretch of the recording, in seconds from its start."""

    start: float
    end: float


@dataclass(slots=True)
class SideStats:
    """What happened to one side's audio."""

    packets: int = 0
    samples: int = 0
    late: int = 0
    """Packets (or parts) dropped because their place had already been written out."""
    anchors: int = 0
    """Times the placement was (re)anchored: the first packet, then each resync."""
    ignored: int = 0
    """Packets that were not audio in the recorded payload type (e.g. telephone-events)."""


@dataclass(slots=True)
class _Anchor:
    ssrc: int | None = None
    last_ts: int = 0  # 32-bit
    extended: int = 0  # last_ts extended past wraps
    offset: int | None = None  # position = extended + offset
    late_run: int = 0


def rtp_payload(packet: bytes) -> tuple[int, int, int, bytes] | None:
    """``(payload_type, timestamp, ssrc, payload)`` of an RTP packet, or None if malformed.

    Skips CSRCs and a header extension, and strips padding (RFC 3550 section 5.1, 5.3.1).
    """
    if len(packet) < 12 or packet[0] >> 6 != 2:
        return None
    first = packet[0]
    offset = 12 + 4 * (first & 0x0F)
    if first & 0x10:
        if len(packet) < offset + 4:
            return None
        offset += 4 + 4 * int.from_bytes(packet[offset + 2 : offset + 4], "big")
    end = len(packet)
    if first & 0x20:
        end -= packet[-1]
    if end < offset:
        return None
    return (
        packet[1] & 0x7F,
        int.from_bytes(packet[4:8], "big"),
        int.from_bytes(packet[8:12], "big"),
        packet[offset:end],
    )


def _one_stream(blob: bytes, count: int, size: int) -> bool:
    """Whether ``count`` whole plain RTP packets of ``size`` bytes, one after another in
    ``blob``, are one run: the same first byte, payload type and SSRC in each, and each
    timestamp ``size - 12`` samples after the one before (modulo 2**32). The marker bit and
    the sequence numbers may differ. Byte columns are compared as strided slices (C loops),
    the timestamps as bytes against the ones expected (two numpy operations: a difference
    and a comparison were three, and slower on big-endian values)."""
    if blob[0::size] != blob[0:1] * count:
        return False
    if blob[1::size].translate(_NO_MARKER) != bytes((blob[1] & 0x7F,)) * count:
        return False
    for column in range(8, 12):
        if blob[column::size] != blob[column : column + 1] * count:
            return False
    first = np.uint32(int.from_bytes(blob[4:8], "big"))
    expected = (_steps(count, size - 12) + first).byteswap()  # uint32: wraps as RTP does
    return np.ndarray((count,), np.uint32, blob, 4, (size,)).tobytes() == expected.tobytes()


@functools.lru_cache(maxsize=64)
def _steps(count: int, samples: int) -> npt.NDArray[np.uint32]:
    """``k * samples`` for k below ``count``, as uint32: the timestamps of a run from 0."""
    steps = np.arange(count, dtype=np.uint32) * np.uint32(samples)
    steps.setflags(write=False)
    return steps


@functools.cache
def _pair_table(law: Law) -> npt.NDArray[np.int32]:
    """Two G.711 bytes (read as one native uint16) -> their two samples (one native int32).

    Decoding byte pairs halves the look-ups of a one-byte table; 256 KB per law."""
    pairs = np.arange(1 << 16, dtype=np.uint16).view(np.uint8).reshape(-1, 2)
    return np.ascontiguousarray(_DECODE[law][pairs]).view(np.int32).ravel()


class Recording:
    """Assembles one recording's timeline from both sides' audio; pure (time is passed in).

    Feed audio with :meth:`feed` (PCM), :meth:`feed_g711` or :meth:`feed_rtp_batch`; collect
    finished audio with :meth:`advance` and, at the end, :meth:`stop`. Chunks have shape
    ``(n, 2)`` for stereo or ``(n,)`` for mono, follow each other without gaps, and are in
    ``encoding``: int16 samples for ``WavEncoding.PCM``, or the G.711 codes (uint8) of
    ``WavEncoding.MULAW`` or ``ALAW``. A G.711 recording keeps the payloads as they came
    (audio in the other law is transcoded code for code, PCM fed is encoded).
    """

    def __init__(
        self,
        *,
        start: float,
        layout: Layout = Layout.STEREO,
        delay: float = 0.2,
        max_jump: float = 2.0,
        resync_late: int = 50,
        encoding: WavEncoding = WavEncoding.PCM,
    ) -> None:
        if encoding not in _SILENCE:
            raise ValueError(f"a recording is PCM, µ-law or A-law, not {encoding!r}")
        self.start = start
        self.layout = layout
        self.encoding = encoding
        self.law = _LAW_OF.get(encoding)
        """The G.711 law the recording keeps; None for PCM."""
        self._silence = _SILENCE[encoding]
        self.state = RecordingState.RECORDING
        self.stats = (SideStats(), SideStats())
        self._delay = round(delay * _RATE)
        self._max_jump = round(max_jump * _RATE)
        self._resync_late = resync_late
        self._anchors = (_Anchor(), _Anchor())
        # The pending audio: _buffer[_head] is the timeline position _emitted, samples from
        # _head + _used on are silence, those before _head were emitted (stale: the last
        # chunk emitted may be a view of them). Room for the delay plus a writer round or
        # two; it grows if ever needed, and moves back to the front when the end is reached.
        size = 2 * max(self._delay, _RATE // 50) + _RATE // 4
        self._buffer: Chunk = (
            np.zeros((size, 2), np.int16)
            if encoding is WavEncoding.PCM
            else np.full((size, 2), self._silence, np.uint8)
        )
        self._head = 0
        self._emitted = 0
        self._used = 0
        self._paused: list[tuple[int, int | None]] = []  # [start, end) in samples
        #: Batches :meth:`feed_rtp_blob` placed whole (one stream checked in numpy).
        self.whole_batches = 0

    # --- time -------------------------------------------------------------------------

    def _position(self, now: float) -> int:
        return max(0, round((now - self.start) * _RATE))

    @property
    def duration(self) -> float:
        """Seconds emitted so far."""
        return self._emitted / _RATE

    @property
    def paused_spans(self) -> list[PausedSpan]:
        """Paused spans so far; one still open ends at the current end of the recording."""
        return [
            PausedSpan(start=a / _RATE, end=(max(a, self._emitted) if b is None else b) / _RATE)
            for a, b in self._paused
        ]

    def pause(self, now: float) -> None:
        """Silence from ``now`` on (a no-op unless recording: controls may be repeated)."""
        if self.state is RecordingState.RECORDING:
            self._paused.append((self._position(now), None))
            self.state = RecordingState.PAUSED

    def resume(self, now: float) -> None:
        """Record again from ``now`` (a no-op unless paused)."""
        if self.state is RecordingState.PAUSED:
            begin, _ = self._paused[-1]
            self._paused[-1] = (begin, max(begin, self._position(now)))
            self.state = RecordingState.RECORDING

    # --- audio in ---------------------------------------------------------------------

    def feed(
        self,
        side: Side,
        samples: Int16Array,
        *,
        timestamp: int,
        arrival: float,
        ssrc: int | None = None,
    ) -> None:
        """Place PCM samples that the RTP ``timestamp`` (8 kHz clock) says start there."""
        if self.state is RecordingState.STOPPED or not len(samples):
            return
        stats = self.stats[side]
        stats.packets += 1
        position = self._locate(side, timestamp, ssrc, arrival)
        if self.law is not None:
            self._write(side, position, np.frombuffer(_ENCODE[self.law](samples), np.uint8))
        else:
            self._write(side, position, samples)

    def feed_g711(
        self,
        side: Side,
        payload: bytes,
        law: Law,
        *,
        timestamp: int,
        arrival: float,
        ssrc: int | None = None,
    ) -> None:
        if self.state is RecordingState.STOPPED or not payload:
            return
        self.stats[side].packets += 1
        self._place(side, np.frombuffer(payload, np.uint8), law, timestamp, ssrc, arrival)

    def feed_rtp_batch(
        self,
        side: Side,
        packets: Iterable[tuple[float, bytes]],
        laws: Mapping[int, Law],
    ) -> None:
        """Place a batch of ``(arrival, RTP packet)`` in arrival order.

        ``laws`` maps the recorded payload types to their G.711 law; packets of other types
        (telephone-events, comfort noise) and malformed ones are ignored. Consecutive packets
        of one SSRC and payload type whose timestamps follow on are decoded and placed as one.
        """
        if self.state is RecordingState.STOPPED:
            return
        stats = self.stats[side]
        # A run is packets placed as one: whole plain packets of one size (their headers are
        # cut off in numpy, see _place_run), or payloads (run_size -1) of the other kinds.
        run: list[bytes] = []
        run_ts = next_ts = run_pt = run_ssrc = run_size = 0
        run_arrival = 0.0
        for arrival, packet in packets:
            size = len(packet)
            if size > 12 and packet[0] == 0x80:  # plain RTP: no CSRC, extension, padding
                second, ts, ssrc = _PLAIN_HEADER.unpack_from(packet)
                pt = second & 0x7F
                samples = size - 12
                piece = packet
            else:
                parsed = rtp_payload(packet)
                if parsed is None or not parsed[3]:
                    stats.ignored += 1
                    continue
                pt, ts, ssrc, piece = parsed
                size, samples = -1, len(piece)
            if pt not in laws:
                stats.ignored += 1
                continue
            stats.packets += 1
            if run and (ts != next_ts or ssrc != run_ssrc or pt != run_pt or size != run_size):
                self._place_run(side, run, run_size, laws[run_pt], run_ts, run_ssrc, run_arrival)
                run = []
            if not run:
                run_ts, run_ssrc, run_pt, run_size, run_arrival = ts, ssrc, pt, size, arrival
            run.append(piece)
            next_ts = (ts + samples) % _TS_MOD
        if run:
            self._place_run(side, run, run_size, laws[run_pt], run_ts, run_ssrc, run_arrival)

    def feed_rtp_blob(
        self,
        side: Side,
        arrivals: Sequence[float],
        blob: bytes,
        sizes: Sequence[int],
        laws: Mapping[int, Law],
    ) -> None:
        """:meth:`feed_rtp_batch` with the packets back to back in ``blob``, ``sizes`` their
        lengths and ``arrivals`` their arrival times (as the recorder hands them over).

        The usual batch (one stream's plain packets of one size, each following on from the
        one before) is checked and placed in a few numpy operations whatever its length;
        any other is placed packet by packet, exactly as :meth:`feed_rtp_batch` does.
        """
        count = len(sizes)
        if count >= _VECTOR_MIN and self.state is not RecordingState.STOPPED:
            size = sizes[0]
            if (
                size > 12
                and blob[0] == 0x80
                and len(blob) == size * count
                and sizes.count(size) == count
            ):
                second, ts, ssrc = _PLAIN_HEADER.unpack_from(blob)
                law = laws.get(second & 0x7F)
                if law is not None and _one_stream(blob, count, size):
                    self.whole_batches += 1
                    self.stats[side].packets += count
                    data = np.frombuffer(blob, np.uint8).reshape(count, size)
                    self._place(side, data, law, ts, ssrc, arrivals[0])
                    return
        packets, start = [], 0
        for length in sizes:
            packets.append(blob[start : start + length])
            start += length
        self.feed_rtp_batch(side, zip(arrivals, packets, strict=True), laws)

    def _place_run(
        self,
        side: Side,
        run: list[bytes],
        size: int,
        law: Law,
        ts: int,
        ssrc: int,
        arrival: float,
    ) -> None:
        """Decode and place a run: ``size`` bytes per whole plain packet, or -1 for payloads."""
        data = np.frombuffer(b"".join(run), np.uint8)
        if size > 0:
            data = data.reshape(len(run), size)
        self._place(side, data, law, ts, ssrc, arrival)

    def _place(
        self, side: Side, data: Uint8Array, law: Law, ts: int, ssrc: int | None, arrival: float
    ) -> None:
        """Place payload bytes, or whole plain packets (one per row of ``data``): decoded for
        PCM, as they are (or transcoded) for G.711."""
        if self.law is not None:
            codes = data if data.ndim == 1 else data[:, 12:]
            if law is not self.law:
                codes = np.take(_INTO[self.law], codes)
            self._write(side, self._locate(side, ts, ssrc, arrival), codes)
            return
        if data.ndim == 1:
            samples = np.take(_DECODE[law], data)
        elif data.shape[1] % 2 == 0:  # plain packets of an even size: decode byte pairs
            words = data.view(np.uint16)[:, 6:]
            samples = np.take(_pair_table(law), words).view(np.int16).ravel()
        else:
            samples = np.take(_DECODE[law], data[:, 12:]).ravel()
        self._write(side, self._locate(side, ts, ssrc, arrival), samples)

    def _locate(self, side: Side, timestamp: int, ssrc: int | None, arrival: float) -> int:
        """Timeline position of a packet's first sample; (re)anchors when needed."""
        anchor = self._anchors[side]
        heard = self._position(arrival)
        if anchor.offset is None or (ssrc is not None and ssrc != anchor.ssrc):
            return self._anchor(side, anchor, timestamp, ssrc, heard)
        step = ((timestamp - anchor.last_ts + _TS_HALF) % _TS_MOD) - _TS_HALF
        extended = anchor.extended + step
        position = extended + anchor.offset
        if abs(position - heard) > self._max_jump:
            return self._anchor(side, anchor, timestamp, ssrc, heard)
        if position < self._emitted:  # its place is gone: late, or the clock went back
            anchor.late_run += 1
            if anchor.late_run >= self._resync_late:
                return self._anchor(side, anchor, timestamp, ssrc, heard)
        else:
            anchor.late_run = 0
        if step > 0:
            anchor.last_ts, anchor.extended = timestamp, extended
        return position

    def _anchor(
        self, side: Side, anchor: _Anchor, timestamp: int, ssrc: int | None, heard: int
    ) -> int:
        anchor.ssrc = ssrc
        anchor.last_ts = timestamp
        anchor.extended = 0
        anchor.offset = max(heard, self._emitted)
        anchor.late_run = 0
        self.stats[side].anchors += 1
        return anchor.offset

    def _write(self, side: Side, position: int, samples: Chunk) -> None:
        """Put ``samples`` (in the recording's encoding; 2-D: rows one after another) at
        timeline ``position`` of ``side``'s channel."""
        stats = self.stats[side]
        count = samples.size
        relative = position - self._emitted
        if relative < 0:
            stats.late += 1
            if relative + count <= 0:
                return
            samples = samples.reshape(-1)[-relative:]
            count, relative = samples.size, 0
        end = relative + count
        self._room(end)
        start = self._head + relative
        target = self._buffer[start : start + count, side]
        if samples.ndim == 2:  # a strided 1-D view splits into rows without a copy
            target = target.reshape(samples.shape)
        target[...] = samples
        self._used = max(self._used, end)
        stats.samples += count

    def _room(self, end: int) -> None:
        """Make the buffer hold ``end`` samples from the head: the pending samples move back
        to the front (what they leave behind becomes silence), or to a bigger buffer."""
        head, used, buffer = self._head, self._used, self._buffer
        if head + end <= len(buffer):
            return
        if end <= len(buffer):
            if used:
                buffer[:used] = buffer[head : head + used]  # numpy copes with the overlap
            buffer[used : head + used] = self._silence
        else:
            grown = np.empty_like(buffer, shape=(max(end, 2 * len(buffer)), 2))
            grown[:used] = buffer[head : head + used]
            grown[used:] = self._silence
            self._buffer = grown
        self._head = 0

    # --- audio out --------------------------------------------------------------------

    def advance(self, now: float, *, copy: bool = True) -> Chunk:
        """The audio that is final at ``now`` (``delay`` behind it); may be empty.

        With ``copy=False`` a stereo chunk is a view of the recording's buffer, valid only
        until the next call of any method that feeds or emits (write it out before)."""
        if self.state is RecordingState.STOPPED:
            return self._empty()
        return self._emit(self._position(now) - self._delay, copy)

    def stop(self, now: float, *, copy: bool = True) -> Chunk:
        """End the recording at ``now``: everything up to it, nothing after. Idempotent.
        (``copy`` as for :meth:`advance`.)"""
        if self.state is RecordingState.STOPPED:
            return self._empty()
        if self.state is RecordingState.PAUSED:
            self.resume(now)
        chunk = self._emit(self._position(now), copy)
        self.state = RecordingState.STOPPED
        self._buffer = self._buffer[:0]  # a view: the chunk still holds what it shows
        self._head = self._used = 0
        return chunk

    def _empty(self) -> Chunk:
        shape = (0, 2) if self.layout is Layout.STEREO else (0,)
        return np.zeros(shape, dtype=self._buffer.dtype)

    def _emit(self, until: int, copy: bool) -> Chunk:
        count = until - self._emitted
        if count <= 0:
            return self._empty()
        self._room(count)
        head = self._head
        chunk = self._buffer[head : head + count]
        begin = self._emitted
        for a, b in self._paused:
            lo, hi = max(a, begin), min(until if b is None else b, until)
            if lo < hi:
                chunk[lo - begin : hi - begin] = self._silence
        self._head = head + count
        self._used = max(0, self._used - count)
        self._emitted = until
        if self.layout is Layout.MONO:
            return self._mix(chunk)
        return chunk.copy() if copy else chunk

    def _mix(self, chunk: Chunk) -> Chunk:
        """Both channels summed (clipped), in the recording's encoding: a new array."""
        law = self.law
        if law is None:
            mixed: npt.NDArray[np.int32] = chunk[:, 0].astype(np.int32) + chunk[:, 1]
        else:
            decode = _MIX_DECODE[law]
            mixed = decode[chunk[:, 0]].astype(np.int32) + decode[chunk[:, 1]]
        mono: Int16Array = np.clip(mixed, -32768, 32767).astype(np.int16)
        if law is None:
            return mono
        return np.frombuffer(_ENCODE[law](mono), np.uint8)
