"""``extensions[].hours`` / ``forward.closed`` checks, and the ``simulation:`` section: its
profiles, shifts, errors, and the scenario ``tamas simulate --config`` builds from it."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import pytest

from tamas.cli import simulate_cmd
from tamas.config import ConfigError, parse_config
from tamas.core.events import LogRecord
from tamas.sim.fromconfig import Overrides, scenario_from_config
from tamas.sim.models import ArrivalProfile, Constant, LogNormal
from tamas.sim.simulation import simulate

HOUR = 3600.0

EXT = """\
calendars:
  office: {zone: UTC, weekly: {mon: ["08:00-17:00"]}}
extensions:
  - {number: '1001', password: secret1}
"""


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "c.yaml")
    return str(info.value)


# -- closed forwarding -----------------------------------------------------------------------
def test_hours_and_closed_forwarding_load() -> None:
    config = parse_config(
        EXT + "  - {number: '1002', password: s2, hours: office,"
        " forward: {closed: 'extension:1001', busy: 'extension:1001'}}\n",
        "c.yaml",
    )
    ext = config.extension("1002")
    assert ext is not None and ext.hours == "office"
    assert ext.forward == {"closed": "extension:1001", "busy": "extension:1001"}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "  - {number: '1002', password: s2, hours: ofice}\n",
            "c.yaml:5:36: extensions[1].hours: no calendar has this name (got 'ofice') — "
            "did you mean 'office'?",
        ),
        (
            "  - {number: '1002', password: s2, forward: {closed: 'extension:1001'}}\n",
            "c.yaml:5:46: extensions[1].forward.closed: forwarding when closed needs the "
            "extension's hours — set hours: to a calendar under 'calendars:', or remove closed",
        ),
        (
            "  - {number: '1002', password: s2, hours: office, forward: {closed: 'queue:x'}}\n",
            "extensions[1].forward.closed: no queue 'x'",
        ),
        (
            "  - {number: '1002', password: s2, forward: {shut: 'extension:1001'}}\n",
            "extensions[1].forward.shut",
        ),
    ],
)
def test_closed_forwarding_errors(line: str, expected: str) -> None:
    assert expected in error_of(EXT + line)


# -- the simulation section ------------------------------------------------------------------
CENTER = """\
queues: [{name: sales}, {name: support}]
agents:
  - {id: ali, queues: {support: 0}}
  - {id: sara, queues: {sales: 0, support: 0}}
"""


def _config(simulation: str) -> str:
    return CENTER + "simulation:\n" + textwrap.indent(textwrap.dedent(simulation), "  ")


def test_profiles_expand_to_quarter_hours() -> None:
    config = parse_config(
        _config(
            """
            queues:
              sales: {hours: {"08": 120, 9: 300}}
              support: {per_hour: 10}
            """
        ),
        "c.yaml",
    )
    sales = config.simulation.queues["sales"].profile()
    assert len(sales) == 96
    assert sales[32:36] == (30.0,) * 4  # 08:00-09:00: 120 calls / 4 quarters
    assert sales[36:40] == (75.0,) * 4  # 09:00-10:00: 300 / 4
    assert sum(sales) == 420.0  # 120 + 300, nothing else in the day
    assert config.simulation.queues["support"].profile() == (2.5,) * 96  # 10 per hour / 4
    counts = tuple(float(i % 7) for i in range(96))
    quarters = parse_config(
        _config(f"queues: {{sales: {{quarter_hours: {list(counts)}}}}}\n"), "c.yaml"
    )
    assert quarters.simulation.queues["sales"].profile() == counts


@pytest.mark.parametrize(
    ("simulation", "expected"),
    [
        (
            "queues: {slaes: {per_hour: 5}}\n",
            "c.yaml:6:12: simulation.queues.slaes: no queue has this name (got 'slaes') — "
            "did you mean 'sales'?",
        ),
        (
            "agents: {sarah: {answer_probability: 0.5}}\n",
            "c.yaml:6:12: simulation.agents.sarah: no agent has this id (got 'sarah') — "
            "did you mean 'sara'?",
        ),
        (
            "queues: {sales: {per_hour: 5, hours: {'08': 3}}}\n",
            "c.yaml:6:12: simulation.queues.sales: give exactly one of per_hour, quarter_hours "
            "(96 counts) or hours (per_hour and hours given)",
        ),
        ("queues: {sales: {quarter_hours: [1, 2]}}\n", "simulation.queues.sales.quarter_hours"),
        ("queues: {sales: {hours: {'24': 3}}}\n", "simulation.queues.sales.hours.24"),
        (
            "schedule: {start: '08:00', end: '17:00', breaks: [{start: '16:45', minutes: 30}]}\n",
            "c.yaml:6:53: simulation.schedule.breaks[0]: the break ends after the shift "
            "(got '16:45') — end it by 17:00",
        ),
        (
            "schedule: {start: '8h', end: '17:00'}\n",
            "c.yaml:6:14: simulation.schedule.start: must be a time of day HH:MM, 00:00 to 24:00 "
            "(got '8h')",
        ),
        (
            "agents: {ali: {schedule: {start: '08:00', end: '17:00', breaks: "
            "[{start: '12:00', minutes: 60}, {start: '12:30', minutes: 15}]}}}\n",
            "simulation.agents.ali.schedule.breaks[1]: this break starts before another one ends",
        ),
    ],
)
def test_simulation_errors_name_their_place(simulation: str, expected: str) -> None:
    assert expected in error_of(_config(simulation))


SHIFTS = """
answer_probability: 0.9
queues: {sales: {per_hour: 40}}
aht: 240
handle: lognormal
cv: 0.5
patience: 90
schedule:
  start: "08:00"
  end: "17:00"
  breaks: [{start: "12:00", minutes: 30, reason: lunch}, {start: "15:00", minutes: 10}]
agents:
  sara: {schedule: {start: "22:00", end: "06:00"}, answer_probability: 1}
"""


def test_the_scenario_follows_the_section() -> None:
    config = parse_config(_config(SHIFTS), "c.yaml")
    scenario = scenario_from_config(config)
    assert scenario.arrivals == {"sales": ArrivalProfile(calls=(10.0,) * 96)}  # 40 / 4
    assert scenario.handle_time == LogNormal(mean=240.0, cv=0.5)
    assert scenario.patience is not None and scenario.patience.mean == 90.0
    ali, sara = scenario.agents
    assert ali.answer_probability == 0.9 and sara.answer_probability == 1.0
    assert ali.schedule is not None and sara.schedule is not None
    assert (ali.schedule.start, ali.schedule.end) == (8 * HOUR, 17 * HOUR)
    assert (sara.schedule.start, sara.schedule.end) == (22 * HOUR, 30 * HOUR)  # 06:00 next day
    # the command line wins: a constant rate in every queue, another call model
    over = scenario_from_config(config, Overrides(rate=12, aht=100, handle="constant"))
    assert over.arrivals == {
        "sales": ArrivalProfile.constant(per_hour=12),
        "support": ArrivalProfile.constant(per_hour=12),
    }
    assert over.handle_time == Constant(value=100.0)


def test_shifts_log_in_pause_and_log_off_at_their_times() -> None:
    config = parse_config(_config(SHIFTS), "c.yaml")
    records: list[LogRecord] = []
    simulate(scenario_from_config(config), records.append, until=24 * HOUR)
    shifts = [
        (r.at, r.event, *r.data[:1])
        for r in records
        if r.agent == "ali" and r.event in ("AGENTLOGIN", "PAUSE", "UNPAUSE", "AGENTLOGOFF")
    ]
    # ali serves support alone, which gets no callers: nothing delays a pause (a pause asked
    # for during a call is logged when the call ends), and each is one record (one queue)
    assert shifts == [
        (8 * HOUR, "AGENTLOGIN", "sim/ali"),  # 08:00
        (12 * HOUR, "PAUSE", "lunch"),  # 12:00
        (12.5 * HOUR, "UNPAUSE"),  # 12:00 + 30 min
        (15 * HOUR, "PAUSE", "break"),  # 15:00, the default reason
        (15 * HOUR + 600, "UNPAUSE"),  # + 10 min
        (17 * HOUR, "AGENTLOGOFF", "sim/ali"),  # 17:00
    ]
    sara = [(r.at, r.event) for r in records if r.agent == "sara" and r.event == "AGENTLOGIN"]
    assert sara == [(22 * HOUR, "AGENTLOGIN")]  # the night shift starts at 22:00


def _simulate(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tamas")
    simulate_cmd.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["simulate", *argv])
    status: int = args.handler(args)
    return status


def test_the_command_runs_a_day_from_the_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(_config("queues: {sales: {hours: {'09': 40, '10': 60}}}\n"))
    assert _simulate(["--config", str(path), "--days", "1"]) == 0
    out = capsys.readouterr().out
    assert "2 queue(s), 2 agents, 100 calls a day expected" in out  # 40 + 60
    assert "Erlang" not in out
    path.write_text(_config("queues: {sales: {per_hour: -1}}\n"))
    assert _simulate(["--config", str(path), "--hours", "1"]) == 2
    err = capsys.readouterr().err
    assert "c.yaml:6:20: simulation.queues.sales.per_hour: Input should be greater than" in err
