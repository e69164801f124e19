"""The durable event log: a JSON-lines journal written before the system acts, fed to the store.

Theory of operation
-------------------
``EventLog.append(records)`` runs on the event loop, on the SIP/ACD path. It numbers the
records (``seq``, one more than the last ever given, across restarts), encodes each as one
JSON array line ``[seq, at, call_id, queue, agent, event, [data...]]`` and writes the whole
batch with one ``os.write`` to the current segment ``<dir>/journal-NNNNNN.jsonl``, opened
``O_APPEND``. When ``write`` returns the bytes are in the kernel's page cache: a kill -9 of
Tamas after that loses nothing. What a power loss (or kernel crash) can lose depends on
``fsync``:

* ``always``: ``fsync`` before ``append`` returns; nothing acknowledged is lost (costs a
  disk flush per append, typically 0.1-10 ms);
* ``interval`` (default): a thread ``fsync``s at most every 0.2 s when something was
  written; at most the last 0.2 s of acknowledged records can be lost;
* ``never``: the kernel writes back when it likes (usually within 30 s).

Then the records go to the subscribers (on the loop) and onto a queue for the ingest
thread, which stores them in the ``events`` table in batches (``store.events.append_many``,
idempotent on ``seq``). Segments roll at ``segment_bytes``; a closed segment whose records
are all stored is deleted (``keep_segments=True`` keeps them).

Opening recovers: every segment is read, a torn or unreadable tail (a crash mid-write, or
garbage after a power loss) is logged with its file and offset and truncated away, the next
seq is one more than the highest in the journal or the database, and journal records not
yet in the database are stored *before* ``open`` returns. One process at a time owns the
directory (``flock`` on ``<dir>/LOCK``; a second ``open`` raises EventLogError); readers
that must not append, such as ``tamas events export``, use :func:`read_journal`.
"""

from __future__ import annotations

import enum
import fcntl
import json
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tamas.core.errors import TamasError
from tamas.core.events import LogRecord
from tamas.store import Store
from tamas.store import events as store_events

log = logging.getLogger("tamas.eventlog")

__all__ = [
    "EventLog",
    "EventLogError",
    "FsyncPolicy",
    "Subscriber",
    "decode_line",
    "encode_record",
    "read_journal",
]

Subscriber = Callable[[Sequence[LogRecord]], None]
SEGMENT_BYTES = 16 * 1024 * 1024
SYNC_INTERVAL = 0.2
INGEST_BATCH = 5000
_PREFIX, _SUFFIX = "journal-", ".jsonl"
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode  # built once: dumps(...) builds one


class EventLogError(TamasError):
    """The event log cannot be opened (its directory is in use by another process...)."""


class FsyncPolicy(enum.StrEnum):
    ALWAYS = "always"
    INTERVAL = "interval"
    NEVER = "never"


def encode_record(rec: LogRecord) -> str:
    """One journal line (without the newline)."""
    return _ENCODE([rec.seq, rec.at, rec.call_id, rec.queue, rec.agent, rec.event, rec.data])


def decode_line(line: bytes | str) -> LogRecord:
    """The record of one journal line (ValueError if the line is not one)."""
    try:
        seq, at, call_id, queue_name, agent, event, data = json.loads(line)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not a journal line: {exc}") from None
    if not (isinstance(seq, int) and seq > 0 and isinstance(at, int | float)):
        raise ValueError("not a journal line: bad seq or time")
    if not all(isinstance(x, str) for x in (call_id, queue_name, agent, event, *data)):
        raise ValueError("not a journal line: a field is not text")
    return LogRecord(
        seq=seq, at=float(at), call_id=call_id, queue=queue_name, agent=agent, event=event,
        data=tuple(data),
    )  # fmt: skip


@dataclass(slots=True)
class _Segment:
    path: Path
    last_seq: int


def _segment_path(directory: Path, number: int) -> Path:
    return directory / f"{_PREFIX}{number:06d}{_SUFFIX}"


def _segments(directory: Path) -> list[tuple[int, Path]]:
    found = []
    for path in directory.glob(f"{_PREFIX}*{_SUFFIX}"):
        number = path.name[len(_PREFIX) : -len(_SUFFIX)]
        if number.isdigit():
            found.append((int(number), path))
    return sorted(found)


def _recover_segment(path: Path) -> list[LogRecord]:
    """The segment's records; a torn or unreadable tail is logged and truncated away."""
    raw = path.read_bytes()
    records: list[LogRecord] = []
    offset = 0
    while offset < len(raw):
        newline = raw.find(b"\n", offset)
        if newline < 0:
            reason = "torn last line (no newline)"
            break
        try:
            records.append(decode_line(raw[offset:newline]))
        except ValueError as exc:
            reason = str(exc)
            break
        offset = newline + 1
    if offset < len(raw):
        log.warning(
            "event journal %s: %s at byte %d; truncating %d byte(s)",
            path, reason, offset, len(raw) - offset,
        )  # fmt: skip
        with path.open("r+b") as f:
            f.truncate(offset)
            os.fsync(f.fileno())
    return records


def read_journal(directory: Path, after_seq: int = 0) -> Iterator[LogRecord]:
    """The journal's records with seq > ``after_seq``, read-only (safe while Tamas runs).

    Stops quietly at a segment's torn or unreadable tail (the writer may be mid-append).
    """
    for _number, path in _segments(directory):
        try:
            raw = path.read_bytes()
        except FileNotFoundError:  # deleted once stored, between listing and reading
            continue
        for line in raw.split(b"\n")[:-1]:
            try:
                rec = decode_line(line)
            except ValueError:
                break
            if rec.seq > after_seq:
                yield rec


def _lock(directory: Path) -> int:
    """Hold ``<dir>/LOCK`` (released by the kernel when the process dies, kill -9 too)."""
    fd = os.open(directory / "LOCK", os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise EventLogError(
            f"the event log {directory} is in use by another process (is tamas serve running?)"
        ) from None
    return fd


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class EventLog:
    """The journal plus its ingest into the store. Build with :meth:`open`, ``close()`` at exit."""

    def __init__(
        self,
        directory: Path,
        store: Store,
        *,
        fsync: FsyncPolicy,
        segment_bytes: int,
        keep_segments: bool,
        next_seq: int,
        next_segment: int,
        closed: list[_Segment],
    ) -> None:
        self.directory = directory
        self.store = store
        self.fsync = fsync
        self.segment_bytes = segment_bytes
        self.keep_segments = keep_segments
        self._next_seq = next_seq
        self._segment_number = next_segment
        self._closed = closed  # guarded by _lock
        self._lock = threading.Lock()
        self._lock_fd = -1  # the directory's LOCK file, held while open
        self._fd = -1
        self._size = 0
        self._open_segment()
        self._dirty = False
        self._subscribers: list[Subscriber] = []
        self._ingest_q: queue.SimpleQueue[list[LogRecord] | None] = queue.SimpleQueue()
        self._pending = 0  # batches queued and not yet stored, guarded by _idle
        self._idle = threading.Condition()
        self._stop = threading.Event()
        self._ingest_thread = threading.Thread(
            target=self._ingest_run, name="tamas-eventlog-ingest", daemon=True
        )
        self._ingest_thread.start()
        self._sync_thread: threading.Thread | None = None
        if fsync is FsyncPolicy.INTERVAL:
            self._sync_thread = threading.Thread(
                target=self._sync_run, name="tamas-eventlog-sync", daemon=True
            )
            self._sync_thread.start()

    @classmethod
    def open(
        cls,
        directory: Path,
        store: Store,
        *,
        fsync: FsyncPolicy | str = FsyncPolicy.INTERVAL,
        segment_bytes: int = SEGMENT_BYTES,
        keep_segments: bool = False,
    ) -> EventLog:
        """Recover the journal under ``directory``, store what the database lacks, and open."""
        directory.mkdir(parents=True, exist_ok=True)
        lock = _lock(directory)
        try:
            return cls._recover(directory, store, lock, FsyncPolicy(fsync), segment_bytes,
                                keep_segments)  # fmt: skip
        except BaseException:
            os.close(lock)
            raise

    @classmethod
    def _recover(
        cls,
        directory: Path,
        store: Store,
        lock: int,
        fsync: FsyncPolicy,
        segment_bytes: int,
        keep_segments: bool,
    ) -> EventLog:
        stored = store_events.max_seq(store.engine)
        last_seq, closed, missing = stored, [], 0
        segments = _segments(directory)
        for number, path in segments:
            records = _recover_segment(path)
            if records:
                last_seq = max(last_seq, records[-1].seq)
            unstored = [r for r in records if r.seq > stored]
            for i in range(0, len(unstored), INGEST_BATCH):
                store_events.append_many(store.engine, unstored[i : i + INGEST_BATCH])
            missing += len(unstored)
            if number != segments[-1][0]:
                closed.append(_Segment(path, records[-1].seq if records else 0))
        if missing:
            log.info("event journal: stored %d record(s) the database lacked", missing)
        next_segment = segments[-1][0] if segments else 1
        opened = cls(
            directory, store, fsync=fsync, segment_bytes=segment_bytes,
            keep_segments=keep_segments, next_seq=last_seq + 1, next_segment=next_segment,
            closed=closed,
        )  # fmt: skip
        opened._lock_fd = lock
        opened._delete_stored_segments(stored)
        return opened

    @property
    def last_seq(self) -> int:
        """The seq given to the newest record (0 if none ever)."""
        return self._next_seq - 1

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` on the loop with each appended batch; returns an unsubscribe."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def append(self, records: Sequence[LogRecord]) -> list[LogRecord]:
        """Number ``records``, write them to the journal and return them numbered.

        When this returns the records survive a kill -9 (and, with ``fsync="always"``, a
        power loss). Raises OSError if the journal cannot be written: the caller must not
        act on records that were not appended.
        """
        if not records:
            return []
        seq = self._next_seq
        numbered = [
            LogRecord(
                seq=seq + i, at=r.at, call_id=r.call_id, queue=r.queue, agent=r.agent,
                event=r.event, data=r.data,
            )
            for i, r in enumerate(records)
        ]  # fmt: skip
        payload = ("\n".join(map(encode_record, numbered)) + "\n").encode()
        with self._lock:
            written = os.write(self._fd, payload)
            while written < len(payload):  # a regular file short-writes only when full
                written += os.write(self._fd, payload[written:])
            self._size += written
            self._next_seq = seq + len(numbered)
            if self.fsync is FsyncPolicy.ALWAYS:
                os.fsync(self._fd)
            else:
                self._dirty = True
            if self._size >= self.segment_bytes:
                self._roll(numbered[-1].seq)
        with self._idle:
            self._pending += 1
        self._ingest_q.put(numbered)
        for callback in tuple(self._subscribers):
            try:
                callback(numbered)
            except Exception:
                log.exception("event log subscriber %r failed", callback)
        return numbered

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything appended is in the database; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def replay(self, after_seq: int = 0) -> Iterator[LogRecord]:
        """Every record with seq > ``after_seq``, in order (waits for the ingest first)."""
        self.flush()
        return store_events.iterate(self.store.engine, after_seq=after_seq)

    def close(self) -> None:
        """Store everything appended, sync the journal and stop the threads."""
        self._stop.set()
        self._ingest_q.put(None)
        self._ingest_thread.join(timeout=60)
        if self._sync_thread is not None:
            self._sync_thread.join(timeout=5)
        with self._lock:
            if self._fd >= 0:
                if self.fsync is not FsyncPolicy.NEVER:
                    os.fsync(self._fd)
                os.close(self._fd)
                self._fd = -1
            if self._lock_fd >= 0:
                os.close(self._lock_fd)
                self._lock_fd = -1

    # --- journal files ----------------------------------------------------------------

    def _open_segment(self) -> None:
        path = _segment_path(self.directory, self._segment_number)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        self._size = os.fstat(self._fd).st_size
        self._path = path

    def _roll(self, last_seq: int) -> None:
        """Close the full segment and start the next (called with the lock held)."""
        if self.fsync is not FsyncPolicy.NEVER:
            os.fsync(self._fd)
        os.close(self._fd)
        self._closed.append(_Segment(self._path, last_seq))
        self._segment_number += 1
        self._open_segment()
        if self.fsync is not FsyncPolicy.NEVER:
            _fsync_dir(self.directory)

    def _delete_stored_segments(self, stored_seq: int) -> None:
        if self.keep_segments:
            return
        with self._lock:
            done = [s for s in self._closed if s.last_seq <= stored_seq]
            self._closed = [s for s in self._closed if s.last_seq > stored_seq]
        for segment in done:
            segment.path.unlink(missing_ok=True)

    # --- threads ----------------------------------------------------------------------

    def _sync_run(self) -> None:
        while not self._stop.wait(SYNC_INTERVAL):
            with self._lock:
                if not self._dirty or self._fd < 0:
                    continue
                self._dirty = False
                fd = os.dup(self._fd)  # fsync outside the lock: append never waits for it
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def _ingest_run(self) -> None:
        running = True
        while running:
            batches = [self._ingest_q.get()]
            while len(batches) < INGEST_BATCH:
                try:
                    batches.append(self._ingest_q.get_nowait())
                except queue.Empty:
                    break
            records = [r for batch in batches if batch is not None for r in batch]
            running = None not in batches
            self._store(records)
            self._delete_stored_segments(records[-1].seq if records else 0)
            with self._idle:
                self._pending -= sum(1 for b in batches if b is not None)
                self._idle.notify_all()

    def _store(self, records: list[LogRecord]) -> None:
        for i in range(0, len(records), INGEST_BATCH):
            chunk = records[i : i + INGEST_BATCH]
            while True:
                try:
                    store_events.append_many(self.store.engine, chunk)
                    break
                except Exception as exc:  # the journal keeps them: retry, never drop
                    log.error("event log ingest failed (will retry): %s: %s",
                              type(exc).__name__, exc)  # fmt: skip
                    if self._stop.wait(1.0) and self._ingest_q.empty():
                        # Stopping: a restart ingests what is left from the journal.
                        return
