"""The staffing API over a real SQLite store, the ASGI app called in memory (the client
address is in the scope, no socket; see test_voicemail_web.request)."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from test_voicemail_web import request

from tamas.core.events import LogRecord
from tamas.store import events as store_events
from tamas.store import open_store
from tamas.web.guard import make_guard
from tamas.web.wfm import wfm_routes

DAY = 86400
NOW = 20_000 * DAY + 10 * 3600.0  # 2024-10-04 10:00 UTC, a Friday


class Api:
    def __init__(self, tmp_path: Path) -> None:
        self.store = open_store(f"sqlite:///{tmp_path}/t.db")
        guard = make_guard("s3cret", api="wfm")
        self.app = Starlette(routes=wfm_routes(self.store, guard, clock=lambda: NOW))

    def call(self, method: str, path: str, body: object = None, **kw: Any) -> tuple[int, Any]:
        status, _, raw = asyncio.run(request(self.app, method, path, body, **kw))
        return status, (json.loads(raw) if raw else None)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    made = Api(tmp_path)
    yield made
    made.store.close()


def fill(api: Api, weeks: int) -> None:
    """4 arrivals in "sales" every 15 minutes, 08:00-12:00 UTC, every day, before NOW."""
    records = []
    seq = 0
    for day in range(math.floor(NOW / DAY) - 7 * weeks, math.floor(NOW / DAY) + 1):
        for slot in range(32, 48):
            for k in range(4):
                at = day * DAY + slot * 900 + 100 * k
                if at < NOW:
                    seq += 1
                    records.append(LogRecord(seq=seq, at=at, call_id=f"c{seq}", queue="sales",
                                             event="ENTERQUEUE"))  # fmt: skip
    store_events.append_many(api.store.engine, records)


def test_staffing_one_interval(api: Api) -> None:
    # Call Centre Helper's example: 14 agents, 14 / 0.7 = 20 scheduled, SL 88.8 %.
    body = {"calls": 100, "aht": 180, "interval": 1800, "sl": 0.8, "threshold": 20,
            "shrinkage": 0.3, "max_occupancy": 0.85}  # fmt: skip
    status, table = api.call("POST", "/api/v1/wfm/staffing", body)
    assert status == 200, table
    assert table["name"] == "staffing"
    row = table["rows"][0]
    assert (row["agents"], row["scheduled"], row["model"]) == (14, 20, "erlang_c")
    assert row["service_level"] == pytest.approx(0.888, abs=5e-4)
    assert table["targets"] == {"service_level": 0.8}


def test_staffing_several_intervals_with_shared_fields(api: Api) -> None:
    # Shared aht/patience; 0 calls needs nobody; 100 calls with patience 60 s: 12 agents.
    body = {"aht": 180, "patience": 60, "intervals": [
        {"calls": 0, "start": 0}, {"calls": 100, "start": 1800}]}  # fmt: skip
    status, table = api.call("POST", "/api/v1/wfm/staffing", body)
    assert status == 200, table
    assert [r["agents"] for r in table["rows"]] == [0, 12]
    assert table["rows"][0]["service_level"] is None
    assert table["rows"][1]["abandon_rate"] > 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"aht": 180}, "calls"),
        ({"calls": "many", "aht": 180}, "calls"),
        ({"calls": 10, "aht": 180, "shrinkage": 1.2}, "shrinkage"),
        ({"calls": 10, "aht": 180, "sl": 80}, "sl"),
        ({"calls": 10, "aht": 180, "colour": "red"}, "colour"),
        ({"aht": 180, "intervals": [{"calls": -1}]}, "intervals[0].calls"),
        ({"aht": 180, "intervals": []}, "intervals"),
    ],
)
def test_staffing_bad_input_is_400_with_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    status, reply = api.call("POST", "/api/v1/wfm/staffing", body)
    assert status == 400, reply
    assert reply["error"] == "invalid" and reply["field"] == field


def test_staffing_body_must_be_an_object(api: Api) -> None:
    status, reply = api.call("POST", "/api/v1/wfm/staffing", b"[1, 2]")
    assert (status, reply["error"]) == (400, "invalid")


def test_the_guard_applies(api: Api) -> None:
    body = {"calls": 10, "aht": 180}
    status, _ = api.call("POST", "/api/v1/wfm/staffing", body, client="203.0.113.9")
    assert status == 401
    status, _ = api.call("POST", "/api/v1/wfm/staffing", body, client="203.0.113.9",
                         Authorization="Bearer s3cret")  # fmt: skip
    assert status == 200


def test_forecast_from_the_store(api: Api) -> None:
    fill(api, weeks=6)
    status, reply = api.call("GET", "/api/v1/wfm/forecast?queue=sales&weeks=4&aht=180&sl=0.8"
                             "&threshold=20&shrinkage=0.2")  # fmt: skip
    assert status == 200, reply
    [sales] = reply["queues"]
    assert sales["queue"] == "sales"
    assert sales["forecast"]["start"] == 20_001 * DAY
    # 16 intervals a day x 4 calls x 7 days = 448 calls, the same every week.
    assert sales["forecast"]["total"] == pytest.approx(448)
    assert sales["accuracy"]["rows"][-1]["wape"] == 0.0
    rows = [r for r in sales["plan"]["rows"] if r["agents"]]
    assert len(rows) == 7 * 16
    # 4 calls / 900 s x 180 s = 0.8 erlangs. Erlang C: B(1) = 0.8/1.8 = 0.4444,
    # C(1) = 0.8 -> SL(1) = 1 - 0.8*exp(-0.2*20/180) = 0.218; B(2) = 0.8*0.4444/(2 + 0.3556)
    # = 0.1509, C(2) = 2*0.1509/(2 - 0.8*0.8491) = 0.2286, SL(2) = 1 - 0.2286*exp(-1.2*20/180)
    # = 0.79994 < 0.8 (just); B(3) = 0.8*0.1509/(3 + 0.1207) = 0.0387, C(3) = 3*0.0387/
    # (3 - 0.8*0.9613) = 0.0520, SL(3) = 1 - 0.0520*exp(-2.2*20/180) = 0.959: 3 agents,
    # 3 / 0.8 = 3.75 -> 4 scheduled.
    assert {(r["agents"], r["scheduled"]) for r in rows} == {(3, 4)}


def test_forecast_errors(api: Api) -> None:
    status, reply = api.call("GET", "/api/v1/wfm/forecast")
    assert (status, reply["error"]) == (422, "not_enough_history")
    fill(api, weeks=1)
    status, reply = api.call("GET", "/api/v1/wfm/forecast?queue=sales")
    assert status == 422 and "at least 14 days" in reply["message"]
    for query, field in [("weeks=1", "weeks"), ("zone=Nowhere/Land", "zone"),
                         ("aht=abc", "aht"), ("shrinkage=2", None)]:  # fmt: skip
        status, reply = api.call("GET", f"/api/v1/wfm/forecast?{query}")
        assert status == 400, (query, reply)
        assert reply.get("field") == field
