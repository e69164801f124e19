"""The collector policy freezes the survivors on its own clock."""

from __future__ import annotations

import asyncio
import gc

from tamas.runtime.gcpolicy import FREEZE_EVERY, GcPolicy


def test_survivors_are_frozen_every_tick() -> None:
    async def run() -> tuple[int, int, int]:
        policy = GcPolicy(freeze_every=0.01, full_every=3600.0)
        policy.start()
        try:
            at_start = gc.get_freeze_count()
            kept = [[i] for i in range(1000)]  # survivors made after the first freeze
            await asyncio.sleep(0.05)
            return at_start, gc.get_freeze_count(), len(kept)
        finally:
            policy.stop()
            gc.unfreeze()

    at_start, later, made = asyncio.run(run())
    assert later >= at_start + made


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
