"""The center's IVR flows: the configuration file's, overlaid by the ones stored in the database.

Theory of operation
-------------------
Two sources give flows. The ``ivr:`` section of the configuration is parsed once, when the
center is built. The database (:class:`tamas.store.ivr_flows.IvrFlows`) holds the versions
edited through the API; :meth:`CenterFlows.overlay` lays them over the file's at start, and
a stored flow wins over a file flow of the same name (it is the edited version). File flows
are never copied into the database: the file stays their source.

Every stored definition is checked exactly as the file's flows are: the IVR loader
(:func:`tamas.ivr.load_flows`) with the same :class:`~tamas.ivr.known.Known` (queues,
extensions, mailboxes, ring groups, calendars, trunks, languages of the configuration). A
definition that fails is refused with the loader's :class:`~tamas.ivr.errors.FlowError`
(flow, step, key path, reason) and nothing changes. A stored flow that no longer passes at
start (the configuration changed under it) is kept aside with its error, not run: the file's
version, if any, runs instead, and the API shows the error until the flow is fixed or deleted.

This object is the mapping the :class:`~tamas.runtime.callcenter.ivr_runner.IvrRunner` reads
when a call *enters* a flow. A change replaces the entry for new calls; a call already in a
flow holds its own parsed :class:`~tamas.ivr.model.Flow` and finishes with it.

A flow can live in the database only: the file names it ``NAME: {stored: true}`` under
``ivr:`` so that its applications and ``ivr:NAME`` destinations pass the configuration
check, which cannot see the database. Such a flow must be stored, and pass its checks,
when the center starts: :meth:`CenterFlows.require_stored` (called by ``build_center``
with the database) raises :class:`StoredFlowMissing` otherwise, and ``tamas serve``
refuses to start with its message.

Removing a stored flow falls back to the file's version. Removing the last version of a
flow is refused while something still sends calls to it (:meth:`references`): an ``ivr``
application's number, or a destination ``ivr:NAME`` (a queue's overflow or exit key, an
extension's forwarding, a ring group's fallback), or the file's ``{stored: true}``. Flows
do not name other flows (a flow's targets are steps and queue/extension/ring group/
voicemail/external/hangup destinations), so no flow is a reference.

No IO here: the caller reads and writes the database and then tells this object.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tamas.config.center import parse_destination
from tamas.config.center_checks import file_flows, known_names, stored_flows
from tamas.config.model import Config
from tamas.core.errors import TamasError
from tamas.ivr.errors import FlowError
from tamas.ivr.known import Known
from tamas.ivr.loader import load_flows
from tamas.ivr.model import Flow
from tamas.store.ivr_flows import StoredFlow

log = logging.getLogger("tamas.ivr")

__all__ = [
    "CenterFlows",
    "FlowInUse",
    "FlowInfo",
    "FlowSource",
    "StoredFlowMissing",
    "flow_references",
]


class FlowSource(enum.StrEnum):
    YAML = "yaml"
    DATABASE = "database"


class FlowInUse(TamasError):
    """The flow cannot go: ``references`` still send calls to it."""

    def __init__(self, name: str, references: list[str]) -> None:
        super().__init__(f"IVR flow {name!r} is in use by {', '.join(references)}; "
                         "point those elsewhere first")  # fmt: skip
        self.name = name
        self.references = references


class StoredFlowMissing(TamasError):
    """Flows the configuration names ``{stored: true}`` are not in effect at start: the
    database lacks them, or holds versions that fail their checks."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        lines = [f"IVR flow {name!r} (ivr.{name}: {{stored: true}} in the configuration) "
                 f"{why}" for name, why in problems.items()]  # fmt: skip
        super().__init__(
            "; ".join(lines) + ". Store it through the API (PUT /api/v1/ivr/flows/NAME, on a "
            "server whose configuration does not name it yet), or define it under ivr: in "
            "the file"
        )
        self.problems = dict(problems)


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowInfo:
    """One flow as the API shows it."""

    name: str
    #: Where the version in effect (or, for a stored flow that fails its checks, the
    #: version shown) comes from.
    source: FlowSource
    #: The definition, as under ``ivr:`` in YAML.
    definition: Mapping[str, Any]
    #: Whether the configuration file has a flow of this name (what a delete falls back to).
    in_yaml: bool
    updated_at: float | None = None
    updated_by: str | None = None
    #: Why a stored flow is not in effect (it fails its checks against the configuration).
    error: str | None = None


def flow_references(config: Config, name: str) -> list[str]:
    """What in ``config`` sends calls to flow ``name`` (a readable label per reference)."""
    found: list[str] = []
    if name in stored_flows(config):
        found.append(f"the configuration's ivr.{name}: {{stored: true}}")

    def destination(where: str, value: str | None) -> None:
        if value is not None and parse_destination(value) == ("ivr", name):
            found.append(f"{where} ({value})")

    for i, app in enumerate(config.media.applications):
        if app.kind == "ivr" and app.flow == name:
            found.append(f"application {app.number} (media.applications[{i}].flow)")
        destination(f"ring group {app.number} fallback (media.applications[{i}].fallback)",
                    app.fallback)  # fmt: skip
    for i, q in enumerate(config.queues):
        for reason, value in q.overflow.items():
            destination(f"queue {q.name} overflow {reason} (queues[{i}].overflow.{reason})",
                        value)  # fmt: skip
        for key, value in q.exit_keys.items():
            destination(f"queue {q.name} exit key {key} (queues[{i}].exit_keys.{key})", value)
    for i, ext in enumerate(config.extensions):
        for why, value in ext.forward.items():
            destination(f"extension {ext.number} forward {why} (extensions[{i}].forward.{why})",
                        value)  # fmt: skip
    return found


class CenterFlows(Mapping[str, Flow]):
    """The flows in effect by name; see the module's docstring."""

    def __init__(self, config: Config, *, known: Known | None = None) -> None:
        """Parse the configuration's flows (FlowError if one is bad, as at configuration
        check time)."""
        self.config = config
        self.known = known_names(config) if known is None else known
        self._yaml_data: dict[str, Any] = file_flows(config)
        #: The flows the file names ``{stored: true}``: their definitions are the database's.
        self.declared_stored = tuple(stored_flows(config))
        self._yaml = load_flows(self._yaml_data, self.known)
        self._stored: dict[str, tuple[StoredFlow, Flow]] = {}
        self._broken: dict[str, tuple[StoredFlow, FlowError]] = {}
        self._active: dict[str, Flow] = dict(self._yaml)
        #: Set once :meth:`overlay` has laid the database's flows over the file's.
        self.overlaid = False

    # -- the mapping the runner reads -------------------------------------------------------
    def __getitem__(self, name: str) -> Flow:
        return self._active[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._active)

    def __len__(self) -> int:
        return len(self._active)

    # -- changes ---------------------------------------------------------------------------
    def check(self, name: str, definition: Any) -> Flow:
        """``definition`` parsed as flow ``name``; FlowError naming flow, step, path, reason."""
        return load_flows({name: definition}, self.known)[name]

    def overlay(self, stored: Iterable[StoredFlow]) -> list[FlowError]:
        """Lay the database's flows over the file's (at start); the errors of those that
        fail their checks (logged; they are kept aside, not run)."""
        errors: list[FlowError] = []
        for flow in stored:
            try:
                self.put(flow)
            except FlowError as exc:
                self._broken[flow.name] = (flow, exc)
                errors.append(exc)
                log.error("stored %s; it is not used until it is fixed or deleted", exc)
        self.overlaid = True
        return errors

    def require_stored(self) -> None:
        """StoredFlowMissing unless every flow the file names ``{stored: true}`` is in
        effect (call it after :meth:`overlay`)."""
        problems: dict[str, str] = {}
        for name in self.declared_stored:
            if name in self._broken:
                problems[name] = f"fails its checks: {self._broken[name][1]}"
            elif name not in self._stored:
                problems[name] = "is not in the database"
        if problems:
            raise StoredFlowMissing(problems)

    def put(self, stored: StoredFlow) -> Flow:
        """Check ``stored`` and put it in effect for new calls (FlowError: nothing changes)."""
        flow = self.check(stored.name, stored.definition)
        self._broken.pop(stored.name, None)
        self._stored[stored.name] = (stored, flow)
        self._active[stored.name] = flow
        return flow

    def is_stored(self, name: str) -> bool:
        return name in self._stored or name in self._broken

    def references(self, name: str) -> list[str]:
        """What would lose its flow if the stored ``name`` were removed (nothing when the
        file has a version to fall back to)."""
        if name in self._yaml:
            return []
        return flow_references(self.config, name)

    def remove(self, name: str) -> None:
        """Forget the stored ``name`` (the file's version, if any, takes over); FlowInUse if
        something still sends calls to it and there is nothing to fall back to."""
        refs = self.references(name)
        if refs:
            raise FlowInUse(name, refs)
        self._stored.pop(name, None)
        self._broken.pop(name, None)
        if name in self._yaml:
            self._active[name] = self._yaml[name]
        else:
            self._active.pop(name, None)

    # -- what the API shows ------------------------------------------------------------------
    def info(self, name: str) -> FlowInfo | None:
        in_yaml = name in self._yaml
        stored: StoredFlow | None = None
        error: str | None = None
        if name in self._stored:
            stored = self._stored[name][0]
        elif name in self._broken:
            stored, exc = self._broken[name]
            error = str(exc)
        if stored is not None:
            return FlowInfo(name=name, source=FlowSource.DATABASE, definition=stored.definition,
                            in_yaml=in_yaml, updated_at=stored.updated_at,
                            updated_by=stored.updated_by, error=error)  # fmt: skip
        if in_yaml:
            return FlowInfo(name=name, source=FlowSource.YAML,
                            definition=self._yaml_data[name], in_yaml=True)  # fmt: skip
        return None

    def infos(self) -> list[FlowInfo]:
        """Every flow (in effect, or stored but failing its checks), by name."""
        names = sorted({*self._active, *self._broken})
        return [info for info in map(self.info, names) if info is not None]
