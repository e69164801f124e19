"""``tamas report NAME``: any report as JSON, CSV or XLSX; ``tamas report list``; and
``tamas report rebuild`` (recompute the interval aggregates from the event log).

Reads the database the server writes (safe while ``tamas serve`` runs). Before a standard
report it brings the aggregates up to date with the stored event log (the server does this
continuously; after ``tamas events import`` with the server stopped, this is what counts the
imported history).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import sqlalchemy as sa

from tamas.config import Config, ConfigError, load_config, with_overrides
from tamas.core.errors import TamasError
from tamas.reporting.query import QueryError
from tamas.reporting.settings import ReportSettings
from tamas.runtime.reports import ReportMaintainer
from tamas.runtime.reportservice import FORMATS, REPORTS, ReportService
from tamas.store import open_store
from tamas.store import reports as store_reports
from tamas.store.reports import ReportStateConflict

EXIT_INVALID = 2


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    names = ", ".join(sorted(REPORTS))
    report = commands.add_parser(
        "report",
        help="print a report (queues, agents, intervals, kpis, missed_calls, ...)",
        description=(
            f"Print the report NAME ({names}) for a time range, or 'list' to describe them, "
            "or 'rebuild' to recompute the interval aggregates from the event log. "
            "Times are in the reports' time zone (reports.timezone, or --tz): 2026-11-01, "
            "2026-11-01T08:30, a Jalali date such as 1405/09/10, today, yesterday or now; "
            "a bare --to date includes that whole day. Default range: today so far."
        ),
        epilog=(
            "examples:\n"
            "  tamas report queues --from 2026-11-01 --to 2026-11-30 --format csv\n"
            "  tamas report agents --from yesterday --to yesterday --group team\n"
            "  tamas report intervals --interval 30 --queue sales --format xlsx -o day.xlsx\n"
            "  tamas report missed_calls --from 1405/09/01 --calendar jalali --tz Asia/Tehran\n"
            "  tamas report kpis --from 2026-11-01\n"
            "  tamas report adherence --from yesterday --to yesterday --team sales-team\n"
            "  tamas report forecast_accuracy --from 2026-11-21 --to 2026-11-27\n"
            "  tamas report agents --format xlsx --language fa -o agents.xlsx\n"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("name", metavar="NAME", help="a report name, list, or rebuild")
    report.add_argument("--from", dest="start", metavar="TIME", help="start (default: today)")
    report.add_argument("--to", dest="end", metavar="TIME", help="end (default: now)")
    report.add_argument("--queue", metavar="Q[,Q]", help="only these queues")
    report.add_argument("--agent", metavar="A[,A]", help="only these agents")
    report.add_argument("--team", metavar="TEAM", help="only this team (reports.teams)")
    report.add_argument("--channel", metavar="CH", help="only this channel (voice)")
    report.add_argument("--group", metavar="BY",
                        help="total, queue, agent, team, interval or day")  # fmt: skip
    report.add_argument("--interval", metavar="MIN", help="15, 30 or 60 (minutes)")
    report.add_argument("--tz", metavar="ZONE", help="IANA time zone (default reports.timezone)")
    report.add_argument("--calendar", choices=("gregorian", "jalali"),
                        help="how dates are written (default reports.calendar)")  # fmt: skip
    report.add_argument("--language", choices=("en", "fa", "ar"),
                        help="column titles of CSV/XLSX (default reports.language)")  # fmt: skip
    report.add_argument("--format", choices=FORMATS, default="json")
    report.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="write to FILE (default: standard output)")  # fmt: skip
    report.add_argument("--config", type=Path, metavar="FILE", help="YAML configuration file")
    report.add_argument("--data", type=Path, metavar="DIR", help="data directory (data_dir)")
    report.set_defaults(handler=run)


def catch_up(engine: sa.Engine, settings: ReportSettings, zone: str) -> int:
    """Fold stored events not yet in the aggregates; returns how many. A running server
    doing the same at that moment wins (its work is not repeated)."""
    maintainer, total = ReportMaintainer(engine, settings, zone=zone), 0
    try:
        while count := maintainer.step():
            total += count
    except ReportStateConflict:
        pass  # tamas serve is applying the same events: they will be there
    return total


def _params(args: argparse.Namespace) -> dict[str, str]:
    pairs = {"from": args.start, "to": args.end, "queue": args.queue, "agent": args.agent,
             "team": args.team, "channel": args.channel, "group": args.group,
             "interval": args.interval, "tz": args.tz, "calendar": args.calendar,
             "language": args.language}  # fmt: skip
    return {k: v for k, v in pairs.items() if v}


def _list() -> int:
    for info in sorted(REPORTS.values(), key=lambda i: i.name):
        groups = ", ".join(g.value for g in info.groups)
        source = "raw event log" if info.raw else "interval aggregates"
        print(f"{info.name:18s} {info.title} — {info.description}")
        print(f"{'':18s} from the {source}" + (f"; group by {groups}" if groups else ""))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.name == "list":
        return _list()
    try:
        config: Config = with_overrides(load_config(args.config), data_dir=args.data)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    if args.format == "xlsx" and args.output is None:
        print("tamas: --format xlsx needs --output FILE", file=sys.stderr)
        return EXIT_INVALID
    settings = config.reports.settings()
    try:
        with open_store(config.database_url_resolved()) as store:
            if args.name == "rebuild":
                last = store_reports.rebuild(store.engine, settings,
                                             zone=config.reports.timezone)  # fmt: skip
                print(f"aggregates rebuilt from the event log (through seq {last}), days in "
                      f"{config.reports.timezone}", file=sys.stderr)  # fmt: skip
                return 0
            service = ReportService(store.engine, config.reports)
            params = _params(args)
            query = service.query(params)
            if not REPORTS.get(args.name, REPORTS["queues"]).raw:
                catch_up(store.engine, settings, config.reports.timezone)
            table = service.run(args.name, query)
            out = service.export(table, args.format, service.display(params))
    except QueryError as exc:
        print(f"tamas report: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except (OSError, TamasError) as exc:
        print(f"tamas: {exc}", file=sys.stderr)
        return 1
    if args.output is not None:
        args.output.write_bytes(out.body)
        print(f"wrote {args.output} ({len(table.rows)} row(s))", file=sys.stderr)
    else:
        sys.stdout.write(out.body.decode("utf-8-sig"))
        if not out.body.endswith(b"\n"):
            sys.stdout.write("\n")
    return 0
