"""The interval aggregator: the hand-built log's rows, restarts, odd records, callbacks,
imported Asterisk logs, and a simulator run checked against the simulator's own summary."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from reportlog import B0, B1, LOG, T0

from tamas.acd.api import AgentSpec, QueueSpec
from tamas.core.events import NONE, LogRecord
from tamas.core.queue_log import QueueLogError, parse_line
from tamas.reporting.aggregator import Aggregator
from tamas.reporting.intervals import (
    BANDS,
    AgentInterval,
    Deltas,
    QueueInterval,
    band_index,
    bucket,
    day_starts,
    local_day,
    next_day,
    sum_agent_rows,
    sum_queue_rows,
)
from tamas.reporting.kpi import service_level
from tamas.reporting.settings import ReportSettings, SlFormula
from tamas.sim.models import ArrivalProfile, Exponential
from tamas.sim.simulation import AgentPlan, Scenario, simulate
from tamas.sim.summary import SummaryFold

FIXTURE = Path(__file__).parent.parent / "fixtures" / "queue_log" / "asterisk_sample.log"
SETTINGS = ReportSettings()


def fold(
    records: list[LogRecord], settings: ReportSettings = SETTINGS
) -> tuple[Deltas, Aggregator]:
    agg = Aggregator(settings)
    return agg.feed(records), agg


def within(row: QueueInterval, edge: int) -> int:
    return row.answered_within[BANDS.index(edge)]


def abandoned_within(row: QueueInterval, edge: int) -> int:
    return row.abandoned_within[BANDS.index(edge)]


def test_local_days_are_23_24_or_25_hours_long() -> None:
    def midnight(zone: str, y: int, m: int, d: int, hour: int = 0) -> int:
        return int(datetime(y, m, d, hour, tzinfo=ZoneInfo(zone)).timestamp())

    berlin = "Europe/Berlin"
    spring = local_day(midnight(berlin, 2026, 3, 29, 12), berlin)
    assert spring == midnight(berlin, 2026, 3, 29)
    assert next_day(spring, berlin) - spring == 23 * 3600  # 02:00 -> 03:00
    autumn = local_day(midnight(berlin, 2026, 10, 25, 12), berlin)
    assert next_day(autumn, berlin) - autumn == 25 * 3600  # 03:00 -> 02:00
    # Santiago skips its midnight on 6 September 2026 (00:00 -> 01:00): the day starts at
    # 01:00 (-03), which is 04:00 UTC; and repeats 23:00..24:00 on 4 April 2026 (25 h).
    jump = local_day(midnight("America/Santiago", 2026, 9, 6, 12), "America/Santiago")
    assert datetime.fromtimestamp(jump, UTC).hour == 4
    april = local_day(midnight("America/Santiago", 2026, 4, 4, 12), "America/Santiago")
    assert next_day(april, "America/Santiago") - april == 25 * 3600
    # Havana repeats 00:00..01:00 on 1 November 2026: the day starts at the first 00:00 (-04).
    havana = local_day(midnight("America/Havana", 2026, 11, 1, 12), "America/Havana")
    assert datetime.fromtimestamp(havana, UTC).hour == 4
    assert next_day(havana, "America/Havana") - havana == 25 * 3600
    # Tehran: +03:30 all year; the day starts at 20:30 UTC the day before.
    assert local_day(T0, "Asia/Tehran") == (int(T0) + 12600) // 86400 * 86400 - 12600
    assert day_starts(spring, spring + 1, berlin) == [spring, next_day(spring, berlin)]


def test_bucket_and_bands() -> None:
    assert bucket(T0 + 899.9) == B0 and bucket(T0 + 900) == B1
    assert bucket(T0 + 3599, 3600) == int(T0) // 3600 * 3600
    assert band_index(20) == BANDS.index(20)
    assert band_index(25) == BANDS.index(20)  # the band edge below
    assert band_index(4) == -1


def test_hand_log_sales_row() -> None:
    deltas, agg = fold(LOG)
    sales = deltas.queues[("sales", B0)]
    assert sales.offered == 4  # c1, c2, c3 and c4's second stay (entered at 290)
    assert sales.answered == 2  # c1 (wait 15), c4 (wait 300 - 290 = 10)
    assert sales.wait_answered == 25  # 15 + 10
    assert sales.ring == 4  # CONNECT ringtimes 3 + 1
    assert within(sales, 5) == 0
    assert within(sales, 10) == 1  # c4
    assert within(sales, 20) == 2  # c4 and c1
    assert sales.abandoned == 2  # c2 (3 s), c3 (60 s)
    assert sales.short_abandoned == 1  # c2: 3 < 5
    assert sales.wait_abandoned == 63  # 3 + 60
    assert abandoned_within(sales, 5) == 1 and abandoned_within(sales, 45) == 1
    assert abandoned_within(sales, 60) == 2
    assert sales.talk == 200  # c1: 145 - 25 - 20 hold = 100; c4: 400 - 300 = 100
    assert sales.hold == 20  # c1: 85..105
    assert sales.acw == 30  # a2's wrap-up after c1, 145..175
    assert sales.handled == 2
    assert sales.rang_unanswered == 2  # c1 and c3 rang a1, who did not answer
    assert sales.missed == 1  # c3: rang, then abandoned
    assert sales.transferred == 0
    assert (sales.csat_sum, sales.csat_count, sales.csat_satisfied) == (5, 1, 1)
    assert sales.repeat_contacts == 1  # c1: its caller 0911 called again (c4) at 200
    assert sales.max_wait == 60  # c3's abandon
    assert agg.unusable == {"ABANDON": 1, "EXITEMPTY": 1}
    assert agg.waiting == 0


def test_hand_log_support_row() -> None:
    deltas, _ = fold(LOG)
    support = deltas.queues[("support", B0)]
    assert support.offered == 2  # c4, c5
    assert support.answered == 1 and support.wait_answered == 30  # c4: 230 - 200
    assert support.talk == 60 and support.handled == 1  # 290 - 230
    assert support.transferred == 1  # a2 transferred c4 to sales
    assert support.timeouts == 1  # c5
    assert support.rejected == 1  # c6 (FULL), not offered
    assert support.max_wait == 60  # c5's 60 s before the timeout
    assert support.repeat_contacts == 0
    assert ("support", B1) not in deltas.queues and ("sales", B1) not in deltas.queues


def test_hand_log_agent_rows() -> None:
    deltas, _ = fold(LOG)
    a1 = deltas.agents[("a1", B0)]
    # a1 in [0, 900): available 0-300, talk 300-400 (c4), available 400-700, lunch 700-900.
    assert a1.talk == 100 and a1.available == 600 and a1.paused == 200
    assert a1.paused_by == {"lunch": 200}
    assert a1.login == 900
    assert (a1.answered, a1.handled, a1.ring_missed, a1.transfers) == (1, 1, 2, 0)
    a1b = deltas.agents[("a1", B1)]
    # [900, 1200): lunch 900-1000, available 1000-1200, then logged off.
    assert (a1b.paused, a1b.available, a1b.login) == (100, 200, 300)
    a2 = deltas.agents[("a2", B0)]
    # a2: available 0-25, talk 25-85, hold 85-105, talk 105-145, ACW 145-175, available
    # 175-230, talk 230-290 (c4), available 290-900.
    assert (a2.talk, a2.hold, a2.acw) == (160, 20, 30)
    assert a2.available == 25 + 55 + 610
    assert a2.login == 900 and a2.busy == 210
    assert (a2.answered, a2.handled, a2.transfers) == (2, 2, 1)
    assert (a2.csat_sum, a2.csat_count) == (5, 1)
    a2b = deltas.agents[("a2", B1)]
    assert a2b.available == 900 and a2b.login == 900  # 900-1800, then logged off


def total(deltas: Deltas) -> tuple[QueueInterval, AgentInterval]:
    return (
        sum_queue_rows(deltas.queues.values(), queue="*", start=0),
        sum_agent_rows(deltas.agents.values(), agent="*", start=0),
    )


@pytest.mark.parametrize("apart", [False, True], ids=["callers-in-snapshot", "callers-apart"])
@pytest.mark.parametrize("cut", [1, 5, 9, 13, 21, 26, 27, 30, 38, 41])
def test_a_restart_anywhere_gives_the_same_rows(cut: int, apart: bool) -> None:
    whole, _ = fold(LOG)
    first = Aggregator(SETTINGS)
    deltas = first.feed(LOG[:cut])
    # JSON round trip, as stored; the callers either inside it or kept apart (by changes)
    state = json.loads(json.dumps(first.snapshot(include_callers=not apart)))
    callers = first.take_caller_changes().upserted if apart else None
    again = Aggregator.restore(SETTINGS, state, callers)
    deltas.merge(again.feed(LOG[cut:]))
    for key, row in whole.queues.items():
        assert deltas.queues[key] == row
    assert set(deltas.queues) == set(whole.queues)
    for key, arow in whole.agents.items():
        got = deltas.agents[key]
        assert got.columns() == pytest.approx(arow.columns())
        assert got.paused_by == pytest.approx(arow.paused_by)
    assert again.unusable == {"ABANDON": 1, "EXITEMPTY": 1}


def test_one_record_at_a_time_sums_like_one_batch() -> None:
    whole, _ = fold(LOG)
    agg = Aggregator(SETTINGS)
    deltas = Deltas()
    for rec in LOG:
        deltas.merge(agg.feed([rec]))
    q, a = total(deltas)
    wq, wa = total(whole)
    assert q.columns() == wq.columns()
    assert a.columns() == pytest.approx(wa.columns())
    assert deltas.unusable == 2


def test_caller_changes_say_what_a_store_must_write_and_forget() -> None:
    agg = Aggregator(SETTINGS)
    agg.feed(LOG[:13])  # c1 (0911) entered and was answered, c2 (0912), c3 (0913) entered
    first = agg.take_caller_changes()
    assert sorted(first.upserted) == ["0911", "0912", "0913"]
    assert first.upserted["0911"].answered and first.removed == frozenset()
    assert not agg.take_caller_changes()  # nothing since
    agg.feed(LOG[13:])  # c4 (0911 again) marks c1; c5 (0915) enters
    second = agg.take_caller_changes()
    assert sorted(second.upserted) == ["0911", "0915"]
    assert second.upserted["0911"].call_id == "c4"
    # Seven days and a prune later every number is forgotten.
    late = LogRecord(at=T0 + 8 * 86400, call_id="cz", queue="sales", event="FULL")
    agg.feed([late])
    assert agg.take_caller_changes().removed == {"0911", "0912", "0913", "0915"}
    # A whole (old) snapshot's callers count as changed once restored: the store gets them.
    again = Aggregator.restore(SETTINGS, json.loads(json.dumps(first_snapshot())))
    assert sorted(again.take_caller_changes().upserted) == ["0911", "0912", "0913"]


def first_snapshot() -> dict[str, object]:
    agg = Aggregator(SETTINGS)
    agg.feed(LOG[:13])
    return agg.snapshot()


def test_the_snapshot_stays_small_with_100k_callers() -> None:
    agg = Aggregator(SETTINGS)
    records = []
    for i in range(100_000):
        at = i * 3.0  # 100k calls over 3.5 days, each abandoned after 2 s
        records.append(rec(at, "ENTERQUEUE", f"c{i}", data=("", f"0900{i:07d}", "1")))
        records.append(rec(at + 2, "ABANDON", f"c{i}", data=("1", "1", "2")))
    agg.feed(records)
    small = json.dumps(agg.snapshot(include_callers=False))
    whole = json.dumps(agg.snapshot())
    assert len(small) < 2_000 < 5_000_000 < len(whole)  # every number with its stay
    assert len(agg.take_caller_changes().upserted) == 100_000


def test_restore_of_nothing_is_a_fresh_aggregator_and_a_bad_version_is_refused() -> None:
    assert Aggregator.restore(SETTINGS, {}).snapshot() == Aggregator(SETTINGS).snapshot()
    with pytest.raises(ValueError, match="version"):
        Aggregator.restore(SETTINGS, {"version": 99})


def rec(at: float, event: str, call: str = NONE, queue: str = "q", agent: str = NONE,
        data: tuple[str, ...] = ()) -> LogRecord:  # fmt: skip
    return LogRecord(at=T0 + at, call_id=call, queue=queue, agent=agent, event=event, data=data)


def test_callbacks_keep_their_place_and_count_once() -> None:
    deltas, agg = fold(
        [
            rec(0, "AGENTLOGIN", agent="a", queue=NONE),
            rec(0, "ENTERQUEUE", "cb", data=("", "0920", "1")),
            rec(30, "CALLBACKREQUESTED", "cb", data=("0920", "1", "")),
            rec(31, "CALLEND", "cb", queue=NONE, data=("normal",)),  # not a disconnect
            rec(100, "CALLBACKSTARTED", "cb", agent="a", data=("0920", "1")),
            rec(160, "CALLBACKFAILED", "cb", agent="a", data=("1",)),
            rec(500, "CALLBACKSTARTED", "cb", agent="a", data=("0920", "2")),
            rec(520, "CALLBACKCOMPLETED", "cb", agent="a", data=("520", "2")),
            rec(580, "COMPLETEAGENT", "cb", agent="a", data=("520", "60", "1")),
            rec(600, "ENTERQUEUE", "gone", data=("", "0921", "1")),
            rec(610, "CALLBACKREQUESTED", "gone", data=("0921", "1", "")),
            rec(700, "CALLBACKLISTED", "gone", data=("0921", "3")),
        ]
    )
    row = deltas.queues[("q", B0)]
    assert (row.offered, row.answered, row.abandoned, row.disconnected) == (2, 1, 0, 0)
    assert (row.callbacks_requested, row.callbacks_failed) == (2, 1)
    assert (row.callbacks_completed, row.callbacks_listed) == (1, 1)
    assert row.wait_answered == 520  # from entering the queue to the callback conversation
    assert row.talk == 60 and row.handled == 1  # 580 - 520
    assert deltas.agents[("a", B0)].answered == 1
    assert agg.waiting == 0 and agg.unusable == {}


def test_a_call_ending_while_waiting_is_disconnected_and_open_calls_count_as_waiting() -> None:
    deltas, agg = fold(
        [
            rec(0, "ENTERQUEUE", "x", data=("", "1", "1")),
            rec(40, "CALLEND", "x", queue=NONE, data=("failed",)),
            rec(50, "ENTERQUEUE", "y", data=("", "2", "1")),
        ]
    )
    row = deltas.queues[("q", B0)]
    assert (row.offered, row.disconnected, row.abandoned, row.max_wait) == (2, 1, 0, 40)
    assert agg.waiting == 1  # y


def test_an_eight_hour_login_spreads_over_32_rows() -> None:
    deltas, _ = fold(
        [rec(0, "AGENTLOGIN", agent="a", queue=NONE), rec(8 * 3600, "AGENTLOGOFF", agent="a")]
    )
    rows = [deltas.agents[("a", B0 + 900 * i)] for i in range(32)]
    assert len(deltas.agents) == 32
    assert all(r.login == 900 and r.available == 900 for r in rows)


def test_open_spans_are_counted_up_to_the_newest_record() -> None:
    agg = Aggregator(SETTINGS)
    first = agg.feed([rec(0, "AGENTLOGIN", agent="a", queue=NONE), rec(100, "ENTERQUEUE", "c")])
    assert first.agents[("a", B0)].available == 100  # logged in, no record of the agent since
    second = agg.feed([rec(1000, "ABANDON", "c", data=("1", "1", "900"))])
    assert second.agents[("a", B0)].available == 800  # 100..900
    assert second.agents[("a", B1)].available == 100  # 900..1000


def test_odd_records_are_counted_never_raised() -> None:
    deltas, agg = fold(
        [
            rec(0, "CONNECT", "nobody", agent="a", data=("x", "", "bad")),
            rec(1, "ENTERQUEUE", "c", queue=NONE),
            rec(2, "PAUSE", agent=NONE),
            rec(3, "SURVEY", "c", agent="a", data=("seven", "5")),
            rec(4, "SURVEY", "c", agent="a", data=("9", "5")),
            rec(5, "COMPLETEAGENT", "nobody", agent="a"),
            rec(6, "RINGNOANSWER", "nobody"),
            rec(7, "WHATEVER", "c"),
        ]
    )
    assert agg.unusable == {"CONNECT": 1, "ENTERQUEUE": 1, "PAUSE": 1, "SURVEY": 2,
                            "COMPLETEAGENT": 1, "RINGNOANSWER": 1}  # fmt: skip
    assert deltas.unusable == 7
    # The agent's conversation is real even if the queue stay is unknown: talk 0..5.
    assert deltas.agents[("a", B0)].talk == 5


def test_imported_asterisk_queue_log() -> None:
    records = []
    for lineno, line in enumerate(FIXTURE.read_text().splitlines(), 1):
        try:
            records.append(parse_line(line, lineno))
        except QueueLogError:
            continue
    deltas, agg = fold(records)
    sales = sum_queue_rows(
        (r for (q, _), r in deltas.queues.items() if q == "sales"), queue="sales", start=0
    )
    support = sum_queue_rows(
        (r for (q, _), r in deltas.queues.items() if q == "support"), queue="support", start=0
    )
    # sales: .11 answered (wait 12), .20 abandoned (45), .33 and .40 answered and transferred
    # (blind, attended), .50 answered; .70 still waiting at the end of the file.
    assert (sales.offered, sales.answered, sales.abandoned, sales.transferred) == (6, 4, 1, 2)
    assert sales.wait_answered == 12 + 3 + 5 + 4
    assert (support.offered, support.timeouts, support.exit_key) == (2, 1, 1)
    assert agg.unusable == {"EXITEMPTY": 1}  # .60 left support without having entered it
    assert agg.waiting == 1
    pauses = sum_agent_rows(
        (r for (a, _), r in deltas.agents.items() if a == "PJSIP/1002"), agent="", start=0
    )
    assert pauses.paused_by == {"lunch": 1100 - 20}
    assert pauses.login == 1300 - 11


def simulated() -> list[LogRecord]:
    scenario = Scenario(
        queues=(QueueSpec(name="q", wrapup=5.0),),
        agents=tuple(AgentPlan(spec=AgentSpec(id=f"a{i}", queues={"q": 0})) for i in range(3)),
        arrivals={"q": ArrivalProfile.constant(per_hour=60.0)},
        handle_time=Exponential(mean=150.0),
        patience=Exponential(mean=60.0),
        seed=3,
    )
    records: list[LogRecord] = []
    simulate(scenario, records.append, calls=1500)  # type: ignore[arg-type]
    return records


def test_a_simulator_run_agrees_with_the_simulators_summary() -> None:
    records = simulated()
    summary = SummaryFold(threshold=20.0)
    for r in records:
        summary.add(r)
    kpis = summary.result(records[-1].at)
    agg = Aggregator(SETTINGS)
    deltas = Deltas()
    for i in range(0, len(records), 500):
        deltas.merge(agg.feed(records[i : i + 500]))
    row, agents = total(deltas)
    assert (row.offered, row.answered, row.abandoned) == (
        kpis.offered,
        kpis.answered,
        kpis.abandoned,
    )
    assert kpis.abandoned > 50  # the run is one where SL is not trivially 1
    # The simulator's SL is answered within T ÷ finished calls (no exits here): "offered".
    offered_sl = ReportSettings(sl_formula=SlFormula.OFFERED)
    assert service_level(row, offered_sl) == pytest.approx(kpis.service_level)
    assert row.wait_answered / row.answered == pytest.approx(kpis.asa)
    assert row.talk / row.handled == pytest.approx(kpis.aht)
    assert agents.answered == row.answered


def test_scheduled_callbacks_count_as_callbacks_not_as_offered_calls() -> None:
    t0 = 1_800_000_000.0

    def rec(dt: float, call: str, event: str, *data: str, agent: str = NONE,
            queue: str = "sales") -> LogRecord:  # fmt: skip
        return LogRecord(at=t0 + dt, call_id=call, queue=queue, agent=agent, event=event, data=data)

    agg = Aggregator(ReportSettings())
    deltas = agg.feed([
        # cb-1: scheduled from the API at 0 for t0+300; an agent and the customer talk 300..400
        rec(0, "cb-1", "CALLBACKREQUESTED", "0912", "", repr(t0 + 300)),
        rec(300, "cb-1", "CALLBACKSTARTED", "0912", "1", agent="a1"),
        rec(310, "cb-1", "CALLBACKCOMPLETED", "310", "1", agent="a1"),
        rec(400, "cb-1", "COMPLETEAGENT", "310", "90", "1", agent="a1"),
        # cb-2: scheduled, then cancelled
        rec(20, "cb-2", "CALLBACKREQUESTED", "0913", "", ""),
        rec(30, "cb-2", "CALLBACKCANCELLED", "resolved"),
    ])  # fmt: skip
    row = deltas.queues[("sales", int(t0))]
    assert (row.offered, row.answered) == (0, 0)  # no caller waited: not an inbound call
    assert (row.callbacks_requested, row.callbacks_completed) == (2, 1)
    assert row.handled == 1 and row.talk == 90.0  # the conversation 310..400 is work done
    assert agg.unusable == {} and agg.waiting == 0
