"""CDRs folded from call events: results, agents chain, talk/hold/wait/queue seconds."""

from __future__ import annotations

import pytest

from tamas.core.events import NONE, LogRecord
from tamas.reporting.cdr import CallResult, CdrError, CdrLeg, build_cdr

T0 = 1_700_000_000.0


def r(dt: float, event: str, *data: str, queue: str = NONE, agent: str = NONE,
      call: str = "c1") -> LogRecord:  # fmt: skip
    return LogRecord(at=T0 + dt, call_id=call, queue=queue, agent=agent, event=event, data=data)


def numbered(records: list[LogRecord]) -> list[LogRecord]:
    return [
        LogRecord(
            seq=i + 1,
            at=x.at,
            call_id=x.call_id,
            queue=x.queue,
            agent=x.agent,
            event=x.event,
            data=x.data,
        )
        for i, x in enumerate(records)
    ]


def queued_call_transferred_between_agents() -> list[LogRecord]:
    return [
        r(0, "CALLSTART", "09121234567", "02188776655", "inbound", "carrier"),
        r(0, "LEGSTART", "c1-a", "09121234567"),
        r(0.5, "LEGANSWER", "c1-a"),  # the IVR answers: not the call being answered
        r(10, "ENTERQUEUE", "", "09121234567", "1", queue="sales"),
        r(20, "LEGSTART", "c1-b", "1001", agent="a1"),
        r(24, "LEGANSWER", "c1-b", agent="a1"),
        r(24, "CONNECT", "14", "c1-b", "4", queue="sales", agent="a1"),
        r(25, "RECORDING", "rec-1"),
        r(30, "HOLD", "c1-a"),
        r(40, "UNHOLD", "c1-a"),
        r(50, "BLINDTRANSFER", "1002", "agents", "14", "26", "1", queue="sales", agent="a1"),
        r(50, "LEGEND", "c1-b", "transferred"),
        r(51, "LEGSTART", "c1-c", "1002", agent="a2"),
        r(55, "LEGANSWER", "c1-c", agent="a2"),
        r(60, "HOLD", "c1-a"),
        r(64, "RECORDING", "rec-2"),
        r(100, "LEGEND", "c1-c", "normal"),
        r(100, "LEGEND", "c1-a", "normal"),
        r(100, "CALLEND", "normal"),
    ]


def test_a_queued_call_transferred_from_one_agent_to_another() -> None:
    cdr = build_cdr(numbered(queued_call_transferred_between_agents()))
    assert cdr.call_id == "c1"
    assert (cdr.start, cdr.answer, cdr.end) == (T0, T0 + 24, T0 + 100)
    assert (cdr.caller, cdr.callee, cdr.direction, cdr.trunk) == (
        "09121234567",
        "02188776655",
        "inbound",
        "carrier",
    )
    assert cdr.result is CallResult.ANSWERED and cdr.cause == "normal"
    assert cdr.queues == ("sales",)
    assert cdr.agents == ("a1", "a2")
    assert cdr.recordings == ("rec-1", "rec-2")
    assert cdr.hold_seconds == 10 + 40  # the second hold lasts until the call ends
    assert cdr.talk_seconds == 100 - 24 - 50
    assert cdr.wait_seconds == 24
    assert cdr.queue_seconds == 14
    assert cdr.legs == (
        CdrLeg(leg="c1-a", party="09121234567", start=T0, answer=T0 + 0.5, end=T0 + 100,
               cause="normal"),
        CdrLeg(leg="c1-b", party="1001", start=T0 + 20, answer=T0 + 24, end=T0 + 50,
               cause="transferred"),
        CdrLeg(leg="c1-c", party="1002", start=T0 + 51, answer=T0 + 55, end=T0 + 100,
               cause="normal"),
    )  # fmt: skip


def test_order_comes_from_seq_not_from_the_order_given() -> None:
    records = numbered(queued_call_transferred_between_agents())
    assert build_cdr(reversed(records)) == build_cdr(records)


def unanswered(*middle: LogRecord, cause: str = "cancelled") -> list[LogRecord]:
    return [
        r(0, "CALLSTART", "0912", "100", "inbound", "carrier"),
        r(0, "LEGSTART", "c1-a", "0912"),
        *middle,
        r(90, "CALLEND", cause),
    ]


@pytest.mark.parametrize(
    ("records", "result"),
    [
        (unanswered(r(5, "ENTERQUEUE", "", "0912", "1", queue="q"),
                    r(45, "ABANDON", "1", "1", "40", queue="q")), CallResult.ABANDONED),
        (unanswered(r(5, "ENTERQUEUE", "", "0912", "1", queue="q"),
                    r(65, "EXITWITHTIMEOUT", "1", "1", "60", queue="q"), cause="normal"),
         CallResult.MISSED),
        (unanswered(r(5, "ENTERQUEUE", "", "0912", "1", queue="q"),
                    r(30, "CALLBACKREQUESTED", "0912", "1", "", queue="q"), cause="normal"),
         CallResult.CALLBACK),
        (unanswered(r(5, "ENTERQUEUE", "", "0912", "1", queue="q"),
                    r(30, "EXITWITHKEY", "1", "1", "1", "25", queue="q"),
                    r(31, "VOICEMAIL", "sales"), cause="normal"), CallResult.VOICEMAIL),
        (unanswered(r(1, "LEGSTART", "c1-b", "1002"), r(20, "LEGEND", "c1-b", "no_answer"),
                    cause="no_answer"), CallResult.MISSED),
        (unanswered(cause="busy"), CallResult.MISSED),
        (unanswered(cause="cancelled"), CallResult.ABANDONED),
        (unanswered(cause="no_route"), CallResult.FAILED),
        (unanswered(r(5, "ENTERQUEUE", "", "0912", "1", queue="q"),
                    r(8, "CONNECT", "3", "c1-b", "2", queue="q", agent="a9"), cause="normal"),
         CallResult.ANSWERED),
    ],
)  # fmt: skip
def test_results(records: list[LogRecord], result: CallResult) -> None:
    assert build_cdr(numbered(records)).result is result


def test_an_abandoned_call_waited_until_it_ended_and_talked_not_at_all() -> None:
    cdr = build_cdr(
        numbered(
            unanswered(
                r(5, "ENTERQUEUE", "", "0912", "1", queue="q"),
                r(45, "ABANDON", "1", "1", "40", queue="q"),
            )
        )
    )
    assert cdr.answer is None and cdr.agents == ()
    assert (cdr.wait_seconds, cdr.queue_seconds, cdr.talk_seconds) == (90, 40, 0)


def test_a_call_in_progress_has_no_end_and_counts_to_its_last_record() -> None:
    records = queued_call_transferred_between_agents()[:10]  # up to the first UNHOLD
    cdr = build_cdr(numbered(records))
    assert cdr.end is None
    assert cdr.answer == T0 + 24 and cdr.talk_seconds == 40 - 24 - 10


def test_records_of_several_calls_or_none_are_refused() -> None:
    with pytest.raises(CdrError, match="no records"):
        build_cdr([])
    with pytest.raises(CdrError, match="2 calls"):
        build_cdr([r(0, "CALLSTART"), r(1, "CALLEND", call="c2")])
