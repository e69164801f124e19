"""The ``media`` section: defaults, the demo's applications and the cross-checks."""

from __future__ import annotations

import pytest

from tamas.config import ConfigError, parse_config
from tamas.config.loader import demo_yaml

EXT = "extensions:\n  - {number: '1001', password: x}\n"


def test_defaults_anchor_media() -> None:
    media = parse_config(EXT, "t.yaml").media
    assert media.anchor and (media.port_min, media.port_max) == (20000, 29999)
    assert media.timeout_seconds == 30 and media.applications == ()


def test_demo_has_the_echo_test_and_a_prompt() -> None:
    apps = {a.number: a for a in parse_config(demo_yaml(), "demo.yaml").media.applications}
    assert apps["*43"].kind == "echo"
    assert apps["*44"].kind == "prompt" and apps["*44"].text and apps["*44"].language == "en"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("media: {port_min: 30000, port_max: 30000}\n", "media.port_max: the RTP port range"),
        (
            "media:\n  applications:\n    - {number: '1001', kind: echo}\n",
            "media.applications[0].number: this number is taken",
        ),
        (
            "media:\n  applications:\n    - {number: '*1', kind: echo}\n"
            "    - {number: '*1', kind: echo}\n",
            "media.applications[1].number: this number is taken",
        ),
        (
            "media:\n  applications:\n    - {number: '*44', kind: prompt}\n",
            "media.applications[0]: a prompt needs something to say",
        ),
        ("media: {timeout_seconds: -1}\n", "media.timeout_seconds"),
        ("media:\n  applications:\n    - {number: '*9', kind: dance}\n", "kind"),
    ],
)
def test_media_checks(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(EXT + text, "t.yaml")
    assert expected in str(info.value)
