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
