"""What a report is asked for: its range, filters and grouping, read from text.

The CLI (``tamas report``) and the HTTP API take the same parameters as text; this module
turns them into a :class:`ReportQuery` and says what is wrong with a value in words a user
can act on (:class:`QueryError`).

Times: ``2026-11-01`` (the start of that day), ``2026-11-01T08:30`` (ISO 8601, without an
offset in the report's time zone, or with one), ``1405/09/10`` or ``1405-09-10`` (a year
below 1700 is a Jalali date), ``today``, ``yesterday``, ``now``, or epoch seconds. A ``to``
that is a bare date means the END of that day, so ``--from 2026-11-01 --to 2026-11-30`` is
the whole of November.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tamas.core.jalali import from_jalali

__all__ = ["Group", "QueryError", "ReportQuery", "parse_query", "parse_time"]

_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_JALALI_BEFORE = 1700
INTERVALS = (900, 1800, 3600)
#: The channels reports can be filtered by (every call is voice today).
CHANNELS = ("voice",)


class QueryError(ValueError):
    """A report parameter that cannot be used; ``param`` names it."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param


class Group(enum.StrEnum):
    TOTAL = "total"  # one row for the whole range
    QUEUE = "queue"
    AGENT = "agent"
    TEAM = "team"
    INTERVAL = "interval"  # one row per interval (15/30/60 min)
    DAY = "day"  # one row per day (in the report's time zone)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportQuery:
    start: float
    end: float
    queues: tuple[str, ...] = ()  # empty: every queue
    agents: tuple[str, ...] = ()  # empty: every agent
    team: str | None = None
    group: Group | None = None  # None: the report's own default
    interval: int = 900
    timezone: str = "UTC"
    channel: str = "voice"


def _day(text: str) -> date | None:
    m = _DATE.match(text)
    if m is None:
        return None
    y, mo, d = (int(g) for g in m.groups())
    if y < _JALALI_BEFORE:
        return from_jalali(y, mo, d)
    return date(y, mo, d)


def parse_time(
    text: str, tz: ZoneInfo, now: float, *, end: bool = False, param: str = "from"
) -> float:
    """Epoch seconds for ``text`` (see the module's doc); ``end``: a bare day means its end."""
    value = text.strip().lower()
    try:
        if value == "now":
            return now
        today = datetime.fromtimestamp(now, tz).date()
        day = {"today": today, "yesterday": today - timedelta(days=1)}.get(value) or _day(value)
        if day is not None:
            if end:
                day += timedelta(days=1)
            return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
        if re.fullmatch(r"\d+(\.\d+)?", value):
            return float(value)
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise QueryError(param, f"{text!r} is not a time ({exc}); use 2026-11-01, "
                         "2026-11-01T08:30, 1405/09/10, today or yesterday") from None  # fmt: skip
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.timestamp()


def _list(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(part.strip() for part in text.split(",") if part.strip())


def parse_query(params: Mapping[str, str], *, timezone: str, now: float) -> ReportQuery:
    """A query from text parameters: from, to, queue, agent, team, channel, group, interval,
    tz.

    Without ``from``: the start of today; without ``to``: now.
    """
    tz_name = params.get("tz") or timezone
    try:
        tz = ZoneInfo(tz_name)
    except (KeyError, ValueError):
        raise QueryError("tz", f"unknown time zone {tz_name!r}; use an IANA name such as "
                         "Asia/Tehran") from None  # fmt: skip
    start = parse_time(params.get("from") or "today", tz, now, param="from")
    end = parse_time(params.get("to") or "now", tz, now, end=True, param="to")
    if end <= start:
        raise QueryError("to", "the end of the range must come after its start")
    group: Group | None = None
    if params.get("group"):
        try:
            group = Group(params["group"])
        except ValueError:
            names = ", ".join(g.value for g in Group)
            raise QueryError("group", f"{params['group']!r} is not one of {names}") from None
    interval = 900
    if params.get("interval"):
        text = params["interval"].removesuffix("m").removesuffix("min")
        minutes = int(text) if text.isdigit() else -1
        if minutes * 60 not in INTERVALS:
            raise QueryError("interval", "use 15, 30 or 60 (minutes)")
        interval = minutes * 60
    channel = params.get("channel") or "voice"
    if channel not in CHANNELS:
        raise QueryError("channel", f"{channel!r}: the channels are {', '.join(CHANNELS)} "
                         "(chat and e-mail come with omnichannel)")  # fmt: skip
    return ReportQuery(channel=channel, start=start, end=end, queues=_list(params.get("queue")),
                       agents=_list(params.get("agent")), team=params.get("team") or None,
                       group=group, interval=interval, timezone=tz_name)  # fmt: skip
