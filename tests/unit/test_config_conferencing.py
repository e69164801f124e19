"""Configuration of conference rooms, monitor prefixes and supervisors."""

from __future__ import annotations

import pytest

from tamas.config import ConfigError, parse_config
from tamas.config.loader import demo_yaml
from tamas.runtime.apps import find_application

EXT = "extensions:\n  - {number: '1001', password: x}\n"


def test_demo_has_a_room_three_monitor_prefixes_and_a_supervisor() -> None:
    config = parse_config(demo_yaml(), "demo.yaml")
    apps = {a.number: a for a in config.media.applications}
    assert apps["8000"].kind == "conference"
    assert [(apps[n].kind, apps[n].mode) for n in ("*30", "*31", "*32")] == [
        ("monitor", "listen"),
        ("monitor", "whisper"),
        ("monitor", "barge"),
    ]
    assert [e.number for e in config.extensions if e.supervisor] == ["1010"]


def test_extensions_are_not_supervisors_by_default() -> None:
    (ext,) = parse_config(EXT, "t.yaml").extensions
    assert ext.supervisor is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "media:\n  applications:\n    - {number: '10', kind: monitor}\n",
            "media.applications[0].number: this monitor prefix would take calls to 1001",
        ),
        (
            "media:\n  applications:\n    - {number: '*3', kind: monitor}\n"
            "    - {number: '*33', kind: conference}\n",
            "this monitor prefix would take calls to *33",
        ),
        ("media:\n  applications:\n    - {number: '*3', kind: monitor, mode: x}\n", "mode"),
    ],
)
def test_conferencing_checks(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(EXT + text, "t.yaml")
    assert expected in str(info.value)


def test_a_monitor_prefix_matches_only_when_digits_follow() -> None:
    apps = parse_config(demo_yaml(), "demo.yaml").media.applications
    hit = find_application(apps, "*311002")
    assert hit is not None and (hit.number, hit.mode) == ("*31", "whisper")
    assert find_application(apps, "*30") is None  # the bare prefix: nobody to monitor
    assert find_application(apps, "*30abc") is None
    echo = find_application(apps, "*43")
    assert echo is not None and echo.kind == "echo"
    assert find_application(apps, "*4301") is None  # only monitor numbers are prefixes
