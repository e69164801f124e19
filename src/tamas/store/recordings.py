"""Recordings of calls: one row per finished recording, written once when it stops."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa

from tamas.store.errors import StoreError
from tamas.store.records import (
    RecordingLayout,
    RecordingPause,
    RecordingRecord,
    RecordingStatus,
)
from tamas.store.tables import recordings

_COLUMNS = [recordings.c[f.name] for f in dataclasses.fields(RecordingRecord)]

#: The most rows one :meth:`Recordings.list_recordings` call returns.
MAX_PAGE = 500


class Recordings:
    """Add a recording when its file is complete; look recordings up by id, call or time."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def add_recording(self, record: RecordingRecord) -> None:
        """Store a finished recording; StoreError if its id is already stored."""
        try:
            with self._engine.begin() as conn:
                conn.execute(sa.insert(recordings).values(_values(record)))
        except sa.exc.IntegrityError:
            raise StoreError(f"recording {record.id} is already stored") from None

    def get_recording(self, recording_id: str) -> RecordingRecord | None:
        query = sa.select(*_COLUMNS).where(recordings.c.id == recording_id)
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else _record(row)

    def list_recordings(
        self,
        *,
        call_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[RecordingRecord]:
        """Recordings newest first, optionally of one call and/or started in
        ``[since, until)`` (epoch seconds); a page of at most ``limit`` rows after ``offset``."""
        if not 0 < limit <= MAX_PAGE:
            raise StoreError(f"limit must be 1-{MAX_PAGE}, not {limit}")
        if offset < 0:
            raise StoreError(f"offset must not be negative, not {offset}")
        query = sa.select(*_COLUMNS)
        if call_id is not None:
            query = query.where(recordings.c.call_id == call_id)
        if since is not None:
            query = query.where(recordings.c.started_at >= since)
        if until is not None:
            query = query.where(recordings.c.started_at < until)
        query = (
            query.order_by(recordings.c.started_at.desc(), recordings.c.id)
            .limit(limit)
            .offset(offset)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_record(row) for row in rows]


def _values(record: RecordingRecord) -> dict[str, Any]:
    values = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    values["layout"] = record.layout.value
    values["status"] = record.status.value
    values["paused_spans"] = [[span.start, span.end] for span in record.paused_spans]
    return values


def _record(row: sa.RowMapping) -> RecordingRecord:
    values = dict(row)
    values["layout"] = RecordingLayout(values["layout"])
    values["status"] = RecordingStatus(values["status"])
    values["paused_spans"] = tuple(
        RecordingPause(start=float(start), end=float(end)) for start, end in values["paused_spans"]
    )
    return RecordingRecord(**values)
