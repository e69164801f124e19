"""The staffing API: Erlang C/A staffing of given traffic, and next week's forecast and
staffing plan from the event log.

    POST /api/v1/wfm/staffing   JSON inputs (one interval, or "intervals": [...]) in,
                                the staffing table out
    GET  /api/v1/wfm/forecast   ?queue=&weeks=&holdout=&zone=&aht=&sl=&threshold=&patience=
                                &shrinkage=&max_occupancy=: per queue, next week's calls per
                                15 minutes, the held-out accuracy and the staffing plan;
                                without ``aht`` the plan uses the AHT measured per interval
                                (:mod:`tamas.wfm.handle_time`), ``patience=measured`` the
                                patience measured in the same history

Answered from a loopback address, or from anywhere with ``Authorization: Bearer <token>``
(the guard given). Errors are ``{"error": "<code>", "message": "<text>"}``; a value that is
not accepted is 400 ``invalid`` with ``"field"`` naming it. docs/staffing.md has examples.

:func:`forecast_queues` is also what ``tamas forecast`` runs.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tamas.reporting.table import Column, Kind, Table, Value
from tamas.store import Store
from tamas.store.events import events
from tamas.store.reports import queue_intervals
from tamas.web.guard import BadRequest, Handler, error, json_object
from tamas.wfm.forecast import Forecast, ForecastError, accuracy, accuracy_table, forecast
from tamas.wfm.handle_time import (
    MIN_ABANDONED,
    AhtForecast,
    HandleSample,
    HandleTimes,
    Patience,
    forecast_aht,
    measure_patience,
)
from tamas.wfm.history import ARRIVAL, INTERVAL, History, from_slot_counts, zone_of
from tamas.wfm.staffing import StaffingError, StaffingInput, plan, staffing_table

__all__ = [
    "MEASURED",
    "QueueForecast",
    "StaffingGoal",
    "arrival_history",
    "forecast_queues",
    "handle_history",
    "wfm_routes",
]

#: The ``patience`` value (``--patience``) that asks for the patience measured in the history.
MEASURED: Final = "measured"

_MAX_BODY: Final = 256 * 1024
_MAX_INTERVALS: Final = 5000
_WEEK: Final = 7 * 86400
#: Staffing input fields a request may give (the body's keys; ``sl`` is the target).
#: The longest aht, patience or threshold a forecast's plan takes (seconds).
MAX_PLAN_SECONDS: Final = 7200.0
_FIELDS: Final = ("calls", "aht", "interval", "sl", "threshold", "patience", "max_occupancy",
                  "shrinkage", "start")  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class StaffingGoal:
    """What every interval of a forecast plan is staffed for.

    ``aht`` None: the AHT measured per interval in the history; a number overrides it for
    every interval. ``patience_measured``: Erlang A with the patience measured in the history
    (``patience`` is then ignored).
    """

    aht: float | None = None
    target: float = 0.8
    threshold: float = 20.0
    patience: float | None = None
    shrinkage: float = 0.0
    max_occupancy: float | None = None
    patience_measured: bool = False

    def check(self) -> None:
        """StaffingError when a value is not accepted."""
        StaffingInput(calls=0, aht=180.0 if self.aht is None else self.aht,
                      target=self.target, threshold=self.threshold, patience=self.patience,
                      shrinkage=self.shrinkage, max_occupancy=self.max_occupancy)  # fmt: skip

    def inputs(
        self, fc: Forecast, ahts: AhtForecast | None = None, patience: float | None = None
    ) -> list[StaffingInput]:
        """One input per forecast interval: AHT from ``ahts`` unless ``aht`` is given,
        patience ``patience`` when measured."""
        if self.aht is None and ahts is None:
            raise ValueError("a measured AHT is needed when no aht is given")
        per = None if self.aht is not None or ahts is None else [a for _t, a, _s in ahts.intervals]
        use_patience = patience if self.patience_measured else self.patience
        return [
            StaffingInput(start=t, calls=calls, interval=fc.interval,
                          aht=per[i] if per is not None else float(self.aht or 0.0),
                          target=self.target, threshold=self.threshold, patience=use_patience,
                          shrinkage=self.shrinkage, max_occupancy=self.max_occupancy)
            for i, (t, calls) in enumerate(fc.intervals)
        ]  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueForecast:
    """One queue's forecast, its held-out accuracy (None with the reason) and its plan."""

    queue: str
    forecast: Forecast
    accuracy: Table | None
    accuracy_error: str | None
    plan: Table
    #: The AHT measured in the history (always made, used when no AHT was given).
    aht: AhtForecast
    #: "measured" (per interval, from the history) or "given" (one AHT for all).
    aht_source: str
    #: The patience measured in the history, and whether the plan used it.
    patience: Patience
    patience_source: str  # "given", "measured" or "none" (Erlang C)

    def as_json(self) -> dict[str, Any]:
        fc = self.forecast
        return {
            "queue": self.queue,
            "forecast": {
                "start": fc.start,
                "zone": fc.zone,
                "interval": fc.interval,
                "weeks": fc.weeks,
                "trend": fc.trend,
                "total": round(fc.total, 3),
                "unknown_slots": fc.unknown_slots,
            },
            "aht": {
                "source": self.aht_source,
                "min_handled": self.aht.min_handled,
                "handled": self.aht.handled,
                "measured_overall": self.aht.overall,
                "sources": self.aht.sources(),
            },
            "patience": {
                "source": self.patience_source,
                "measured": self.patience.seconds,
                "abandoned": self.patience.abandoned,
            },
            "accuracy": None if self.accuracy is None else self.accuracy.as_json(),
            "accuracy_error": self.accuracy_error,
            "plan": self.plan.as_json(),
        }


def arrival_history(
    store: Store, *, zone: str, start: float, end: float, queue: str | None = None
) -> dict[str, History]:
    """Arrivals (``ENTERQUEUE``) per queue and 15-minute interval in ``[start, end)``,
    counted by the database (one row per queue and interval, not per record). A queue's
    history begins at its first arrival in the range (nothing is known before it)."""
    engine = store.engine
    if engine.dialect.name == "sqlite":
        slot: sa.ColumnElement[Any] = sa.cast(events.c.at / INTERVAL, sa.Integer)  # truncates
    else:
        slot = sa.cast(sa.func.floor(events.c.at / INTERVAL), sa.BigInteger)
    query = (
        sa.select(events.c.queue, slot.label("slot"), sa.func.count().label("n"))
        .where(events.c.event == ARRIVAL, events.c.at >= start, events.c.at < end)
        .group_by(events.c.queue, slot)
    )
    if queue is not None:
        query = query.where(events.c.queue == queue)
    per_queue: dict[str, dict[int, int]] = {}
    with engine.connect() as conn:
        for name, index, n in conn.execute(query):
            per_queue.setdefault(name, {})[int(index)] = int(n)
    return from_slot_counts(per_queue, zone=zone, end=end)


def handle_history(
    store: Store, *, zone: str, start: float, end: float, queue: str | None = None
) -> dict[str, HandleTimes]:
    """Handled calls, their talk + hold + ACW seconds, the abandoned calls and the waits per
    queue and 15-minute interval in ``[start, end)``, from the stored interval aggregates
    (``queue_intervals``: calls count in the interval where they entered the queue). Rows
    without a handled or abandoned call are left out."""
    q = queue_intervals.c
    query = sa.select(
        q.queue, q.start, q.handled, q.talk + q.hold + q.acw, q.abandoned, q.wait_abandoned,
        q.wait_answered,
    ).where(q.start >= start, q.start < end, (q.handled > 0) | (q.abandoned > 0))  # fmt: skip
    if queue is not None:
        query = query.where(q.queue == queue)
    per_queue: dict[str, list[HandleSample]] = {}
    with store.engine.connect() as conn:
        for name, at, handled, seconds, abandoned, wait_ab, wait_an in conn.execute(query):
            per_queue.setdefault(name, []).append(HandleSample(
                start=float(at), handled=int(handled), seconds=float(seconds),
                abandoned=int(abandoned), wait_abandoned=float(wait_ab),
                wait_answered=float(wait_an)))  # fmt: skip
    return {name: HandleTimes(queue=name, zone=zone, samples=tuple(samples))
            for name, samples in sorted(per_queue.items())}  # fmt: skip


def forecast_queues(
    store: Store,
    *,
    now: float,
    zone: str,
    goal: StaffingGoal,
    queue: str | None = None,
    weeks: int = 4,
    holdout: int = 1,
) -> list[QueueForecast]:
    """Next week's forecast and staffing plan of each queue (or ``queue``) from the history
    up to the last complete 15 minutes before ``now``. Raises ForecastError when a queue has
    too little history or none has any; an accuracy that cannot be measured is reported."""
    end = math.floor(now / INTERVAL) * INTERVAL
    start = end - (weeks + holdout) * _WEEK - 86400
    histories = arrival_history(store, zone=zone, start=start, end=end, queue=queue)
    handling = handle_history(store, zone=zone, start=start, end=end, queue=queue)
    if not histories:
        where = f"queue {queue}" if queue else "any queue"
        raise ForecastError(f"no arrivals (ENTERQUEUE) in {where} in the last "
                            f"{weeks + holdout} weeks")  # fmt: skip
    out: list[QueueForecast] = []
    for name, history in histories.items():
        fc = forecast(history, weeks=weeks)
        try:
            measured: Table | None = accuracy_table(accuracy(history, holdout, weeks=weeks))
            problem = None
        except ForecastError as exc:
            measured, problem = None, str(exc)
        times = handling.get(name, HandleTimes(queue=name, zone=zone, samples=()))
        ahts = forecast_aht(times, fc)
        patience = measure_patience(times, fc)
        if goal.patience_measured and patience.seconds is None:
            raise ForecastError(
                f"queue {name}: {patience.abandoned} abandoned calls in the {weeks} weeks "
                f"weighed, too few to measure the patience (at least {MIN_ABANDONED}); "
                "give it in seconds")  # fmt: skip
        rows = plan(goal.inputs(fc, ahts, patience.seconds))
        aht_source = "measured" if goal.aht is None else "given"
        patience_source = ("measured" if goal.patience_measured
                           else "none" if goal.patience is None else "given")  # fmt: skip
        used_patience = patience.seconds if goal.patience_measured else goal.patience
        params: dict[str, Value] = {"queue": name, "zone": zone, "weeks": weeks,
                  "aht": aht_source if goal.aht is None else goal.aht,
                  "aht_source": aht_source, "target": goal.target,
                  "threshold": goal.threshold, "patience": used_patience,
                  "patience_source": patience_source,
                  "shrinkage": goal.shrinkage, "max_occupancy": goal.max_occupancy}  # fmt: skip
        table = _with_aht_source(staffing_table(rows, params=params, target=goal.target),
                                 ahts, aht_source)  # fmt: skip
        out.append(QueueForecast(queue=name, forecast=fc, accuracy=measured,
                                 accuracy_error=problem, plan=table, aht=ahts,
                                 aht_source=aht_source, patience=patience,
                                 patience_source=patience_source))  # fmt: skip
    return out


_AHT_SOURCE = Column(
    key="aht_source", title="AHT from", kind=Kind.TEXT,
    description="given (one AHT for all), or measured in the history: interval (same slot "
    "of the week), time_of_day, weekday, history (whole window), default (180 s)",
)  # fmt: skip


def _with_aht_source(table: Table, ahts: AhtForecast, source: str) -> Table:
    """The plan with a column saying where each interval's AHT came from (after ``aht``)."""
    at = [c.key for c in table.columns].index("aht") + 1
    columns = (*table.columns[:at], _AHT_SOURCE, *table.columns[at:])
    rows = tuple(
        {**row, "aht_source": "given" if source == "given" else measured[2]}
        for row, measured in zip(table.rows, ahts.intervals, strict=True)
    )
    return Table(name=table.name, title=table.title, columns=columns, rows=rows,
                 params=table.params, targets=table.targets)  # fmt: skip


def wfm_routes(
    store: Store,
    guard: Callable[[Handler], Handler],
    *,
    zone: str = "UTC",
    clock: Callable[[], float] = time.time,
) -> list[BaseRoute]:
    """The staffing API's routes; ``zone`` is the default time zone of forecasts."""
    zone_of(zone)

    async def staffing(request: Request) -> Response:
        try:
            body = await json_object(request, _MAX_BODY)
            inputs = _staffing_inputs(body)
            rows = await asyncio.to_thread(plan, inputs)  # it may take long: not on the loop
        except BadRequest as exc:
            return _bad(exc)
        except (ValueError, OverflowError) as exc:  # StaffingError; beyond erlang's limits
            return _bad(BadRequest(str(exc)))
        table = staffing_table(rows, target=inputs[0].target)
        return JSONResponse(table.as_json())

    async def forecast_view(request: Request) -> Response:
        query = request.query_params
        try:
            weeks = _int(query.get("weeks"), 4, "weeks", 2, 52)
            holdout = _int(query.get("holdout"), 1, "holdout", 1, 26)
            tz = query.get("zone") or zone
            try:
                zone_of(tz)
            except ValueError as exc:
                raise BadRequest(str(exc), "zone") from None
            measured_patience = query.get("patience") == MEASURED
            goal = StaffingGoal(
                aht=_optional(query.get("aht"), "aht"),
                target=_number(query.get("sl"), 0.8, "sl"),
                threshold=_number(query.get("threshold"), 20.0, "threshold"),
                patience=None if measured_patience else _optional(query.get("patience"),
                                                                  "patience"),
                shrinkage=_number(query.get("shrinkage"), 0.0, "shrinkage"),
                max_occupancy=_optional(query.get("max_occupancy"), "max_occupancy"),
                patience_measured=measured_patience,
            )  # fmt: skip
            goal.check()
            # a plan staffs 672 intervals: bound the work one request can ask for
            for name, value in (("aht", goal.aht or 0.0), ("patience", goal.patience or 0.0),
                                ("threshold", goal.threshold)):  # fmt: skip
                if value > MAX_PLAN_SECONDS:
                    raise BadRequest(f"{name} must be at most {MAX_PLAN_SECONDS:.0f} s in a "
                                      "forecast's plan", name)  # fmt: skip
        except BadRequest as exc:
            return _bad(exc)
        except StaffingError as exc:
            return _bad(BadRequest(str(exc)))
        try:
            result = await asyncio.to_thread(
                forecast_queues, store, now=clock(), zone=tz, goal=goal,
                queue=query.get("queue") or None, weeks=weeks, holdout=holdout,
            )  # fmt: skip
        except ForecastError as exc:
            return error(422, "not_enough_history", str(exc))
        except (ValueError, OverflowError) as exc:  # beyond erlang's limits
            return _bad(BadRequest(str(exc)))
        return JSONResponse({"queues": [q.as_json() for q in result]})

    return [
        Route("/api/v1/wfm/staffing", guard(staffing), methods=["POST"]),
        Route("/api/v1/wfm/forecast", guard(forecast_view), methods=["GET"]),
    ]


def _staffing_inputs(body: Mapping[str, Any]) -> list[StaffingInput]:
    shared = {k: v for k, v in body.items() if k != "intervals"}
    unknown = sorted(set(shared) - set(_FIELDS))
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r}", unknown[0])
    items = body.get("intervals")
    if items is None:
        return [_staffing_input(shared)]
    if not isinstance(items, list) or not items or len(items) > _MAX_INTERVALS:
        raise BadRequest(f"intervals must be a list of 1-{_MAX_INTERVALS} objects", "intervals")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadRequest("each interval must be an object", f"intervals[{i}]")
        extra = sorted(set(item) - set(_FIELDS))
        if extra:
            raise BadRequest(f"unknown field {extra[0]!r}", f"intervals[{i}].{extra[0]}")
        try:
            out.append(_staffing_input({**shared, **item}))
        except BadRequest as exc:
            raise BadRequest(str(exc), f"intervals[{i}].{exc.field}") from None
    return out


def _staffing_input(fields: Mapping[str, Any]) -> StaffingInput:
    values: dict[str, float | None] = {}
    for key in _FIELDS:
        value = fields.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadRequest(f"{key} must be a number", key)
        values[key] = float(value)
    for required in ("calls", "aht"):
        if required not in values:
            raise BadRequest(f"{required} is required", required)
    try:
        return StaffingInput(
            calls=_given(values, "calls", 0.0),
            aht=_given(values, "aht", 0.0),
            interval=_given(values, "interval", 1800.0),
            target=_given(values, "sl", 0.8),
            threshold=_given(values, "threshold", 20.0),
            patience=values.get("patience"),
            max_occupancy=values.get("max_occupancy"),
            shrinkage=_given(values, "shrinkage", 0.0),
            start=values.get("start"),
        )
    except StaffingError as exc:
        raise BadRequest(str(exc), _field_of(str(exc))) from None


def _given(values: Mapping[str, float | None], key: str, default: float) -> float:
    value = values.get(key)
    return default if value is None else value


def _field_of(message: str) -> str | None:
    names = {"calls": "calls", "aht": "aht", "interval": "interval", "target": "sl",
             "threshold": "threshold", "patience": "patience", "max occupancy": "max_occupancy",
             "shrinkage": "shrinkage"}  # fmt: skip
    for prefix, name in names.items():
        if message.startswith(prefix):
            return name
    return None


def _bad(exc: BadRequest) -> JSONResponse:
    body: dict[str, Any] = {"error": "invalid", "message": str(exc)}
    if exc.field is not None:
        body["field"] = exc.field
    return JSONResponse(body, 400)


def _int(text: str | None, default: int, name: str, low: int, high: int) -> int:
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"{name} must be an integer", name) from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be {low}-{high}", name)
    return value


def _number(text: str | None, default: float, name: str) -> float:
    value = _optional(text, name)
    return default if value is None else value


def _optional(text: str | None, name: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"{name} must be a number", name) from None
    if not math.isfinite(value):
        raise BadRequest(f"{name} must be a finite number", name)
    return value
