"""Ring groups (chase groups): one number that rings several extensions.

Tamas answers the caller, plays ringback, and rings the group's ``members`` through the
dialer: all at once (``ringall``: the first to answer gets the call, the others stop) or one
after another (``hunt``: each rings ``ring_seconds``, in the order given). When nobody
answers, the call goes to the group's ``fallback`` destination (voicemail, a queue...) or
hears busy and is hung up.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tamas.config.center import parse_destination
from tamas.media.playback import tone_source
from tamas.media.tones import BUSY, RINGBACK_ITU
from tamas.runtime.callcenter.dialer import AgentDial, FailCause

if TYPE_CHECKING:
    from tamas.config.model import MediaApplication
    from tamas.runtime.anchor import LegMedia
    from tamas.runtime.b2bua import Call, Leg
    from tamas.runtime.callcenter.center import CallCenter

log = logging.getLogger("tamas.center")

__all__ = ["RingGroups"]


@dataclass(eq=False, slots=True)
class Ringing:
    call: Call
    app: MediaApplication
    next_member: int = 0
    dials: list[AgentDial] = field(default_factory=list)
    done: bool = False


class RingGroups:
    def __init__(self, center: CallCenter) -> None:
        self.center = center

    def handle(self, call: Call, leg: LegMedia, app: MediaApplication, dialed: str) -> None:
        c = self.center
        c.take(call)
        c.speaker.background(call, lambda: tone_source(RINGBACK_ITU))
        c.speaker.stop(call, leg)
        ringing = Ringing(call, app)
        c.log(call.id, "RINGGROUP", app.number, app.ring_strategy, " ".join(app.members))
        if app.ring_strategy == "ringall":
            for member in app.members:
                self._dial(ringing, member)
        else:
            self._hunt(ringing)

    def _dial(self, ringing: Ringing, member: str) -> None:
        c = self.center
        ringing.dials.append(c.dialer.dial(
            ringing.call, "", member, ringing.app.ring_seconds,
            caller=c.take(ringing.call).caller,
            on_answer=lambda d, fork: self._answered(ringing, d, fork),
            on_fail=lambda d, cause: self._failed(ringing, d, cause),
        ))  # fmt: skip

    def _hunt(self, ringing: Ringing) -> None:
        members = ringing.app.members
        if ringing.next_member >= len(members):
            self._nobody(ringing)
            return
        ringing.next_member += 1
        self._dial(ringing, members[ringing.next_member - 1])

    def _answered(self, ringing: Ringing, d: AgentDial, fork: Leg) -> None:
        c = self.center
        ringing.done = True
        for other in ringing.dials:
            if other is not d:
                c.dialer.stop(other)
        ringing.dials = []
        c.connect_extension(d, fork)

    def _failed(self, ringing: Ringing, d: AgentDial, cause: FailCause) -> None:
        if ringing.done:
            return
        if d in ringing.dials:
            ringing.dials.remove(d)
        if ringing.app.ring_strategy == "hunt":
            self._hunt(ringing)
        elif not ringing.dials:
            self._nobody(ringing)

    def _nobody(self, ringing: Ringing) -> None:
        c = self.center
        ringing.done = True
        call, app = ringing.call, ringing.app
        log.info("call %s: nobody in ring group %s answered", call.id, app.number)
        c.speaker.background(call, None)
        if app.fallback is not None:
            kind, target = parse_destination(app.fallback)
            c.route(call, kind, target)
            return
        a = call.a
        if a is not None and a.media is not None:
            c.anchor.play(a.media, tone_source(BUSY))
        asyncio.get_running_loop().call_later(3.0, lambda: c.hang_up(call, "ring group unanswered"))
