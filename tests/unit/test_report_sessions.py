"""Agent login sessions from the hand-built log of tests/unit/reportlog.py."""

from __future__ import annotations

import pytest
from reportlog import LOG, T0

from tamas.core.events import NONE, LogRecord
from tamas.reporting.sessions_report import agent_sessions


def test_sessions_of_the_hand_built_log() -> None:
    table = agent_sessions(LOG, start=T0, end=T0 + 3600)
    a1, a2 = table.rows
    # a1: in 0..1200 on dev1, lunch 700..1000 (one pause though PAUSE was per queue),
    # answered c4 at 300
    assert a1 == {"agent": "a1", "device": "dev1", "login": T0, "logout": T0 + 1200,
                  "duration": 1200.0, "paused": 300.0, "pauses": "lunch: 300",
                  "calls": 1}  # fmt: skip
    # a2: in 0..1800 on dev2, never paused, answered c1 (25) and c4 (230)
    assert (a2["duration"], a2["paused"], a2["calls"]) == (1800.0, 0.0, 2)


def test_a_session_still_open_runs_to_the_last_record() -> None:
    def rec(dt: float, event: str, *data: str) -> LogRecord:
        return LogRecord(at=T0 + dt, call_id=NONE, queue="q", agent="b", event=event, data=data)

    log = [rec(0, "AGENTLOGIN", "dev9"), rec(100, "PAUSE", "break"), rec(160, "PAUSE", "break"),
           rec(400, "ADDMEMBER", "dev9")]  # fmt: skip
    (row,) = agent_sessions(log, start=T0, end=T0 + 10).rows
    # logged in at 0, still in at 400 (the last record); paused since 100: 300 s so far
    assert row["logout"] is None and row["duration"] == 400.0
    assert row["paused"] == pytest.approx(300.0) and row["pauses"] == "break: 300"
    assert agent_sessions(log, start=T0 + 1, end=T0 + 10).rows == ()  # it began before
