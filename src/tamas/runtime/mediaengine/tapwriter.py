"""Bridge taps written to disk by one thread, in batches, off the event loop.

The hot path's share of recording is one ``list.append`` of the received packet (the ``bytes``
object the loop already made; nothing is copied). A single writer thread for the whole engine
wakes every ``BATCH_SECONDS``, swaps each recording's lists for empty ones (a swap of two
references, safe under the GIL) and writes the payloads out. ``close()`` of a recording writes
what is left before it returns, so the end of a call is never lost.

This writer keeps each direction as raw G.711 (``<base>.a.ul`` / ``<base>.b.ul``, or ``.al`` for
A-law; ``sox -t ul -r 8000 -c 1 FILE out.wav`` reads them). It is the minimal recorder the media
benchmark uses; stereo WAV assembly (caller left, agent right) plugs in at the same place by
consuming the same batches.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import BinaryIO

from tamas.runtime.mediaengine.api import Codec, CodecName

__all__ = ["BATCH_SECONDS", "RawTapRecording", "TapWriterThread"]

BATCH_SECONDS = 0.2


def _payload(packet: bytes) -> bytes:
    offset = 12 + 4 * (packet[0] & 0x0F)
    if packet[0] & 0x10 and len(packet) >= offset + 4:
        offset += 4 + 4 * int.from_bytes(packet[offset + 2 : offset + 4], "big")
    end = len(packet) - (packet[-1] if packet[0] & 0x20 else 0)
    return packet[offset:end]


class RawTapRecording:
    """A :class:`~tamas.runtime.mediaengine.api.Tap` that records both directions raw."""

    def __init__(self, writer: TapWriterThread, base: Path) -> None:
        self.base = base
        self._writer = writer
        self._pending: tuple[list[bytes], list[bytes]] = ([], [])
        self._files: list[BinaryIO | None] = [None, None]
        self._suffix = "ul"
        self.bytes_written = [0, 0]
        self.closed = False
        writer.add(self)

    def feed(self, side: int, packet: bytes, codec: Codec) -> None:
        self._pending[side].append(packet)
        if codec.name is CodecName.PCMA and self._suffix == "ul" and not any(self._files):
            self._suffix = "al"

    def path(self, side: int) -> Path:
        return self.base.with_name(f"{self.base.name}.{'ab'[side]}.{self._suffix}")

    def flush(self) -> None:
        """Write what has been fed so far (writer thread, or ``close``)."""
        for side in (0, 1):
            pending = self._pending[side]
            if not pending:
                continue
            batch = pending[:]
            del pending[: len(batch)]  # the loop may append meanwhile; keep those
            data = b"".join(_payload(p) for p in batch)
            out = self._files[side]
            if out is None:
                out = self._files[side] = self.path(side).open("ab")
            out.write(data)
            self.bytes_written[side] += len(data)

    def close(self) -> None:
        """Write everything left and close the files (call on hang-up)."""
        if self.closed:
            return
        self.closed = True
        self._writer.remove(self)
        with self._writer.lock:
            self.flush()
            for out in self._files:
                if out is not None:
                    out.close()


class TapWriterThread:
    """One daemon thread flushing every open recording each ``BATCH_SECONDS``."""

    def __init__(self, batch_seconds: float = BATCH_SECONDS) -> None:
        self.batch_seconds = batch_seconds
        self.lock = threading.Lock()
        self._recordings: set[RawTapRecording] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tamas-tapwriter", daemon=True)
        self._thread.start()

    def add(self, recording: RawTapRecording) -> None:
        with self.lock:
            self._recordings.add(recording)

    def remove(self, recording: RawTapRecording) -> None:
        with self.lock:
            self._recordings.discard(recording)

    def _run(self) -> None:
        while not self._stop.wait(self.batch_seconds):
            with self.lock:
                for recording in list(self._recordings):
                    recording.flush()

    def close(self) -> None:
        """Stop the thread after a last flush (open recordings stay open)."""
        self._stop.set()
        self._thread.join(timeout=10)
        with self.lock:
            for recording in list(self._recordings):
                recording.flush()
