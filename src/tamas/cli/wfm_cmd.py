"""``tamas staffing`` (Erlang C/A for one interval) and ``tamas forecast`` (next week's calls
per 15 minutes from the event log, the held-out accuracy and the staffing plan).

docs/staffing.md describes the formulas, the forecast method and the output.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from tamas.cli.report_cmd import catch_up
from tamas.config import ConfigError, load_config, with_overrides
from tamas.core.errors import TamasError
from tamas.reporting.export import DisplayFormat, ExportError, format_value, to_csv
from tamas.reporting.table import Table
from tamas.store import open_store
from tamas.web.wfm import MEASURED, QueueForecast, StaffingGoal, forecast_queues
from tamas.wfm.forecast import ForecastError
from tamas.wfm.history import zone_of
from tamas.wfm.staffing import StaffingError, StaffingInput, plan, staffing_table

__all__ = ["add_parser", "run_forecast", "run_staffing"]

EXIT_INVALID = 2
FORMATS = ("text", "json", "csv")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    staffing = commands.add_parser(
        "staffing",
        help="agents needed for one interval's calls (Erlang C, or Erlang A with --patience)",
        description=(
            "The fewest agents who answer --sl of the calls within --threshold seconds, "
            "the headcount to schedule after --shrinkage, and the expected service level, "
            "ASA, occupancy and (Erlang A) abandon rate."
        ),
        epilog=(
            "examples:\n"
            "  tamas staffing --calls 100 --aht 180 --sl 0.8 --threshold 20 --shrinkage 0.3\n"
            "  tamas staffing --calls 100 --aht 180 --patience 60 --format json\n"
            "docs: docs/staffing.md\n"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    staffing.add_argument("--calls", type=float, required=True, metavar="N",
                          help="calls expected in the interval")  # fmt: skip
    staffing.add_argument("--interval", type=float, default=1800.0, metavar="S",
                          help="interval length in seconds (default 1800)")  # fmt: skip
    _add_goal(staffing, aht_required=True)
    staffing.add_argument("--format", choices=FORMATS, default="text")
    staffing.set_defaults(handler=run_staffing)

    fc = commands.add_parser(
        "forecast",
        help="next week's calls per 15 minutes from the event log, with a staffing plan",
        description=(
            "Count arrivals (ENTERQUEUE) per 15 minutes in the stored event log, forecast "
            "the 7 days from tomorrow (weighted same-slot average of the last --weeks weeks, "
            "local time of --zone), measure the method on the last --holdout complete weeks "
            "(WAPE, MAPE) and staff each interval for --sl within --threshold. Without "
            "--aht each interval is staffed with the handle time measured in the same "
            "history (talk + hold + after-call work / handled calls of the same slot of "
            "the week, with fallbacks for sparse slots: docs/staffing.md); --aht S "
            "overrides it. --patience measured uses Erlang A with the patience measured "
            "in the history."
        ),
        epilog=(
            "examples:\n"
            "  tamas forecast --data /var/lib/tamas --zone Asia/Tehran\n"
            "  tamas forecast --config tamas.yaml --queue sales --weeks 6 --aht 240 "
            "--shrinkage 0.3 --format csv\n"
            "  tamas forecast --queue sales --patience measured --format json\n"
            "docs: docs/staffing.md\n"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fc.add_argument("--config", type=Path, metavar="FILE", help="YAML configuration file")
    fc.add_argument("--data", type=Path, metavar="DIR", help="data directory (data_dir)")
    fc.add_argument("--queue", metavar="Q", help="only this queue (default: every queue)")
    fc.add_argument("--weeks", type=int, default=4, metavar="N",
                    help="weeks of history weighed (default 4, at least 2)")  # fmt: skip
    fc.add_argument("--holdout", type=int, default=1, metavar="N",
                    help="complete weeks held out to measure accuracy (default 1)")  # fmt: skip
    fc.add_argument("--zone", metavar="TZ",
                    help="the center's IANA time zone, e.g. Asia/Tehran "
                    "(default: reports.timezone of the configuration)")  # fmt: skip
    _add_goal(fc, aht_required=False, measured=True)
    fc.add_argument("--format", choices=FORMATS, default="text")
    fc.set_defaults(handler=run_forecast)


def _patience(text: str) -> float | str:
    if text == MEASURED:
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not seconds or {MEASURED!r}: {text!r}") from None


def _add_goal(
    parser: argparse.ArgumentParser, *, aht_required: bool, measured: bool = False
) -> None:
    parser.add_argument("--aht", type=float, required=aht_required, metavar="S",
                        help="average handle time in seconds (talk + hold + after-call work)"
                        + ("; default: measured per interval in the history" if measured
                           else ""))  # fmt: skip
    parser.add_argument("--sl", type=float, default=0.8, metavar="SHARE",
                        help="target service level, 0-1 (default 0.8)")  # fmt: skip
    parser.add_argument("--threshold", type=float, default=20.0, metavar="S",
                        help="service level threshold in seconds (default 20)")  # fmt: skip
    parser.add_argument("--patience", type=_patience if measured else float,
                        metavar="S|measured" if measured else "S",
                        help="mean patience in seconds: Erlang A (default: Erlang C)"
                        + (f"; {MEASURED!r}: the patience measured in the history"
                           if measured else ""))  # fmt: skip
    parser.add_argument("--shrinkage", type=float, default=0.0, metavar="SHARE",
                        help="share of paid time off the phones, 0-1 (default 0)")  # fmt: skip
    parser.add_argument("--max-occupancy", type=float, metavar="SHARE",
                        help="highest acceptable occupancy, e.g. 0.85")  # fmt: skip


def run_staffing(args: argparse.Namespace) -> int:
    try:
        need = StaffingInput(
            calls=args.calls,
            interval=args.interval,
            aht=args.aht,
            target=args.sl,
            threshold=args.threshold,
            patience=args.patience,
            shrinkage=args.shrinkage,
            max_occupancy=args.max_occupancy,
        )
    except StaffingError as exc:
        print(f"tamas staffing: {exc}", file=sys.stderr)
        return EXIT_INVALID
    params: dict[str, Any] = {
        "interval": args.interval,
        "target": args.sl,
        "threshold": args.threshold,
        "patience": args.patience,
        "shrinkage": args.shrinkage,
        "max_occupancy": args.max_occupancy,
    }
    table = staffing_table(plan([need]), params=params, target=args.sl)
    fmt = DisplayFormat()
    if args.format == "json":
        print(json.dumps(table.as_json(), indent=2))
    elif args.format == "csv":
        sys.stdout.write(to_csv(table, fmt))
    else:
        row = table.rows[0]
        for column in table.columns:
            if column.key == "start":
                continue
            text = format_value(row[column.key], column.kind, fmt) or "-"
            print(f"{column.title:<14} {text}")
    return 0


def run_forecast(args: argparse.Namespace) -> int:
    try:
        config = with_overrides(load_config(args.config), data_dir=args.data)
        args.zone = args.zone or config.reports.timezone
        zone_of(args.zone)
        fmt = DisplayFormat(zone=args.zone)
        measured = args.patience == MEASURED
        goal = StaffingGoal(aht=args.aht, target=args.sl, threshold=args.threshold,
                            patience=None if measured else args.patience,
                            shrinkage=args.shrinkage, max_occupancy=args.max_occupancy,
                            patience_measured=measured)  # fmt: skip
        goal.check()
        if args.weeks < 2 or args.holdout < 1:
            raise StaffingError("--weeks must be at least 2 and --holdout at least 1")
    except (ConfigError, ExportError, ValueError) as exc:
        print(f"tamas forecast: {exc}", file=sys.stderr)
        return EXIT_INVALID
    try:
        with open_store(config.database_url_resolved()) as store:
            # the measured AHT is read from the interval aggregates: bring them up to date
            catch_up(store.engine, config.reports.settings(), config.reports.timezone)
            result = forecast_queues(store, now=time.time(), zone=args.zone, goal=goal,
                                     queue=args.queue, weeks=args.weeks,
                                     holdout=args.holdout)  # fmt: skip
    except ForecastError as exc:
        print(f"tamas forecast: {exc}", file=sys.stderr)
        return 1
    except (OSError, TamasError) as exc:
        print(f"tamas: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps({"queues": [q.as_json() for q in result]}, indent=2))
        return 0
    for q in result:
        if args.format == "csv":
            if q.accuracy is not None:
                sys.stdout.write(to_csv(q.accuracy, fmt) + "\r\n")
            sys.stdout.write(to_csv(q.plan, fmt) + "\r\n")
            continue
        fc = q.forecast
        print(f"queue {q.queue}: {fc.total:.0f} calls forecast for the 7 days from "
              f"{format_value(fc.start, q.plan.column('start').kind, fmt)} ({args.zone}), "
              f"{fc.weeks} weeks weighed, trend x{fc.trend:.3f}")  # fmt: skip
        print("  " + _aht_line(q, args.aht))
        if q.patience_source != "none":
            print(
                f"  patience: {q.plan.params['patience']:.0f} s, {q.patience_source} "
                f"(Erlang A; {q.patience.abandoned} abandoned calls in the history)"
            )
        if q.accuracy is None:
            print(f"  accuracy: not measured ({q.accuracy_error})")
        else:
            _print_table(q.accuracy, fmt)
        _print_table(_busy(q.plan), fmt)
        print()
    return 0


def _aht_line(q: QueueForecast, given: float | None) -> str:
    if given is not None:
        return f"AHT: {given:g} s given (--aht) for every interval"
    counts = q.aht.sources()
    where = ", ".join(f"{n} {source}" for source, n in counts.items() if n)
    overall = "-" if q.aht.overall is None else f"{q.aht.overall:.0f} s"
    return (
        f"AHT: measured per interval in the history ({q.aht.handled} handled calls, "
        f"{overall} overall; intervals by source: {where})"
    )


def _busy(table: Table) -> Table:
    """The plan without the intervals that need nobody (for reading on a terminal)."""
    rows = tuple(r for r in table.rows if r["agents"])
    return Table(name=table.name, title=table.title + " (intervals with calls)",
                 columns=table.columns, rows=rows, params=table.params,
                 targets=table.targets)  # fmt: skip


def _print_table(table: Table, fmt: DisplayFormat) -> None:
    cells = [[c.title for c in table.columns]]
    for row in table.rows:
        cells.append([format_value(row[c.key], c.kind, fmt) for c in table.columns])
    widths = [max(len(line[i]) for line in cells) for i in range(len(table.columns))]
    print(f"  {table.title}")
    for line in cells:
        print("  " + "  ".join(text.rjust(w) for text, w in zip(line, widths, strict=True)))
