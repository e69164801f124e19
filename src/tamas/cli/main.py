"""The ``tamas`` command: argument parsing and dispatch to the command modules."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tamas import __version__
from tamas.cli import config_cmd, events_cmd, report_cmd, serve_cmd, simulate_cmd, wfm_cmd

DESCRIPTION = "Tamas: a self-hosted contact center (SIP telephony, IVR, queues, reports)."

EPILOG = """\
commands:
  serve            run the contact center (SIP, WebSocket and HTTP listeners)
  config check     validate a configuration file
  config show      print the effective configuration as YAML
  config demo      print the built-in demo configuration
  events export    write the event log as an Asterisk queue_log file or JSON lines
  events import    append a queue_log file to the event log
  simulate         run the ACD on a virtual clock with synthetic calls; print KPIs
  report NAME      a report (queues, agents, intervals, kpis, missed_calls, ...) as
                   JSON, CSV or XLSX; report list describes them
  staffing         agents needed for one interval (Erlang C, or Erlang A with --patience)
  forecast         next week's calls per 15 minutes from the event log, with a staffing plan

examples:
  tamas serve                              demo center on 127.0.0.1 (extensions 1001-1010)
  tamas serve --config tamas.yaml --data /var/lib/tamas
  tamas config demo > tamas.yaml           start your own configuration from the demo
  tamas config check tamas.yaml            exit 0 if valid, 2 with file:line messages if not
  tamas events export --output queue_log   the event log for tools that read Asterisk's
  tamas simulate --calls 100000 --agents 11 --rate 200   measured KPIs beside Erlang C
  tamas report queues --from 2026-11-01 --to 2026-11-30 --format csv
  tamas staffing --calls 100 --aht 180 --sl 0.8 --threshold 20 --interval 1800
  tamas COMMAND --help                     details of one command

exit status: 0 success, 2 invalid configuration or usage, 1 other errors.
docs: docs/cli.md, docs/configuration.md, docs/event-log.md, docs/kpis.md, docs/reports.md,
docs/staffing.md and docs/simulator.md
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tamas",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tamas {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    _add_serve(commands)
    config_cmd.add_parser(commands)
    events_cmd.add_parser(commands)
    simulate_cmd.add_parser(commands)
    report_cmd.add_parser(commands)
    wfm_cmd.add_parser(commands)
    return parser


def _add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the contact center",
        description=(
            "Run Tamas until interrupted (Ctrl-C or SIGTERM). Without --config the built-in "
            "demo center runs: extensions 1001-1010 (passwords demo1001-demo1010) on 127.0.0.1."
        ),
        epilog=(
            "examples:\n"
            "  tamas serve\n"
            "  tamas serve --config tamas.yaml\n"
            "  tamas serve --config tamas.yaml --bind 0.0.0.0   (change demo passwords first!)\n"
            "  tamas serve --sip-port 5080 --http-port 8081 --sip-trace\n"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--config", type=Path, metavar="FILE", help="YAML configuration file")
    serve.add_argument("--data", type=Path, metavar="DIR", help="data directory (data_dir)")
    serve.add_argument("--bind", metavar="ADDR", help="IP address to listen on (server.bind)")
    serve.add_argument("--sip-port", type=int, metavar="N", help="SIP UDP/TCP port")
    serve.add_argument("--http-port", type=int, metavar="N", help="HTTP port")
    serve.add_argument(
        "--sip-trace", action="store_true", default=None, help="log every SIP message"
    )
    serve.set_defaults(handler=serve_cmd.run)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tamas`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
