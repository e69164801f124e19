"""A flow that lives only in the database, named in the file as ``NAME: {stored: true}``:
the configuration check lets references to it through and says it did not check it; the
center requires it in the database at start (:meth:`CenterFlows.require_stored`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tamas.config import ConfigError, parse_config
from tamas.config.center_checks import file_flows, stored_flows
from tamas.runtime.callcenter.flows import CenterFlows, FlowInUse, StoredFlowMissing
from tamas.store.ivr_flows import StoredFlow

CONFIG = """
queues:
  - {name: sales, overflow: {timeout: "ivr:promo"}}
media:
  anchor: true
  applications:
    - {number: "500", kind: ivr, flow: main}
    - {number: "600", kind: ivr, flow: promo}
ivr:
  main:
    steps:
      - {id: menu, menu: {prompt: "1 for sales", options: {"1": {queue: sales}}}}
  promo: {stored: true}
"""


def menu(queue: str) -> dict[str, Any]:
    return {"steps": [{"id": "menu", "menu": {"prompt": "Press 1",
                                              "options": {"1": {"queue": queue}}}}]}  # fmt: skip


def stored(name: str, definition: dict[str, Any]) -> StoredFlow:
    return StoredFlow(name=name, definition=definition, updated_at=1.0, updated_by="api")


def test_references_to_a_stored_flow_pass_the_check() -> None:
    config = parse_config(CONFIG, "c.yaml")
    assert stored_flows(config) == ["promo"]
    assert list(file_flows(config)) == ["main"]


@pytest.mark.parametrize(
    ("promo", "expected"),
    [
        (
            "{stored: false}",
            "c.yaml:13:3: ivr.promo: a flow stored in the database is named with 'stored: "
            "true' and nothing else (got {'stored': False}) — write {stored: true}, or give "
            "the flow's steps here instead",
        ),
        ("{stored: true, language: fa}", "ivr.promo: a flow stored in the database is named"),
    ],
)
def test_a_stored_flow_is_named_with_stored_true_alone(promo: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(CONFIG.replace("{stored: true}", promo), "c.yaml")
    assert expected in str(info.value)


def test_an_undeclared_flow_is_still_an_error() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(CONFIG.replace("  promo: {stored: true}\n", ""), "c.yaml")
    text = str(info.value)
    assert "media.applications[1].flow: no IVR flow has this name (got 'promo')" in text
    assert "queues[0].overflow.timeout: no ivr 'promo'" in text


def test_config_check_says_the_stored_flow_was_not_checked(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "tamas.cli.main", "config", "check", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{path}: ivr.promo: not checked: stored in the database (tamas serve checks it at start)",
        f"{path}: OK",
    ]


def test_the_center_requires_the_stored_flow_at_start() -> None:
    config = parse_config(CONFIG, "c.yaml")
    # not in the database
    flows = CenterFlows(config)
    assert sorted(flows) == ["main"] and flows.declared_stored == ("promo",)
    flows.overlay([stored("other", menu("sales"))])
    with pytest.raises(StoredFlowMissing) as missing:
        flows.require_stored()
    assert str(missing.value).startswith(
        "IVR flow 'promo' (ivr.promo: {stored: true} in the configuration) is not in the "
        "database. Store it through the API"
    )
    # in the database, but failing its checks against this configuration
    flows = CenterFlows(config)
    flows.overlay([stored("promo", menu("salse"))])
    with pytest.raises(StoredFlowMissing) as broken:
        flows.require_stored()
    assert "IVR flow 'promo' (ivr.promo: {stored: true} in the configuration) fails its " \
        "checks: ivr flow 'promo', step 'menu'" in str(broken.value)  # fmt: skip
    assert "queue 'salse' does not exist" in str(broken.value)
    # stored and good: in effect, and it cannot be deleted while the file names it
    flows = CenterFlows(config)
    flows.overlay([stored("promo", menu("sales"))])
    flows.require_stored()
    assert sorted(flows) == ["main", "promo"]
    with pytest.raises(FlowInUse) as in_use:
        flows.remove("promo")
    assert in_use.value.references[0] == "the configuration's ivr.promo: {stored: true}"
