"""The workforce reports' reads: schedule adherence (from the raw log's login sessions) and
forecast accuracy (from the interval aggregates), for :class:`ReportService`.

Adherence folds the login sessions and pauses of the range (``sessions_report``) against
``reports.schedules`` placed in ``reports.timezone``; forecast accuracy forecasts the range
from the ``weeks`` weeks of offered calls before it (``tamas.wfm.accuracy``).

Blocking: these read the database; the web layer calls them in a thread.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import sqlalchemy as sa

from tamas.config.reports import ReportsConfig
from tamas.config.schedules import weekly_schedule
from tamas.core.events import LogRecord
from tamas.reporting.adherence import (
    ADHERENCE_TARGET,
    AgentDay,
    adherence_days,
    adherence_table,
    overall_adherence,
)
from tamas.reporting.kpi_list import WorkforceKpis
from tamas.reporting.query import ReportQuery
from tamas.reporting.sessions_report import find_sessions
from tamas.reporting.table import Table
from tamas.store import reports as store_reports
from tamas.wfm.accuracy import RangeAccuracy, accuracy_by_queue, overall, range_accuracy
from tamas.wfm.history import INTERVAL, from_slot_counts

__all__ = ["FORECAST_WEEKS", "KPI_FORECAST_DAYS", "adherence_report", "agent_days",
           "forecast_accuracy", "forecast_accuracy_report", "workforce_kpis"]  # fmt: skip

#: Training weeks of the forecast that forecast accuracy scores.
FORECAST_WEEKS = 4
#: The KPI listing scores the forecast of ranges up to this long (a month); a longer range
#: (a year's listing) leaves it empty: ask the forecast_accuracy report for it.
KPI_FORECAST_DAYS = 31
_WEEK = 7 * 86400.0


def agent_days(
    config: ReportsConfig,
    records: Iterable[LogRecord],
    *,
    start: float,
    end: float,
    now: float,
    agents: tuple[str, ...] = (),
) -> list[AgentDay]:
    """Every scheduled agent's days in the range (empty without schedules)."""
    schedules = weekly_schedule(config)
    if not schedules:
        return []
    wanted = set(agents) & set(schedules) if agents else set(schedules)
    sessions = find_sessions(records, start=-math.inf, end=end, agents=wanted)
    return adherence_days(schedules, sessions, start=start, end=end, now=now,
                          zone=config.timezone, agents=wanted)  # fmt: skip


def adherence_report(
    config: ReportsConfig,
    records: Iterable[LogRecord],
    query: ReportQuery,
    *,
    agents: tuple[str, ...],
    now: float,
) -> Table:
    days = agent_days(config, records, start=query.start, end=query.end, now=now,
                      agents=agents)  # fmt: skip
    target = config.settings().targets.get("adherence", ADHERENCE_TARGET)
    return adherence_table(
        days,
        params={
            "from": query.start,
            "to": query.end,
            "agents": ",".join(agents),
            "zone": config.timezone,
        },
        target=target if isinstance(target, float | int) else None,
    )


def forecast_accuracy(
    engine: sa.Engine,
    *,
    start: float,
    end: float,
    now: float,
    zone: str,
    queues: tuple[str, ...] = (),
    weeks: int = FORECAST_WEEKS,
) -> list[RangeAccuracy]:
    """Per queue (``queues``, or every queue with calls in the range or the weeks before),
    the forecast of ``[start, end)`` scored against the calls offered up to ``now``."""
    stop = math.floor(min(end, now) / INTERVAL) * INTERVAL
    begin = start - weeks * _WEEK
    if stop <= start:
        return []
    names = queues or tuple(
        r.queue
        for r in store_reports.queue_rows(engine, begin, stop, group_by="queue")
        if r.offered
    )
    out: list[RangeAccuracy] = []
    for name in names:
        rows = store_reports.queue_rows(engine, begin, stop, group_by="interval",
                                        queues=[name], size=INTERVAL, zone="UTC")  # fmt: skip
        slots = {math.floor(r.start / INTERVAL): r.offered for r in rows}
        history = from_slot_counts({name: slots}, zone=zone, end=stop).get(name)
        if history is None:
            out.append(RangeAccuracy(queue=name, intervals=0, actual=0.0, forecast=0.0,
                                     error=0.0, wape=None, mape=None,
                                     note="no calls offered"))  # fmt: skip
            continue
        out.append(range_accuracy(history, start=start, end=stop, weeks=weeks))
    return out


def forecast_accuracy_report(
    engine: sa.Engine, config: ReportsConfig, query: ReportQuery, *, queues: tuple[str, ...],
    now: float,
) -> Table:  # fmt: skip
    results = forecast_accuracy(engine, start=query.start, end=query.end, now=now,
                                zone=config.timezone, queues=queues)  # fmt: skip
    target = config.settings().targets.get("forecast_accuracy")
    return accuracy_by_queue(
        results,
        params={
            "from": query.start,
            "to": query.end,
            "queues": ",".join(queues),
            "weeks": FORECAST_WEEKS,
            "zone": config.timezone,
        },
        target=target if isinstance(target, float | int) else None,
    )


def workforce_kpis(
    engine: sa.Engine,
    config: ReportsConfig,
    records: Callable[[], Iterable[LogRecord]],
    query: ReportQuery,
    *,
    queues: tuple[str, ...],
    agents: tuple[str, ...],
    now: float,
) -> WorkforceKpis:
    """The KPI listing's adherence (read from the raw log only when there are schedules)
    and forecast accuracy of the range."""
    scheduled = bool(config.schedules)
    adherence = conformance = None
    if scheduled:
        days = agent_days(config, records(), start=query.start, end=query.end, now=now,
                          agents=agents)  # fmt: skip
        adherence, conformance = overall_adherence(days)
    wape = mape = None
    if query.end - query.start <= KPI_FORECAST_DAYS * 86400 + 3600:  # + a DST day's hour
        wape, mape = overall(forecast_accuracy(engine, start=query.start, end=query.end,
                                               now=now, zone=config.timezone,
                                               queues=queues))  # fmt: skip
    return WorkforceKpis(scheduled=scheduled, adherence=adherence, conformance=conformance,
                         forecast_wape=wape, forecast_mape=mape)  # fmt: skip
