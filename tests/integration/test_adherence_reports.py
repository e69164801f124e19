"""Schedule adherence and forecast accuracy end to end: a hand-built log in a real database
(SQLite and PostgreSQL), read through ``tamas report`` and the HTTP API (uvicorn on
127.0.0.1). The center is in Asia/Tehran (UTC+03:30, no daylight saving).

Adherence: the day of tests/unit/test_adherence.py on Saturday 2026-10-03 (the figures are
worked out there): a1 and a2 scheduled 08:00-16:00 with lunch 13:00-13:30; a1 94.8 %
(455 of 480 min), a2 87.5 % (420 of 480 min).

Forecast accuracy: queue sales gets, every day from Saturday 2026-09-05 for five weeks,
calls 09:00-12:00 in twelve 15-minute intervals, 2, 3, 4, 2, 3, 4, ... (36 a day). The
forecast of the fifth week (2026-10-03 .. 2026-10-09) from the four before it is that same
pattern (identical weeks: no trend). In that week the first interval of Saturday gets 6
calls instead of 2: actual 252 + 4 = 256, error 4, WAPE 4 / 256; MAPE: that interval's
|2 - 6| / 6, the other 83 intervals with calls 0, over 84.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from starlette.applications import Starlette
from webserve import http, serve_app

from tamas.cli.main import main
from tamas.config import parse_config
from tamas.core.events import NONE, LogRecord
from tamas.runtime.reportservice import ReportService
from tamas.store import events as store_events
from tamas.store import open_store
from tamas.web.reports import report_routes

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))

TEHRAN = ZoneInfo("Asia/Tehran")
FIRST = datetime(2026, 9, 5, tzinfo=TEHRAN)  # a Saturday
SAT = datetime(2026, 10, 3, tzinfo=TEHRAN)  # the fifth Saturday: the week scored


def at(day: datetime, hours: int, minutes: int = 0) -> float:
    return (day + timedelta(hours=hours, minutes=minutes)).timestamp()


def agent(t: float, who: str, event: str, *data: str) -> LogRecord:
    return LogRecord(at=t, call_id=NONE, queue="sales", agent=who, event=event, data=data)


def the_log() -> list[LogRecord]:
    records = [
        agent(at(SAT, 8, 10), "a1", "AGENTLOGIN", "dev1"),
        agent(at(SAT, 13), "a1", "PAUSE", "lunch"),
        agent(at(SAT, 13, 40), "a1", "UNPAUSE"),
        agent(at(SAT, 15), "a1", "PAUSE", "coffee"),
        agent(at(SAT, 15, 5), "a1", "UNPAUSE"),
        agent(at(SAT, 16, 20), "a1", "AGENTLOGOFF", "dev1"),
        agent(at(SAT, 8), "a2", "AGENTLOGIN", "dev2"),
        agent(at(SAT, 12), "a2", "AGENTLOGOFF", "dev2"),
        agent(at(SAT, 12, 30), "a2", "AGENTLOGIN", "dev2"),
        agent(at(SAT, 16), "a2", "AGENTLOGOFF", "dev2"),
    ]
    n = 0
    for d in range(35):
        day = FIRST + timedelta(days=d)
        for i in range(12):
            calls = (2, 3, 4)[i % 3] + (4 if day == SAT and i == 0 else 0)
            for k in range(calls):
                n += 1
                t = at(day, 9, 15 * i) + 10 * k + 1
                records.append(LogRecord(at=t, call_id=f"c{n}", queue="sales",
                                         event="ENTERQUEUE", data=("", "0911", "1")))  # fmt: skip
                records.append(LogRecord(at=t + 5, call_id=f"c{n}", queue="sales",
                                         event="ABANDON", data=("1", "1", "5")))  # fmt: skip
    records.sort(key=lambda r: r.at)
    return [dataclasses.replace(r, seq=i + 1) for i, r in enumerate(records)]


@pytest.fixture
def center(store_url: str, tmp_path: Path) -> Path:
    shift = {"start": "08:00", "end": "16:00",
             "breaks": [{"start": "13:00", "minutes": 30, "reason": "lunch"}]}  # fmt: skip
    config = {"data_dir": str(tmp_path / "data"), "database_url": store_url,
              "queues": [{"name": "sales"}],
              "agents": [{"id": "a1", "queues": {"sales": 0}},
                         {"id": "a2", "queues": {"sales": 0}}],
              "reports": {"timezone": "Asia/Tehran",
                          "teams": [{"name": "north", "agents": ["a1", "a2"]}],
                          "schedules": [{"team": "north", "days": ["sat"],
                                         "shifts": [shift]}]}}  # fmt: skip
    (tmp_path / "data").mkdir()
    path = tmp_path / "tamas.yaml"
    path.write_text(yaml.safe_dump(config))
    with open_store(store_url) as store:
        store_events.append_many(store.engine, the_log())
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["report", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_adherence_and_forecast_accuracy_from_the_cli(
    center: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day = ["--from", "2026-10-03", "--to", "2026-10-03", "--config", str(center)]
    status, out, err = cli(capsys, "adherence", *day)
    assert status == 0, err
    rows = {r["agent"]: r for r in json.loads(out)["rows"]}
    assert rows["a1"]["scheduled"] == 480 * 60 and rows["a1"]["in_adherence"] == 455 * 60
    assert rows["a1"]["adherence"] == pytest.approx(455 / 480)
    assert rows["a1"]["conformance"] == pytest.approx(445 / 450)
    assert rows["a2"]["adherence"] == pytest.approx(420 / 480)
    assert rows["total"]["adherence"] == pytest.approx(875 / 960)
    status, out, _ = cli(capsys, "adherence", *day, "--agent", "a2")
    assert [r["agent"] for r in json.loads(out)["rows"]] == ["a2", "total"]

    week = ["--from", "2026-10-03", "--to", "2026-10-09", "--config", str(center)]
    status, out, err = cli(capsys, "forecast_accuracy", *week)  # also catches up
    assert status == 0, err
    sales, total = json.loads(out)["rows"]
    assert (sales["queue"], sales["intervals"]) == ("sales", 7 * 96)
    assert sales["actual"] == 256 and sales["forecast"] == pytest.approx(252)
    assert sales["wape"] == pytest.approx(4 / 256)
    assert sales["mape"] == pytest.approx((4 / 6) / 84)
    assert total["wape"] == pytest.approx(4 / 256)

    status, out, _ = cli(capsys, "kpis", *week)
    kpis = {r["kpi"]: r for r in json.loads(out)["rows"]}
    # the week: only Saturday is scheduled
    assert kpis["adherence"]["value"] == pytest.approx(875 / 960)
    assert kpis["adherence"]["target_low"] == 0.9 and kpis["adherence"]["status"] == "ok"
    assert kpis["conformance"]["value"] == pytest.approx((445 + 450) / 900)
    assert kpis["forecast_accuracy"]["value"] == pytest.approx(1 - 4 / 256)
    assert kpis["forecast_wape"]["value"] == pytest.approx(4 / 256)

    # more than 31 days: the listing leaves the forecast out (the report takes any range)
    status, out, _ = cli(capsys, "kpis", "--from", "2026-09-05", "--to", "2026-10-09",
                         "--config", str(center))  # fmt: skip
    kpis = {r["kpi"]: r for r in json.loads(out)["rows"]}
    assert kpis["forecast_accuracy"]["value"] is None
    # five scheduled Saturdays; on the first four nobody logged in
    assert kpis["adherence"]["value"] == pytest.approx(875 / (5 * 960))
    assert kpis["adherence"]["status"] == "low"

    # too little history: a forecast of the first week cannot be made, and says why
    status, out, _ = cli(capsys, "forecast_accuracy", "--from", "2026-09-05", "--to",
                         "2026-09-11", "--config", str(center))  # fmt: skip
    (sales, _total) = json.loads(out)["rows"]
    assert sales["wape"] is None and "at least 14 days" in sales["note"]


def test_adherence_over_http_in_persian_csv(
    center: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = parse_config(center.read_text(), str(center))
    with open_store(config.database_url_resolved()) as store:
        service = ReportService(store.engine, config.reports)

        async def main_() -> None:
            async with serve_app(Starlette(routes=report_routes(service))) as base:
                query = "from=2026-10-03&to=2026-10-03&team=north"
                code, _, body = await http("GET", f"{base}/api/v1/reports/adherence?{query}")
                assert code == 200
                rows: dict[str, Any] = {r["agent"]: r for r in json.loads(body)["rows"]}
                assert rows["a1"]["not_logged_in"] == 600 and rows["a2"]["adherence"] == 0.875
                code, headers, body = await http(
                    "GET", f"{base}/api/v1/reports/adherence?{query}&format=csv&language=fa")
                assert code == 200 and "adherence.csv" in headers["content-disposition"]
                table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
                header = next(row for row in table if row and row[0] == "کارشناس")
                assert header[12:] == ["پایبندی به برنامه", "انطباق با برنامه"]
                code, _, body = await http("GET", f"{base}/api/v1/reports/adherence?team=x")
                assert code == 400 and json.loads(body)["field"] == "team"
                code, _, body = await http("GET", f"{base}/api/v1/reports")
                names = {r["name"] for r in json.loads(body)["reports"]}
                assert {"adherence", "forecast_accuracy"} <= names

        asyncio.run(main_())
