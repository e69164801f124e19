"""The live board, folded from the log alone, agrees with the ACD's own state at every step."""

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st
from test_acd_property import CB, DEST, events

from tamas.acd import AcdError, api
from tamas.acd.agent_state import AgentState
from tamas.acd.testing import Driver
from tamas.core.events import NONE, LogRecord
from tamas.reporting.live import LiveBoard, LiveState

# The ACD logs no record when it starts ringing an agent (Asterisk does not either); the
# runtime's LEGSTART does. A reserved agent is therefore "available" to a board fed only
# the ACD's records.
EXPECTED = {
    AgentState.LOGGED_OUT: LiveState.LOGGED_OUT,
    AgentState.AVAILABLE: LiveState.AVAILABLE,
    AgentState.RESERVED: LiveState.AVAILABLE,
    AgentState.ON_CALL: LiveState.ON_CALL,
    AgentState.ON_HOLD: LiveState.ON_HOLD,
    AgentState.WRAPUP: LiveState.WRAPUP,
    AgentState.PAUSED: LiveState.PAUSED,
}


def _driver() -> Driver:
    q = api.QueueSpec(
        name="q", strategy="longest_idle", ring_timeout=5, retry=1, wrapup=3, max_callers=3,
        max_wait=60, leave_empty=True, exit_keys={"0": DEST, "1": CB}, autopause_misses=2,
        callback_offer_wait=1,
    )  # fmt: skip
    r = api.QueueSpec(name="r", strategy="ringall", join_empty=False)
    agents = [
        api.AgentSpec(id="a", queues={"q": 0, "r": 0}),
        api.AgentSpec(id="b", queues={"q": 1}, wrapup=0),
        api.AgentSpec(id="c", queues={"r": 0, "q": 2}),
    ]
    options = api.AcdOptions(callback_attempts=2, callback_retry=10, callback_window=8)
    return Driver([q, r], agents, options)


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(st.tuples(st.floats(0, 20), events), max_size=60))
def test_board_matches_the_acd_after_every_step(steps: list[tuple[float, api.Event]]) -> None:
    d = _driver()
    board = LiveBoard({"q": ["a", "b", "c"], "r": ["a", "c"]})
    t, fed = 0.0, 0
    for dt, ev in steps:
        t += dt
        with contextlib.suppress(AcdError):  # refused (e.g. a duplicate id): nothing changed
            d.at(t, ev)
        board.feed(d.records[fed:])
        fed = len(d.records)
        for agent in ("a", "b", "c"):
            now = board.agent(agent)
            state = now.state if now else LiveState.LOGGED_OUT
            assert state is EXPECTED[d.acd.agent_state(agent)], (agent, d.names()[-8:])
        for queue in ("q", "r"):
            # the ACD's line holds callbacks keeping their place too; the board lists them
            # apart, with those ringing or waiting for a retry
            line = set(d.acd.waiting(queue))
            pending = {c.call_id for c in board.callbacks(queue)}
            assert {w.call_id for w in board.waiting(queue)} == line - pending, d.names()[-8:]
            assert not pending & {w.call_id for w in board.waiting(queue)}


def rec(at: float, event: str, *data: str, call: str = NONE, queue: str = NONE,
        agent: str = NONE) -> LogRecord:  # fmt: skip
    return LogRecord(at=at, call_id=call, queue=queue, agent=agent, event=event, data=data)


def test_snapshot_counts_waiting_longest_wait_and_agent_states() -> None:
    board = LiveBoard({"sales": ["1001", "1002"]})
    board.feed([
        rec(100, "AGENTLOGIN", "dev1", agent="1001"),
        rec(100, "AGENTLOGIN", "dev2", agent="1002"),
        rec(110, "ENTERQUEUE", "", "0912", "1", call="c1", queue="sales"),
        rec(112, "LEGSTART", "b", "1001", call="c1", agent="1001"),
        rec(115, "ENTERQUEUE", "", "0913", "2", call="c2", queue="sales"),
        rec(120, "CONNECT", "10", "dev1", "8", call="c1", queue="sales", agent="1001"),
        rec(121, "PAUSE", "lunch", queue="sales", agent="1002"),
    ])  # fmt: skip
    snap = board.snapshot(130.0)
    sales = snap["queues"]["sales"]  # type: ignore[index]
    # c1 left the line at its CONNECT; c2 waits since 115: 130 - 115 = 15 s
    assert sales["waiting"] == 1
    assert sales["longest_wait"] == 15.0
    assert sales["agents"] == {
        "available": 0, "ringing": 0, "on_call": 1, "on_hold": 0, "wrapup": 0, "paused": 1,
    }  # fmt: skip
    agents = snap["agents"]  # type: ignore[index]
    assert agents["1001"]["state"] == "on_call" and agents["1001"]["for"] == 10.0
    assert agents["1002"]["state"] == "paused" and agents["1002"]["reason"] == "lunch"
    # ringing shows between LEGSTART and the end of the ring
    board.feed([rec(131, "LEGSTART", "b", "1002", call="c2", agent="1002")])
    assert board.agent("1002").state is LiveState.PAUSED  # type: ignore[union-attr]
    board.feed([rec(132, "UNPAUSE", queue="sales", agent="1002"),
                rec(133, "LEGSTART", "b", "1002", call="c2", agent="1002")])  # fmt: skip
    assert board.agent("1002").state is LiveState.RINGING  # type: ignore[union-attr]
    board.feed([rec(138, "RINGNOANSWER", "5000", call="c2", queue="sales", agent="1002")])
    assert board.agent("1002").state is LiveState.AVAILABLE  # type: ignore[union-attr]
