"""The shared memory between the recording tap and the recording process: what the tap puts
in is what the reader takes out, in order, across the end of the ring, for packets of every
length; a full ring refuses packets; regions are reused only after they have cooled."""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest

from tamas.runtime.recorder_ring import (
    MAX_PACKET,
    SIDE_SLOTS,
    SLOT_BYTES,
    RingPool,
    RingReader,
    SideRing,
)


@pytest.fixture
def pool() -> Iterator[RingPool]:
    pool = RingPool(3)
    yield pool
    pool.close_fd()


def packet(n: int, size: int = 172) -> bytes:
    header = struct.pack("!BBHII", 0x80, 0, n & 0xFFFF, n * 160, 7)
    return header + bytes((n + k) & 0xFF for k in range(size - 12))


def unpack(wire: tuple[bytes, bytes, bytes]) -> list[tuple[float, bytes]]:
    times, blob, lengths = wire
    count = len(lengths) // 2
    arrivals = struct.unpack(f"{count}d", times)
    out, start = [], 0
    for at, size in zip(arrivals, struct.unpack(f"{count}H", lengths), strict=True):
        out.append((at, blob[start : start + size]))
        start += size
    assert start == len(blob)
    return out


def feed(ring: SideRing, packets: list[tuple[float, bytes]]) -> None:
    for at, data in packets:
        assert ring.put(at, data)


def test_packets_come_out_as_they_went_in_on_both_sides_of_every_region(pool: RingPool) -> None:
    reader = RingReader(pool.fd, pool.regions)
    sides = [pool.sides(region) for region in range(pool.regions)]
    sent: dict[tuple[int, int], list[tuple[float, bytes]]] = {}
    for region, rings in enumerate(sides):
        for side, ring in enumerate(rings):
            sent[region, side] = [(100.0 + n * 0.02 + side, packet(n + region)) for n in range(50)]
            feed(ring, sent[region, side])
    for region, rings in enumerate(sides):
        for side, ring in enumerate(rings):
            start, end = ring.take()
            assert (start, end) == (0, 50)
            assert unpack(reader.read(region, side, start, end)) == sent[region, side]
            assert ring.take() == (50, 50)
            assert reader.read(region, side, 50, 50) == (b"", b"", b"")
    reader.close()


def test_the_ring_wraps_and_refuses_what_it_cannot_hold(pool: RingPool) -> None:
    reader = RingReader(pool.fd, pool.regions)
    ring = pool.sides(1)[1]
    first = [(float(n), packet(n)) for n in range(SIDE_SLOTS)]
    feed(ring, first)
    assert not ring.put(999.0, packet(999))  # full: nothing read yet
    start, end = ring.take()
    assert unpack(reader.read(1, 1, start, end)) == first
    ring.read_up_to(100)  # the reader answered for the first 100 only
    more = [(float(n), packet(n)) for n in range(SIDE_SLOTS, SIDE_SLOTS + 100)]
    feed(ring, more)
    assert not ring.put(999.0, packet(999))
    ring.read_up_to(end)
    feed(ring, [(1000.0, packet(1000))])
    start, end = ring.take()
    assert (start, end) == (SIDE_SLOTS, SIDE_SLOTS + 101)
    assert unpack(reader.read(1, 1, start, end)) == [*more, (1000.0, packet(1000))]
    reader.close()


@pytest.mark.parametrize("offset", [0, 5, SIDE_SLOTS - 3, SIDE_SLOTS - 1])
def test_long_packets_take_several_slots_and_never_straddle_the_end(
    pool: RingPool, offset: int
) -> None:
    reader = RingReader(pool.fd, pool.regions)
    ring = pool.sides(0)[0]
    feed(ring, [(0.0, packet(0))] * offset)
    ring.take()
    ring.read_up_to(offset)
    sizes = [172, 2 * SLOT_BYTES + 1, SLOT_BYTES, SLOT_BYTES + 1, 12, MAX_PACKET, 500]
    sent = [(float(k), packet(k, size)) for k, size in enumerate(sizes)]
    feed(ring, sent)
    assert ring.put(50.0, bytes(MAX_PACKET + 1))  # taken, and left out
    start, end = ring.take()
    assert unpack(reader.read(0, 0, start, end)) == sent
    reader.close()


def test_the_reader_refuses_slots_that_do_not_exist(pool: RingPool) -> None:
    reader = RingReader(pool.fd, pool.regions)
    with pytest.raises(ValueError, match="no such slots"):
        reader.read(pool.regions, 0, 0, 1)
    with pytest.raises(ValueError, match="no such slots"):
        reader.read(0, 2, 0, 1)
    with pytest.raises(ValueError, match="no such slots"):
        reader.read(0, 0, 0, SIDE_SLOTS + 1)
    reader.close()


def test_regions_are_reused_lowest_first_and_only_after_two_rounds(pool: RingPool) -> None:
    assert [pool.allocate() for _ in range(pool.regions)] == [0, 1, 2]
    assert pool.allocate() is None
    pool.release(1)
    pool.recycle()
    assert pool.allocate() is None  # cooling: a tap may still be writing its last packet
    pool.release(0)
    pool.recycle()
    assert pool.allocate() == 1
    assert pool.allocate() is None
    pool.recycle()
    assert pool.allocate() == 0


def test_a_pool_needs_a_region() -> None:
    with pytest.raises(ValueError, match="at least one region"):
        RingPool(0)
