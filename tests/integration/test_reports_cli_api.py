"""Reports end to end: a hand-built event log in a real database (SQLite and PostgreSQL),
folded into the aggregates, read through ``tamas report`` and the HTTP API (uvicorn on
127.0.0.1) in JSON, CSV and XLSX. The figures are those worked out by hand in
tests/unit/reportlog.py and tests/unit/test_kpi.py."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from starlette.applications import Starlette
from webserve import http, serve_app

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from reportlog import LOG, T0

from tamas.cli.main import main
from tamas.config import parse_config
from tamas.runtime.reportservice import ReportService
from tamas.store import events as store_events
from tamas.store import open_store
from tamas.web.reports import report_routes

# the log spans T0 .. T0+1800; ask for the whole hour from T0
RANGE = ["--from", str(int(T0)), "--to", str(int(T0) + 3600)]


@pytest.fixture
def center(store_url: str, tmp_path: Path) -> Path:
    """A configuration file whose database holds the hand-built log (not yet aggregated)."""
    config = {"data_dir": str(tmp_path / "data"), "database_url": store_url,
              "queues": [{"name": "sales"}, {"name": "support"}],
              "agents": [{"id": "a1", "queues": {"sales": 0}},
                         {"id": "a2", "queues": {"sales": 0, "support": 0}}],
              "reports": {"teams": [{"name": "all", "queues": ["sales", "support"],
                                     "agents": ["a1", "a2"]}]}}  # fmt: skip
    (tmp_path / "data").mkdir()
    path = tmp_path / "tamas.yaml"
    path.write_text(yaml.safe_dump(config))
    with open_store(store_url) as store:
        store_events.append_many(store.engine, LOG)
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["report", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_queue_report_from_the_cli_in_every_format(
    center: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = cli(capsys, "queues", *RANGE, "--config", str(center))
    assert status == 0, err
    rows = {r["queue"]: r for r in json.loads(out)["rows"]}
    sales = rows["sales"]
    # sales: c1, c2, c3 and c4 (after its transfer) entered; c1 and c4 answered; c2, c3
    # abandoned; SL = 2 answered within 20 s / (2 + 2) = 0.5; ASA (15 + 10) / 2 = 12.5
    assert (sales["offered"], sales["answered"], sales["abandoned"]) == (4, 2, 2)
    assert sales["service_level"] == pytest.approx(0.5)
    assert sales["asa"] == pytest.approx(12.5)
    # support: c4 and c5 entered, c4 answered after 30 s, c5 timed out; c6 was refused (FULL)
    assert (rows["support"]["offered"], rows["support"]["answered"]) == (2, 1)

    status, out, _ = cli(capsys, "queues", *RANGE, "--config", str(center), "--format", "csv")
    assert status == 0
    table = list(csv.reader(io.StringIO(out)))
    header = next(i for i, row in enumerate(table) if row and row[0] == "Queue")
    by_queue = {row[0]: dict(zip(table[header], row, strict=True)) for row in table[header + 1:]}
    assert by_queue["sales"]["Offered"] == "4" and by_queue["sales"]["Answered"] == "2"

    target = tmp_path / "q.xlsx"
    status, _, err = cli(capsys, "queues", *RANGE, "--config", str(center), "--format", "xlsx",
                         "-o", str(target))  # fmt: skip
    assert status == 0 and "2 row(s)" in err
    sheet = openpyxl.load_workbook(target).worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    head = next(i for i, row in enumerate(values) if row[0] == "Queue")
    sales_row = dict(zip(values[head], values[head + 1], strict=True))
    assert sales_row["Offered"] == 4  # a number, not text


def test_groupings_teams_and_agents(center: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, "queues", *RANGE, "--config", str(center), "--group", "team")
    assert status == 0
    (team,) = json.loads(out)["rows"]
    # all: within 20 s: c1 (15 s) and c4 in sales (10 s) = 2 of answered 3 + abandoned 2
    assert team["team"] == "all" and team["service_level"] == pytest.approx(0.4)
    status, out, _ = cli(capsys, "agents", *RANGE, "--config", str(center))
    agents = {r["agent"]: r for r in json.loads(out)["rows"]}
    # a1 logged in 0..1200 and paused for lunch 700..1000; a2 logged in 0..1800
    assert agents["a1"]["login"] == pytest.approx(1200) and agents["a1"]["paused"] == 300
    assert agents["a1"]["pause:lunch"] == 300
    assert agents["a2"]["occupancy"] == pytest.approx(210 / 1800)
    status, out, _ = cli(capsys, "kpis", *RANGE, "--config", str(center), "--queue", "sales")
    kpis = {r["kpi"]: r for r in json.loads(out)["rows"]}
    assert kpis["service_level"]["value"] == pytest.approx(0.5)
    assert kpis["service_level"]["status"] == "low"  # target 0.8
    assert kpis["abandon_rate"]["value"] == pytest.approx(0.5)
    assert kpis["abandon_rate"]["status"] == "high"  # target 5-8 %
    assert kpis["peak_offered"]["value"] == 4  # all four sales calls in the first 15 min


def test_missed_calls_and_bad_parameters(center: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, "missed_calls", *RANGE, "--config", str(center))
    assert status == 0
    missed = {r["call_id"]: r["kind"] for r in json.loads(out)["rows"]}
    # c2 and c3 abandoned, c5 timed out; c1 and c4 were answered
    assert missed == {"c2": "abandoned", "c3": "abandoned", "c5": "timeout"}
    status, out, _ = cli(capsys, "agent_sessions", *RANGE, "--config", str(center),
                         "--agent", "a1")  # fmt: skip
    assert status == 0
    (session,) = json.loads(out)["rows"]
    assert (session["duration"], session["pauses"]) == (1200.0, "lunch: 300")
    status, _, err = cli(capsys, "queues", "--from", "2026-02-30", "--config", str(center))
    assert status == 2 and "from:" in err and "2026-02-30" in err
    status, _, err = cli(capsys, "queues", "--group", "agent", "--config", str(center))
    assert status == 2 and "group" in err
    status, _, err = cli(capsys, "nonsense", "--config", str(center))
    assert status == 2 and "no report 'nonsense'" in err


def test_http_api_gives_what_the_cli_gives(
    center: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = cli(capsys, "queues", *RANGE, "--config", str(center))  # also catches up
    assert status == 0
    from_cli = json.loads(out)
    config = parse_config(center.read_text(), str(center))
    with open_store(config.database_url_resolved()) as store:
        service = ReportService(store.engine, config.reports)

        async def main_() -> None:
            async with serve_app(Starlette(routes=report_routes(service))) as base:
                query = f"from={int(T0)}&to={int(T0) + 3600}"
                code, _, body = await http("GET", f"{base}/api/v1/reports/queues?{query}")
                assert code == 200
                assert json.loads(body)["rows"] == from_cli["rows"]
                code, headers, body = await http(
                    "GET", f"{base}/api/v1/reports/queues?{query}&format=xlsx")
                assert code == 200 and body[:2] == b"PK"  # a zip: an XLSX
                assert "queues.xlsx" in headers["content-disposition"]
                code, _, body = await http("GET", f"{base}/api/v1/kpis?{query}&queue=sales")
                kpis: dict[str, Any] = {r["kpi"]: r for r in json.loads(body)["rows"]}
                assert kpis["offered"]["value"] == 4
                code, _, body = await http("GET", f"{base}/api/v1/reports/queues?to=yesterdy")
                assert code == 400 and json.loads(body)["field"] == "to"
                code, _, _ = await http("GET", f"{base}/api/v1/reports/nope")
                assert code == 404
                code, _, body = await http("GET", f"{base}/api/v1/reports")
                names = {r["name"] for r in json.loads(body)["reports"]}
                assert {"queues", "agents", "intervals", "kpis", "missed_calls"} <= names

        asyncio.run(main_())
