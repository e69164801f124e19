"""The collector policy freezes the survivors on its own clock."""

from __future__ import annotations

import asyncio
import gc

from tamas.runtime.gcpolicy import FREEZE_EVERY, GcPolicy


def test_survivors_are_frozen_every_tick() -> None:
    # Frozen objects leave the collector's generations: gc.get_objects() no longer lists
    # them. (Counting gc.get_freeze_count() before and after was flaky: frozen objects that
    # die meanwhile lower the count, and it once rose by 999 for the 1,000 made here.)
    async def run() -> tuple[int, int]:
        policy = GcPolicy(freeze_every=0.01, full_every=3600.0)
        policy.start()
        try:
            kept = [[i] for i in range(1000)]  # survivors made after the first freeze
            made = {id(item) for item in kept}
            tracked_before = len(made & {id(o) for o in gc.get_objects()})
            await asyncio.sleep(0.05)
            tracked_after = len(made & {id(o) for o in gc.get_objects()})
            return tracked_before, tracked_after
        finally:
            policy.stop()
            gc.unfreeze()

    tracked_before, tracked_after = asyncio.run(run())
    assert tracked_before == 1000  # young when made: the policy had not frozen them yet
    assert tracked_after == 0  # a tick later, every one of them is frozen


def test_the_default_tick_is_a_tenth_of_a_second() -> None:
    assert FREEZE_EVERY == 0.1
    assert GcPolicy().freeze_every == FREEZE_EVERY


def test_a_full_collection_waits_until_the_server_is_quiet() -> None:
    """Due at every tick here (full_every=0), the full collection is deferred while many
    objects beyond the start-up ones are alive, and runs once they are gone: then it also
    reclaims a reference cycle that had been frozen."""

    class Node:
        def __init__(self) -> None:
            self.me = self

    full: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            full.append(info["collected"])

    async def run() -> tuple[list[int], list[int]]:
        policy = GcPolicy(freeze_every=0.01, full_every=0.0, busy_objects=5_000)
        policy.start()
        gc.callbacks.append(seen)
        try:
            live = [[i] for i in range(20_000)]  # a busy server's transactions
            Node()  # cyclic garbage, frozen with them
            await asyncio.sleep(0.1)
            while_busy = list(full)
            del live
            await asyncio.sleep(0.1)
            return while_busy, list(full)
        finally:
            gc.callbacks.remove(seen)
            policy.stop()
            gc.unfreeze()

    while_busy, after = asyncio.run(run())
    assert while_busy == []
    assert after and max(after) >= 1  # the Node cycle (and its __dict__) was found
