"""Building the contact center from the configuration (called by the composition root)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tamas.acd import api as acd
from tamas.acd.engine import Acd
from tamas.config.center import AgentConfig, QueueConfig, parse_destination
from tamas.config.center_checks import known_names
from tamas.config.model import Config, MediaApplication
from tamas.core.events import LogRecord
from tamas.ivr.hours import calendar_from_dict
from tamas.runtime.callcenter.audio import Speaker
from tamas.runtime.callcenter.center import CallCenter
from tamas.runtime.callcenter.flows import CenterFlows
from tamas.runtime.callcenter.ivr_runner import IvrRunner

if TYPE_CHECKING:
    from tamas.runtime.anchor import LegMedia, MediaAnchor
    from tamas.runtime.apps import Applications
    from tamas.runtime.b2bua import B2BUA, Call
    from tamas.runtime.contacts import ContactLookup
    from tamas.runtime.registrar import Registrar
    from tamas.store.ivr_flows import IvrFlows

log = logging.getLogger("tamas.center")

__all__ = ["agent_spec", "build_center", "feature_applications", "queue_spec"]


def _destination(value: str) -> acd.Destination:
    kind, target = parse_destination(value)
    return acd.Destination(kind=acd.DestinationKind(kind), target=target)


def queue_spec(q: QueueConfig) -> acd.QueueSpec:
    """The ACD's view of a configured queue."""
    overflow: dict[str, acd.Destination] = {
        str(reason): _destination(dest) for reason, dest in q.overflow.items()
    }
    return acd.QueueSpec(
        name=q.name, strategy=q.strategy, ring_timeout=q.ring_timeout, retry=q.retry,
        wrapup=q.wrapup, max_callers=q.max_callers, max_wait=q.max_wait,
        join_empty=q.join_empty, leave_empty=q.leave_empty, overflow=overflow,
        announce_every=q.announce_every, announce_position=q.announce_position,
        announce_wait=q.announce_wait,
        position_every=q.announce_every if q.announce_every is not None else 60.0,
        exit_keys={k: _destination(d) for k, d in q.exit_keys.items()},
        callback_offer_wait=q.callback_offer_wait, autopause_misses=q.autopause_misses,
        tier_wait=q.tier_wait, skill_relax=q.skill_relax, survey=q.survey,
    )  # fmt: skip


def agent_spec(a: AgentConfig) -> acd.AgentSpec:
    return acd.AgentSpec(id=a.id, name=a.name, skills=dict(a.skills), queues=dict(a.queues),
                         wrapup=a.wrapup)  # fmt: skip


def feature_applications(config: Config) -> tuple[MediaApplication, ...]:
    """The agents' feature codes (``features:``) as applications of kind ``agent``."""
    f = config.features
    return (
        MediaApplication(number=f.agent_login, kind="agent", action="login"),
        MediaApplication(number=f.agent_logout, kind="agent", action="logout"),
        MediaApplication(number=f.agent_pause, kind="agent", action="pause"),
        MediaApplication(number=f.agent_unpause, kind="agent", action="unpause"),
    )


def build_center(
    config: Config, b2bua: B2BUA, anchor: MediaAnchor, apps: Applications, speaker: Speaker,
    append: Callable[[Sequence[LogRecord]], object], registrar: Registrar | None = None,
    contacts: ContactLookup | None = None, flow_store: IvrFlows | None = None,
) -> CallCenter:  # fmt: skip
    """The call center of ``config``, wired to the B2BUA's applications and hooks; its IVR
    flows are the configuration's overlaid by those of ``flow_store`` (read here, once).

    Raises StoredFlowMissing when a flow the configuration names ``{stored: true}`` is not
    in ``flow_store`` or fails its checks there."""
    # one callback policy for the center: the most generous of the queues' settings
    options = acd.AcdOptions(
        callback_attempts=max(1, max((q.callback_retries for q in config.queues), default=3)),
        callback_retry=max((q.callback_retry_delay for q in config.queues), default=300.0),
    )
    engine = Acd([queue_spec(q) for q in config.queues],
                 [agent_spec(a) for a in config.agents], options)  # fmt: skip
    center = CallCenter(config, b2bua, anchor, engine, speaker, append)
    flows = CenterFlows(config, known=known_names(config))
    if flow_store is not None:
        flows.overlay(flow_store.list())  # a stored flow that fails its checks is logged
        flows.require_stored()  # but one the file names {stored: true} must run
    calendars = {name: calendar_from_dict(name, data) for name, data in config.calendars.items()}

    def route(call: Call, kind: str, target: str, language: str) -> None:
        center.route(call, kind, target, language=language)

    center.ivr_flows = flows
    center.ivr = IvrRunner(flows, calendars, speaker, append, route, contacts=contacts)

    def enter_ivr(call: Call, leg: LegMedia, app: MediaApplication, dialed: str) -> None:
        assert center.ivr is not None and app.flow is not None
        center.take(call)  # CALLSTART first
        center.ivr.start(call, leg, app.flow)

    def enter_queue(call: Call, leg: LegMedia, app: MediaApplication, dialed: str) -> None:
        assert app.queue is not None
        center.enter_queue(call, app.queue)

    apps.handlers["ivr"] = enter_ivr
    apps.handlers["queue"] = enter_queue
    apps.handlers["agent"] = center.feature
    apps.handlers["park"] = center.parking.handle
    apps.handlers["ring_group"] = center.ring_groups.handle
    for app in feature_applications(config):
        apps.apps.setdefault(app.number, app)
    if registrar is not None:
        registrar.changed_hooks.append(center.registered)
    log.info("contact center: %d queues, %d agents, %d IVR flows", len(config.queues),
             len(config.agents), len(flows))  # fmt: skip
    return center
