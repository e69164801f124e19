"""The ``reports:`` section: defaults, settings for the KPIs, teams and the errors it gives."""

from __future__ import annotations

import pytest

from tamas.config import ConfigError, parse_config
from tamas.reporting.settings import SlFormula

CENTER = (
    "queues:\n  - name: sales\n"
    "agents:\n  - {id: '1001', queues: {sales: 0}}\n"
)


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "center.yaml")
    return str(info.value)


def test_defaults_give_the_industry_targets() -> None:
    config = parse_config("", "center.yaml")
    settings = config.reports.settings()
    assert settings.sl_threshold == 20 and settings.sl_formula is SlFormula.OFFERED
    assert settings.fcr_window == 7 * 86400
    assert settings.targets["service_level"] == 0.8
    assert config.reports.timezone == "UTC" and config.reports.calendar == "gregorian"


def test_a_center_sets_its_own_figures_and_teams() -> None:
    config = parse_config(
        CENTER + "reports:\n  timezone: Asia/Tehran\n  calendar: jalali\n  sl_threshold: 30\n"
        "  sl_formula: answered\n  fcr_days: 3\n  targets: {service_level: 0.9}\n"
        "  teams:\n    - {name: north, agents: ['1001'], queues: [sales]}\n",
        "center.yaml",
    )
    settings = config.reports.settings()
    assert settings.sl_threshold == 30 and settings.sl_formula is SlFormula.ANSWERED
    assert settings.fcr_window == 3 * 86400
    assert settings.targets["service_level"] == 0.9
    assert settings.targets["abandon_rate"] == (0.05, 0.08)  # the others keep their defaults
    assert config.reports.team("north").agents == ("1001",)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("reports:\n  timezone: Asia/Tehrn\n",
         "center.yaml:2:3: reports.timezone: unknown time zone 'Asia/Tehrn'"),
        ("reports:\n  sl_threshold: 25\n",
         "reports.sl_threshold: the service-level threshold must be one of 5 10 15 20 30"),
        ("reports:\n  calendar: hijri\n", "reports.calendar"),
        (CENTER + "reports:\n  teams:\n    - {name: t, agents: ['1002']}\n",
         "reports.teams[0].agents[0]: no agent has this id (got '1002')"),
        (CENTER + "reports:\n  teams:\n    - {name: t, queues: [salse]}\n",
         "reports.teams[0].queues[0]: no queue has this name (got 'salse')"),
        (CENTER + "reports:\n  teams:\n    - {name: t}\n    - {name: t}\n",
         "reports.teams[1].name: another team has this name"),
    ],
)  # fmt: skip
def test_mistakes_are_named_with_their_place(text: str, expected: str) -> None:
    assert expected in error_of(text)
