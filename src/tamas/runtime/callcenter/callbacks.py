"""Callbacks: the caller hangs up keeping their place; Tamas calls the agent, then them.

1. A waiting caller presses the queue's callback key (or is offered it when the estimated wait
   is long). Tamas reads back the number it will call (the caller's own) and asks: 1 to
   confirm, 2 to enter another number (then ``#``) (:meth:`Callbacks.ask`); the caller keeps
   waiting meanwhile. Confirmed, the ACD logs CALLBACKREQUESTED and keeps the caller's place
   in the line; the caller hears when to expect the call (:meth:`Callbacks.confirm`: "in
   about three minutes") and Tamas hangs up. Silence for ten seconds drops the question.
2. When the callback reaches the head of the line and an agent is free, the ACD says
   StartCallback. Tamas creates a new call (its own id; the ACD knows it by the callback id),
   rings the agent's phone, and when the agent answers tells them whom they are calling and
   dials the customer's number (an extension, or out through the dial plan's trunk).
3. The customer answers: the two are bridged, CallbackResult(answered); the conversation
   ends like any call (CallEnded, the agent being the ``a`` side here). The agent does not
   answer: RingFailed (the ACD tries again later). The customer does not answer: the agent
   is told, hung up, CallbackResult(failed): the ACD retries, then lists it.

A callback may also be scheduled with no call at all, for a chosen time (the HTTP API, a
supervisor working through the missed calls): :meth:`Callbacks.schedule` gives it a fresh id
and hands the ACD a CallbackScheduled; from its time on it is carried out as in 2 and 3.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tamas.acd import api as acd
from tamas.core.errors import TamasError
from tamas.core.ids import new_id
from tamas.runtime.callcenter.announce import announcement
from tamas.runtime.callcenter.audio import Clip
from tamas.runtime.callcenter.dialer import AgentDial, FailCause
from tamas.store.contacts import InvalidContact, normalize_number
from tamas.store.records import CallDirection, CallRecord

if TYPE_CHECKING:
    from tamas.runtime.b2bua import Leg
    from tamas.runtime.callcenter.center import CallCenter, Party

log = logging.getLogger("tamas.center")

__all__ = ["Callbacks", "InvalidNumber"]


class InvalidNumber(TamasError):
    """A callback number that is not a phone number."""


#: Seconds the caller has for each answer while confirming a callback number.
ASK_SECONDS = 10.0


@dataclass(eq=False, slots=True)
class Asking:
    """A waiting caller being asked which number to call back."""

    number: str
    entering: bool = False
    digits: str = ""
    timer: asyncio.TimerHandle | None = None


class Callbacks:
    def __init__(self, center: CallCenter) -> None:
        self.center = center
        self.asking: dict[str, Asking] = {}  # by call id

    def schedule(self, queue: str, number: str, at: float | None) -> str:
        """A callback with no call (see the module's docstring); returns its id."""
        try:
            clean = normalize_number(number)
        except InvalidContact as exc:
            raise InvalidNumber(str(exc).removeprefix("number: ")) from None
        callback_id = f"cb-{new_id(8)}"
        self.center.submit(acd.CallbackScheduled(callback_id=callback_id, queue=queue,
                                                 number=clean, at=at))  # fmt: skip
        log.info("callback %s: %s from queue %s scheduled%s", callback_id, clean, queue,
                 "" if at is None else f" for {at:.0f}")  # fmt: skip
        return callback_id

    def ask(self, party: Party) -> None:
        """The waiting caller pressed the callback key: which number, 1 or 2?"""
        number = party.caller if party.caller.lstrip("+").isdigit() else ""
        state = Asking(number, entering=not number)
        self.asking[party.call.id] = state
        log.info("call %s: asks the caller to confirm the callback number", party.call.id)
        self._prompt(party, state)

    def _prompt(self, party: Party, state: Asking) -> None:
        c = self.center
        a = party.call.a
        if a is None or a.media is None:
            return
        kind = "callback-enter" if state.entering else "callback-ask"
        text = announcement(kind, 0, 0.0, party.language, number=state.number)
        if state.timer is not None:
            state.timer.cancel()

        def wait() -> None:
            state.timer = asyncio.get_running_loop().call_later(
                ASK_SECONDS, self.drop, party.call.id
            )

        c.speaker.say(party.call, a.media, [Clip(text, party.language)], wait)

    def digit(self, party: Party, digit: str) -> bool:
        """A key of a caller being asked (True if it was theirs to take)."""
        state = self.asking.get(party.call.id)
        if state is None:
            return False
        if state.entering:
            if digit == "#" and 3 <= len(state.digits) <= 20:
                state.number, state.digits, state.entering = state.digits, "", False
                self._prompt(party, state)
            elif digit.isdigit():
                state.digits += digit
            return True
        if digit == "1":
            self.drop(party.call.id)
            self.center.callback_confirmed(party, state.number)
        elif digit == "2":
            state.entering, state.digits = True, ""
            self._prompt(party, state)
        return True

    def drop(self, call_id: str) -> None:
        """Stop asking (answered, connected to an agent, silent, or gone)."""
        state = self.asking.pop(call_id, None)
        if state is not None and state.timer is not None:
            state.timer.cancel()

    def confirm(self, party: Party, queue: str | None) -> None:
        """The caller chose a callback: tell them when to expect it, then hang up."""
        c = self.center
        call = party.call
        a = call.a
        if a is None or a.media is None:
            return
        wait = 0.0
        engine = c.engine
        estimate = getattr(engine, "estimated_wait", None)
        waiting = getattr(engine, "waiting", None)
        if queue and callable(estimate) and callable(waiting):
            line = list(waiting(queue))
            position = line.index(party.acd_id) + 1 if party.acd_id in line else len(line)
            wait = float(estimate(queue, position))
        text = announcement("callback-confirmed", 0, wait, party.language)
        c.speaker.background(call, None)
        c.speaker.say(call, a.media, [Clip(text, party.language)],
                      lambda: c.hang_up(call, "callback-requested"))  # fmt: skip

    def start(self, command: acd.StartCallback) -> None:
        """Call the agent; when they answer, the customer."""
        from tamas.runtime.b2bua import Call

        c = self.center
        call = Call(id=new_id(8))
        call.record = CallRecord(
            call_id=call.id, caller=command.device, callee=command.number,
            direction=CallDirection.OUTBOUND, started_at=time.time(),
        )  # fmt: skip
        c.b2bua.calls[call.id] = call
        party = c.take(call)
        party.acd_id = command.callback_id
        c.log(call.id, "CALLBACKSTART", command.callback_id, command.number,
              agent=command.agent)  # fmt: skip
        log.info("callback %s: calling agent %s on %s for %s", command.callback_id,
                 command.agent, command.device, command.number)  # fmt: skip

        def agent_answered(d: AgentDial, fork: Leg) -> None:
            self._agent_up(party, command, fork)

        def agent_failed(d: AgentDial, cause: FailCause) -> None:
            c.feed(acd.RingFailed(call_id=command.callback_id, agent=command.agent, cause=cause))
            c.b2bua.hangup(call, cause=f"callback agent {cause}", notify=())

        c.dialer.dial(call, command.agent, command.device, command.window,
                      caller=command.number, on_answer=agent_answered,
                      on_fail=agent_failed)  # fmt: skip

    def _agent_up(self, party: Party, command: acd.StartCallback, fork: Leg) -> None:
        from tamas.runtime.b2bua import CallState

        c = self.center
        call = party.call
        if fork.media is None:
            c.b2bua.hangup(call, cause="callback agent without media", notify=(fork,))
            return
        fork.side = fork.media.side = "a"
        call.a = fork
        call.move(CallState.RINGING)
        call.move(CallState.ANSWERED)
        call.answered_at = time.time()
        call.answered_loop = asyncio.get_running_loop().time()
        c.b2bua.keepalive.start(call)
        c.log(call.id, "LEGANSWER", "a", agent=command.agent)
        text = f"Callback. Calling {' '.join(command.number)}."
        c.speaker.say(call, fork.media, [Clip(text, "en")], None)

        def customer_answered(d: AgentDial, customer: Leg) -> None:
            a = call.a
            if a is None or a.media is None or customer.media is None:
                c.hang_up(call, "callback lost")
                return
            customer.side = customer.media.side = "b"
            call.b = customer
            party.agent = command.agent
            c.speaker.stop(call, a.media)
            c.anchor.bridge(call, a.media, customer.media)
            c.log(call.id, "LEGSTART", "b", command.number)
            c.log(call.id, "LEGANSWER", "b")
            c.feed(acd.CallbackResult(callback_id=command.callback_id, outcome="answered"))

        def customer_failed(d: AgentDial, cause: FailCause) -> None:
            log.info("callback %s: %s did not answer (%s)", command.callback_id, command.number,
                     cause)  # fmt: skip
            c.feed(acd.CallbackResult(callback_id=command.callback_id, outcome="failed"))
            if call.a is not None and call.a.media is not None:
                c.speaker.say(call, call.a.media,
                              [Clip("The customer did not answer. Goodbye.", "en")],
                              lambda: c.hang_up(call, f"callback customer {cause}"))  # fmt: skip

        c.dialer.dial(call, "", command.number, max(5.0, command.window), caller=fork.extension
                      or command.device, on_answer=customer_answered,
                      on_fail=customer_failed, anywhere=True)  # fmt: skip
