"""Cross-references of the contact-center sections: queues, agents, destinations, numbers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tamas.config.center import parse_destination
from tamas.config.errors import Issue
from tamas.config.model import Config
from tamas.ivr.errors import FlowError
from tamas.ivr.hours import CalendarError, calendar_from_dict
from tamas.ivr.known import Known
from tamas.ivr.loader import load_flows

__all__ = [
    "STORED",
    "check_center",
    "dialable_numbers",
    "file_flows",
    "is_stored",
    "known_names",
    "stored_flows",
]

#: What a flow under ``ivr:`` is when its definition is in the database, not in the file.
STORED: Mapping[str, Any] = {"stored": True}


def _issue(loc: tuple[str | int, ...], message: str, hint: str, got: str | None = None) -> Issue:
    return Issue(loc=loc, position=None, message=message, hint=hint, got=got)


def _ref_hint(name: str, names: list[str], what: str) -> str:
    from tamas.config.checks import did_you_mean

    if not names:
        return f"define the {what} first"
    return did_you_mean(name, names) or f"use one of: {', '.join(sorted(names))}"


def dialable_numbers(config: Config) -> set[str]:
    """Every number a call can be sent to: extensions and applications (IVRs, queues...)."""
    numbers = {e.number for e in config.extensions}
    numbers |= {a.number for a in config.media.applications}
    return numbers


def check_center(config: Config) -> Iterator[Issue]:
    queues = [q.name for q in config.queues]
    seen: dict[str, int] = {}
    for i, q in enumerate(config.queues):
        if q.name in seen:
            yield _issue(("queues", i, "name"), f"queue '{q.name}' is already defined at "
                         f"queues[{seen[q.name]}]", "give each queue its own name")  # fmt: skip
        seen[q.name] = i
        for reason, dest in q.overflow.items():
            yield from _destination(config, ("queues", i, "overflow", reason), dest)
        for key, dest in q.exit_keys.items():
            yield from _destination(config, ("queues", i, "exit_keys", key), dest)
    agents: dict[str, int] = {}
    extensions = [e.number for e in config.extensions]
    for i, agent in enumerate(config.agents):
        if agent.id in agents:
            yield _issue(("agents", i, "id"), f"agent '{agent.id}' is already defined at "
                         f"agents[{agents[agent.id]}]", "give each agent its own id")  # fmt: skip
        agents[agent.id] = i
        for name in agent.queues:
            if name not in queues:
                yield _issue(
                    ("agents", i, "queues", name),
                    "no queue has this name",
                    _ref_hint(name, queues, "queue under 'queues:'"),
                    got=repr(name),
                )
        if agent.extension is not None and agent.extension not in extensions:
            yield _issue(("agents", i, "extension"), "no extension has this number",
                         _ref_hint(agent.extension, extensions, "extension"),
                         got=repr(agent.extension))  # fmt: skip
        if agent.login_when_registered and agent.extension is None:
            yield _issue(("agents", i, "login_when_registered"),
                         "logging in with the device needs the agent's extension",
                         "set extension, or login_when_registered: false")  # fmt: skip
    for i, ext in enumerate(config.extensions):
        for why, dest in ext.forward.items():
            yield from _destination(config, ("extensions", i, "forward", why), dest)
        yield from _hours(config, i)
    for i, app in enumerate(config.media.applications):
        if app.kind != "ring_group":
            continue
        if not app.members:
            yield _issue(
                ("media", "applications", i, "members"),
                "a ring group needs members",
                "list the extensions it rings, e.g. members: ['1001', '1002']",
            )
        for j, member in enumerate(app.members):
            if member not in extensions:
                yield _issue(
                    ("media", "applications", i, "members", j),
                    "no extension has this number",
                    _ref_hint(member, extensions, "extension"),
                    got=repr(member),
                )
        if app.fallback is not None:
            yield from _destination(config, ("media", "applications", i, "fallback"),
                                    app.fallback)  # fmt: skip
    taken = {e.number for e in config.extensions} | {a.number for a in config.media.applications}
    codes = config.features.model_dump(exclude={"pause_reasons"})
    for key, number in codes.items():
        if number in taken:
            yield _issue(("features", key), "this number is taken by an extension or application",
                         "choose a number nothing else uses", got=repr(number))  # fmt: skip
    pins: dict[str, int] = {}
    for i, agent in enumerate(config.agents):
        if agent.pin is not None and agent.pin in pins:
            yield _issue(("agents", i, "pin"), f"agents[{pins[agent.pin]}] has the same PIN",
                         "give each agent a PIN of their own")  # fmt: skip
        elif agent.pin is not None:
            pins[agent.pin] = i
    yield from _calendars(config)
    yield from _ivr(config)
    for i, app in enumerate(config.media.applications):
        if app.kind == "queue" and (app.queue is None or app.queue not in queues):
            yield _issue(("media", "applications", i, "queue"), "no queue has this name",
                         _ref_hint(app.queue or "", queues, "queue under 'queues:'"),
                         got=repr(app.queue))  # fmt: skip
        if app.kind == "ivr" and (app.flow is None or app.flow not in config.ivr):
            yield _issue(("media", "applications", i, "flow"), "no IVR flow has this name",
                         _ref_hint(app.flow or "", list(config.ivr), "flow under 'ivr:'"),
                         got=repr(app.flow))  # fmt: skip


def is_stored(definition: object) -> bool:
    """Whether a value under ``ivr:`` says "this flow is stored in the database" (a mapping
    with the key ``stored``; :func:`check_center` wants it exactly ``{stored: true}``)."""
    return isinstance(definition, Mapping) and "stored" in definition


def stored_flows(config: Config) -> list[str]:
    """The flows ``config`` names under ``ivr:`` whose definitions are in the database."""
    return [str(name) for name, value in config.ivr.items() if is_stored(value)]


def file_flows(config: Config) -> dict[str, Any]:
    """The flows ``config`` defines itself (``ivr:`` without the stored ones)."""
    return {str(name): value for name, value in config.ivr.items() if not is_stored(value)}


def known_names(config: Config) -> Known:
    """What an IVR flow of ``config`` may refer to."""
    return Known(
        queues=frozenset(q.name for q in config.queues),
        extensions=frozenset(e.number for e in config.extensions),
        mailboxes=frozenset(b.box for b in config.voicemail.boxes),
        ring_groups=frozenset(
            a.number for a in config.media.applications if a.kind == "ring_group"
        ),
        calendars=frozenset(config.calendars),
        trunks=frozenset(t.name for t in config.trunks),
    )


def _calendars(config: Config) -> Iterator[Issue]:
    for name, data in config.calendars.items():
        if not isinstance(data, dict):
            yield _issue(("calendars", name), "a calendar is a mapping",
                         "give zone, weekly, holidays and special (see docs/ivr.md)")  # fmt: skip
            continue
        try:
            calendar_from_dict(name, data)
        except CalendarError as e:
            yield _issue(("calendars", *e.path), e.reason, "see docs/ivr.md")


def _hours(config: Config, i: int) -> Iterator[Issue]:
    ext = config.extensions[i]
    if ext.hours is not None and ext.hours not in config.calendars:
        yield _issue(("extensions", i, "hours"), "no calendar has this name",
                     _ref_hint(ext.hours, list(config.calendars), "calendar under 'calendars:'"),
                     got=repr(ext.hours))  # fmt: skip
    if "closed" in ext.forward and ext.hours is None:
        yield _issue(("extensions", i, "forward", "closed"),
                     "forwarding when closed needs the extension's hours",
                     "set hours: to a calendar under 'calendars:', or remove closed")  # fmt: skip


def _ivr(config: Config) -> Iterator[Issue]:
    for name in stored_flows(config):
        if config.ivr[name] != STORED:
            yield _issue(("ivr", name), "a flow stored in the database is named with "
                         "'stored: true' and nothing else", "write {stored: true}, or give "
                         "the flow's steps here instead", got=repr(config.ivr[name]))  # fmt: skip
    try:
        load_flows(file_flows(config), known_names(config))
    except FlowError as e:
        where = f"flow '{e.flow}'" + (f", step '{e.step}'" if e.step is not None else "")
        reason, _, fix = e.reason.partition(" — ")
        yield _issue(("ivr", *e.path), f"{where}: {reason}", fix or "see docs/ivr.md")


def _destination(config: Config, loc: tuple[str | int, ...], dest: str) -> Iterator[Issue]:
    kind, target = parse_destination(dest)
    names: list[str]
    if kind == "queue":
        names = [q.name for q in config.queues]
    elif kind == "ivr":
        names = list(config.ivr)
    elif kind == "extension":
        names = [e.number for e in config.extensions]
    else:
        return
    if target not in names:
        yield _issue(loc, f"no {kind} '{target}'", _ref_hint(target, names, kind), got=repr(dest))
