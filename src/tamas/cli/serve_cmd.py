"""``tamas serve``: load the configuration, apply overrides, hand over to the runtime."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable

from tamas.config import Config, ConfigError, load_config, with_overrides
from tamas.core.errors import TamasError

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
    from tamas.runtime.app import Running
    from tamas.runtime.app import run as run_runtime
    from tamas.web.api import api_routes
    from tamas.web.status import start_http

    services = []
    if config.server.http_port:
        srv = config.server

        async def http(running: Running) -> Callable[[], Awaitable[None]]:
            routes = api_routes(config, running)
            return await start_http(running.stack, srv.bind, srv.http_port, routes=routes)

        services.append(http)
    try:
        return run_runtime(config, services)
    except TamasError as exc:  # e.g. the database cannot be opened: a message, no traceback
        print(f"tamas: {exc}", file=sys.stderr)
        return 1
