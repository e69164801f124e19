"""Reports group by local days and intervals, daylight saving included."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tamas.reporting import kpi
from tamas.reporting.intervals import QueueInterval
from tamas.reporting.settings import ReportSettings

BERLIN = ZoneInfo("Europe/Berlin")


def at(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=BERLIN).timestamp())  # type: ignore[misc]


def test_days_across_the_spring_change_are_local_days() -> None:
    # 2026-03-29: clocks go from 02:00 to 03:00 in Berlin, the day has 23 hours.
    rows = [
        QueueInterval(queue="q", start=at(2026, 3, 28, 23, 45), offered=1),  # the 28th
        QueueInterval(queue="q", start=at(2026, 3, 29, 0, 0), offered=2),  # the 29th
        QueueInterval(queue="q", start=at(2026, 3, 29, 23, 45), offered=4),  # still the 29th
        QueueInterval(queue="q", start=at(2026, 3, 30, 0, 0), offered=8),  # the 30th
    ]
    table = kpi.queue_report(rows, ReportSettings(), group_by="day", zone="Europe/Berlin")
    assert [(r["start"], r["offered"]) for r in table.rows] == [
        (at(2026, 3, 28), 1),
        (at(2026, 3, 29), 2 + 4),
        (at(2026, 3, 30), 8),
    ]
    # a fixed offset (UTC+1, Berlin's winter time) would put 23:45 CEST on the 30th
    assert table.params["zone"] == "Europe/Berlin"


def test_hours_start_at_local_hours_in_a_half_hour_zone() -> None:
    tehran = ZoneInfo("Asia/Tehran")  # UTC+3:30
    t = int(datetime(2026, 11, 30, 9, 15, tzinfo=tehran).timestamp())
    rows = [QueueInterval(queue="q", start=t, offered=1),
            QueueInterval(queue="q", start=t + 2700, offered=2)]  # 10:00 local  # fmt: skip
    table = kpi.interval_report(rows, ReportSettings(), size=3600, zone="Asia/Tehran")
    hours = [datetime.fromtimestamp(int(r["start"]), tehran).hour for r in table.rows]  # type: ignore[arg-type]
    assert hours == [9, 10] and [r["offered"] for r in table.rows] == [1, 2]
