"""The reports API: every report as JSON, CSV or XLSX, with the CLI's parameters.

    GET /api/v1/reports                the reports: name, title, description, groupings
    GET /api/v1/reports/{name}         ?from=&to=&queue=&agent=&team=&group=&interval=&tz=
                                        &calendar=&language=&format=json|csv|xlsx
    GET /api/v1/kpis                   the KPI listing (same as /api/v1/reports/kpis)

Among the reports: ``adherence`` (per scheduled agent and day, reports.schedules) and
``forecast_accuracy`` (per queue: the range's forecast against the calls offered). CSV and
XLSX column titles are in ``language`` (en, fa, ar; default reports.language).

Parameters are those of ``tamas report`` (docs/reports.md, docs/kpis.md): times in the
reports' time zone (ISO dates, Jalali dates, today/yesterday/now, epoch seconds). A bad
parameter is 400 ``{"error": "invalid", "message": ..., "field": <parameter>}``; an unknown
report 404. Answered from loopback, or with ``Authorization: Bearer <api_token>``.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tamas.reporting.query import QueryError
from tamas.runtime.reportservice import FORMATS, REPORTS, ReportService
from tamas.web.guard import error, make_guard

__all__ = ["report_routes"]


def report_routes(service: ReportService, *, token: str | None = None) -> list[BaseRoute]:
    guard = make_guard(token, api="reports")

    async def listing(_: Request) -> Response:
        return JSONResponse({
            "reports": [
                {"name": i.name, "title": i.title, "description": i.description,
                 "groups": [g.value for g in i.groups], "raw": i.raw}
                for i in sorted(REPORTS.values(), key=lambda i: i.name)
            ]
        })  # fmt: skip

    async def report(request: Request) -> Response:
        return await _run(request.path_params["name"], request)

    async def kpis(request: Request) -> Response:
        return await _run("kpis", request)

    async def _run(name: str, request: Request) -> Response:
        if name not in REPORTS:
            return error(404, "not_found", f"no report {name!r}")
        params = dict(request.query_params)
        fmt = params.pop("format", "json")
        if fmt not in FORMATS:
            return _invalid(QueryError("format", f"use one of {', '.join(FORMATS)}"))

        def make() -> tuple[bytes, str, str]:
            query = service.query(params)
            table = service.run(name, query)
            out = service.export(table, fmt, service.display(params))
            return out.body, out.media_type, out.filename

        try:
            body, media_type, filename = await asyncio.to_thread(make)
        except QueryError as exc:
            return _invalid(exc)
        headers = {}
        if fmt != "json":
            headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return Response(body, media_type=media_type, headers=headers)

    return [
        Route("/api/v1/reports", guard(listing)),
        Route("/api/v1/reports/{name}", guard(report)),
        Route("/api/v1/kpis", guard(kpis)),
    ]


def _invalid(exc: QueryError) -> JSONResponse:
    return JSONResponse({"error": "invalid", "message": str(exc), "field": exc.param}, 400)
