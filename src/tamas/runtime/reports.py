"""Keeping the report aggregates current: a thread that follows the events table.

Theory of operation
-------------------
The event log's ingest thread stores records in the ``events`` table in seq order, one
transaction per batch. :class:`ReportMaintainer` follows that table from the seq stored in
``report_state``: it reads up to ``batch`` records after it, feeds them to the
:class:`~tamas.reporting.aggregator.Aggregator` and calls ``tamas.store.reports.apply``, which
adds the deltas and stores the new seq and the aggregator snapshot in one transaction. The
rows and the state therefore always agree, and nothing is lost or counted twice:

* a restart (or a crash) restores the snapshot and continues after the stored seq;
* any error (database down, a conflict with another writer or a rebuild) is logged, the
  in-memory state is dropped and reloaded from the database on the next try, after
  ``retry`` seconds; ``apply`` skips a batch already applied and refuses one that does not
  continue the stored seq.

*Day and hour tables, callers.* ``apply`` also adds to the center's 15-minute rows (the
queues' and the agents' rows summed over every queue or agent: no zone, always kept), to
the daily and hourly rollups (local
days and hours of ``zone``, the center's ``reports.timezone``) and writes only the caller
numbers that changed (``Aggregator.take_caller_changes``), not the whole list. When the
maintainer loads the state and those tables are not built (a database upgraded by migration
0007 or 0009) it rolls them up from the 15-minute rows first (``rollup_days``); when they
are in another zone (the configuration changed) it says so once: reports in ``zone`` read
the 15-minute rows, correct but slower, until ``rollup_days`` (``tamas report rebuild``)
moves them.

It wakes every ``poll`` seconds, or at once on :meth:`notify` (made to be the event log's
subscriber: ``event_log.subscribe(maintainer.notify)``). A notify usually comes before the
ingest thread has stored the batch, so after one the table is looked at again every
``NOTIFY_RECHECK`` seconds until the records are there or ``poll`` has passed.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Sequence

import sqlalchemy as sa

from tamas.core.events import LogRecord
from tamas.reporting.aggregator import Aggregator
from tamas.reporting.settings import ReportSettings
from tamas.store import events as store_events
from tamas.store import reports as store_reports

log = logging.getLogger("tamas.reports")

__all__ = ["ReportMaintainer"]

NOTIFY_RECHECK = 0.05


class ReportMaintainer:
    """Folds new events into the report aggregates in a thread. ``start()``, ``stop()``."""

    def __init__(
        self,
        engine: sa.Engine,
        settings: ReportSettings,
        *,
        poll: float = 1.0,
        batch: int = 5000,
        retry: float = 1.0,
        zone: str = "UTC",
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.zone = zone
        self.poll = poll
        self.batch = batch
        self.retry = retry
        self._aggregator: Aggregator | None = None
        self._seq = 0
        self._applied = threading.Condition()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0  # failed steps since start (each logged)
        self._zone_warned = False

    @property
    def last_seq(self) -> int:
        """The seq of the last event in the aggregates (as far as this maintainer knows)."""
        with self._applied:
            return self._seq

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the report maintainer is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="tamas-reports", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the step in progress (what it applied stays applied)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def notify(self, records: Sequence[LogRecord] = ()) -> None:
        """New records were appended (an event log subscriber): look for them now."""
        self._wake.set()

    def wait_for(self, seq: int, timeout: float | None = None) -> bool:
        """Wait until the aggregates include every event up to ``seq``; False on timeout."""
        with self._applied:
            return self._applied.wait_for(lambda: self._seq >= seq, timeout)

    def step(self) -> int:
        """Fold and apply the next batch now (in the caller's thread); returns its size.

        Raises what the database raises; the in-memory state is then dropped and the next
        step reloads it from the database.
        """
        try:
            if self._aggregator is None:
                self._check_days()
                seq, snapshot = store_reports.load_state(self.engine)
                callers = store_reports.load_callers(self.engine)
                self._aggregator = Aggregator.restore(self.settings, snapshot, callers)
                self._set_seq(seq)
            records = list(
                itertools.islice(
                    store_events.iterate(self.engine, after_seq=self._seq, batch=self.batch),
                    self.batch,
                )
            )
            if not records:
                return 0
            aggregator = self._aggregator
            deltas = aggregator.feed(records)
            last = records[-1].seq
            applied = store_reports.apply(
                self.engine,
                deltas,
                last,
                aggregator.snapshot(include_callers=False),
                expect_seq=self._seq,
                zone=self.zone,
                callers=aggregator.take_caller_changes(),
            )
        except BaseException:
            self._aggregator = None
            raise
        if not applied:  # another writer was there first: continue from what it stored
            self._aggregator = None
            return len(records)
        self._set_seq(last)
        return len(records)

    def _check_days(self) -> None:
        """Roll up day tables never built; say so once when they are in another zone."""
        if store_reports.days_ready(self.engine, self.zone):
            return
        stored = store_reports.day_zone(self.engine)
        if stored is None:
            days = store_reports.rollup_days(self.engine, self.zone)
            log.info("report day and hour tables built from the 15-minute rows: %d day(s) in %s",
                     days, self.zone)  # fmt: skip
        elif not self._zone_warned:
            self._zone_warned = True
            log.warning("report day tables are in %s, reports.timezone is %s: reports read "
                        "the 15-minute rows (slower) until `tamas report rebuild` moves them",
                        stored, self.zone)  # fmt: skip

    def _set_seq(self, seq: int) -> None:
        with self._applied:
            self._seq = seq
            self._applied.notify_all()

    def _run(self) -> None:
        recheck_until = 0.0
        waited = 0.0
        while not self._stop.is_set():
            try:
                done = self.step()
            except Exception as exc:
                self.errors += 1
                log.error("report aggregates: %s: %s (retrying in %.1f s)",
                          type(exc).__name__, exc, self.retry)  # fmt: skip
                self._stop.wait(self.retry)
                continue
            if done:
                recheck_until = waited = 0.0
                continue  # there may be more
            if recheck_until > 0 and waited < recheck_until:
                self._stop.wait(NOTIFY_RECHECK)
                waited += NOTIFY_RECHECK
                continue
            recheck_until = waited = 0.0
            if self._wake.wait(self.poll):
                self._wake.clear()
                recheck_until = self.poll
