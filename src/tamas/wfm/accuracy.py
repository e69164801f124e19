"""Forecast accuracy of a range: the forecast made before it against the calls that came.

For each queue, :func:`range_accuracy` forecasts the local days of ``[start, end)`` from the
history *before* ``start`` only (:func:`tamas.wfm.forecast.forecast`, the weekly-pattern
method, ``weeks`` training weeks) and compares every interval of the range up to ``now``
with the calls offered in it. WAPE = sum |forecast - actual| / sum actual over the
intervals; MAPE = mean of |forecast - actual| / actual over the intervals with calls. The
``forecast_accuracy`` report (one row per queue and a total) is :func:`accuracy_by_queue`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from tamas.reporting.table import Column, Kind, Table, Value
from tamas.wfm.forecast import ForecastError, forecast
from tamas.wfm.history import History, zone_of

__all__ = ["RangeAccuracy", "accuracy_by_queue", "overall", "range_accuracy"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RangeAccuracy:
    queue: str
    intervals: int
    actual: float
    forecast: float
    #: sum |f - a| over the intervals (the WAPE's numerator)
    error: float
    wape: float | None
    mape: float | None
    #: intervals with calls (the MAPE's count)
    with_calls: int = 0
    #: why there is no forecast (too little history), else empty
    note: str = ""


def range_accuracy(history: History, *, start: float, end: float, weeks: int = 4) -> RangeAccuracy:
    """The forecast of ``[start, end)`` from ``history`` before ``start``, scored against
    ``history``'s counts in the range (intervals it does not hold are not scored)."""
    tz = zone_of(history.zone)
    first = datetime.fromtimestamp(start, tz).date()
    last = datetime.fromtimestamp(max(start, end - 1), tz).date()
    cut = max(0, min(len(history.counts), math.ceil((start - history.start) / history.interval)))
    train = History(queue=history.queue, start=history.start, counts=history.counts[:cut],
                    zone=history.zone, interval=history.interval)  # fmt: skip
    actual = {t: c for t, c in history.items() if start <= t < end and c is not None}
    try:
        predicted = forecast(train, weeks=weeks, start=start, days=(last - first).days + 1)
    except ForecastError as exc:
        total = math.fsum(actual.values())
        return RangeAccuracy(queue=history.queue, intervals=0, actual=total, forecast=0.0,
                             error=0.0, wape=None, mape=None, note=str(exc))  # fmt: skip
    pairs = [(f, actual[t]) for t, f in predicted.intervals if t in actual]
    actual_total = math.fsum(a for _f, a in pairs)
    error = math.fsum(abs(f - a) for f, a in pairs)
    ape = [abs(f - a) / a for f, a in pairs if a > 0]
    return RangeAccuracy(queue=history.queue, intervals=len(pairs), actual=actual_total,
                         forecast=math.fsum(f for f, _a in pairs), error=error,
                         wape=error / actual_total if actual_total else None,
                         mape=statistics.fmean(ape) if ape else None,
                         with_calls=len(ape))  # fmt: skip


_COLUMNS = (
    Column(key="queue", title="Queue"),
    Column(key="intervals", title="Intervals", kind=Kind.INT,
           description="15-minute intervals compared"),
    Column(key="actual", title="Calls offered", kind=Kind.FLOAT),
    Column(key="forecast", title="Calls forecast", kind=Kind.FLOAT),
    Column(key="wape", title="WAPE", kind=Kind.RATIO,
           description="sum |forecast - actual| / sum actual over the intervals"),
    Column(key="mape", title="MAPE", kind=Kind.RATIO,
           description="mean |forecast - actual| / actual over intervals with calls"),
    Column(key="accuracy", title="Forecast accuracy", kind=Kind.RATIO,
           description="1 - WAPE (at least 0)"),
    Column(key="note", title="Note", description="why a queue has no forecast"),
)  # fmt: skip


def overall(results: Iterable[RangeAccuracy]) -> tuple[float | None, float | None]:
    """(WAPE, MAPE) of every queue's intervals together."""
    results = list(results)
    actual = math.fsum(r.actual for r in results if r.intervals)
    error = math.fsum(r.error for r in results if r.intervals)
    count = sum(r.with_calls for r in results if r.mape is not None)
    ape = math.fsum(r.mape * r.with_calls for r in results if r.mape is not None)
    return (error / actual if actual else None, ape / count if count else None)


def _accuracy(wape: float | None) -> float | None:
    return None if wape is None else max(0.0, 1.0 - wape)


def accuracy_by_queue(
    results: Iterable[RangeAccuracy],
    *,
    params: Mapping[str, Value] | None = None,
    target: float | None = None,
) -> Table:
    """One row per queue, then a ``total`` row (all queues' intervals together)."""
    results = list(results)
    rows: list[dict[str, Value]] = []
    n = 0
    actual = predicted = error = 0.0
    wape, mape = overall(results)
    for r in results:
        rows.append({"queue": r.queue, "intervals": r.intervals, "actual": r.actual,
                     "forecast": round(r.forecast, 3), "wape": r.wape, "mape": r.mape,
                     "accuracy": _accuracy(r.wape), "note": r.note})  # fmt: skip
        if r.intervals:
            n += r.intervals
            actual += r.actual
            predicted += r.forecast
            error += r.error
    if rows:
        rows.append({"queue": "total", "intervals": n, "actual": actual,
                     "forecast": round(predicted, 3), "wape": wape, "mape": mape,
                     "accuracy": _accuracy(wape), "note": ""})  # fmt: skip
    return Table(name="forecast_accuracy", title="Forecast accuracy", columns=_COLUMNS,
                 rows=tuple(rows), params=dict(params or {}),
                 targets={} if target is None else {"accuracy": target})  # fmt: skip
