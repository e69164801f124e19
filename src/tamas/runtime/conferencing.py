"""Conference rooms and supervisor monitoring as numbers Tamas answers itself.

Two kinds of ``media.applications`` (see :mod:`tamas.runtime.apps`, which answers the call
and hands its caller leg here):

* ``conference`` - the number is a room. The first caller opens it; every caller hears all the
  others (:class:`~tamas.runtime.mediaengine.mixing.ConferenceRoom`). A member who hangs up
  leaves it (their leg closes); the room is gone when the last one has left.
* ``monitor`` - the number is a prefix followed by an extension (``*30`` + ``1002``). Only an
  extension marked ``supervisor`` may use it. The extension's answered, bridged call is found
  (the extension is its callee, the *agent*; the other party is the *caller*) and the
  supervisor joins it in the application's mode: listen (hears both, heard by none), whisper
  (heard by the agent only) or barge (heard by both). The supervisor may change mode by
  pressing 4 (listen), 5 (whisper) or 6 (barge), as in Asterisk's ChanSpy. When the supervisor
  hangs up, the call goes back to a plain relay bridge; when the monitored call ends, Tamas
  hangs up the supervisor.

A monitor call that cannot be served (the caller is not a supervisor, the extension has no
answered call, or the engine cannot mix) is answered with three seconds of busy tone and then
BYE: a phone shows a busy call with a clear reason in the log, rather than a bare 480 that
some phones retry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from tamas.config.model import MediaApplication
from tamas.media.mixer import MonitorMode
from tamas.media.playback import PromptSource
from tamas.media.tones import BUSY, ToneSource
from tamas.runtime.anchor import CallDigit, LegMedia, MediaAnchor
from tamas.runtime.mediaengine.engine import LocalMediaEngine
from tamas.runtime.mediaengine.leg import UdpLeg
from tamas.runtime.mediaengine.mixing import ConferenceRoom, MonitorSession

if TYPE_CHECKING:
    from tamas.runtime.b2bua import Call

log = logging.getLogger("tamas.calls")

__all__ = ["DIGIT_MODES", "Conferencing"]

#: Keys a supervisor presses to change mode during a monitor call.
DIGIT_MODES: Final = {"4": MonitorMode.LISTEN, "5": MonitorMode.WHISPER, "6": MonitorMode.BARGE}

_BUSY_SECONDS: Final = 3.0


def _busy_samples() -> npt.NDArray[np.int16]:
    tone = ToneSource(BUSY)
    frames = [tone.read() for _ in range(round(_BUSY_SECONDS * 50))]
    return np.concatenate([f for f in frames if f is not None])


class Conferencing:
    """The rooms and monitor sessions of one running server."""

    def __init__(self, anchor: MediaAnchor, hang_up: Callable[[Call, str], None]) -> None:
        self.anchor = anchor
        self.hang_up = hang_up
        self.rooms: dict[str, ConferenceRoom] = {}
        #: Monitor sessions by the supervisor's call id.
        self.sessions: dict[str, MonitorSession] = {}
        self._members: dict[str, tuple[ConferenceRoom, UdpLeg]] = {}  # by call id
        self._monitored: dict[str, Call] = {}  # the supervisor's call by the monitored call id
        anchor.digit_hooks.append(self._on_digit)
        anchor.ended_hooks.append(self._call_ended)

    def _engine(self) -> LocalMediaEngine | None:
        engine = self.anchor.engine
        return engine if isinstance(engine, LocalMediaEngine) else None

    # -- conference ----------------------------------------------------------------------------

    def join(self, call: Call, caller: LegMedia, app: MediaApplication) -> None:
        engine = self._engine()
        if engine is None or not isinstance(caller.engine, UdpLeg):
            self.refuse(call, caller, "this media engine cannot mix")
            return
        room = self.rooms.get(app.number)
        if room is None:
            room = ConferenceRoom(engine, name=app.number, on_empty=self._room_empty)
            self.rooms[app.number] = room
        room.join(caller.engine)
        self._members[call.id] = (room, caller.engine)
        log.info("call %s: joined conference %s (%d members)", call.id, app.number, len(room))

    def _room_empty(self, room: ConferenceRoom) -> None:
        if self.rooms.get(str(room.name)) is room:
            del self.rooms[str(room.name)]
        log.info("conference %s ended", room.name)

    # -- monitoring ----------------------------------------------------------------------------

    def monitor(self, call: Call, supervisor: LegMedia, app: MediaApplication) -> None:
        engine = self._engine()
        b2bua = self.anchor.b2bua
        who = call.a.extension if call.a is not None else None
        dialed = call.record.callee if call.record is not None else ""
        target = dialed[len(app.number) :]
        if engine is None or b2bua is None or not isinstance(supervisor.engine, UdpLeg):
            self.refuse(call, supervisor, "this media engine cannot mix")
            return
        ext = next((e for e in b2bua.config.extensions if e.number == who), None)
        if ext is None or not ext.supervisor:
            self.refuse(call, supervisor, f"{who or 'a trunk caller'} is not a supervisor")
            return
        found = self._answered_call_of(target)
        if found is None:
            self.refuse(call, supervisor, f"extension {target} has no answered call")
            return
        monitored, caller_leg, agent_leg = found
        session = MonitorSession(
            engine,
            caller=caller_leg,
            agent=agent_leg,
            supervisor=supervisor.engine,
            mode=MonitorMode(app.mode),
            on_end=lambda s: self._ended(call, s),
        )
        self.sessions[call.id] = session
        self._monitored[monitored.id] = call
        log.info("call %s: %s monitors %s (%s)", call.id, who, target, app.mode)

    def _answered_call_of(self, extension: str) -> tuple[Call, UdpLeg, UdpLeg] | None:
        b2bua = self.anchor.b2bua
        if b2bua is None or not extension:
            return None
        from tamas.runtime.b2bua import CallState

        for other in b2bua.calls.values():
            a, b, media = other.a, other.b, other.media
            if (
                other.state is CallState.ANSWERED
                and a is not None
                and b is not None
                and b.extension == extension
                and a.media is not None
                and b.media is not None
                and media is not None
                and media.bridged is not None
            ):
                caller, agent = a.media.engine, b.media.engine
                if (
                    isinstance(caller, UdpLeg)
                    and isinstance(agent, UdpLeg)
                    and caller.peer is agent
                    and caller.source is None
                    and agent.source is None
                ):
                    return other, caller, agent
        return None

    def _call_ended(self, call_id: str) -> None:
        """A call ends (its legs are about to close): take it out of its room or session."""
        member = self._members.pop(call_id, None)
        if member is not None:
            member[0].leave(member[1])
        session = self.sessions.pop(call_id, None)
        if session is not None:  # the supervisor hung up: the call goes back to relay
            for monitored, sup in list(self._monitored.items()):
                if sup.id == call_id:
                    del self._monitored[monitored]
            session.stop()
        supervisor = self._monitored.pop(call_id, None)
        if supervisor is not None:  # the monitored call ended: so does the supervisor's
            session = self.sessions.pop(supervisor.id, None)
            if session is not None:
                session.stop()
            asyncio.get_running_loop().call_soon(self._hang_up_supervisor, supervisor)

    def _hang_up_supervisor(self, call: Call) -> None:
        b2bua = self.anchor.b2bua
        if b2bua is not None and b2bua.calls.get(call.id) is call:
            self.hang_up(call, "monitored-call-ended")

    def _ended(self, call: Call, session: MonitorSession) -> None:
        """A session noticed a closed leg itself (a leg closed without its call ending)."""
        if self.sessions.get(call.id) is session:
            del self.sessions[call.id]
            for monitored, sup in list(self._monitored.items()):
                if sup is call:
                    del self._monitored[monitored]
            if not session.supervisor.closed:
                self._hang_up_supervisor(call)

    def _on_digit(self, digit: CallDigit) -> None:
        self.digit(digit.call_id, digit.digit)

    def digit(self, call_id: str, digit: str) -> bool:
        """A key the supervisor of ``call_id`` pressed; True if it changed the mode."""
        session = self.sessions.get(call_id)
        mode = DIGIT_MODES.get(digit)
        if session is None or mode is None or not session.active:
            return False
        session.mode = mode
        log.info("call %s: monitor mode %s", call_id, mode.value)
        return True

    # -- refusal -------------------------------------------------------------------------------

    def refuse(self, call: Call, leg: LegMedia, reason: str) -> None:
        """Busy tone for a few seconds, then BYE."""
        log.info("call %s: refused (%s)", call.id, reason)
        media = call.media
        if media is not None:
            media.on_source_finished = lambda: self.hang_up(call, "refused")
        self.anchor.play(leg, PromptSource(_busy_samples()))

    def close(self) -> None:
        sessions = list(self.sessions.values())
        self.sessions.clear()
        self._monitored.clear()
        for session in sessions:
            session.stop()
