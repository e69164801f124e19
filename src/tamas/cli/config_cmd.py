"""``tamas config check|show|demo``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tamas.config import ConfigError, demo_yaml, load_config, to_yaml
from tamas.config.center_checks import stored_flows

EXIT_INVALID = 2


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    config = commands.add_parser(
        "config",
        help="check, show or print the demo configuration",
        description="Work with Tamas configuration files (YAML; see docs/configuration.md).",
        epilog=(
            "examples:\n"
            "  tamas config demo > tamas.yaml\n"
            "  tamas config check tamas.yaml\n"
            "  tamas config show --config tamas.yaml\n"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = config.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    check = actions.add_parser(
        "check",
        help="validate a configuration file",
        description=(
            "Validate FILE. Prints OK and exits 0, or prints one line per problem "
            "(file:line:column: key: what is wrong — how to fix) and exits 2. IVR flows "
            "named {stored: true} are in the database: listed as not checked."
        ),
        epilog="example:\n  tamas config check tamas.yaml\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("file", type=Path, metavar="FILE")
    check.set_defaults(handler=run_check)

    show = actions.add_parser(
        "show",
        help="print the effective configuration",
        description=(
            "Print the configuration Tamas would run with, every default filled in, as YAML. "
            "Without --config, the built-in demo."
        ),
        epilog="example:\n  tamas config show --config tamas.yaml\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    show.add_argument("--config", type=Path, metavar="FILE", help="YAML configuration file")
    show.set_defaults(handler=run_show)

    demo = actions.add_parser(
        "demo",
        help="print the built-in demo configuration",
        description="Print the demo configuration (with comments), a starting point to copy.",
        epilog="example:\n  tamas config demo > tamas.yaml\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.set_defaults(handler=run_demo)


def run_check(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.file)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    for name in stored_flows(config):  # the check cannot see the database
        print(f"{args.file}: ivr.{name}: not checked: stored in the database "
              "(tamas serve checks it at start)")  # fmt: skip
    print(f"{args.file}: OK")
    return 0


def run_show(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    sys.stdout.write(to_yaml(config))
    return 0


def run_demo(_args: argparse.Namespace) -> int:
    sys.stdout.write(demo_yaml())
    return 0
