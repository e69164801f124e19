"""``tamas simulate`` (the command module; cli/main.py registers it)."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import pytest

from tamas.cli import simulate_cmd
from tamas.core.queue_log import parse_line
from tamas.runtime.eventlog import decode_line


def simulate(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tamas")
    simulate_cmd.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["simulate", *argv])
    status: int = args.handler(args)
    return status


def test_prints_kpis_beside_erlang_c(capsys: pytest.CaptureFixture[str]) -> None:
    assert simulate(["--calls", "3000", "--agents", "4", "--rate", "60", "--aht", "180"]) == 0
    out = capsys.readouterr().out
    assert "simulated 3000 calls" in out
    assert "Erlang C" in out
    p_wait = next(line for line in out.splitlines() if line.startswith("P(wait)"))
    measured, predicted = (float(x) for x in p_wait.split()[1:])
    assert predicted == pytest.approx(0.5094, abs=1e-4)  # erlang_c(4, 3.0), see test_erlang
    assert 0.35 < measured < 0.65


def test_patience_gives_erlang_a(capsys: pytest.CaptureFixture[str]) -> None:
    assert simulate(["--hours", "4", "--agents", "3", "--rate", "80", "--patience", "60"]) == 0
    out = capsys.readouterr().out
    assert "Erlang A" in out
    abandon = next(line for line in out.splitlines() if line.startswith("abandon rate"))
    assert float(abandon.split()[2]) > 0


def test_event_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jsonl, qlog = tmp_path / "e.jsonl", tmp_path / "e.queue_log"
    base = ["--calls", "200", "--agents", "2", "--rate", "30", "--seed", "5"]
    assert simulate([*base, "--events", str(jsonl)]) == 0
    assert simulate([*base, "--events", str(qlog)]) == 0
    records = [decode_line(line) for line in jsonl.read_text().splitlines()]
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    assert sum(r.event == "ENTERQUEUE" for r in records) == 200
    lines = qlog.read_text().splitlines()
    parsed = [parse_line(line, n) for n, line in enumerate(lines, 1)]
    # Same records (same seed), times in whole seconds as Asterisk writes them.
    assert [(r.call_id, r.queue, r.agent, r.event, r.data) for r in parsed] == [
        (r.call_id, r.queue, r.agent, r.event, r.data) for r in records
    ]
    assert all(p.at == int(r.at) for p, r in zip(parsed, records, strict=True))
    capsys.readouterr()


def test_config_queues_and_agents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        textwrap.dedent(
            """
            queues: [{name: help, wrapup: 2}]
            agents: [{id: ali, queues: {help: 0}}, {id: sara, queues: {help: 0}}]
            """
        )
    )
    assert simulate(["--config", str(config), "--hours", "2", "--rate", "20"]) == 0
    out = capsys.readouterr().out
    assert "1 queue(s), 2 agents" in out and "Erlang" not in out


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert simulate(["--calls", "0"]) == 2
    assert simulate(["--calls", "5", "--events", str(tmp_path / "x.txt")]) == 2
    empty = tmp_path / "empty.yaml"
    empty.write_text("extensions: []\n")
    assert simulate(["--config", str(empty), "--calls", "5"]) == 2
    assert "no queues" in capsys.readouterr().err


def test_default_rate_shares_85_percent_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("queues: [{name: a}, {name: b}]\n")  # no agents: --agents serve both
    assert simulate(["--config", str(config), "--hours", "1", "--agents", "4"]) == 0
    out = capsys.readouterr().out
    # 0.85 x 4 agents x 3600 / 180 s / 2 queues = 34 calls/h in each queue.
    assert "2 queue(s), 4 agents, 34 calls/h per queue" in out
