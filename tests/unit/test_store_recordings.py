"""Recording rows in the store, and migration 0002 up and down: SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tamas.store import (
    RecordingLayout,
    RecordingPause,
    RecordingRecord,
    RecordingStatus,
    Store,
    StoreError,
    migrate,
    open_store,
)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


def recording(rec_id: str = "c1-1", call_id: str = "c1", started_at: float = 1_000.0,
              **kw: object) -> RecordingRecord:  # fmt: skip
    fields: dict[str, object] = {
        "id": rec_id,
        "call_id": call_id,
        "path": f"recordings/2026/11/30/{rec_id}.wav",
        "layout": RecordingLayout.STEREO,
        "channels": 2,
        "rate": 8000,
        "started_at": started_at,
        "duration": 12.345,
    }
    fields.update(kw)
    return RecordingRecord(**fields)  # type: ignore[arg-type]


def test_add_and_get_round_trip_every_field(store: Store) -> None:
    full = recording(
        paused_spans=(RecordingPause(start=1.25, end=2.5), RecordingPause(start=7.0, end=7.125)),
        caller_packets=617,
        caller_late=3,
        agent_packets=600,
        agent_late=0,
    )
    store.recordings.add_recording(full)
    got = store.recordings.get_recording("c1-1")
    assert got == full
    assert got is not None
    assert got.layout is RecordingLayout.STEREO and got.status is RecordingStatus.OK
    assert isinstance(got.paused_spans, tuple)


def test_failed_mono_recording_keeps_its_error(store: Store) -> None:
    failed = recording(
        layout=RecordingLayout.MONO,
        channels=1,
        duration=0.0,
        status=RecordingStatus.FAILED,
        error="[Errno 28] No space left on device",
    )
    store.recordings.add_recording(failed)
    assert store.recordings.get_recording("c1-1") == failed


def test_missing_recording_is_none(store: Store) -> None:
    assert store.recordings.get_recording("nope") is None


def test_duplicate_id_is_a_store_error(store: Store) -> None:
    store.recordings.add_recording(recording())
    with pytest.raises(StoreError, match="already stored"):
        store.recordings.add_recording(recording(duration=1.0))


def test_list_by_call_and_time_range_newest_first(store: Store) -> None:
    rows = store.recordings
    rows.add_recording(recording("a-1", "a", 100.0))
    rows.add_recording(recording("a-2", "a", 300.0))
    rows.add_recording(recording("b-1", "b", 200.0))
    rows.add_recording(recording("b-2", "b", 400.0))

    def ids(**kw: object) -> list[str]:
        return [r.id for r in rows.list_recordings(**kw)]  # type: ignore[arg-type]

    assert ids() == ["b-2", "a-2", "b-1", "a-1"]
    assert ids(call_id="a") == ["a-2", "a-1"]
    assert ids(call_id="ghost") == []
    assert ids(since=200.0) == ["b-2", "a-2", "b-1"]  # since is inclusive
    assert ids(until=300.0) == ["b-1", "a-1"]  # until is exclusive
    assert ids(since=150.0, until=350.0) == ["a-2", "b-1"]
    assert ids(call_id="b", since=150.0, until=350.0) == ["b-1"]


def test_paging_walks_every_row_once_even_with_equal_start_times(store: Store) -> None:
    for i in range(7):
        store.recordings.add_recording(recording(f"r{i}", "c", started_at=100.0 + i // 3))
    pages = [
        [r.id for r in store.recordings.list_recordings(limit=3, offset=offset)]
        for offset in (0, 3, 6, 9)
    ]
    assert [len(p) for p in pages] == [3, 3, 1, 0]
    flat = [rid for page in pages for rid in page]
    assert sorted(flat) == [f"r{i}" for i in range(7)]
    assert flat[0] == "r6"  # newest first


@pytest.mark.parametrize("bad", [{"limit": 0}, {"limit": 501}, {"offset": -1}])
def test_bad_page_is_a_store_error(store: Store, bad: dict[str, int]) -> None:
    with pytest.raises(StoreError):
        store.recordings.list_recordings(**bad)  # type: ignore[arg-type]


def test_recordings_survive_a_restart(store_url: str) -> None:
    paused = recording(paused_spans=(RecordingPause(start=0.5, end=0.75),))
    with open_store(store_url) as first:
        first.recordings.add_recording(paused)
    with open_store(store_url) as second:
        assert second.recordings.list_recordings() == [paused]


def test_migration_0002_down_and_up_again(store: Store) -> None:
    store.recordings.add_recording(recording())
    inspector = sa.inspect(store.engine)
    assert {ix["name"] for ix in inspector.get_indexes("recordings")} == {
        "ix_recordings_call_id",
        "ix_recordings_started_at",
    }
    migrate.downgrade(store.engine, "0001")
    assert store.revision() == "0001"
    tables = set(sa.inspect(store.engine).get_table_names())
    assert "recordings" not in tables
    assert {"registrations", "calls", "bans"} <= tables  # 0001's tables are untouched
    migrate.upgrade(store.engine)
    assert store.revision() == migrate.head_revision()
    assert store.recordings.list_recordings() == []  # the table is back, empty
    store.recordings.add_recording(dataclasses.replace(recording(), duration=1.0))
    assert store.recordings.get_recording("c1-1") is not None


def test_migrations_down_to_base_leave_no_table(store: Store) -> None:
    migrate.downgrade(store.engine, "base")
    left = set(sa.inspect(store.engine).get_table_names()) - {"alembic_version"}
    assert left == set()
    assert store.revision() is None
