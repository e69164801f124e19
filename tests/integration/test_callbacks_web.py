"""The callbacks API over real HTTP (uvicorn on 127.0.0.1) against a real contact center
(the rig of test_b2bua_media: SIP in memory, a real media engine)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from memsip import until
from starlette.applications import Starlette
from test_b2bua_media import C_PORT, CONFIG, Media, play
from webserve import http, serve_app

from tamas.core.events import LogRecord
from tamas.web.callbacks import callback_routes

QUEUES = (
    CONFIG
    + "queues:\n  - {{name: sales, wrapup: 0}}\n  - {{name: support, wrapup: 0}}\n"
    + 'agents:\n  - {{id: cy, extension: "3000", queues: {{sales: 0}}}}\n'
)


def test_schedule_list_and_cancel(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    events: list[LogRecord] = []

    async def scenario(media: Media) -> None:
        center = media.center
        assert center is not None
        later = time.time() + 3600  # no agent is logged in, and it is an hour away anyway
        iso = datetime.fromtimestamp(later + 60, UTC).isoformat()
        app = Starlette(routes=callback_routes(center))
        async with serve_app(app) as base:
            url = base + "/api/v1/callbacks"
            status, _, body = await http("POST", url, {"queue": "sales", "number": "0912 345-6789",
                                                       "at": later})  # fmt: skip
            assert status == 201
            first = json.loads(body)["callback"]
            assert first["id"].startswith("cb-")
            assert {k: v for k, v in first.items() if k != "id"} == {
                "queue": "sales", "number": "09123456789", "state": "scheduled", "at": later,
                "position": None, "attempts": 0, "agent": None,
            }  # fmt: skip
            # an ISO 8601 time (UTC), a minute after the first
            status, _, body = await http("POST", url, {"queue": "sales", "number": "+۹۸۹۱۲",
                                                       "at": iso})  # fmt: skip
            assert status == 201
            second = json.loads(body)["callback"]
            assert second["number"] == "+98912"
            assert second["at"] == pytest.approx(later + 60)
            # no time: now; no agent is free, so it waits in the support line
            status, _, body = await http("POST", url, {"queue": "support", "number": "3000"})
            assert status == 201
            third = json.loads(body)["callback"]
            assert (third["state"], third["position"], third["at"]) == ("waiting", 1, None)

            status, _, body = await http("GET", url)
            assert status == 200
            listed = json.loads(body)["callbacks"]
            # sales first (configuration order), by time; then support
            assert [c["id"] for c in listed] == [first["id"], second["id"], third["id"]]
            status, _, body = await http("GET", url + "?queue=support")
            assert [c["id"] for c in json.loads(body)["callbacks"]] == [third["id"]]

            status, _, body = await http("DELETE", f"{url}/{first['id']}?reason=called%20in")
            assert (status, body) == (204, b"")
            status, _, body = await http("DELETE", f"{url}/{first['id']}")
            assert status == 404 and json.loads(body)["error"] == "not_found"
            status, _, body = await http("GET", url + "?queue=sales")
            assert [c["id"] for c in json.loads(body)["callbacks"]] == [second["id"]]

            refused = [
                ({"queue": "nope", "number": "1"}, "no queue"),
                ({"queue": "sales"}, "number"),
                ({"queue": "sales", "number": "call me"}, "not a phone number"),
                ({"queue": "sales", "number": "1", "at": "tomorrow"}, "ISO 8601"),
                ({"queue": "sales", "number": "1", "at": True}, "ISO 8601"),
                (b"[1, 2]", "JSON object"),
                (b"{", "JSON object"),
            ]
            for sent, message in refused:
                status, _, body = await http("POST", url, sent)
                answer = json.loads(body)
                assert (status, answer["error"]) == (400, "bad_request"), sent
                assert message in answer["message"], (sent, answer)
            status, _, body = await http("GET", url + "?queue=nope")
            assert status == 404 and json.loads(body)["error"] == "not_found"
            status, _, body = await http("GET", url)
            assert len(json.loads(body)["callbacks"]) == 2  # the refusals added nothing

            # a callback being made cannot be cancelled: 409
            center.login("cy", "3000")
            status, _, body = await http("POST", url, {"queue": "sales", "number": "2000"})
            made = json.loads(body)["callback"]
            assert (made["state"], made["agent"]) == ("ringing", "cy")
            status, _, body = await http("DELETE", f"{url}/{made['id']}")
            assert status == 409 and json.loads(body)["error"] == "in_progress"
        # leave no call behind: the agent's phone is busy (the callback stays pending)
        agent = media.net.phone(C_PORT, "c")
        await until(lambda: "INVITE" in agent.peek(), 10)
        agent.reply(agent.expect_request("INVITE"), 486, tag="ctag")
        agent.expect("ACK")
        await until(lambda: not center.b2bua.calls, 10)

    play(tmp_path, caplog, scenario, config=QUEUES, events=events)
    cancelled = [r for r in events if r.event == "CALLBACKCANCELLED"]
    assert [(r.queue, r.data) for r in cancelled] == [("sales", ("called in",))]
    assert len([r for r in events if r.event == "CALLBACKREQUESTED"]) == 4
