"""``tamas staffing`` and ``tamas forecast``: the command functions on a store filled with
ENTERQUEUE records (SQLite and PostgreSQL for the counting query)."""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tamas.cli import wfm_cmd
from tamas.core.events import LogRecord
from tamas.store import Store, open_store
from tamas.store import events as store_events
from tamas.web.wfm import StaffingGoal, arrival_history, forecast_queues

DAY = 86400


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tamas")
    commands = parser.add_subparsers(dest="command")
    wfm_cmd.add_parser(commands)
    return parser.parse_args(argv)


def office_records(now: float, weeks: int, per_interval: int = 6) -> list[LogRecord]:
    """``per_interval`` arrivals in "sales" in every 15 minutes from 09:00 to 17:00 UTC on
    weekdays, for ``weeks`` weeks before ``now`` (and 1 a day in "support" at noon)."""
    out: list[LogRecord] = []
    first_day = math.floor(now / DAY) - 7 * weeks
    seq = 0
    for day in range(first_day, math.floor(now / DAY) + 1):
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday (3)
        for slot in range(36, 68) if weekday < 5 else ():
            for k in range(per_interval):
                at = day * DAY + slot * 900 + 60 * k + 7
                if at < now:
                    seq += 1
                    out.append(LogRecord(seq=seq, at=at, call_id=f"c{seq}", queue="sales",
                                         event="ENTERQUEUE", data=("", "0912", "1")))  # fmt: skip
                    seq += 1
                    out.append(LogRecord(seq=seq, at=at + 5, call_id=f"c{seq - 1}",
                                         queue="sales", agent="a1", event="CONNECT"))  # fmt: skip
        noon = day * DAY + 12 * 3600
        if noon < now:
            seq += 1
            out.append(LogRecord(seq=seq, at=noon, call_id=f"s{seq}", queue="support",
                                 event="ENTERQUEUE"))  # fmt: skip
    return out


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


def test_staffing_text(capsys: pytest.CaptureFixture[str]) -> None:
    # Call Centre Helper's example: 100 calls / 30 min, AHT 180, 80/20, shrinkage 30 %:
    # 14 agents, 14 / 0.7 = 20 scheduled, SL 88.8 %, ASA 7.8 s, occupancy 71.4 %.
    args = parse("staffing", "--calls", "100", "--aht", "180", "--sl", "0.8", "--threshold",
                 "20", "--shrinkage", "0.3")  # fmt: skip
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "Agents         14" in out
    assert "Scheduled      20" in out
    assert "Service level  88.8%" in out
    assert "ASA            7.8" in out
    assert "Occupancy      71.4%" in out


def test_staffing_json_erlang_a(capsys: pytest.CaptureFixture[str]) -> None:
    # With a mean patience of 60 s: 12 agents (test_erlang.py), 12 / 0.75 = 16 scheduled.
    args = parse("staffing", "--calls", "100", "--aht", "180", "--patience", "60",
                 "--shrinkage", "0.25", "--format", "json")  # fmt: skip
    assert args.handler(args) == 0
    table = json.loads(capsys.readouterr().out)
    row = table["rows"][0]
    assert (row["agents"], row["scheduled"], row["model"]) == (12, 16, "erlang_a")
    assert 0 < row["abandon_rate"] < 0.2
    assert table["targets"] == {"service_level": 0.8}


def test_staffing_bad_input_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse("staffing", "--calls", "100", "--aht", "180", "--shrinkage", "1.5")
    assert args.handler(args) == 2
    assert "shrinkage must be in [0, 1)" in capsys.readouterr().err


def test_arrival_history_counts_in_the_database(store: Store) -> None:
    now = 20_000 * DAY + 12 * 3600 + 450.0  # 2024-10-04 12:07:30 UTC
    records = office_records(now, weeks=1, per_interval=2)
    store_events.append_many(store.engine, records)
    got = arrival_history(store, zone="UTC", start=now - 3 * DAY, end=now)
    assert sorted(got) == ["sales", "support"]
    sales = got["sales"]
    # Sales' history runs from its first arrival at or after now - 3 days (Tuesday 12:07:30
    # UTC, so the 12:15 interval: 2 calls at 12:15:07 and 12:16:07) to now (mid-slot).
    first = min(r.at for r in records if r.queue == "sales" and r.at >= now - 3 * DAY)
    assert sales.start == math.floor(first / 900) * 900
    assert len(sales.counts) == math.ceil((now - sales.start) / 900)
    expected = sum(
        1 for r in records if r.event == "ENTERQUEUE" and r.queue == "sales" and r.at >= first
    )
    assert sum(c or 0 for c in sales.counts) == expected
    assert set(sales.counts) <= {0.0, 2.0}
    assert sum(c or 0 for c in got["support"].counts) == 3  # noon of each of the 3 days
    only = arrival_history(store, zone="UTC", start=now - 3 * DAY, end=now, queue="support")
    assert list(only) == ["support"]


def test_forecast_queues_from_the_store(store: Store) -> None:
    now = 20_000 * DAY + 10 * 3600.0
    store_events.append_many(store.engine, office_records(now, weeks=6))
    goal = StaffingGoal(aht=180, target=0.8, threshold=20, shrinkage=0.25)
    result = forecast_queues(store, now=now, zone="UTC", goal=goal, queue="sales")
    assert [q.queue for q in result] == ["sales"]
    sales = result[0]
    assert sales.forecast.start == 20_001 * DAY  # the midnight after now
    # The same 6 calls in each of 32 weekday intervals every week: 5 * 32 * 6 = 960 calls.
    assert sales.forecast.total == pytest.approx(960)
    assert sales.forecast.trend == 1.0
    assert sales.accuracy is not None
    assert sales.accuracy.rows[-1]["wape"] == 0.0  # the pattern repeats exactly
    busy = [r for r in sales.plan.rows if r["agents"]]
    assert len(busy) == 5 * 32
    # 6 calls / 900 s x 180 s = 1.2 erlangs. Erlang C by hand: B(1) = 1.2/2.2 = 0.5455,
    # B(2) = 1.2*0.5455/(2 + 0.6545) = 0.2466, C(2) = 2*0.2466/(2 - 1.2*0.7534) = 0.4500,
    # SL(2) = 1 - 0.45*exp(-0.8*20/180) = 0.588; B(3) = 1.2*0.2466/(3 + 0.2959) = 0.0898,
    # C(3) = 3*0.0898/(3 - 1.2*0.9102) = 0.1412, SL(3) = 1 - 0.1412*exp(-1.8*20/180)
    # = 0.884 >= 0.8: 3 agents, 3 / 0.75 = 4 scheduled.
    assert {(r["agents"], r["scheduled"]) for r in busy} == {(3, 4)}
    assert busy[0]["service_level"] == pytest.approx(0.884, abs=1e-3)
    everyone = forecast_queues(store, now=now, zone="UTC", goal=goal)
    assert [q.queue for q in everyone] == ["sales", "support"]


def test_forecast_command_on_a_data_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = time.time()  # the command forecasts from the real now; the data is placed around it
    with open_store(f"sqlite:///{tmp_path / 'data' / 'tamas.db'}") as opened:
        store_events.append_many(opened.engine, office_records(now, weeks=6))
    args = parse("forecast", "--data", str(tmp_path / "data"), "--queue", "sales", "--format",
                 "json", "--shrinkage", "0.25")  # fmt: skip
    assert args.handler(args) == 0
    body = json.loads(capsys.readouterr().out)
    sales = body["queues"][0]
    assert sales["queue"] == "sales"
    assert sales["forecast"]["total"] == pytest.approx(960)
    assert sales["accuracy"]["rows"][-1]["wape"] == 0.0
    assert {(r["agents"], r["scheduled"]) for r in sales["plan"]["rows"] if r["agents"]} == {(3, 4)}
    text = parse("forecast", "--data", str(tmp_path / "data"), "--queue", "sales")
    assert text.handler(text) == 0
    out = capsys.readouterr().out
    assert "queue sales: 960 calls forecast" in out
    assert "Forecast accuracy on held-out weeks" in out
    csv_args = parse("forecast", "--data", str(tmp_path / "data"), "--format", "csv")
    assert csv_args.handler(csv_args) == 0
    assert "Staffing plan" in capsys.readouterr().out


def test_forecast_command_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = parse("forecast", "--data", str(tmp_path / "data"))
    assert empty.handler(empty) == 1
    assert "no arrivals (ENTERQUEUE) in any queue" in capsys.readouterr().err
    with open_store(f"sqlite:///{tmp_path / 'data' / 'tamas.db'}") as opened:
        store_events.append_many(opened.engine, office_records(time.time(), weeks=1))
    short = parse("forecast", "--data", str(tmp_path / "data"), "--queue", "sales")
    assert short.handler(short) == 1
    assert "at least 14 days of history" in capsys.readouterr().err
    bad_zone = parse("forecast", "--data", str(tmp_path / "data"), "--zone", "Mars/Base")
    assert bad_zone.handler(bad_zone) == 2
    assert "unknown time zone" in capsys.readouterr().err
