"""Media anchoring: each SIP leg of a call gets an engine leg, and Tamas's SDP names it.

Theory of operation
-------------------
The B2BUA owns the signalling; this module owns each call's media state. Every party of a call
negotiates with Tamas (:mod:`tamas.runtime.anchor_sdp`): the SDP Tamas sends to a party names
Tamas's address and that party's engine leg port, and the engine leg is configured from the
party's SDP with the party's SIP source IP as the only address the engine may send to before
it has heard the party (the engine's safety rule, see
:class:`~tamas.runtime.mediaengine.api.RemoteMedia`).

**Legs without waiting.** :meth:`MediaEngine.open_leg` is a coroutine (socket set-up), but the
B2BUA's handlers are synchronous and an INVITE must be answered in order with its CANCEL. A
small :class:`LegPool` keeps ``prealloc`` legs opened ahead of time; the INVITE path takes
legs from it synchronously and the pool refills itself in the background. An INVITE that finds
the pool short waits for it (:meth:`LegPool.when_ready`) and is then handled as if it had just
arrived; if no leg can be opened (the port range is full) it gets 503.

Pool legs are opened under a key of their own (``leg<N>``) as the engine's call id: an engine
event names that key, which :attr:`MediaAnchor.owners` maps back to the call and its
:class:`LegMedia`.

**Forks** share one engine leg: every fork gets the same offer (one port), and the leg is
configured from whichever fork's answer (early media or 2xx) came last. Parallel forks that
send early media at once therefore share it (the engine follows the latest source from the
forks' address); losing forks hold no leg of their own, so cancelling them releases nothing.

**Events.** A media timeout of an answered call hangs it up (cause ``media-timeout``); a
digit (RFC 4733 or, for a leg facing a trunk with ``dtmf: inband``, tones heard in its
audio, both from the engine; or SIP INFO ``application/dtmf-relay``) becomes a
:class:`CallDigit` given to every hook in :attr:`MediaAnchor.digit_hooks` (the IVR of issue 4
will be one) and logged at debug. The statistics of each engine leg are logged when its call
ends.

**DTMF interworking.** In a bridged call each party may signal keys its own way, and the far
party must still get them (a caller driving a remote IVR): a digit received on one side is
passed to the other side in the way that side negotiated (:meth:`MediaAnchor.interwork`).
RFC 4733 events received from a party whose peer also negotiated telephone-event are already
relayed packet for packet by the engine, so nothing more is sent; otherwise a digit for a peer
with telephone-event goes out as RFC 4733 from the engine (``send_digit``), and a digit for a
peer without it as SIP INFO ``application/dtmf-relay``. Tones heard in a trunk's audio are
also still relayed as audio (the engine does not cut them out): a peer listening for in-band
tones as well as for events would hear the key twice.

**Recording and other observers.** :attr:`MediaAnchor.answered_hooks` run once a call is both
answered and bridged (for a delayed offer that is at the caller's ACK), and
:attr:`MediaAnchor.ended_hooks` when it ends; every bridge Tamas makes or re-makes (a
transfer, a failed transfer's return) carries the tap :attr:`MediaAnchor.tap_for` gives for
the call, so a recording survives it. :class:`BridgeLookup` answers recording control's
questions (is there such a call; its bridge and the caller's side of it).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from tamas.media.playback import MusicOnHold
from tamas.runtime.anchor_sdp import (
    DEFAULT_CODECS,
    anchored_answer,
    anchored_offer,
    parse_sdp,
)
from tamas.runtime.anchor_shapes import SdpShapes, shape_of
from tamas.runtime.mediaengine.api import (
    CodecName,
    DigitReceived,
    FrameSource,
    LegClosed,
    LegStats,
    MediaEngine,
    MediaError,
    MediaEvent,
    MediaLeg,
    MediaTimeout,
    RemoteMedia,
    SourceFinished,
    Tap,
)
from tamas.runtime.recording_control import CallBridge
from tamas.sip.dialog import DialogState
from tamas.sip.offer_answer import NotAcceptableHere, Role
from tamas.sip.sdp import Direction, SessionDescription

if TYPE_CHECKING:
    from tamas.runtime.b2bua import B2BUA, Call, Leg

log = logging.getLogger("tamas.media")

DTMF_RELAY = "application/dtmf-relay"
#: A digit passed on lasts at least / at most this long (SIP INFO often says 0 or nothing).
DIGIT_MIN_MS = 80
DIGIT_MAX_MS = 2000

__all__ = ["BridgeLookup", "CallDigit", "CallMedia", "LegMedia", "LegPool", "MediaAnchor"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CallDigit:
    """A key pressed by one party of a call."""

    call_id: str
    #: The B2BUA side of the party ("a" the caller, "b" the callee).
    side: str
    digit: str
    duration_ms: int
    #: "rfc4733" (telephone-event in RTP), "info" (SIP INFO application/dtmf-relay) or
    #: "inband" (tones in the audio of a trunk with ``dtmf: inband``).
    via: str
    #: Loop time the digit was complete.
    at: float


@dataclass(eq=False, slots=True)
class LegMedia:
    """One party's media: its engine leg and the offer/answer state between it and Tamas."""

    engine: MediaLeg
    peer_host: str  # the IP the party's SIP comes from: the engine's signalling_address
    side: str
    session_id: int = field(default_factory=lambda: random.getrandbits(31))
    version: int = 1
    sent: bytes = b""  # the last SDP Tamas sent this party
    offer_out: SessionDescription | None = None  # Tamas's last offer to the party
    remote: RemoteMedia | None = None  # what the engine leg was configured with
    ack_cseq: int = 0  # Tamas offered in a 2xx: the answer comes in the ACK of this CSeq
    holding: bool = False  # the party put the call on hold (the other one hears music)
    inband_dtmf: bool = False  # the party is a trunk sending its digits as tones in the audio
    offer_body: bytes = b""  # the bytes of offer_out (b"" if unknown)

    # Written out, as CallMedia's: compiled in the mypyc build, where the generated one runs
    # interpreted (two legs per call). ``session_id`` None draws one, as the field's factory.
    def __init__(
        self,
        engine: MediaLeg,
        peer_host: str,
        side: str,
        session_id: int | None = None,
        version: int = 1,
        sent: bytes = b"",
        offer_out: SessionDescription | None = None,
        remote: RemoteMedia | None = None,
        ack_cseq: int = 0,
        holding: bool = False,
        inband_dtmf: bool = False,
        offer_body: bytes = b"",
    ) -> None:
        self.engine = engine
        self.peer_host = peer_host
        self.side = side
        self.session_id = random.getrandbits(31) if session_id is None else session_id
        self.version = version
        self.sent = sent
        self.offer_out = offer_out
        self.remote = remote
        self.ack_cseq = ack_cseq
        self.holding = holding
        self.inband_dtmf = inband_dtmf
        self.offer_body = offer_body

    @property
    def codec(self) -> CodecName | None:
        return None if self.remote is None else self.remote.codec.name


@dataclass(eq=False, slots=True)
class CallMedia:
    """A call's engine legs (all closed when it ends) and what it told the caller."""

    legs: list[MediaLeg] = field(default_factory=list)
    answer_a: bytes = b""  # the answer given to the caller (the same in 18x and 2xx)
    on_source_finished: Callable[[], None] | None = None  # an application's prompt ended
    bridged: tuple[MediaLeg, MediaLeg] | None = None  # the bridge carrying the call, if any
    announced: bool = False  # the answered-and-bridged hooks have run

    def __init__(
        self,
        legs: list[MediaLeg] | None = None,
        answer_a: bytes = b"",
        on_source_finished: Callable[[], None] | None = None,
        bridged: tuple[MediaLeg, MediaLeg] | None = None,
        announced: bool = False,
    ) -> None:
        self.legs = [] if legs is None else legs
        self.answer_a = answer_a
        self.on_source_finished = on_source_finished
        self.bridged = bridged
        self.announced = announced


class LegPool:
    """Engine legs opened ahead of time (see the module docstring)."""

    def __init__(self, engine: MediaEngine, size: int) -> None:
        self.engine = engine
        self.size = size
        self.idle: deque[MediaLeg] = deque()
        self._task: asyncio.Task[None] | None = None
        self._waiters: deque[tuple[int, Callable[[bool], None]]] = deque()
        self._serial = 0
        self.closed = False

    def available(self) -> int:
        return len(self.idle)

    def take(self) -> MediaLeg:
        if not self.idle:
            raise MediaError("no media leg ready")
        leg = self.idle.popleft()
        self.refill()
        return leg

    def when_ready(self, count: int, then: Callable[[bool], None]) -> None:
        """Call ``then(True)`` once ``count`` legs are ready, ``then(False)`` if none can be
        opened."""
        self._waiters.append((count, then))
        self.refill()

    def refill(self) -> None:
        if self.closed or (self._task is not None and not self._task.done()):
            return
        if len(self.idle) < self.size or self._waiters:
            self._task = asyncio.get_running_loop().create_task(self.fill())

    async def fill(self) -> None:
        while not self.closed and (len(self.idle) < self.size or self._waiters):
            self._serial += 1
            try:
                leg = await self.engine.open_leg(f"leg{self._serial}", "pool")
            except (MediaError, OSError) as e:
                log.error("cannot open an RTP leg: %s", e)
                while self._waiters:
                    self._waiters.popleft()[1](False)
                return
            if self.closed:
                leg.close()
                return
            self.idle.append(leg)
            while self._waiters and self._waiters[0][0] <= len(self.idle):
                self._waiters.popleft()[1](True)

    def close(self) -> None:
        self.closed = True
        if self._task is not None:
            self._task.cancel()
        while self.idle:
            self.idle.popleft().close()


class MediaAnchor:
    """The B2BUA's media side (see the module docstring)."""

    def __init__(
        self,
        engine: MediaEngine,
        *,
        address: str,
        prealloc: int,
        music: MusicOnHold,
        codecs: tuple[CodecName, ...] = DEFAULT_CODECS,
    ) -> None:
        self.engine = engine
        #: The codec preference (``media.codecs``): G.722 takes part only if listed.
        self.codecs = codecs
        #: Tamas's descriptions by shape, stamped per leg (see :mod:`tamas.runtime.anchor_shapes`).
        self.shapes = SdpShapes()
        self.address = address
        self.pool = LegPool(engine, prealloc)
        self.music = music
        self.owners: dict[str, tuple[Call, LegMedia]] = {}
        self.digit_hooks: list[Callable[[CallDigit], None]] = []
        #: Run with the call id once a call is answered and bridged, and when it ends
        #: (recording control's ``call_answered`` / ``call_ended``).
        self.answered_hooks: list[Callable[[str], None]] = []
        self.ended_hooks: list[Callable[[str], None]] = []
        #: The tap a call's bridge must carry whenever it is (re)made (its recording).
        self.tap_for: Callable[[str], Tap | None] | None = None
        self.b2bua: B2BUA | None = None

    # -- legs --------------------------------------------------------------------------------
    def ready(self, count: int) -> bool:
        return self.pool.available() >= count

    def open(self, call: Call, side: str, peer_host: str) -> LegMedia:
        """An engine leg of ``call`` facing ``peer_host`` (from the pool: check :meth:`ready`)."""
        engine_leg = self.pool.take()
        media = call.media
        if media is None:
            media = call.media = CallMedia()
        media.legs.append(engine_leg)
        lm = LegMedia(engine_leg, peer_host, side)
        self.owners[engine_leg.call_id] = (call, lm)
        return lm

    def share(self, leg: Leg, model: LegMedia) -> LegMedia:
        """Give ``leg`` (another fork) the engine leg and offer of ``model``'s fork."""
        lm = LegMedia(model.engine, leg.peer.host, model.side, model.session_id, model.version,
                      model.sent, model.offer_out, inband_dtmf=model.inband_dtmf,
                      offer_body=model.offer_body)  # fmt: skip
        leg.media = lm
        return lm

    def adopt(self, call: Call, lm: LegMedia) -> None:
        """``lm`` now speaks for its engine leg (the fork that won it)."""
        self.owners[lm.engine.call_id] = (call, lm)

    def close(self, call: Call, engine_leg: MediaLeg) -> None:
        media = call.media
        if media is not None and engine_leg in media.legs:
            media.legs.remove(engine_leg)
        owner = self.owners.pop(engine_leg.call_id, None)
        self._log_stats(call, owner[1].side if owner is not None else "?", engine_leg.close())

    def close_call(self, call: Call) -> None:
        media = call.media
        if media is None:
            return
        for hook in list(self.ended_hooks):
            hook(call.id)
        for engine_leg in list(media.legs):
            self.close(call, engine_leg)
        media.on_source_finished = None

    def _log_stats(self, call: Call, side: str, st: LegStats) -> None:
        if not log.isEnabledFor(logging.INFO):
            return  # two legs per call: do not build the line for nothing
        source = f", from {st.latched_to[0]}:{st.latched_to[1]}" if st.latched_to else ""
        log.info(
            "call %s media %s: %d packets in, %d out, %d lost, jitter %.1f ms, %d dropped%s",
            call.id, side, st.packets_received, st.packets_sent, st.packets_lost, st.jitter_ms,
            st.dropped, source,
        )  # fmt: skip

    # -- offer / answer ----------------------------------------------------------------------
    def offer(self, lm: LegMedia, follow: bytes, *, direction: Direction | None = None) -> bytes:
        """Tamas's offer to ``lm``'s party, carrying the codecs of ``follow`` (an SDP body)."""
        src = parse_sdp(follow)
        shape = shape_of(follow) if src is not None else b""

        def build(version: int) -> tuple[SessionDescription, bytes]:
            return self.shapes.stamp(
                ("offer", shape, self.address, version, direction, self.codecs),
                lambda port, session_id: anchored_offer(
                    src, address=self.address, port=port, session_id=session_id,
                    version=version, direction=direction, preference=self.codecs),
                port=lm.engine.local_port, session_id=lm.session_id,
            )  # fmt: skip

        sd, body = self._stamp(lm, build)
        lm.offer_out = sd
        lm.offer_body = body
        return body

    def reoffer(self, lm: LegMedia) -> bytes:
        """The last SDP sent to ``lm``'s party, offered again (a re-INVITE without an offer)."""
        lm.offer_out = parse_sdp(lm.sent)
        lm.offer_body = lm.sent
        return lm.sent

    def take_answer(self, lm: LegMedia, answer: bytes) -> bool:
        """``lm``'s party answered Tamas's offer; configure its engine leg. False if the
        answer is unusable (no G.711 agreed)."""
        sd = parse_sdp(answer)
        if sd is None or lm.offer_out is None:
            return False
        remote = self.shapes.remote_media(lm.offer_out, sd, role=Role.OFFERER,
                                          signalling_address=lm.peer_host,
                                          ours=lm.offer_body, theirs=answer)  # fmt: skip
        if remote is None:
            return False
        self._configure(lm, remote)
        return True

    def answer(self, lm: LegMedia, offer: bytes, *, prefer: CodecName | None) -> bytes:
        """Tamas's answer to ``lm``'s party's ``offer``; configures its engine leg. Raises
        :class:`NotAcceptableHere` if the offer has no G.711 audio."""
        sd = parse_sdp(offer)
        if sd is None:
            raise NotAcceptableHere("no session description")

        shape = shape_of(offer)

        def build(version: int) -> tuple[SessionDescription, bytes]:
            return self.shapes.stamp(
                ("answer", shape, self.address, prefer, version, self.codecs),
                lambda port, session_id: anchored_answer(
                    sd, address=self.address, port=port, prefer=prefer,
                    session_id=session_id, version=version, preference=self.codecs),
                port=lm.engine.local_port, session_id=lm.session_id,
            )  # fmt: skip

        answered, body = self._stamp(lm, build)
        remote = self.shapes.remote_media(sd, answered, role=Role.ANSWERER,
                                          signalling_address=lm.peer_host, ours=body,
                                          theirs=offer)  # fmt: skip
        if remote is not None:
            self._configure(lm, remote)
        return body

    def _stamp(
        self, lm: LegMedia, build: Callable[[int], tuple[SessionDescription, bytes]]
    ) -> tuple[SessionDescription, bytes]:
        """``build``'s SDP under the party's o= line: the version moves only when the
        description changes (RFC 3264 section 8)."""
        sd, body = build(lm.version)
        if lm.sent and body != lm.sent:
            lm.version += 1
            sd, body = build(lm.version)
        lm.sent = body
        return sd, body

    def _configure(self, lm: LegMedia, remote: RemoteMedia) -> None:
        if lm.inband_dtmf:
            remote = replace(remote, inband_dtmf=True)
        try:
            lm.engine.configure(remote)
        except MediaError as e:
            log.warning("media leg %s: %s", lm.side, e)
            return
        lm.remote = remote

    # -- connecting --------------------------------------------------------------------------
    def bridge(self, call: Call, x: LegMedia, y: LegMedia) -> None:
        """Bridge ``x`` and ``y`` for ``call`` (with the call's tap, if it has one)."""
        media = call.media
        if x.engine is y.engine or media is None:
            return
        tap = self.tap_for(call.id) if self.tap_for is not None else None
        try:
            self.engine.bridge(x.engine, y.engine, tap=tap)
        except MediaError as e:
            log.warning("cannot bridge media: %s", e)
            return
        media.bridged = (x.engine, y.engine)
        self.announce(call)

    def announce(self, call: Call) -> None:
        """Run the answered hooks once the call is both answered and bridged."""
        media = call.media
        if media is None or media.announced or media.bridged is None:
            return
        if call.answered_loop is None:
            return
        media.announced = True
        for hook in list(self.answered_hooks):
            hook(call.id)

    def play(self, lm: LegMedia, source: FrameSource | None) -> None:
        try:
            lm.engine.set_source(source)
        except MediaError as e:
            log.warning("media leg %s: %s", lm.side, e)

    def hold(self, holder: LegMedia, other: LegMedia | None, holding: bool) -> None:
        """``holder``'s party put the call on hold (or took it off): music for the other."""
        if holding == holder.holding:
            return
        holder.holding = holding
        if other is not None:
            self.play(other, self.music.source() if holding else None)

    # -- engine events -----------------------------------------------------------------------
    def on_event(self, event: MediaEvent) -> None:
        if isinstance(event, LegClosed):
            self.owners.pop(event.stats.call_id, None)
            return
        owner = self.owners.get(event.call_id)
        if owner is None:
            return
        call, lm = owner
        if isinstance(event, DigitReceived):
            self.digit(CallDigit(call_id=call.id, side=lm.side, digit=event.digit,
                                 duration_ms=event.duration_ms, via=event.via,
                                 at=event.at))  # fmt: skip
        elif isinstance(event, MediaTimeout):
            if self.b2bua is not None:
                self.b2bua.media_timeout(call, lm.side, event.silent_for, event.at)
        elif isinstance(event, SourceFinished):
            media = call.media
            if media is not None and media.on_source_finished is not None:
                media.on_source_finished()

    def digit(self, digit: CallDigit) -> None:
        log.debug("call %s: digit %s from %s (%s, %d ms)", digit.call_id, digit.digit,
                  digit.side, digit.via, digit.duration_ms)  # fmt: skip
        for hook in list(self.digit_hooks):
            hook(digit)
        self.interwork(digit)

    def interwork(self, digit: CallDigit) -> str | None:
        """Pass ``digit`` to the party bridged with its sender, the way that party negotiated
        (see the module docstring). Returns how it went ("rfc4733", "info") or None."""
        b2bua = self.b2bua
        call = b2bua.calls.get(digit.call_id) if b2bua is not None else None
        if call is None or call.media is None or call.media.bridged is None:
            return None
        x, y = call.media.bridged
        owner_x, owner_y = self.owners.get(x.call_id), self.owners.get(y.call_id)
        if owner_x is None or owner_y is None:
            return None
        if owner_x[1].side == digit.side:
            target = owner_y[1]
        elif owner_y[1].side == digit.side:
            target = owner_x[1]
        else:
            return None
        remote = target.remote
        if remote is None:
            return None
        duration = min(max(digit.duration_ms, DIGIT_MIN_MS), DIGIT_MAX_MS)
        if remote.telephone_event_pt is not None:
            if digit.via == "rfc4733":
                return None  # the engine relayed the events as they came
            try:
                sent = self.engine.send_digit(target.engine, digit.digit, duration_ms=duration)
            except MediaError as e:
                log.warning("call %s: digit %r not sent to %s: %s", call.id, digit.digit,
                            target.side, e)  # fmt: skip
                return None
            return "rfc4733" if sent else None
        return "info" if self._send_info(call, target, digit.digit, duration) else None

    def _send_info(self, call: Call, target: LegMedia, digit: str, duration_ms: int) -> bool:
        """A SIP INFO ``application/dtmf-relay`` with ``digit`` to ``target``'s party."""
        b2bua = self.b2bua
        assert b2bua is not None
        for leg in (call.a, call.b):
            if leg is None or leg.media is not target or leg.dialog is None:
                continue
            if leg.dialog.state is not DialogState.CONFIRMED:
                return False
            body = f"Signal={digit}\r\nDuration={duration_ms}\r\n".encode()
            req = leg.dialog.new_request("INFO", via=b2bua.endpoint.via(leg.peer.transport),
                                         body=body,
                                         headers=(("Content-Type", DTMF_RELAY),))  # fmt: skip
            b2bua.endpoint.request(req, leg.peer)
            return True
        return False

    def close_all(self) -> None:
        self.pool.close()


class BridgeLookup:
    """The calls' bridges as recording control asks for them (its ``CallMediaLookup``)."""

    def __init__(self, b2bua: B2BUA) -> None:
        self.b2bua = b2bua

    def has_call(self, call_id: str) -> bool:
        return call_id in self.b2bua.calls

    def bridge(self, call_id: str) -> CallBridge | None:
        call = self.b2bua.calls.get(call_id)
        if call is None or call.media is None or call.media.bridged is None:
            return None
        if call.a is None or call.a.media is None or call.answered_loop is None:
            return None
        first, _ = call.media.bridged
        return CallBridge(leg=first, caller_side=0 if first is call.a.media.engine else 1)
