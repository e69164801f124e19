"""The report maintainer with a real event log and store: live aggregates, a restart in the
middle of calls, a database failure, all giving the figures of one uninterrupted run."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tamas.core.events import NONE, LogRecord
from tamas.reporting.intervals import AgentInterval, QueueInterval, local_day
from tamas.reporting.settings import ReportSettings
from tamas.runtime.eventlog import EventLog, FsyncPolicy
from tamas.runtime.reports import ReportMaintainer
from tamas.store import Store, open_store
from tamas.store import reports as store_reports

T0 = 1_800_000_000.0
END = T0 + 86400
SETTINGS = ReportSettings()
ZONE = "Asia/Tehran"
WAIT = 120.0  # generous: a slow machine must not fail the test


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


def rec(at: float, event: str, call: str = NONE, queue: str = "q", agent: str = NONE,
        data: tuple[str, ...] = ()) -> LogRecord:  # fmt: skip
    return LogRecord(at=T0 + at, call_id=call, queue=queue, agent=agent, event=event, data=data)


def day() -> list[list[LogRecord]]:
    """Batches as the ACD appends them: two agents, 30 calls, overlapping, some abandoned."""
    batches = [
        [rec(0, "AGENTLOGIN", agent="a", queue=NONE), rec(0, "ADDMEMBER", agent="a")],
        [rec(0, "AGENTLOGIN", agent="b", queue=NONE), rec(0, "ADDMEMBER", agent="b")],
    ]
    for i in range(30):
        t, call, agent = 100.0 * i, f"c{i}", "ab"[i % 2]
        batches.append([rec(t, "ENTERQUEUE", call, data=("", f"09{i % 7}", "1"))])
        if i % 5 == 4:
            batches.append([rec(t + 40, "ABANDON", call, data=("1", "1", "40"))])
            continue
        batches.append([rec(t + 5 + i % 3, "CONNECT", call, agent=agent, data=("5", "d", "1"))])
        batches.append([rec(t + 60, "HOLD", call, agent=agent)])
        batches.append([rec(t + 70, "UNHOLD", call, agent=agent)])
        batches.append(
            [
                rec(t + 150, "COMPLETECALLER", call, agent=agent, data=("5", "140", "1")),
                rec(t + 150, "WRAPUPSTART", call, agent=agent, data=("10",)),
            ]
        )
        batches.append([rec(t + 151, "CALLEND", call, queue=NONE, data=("normal",))])
        batches.append([rec(t + 160, "WRAPUPEND", agent=agent, queue=NONE)])
    batches.append([rec(1500, "PAUSE", agent="a", data=("coffee",))])
    batches.append([rec(2000, "UNPAUSE", agent="a")])
    batches.append([rec(3400, "AGENTLOGOFF", agent="a", queue=NONE)])
    batches.append([rec(3600, "AGENTLOGOFF", agent="b", queue=NONE)])
    # The log's order is the order of appends; sort the batches by time like the ACD would.
    return sorted(batches, key=lambda b: b[0].at)


def figures(engine: sa.Engine) -> tuple[list[QueueInterval], list[AgentInterval]]:
    return (
        store_reports.queue_rows(engine, T0, END, group_by="interval"),
        store_reports.agent_rows(engine, T0, END, group_by="interval"),
    )




def day_figures(engine: sa.Engine) -> list[QueueInterval]:
    """One local day (Tehran) holding the whole test day, read from the day tables."""
    start = local_day(T0, ZONE)
    assert store_reports.days_ready(engine, ZONE)
    return store_reports.queue_rows(engine, start, start + 86400, group_by="day", zone=ZONE)


def run(store: Store, directory: Path, batches: list[list[LogRecord]]) -> None:
    elog = EventLog.open(directory, store, fsync=FsyncPolicy.NEVER)
    maintainer = ReportMaintainer(store.engine, SETTINGS, poll=0.2, batch=7, zone=ZONE)
    maintainer.start()
    unsubscribe = elog.subscribe(maintainer.notify)
    try:
        for batch in batches:
            elog.append(batch)
        assert maintainer.wait_for(elog.last_seq, timeout=WAIT)
    finally:
        unsubscribe()
        maintainer.stop()
        elog.close()


def assert_same(
    got: tuple[list[QueueInterval], list[AgentInterval]],
    want: tuple[list[QueueInterval], list[AgentInterval]],
) -> None:
    assert got[0] == want[0]
    assert [(r.agent, r.start) for r in got[1]] == [(r.agent, r.start) for r in want[1]]
    for g, w in zip(got[1], want[1], strict=True):
        assert g.columns() == pytest.approx(w.columns())
        assert g.paused_by == pytest.approx(w.paused_by)


def test_restart_in_the_middle_of_calls_gives_the_uninterrupted_figures(
    store_url: str, tmp_path: Path
) -> None:
    batches = day()
    with open_store(store_url) as whole:
        run(whole, tmp_path / "a", batches)
        want = figures(whole.engine)
        want_days = day_figures(whole.engine)
        store_reports.clear(whole.engine)  # every aggregate table (and the state)
        with whole.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM events"))
    # 30 calls offered, 6 abandoned (c4, c9, ..., c29), 24 answered: not a vacuous check.
    assert sum(r.offered for r in want[0]) == 30
    assert sum(r.answered for r in want[0]) == 24
    with open_store(store_url) as first:
        run(first, tmp_path / "b", batches[:42])  # stops with c6 on hold (660..670)
    with open_store(store_url) as second:  # a new process: state from the database
        assert store_reports.load_state(second.engine)[0] > 0
        run(second, tmp_path / "b", batches[42:])
        assert_same(figures(second.engine), want)
        assert day_figures(second.engine) == want_days
    # the day rows (read for whole days) sum like the 15-minute rows
    (day_row,) = want_days
    assert day_row.offered == 30 and day_row.answered == 24
    assert day_row.repeat_contacts == sum(r.repeat_contacts for r in want[0])


def test_a_database_failure_is_retried_without_loss_or_double_count(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    batches = day()
    elog = EventLog.open(tmp_path / "events", store, fsync=FsyncPolicy.NEVER)
    for batch in batches:
        elog.append(batch)
    elog.flush()
    maintainer = ReportMaintainer(store.engine, SETTINGS, poll=0.05, batch=10, retry=0.05)
    maintainer.step()  # the first 10 records
    with store.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE queue_intervals RENAME TO queue_intervals_away"))
    with caplog.at_level(logging.ERROR, logger="tamas.reports"):
        maintainer.start()
        while maintainer.errors < 2:
            maintainer.wait_for(elog.last_seq, timeout=0.05)
        with store.engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE queue_intervals_away RENAME TO queue_intervals"))
        assert maintainer.wait_for(elog.last_seq, timeout=WAIT)
    maintainer.stop()
    elog.close()
    assert "report aggregates" in caplog.text
    rows, _ = figures(store.engine)
    # Every call once: 30 offered, 6 abandoned (c4, c9, ..., c29), 24 answered.
    assert sum(r.offered for r in rows) == 30
    assert sum(r.abandoned for r in rows) == 6 and sum(r.answered for r in rows) == 24
    # Talk per answered call: 150 - (5 + i % 3) - 10 of hold.
    talk = sum(150 - (5 + i % 3) - 10 for i in range(30) if i % 5 != 4)
    assert sum(r.talk for r in rows) == pytest.approx(talk)
