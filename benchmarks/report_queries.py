"""Measure the standard report queries over a year of aggregate rows.

Fills a year of 15-minute rows (20 queues every interval: 700,800 rows; 200 agents 8 hours a
day: 2,336,000 rows, a lunch pause each day) with INSERT ... SELECT in SQL, rolls them up
into the day and hour tables (``rollup_days``, timed: what an upgrade costs), then times
``queue_rows`` and ``agent_rows`` for a month and for the year, grouped per queue/agent, per
day and in total (the queues also per 60-minute interval: ``hour``), best of ``--repeat``
runs. ``year, 10:00 edges`` starts and ends the year at
10:00 (two partial days from the 15-minute rows), ``year, other zone`` asks in UTC while the
day tables are in ``--zone`` (the fallback: 15-minute rows only).

SQLite in a temporary file and, if reachable, PostgreSQL in a throwaway schema (dropped
after), like the tests:

    flock /tmp/tamas-bench.lock python benchmarks/report_queries.py
    flock /tmp/tamas-bench.lock python benchmarks/report_queries.py --zone Europe/Berlin

``--cdrs N`` measures the first response time (FRT) instead: fills ``cdrs`` with N CDRs
spread over the year in SQL (every 10th outbound, every 5th unanswered), builds
``cdr_intervals`` (``rollup_cdrs``, timed) and times ``first_response`` (the whole 15-minute
intervals from ``cdr_intervals``, the partial ones at the edges from ``cdrs``) against the
mean over every CDR of the range (the query before ``cdr_intervals``), for the year and for
the year from 10:00 to 10:00:

    flock /tmp/tamas-bench.lock python benchmarks/report_queries.py --cdrs 10000000
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from reports import frt_over_cdrs

from tamas.store import events as store_events
from tamas.store import open_store, reports

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
QUEUES, AGENTS, YEAR_DAYS = 20, 200, 365


def fill(engine: sa.Engine, t0: int) -> None:
    """A year of rows from ``t0`` (a local midnight): every counter a function of the row."""
    ints = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {top})"
    queue_cols = ("offered", "answered", "abandoned", "short_abandoned", "wait_answered",
                  "wait_abandoned", "ring", "talk", "hold", "acw", "handled", "csat_sum",
                  "csat_count", "csat_satisfied", "repeat_contacts", "max_wait",
                  "answered_within_20", "abandoned_within_20")  # fmt: skip
    agent_cols = ("answered", "handled", "ring_missed", "talk", "hold", "acw", "login",
                  "available", "paused", "csat_sum", "csat_count", "csat_satisfied")  # fmt: skip
    with engine.begin() as conn:
        conn.execute(sa.text(f"""
            INSERT INTO queue_intervals (queue, start, {", ".join(queue_cols)})
            {ints.format(top=YEAR_DAYS * 96 - 1)}, q(k) AS (
                SELECT 1 UNION ALL SELECT k + 1 FROM q WHERE k < {QUEUES})
            SELECT 'q' || CAST(k AS TEXT), {t0} + i * 900,
                   10 + (i + k) % 7, 9 + (i + k) % 5, 1, (i % 2), 120.5 + k, 30.0, 40.0,
                   1500.0 + i % 300, 60.0, 200.0, 9, 20.0, 5, 4, (i + k) % 3, 90.0 + k,
                   7 + (i + k) % 3, 1
            FROM n, q
        """))  # fmt: skip
        conn.execute(sa.text(f"""
            INSERT INTO agent_intervals (agent, start, {", ".join(agent_cols)})
            {ints.format(top=YEAR_DAYS - 1)}, s(j) AS (
                SELECT 0 UNION ALL SELECT j + 1 FROM s WHERE j < 31), a(k) AS (
                SELECT 1 UNION ALL SELECT k + 1 FROM a WHERE k < {AGENTS})
            SELECT 'a' || CAST(k AS TEXT), {t0} + i * 86400 + 30600 + j * 900,
                   1 + (j + k) % 3, 1 + (j + k) % 3, (j + k) % 2, 300.0 + (j * k) % 200,
                   20.0, 60.0, 900.0, 400.0, CASE WHEN j = 16 THEN 120.0 ELSE 0.0 END,
                   4.5, 1, 1
            FROM n, s, a
        """))  # fmt: skip
        conn.execute(sa.text(f"""
            INSERT INTO agent_pause_intervals (agent, start, reason, seconds)
            {ints.format(top=YEAR_DAYS - 1)}, a(k) AS (
                SELECT 1 UNION ALL SELECT k + 1 FROM a WHERE k < {AGENTS})
            SELECT 'a' || CAST(k AS TEXT), {t0} + i * 86400 + 30600 + 16 * 900, 'lunch', 120.0
            FROM n, a
        """))  # fmt: skip
        conn.execute(sa.insert(reports.report_state),
                     {"id": 1, "last_seq": 1, "snapshot": "{}", "day_zone": None})  # fmt: skip
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))


def best(repeat: int, job: Callable[[], Any]) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeat):
        began = time.perf_counter()
        size = len(job())
        times.append(time.perf_counter() - began)
    return min(times), size


def measure(url: str, label: str, zone: str, repeat: int) -> None:
    tz = ZoneInfo(zone)
    t0 = int(datetime(2025, 1, 1, tzinfo=tz).timestamp())
    month_end = int(datetime(2025, 2, 1, tzinfo=tz).timestamp())
    year_end = int(datetime(2026, 1, 1, tzinfo=tz).timestamp())
    with open_store(url) as store:
        engine = store.engine
        began = time.perf_counter()
        fill(engine, t0)
        filled = time.perf_counter() - began
        began = time.perf_counter()
        days = reports.rollup_days(engine, zone)
        rolled = time.perf_counter() - began
        print(f"\n{label}: filled in {filled:.1f} s; rollup_days of {days} days in "
              f"{rolled:.1f} s (zone {zone})")  # fmt: skip
        ranges = (
            ("month", t0, month_end, zone),
            ("year", t0, year_end, zone),
            ("year, 10:00 edges", t0 + 36000, year_end + 36000, zone),
            ("year, other zone", t0, year_end, "UTC"),
        )
        print(f"{'range':20s} {'rows':6s} {'group':6s} {'seconds':>8s} {'result rows':>12s}")
        for name, start, end, query_zone in ranges:
            for kind, call, who in (("queues", reports.queue_rows, "queue"),
                                    ("agents", reports.agent_rows, "agent")):  # fmt: skip
                for group in (who, "day", "total", *(("hour",) if kind == "queues" else ())):
                    job = partial(call, engine, start, end, zone=query_zone,
                                  **({"group_by": "interval", "size": 3600} if group == "hour"
                                     else {"group_by": group}))  # fmt: skip
                    seconds, size = best(repeat, job)
                    print(f"{name:20s} {kind:6s} {group:6s} {seconds:8.3f} {size:12d}")


def fill_cdrs(engine: sa.Engine, t0: int, count: int) -> None:
    """``count`` CDRs from ``t0`` over the year, every column a function of the row."""
    step = YEAR_DAYS * 86400 / count
    if engine.dialect.name == "postgresql":
        numbers = f"SELECT i FROM generate_series(0, {count - 1}) AS n(i)"
    else:
        numbers = (f"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n "
                   f"WHERE i < {count - 1}) SELECT i FROM n")  # fmt: skip
    wait = "(i % 60) + 0.5"
    with engine.begin() as conn:
        conn.execute(sa.text(f"""
            INSERT INTO cdrs (call_id, started_at, answered_at, ended_at, caller, callee,
                              direction, trunk, result, cause, queues, agents, legs,
                              recordings, wait_seconds, queue_seconds, talk_seconds,
                              hold_seconds)
            SELECT 'c' || CAST(i AS TEXT), {t0} + i * {step!r},
                   CASE WHEN i % 5 = 4 THEN NULL ELSE {t0} + i * {step!r} + {wait} END,
                   {t0} + i * {step!r} + 200.0, '0912' || CAST(i % 100000 AS TEXT), '100',
                   CASE WHEN i % 10 = 9 THEN 'outbound' ELSE 'inbound' END, '',
                   CASE WHEN i % 5 = 4 THEN 'abandoned' ELSE 'answered' END, '',
                   '["q1"]', '["a1"]', '[]', '[]',
                   CASE WHEN i % 5 = 4 THEN 0.0 ELSE {wait} END, 10.0, 150.0, 0.0
            FROM ({numbers}) AS numbers
        """))  # fmt: skip
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))


def measure_frt(url: str, label: str, zone: str, repeat: int, count: int) -> None:
    tz = ZoneInfo(zone)
    t0 = int(datetime(2025, 1, 1, tzinfo=tz).timestamp())
    year_end = int(datetime(2026, 1, 1, tzinfo=tz).timestamp())
    with open_store(url) as store:
        engine = store.engine
        began = time.perf_counter()
        fill_cdrs(engine, t0, count)
        filled = time.perf_counter() - began
        began = time.perf_counter()
        rows = store_events.rollup_cdrs(engine)
        rolled = time.perf_counter() - began
        print(f"\n{label}: {count:,} CDRs filled in {filled:.1f} s; rollup_cdrs ({rows:,} "
              f"cdr_intervals rows) in {rolled:.1f} s")  # fmt: skip
        for name, start, end in (("year", t0, year_end),
                                 ("year, 10:00 edges", t0 + 36000, year_end + 36000)):  # fmt: skip
            for how, run in (("FRT (cdr_intervals)", store_events.first_response),
                             ("FRT over every CDR", frt_over_cdrs)):  # fmt: skip
                value = run(engine, start, end)
                times = []
                for _ in range(repeat):
                    began = time.perf_counter()
                    run(engine, start, end)
                    times.append(time.perf_counter() - began)
                print(f"{name:20s} {how:22s} {value or 0:8.3f} s  best {min(times):7.3f} s  "
                      f"median {statistics.median(times):7.3f} s")  # fmt: skip


@contextmanager
def postgres_schema(url: str) -> Iterator[str | None]:
    import psycopg

    conninfo = sa.make_url(url).set(drivername="postgresql").render_as_string(False)
    try:
        admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        print(f"\nPostgreSQL not reachable at {url}: {exc}")
        yield None
        return
    schema = f"bench_{secrets.token_hex(6)}"
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield f"{url}?options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zone", default="Asia/Tehran")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", default=POSTGRES, help="URL ('' to skip)")
    parser.add_argument("--cdrs", type=int, default=0,
                        help="time the FRT over this many CDRs instead")  # fmt: skip
    args = parser.parse_args()
    run = partial(measure_frt, count=args.cdrs) if args.cdrs else measure
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", "SQLite", args.zone, args.repeat)
    if args.postgres:
        with postgres_schema(args.postgres) as url:
            if url is not None:
                run(url, "PostgreSQL", args.zone, args.repeat)


if __name__ == "__main__":
    main()
