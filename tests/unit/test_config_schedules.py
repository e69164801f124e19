"""``reports.schedules``: shifts per weekday, teams, own entries, and the errors it gives."""

from __future__ import annotations

import pytest

from tamas.config import ConfigError, parse_config
from tamas.config.loader import demo_yaml
from tamas.config.schedules import weekly_schedule
from tamas.reporting.adherence import Break, DayShift

CENTER = (
    "agents:\n  - {id: '1001'}\n  - {id: '1002'}\n"
    "reports:\n  timezone: Asia/Tehran\n"
    "  teams:\n    - {name: north, agents: ['1001', '1002']}\n"
    "  schedules:\n"
)
LUNCH = "breaks: [{start: '13:00', minutes: 30, reason: lunch}]"


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "center.yaml")
    return str(info.value)


def test_team_shifts_and_an_agents_own_day() -> None:
    config = parse_config(
        CENTER
        + "    - {team: north, days: [sat, sun],\n"
        f"       shifts: [{{start: '08:00', end: '16:00', {LUNCH}}}]}}\n"
        "    - {agent: '1002', days: [sun], shifts: [{start: '12:00', end: '24:00'}]}\n",
        "center.yaml",
    )
    week = weekly_schedule(config.reports)
    day = DayShift(start=8 * 3600, end=16 * 3600,
                   breaks=(Break(start=13 * 3600, end=13.5 * 3600, reason="lunch"),))  # fmt: skip
    # Saturday is 5, Sunday 6 (Monday 0); 1002's own Sunday replaces the team's
    assert week["1001"] == {5: [day], 6: [day]}
    assert week["1002"] == {5: [day], 6: [DayShift(start=12 * 3600, end=86400)]}


def test_the_demo_center_has_schedules_for_its_agents() -> None:
    config = parse_config(demo_yaml(), "demo.yaml")
    week = weekly_schedule(config.reports)
    assert sorted(week) == [a.id for a in config.agents]


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ("    - {agent: '1003', days: [mon], shifts: [{start: '08:00', end: '16:00'}]}\n",
         "center.yaml:9:8: reports.schedules[0].agent: no agent has this id (got '1003') — "
         "did you mean '1002'?"),
        ("    - {team: south, days: [mon], shifts: [{start: '08:00', end: '16:00'}]}\n",
         "reports.schedules[0].team: no team has this name (got 'south') — define it under "
         "reports.teams"),
        ("    - {agent: '1001', days: [mon], shifts: [{start: '16:00', end: '08:00'}]}\n",
         "center.yaml:9:62: reports.schedules[0].shifts[0].end: the shift ends before it starts "
         "(got '08:00') — end it after 16:00 (24:00 at the latest); write a night shift as two"),
        ("    - {agent: '1001', days: [mon], shifts: [{start: '8am', end: '16:00'}]}\n",
         "center.yaml:9:46: reports.schedules[0].shifts[0].start: must be a time of day HH:MM, "
         "00:00 to 24:00 (got '8am')"),
        ("    - {agent: '1001', days: [monday], shifts: [{start: '08:00', end: '16:00'}]}\n",
         "reports.schedules[0].days[0]"),
        ("    - {days: [mon], shifts: [{start: '08:00', end: '16:00'}]}\n",
         "give exactly one of agent or team"),
        ("    - {agent: '1001', days: []}\n",
         "reports.schedules[0].shifts: no shifts given — list shifts:"),
        ("    - {agent: '1001', days: [mon], shifts: [{start: '08:00', end: '12:00', "
         "breaks: [{start: '11:45', minutes: 30}]}]}\n",
         "reports.schedules[0].shifts[0].breaks[0]: the break is outside its shift (got '11:45')"),
        ("    - {agent: '1001', days: [mon], shifts: [{start: '08:00', end: '12:00'}, "
         "{start: '11:00', end: '15:00'}]}\n",
         "reports.schedules[0].shifts[1]: agent 1001's shifts overlap on mon (with "
         "reports.schedules[0].shifts[0], 08:00-12:00) — let one shift end before the next"),
        ("    - {team: north, days: [mon, tue], shifts: [{start: '08:00', end: '16:00'}]}\n"
         "    - {team: north, days: [tue], shifts: [{start: '15:00', end: '20:00'}]}\n",
         "center.yaml:10:43: reports.schedules[1].shifts[0]: agent 1001's shifts overlap on tue"),
    ],
)  # fmt: skip
def test_mistakes_are_named_with_their_place_and_fix(entries: str, expected: str) -> None:
    assert expected in error_of(CENTER + entries)


def test_an_agents_own_day_does_not_overlap_the_team_day_it_replaces() -> None:
    parse_config(
        CENTER + "    - {team: north, days: [mon], shifts: [{start: '08:00', end: '16:00'}]}\n"
        "    - {agent: '1001', days: [mon], shifts: [{start: '10:00', end: '18:00'}]}\n",
        "center.yaml",
    )
