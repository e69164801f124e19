"""Additive per-interval counters: one row per queue and per agent for every 15 minutes.

Theory of operation
-------------------
Reports never re-read the raw event log: ``tamas.reporting.aggregator.Aggregator`` folds the
records into *deltas* for 15-minute rows (``INTERVAL`` = 900 s, aligned to multiples of 900
epoch seconds, UTC), and the store adds each delta to its row ("x = x + dx"). Every counter is
a sum or a count, so any longer period (30/60 min, day, week, month, a team, the whole
center) is the sum of its rows, and a row can be corrected later by adding to it (a call's
talk time lands in the row of the interval where it *entered the queue*, when the call
ends). The one exception is ``max_wait``, merged with ``max``.

Waits are also counted by band: ``answered_within[i]`` counts answered calls whose wait was
at most ``BANDS[i]`` seconds (``abandoned_within`` likewise), so any service-level threshold
that is a band edge is exact after summing.

Agent time (login, available, talk, hold, after-call work, pause by reason) is cut at interval
boundaries: an 8-hour login gives 32 rows.

*Local days.* A day is a day of the center's time zone (an IANA name, through ``zoneinfo``):
:func:`local_day` gives the epoch of the local midnight that starts the day holding a moment,
so days are 23, 24 or 25 hours long across daylight-saving changes. Where midnight itself is
skipped (clocks jump from 00:00 to 01:00) the day starts at the jump; where it is repeated the day
starts at the first moment whose local date it is: every moment belongs to the day of its
local date. A 15-minute row belongs to the day of its start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "AGENT_COLUMNS",
    "AGENT_COUNTERS",
    "BANDS",
    "INTERVAL",
    "QUEUE_COLUMNS",
    "QUEUE_COUNTERS",
    "AgentInterval",
    "Deltas",
    "QueueColumns",
    "QueueInterval",
    "Zone",
    "as_tz",
    "band_index",
    "bucket",
    "day_starts",
    "interval_start",
    "local_day",
    "local_offset",
    "next_day",
    "sum_agent_rows",
    "sum_queue_rows",
]

INTERVAL = 900
#: Wait bands (seconds): answered/abandoned within each edge are counted.
BANDS: tuple[int, ...] = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600)


def bucket(at: float, size: int = INTERVAL) -> int:
    """The start of the ``size``-second interval holding ``at`` (epoch seconds, UTC)."""
    return int(at // size) * size


#: A time zone: an IANA name ("Asia/Tehran") or a ``tzinfo``.
Zone = str | tzinfo


def as_tz(zone: Zone) -> tzinfo:
    """The ``tzinfo`` of ``zone`` (KeyError/ValueError for an unknown name)."""
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def _midnight(day: date, tz: tzinfo) -> int:
    """The first moment whose local date is ``day``."""
    naive = datetime(day.year, day.month, day.day)
    # Two readings of 00:00 differ where it is skipped or repeated: take the first that is
    # really on ``day`` (a skipped midnight: the jump; a repeated one: the first).
    moments = sorted(naive.replace(tzinfo=tz, fold=f).timestamp() for f in (0, 1))
    for moment in moments:
        if datetime.fromtimestamp(moment, tz).date() == day:
            return int(moment // 1)
    return int(moments[-1] // 1)  # pragma: no cover (no zone has a whole day missing at 00:00)


def local_day(at: float, zone: Zone = "UTC") -> int:
    """The epoch of the local midnight that starts the day holding ``at`` (see the module doc)."""
    tz = as_tz(zone)
    return _midnight(datetime.fromtimestamp(at, tz).date(), tz)


def next_day(day: int, zone: Zone = "UTC") -> int:
    """The start of the local day after the one starting at ``day`` (a :func:`local_day`)."""
    tz = as_tz(zone)
    return _midnight(datetime.fromtimestamp(day, tz).date() + timedelta(days=1), tz)


def day_starts(start: float, end: float, zone: Zone = "UTC") -> list[int]:
    """The starts of the local days holding ``start`` .. ``end``, and of the day after."""
    tz = as_tz(zone)
    days = [local_day(start, tz)]
    while days[-1] <= end:
        days.append(next_day(days[-1], tz))
    return days


def local_offset(at: float, zone: Zone = "UTC") -> int:
    """Seconds east of UTC in ``zone`` at ``at``."""
    if zone == "UTC" or zone is UTC:
        return 0
    offset = datetime.fromtimestamp(at, as_tz(zone)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def interval_start(at: int, size: int, zone: Zone = "UTC") -> int:
    """The start of the local ``size``-second interval holding the row starting at ``at``
    (intervals start at local multiples of ``size``: a 60-minute interval in Tehran, +03:30,
    starts at :30 UTC)."""
    return at - (at + local_offset(at, zone)) % size


def band_index(threshold: float) -> int:
    """Index of the largest band edge <= ``threshold`` (-1: below the first edge)."""
    index = -1
    for i, edge in enumerate(BANDS):
        if edge <= threshold:
            index = i
    return index


@dataclass(slots=True, kw_only=True)
class QueueInterval:
    """Counters of one queue (or a sum of queues) for one interval (or a sum of them).

    Calls count in the interval where they entered the queue. Seconds are floats.
    """

    queue: str
    start: int
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    timeouts: int = 0
    exit_key: int = 0
    exit_empty: int = 0
    rejected: int = 0  # FULL / JOINEMPTY: refused before entering (not offered)
    disconnected: int = 0  # the call ended while waiting without ABANDON (a failure)
    callbacks_requested: int = 0
    callbacks_completed: int = 0
    callbacks_failed: int = 0  # failed attempts
    callbacks_listed: int = 0  # given up after the last attempt
    wait_answered: float = 0.0
    wait_abandoned: float = 0.0
    ring: float = 0.0  # CONNECT ringtime of answered calls
    talk: float = 0.0
    hold: float = 0.0
    acw: float = 0.0
    handled: int = 0  # conversations ended
    rang_unanswered: int = 0  # some agent was rung and did not answer (RINGNOANSWER)
    missed: int = 0  # rang an agent (no answer), then left unanswered
    transferred: int = 0  # the agent transferred the call (blind or attended)
    csat_sum: float = 0.0  # scores on a 1..5 scale
    csat_count: int = 0
    csat_satisfied: int = 0
    repeat_contacts: int = 0  # answered calls whose caller called again within fcr_window
    max_wait: float = 0.0
    answered_within: list[int] = field(default_factory=lambda: [0] * len(BANDS))
    abandoned_within: list[int] = field(default_factory=lambda: [0] * len(BANDS))

    def add(self, other: QueueInterval) -> None:
        """Add ``other``'s counters to this row (``max_wait``: the larger)."""
        for name in QUEUE_COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.max_wait = max(self.max_wait, other.max_wait)
        for i in range(len(BANDS)):
            self.answered_within[i] += other.answered_within[i]
            self.abandoned_within[i] += other.abandoned_within[i]

    def columns(self) -> dict[str, float]:
        """The flat counters as stored (bands as ``answered_within_20`` ...)."""
        out: dict[str, float] = {n: getattr(self, n) for n in QUEUE_COUNTERS}
        out["max_wait"] = self.max_wait
        for i, edge in enumerate(BANDS):
            out[f"answered_within_{edge}"] = self.answered_within[i]
            out[f"abandoned_within_{edge}"] = self.abandoned_within[i]
        return out

    @classmethod
    def from_values(cls, queue: str, start: int, values: Sequence[float]) -> QueueInterval:
        """A row from the numbers of ``QUEUE_COLUMNS`` in their order (a store's sums)."""
        # integer counters come as ints from the store: round() only what is not one
        scalars: dict[str, Any] = {
            name: round(v) if is_int and v.__class__ is not int else v
            for (name, is_int), v in zip(_QUEUE_SCALARS, values, strict=False)
        }
        n, bands = len(_QUEUE_SCALARS), len(BANDS)
        return cls(
            queue=queue,
            start=start,
            answered_within=[v if v.__class__ is int else round(v) for v in values[n : n + bands]],
            abandoned_within=[
                v if v.__class__ is int else round(v) for v in values[n + bands : n + 2 * bands]
            ],
            **scalars,
        )

    @classmethod
    def from_columns(cls, queue: str, start: int, values: Mapping[Any, Any]) -> QueueInterval:
        row = cls(queue=queue, start=start)
        for name in (*QUEUE_COUNTERS, "max_wait"):
            setattr(row, name, _number(values.get(name), _INT_QUEUE_COUNTERS, name))
        row.answered_within = [int(_num(values.get(f"answered_within_{e}"))) for e in BANDS]
        row.abandoned_within = [int(_num(values.get(f"abandoned_within_{e}"))) for e in BANDS]
        return row


@dataclass(slots=True, kw_only=True)
class AgentInterval:
    """Counters of one agent (or a sum of agents) for one interval (or a sum of them).

    Time is cut at interval boundaries; counts are in the interval of the event.
    ``login`` = available + talk + hold + acw + the pauses (time on a call without a login,
    as in an imported Asterisk log of static members, counts as login time too).
    """

    agent: str
    start: int
    answered: int = 0
    handled: int = 0  # conversations ended
    ring_missed: int = 0
    transfers: int = 0
    talk: float = 0.0
    hold: float = 0.0
    acw: float = 0.0
    login: float = 0.0
    available: float = 0.0
    paused: float = 0.0
    csat_sum: float = 0.0
    csat_count: int = 0
    csat_satisfied: int = 0
    paused_by: dict[str, float] = field(default_factory=dict)

    @property
    def busy(self) -> float:
        return self.talk + self.hold + self.acw

    def add(self, other: AgentInterval) -> None:
        for name in AGENT_COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reason, seconds in other.paused_by.items():
            self.paused_by[reason] = self.paused_by.get(reason, 0.0) + seconds

    def columns(self) -> dict[str, float]:
        return {n: getattr(self, n) for n in AGENT_COUNTERS}

    @classmethod
    def from_columns(
        cls,
        agent: str,
        start: int,
        values: Mapping[Any, Any],
        paused_by: Mapping[str, float] | None = None,
    ) -> AgentInterval:
        row = cls(agent=agent, start=start, paused_by=dict(paused_by or {}))
        for name in AGENT_COUNTERS:
            setattr(row, name, _number(values.get(name), _INT_AGENT_COUNTERS, name))
        return row


_QUEUE_SKIP = {"queue", "start", "max_wait", "answered_within", "abandoned_within"}
#: The additive scalar counters of a queue row, in declaration order.
QUEUE_COUNTERS: tuple[str, ...] = tuple(
    f.name for f in fields(QueueInterval) if f.name not in _QUEUE_SKIP
)
_INT_QUEUE_COUNTERS = frozenset(f.name for f in fields(QueueInterval) if f.type == "int")
#: The additive scalar counters of an agent row (``paused_by`` is kept apart).
AGENT_COUNTERS: tuple[str, ...] = tuple(
    f.name for f in fields(AgentInterval) if f.name not in {"agent", "start", "paused_by"}
)
_INT_AGENT_COUNTERS = frozenset(f.name for f in fields(AgentInterval) if f.type == "int")
#: Every stored column of a queue row as (name, is an integer), in order.
QUEUE_COLUMNS: tuple[tuple[str, bool], ...] = (
    *((n, n in _INT_QUEUE_COUNTERS) for n in QUEUE_COUNTERS),
    ("max_wait", False),
    *((f"answered_within_{e}", True) for e in BANDS),
    *((f"abandoned_within_{e}", True) for e in BANDS),
)
#: The scalar columns that start ``QUEUE_COLUMNS`` (the bands follow).
_QUEUE_SCALARS: tuple[tuple[str, bool], ...] = QUEUE_COLUMNS[: len(QUEUE_COUNTERS) + 1]
#: Every stored column of an agent row as (name, is an integer), in order.
AGENT_COLUMNS: tuple[tuple[str, bool], ...] = tuple(
    (n, n in _INT_AGENT_COUNTERS) for n in AGENT_COUNTERS
)


_QUEUE_INDEX = {name: i for i, (name, _) in enumerate(QUEUE_COLUMNS)}


@dataclass(frozen=True, slots=True)
class QueueColumns:
    """Queue rows as columns, for a report that needs no row objects (35,040 rows of a
    year's 15-minute intervals cost more to build as :class:`QueueInterval` than to read).

    Row ``i`` is queue ``queues[i]`` (``""``: summed over queues) at ``starts[i]``;
    ``values[c][i]`` is its number of ``QUEUE_COLUMNS[c]`` (integer counters as ints, as
    :meth:`QueueInterval.from_values` makes them). ``grouping`` is ``("interval", size,
    zone)`` when every row is already the whole of its ``size``-second interval in ``zone``
    (an IANA name), so that grouping the rows per interval of that zone sums nothing more
    (:func:`tamas.reporting.kpi.interval_report` then reads the columns as they are); None
    otherwise.
    """

    queues: Sequence[str]
    starts: Sequence[int]
    values: Sequence[Sequence[float]]
    grouping: tuple[str, int, str] | None = None

    @classmethod
    def from_rows(
        cls,
        queues: Sequence[str],
        starts: Sequence[int],
        rows: Iterable[Sequence[Any]],
        grouping: tuple[str, int, str] | None = None,
    ) -> QueueColumns:
        """The columns of ``rows``, each the numbers of ``QUEUE_COLUMNS`` in their order (a
        store's sums), made as :meth:`of` makes them."""
        values: list[Sequence[Any]] = list(zip(*rows, strict=True))
        return cls.of(queues, starts, values or [() for _ in QUEUE_COLUMNS], grouping)

    @classmethod
    def of(
        cls,
        queues: Sequence[str],
        starts: Sequence[int],
        values: Sequence[Sequence[Any]],
        grouping: tuple[str, int, str] | None = None,
    ) -> QueueColumns:
        """Columns with the integer counters (and the starts) as ints: rounded as
        :meth:`QueueInterval.from_values` rounds them, where one is not an int already."""
        if len(values) != len(QUEUE_COLUMNS) or any(len(v) != len(starts) for v in values):
            raise ValueError("a column of every QUEUE_COLUMNS number expected, one per start")
        if len(queues) != len(starts):
            raise ValueError("a queue per start expected")
        out = list(values)
        for c, (_, is_int) in enumerate(QUEUE_COLUMNS):
            column = out[c]
            # the store's integer sums are ints already: a pass per column, none per row
            if is_int and not {int}.issuperset(map(type, column)):
                out[c] = [v if v.__class__ is int else round(v) for v in column]
        if not {int}.issuperset(map(type, starts)):
            starts = [int(s) for s in starts]
        return cls(queues, starts, out, grouping)

    def __len__(self) -> int:
        return len(self.starts)

    def column(self, name: str) -> Sequence[Any]:
        """The values of the ``QUEUE_COLUMNS`` column ``name``, one per row."""
        return self.values[_QUEUE_INDEX[name]]

    def rows(self) -> list[QueueInterval]:
        """The rows as :class:`QueueInterval` objects (what :func:`from_values` makes)."""
        return [
            QueueInterval.from_values(queue, start, values)
            for queue, start, values in zip(
                self.queues, self.starts, zip(*self.values, strict=True), strict=True
            )
        ]


def _num(value: object) -> float:
    if isinstance(value, int | float):
        return value
    return 0.0 if value is None else float(str(value))


def _number(value: object, ints: frozenset[str], name: str) -> int | float:
    number = _num(value)
    return round(number) if name in ints else float(number)


@dataclass(slots=True)
class Deltas:
    """What a batch of records changes: rows to add to, by (queue|agent, start)."""

    queues: dict[tuple[str, int], QueueInterval] = field(default_factory=dict)
    agents: dict[tuple[str, int], AgentInterval] = field(default_factory=dict)
    #: Records that could not be used (a CONNECT of a call never seen entering, ...).
    unusable: int = 0

    def queue(self, queue: str, start: int) -> QueueInterval:
        row = self.queues.get((queue, start))
        if row is None:
            row = self.queues[(queue, start)] = QueueInterval(queue=queue, start=start)
        return row

    def agent(self, agent: str, start: int) -> AgentInterval:
        row = self.agents.get((agent, start))
        if row is None:
            row = self.agents[(agent, start)] = AgentInterval(agent=agent, start=start)
        return row

    def merge(self, other: Deltas) -> None:
        for (q, s), qrow in other.queues.items():
            self.queue(q, s).add(qrow)
        for (a, s), arow in other.agents.items():
            self.agent(a, s).add(arow)
        self.unusable += other.unusable

    def __bool__(self) -> bool:
        return bool(self.queues or self.agents)


def sum_queue_rows(rows: Iterable[QueueInterval], *, queue: str, start: int) -> QueueInterval:
    """One row holding the sum of ``rows``, labelled ``queue`` and ``start``."""
    total = QueueInterval(queue=queue, start=start)
    for row in rows:
        total.add(row)
    return total


def sum_agent_rows(rows: Iterable[AgentInterval], *, agent: str, start: int) -> AgentInterval:
    total = AgentInterval(agent=agent, start=start)
    for row in rows:
        total.add(row)
    return total
