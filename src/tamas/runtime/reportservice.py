"""The one place reports are made: from a name and a query to a Table, and to a file.

Both the CLI (``tamas report``) and the HTTP API (``tamas.web.reports``) call
:class:`ReportService`; neither knows where a report's figures come from:

* the standard reports (queues, agents, intervals, KPIs) sum the interval aggregates that
  ``tamas.runtime.reports.ReportMaintainer`` keeps (``tamas.store.reports``), so they cost
  the same for a day as for a year;
* the drill-down lists (missed calls, the call-back list, IVR, callbacks) fold the raw event
  log of the range (``tamas.store.events``), reading some hours before it (for context) and
  everything after it up to now (to finish what started in range, and to know who was
  reached since).

Blocking: every method reads the database; the web layer calls them in a thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from tamas.config.reports import ReportsConfig
from tamas.core.events import LogRecord
from tamas.reporting import callbacks_report, ivr_report, kpi, missed, sessions_report
from tamas.reporting.export import Calendar, DisplayFormat, to_csv, to_json, to_xlsx
from tamas.reporting.intervals import sum_agent_rows, sum_queue_rows
from tamas.reporting.kpi_list import kpi_table
from tamas.reporting.query import Group, QueryError, ReportQuery, parse_query
from tamas.reporting.table import Table
from tamas.runtime import wfmreports
from tamas.store import events as store_events
from tamas.store import reports as store_reports
from tamas.store.reports import Grouping

__all__ = ["FORMATS", "REPORTS", "Export", "ReportInfo", "ReportService"]

#: How far before a range the drill-down reports read, for context (the CALLSTART of a call
#: that queued in range).
LOOKBACK = 6 * 3600.0

FORMATS = ("json", "csv", "xlsx")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportInfo:
    name: str
    title: str
    description: str
    #: The groupings it accepts (the first is its default); empty: none.
    groups: tuple[Group, ...] = ()
    #: It reads the raw log of its range (a drill-down list), not the aggregates.
    raw: bool = False


REPORTS: dict[str, ReportInfo] = {
    info.name: info
    for info in (
        ReportInfo(name="queues", title="Queue report",
                   description="offered, answered, abandoned, service level, ASA, AHT, FCR, "
                   "CSAT and answered by wait band, per queue (or team, interval, day, total)",
                   groups=(Group.QUEUE, Group.TEAM, Group.INTERVAL, Group.DAY, Group.TOTAL)),
        ReportInfo(name="agents", title="Agent report",
                   description="calls, talk, hold, after-call work, pauses by reason, login "
                   "time, missed rings, transfers, CSAT, occupancy, utilization per agent",
                   groups=(Group.AGENT, Group.TEAM, Group.INTERVAL, Group.DAY, Group.TOTAL)),
        ReportInfo(name="intervals", title="Interval report",
                   description="the queue figures per 15, 30 or 60 minutes (interval=)",
                   groups=(Group.INTERVAL,)),
        ReportInfo(name="kpis", title="KPIs",
                   description="every KPI of the range beside its target, for the queues "
                   "asked (all by default)"),
        ReportInfo(name="missed_calls", title="Missed calls", raw=True,
                   description="every queue visit that ended unanswered: time, caller, queue, "
                   "positions, wait, kind (abandoned, missed, disconnected, ...)"),
        ReportInfo(name="callback_list", title="Call-back list", raw=True,
                   description="callers with a missed call in range not reached since"),
        ReportInfo(name="ivr", title="IVR report", raw=True,
                   description="per flow and step: entered, keys, invalid, timeouts, hang-ups"),
        ReportInfo(name="ivr_destinations", title="IVR destinations", raw=True,
                   description="where each flow's callers went (queue, voicemail, hang-up ...)"),
        ReportInfo(name="callbacks", title="Callbacks report", raw=True,
                   description="callbacks requested, completed, failed and listed per queue"),
        ReportInfo(name="agent_sessions", title="Agent login sessions", raw=True,
                   description="each login session: device, login, logout, pauses by reason, "
                   "calls answered"),
        ReportInfo(name="callbacks_open", title="Open callbacks", raw=True,
                   description="callbacks still to be made or given up, one per row"),
        ReportInfo(name="adherence", title="Schedule adherence", raw=True,
                   description="per scheduled agent and day (reports.schedules): scheduled, "
                   "in adherence, out of adherence by cause, adherence and conformance"),
        ReportInfo(name="forecast_accuracy", title="Forecast accuracy",
                   description="per queue: the forecast of the range made from the 4 weeks "
                   "before it against the calls offered (WAPE, MAPE)"),
    )
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Export:
    body: bytes
    media_type: str
    filename: str


class ReportService:
    def __init__(
        self,
        engine: sa.Engine,
        config: ReportsConfig,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.config = config
        self.settings = config.settings()
        self.clock = clock

    # -- queries

    def query(self, params: Mapping[str, str]) -> ReportQuery:
        """Parse text parameters (QueryError names the bad one)."""
        return parse_query(params, timezone=self.config.timezone, now=self.clock())

    def run(self, name: str, query: ReportQuery) -> Table:
        info = REPORTS.get(name)
        if info is None:
            raise QueryError("report", f"no report {name!r}; the reports are "
                             + ", ".join(sorted(REPORTS)))  # fmt: skip
        group = query.group
        if group is not None and group not in info.groups:
            allowed = ", ".join(g.value for g in info.groups) or "none"
            raise QueryError("group", f"the {name} report groups by {allowed}")
        if name == "forecast_accuracy":
            return wfmreports.forecast_accuracy_report(
                self.engine, self.config, query, queues=self._filters(query)[0], now=self.clock()
            )
        if info.raw:
            return self._raw(name, query)
        return self._aggregate(name, query, group or (info.groups[0] if info.groups else None))

    def _teams(self, of: str) -> dict[str, tuple[str, ...]]:
        return {t.name: (t.agents if of == "agents" else t.queues) for t in self.config.teams}

    def _filters(self, query: ReportQuery) -> tuple[tuple[str, ...], tuple[str, ...]]:
        queues, agents = query.queues, query.agents
        if query.team is not None:
            team = self.config.team(query.team)
            if team is None:
                raise QueryError("team", f"no team {query.team!r}")
            queues = queues or team.queues
            agents = agents or team.agents
        return queues, agents

    def _aggregate(self, name: str, query: ReportQuery, group: Group | None) -> Table:
        queues, agents = self._filters(query)
        engine, start, end = self.engine, query.start, query.end
        size, zone = query.interval, query.timezone
        # teams are summed here from per-queue (per-agent) rows; the rest in SQL
        by: Grouping = "total" if group is None else group.value
        in_sql: Grouping = "agent" if by == "team" else by
        if name == "agents":
            rows = store_reports.agent_rows(
                engine,
                start,
                end,
                agents=agents or None,
                group_by=in_sql,
                size=size,
                zone=zone,
            )
            return kpi.agent_report(
                rows,
                self.settings,
                group_by=by,  # type: ignore[arg-type]
                teams=self._teams("agents"),
                size=size,
                zone=zone,
            )
        if name == "kpis":
            qtotal = store_reports.queue_rows(
                engine, start, end, group_by="total", queues=queues or None
            )
            atotal = store_reports.agent_rows(
                engine, start, end, group_by="total", agents=agents or None
            )
            return kpi_table(
                sum_queue_rows(qtotal, queue="", start=0),
                sum_agent_rows(atotal, agent="", start=0),
                self.settings,
                peak=store_reports.peak_interval(engine, start, end, queues=queues or None),
                first_response=store_events.first_response(engine, start, end),
                workforce=wfmreports.workforce_kpis(
                    engine,
                    self.config,
                    lambda: self._records(query),
                    query,
                    queues=queues,
                    agents=agents,
                    now=self.clock(),
                ),
                params={
                    "from": start,
                    "to": end,
                    "queues": ",".join(queues),
                    "agents": ",".join(agents),
                },
            )
        if name == "intervals":  # as columns: no row object per interval
            columns = store_reports.queue_columns(
                engine, start, end, queues=queues or None, size=size, zone=zone
            )
            return kpi.interval_report(columns, self.settings, size=size, zone=zone)
        in_sql = "queue" if by == "team" else by
        qrows = store_reports.queue_rows(
            engine, start, end, queues=queues or None, group_by=in_sql, size=size, zone=zone
        )
        return kpi.queue_report(
            qrows,
            self.settings,
            group_by=by,  # type: ignore[arg-type]
            teams=self._teams("queues"),
            size=size,
            zone=zone,
        )

    def _records(self, query: ReportQuery) -> Iterator[LogRecord]:
        return store_events.iterate(self.engine, start=query.start - LOOKBACK,
                                    end=max(self.clock(), query.end) + 1)  # fmt: skip

    def _raw(self, name: str, query: ReportQuery) -> Table:
        queues, agents = self._filters(query)
        start, end = query.start, query.end
        short = self.settings.short_abandon
        records = self._records(query)
        if name == "missed_calls":
            return missed.missed_calls(
                records, start=start, end=end, queues=queues, short_abandon=short
            )
        if name == "callback_list":
            return missed.callback_list(
                records, start=start, end=end, queues=queues, short_abandon=short
            )
        if name == "ivr":
            return ivr_report.ivr_steps(records, start=start, end=end)
        if name == "ivr_destinations":
            return ivr_report.ivr_destinations(records, start=start, end=end)
        if name == "agent_sessions":
            return sessions_report.agent_sessions(records, start=start, end=end, agents=agents)
        if name == "adherence":
            return wfmreports.adherence_report(self.config, records, query, agents=agents,
                                               now=self.clock())  # fmt: skip
        if name == "callbacks":
            return callbacks_report.callbacks_by_queue(records, start=start, end=end, queues=queues)
        return callbacks_report.callbacks_open(records, start=start, end=end, queues=queues)

    def today(self) -> dict[str, list[dict[str, object]]]:
        """Today's queue and agent reports so far (the wallboard's historical half)."""
        query = self.query({})
        return {
            "queues": [dict(r) for r in self.run("queues", query).rows],
            "agents": [dict(r) for r in self.run("agents", query).rows],
        }

    # -- output

    def display(self, params: Mapping[str, str] | None = None) -> DisplayFormat:
        """How dates and numbers are shown: the center's settings, or ``calendar``/``tz``/
        ``language`` parameters."""
        params = params or {}
        calendar = params.get("calendar") or self.config.calendar
        if calendar not in ("gregorian", "jalali"):
            raise QueryError("calendar", "use gregorian or jalali")
        language = params.get("language") or self.config.language
        if language not in ("en", "fa", "ar"):
            raise QueryError("language", "use en, fa or ar")
        return DisplayFormat(calendar=Calendar(calendar),
                             zone=params.get("tz") or self.config.timezone,
                             language=language)  # fmt: skip

    def export(self, table: Table, fmt: str, display: DisplayFormat) -> Export:
        stem = table.name
        if fmt == "json":
            return Export(to_json(table).encode(), "application/json", f"{stem}.json")
        if fmt == "csv":
            body = to_csv(table, display, bom=True).encode()
            return Export(body, "text/csv; charset=utf-8", f"{stem}.csv")
        if fmt == "xlsx":
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            return Export(to_xlsx(table, display), media, f"{stem}.xlsx")
        raise QueryError("format", f"use one of {', '.join(FORMATS)}")
