"""The contact-center sections: queues, agents, destinations and their references."""

from __future__ import annotations

import pytest

from tamas.config import ConfigError, parse_config
from tamas.config.center import parse_destination

EXT = "extensions:\n  - {number: '1001', password: secret1}\n"
QUEUES = "queues:\n  - name: sales\n  - name: support\n"


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "center.yaml")
    return str(info.value)


def test_a_small_center_loads() -> None:
    config = parse_config(
        EXT
        + QUEUES
        + "agents:\n  - {id: alice, extension: '1001', queues: {sales: 0, support: 2}}\n"
        "media:\n  applications:\n    - {number: '600', kind: queue, queue: sales}\n",
        "center.yaml",
    )
    assert [q.name for q in config.queues] == ["sales", "support"]
    assert config.agents[0].queues == {"sales": 0, "support": 2}
    assert config.queues[0].strategy == "longest_idle"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            QUEUES + "agents:\n  - {id: bob, queues: {slaes: 0}}\n",
            "5:24: agents[0].queues.slaes: no queue has this name (got 'slaes') — did you mean "
            "'sales'?",
        ),
        (
            QUEUES + "  - name: sales\n",
            "queues[2].name: queue 'sales' is already defined at queues[0]",
        ),
        (
            "queues:\n  - {name: q, overflow: {timeout: 'queue:nope'}}\n",
            "queues[0].overflow.timeout: no queue 'nope'",
        ),
        (
            "queues:\n  - {name: q, overflow: {timeout: 'mailbox:1'}}\n",
            "2:26: queues[0].overflow.timeout: must be queue:NAME",
        ),
        (
            "queues:\n  - {name: q, strategy: fastest}\n",
            "queues[0].strategy: Input should be 'ringall'",
        ),
        (
            EXT + "agents:\n  - {id: a, extension: '1002'}\n",
            "agents[0].extension: no extension has this number (got '1002') — did you mean '1001'?",
        ),
        (
            "agents:\n  - {id: a, login_when_registered: true}\n",
            "agents[0].login_when_registered: logging in with the device needs the agent's",
        ),
        (
            "media:\n  applications:\n    - {number: '100', kind: ivr, flow: main}\n",
            "media.applications[0].flow: no IVR flow has this name (got 'main')",
        ),
        (
            QUEUES + "media:\n  applications:\n    - {number: '600', kind: queue, queue: x}\n",
            "media.applications[0].queue: no queue has this name (got 'x')",
        ),
    ],
)
def test_center_errors_name_the_key(text: str, expected: str) -> None:
    assert expected in error_of(text)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("queue:sales", ("queue", "sales")),
        ("voicemail:100", ("voicemail", "100")),
        ("callback", ("callback", "")),
        ("hangup", ("hangup", "")),
        ("external: 0912", ("external", "0912")),
    ],
)
def test_destinations(value: str, parsed: tuple[str, str]) -> None:
    assert parse_destination(value) == parsed


@pytest.mark.parametrize("value", ["queue", "queue:", "phone:1", "hangup:now", ""])
def test_bad_destinations(value: str) -> None:
    with pytest.raises(ValueError, match="must be queue:NAME"):
        parse_destination(value)


def test_the_demo_is_a_small_call_center() -> None:
    from tamas.config import load_config

    config = load_config(None)
    assert {q.name for q in config.queues} == {"sales", "support"}
    ivr = [a for a in config.media.applications if a.kind == "ivr"]
    assert [(a.number, a.flow) for a in ivr] == [("100", "main")]
    assert {a.extension for a in config.agents} <= {e.number for e in config.extensions}
    assert config.voicemail.mailbox("100") is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            EXT + "media:\n  applications:\n    - {number: '*53', kind: echo}\n",
            "features.agent_unpause: this number is taken by an extension or application",
        ),
        (
            "agents:\n  - {id: a, pin: '1234'}\n  - {id: b, pin: '1234'}\n",
            "agents[1].pin: agents[0] has the same PIN",
        ),
    ],
)
def test_feature_codes_and_pins(text: str, expected: str) -> None:
    assert expected in error_of(text)


def test_login_code_takes_a_pin_and_pause_a_reason_digit() -> None:
    from tamas.runtime.apps import find_application
    from tamas.runtime.callcenter.build import feature_applications

    apps = feature_applications(parse_config("", "empty.yaml"))
    login = find_application(apps, "*50")
    assert login is not None and login.action == "login"
    assert find_application(apps, "*501234") is login
    assert find_application(apps, "*50x") is None
    pause = find_application(apps, "*522")
    assert pause is not None and pause.action == "pause"
    assert find_application(apps, "*5222") is None
