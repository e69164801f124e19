"""Callbacks: the part of the ACD engine that calls customers back (docs/acd.md, Callbacks).

Theory of operation. A callback is a :class:`Caller` without a channel (``callback_number``
set). It comes from a waiting caller (:func:`request`: CallbackRequested, or an exit key
whose destination is a callback) or from nowhere (:func:`on_scheduled`: the callbacks API).
While it waits for its turn it *keeps its place*: it stays in the queue's line with its
original sort key. One that waits for a time (``at``, or ``callback_retry`` after a failed
attempt) leaves the line (phase SCHEDULED, ``not_before``) and :func:`rejoin` puts it back,
with the same key, when its time comes.

When the engine's dispatch reaches it, one agent is reserved and :func:`start` sends
StartCallback; the runtime then reports a CallbackResult within ``callback_window``
(:func:`on_result`), or :func:`ring_timed_out` counts the attempt as failed. After
``callback_attempts`` failures the callback is given up (CALLBACKLISTED).

These are functions over the engine (:class:`tamas.acd.engine.Acd`), which calls them from
its event table and its dispatch; they use the engine's own helpers (its line, clock, log
and timers), so the order of records and commands is the engine's.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from tamas.acd import api
from tamas.acd.errors import AcdError, CallbackInProgress, DuplicateCallback, UnknownCallback
from tamas.acd.model import Agent, Caller, CallerPhase, seconds
from tamas.core.events import NONE

if TYPE_CHECKING:
    from tamas.acd.engine import Acd

__all__ = [
    "offer",
    "on_cancelled",
    "on_requested",
    "on_result",
    "on_scheduled",
    "pending",
    "rejoin",
    "request",
    "ring_timed_out",
    "start",
]


# ------------------------------------------------------------------ events in


def on_requested(acd: Acd, ev: api.CallbackRequested) -> None:
    c = acd._live_waiting(ev.call_id)
    if c is not None:
        request(acd, c, ev.number, ev.at)


def on_scheduled(acd: Acd, ev: api.CallbackScheduled) -> None:
    """A callback with no call: a caller without a channel from the start."""
    q = acd._queue(ev.queue)  # (every refusal comes before any change)
    if ev.callback_id in acd._callers:
        raise DuplicateCallback(f"callback id {ev.callback_id!r} is in use")
    if not ev.number:
        raise AcdError("a callback needs a number")
    at = ev.at
    if at is not None and not math.isfinite(at):
        raise AcdError(f"callback time {at!r} is not a time")
    now = acd._now
    joins = now if at is None or at <= now else at
    c = Caller(
        call_id=ev.callback_id,
        queue=q,
        caller=ev.number,
        priority=ev.priority,
        skills=ev.skills,
        entered_at=joins,
        seq=next(acd._seq),
    )
    c.callback_number = ev.number
    acd._callers[c.call_id] = c
    position = ""
    if joins > now:
        c.phase = CallerPhase.SCHEDULED
        c.not_before = joins
    else:
        c.origposition = q.insert(c)
        position = str(c.origposition)
    when = "" if at is None else repr(at)
    acd._log(c.call_id, q.name, NONE, "CALLBACKREQUESTED", ev.number, position, when)
    if c.phase is CallerPhase.WAITING:
        acd._dispatch(q)
    acd._schedule(c)


def on_cancelled(acd: Acd, ev: api.CallbackCancelled) -> None:
    c = acd._callers.get(ev.callback_id)
    if c is None or not c.is_callback or c.phase is CallerPhase.CONNECTED:
        raise UnknownCallback(f"no pending callback {ev.callback_id!r}")
    if c.ringing:
        raise CallbackInProgress(f"callback {ev.callback_id!r} is being made")
    q = c.queue
    if c.phase is CallerPhase.WAITING:
        q.line.remove(c)
    del acd._callers[c.call_id]
    acd._wake(c, None)
    acd._log(c.call_id, q.name, NONE, "CALLBACKCANCELLED", ev.reason)


def on_result(acd: Acd, ev: api.CallbackResult) -> None:
    c = acd._callers.get(ev.callback_id)
    if c is None or not c.is_callback or not c.ringing:
        return
    agent = next(iter(c.ringing.values()))
    c.ringing.clear()
    if ev.outcome == "answered":
        acd._connect(c, agent)
        acd._log(
            c.call_id,
            c.queue.name,
            agent.id,
            "CALLBACKCOMPLETED",
            seconds(acd._now - c.entered_at),
            str(c.attempts + 1),
        )
        return
    acd._free_after_ring(agent)
    _failed(acd, c, agent)
    acd._redispatch([agent])


# ------------------------------------------------------------------ the engine's steps


def offer(acd: Acd, c: Caller, position: int) -> None:
    """Offer a callback (an Announce) once the estimated wait passes the queue's limit."""
    limit = c.queue.spec.callback_offer_wait
    if limit is None or c.offered or c.is_callback:
        return
    ewt = c.queue.ewt(position, acd.options.default_aht)
    if ewt > limit:
        c.offered = True
        acd._emit(
            api.Announce(call_id=c.call_id, kind="callback-offer", position=position, wait_s=ewt)
        )


def request(acd: Acd, c: Caller, number: str, at: float | None) -> None:
    """Turn the waiting caller ``c`` into a callback to ``number`` (at ``at``, or in turn)."""
    q = c.queue
    freed = acd._cancel_ring(c)
    pos = q.position(c)
    c.callback_number = number
    q.live -= 1
    c.next_periodic = c.next_position = None
    c.retry_until = 0.0
    acd._log(
        c.call_id,
        q.name,
        NONE,
        "CALLBACKREQUESTED",
        number,
        str(pos),
        "" if at is None else repr(at),
    )
    if at is not None and at > acd._now:
        q.line.remove(c)
        c.phase = CallerPhase.SCHEDULED
        c.not_before = at
    acd._redispatch(freed)
    acd._dispatch(q)
    acd._schedule(c)


def start(acd: Acd, c: Caller, agent: Agent) -> None:
    """Its turn came and ``agent`` is reserved for it: StartCallback (CALLBACKSTARTED)."""
    window = acd.options.callback_window
    c.ring_deadline = acd._now + window
    number = c.callback_number or ""
    acd._log(c.call_id, c.queue.name, agent.id, "CALLBACKSTARTED", number, str(c.attempts + 1))
    acd._emit(
        api.StartCallback(
            callback_id=c.call_id, agent=agent.id, device=agent.device, number=number, window=window
        )
    )


def ring_timed_out(acd: Acd, c: Caller, agent: Agent) -> None:
    """No CallbackResult within the window: stop the agent's leg and count a failed attempt.

    The engine redispatches ``agent`` afterwards.
    """
    c.ringing.clear()
    acd._emit(api.StopRinging(call_id=c.call_id, agents=(agent.id,)))
    acd._free_after_ring(agent)
    _failed(acd, c, agent)


def rejoin(acd: Acd, c: Caller) -> None:
    """A scheduled callback's wake-up: back into the line, with its key, once it is time."""
    if acd._now >= c.not_before:
        q = c.queue
        c.phase = CallerPhase.WAITING
        position = q.insert(c)
        if not c.origposition:  # (a callback scheduled with no call joins first now)
            c.origposition = position
        acd._dispatch(q)
    acd._schedule(c)


def _failed(acd: Acd, c: Caller, agent: Agent) -> None:
    c.attempts += 1
    q = c.queue
    acd._log(c.call_id, q.name, agent.id, "CALLBACKFAILED", str(c.attempts))
    if c.attempts >= acd.options.callback_attempts:
        acd._leave(c)
        acd._log(
            c.call_id, q.name, NONE, "CALLBACKLISTED", c.callback_number or "", str(c.attempts)
        )
        return
    q.line.remove(c)
    c.phase = CallerPhase.SCHEDULED
    c.not_before = acd._now + acd.options.callback_retry
    acd._schedule(c)


# ------------------------------------------------------------------ listing


def pending(acd: Acd, queue: str | None) -> list[api.PendingCallback]:
    """The pending callbacks (see :meth:`tamas.acd.engine.Acd.callbacks`)."""
    queues = list(acd._queues.values()) if queue is None else [acd._queue(queue)]
    out: list[api.PendingCallback] = []
    for q in queues:
        for position, c in enumerate(q.line, 1):
            if c.is_callback:
                agent = next(iter(c.ringing), None)
                state: api.CallbackState = "waiting" if agent is None else "ringing"
                out.append(_pending(c, state, None, position, agent))
        later = [
            c for c in acd._callers.values() if c.queue is q and c.phase is CallerPhase.SCHEDULED
        ]
        later.sort(key=lambda c: (c.not_before, c.key))
        for c in later:
            state = "retry-wait" if c.attempts else "scheduled"
            out.append(_pending(c, state, c.not_before, None, None))
    return out


def _pending(
    c: Caller,
    state: api.CallbackState,
    at: float | None,
    position: int | None,
    agent: str | None,
) -> api.PendingCallback:
    return api.PendingCallback(
        callback_id=c.call_id,
        queue=c.queue.name,
        number=c.callback_number or "",
        state=state,
        at=at,
        position=position,
        attempts=c.attempts,
        agent=agent,
    )
