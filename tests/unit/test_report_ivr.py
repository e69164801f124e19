"""The IVR report (steps and destinations) on a hand-built event log."""

from __future__ import annotations

import pytest

from tamas.core.events import LogRecord
from tamas.reporting.ivr_report import distribution, ivr_destinations, ivr_steps

T0 = 1_700_000_000.0
START, END = T0, T0 + 3600


def r(dt: float, call: str, event: str, *data: str) -> LogRecord:
    return LogRecord(at=T0 + dt, call_id=call, event=event, data=data)


def to_menu(dt: float, call: str) -> list[LogRecord]:
    """A session of flow main that plays the welcome and reaches the menu."""
    return [
        r(dt, call, "IVRSTART", "main", "welcome"),
        r(dt, call, "IVRSTEP", "main", "welcome", "play"),
        r(dt + 5, call, "IVRSTEP", "main", "menu", "menu"),
    ]


def ivr_log() -> list[LogRecord]:
    return [
        # s1: key 1 -> sales
        *to_menu(10, "i1"),
        r(18, "i1", "IVRKEY", "main", "menu", "1"),
        r(18, "i1", "IVREXIT", "main", "menu", "queue:sales"),
        # s2: an invalid 9, then 2 -> support
        *to_menu(20, "i2"),
        r(27, "i2", "IVRINVALID", "main", "menu", "9", "1"),
        r(30, "i2", "IVRKEY", "main", "menu", "2"),
        r(30, "i2", "IVREXIT", "main", "menu", "queue:support"),
        # s3: a timeout at the menu, then the caller hangs up there
        *to_menu(30, "i3"),
        r(45, "i3", "IVRTIMEOUT", "main", "menu", "", "1"),
        r(47, "i3", "IVRHANGUP", "main", "menu"),
        # s4: hangs up during the welcome
        r(40, "i4", "IVRSTART", "main", "welcome"),
        r(40, "i4", "IVRSTEP", "main", "welcome", "play"),
        r(42, "i4", "IVRHANGUP", "main", "welcome"),
        # s5: key 1 -> sales
        *to_menu(50, "i5"),
        r(58, "i5", "IVRKEY", "main", "menu", "1"),
        r(58, "i5", "IVREXIT", "main", "menu", "queue:sales"),
        # s6: started before the range: none of it counts, not even its key inside the range
        *to_menu(-100, "i6"),
        r(5, "i6", "IVRKEY", "main", "menu", "1"),
        r(5, "i6", "IVREXIT", "main", "menu", "queue:sales"),
        # s7: still in the welcome when the records end
        r(60, "i7", "IVRSTART", "main", "welcome"),
        r(60, "i7", "IVRSTEP", "main", "welcome", "play"),
        # s8: the night flow hangs up by itself
        r(70, "i8", "IVRSTART", "night", "closed"),
        r(70, "i8", "IVRSTEP", "night", "closed", "play"),
        r(75, "i8", "IVREXIT", "night", "closed", "hangup"),
        # i9: two sessions of one call: 0 -> operator; later sent back to the flow, hangs up
        *to_menu(80, "i9"),
        r(88, "i9", "IVRKEY", "main", "menu", "0"),
        r(88, "i9", "IVREXIT", "main", "menu", "queue:operator"),
        r(200, "i9", "IVRSTART", "main", "welcome"),
        r(200, "i9", "IVRSTEP", "main", "welcome", "play"),
        r(203, "i9", "IVRHANGUP", "main", "welcome"),
        # records of other kinds are ignored
        r(90, "i9", "CALLEND", "normal"),
    ]


def test_steps() -> None:
    table = ivr_steps(ivr_log(), start=START, end=END)
    rows = {(row["flow"], row["step"]): row for row in table.rows}
    assert list(rows) == [("main", "welcome"), ("main", "menu"), ("night", "closed")]
    welcome = rows[("main", "welcome")]
    # entered by s1, s2, s3, s4, s5, s7 and both sessions of i9 = 8; hung up: s4, i9's 2nd = 2
    assert (welcome["kind"], welcome["entered"], welcome["hangups"]) == ("play", 8, 2)
    assert welcome["drop_rate"] == 0.25  # 2 / 8
    assert welcome["exited"] == 0 and welcome["exits"] == "" and welcome["keys"] == ""
    menu = rows[("main", "menu")]
    assert menu == {
        "flow": "main", "step": "menu", "kind": "menu",
        "entered": 5,  # s1, s2, s3, s5, i9's first
        "keys": "0=1 1=2 2=1",  # i9: 0; s1, s5: 1; s2: 2
        "invalid": 1, "timeouts": 1,  # s2's 9; s3
        "exited": 4,  # s1, s2, s5, i9
        "exits": "queue:operator=1 queue:sales=2 queue:support=1",
        "hangups": 1,  # s3
        "drop_rate": 0.2,  # 1 / 5
    }  # fmt: skip
    closed = rows[("night", "closed")]
    assert (closed["entered"], closed["exits"], closed["hangups"]) == (1, "hangup=1", 0)


def test_destinations() -> None:
    table = ivr_destinations(ivr_log(), start=START, end=END)
    got = [(row["flow"], row["outcome"], row["sessions"], row["share"]) for row in table.rows]
    # main has 8 sessions: s1, s2, s3, s4, s5, s7, i9 twice
    assert got == [
        ("main", "caller hung up", 3, pytest.approx(3 / 8)),  # s3, s4, i9's second
        ("main", "queue:sales", 2, pytest.approx(2 / 8)),  # s1, s5
        ("main", "(in progress)", 1, pytest.approx(1 / 8)),  # s7
        ("main", "queue:operator", 1, pytest.approx(1 / 8)),  # i9's first
        ("main", "queue:support", 1, pytest.approx(1 / 8)),  # s2
        ("night", "hangup", 1, 1.0),  # s8
    ]


def test_range_and_flow_filter() -> None:
    # up to 150 s: i9's second session (200) is out; main has 7 sessions
    steps = ivr_steps(ivr_log(), start=START, end=START + 150)
    welcome = next(row for row in steps.rows if row["step"] == "welcome")
    assert (welcome["entered"], welcome["hangups"]) == (7, 1)  # s4 only
    night = ivr_destinations(ivr_log(), start=START, end=END, flows={"night"})
    assert [row["outcome"] for row in night.rows] == ["hangup"]
    assert night.params["flows"] == "night"
    assert ivr_steps([], start=START, end=END).rows == ()


def test_a_new_session_closes_an_unfinished_one() -> None:
    log = [
        r(0, "x", "IVRSTART", "main", "welcome"),
        r(0, "x", "IVRSTEP", "main", "welcome", "play"),
        r(9, "x", "IVRSTART", "main", "welcome"),  # no end logged for the first
        r(9, "x", "IVRSTEP", "main", "welcome", "play"),
        r(12, "x", "IVREXIT", "main", "welcome", "queue:sales"),
    ]
    got = {row["outcome"]: row["sessions"] for row in ivr_destinations(log, start=T0, end=END).rows}
    assert got == {"(in progress)": 1, "queue:sales": 1}


def test_distribution() -> None:
    assert distribution({"2": 5, "1": 12}) == "1=12 2=5"
    assert distribution({}) == ""
