"""Real-time figures for wallboards: the live board as JSON, and pushed over a WebSocket.

    GET /api/v1/realtime        the board now (queues: waiting, longest wait, agents by
                                state, callers; agents: state, since, reason, call)
    WS  /api/v1/realtime/ws     the board on connect, then again whenever an event changes
                                it (at most every ``min_interval`` s), and at least every
                                ``heartbeat`` s so that wait times stay fresh

Each pushed message is the same JSON as ``GET /api/v1/realtime``, with ``seq`` the last
event log record folded in: a wallboard that sees ``seq`` grow knows it missed nothing.
``today`` (when served by ``tamas serve``) holds today's queue and agent reports, the same
rows as ``GET /api/v1/reports/queues`` and ``/agents`` for today, refreshed at most every
5 s, with ``through_seq``, the last event the aggregates include.
Answered from loopback, or with ``Authorization: Bearer <api_token>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from tamas.runtime.live import LiveService
from tamas.web.guard import make_guard, refusal

__all__ = ["realtime_routes"]


def realtime_routes(
    live: LiveService,
    *,
    token: str | None = None,
    min_interval: float = 0.5,
    heartbeat: float = 5.0,
    today: Callable[[], object] | None = None,
    today_every: float = 5.0,
) -> list[BaseRoute]:
    """``today``: a blocking function giving today's historical figures (run in a thread,
    at most every ``today_every`` s), added to each message as ``"today"``."""
    guard = make_guard(token, api="realtime")
    expected = None if token is None else token.encode()
    cache: list[tuple[float, object]] = []

    async def message() -> dict[str, object]:
        out = live.snapshot()
        if today is not None:
            now = time.monotonic()
            if not cache or now - cache[0][0] >= today_every:
                cache[:] = [(now, await asyncio.to_thread(today))]
            out["today"] = cache[0][1]
        return out

    async def board(_: Request) -> Response:
        return JSONResponse(await message())

    async def stream(ws: WebSocket) -> None:
        refused = refusal(ws, expected, api="realtime")
        if refused is not None:
            await ws.close(code=1008, reason="not allowed")  # policy violation
            return
        await ws.accept()
        changed = live.listen()
        receiver = asyncio.create_task(_drain(ws))
        try:
            while not receiver.done():
                changed.clear()
                await ws.send_json(await message())
                waiter = asyncio.create_task(changed.wait())
                await asyncio.wait({waiter, receiver}, timeout=heartbeat,
                                   return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
                waiter.cancel()
                await asyncio.sleep(min_interval)  # coalesce a burst of events into one push
        except (WebSocketDisconnect, RuntimeError):
            pass  # the client went away while we were sending
        finally:
            live.forget(changed)
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await receiver

    return [
        Route("/api/v1/realtime", guard(board)),
        WebSocketRoute("/api/v1/realtime/ws", stream),
    ]


async def _drain(ws: WebSocket) -> None:
    """Read (and ignore) what the client sends until it disconnects."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
