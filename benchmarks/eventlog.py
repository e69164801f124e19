"""Measure the event log: the append on the SIP/ACD path, and the ingest into the database.

Append: batches of ``--batch`` records (an ACD decision writes a few) appended for
``--records`` records with each fsync policy; prints appends/s and microseconds per record.
The journal is on the temporary directory's filesystem (``TMPDIR`` picks another disk).

Ingest: the same records stored in batches of 5,000 with ``store.events.append_many``
(what the ingest thread does) into SQLite and, if reachable, PostgreSQL; prints records/s.
The issue asks for at least 5,000 events/s.

    flock /tmp/tamas-bench.lock python benchmarks/eventlog.py
    flock /tmp/tamas-bench.lock python benchmarks/eventlog.py --records 20000 --postgres URL
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import tempfile
import time
from pathlib import Path

from tamas.core.events import LogRecord
from tamas.runtime.eventlog import INGEST_BATCH, EventLog, FsyncPolicy
from tamas.store import events as store_events
from tamas.store import open_store

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def sample(n: int) -> list[LogRecord]:
    events = ["ENTERQUEUE", "RINGNOANSWER", "CONNECT", "COMPLETECALLER"]
    return [
        LogRecord(
            at=1_700_000_000.0 + i * 0.01,
            call_id=f"c{i // 4:08d}",
            queue="sales",
            agent="NONE" if i % 4 == 0 else "a17",
            event=events[i % 4],
            data=("12", f"c{i // 4:08d}-b", "4"),
        )
        for i in range(n)
    ]


def bench_append(records: list[LogRecord], batch: int, policy: FsyncPolicy) -> None:
    with tempfile.TemporaryDirectory() as tmp, open_store(f"sqlite:///{tmp}/t.db") as store:
        elog = EventLog.open(Path(tmp) / "events", store, fsync=policy)
        batches = [records[i : i + batch] for i in range(0, len(records), batch)]
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        for b in batches:
            elog.append(b)
        wall = time.perf_counter() - wall0
        cpu = time.thread_time() - cpu0  # the calling thread's (the loop's) CPU only
        elog.close()
    n = len(records)
    print(
        f"append fsync={policy.value:8s} {len(batches) / wall:8.0f} appends/s  "
        f"{cpu / n * 1e6:6.1f} us/record CPU on the loop  {wall / n * 1e6:7.1f} us/record wall "
        f"(batch {batch}; wall includes waiting for the GIL held by the ingest thread)"
    )


def bench_ingest(records: list[LogRecord], url: str, name: str) -> None:
    numbered = [
        LogRecord(seq=i + 1, at=r.at, call_id=r.call_id, queue=r.queue, agent=r.agent,
                  event=r.event, data=r.data)
        for i, r in enumerate(records)
    ]  # fmt: skip
    with open_store(url) as store:
        start = time.perf_counter()
        for i in range(0, len(numbered), INGEST_BATCH):
            store_events.append_many(store.engine, numbered[i : i + INGEST_BATCH])
        took = time.perf_counter() - start
    print(f"ingest {name:10s} {len(records) / took:10.0f} records/s")


def postgres_url(base: str) -> tuple[str, str] | None:
    import psycopg
    import sqlalchemy as sa

    conninfo = sa.make_url(base).set(drivername="postgresql").render_as_string(False)
    schema = f"bench_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as exc:
        print(f"ingest postgres   skipped: {exc}".splitlines()[0])
        return None
    return f"{base}?options=-csearch_path%3D{schema}", schema


def drop_schema(base: str, schema: str) -> None:
    import psycopg
    import sqlalchemy as sa

    conninfo = sa.make_url(base).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=3, help="records per append")
    parser.add_argument("--always-records", type=int, default=3_000,  # each waits for the disk
                        help="records for fsync=always")  # fmt: skip
    parser.add_argument("--postgres", default=os.environ.get("TAMAS_TEST_POSTGRES_URL", POSTGRES))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    records = sample(args.records)
    for policy in (FsyncPolicy.NEVER, FsyncPolicy.INTERVAL):
        bench_append(records, args.batch, policy)
    bench_append(records[: args.always_records], args.batch, FsyncPolicy.ALWAYS)
    with tempfile.TemporaryDirectory() as tmp:
        bench_ingest(records, f"sqlite:///{tmp}/t.db", "sqlite")
    pg = postgres_url(args.postgres)
    if pg is not None:
        try:
            bench_ingest(records, pg[0], "postgres")
        finally:
            drop_schema(args.postgres, pg[1])


if __name__ == "__main__":
    main()
