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
    from tamas.runtime.reportservice import ReportService
    from tamas.runtime.voicemail_messages import MessageService
    from tamas.store.contacts import Contacts
    from tamas.store.ivr_flows import IvrFlows
    from tamas.store.voicemail import Voicemails
    from tamas.web.agents import agent_routes
    from tamas.web.callbacks import callback_routes
    from tamas.web.contacts import contact_routes
    from tamas.web.guard import make_guard
    from tamas.web.ivr import ivr_routes
    from tamas.web.realtime import realtime_routes
    from tamas.web.recordings import recording_routes
    from tamas.web.reports import report_routes
    from tamas.web.status import start_http
    from tamas.web.voicemail import voicemail_routes
    from tamas.web.wfm import wfm_routes

    services = []
    if config.server.http_port:
        srv = config.server

        async def http(running: Running) -> Callable[[], Awaitable[None]]:
            routes = recording_routes(running.recordings, running.store, token=srv.api_token)
            reports = ReportService(running.store.engine, config.reports)
            agents = {a.id for a in config.agents}
            service = MessageService(Voicemails(running.store.engine), config.data_dir,
                                     known_agent=agents.__contains__)  # fmt: skip
            routes += voicemail_routes(service, token=srv.api_token)
            routes += contact_routes(Contacts(running.store.engine), token=srv.api_token)
            routes += wfm_routes(running.store, make_guard(srv.api_token, api="wfm"),
                                 zone=config.reports.timezone)  # fmt: skip
            routes += report_routes(reports, token=srv.api_token)
            if running.live is not None:
                maintainer = running.reports

                def today() -> object:
                    seq = maintainer.last_seq if maintainer is not None else None
                    return {**reports.today(), "through_seq": seq}

                routes += realtime_routes(running.live, token=srv.api_token, today=today)
            if running.center is not None:
                routes += agent_routes(running.center, token=srv.api_token)
                routes += callback_routes(running.center, token=srv.api_token)
                routes += ivr_routes(running.center, IvrFlows(running.store.engine),
                                     token=srv.api_token)  # fmt: skip
            return await start_http(running.stack, srv.bind, srv.http_port, routes=routes)

        services.append(http)
    try:
        return run_runtime(config, services)
    except TamasError as exc:  # e.g. the database cannot be opened: a message, no traceback
        print(f"tamas: {exc}", file=sys.stderr)
        return 1
