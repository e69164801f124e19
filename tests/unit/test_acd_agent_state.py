"""The agent state table: every row, and the moves it lacks."""

import pytest

from tamas.acd.agent_state import (
    TRANSITIONS,
    AgentInput,
    AgentState,
    InvalidTransition,
    allowed,
    next_state,
)

S, I = AgentState, AgentInput  # noqa: E741

EXPECTED = {
    (S.LOGGED_OUT, I.LOGIN): S.AVAILABLE,
    (S.AVAILABLE, I.LOGOUT): S.LOGGED_OUT,
    (S.AVAILABLE, I.PAUSE): S.PAUSED,
    (S.AVAILABLE, I.RING): S.RESERVED,
    (S.AVAILABLE, I.DEVICE_GONE): S.LOGGED_OUT,
    (S.AVAILABLE, I.LOGIN): S.AVAILABLE,
    (S.RESERVED, I.ANSWER): S.ON_CALL,
    (S.RESERVED, I.RING_ENDED): S.AVAILABLE,
    (S.RESERVED, I.AUTOPAUSE): S.PAUSED,
    (S.RESERVED, I.LOGOUT): S.LOGGED_OUT,
    (S.RESERVED, I.PAUSE): S.RESERVED,
    (S.RESERVED, I.DEVICE_IDLE): S.AVAILABLE,
    (S.RESERVED, I.DEVICE_GONE): S.LOGGED_OUT,
    (S.ON_CALL, I.HOLD): S.ON_HOLD,
    (S.ON_CALL, I.CALL_END): S.WRAPUP,
    (S.ON_CALL, I.CALL_END_NO_WRAPUP): S.AVAILABLE,
    (S.ON_CALL, I.PAUSE): S.ON_CALL,
    (S.ON_CALL, I.LOGOUT): S.ON_CALL,
    (S.ON_CALL, I.DEVICE_IDLE): S.AVAILABLE,
    (S.ON_CALL, I.DEVICE_GONE): S.LOGGED_OUT,
    (S.ON_HOLD, I.UNHOLD): S.ON_CALL,
    (S.ON_HOLD, I.CALL_END): S.WRAPUP,
    (S.ON_HOLD, I.CALL_END_NO_WRAPUP): S.AVAILABLE,
    (S.ON_HOLD, I.PAUSE): S.ON_HOLD,
    (S.ON_HOLD, I.LOGOUT): S.ON_HOLD,
    (S.ON_HOLD, I.DEVICE_IDLE): S.AVAILABLE,
    (S.ON_HOLD, I.DEVICE_GONE): S.LOGGED_OUT,
    (S.WRAPUP, I.WRAPUP_END): S.AVAILABLE,
    (S.WRAPUP, I.PAUSE): S.PAUSED,
    (S.WRAPUP, I.LOGOUT): S.LOGGED_OUT,
    (S.WRAPUP, I.DEVICE_GONE): S.LOGGED_OUT,
    (S.PAUSED, I.UNPAUSE): S.AVAILABLE,
    (S.PAUSED, I.PAUSE): S.PAUSED,
    (S.PAUSED, I.LOGOUT): S.LOGGED_OUT,
    (S.PAUSED, I.DEVICE_GONE): S.LOGGED_OUT,
}


@pytest.mark.parametrize(("row", "target"), list(EXPECTED.items()), ids=str)
def test_every_row(row: tuple[AgentState, AgentInput], target: AgentState) -> None:
    state, event = row
    assert allowed(state, event)
    assert next_state(state, event) is target


def test_table_has_exactly_the_expected_rows() -> None:
    rows = {(s, e): t for s, moves in TRANSITIONS.items() for e, t in moves.items()}
    assert rows == EXPECTED
    assert set(TRANSITIONS) == set(AgentState)


@pytest.mark.parametrize(
    ("state", "event"),
    [(s, e) for s in AgentState for e in AgentInput if (s, e) not in EXPECTED],
    ids=str,
)
def test_missing_moves_raise(state: AgentState, event: AgentInput) -> None:
    assert not allowed(state, event)
    with pytest.raises(InvalidTransition) as info:
        next_state(state, event)
    assert info.value.state is state and info.value.event is event


def test_docs_print_the_table() -> None:
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "acd.md").read_text()
    rows = {
        tuple(cell.strip() for cell in line.strip("|").split("|"))
        for line in text.splitlines()
        if line.count("|") == 4
    }
    for s, moves in TRANSITIONS.items():
        for e, t in moves.items():
            assert (s.value, e.value, t.value) in rows
