"""The callbacks report (per queue, and the open list) on a hand-built event log."""

from __future__ import annotations

import pytest

from tamas.core.events import NONE, LogRecord
from tamas.reporting.callbacks_report import callbacks_by_queue, callbacks_open, find_callbacks

T0 = 1_700_000_000.0
START, END = T0, T0 + 3600


def r(dt: float, call: str, event: str, *data: str, queue: str = "sales",
      agent: str = NONE) -> LogRecord:  # fmt: skip
    return LogRecord(at=T0 + dt, call_id=call, queue=queue, agent=agent, event=event, data=data)


def callback_log() -> list[LogRecord]:
    return [
        # k1 (sales): asked at 10, first attempt answered at 130 -> completed after 120 s
        r(10, "k1", "CALLBACKREQUESTED", "09121111111", "3", ""),
        r(100, "k1", "CALLBACKSTARTED", "09121111111", "1", agent="a1"),
        r(130, "k1", "CALLBACKCOMPLETED", "120", "1", agent="a1"),
        # k2 (sales): asked at 20 for T0+600; three attempts fail; given up (listed) at 830
        r(20, "k2", "CALLBACKREQUESTED", "09122222222", "4", repr(T0 + 600)),
        r(600, "k2", "CALLBACKSTARTED", "09122222222", "1", agent="a1"),
        r(630, "k2", "CALLBACKFAILED", "1", agent="a1"),
        r(700, "k2", "CALLBACKSTARTED", "09122222222", "2", agent="a2"),
        r(730, "k2", "CALLBACKFAILED", "2", agent="a2"),
        r(800, "k2", "CALLBACKSTARTED", "09122222222", "3", agent="a1"),
        r(830, "k2", "CALLBACKFAILED", "3", agent="a1"),
        r(830, "k2", "CALLBACKLISTED", "09122222222", "3"),
        # k3 (support): asked at 30, one failed attempt, completed at 330 -> 300 s
        r(30, "k3", "CALLBACKREQUESTED", "09123333333", "1", "", queue="support"),
        r(200, "k3", "CALLBACKSTARTED", "09123333333", "1", queue="support", agent="b1"),
        r(230, "k3", "CALLBACKFAILED", "1", queue="support", agent="b1"),
        r(300, "k3", "CALLBACKSTARTED", "09123333333", "2", queue="support", agent="b1"),
        r(330, "k3", "CALLBACKCOMPLETED", "300", "2", queue="support", agent="b1"),
        # k4 (sales): asked at 40; one attempt to a confirmed other number, no result yet
        r(40, "k4", "CALLBACKREQUESTED", "09124444444", "5", ""),
        r(60, "k4", "CALLBACKSTARTED", "+989124444444", "1", agent="a2"),
        # k5 (sales): asked before the range: not counted, although completed inside it
        r(-50, "k5", "CALLBACKREQUESTED", "09125555555", "1", ""),
        r(20, "k5", "CALLBACKSTARTED", "09125555555", "1", agent="a1"),
        r(25, "k5", "CALLBACKCOMPLETED", "75", "1", agent="a1"),
        # k6 (support): asked at 3500, completed at 3700 after the range's end -> 200 s
        r(3500, "k6", "CALLBACKREQUESTED", "09126666666", "1", "", queue="support"),
        r(3690, "k6", "CALLBACKSTARTED", "09126666666", "1", queue="support", agent="b1"),
        r(3700, "k6", "CALLBACKCOMPLETED", "200", "1", queue="support", agent="b1"),
        # k7 (sales): scheduled from the API at 50 for T0+900, cancelled at 70
        r(50, "k7", "CALLBACKREQUESTED", "09127777777", "", repr(T0 + 900)),
        r(70, "k7", "CALLBACKCANCELLED", "customer called in"),
        # other records of those calls are ignored
        r(10, "k1", "ENTERQUEUE", "", "09121111111", "3"),
    ]


def test_by_queue() -> None:
    table = callbacks_by_queue(callback_log(), start=START, end=END)
    sales, support = table.rows
    assert sales == {
        "queue": "sales",
        "requested": 4,  # k1, k2, k4, k7
        "completed": 1,  # k1
        "listed": 1,  # k2
        "cancelled": 1,  # k7
        "pending": 1,  # k4
        "attempts": 5,  # k1: 1, k2: 3, k4: 1
        "failed": 3,  # k2's three
        "completion_rate": pytest.approx(1 / 4),
        "avg_to_complete": 120.0,  # 130 - 10
        "max_to_complete": 120.0,
    }
    assert support == {
        "queue": "support",
        "requested": 2,  # k3, k6
        "completed": 2,
        "listed": 0,
        "cancelled": 0,
        "pending": 0,
        "attempts": 3,  # k3: 2, k6: 1
        "failed": 1,  # k3's first
        "completion_rate": 1.0,
        "avg_to_complete": 250.0,  # (300 + 200) / 2
        "max_to_complete": 300.0,  # k3: 330 - 30
    }


def test_open_list() -> None:
    table = callbacks_open(callback_log(), start=START, end=END)
    assert [row["call_id"] for row in table.rows] == ["k2", "k4"]
    k2, k4 = table.rows
    assert k2 == {
        "requested": T0 + 20,
        "call_id": "k2",
        "queue": "sales",
        "number": "09122222222",
        "status": "listed",
        "scheduled": T0 + 600,
        "attempts": 3,
        "last_attempt": T0 + 800,
        "age": 810.0,  # listed at 830 - asked at 20
    }
    assert k4["status"] == "pending" and k4["number"] == "+989124444444"  # the one dialled
    assert k4["scheduled"] is None and k4["attempts"] == 1
    assert k4["age"] == 3560.0  # the range's end (3600) - 40


def test_queue_filter_and_empty() -> None:
    table = callbacks_by_queue(callback_log(), start=START, end=END, queues={"support"})
    assert [row["queue"] for row in table.rows] == ["support"]
    assert table.params["queues"] == "support"
    assert callbacks_by_queue([], start=START, end=END).rows == ()
    assert callbacks_open(callback_log(), start=START, end=END, queues={"support"}).rows == ()


def test_a_second_request_of_one_call_is_another_callback() -> None:
    log = [
        r(0, "k", "CALLBACKREQUESTED", "0912", "1", ""),
        r(10, "k", "CALLBACKSTARTED", "0912", "1", agent="a1"),
        r(20, "k", "CALLBACKCOMPLETED", "20", "1", agent="a1"),
        r(100, "k", "CALLBACKREQUESTED", "0912", "1", ""),  # transferred back; asks again
        r(110, "k", "CALLBACKSTARTED", "0912", "1", agent="a1"),
    ]
    found = find_callbacks(log, start=START, end=END)
    assert [(c.requested - T0, c.status, c.attempts) for c in found] == [
        (0, "completed", 1),
        (100, "pending", 1),
    ]
