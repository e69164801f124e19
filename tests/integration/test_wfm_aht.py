"""The forecast's staffing plan with the handle time measured in the history: a hand-built
event log in a real store (SQLite and PostgreSQL), folded into the interval aggregates by the
real aggregator, then read by ``forecast_queues``, ``tamas forecast`` and the HTTP API.

The log, every day of the weeks before "today" (UTC), queue "sales" (calls are 60 s apart in
an interval, each with its own agent, answered 5 s after entering):

* mornings 09:00-10:00 (4 intervals): 4 answered calls of 120 s talk, 1 abandoned after 30 s;
* afternoons 14:00-15:00 (4 intervals): 4 answered calls of 200 s talk + 40 s hold + 60 s
  after-call work = 300 s, 1 abandoned after 30 s;
* 22:00: 1 answered call of 600 s talk;
* Sundays 23:00 too: 1 answered call of 60 s talk.

Today has no call (an outage for the volume forecast, and nothing for the AHT).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from webserve import http, serve_app

from tamas.cli import wfm_cmd
from tamas.core.events import LogRecord
from tamas.reporting.settings import ReportSettings
from tamas.store import Store, open_store
from tamas.store import events as store_events
from tamas.store import reports as store_reports
from tamas.web.guard import make_guard
from tamas.web.wfm import StaffingGoal, forecast_queues, wfm_routes
from tamas.wfm.staffing import StaffingInput, staff

DAY = 86400
NOW = 20_000 * DAY + 10 * 3600.0  # 2024-10-04 10:00 UTC, a Friday
MORNING = range(36, 40)  # the 15-minute slots of the day, 09:00 .. 09:45
AFTERNOON = range(56, 60)  # 14:00 .. 14:45
NIGHT = 88  # 22:00
LATE = 92  # 23:00 (Sundays)

# Measured AHT (talk + hold + ACW) / handled, the rule of tamas.wfm.handle_time:
# a morning slot of the week has 4 calls x 4 weeks = 16 >= 10: 120 s ("interval");
# an afternoon slot likewise: (200 + 40 + 60) = 300 s ("interval");
# 22:00 on one weekday: 4 calls (3 for today's weekday) < 10; 22:00 of every day: 27 calls
# of 600 s: 600 s ("time_of_day");
# Sunday 23:00: 4 calls < 10; 23:00 of every day: only Sundays, 4 < 10; all Sundays: per
# Sunday 16 x 120 + 16 x 300 + 600 + 60 = 7380 s over 34 calls: 7380 / 34 = 217.0588 s
# ("weekday").
SUNDAY_AHT = 7380 / 34
# Patience: per day 8 abandoned calls after 30 s, 32 + 1 answered after 5 s (+1 on Sundays).
# The 4 weeks weighed before Saturday 2024-10-05 are 28 days (today, Friday, without calls):
# 27 x 8 = 216 abandoned, 216 x 30 = 6480 s; answered 27 x 33 + 4 Sundays = 895 calls x 5 s
# = 4475 s: (6480 + 4475) / 216 = 50.717 s.
PATIENCE = (6480 + 4475) / 216


def weekday(day: int) -> int:
    return (day + 3) % 7  # 1970-01-01 was a Thursday (3); Monday = 0


def call(seq: int, at: float, agent: str, talk: float, hold: float = 0.0,
         acw: float = 0.0) -> list[LogRecord]:  # fmt: skip
    """One answered call of "sales" entering at ``at``: its records."""
    cid = f"c{seq}"
    out = [
        LogRecord(seq=0, at=at, call_id=cid, queue="sales", event="ENTERQUEUE",
                  data=("", f"0912{seq}", "1")),
        LogRecord(seq=0, at=at + 5, call_id=cid, queue="sales", agent=agent, event="CONNECT",
                  data=("5", "", "0")),
    ]  # fmt: skip
    end = at + 5 + talk + hold
    if hold:
        out += [
            LogRecord(seq=0, at=at + 5 + 50, call_id=cid, queue="sales", agent=agent,
                      event="HOLD"),
            LogRecord(seq=0, at=at + 5 + 50 + hold, call_id=cid, queue="sales", agent=agent,
                      event="UNHOLD"),
        ]  # fmt: skip
    out.append(LogRecord(seq=0, at=end, call_id=cid, queue="sales", agent=agent,
                         event="COMPLETECALLER", data=("5", str(talk + hold), "1")))  # fmt: skip
    if acw:
        out += [
            LogRecord(seq=0, at=end, call_id=cid, queue="sales", agent=agent,
                      event="WRAPUPSTART"),
            LogRecord(seq=0, at=end + acw, call_id=cid, queue="sales", agent=agent,
                      event="WRAPUPEND"),
        ]  # fmt: skip
    return out


def abandoned(seq: int, at: float) -> list[LogRecord]:
    cid = f"c{seq}"
    return [
        LogRecord(seq=0, at=at, call_id=cid, queue="sales", event="ENTERQUEUE",
                  data=("", f"0912{seq}", "1")),
        LogRecord(seq=0, at=at + 30, call_id=cid, queue="sales", event="ABANDON",
                  data=("1", "1", "30")),
    ]  # fmt: skip


def center_log(now: float, weeks: int) -> list[LogRecord]:
    """The log described in the module doc, for the ``weeks`` weeks before the day of ``now``."""
    records: list[LogRecord] = []
    n = 0
    today = math.floor(now / DAY)
    for day in range(today - 7 * weeks, today):
        for slot in (*MORNING, *AFTERNOON):
            base = day * DAY + slot * 900
            for k in range(4):
                n += 1
                if slot in MORNING:
                    records += call(n, base + 60 * k + 7, f"a{k}", talk=120)
                else:
                    records += call(n, base + 60 * k + 7, f"a{k}", talk=200, hold=40, acw=60)
            n += 1
            records += abandoned(n, base + 300)
        n += 1
        records += call(n, day * DAY + NIGHT * 900 + 7, "a0", talk=600)
        if weekday(day) == 6:
            n += 1
            records += call(n, day * DAY + LATE * 900 + 7, "a1", talk=60)
    records.sort(key=lambda r: r.at)
    return [
        LogRecord(seq=i, at=r.at, call_id=r.call_id, queue=r.queue, agent=r.agent,
                  event=r.event, data=r.data)
        for i, r in enumerate(records, 1)
    ]  # fmt: skip


def fill(store: Store, now: float, weeks: int = 5) -> None:
    store_events.append_many(store.engine, center_log(now, weeks))
    store_reports.rebuild(store.engine, ReportSettings())  # what tamas serve maintains


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


def slot_of(t: float) -> tuple[int, int]:
    return weekday(math.floor(t / DAY)), round(t % DAY) // 900


def agents_for(calls: float, aht: float) -> int:
    return staff(StaffingInput(calls=calls, aht=aht, interval=900)).agents


def check_measured_plan(rows: list[dict[str, Any]]) -> None:
    """The plan of the week from Saturday 2024-10-05 (or any week), by slot."""
    assert len(rows) == 7 * 96
    seen = set()
    for row in rows:
        day, slot = slot_of(row["start"])
        if slot in MORNING:
            expected = (5.0, 120.0, "interval")
        elif slot in AFTERNOON:
            expected = (5.0, 300.0, "interval")
        elif slot == NIGHT:
            expected = (1.0, 600.0, "time_of_day")
        elif slot == LATE and day == 6:
            expected = (1.0, pytest.approx(SUNDAY_AHT), "weekday")
        else:
            assert row["calls"] == 0 and row["agents"] == 0
            continue
        assert (row["calls"], row["aht"], row["aht_source"]) == expected, row
        assert row["agents"] == agents_for(row["calls"], row["aht"])
        seen.add((slot in MORNING, slot in AFTERNOON, slot))
    assert len(seen) == 10  # 4 morning, 4 afternoon, 22:00, 23:00
    morning = {r["agents"] for r in rows if slot_of(r["start"])[1] in MORNING}
    afternoon = {r["agents"] for r in rows if slot_of(r["start"])[1] in AFTERNOON}
    # Erlang C, 80 % within 20 s. Mornings: A = 5 x 120 / 900 = 0.667 erlang; 2 agents:
    # Erlang B 0.1176, C = 2 x 0.1176 / (2 - 0.667 x 0.8824) = 0.1667, SL = 1 - 0.1667 x
    # exp(-(2 - 0.667) x 20 / 120) = 0.867 (1 agent: 0.369): 2. Afternoons: A = 5 x 300 / 900
    # = 1.667; 3 agents: B = 0.1599, C = 0.2998, SL = 1 - 0.2998 x exp(-1.333 x 20 / 300)
    # = 0.726 < 0.8: 4. With a fixed 180 s every interval would get the same.
    assert (morning, afternoon) == ({2}, {4})


def test_the_plan_uses_the_aht_measured_per_interval(store: Store) -> None:
    fill(store, NOW)
    [sales] = forecast_queues(store, now=NOW, zone="UTC", goal=StaffingGoal())
    assert sales.forecast.total == pytest.approx(7 * 41 + 1)  # 8 x 5 + 1 a day, + Sunday's
    assert sales.aht_source == "measured"
    table = sales.plan.as_json()
    check_measured_plan(table["rows"])  # type: ignore[arg-type]
    assert table["params"]["aht"] == "measured"  # type: ignore[index]
    body = sales.as_json()
    # 27 days x 33 calls + 4 Sundays = 895 handled calls:
    # (27 x (16 x 120 + 16 x 300 + 600) + 4 x 60) / 895
    assert body["aht"]["handled"] == 895
    assert body["aht"]["measured_overall"] == pytest.approx((27 * 7320 + 240) / 895)
    assert body["aht"]["sources"]["interval"] == 7 * 8
    assert body["aht"]["sources"]["time_of_day"] == 7
    assert body["patience"] == {"source": "none", "measured": pytest.approx(PATIENCE),
                                "abandoned": 216}  # fmt: skip


def test_a_given_aht_overrides_and_patience_can_be_measured(store: Store) -> None:
    fill(store, NOW)
    [sales] = forecast_queues(store, now=NOW, zone="UTC",
                              goal=StaffingGoal(aht=180.0, patience_measured=True))  # fmt: skip
    rows = sales.plan.as_json()["rows"]
    busy = [r for r in rows if r["calls"]]  # type: ignore[index]
    assert {(r["aht"], r["aht_source"], r["model"]) for r in busy} == {
        (180.0, "given", "erlang_a")}  # fmt: skip
    assert sales.aht_source == "given" and sales.patience_source == "measured"
    assert sales.plan.params["patience"] == pytest.approx(PATIENCE)
    morning = next(r for r in busy if slot_of(r["start"])[1] in MORNING)
    expected = staff(StaffingInput(calls=5.0, aht=180.0, interval=900, patience=PATIENCE))
    assert morning["agents"] == expected.agents
    assert morning["abandon_rate"] == pytest.approx(expected.abandon_rate)


def test_sparse_history_falls_back_to_the_default(store: Store) -> None:
    # one answered call a week at 09:00 Monday: 4 < 10 handled in every pool
    records = []
    for i, week in enumerate(range(5)):
        day = 20000 - 4 - 7 * week  # Mondays before NOW
        records += call(i + 1, day * DAY + 9 * 3600 + 7, "a0", talk=500)
    extra = [LogRecord(seq=i, at=r.at, call_id=r.call_id, queue=r.queue, agent=r.agent,
                       event=r.event, data=r.data)
             for i, r in enumerate(sorted(records, key=lambda r: r.at), 1)]  # fmt: skip
    store_events.append_many(store.engine, extra)
    store_reports.rebuild(store.engine, ReportSettings())
    [sales] = forecast_queues(store, now=NOW, zone="UTC", goal=StaffingGoal())
    busy = [r for r in sales.plan.as_json()["rows"] if r["calls"]]  # type: ignore[index]
    assert {(r["aht"], r["aht_source"]) for r in busy} == {(180.0, "default")}
    assert sales.as_json()["aht"]["handled"] == 4 and sales.aht.overall == 500.0
    with pytest.raises(ValueError, match="too few to measure the patience"):
        forecast_queues(store, now=NOW, zone="UTC", goal=StaffingGoal(patience_measured=True))


# -- the command ----------------------------------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tamas")
    wfm_cmd.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_forecast_command_measured_and_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = time.time()  # the command forecasts from the real now; the log is placed before it
    data = tmp_path / "data"
    with open_store(f"sqlite:///{data / 'tamas.db'}") as opened:
        store_events.append_many(opened.engine, center_log(now, weeks=5))  # no aggregates yet
    args = parse("forecast", "--data", str(data), "--zone", "UTC", "--format", "json")
    assert args.handler(args) == 0  # catches the aggregates up first
    [sales] = json.loads(capsys.readouterr().out)["queues"]
    assert sales["aht"]["source"] == "measured"
    check_measured_plan(sales["plan"]["rows"])
    text = parse("forecast", "--data", str(data), "--zone", "UTC", "--patience", "measured")
    assert text.handler(text) == 0
    out = capsys.readouterr().out
    assert "AHT: measured per interval in the history (" in out
    assert "intervals by source: 56 interval, 7 time_of_day" in out
    assert " s, measured (Erlang A; " in out and "AHT from" in out
    given = parse("forecast", "--data", str(data), "--zone", "UTC", "--aht", "180",
                  "--format", "json")  # fmt: skip
    assert given.handler(given) == 0
    [sales] = json.loads(capsys.readouterr().out)["queues"]
    busy = [r for r in sales["plan"]["rows"] if r["calls"]]
    assert {(r["aht"], r["aht_source"]) for r in busy} == {(180.0, "given")}
    assert sales["plan"]["params"]["aht"] == 180.0 and sales["aht"]["source"] == "given"
    with pytest.raises(SystemExit):  # argparse refuses it
        parse("forecast", "--data", str(data), "--zone", "UTC", "--patience", "soon")


# -- the HTTP API ---------------------------------------------------------------------------


def test_forecast_api_over_http(store: Store) -> None:
    fill(store, NOW)
    app = Starlette(routes=wfm_routes(store, make_guard("s3cret", api="wfm"), clock=lambda: NOW))

    async def scenario() -> list[tuple[int, Any]]:
        out = []
        async with serve_app(app) as base:
            for query in ("", "?aht=180", "?patience=measured&aht=240", "?aht=0", "?patience=soon"):
                status, _headers, raw = await http("GET", f"{base}/api/v1/wfm/forecast{query}")
                out.append((status, json.loads(raw)))
        return out

    measured, given, both, zero, bad = asyncio.run(scenario())
    assert measured[0] == 200, measured
    [sales] = measured[1]["queues"]
    assert sales["aht"]["source"] == "measured" and sales["plan"]["params"]["aht"] == "measured"
    check_measured_plan(sales["plan"]["rows"])
    assert given[0] == 200
    busy = [r for r in given[1]["queues"][0]["plan"]["rows"] if r["calls"]]
    assert {(r["aht"], r["aht_source"], r["model"]) for r in busy} == {
        (180.0, "given", "erlang_c")}  # fmt: skip
    assert both[0] == 200
    plan = both[1]["queues"][0]["plan"]
    assert plan["params"]["patience"] == pytest.approx(PATIENCE)
    assert {r["model"] for r in plan["rows"]} == {"erlang_a"}
    assert {r["aht"] for r in plan["rows"]} == {240.0}
    assert zero[0] == 400 and zero[1]["error"] == "invalid"
    assert bad[0] == 400 and bad[1]["field"] == "patience"
