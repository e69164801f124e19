"""Mixing groups of the built-in engine: N-party conferences and supervisor monitoring.

Theory of operation
-------------------
A mixing group takes legs out of plain relay and gives each one the mix that
:mod:`tamas.media.mixer` prescribes for it. Nothing in the relay hot path changes: a member
leg's *tap* (called for every audio packet it receives, RFC 3550 payload of the negotiated
type; RFC 4733 telephone events never reach a tap, so digits are not mixed but are still
reported) is the group's input, and the leg's *source* (read by the engine's 20 ms frame tick)
is the group's output, encoded in the leg's own codec (PCMU or PCMA) by the leg as for any
source.

Input. Each packet's G.711 payload is decoded to 16-bit PCM and appended to the member's
buffer. Each tick takes 160 samples (20 ms) from every member that has them; a member that
has not (a lost or late packet, a party not yet sending) adds nothing this tick. The buffer
holds at most :data:`MAX_BUFFERED` samples: beyond that the oldest are dropped, so a sender
whose clock runs fast cannot build up delay. This is the "tiny jitter allowance": a packet
that arrives a few ms after the tick is used at the next one.

A member leg may be given another source meanwhile (hold music while the other party holds,
a prompt): it then hears that, and gets the mix again at the first tick after that source is
removed or has ended.

Ticks. The engine reads the members' sources one after the other in its frame tick; the first
member read in a tick finds it has already taken its frame of the last mix, and that read
computes the new mix for everyone (one vectorised operation, see the mixer). The others in
the same tick take theirs from it. The order in which the engine reads them does not matter.

Monitoring (:class:`MonitorSession`) lifts the call's two legs out of their bridge and puts
them with the supervisor's leg in a group routed by :data:`tamas.media.mixer.HEARS`; the
bridge's tap (the call's recording) keeps being fed with the caller's and the agent's packets
on their original sides, so a recording goes on without a gap (it does not contain the
supervisor's whisper or barge). ``engine.set_tap`` on either leg meanwhile (a recording
started or stopped) changes that tap. :meth:`MonitorSession.stop` re-makes the plain relay
bridge with the tap as it then is.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Final

import numpy as np
import numpy.typing as npt

from tamas.media.g711 import alaw_decode, ulaw_decode
from tamas.media.mixer import Conference, MonitoredCall, MonitorMode
from tamas.runtime.mediaengine.api import FRAME_SAMPLES, Codec, CodecName, MediaError, Tap
from tamas.runtime.mediaengine.engine import LocalMediaEngine
from tamas.runtime.mediaengine.leg import UdpLeg, _payload_offset
from tamas.runtime.mediaengine.widetap import NarrowTap, narrow_tap

__all__ = ["MAX_BUFFERED", "ConferenceRoom", "MixingGroup", "MonitorSession"]

Int16Array = npt.NDArray[np.int16]

#: The most samples buffered per member (60 ms): the bound on the jitter allowance.
MAX_BUFFERED: Final = 3 * FRAME_SAMPLES

_SILENCE: Final = np.zeros(FRAME_SAMPLES, dtype=np.int16)
_SILENCE.setflags(write=False)

_DECODE: Final[dict[CodecName, Callable[[bytes], Int16Array]]] = {
    CodecName.PCMU: ulaw_decode,
    CodecName.PCMA: alaw_decode,
}


class _Input:
    """A member's tap: decodes what the member sends into its buffer (and passes the packet
    on to an outer tap, e.g. the call's recording, with the member's side)."""

    __slots__ = ("_buffer", "_count", "_on_retap", "outer", "side")

    def __init__(
        self,
        outer: Tap | None = None,
        side: int = 0,
        on_retap: Callable[[Tap | None], None] | None = None,
    ) -> None:
        self._buffer: list[Int16Array] = []
        self._count = 0
        self.outer = outer
        self.side = side
        self._on_retap = on_retap

    def retap(self, tap: Tap | None) -> None:
        """``engine.set_tap`` on a member leg: the outer tap changes (monitored calls only)."""
        if self._on_retap is None:
            raise MediaError("set_tap needs a bridged leg")
        self._on_retap(tap)

    def feed(self, side: int, packet: bytes, codec: Codec) -> None:
        outer = self.outer
        if outer is not None:
            outer.feed(self.side, packet, codec)
        start = _payload_offset(packet)
        end = len(packet) - (packet[-1] if packet[0] & 0x20 else 0)
        if start >= end:
            return
        samples = _DECODE[codec.name](packet[start:end])
        self._buffer.append(samples)
        self._count += len(samples)
        while self._count - len(self._buffer[0]) >= MAX_BUFFERED:
            self._count -= len(self._buffer.pop(0))

    def take(self) -> Int16Array | None:
        """This tick's 20 ms of the member's audio, or None if not enough has arrived."""
        if self._count < FRAME_SAMPLES:
            return None
        if len(self._buffer[0]) == FRAME_SAMPLES:  # the usual case: one packet per tick
            self._count -= FRAME_SAMPLES
            return self._buffer.pop(0)
        joined = np.concatenate(self._buffer)
        frame, rest = joined[:FRAME_SAMPLES], joined[FRAME_SAMPLES:]
        self._buffer = [rest] if len(rest) else []
        self._count = len(rest)
        return frame


class _Output:
    """A member's source: its frame of the group's current mix."""

    __slots__ = ("group", "leg")

    def __init__(self, group: MixingGroup, leg: UdpLeg) -> None:
        self.group = group
        self.leg = leg

    def read_frame(self) -> Int16Array:
        return self.group.frame_for(self.leg)


class MixingGroup:
    """Legs whose received audio is mixed each tick; subclasses say who hears whom
    (:meth:`_route`). Use :class:`ConferenceRoom` or :class:`MonitorSession`."""

    def __init__(self, engine: LocalMediaEngine) -> None:
        self.engine = engine
        self._inputs: dict[UdpLeg, _Input] = {}
        self._out: dict[UdpLeg, Int16Array | None] = {}
        self._fresh: set[UdpLeg] = set()  # members that have not yet read the current mix
        self._outputs: dict[UdpLeg, _Output] = {}

    def __len__(self) -> int:
        return len(self._inputs)

    def __contains__(self, leg: object) -> bool:
        return leg in self._inputs

    def _join(
        self,
        leg: UdpLeg,
        *,
        outer: Tap | None = None,
        side: int = 0,
        on_retap: Callable[[Tap | None], None] | None = None,
    ) -> None:
        if leg.closed:
            raise MediaError("a closed leg cannot join a mixing group")
        if leg in self._inputs:
            return
        self.engine.unbridge(leg)
        feed = _Input(outer, side, on_retap)
        self._inputs[leg] = feed
        self._outputs[leg] = _Output(self, leg)
        leg.tap = narrow_tap(feed, leg.codec)  # a G.722 member is heard at 8 kHz (widetap)
        leg.set_source(self._outputs[leg])

    def _leave(self, leg: UdpLeg) -> None:
        feed = self._inputs.pop(leg, None)
        if feed is None:
            return
        self._out.pop(leg, None)
        self._outputs.pop(leg, None)
        self._fresh.discard(leg)
        if not leg.closed:
            if leg.tap is feed or (isinstance(leg.tap, NarrowTap) and leg.tap.inner is feed):
                leg.tap = None
            if isinstance(leg.source, _Output) and leg.source.group is self:
                leg.set_source(None)

    def frame_for(self, leg: UdpLeg) -> Int16Array:
        """``leg``'s frame of this tick's mix (silence when it hears nobody)."""
        if leg not in self._fresh:
            self._tick()
        self._fresh.discard(leg)
        frame = self._out.get(leg)
        return _SILENCE if frame is None else frame

    def _tick(self) -> None:
        for leg in [leg for leg in self._inputs if leg.closed]:
            self._leave(leg)
        for leg, output in self._outputs.items():
            if leg.source is None:  # a prompt or hold music ended: the member hears the mix
                leg.set_source(output)
        frames = {leg: feed.take() for leg, feed in self._inputs.items()}
        self._out = self._route(frames)
        self._fresh = set(self._inputs)

    def _route(self, frames: dict[UdpLeg, Int16Array | None]) -> dict[UdpLeg, Int16Array | None]:
        raise NotImplementedError


class ConferenceRoom(MixingGroup):
    """An N-party conference: every member hears all the other (unmuted) members.

    ``on_empty`` is called once when the last member has left (the room is then gone: the
    owner drops it; joining it again is refused).
    """

    def __init__(
        self,
        engine: LocalMediaEngine,
        *,
        name: Hashable = "",
        on_empty: Callable[[ConferenceRoom], None] | None = None,
    ) -> None:
        super().__init__(engine)
        self.name = name
        self._mixer: Conference[UdpLeg] = Conference(frame_samples=FRAME_SAMPLES)
        self._on_empty = on_empty
        self.closed = False

    def join(self, leg: UdpLeg, *, muted: bool = False) -> None:
        if self.closed:
            raise MediaError("the conference has ended")
        self._join(leg)
        self._mixer.add(leg, talks=not muted)

    def leave(self, leg: UdpLeg) -> None:
        if leg not in self._inputs:
            return
        self._leave(leg)
        self._mixer.remove(leg)
        if not self._inputs and not self.closed:
            self.closed = True
            if self._on_empty is not None:
                self._on_empty(self)

    def mute(self, leg: UdpLeg, muted: bool = True) -> None:
        self._mixer.set_talks(leg, not muted)

    def _leave_closed(self) -> None:
        for leg in [leg for leg in self._inputs if leg.closed]:
            self.leave(leg)

    def _tick(self) -> None:
        self._leave_closed()
        super()._tick()

    def _route(self, frames: dict[UdpLeg, Int16Array | None]) -> dict[UdpLeg, Int16Array | None]:
        return dict(self._mixer.mix(frames))


class MonitorSession(MixingGroup):
    """A supervisor on a bridged call: ``caller`` and ``agent`` are the call's two bridged
    legs (the agent is the callee), ``supervisor`` the supervisor's leg.

    Starting lifts the call's legs out of their bridge (remembering which was side 0 and the
    bridge's tap); :meth:`stop` puts them back in a plain relay bridge with that tap. The
    session stops by itself at the first tick after one of the three legs has closed (a party
    hung up); ``on_end`` is then called once (e.g. to hang up the supervisor).
    """

    def __init__(
        self,
        engine: LocalMediaEngine,
        *,
        caller: UdpLeg,
        agent: UdpLeg,
        supervisor: UdpLeg,
        mode: MonitorMode = MonitorMode.LISTEN,
        on_end: Callable[[MonitorSession], None] | None = None,
    ) -> None:
        super().__init__(engine)
        if caller.peer is not agent:
            raise MediaError("the monitored legs are not bridged to each other")
        self.caller, self.agent, self.supervisor = caller, agent, supervisor
        self._call = MonitoredCall(mode)
        self._tap = caller.tap
        self._first = caller if caller.side == 0 else agent
        caller_side, agent_side = caller.side, agent.side
        self._join(caller, outer=self._tap, side=caller_side, on_retap=self.set_tap)
        self._join(agent, outer=self._tap, side=agent_side, on_retap=self.set_tap)
        self._join(supervisor)
        self.active = True
        self._on_end = on_end

    @property
    def mode(self) -> MonitorMode:
        return self._call.mode

    @mode.setter
    def mode(self, mode: MonitorMode) -> None:
        self._call.mode = mode

    def set_tap(self, tap: Tap | None) -> None:
        """Change the call's tap while monitored (and for the bridge re-made by stop)."""
        self._tap = tap
        for leg in (self.caller, self.agent):
            feed = self._inputs.get(leg)
            if feed is not None:
                feed.outer = tap

    def stop(self) -> None:
        """The supervisor leaves: the call goes back to plain relay (if both legs are open)."""
        if not self.active:
            return
        self.active = False
        for leg in list(self._inputs):
            self._leave(leg)
        second = self.agent if self._first is self.caller else self.caller
        if not self._first.closed and not second.closed:
            self.engine.bridge(self._first, second, tap=self._tap)
        if self._on_end is not None:
            self._on_end(self)

    def _tick(self) -> None:
        if any(leg.closed for leg in (self.caller, self.agent, self.supervisor)):
            self.stop()
            return
        super()._tick()

    def _route(self, frames: dict[UdpLeg, Int16Array | None]) -> dict[UdpLeg, Int16Array | None]:
        out = self._call.mix(
            frames.get(self.caller), frames.get(self.agent), frames.get(self.supervisor)
        )
        return {
            self.caller: out.to_caller,
            self.agent: out.to_agent,
            self.supervisor: out.to_supervisor,
        }
