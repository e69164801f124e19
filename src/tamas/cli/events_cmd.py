"""``tamas events export|import``: the event log as an Asterisk queue_log file or JSON lines.

Export reads the database and then the journal's records not yet stored (read-only, so it
is safe while ``tamas serve`` runs). Import appends through the journal like the running
system does, so it needs the event log to itself: it refuses while ``tamas serve`` holds it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TextIO

from tamas.config import Config, ConfigError, load_config, with_overrides
from tamas.core.errors import TamasError
from tamas.core.events import LogRecord
from tamas.core.queue_log import QueueLogError, format_line, parse_line
from tamas.runtime.eventlog import EventLog, decode_line, encode_record, read_journal
from tamas.store import events as store_events
from tamas.store import open_store

EXIT_INVALID = 2
IMPORT_BATCH = 1000
FORMATS = ("queue_log", "jsonl")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    events = commands.add_parser(
        "events",
        help="export or import the event log (queue_log, JSON lines)",
        description="Work with the event log (see docs/event-log.md).",
        epilog=(
            "examples:\n"
            "  tamas events export --format queue_log --output queue_log\n"
            "  tamas events export --format jsonl --from 2026-11-01 --to 2026-12-01\n"
            "  tamas events import --format queue_log /var/log/asterisk/queue_log\n"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = events.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    export = actions.add_parser(
        "export",
        help="write the event log as a queue_log file or JSON lines",
        description=(
            "Write the records with FROM <= time < TO (ISO 8601; without an offset, local "
            "time) in order, to FILE or standard output. queue_log is Asterisk's format "
            "(whole seconds); jsonl is the journal's own lines, seq included."
        ),
        epilog="example:\n  tamas events export --format queue_log --from 2026-11-30\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("--format", choices=FORMATS, default="queue_log")
    export.add_argument("--from", dest="start", type=_iso, metavar="ISO", help="first time")
    export.add_argument("--to", dest="end", type=_iso, metavar="ISO", help="end (exclusive)")
    export.add_argument("--output", type=Path, metavar="FILE", help="default: standard output")
    _add_place(export)
    export.set_defaults(handler=run_export)

    imp = actions.add_parser(
        "import",
        help="append a queue_log (or JSON lines) file to the event log",
        description=(
            "Append FILE's records to the event log (new seq numbers). Lines that cannot be "
            "used are reported with their line numbers; exit 0 if every line was used, 1 if "
            "not. Refuses while tamas serve is running on the same data directory."
        ),
        epilog="example:\n  tamas events import --format queue_log queue_log\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("--format", choices=FORMATS, default="queue_log")
    imp.add_argument("file", type=Path, metavar="FILE")
    _add_place(imp)
    imp.set_defaults(handler=run_import)


def _add_place(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, metavar="FILE", help="YAML configuration file")
    parser.add_argument("--data", type=Path, metavar="DIR", help="data directory (data_dir)")


def _iso(text: str) -> float:
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None


def _config(args: argparse.Namespace) -> Config:
    return with_overrides(load_config(args.config), data_dir=args.data)


def _records(config: Config, start: float | None, end: float | None) -> Iterator[LogRecord]:
    with open_store(config.database_url_resolved()) as store:
        last = 0
        for rec in store_events.iterate(store.engine, start=start, end=end):
            last = rec.seq
            yield rec
        last = max(last, store_events.max_seq(store.engine))
    for rec in read_journal(Path(config.data_dir) / "events", after_seq=last):
        if (start is None or rec.at >= start) and (end is None or rec.at < end):
            yield rec


def run_export(args: argparse.Namespace) -> int:
    try:
        config = _config(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    encode = format_line if args.format == "queue_log" else encode_record
    out: TextIO = sys.stdout
    try:
        if args.output is not None:
            out = args.output.open("w", encoding="utf-8")
        count = 0
        for rec in _records(config, args.start, args.end):
            out.write(encode(rec) + "\n")
            count += 1
    except (OSError, TamasError) as exc:
        print(f"tamas: {exc}", file=sys.stderr)
        return 1
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"exported {count} record(s)", file=sys.stderr)
    return 0


def _parse(fmt: str, line: str, lineno: int) -> LogRecord:
    if fmt == "queue_log":
        return parse_line(line, lineno)
    try:
        return decode_line(line)
    except ValueError as exc:
        raise QueueLogError(lineno, str(exc), line) from None


def run_import(args: argparse.Namespace) -> int:
    try:
        config = _config(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    try:
        lines = args.file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"tamas: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    good: list[LogRecord] = []
    bad: list[QueueLogError] = []
    for lineno, line in enumerate(lines, start=1):
        try:
            good.append(_parse(args.format, line, lineno))
        except QueueLogError as exc:
            bad.append(exc)
    for problem in bad:
        print(f"{args.file}:{problem}", file=sys.stderr)
    try:
        with open_store(config.database_url_resolved()) as store:
            elog = EventLog.open(Path(config.data_dir) / "events", store)
            try:
                first = elog.last_seq + 1
                for i in range(0, len(good), IMPORT_BATCH):
                    elog.append(good[i : i + IMPORT_BATCH])
                last = elog.last_seq
            finally:
                elog.close()
    except (OSError, TamasError) as exc:
        print(f"tamas: {exc}", file=sys.stderr)
        return 1
    span = f" (seq {first}-{last})" if good else ""
    print(f"{args.file}: imported {len(good)} record(s){span}; {len(bad)} line(s) not used")
    return 1 if bad else 0
