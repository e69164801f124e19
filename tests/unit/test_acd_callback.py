"""Callbacks: keep the caller's place, are never ABANDON, scheduled, retried, then listed."""

from tamas.acd import AgentState, api
from tamas.acd.testing import Driver

CB = api.Destination(kind=api.DestinationKind.CALLBACK)
OPTS = api.AcdOptions(callback_attempts=2, callback_retry=600.0, callback_window=60.0)


def center(**kw: object) -> Driver:
    q = api.QueueSpec(name="q", strategy="sequential", wrapup=0, **kw)  # type: ignore[arg-type]
    return Driver([q], [api.AgentSpec(id="a", queues={"q": 0})], OPTS)


def starts(d: Driver) -> list[api.StartCallback]:
    return [c for c in d.commands if isinstance(c, api.StartCallback)]


def test_callback_keeps_position_ahead_of_later_callers() -> None:
    d = center()
    d.at(1, api.CallerArrived(call_id="x", queue="q"))
    d.at(2, api.CallerArrived(call_id="y", queue="q"))
    d.at(3, api.CallbackRequested(call_id="x", number="0912"))
    d.at(4, api.CallerHungUp(call_id="x"))  # the runtime hangs up the caller's channel
    d.at(5, api.CallerArrived(call_id="z", queue="q"))
    assert d.acd.waiting("q") == ["x", "y", "z"]
    assert d.events("CALLBACKREQUESTED")[0].data == ("0912", "1", "")
    assert d.events("ABANDON") == []
    d.login(10, "a")
    assert starts(d) == [
        api.StartCallback(callback_id="x", agent="a", device="dev-a", number="0912", window=60.0)
    ]
    assert d.rung() == []  # y waits: the callback was first
    d.at(15, api.CallbackResult(callback_id="x", outcome="answered"))
    assert d.acd.agent_state("a") is AgentState.ON_CALL
    assert d.events("CALLBACKCOMPLETED")[0].data == ("14", "1")
    d.at(75, api.CallEnded(call_id="x", by="agent"))
    assert d.rung() == [("a",)] and d.rung("y") == [("a",)]
    assert d.events("ABANDON") == []


def test_exit_key_to_callback_is_a_callback_request() -> None:
    d = center(exit_keys={"1": CB})
    d.at(1, api.CallerArrived(call_id="x", queue="q", caller="0933"))
    d.at(2, api.CallerPressed(call_id="x", digit="1"))
    assert d.commands[-1] == api.RouteCaller(call_id="x", destination=CB, reason="key")
    assert d.names() == ["ENTERQUEUE", "CALLBACKREQUESTED"]
    assert d.acd.waiting("q") == ["x"]


def test_callback_is_not_subject_to_max_wait_and_frees_a_place() -> None:
    d = center(max_wait=30.0, max_callers=1)
    d.at(1, api.CallerArrived(call_id="x", queue="q"))
    d.at(2, api.CallbackRequested(call_id="x", number="1"))
    d.at(3, api.CallerArrived(call_id="y", queue="q"))  # x has no channel: not full
    d.advance(1000)
    assert [r.call_id for r in d.events("EXITWITHTIMEOUT")] == ["y"]
    assert d.acd.waiting("q") == ["x"]


def test_scheduled_callback_fires_at_its_time() -> None:
    d = center()
    d.login(0, "a")
    d.at(0, api.AgentPause(agent="a", reason="x"))
    d.at(1, api.CallerArrived(call_id="x", queue="q"))
    d.at(2, api.CallbackRequested(call_id="x", number="1", at=500.0))
    assert d.acd.waiting("q") == []
    d.at(3, api.AgentUnpause(agent="a"))
    d.advance(499.9)
    assert starts(d) == []
    d.advance(500)
    assert [s.callback_id for s in starts(d)] == ["x"]
    assert d.events("CALLBACKSTARTED")[0].at == 500.0


def test_scheduled_callback_goes_ahead_of_later_callers() -> None:
    d = center()
    d.at(1, api.CallerArrived(call_id="x", queue="q"))
    d.at(2, api.CallbackRequested(call_id="x", number="1", at=100.0))
    d.at(50, api.CallerArrived(call_id="y", queue="q"))
    d.advance(100)
    assert d.acd.waiting("q") == ["x", "y"]


def test_failed_callback_retried_then_listed() -> None:
    d = center()
    d.login(0, "a")
    d.at(0, api.AgentPause(agent="a", reason="x"))
    d.at(1, api.CallerArrived(call_id="x", queue="q"))
    d.at(2, api.CallbackRequested(call_id="x", number="1"))
    d.at(3, api.AgentUnpause(agent="a"))
    d.at(10, api.CallbackResult(callback_id="x", outcome="failed"))
    assert d.events("CALLBACKFAILED")[0].data == ("1",)
    assert d.acd.agent_state("a") is AgentState.AVAILABLE
    assert d.acd.waiting("q") == []
    d.advance(609)
    assert len(starts(d)) == 1
    d.advance(610)
    assert len(starts(d)) == 2
    d.advance(700)  # window of 60 s passes without a result: a failed attempt
    assert [r.data for r in d.events("CALLBACKFAILED")] == [("1",), ("2",)]
    assert d.events("CALLBACKLISTED")[0].data == ("1", "2")
    d.advance(5000)
    assert len(starts(d)) == 2 and d.acd.waiting("q") == []
    assert d.events("ABANDON") == []


def test_agent_not_answering_a_callback_keeps_it_in_line() -> None:
    q = api.QueueSpec(name="q", strategy="sequential", retry=5.0)
    agents = [api.AgentSpec(id=a, queues={"q": 0}) for a in ("a", "b")]
    d = Driver([q], agents, OPTS)
    d.at(1, api.CallerArrived(call_id="x", queue="q"))
    d.at(2, api.CallbackRequested(call_id="x", number="1"))
    d.login(3, "a", "b")
    d.at(4, api.RingFailed(call_id="x", agent="a", cause="no-answer"))
    assert d.events("CALLBACKFAILED") == []
    d.advance(9)
    assert [s.agent for s in starts(d)] == ["a", "b"]
