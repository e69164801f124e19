"""Jitter buffer behaviour on scripted arrival patterns, with fake time (no sleeping)."""

from __future__ import annotations

import random
from collections.abc import Iterable

import pytest

from tamas.media.jitter import Frame, Gap, JitterBuffer, Missing, State

TS0 = 1_000_000
STEP = 0.02
TICK_OFFSET = 0.0123  # playout ticks fall between send times: no ties in the fake clock

Packet = tuple[float, int, int, bytes]  # arrival, seq, timestamp, payload
Out = Frame | Missing


def packet(i: int, arrival: float, *, ts0: int = TS0) -> Packet:
    return (arrival, (100 + i) % 65536, (ts0 + 160 * i) % 2**32, i.to_bytes(4, "big"))


def stream(delays: Iterable[float], *, ts0: int = TS0, first: int = 0) -> list[Packet]:
    """Packet i sent at i * 20 ms, arriving after delays[i]; returned in arrival order."""
    packets = [packet(first + i, (first + i) * STEP + d, ts0=ts0) for i, d in enumerate(delays)]
    return sorted(packets, key=lambda p: p[0])


def run(
    jb: JitterBuffer,
    packets: list[Packet],
    ticks: int,
    *,
    first_tick: int = 0,
    trace: list[tuple[float, float]] | None = None,
) -> list[Out]:
    """Deliver packets (in list order) up to each tick's time, then take one frame per tick.

    ``trace`` collects (target delay, playout delay) after each tick.
    """
    out: list[Out] = []
    pending = list(packets)
    for k in range(first_tick, first_tick + ticks):
        now = TICK_OFFSET + k * STEP
        while pending and pending[0][0] <= now:
            arrival, seq, ts, payload = pending.pop(0)
            jb.put(seq, ts, payload, arrival)
        out.append(jb.get(now))
        if trace is not None:
            trace.append((jb.target_delay, jb.playout_delay))
    return out


def played(out: list[Out]) -> list[int]:
    return [int.from_bytes(o.payload, "big") for o in out if isinstance(o, Frame)]


def reasons(out: list[Out]) -> list[Gap]:
    return [o.reason for o in out if isinstance(o, Missing)]


def accounted(jb: JitterBuffer) -> bool:
    s = jb.stats
    gone = s.played + s.late + s.duplicates + s.overflow + s.shrunk + s.flushed
    return s.received == gone + len(jb)


def test_in_order_plays_every_frame_once_after_priming() -> None:
    jb = JitterBuffer()
    out = run(jb, stream([0.005] * 50), 52)
    assert out[0] == Missing(timestamp=None, reason=Gap.PRIMING)
    assert out[1] == Frame(seq=100, timestamp=TS0, payload=(0).to_bytes(4, "big"))
    assert played(out) == list(range(50))
    assert reasons(out) == [Gap.PRIMING, Gap.LOST]  # the tick after the stream stopped
    assert jb.stats.played == 50 and jb.stats.lost == 1 and jb.stats.stretched == 0
    assert jb.target_delay == pytest.approx(0.02)
    assert jb.playout_delay == pytest.approx(0.0273)
    assert accounted(jb)


def test_reordering_is_undone() -> None:
    jb = JitterBuffer(min_delay_ms=40)
    # Each even packet is overtaken by the next one.
    out = run(jb, stream([0.030 if i % 2 == 0 else 0.005 for i in range(60)]), 66)
    assert played(out) == list(range(60))
    assert jb.stats.late == 0 and jb.stats.lost == 1  # the tick after the end
    assert accounted(jb)


def test_lost_packet_is_reported_in_its_slot() -> None:
    jb = JitterBuffer()
    packets = [p for p in stream([0.005] * 20) if p[1] != 105]
    out = run(jb, packets, 20)
    assert played(out) == [0, 1, 2, 3, 4, *range(6, 19)]
    assert out[6] == Missing(timestamp=TS0 + 5 * 160, reason=Gap.LOST)
    assert jb.stats.lost == 1 and jb.stats.played == 18
    assert accounted(jb)


def test_duplicates_are_dropped_and_counted() -> None:
    jb = JitterBuffer()
    packets = [p for p in stream([0.005] * 20) for _ in range(2)]
    packets.append((0.3, 100, TS0, b"again"))  # a copy of packet 0 long after it played
    out = run(jb, packets, 21)
    assert played(out) == list(range(20))
    assert jb.stats.duplicates == 21 and jb.stats.played == 20
    assert accounted(jb)


def test_late_packet_is_dropped_and_counted() -> None:
    jb = JitterBuffer()
    delays = [0.005] * 20
    delays[5] = 0.3
    out = run(jb, stream(delays), 21)
    assert 5 not in played(out)
    assert out[6] == Missing(timestamp=TS0 + 5 * 160, reason=Gap.LOST)
    assert jb.stats.late == 1 and jb.stats.lost == 1
    # Its lateness raised the jitter estimate, so the buffer then stretched its delay.
    assert jb.stats.stretched == 1 and jb.target_delay > 0.02
    assert accounted(jb)


def test_timestamps_wrap_around() -> None:
    jb = JitterBuffer()
    ts0 = 2**32 - 160 * 5
    out = run(jb, stream([0.005] * 12, ts0=ts0), 12)
    frames = [o for o in out if isinstance(o, Frame)]
    assert [f.timestamp for f in frames] == [(ts0 + 160 * i) % 2**32 for i in range(11)]
    assert jb.stats.resyncs == 0 and jb.stats.lost == 0


def bursty(n: int, burst: int = 5) -> list[float]:
    """Delays such that packets are held and released together every ``burst`` packets."""
    return [(burst - 1 - i % burst) * STEP + 0.005 for i in range(n)]


def test_bursty_arrivals_adapt_then_play_cleanly() -> None:
    jb = JitterBuffer()
    out = run(jb, stream(bursty(250)), 250)
    assert jb.target_delay >= 0.08
    assert Gap.LOST not in reasons(out[100:])
    assert played(out) == sorted(played(out))
    assert jb.stats.late + jb.stats.lost < 10
    assert accounted(jb)


def test_clock_jump_resynchronises() -> None:
    jb = JitterBuffer()
    before = stream([0.005] * 30)
    after = stream([0.005] * 30, ts0=TS0 + 80_000, first=30)  # the sender's clock jumps 10 s
    out = run(jb, before + after, 64)
    assert jb.stats.resyncs == 1
    frames = [o for o in out if isinstance(o, Frame)]
    jumped = [f for f in frames if f.timestamp >= TS0 + 80_000]
    assert jumped and [f.timestamp for f in jumped] == sorted(f.timestamp for f in jumped)
    assert Gap.PRIMING in reasons(out[30:])
    assert jb.stats.overflow == 0 and jb.stats.late == 0
    assert played(out)[-1] == 59
    assert accounted(jb)


def test_backward_clock_jump_resynchronises() -> None:
    jb = JitterBuffer()
    after = stream([0.005] * 20, ts0=TS0 - 800_000, first=20)
    out = run(jb, stream([0.005] * 20) + after, 44)
    assert jb.stats.resyncs == 1 and jb.stats.late == 0
    assert played(out)[-1] == 39


def test_delay_grows_under_jitter_and_shrinks_back() -> None:
    rng = random.Random(3550)
    jb = JitterBuffer()
    # 2 s calm, 3 s of 0-100 ms jitter, 5 s calm again.
    delays = [0.005] * 100 + [0.005 + rng.uniform(0, 0.1) for _ in range(150)] + [0.005] * 250
    trace: list[tuple[float, float]] = []
    out = run(jb, stream(delays), 500, trace=trace)

    target, delay = trace[99]
    assert target == pytest.approx(0.02) and delay < 0.04
    target, delay = trace[249]
    assert target > 0.08 and delay > 0.06
    assert max(d for _, d in trace[100:250]) > 0.1
    target, delay = trace[-1]
    assert target < 0.03 and delay < 0.05
    assert jb.stats.stretched > 0 and jb.stats.shrunk > 0
    assert jb.stats.lost <= 2  # the late-packet bump adapts within a frame or two
    # The last second is clean: a frame every tick.
    assert all(isinstance(o, Frame) for o in out[-50:])
    assert played(out) == sorted(played(out))
    assert accounted(jb)


def test_memory_is_bounded_while_priming() -> None:
    jb = JitterBuffer()
    for arrival, seq, ts, payload in stream([0.0] * 30):
        jb.put(seq, ts, payload, 0.0 * arrival)  # a burst: everything at once
    assert len(jb) == jb.capacity == 11
    assert jb.stats.overflow == 19
    # An older packet arriving now would exceed the bound too.
    jb.put(99, TS0 - 160, b"old", 0.0)
    assert jb.stats.overflow == 20 and len(jb) == 11
    assert accounted(jb)


def test_memory_is_bounded_when_playout_stalls() -> None:
    jb = JitterBuffer()
    packets = stream([0.005] * 100)
    run(jb, packets[:10], 10)
    for arrival, seq, ts, payload in packets[10:60]:  # nobody calls get() for a second
        jb.put(seq, ts, payload, arrival)
    assert len(jb) <= jb.capacity
    assert jb.stats.overflow > 0
    out = run(jb, packets[60:], 45, first_tick=60)
    assert played(out) == sorted(played(out)) and played(out)[-1] == 99
    assert accounted(jb)


def test_reset_starts_a_new_stream() -> None:
    jb = JitterBuffer()
    run(jb, stream([0.005] * 10), 8)
    buffered = len(jb)
    jb.reset()
    assert jb.state is State.EMPTY and len(jb) == 0 and jb.stats.flushed == buffered
    assert jb.get(0.5) == Missing(timestamp=None, reason=Gap.PRIMING)
    other = [
        (a + 0.3, 7000 + i, 555 + 160 * i, b"x") for i, (a, *_) in enumerate(stream([0.005] * 10))
    ]
    out = run(jb, other, 14, first_tick=15)
    assert [o.timestamp for o in out if isinstance(o, Frame)] == [555 + 160 * i for i in range(10)]
    assert accounted(jb)


def test_random_loss_reorder_duplication_keeps_the_books() -> None:
    rng = random.Random(7)
    jb = JitterBuffer()
    delays = [0.005 + rng.expovariate(1 / 0.02) for _ in range(500)]
    packets = [p for p in stream(delays) if rng.random() > 0.05]
    packets += [p for p in packets if rng.random() < 0.05]
    packets.sort(key=lambda p: p[0])
    out = run(jb, packets, 520)
    assert played(out) == sorted(set(played(out)))
    assert len(jb) <= jb.capacity
    assert accounted(jb)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"frame_ms": 0},
        {"clock_rate": 11025, "frame_ms": 20},
        {"min_delay_ms": 300},
        {"max_delay_ms": 2000},
    ],
)
def test_bad_configuration(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        JitterBuffer(**kwargs)
