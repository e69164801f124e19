"""KPIs over summed interval rows, and the standard reports (queue, agent, interval) as Tables.

Every function takes rows already summed over the period and the grouping wanted
(``intervals.QueueInterval``/``AgentInterval``, e.g. from ``tamas.store.reports``) and
returns a ratio in 0..1 or a mean in seconds, or None when its denominator is 0.
docs/kpis.md gives each definition with its formula.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from operator import add
from typing import Any, Literal, TypeVar

from tamas.reporting.intervals import (
    BANDS,
    AgentInterval,
    QueueColumns,
    QueueInterval,
    Zone,
    band_index,
    bucket,
    interval_start,
    local_day,
)
from tamas.reporting.settings import DEFAULT_TARGETS, ReportSettings, SlFormula
from tamas.reporting.table import Column, Kind, Table, Value

__all__ = [
    "DEFAULT_TARGETS",
    "AgentGrouping",
    "QueueGrouping",
    "ReportSettings",
    "SlFormula",
    "abandon_rate",
    "agent_report",
    "aht",
    "asa",
    "avg_acw",
    "avg_hold",
    "avg_ring",
    "avg_talk",
    "csat",
    "csat_score",
    "fcr",
    "group_agent_rows",
    "group_queue_rows",
    "interval_report",
    "missed_rate",
    "occupancy",
    "peak_interval",
    "queue_report",
    "service_level",
    "short_abandon_rate",
    "transfer_rate",
    "unanswered_rate",
    "utilization",
]

QueueGrouping = Literal["queue", "team", "interval", "day", "total"]
AgentGrouping = Literal["agent", "team", "interval", "day", "total"]
DAY = 86400


def _ratio(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


# --------------------------------------------------------------------------- queue KPIs


def service_level(row: QueueInterval, settings: ReportSettings) -> float | None:
    """Answered within T ÷ the formula's denominator (docs/kpis.md, "Service level")."""
    i = band_index(settings.sl_threshold)
    within = row.answered_within[i] if i >= 0 else 0
    formula = settings.sl_formula
    if formula is SlFormula.ANSWERED:
        return _ratio(within, row.answered)
    if formula is SlFormula.OFFERED:
        return _ratio(within, row.answered + row.abandoned)
    if formula is SlFormula.ABANDONED_AFTER:
        early = row.abandoned_within[i] if i >= 0 else 0
        return _ratio(within, row.answered + row.abandoned - early)
    return _ratio(within, row.answered + row.abandoned - row.short_abandoned)


def asa(row: QueueInterval) -> float | None:
    """Average speed of answer: queue wait (ring of the answering agent included) ÷ answered."""
    return _ratio(row.wait_answered, row.answered)


def avg_ring(row: QueueInterval) -> float | None:
    return _ratio(row.ring, row.answered)


def aht(row: QueueInterval | AgentInterval) -> float | None:
    """Average handle time: (talk + hold + after-call work) ÷ conversations handled."""
    return _ratio(row.talk + row.hold + row.acw, row.handled)


def avg_talk(row: QueueInterval | AgentInterval) -> float | None:
    return _ratio(row.talk, row.handled)


def avg_hold(row: QueueInterval | AgentInterval) -> float | None:
    return _ratio(row.hold, row.handled)


def avg_acw(row: QueueInterval | AgentInterval) -> float | None:
    return _ratio(row.acw, row.handled)


def abandon_rate(row: QueueInterval) -> float | None:
    """Abandoned ÷ offered (short abandons included; see short_abandon_rate)."""
    return _ratio(row.abandoned, row.offered)


def short_abandon_rate(row: QueueInterval) -> float | None:
    return _ratio(row.short_abandoned, row.offered)


def missed_rate(row: QueueInterval) -> float | None:
    """Calls that rang an agent who did not answer and were then never answered ÷ offered."""
    return _ratio(row.missed, row.offered)


def unanswered_rate(row: QueueInterval) -> float | None:
    """Calls that rang at least one agent who did not answer ÷ offered."""
    return _ratio(row.rang_unanswered, row.offered)


def transfer_rate(row: QueueInterval) -> float | None:
    """Answered calls the agent transferred (to another agent or queue) ÷ answered."""
    return _ratio(row.transferred, row.answered)


def fcr(row: QueueInterval) -> float | None:
    """First-contact resolution: 1 - answered calls followed by a repeat contact ÷ answered."""
    share = _ratio(row.repeat_contacts, row.answered)
    return None if share is None else 1.0 - share


def csat(row: QueueInterval | AgentInterval) -> float | None:
    """Satisfied survey answers (4 or 5 of 5 by default) ÷ survey answers."""
    return _ratio(row.csat_satisfied, row.csat_count)


def csat_score(row: QueueInterval | AgentInterval) -> float | None:
    """Mean survey score on a 1..5 scale."""
    return _ratio(row.csat_sum, row.csat_count)


def peak_interval(rows: Iterable[QueueInterval], size: int = 900) -> tuple[int, int] | None:
    """(start, offered) of the ``size``-second interval with the most calls offered."""
    per: dict[int, int] = {}
    for row in rows:
        key = bucket(row.start, size)
        per[key] = per.get(key, 0) + row.offered
    if not per:
        return None
    start = max(per, key=lambda s: (per[s], -s))
    return start, per[start]


# --------------------------------------------------------------------------- agent KPIs


def occupancy(row: AgentInterval) -> float | None:
    """Time handling calls ÷ time handling calls or available (pauses left out)."""
    return _ratio(row.busy, row.busy + row.available)


def utilization(row: AgentInterval) -> float | None:
    """Time handling calls ÷ logged-in time (pauses included)."""
    return _ratio(row.busy, row.login)


# --------------------------------------------------------------------------- grouping

R = TypeVar("R", QueueInterval, AgentInterval)


def _keys(
    name: str,
    start: int,
    group_by: str,
    teams: Mapping[str, Collection[str]] | None,
    size: int,
    zone: Zone,
) -> list[tuple[str, int]]:
    if group_by in ("queue", "agent"):
        return [(name, 0)]
    if group_by == "team":
        return [(team, 0) for team, members in (teams or {}).items() if name in members]
    if group_by == "interval":
        return [("", interval_start(start, size, zone))]
    if group_by == "day":
        return [("", local_day(start, zone))]
    if group_by == "total":
        return [("", 0)]
    raise ValueError(f"unknown grouping {group_by!r}")


def _group(
    rows: Iterable[R],
    name_of: Callable[[R], str],
    make: Callable[[str, int], R],
    group_by: str,
    teams: Mapping[str, Collection[str]] | None,
    size: int,
    zone: Zone,
) -> list[R]:
    out: dict[tuple[str, int], R] = {}
    made: set[tuple[str, int]] = set()  # the groups whose row is a new one (not a given row)
    for row in rows:
        name = name_of(row)
        for key in _keys(name, row.start, group_by, teams, size, zone):
            total = out.get(key)
            if total is None:
                if key == (name, row.start):  # already its group's row (a store's sums):
                    out[key] = row  # given back as it is while no other row joins it
                    continue
                total = out[key] = make(*key)
                made.add(key)
            elif key not in made:
                first, total = total, make(*key)
                total.add(first)
                out[key] = total
                made.add(key)
            total.add(row)
    return [out[k] for k in sorted(out)]


def group_queue_rows(
    rows: Iterable[QueueInterval],
    group_by: QueueGrouping = "queue",
    *,
    teams: Mapping[str, Collection[str]] | None = None,
    size: int = 900,
    zone: Zone = "UTC",
) -> list[QueueInterval]:
    """Sum rows per group, sorted. A team is a named set of queues (a queue may be in several).
    ``interval``/``day`` groups start at local boundaries in ``zone`` (an IANA name or a
    tzinfo): days are 23-25 h long across daylight saving."""
    return _group(
        rows,
        lambda r: r.queue,
        lambda name, start: QueueInterval(queue=name, start=start),
        group_by,
        teams,
        size,
        zone,
    )


def group_agent_rows(
    rows: Iterable[AgentInterval],
    group_by: AgentGrouping = "agent",
    *,
    teams: Mapping[str, Collection[str]] | None = None,
    size: int = 900,
    zone: Zone = "UTC",
) -> list[AgentInterval]:
    """Sum rows per group, sorted (a team is a named set of agents)."""
    return _group(
        rows,
        lambda r: r.agent,
        lambda name, start: AgentInterval(agent=name, start=start),
        group_by,
        teams,
        size,
        zone,
    )


# --------------------------------------------------------------------------- reports

_S, _R, _I = Kind.SECONDS, Kind.RATIO, Kind.INT


def _col(key: str, title: str, kind: Kind, description: str = "") -> Column:
    return Column(key=key, title=title, kind=kind, description=description)


def _key_columns(group_by: str, name: str) -> list[Column]:
    if group_by in ("interval", "day"):
        return [_col("start", "Start", Kind.TIME)]
    if group_by == "team":
        return [_col("team", "Team", Kind.TEXT)]
    if group_by == "total":
        return []
    return [_col(name, name.capitalize(), Kind.TEXT)]


def _key_values(group_by: str, name_key: str, name: str, start: int) -> dict[str, Value]:
    if group_by in ("interval", "day"):
        return {"start": start}
    if group_by == "team":
        return {"team": name}
    if group_by == "total":
        return {}
    return {name_key: name}


_QUEUE_COLUMNS = (
    _col("offered", "Offered", _I, "calls that entered the queue (ENTERQUEUE)"),
    _col("answered", "Answered", _I, "CONNECT or CALLBACKCOMPLETED"),
    _col("abandoned", "Abandoned", _I, "the caller hung up while waiting"),
    _col("short_abandoned", "Short abandons", _I, "abandoned before short_abandon seconds"),
    _col("service_level", "Service level", _R, "answered within T ÷ the formula's denominator"),
    _col("asa", "ASA", _S, "queue wait of answered calls ÷ answered"),
    _col("aht", "AHT", _S, "(talk + hold + ACW) ÷ handled"),
    _col("avg_talk", "Talk", _S, "talk ÷ handled"),
    _col("avg_hold", "Hold", _S, "hold ÷ handled"),
    _col("avg_acw", "ACW", _S, "after-call work ÷ handled"),
    _col("abandon_rate", "Abandon rate", _R, "abandoned ÷ offered"),
    _col("short_abandon_rate", "Short abandon rate", _R, "short abandons ÷ offered"),
    _col("missed_rate", "Missed", _R, "rang an agent, never answered ÷ offered"),
    _col("unanswered_rate", "Unanswered", _R, "rang an agent who did not answer ÷ offered"),
    _col("transfer_rate", "Transfer rate", _R, "transferred ÷ answered"),
    _col("fcr", "FCR", _R, "1 - repeat contacts ÷ answered"),
    _col("csat", "CSAT", _R, "satisfied survey answers ÷ answers"),
    _col("timeouts", "Timeouts", _I, "EXITWITHTIMEOUT"),
    _col("exit_key", "Exit by key", _I, "EXITWITHKEY"),
    _col("exit_empty", "Exit empty", _I, "EXITEMPTY"),
    _col("callbacks_requested", "Callbacks requested", _I, "CALLBACKREQUESTED"),
    _col("callbacks_completed", "Callbacks completed", _I, "CALLBACKCOMPLETED"),
    _col("callbacks_failed", "Callback attempts failed", _I, "CALLBACKFAILED"),
    _col("callbacks_listed", "Callbacks given up", _I, "CALLBACKLISTED"),
    _col("max_wait", "Longest wait", _S, "the longest wait of a call that left the queue"),
    *(
        _col(f"answered_within_{e}", f"Answered ≤ {e} s", _I, f"answered after at most {e} s")
        for e in BANDS
    ),
)


def _queue_values(row: QueueInterval, settings: ReportSettings) -> dict[str, Value]:
    values: dict[str, Value] = {
        "offered": row.offered,
        "answered": row.answered,
        "abandoned": row.abandoned,
        "short_abandoned": row.short_abandoned,
        "service_level": service_level(row, settings),
        "asa": asa(row),
        "aht": aht(row),
        "avg_talk": avg_talk(row),
        "avg_hold": avg_hold(row),
        "avg_acw": avg_acw(row),
        "abandon_rate": abandon_rate(row),
        "short_abandon_rate": short_abandon_rate(row),
        "missed_rate": missed_rate(row),
        "unanswered_rate": unanswered_rate(row),
        "transfer_rate": transfer_rate(row),
        "fcr": fcr(row),
        "csat": csat(row),
        "timeouts": row.timeouts,
        "exit_key": row.exit_key,
        "exit_empty": row.exit_empty,
        "callbacks_requested": row.callbacks_requested,
        "callbacks_completed": row.callbacks_completed,
        "callbacks_failed": row.callbacks_failed,
        "callbacks_listed": row.callbacks_listed,
        "max_wait": row.max_wait,
    }
    values.update(zip(_BAND_NAMES, row.answered_within, strict=True))
    return values


_BAND_NAMES = tuple(f"answered_within_{edge}" for edge in BANDS)


def _ratios(a: Iterable[float], b: Iterable[float]) -> list[float | None]:
    """``_ratio`` of every pair."""
    return [x / y if y > 0 else None for x, y in zip(a, b, strict=True)]


def _queue_kpi_columns(cols: QueueColumns, settings: ReportSettings) -> list[Sequence[Value]]:
    """The values of ``_QUEUE_COLUMNS`` (``_queue_values``), a column at a time: the same
    arithmetic in the same order per row, so the same floats and Nones."""
    c = cols.column
    n = len(cols)
    offered, answered, abandoned, short = (
        c("offered"), c("answered"), c("abandoned"), c("short_abandoned")
    )  # fmt: skip
    talk, hold, acw, handled = c("talk"), c("hold"), c("acw"), c("handled")
    i = band_index(settings.sl_threshold)
    zeros: Sequence[int] = [0] * n
    within = c(f"answered_within_{BANDS[i]}") if i >= 0 else zeros
    formula = settings.sl_formula
    denominator: Iterable[int]
    if formula is SlFormula.ANSWERED:
        denominator = answered
    elif formula is SlFormula.OFFERED:
        denominator = map(add, answered, abandoned)
    elif formula is SlFormula.ABANDONED_AFTER:
        early = c(f"abandoned_within_{BANDS[i]}") if i >= 0 else zeros
        denominator = (a + b - e for a, b, e in zip(answered, abandoned, early, strict=True))
    else:
        denominator = (a + b - s for a, b, s in zip(answered, abandoned, short, strict=True))
    repeat = c("repeat_contacts")
    out: list[Sequence[Value]] = [
        offered,
        answered,
        abandoned,
        short,
        _ratios(within, denominator),
        _ratios(c("wait_answered"), answered),
        [
            (t + h + w) / d if d > 0 else None
            for t, h, w, d in zip(talk, hold, acw, handled, strict=True)
        ],
        _ratios(talk, handled),
        _ratios(hold, handled),
        _ratios(acw, handled),
        _ratios(abandoned, offered),
        _ratios(short, offered),
        _ratios(c("missed"), offered),
        _ratios(c("rang_unanswered"), offered),
        _ratios(c("transferred"), answered),
        [1.0 - r / a if a > 0 else None for r, a in zip(repeat, answered, strict=True)],
        _ratios(c("csat_satisfied"), c("csat_count")),
        *(c(key) for key in _QUEUE_PLAIN),
        *(c(key) for key in _BAND_NAMES),
    ]
    return out


#: The ``_QUEUE_COLUMNS`` between the KPIs and the bands, as stored.
_QUEUE_PLAIN = ("timeouts", "exit_key", "exit_empty", "callbacks_requested",
                "callbacks_completed", "callbacks_failed", "callbacks_listed",
                "max_wait")  # fmt: skip


def _queue_columns_table(
    cols: QueueColumns,
    settings: ReportSettings,
    *,
    name: str,
    title: str,
    params: dict[str, Value],
) -> Table:
    """The interval report of rows that are their intervals already (``cols.grouping``)."""
    keys = ("start", *(column.key for column in _QUEUE_COLUMNS))
    values: list[Sequence[Any]] = [cols.starts, *_queue_kpi_columns(cols, settings)]
    return Table(
        name=name,
        title=title,
        columns=(*_key_columns("interval", "queue"), *_QUEUE_COLUMNS),
        rows=tuple(dict(zip(keys, row, strict=True)) for row in zip(*values, strict=True)),
        params=params,
        targets=settings.flat_targets(),
    )


def _params(settings: ReportSettings, **extra: Value) -> dict[str, Value]:
    return {
        "sl_threshold": settings.sl_threshold,
        "sl_formula": settings.sl_formula.value,
        "short_abandon": settings.short_abandon,
        "fcr_window": settings.fcr_window,
        **extra,
    }


def queue_report(
    rows: Iterable[QueueInterval],
    settings: ReportSettings,
    *,
    group_by: QueueGrouping = "queue",
    teams: Mapping[str, Collection[str]] | None = None,
    size: int = 900,
    zone: Zone = "UTC",
    name: str = "queues",
    title: str = "Queue report",
) -> Table:
    """Offered, answered, abandoned, SL, ASA, AHT, ... and answered by wait band per group."""
    grouped = group_queue_rows(rows, group_by, teams=teams, size=size, zone=zone)
    out = [
        {**_key_values(group_by, "queue", r.queue, r.start), **_queue_values(r, settings)}
        for r in grouped
    ]
    return Table(
        name=name,
        title=title,
        columns=(*_key_columns(group_by, "queue"), *_QUEUE_COLUMNS),
        rows=tuple(out),
        params=_params(settings, group_by=group_by, size=size, zone=str(zone)),
        targets=settings.flat_targets(),
    )


def interval_report(
    rows: Iterable[QueueInterval] | QueueColumns,
    settings: ReportSettings,
    *,
    size: int = 900,
    zone: Zone = "UTC",
) -> Table:
    """The queue figures per 15/30/60-minute interval (the rows' queues summed).

    ``rows`` may be :class:`QueueColumns` (``tamas.store.reports.queue_columns``): when they
    are grouped per ``size``-second interval of ``zone`` already, the report is computed a
    column at a time (:func:`_queue_columns_table`), with no row object or KPI call per
    interval; the same table as from the rows."""
    if size not in (900, 1800, 3600):
        raise ValueError(f"interval size {size} s: 900, 1800 or 3600 expected")
    if isinstance(rows, QueueColumns):
        if rows.grouping == ("interval", size, str(zone)):
            return _queue_columns_table(
                rows,
                settings,
                name="intervals",
                title=f"Interval report ({size // 60} min)",
                params=_params(settings, group_by="interval", size=size, zone=str(zone)),
            )
        rows = rows.rows()
    return queue_report(
        rows,
        settings,
        group_by="interval",
        size=size,
        zone=zone,
        name="intervals",
        title=f"Interval report ({size // 60} min)",
    )


_AGENT_COLUMNS = (
    _col("answered", "Calls", _I, "calls answered (CONNECT, CALLBACKCOMPLETED)"),
    _col("handled", "Handled", _I, "conversations ended"),
    _col("talk", "Talk", _S, "time talking"),
    _col("hold", "Hold", _S, "time with the caller on hold"),
    _col("acw", "ACW", _S, "after-call work (wrap-up)"),
    _col("aht", "AHT", _S, "(talk + hold + ACW) ÷ handled"),
    _col("login", "Logged in", _S, "available + busy + paused"),
    _col("available", "Available", _S, "logged in, idle or ringing"),
    _col("paused", "Paused", _S, "all pause reasons"),
    _col("ring_missed", "Missed rings", _I, "RINGNOANSWER"),
    _col("transfers", "Transfers", _I, "blind or attended transfers by the agent"),
    _col("csat", "CSAT", _R, "satisfied survey answers ÷ answers"),
    _col("csat_score", "CSAT score", Kind.FLOAT, "mean score, 1..5"),
    _col("occupancy", "Occupancy", _R, "busy ÷ (busy + available)"),
    _col("utilization", "Utilization", _R, "busy ÷ logged in"),
)


def agent_report(
    rows: Iterable[AgentInterval],
    settings: ReportSettings,
    *,
    group_by: AgentGrouping = "agent",
    teams: Mapping[str, Collection[str]] | None = None,
    size: int = 900,
    zone: Zone = "UTC",
) -> Table:
    """Calls, talk, hold, ACW, pauses by reason (a ``pause:REASON`` column each), login
    time, missed rings, transfers, CSAT, occupancy and utilization per group."""
    grouped = group_agent_rows(rows, group_by, teams=teams, size=size, zone=zone)
    reasons = sorted({reason for r in grouped for reason in r.paused_by})
    out: list[dict[str, Value]] = []
    for r in grouped:
        values: dict[str, Value] = {
            **_key_values(group_by, "agent", r.agent, r.start),
            "answered": r.answered,
            "handled": r.handled,
            "talk": r.talk,
            "hold": r.hold,
            "acw": r.acw,
            "aht": aht(r),
            "login": r.login,
            "available": r.available,
            "paused": r.paused,
            "ring_missed": r.ring_missed,
            "transfers": r.transfers,
            "csat": csat(r),
            "csat_score": csat_score(r),
            "occupancy": occupancy(r),
            "utilization": utilization(r),
        }
        for reason in reasons:
            values[f"pause:{reason}"] = r.paused_by.get(reason, 0.0)
        out.append(values)
    pause_columns: Sequence[Column] = [
        _col(f"pause:{reason}", f"Paused: {reason}", _S, f"paused with reason {reason!r}")
        for reason in reasons
    ]
    return Table(
        name="agents",
        title="Agent report",
        columns=(*_key_columns(group_by, "agent"), *_AGENT_COLUMNS, *pause_columns),
        rows=tuple(out),
        params=_params(settings, group_by=group_by, size=size, zone=str(zone)),
        targets=settings.flat_targets(),
    )
