"""Time the interval report (15/30/60 min) over a year of ``center_intervals`` rows.

Fills a year of 15-minute center rows (35,040; every counter a function of the row, one
row in 50 with nothing offered or answered) and their UTC hours (``center_hours``) with
INSERT ... SELECT, then times
``ReportService.run("intervals", ...)`` over the year, best of ``--repeat`` (what
``benchmarks/reports.py`` times, without generating 10 million calls first). SQLite in a
temporary file and, unless ``--postgres ''``, PostgreSQL in a throwaway schema:

    flock /tmp/tamas-bench.lock python benchmarks/interval_report.py
    python benchmarks/interval_report.py --profile 15       # cProfile of one 15-minute run
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from report_queries import POSTGRES, postgres_schema

from tamas.config.reports import ReportsConfig
from tamas.reporting.intervals import QUEUE_COLUMNS
from tamas.runtime.reportservice import ReportService
from tamas.store import open_store, reports

ROWS = 365 * 96


def fill(engine: sa.Engine, t0: int) -> None:
    """A year of center rows from ``t0``: every column a function of the row number."""
    names, exprs = [], []
    for j, (name, is_int) in enumerate(QUEUE_COLUMNS):
        names.append(name)
        if name == "max_wait":
            exprs.append("CASE WHEN i % 50 = 7 THEN 0.0 ELSE 30.0 + (i % 113) * 0.75 END")
        elif is_int:
            exprs.append(f"CASE WHEN i % 50 = 7 THEN 0 ELSE (i * {j + 3}) % {j + 11} + 1 END")
        else:
            exprs.append(f"CASE WHEN i % 50 = 7 THEN 0.0 ELSE ((i * {j + 5}) % 97) * 1.25 END")
    with engine.begin() as conn:
        conn.execute(sa.text(f"""
            INSERT INTO center_intervals (start, {", ".join(names)})
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS - 1})
            SELECT {t0} + i * 900, {", ".join(exprs)} FROM n
        """))  # fmt: skip
        sums = ", ".join(f"{'MAX' if n == 'max_wait' else 'SUM'}({n})" for n in names)
        conn.execute(sa.text(f"""
            INSERT INTO center_hours (hour, {", ".join(names)})
            SELECT start - start % 3600, {sums} FROM center_intervals
            GROUP BY start - start % 3600
        """))  # fmt: skip
        conn.execute(sa.insert(reports.report_state),
                     {"id": 1, "last_seq": 1, "snapshot": "{}", "day_zone": "UTC"})  # fmt: skip
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))


def measure(url: str, label: str, repeat: int, sizes: list[str], profile: str | None) -> None:
    t0 = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
    end = t0 + ROWS * 900
    with open_store(url) as store:
        fill(store.engine, t0)
        service = ReportService(store.engine, ReportsConfig(), clock=lambda: end)
        for size in sizes:
            query = service.query({"from": str(t0), "to": str(end), "interval": size})
            rows = len(service.run("intervals", query).rows)
            if profile == size:
                with cProfile.Profile() as prof:
                    service.run("intervals", query)
                pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
            times = []
            for _ in range(repeat):
                began = time.perf_counter()
                service.run("intervals", query)
                times.append(time.perf_counter() - began)
            print(f"{label:10s} intervals interval={size:2s} {rows:6,} rows  best "
                  f"{min(times):.3f} s  runs {' '.join(f'{t:.3f}' for t in times)}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="15,30,60")
    parser.add_argument("--postgres", default=POSTGRES, help="URL ('' to skip)")
    parser.add_argument("--profile", default=None, help="cProfile one run of this size")
    args = parser.parse_args()
    sizes = args.sizes.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        measure(f"sqlite:///{Path(tmp) / 'b.db'}", "SQLite", args.repeat, sizes, args.profile)
    if args.postgres:
        with postgres_schema(args.postgres) as url:
            if url is not None:
                measure(url, "PostgreSQL", args.repeat, sizes, args.profile)


if __name__ == "__main__":
    main()
