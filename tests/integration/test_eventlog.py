"""The event log: journal append and replay, restart, torn tail, segments, subscribers."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tamas.core.events import LogRecord
from tamas.runtime.eventlog import (
    EventLog,
    EventLogError,
    FsyncPolicy,
    decode_line,
    encode_record,
    read_journal,
)
from tamas.store import Store, open_store
from tamas.store import events as store_events


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


def records(n: int, call: str = "c", start: float = 1_700_000_000.0) -> list[LogRecord]:
    return [
        LogRecord(
            at=start + i * 0.5,
            call_id=f"{call}{i % 3}",
            queue="sales",
            event="ENTERQUEUE",
            data=("", f"caller {i}", str(i)),
        )
        for i in range(n)
    ]


def journal_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("journal-*.jsonl"))


def test_a_record_survives_the_journal_line_unchanged() -> None:
    original = LogRecord(
        seq=7,
        at=1_700_000_000.123456,
        call_id="c|1",
        queue="q",
        agent="a",
        event="CONNECT",
        data=("1", "", "ünï"),
    )
    assert decode_line(encode_record(original)) == original
    for bad in ["", "[1,2]", '[0,1.0,"c","q","a","E",[]]', '[1,1.0,"c","q","a",5,[]]', "{"]:
        with pytest.raises(ValueError):
            decode_line(bad)


@pytest.mark.parametrize("policy", list(FsyncPolicy))
def test_append_numbers_writes_then_replay_gives_everything_in_order(
    store: Store, tmp_path: Path, policy: FsyncPolicy
) -> None:
    elog = EventLog.open(tmp_path / "events", store, fsync=policy)
    first = elog.append(records(3))
    second = elog.append(records(2, call="d"))
    assert [r.seq for r in first + second] == [1, 2, 3, 4, 5]
    assert [(r.at, r.call_id, r.data) for r in first] == [
        (r.at, r.call_id, r.data) for r in records(3)
    ]
    lines = journal_files(tmp_path / "events")[0].read_text().splitlines()
    assert [decode_line(line) for line in lines] == first + second
    assert list(elog.replay()) == first + second
    assert [r.seq for r in elog.replay(after_seq=3)] == [4, 5]
    elog.close()
    assert store_events.max_seq(store.engine) == 5


def test_seq_continues_after_a_restart(store: Store, tmp_path: Path) -> None:
    elog = EventLog.open(tmp_path / "events", store)
    elog.append(records(4))
    elog.close()
    again = EventLog.open(tmp_path / "events", store)
    assert again.last_seq == 4
    assert [r.seq for r in again.append(records(2))] == [5, 6]
    again.close()
    assert [r.seq for r in store_events.iterate(store.engine)] == [1, 2, 3, 4, 5, 6]


def test_records_only_in_the_journal_are_stored_before_open_returns(
    store: Store, tmp_path: Path
) -> None:
    directory = tmp_path / "events"
    directory.mkdir()
    written = [LogRecord(seq=i, at=float(i), call_id="x", event="E") for i in range(1, 8)]
    store_events.append_many(store.engine, written[:3])  # the ingest had got this far
    (directory / "journal-000001.jsonl").write_text(
        "".join(encode_record(r) + "\n" for r in written)
    )
    elog = EventLog.open(directory, store)
    # No flush: recovery is done by open itself.
    assert [r.seq for r in store_events.iterate(store.engine)] == list(range(1, 8))
    assert elog.append(records(1))[0].seq == 8
    elog.close()


@pytest.mark.parametrize(
    "tail", [b'[8,8.0,"x","NONE","NONE","E",["ha', b"\x00\x00\x00\x00\x00\x00\n", b"garbage\n"]
)
def test_a_torn_or_unreadable_tail_is_logged_and_truncated(
    store: Store, tmp_path: Path, tail: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "events"
    directory.mkdir()
    path = directory / "journal-000001.jsonl"
    good = "".join(
        encode_record(LogRecord(seq=i, at=float(i), call_id="x", event="E")) + "\n"
        for i in range(1, 8)
    ).encode()
    path.write_bytes(good + tail)
    with caplog.at_level(logging.WARNING, logger="tamas.eventlog"):
        elog = EventLog.open(directory, store)
    assert path.read_bytes() == good
    assert any(
        str(path) in m and f"at byte {len(good)}" in m and f"{len(tail)} byte(s)" in m
        for m in caplog.messages
    )
    assert elog.append(records(1))[0].seq == 8
    elog.close()
    assert [r.seq for r in store_events.iterate(store.engine)] == list(range(1, 9))
    assert [decode_line(x).seq for x in path.read_bytes().splitlines()] == list(range(1, 9))


def test_segments_roll_and_stored_ones_are_deleted(store: Store, tmp_path: Path) -> None:
    directory = tmp_path / "events"
    elog = EventLog.open(directory, store, segment_bytes=900)
    for _ in range(20):
        elog.append(records(5))
    assert elog.flush(timeout=30)
    elog.close()  # deletion happens in the ingest thread after each stored batch
    left = journal_files(directory)
    assert left and len(left) <= 2
    assert left[-1].name >= "journal-000005.jsonl"
    assert [r.seq for r in store_events.iterate(store.engine)] == list(range(1, 101))
    again = EventLog.open(directory, store, segment_bytes=900)
    assert again.append(records(1))[0].seq == 101
    again.close()


def test_keep_segments_keeps_every_record_in_the_journal(store: Store, tmp_path: Path) -> None:
    directory = tmp_path / "events"
    elog = EventLog.open(directory, store, segment_bytes=500, keep_segments=True)
    for _ in range(10):
        elog.append(records(4))
    elog.close()
    files = journal_files(directory)
    assert len(files) > 3
    seqs = [decode_line(x).seq for f in files for x in f.read_bytes().splitlines()]
    assert seqs == list(range(1, 41))


def test_subscribers_get_each_numbered_batch_and_a_failing_one_is_contained(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    elog = EventLog.open(tmp_path / "events", store)
    seen: list[list[int]] = []

    def broken(batch: Sequence[LogRecord]) -> None:
        raise RuntimeError("boom")

    unsubscribe = elog.subscribe(lambda batch: seen.append([r.seq for r in batch]))
    elog.subscribe(broken)
    with caplog.at_level(logging.ERROR, logger="tamas.eventlog"):
        elog.append(records(2))
    unsubscribe()
    elog.append(records(1))
    elog.close()
    assert seen == [[1, 2]]
    assert any("subscriber" in m for m in caplog.messages)
    assert store_events.max_seq(store.engine) == 3


def test_an_empty_append_writes_nothing(store: Store, tmp_path: Path) -> None:
    elog = EventLog.open(tmp_path / "events", store)
    assert elog.append([]) == []
    elog.close()
    assert journal_files(tmp_path / "events")[0].stat().st_size == 0


def test_one_process_at_a_time_owns_the_directory(store: Store, tmp_path: Path) -> None:
    elog = EventLog.open(tmp_path / "events", store)
    with pytest.raises(EventLogError, match="in use by another process"):
        EventLog.open(tmp_path / "events", store)
    elog.close()
    EventLog.open(tmp_path / "events", store).close()


def test_read_journal_reads_without_touching_and_stops_at_a_torn_tail(
    store: Store, tmp_path: Path
) -> None:
    directory = tmp_path / "events"
    elog = EventLog.open(directory, store, segment_bytes=300, keep_segments=True)
    for _ in range(6):
        elog.append(records(2))
    elog.close()
    last = journal_files(directory)[-1]
    with last.open("ab") as f:
        f.write(b'[13,1.0,"x"')
    before = last.read_bytes()
    assert [r.seq for r in read_journal(directory)] == list(range(1, 13))
    assert [r.seq for r in read_journal(directory, after_seq=10)] == [11, 12]
    assert last.read_bytes() == before
