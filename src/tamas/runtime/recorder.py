"""Call recordings: the relay's tap on the event loop, the work in a process of its own.

Theory of operation
-------------------
A :class:`ActiveRecording` is a media-engine *tap*: the engine calls :meth:`ActiveRecording.feed`
with each RTP packet a bridge relays, on the event loop, in the hot path. ``feed`` stamps the
packet with the clock and appends it to a list; nothing else (no decoding, no IO). Pause,
resume and stop go to a list of their own, with their time.

A :class:`Recorder` serves every recording of the process. It starts one child process
(:mod:`tamas.runtime.recorder_worker`), which decodes, places and writes the audio of every
recording; see that module for why it is a process. Every ``interval`` seconds (or at once
when a recording is stopped) the recorder's *sender* thread reads the clock, takes each
recording's pending lists (a slice copy and a ``del`` of that many items: both atomic under
the GIL, so a packet appended meanwhile stays for the next round) and sends them to the child
in a few pickled messages. Pickling is C code over plain tuples of floats and bytes, and the
pipe write releases the GIL, so the event loop is not kept waiting for it. A *reader* thread
takes the child's answers and completes each stopped recording's future with its metadata.

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
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import IO, Final, Protocol

from tamas.media.recording import Law, Layout
from tamas.runtime.recorder_worker import Item, RecordingMetadata, read_frame, write_frame

__all__ = ["ActiveRecording", "Recorder", "RecordingMetadata"]

log = logging.getLogger(__name__)

Clock = Callable[[], float]
#: Recordings per message to the child: each message is pickled with the GIL held.
_PER_MESSAGE: Final = 32
_PIPE_BYTES: Final = 1 << 20


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
        recorder: Recorder,
        rid: int,
        path: Path,
        *,
        layout: Layout,
        start: float,
        caller_side: int,
    ) -> None:
        self.path = path
        self.layout = layout
        self._recorder = recorder
        self._rid = rid
        self._clock = recorder.clock
        # Sent with the first batch: the child learns of the recording from it.
        self._header: tuple[str, str, float, int, float] | None = (
            str(path), layout.value, start, caller_side, recorder.delay
        )  # fmt: skip
        # Filled on the loop, taken by the sender thread: packets per bridge side, and the
        # payload types seen on each side with their law (learnt when the codec changes).
        self._packets: tuple[list[tuple[float, bytes]], list[tuple[float, bytes]]] = ([], [])
        self._commands: list[tuple[float, _Command]] = []
        self._codecs: list[CodecLike | None] = [None, None]
        self._laws: tuple[dict[int, str], dict[int, str]] = ({}, {})
        self._done: concurrent.futures.Future[RecordingMetadata] = concurrent.futures.Future()
        self._stopping = False
        self._sent_stop = False

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
        if name in (Law.ULAW.value, Law.ALAW.value):  # only G.711 is recorded from the wire
            laws = dict(self._laws[side])
            laws[codec.payload_type] = name
            self._laws = (laws, self._laws[1]) if side == 0 else (self._laws[0], laws)

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

    # --- sender thread side -----------------------------------------------------------

    def _take(self) -> Item:
        """What the child has not had yet (every round, even if nothing is new: the file
        follows the clock through silence).

        Commands are taken before packets: a packet fed before a stop is always in the same
        message as the stop or an earlier one.
        """
        commands = self._commands[:]
        del self._commands[: len(commands)]
        batches = []
        for pending in self._packets:
            batch = pending[:]
            del pending[: len(batch)]  # what the loop appended meanwhile stays for next time
            batches.append(batch)
        header, self._header = self._header, None
        if any(command is _Command.STOP for _, command in commands):
            self._sent_stop = True
        return (
            self._rid,
            header,
            [(at, command.value) for at, command in commands],
            self._laws,
            (batches[0], batches[1]),
        )

    def _fail(self, exc: BaseException) -> None:
        self._stopping = True  # the tap stops collecting for a file that cannot be written
        if not self._done.done():
            self._done.set_exception(exc)


class Recorder:
    """The recording process and the two threads that talk to it, for every recording.

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
        self._recordings: dict[int, ActiveRecording] = {}  # not yet answered by the child
        self._next_rid = 0
        self._wake = threading.Event()
        self._closing = False
        #: CPU seconds the recording process spent, known once it has closed.
        self.cpu_seconds = 0.0
        self._process: subprocess.Popen[bytes] | None = None  # started by the first open
        self._dead = False

    def _start_process(self) -> None:
        """Start the recording process and its two threads (again, after a crash)."""
        self._dead = False
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tamas.runtime.recorder_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._to_child: IO[bytes] = self._process.stdin
        self._from_child: IO[bytes] = self._process.stdout
        with contextlib.suppress(OSError):  # a bigger pipe rides out the child's pauses
            fcntl.fcntl(self._to_child.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        self._sender = threading.Thread(target=self._send_loop, name="tamas-recorder", daemon=True)
        self._reader = threading.Thread(
            target=self._read_loop, name="tamas-recorder-answers", daemon=True
        )
        self._sender.start()
        self._reader.start()

    @property
    def pid(self) -> int | None:
        """The recording process's pid (None before the first recording)."""
        return None if self._process is None else self._process.pid

    def open(
        self,
        path: str | os.PathLike[str],
        *,
        layout: Layout = Layout.STEREO,
        now: float | None = None,
        caller_side: int = 0,
    ) -> ActiveRecording:
        """Start a recording at ``now``; the file is created by the recording process.

        ``caller_side`` is the bridge side (0 or 1) whose received audio is the caller's.
        """
        with self._lock:
            if self._closing:
                raise RuntimeError("the recorder is closed")
            if self._process is None:
                self._start_process()
            elif self._dead:  # it crashed (logged): a new one takes the new recordings
                self._wake.set()
                self._sender.join()
                self._reader.join()
                self._process.wait()
                self._start_process()
            rid = self._next_rid
            self._next_rid += 1
            recording = ActiveRecording(
                self,
                rid,
                Path(path),
                layout=layout,
                start=self.clock() if now is None else now,
                caller_side=caller_side,
            )
            self._recordings[rid] = recording
        return recording

    def __len__(self) -> int:
        with self._lock:
            return sum(1 for r in self._recordings.values() if not r._sent_stop)

    def wake(self) -> None:
        self._wake.set()

    # --- sender thread ----------------------------------------------------------------

    def _send_loop(self) -> None:
        try:
            while True:
                self._wake.wait(self.interval)
                self._wake.clear()
                with self._lock:
                    active = [r for r in self._recordings.values() if not r._sent_stop]
                    closing = self._closing
                if self._dead:
                    return
                now = self.clock()
                if closing:
                    for recording in active:
                        recording.stop_nowait(now)
                items: list[Item] = []
                for recording in active:
                    items.append(recording._take())
                    if len(items) == _PER_MESSAGE:
                        write_frame(self._to_child, ("batch", now, items))
                        items = []
                if items:
                    write_frame(self._to_child, ("batch", now, items))
                if closing:
                    write_frame(self._to_child, ("close", now))
                    return
        except OSError as exc:  # the child is gone: its reader fails what is left
            log.error("the recording process stopped taking audio: %s", exc)
        finally:
            with contextlib.suppress(OSError):
                self._to_child.close()

    # --- reader thread ----------------------------------------------------------------

    def _read_loop(self) -> None:
        while True:
            try:
                message = read_frame(self._from_child)
            except Exception as exc:  # the answers stop; the orphans are failed below
                log.error("unreadable answer from the recording process: %s", exc)
                message = None
            if message is None:
                break
            kind = message[0]
            if kind == "cpu":
                self.cpu_seconds = message[1]
                continue
            with self._lock:
                recording = self._recordings.pop(message[1], None)
            if recording is None:
                continue
            if kind == "done":
                recording._done.set_result(message[2])
            else:
                log.error("recording %s failed: %s", recording.path, message[2])
                recording._fail(message[2])
        with self._lock:
            orphans = list(self._recordings.values())
            self._recordings.clear()
            self._dead = True
        self._wake.set()
        with contextlib.suppress(OSError):
            self._from_child.close()
        if orphans:
            log.error("the recording process ended with %d recordings unfinished", len(orphans))
        for recording in orphans:
            recording._fail(RuntimeError("the recording process ended"))

    def close(self) -> None:
        """Stop every recording now (their files complete) and end the process."""
        with self._lock:
            self._closing = True
            if self._process is None:
                return
        self._wake.set()
        self._sender.join()
        self._reader.join()
        self._process.wait()

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)
