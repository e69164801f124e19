"""Agent presence: login, logout, pause, hold, device reconciliation (docs/acd.md, Agent states).

Theory of operation. Every move goes through the engine's ``_move`` (the agent state table,
:mod:`tamas.acd.agent_state`); the functions here decide *when*. A logout or pause asked for
during a ring or a call does not interrupt it: the agent remembers it (``pending_logout``,
``pending_pause``) and :func:`apply_pending` carries it out when the ring, the call or the
wrap-up is over — the engine calls it at each of those ends.

*Reconciliation.* The runtime reports device states. When a device is idle or unregistered
while the engine holds its agent reserved, on a call or on hold, :func:`reconcile` waits
``reconcile_grace`` s after the agent's last move (a report may be older than our command),
then undoes the contradicted state: the ring is withdrawn, or the lost call is closed
(COMPLETEAGENT, no wrap-up). An unregistered device logs its agent out when
``logout_on_unregistered`` is set.

These are functions over the engine (:class:`tamas.acd.engine.Acd`), which calls them from
its event table and its timers; they use its helpers, so records and commands keep the
engine's order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tamas.acd import api
from tamas.acd.agent_state import AgentInput, AgentState, allowed
from tamas.acd.model import IN_CALL, Agent, seconds
from tamas.core.events import NONE

if TYPE_CHECKING:
    from tamas.acd.engine import Acd

__all__ = [
    "apply_pending",
    "on_device",
    "on_hold",
    "on_login",
    "on_logout",
    "on_pause",
    "on_unhold",
    "on_unpause",
    "reconcile",
]


# ------------------------------------------------------------------ login and logout


def on_login(acd: Acd, ev: api.AgentLogin) -> None:
    agent = acd._agent(ev.agent)
    if not allowed(agent.state, AgentInput.LOGIN):
        return
    first = agent.state is AgentState.LOGGED_OUT
    if agent.device:
        _forget_device(acd, agent)
    agent.device = ev.device
    acd._by_device[ev.device] = agent
    if first:  # (before the move: a ranked strategy files the agent by its idle time)
        agent.login_at = agent.idle_since = acd._now
        agent.misses = 0
    acd._move(agent, AgentInput.LOGIN)
    acd._log(NONE, NONE, agent.id, "AGENTLOGIN", ev.device)
    if first:
        for m in agent.members:
            acd._log(NONE, m.queue.name, agent.id, "ADDMEMBER", ev.device)
    acd._redispatch([agent])


def on_logout(acd: Acd, ev: api.AgentLogout) -> None:
    agent = acd._agent(ev.agent)
    if not allowed(agent.state, AgentInput.LOGOUT):
        return
    if agent.state in (AgentState.ON_CALL, AgentState.ON_HOLD):
        agent.pending_logout = True
        return
    _logout(acd, agent)


def _logout(acd: Acd, agent: Agent, how: AgentInput = AgentInput.LOGOUT) -> None:
    if agent.state is AgentState.RESERVED and agent.call is not None:
        _unring(acd, agent)
    if agent.state is AgentState.WRAPUP:
        acd._log(NONE, NONE, agent.id, "WRAPUPEND")
    acd._move(agent, how)
    agent.pending_logout = False
    agent.pending_pause = None
    acd._wake(agent, None)
    for m in agent.members:
        acd._log(NONE, m.queue.name, agent.id, "REMOVEMEMBER", agent.device)
    acd._log(NONE, NONE, agent.id, "AGENTLOGOFF", agent.device, seconds(acd._now - agent.login_at))
    _forget_device(acd, agent)
    for m in agent.members:
        q = m.queue
        if q.spec.leave_empty and q.logged_in == 0:
            for c in [c for c in q.line if not c.is_callback]:
                acd._redispatch(acd._exit(c, "EXITEMPTY", "empty"))


def _forget_device(acd: Acd, agent: Agent) -> None:
    if acd._by_device.get(agent.device) is agent:
        del acd._by_device[agent.device]


def _unring(acd: Acd, agent: Agent) -> None:
    """Withdraw a reserved agent from its caller's ring (RINGCANCELED, StopRinging)."""
    c = agent.call
    assert c is not None
    del c.ringing[agent.id]
    ms = str(int((acd._now - c.ring_started) * 1000))
    acd._log(c.call_id, c.queue.name, agent.id, "RINGCANCELED", ms)
    acd._emit(api.StopRinging(call_id=c.call_id, agents=(agent.id,)))
    agent.call = None
    if not c.ringing:
        c.retry_until = 0.0
        acd._dispatch(c.queue)  # (the agent is still RESERVED here, so not re-chosen)
        acd._schedule(c)


# ------------------------------------------------------------------ pause and hold


def on_pause(acd: Acd, ev: api.AgentPause) -> None:
    agent = acd._agent(ev.agent)
    if not allowed(agent.state, AgentInput.PAUSE):
        return
    if agent.state in IN_CALL:
        agent.pending_pause = ev.reason
        return
    _pause(acd, agent, ev.reason)


def _pause(acd: Acd, agent: Agent, reason: str) -> None:
    if agent.state is AgentState.WRAPUP:
        acd._log(NONE, NONE, agent.id, "WRAPUPEND")
        acd._wake(agent, None)
    acd._move(agent, AgentInput.PAUSE)
    for m in agent.members:
        acd._log(NONE, m.queue.name, agent.id, "PAUSE", reason)


def on_unpause(acd: Acd, ev: api.AgentUnpause) -> None:
    agent = acd._agent(ev.agent)
    if agent.state in IN_CALL:
        agent.pending_pause = None
        return
    if not allowed(agent.state, AgentInput.UNPAUSE):
        return
    acd._move(agent, AgentInput.UNPAUSE)
    agent.misses = 0
    for m in agent.members:
        acd._log(NONE, m.queue.name, agent.id, "UNPAUSE")
    acd._redispatch([agent])


def apply_pending(acd: Acd, agent: Agent) -> None:
    """A logout or pause asked for during a call takes effect once it is over."""
    if agent.state in IN_CALL:
        return
    if agent.pending_logout:
        _logout(acd, agent)
    elif agent.pending_pause is not None:
        reason, agent.pending_pause = agent.pending_pause, None
        _pause(acd, agent, reason)


def on_hold(acd: Acd, ev: api.AgentHold) -> None:
    _hold(acd, ev.agent, AgentInput.HOLD, "HOLD")


def on_unhold(acd: Acd, ev: api.AgentUnhold) -> None:
    _hold(acd, ev.agent, AgentInput.UNHOLD, "UNHOLD")


def _hold(acd: Acd, agent_id: str, how: AgentInput, event: str) -> None:
    agent = acd._agent(agent_id)
    if not allowed(agent.state, how) or agent.call is None:
        return
    c = agent.call
    acd._move(agent, how)
    agent.call = c
    acd._log(c.call_id, c.queue.name, agent.id, event)


# ------------------------------------------------------------------ reconciliation


def on_device(acd: Acd, ev: api.DeviceState) -> None:
    agent = acd._by_device.get(ev.device)
    if agent is None:
        return
    agent.device_state = ev.state
    reconcile(acd, agent)


def reconcile(acd: Acd, agent: Agent) -> None:
    """Undo a call state the device contradicts (after the grace period)."""
    state = agent.device_state
    gone = state == "unregistered" and acd.options.logout_on_unregistered
    if agent.state in IN_CALL and state in ("idle", "unregistered"):
        due = agent.since + acd.options.reconcile_grace
        if acd._now < due:
            acd._schedule_agent(agent, due)
            return
        c = agent.call
        assert c is not None
        if agent.state is AgentState.RESERVED:
            _unring(acd, agent)
        else:
            acd._close_call(c, "agent", lost=True)  # the lost call: COMPLETEAGENT
        if not gone:
            acd._move(agent, AgentInput.DEVICE_IDLE)
            apply_pending(acd, agent)
            acd._redispatch([agent])
            return
    if gone and allowed(agent.state, AgentInput.DEVICE_GONE):
        _logout(acd, agent, AgentInput.DEVICE_GONE)
