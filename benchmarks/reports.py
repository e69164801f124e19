"""Reports at scale: 10 million calls of events, then the standard reports over all of them.

1. **Generate and fold.** ``callgen.generate`` writes a year of a large center's event log
   (``--calls`` over ``--days``, ``--queues`` queues, ``--agents`` agents), one day at a
   time; the KPI aggregator (``tamas.reporting.aggregator``, the code the server runs) folds
   each day and the day's deltas are applied to SQLite and PostgreSQL with
   ``store.reports.apply`` (what ``ReportMaintainer`` does). Prints records/s of each part.
   With ``--cdrs`` the producer also builds each call's CDR (``reporting.cdr.build_cdr``,
   what the runtime's CDR writer does) and each database stores the day's CDRs with
   ``store.events.put_cdrs`` (one transaction per day; the runtime writes one per call),
   which keeps ``cdr_intervals``: the KPI listing's first response time (FRT) then covers
   real CDRs.
2. **Ingest.** The first ``--ingest-records`` records go the whole live way: stored in the
   ``events`` table (``store.events.append_many``, the event log's ingest thread) and folded
   from there by a ``ReportMaintainer``; prints events/s from the first insert to the last
   aggregate. The issue asks for at least 5,000 events/s.
3. **Reports.** The standard reports through ``ReportService`` (what ``tamas report`` and the
   API call) over the whole range, each run ``--repeat`` times; prints the best and the
   median in seconds. The issue asks for each under one second. With ``--cdrs``, also the
   FRT alone (``store.events.first_response``) and the mean over every CDR of the range
   that it used to be (the query before ``cdr_intervals``). The reference, run in the
   same process: folding the raw log of the ingest sample into the same report (what a
   system without aggregates does), scaled to the whole range by records.

    flock /tmp/tamas-bench.lock python benchmarks/reports.py              # 10M calls
    python benchmarks/reports.py --calls 200000 --days 30                 # a quick look
    python benchmarks/reports.py --calls 1000000 --cdrs                   # with CDRs (FRT)
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from callgen import generate
from eventlog import POSTGRES, drop_schema, postgres_url

from tamas.config.reports import ReportsConfig
from tamas.core.events import NONE, LogRecord
from tamas.reporting import kpi
from tamas.reporting.aggregator import Aggregator
from tamas.reporting.cdr import Cdr, build_cdr
from tamas.reporting.settings import ReportSettings
from tamas.runtime.reports import ReportMaintainer
from tamas.runtime.reportservice import ReportService
from tamas.store import events as store_events
from tamas.store import open_store
from tamas.store import reports as store_reports

REPORTS: list[tuple[str, dict[str, str]]] = [
    ("queues", {}),
    ("queues", {"group": "day"}),
    ("queues", {"group": "total"}),
    ("agents", {}),
    ("agents", {"group": "total"}),
    ("agents", {"group": "interval", "interval": "60"}),  # the agents' 15-minute rows
    ("intervals", {"interval": "60"}),  # center_hours
    ("intervals", {"interval": "30"}),  # center_intervals
    ("intervals", {"interval": "15"}),  # center_intervals
    ("kpis", {}),
]


def numbered(records: list[LogRecord], first: int) -> list[LogRecord]:
    return [
        LogRecord(seq=first + i, at=r.at, call_id=r.call_id, queue=r.queue, agent=r.agent,
                  event=r.event, data=r.data)
        for i, r in enumerate(records)
    ]  # fmt: skip


def cdrs_of(day: list[LogRecord]) -> list[Cdr]:
    """The CDR of every call among a day's records (the generator keeps a call's records in
    one day)."""
    calls: dict[str, list[LogRecord]] = {}
    for rec in day:
        if rec.call_id and rec.call_id != NONE:
            calls.setdefault(rec.call_id, []).append(rec)
    return [build_cdr(records) for records in calls.values()]


def _produce(args: argparse.Namespace, out: Any) -> None:
    """Generate and fold day by day (in a process of its own); put each day's
    (records, last seq, first at, last at, deltas, snapshot, caller changes, CDRs) on
    ``out``."""
    aggregator = Aggregator(ReportSettings())
    gen = fold = built = 0.0
    seq = 0
    t = time.process_time()
    for day in generate(calls=args.calls, days=args.days, queues=args.queues,
                        agents=args.agents, seed=args.seed):  # fmt: skip
        t1 = time.process_time()
        gen += t1 - t
        day = numbered(day, seq + 1)
        seq += len(day)
        deltas = aggregator.feed(day)
        # what ReportMaintainer stores: the state without the callers, and their changes
        snapshot = aggregator.snapshot(include_callers=False)
        callers = aggregator.take_caller_changes()
        t = time.process_time()
        fold += t - t1
        cdrs = cdrs_of(day) if args.cdrs else []
        t1 = time.process_time()
        built += t1 - t
        t = t1
        out.put((len(day), seq, day[0].at, day[-1].at, deltas, snapshot, callers, cdrs))
    out.put(("done", gen, fold, built))


def _apply_all(
    store: Any, items: Any, took: dict[str, float], wrote: dict[str, float], name: str
) -> None:
    while True:
        item = items.get()
        if item is None:
            return
        _, seq, _, _, deltas, snapshot, callers, cdrs = item
        w = time.perf_counter()
        store_reports.apply(store.engine, deltas, seq, snapshot, callers=callers)
        w1 = time.perf_counter()
        took[name] += w1 - w
        if cdrs:
            store_events.put_cdrs(store.engine, cdrs)
            wrote[name] += time.perf_counter() - w1


def fold_and_apply(args: argparse.Namespace, urls: dict[str, str]) -> tuple[float, float, int]:
    """Generation and folding in one process, each database's applies in a thread of this
    one (the work of the folding thread and of the applying database overlap)."""
    import multiprocessing
    import queue
    import threading

    produced: Any = multiprocessing.get_context("fork").Queue(maxsize=8)
    producer = multiprocessing.get_context("fork").Process(target=_produce, args=(args, produced))
    began = time.perf_counter()
    producer.start()
    took = dict.fromkeys(urls, 0.0)
    wrote = dict.fromkeys(urls, 0.0)
    feeds = {name: queue.Queue[Any](maxsize=8) for name in urls}
    stores = {name: open_store(url) for name, url in urls.items()}  # migrations: one at a time
    threads = [threading.Thread(target=_apply_all,
                                args=(stores[name], feeds[name], took, wrote, name))
               for name in urls]  # fmt: skip
    for thread in threads:
        thread.start()
    count = cdrs = 0
    start = end = 0.0
    while True:
        item = produced.get()
        if item[0] == "done":
            _, gen, fold, built = item
            break
        count += item[0]
        cdrs += len(item[7])
        start = start or item[2]
        end = max(end, item[3])
        for feed in feeds.values():
            feed.put(item)
    for feed in feeds.values():
        feed.put(None)
    for thread in threads:
        thread.join()
    for store in stores.values():
        store.close()
    producer.join()
    wall = time.perf_counter() - began
    print(f"generated {args.calls:,} calls = {count:,} records over {args.days} days "
          f"({count / gen:,.0f} records/s CPU)")  # fmt: skip
    print(f"aggregator fold       {count / fold:12,.0f} records/s CPU ({fold:.1f} s)")
    for name, spent in took.items():
        print(f"apply to {name:12s} {count / spent:12,.0f} records/s wall ({spent:.1f} s, "
              f"one transaction per day)")  # fmt: skip
    if cdrs:
        print(f"CDRs built            {cdrs / built:12,.0f} CDRs/s CPU ({cdrs:,} CDRs, "
              f"{built:.1f} s)")  # fmt: skip
        for name, spent in wrote.items():
            print(f"CDRs into {name:11s} {cdrs / spent:12,.0f} CDRs/s wall ({spent:.1f} s, "
                  f"put_cdrs, one transaction per day)")  # fmt: skip
    print(f"all of it             {wall:.0f} s wall (generation and folding beside the applies)")
    return start, end + 1, count


def ingest(args: argparse.Namespace, url: str, name: str) -> list[LogRecord]:
    sample: list[LogRecord] = []
    for day in generate(calls=args.calls, days=args.days, queues=args.queues,
                        agents=args.agents, seed=args.seed + 1):  # fmt: skip
        sample.extend(day)
        if len(sample) >= args.ingest_records:
            break
    sample = numbered(sample[: args.ingest_records], 1)
    with open_store(url) as store:
        maintainer = ReportMaintainer(store.engine, ReportSettings())
        began = time.perf_counter()
        for i in range(0, len(sample), 5000):
            store_events.append_many(store.engine, sample[i : i + 5000])
            maintainer.step()
        while maintainer.step():
            pass
        took = time.perf_counter() - began
    print(f"ingest {name:10s} {len(sample) / took:10,.0f} events/s (stored, then folded into "
          f"the aggregates; {len(sample):,} events)")  # fmt: skip
    return sample


def timed(run: Callable[[], Any], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return min(times), statistics.median(times)


def reports(args: argparse.Namespace, url: str, name: str, start: float, end: float) -> None:
    with open_store(url) as store:
        service = ReportService(store.engine, ReportsConfig(), clock=lambda: end)
        for report, extra in REPORTS:
            params = {"from": str(start), "to": str(end), **extra}
            query = service.query(params)
            rows = len(service.run(report, query).rows)
            best, median = timed(lambda r=report, q=query: service.run(r, q), args.repeat)
            label = report + "".join(f" {k}={v}" for k, v in extra.items())
            verdict = "ok" if best < 1.0 else "SLOW"
            print(f"{name:8s} {label:34s} {rows:7,} rows  best {best:7.3f} s  median "
                  f"{median:7.3f} s  {verdict}")  # fmt: skip
        if args.cdrs:
            engine = store.engine
            for label, run in (
                ("FRT (cdr_intervals)", lambda: store_events.first_response(engine, start, end)),
                ("FRT over every CDR", lambda: frt_over_cdrs(engine, start, end)),
            ):
                value = run()
                best, median = timed(run, args.repeat)
                print(f"{name:8s} {label:34s} {value or 0:7.1f} s    best {best:7.3f} s  "
                      f"median {median:7.3f} s")  # fmt: skip


def frt_over_cdrs(engine: sa.Engine, start: float, end: float) -> float | None:
    """The first response time as it was read before ``cdr_intervals``: a mean over every
    answered inbound CDR of the range."""
    c = store_events.cdrs.c
    query = sa.select(sa.func.avg(c.wait_seconds)).where(
        c.started_at >= start, c.started_at < end, c.direction == "inbound",
        c.answered_at.is_not(None),
    )  # fmt: skip
    with engine.connect() as conn:
        value = conn.execute(query).scalar()
    return None if value is None else float(value)


def reference(sample: list[LogRecord], total: int) -> None:
    """The queue report folded from the raw log (no aggregates), for the ingest sample."""
    began = time.perf_counter()
    deltas = Aggregator(ReportSettings()).feed(sample)
    kpi.queue_report(list(deltas.queues.values()), ReportSettings())
    took = time.perf_counter() - began
    print(f"reference: the queue report folded from {len(sample):,} raw records takes "
          f"{took:.2f} s; for all {total:,} records about {took * total / len(sample):,.0f} s "
          f"(scaled by records; the database read not included)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--queues", type=int, default=20)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ingest-records", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--cdrs",
        action="store_true",
        help="also build and store every call's CDR (the KPI listing's FRT)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        urls = {"sqlite": f"sqlite:///{Path(tmp) / 'reports.db'}"}
        pg = None if args.no_postgres else postgres_url(args.postgres)
        if pg is not None:
            urls["postgres"] = pg[0]
        try:
            start, end, total = fold_and_apply(args, urls)
            for name, url in urls.items():
                reports(args, url, name, start, end)
            sample: list[LogRecord] = []
            for name in urls:
                ingest_url = (f"sqlite:///{Path(tmp) / 'ingest.db'}" if name == "sqlite"
                              else urls[name])  # fmt: skip
                if name == "postgres":  # a fresh schema: the year's aggregates are in urls[]
                    fresh = postgres_url(args.postgres)
                    assert fresh is not None
                    try:
                        sample = ingest(args, fresh[0], name)
                    finally:
                        drop_schema(args.postgres, fresh[1])
                else:
                    sample = ingest(args, ingest_url, name)
            reference(sample, total)
        finally:
            if pg is not None:
                drop_schema(args.postgres, pg[1])
    sys.stdout.flush()


if __name__ == "__main__":
    main()
