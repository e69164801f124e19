"""The missed-call report and the call-back list on hand-built event logs."""

from __future__ import annotations

from tamas.core.events import NONE, LogRecord
from tamas.reporting.missed import callback_list, find_missed, missed_calls, number_key

T0 = 1_700_000_000.0
START, END = T0, T0 + 3600


def r(dt: float, call: str, event: str, *data: str, queue: str = NONE,
      agent: str = NONE) -> LogRecord:  # fmt: skip
    return LogRecord(at=T0 + dt, call_id=call, queue=queue, agent=agent, event=event, data=data)


def inbound(dt: float, call: str, caller: str) -> list[LogRecord]:
    return [
        r(dt, call, "CALLSTART", caller, "02188776655", "inbound", "carrier"),
        r(dt, call, "LEGSTART", "a", caller),
    ]


def ended(dt: float, call: str, cause: str) -> list[LogRecord]:
    return [r(dt, call, "LEGEND", "a", cause), r(dt, call, "CALLEND", cause)]


def day_log() -> list[LogRecord]:
    return [
        # c1: abandoned after one agent did not answer; entered at 5, left at 45
        *inbound(0, "c1", "09121111111"),
        r(5, "c1", "ENTERQUEUE", "", "09121111111", "2", queue="sales"),
        r(20, "c1", "RINGNOANSWER", "15000", queue="sales", agent="a1"),
        r(45, "c1", "ABANDON", "1", "2", "40", queue="sales"),
        *ended(45, "c1", "cancelled"),
        # c2: a short abandon (3 s < 5 s); the caller id has spaces and a +
        *inbound(100, "c2", "+98 912 222 2222"),
        r(100, "c2", "ENTERQUEUE", "", "+98 912 222 2222", "1", queue="sales"),
        r(103, "c2", "ABANDON", "1", "1", "3", queue="sales"),
        *ended(103, "c2", "normal"),
        # c3: the ACD writes ABANDON, then the runtime ends the call for a technical reason
        *inbound(200, "c3", "09123333333"),
        r(200, "c3", "ENTERQUEUE", "", "09123333333", "1", queue="support"),
        r(230, "c3", "ABANDON", "1", "1", "30", queue="support"),
        *ended(230, "c3", "ack-timeout"),
        # c4: two agents rung, none answered, then the wait limit: missed
        *inbound(300, "c4", "09124444444"),
        r(300, "c4", "ENTERQUEUE", "", "09124444444", "1", queue="sales"),
        r(315, "c4", "RINGNOANSWER", "15000", queue="sales", agent="a1"),
        r(330, "c4", "RINGNOANSWER", "15000", queue="sales", agent="a2"),
        r(360, "c4", "EXITWITHTIMEOUT", "1", "1", "60", queue="sales"),
        *ended(420, "c4", "normal"),
        # c5: the wait limit with no agent rung: timeout
        *inbound(400, "c5", "09125555555"),
        r(400, "c5", "ENTERQUEUE", "", "09125555555", "1", queue="support"),
        r(490, "c5", "EXITWITHTIMEOUT", "1", "1", "90", queue="support"),
        *ended(500, "c5", "normal"),
        # c6: the caller pressed 5 to leave, third in line (entered fourth)
        *inbound(600, "c6", "09126666666"),
        r(600, "c6", "ENTERQUEUE", "", "09126666666", "4", queue="sales"),
        r(612, "c6", "EXITWITHKEY", "5", "3", "4", "12", queue="sales"),
        *ended(640, "c6", "normal"),
        # c7: no agent could take it: exit_empty
        *inbound(700, "c7", "09127777777"),
        r(700, "c7", "ENTERQUEUE", "", "09127777777", "1", queue="support"),
        r(701, "c7", "EXITEMPTY", "1", "1", "1", queue="support"),
        *ended(701, "c7", "normal"),
        # c8: answered: no row
        *inbound(800, "c8", "09128888888"),
        r(800, "c8", "ENTERQUEUE", "", "09128888888", "1", queue="sales"),
        r(810, "c8", "CONNECT", "10", "dev-a1", "2", queue="sales", agent="a1"),
        r(900, "c8", "COMPLETECALLER", "10", "90", "1", queue="sales", agent="a1"),
        *ended(900, "c8", "normal"),
        # c9: entered before the range (-100): not in it, although it left inside
        *inbound(-100, "c9", "09129999999"),
        r(-100, "c9", "ENTERQUEUE", "", "09129999999", "1", queue="sales"),
        r(10, "c9", "ABANDON", "1", "1", "110", queue="sales"),
        *ended(10, "c9", "cancelled"),
        # c10: entered in the range (3590), left after its end (3700): in the range
        *inbound(3590, "c10", "09121010101"),
        r(3590, "c10", "ENTERQUEUE", "", "09121010101", "1", queue="sales"),
        r(3700, "c10", "ABANDON", "1", "1", "110", queue="sales"),
        *ended(3700, "c10", "cancelled"),
        # c11: the call ended while queued and the ACD wrote no exit: disconnected
        *inbound(1000, "c11", "09121111112"),
        r(1000, "c11", "ENTERQUEUE", "", "09121111112", "2", queue="support"),
        *ended(1050, "c11", "normal"),
        # c12: still waiting when the records end: not listed
        *inbound(1100, "c12", "09121212121"),
        r(1100, "c12", "ENTERQUEUE", "", "09121212121", "1", queue="sales"),
        # c13: asked for a callback: the callbacks report's, not a missed call
        *inbound(1200, "c13", "09121313131"),
        r(1200, "c13", "ENTERQUEUE", "", "09121313131", "1", queue="sales"),
        r(1260, "c13", "CALLBACKREQUESTED", "09121313131", "1", "", queue="sales"),
        *ended(1270, "c13", "normal"),
        # c14: CALLSTART before the range, empty callerid in ENTERQUEUE: caller from CALLSTART
        *inbound(-50, "c14", "09121414141"),
        r(1300, "c14", "ENTERQUEUE", "", "", "1", queue="sales"),
        r(1320, "c14", "ABANDON", "1", "1", "20", queue="sales"),
        *ended(1320, "c14", "cancelled"),
        # c15: the caller's leg failed while queued (before the ACD's ABANDON)
        *inbound(1400, "c15", "09121515151"),
        r(1400, "c15", "ENTERQUEUE", "", "09121515151", "1", queue="support"),
        r(1402, "c15", "LEGEND", "a", "failed"),
        r(1402, "c15", "ABANDON", "1", "1", "2", queue="support"),
        r(1402, "c15", "CALLEND", "failed"),
    ]


def test_missed_call_rows() -> None:
    table = missed_calls(day_log(), start=START, end=END)
    rows = {row["call_id"]: row for row in table.rows}
    # c8 answered, c9 entered before the range, c12 still waiting, c13 a callback: 15 - 4 = 11
    assert sorted(rows) == sorted(
        ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c10", "c11", "c14", "c15"]
    )
    assert [row["call_id"] for row in table.rows][:3] == ["c1", "c2", "c3"]  # by entry time
    assert rows["c1"] == {
        "time": T0 + 5, "call_id": "c1", "caller": "09121111111", "queue": "sales",
        "kind": "abandoned", "position_entry": 2, "position_exit": 1,
        "wait": 40.0,  # 45 - 5
        "rings": 1, "short": False, "detail": "",
    }  # fmt: skip
    assert rows["c2"]["kind"] == "abandoned" and rows["c2"]["short"] is True  # 103 - 100 = 3 < 5
    assert rows["c3"]["kind"] == "disconnected" and rows["c3"]["detail"] == "ack-timeout"
    assert rows["c3"]["short"] is False and rows["c3"]["wait"] == 30.0  # 230 - 200
    assert rows["c4"]["kind"] == "missed" and rows["c4"]["rings"] == 2
    assert rows["c4"]["wait"] == 60.0  # 360 - 300
    assert rows["c5"]["kind"] == "timeout" and rows["c5"]["rings"] == 0
    assert rows["c6"]["kind"] == "exit_key" and rows["c6"]["detail"] == "5"
    assert (rows["c6"]["position_entry"], rows["c6"]["position_exit"]) == (4, 3)
    assert rows["c7"]["kind"] == "exit_empty" and rows["c7"]["wait"] == 1.0
    assert rows["c10"]["wait"] == 110.0  # 3700 - 3590, left after the range's end
    assert rows["c11"]["kind"] == "disconnected" and rows["c11"]["position_exit"] is None
    assert rows["c11"]["wait"] == 50.0  # 1050 - 1000: until CALLEND
    assert rows["c14"]["caller"] == "09121414141"
    assert rows["c15"]["kind"] == "disconnected" and rows["c15"]["detail"] == "failed"
    # a 2 s wait, but not a short abandon: the caller did not hang up
    assert rows["c15"]["short"] is False
    assert table.params["start"] == START and table.params["short_abandon"] == 5.0


def test_filters_and_short_threshold() -> None:
    support = missed_calls(day_log(), start=START, end=END, queues={"support"})
    assert [row["call_id"] for row in support.rows] == ["c3", "c5", "c7", "c11", "c15"]
    assert support.params["queues"] == "support"
    # with a 40 s threshold c1 (40 s) is not short (strictly less), c14 (20 s) is
    found = {m.call_id: m for m in find_missed(day_log(), start=START, end=END, short_abandon=40)}
    assert not found["c1"].short and found["c14"].short and found["c2"].short
    # a range of the first 10 minutes: entries at 5 .. 300 (c1-c4)
    first = missed_calls(day_log(), start=START, end=START + 301)
    assert [row["call_id"] for row in first.rows] == ["c1", "c2", "c3", "c4"]


def test_number_key() -> None:
    assert number_key("+98 912 222 2222") == number_key("09122222222") == "9122222222"
    assert number_key("1001") == "1001"
    assert number_key("anonymous") == ""


def callback_log() -> list[LogRecord]:
    return [
        # A missed at 5, answered on a new call at 500: reached
        *inbound(0, "a1", "09121111111"),
        r(5, "a1", "ENTERQUEUE", "", "09121111111", "1", queue="sales"),
        r(20, "a1", "ABANDON", "1", "1", "15", queue="sales"),
        *ended(20, "a1", "cancelled"),
        *inbound(500, "a2", "09121111111"),
        r(500, "a2", "ENTERQUEUE", "", "09121111111", "1", queue="sales"),
        r(510, "a2", "CONNECT", "10", "dev", "1", queue="sales", agent="x"),
        *ended(600, "a2", "normal"),
        # B: one short abandon (2 s) only
        *inbound(100, "b1", "+98 912 222 2222"),
        r(100, "b1", "ENTERQUEUE", "", "+98 912 222 2222", "1", queue="sales"),
        r(102, "b1", "ABANDON", "1", "1", "2", queue="sales"),
        *ended(102, "b1", "cancelled"),
        # C: missed at 200, answered at 410, missed again at 600: still to call back
        *inbound(200, "c1", "09123333333"),
        r(200, "c1", "ENTERQUEUE", "", "09123333333", "1", queue="support"),
        r(260, "c1", "EXITWITHTIMEOUT", "1", "1", "60", queue="support"),
        *ended(260, "c1", "normal"),
        *inbound(400, "c2", "09123333333"),
        r(400, "c2", "ENTERQUEUE", "", "09123333333", "1", queue="sales"),
        r(410, "c2", "CONNECT", "10", "dev", "1", queue="sales", agent="x"),
        *ended(450, "c2", "normal"),
        *inbound(600, "c3", "09123333333"),
        r(600, "c3", "ENTERQUEUE", "", "09123333333", "1", queue="sales"),
        r(700, "c3", "ABANDON", "1", "1", "100", queue="sales"),
        *ended(700, "c3", "cancelled"),
        # D: missed at 300; an agent called +989124444444 at 1000 and was answered: reached
        *inbound(300, "d1", "09124444444"),
        r(300, "d1", "ENTERQUEUE", "", "09124444444", "1", queue="sales"),
        r(330, "d1", "ABANDON", "1", "1", "30", queue="sales"),
        *ended(330, "d1", "cancelled"),
        r(1000, "d2", "CALLSTART", "1001", "+989124444444", "outbound", "carrier"),
        r(1000, "d2", "LEGSTART", "a", "1001"),
        r(1001, "d2", "LEGSTART", "b", "+989124444444"),
        r(1010, "d2", "LEGANSWER", "b"),
        *ended(1100, "d2", "normal"),
        # E: missed at 700, then a new call asks for a callback that is completed at 900
        *inbound(700, "e1", "09125555555"),
        r(700, "e1", "ENTERQUEUE", "", "09125555555", "1", queue="support"),
        r(760, "e1", "EXITWITHTIMEOUT", "1", "1", "60", queue="support"),
        *ended(760, "e1", "normal"),
        *inbound(800, "e2", "09125555555"),
        r(800, "e2", "ENTERQUEUE", "", "09125555555", "1", queue="support"),
        r(810, "e2", "CALLBACKREQUESTED", "09125555555", "1", "", queue="support"),
        *ended(815, "e2", "normal"),
        r(900, "e2", "CALLBACKSTARTED", "09125555555", "1", queue="support", agent="x"),
        r(905, "e2", "CALLBACKCOMPLETED", "105", "1", queue="support", agent="x"),
        # F: anonymous: cannot be called back
        *inbound(1200, "f1", "anonymous"),
        r(1200, "f1", "ENTERQUEUE", "", "anonymous", "1", queue="sales"),
        r(1230, "f1", "ABANDON", "1", "1", "30", queue="sales"),
        *ended(1230, "f1", "cancelled"),
        # G: timed out of sales, then the same call was answered in support: reached
        *inbound(1300, "g1", "09127777777"),
        r(1300, "g1", "ENTERQUEUE", "", "09127777777", "1", queue="sales"),
        r(1360, "g1", "EXITWITHTIMEOUT", "1", "1", "60", queue="sales"),
        r(1360, "g1", "ENTERQUEUE", "", "09127777777", "1", queue="support"),
        r(1370, "g1", "CONNECT", "10", "dev", "1", queue="support", agent="y"),
        *ended(1400, "g1", "normal"),
    ]


def test_callback_list() -> None:
    table = callback_list(callback_log(), start=START, end=END)
    # reached: A (answered at 510 > 5), D (outbound answered at 1010 > 300), E (callback
    # completed at 905 > 700), G (same call answered at 1370 > 1300); F is anonymous.
    # Left: B (last missed 100) and C (last missed 600 > its answer at 410), oldest first.
    assert [row["caller"] for row in table.rows] == ["+98 912 222 2222", "09123333333"]
    b, c = table.rows
    assert b["only_short"] is True and b["missed"] == 1 and b["last_kind"] == "abandoned"
    assert c == {
        "caller": "09123333333",
        "missed": 2,  # 200 (support) and 600 (sales)
        "first_missed": T0 + 200,
        "last_missed": T0 + 600,
        "queues": "support,sales",
        "last_kind": "abandoned",
        "longest_wait": 100.0,  # 700 - 600 (the first waited 60)
        "only_short": False,
    }
    skipped = callback_list(callback_log(), start=START, end=END, skip_short=True)
    assert [row["caller"] for row in skipped.rows] == ["09123333333"]
    assert skipped.params["skip_short"] is True


def test_callback_list_reach_after_the_range_counts() -> None:
    # The range ends at 550: misses in it are A (5), B (100), C (200) and D (300).
    # A was answered at 510, C at 410 (> 200; its miss at 600 is out of the range), and D's
    # outbound call at 1010, after the range, still counts (every record given is evidence).
    table = callback_list(callback_log(), start=START, end=START + 550)
    assert [row["caller"] for row in table.rows] == ["+98 912 222 2222"]
    # only the records up to 550 given: D has not been reached yet
    early = [rec for rec in callback_log() if rec.at < START + 550]
    table = callback_list(early, start=START, end=START + 550)
    assert [row["caller"] for row in table.rows] == ["+98 912 222 2222", "09124444444"]
