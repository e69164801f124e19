"""The events and cdrs tables: idempotent append, queries, CDR round trip, migration 0003."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tamas.core.events import LogRecord
from tamas.reporting.cdr import CallResult, Cdr, CdrLeg
from tamas.store import Store, migrate, open_store
from tamas.store import events as ev


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


def rec(
    seq: int,
    at: float,
    call_id: str = "c1",
    event: str = "ENTERQUEUE",
    queue: str = "sales",
    agent: str = "NONE",
    data: tuple[str, ...] = (),
) -> LogRecord:
    return LogRecord(
        seq=seq, at=at, call_id=call_id, queue=queue, agent=agent, event=event, data=data
    )


def test_append_many_round_trips_every_field_and_ignores_a_seq_stored_again(store: Store) -> None:
    first = [
        rec(1, 100.25, data=("", "0912 345 6789", "1")),
        rec(2, 101.5, event="CONNECT", agent="a7", data=("1", "c1.2", "3")),
    ]
    ev.append_many(store.engine, first)
    again = [rec(2, 999.0, event="CHANGED"), rec(3, 102.0, event="COMPLETECALLER")]
    ev.append_many(store.engine, again)
    got = ev.by_call(store.engine, "c1")
    assert got == [*first, again[1]]
    assert ev.max_seq(store.engine) == 3


def test_unnumbered_records_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="seq > 0"):
        ev.append_many(store.engine, [rec(0, 1.0)])


def test_max_seq_of_an_empty_log_is_zero(store: Store) -> None:
    assert ev.max_seq(store.engine) == 0


def test_by_call_and_in_range_filter_and_order_by_seq(store: Store) -> None:
    rows = [
        rec(5, 10.0, call_id="a", queue="sales"),
        rec(2, 12.0, call_id="b", queue="support"),
        rec(9, 11.0, call_id="a", queue="sales", agent="x", event="CONNECT"),
        rec(7, 20.0, call_id="c", queue="sales", agent="x", event="CONNECT"),
    ]
    ev.append_many(store.engine, rows)
    assert [r.seq for r in ev.by_call(store.engine, "a")] == [5, 9]
    assert [r.seq for r in ev.in_range(store.engine, 10.0, 20.0)] == [2, 5, 9]
    assert [r.seq for r in ev.in_range(store.engine, 0, 100, queue="sales")] == [5, 7, 9]
    assert [r.seq for r in ev.in_range(store.engine, 0, 100, agent="x")] == [7, 9]
    assert [r.seq for r in ev.in_range(store.engine, 0, 15, queue="sales", agent="x")] == [9]


def test_iterate_pages_through_everything_in_order(store: Store) -> None:
    ev.append_many(store.engine, [rec(s, float(s)) for s in range(1, 24)])
    assert [r.seq for r in ev.iterate(store.engine, batch=5)] == list(range(1, 24))
    assert [r.seq for r in ev.iterate(store.engine, after_seq=20, batch=2)] == [21, 22, 23]
    assert [r.seq for r in ev.iterate(store.engine, start=3.0, end=7.0, batch=2)] == [3, 4, 5, 6]


def cdr(call_id: str = "c1", start: float = 50.0, **kw: object) -> Cdr:
    fields: dict[str, object] = dict(
        call_id=call_id,
        start=start,
        answer=start + 10.5,
        end=start + 70.0,
        caller="0912",
        callee="100",
        direction="inbound",
        trunk="carrier",
        result=CallResult.ANSWERED,
        cause="normal",
        queues=("sales",),
        agents=("a1", "a2"),
        legs=(
            CdrLeg(
                leg="c1-a",
                party="0912",
                start=start,
                answer=start + 1.0,
                end=start + 70.0,
                cause="normal",
            ),
            CdrLeg(leg="c1-b", party="a1", start=start + 8.0),
        ),
        recordings=("r1",),
        wait_seconds=10.5,
        queue_seconds=8.0,
        talk_seconds=49.5,
        hold_seconds=10.0,
    )
    fields.update(kw)
    return Cdr(**fields)  # type: ignore[arg-type]


def test_cdrs_round_trip_and_are_replaced_when_written_again(store: Store) -> None:
    one = cdr()
    ev.put_cdrs(
        store.engine, [one, cdr("c2", start=80.0, answer=None, result=CallResult.ABANDONED)]
    )
    assert ev.get_cdr(store.engine, "c1") == one
    changed = cdr(result=CallResult.MISSED, answer=None, agents=())
    ev.put_cdrs(store.engine, [changed])
    assert ev.get_cdr(store.engine, "c1") == changed
    assert ev.get_cdr(store.engine, "nope") is None
    assert [c.call_id for c in ev.cdrs_in_range(store.engine, 0.0, 100.0)] == ["c1", "c2"]
    assert [c.call_id for c in ev.cdrs_in_range(store.engine, 60.0, 100.0)] == ["c2"]


def test_migration_0003_down_and_up_again(store: Store) -> None:
    ev.append_many(store.engine, [rec(1, 1.0)])
    migrate.downgrade(store.engine, "0002")
    assert store.revision() == "0002"
    names = sa.inspect(store.engine).get_table_names()
    assert "events" not in names and "cdrs" not in names
    migrate.upgrade(store.engine)
    assert store.revision() == migrate.head_revision()
    assert ev.max_seq(store.engine) == 0
    indexes = {ix["name"] for ix in sa.inspect(store.engine).get_indexes("events")}
    assert indexes >= {
        "ix_events_at",
        "ix_events_call_id",
        "ix_events_queue_at",
        "ix_events_agent_at",
    }
