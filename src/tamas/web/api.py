"""Every route of the HTTP API, built from the configuration and the running server.

``tamas serve`` serves these beside the status routes (``tamas.web.status``); tests that
need the whole API build it the same way.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from tamas import __version__
from tamas.config import Config
from tamas.runtime.app import Running
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
from tamas.web.openapi import openapi_document, openapi_routes
from tamas.web.realtime import realtime_routes
from tamas.web.recordings import recording_routes
from tamas.web.reports import report_routes
from tamas.web.voicemail import voicemail_routes
from tamas.web.wfm import wfm_routes

__all__ = ["api_routes"]


def api_routes(config: Config, running: Running) -> list[BaseRoute]:
    """The routes of every API (each behind the loopback-or-token guard), and the OpenAPI
    document describing them (``GET /api/v1/openapi.json``, open: it holds no data)."""
    token = config.server.api_token
    engine = running.store.engine
    routes = recording_routes(running.recordings, running.store, token=token)
    agents = {a.id for a in config.agents}
    service = MessageService(Voicemails(engine), config.data_dir,
                             known_agent=agents.__contains__)  # fmt: skip
    routes += voicemail_routes(service, token=token)
    routes += contact_routes(Contacts(engine), token=token)
    routes += wfm_routes(running.store, make_guard(token, api="wfm"),
                         zone=config.reports.timezone)  # fmt: skip
    reports = ReportService(engine, config.reports)
    routes += report_routes(reports, token=token)
    if running.live is not None:
        maintainer = running.reports

        def today() -> object:
            seq = maintainer.last_seq if maintainer is not None else None
            return {**reports.today(), "through_seq": seq}

        routes += realtime_routes(running.live, token=token, today=today)
    if running.center is not None:
        routes += agent_routes(running.center, token=token)
        routes += callback_routes(running.center, token=token)
        routes += ivr_routes(running.center, IvrFlows(engine), token=token)
    return [*routes, *openapi_routes(openapi_document(version=__version__))]
