"""The simulator's virtual clock and random models."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from tamas.sim.clock import VirtualClock
from tamas.sim.models import (
    DAY,
    AgentSchedule,
    ArrivalProfile,
    Break,
    Constant,
    Exponential,
    LogNormal,
)


def test_clock_pops_in_time_order_and_fifo_on_ties() -> None:
    clock: VirtualClock[str] = VirtualClock()
    clock.at(5.0, "c")
    clock.at(1.0, "a")
    clock.at(5.0, "d")
    clock.after(2.0, "b")
    assert clock.next_time() == 1.0
    seen = []
    while len(clock):
        item = clock.pop()
        seen.append((clock.now, item))
    assert seen == [(1.0, "a"), (2.0, "b"), (5.0, "c"), (5.0, "d")]
    assert clock() == 5.0
    clock.at(3.0, "past")  # clamped: time never goes back
    assert clock.pop() == "past" and clock.now == 5.0
    assert clock.next_time() is None


@pytest.mark.parametrize("dist", [Exponential(mean=180.0), LogNormal(mean=180.0, cv=1.5)])
def test_sample_means(dist: Exponential | LogNormal) -> None:
    rng = random.Random(7)
    n = 200_000
    samples = [dist.sample(rng) for _ in range(n)]
    assert min(samples) >= 0
    # Standard error of the mean is cv * mean / sqrt(n) (0.4 s, 0.6 s); 5 sigma is 3 s.
    assert sum(samples) / n == pytest.approx(180.0, abs=3.0)
    assert Constant(value=4.0).sample(rng) == 4.0


def test_lognormal_spread() -> None:
    rng = random.Random(3)
    samples = [LogNormal(mean=100.0, cv=0.5).sample(rng) for _ in range(100_000)]
    mean = sum(samples) / len(samples)
    sd = math.sqrt(sum((s - mean) ** 2 for s in samples) / len(samples))
    assert sd / mean == pytest.approx(0.5, abs=0.02)


def count_arrivals(profile: ArrivalProfile, until: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    times = []
    t = profile.next_arrival(0.0, rng)
    while t is not None and t < until:
        times.append(t)
        t = profile.next_arrival(t, rng)
    return times


def test_constant_rate_poisson_counts() -> None:
    profile = ArrivalProfile.constant(per_hour=360.0)  # 0.1 per second
    times = count_arrivals(profile, 10 * DAY, seed=1)
    expected = 0.1 * 10 * DAY  # 86 400; Poisson sd 294, 5 sd = 1470
    assert abs(len(times) - expected) < 1470
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # Exponential gaps: the share longer than the mean is e^-1.
    assert sum(g > 10.0 for g in gaps) / len(gaps) == pytest.approx(math.exp(-1), abs=0.01)


def test_profile_follows_its_intervals() -> None:
    calls = [0.0] * 96
    calls[36:40] = [100.0, 200.0, 0.0, 50.0]  # 09:00-10:00
    profile = ArrivalProfile(calls=tuple(calls))
    assert profile.per_day == 350.0
    assert profile.rate_at(9 * 3600 + 901) == pytest.approx(200 / 900)
    times = count_arrivals(profile, 20 * DAY, seed=2)
    per_slot = [0] * 96
    for t in times:
        per_slot[int(t % DAY // 900)] += 1
    assert sum(per_slot) == len(times)
    assert per_slot[38] == 0 and sum(per_slot[:36]) == 0 and sum(per_slot[40:]) == 0
    for slot, mean in ((36, 2000), (37, 4000), (39, 1000)):
        assert abs(per_slot[slot] - mean) < 5 * math.sqrt(mean)
    assert ArrivalProfile(calls=(0.0, 0.0)).next_arrival(0.0, random.Random(1)) is None
    with pytest.raises(ValueError):
        ArrivalProfile(calls=())


def test_schedule_events_repeat_daily() -> None:
    schedule = AgentSchedule(
        start=8 * 3600,
        end=16 * 3600,
        breaks=(Break(start=12 * 3600, duration=1800, reason="lunch"),),
    )
    events = schedule.events(days=2)
    assert events[:4] == [
        (8 * 3600, "login", ""),
        (12 * 3600, "pause", "lunch"),
        (12 * 3600 + 1800, "unpause", "lunch"),
        (16 * 3600, "logoff", ""),
    ]
    assert events[4][0] == DAY + 8 * 3600 and len(events) == 8
    with pytest.raises(ValueError):
        AgentSchedule(start=8 * 3600, end=9 * 3600, breaks=(Break(start=10 * 3600, duration=60),))
    with pytest.raises(ValueError):
        AgentSchedule(start=9 * 3600, end=8 * 3600)
