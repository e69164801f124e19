"""Next week's average handle time per interval, and the callers' patience, from history.

Theory of operation
-------------------
A plan staffed with a fixed AHT is wrong in both directions when the night shift's calls take
twice the morning's. So the plan's AHT is *measured* in the same history the volume forecast
reads: the queue's 15-minute aggregates hold, per interval where the calls entered the queue,
the handled (ended) conversations and their talk + hold + after-call-work seconds
(:class:`HandleTimes`).

The AHT of a forecast interval is taken from the first of these pools that holds at least
``min_handled`` handled calls (default :data:`MIN_HANDLED`, 10) in the ``weeks`` training
weeks of the volume forecast (the local weeks before its first day):

1. ``interval``: the same local slot of the week (weekday and time of day), e.g. every
   Monday 09:15 of the training weeks;
2. ``time_of_day``: the same local time of day on every weekday (09:15 of all days): it keeps
   the difference between the morning and the night;
3. ``weekday``: the whole local weekday (every Monday);
4. ``history``: the whole training window;
5. ``default``: :data:`DEFAULT_AHT` (180 s) when the window has fewer than ``min_handled``
   handled calls in all.

Within a pool the AHT is sum(talk + hold + ACW) / sum(handled): the mean of the weeks' AHTs
weighted by their handled calls, so a week with 3 calls does not weigh like one with 300.
Slots are local as in :mod:`tamas.wfm.forecast` (09:00 stays 09:00 across daylight saving).

*Patience* (the mean time a caller waits before hanging up, Erlang A's parameter) is measured
over the whole window with the estimator of an exponential patience under censoring (see
Mandelbaum & Zeltyn, "Staffing many-server queues with impatient customers"): every answered
call's wait is a patience that was not used up, every abandoned call's wait a patience that
was, so the abandonment rate is abandoned / (waits of answered + abandoned calls) and the mean
patience its inverse: (wait_answered + wait_abandoned) / abandoned. It needs at least
:data:`MIN_ABANDONED` abandoned calls (fewer give no usable estimate). Calls that left the
queue another way (timeout, key, empty queue) are not in these sums.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from tamas.wfm.forecast import Forecast, day_of, local_slot, midnight
from tamas.wfm.history import INTERVAL, zone_of

__all__ = [
    "DEFAULT_AHT",
    "MIN_ABANDONED",
    "MIN_HANDLED",
    "SOURCES",
    "AhtForecast",
    "HandleSample",
    "HandleTimes",
    "Patience",
    "forecast_aht",
    "measure_patience",
]

#: The AHT used when the history has too few handled calls to measure one (seconds).
DEFAULT_AHT = 180.0
#: Handled calls a pool needs for its AHT to be used.
MIN_HANDLED = 10
#: Abandoned calls the window needs for a patience estimate.
MIN_ABANDONED = 10
#: Where an interval's AHT came from, most specific first.
SOURCES = ("interval", "time_of_day", "weekday", "history", "default")


@dataclass(frozen=True, slots=True, kw_only=True)
class HandleSample:
    """One stored 15-minute row of a queue: what the calls that entered in it took."""

    #: Start of the interval, epoch seconds.
    start: float
    #: Conversations ended (handled calls).
    handled: int
    #: Their talk + hold + after-call work, seconds.
    seconds: float
    #: Calls that hung up waiting, and the waits of abandoned and answered calls (seconds).
    abandoned: int = 0
    wait_abandoned: float = 0.0
    wait_answered: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class HandleTimes:
    """The handle-time history of one queue."""

    queue: str
    zone: str
    samples: tuple[HandleSample, ...]
    interval: int = INTERVAL


@dataclass(frozen=True, slots=True, kw_only=True)
class AhtForecast:
    """The AHT of every interval of a forecast, with where each came from."""

    queue: str
    #: ``(interval start, AHT seconds, source)`` in the forecast's order; source in SOURCES.
    intervals: tuple[tuple[float, float, str], ...]
    min_handled: int
    #: Handled calls in the training window, and their AHT (None: none handled).
    handled: int
    overall: float | None

    def sources(self) -> dict[str, int]:
        """How many intervals took their AHT from each source (every source listed)."""
        out = dict.fromkeys(SOURCES, 0)
        for _t, _aht, source in self.intervals:
            out[source] += 1
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Patience:
    """Mean patience measured over a window (``seconds`` None: too few abandons)."""

    seconds: float | None
    abandoned: int
    #: Waits of answered and abandoned calls, seconds (the time at risk of abandoning).
    waited: float


def _window(times: HandleTimes, fc: Forecast) -> Iterable[HandleSample]:
    tz = zone_of(fc.zone)
    first = day_of(fc.start, tz)
    low = midnight(first - timedelta(days=7 * fc.weeks), tz)
    high = midnight(first, tz)
    return (s for s in times.samples if low <= s.start < high)


def forecast_aht(
    times: HandleTimes,
    fc: Forecast,
    *,
    min_handled: int = MIN_HANDLED,
    default: float = DEFAULT_AHT,
) -> AhtForecast:
    """The AHT of each interval of ``fc`` from the handle times of its training weeks."""
    if min_handled < 1:
        raise ValueError(f"min_handled must be at least 1, not {min_handled}")
    tz = zone_of(fc.zone)
    pools: dict[tuple[str, object], list[float]] = {}  # key -> [handled, seconds]

    def add(key: tuple[str, object], sample: HandleSample) -> None:
        pool = pools.setdefault(key, [0.0, 0.0])
        pool[0] += sample.handled
        pool[1] += sample.seconds

    for sample in _window(times, fc):
        if sample.handled <= 0:
            continue
        _day, (weekday, tod) = local_slot(sample.start, tz, fc.interval)
        add(("interval", (weekday, tod)), sample)
        add(("time_of_day", tod), sample)
        add(("weekday", weekday), sample)
        add(("history", None), sample)

    def aht(key: tuple[str, object]) -> float | None:
        pool = pools.get(key)
        if pool is None or pool[0] < min_handled:
            return None
        return pool[1] / pool[0]

    out: list[tuple[float, float, str]] = []
    for t, _calls in fc.intervals:
        _day, (weekday, tod) = local_slot(t, tz, fc.interval)
        keys: tuple[tuple[str, object], ...] = (
            ("interval", (weekday, tod)), ("time_of_day", tod), ("weekday", weekday),
            ("history", None),
        )  # fmt: skip
        for key in keys:
            value = aht(key)
            if value is not None and value > 0:
                out.append((t, value, key[0]))
                break
        else:
            out.append((t, default, "default"))
    whole = pools.get(("history", None))
    handled = 0 if whole is None else round(whole[0])
    overall = None if whole is None or whole[1] <= 0 else whole[1] / whole[0]
    return AhtForecast(queue=fc.queue, intervals=tuple(out), min_handled=min_handled,
                       handled=handled, overall=overall)  # fmt: skip


def measure_patience(
    times: HandleTimes, fc: Forecast, *, min_abandoned: int = MIN_ABANDONED
) -> Patience:
    """The callers' mean patience over the training weeks of ``fc`` (see the module doc)."""
    abandoned = 0
    waited = 0.0
    for s in _window(times, fc):
        abandoned += s.abandoned
        waited += s.wait_abandoned + s.wait_answered
    ok = abandoned >= max(1, min_abandoned) and waited > 0 and math.isfinite(waited)
    return Patience(seconds=waited / abandoned if ok else None, abandoned=abandoned,
                    waited=waited)  # fmt: skip
