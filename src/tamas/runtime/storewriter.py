"""Database writes off the event loop: a single writer thread applying jobs in order.

The SIP hot path only enqueues a small closure; the thread runs each against the store and
logs (never raises) a failure. ``close()`` drains the queue, so a clean stop loses nothing.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from tamas.store import Store

log = logging.getLogger("tamas.store")

Job = Callable[[Store], object]


class StoreWriter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._q: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="tamas-store", daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> None:
        self._q.put(job)

    def _run(self) -> None:
        while (job := self._q.get()) is not None:
            try:
                job(self.store)
            except Exception as e:
                log.error("store write failed: %s: %s", type(e).__name__, e)

    def close(self) -> None:
        self._q.put(None)
        self._thread.join(timeout=30)
