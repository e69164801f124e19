"""Arrivals per interval from the event log: the history a forecast is made from.

A call arrives in a queue when its ``ENTERQUEUE`` record is written (a transfer into another
queue writes a new one there, and it is an arrival there too). :func:`count_arrivals` counts
them per queue in intervals of ``interval`` seconds aligned on the epoch (``floor(at /
interval) * interval``); 15-minute intervals aligned on the epoch are also aligned on the
local clock of every time zone in use today (all offsets are multiples of 15 minutes).

Between the first and the last interval observed (or the ``start`` and ``end`` given) an
interval with no arrival is a real zero. Outside that range nothing is known: a forecast
treats such intervals as missing, not as zero (see :mod:`tamas.wfm.forecast`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tamas.core.events import LogRecord

__all__ = ["ARRIVAL", "INTERVAL", "History", "count_arrivals", "from_slot_counts", "zone_of"]

#: The record that marks an arrival in a queue.
ARRIVAL = "ENTERQUEUE"
#: The forecast's interval: 15 minutes.
INTERVAL = 900


@dataclass(frozen=True, slots=True, kw_only=True)
class History:
    """Arrivals of one queue: ``counts[i]`` calls in ``[start + i*interval, +interval)``.

    ``None`` marks an interval whose count is unknown (a gap in the data), which is not the
    same as 0 (nobody called).
    """

    queue: str
    #: Start of the first interval, epoch seconds (a multiple of ``interval``).
    start: float
    counts: tuple[float | None, ...]
    #: IANA time-zone name of the center, e.g. ``Asia/Tehran`` (the weekly pattern is local).
    zone: str
    interval: int = INTERVAL

    def __post_init__(self) -> None:
        if self.interval <= 0 or 86400 % self.interval:
            raise ValueError(f"interval must divide a day, not {self.interval}")
        if self.start % self.interval:
            raise ValueError(f"start {self.start} is not a multiple of {self.interval} s")
        if any(c is not None and not (c >= 0 and math.isfinite(c)) for c in self.counts):
            raise ValueError("counts must be numbers >= 0 or None")
        zone_of(self.zone)

    @property
    def end(self) -> float:
        """End of the last interval (exclusive), epoch seconds."""
        return self.start + len(self.counts) * self.interval

    def items(self) -> Iterable[tuple[float, float | None]]:
        """``(interval start, count)`` for every interval, in time order."""
        for i, count in enumerate(self.counts):
            yield self.start + i * self.interval, count


def zone_of(name: str) -> ZoneInfo:
    """The time zone of an IANA name; ValueError naming it when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (give an IANA name like Asia/Tehran)"
        ) from None


def count_arrivals(
    records: Iterable[LogRecord],
    *,
    zone: str,
    interval: int = INTERVAL,
    queue: str | None = None,
    start: float | None = None,
    end: float | None = None,
) -> dict[str, History]:
    """Arrivals per queue and interval (only ``queue`` when given), sorted by queue name.

    Records outside ``[start, end)`` are left out. A queue's counted range runs from
    ``start`` (default: the queue's first arrival's interval: before it nothing is known, the
    queue may not have existed) to ``end`` (default: the end of the last arrival's interval
    of any queue).
    """
    per_queue: dict[str, dict[int, int]] = {}
    for record in records:
        if record.event != ARRIVAL or (queue is not None and record.queue != queue):
            continue
        if (start is not None and record.at < start) or (end is not None and record.at >= end):
            continue
        slot = math.floor(record.at / interval)
        counts = per_queue.setdefault(record.queue, {})
        counts[slot] = counts.get(slot, 0) + 1
    return from_slot_counts(per_queue, zone=zone, interval=interval, start=start, end=end)


def from_slot_counts(
    per_queue: Mapping[str, Mapping[int, int]],
    *,
    zone: str,
    interval: int = INTERVAL,
    start: float | None = None,
    end: float | None = None,
) -> dict[str, History]:
    """Histories from arrivals counted per queue and slot (``slot = floor(at / interval)``),
    e.g. by a database query; the ranges as for :func:`count_arrivals`."""
    zone_of(zone)
    if interval <= 0 or 86400 % interval:
        raise ValueError(f"interval must divide a day, not {interval}")
    used = {name: [s for s, n in counts.items() if n] for name, counts in per_queue.items()}
    every = [s for slots in used.values() for s in slots]
    if not every:
        return {}
    high = math.ceil(end / interval) if end is not None else max(every) + 1
    out: dict[str, History] = {}
    for name in sorted(per_queue):
        if not used[name]:
            continue
        counts = per_queue[name]
        low = math.floor(start / interval) if start is not None else min(used[name])
        if high <= low:
            continue
        out[name] = History(
            queue=name,
            start=float(low * interval),
            counts=tuple(float(counts.get(s, 0)) for s in range(low, high)),
            zone=zone,
            interval=interval,
        )
    return out
