"""The agents and queues API: who is logged in and in which state, who waits; log agents
in and out, pause and unpause them (what the agent desktop and the wallboard call).

    GET  /api/v1/agents                      every agent: state, device
    POST /api/v1/agents/{id}/login           {"device": "1001"} (default: the agent's extension)
    POST /api/v1/agents/{id}/logout
    POST /api/v1/agents/{id}/pause           {"reason": "lunch"}
    POST /api/v1/agents/{id}/unpause
    GET  /api/v1/queues                      every queue: callers waiting, estimated wait
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tamas.runtime.callcenter.center import CallCenter
from tamas.web.guard import error, make_guard

__all__ = ["agent_routes"]


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {"_invalid": True}
    return data if isinstance(data, dict) else {"_invalid": True}


def agent_routes(center: CallCenter, *, token: str | None = None) -> list[BaseRoute]:
    guard = make_guard(token, api="agents")

    async def list_agents(request: Request) -> Response:
        return JSONResponse({"agents": center.agent_views()})

    async def list_queues(request: Request) -> Response:
        return JSONResponse({"queues": center.queue_views()})

    async def action(request: Request) -> Response:
        agent = request.path_params["agent"]
        verb = request.path_params["verb"]
        if agent not in center.agents:
            return error(404, "not_found", f"no agent '{agent}'")
        body = await _body(request)
        if body.get("_invalid"):
            return error(400, "bad_request", "the body must be a JSON object")
        if verb == "login":
            device = body.get("device") or center.agents[agent].extension
            if not isinstance(device, str) or not device:
                return error(400, "bad_request", "give the device (an extension) to log in on")
            if device not in {e.number for e in center.config.extensions}:
                return error(400, "bad_request", f"no extension '{device}'")
            center.login(agent, device)
        elif verb == "logout":
            center.logout(agent)
        elif verb == "pause":
            reason = body.get("reason", "")
            if not isinstance(reason, str):
                return error(400, "bad_request", "reason must be text")
            center.pause(agent, reason)
        elif verb == "unpause":
            center.unpause(agent)
        else:
            return error(404, "not_found", f"no action '{verb}'")
        return JSONResponse(center.agent_view(agent))

    return [
        Route("/api/v1/agents", guard(list_agents), methods=["GET"]),
        Route("/api/v1/agents/{agent}/{verb}", guard(action), methods=["POST"]),
        Route("/api/v1/queues", guard(list_queues), methods=["GET"]),
    ]
