"""The recording process: assembles and writes every recording, apart from the relay.

Theory of operation
-------------------
:class:`tamas.runtime.recorder.Recorder` starts this module as a child process
(``python -m tamas.runtime.recorder_worker``) and talks to it over its standard input and
output with framed pickles (:func:`write_frame`, :func:`read_frame`): a private pipe between
two processes of the same program, never a socket.

Each message is a head (the pickle's length and how many out-of-band buffers follow, 8 and 4
bytes little-endian), each buffer's length (8 bytes each), the pickle, then the buffers back to
back. The buffers are the :class:`pickle.PickleBuffer` objects of the message (pickle protocol
5), written from the objects they are in with one ``os.writev``, so the pickler never copies
them. (The recorder's messages no longer carry any: the packets are in shared memory.)

The packets themselves are in memory shared with the parent (:mod:`tamas.runtime.recorder_ring`),
whose descriptor and number of regions are this process's two arguments.

In: ``("batch", now, items)``, where each item is one recording's news since the last batch::

    (rid, header or None, commands, laws, region, (start0, end0, start1, end1))

``header`` (on the first item of a recording only) is ``(path, layout, start, caller_side,
delay, samples)``, ``samples`` being ``"g711"`` or ``"pcm16"`` (see :class:`_Job`);
``commands`` are ``(time, "pause" | "resume" | "stop")``; ``laws`` maps each side's recorded
payload types to their G.711 law (None when they have not changed since the last
item); ``region`` is the recording's region of the shared memory, and each side's packets
are its slots ``start`` to ``end``. The worker copies them out at once (:func:`resolve`: the
slots are free again once it has answered ``("read", [(rid, end0, end1), ...])`` for the
message) as ``(arrival times, the RTP packets back to back, their lengths)``, the times and
lengths the native bytes of C doubles and unsigned shorts. It
queues a recording's items until they hold about 1.5 s of packets (``_ASSEMBLE_PACKETS``), the
oldest is 1.5 s old, or one carries a command; then feeds them, joined, to the pure assembler
(:class:`tamas.media.recording.Recording`), applies the commands by their time, writes what is
final at ``now`` to the WAV file (header patched after each write: a file is always valid up
to its last assembly), and on a stop finishes the file (fsync) and answers. ``("close",
now)`` stops whatever is still recording at ``now`` and ends the process after its answers.

Out: ``("read", ends)`` after each batch (above), ``("done", rid, RecordingMetadata)``,
``("failed", rid, exception)`` (one recording's file could not be written: the others go on)
and, at the end, ``("cpu", seconds)``.

If the parent dies (its end of the pipe closes), every recording is finished at the last
``now`` received: what reached this process is never lost.

Why a process: the assembly costs a few microseconds per packet. In a thread of the relay's
process it held the GIL that the event loop needed, and the loop's wait for it showed up as
the relay's latency tail (docs/media-engine.md, capacity benchmark); in its own process it
only costs CPU, which the kernel shares out without making the loop wait.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import sys
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from tamas.media.recording import Chunk, Law, Layout, PausedSpan, Recording, Side, SideStats
from tamas.media.wav import WavEncoding, WavWriter
from tamas.runtime.recorder_ring import RingReader, Wire

__all__ = [
    "Item",
    "RecordingMetadata",
    "RingItem",
    "Worker",
    "main",
    "read_frame",
    "resolve",
    "write_frame",
]

_IOV_MAX: Final = 1024  # buffers per writev (Linux's IOV_MAX)
_RATE: Final = 8000
#: The lowest priority: on a busy core the relay's event loop runs whenever it has a packet,
#: and this process takes the time it leaves (a recording ends early only after 10 s behind).
_NICENESS: Final = 19
#: A recording's items are queued and assembled together once they hold this many packets
#: per side (about 1.5 s of 20 ms packets), or the oldest is this old, or one carries a
#: command (pause, resume, stop): much of the assembly's cost is per call into numpy and per
#: file write, not per packet (benchmarks/recording_worker.py, 300 G.711 recordings offline:
#: 99 µs of CPU per recording and second assembled every 2 s, 83 every 3 s, 60 every 5 s).
#: Five seconds was tried in the capacity benchmark on 2026-12-02 and the recording
#: process's CPU there did not move (docs/media-engine.md): kept at 1.5 s, so that the file
#: on disk trails the call by less and a recording process killed outright loses less.
_ASSEMBLE_PACKETS: Final = 75
_ASSEMBLE_SECONDS: Final = 1.5

Header = tuple[str, str, float, int, float, str]
Laws = tuple[dict[int, str], dict[int, str]]
Commands = list[tuple[float, str]]
#: One recording's news as the sender thread sends it: its slots of the shared memory.
RingItem = tuple[int, Header | None, Commands, Laws | None, int, tuple[int, int, int, int]]
#: The same with the packets read out of the shared memory, as the worker takes it.
Item = tuple[int, Header | None, Commands, Laws | None, tuple[Wire, Wire]]
_HEAD: Final = struct.Struct("<QI")


def resolve(
    reader: RingReader, items: Sequence[RingItem]
) -> tuple[list[Item], list[tuple[int, int, int]]]:
    """The items with their packets copied out of the shared memory, and how far each
    recording's rings have been read (the ``"read"`` answer)."""
    resolved: list[Item] = []
    ends: list[tuple[int, int, int]] = []
    for rid, header, commands, laws, region, (start0, end0, start1, end1) in items:
        side0 = reader.read(region, 0, start0, end0)
        side1 = reader.read(region, 1, start1, end1)
        resolved.append((rid, header, commands, laws, (side0, side1)))
        ends.append((rid, end0, end1))
    return resolved, ends


def write_frame(out: IO[bytes], message: object) -> None:
    """Write one message (module docstring): its ``PickleBuffer`` objects out of band."""
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(message, protocol=5, buffer_callback=buffers.append)
    views = [b.raw() for b in buffers]
    head = _HEAD.pack(len(data), len(views))
    lengths = struct.pack(f"<{len(views)}Q", *[v.nbytes for v in views])
    out.flush()  # nothing of an earlier write may be left in the file object's buffer
    _write_all(out.fileno(), [head, lengths, data, *views])


def _write_all(fd: int, parts: list[Any]) -> None:
    """``os.writev`` until everything is written (a pipe may take part of a long write)."""
    while parts:
        written = os.writev(fd, parts[:_IOV_MAX])
        while parts and written >= len(parts[0]):
            written -= len(parts[0])
            parts.pop(0)
        if parts and written:
            parts[0] = memoryview(parts[0])[written:]


def read_frame(source: IO[bytes]) -> Any:
    """The next message, or None at the end of the stream."""
    head = _read_exactly(source, _HEAD.size)
    if head is None:
        return None
    size, count = _HEAD.unpack(head)
    lengths_data = _read_exactly(source, 8 * count) if count else b""
    body = _read_exactly(source, size)
    if lengths_data is None or body is None:
        return None
    buffers = []
    for length in struct.unpack(f"<{count}Q", lengths_data):
        buffer = _read_exactly(source, length) if length else b""
        if buffer is None:
            return None
        buffers.append(buffer)
    return pickle.loads(body, buffers=buffers)  # our own parent or child, over a private pipe


def _read_exactly(source: IO[bytes], size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = source.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingMetadata:
    """A finished recording, for the store."""

    path: Path
    layout: Layout
    channels: int
    encoding: WavEncoding
    """How the samples are stored: 16-bit PCM, or the call's G.711 µ-law or A-law."""
    started_at: float
    """Clock time at which the recording started (the recorder's clock)."""
    duration: float
    """Seconds of audio in the file (the time from start to stop)."""
    paused_spans: tuple[PausedSpan, ...]
    """Silenced stretches, in seconds from the start."""
    caller: SideStats
    agent: SideStats


@dataclass
class _Job:
    """One recording being written.

    Its assembly is made when its audio is first assembled, so that a ``"g711"`` recording
    can keep the law of the call: the caller's side's, else the agent's, else µ-law (A-law
    audio is transcoded code for code into a µ-law recording and the other way round)."""

    path: Path
    layout: Layout
    caller_side: int
    start: float
    delay: float
    samples: str
    assembly: Recording | None = None
    writer: WavWriter | None = None
    laws: tuple[dict[int, Law], dict[int, Law]] = field(default_factory=lambda: ({}, {}))
    queued: list[tuple[list[tuple[float, str]], Laws | None, tuple[Wire, Wire]]] = field(
        default_factory=list
    )
    """Items received and not yet assembled (see :meth:`Worker.batch`)."""
    queued_packets: int = 0
    queued_since: float = 0.0

    def queue(
        self, now: float, commands: list[tuple[float, str]], laws: Laws | None, packets: Any
    ) -> None:
        if not self.queued:
            self.queued_since = now
        self.queued.append((commands, laws, packets))
        # per side, on average: each length is 2 bytes
        self.queued_packets += (len(packets[0][2]) + len(packets[1][2])) // 4

    def take_queued(
        self,
    ) -> tuple[list[tuple[float, str]], Laws | None, tuple[Wire, Wire]]:
        """The queued items as one: their packets joined side by side, their commands in
        order (only the first item may carry laws: see :meth:`Worker.batch`)."""
        queued, self.queued, self.queued_packets = self.queued, [], 0
        if len(queued) == 1:
            return queued[0]
        commands = [command for item in queued for command in item[0]]
        sides = tuple(
            (
                b"".join([item[2][side][0] for item in queued]),
                b"".join([item[2][side][1] for item in queued]),
                b"".join([item[2][side][2] for item in queued]),
            )
            for side in (0, 1)
        )
        return commands, queued[0][1], (sides[0], sides[1])

    def learn(self, laws: Laws) -> None:
        """The recorded payload types of each side changed (a codec was learnt)."""
        self.laws = ({pt: Law(name) for pt, name in laws[0].items()},
                     {pt: Law(name) for pt, name in laws[1].items()})  # fmt: skip

    def assemble(self) -> Recording:
        """The recording's assembly, made on first use (see the class)."""
        if self.assembly is None:
            encoding = WavEncoding.PCM
            if self.samples == "g711":
                caller, agent = self.laws[self.caller_side], self.laws[1 - self.caller_side]
                laws = [*caller.values(), *agent.values()]
                alaw = bool(laws) and laws[0] is Law.ALAW
                encoding = WavEncoding.ALAW if alaw else WavEncoding.MULAW
            self.assembly = Recording(
                start=self.start, layout=self.layout, delay=self.delay, encoding=encoding
            )
        return self.assembly

    def feed(self, packets: Sequence[Wire]) -> None:
        assembly = self.assemble()
        for side in (0, 1):
            times, blob, lengths = packets[side]
            if lengths:
                assembly.feed_rtp_blob(
                    Side.CALLER if side == self.caller_side else Side.AGENT,
                    array("d", times),
                    blob,
                    array("H", lengths),
                    self.laws[side],
                )

    def write(self, chunk: Chunk) -> None:
        if self.writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            channels = 2 if self.layout is Layout.STEREO else 1
            self.writer = WavWriter(
                self.path,
                sample_rate=_RATE,
                channels=channels,
                encoding=self.assemble().encoding,
            )
        self.writer.write(chunk)
        self.writer.flush()

    def finish(self, at: float) -> RecordingMetadata:
        assembly = self.assemble()
        self.write(assembly.stop(at, copy=False))
        assert self.writer is not None
        self.writer.close(fsync=True)
        return RecordingMetadata(
            path=self.path,
            layout=self.layout,
            channels=self.writer.channels,
            encoding=self.writer.encoding,
            started_at=assembly.start,
            duration=self.writer.duration,
            paused_spans=tuple(assembly.paused_spans),
            caller=assembly.stats[Side.CALLER],
            agent=assembly.stats[Side.AGENT],
        )

    def abandon(self) -> None:
        if self.writer is not None:
            with contextlib.suppress(OSError):
                self.writer.close()


class Worker:
    """Every recording of one parent; pure but for the files (time comes in the messages)."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._jobs: dict[int, _Job] = {}
        self.now = 0.0

    def batch(self, now: float, items: Sequence[Item]) -> None:
        self.now = max(self.now, now)
        for rid, header, commands, laws, packets in items:
            job = self._jobs.get(rid)
            if job is None:
                if header is None:
                    continue  # a recording that already failed
                path, layout, start, caller_side, delay, samples = header
                job = self._jobs[rid] = _Job(
                    path=Path(path),
                    layout=Layout(layout),
                    caller_side=caller_side,
                    start=start,
                    delay=delay,
                    samples=samples,
                )
            try:
                if laws is not None and job.queued:
                    self._service(rid, job, now, *job.take_queued())  # under the old laws
                job.queue(now, commands, laws, packets)
                if (
                    commands
                    or job.queued_packets >= _ASSEMBLE_PACKETS
                    or now - job.queued_since >= _ASSEMBLE_SECONDS
                ):
                    self._service(rid, job, now, *job.take_queued())
            except Exception as exc:  # a full disk must not stop the other recordings
                job.abandon()
                del self._jobs[rid]
                self._answer(("failed", rid, exc))

    def _service(
        self,
        rid: int,
        job: _Job,
        now: float,
        commands: Sequence[tuple[float, str]],
        laws: Laws | None,
        packets: Sequence[Wire],
    ) -> None:
        # Packets before commands: pause, resume and stop act on the timeline by their time,
        # and a packet fed before a stop is always in the stop's batch or an earlier one.
        if laws is not None:
            job.learn(laws)
        job.feed(packets)
        assembly = job.assemble()
        stopped_at: float | None = None
        for at, command in commands:
            if command == "pause":
                assembly.pause(at)
            elif command == "resume":
                assembly.resume(at)
            else:
                stopped_at = at
        if stopped_at is None:
            job.write(assembly.advance(now, copy=False))  # written before the next feed
            return
        metadata = job.finish(stopped_at)
        del self._jobs[rid]
        self._answer(("done", rid, metadata))

    def _answer(self, message: tuple[object, ...]) -> None:
        try:
            write_frame(self._out, message)
        except OSError:
            pass  # a parent that is gone reads no answers
        except Exception as exc:  # e.g. an exception that does not pickle: say it in words
            with contextlib.suppress(OSError):
                write_frame(self._out, (message[0], message[1], RuntimeError(repr(exc))))

    def close(self, now: float) -> None:
        """Finish every recording at ``now`` (what is queued first: the stop flushes it)."""
        for rid in list(self._jobs):
            nothing: Wire = (b"", b"", b"")
            self.batch(now, [(rid, None, [(now, "stop")], None, (nothing, nothing))])


def main() -> int:
    # Signals meant for the server reach this process too (a service manager signals the
    # whole group): the server decides when recordings end, by closing the pipe. The parent
    # started this process with them blocked; ignore them, then take them off the mask.
    shielded = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    for number in shielded:
        signal.signal(number, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, shielded)
    source, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the answers
    with contextlib.suppress(OSError):
        os.nice(_NICENESS)  # the relay's event loop comes first when both want the CPU
    worker = Worker(out)
    try:
        fd, regions = (int(arg) for arg in sys.argv[1:3])
        reader = RingReader(fd, regions)
        os.close(fd)  # the mapping is enough
        while True:
            message = read_frame(source)
            if message is None:  # the parent is gone: keep what it sent
                worker.close(worker.now)
                return 0
            if message[0] == "batch":
                items, ends = resolve(reader, message[2])
                worker._answer(("read", ends))  # the slots may be filled again
                worker.batch(message[1], items)
            elif message[0] == "close":
                worker.close(max(worker.now, message[1]))
                worker._answer(("cpu", time.process_time()))
                return 0
    except BaseException as exc:  # one line in the server's log, never a traceback
        print(f"tamas recording process: {exc!r}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    # Run as ``-m``, this file is ``__main__``: take everything from the module under its
    # own name, so that what is pickled (RecordingMetadata) names tamas.runtime.recorder_worker.
    from tamas.runtime import recorder_worker

    sys.exit(recorder_worker.main())
