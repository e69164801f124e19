"""Keep Python's cyclic garbage collector from pausing the SIP path.

Per RFC 3261 a transaction lives up to 64*T1 = 32 s after its call has moved on, so a server
at a few hundred calls per second holds a few hundred thousand live objects. A full
(generation 2) collection walks all of them: measured here, 1.7 s for 50,000 transactions,
during which no SIP message is handled. Reference counting frees almost all of Tamas's
garbage anyway; the collector is only needed for reference cycles, and the call and
transaction objects break theirs when they end.

So: every ``freeze_every`` seconds (:data:`FREEZE_EVERY`), the objects that survived are
moved out of the collector's sight (``gc.freeze()``, which costs a list merge), and the young
generations are collected as usual, though less often than Python's default
(:data:`YOUNG_THRESHOLD`). Cyclic garbage from objects that were frozen is reclaimed by a
full collection every ``full_every`` seconds (10 minutes by default), which logs what it
found: a growing figure there means a reference cycle to break.

A full collection walks every live object: measured with benchmarks/b2bua_inmemory.py, 2.9 s
with 62,000 live transactions (5.3 million objects, ~0.55 us each), a pause of the SIP path
that a busy server cannot take. It therefore waits for a quiet moment: it runs only while at
most ``busy_objects`` (:data:`BUSY_OBJECTS`) more objects are frozen than after start-up, i.e.
when the calls of a busy hour have ended, so that it never walks much more than the start-up
objects. A server that is never that quiet defers it, and logs so once per ``full_every``.

Why a tenth of a second: with a freeze every second, the young generation between two
freezes held up to a second of a busy server's live objects (its transactions), and the
young collections walked them over and over. Logged with ``gc.callbacks`` on the server at
1,200 calls per second (benchmarks/sip_cps.py): a young collection every ~0.17 s, 15-25 ms
each (~10 % of the CPU, and each one a pause of the SIP path), and every one of them found
nothing to collect. Frozen every 0.1 s, the young generation stays small.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

log = logging.getLogger("tamas.gc")

#: Allocations (net of frees) between two young collections. With 10,000 a young collection
#: ran every ~40 calls and cost ~2.5 ms of CPU each (3 % of a call's CPU, measured with
#: benchmarks/b2bua_inmemory.py and gc.callbacks); with 50,000 it runs every ~200 calls and
#: cost ~0.2 ms each: the objects of the calls in between are mostly freed by then.
YOUNG_THRESHOLD = 50_000
#: Seconds between two freezes of the survivors (see the module docstring).
FREEZE_EVERY = 0.1
#: A full collection that is due waits while more objects than this are frozen beyond the
#: start-up ones (~85 per live transaction: about a hundred calls within their last 32 s).
#: Walking them adds ~30 ms to the start-up objects' (b2bua_inmemory.py's stack: 113,000
#: objects, 26 ms).
BUSY_OBJECTS = 50_000


class GcPolicy:
    def __init__(
        self,
        *,
        freeze_every: float = FREEZE_EVERY,
        full_every: float = 600.0,
        busy_objects: int = BUSY_OBJECTS,
    ) -> None:
        self.freeze_every = freeze_every
        self.full_every = full_every
        self.busy_objects = busy_objects
        self._handle: asyncio.TimerHandle | None = None
        self._last_full = 0.0
        self._quiet_level = 0  # objects frozen after start-up
        self._deferred_since: float | None = None

    def start(self) -> None:
        gc.collect()
        gc.freeze()
        gc.set_threshold(YOUNG_THRESHOLD, 10, 10)
        self._last_full = time.monotonic()
        self._quiet_level = gc.get_freeze_count()
        self._schedule()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _schedule(self) -> None:
        self._handle = asyncio.get_running_loop().call_later(self.freeze_every, self._tick)

    def _tick(self) -> None:
        gc.freeze()
        now = time.monotonic()
        if now - self._last_full >= self.full_every:
            busy = gc.get_freeze_count() - self._quiet_level
            if busy <= self.busy_objects:
                self._full_collection(now)
            elif self._deferred_since is None or now - self._deferred_since >= self.full_every:
                self._deferred_since = now
                log.info("full collection deferred: %d objects more than when quiet", busy)
        self._schedule()

    def _full_collection(self, now: float) -> None:
        self._last_full = now
        self._deferred_since = None
        gc.unfreeze()
        started = time.perf_counter()
        found = gc.collect()
        log.debug("full collection: %d unreachable objects in %.0f ms", found,
                  (time.perf_counter() - started) * 1e3)  # fmt: skip
        gc.freeze()
