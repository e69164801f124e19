"""The real-time API over real HTTP and a real WebSocket (uvicorn on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.applications import Starlette
from webserve import http, serve_app
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tamas.core.events import NONE, LogRecord
from tamas.runtime.live import LiveService
from tamas.web.realtime import realtime_routes


def rec(seq: int, at: float, event: str, *data: str, call: str = NONE, queue: str = NONE,
        agent: str = NONE) -> LogRecord:  # fmt: skip
    return LogRecord(seq=seq, at=at, call_id=call, queue=queue, agent=agent, event=event,
                     data=data)  # fmt: skip


async def _next(ws: Any) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), 10))  # type: ignore[no-any-return]


def test_board_is_served_and_pushed_as_events_arrive() -> None:
    clock = [1000.0]
    live = LiveService({"sales": ["1001"]}, clock=lambda: clock[0])
    app = Starlette(routes=realtime_routes(live, min_interval=0.01, heartbeat=30))

    async def main() -> None:
        async with serve_app(app) as base:
            ws_url = base.replace("http://", "ws://") + "/api/v1/realtime/ws"
            async with connect(ws_url) as ws:
                first = await _next(ws)
                assert first["queues"]["sales"]["waiting"] == 0
                assert first["seq"] == 0
                live.on_batch([
                    rec(1, 990, "AGENTLOGIN", "1001", agent="1001"),
                    rec(2, 995, "ENTERQUEUE", "", "0912", "1", call="c1", queue="sales"),
                ])  # fmt: skip
                pushed = await _next(ws)
                # one caller since 995, and the clock says 1000: 5 s
                assert pushed["seq"] == 2
                assert pushed["queues"]["sales"]["waiting"] == 1
                assert pushed["queues"]["sales"]["longest_wait"] == 5.0
                assert pushed["queues"]["sales"]["agents"]["available"] == 1
                live.on_batch([rec(3, 1000, "CONNECT", "5", "1001", "2", call="c1",
                                   queue="sales", agent="1001")])  # fmt: skip
                pushed = await _next(ws)
                assert pushed["seq"] == 3
                assert pushed["queues"]["sales"]["waiting"] == 0
                assert pushed["agents"]["1001"]["state"] == "on_call"
            # GET gives the same board
            status, _, body = await http("GET", base + "/api/v1/realtime")
            assert status == 200
            assert json.loads(body) == live.snapshot()
        assert not live._waiters  # the closed socket's listener was forgotten

    asyncio.run(main())


def test_heartbeat_pushes_without_events() -> None:
    clock = [0.0]
    live = LiveService({"sales": []}, clock=lambda: clock[0])
    app = Starlette(routes=realtime_routes(live, min_interval=0.01, heartbeat=0.05))

    async def main() -> None:
        async with serve_app(app) as base:
            url = base.replace("http://", "ws://") + "/api/v1/realtime/ws"
            async with connect(url) as ws:
                live.on_batch([rec(1, 0, "ENTERQUEUE", "", "1", "1", call="c", queue="sales")])
                seen = []
                for _ in range(4):
                    clock[0] += 10
                    seen.append((await _next(ws))["queues"]["sales"]["longest_wait"])
                # the wait keeps growing with no new event: pushed by the heartbeat
                assert seen[-1] > seen[0] and seen[-1] >= 20

    asyncio.run(main())


def _remote_ws(app: Starlette, headers: list[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
    """Open the WebSocket in memory as a client at 198.51.100.7 (nothing is sent off this
    machine); returns what the app sent."""
    sent: list[dict[str, Any]] = []

    async def main() -> None:
        scope = {"type": "websocket", "path": "/api/v1/realtime/ws", "headers": headers,
                 "client": ("198.51.100.7", 5000), "query_string": b"", "root_path": "",
                 "scheme": "ws", "server": ("127.0.0.1", 80), "subprotocols": []}  # fmt: skip
        inbox = [{"type": "websocket.connect"}]

        async def receive() -> dict[str, Any]:
            if inbox:
                return inbox.pop(0)
            await asyncio.sleep(0.05)  # let the first push go out, then leave
            return {"type": "websocket.disconnect", "code": 1000}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)

    asyncio.run(main())
    return sent


def test_websocket_from_elsewhere_needs_the_token() -> None:
    app = Starlette(routes=realtime_routes(LiveService(), token="s3cret", min_interval=0.01))
    refused = _remote_ws(app, [(b"authorization", b"Bearer wrong")])
    assert [m["type"] for m in refused] == ["websocket.close"]
    assert refused[0]["code"] == 1008  # policy violation
    admitted = _remote_ws(app, [(b"authorization", b"Bearer s3cret")])
    assert admitted[0]["type"] == "websocket.accept"
    assert json.loads(admitted[1]["text"])["queues"] == {}


def test_plain_http_to_the_websocket_path_is_refused() -> None:
    live = LiveService()

    async def main() -> None:
        async with serve_app(Starlette(routes=realtime_routes(live))) as base:
            status, _, _ = await http("GET", base + "/api/v1/realtime/ws")
            assert status in (400, 404, 426)
            try:
                async with connect(base.replace("http://", "ws://") + "/api/v1/nothing"):
                    raise AssertionError("a WebSocket to an unknown path was accepted")
            except InvalidStatus as exc:
                assert exc.response.status_code == 403

    asyncio.run(main())
