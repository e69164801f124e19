"""Callbacks scheduled with no call (CallbackScheduled), cancelled, and listed."""

import pytest

from tamas.acd import (
    AcdError,
    AgentState,
    CallbackInProgress,
    DuplicateCallback,
    UnknownCallback,
    api,
)
from tamas.acd.testing import Driver

OPTS = api.AcdOptions(callback_attempts=2, callback_retry=600.0, callback_window=60.0)


def center(**kw: object) -> Driver:
    q = api.QueueSpec(name="q", strategy="sequential", wrapup=0, **kw)  # type: ignore[arg-type]
    r = api.QueueSpec(name="r", strategy="sequential", wrapup=0)
    return Driver([q, r], [api.AgentSpec(id="a", queues={"q": 0, "r": 0})], OPTS)


def starts(d: Driver) -> list[api.StartCallback]:
    return [c for c in d.commands if isinstance(c, api.StartCallback)]


def schedule(cb: str = "cb1", at: float | None = None, **kw: object) -> api.CallbackScheduled:
    return api.CallbackScheduled(callback_id=cb, queue="q", number="0912", at=at, **kw)  # type: ignore[arg-type]


def test_scheduled_for_later_waits_out_of_line_then_calls_agent_first() -> None:
    d = center()
    d.login(0, "a")
    d.at(10, schedule(at=500.0))
    assert d.events("CALLBACKREQUESTED")[0].data == ("0912", "", "500.0")
    assert d.events("CALLBACKREQUESTED")[0].call_id == "cb1"
    assert d.acd.waiting("q") == [] and starts(d) == []
    assert d.acd.callbacks() == [
        api.PendingCallback(callback_id="cb1", queue="q", number="0912", state="scheduled",
                            at=500.0, position=None, attempts=0)
    ]  # fmt: skip
    d.advance(499.9)
    assert starts(d) == []
    d.advance(500)
    assert starts(d) == [
        api.StartCallback(callback_id="cb1", agent="a", device="dev-a", number="0912", window=60.0)
    ]
    assert d.events("CALLBACKSTARTED")[0].at == 500.0
    assert [p.state for p in d.acd.callbacks()] == ["ringing"]
    assert d.acd.callbacks()[0].agent == "a"
    d.at(520, api.CallbackResult(callback_id="cb1", outcome="answered"))
    assert d.acd.agent_state("a") is AgentState.ON_CALL
    # waited from its time (500) to the answer (520): 20 s, first attempt
    assert d.events("CALLBACKCOMPLETED")[0].data == ("20", "1")
    assert d.acd.callbacks() == []
    d.at(580, api.CallEnded(call_id="cb1", by="agent"))
    # holdtime 520 - 500 = 20, calltime 580 - 520 = 60, origposition 1 (alone in the line)
    assert d.events("COMPLETEAGENT")[0].data == ("20", "60", "1")
    assert d.acd.agent_state("a") is AgentState.AVAILABLE
    assert d.events("ABANDON") == [] and d.events("ENTERQUEUE") == []


def test_scheduled_now_joins_the_line_at_once_behind_earlier_callers() -> None:
    d = center()
    d.at(1, api.CallerArrived(call_id="x", queue="q"))
    d.at(2, schedule())  # at None: now
    d.at(3, schedule("cb2", at=1.0))  # a time already past: now too, at 3
    d.at(4, api.CallerArrived(call_id="y", queue="q"))
    assert d.acd.waiting("q") == ["x", "cb1", "cb2", "y"]
    assert [r.data for r in d.events("CALLBACKREQUESTED")] == [
        ("0912", "2", ""),
        ("0912", "3", "1.0"),
    ]
    assert [(p.callback_id, p.state, p.position) for p in d.acd.callbacks("q")] == [
        ("cb1", "waiting", 2),
        ("cb2", "waiting", 3),
    ]
    assert d.acd.callbacks("r") == []


def test_scheduled_at_a_time_goes_ahead_of_callers_arriving_after_that_time_only() -> None:
    d = center()
    d.at(1, api.CallerArrived(call_id="x", queue="q"))
    d.at(2, schedule(at=100.0))
    d.at(50, api.CallerArrived(call_id="y", queue="q"))
    d.advance(100)
    d.at(150, api.CallerArrived(call_id="z", queue="q"))
    # joins at 100: after x (1) and y (50), before z (150)
    assert d.acd.waiting("q") == ["x", "y", "cb1", "z"]


def test_priority_puts_a_scheduled_callback_first() -> None:
    d = center()
    d.at(1, api.CallerArrived(call_id="x", queue="q"))
    d.at(2, schedule(priority=2))
    assert d.acd.waiting("q") == ["cb1", "x"]


def test_skills_are_required_of_the_agent() -> None:
    d = center()
    d.login(0, "a")
    d.at(1, schedule(skills={"fa": 3}))  # agent a has no skills
    assert starts(d) == []
    assert [p.state for p in d.acd.callbacks()] == ["waiting"]


def test_failed_attempts_retry_then_listed() -> None:
    d = center()
    d.login(0, "a")
    d.at(1, schedule())
    d.at(5, api.CallbackResult(callback_id="cb1", outcome="failed"))
    assert d.events("CALLBACKFAILED")[0].data == ("1",)
    # retry 600 s after the failure at 5: 605
    assert d.acd.callbacks() == [
        api.PendingCallback(callback_id="cb1", queue="q", number="0912", state="retry-wait",
                            at=605.0, position=None, attempts=1)
    ]  # fmt: skip
    d.advance(605)
    assert len(starts(d)) == 2
    d.at(610, api.CallbackResult(callback_id="cb1", outcome="failed"))
    assert d.events("CALLBACKLISTED")[0].data == ("0912", "2")
    assert d.acd.callbacks() == []
    assert d.acd.agent_state("a") is AgentState.AVAILABLE


def test_cancel_a_scheduled_one() -> None:
    d = center()
    d.login(0, "a")
    d.at(1, schedule(at=100.0))
    d.at(2, api.CallbackCancelled(callback_id="cb1", reason="customer called in"))
    (rec,) = d.events("CALLBACKCANCELLED")
    assert (rec.call_id, rec.queue, rec.agent, rec.data) == (
        "cb1", "q", "NONE", ("customer called in",)
    )  # fmt: skip
    d.advance(1000)
    assert starts(d) == [] and d.acd.callbacks() == [] and d.acd.next_deadline() is None


def test_cancel_one_waiting_in_line_and_one_waiting_to_retry() -> None:
    d = center()
    d.at(1, api.CallerArrived(call_id="x", queue="q"))
    d.at(2, schedule())
    d.at(3, api.CallerArrived(call_id="y", queue="q"))
    d.at(4, api.CallbackCancelled(callback_id="cb1"))
    assert d.acd.waiting("q") == ["x", "y"]
    d.at(5, schedule("cb2"))
    d.login(6, "a")
    # x is first in line: rung; cb2 waits
    d.at(7, api.RingAnswered(call_id="x", agent="a"))
    d.at(8, api.CallEnded(call_id="x", by="caller"))
    # then y (ahead of cb2, arrived at 3 < 5)
    d.at(9, api.RingAnswered(call_id="y", agent="a"))
    d.at(10, api.CallEnded(call_id="y", by="caller"))
    assert [s.callback_id for s in starts(d)] == ["cb2"]
    d.at(11, api.CallbackResult(callback_id="cb2", outcome="failed"))
    d.at(12, api.CallbackCancelled(callback_id="cb2"))
    assert len(d.events("CALLBACKCANCELLED")) == 2
    d.advance(2000)
    assert len(starts(d)) == 1 and d.acd.callbacks() == []


def test_cancel_a_kept_place_callback() -> None:
    d = center()
    d.at(1, api.CallerArrived(call_id="x", queue="q"))
    d.at(2, api.CallbackRequested(call_id="x", number="0933"))
    assert [p.callback_id for p in d.acd.callbacks()] == ["x"]
    d.at(3, api.CallbackCancelled(callback_id="x", reason="api"))
    assert d.acd.waiting("q") == [] and d.acd.callbacks() == []
    assert d.names() == ["ENTERQUEUE", "CALLBACKREQUESTED", "CALLBACKCANCELLED"]


def test_refusals_change_nothing() -> None:
    d = center()
    d.at(1, api.CallerArrived(call_id="x", queue="q"))
    with pytest.raises(AcdError, match="unknown queue"):
        d.at(2, api.CallbackScheduled(callback_id="cb1", queue="nope", number="1"))
    with pytest.raises(DuplicateCallback):
        d.at(2, schedule("x"))  # a caller's id
    with pytest.raises(AcdError, match="number"):
        d.at(2, api.CallbackScheduled(callback_id="cb1", queue="q", number=""))
    with pytest.raises(AcdError, match="not a time"):
        d.at(2, schedule(at=float("nan")))
    with pytest.raises(UnknownCallback):
        d.at(2, api.CallbackCancelled(callback_id="nope"))
    with pytest.raises(UnknownCallback):
        d.at(2, api.CallbackCancelled(callback_id="x"))  # a live caller, not a callback
    assert d.names() == ["ENTERQUEUE"]
    assert d.acd.waiting("q") == ["x"]
    d.at(3, schedule())
    with pytest.raises(DuplicateCallback):
        d.at(4, schedule(at=50.0))
    with pytest.raises(AcdError, match="unknown queue"):
        d.acd.callbacks("nope")


def test_cancel_refused_while_the_agent_is_called_and_after_it_was_made() -> None:
    d = center()
    d.login(0, "a")
    d.at(1, schedule())
    with pytest.raises(CallbackInProgress):
        d.at(2, api.CallbackCancelled(callback_id="cb1"))
    assert d.acd.agent_state("a") is AgentState.RESERVED
    d.at(3, api.CallbackResult(callback_id="cb1", outcome="answered"))
    with pytest.raises(UnknownCallback):
        d.at(4, api.CallbackCancelled(callback_id="cb1"))  # connected: nothing pending
    assert d.events("CALLBACKCANCELLED") == []


def test_listing_orders_in_line_first_then_by_time() -> None:
    d = center()
    d.at(1, schedule("late", at=900.0))
    d.at(2, schedule("soon", at=300.0))
    d.at(3, schedule("now"))
    d.at(4, api.CallbackScheduled(callback_id="other", queue="r", number="5"))
    assert [(p.callback_id, p.state) for p in d.acd.callbacks()] == [
        ("now", "waiting"),
        ("soon", "scheduled"),
        ("late", "scheduled"),
        ("other", "waiting"),
    ]
