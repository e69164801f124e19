"""Every KPI of a range on one page, each beside its target (the ``kpis`` report).

The values come from one summed queue row and one summed agent row (the whole range, the
queues and agents asked), through the KPI functions of :mod:`tamas.reporting.kpi`, plus
the first response time from the CDRs. docs/kpis.md defines each one; ``status`` says how a
value compares with its target: ``ok``, ``low`` or ``high`` (empty without a target or a
value). A target is a number (at least it: service level, CSAT) or a range (abandon rate
5-8 %: below it is fine, so only ``high`` is flagged; FCR 70-75 %: above it is fine;
occupancy 60-80 %: both sides are).

The workforce KPIs (:class:`WorkforceKpis`) come after: schedule adherence (target 90 %
unless ``reports.targets.adherence`` says otherwise) and conformance when the center has
schedules, and forecast accuracy (1 - WAPE of the forecast of the range made from the weeks
before it, with its WAPE and MAPE).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tamas.reporting import kpi
from tamas.reporting.adherence import ADHERENCE_TARGET
from tamas.reporting.intervals import AgentInterval, QueueInterval
from tamas.reporting.settings import ReportSettings
from tamas.reporting.table import Column, Kind, Table, Value

__all__ = ["WorkforceKpis", "kpi_table"]

#: KPIs where lower is better: a value under the target's range is not a problem.
_LOWER_IS_BETTER = frozenset({"abandon_rate", "forecast_wape", "forecast_mape"})
#: KPIs where higher is better: a value over the target's range is not a problem.
_HIGHER_IS_BETTER = frozenset({"fcr"})


@dataclass(frozen=True, slots=True)
class _Kpi:
    key: str
    title: str
    unit: str  # ratio, seconds, calls, time
    value: Callable[[QueueInterval, AgentInterval, ReportSettings], float | None]


def _q(f: Callable[[QueueInterval], float | None]) -> Callable[..., float | None]:
    return lambda q, a, s: f(q)


def _a(f: Callable[[AgentInterval], float | None]) -> Callable[..., float | None]:
    return lambda q, a, s: f(a)


_KPIS = (
    _Kpi("offered", "Calls offered", "calls", lambda q, a, s: q.offered),
    _Kpi("answered", "Calls answered", "calls", lambda q, a, s: q.answered),
    _Kpi("abandoned", "Calls abandoned", "calls", lambda q, a, s: q.abandoned),
    _Kpi("service_level", "Service level", "ratio", lambda q, a, s: kpi.service_level(q, s)),
    _Kpi("asa", "Average speed of answer", "seconds", _q(kpi.asa)),
    _Kpi("aht", "Average handle time", "seconds", _q(kpi.aht)),
    _Kpi("avg_talk", "Average talk time", "seconds", _q(kpi.avg_talk)),
    _Kpi("avg_hold", "Average hold time", "seconds", _q(kpi.avg_hold)),
    _Kpi("avg_acw", "Average after-call work", "seconds", _q(kpi.avg_acw)),
    _Kpi("abandon_rate", "Abandon rate", "ratio", _q(kpi.abandon_rate)),
    _Kpi("short_abandon_rate", "Short abandon rate", "ratio", _q(kpi.short_abandon_rate)),
    _Kpi("missed_rate", "Missed", "ratio", _q(kpi.missed_rate)),
    _Kpi("unanswered_rate", "Rang an agent who did not answer", "ratio",
         _q(kpi.unanswered_rate)),
    _Kpi("max_wait", "Longest wait", "seconds", lambda q, a, s: q.max_wait),
    _Kpi("fcr", "First-contact resolution", "ratio", _q(kpi.fcr)),
    _Kpi("transfer_rate", "Transfer rate", "ratio", _q(kpi.transfer_rate)),
    _Kpi("csat", "Customer satisfaction", "ratio", _q(kpi.csat)),
    _Kpi("csat_score", "Average survey score (1-5)", "score", _q(kpi.csat_score)),
    _Kpi("occupancy", "Occupancy", "ratio", _a(kpi.occupancy)),
    _Kpi("utilization", "Utilization", "ratio", _a(kpi.utilization)),
    _Kpi("login_time", "Agent login time", "seconds", lambda q, a, s: a.login),
    _Kpi("pause_time", "Agent pause time", "seconds", lambda q, a, s: a.paused),
    _Kpi("callbacks_requested", "Callbacks requested", "calls",
         lambda q, a, s: q.callbacks_requested),
    _Kpi("callbacks_completed", "Callbacks completed", "calls",
         lambda q, a, s: q.callbacks_completed),
    _Kpi("callbacks_failed", "Callback attempts failed", "calls",
         lambda q, a, s: q.callbacks_failed),
    _Kpi("callbacks_listed", "Callbacks given up", "calls", lambda q, a, s: q.callbacks_listed),
)  # fmt: skip

_COLUMNS = (
    Column(key="kpi", title="KPI"),
    Column(key="title", title="Name"),
    Column(key="value", title="Value", kind=Kind.FLOAT),
    Column(key="unit", title="Unit", description="ratio (0..1), seconds, calls, score or time"),
    Column(key="target_low", title="Target (low)", kind=Kind.FLOAT),
    Column(key="target_high", title="Target (high)", kind=Kind.FLOAT),
    Column(key="status", title="Status", description="ok, low or high against the target"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkforceKpis:
    """Figures from schedules and forecasts; ``scheduled``: the center has schedules."""

    scheduled: bool = False
    adherence: float | None = None
    conformance: float | None = None
    forecast_wape: float | None = None
    forecast_mape: float | None = None


def _status(key: str, value: float | None, target: float | tuple[float, float] | None) -> str:
    if value is None or target is None:
        return ""
    if isinstance(target, tuple):
        low, high = target
        if value > high and key not in _HIGHER_IS_BETTER:
            return "high"
        if value < low and key not in _LOWER_IS_BETTER:
            return "low"
        return "ok"
    if key in _LOWER_IS_BETTER:  # a single target is then a ceiling
        return "ok" if value <= target else "high"
    return "ok" if value >= target else "low"


def kpi_table(
    queues: QueueInterval,
    agents: AgentInterval,
    settings: ReportSettings,
    *,
    peak: tuple[int, int] | None = None,
    first_response: float | None = None,
    params: Mapping[str, Value] | None = None,
    workforce: WorkforceKpis | None = None,
) -> Table:
    """One row per KPI for the summed ``queues`` and ``agents`` rows of a range.

    ``peak`` is (start, offered) of the busiest interval; ``first_response`` the mean time
    from a call's start to its answer by a person (IVR included), from the CDRs.
    """
    rows: list[dict[str, Value]] = []

    def add(key: str, title: str, unit: str, value: float | None,
            default: float | None = None) -> None:  # fmt: skip
        target = settings.targets.get(key, default)
        low, high = target if isinstance(target, tuple) else (target, None)
        rows.append({"kpi": key, "title": title, "value": value, "unit": unit,
                     "target_low": low, "target_high": high,
                     "status": _status(key, value, target)})  # fmt: skip

    for k in _KPIS:
        add(k.key, k.title, k.unit, k.value(queues, agents, settings))
    add("frt", "First response time", "seconds", first_response)
    add("peak_interval", "Peak interval (start)", "time", None if peak is None else peak[0])
    add("peak_offered", "Calls offered in the peak interval", "calls",
        None if peak is None else peak[1])  # fmt: skip
    if workforce is not None:
        if workforce.scheduled:
            add("adherence", "Schedule adherence", "ratio", workforce.adherence, ADHERENCE_TARGET)
            add("conformance", "Schedule conformance", "ratio", workforce.conformance)
        wape = workforce.forecast_wape
        add(
            "forecast_accuracy",
            "Forecast accuracy (1 - WAPE)",
            "ratio",
            None if wape is None else max(0.0, 1.0 - wape),
        )
        add("forecast_wape", "Forecast error (WAPE)", "ratio", wape)
        add("forecast_mape", "Forecast error (MAPE)", "ratio", workforce.forecast_mape)
    return Table(name="kpis", title="KPIs", columns=_COLUMNS, rows=tuple(rows),
                 params=dict(params or {}), targets=settings.flat_targets())  # fmt: skip
