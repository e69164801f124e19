"""The IVR flows API: list, read, store and delete flows; a change applies to the next call.

| method and path | does |
|---|---|
| ``GET /api/v1/ivr/flows`` | every flow: name, source (``yaml`` or ``database``), updated_at |
| ``GET /api/v1/ivr/flows/{name}`` | one flow: its definition and source |
| ``PUT /api/v1/ivr/flows/{name}`` | store the definition (the body); 201 new, 200 replaced |
| ``DELETE /api/v1/ivr/flows/{name}`` | delete the stored version (204); the file's takes over |

The body of a PUT is one flow as under ``ivr:`` in the configuration, in JSON. It is checked
as the file's flows are; a bad one is 400 ``invalid`` with ``flow``, ``step`` (null at flow
level), ``path`` (the key path inside the body, e.g. ``["steps", 2, "menu", "options", "1",
"queue"]``) and the loader's message, and nothing is stored. Deleting a flow the database
does not hold is 404; deleting one that has no version in the file while an application or
an ``ivr:NAME`` destination still sends calls to it is 409 ``in_use`` with ``references``.
Writes are done one at a time: the database first, then the running center. Answered from
a loopback address, or from anywhere with ``Authorization: Bearer <token>`` when a token is
configured.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tamas.ivr.errors import FlowError
from tamas.runtime.callcenter.flows import FlowInfo
from tamas.store.ivr_flows import IvrFlows, StoredFlow
from tamas.web.guard import error, make_guard

if TYPE_CHECKING:
    from tamas.runtime.callcenter.center import CallCenter

__all__ = ["ivr_routes"]

_MAX_BODY: Final = 256 * 1024
_MAX_NAME: Final = 200
#: ``updated_by`` of a change made through this API.
API_USER: Final = "api"


def ivr_routes(
    center: CallCenter, flows_repo: IvrFlows, *, token: str | None = None,
    clock: Callable[[], float] = time.time,
) -> list[BaseRoute]:  # fmt: skip
    """The routes of the IVR flows API over ``center``'s flows and the database's.

    If the center was built without the database's flows (``build_center(flow_store=...)``),
    they are laid over the file's here, once.
    """
    flows = center.ivr_flows
    if flows is None:
        raise ValueError("the center has no IVR (it was not built by build_center)")
    if not flows.overlaid:
        flows.overlay(flows_repo.list())
    guard = make_guard(token, api="IVR flows")
    writing = asyncio.Lock()

    async def listing(request: Request) -> Response:
        return JSONResponse({"flows": [_summary(info) for info in flows.infos()]})

    async def get(request: Request) -> Response:
        name = request.path_params["name"]
        info = flows.info(name)
        if info is None:
            return error(404, "no_such_flow", f"no IVR flow {name!r}")
        return JSONResponse({"flow": _json(info)})

    async def put(request: Request) -> Response:
        name = request.path_params["name"]
        if len(name) > _MAX_NAME:
            return error(400, "invalid", f"a flow name has at most {_MAX_NAME} characters")
        raw = await request.body()
        if len(raw) > _MAX_BODY:
            return error(400, "invalid", f"the body must be at most {_MAX_BODY} bytes")
        try:
            definition = json.loads(raw)
        except ValueError:
            return error(400, "invalid", "the body must be a JSON object (the flow)")
        if not isinstance(definition, dict):
            return error(400, "invalid", "the body must be a JSON object (the flow)")
        async with writing:
            try:
                flows.check(name, definition)
            except FlowError as exc:
                return _invalid(exc)
            stored = StoredFlow(name=name, definition=definition, updated_at=clock(),
                                updated_by=API_USER)  # fmt: skip
            created = await asyncio.to_thread(flows_repo.put, stored)
            flows.put(stored)
        info = flows.info(name)
        assert info is not None
        return JSONResponse({"flow": _json(info)}, 201 if created else 200,
                            headers={"Location": f"/api/v1/ivr/flows/{name}"})  # fmt: skip

    async def delete(request: Request) -> Response:
        name = request.path_params["name"]
        async with writing:
            if not flows.is_stored(name):
                why = " (it comes from the configuration file)" if name in flows else ""
                return error(404, "no_such_flow", f"no stored IVR flow {name!r}{why}")
            references = flows.references(name)
            if references:
                return JSONResponse({
                    "error": "in_use",
                    "message": f"IVR flow {name!r} is in use by {', '.join(references)}; "
                               "point those elsewhere first",
                    "references": references,
                }, 409)  # fmt: skip
            await asyncio.to_thread(flows_repo.delete, name)
            flows.remove(name)
        return Response(status_code=204)

    base = "/api/v1/ivr/flows"
    one = base + "/{name}"
    return [
        Route(base, guard(listing), methods=["GET"]),
        Route(one, guard(get), methods=["GET"]),
        Route(one, guard(put), methods=["PUT"]),
        Route(one, guard(delete), methods=["DELETE"]),
    ]


def _invalid(exc: FlowError) -> JSONResponse:
    return JSONResponse({
        "error": "invalid",
        "message": str(exc),
        "flow": exc.flow,
        "step": exc.step,
        "path": list(exc.path[1:]),  # inside the body: without the flow's name
    }, 400)  # fmt: skip


def _summary(info: FlowInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"name": info.name, "source": info.source.value,
                           "updated_at": info.updated_at, "updated_by": info.updated_by,
                           "in_yaml": info.in_yaml}  # fmt: skip
    if info.error is not None:
        out["error"] = info.error
    return out


def _json(info: FlowInfo) -> dict[str, Any]:
    return _summary(info) | {"definition": info.definition}
