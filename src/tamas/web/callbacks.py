"""The callbacks API: schedule a callback for a customer at a chosen time, list the pending
ones, cancel one (what a supervisor's missed-call list, a CRM screen or a web form calls).

| method and path | does |
|---|---|
| ``POST /api/v1/callbacks`` | ``{"queue", "number", "at"}``: schedule one; 201 with it |
| ``GET /api/v1/callbacks`` | ``?queue=``: the pending callbacks (in line first, then by time) |
| ``DELETE /api/v1/callbacks/{id}`` | ``?reason=``: cancel it (204) |

``at`` is epoch seconds or an ISO 8601 time (UTC unless it gives an offset); missing, null
or past: now. Answered from a loopback address, or from anywhere with ``Authorization:
Bearer <token>`` when a token is configured. Errors are ``{"error": "<code>", "message":
"<text>"}``: 400 ``bad_request`` (body, queue, number or time not accepted), 404
``not_found`` (no such pending callback, or no such queue in ``?queue=``), 409
``in_progress`` (an agent is being called for it right now).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tamas.acd import AcdError, CallbackInProgress, UnknownCallback
from tamas.acd.api import PendingCallback
from tamas.runtime.callcenter.callbacks import InvalidNumber
from tamas.runtime.callcenter.center import CallCenter
from tamas.web.guard import error, make_guard

__all__ = ["callback_json", "callback_routes"]

_MAX_BODY: Final = 16 * 1024
_MAX_REASON: Final = 200


class _BadRequest(Exception):
    pass


def callback_json(p: PendingCallback) -> dict[str, Any]:
    return {
        "id": p.callback_id,
        "queue": p.queue,
        "number": p.number,
        "state": p.state,
        "at": p.at,
        "position": p.position,
        "attempts": p.attempts,
        "agent": p.agent,
    }


def parse_time(value: object) -> float | None:
    """``at`` as epoch seconds: a number, a numeric string or ISO 8601 (UTC by default)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _BadRequest("at must be epoch seconds or an ISO 8601 time")
    if isinstance(value, str):
        try:
            seconds = float(value)
        except ValueError:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                raise _BadRequest("at must be epoch seconds or an ISO 8601 time") from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            seconds = moment.timestamp()
    else:
        seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise _BadRequest("at must be a time")
    return seconds


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > _MAX_BODY:
        raise _BadRequest(f"the body is larger than {_MAX_BODY} bytes")
    try:
        data = json.loads(raw) if raw.strip() else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise _BadRequest("the body must be a JSON object")
    return data


def callback_routes(center: CallCenter, *, token: str | None = None) -> list[BaseRoute]:
    """The routes of the callbacks API (``token`` as for the other APIs)."""
    guard = make_guard(token, api="callbacks")

    async def schedule(request: Request) -> Response:
        try:
            body = await _body(request)
            queue, number = body.get("queue"), body.get("number")
            if not isinstance(queue, str) or queue not in center.queues:
                raise _BadRequest(f"no queue {queue!r}" if queue else "give the queue")
            if not isinstance(number, str) or not number.strip():
                raise _BadRequest("give the number to call (text)")
            at = parse_time(body.get("at"))
            callback_id = center.schedule_callback(queue, number, at)
        except _BadRequest as exc:
            return error(400, "bad_request", str(exc))
        except (InvalidNumber, AcdError) as exc:
            return error(400, "bad_request", str(exc))
        found = [p for p in center.pending_callbacks(queue) if p.callback_id == callback_id]
        view = callback_json(found[0]) if found else {"id": callback_id, "queue": queue}
        return JSONResponse({"callback": view}, 201)

    async def pending(request: Request) -> Response:
        queue = request.query_params.get("queue") or None
        if queue is not None and queue not in center.queues:
            return error(404, "not_found", f"no queue {queue!r}")
        views = [callback_json(p) for p in center.pending_callbacks(queue)]
        return JSONResponse({"callbacks": views})

    async def cancel(request: Request) -> Response:
        callback_id = request.path_params["callback_id"]
        reason = request.query_params.get("reason") or "cancelled"
        if len(reason) > _MAX_REASON:
            return error(400, "bad_request", f"reason is longer than {_MAX_REASON} characters")
        try:
            center.cancel_callback(callback_id, reason)
        except UnknownCallback:
            return error(404, "not_found", f"no pending callback {callback_id!r}")
        except CallbackInProgress:
            return error(409, "in_progress", "an agent is being called for this callback now")
        return Response(status_code=204)

    return [
        Route("/api/v1/callbacks", guard(schedule), methods=["POST"]),
        Route("/api/v1/callbacks", guard(pending), methods=["GET"]),
        Route("/api/v1/callbacks/{callback_id}", guard(cancel), methods=["DELETE"]),
    ]
