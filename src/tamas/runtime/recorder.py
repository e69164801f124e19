"""Call recordings: the relay's tap on the event loop, the work in a process of its own.

Theory of operation
-------------------
A :class:`ActiveRecording` is a media-engine *tap*: the engine calls :meth:`ActiveRecording.feed`
with each RTP packet a bridge relays, on the event loop, in the hot path. ``feed`` copies
the packet and the clock's time into shared memory; nothing else (no decoding, no IO). Pause,
resume and stop go to a list, with their time.

A :class:`Recorder` serves every recording of the process. It starts one child process
(:mod:`tamas.runtime.recorder_worker`), which decodes, places and writes the audio of every
recording; see that module for why it is a process. The packets reach it through memory the
two processes share (:mod:`tamas.runtime.recorder_ring`): ``feed`` copies each packet, with
the clock's time, into its recording's ring and keeps nothing. Every ``interval`` seconds (or
at once when a recording is stopped) the recorder's *sender* thread reads the clock and sends
the child, for each recording, the range of slots filled since the last round, its commands
and (the first time) what it is, in a few small pickled messages. A *reader* thread
takes the child's answers: how far it has read each ring (which frees those slots for the
tap), and each stopped recording's metadata, which completes its future.

Stopping writes everything up to the stop time, patches the header, flushes and fsyncs, then
resolves the stop's future with the recording's metadata. :meth:`Recorder.close` stops
whatever is still recording, so a shutdown never loses the end of a call; if this process is
killed, the child finishes every file with what it had received.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import IO, Any, Final, Literal, Protocol

from tamas.media.recording import Law, Layout
from tamas.runtime.recorder_ring import SIDE_SECONDS, RingPool, SideRing
from tamas.runtime.recorder_worker import RecordingMetadata, RingItem, read_frame, write_frame

__all__ = ["ActiveRecording", "Recorder", "RecordingMetadata"]

log = logging.getLogger(__name__)

Clock = Callable[[], float]
#: How recordings keep their samples: the call's own G.711 codes (8 bits; µ-law, or A-law
#: for an A-law call), or 16-bit linear PCM.
Samples = Literal["g711", "pcm16"]
#: Recordings per message to the child. Taking a recording's news and pickling the message
#: hold the GIL; the pipe write between messages lets the event loop in. (When the packets
#: themselves went through the pipe, 32 per message raised the relay's p99 at 650 recorded
#: calls from 1.4-1.8 ms to 4.0-5.4 ms; a message is now a few hundred bytes.)
_PER_MESSAGE: Final = 16
_PIPE_BYTES: Final = 1 << 20
#: Recordings at once per recording process (regions of the shared memory, 136 KiB each,
#: of which only the pages used cost memory).
MAX_RECORDINGS: Final = 4096
_SHIELDED: Final = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


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


class ActiveRecording:
    """One recording in progress; the tap the media engine feeds."""

    def __init__(
        self,
        child: _Child | None,
        rid: int,
        path: Path,
        *,
        rings: tuple[SideRing, SideRing] | None,
        region: int,
        clock: Clock,
        layout: Layout,
        start: float,
        caller_side: int,
        delay: float,
        samples: Samples = "g711",
    ) -> None:
        self.path = path
        self.layout = layout
        self._child = child
        self._rid = rid
        self._region = region
        self._clock = clock
        # Sent with the first batch: the child learns of the recording from it.
        self._header: tuple[str, str, float, int, float, str] | None = (
            str(path), layout.value, start, caller_side, delay, samples
        )  # fmt: skip
        # Each side's ring (None for a recording that failed before it began), filled on the
        # loop; per side attributes, not a tuple: the compiled build keeps a tuple attribute
        # unboxed and would build a new tuple object on every packet.
        ring0, ring1 = (None, None) if rings is None else rings
        self._ring0: SideRing | None = ring0
        self._ring1: SideRing | None = ring1
        self._codec0: CodecLike | None = None
        self._codec1: CodecLike | None = None
        self._commands: list[tuple[float, _Command]] = []
        # The payload types seen on each side with their law (learnt when the codec changes).
        self._laws: tuple[dict[int, str], dict[int, str]] = ({}, {})
        self._sent_laws: object = None  # the ``_laws`` the child has (sent when they change)
        self._done: concurrent.futures.Future[RecordingMetadata] = concurrent.futures.Future()
        self._stopping = rings is None
        self._sent_stop = False

    # --- event loop side --------------------------------------------------------------

    def feed(self, side: int, packet: bytes, codec: CodecLike) -> None:
        """Tap entry point: one RTP packet received on bridge side ``side`` (0 or 1)."""
        if self._stopping:
            return  # after the stop time, or failed: not part of the recording
        if side == 0:
            ring = self._ring0
            if codec is not self._codec0:
                self._learn(0, codec)
        else:
            ring = self._ring1
            if codec is not self._codec1:
                self._learn(1, codec)
        assert ring is not None  # a recording without rings is stopping from the start
        if not ring.put(self._clock(), packet):
            self._fell_behind()

    def _learn(self, side: int, codec: CodecLike) -> None:
        if side == 0:
            self._codec0 = codec
        else:
            self._codec1 = codec
        name = codec.name.value
        if name in (Law.ULAW.value, Law.ALAW.value):  # only G.711 is recorded from the wire
            laws = dict(self._laws[side])
            laws[codec.payload_type] = name
            self._laws = (laws, self._laws[1]) if side == 0 else (self._laws[0], laws)

    def _fell_behind(self) -> None:
        """The recording process has not taken this recording's audio for a long while
        (stalled, or slower than the calls): end the recording here, keeping what it has,
        rather than let the server's memory grow."""
        log.error(
            "recording %s stopped early: the recording process is %.0f s behind",
            self.path,
            SIDE_SECONDS,
        )
        self.stop_nowait()

    def pause(self, now: float | None = None) -> None:
        self._commands.append((self._now(now), _Command.PAUSE))

    def resume(self, now: float | None = None) -> None:
        self._commands.append((self._now(now), _Command.RESUME))

    def stop_nowait(self, now: float | None = None) -> concurrent.futures.Future[RecordingMetadata]:
        """Stop at ``now``; the future gets the metadata once the file is complete on disk."""
        if not self._stopping:
            self._stopping = True
            self._commands.append((self._now(now), _Command.STOP))
            if self._child is not None:
                self._child.wake.set()
        return self._done

    async def stop(self, now: float | None = None) -> RecordingMetadata:
        return await asyncio.wrap_future(self.stop_nowait(now))

    def pending(self) -> tuple[int, int]:
        """Slots filled on each side that the sender thread has not handed over yet."""
        if self._ring0 is None or self._ring1 is None:
            return 0, 0
        return (
            self._ring0.head - self._ring0.taken,
            self._ring1.head - self._ring1.taken,
        )

    @property
    def done(self) -> concurrent.futures.Future[RecordingMetadata]:
        return self._done

    def _now(self, now: float | None) -> float:
        return self._clock() if now is None else now

    # --- sender thread side -----------------------------------------------------------

    def _take(self) -> RingItem:
        """What the child has not had yet (every round, even if nothing is new: the file
        follows the clock through silence).

        Commands are taken before the rings' heads: a packet fed before a stop is always in
        the same message as the stop or an earlier one.
        """
        commands = self._commands[:]
        del self._commands[: len(commands)]
        ring0, ring1 = self._ring0, self._ring1
        assert ring0 is not None and ring1 is not None  # only recordings given to a child
        start0, end0 = ring0.take()
        start1, end1 = ring1.take()
        header, self._header = self._header, None
        if any(command is _Command.STOP for _, command in commands):
            self._sent_stop = True
        laws = self._laws  # replaced whole by _learn, so "is" tells a change
        news = None if laws is self._sent_laws else laws
        self._sent_laws = laws
        return (
            self._rid,
            header,
            [(at, command.value) for at, command in commands],
            news,
            self._region,
            (start0, end0, start1, end1),
        )

    def _read_up_to(self, end0: int, end1: int) -> None:
        """The child has read each side's ring up to there (reader thread)."""
        if self._ring0 is not None and self._ring1 is not None:
            self._ring0.read_up_to(end0)
            self._ring1.read_up_to(end1)

    def _fail(self, exc: BaseException) -> None:
        self._stopping = True  # the tap stops collecting for a file that cannot be written
        if not self._done.done():
            self._done.set_exception(exc)


class _Child:
    """One recording process, its pipes, its two threads and the recordings it holds.

    A crashed child is replaced by a new ``_Child``; the old one's threads end on their own
    (nothing ever waits for them while holding a lock or on the event loop).
    """

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.pool = RingPool(recorder.max_recordings)
        self.lock = threading.Lock()
        self.recordings: dict[int, ActiveRecording] = {}  # not yet answered
        self.wake = threading.Event()
        self.dead = False
        # Signals meant for the server (Ctrl-C, a service manager's SIGTERM to the whole
        # group) stay blocked until the child has set them to be ignored: the server
        # decides when recordings end. Its own process group keeps a terminal's signals
        # away. Not its own session: with the kernel's autogroups (on by default) a new
        # session is a scheduling group of its own, with a full share of the core against
        # the server's whatever its nice value, and its bursts showed up as the relay's
        # latency tail; in the server's session its nice 19 holds.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _SHIELDED)
        try:
            ring = [str(self.pool.fd), str(self.pool.regions)]
            self.process = subprocess.Popen(
                # -P: never import a numpy.py or tamas/ from the server's working directory
                [sys.executable, "-P", "-m", "tamas.runtime.recorder_worker", *ring],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                close_fds=True,
                pass_fds=(self.pool.fd,),
                process_group=0,
            )
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            self.pool.close_fd()  # the child has its own; both keep their mapping
        assert self.process.stdin is not None and self.process.stdout is not None
        self.to_child: IO[bytes] = self.process.stdin
        self.from_child: IO[bytes] = self.process.stdout
        with contextlib.suppress(OSError):  # a bigger pipe rides out the child's pauses
            fcntl.fcntl(self.to_child.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        self.sender = threading.Thread(target=self._send_loop, name="tamas-recorder", daemon=True)
        self.reader = threading.Thread(
            target=self._read_loop, name="tamas-recorder-answers", daemon=True
        )
        self.sender.start()
        self.reader.start()

    def add(self, recording: ActiveRecording) -> bool:
        """Take ``recording`` on; False if this child has ended meanwhile."""
        with self.lock:
            if self.dead:
                return False
            self.recordings[recording._rid] = recording
            return True

    def open_count(self) -> int:
        with self.lock:
            return sum(1 for r in self.recordings.values() if not r._sent_stop)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()

    # --- sender thread ----------------------------------------------------------------

    def _send_loop(self) -> None:
        recorder = self.recorder
        try:
            while True:
                self.wake.wait(recorder.interval)
                self.wake.clear()
                with self.lock:
                    active = [r for r in self.recordings.values() if not r._sent_stop]
                closing = recorder.closing
                if self.dead:
                    return
                now = recorder.clock()
                if closing:
                    for recording in active:
                        recording.stop_nowait(now)
                self.pool.recycle()
                items: list[RingItem] = []
                for recording in active:
                    items.append(recording._take())
                    if len(items) == _PER_MESSAGE:
                        write_frame(self.to_child, ("batch", now, items))
                        items = []
                if items:
                    write_frame(self.to_child, ("batch", now, items))
                if closing:
                    write_frame(self.to_child, ("close", now))
                    return
        except Exception as exc:  # the child is gone or the batch was unusable: end it
            if not self.dead:
                log.error("the recording process stopped taking audio: %r", exc)
            self.kill()
        finally:
            with contextlib.suppress(OSError):
                self.to_child.close()

    # --- reader thread ----------------------------------------------------------------

    def _read_loop(self) -> None:
        while True:
            try:
                message = read_frame(self.from_child)
            except Exception as exc:  # a broken answer: the stream can't be trusted any more
                log.error("unreadable answer from the recording process: %r", exc)
                self.kill()
                message = None
            if message is None:
                break
            self._answer(message)
        with self.lock:
            orphans = list(self.recordings.values())
            self.recordings.clear()
            self.dead = True
        for recording in orphans:
            self.pool.release(recording._region)
        self.wake.set()  # the sender sees ``dead`` and ends
        with contextlib.suppress(OSError):
            self.from_child.close()
        self.process.wait()
        if orphans:
            log.error(
                "the recording process ended (exit %s) with %d recordings unfinished",
                self.process.returncode,
                len(orphans),
            )
        for recording in orphans:
            recording._fail(RuntimeError("the recording process ended"))

    def _answer(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "cpu":
            self.recorder.cpu_seconds += float(message[1])
            return
        if kind == "read":
            with self.lock:
                read = [(self.recordings.get(rid), end0, end1) for rid, end0, end1 in message[1]]
            for reading, end0, end1 in read:
                if reading is not None:
                    reading._read_up_to(end0, end1)
            return
        with self.lock:
            recording = self.recordings.pop(int(message[1]), None)
        if recording is None:
            return
        self.pool.release(recording._region)
        if kind == "done" and recording._sent_stop:
            recording._done.set_result(message[2])
        elif kind == "done":  # finished although never stopped: its audio stopped coming
            recording._fail(RuntimeError("the recording process ended the recording early"))
        else:
            log.error("recording %s failed: %s", recording.path, message[2])
            recording._fail(
                message[2] if isinstance(message[2], BaseException) else RuntimeError(message[2])
            )


class Recorder:
    """Every recording of the process: the recording process and its two threads.

    Every time (``now`` of open, pause, resume, stop, and the arrival stamps) is on ``clock``,
    ``time.monotonic`` by default: the clock of asyncio's ``loop.time()`` (uvloop's is the
    same monotonic clock, to the millisecond), so the engine may pass its loop time. The
    recording process is started by the first :meth:`open`, and again by the next one if it
    died. ``samples`` is how every recording keeps its audio (:data:`Samples`);
    ``max_recordings`` is how many may be in progress at once (one more fails).
    """

    def __init__(
        self,
        *,
        interval: float = 1.0,
        delay: float = 0.2,
        clock: Clock = time.monotonic,
        samples: Samples = "g711",
        max_recordings: int = MAX_RECORDINGS,
    ) -> None:
        if samples not in ("g711", "pcm16"):
            raise ValueError(f"recordings are g711 or pcm16, not {samples!r}")
        self.max_recordings = max_recordings
        self.interval = interval
        self.delay = delay
        self.samples = samples
        self.clock = clock
        self.closing = False
        #: CPU seconds the recording processes spent, known once they have closed.
        self.cpu_seconds = 0.0
        self._lock = threading.Lock()
        self._child: _Child | None = None
        self._next_rid = 0

    @property
    def pid(self) -> int | None:
        """The recording process's pid (None before the first recording)."""
        child = self._child
        return None if child is None else child.process.pid

    def open(
        self,
        path: str | os.PathLike[str],
        *,
        layout: Layout = Layout.STEREO,
        now: float | None = None,
        caller_side: int = 0,
        samples: Samples | None = None,
    ) -> ActiveRecording:
        """Start a recording at ``now``; the file is created by the recording process.

        ``caller_side`` is the bridge side (0 or 1) whose received audio is the caller's;
        ``samples`` overrides the recorder's for this recording (voicemail keeps 16-bit PCM).
        If no recording process can be started, the recording is returned already failed
        (its ``done`` holds the error), so that a call goes on without it.
        """
        with self._lock:
            if self.closing:
                raise RuntimeError("the recorder is closed")
            rid = self._next_rid
            self._next_rid += 1
            child = self._child
            failure: Exception | None = None
            if child is None or child.dead:
                try:
                    child = self._child = _Child(self)
                except OSError as exc:
                    log.error("cannot start the recording process: %s", exc)
                    child, failure = None, exc
            region = -1
            if child is not None:
                allocated = child.pool.allocate()
                if allocated is None:
                    log.error("recording %s not started: %d at once", path, self.max_recordings)
                    child = None
                    failure = RuntimeError(f"more than {self.max_recordings} recordings at once")
                else:
                    region = allocated
        recording = ActiveRecording(
            child,
            rid,
            Path(path),
            rings=None if child is None else child.pool.sides(region),
            region=region,
            clock=self.clock,
            layout=layout,
            start=self.clock() if now is None else now,
            caller_side=caller_side,
            delay=self.delay,
            samples=self.samples if samples is None else samples,
        )
        if child is None:
            assert failure is not None
            recording._fail(failure)
        else:
            if not child.add(recording):  # it died just now, before it could have it
                recording._fail(RuntimeError("the recording process ended"))
                child.pool.release(region)
        return recording

    def __len__(self) -> int:
        """Recordings in progress (not yet stopped)."""
        child = self._child
        return 0 if child is None else child.open_count()

    def close(self, timeout: float = 30.0) -> None:
        """Stop every recording now (their files complete) and end the process.

        If the recording process has not finished within ``timeout`` seconds (stalled), it
        is killed and the recordings it had not finished fail.
        """
        with self._lock:
            self.closing = True
            child = self._child
        if child is None:
            return
        child.wake.set()
        child.sender.join(timeout)
        child.reader.join(timeout)
        if child.reader.is_alive():
            log.error("the recording process did not finish within %.0f s: killed", timeout)
            child.kill()
            child.reader.join()

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)
