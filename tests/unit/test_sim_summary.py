"""The simulator's KPI fold over event log records."""

from __future__ import annotations

import pytest

from tamas.core.events import LogRecord
from tamas.sim.summary import SummaryFold


def rec(
    at: float, event: str, call: str = "NONE", queue: str = "q", agent: str = "NONE"
) -> LogRecord:
    return LogRecord(at=at, call_id=call, queue=queue, agent=agent, event=event)


def test_fold_counts_waits_and_occupancy() -> None:
    fold = SummaryFold(threshold=20.0)
    for r in [
        rec(0, "AGENTLOGIN", agent="a1", queue="NONE"),
        rec(0, "ADDMEMBER", agent="a1"),  # per-queue repeat: applied as a flag
        rec(10, "ENTERQUEUE", "c1"),
        rec(10, "CONNECT", "c1", agent="a1"),  # no wait
        rec(20, "ENTERQUEUE", "c2"),
        rec(70, "COMPLETECALLER", "c1", agent="a1"),  # talk 60
        rec(70, "CONNECT", "c2", agent="a1"),  # waited 50
        rec(80, "ENTERQUEUE", "c3"),
        rec(95, "ABANDON", "c3"),
        rec(100, "PAUSE", agent="a1"),
        rec(100, "PAUSE", agent="a1", queue="other"),
        rec(110, "COMPLETEAGENT", "c2", agent="a1"),  # talk 40
        rec(150, "UNPAUSE", agent="a1"),
        rec(160, "ENTERQUEUE", "c4"),
        rec(170, "EXITWITHTIMEOUT", "c4"),
        rec(180, "ENTERQUEUE", "c5"),
        rec(190, "ENTERQUEUE", "c6", queue="other"),
        rec(195, "FULL", "c7"),
        rec(200, "AGENTLOGOFF", agent="a1", queue="NONE"),
    ]:
        fold.add(r)
    k = fold.result(end=300)
    assert (k.offered, k.answered, k.abandoned, k.other_exits, k.waiting_at_end) == (6, 2, 1, 1, 2)
    assert k.rejected == 1
    assert k.p_wait == pytest.approx(3 / 4)  # c2, c3, c4 waited; c1 did not
    assert k.asa == pytest.approx(25.0)
    assert k.max_wait == 50.0
    assert k.service_level == pytest.approx(1 / 4)
    assert k.abandon_rate == pytest.approx(1 / 4)
    assert k.aht == pytest.approx(50.0)
    # Staffed 0-100 and 150-200 = 150 s; talk 100 s.
    assert k.occupancy == pytest.approx(100 / 150)


def test_warmup_leaves_out_early_calls_and_time() -> None:
    fold = SummaryFold(warmup=100.0)
    for r in [
        rec(0, "AGENTLOGIN", agent="a1"),
        rec(50, "ENTERQUEUE", "early"),
        rec(90, "CONNECT", "early", agent="a1"),
        rec(150, "COMPLETECALLER", "early", agent="a1"),  # 50 s of it after warm-up
        rec(160, "ENTERQUEUE", "late"),
        rec(170, "CONNECT", "late", agent="a1"),
    ]:
        fold.add(r)
    k = fold.result(end=200)
    assert (k.offered, k.answered) == (1, 1)
    assert k.asa == 10.0
    assert k.aht == 0.0  # the early call's talk is not a post-warm-up call; late still talking
    assert k.occupancy == pytest.approx((50 + 30) / 100)


def test_empty_fold_has_zero_ratios() -> None:
    k = SummaryFold().result(end=0.0)
    assert (k.offered, k.p_wait, k.asa, k.occupancy) == (0, 0.0, 0.0, 0.0)
