"""Call recordings written by one thread, in batches, off the event loop.

Theory of operation
-------------------
A :class:`ActiveRecording` is a media-engine *tap*: the engine calls :meth:`ActiveRecording.feed`
with each RTP packet a bridge relays, on the event loop, in the hot path. ``feed`` stamps the
packet with the clock and appends it to a list; nothing else (no decoding, no IO). Pause,
resume and stop go to a list of their own, with their time.

One :class:`Recorder` thread serves every recording of the process. Every ``interval`` seconds
(or at once when a recording is stopped) it reads the clock, takes each recording's pending
list (a slice copy and a ``del`` of that many items: both atomic under the GIL, so a packet
appended meanwhile stays for the next round), hands the packets to the pure assembler
(:class:`tamas.media.recording.Recording`, which decodes a batch with one table look-up) and
appends the finished audio to the WAV file (:class:`tamas.media.wav.WavWriter`), whose header
is patched after each batch: a file is always valid up to its last batch.

Stopping writes everything up to the stop time (the assembler emits its tail without waiting
for late packets), patches the header, flushes and fsyncs, then resolves the stop's future
with the recording's metadata. :meth:`Recorder.close` stops whatever is still recording, so a
shutdown never loses the end of a call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from tamas.media.recording import Law, Layout, PausedSpan, Recording, Side, SideStats
from tamas.media.wav import WavWriter

__all__ = ["ActiveRecording", "Recorder", "RecordingMetadata"]

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Int16Array = npt.NDArray[np.int16]
_RATE: Final = 8000
_YIELD_SECONDS: Final = 0.001


class _CodecName(Protocol):
    @property
    def value(self) -> str: ...


class CodecLike(Protocol):
    """What the engine says about a tapped packet's codec (its ``Codec`` fits)."""

    @property
    def payload_type(self) -> int: ...

    @property
    def name(self) -> _CodecName: ...


class _Command(Enum):
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingMetadata:
    """A finished recording, for the store."""

    path: Path
    layout: Layout
    channels: int
    started_at: float
    """Clock time at which the recording started (the recorder's clock)."""
    duration: float
    """Seconds of audio in the file (the time from start to stop)."""
    paused_spans: tuple[PausedSpan, ...]
    """Silenced stretches, in seconds from the start."""
    caller: SideStats
    agent: SideStats


class ActiveRecording:
    """One recording in progress; the tap the media engine feeds."""

    def __init__(
        self,
        recorder: Recorder,
        path: Path,
        *,
        layout: Layout,
        start: float,
        caller_side: int,
    ) -> None:
        self.path = path
        self.layout = layout
        self._recorder = recorder
        self._clock = recorder.clock
        self._caller_side = caller_side
        # Filled on the loop, drained by the writer thread: packets per bridge side, and
        # the payload types seen on each side with their law (learnt when the codec changes).
        self._packets: tuple[list[tuple[float, bytes]], list[tuple[float, bytes]]] = ([], [])
        self._commands: list[tuple[float, _Command]] = []
        self._codecs: list[CodecLike | None] = [None, None]
        self._laws: tuple[dict[int, Law], dict[int, Law]] = ({}, {})
        self._assembly = Recording(start=start, layout=layout, delay=recorder.delay)
        self._writer: WavWriter | None = None
        self._done: concurrent.futures.Future[RecordingMetadata] = concurrent.futures.Future()
        self._stopping = False

    # --- event loop side --------------------------------------------------------------

    def feed(self, side: int, packet: bytes, codec: CodecLike) -> None:
        """Tap entry point: one RTP packet received on bridge side ``side`` (0 or 1)."""
        if self._stopping:
            return  # after the stop time: not part of the recording
        if codec is not self._codecs[side]:
            self._learn(side, codec)
        self._packets[side].append((self._clock(), packet))

    def _learn(self, side: int, codec: CodecLike) -> None:
        self._codecs[side] = codec
        name = codec.name.value
        if name in ("PCMU", "PCMA"):  # only G.711 is recorded from the wire
            self._laws[side][codec.payload_type] = Law(name)

    def pause(self, now: float | None = None) -> None:
        self._commands.append((self._now(now), _Command.PAUSE))

    def resume(self, now: float | None = None) -> None:
        self._commands.append((self._now(now), _Command.RESUME))

    def stop_nowait(self, now: float | None = None) -> concurrent.futures.Future[RecordingMetadata]:
        """Stop at ``now``; the future gets the metadata once the file is complete on disk."""
        if not self._stopping:
            self._stopping = True
            self._commands.append((self._now(now), _Command.STOP))
            self._recorder.wake()
        return self._done

    async def stop(self, now: float | None = None) -> RecordingMetadata:
        return await asyncio.wrap_future(self.stop_nowait(now))

    @property
    def done(self) -> concurrent.futures.Future[RecordingMetadata]:
        return self._done

    def _now(self, now: float | None) -> float:
        return self._clock() if now is None else now

    # --- writer thread side -----------------------------------------------------------

    def _service(self, now: float) -> bool:
        """Place and write what has arrived; True once the recording is finished.

        Commands are taken before packets: a packet fed before a stop is always in the same
        round as the stop or an earlier one. Their order among packets does not matter, as
        pause, resume and stop act on the timeline by their time.
        """
        commands = self._commands[:]
        del self._commands[: len(commands)]
        for side, pending in enumerate(self._packets):
            batch = pending[:]
            del pending[: len(batch)]  # what the loop appended meanwhile stays for next time
            if batch:
                self._assembly.feed_rtp_batch(
                    Side.CALLER if side == self._caller_side else Side.AGENT,
                    batch,
                    dict(self._laws[side]),
                )
        stopped_at: float | None = None
        for at, command in commands:
            if command is _Command.PAUSE:
                self._assembly.pause(at)
            elif command is _Command.RESUME:
                self._assembly.resume(at)
            else:
                stopped_at = at
        if stopped_at is not None:
            self._write(self._assembly.stop(stopped_at))
            self._finish()
            return True
        self._write(self._assembly.advance(now))
        return False

    def _open(self) -> WavWriter:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            channels = 2 if self.layout is Layout.STEREO else 1
            self._writer = WavWriter(self.path, sample_rate=_RATE, channels=channels)
        return self._writer

    def _write(self, chunk: Int16Array) -> None:
        writer = self._open()
        writer.write(chunk)
        writer.flush()

    def _finish(self) -> None:
        writer = self._open()
        writer.close(fsync=True)
        assembly = self._assembly
        self._done.set_result(
            RecordingMetadata(
                path=self.path,
                layout=self.layout,
                channels=writer.channels,
                started_at=assembly.start,
                duration=writer.duration,
                paused_spans=tuple(assembly.paused_spans),
                caller=assembly.stats[Side.CALLER],
                agent=assembly.stats[Side.AGENT],
            )
        )

    def _fail(self, exc: BaseException) -> None:
        if self._writer is not None:
            with contextlib.suppress(OSError):
                self._writer.close()
        if not self._done.done():
            self._done.set_exception(exc)


class Recorder:
    """The writer thread shared by every recording of the process.

    Every time (``now`` of open, pause, resume, stop, and the arrival stamps) is on ``clock``,
    ``time.monotonic`` by default: the clock of asyncio's ``loop.time()`` (uvloop's is the
    same monotonic clock, to the millisecond), so the engine may pass its loop time.
    """

    def __init__(
        self,
        *,
        interval: float = 0.2,
        delay: float = 0.2,
        clock: Clock = time.monotonic,
    ) -> None:
        self.interval = interval
        self.delay = delay
        self.clock = clock
        self._lock = threading.Lock()
        self._active: set[ActiveRecording] = set()
        self._wake = threading.Event()
        self._closing = False
        #: CPU time the writer thread has spent assembling and writing (for capacity figures).
        self.cpu_seconds = 0.0
        self._thread = threading.Thread(target=self._run, name="tamas-recorder", daemon=True)
        self._thread.start()

    def open(
        self,
        path: str | os.PathLike[str],
        *,
        layout: Layout = Layout.STEREO,
        now: float | None = None,
        caller_side: int = 0,
    ) -> ActiveRecording:
        """Start a recording at ``now``; the file is created by the writer thread.

        ``caller_side`` is the bridge side (0 or 1) whose received audio is the caller's.
        """
        if self._closing:
            raise RuntimeError("the recorder is closed")
        recording = ActiveRecording(
            self,
            Path(path),
            layout=layout,
            start=self.clock() if now is None else now,
            caller_side=caller_side,
        )
        with self._lock:
            self._active.add(recording)
        return recording

    def __len__(self) -> int:
        with self._lock:
            return len(self._active)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            with self._lock:
                active = list(self._active)
                closing = self._closing
            now = self.clock()
            started = time.thread_time()
            last_yield = time.perf_counter()
            for recording in active:
                if closing:
                    recording.stop_nowait(now)
                try:
                    finished = recording._service(now)
                except Exception as exc:  # a full disk must not stop the other recordings
                    log.error("recording %s failed: %s", recording.path, exc)
                    recording._fail(exc)
                    finished = True
                if finished:
                    with self._lock:
                        self._active.discard(recording)
                if time.perf_counter() - last_yield > _YIELD_SECONDS:
                    time.sleep(0)  # let the event loop have the GIL before the switch interval
                    last_yield = time.perf_counter()
            self.cpu_seconds += time.thread_time() - started
            if closing:
                return

    def close(self) -> None:
        """Stop every recording now (their files complete) and end the thread."""
        with self._lock:
            self._closing = True
        self._wake.set()
        self._thread.join()

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)
