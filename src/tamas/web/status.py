"""A small HTTP status API: health, registrations, calls in progress, trunks.

Served by uvicorn inside Tamas's own event loop on ``server.http_port`` (0 disables it). The
fuller API (reports, configuration, the agent desktop) comes with the later issues; this one
answers the monitoring questions an administrator has from day one: is it up, which phones
are registered from where, which calls are up, are the trunks registered. ``tamas serve``
adds the recording API's routes (``tamas.web.recordings``) to the same app.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from tamas import __version__
from tamas.runtime.app import SipStack


def create_app(stack: SipStack, routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The status API, plus ``routes`` (e.g. ``tamas.web.recordings.recording_routes``)."""

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__})

    async def registrations(_: Request) -> JSONResponse:
        now = time.time()
        out: dict[str, list[dict[str, Any]]] = {}
        for aor in sorted(stack.location.all()):
            bindings = stack.location.lookup(aor, now)
            if bindings:
                out[aor] = [
                    {
                        "contact": b.contact_uri,
                        "transport": b.flow_transport,
                        "source": f"{b.flow_host}:{b.flow_port}",
                        "expires_in": int(b.expires_at - now),
                        "user_agent": b.user_agent,
                    }
                    for b in bindings
                ]
        return JSONResponse({"registrations": out})

    async def calls(_: Request) -> JSONResponse:
        items = []
        for call in stack.b2bua.calls.values():
            record = call.record
            items.append({
                "id": call.id,
                "state": call.state.value,
                "caller": record.caller if record else None,
                "callee": record.callee if record else None,
                "direction": record.direction.value if record else None,
                "started_at": record.started_at if record else None,
                "answered_at": call.answered_at,
            })  # fmt: skip
        return JSONResponse({"calls": items})

    async def trunks(_: Request) -> JSONResponse:
        return JSONResponse({"trunks": stack.trunk_regs.status()})

    return Starlette(routes=[
        Route("/health", health),
        Route("/api/v1/registrations", registrations),
        Route("/api/v1/calls", calls),
        Route("/api/v1/trunks", trunks),
        *routes,
    ])  # fmt: skip


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside Tamas's loop: Tamas, not uvicorn, owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def start_http(
    stack: SipStack, host: str, port: int, routes: Sequence[BaseRoute] = ()
) -> Callable[[], Awaitable[None]]:
    """Serve the status API (and ``routes``); returns the coroutine function that stops it."""
    config = uvicorn.Config(create_app(stack, routes), host=host, port=port, log_level="warning",
                            lifespan="off", access_log=False)  # fmt: skip
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(), name="tamas-http")
    while not server.started:
        if task.done():
            task.result()  # raises the start-up error (e.g. the port is taken)
            raise OSError(f"HTTP server on {host}:{port} stopped at start-up")
        await asyncio.sleep(0.01)

    async def stop() -> None:
        server.should_exit = True
        await task

    return stop
