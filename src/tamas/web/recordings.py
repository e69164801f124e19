"""The recording API: control a call's recording, list recordings, fetch their audio.

| method and path | does |
|---|---|
| ``POST /api/v1/calls/{call_id}/recording`` | ``{"action": "start"|"pause"|"resume"|"stop"}`` |
| ``GET /api/v1/recordings`` | ``?call_id=&from=&to=&limit=&offset=``: finished recordings |
| ``GET /api/v1/recordings/{id}`` | one recording's metadata (finished or in progress) |
| ``GET /api/v1/recordings/{id}/audio`` | its WAV file, streamed (HTTP ranges work) |

Audio of calls is sensitive: these endpoints answer only requests from a loopback address,
or from anywhere with ``Authorization: Bearer <token>`` when a token is configured. The
domain errors of :mod:`tamas.runtime.recording_control` become 404/409 here, with a JSON body
``{"error": "<code>", "message": "<text>"}``; only this module knows HTTP.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tamas.runtime.recording_control import (
    AlreadyRecording,
    NoSuchCall,
    NotAnswered,
    NotRecording,
    RecordingClosed,
    RecordingControl,
    RecordingError,
    RecordingInfo,
)
from tamas.store import RecordingRecord, Store, StoreError
from tamas.store.recordings import MAX_PAGE
from tamas.web.guard import error, make_guard

__all__ = ["recording_routes"]

log = logging.getLogger(__name__)


_ERRORS: Final[dict[type[RecordingError], tuple[int, str]]] = {
    NoSuchCall: (404, "no_such_call"),
    NotAnswered: (409, "not_answered"),
    AlreadyRecording: (409, "already_recording"),
    NotRecording: (409, "not_recording"),
    RecordingClosed: (503, "shutting_down"),
}
_ACTIONS: Final = ("start", "pause", "resume", "stop")
_DEFAULT_PAGE: Final = 50
#: The largest ``offset`` (as the other list APIs; the database has 64-bit integers).
_MAX_OFFSET: Final = 1 << 31


class _BadRequest(Exception):
    pass



def recording_routes(
    control: RecordingControl,
    store: Store,
    *,
    token: str | None = None,
    trust_loopback: bool = True,
) -> list[BaseRoute]:
    """The routes of the recording API, for the status app (``create_app(..., routes=)``).

    ``token``: the bearer token that admits a request from any address (None: loopback
    only). ``trust_loopback=False`` asks for the token from loopback too (e.g. when a reverse
    proxy on the same machine forwards outside requests without saying so).
    """
    guard = make_guard(token, api="recordings", trust_loopback=trust_loopback)

    async def control_call(request: Request) -> Response:
        call_id = request.path_params["call_id"]
        try:
            body = json.loads(await request.body())
        except ValueError:
            return error(400, "bad_request", "the body must be JSON")
        action = body.get("action") if isinstance(body, dict) else None
        if action not in _ACTIONS:
            return error(400, "bad_request", f"action must be one of {', '.join(_ACTIONS)}")
        try:
            if action == "stop":
                row = await control.stop(call_id)
                return JSONResponse({"recording": _row_json(row)})
            act = {"start": control.start, "pause": control.pause, "resume": control.resume}
            info = act[action](call_id)
        except RecordingError as exc:
            status, code = _ERRORS.get(type(exc), (409, "recording_error"))
            return error(status, code, str(exc))
        except StoreError as exc:
            log.error("recording of call %s not stored: %s", call_id, exc)
            return error(500, "not_stored", "the recording's record could not be stored")
        return JSONResponse({"recording": _info_json(info)}, 201 if action == "start" else 200)

    async def list_recordings(request: Request) -> Response:
        try:
            query = request.query_params
            limit = _int(query.get("limit"), _DEFAULT_PAGE, "limit", 1, MAX_PAGE)
            offset = _int(query.get("offset"), 0, "offset", 0, _MAX_OFFSET)
            since = _time(query.get("from"), "from")
            until = _time(query.get("to"), "to")
        except _BadRequest as exc:
            return error(400, "bad_request", str(exc))
        rows = await asyncio.to_thread(
            store.recordings.list_recordings,
            call_id=query.get("call_id") or None,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )
        return JSONResponse({
            "recordings": [_row_json(row) for row in rows],
            "limit": limit,
            "offset": offset,
            "next_offset": offset + len(rows) if len(rows) == limit else None,
        })  # fmt: skip

    async def get_recording(request: Request) -> Response:
        recording_id = request.path_params["recording_id"]
        active = control.find(recording_id)
        if active is not None:
            return JSONResponse({"recording": _info_json(active)})
        row = await asyncio.to_thread(store.recordings.get_recording, recording_id)
        if row is None:
            return error(404, "no_such_recording", f"no recording {recording_id}")
        return JSONResponse({"recording": _row_json(row)})

    async def get_audio(request: Request) -> Response:
        recording_id = request.path_params["recording_id"]
        row = await asyncio.to_thread(store.recordings.get_recording, recording_id)
        if row is None:
            if control.find(recording_id) is not None:
                return error(409, "in_progress", f"recording {recording_id} is not finished")
            return error(404, "no_such_recording", f"no recording {recording_id}")
        path = await asyncio.to_thread(_confined, control.data_dir, row.path)
        if path is None:
            log.warning("recording %s: path %r is not a file under recordings/", row.id, row.path)
            return error(404, "no_audio", f"recording {recording_id} has no audio file")
        return FileResponse(path, media_type="audio/wav", filename=f"{row.id}.wav")

    return [
        Route("/api/v1/calls/{call_id}/recording", guard(control_call), methods=["POST"]),
        Route("/api/v1/recordings", guard(list_recordings), methods=["GET"]),
        Route("/api/v1/recordings/{recording_id}", guard(get_recording), methods=["GET"]),
        Route("/api/v1/recordings/{recording_id}/audio", guard(get_audio), methods=["GET"]),
    ]



def _confined(data_dir: Path, relative: str) -> Path | None:
    """``data_dir / relative`` if it is a regular file inside ``data_dir/recordings`` once
    every symbolic link and ``..`` is resolved; else None."""
    root = (data_dir / "recordings").resolve()
    path = (data_dir / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def _int(text: str | None, default: int, name: str, low: int, high: int | None) -> int:
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise _BadRequest(f"{name} must be an integer") from None
    if value < low or (high is not None and value > high):
        bounds = f"{low}-{high}" if high is not None else f"at least {low}"
        raise _BadRequest(f"{name} must be {bounds}")
    return value


def _time(text: str | None, name: str) -> float | None:
    """Epoch seconds, or an ISO 8601 date/time (UTC unless it says otherwise)."""
    if text is None or text == "":
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _BadRequest(f"{name} must be epoch seconds or an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _info_json(info: RecordingInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "call_id": info.call_id,
        "state": info.state.value,
        "path": info.path,
        "layout": info.layout.value,
        "started_at": info.started_at,
    }


def _row_json(row: RecordingRecord) -> dict[str, Any]:
    return {
        "id": row.id,
        "call_id": row.call_id,
        "state": "stopped",
        "status": row.status.value,
        "error": row.error,
        "path": row.path,
        "layout": row.layout.value,
        "channels": row.channels,
        "rate": row.rate,
        "started_at": row.started_at,
        "duration": row.duration,
        "paused_spans": [{"start": s.start, "end": s.end} for s in row.paused_spans],
        "caller": {"packets": row.caller_packets, "late": row.caller_late},
        "agent": {"packets": row.agent_packets, "late": row.agent_late},
        "audio": f"/api/v1/recordings/{row.id}/audio",
    }
