"""The contact center at run time: the ACD and IVR cores driven by real calls.

Theory of operation
-------------------
A caller reaches the center by dialing an application number (``media.applications`` of
kind ``ivr`` or ``queue``); Tamas answers the call itself (:mod:`tamas.runtime.sessions`) and
hands the caller's leg here.

* **IVR** (:mod:`tamas.runtime.callcenter.ivr_runner`): one pure ``IvrSession`` per call; its
  commands become playbacks, digit collection and, at the end, a destination.
* **Queues**: the one pure ACD engine (:mod:`tamas.acd`) gets every event with ``now``;
  :meth:`CallCenter.feed` appends the records it returns to the **event log first** (the
  journal write returns before anything is acted on), then runs its commands: ring agents
  (:mod:`tamas.runtime.callcenter.dialer`), stop ringing, connect (bridge the caller's media
  leg with the agent's answered leg, which becomes the call's ``b`` leg), announce (speech
  over the music on hold), route the caller elsewhere, start a callback. Events raised while
  commands run are queued and handled after them, in order, so the engine is never
  re-entered. One loop timer is kept at the engine's ``next_deadline()``.
* **Facts from the call** reach the engine as events: the caller's keys (digit hooks), a call
  that ends (the B2BUA's ended hooks: a waiting caller -> CallerHungUp; a connected call ->
  CallEnded by the side that sent BYE), agents logging in, out, pausing (feature codes
  ``*50``-``*53`` and the HTTP API) and their phones registering (``login_when_registered``).
* **Destinations** (an IVR's end, a queue's overflow or exit key): queue, IVR flow,
  extension (rung by the dialer and bridged, like an agent), voicemail, callback, hangup.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Literal, Protocol

from tamas.acd import api as acd
from tamas.config.center import parse_destination
from tamas.config.model import Config, Extension, MediaApplication
from tamas.core.events import LogRecord
from tamas.ivr.hours import calendar_from_dict, is_open
from tamas.media.playback import tone_source
from tamas.media.tones import RINGBACK_ITU
from tamas.runtime.callcenter.announce import announcement
from tamas.runtime.callcenter.audio import Clip, Speaker
from tamas.runtime.callcenter.callbacks import Callbacks
from tamas.runtime.callcenter.dialer import AgentDial, Dialer, FailCause
from tamas.runtime.callcenter.parking import Parking
from tamas.runtime.callcenter.ringgroups import RingGroups
from tamas.runtime.routing import CLOSED

if TYPE_CHECKING:
    from tamas.runtime.anchor import CallDigit, LegMedia, MediaAnchor
    from tamas.runtime.b2bua import B2BUA, Call, Leg
    from tamas.runtime.callcenter.flows import CenterFlows
    from tamas.runtime.callcenter.ivr_runner import IvrRunner

log = logging.getLogger("tamas.center")

__all__ = ["SURVEY_SECONDS", "AcdEngine", "CallCenter", "Voicemail"]

#: How long a caller has to press a key 1-5 after the survey question.
SURVEY_SECONDS = 10.0


class AcdEngine(Protocol):
    def handle(self, event: acd.Event, now: float) -> acd.Outcome: ...

    def next_deadline(self) -> float | None: ...

    def agent_state(self, agent: str) -> Enum: ...

    def waiting(self, queue: str) -> list[str]: ...

    def estimated_wait(self, queue: str, position: int) -> float: ...

    def callbacks(self, queue: str | None = None) -> list[acd.PendingCallback]: ...


class Voicemail(Protocol):
    def leave(self, call: Call, leg: LegMedia, box: str) -> None: ...


@dataclass(eq=False, slots=True)
class Party:
    """A call the center handles: where it is now."""

    call: Call
    caller: str
    queue: str | None = None
    agent: str | None = None  # connected to this agent
    language: str = "en"
    #: The call's id in the ACD: the call's own, or the callback it carries out.
    acd_id: str = ""
    #: The queue whose agent the caller was connected to (for the post-call survey).
    served_by: str | None = None
    #: The caller is rating the call (the agent has left): the timer that gives up.
    survey: asyncio.TimerHandle | None = None
    survey_agent: str | None = None
    entered_at: float = 0.0  # joined its queue
    connected_at: float = 0.0  # connected to its agent
    origposition: str = "1"  # its position when it joined (ENTERQUEUE)
    answered: dict[str, Leg] = field(default_factory=dict)  # agent -> answered fork
    dials: dict[str, AgentDial] = field(default_factory=dict)  # agent -> ringing


class CallCenter:
    def __init__(
        self, config: Config, b2bua: B2BUA, anchor: MediaAnchor, engine: AcdEngine,
        speaker: Speaker, append: Callable[[Sequence[LogRecord]], object],
        *, clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.config = config
        self.b2bua = b2bua
        self.anchor = anchor
        self.engine = engine
        self.speaker = speaker
        self.append = append
        self.clock = clock
        self.dialer = b2bua.dialer if b2bua.dialer is not None else Dialer(b2bua)
        self.queues = {q.name: q for q in config.queues}
        self.agents = {a.id: a for a in config.agents}
        self.parties: dict[str, Party] = {}
        self.ivr: IvrRunner | None = None
        #: The IVR flows in effect (file and database), which ``ivr`` reads; see flows.py.
        self.ivr_flows: CenterFlows | None = None
        self.voicemail: Voicemail | None = None
        self.logged_in: dict[str, str] = {}  # agent -> device, as we told the engine
        self.callbacks = Callbacks(self)
        self.parking = Parking(self)
        self.ring_groups = RingGroups(self)
        b2bua.unanswered = self._unanswered
        hours = {e.hours for e in config.extensions if e.hours is not None}
        self.calendars = {name: calendar_from_dict(name, config.calendars[name])
                          for name in hours if name in config.calendars}  # fmt: skip
        b2bua.router.closed = self.closed_now
        b2bua.hold_hooks.append(self._held)
        b2bua.transfer_hooks.append(self._transferred)
        b2bua.attended_hooks.append(self._attended)
        self._events: deque[acd.Event] = deque()
        self._busy = False
        self._timer: asyncio.TimerHandle | None = None
        b2bua.ended_hooks.append(self._call_ended)
        b2bua.leg_left = self._leg_left
        anchor.digit_hooks.append(self._digit)

    # -- the engine pump -------------------------------------------------------------------
    def feed(self, event: acd.Event) -> None:
        """Give ``event`` to the ACD: its records are logged, then its commands run."""
        self._events.append(event)
        if not self._busy:
            self._pump(None)

    def submit(self, event: acd.Event) -> None:
        """As :meth:`feed`, for a request from outside (the HTTP API): the ACD's refusal
        (``AcdError``, raised before it changed anything) reaches the caller instead of the
        log. Not to be called while the center carries out commands (it would not raise)."""
        if self._busy:
            self.feed(event)
            return
        self._busy = True
        try:
            out = self.engine.handle(event, self.clock())
        finally:
            self._busy = False
        self._pump(out)

    def _pump(self, first: acd.Outcome | None) -> None:
        self._busy = True
        try:
            if first is not None:
                self._carry_out(first)
            while self._events:
                ev = self._events.popleft()
                try:
                    out = self.engine.handle(ev, self.clock())
                except Exception:
                    log.exception("ACD refused %s", ev)
                    continue
                self._carry_out(out)
        finally:
            self._busy = False
        self._arm()

    def _carry_out(self, out: acd.Outcome) -> None:
        if out.records:
            self.append(out.records)
            self._note(out.records)
        for command in out.commands:
            try:
                self._run(command)
            except Exception:
                log.exception("cannot carry out %s", command)

    def _note(self, records: Sequence[LogRecord]) -> None:
        for r in records:
            if r.event == "ENTERQUEUE" and len(r.data) >= 3:
                party = self.parties.get(r.call_id)
                if party is not None:
                    party.entered_at, party.origposition = r.at, r.data[2]

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.engine.next_deadline()
        if deadline is not None:
            delay = max(0.0, deadline - self.clock())
            self._timer = asyncio.get_running_loop().call_later(delay, self._tick)

    def _tick(self) -> None:
        self._timer = None
        self.feed(acd.Tick())

    def log(self, call_id: str, event: str, *data: str, queue: str = "NONE",
            agent: str = "NONE") -> None:  # fmt: skip
        """Append one record of the center's own (not the ACD's) to the event log."""
        self.append([LogRecord(at=self.clock(), call_id=call_id, queue=queue, agent=agent,
                               event=event, data=tuple(data))])  # fmt: skip

    # -- commands --------------------------------------------------------------------------
    def _run(self, command: acd.Command) -> None:
        if isinstance(command, acd.RingAgents):
            self._ring(command)
        elif isinstance(command, acd.StopRinging):
            self._stop_ringing(command.call_id, command.agents)
        elif isinstance(command, acd.Connect):
            self._connect(command)
        elif isinstance(command, acd.Announce):
            self._announce(command)
        elif isinstance(command, acd.RouteCaller):
            party = self.parties.get(command.call_id)
            if party is not None:
                queue = party.queue
                self._leave_queue(party)
                dest = command.destination
                if dest.kind is acd.DestinationKind.CALLBACK:
                    self.callbacks.confirm(party, queue)  # the engine keeps the place
                else:
                    self.route(party.call, dest.kind.value, dest.target)
        elif isinstance(command, acd.StartCallback):
            self.callbacks.start(command)

    def _ring(self, command: acd.RingAgents) -> None:
        party = self.parties.get(command.call_id)
        if party is None:
            return
        for agent, device in command.agents:
            if agent in party.dials:
                continue
            party.dials[agent] = self.dialer.dial(
                party.call, agent, device, command.timeout, caller=party.caller,
                on_answer=self._agent_answered, on_fail=self._agent_failed,
            )  # fmt: skip

    def _agent_answered(self, d: AgentDial, fork: Leg) -> None:
        party = self.parties.get(d.call.id)
        if party is None:
            self._hang_up_fork(fork)
            return
        party.dials.pop(d.agent, None)
        party.answered[d.agent] = fork
        self.feed(acd.RingAnswered(call_id=d.call.id, agent=d.agent))

    def _agent_failed(self, d: AgentDial, cause: FailCause) -> None:
        party = self.parties.get(d.call.id)
        if party is not None:
            party.dials.pop(d.agent, None)
        self.feed(acd.RingFailed(call_id=d.call.id, agent=d.agent, cause=cause))

    def _stop_ringing(self, call_id: str, agents: Sequence[str]) -> None:
        party = self.parties.get(call_id)
        if party is None:
            return
        for agent in agents:
            d = party.dials.pop(agent, None)
            if d is not None:
                self.dialer.stop(d)
            fork = party.answered.pop(agent, None)
            if fork is not None:
                self._hang_up_fork(fork)  # answered, but another agent got the call

    def _hang_up_fork(self, fork: Leg) -> None:
        self.b2bua.send_in_dialog(fork, "BYE")
        if fork.media is not None and fork.call.media is not None:
            self.anchor.close(fork.call, fork.media.engine)
        self.b2bua.forget(fork)

    def _connect(self, command: acd.Connect) -> None:
        party = self.parties.get(command.call_id)
        fork = party.answered.pop(command.agent, None) if party is not None else None
        if party is None or fork is None:
            log.warning("call %s: agent %s has no answered leg to connect", command.call_id,
                        command.agent)  # fmt: skip
            return
        call, a = party.call, party.call.a
        for agent in list(party.answered):
            self._hang_up_fork(party.answered.pop(agent))
        if a is None or a.media is None or fork.media is None:
            self._hang_up_fork(fork)
            return
        fork.side = "b"
        fork.media.side = "b"
        call.b = fork
        self.callbacks.drop(call.id)
        party.agent = command.agent
        party.served_by = party.queue
        party.connected_at = self.clock()
        self.log(call.id, "LEGSTART", "b", command.device, agent=command.agent)
        self.log(call.id, "LEGANSWER", "b", agent=command.agent)
        party.queue = None
        self.speaker.background(call, None)
        self.speaker.stop(call, a.media)
        self.anchor.bridge(call, a.media, fork.media)
        self.b2bua.keepalive.start(call)
        log.info("call %s: connected to agent %s on %s", call.id, command.agent, command.device)

    def _announce(self, command: acd.Announce) -> None:
        party = self.parties.get(command.call_id)
        if party is None or party.call.a is None or party.call.a.media is None:
            return
        queue = self.queues.get(party.queue or "")
        keys = queue.exit_keys if queue is not None else {}
        text = announcement(command.kind, command.position, command.wait_s, party.language,
                            callback_key=next((k for k, d in keys.items() if d == "callback"),
                                              None))  # fmt: skip
        self.speaker.say(party.call, party.call.a.media, [Clip(text, party.language)], None)

    # -- entering and leaving queues ---------------------------------------------------------
    def enter_queue(self, call: Call, queue: str, *, language: str | None = None) -> None:
        a = call.a
        if a is None or a.media is None:
            return
        party = self._party(call)
        party.queue = queue
        spec = self.queues.get(queue)
        party.language = language or (spec.language if spec is not None else "en")
        self.speaker.background(call, self.anchor.music.source)
        self.speaker.stop(call, a.media)
        skills = dict(spec.skills) if spec is not None else {}
        self.feed(acd.CallerArrived(call_id=call.id, queue=queue, caller=party.caller,
                                    skills=skills))  # fmt: skip

    def schedule_callback(self, queue: str, number: str, at: float | None = None) -> str:
        """Schedule a callback to ``number`` from ``queue`` at ``at`` (epoch seconds; None or
        past: now); returns its id. ``number`` is normalised (Persian/Arabic-Indic digits,
        separators); InvalidNumber if it is no phone number, AcdError for an unknown queue."""
        return self.callbacks.schedule(queue, number, at)

    def cancel_callback(self, callback_id: str, reason: str = "cancelled") -> None:
        """Drop a pending callback (UnknownCallback / CallbackInProgress: refused)."""
        self.submit(acd.CallbackCancelled(callback_id=callback_id, reason=reason))

    def pending_callbacks(self, queue: str | None = None) -> list[acd.PendingCallback]:
        """The callbacks not yet made (AcdError for an unknown queue)."""
        return self.engine.callbacks(queue)

    def callback_confirmed(self, party: Party, number: str) -> None:
        """The waiting caller confirmed the number to call back: they keep their place."""
        queue = party.queue
        self.feed(acd.CallbackRequested(call_id=party.acd_id, number=number))
        self._leave_queue(party)
        self.callbacks.confirm(party, queue)

    def _leave_queue(self, party: Party) -> None:
        self.callbacks.drop(party.call.id)
        party.queue = None
        self.speaker.background(party.call, None)
        for agent in list(party.dials):
            self.dialer.stop(party.dials.pop(agent))

    def take(self, call: Call) -> Party:
        """``call`` is the center's from now on (its CALLSTART is logged once)."""
        return self._party(call)

    def _party(self, call: Call) -> Party:
        party = self.parties.get(call.id)
        if party is None:
            record = call.record
            caller = record.caller if record is not None else "anonymous"
            party = self.parties[call.id] = Party(call, caller, acd_id=call.id)
            callee = record.callee if record is not None else ""
            direction = record.direction.value if record is not None else "internal"
            trunk = (record.trunk or "") if record is not None else ""
            self.log(call.id, "CALLSTART", caller, callee, direction, trunk)
            self.log(call.id, "LEGSTART", "a", caller)
        return party

    # -- destinations ----------------------------------------------------------------------
    def route(self, call: Call, kind: str, target: str, *, language: str | None = None) -> None:
        """Send ``call`` (answered by Tamas) to a destination."""
        a = call.a
        if a is None or a.media is None:
            return
        log.info("call %s: to %s %s", call.id, kind, target)
        if kind == "queue":
            self.enter_queue(call, target, language=language)
        elif kind == "ivr" and self.ivr is not None:
            self.ivr.start(call, a.media, target)
        elif kind == "voicemail" and self.voicemail is not None:
            self.speaker.stop(call, a.media)
            self.speaker.forget(call.id)
            self.voicemail.leave(call, a.media, target)
        elif kind == "callback":
            # only a caller waiting in a queue keeps a place: elsewhere there is none to keep
            self.hang_up(call, "callback without a queue")
        elif kind in ("extension", "external"):
            party = self._party(call)
            self.speaker.background(call, lambda: tone_source(RINGBACK_ITU))
            self.speaker.stop(call, a.media)
            ext = self.config.extension(target)
            timeout = float(ext.ring_timeout) if ext is not None else 60.0
            self.dialer.dial(
                call,
                "",
                target,
                timeout,
                caller=party.caller,
                on_answer=self.connect_extension,
                anywhere=kind == "external",
                on_fail=lambda d, cause: self.hang_up(call, f"{kind} {cause}"),
            )
        elif kind == "ring_group":
            app = next(
                (
                    x
                    for x in self.config.media.applications
                    if x.kind == "ring_group" and x.number == target
                ),
                None,
            )
            if app is None:
                self.hang_up(call, f"no ring group {target}")
            else:
                self.ring_groups.handle(call, a.media, app, target)
        else:
            self.hang_up(call, "hangup" if kind == "hangup" else f"no {kind} destination")

    def connect_extension(self, d: AgentDial, fork: Leg) -> None:
        """An extension (or external number) rung for a call Tamas answered picked up."""
        call, a = d.call, d.call.a
        if a is None or a.media is None or fork.media is None:
            self._hang_up_fork(fork)
            return
        fork.side = fork.media.side = "b"
        call.b = fork
        self.speaker.background(call, None)
        self.speaker.stop(call, a.media)
        self.anchor.bridge(call, a.media, fork.media)
        self.log(call.id, "LEGSTART", "b", d.device)
        self.log(call.id, "LEGANSWER", "b")

    def _held(self, call: Call, leg: Leg, held: bool) -> None:
        """A party held or resumed a call: HOLD/UNHOLD (hold time in CDRs); an agent's hold
        is the ACD's on-hold state."""
        party = self.parties.get(call.id)
        if party is None:
            return
        if party.agent is not None and leg is (call.a if party.acd_id != call.id else call.b):
            event = acd.AgentHold if held else acd.AgentUnhold
            self.feed(event(agent=party.agent))  # the ACD logs HOLD/UNHOLD with its queue
            return
        side = "a" if leg is call.a else "b"
        agent = party.agent if party.agent is not None else "NONE"
        self.log(call.id, "HOLD" if held else "UNHOLD", side, agent=agent)

    def _unanswered(self, call: Call, status: int, reason: str) -> bool:
        """An extension's call is about to fail: its conditional forwarding, if it has one."""
        a, record, sessions = call.a, call.record, self.b2bua.sessions
        if a is None or a.media is None or record is None or sessions is None:
            return False
        ext = self.config.extension(call.extension or record.callee)
        if ext is None or not ext.forward:
            return False
        if status == 480 and reason == CLOSED:
            why = "closed"
        elif status in (486, 600):
            why = "busy"
        elif status == 408 or (status == 480 and reason == "No Answer"):
            why = "no_answer"
        elif status in (480, 404, 503):
            why = "unavailable"
        else:
            return False
        dest = ext.forward.get(why)  # type: ignore[call-overload]
        if dest is None or not sessions.answer_self(call, a):
            return False
        kind, target = parse_destination(dest)
        log.info("call %s: %s is %s; forwarded to %s", call.id, ext.number,
                 why.replace("_", " "), dest)  # fmt: skip
        self.take(call)
        self.log(call.id, "FORWARD", ext.number, why, dest)
        self.route(call, kind, target)
        return True

    def closed_now(self, ext: Extension) -> bool:
        """A call to ``ext`` goes to its ``forward.closed`` now: outside its ``hours`` (the
        calendar read at :attr:`clock`'s time, as the IVR's hours step does)."""
        calendar = self.calendars.get(ext.hours or "")
        if calendar is None or "closed" not in ext.forward:
            return False
        return not is_open(calendar, self.clock())

    def hang_up(self, call: Call, cause: str) -> None:
        self.b2bua.hangup(call, cause=cause, notify=(call.a, call.b))

    # -- facts from calls ------------------------------------------------------------------
    def _call_ended(self, call: Call, cause: str) -> None:
        party = self.parties.pop(call.id, None)
        if party is not None and party.survey is not None:
            party.survey.cancel()
            party.survey = None
        if party is not None and party.survey_agent is not None:
            self.log(call.id, "SURVEY", "", "5", queue=party.served_by or "NONE",
                     agent=party.survey_agent)  # fmt: skip
        if self.ivr is not None:
            self.ivr.ended(call)
        self.parking.ended(call)
        self.callbacks.drop(call.id)
        self.speaker.forget(call.id)
        if party is None:
            return
        for fork in party.answered.values():
            self._hang_up_fork(fork)
        party.answered.clear()
        party.dials.clear()  # the dialer stops them itself
        if party.agent is not None:
            agent_side = "bye-from-a" if party.acd_id != call.id else "bye-from-b"  # callback: a
            by: Literal["caller", "agent"] = "agent" if cause == agent_side else "caller"
            self.feed(acd.CallEnded(call_id=party.acd_id, by=by))
        elif party.queue is not None:
            self.feed(acd.CallerHungUp(call_id=call.id))
        ended = "normal" if cause.startswith("bye-from-") else cause
        if party.agent is not None:
            self.log(call.id, "LEGEND", "b", ended, agent=party.agent)
        self.log(call.id, "LEGEND", "a", ended)
        self.log(call.id, "CALLEND", ended)

    def _transferred(self, call: Call, transferor: Leg, number: str) -> None:
        """A blind transfer to an application (queue, IVR, voicemail, park slot): an agent's
        call ends for the ACD (BLINDTRANSFER, Asterisk's fields) and goes on without them."""
        self.parking.transferred(call, transferor.extension)
        party = self.parties.get(call.id)
        if party is None or party.agent is None:
            return
        agent, party.agent = party.agent, None
        now = self.clock()
        hold = int(party.connected_at - party.entered_at) if party.entered_at else 0
        self.log(call.id, "BLINDTRANSFER", number, "", str(hold),
                 str(int(now - party.connected_at)), party.origposition,
                 queue=party.served_by or "NONE", agent=agent)  # fmt: skip
        self.log(call.id, "LEGEND", "b", "transferred", agent=agent)
        self.feed(acd.CallEnded(call_id=party.acd_id, by="agent"))
        party.queue = None

    def _attended(self, call: Call, transferor: Leg, consult: Call, target: Leg) -> None:
        """An attended transfer joined ``call`` with the party of ``consult``: an agent's
        call ends for the ACD (ATTENDEDTRANSFER, Asterisk's fields, method BRIDGE) and goes
        on with the target as its ``b`` leg."""
        party = self.parties.get(call.id)
        if party is None:
            return
        who = target.extension or (consult.record.callee if consult.record else "")
        if party.agent is not None:
            agent, party.agent = party.agent, None
            now = self.clock()
            hold = int(party.connected_at - party.entered_at) if party.entered_at else 0
            self.log(call.id, "ATTENDEDTRANSFER", "BRIDGE", f"{call.id}|{consult.id}",
                     str(hold), str(int(now - party.connected_at)), party.origposition,
                     queue=party.served_by or "NONE", agent=agent)  # fmt: skip
            self.log(call.id, "LEGEND", "b", "transferred", agent=agent)
            self.feed(acd.CallEnded(call_id=party.acd_id, by="agent"))
        self.log(call.id, "LEGSTART", "b", who)
        self.log(call.id, "LEGANSWER", "b")

    # -- the post-call survey --------------------------------------------------------------
    def _leg_left(self, call: Call, leg: Leg) -> bool:
        """The agent hung up: a queue with ``survey`` keeps the caller to rate the call."""
        party = self.parties.get(call.id)
        if party is None or party.agent is None or leg is not call.b or party.acd_id != call.id:
            return False
        spec = self.queues.get(party.served_by or "")
        a = call.a
        if spec is None or not spec.survey or a is None or a.media is None:
            return False
        agent, party.agent = party.agent, None
        log.info("call %s: agent %s left; the caller is asked to rate the call", call.id, agent)
        self.log(call.id, "LEGEND", "b", "normal", agent=agent)
        self.feed(acd.CallEnded(call_id=call.id, by="agent"))
        party.survey_agent = agent
        text = announcement("survey", 0, 0.0, party.language)

        def listen() -> None:
            party.survey = asyncio.get_running_loop().call_later(
                SURVEY_SECONDS, self._rated, call, ""
            )

        self.speaker.say(call, a.media, [Clip(text, party.language)], listen)
        return True

    def _rated(self, call: Call, score: str) -> None:
        party = self.parties.get(call.id)
        if party is None or party.survey_agent is None:
            return
        if party.survey is not None:
            party.survey.cancel()
            party.survey = None
        agent, party.survey_agent = party.survey_agent, None
        self.log(call.id, "SURVEY", score, "5", queue=party.served_by or "NONE", agent=agent)
        a = call.a
        if a is None or a.media is None or not score:
            self.hang_up(call, "survey-timeout" if not score else "survey")
            return
        self.speaker.say(call, a.media, [Clip(announcement("survey-thanks", 0, 0.0,
                                                          party.language), party.language)],
                         lambda: self.hang_up(call, "survey"))  # fmt: skip

    def _digit(self, digit: CallDigit) -> None:
        party = self.parties.get(digit.call_id)
        if party is not None and party.survey_agent is not None and digit.side == "a":
            if digit.digit in "12345":
                self._rated(party.call, digit.digit)
            return
        if party is not None and party.queue is not None and digit.side == "a":
            if self.callbacks.digit(party, digit.digit):
                return  # answering "which number shall we call back?"
            spec = self.queues.get(party.queue)
            if spec is not None and spec.exit_keys.get(digit.digit) == "callback":
                self.callbacks.ask(party)
                return
            self.feed(acd.CallerPressed(call_id=digit.call_id, digit=digit.digit))
            return
        if self.ivr is not None:
            self.ivr.digit(digit)

    # -- agents ----------------------------------------------------------------------------
    def agent_for_device(self, device: str) -> str | None:
        for agent, dev in self.logged_in.items():
            if dev == device:
                return agent
        return next((a.id for a in self.config.agents if a.extension == device), None)

    def login(self, agent: str, device: str) -> None:
        log.info("agent %s logs in on %s", agent, device)
        self.logged_in[agent] = device
        self.feed(acd.AgentLogin(agent=agent, device=device))

    def logout(self, agent: str) -> None:
        log.info("agent %s logs out", agent)
        self.logged_in.pop(agent, None)
        self.feed(acd.AgentLogout(agent=agent))

    def pause(self, agent: str, reason: str) -> None:
        log.info("agent %s pauses (%s)", agent, reason or "no reason")
        self.feed(acd.AgentPause(agent=agent, reason=reason))

    def unpause(self, agent: str) -> None:
        log.info("agent %s is back", agent)
        self.feed(acd.AgentUnpause(agent=agent))

    def feature(self, call: Call, leg: LegMedia, app: MediaApplication, dialed: str) -> None:
        """An agent dialed a feature code from their phone: act, say so, hang up."""
        self._party(call)
        device = call.a.extension if call.a is not None else None
        agent = self.agent_for_device(device) if device else None
        pin = dialed[len(app.number) :] if app.action == "login" else ""
        if pin:  # *50 + PIN: the agent with that PIN logs in on this phone
            agent = next((a.id for a in self.config.agents if a.pin == pin), None)
        language = "en"
        if agent is None or device is None:
            text = "No agent has this PIN." if pin else "No agent uses this phone."
        elif app.action == "login":
            self.login(agent, device)
            text = f"Agent {self.agents[agent].name or agent} logged in."
        elif app.action == "logout":
            self.logout(agent)
            text = f"Agent {self.agents[agent].name or agent} logged out."
        elif app.action == "pause":
            code = dialed[len(app.number) :]
            reason = self.config.features.pause_reasons.get(code, "pause")
            self.pause(agent, reason)
            text = f"Paused, {reason}."
        else:
            self.unpause(agent)
            text = "Available."
        self.speaker.say(call, leg, [Clip(text, language)],
                         lambda: self.hang_up(call, f"feature {app.action}"))  # fmt: skip

    def agent_view(self, agent: str) -> dict[str, object]:
        spec = self.agents[agent]
        return {"id": agent, "name": spec.name, "state": self.engine.agent_state(agent).value,
                "device": self.logged_in.get(agent), "queues": dict(spec.queues)}  # fmt: skip

    def agent_views(self) -> list[dict[str, object]]:
        return [self.agent_view(a) for a in self.agents]

    def queue_views(self) -> list[dict[str, object]]:
        views: list[dict[str, object]] = []
        for name in self.queues:
            line = self.engine.waiting(name)
            views.append(
                {
                    "name": name,
                    "waiting": len(line),
                    "calls": line,
                    "estimated_wait": self.engine.estimated_wait(name, len(line) + 1),
                }
            )
        return views

    def registered(self, device: str, registered: bool) -> None:
        """A phone registered or unregistered: agents that log in with it follow."""
        for agent in self.config.agents:
            if agent.extension != device:
                continue
            if agent.login_when_registered and registered and agent.id not in self.logged_in:
                self.login(agent.id, device)
            elif not registered and agent.id in self.logged_in:
                self.feed(acd.DeviceState(device=device, state="unregistered"))
                if agent.login_when_registered:
                    self.logout(agent.id)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
