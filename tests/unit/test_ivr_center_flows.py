"""The center's IVR flows: the file's overlaid by stored ones, checked like the file's, and
what still sends calls to a flow (:mod:`tamas.runtime.callcenter.flows`)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import yaml

from tamas.config import parse_config
from tamas.config.model import Config
from tamas.ivr.errors import FlowError
from tamas.ivr.model import Destination, DestinationKind, MenuStep
from tamas.runtime.callcenter.flows import CenterFlows, FlowInUse, FlowSource, flow_references
from tamas.store.ivr_flows import StoredFlow

CONFIG = """
queues:
  - {name: sales, overflow: {timeout: "ivr:main"}}
  - {name: support}
extensions:
  - {number: "1001", name: Al, password: secret-1001, forward: {busy: "ivr:main"}}
calendars:
  office: {zone: Asia/Tehran, weekly: {sat: ["08:00-16:00"]}}
media:
  anchor: true
  applications:
    - {number: "500", kind: ivr, flow: main}
ivr:
  main:
    steps:
      - id: menu
        menu: {prompt: "1 for sales", options: {"1": {queue: sales}}}
  night:
    steps:
      - {id: closed, play: "We are closed"}
"""


def flow_def(queue: str = "support", **menu: Any) -> dict[str, Any]:
    options = {"1": {"queue": queue}}
    return {"steps": [{"id": "menu", "menu": {"prompt": "Press 1", "options": options, **menu}}]}


def stored(name: str, definition: dict[str, Any], at: float = 5.0) -> StoredFlow:
    return StoredFlow(name=name, definition=definition, updated_at=at, updated_by="api")


@pytest.fixture
def config() -> Config:
    return parse_config(CONFIG, "test.yaml")


def option_1(flows: CenterFlows, name: str) -> Destination:
    step = flows[name].steps[0]
    assert isinstance(step, MenuStep)
    target = dict(step.options)["1"]
    assert isinstance(target, Destination)
    return target


def test_the_file_flows_until_the_database_overlays_them(config: Config) -> None:
    flows = CenterFlows(config)
    assert sorted(flows) == ["main", "night"] and not flows.overlaid
    assert option_1(flows, "main") == Destination(kind=DestinationKind.QUEUE, target="sales")
    errors = flows.overlay([stored("main", flow_def("support")), stored("extra", flow_def())])
    assert errors == [] and flows.overlaid
    assert sorted(flows) == ["extra", "main", "night"]
    assert option_1(flows, "main").target == "support"  # the stored version wins
    main, night = flows.info("main"), flows.info("night")
    assert main is not None and night is not None
    assert (main.source, main.in_yaml, main.updated_at) == (FlowSource.DATABASE, True, 5.0)
    assert (night.source, night.updated_at) == (FlowSource.YAML, None)
    assert night.definition == {"steps": [{"id": "closed", "play": "We are closed"}]}
    assert [i.name for i in flows.infos()] == ["extra", "main", "night"]


def test_a_change_replaces_the_flow_for_new_lookups_only(config: Config) -> None:
    flows = CenterFlows(config)
    before = flows["main"]  # what a call that entered the flow holds
    flows.put(stored("main", flow_def("support")))
    assert option_1(flows, "main").target == "support"
    step = before.steps[0]
    assert isinstance(step, MenuStep)
    assert dict(step.options)["1"] == Destination(kind=DestinationKind.QUEUE, target="sales")


@pytest.mark.parametrize(
    ("definition", "step", "path", "reason"),
    [
        (flow_def("salse"), "menu", ("x", "steps", 0, "menu", "options", "1", "queue"),
         "queue 'salse' does not exist (queues: sales, support)"),
        ({"steps": [{"id": "a", "goto": "nowhere"}]}, "a", ("x", "steps", 0, "goto"),
         "step 'nowhere' does not exist (steps: a)"),
        (flow_def(colour="blue"), "menu", ("x", "steps", 0, "menu", "colour"),
         "unknown key 'colour' (allowed here: prompt, options, timeout, retries, invalid, "
         "no_input, fail)"),
        ({"steps": [{"id": "m", "menu": {"prompt": "p", "options": {"12": "m"}}}]}, "m",
         ("x", "steps", 0, "menu", "options", "12"),
         "option key '12' is not one telephone key (one of 0123456789*#ABCD)"),
        ({"language": "de", "steps": [{"id": "a", "hangup": True}]}, None, ("x", "language"),
         "language 'de' is not supported (languages: ar, en, fa)"),
        ({"steps": [{"id": "h", "hours": {"calendar": "home", "open": "h", "closed": "h"}}]},
         "h", ("x", "steps", 0, "hours", "calendar"),
         "calendar 'home' does not exist (calendars: office)"),
        ({"steps": [{"id": "v", "voicemail": "100"}]}, "v", ("x", "steps", 0, "voicemail"),
         "mailbox '100' does not exist (no mailboxes are configured)"),
    ],
)  # fmt: skip
def test_a_bad_definition_is_refused_with_flow_step_path_and_reason(
    config: Config, definition: dict[str, Any], step: str | None,
    path: tuple[str | int, ...], reason: str,
) -> None:  # fmt: skip
    flows = CenterFlows(config)
    with pytest.raises(FlowError) as caught:
        flows.put(stored("x", definition))
    assert (caught.value.flow, caught.value.step, caught.value.path, caught.value.reason) == (
        "x", step, path, reason)  # fmt: skip
    assert "x" not in flows and flows.info("x") is None  # nothing changed


def test_a_stored_flow_that_fails_at_start_is_kept_aside(
    config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    flows = CenterFlows(config)
    with caplog.at_level(logging.ERROR, logger="tamas.ivr"):
        errors = flows.overlay([stored("main", flow_def("gone")), stored("solo", flow_def("gone"))])
    assert [e.flow for e in errors] == ["main", "solo"]
    assert "queue 'gone' does not exist" in caplog.text
    assert option_1(flows, "main").target == "sales"  # the file's version runs
    assert "solo" not in flows
    info = flows.info("solo")
    assert info is not None and info.source is FlowSource.DATABASE
    assert info.error is not None and "queue 'gone' does not exist" in info.error
    flows.put(stored("solo", flow_def()))  # fixed
    fixed = flows.info("solo")
    assert "solo" in flows and fixed is not None and fixed.error is None


def test_references_are_applications_and_ivr_destinations() -> None:
    config = Config.model_validate(yaml.safe_load(CONFIG))
    assert flow_references(config, "main") == [
        "application 500 (media.applications[0].flow)",
        "queue sales overflow timeout (queues[0].overflow.timeout) (ivr:main)",
        "extension 1001 forward busy (extensions[0].forward.busy) (ivr:main)",
    ]
    assert flow_references(config, "night") == []


def test_removing_falls_back_to_the_file_or_is_refused_while_in_use() -> None:
    data = yaml.safe_load(CONFIG)
    del data["ivr"]["main"]  # "main" exists only in the database (as the API made it)
    config = Config.model_validate(data)  # (parse_config would refuse the references)
    flows = CenterFlows(config)
    flows.overlay([stored("main", flow_def()), stored("night", flow_def("sales"))])
    flows.remove("night")
    assert flows.info("night") is not None and not flows.is_stored("night")
    assert flows["night"].steps[0].id == "closed"  # the file's version again
    with pytest.raises(FlowInUse) as caught:
        flows.remove("main")
    assert len(caught.value.references) == 3
    assert "application 500" in str(caught.value)
    assert "main" in flows  # still there
