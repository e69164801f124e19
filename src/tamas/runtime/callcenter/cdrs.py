"""One CDR per call, built from the call's event log records when its CALLEND is logged.

A subscriber of the event log keeps each call's records in memory until its CALLEND, then
folds them into a :class:`~tamas.reporting.cdr.Cdr` (:func:`tamas.reporting.cdr.build_cdr`)
written by the store writer thread. A call that was in progress when Tamas restarted has
only part of its records here; its CDR is then built from the database instead.

Some facts arrive after the call's end (a voicemail is stored once the caller has hung up;
a callback is completed on another call): the records of the last :data:`KEEP_ENDED` ended
calls are kept, and a late record rewrites the call's CDR.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from functools import partial

from tamas.core.events import NONE, LogRecord
from tamas.reporting.cdr import Cdr, build_cdr
from tamas.runtime.storewriter import StoreWriter
from tamas.store import Store
from tamas.store import events as store_events

__all__ = ["KEEP_ENDED", "CdrWriter"]

#: Ended calls whose records are kept for late facts.
KEEP_ENDED = 2000


class CdrWriter:
    def __init__(self, writer: StoreWriter) -> None:
        self.writer = writer
        self.calls: dict[str, list[LogRecord]] = {}
        self.ended: OrderedDict[str, list[LogRecord]] = OrderedDict()

    def on_batch(self, batch: Sequence[LogRecord]) -> None:
        for record in batch:
            if record.call_id in ("", NONE):
                continue
            late = self.ended.get(record.call_id)
            if late is not None:
                late.append(record)
                if late[0].event == "CALLSTART":
                    self.writer.submit(partial(_put, cdr=build_cdr(late)))
                continue
            records = self.calls.setdefault(record.call_id, [])
            records.append(record)
            if record.event == "CALLEND":
                del self.calls[record.call_id]
                self.ended[record.call_id] = records
                if len(self.ended) > KEEP_ENDED:
                    self.ended.popitem(last=False)
                if records[0].event == "CALLSTART":
                    self.writer.submit(partial(_put, cdr=build_cdr(records)))
                else:
                    self.writer.submit(partial(_from_store, call_id=record.call_id))


def _put(store: Store, *, cdr: Cdr) -> None:
    store_events.put_cdrs(store.engine, [cdr])


def _from_store(store: Store, *, call_id: str) -> None:
    records = store_events.by_call(store.engine, call_id)
    if records:
        store_events.put_cdrs(store.engine, [build_cdr(records)])
