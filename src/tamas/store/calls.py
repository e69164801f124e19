"""Call records (one row per call, what a CDR holds)."""

from __future__ import annotations

import dataclasses
from typing import Unpack

import sqlalchemy as sa

from tamas.store.errors import StoreError
from tamas.store.records import CallDirection, CallRecord, CallUpdate
from tamas.store.tables import calls

_FIELDS = tuple(f.name for f in dataclasses.fields(CallRecord))
_COLUMNS = [calls.c[name] for name in _FIELDS]


def _row(record: CallRecord) -> dict[str, object]:
    """The column values of ``record`` (its fields are plain values: no dataclasses.asdict,
    which deep-copies each one and cost ~10x as much, once per call in the store thread)."""
    values: dict[str, object] = {name: getattr(record, name) for name in _FIELDS}
    values["direction"] = record.direction.value
    return values


class Calls:
    """Insert a call when it starts, update it as it is answered and ends."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def insert_call(self, record: CallRecord) -> None:
        """Store a new call; StoreError if its call id is already stored."""
        values = dataclasses.asdict(record)
        values["direction"] = record.direction.value
        try:
            with self._engine.begin() as conn:
                conn.execute(sa.insert(calls).values(values))
        except sa.exc.IntegrityError:
            raise StoreError(f"call {record.call_id} is already recorded") from None

    def insert_calls(self, records: list[CallRecord]) -> None:
        """Store many finished calls in one transaction (the runtime batches its CDRs)."""
        if not records:
            return
        rows = [_row(record) for record in records]
        with self._engine.begin() as conn:
            conn.execute(sa.insert(calls), rows)

    def update_call(self, call_id: str, **fields: Unpack[CallUpdate]) -> None:
        """Change some fields of a stored call; StoreError if there is no such call."""
        unknown = set(fields) - set(CallUpdate.__annotations__)
        if unknown:
            raise StoreError(f"cannot update call field(s): {', '.join(sorted(unknown))}")
        if not fields:
            return
        with self._engine.begin() as conn:
            result = conn.execute(
                sa.update(calls).where(calls.c.call_id == call_id).values(dict(fields))
            )
        if result.rowcount == 0:
            raise StoreError(f"no call {call_id} to update")

    def get_call(self, call_id: str) -> CallRecord | None:
        with self._engine.connect() as conn:
            row = (
                conn.execute(sa.select(*_COLUMNS).where(calls.c.call_id == call_id))
                .mappings()
                .first()
            )
        return None if row is None else _record(row)

    def recent_calls(self, limit: int = 50) -> list[CallRecord]:
        """The latest ``limit`` calls, newest first."""
        query = (
            sa.select(*_COLUMNS).order_by(calls.c.started_at.desc(), calls.c.call_id).limit(limit)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_record(row) for row in rows]


def _record(row: sa.RowMapping) -> CallRecord:
    values = dict(row)
    values["direction"] = CallDirection(values["direction"])
    return CallRecord(**values)
