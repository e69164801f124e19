"""Database writes off the event loop: a single writer thread applying jobs in order.

The SIP hot path only enqueues; the thread runs each job against the store and logs (never
raises) a failure. Call records, the one write every call makes, are batched: whatever has
queued up while the previous batch was written goes in one transaction, so the cost per call
falls as the call rate rises. ``close()`` drains the queue, so a clean stop loses nothing.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from functools import partial

from tamas.store import Store
from tamas.store.records import CallRecord

log = logging.getLogger("tamas.store")

Job = Callable[[Store], object]
BATCH_SECONDS = 0.2


class StoreWriter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._q: queue.SimpleQueue[Job | CallRecord | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="tamas-store", daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> None:
        self._q.put(job)

    def record_call(self, record: CallRecord) -> None:
        self._q.put(record)

    def _run(self) -> None:
        running = True
        while running:
            items = [self._q.get()]
            # Let a batch build up for a moment: one transaction per BATCH_SECONDS at most,
            # instead of one per call when the writer keeps up with a low rate.
            time.sleep(BATCH_SECONDS)
            while True:  # take whatever else is waiting
                try:
                    items.append(self._q.get_nowait())
                except queue.Empty:
                    break
            records: list[CallRecord] = []
            for item in items:
                if item is None:
                    running = False
                elif isinstance(item, CallRecord):
                    records.append(item)
                else:
                    self._apply(item)
            if records:
                self._apply(partial(_insert_calls, records))

    def _apply(self, job: Job) -> None:
        try:
            job(self.store)
        except Exception as e:
            log.error("store write failed: %s: %s", type(e).__name__, e)

    def close(self) -> None:
        """Write everything queued, then stop the thread."""
        self._q.put(None)
        self._thread.join(timeout=30)


def _insert_calls(records: list[CallRecord], store: Store) -> None:
    store.calls.insert_calls(records)
