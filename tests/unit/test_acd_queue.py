"""Queue behaviour with a fake clock: tiers, priority, rings, wrap-up, overflow, keys, abandon."""

from tamas.acd import AgentState, api
from tamas.acd.testing import Driver

VM = api.Destination(kind=api.DestinationKind.VOICEMAIL, target="100")
EXT = api.Destination(kind=api.DestinationKind.EXTENSION, target="200")


def center(agents: dict[str, int] | None = None, **kw: object) -> Driver:
    kw.setdefault("strategy", "sequential")
    q = api.QueueSpec(name="q", **kw)  # type: ignore[arg-type]
    agents = agents or {"a": 0, "b": 0}
    return Driver([q], [api.AgentSpec(id=a, queues={"q": p}) for a, p in agents.items()])


def arrive(d: Driver, t: float, call: str, **kw: object) -> None:
    d.at(t, api.CallerArrived(call_id=call, queue="q", caller="555", **kw))  # type: ignore[arg-type]


def routed(d: Driver) -> list[tuple[str, api.Destination, str]]:
    return [(c.call_id, c.destination, c.reason) for c in d.commands
            if isinstance(c, api.RouteCaller)]  # fmt: skip


def test_enterqueue_records_callerid_and_position() -> None:
    d = center()
    arrive(d, 1, "c1")
    arrive(d, 2, "c2")
    assert [r.data for r in d.events("ENTERQUEUE")] == [("", "555", "1"), ("", "555", "2")]


def test_tier_escalation_by_wait() -> None:
    d = center({"a": 0, "b": 1, "c": 2}, tier_wait=(10.0, 30.0))
    d.login(0, "b", "c")
    arrive(d, 100, "x")
    assert d.rung("x") == []
    d.advance(109.9)
    assert d.rung("x") == []
    d.advance(110)
    assert d.rung("x") == [("b",)]
    d.at(110.5, api.RingFailed(call_id="x", agent="b", cause="busy"))
    d.at(111, api.AgentPause(agent="b", reason="x"))
    d.advance(129)
    assert d.rung("x") == [("b",)]
    d.advance(130)
    assert d.rung("x") == [("b",), ("c",)]


def test_penalty_zero_agents_are_always_eligible() -> None:
    d = center({"a": 0, "b": 1}, tier_wait=(10.0,))
    d.login(0, "a", "b")
    arrive(d, 1, "x")
    assert d.rung("x") == [("a",)]


def test_skill_requirement_relaxes_with_wait() -> None:
    q = api.QueueSpec(name="q", strategy="skills", skill_relax=20.0)
    agents = [api.AgentSpec(id="junior", skills={"fa": 3}, queues={"q": 0})]
    d = Driver([q], agents)
    d.login(0, "junior")
    d.at(100, api.CallerArrived(call_id="x", queue="q", skills={"fa": 5}))
    d.advance(139)
    assert d.rung("x") == []
    d.advance(140)  # 5 - 2 = 3
    assert d.rung("x") == [("junior",)]


def test_higher_priority_is_served_first_fifo_within_priority() -> None:
    d = center({"a": 0})
    arrive(d, 1, "low1")
    arrive(d, 2, "high", priority=5)
    arrive(d, 3, "low2")
    assert d.acd.waiting("q") == ["high", "low1", "low2"]
    assert d.events("ENTERQUEUE")[1].data[2] == "1"
    d.login(4, "a")
    assert d.rung() == [("a",)] and d.rung("high") == [("a",)]


def test_ring_timeout_moves_to_next_agent_after_retry() -> None:
    d = center(ring_timeout=15.0, retry=2.0)
    d.login(0, "a", "b")
    arrive(d, 10, "x")
    assert d.rung("x") == [("a",)]
    d.advance(25)
    nra = d.events("RINGNOANSWER")
    assert [(r.agent, r.data) for r in nra] == [("a", ("15000",))]
    stop = [c for c in d.commands if isinstance(c, api.StopRinging)]
    assert stop == [api.StopRinging(call_id="x", agents=("a",))]
    assert d.rung("x") == [("a",)]  # not before the retry pause
    d.advance(27)
    assert d.rung("x") == [("a",), ("b",)]  # a was tried in this round
    d.advance(42)
    d.advance(44)
    assert d.rung("x") == [("a",), ("b",), ("a",)]  # everyone tried: a new round


def test_ring_failed_busy_tries_other_agent() -> None:
    d = center({"a": 0, "b": 0}, strategy="longest_idle", retry=5.0)
    d.login(0, "a")
    d.login(1, "b")
    arrive(d, 10, "x")
    assert d.rung("x") == [("a",)]
    d.at(11, api.RingFailed(call_id="x", agent="a", cause="busy"))
    assert d.events("RINGNOANSWER")[0].data == ("1000",)
    assert d.rung("x") == [("a",), ("b",)]


def test_autopause_after_consecutive_misses() -> None:
    d = center({"a": 0}, autopause_misses=2, retry=1.0)
    d.login(0, "a")
    arrive(d, 1, "x")
    d.at(2, api.RingFailed(call_id="x", agent="a", cause="no-answer"))
    assert d.acd.agent_state("a") is AgentState.AVAILABLE
    d.advance(3)  # rung again after the retry
    d.at(4, api.RingFailed(call_id="x", agent="a", cause="no-answer"))
    assert d.acd.agent_state("a") is AgentState.PAUSED
    assert d.names()[-2:] == ["AUTOPAUSE", "PAUSE"]
    assert d.events("PAUSE")[0].data == ("autopause",)
    d.advance(100)
    assert len(d.rung("x")) == 2


def test_answer_resets_misses() -> None:
    d = center({"a": 0}, autopause_misses=2, retry=1.0, wrapup=0)
    d.login(0, "a")
    arrive(d, 1, "x")
    d.at(2, api.RingFailed(call_id="x", agent="a", cause="no-answer"))
    d.advance(3)
    d.at(4, api.RingAnswered(call_id="x", agent="a"))
    d.at(5, api.CallEnded(call_id="x", by="agent"))
    arrive(d, 6, "y")
    d.at(7, api.RingFailed(call_id="y", agent="a", cause="no-answer"))
    assert d.acd.agent_state("a") is AgentState.AVAILABLE


def test_connect_then_complete_then_wrapup_then_available() -> None:
    d = center({"a": 0}, wrapup=10.0)
    d.login(0, "a")
    arrive(d, 5, "x")
    d.at(8, api.RingAnswered(call_id="x", agent="a"))
    assert d.events("CONNECT")[0].data == ("3", "dev-a", "3")
    d.at(68, api.CallEnded(call_id="x", by="caller"))
    assert d.events("COMPLETECALLER")[0].data == ("3", "60", "1")
    assert d.acd.agent_state("a") is AgentState.WRAPUP
    arrive(d, 70, "y")
    assert d.rung("y") == []
    d.advance(77.9)
    assert d.rung("y") == []
    d.advance(78)
    assert d.names()[-1] == "WRAPUPEND" or d.rung("y") == [("a",)]
    assert d.rung("y") == [("a",)]


def test_agent_wrapup_override_and_hold() -> None:
    q = api.QueueSpec(name="q", wrapup=30)
    d = Driver([q], [api.AgentSpec(id="a", queues={"q": 0}, wrapup=0)])
    d.login(0, "a")
    arrive(d, 1, "x")
    d.at(2, api.RingAnswered(call_id="x", agent="a"))
    d.at(3, api.AgentHold(agent="a"))
    assert d.acd.agent_state("a") is AgentState.ON_HOLD
    d.at(4, api.AgentUnhold(agent="a"))
    d.at(5, api.CallEnded(call_id="x", by="agent"))
    assert d.acd.agent_state("a") is AgentState.AVAILABLE
    assert "HOLD" in d.names() and "UNHOLD" in d.names() and "WRAPUPSTART" not in d.names()


def test_max_callers_overflows_full() -> None:
    d = center(max_callers=1, overflow={"full": VM})
    arrive(d, 1, "x")
    arrive(d, 2, "y")
    assert routed(d) == [("y", VM, "full")]
    assert d.names() == ["ENTERQUEUE", "FULL"]
    assert d.acd.waiting("q") == ["x"]


def test_max_wait_exits_with_timeout() -> None:
    d = center(max_wait=60.0, overflow={"timeout": VM})
    d.login(0, "a")
    d.at(0, api.AgentPause(agent="a", reason="x"))
    arrive(d, 1, "x")
    arrive(d, 2, "y")
    d.advance(60.9)
    assert routed(d) == []
    d.advance(61)
    assert routed(d) == [("x", VM, "timeout")]
    assert d.events("EXITWITHTIMEOUT")[0].data == ("1", "1", "60")
    assert d.acd.waiting("q") == ["y"]


def test_max_wait_while_ringing_stops_the_ring() -> None:
    d = center({"a": 0}, max_wait=10.0, ring_timeout=30.0)
    d.login(0, "a")
    arrive(d, 1, "x")
    d.advance(11)
    assert d.names()[-2:] == ["RINGCANCELED", "EXITWITHTIMEOUT"]
    assert routed(d)[0][2] == "timeout" and routed(d)[0][1].kind is api.DestinationKind.HANGUP
    assert d.acd.agent_state("a") is AgentState.AVAILABLE


def test_join_empty_false_refuses_with_overflow() -> None:
    d = center(join_empty=False, overflow={"empty": EXT})
    arrive(d, 1, "x")
    assert routed(d) == [("x", EXT, "empty")]
    assert d.names() == ["JOINEMPTY"]
    d.login(2, "a")
    d.at(3, api.AgentPause(agent="a", reason="x"))
    arrive(d, 4, "y")  # a paused member still counts as logged in
    assert d.acd.waiting("q") == ["y"]


def test_leave_empty_routes_waiting_callers_when_last_agent_logs_out() -> None:
    d = center(leave_empty=True, overflow={"empty": VM})
    d.login(0, "a", "b")
    d.at(0, api.AgentPause(agent="a", reason="x"))
    d.at(0, api.AgentPause(agent="b", reason="x"))
    arrive(d, 1, "x")
    arrive(d, 2, "y")
    d.at(3, api.AgentLogout(agent="a"))
    assert routed(d) == []
    d.at(4, api.AgentLogout(agent="b"))
    assert routed(d) == [("x", VM, "empty"), ("y", VM, "empty")]
    assert [r.data for r in d.events("EXITEMPTY")] == [("1", "1", "3"), ("1", "2", "2")]


def test_exit_key_routes_with_exitwithkey() -> None:
    d = center(exit_keys={"0": EXT})
    arrive(d, 1, "x")
    arrive(d, 2, "y")
    d.at(5, api.CallerPressed(call_id="y", digit="7"))
    assert routed(d) == []
    d.at(6, api.CallerPressed(call_id="y", digit="0"))
    assert routed(d) == [("y", EXT, "key")]
    assert d.events("EXITWITHKEY")[0].data == ("0", "2", "2", "4")


def test_key_overflow_catches_other_digits() -> None:
    d = center(overflow={"key": VM})
    arrive(d, 1, "x")
    d.at(2, api.CallerPressed(call_id="x", digit="5"))
    assert routed(d) == [("x", VM, "key")]


def test_abandon_logs_position_and_origposition() -> None:
    d = center()
    arrive(d, 1, "x")
    arrive(d, 2, "y")
    arrive(d, 3, "z")
    d.at(10, api.CallerHungUp(call_id="x"))
    d.at(20, api.CallerHungUp(call_id="z"))
    assert [(r.call_id, r.data) for r in d.events("ABANDON")] == [
        ("x", ("1", "1", "9")),
        ("z", ("2", "3", "17")),
    ]
    d.at(21, api.CallerHungUp(call_id="z"))  # a second report is ignored
    assert len(d.events("ABANDON")) == 2


def test_abandon_while_ringing_cancels_and_frees_agent() -> None:
    d = center({"a": 0})
    d.login(0, "a")
    arrive(d, 1, "x")
    d.at(3, api.CallerHungUp(call_id="x"))
    assert d.names()[-2:] == ["RINGCANCELED", "ABANDON"]
    assert d.commands[-1] == api.StopRinging(call_id="x", agents=("a",))
    assert d.acd.agent_state("a") is AgentState.AVAILABLE
    d.at(4, api.RingAnswered(call_id="x", agent="a"))  # late answer: ignored
    assert d.acd.agent_state("a") is AgentState.AVAILABLE


def test_ringall_answer_cancels_the_others() -> None:
    d = center({"a": 0, "b": 0, "c": 0}, strategy="ringall")
    d.login(0, "a", "b", "c")
    arrive(d, 1, "x")
    d.at(4, api.RingAnswered(call_id="x", agent="b"))
    assert [r.agent for r in d.events("RINGCANCELED")] == ["a", "c"]
    assert d.commands[-2:] == [
        api.StopRinging(call_id="x", agents=("a", "c")),
        api.Connect(call_id="x", agent="b", device="dev-b"),
    ]


def test_announcements_and_callback_offer() -> None:
    d = center(announce_every=30.0, announce_position=True, announce_wait=True,
               position_every=45.0, callback_offer_wait=100.0)  # fmt: skip
    arrive(d, 0, "x")  # no agent: EWT = 1 * 180 / 1 = 180 > 100
    offers = [c for c in d.commands if isinstance(c, api.Announce)]
    assert offers == [api.Announce(call_id="x", kind="callback-offer", position=1, wait_s=180.0)]
    d.advance(90)
    kinds = [(c.kind, c.position) for c in d.commands if isinstance(c, api.Announce)][1:]
    assert kinds == [("periodic", 1), ("position", 1), ("wait", 1), ("periodic", 1),
                     ("periodic", 1), ("position", 1), ("wait", 1)]  # fmt: skip


def test_ewt_uses_recent_handle_times_and_serving_agents() -> None:
    d = center({"a": 0, "b": 0}, wrapup=0)
    assert d.acd.estimated_wait("q", 2) == 360.0  # default AHT 180, no agent: max(1, 0)
    d.login(0, "a", "b")
    arrive(d, 1, "x")
    d.at(1, api.RingAnswered(call_id="x", agent="a"))
    d.at(101, api.CallEnded(call_id="x", by="agent"))
    assert d.acd.estimated_wait("q", 3) == 3 * 100 / 2


def test_pause_during_call_applies_after_it() -> None:
    d = center({"a": 0}, wrapup=5)
    d.login(0, "a")
    arrive(d, 1, "x")
    d.at(2, api.RingAnswered(call_id="x", agent="a"))
    d.at(3, api.AgentPause(agent="a", reason="break"))
    d.at(4, api.AgentLogout(agent="b")) if False else None
    assert d.acd.agent_state("a") is AgentState.ON_CALL
    d.at(9, api.CallEnded(call_id="x", by="agent"))
    assert d.acd.agent_state("a") is AgentState.PAUSED
    assert d.names()[-3:] == ["WRAPUPSTART", "WRAPUPEND", "PAUSE"]


def test_logout_during_call_applies_after_it() -> None:
    d = center({"a": 0}, wrapup=5)
    d.login(0, "a")
    arrive(d, 1, "x")
    d.at(2, api.RingAnswered(call_id="x", agent="a"))
    d.at(3, api.AgentLogout(agent="a"))
    assert d.acd.agent_state("a") is AgentState.ON_CALL
    d.at(9, api.CallEnded(call_id="x", by="caller"))
    assert d.acd.agent_state("a") is AgentState.LOGGED_OUT
    assert d.names()[-2:] == ["REMOVEMEMBER", "AGENTLOGOFF"]
    assert d.events("AGENTLOGOFF")[0].data == ("dev-a", "9")


def test_logout_while_ringing_gives_the_caller_to_another_agent() -> None:
    d = center({"a": 0, "b": 0})
    d.login(0, "a", "b")
    arrive(d, 1, "x")
    d.at(2, api.AgentLogout(agent="a"))
    assert d.rung("x") == [("a",), ("b",)]
    assert d.acd.agent_state("a") is AgentState.LOGGED_OUT


def test_device_idle_recovers_a_lost_call() -> None:
    d = center({"a": 0}, wrapup=0)
    d.login(0, "a")
    arrive(d, 1, "x")
    d.at(2, api.RingAnswered(call_id="x", agent="a"))
    d.at(3, api.DeviceState(device="dev-a", state="idle"))  # within the grace: re-checked later
    assert d.acd.agent_state("a") is AgentState.ON_CALL
    d.advance(7)
    assert d.acd.agent_state("a") is AgentState.AVAILABLE
    assert d.events("COMPLETEAGENT")[0].data == ("1", "5", "1")
    arrive(d, 8, "y")
    assert d.rung("y") == [("a",)]


def test_device_busy_after_idle_cancels_the_recheck() -> None:
    d = center({"a": 0})
    d.login(0, "a")
    arrive(d, 1, "x")
    d.at(2, api.RingAnswered(call_id="x", agent="a"))
    d.at(3, api.DeviceState(device="dev-a", state="idle"))
    d.at(4, api.DeviceState(device="dev-a", state="busy"))
    d.advance(100)
    assert d.acd.agent_state("a") is AgentState.ON_CALL


def test_stale_idle_report_before_ring_does_not_break_the_call() -> None:
    d = center({"a": 0})
    d.login(0, "a")
    d.at(0, api.DeviceState(device="dev-a", state="idle"))
    arrive(d, 1, "x")
    d.at(2, api.RingAnswered(call_id="x", agent="a"))
    d.advance(100)
    assert d.acd.agent_state("a") is AgentState.ON_CALL


def test_device_unregistered_logs_out_a_ringing_agent() -> None:
    d = center({"a": 0, "b": 0}, ring_timeout=60)
    d.login(0, "a", "b")
    arrive(d, 1, "x")
    d.at(10, api.DeviceState(device="dev-a", state="unregistered"))
    assert d.acd.agent_state("a") is AgentState.LOGGED_OUT
    assert d.rung("x") == [("a",), ("b",)]
    assert "RINGCANCELED" in d.names() and d.names()[-1] == "AGENTLOGOFF"


def test_unregistered_available_agent_is_logged_out() -> None:
    d = center({"a": 0})
    d.login(0, "a")
    d.at(1, api.DeviceState(device="dev-a", state="unregistered"))
    assert d.acd.agent_state("a") is AgentState.LOGGED_OUT


def test_agent_transfers_caller_to_another_queue() -> None:
    qs = [api.QueueSpec(name="q", wrapup=5), api.QueueSpec(name="billing")]
    agents = [api.AgentSpec(id="a", queues={"q": 0}), api.AgentSpec(id="b", queues={"billing": 0})]
    d = Driver(qs, agents)
    d.login(0, "a", "b")
    d.at(0, api.AgentPause(agent="b", reason="x"))
    d.at(1, api.CallerArrived(call_id="x", queue="q", caller="555"))
    d.at(2, api.RingAnswered(call_id="x", agent="a"))
    d.at(3, api.TransferredToQueue(call_id="x", queue="billing", from_agent="b"))  # not b's
    assert d.acd.agent_state("a") is AgentState.ON_CALL
    d.at(32, api.TransferredToQueue(call_id="x", queue="billing", from_agent="a"))
    assert d.events("BLINDTRANSFER")[0].data == ("billing", "queue", "1", "30", "1")
    assert d.acd.agent_state("a") is AgentState.WRAPUP
    assert d.acd.waiting("billing") == ["x"]
    assert d.events("ENTERQUEUE")[-1].queue == "billing"
    assert d.events("ENTERQUEUE")[-1].data == ("", "555", "1")
    d.at(40, api.AgentUnpause(agent="b"))
    d.at(41, api.RingAnswered(call_id="x", agent="b"))
    d.at(50, api.CallEnded(call_id="x", by="caller"))
    assert [r.agent for r in d.events("COMPLETECALLER")] == ["b"]


def test_a_device_taken_over_stays_with_its_new_agent() -> None:
    d = center({"a": 0, "b": 0})
    d.at(0, api.AgentLogin(agent="a", device="desk1"))
    d.at(1, api.AgentLogin(agent="b", device="desk1"))
    d.at(2, api.AgentLogout(agent="a"))
    d.at(3, api.DeviceState(device="desk1", state="unregistered"))
    assert d.acd.agent_state("b") is AgentState.LOGGED_OUT
