"""Schedule adherence from hand-built logs; every figure is worked out in the comments.

The center is in Asia/Tehran (UTC+03:30 all year, no daylight saving). Saturday 2026-11-28
begins at local midnight SAT = 1795811400 (UTC 2026-11-27 20:30).
"""

from __future__ import annotations

import pytest

from tamas.core.events import NONE, LogRecord
from tamas.reporting.adherence import (
    AgentDay,
    Break,
    DayShift,
    adherence_days,
    adherence_table,
    overall_adherence,
)
from tamas.reporting.sessions_report import find_sessions

SAT = 1795811400.0
H, M = 3600.0, 60.0
ZONE = "Asia/Tehran"
#: 08:00-16:00 with lunch 13:00-13:30, on Saturday (weekday 5) and Sunday (6)
DAY = DayShift(start=8 * H, end=16 * H, breaks=(Break(start=13 * H, end=13.5 * H, reason="lunch"),))
WEEK = {"a1": {5: [DAY]}, "a2": {5: [DAY]}}


def rec(at: float, agent: str, event: str, *data: str) -> LogRecord:
    return LogRecord(at=at, call_id=NONE, queue="sales", agent=agent, event=event, data=data)


def clock(day: float, hours: float, minutes: float = 0) -> float:
    return day + hours * H + minutes * M


LOG = sorted(
    [
        # a1: in at 08:10 (10 min late), lunch 13:00-13:40 (10 min over), a coffee pause
        # 15:00-15:05 nobody planned, out at 16:20 (20 min past the shift)
        rec(clock(SAT, 8, 10), "a1", "AGENTLOGIN", "dev1"),
        rec(clock(SAT, 13), "a1", "PAUSE", "lunch"),
        rec(clock(SAT, 13, 40), "a1", "UNPAUSE"),
        rec(clock(SAT, 15), "a1", "PAUSE", "coffee"),
        rec(clock(SAT, 15, 5), "a1", "UNPAUSE"),
        rec(clock(SAT, 16, 20), "a1", "AGENTLOGOFF", "dev1"),
        # a2: in at 08:00, logs off 12:00-12:30 (work time), works through the lunch break
        rec(clock(SAT, 8), "a2", "AGENTLOGIN", "dev2"),
        rec(clock(SAT, 12), "a2", "AGENTLOGOFF", "dev2"),
        rec(clock(SAT, 12, 30), "a2", "AGENTLOGIN", "dev2"),
        rec(clock(SAT, 16), "a2", "AGENTLOGOFF", "dev2"),
        # a1 on Sunday (no shift): 10:00-11:00
        rec(clock(SAT + 86400, 10), "a1", "AGENTLOGIN", "dev1"),
        rec(clock(SAT + 86400, 11), "a1", "AGENTLOGOFF", "dev1"),
        # a3 has no schedule: not in the report
        rec(clock(SAT, 9), "a3", "AGENTLOGIN", "dev3"),
    ],
    key=lambda r: r.at,
)


def days_of(log: list[LogRecord], *, start: float, end: float, now: float) -> list[AgentDay]:
    sessions = find_sessions(log, start=-1e18, end=end)
    return adherence_days(WEEK, sessions, start=start, end=end, now=now, zone=ZONE)


def test_a_day_of_two_agents_by_hand() -> None:
    a1_sat, a1_sun, a2_sat = days_of(LOG, start=SAT, end=SAT + 2 * 86400, now=SAT + 9 * 86400)
    assert (a1_sat.agent, a1_sat.day.isoformat(), a1_sat.start) == ("a1", "2026-11-28", SAT)
    # scheduled 08:00-16:00 = 480 min, of which the 30 min lunch
    assert a1_sat.scheduled == 480 * M and a1_sat.planned_breaks == 30 * M
    # 08:00-08:10 logged off
    assert a1_sat.not_logged_in == 10 * M
    # 13:30-13:40 still at lunch in work time + 15:00-15:05 coffee
    assert a1_sat.unplanned_pause == 15 * M
    assert a1_sat.working_in_break == 0
    # in adherence: 480 - 10 - 15 = 455 (the lunch 13:00-13:30 paused "lunch" counts)
    assert a1_sat.in_adherence == 455 * M
    # 16:00-16:20 logged in after the shift
    assert a1_sat.outside_shift == 20 * M
    # worked: 08:10-13:00 (290) + 13:40-15:00 (80) + 15:05-16:20 (75) = 445
    assert a1_sat.worked == 445 * M
    assert a1_sat.adherence == pytest.approx(455 / 480)  # 94.8 %
    assert a1_sat.conformance == pytest.approx(445 / 450)  # 98.9 % of 450 min of work
    # a2: off 12:00-12:30 (work time), not paused 13:00-13:30 (the lunch break)
    assert a2_sat.not_logged_in == 30 * M and a2_sat.working_in_break == 30 * M
    assert a2_sat.in_adherence == 420 * M and a2_sat.adherence == pytest.approx(420 / 480)
    # worked 08:00-12:00 (240) + 12:30-16:00 (210) = 450 of 450
    assert a2_sat.worked == 450 * M and a2_sat.conformance == pytest.approx(1.0)
    # Sunday: no shift, 60 min logged in: shown, no adherence figure
    assert a1_sun.day.isoformat() == "2026-11-29" and a1_sun.scheduled == 0
    assert a1_sun.outside_shift == 60 * M and a1_sun.adherence is None
    # together: (455 + 420) / (480 + 480); conformance (445 + 450 + 60) / 900
    adherence, conformance = overall_adherence([a1_sat, a1_sun, a2_sat])
    assert adherence == pytest.approx(875 / 960)
    assert conformance == pytest.approx(955 / 900)


def test_the_table_has_a_total_row_and_the_target() -> None:
    days = days_of(LOG, start=SAT, end=SAT + 86400, now=SAT + 86400)
    table = adherence_table(days, target=0.9)
    assert [r["agent"] for r in table.rows] == ["a1", "a2", "total"]
    total = table.rows[-1]
    assert total["scheduled"] == 960 * M and total["in_adherence"] == 875 * M
    # out of adherence by cause: 10 + 30 off, 15 unplanned pause, 30 working in the break
    assert total["out_of_adherence"] == 85 * M
    assert total["adherence"] == pytest.approx(875 / 960)
    assert table.targets == {"adherence": 0.9}


def test_only_time_up_to_now_is_judged() -> None:
    # at 10:00 on Saturday: a1 scheduled 08:00-10:00 (120 min), off 08:00-08:10
    (a1, a2) = days_of(LOG[:9], start=SAT, end=SAT + 86400, now=clock(SAT, 10))
    assert a1.scheduled == 120 * M and a1.in_adherence == 110 * M
    assert a2.scheduled == 120 * M and a2.in_adherence == 120 * M


def test_a_session_still_open_and_paused_counts_to_now() -> None:
    log = [rec(clock(SAT, 8), "a1", "AGENTLOGIN", "dev1"),
           rec(clock(SAT, 13), "a1", "PAUSE", "lunch")]  # fmt: skip
    # now 14:00: 08:00-13:00 worked (300), 13:00-13:30 lunch as planned (30),
    # 13:30-14:00 still paused in work time (30: unplanned)
    a1, a2 = days_of(log, start=SAT, end=SAT + 86400, now=clock(SAT, 14))
    # a2 is scheduled too and never came: 08:00-14:00 not logged in
    assert a2.not_logged_in == 360 * M and a2.adherence == 0.0 and a2.conformance == 0.0
    assert a1.scheduled == 360 * M and a1.in_adherence == 330 * M
    assert a1.unplanned_pause == 30 * M and a1.worked == 300 * M


def test_a_planned_break_taken_with_another_reason_is_unplanned() -> None:
    log = [rec(clock(SAT, 8), "a1", "AGENTLOGIN", "dev1"),
           rec(clock(SAT, 13), "a1", "PAUSE", "training"),
           rec(clock(SAT, 13, 30), "a1", "UNPAUSE"),
           rec(clock(SAT, 16), "a1", "AGENTLOGOFF", "dev1")]  # fmt: skip
    a1, _a2 = days_of(log, start=SAT, end=SAT + 86400, now=SAT + 86400)
    assert a1.unplanned_pause == 30 * M and a1.in_adherence == 450 * M


def test_a_range_cut_inside_a_shift_and_a_login_before_it() -> None:
    # a login at 07:00 and the range from 12:00: only 12:00-16:00 is judged (240 min)
    log = [rec(clock(SAT, 7), "a1", "AGENTLOGIN", "dev1"),
           rec(clock(SAT, 16), "a1", "AGENTLOGOFF", "dev1")]  # fmt: skip
    a1, _a2 = days_of(log, start=clock(SAT, 12), end=SAT + 86400, now=SAT + 86400)
    # the lunch break is worked through: 30 min out of adherence
    assert a1.scheduled == 240 * M and a1.working_in_break == 30 * M
    assert a1.in_adherence == 210 * M and a1.start == clock(SAT, 12)


def test_shifts_keep_the_wall_clock_across_daylight_saving() -> None:
    # Europe/Berlin, Sunday 2026-03-29: clocks go from 02:00 to 03:00. A 01:00-05:00 shift
    # is 3 real hours; an agent logged in 01:00-05:00 local is fully in adherence.
    sunday = 1774738800.0  # local midnight
    shift = DayShift(start=1 * H, end=5 * H)
    login, logout = sunday + 1 * H, sunday + 4 * H  # 01:00 CET .. 05:00 CEST
    log = [rec(login, "b", "AGENTLOGIN", "d"), rec(logout, "b", "AGENTLOGOFF", "d")]
    sessions = find_sessions(log, start=-1e18, end=sunday + 86400)
    (day,) = adherence_days({"b": {6: [shift]}}, sessions, start=sunday, end=sunday + 86400,
                            now=sunday + 86400, zone="Europe/Berlin")  # fmt: skip
    assert day.scheduled == 3 * H and day.adherence == 1.0


def test_agents_filter_and_no_rows_without_time() -> None:
    days = days_of(LOG, start=SAT + 2 * 86400, end=SAT + 3 * 86400, now=SAT + 9 * 86400)
    assert days == []  # Monday: nobody scheduled, nobody logged in
    sessions = find_sessions(LOG, start=-1e18, end=SAT + 86400)
    only = adherence_days(WEEK, sessions, start=SAT, end=SAT + 86400, now=SAT + 86400,
                          zone=ZONE, agents={"a2"})  # fmt: skip
    assert [d.agent for d in only] == ["a2"]


def test_a_shift_must_fit_in_a_day() -> None:
    with pytest.raises(ValueError, match="within a day"):
        DayShift(start=22 * H, end=6 * H)
    with pytest.raises(ValueError, match="outside the shift"):
        DayShift(start=8 * H, end=9 * H, breaks=(Break(start=7 * H, end=8 * H, reason="x"),))
