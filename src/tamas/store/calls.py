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


#: The columns of a row as ``_values`` lists them (the table's order; a test checks it).
_ROW_COLUMNS = ("call_id", "caller", "callee", "direction", "trunk", "started_at",
                "answered_at", "ended_at", "cause", "status")  # fmt: skip


def _values(record: CallRecord) -> tuple[object, ...]:
    """The column values of ``record``, in ``_ROW_COLUMNS`` order (its fields are plain
    values: no dataclasses.asdict, which deep-copies each one, once per call in the store
    thread)."""
    return (record.call_id, record.caller, record.callee, record.direction.value, record.trunk,
            record.started_at, record.answered_at, record.ended_at, record.cause,
            record.status)  # fmt: skip


def _insert_many_sql(dialect: sa.Dialect) -> tuple[str, tuple[str, ...] | None]:
    """The INSERT of one call row in ``dialect``'s own SQL and parameter style, and the
    order of its positional parameters (None: the style is named, the rows are dicts)."""
    compiled = sa.insert(calls).compile(dialect=dialect)
    order = compiled.positiontup
    return str(compiled), None if not compiled.positional or order is None else tuple(order)


class Calls:
    """Insert a call when it starts, update it as it is answered and ends."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._insert_many, self._insert_order = _insert_many_sql(engine.dialect)

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
        """Store many finished calls in one transaction (the runtime batches its CDRs).

        One ``executemany`` of the INSERT compiled once (``__init__``) with plain tuples (or,
        for a driver with named parameters, dicts): about half the CPU per row of
        ``execute(insert(calls), dicts)``, which compiled and processed each batch anew (no
        column here needs a bind processor: text, numbers and NULL go to the driver as is).
        """
        if not records:
            return
        rows: list[tuple[object, ...]] | list[dict[str, object]]
        order = self._insert_order
        if order is None:
            rows = [dict(zip(_ROW_COLUMNS, _values(record), strict=True)) for record in records]
        elif order == _ROW_COLUMNS:
            rows = [_values(record) for record in records]
        else:
            index = [_ROW_COLUMNS.index(name) for name in order]
            rows = [tuple(v[i] for i in index) for v in map(_values, records)]
        with self._engine.begin() as conn:
            conn.exec_driver_sql(self._insert_many, rows)

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
