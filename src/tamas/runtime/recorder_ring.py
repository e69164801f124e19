"""Recorded packets in memory shared by the relay and the recording process.

Theory of operation
-------------------
The recorder (:mod:`tamas.runtime.recorder`) and its recording process
(:mod:`tamas.runtime.recorder_worker`) map one anonymous shared file (``memfd_create``),
divided into *regions*, one per recording in progress. A region holds a ring of
:data:`SIDE_SLOTS` *slots* for each side of the recording's bridge. The relay's tap copies each
packet it is fed, with its arrival time and length, into the next slot of its side
(:meth:`SideRing.put`, on the event loop: one ``struct`` store into the mapping, no object
kept), and counts the slots it has filled (``head``, which only grows). Every round, the
recorder's sender thread sends the recording process only the range of slots filled since the
last round; the process copies that range out of the ring (:meth:`RingReader.read`, a few numpy
slices) into the ``(arrival times, packets back to back, lengths)`` form its assembler takes,
and answers with how far it has read, which gives the tap that much more room (``room``). A tap
whose ring is full (the recording process is :data:`SIDE_SECONDS` behind) reports it, and the
recorder ends that recording early rather than overwrite what was not read.

Layout: the shared file is ``regions * 2 * SIDE_SLOTS`` *records* of :data:`RECORD_BYTES`,
record ``g`` being slot ``j`` of side ``s`` of region ``r`` with ``g = (2r + s) * SIDE_SLOTS + j``.
A record is the packet's arrival time (a C double), its length (a C unsigned short), six bytes
of padding and :data:`SLOT_BYTES` bytes of packet, written by one ``struct`` ``pack_into``
(:data:`RECORD`: the packet zero-padded to the slot). A packet of up to :data:`SLOT_BYTES`
bytes (a 20 ms G.711 packet is 172) takes one slot; a longer one takes as many consecutive
slots as it needs, its length in the first and 0 in the rest, and never wraps round the end of
the ring: the slots left there are marked 0 and skipped. A slot's length 0 means "no packet
starts here". The reader sees the records as one numpy structured array.

Why shared memory: handing the packets over as Python objects kept every packet alive for a
round (a second), then joined, pickled, piped, read and joined them again; the relay's event
loop paid for it in cache misses on every packet it relayed, not only the recorded ones
(docs/media-engine.md, capacity benchmark). Here a packet is copied once into the ring and once
out of it, and the object is freed as soon as the relay has sent it.

Ordering: the recording process reads only the slots it was told of through the pipe, after
reading that message; the tap filled them before the sender thread (holding the GIL the tap
released) read ``head``. The pipe's write and read order the memory between the processes on
any architecture, and the tap reuses a slot only after the recording process's answer (through
the other pipe) says it was read.
"""

from __future__ import annotations

import heapq
import mmap
import os
import struct
import threading
from collections.abc import Callable
from typing import Final

import numpy as np

__all__ = [
    "RECORD",
    "RECORD_BYTES",
    "SIDE_SECONDS",
    "SIDE_SLOTS",
    "SLOT_BYTES",
    "RingPool",
    "RingReader",
    "SideRing",
    "ring_bytes",
]

#: Packet bytes per slot: a 20 ms G.711 packet (172 bytes) with room for a CSRC or an
#: extension header; a 30 ms one (252) too.
SLOT_BYTES: Final = 256
#: Slots per side of a recording: 5.12 s of 20 ms packets.
SIDE_SLOTS: Final = 256
SIDE_SECONDS: Final = SIDE_SLOTS * 0.02
_MASK: Final = SIDE_SLOTS - 1
#: The longest packet recorded (16 slots): G.711 at 500 ms a packet is 4,012 bytes. A longer
#: packet is no telephone audio the recorder knows; it is left out.
MAX_PACKET: Final = 16 * SLOT_BYTES
#: One slot's record: arrival time, length, padding, the packet zero-padded to the slot (native
#: byte order: the recording process reads the times and lengths as C values).
RECORD: Final = struct.Struct(f"=dH6x{SLOT_BYTES}s")
RECORD_BYTES: Final = RECORD.size  # 272: the packets 16-byte aligned
#: The record numpy sees: the same fields by name.
RECORD_DTYPE: Final = np.dtype(
    [("at", "=f8"), ("size", "=u2"), ("pad", "V6"), ("data", "u1", (SLOT_BYTES,))]
)
assert RECORD_DTYPE.itemsize == RECORD_BYTES

_SIZE: Final = struct.Struct("=H")

#: What the tap calls to write a record: ``RECORD.pack_into``.
Pack = Callable[[mmap.mmap, int, float, int, bytes], None]


def ring_bytes(regions: int) -> int:
    """Size of the shared file for ``regions`` regions (untouched pages cost no memory)."""
    return regions * 2 * SIDE_SLOTS * RECORD_BYTES


class SideRing:
    """The tap's end of one side's ring: fills slots from ``head`` on, up to ``room``.

    ``put`` runs on the event loop; ``taken`` and ``room`` are moved by the recorder's threads
    (an ``int`` attribute is replaced whole under the GIL)."""

    def __init__(self, buffer: mmap.mmap, first: int) -> None:
        self.buffer = buffer
        self.base = first * RECORD_BYTES  # where this side's slot 0 is in the shared file
        self.pack: Pack = RECORD.pack_into
        self.head = 0  # slots filled since the recording began
        self.taken = 0  # slots handed to the recording process (by the sender thread)
        self.room = SIDE_SLOTS  # ``head`` may grow up to here: read slots plus the ring

    def put(self, at: float, packet: bytes) -> bool:
        """Copy ``packet``, arrived at ``at``, into the ring; False when the ring is full."""
        size = len(packet)
        head = self.head
        if size <= SLOT_BYTES and head < self.room:
            self.pack(self.buffer, self.base + (head & _MASK) * RECORD_BYTES, at, size, packet)
            self.head = head + 1
            return True
        return self._put_long(at, packet)

    def _put_long(self, at: float, packet: bytes) -> bool:
        """A packet longer than a slot (consecutive slots, never round the end), or a full
        ring."""
        size = len(packet)
        if size > MAX_PACKET:
            return True  # not audio the recording can hold: left out (MAX_PACKET)
        need = -(-size // SLOT_BYTES)
        head = self.head
        offset = head & _MASK
        skip = SIDE_SLOTS - offset if offset + need > SIDE_SLOTS else 0
        if head + skip + need > self.room:
            return False
        pack, buffer = self.pack, self.buffer
        for k in range(skip):
            pack(buffer, self.base + (offset + k) * RECORD_BYTES, 0.0, 0, b"")
        head += skip
        where = self.base + (head & _MASK) * RECORD_BYTES
        pack(buffer, where, at, size, packet[:SLOT_BYTES])
        for k in range(1, need):
            chunk = packet[k * SLOT_BYTES : (k + 1) * SLOT_BYTES]
            pack(buffer, where + k * RECORD_BYTES, 0.0, 0, chunk)
        self.head = head + need
        return True

    def take(self) -> tuple[int, int]:
        """The slots filled since the last ``take`` (sender thread)."""
        start, self.taken = self.taken, self.head
        return start, self.taken

    def read_up_to(self, end: int) -> None:
        """The recording process has read every slot before ``end`` (reader thread)."""
        self.room = max(self.room, end + SIDE_SLOTS)


class RingPool:
    """The recorder's side of the shared file: its mapping and which regions are in use.

    A released region becomes free again only after two more rounds of the sender thread
    (:meth:`recycle`): a tap being stopped on the event loop while its recording is answered
    on the reader thread may still be writing its last packet.
    """

    def __init__(self, regions: int) -> None:
        if regions < 1:
            raise ValueError(f"a recording ring pool needs at least one region, not {regions}")
        self.regions = regions
        self.fd = os.memfd_create("tamas-recordings", os.MFD_CLOEXEC)
        try:
            os.ftruncate(self.fd, ring_bytes(regions))
            self._map = mmap.mmap(self.fd, ring_bytes(regions))
        except BaseException:
            os.close(self.fd)
            raise
        self._lock = threading.Lock()
        self._free = list(range(regions))  # a heap: the lowest first, to touch fewer pages
        self._released: list[int] = []
        self._cooling: list[int] = []

    def allocate(self) -> int | None:
        """A free region, or None when every region is in use."""
        with self._lock:
            return heapq.heappop(self._free) if self._free else None

    def sides(self, region: int) -> tuple[SideRing, SideRing]:
        first = region * 2 * SIDE_SLOTS
        return SideRing(self._map, first), SideRing(self._map, first + SIDE_SLOTS)

    def release(self, region: int) -> None:
        """The recording of ``region`` is over on both sides (see the class)."""
        with self._lock:
            self._released.append(region)

    def recycle(self) -> None:
        """One round of the sender thread has passed (see the class)."""
        with self._lock:
            for region in self._cooling:
                heapq.heappush(self._free, region)
            self._cooling, self._released = self._released, []

    def close_fd(self) -> None:
        """The recording process has its own copy of the descriptor: the mapping is enough."""
        os.close(self.fd)


#: A side's packets as the assembler takes them: arrival times (C doubles), the packets back
#: to back, their lengths (C unsigned shorts).
Wire = tuple[bytes, bytes, bytes]
_NOTHING: Final[Wire] = (b"", b"", b"")


class RingReader:
    """The recording process's side: reads ranges of slots out of the shared file."""

    def __init__(self, fd: int, regions: int) -> None:
        self._map = mmap.mmap(fd, ring_bytes(regions), prot=mmap.PROT_READ)
        self.regions = regions
        self._views(np.frombuffer(self._map, RECORD_DTYPE))

    def _views(self, records: np.ndarray) -> None:
        # each field as one (strided) array over the whole file, made once: a read is then a
        # few slices, the fewest numpy calls (each costs about a microsecond)
        self.at = records["at"]
        self.sizes = records["size"]
        self.data = records["data"]

    def read(self, region: int, side: int, start: int, end: int) -> Wire:
        """The packets in slots ``start`` to ``end`` (counted as ``SideRing.head`` counts) of
        one side of ``region``, copied out of the ring."""
        count = end - start
        if count <= 0:
            return _NOTHING
        if not 0 <= region < self.regions or side not in (0, 1) or count > SIDE_SLOTS:
            raise ValueError(f"no such slots: region {region} side {side} {start}-{end}")
        base = (2 * region + side) * SIDE_SLOTS
        first = base + (start & _MASK)
        over = first + count - (base + SIDE_SLOTS)
        if over <= 0:
            return self._range(first, count)
        # round the ring's end: the slots up to it, then those from its start
        times0, blob0, lengths0 = self._range(first, count - over)
        times1, blob1, lengths1 = self._range(base, over)
        return times0 + times1, blob0 + blob1, lengths0 + lengths1

    def _range(self, first: int, count: int) -> Wire:
        """The packets of ``count`` consecutive slots from global slot ``first``."""
        sizes = self.sizes[first : first + count]
        lengths = sizes.tobytes()
        size = _SIZE.unpack_from(lengths)[0]
        if 0 < size <= SLOT_BYTES and lengths == lengths[:2] * count:
            # the usual range: one packet per slot, all of one size
            return (
                self.at[first : first + count].tobytes(),
                self.data[first : first + count, :size].tobytes(),
                lengths,
            )
        # packets of several sizes, or longer than a slot (consecutive slots: never round
        # the end), or slots skipped before the end
        starts = np.flatnonzero(sizes)
        kept = sizes[starts]
        data = self.data
        blob = b"".join(
            [data[g : g - (-n // SLOT_BYTES)].tobytes()[:n]
             for g, n in zip((starts + first).tolist(), kept.tolist(), strict=True)]
        )  # fmt: skip
        return self.at[starts + first].tobytes(), blob, kept.tobytes()

    def close(self) -> None:
        """Unmap (the arrays over the mapping are dropped first: they pin it)."""
        self._views(np.empty(0, RECORD_DTYPE))
        self._map.close()
