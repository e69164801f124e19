"""``tamas serve``: load the configuration, apply overrides, hand over to the runtime."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

from tamas.config import Config, ConfigError, load_config, with_overrides

EXIT_INVALID = 2


def effective_config(args: argparse.Namespace) -> Config:
    """The configuration ``serve`` would run with (raises ConfigError)."""
    return with_overrides(
        load_config(args.config),
        data_dir=args.data,
        bind=args.bind,
        sip_port=args.sip_port,
        http_port=args.http_port,
        sip_trace=args.sip_trace,
    )


def run(args: argparse.Namespace) -> int:
    try:
        config = effective_config(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    # Imported on use: the runtime is heavy, and ``config`` commands must not need it.
    try:
        app = importlib.import_module("tamas.runtime.app")
    except ModuleNotFoundError as exc:
        print(f"tamas: the runtime is not available: {exc}", file=sys.stderr)
        return 1
    run_runtime: Callable[[Config], int] = app.run
    return run_runtime(config)
