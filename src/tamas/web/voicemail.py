"""The voicemail API: list messages, fetch their audio, mark read, delete, assign to an agent.

| method and path | does |
|---|---|
| ``GET /api/v1/voicemail`` | ``?box=&status=new,old&assigned_to=&limit=&offset=``: newest first |
| ``GET /api/v1/voicemail/{id}`` | one message |
| ``GET /api/v1/voicemail/{id}/audio`` | its WAV file |
| ``POST /api/v1/voicemail/{id}/read`` | mark it read (status ``old``) |
| ``DELETE /api/v1/voicemail/{id}`` | mark it deleted and remove its file |
| ``POST /api/v1/voicemail/{id}/assign`` | ``{"agent": "ann"}`` (``null``: unassign) |

Messages are personal: as for recordings, requests are answered from a loopback address, or
from anywhere with ``Authorization: Bearer <token>`` when a token is configured. Errors are
``{"error": "<code>", "message": "<text>"}``; only this module knows HTTP.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tamas.runtime.voicemail_messages import MessageService, NoSuchAgent, NoSuchMessage
from tamas.store.voicemail import MAX_PAGE, MessageStatus, VoicemailMessage
from tamas.web.guard import Handler, error, make_guard

__all__ = ["voicemail_routes"]

_DEFAULT_PAGE: Final = 50
_MAX_AGENT: Final = 128



def voicemail_routes(
    service: MessageService, *, token: str | None = None, trust_loopback: bool = True
) -> list[BaseRoute]:
    """The routes of the voicemail API (``token`` and ``trust_loopback`` as for recordings)."""
    guard = make_guard(token, api="voicemail", trust_loopback=trust_loopback)

    def about(handler: Callable[[str], VoicemailMessage]) -> Handler:
        async def run(request: Request) -> Response:
            try:
                message = await asyncio.to_thread(handler, request.path_params["message_id"])
            except NoSuchMessage as exc:
                return error(404, "no_such_message", str(exc))
            return JSONResponse({"message": _json(message)})

        return run

    async def list_messages(request: Request) -> Response:
        query = request.query_params
        try:
            limit = _int(query.get("limit"), _DEFAULT_PAGE, "limit", 1, MAX_PAGE)
            offset = _int(query.get("offset"), 0, "offset", 0, 1 << 31)
            statuses = _statuses(query.get("status"))
        except ValueError as exc:
            return error(400, "bad_request", str(exc))
        rows = await asyncio.to_thread(service.list, box=query.get("box") or None,
                                       statuses=statuses,
                                       assigned_to=query.get("assigned_to") or None,
                                       limit=limit, offset=offset)  # fmt: skip
        return JSONResponse({
            "messages": [_json(m) for m in rows],
            "limit": limit,
            "offset": offset,
            "next_offset": offset + len(rows) if len(rows) == limit else None,
        })  # fmt: skip

    async def audio(request: Request) -> Response:
        message_id = request.path_params["message_id"]
        try:
            path = await asyncio.to_thread(service.audio, message_id)
        except NoSuchMessage as exc:
            return error(404, "no_audio", str(exc))
        return FileResponse(path, media_type="audio/wav", filename=f"voicemail-{message_id}.wav")

    async def assign(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return error(400, "bad_request", "the body must be JSON")
        agent = body.get("agent", ...) if isinstance(body, dict) else ...
        if agent is not None and (not isinstance(agent, str) or not agent.strip()
                                  or len(agent) > _MAX_AGENT):  # fmt: skip
            return error(400, "bad_request", 'the body must be {"agent": "<agent id>"|null}')
        try:
            message = await asyncio.to_thread(service.assign, request.path_params["message_id"],
                                              agent)  # fmt: skip
        except NoSuchMessage as exc:
            return error(404, "no_such_message", str(exc))
        except NoSuchAgent as exc:
            return error(422, "no_such_agent", str(exc))
        return JSONResponse({"message": _json(message)})

    base = "/api/v1/voicemail"
    one = base + "/{message_id}"
    return [
        Route(base, guard(list_messages), methods=["GET"]),
        Route(one, guard(about(service.get)), methods=["GET"]),
        Route(one, guard(about(service.delete)), methods=["DELETE"]),
        Route(one + "/audio", guard(audio), methods=["GET"]),
        Route(one + "/read", guard(about(service.mark_read)), methods=["POST"]),
        Route(one + "/assign", guard(assign), methods=["POST"]),
    ]



def _int(text: str | None, default: int, name: str, low: int, high: int) -> int:
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be {low}-{high}")
    return value


def _statuses(text: str | None) -> tuple[MessageStatus, ...]:
    if not text:
        return (MessageStatus.NEW, MessageStatus.OLD)
    try:
        return tuple(MessageStatus(part.strip()) for part in text.split(","))
    except ValueError:
        raise ValueError("status must be new, old and/or deleted, comma-separated") from None


def _json(message: VoicemailMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "box": message.box,
        "caller": message.caller,
        "call_id": message.call_id,
        "at": message.at,
        "duration": message.duration,
        "status": message.status.value,
        "assigned_to": message.assigned_to,
        "audio": f"/api/v1/voicemail/{message.id}/audio",
    }
