"""The built-in media engine: UDP legs on the event loop, bridges, and the engine's timers.

Three timers, none per packet:

* every 20 ms, the legs that have a source send their next frame (the schedule is kept on the
  loop's clock, so a late tick does not shift the following ones);
* every second, media timeout: a configured leg whose packet count has not moved for
  ``media_timeout`` seconds emits :class:`MediaTimeout` once (again only after RTP resumes and
  stops anew);
* every ``rtcp_interval`` seconds (RFC 3550 section 6.2 suggests 5 s as the minimum), each leg
  sends its RTCP report. The reports are spread over the interval: every ``RTCP_TICK`` a slice
  of the legs reports, so a thousand legs never stall the loop at once (one report costs tens
  of microseconds; 2,000 of them in one go held the relay's packets for ~50 ms).

**Recycled sockets.** Opening a leg costs two sockets, two binds, a reader and a datagram
endpoint, and closing it two more system calls each: at a thousand calls a second that was a
large share of a call's CPU. A closed leg's two sockets are therefore *parked* instead of
closed (the RTP socket disconnected and read by a reader that drops whatever still arrives,
the RTCP transport's protocol swapped for one that does the same: late packets of the old
call) and handed to a later leg, oldest first, once they have been parked for
``REUSE_AFTER`` seconds, as the round-robin port cursor kept a just-released port from being
reused at once. At most ``park_max`` pairs wait (the oldest is then reused at once, or closed
when a leg is closed beyond that); :meth:`LocalMediaEngine.aclose` closes them all.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
from collections import deque
from collections.abc import Iterable

from tamas.runtime.mediaengine.api import (
    EventSink,
    LegClosed,
    LegStats,
    MediaError,
    MediaEvent,
    MediaLeg,
    MediaTimeout,
    Tap,
)
from tamas.runtime.mediaengine.leg import (
    DatagramMethods,
    UdpLeg,
    _RtcpProtocol,
    drain,
    stop_reading,
)
from tamas.runtime.mediaengine.ports import PortPairAllocator
from tamas.runtime.mediaengine.widetap import narrow_tap

log = logging.getLogger("tamas.media")

__all__ = ["LocalMediaEngine"]

FRAME_SECONDS = 0.02
HOUSEKEEPING_SECONDS = 1.0
RTCP_TICK = 0.1
#: A parked socket pair is reused only after this long (late packets of its old call).
REUSE_AFTER = 1.0
#: Parked pairs kept at most (each holds two file descriptors).
PARK_MAX = 2048


#: The protocol of a parked RTCP transport: drops what still arrives for a closed leg.
_PARKED = DatagramMethods().as_protocol()


class LocalMediaEngine:
    """The default :class:`~tamas.runtime.mediaengine.api.MediaEngine`, in this process.

    ``bind`` is the address RTP sockets bind to and that legs advertise (``advertise``
    overrides the latter, e.g. a public address in front of a NAT). ``media_timeout`` 0 turns
    the timeout off. ``on_event`` receives every :data:`MediaEvent`, on the loop.
    """

    def __init__(
        self,
        *,
        bind: str,
        port_min: int = 20000,
        port_max: int = 29999,
        media_timeout: float = 30.0,
        on_event: EventSink | None = None,
        advertise: str | None = None,
        rtcp_interval: float = 5.0,
        cname: str = "tamas",
    ) -> None:
        self.ports = PortPairAllocator(bind, port_min, port_max)
        self.bind = bind
        self.advertise = advertise or bind
        self.media_timeout = media_timeout
        self.rtcp_interval = rtcp_interval
        self.cname = cname
        self._on_event = on_event
        self._legs: dict[int, UdpLeg] = {}  # by local port
        self._by_call: dict[str, list[UdpLeg]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timers: list[asyncio.TimerHandle] = []
        self._next_frame = 0.0
        self._rtcp_round: list[UdpLeg] = []  # legs still to report in this interval
        self._next_round = 0.0
        self._per_tick = 1
        self._sourcing: set[UdpLeg] = set()
        self._frame_timer: asyncio.TimerHandle | None = None
        #: Closed legs' (parked at, port, RTP socket, RTCP transport), oldest first.
        self._parked: deque[tuple[float, int, socket.socket, asyncio.DatagramTransport]] = deque()
        # A socket bound to a specific address may be connected to its party (leg.py).
        self._can_connect = not ipaddress.ip_address(bind).is_unspecified
        self.park_max = min(PARK_MAX, self.ports.capacity // 2)

    # --- events -------------------------------------------------------------------------

    def _emit(self, event: MediaEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)

    # --- legs ---------------------------------------------------------------------------

    @property
    def legs(self) -> Iterable[UdpLeg]:
        return self._legs.values()

    @property
    def parked(self) -> int:
        """Socket pairs of closed legs waiting to be reused (see the module docstring)."""
        return len(self._parked)

    async def open_leg(self, call_id: str, label: str) -> MediaLeg:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._start(loop)
        parked = self._parked
        while parked and (parked[0][2].fileno() < 0 or parked[0][3].is_closing()):
            self._close_parked(1)  # closed while parked (not by us): let its ports go
        if parked and (len(parked) >= self.park_max or parked[0][0] <= loop.time() - REUSE_AFTER):
            return self._reuse(loop, call_id, label)
        try:
            rtp_sock, rtcp_sock = self.ports.allocate()
        except MediaError:
            if not parked:
                raise
            return self._reuse(loop, call_id, label)  # the range is full: the oldest pair
        port = rtp_sock.getsockname()[1]
        leg = self._new_leg(loop, call_id, label, port)
        try:
            leg.attach(rtp_sock, can_connect=self._can_connect)
            transport, _ = await loop.create_datagram_endpoint(
                _RtcpProtocol(leg).as_protocol, sock=rtcp_sock
            )
        except BaseException:
            leg.shutdown()
            rtp_sock.close()
            rtcp_sock.close()
            self.ports.release(port)
            raise
        leg.rtcp_transport = transport
        return self._register(leg)

    def _reuse(self, loop: asyncio.AbstractEventLoop, call_id: str, label: str) -> UdpLeg:
        """A new leg on the oldest parked socket pair."""
        _, port, rtp, rtcp = self._parked.popleft()
        leg = self._new_leg(loop, call_id, label, port)
        leg.attach(rtp, can_connect=self._can_connect)  # replaces the parked socket's reader
        rtcp.set_protocol(_RtcpProtocol(leg).as_protocol())
        leg.rtcp_transport = rtcp
        return self._register(leg)

    def _new_leg(
        self, loop: asyncio.AbstractEventLoop, call_id: str, label: str, port: int
    ) -> UdpLeg:
        return UdpLeg(
            call_id=call_id,
            label=label,
            local_address=self.advertise,
            local_port=port,
            loop=loop,
            emit=self._emit,
            cname=self.cname,
            on_source=self.watch_source,
            on_close=self.close_leg,
        )

    def _register(self, leg: UdpLeg) -> UdpLeg:
        self._legs[leg.local_port] = leg
        self._by_call.setdefault(leg.call_id, []).append(leg)
        return leg

    def _park(self, leg: UdpLeg) -> bool:
        """Take ``leg``'s transports before it shuts down, to be reused by a later leg;
        False if it has none to give (shutdown closes what there is)."""
        rtcp = leg.rtcp_transport
        if leg.sock is None or rtcp is None or rtcp.is_closing() or self._loop is None:
            return False
        rtp = leg.detach()
        assert rtp is not None
        leg.rtcp_transport = None
        self._loop.add_reader(rtp.fileno(), drain(rtp))
        rtcp.set_protocol(_PARKED)
        self._parked.append((self._time(), leg.local_port, rtp, rtcp))
        if len(self._parked) > self.park_max:
            self._close_parked(1)
        return True

    def _close_parked(self, count: int) -> None:
        for _ in range(min(count, len(self._parked))):
            _, port, rtp, rtcp = self._parked.popleft()
            if rtp.fileno() >= 0:
                if self._loop is not None:
                    stop_reading(self._loop, rtp.fileno())
                rtp.close()
            rtcp.close()
            self.ports.release(port)

    def close_leg(self, leg: MediaLeg) -> LegStats:
        udp = self._own(leg)
        if udp.closed:
            return udp.stats()
        self.unbridge(udp)
        self._sourcing.discard(udp)
        parked = (
            self._loop is not None and self._legs.get(udp.local_port) is udp and self._park(udp)
        )
        stats = udp.shutdown()
        if self._legs.get(udp.local_port) is udp:
            del self._legs[udp.local_port]
        if not parked:
            self.ports.release(udp.local_port)
        call_legs = self._by_call.get(udp.call_id)
        if call_legs is not None:
            if udp in call_legs:
                call_legs.remove(udp)
            if not call_legs:
                del self._by_call[udp.call_id]
        self._emit(LegClosed(stats=stats, at=self._time()))
        return stats

    def close_call(self, call_id: str) -> tuple[LegStats, ...]:
        return tuple(self.close_leg(leg) for leg in list(self._by_call.get(call_id, ())))

    # --- bridges ------------------------------------------------------------------------

    def bridge(self, a: MediaLeg, b: MediaLeg, *, tap: Tap | None = None) -> None:
        leg_a, leg_b = self._own(a), self._own(b)
        if leg_a is leg_b:
            raise MediaError("a leg cannot be bridged to itself")
        if leg_a.closed or leg_b.closed:
            raise MediaError("cannot bridge a closed leg")
        self.unbridge(leg_a)
        self.unbridge(leg_b)
        leg_a.peer, leg_b.peer = leg_b, leg_a
        leg_a.side, leg_b.side = 0, 1
        leg_a.tap = leg_b.tap = narrow_tap(tap, leg_a.codec, leg_b.codec)
        leg_a.refresh_route()
        leg_b.refresh_route()

    def unbridge(self, leg: MediaLeg) -> None:
        udp = self._own(leg)
        peer = udp.peer
        if peer is None:
            return
        udp.peer = peer.peer = None
        udp.tap = peer.tap = None
        udp.refresh_route()
        peer.refresh_route()

    def set_tap(self, leg: MediaLeg, tap: Tap | None) -> None:
        udp = self._own(leg)
        if udp.peer is None:
            retap = getattr(udp.tap, "retap", None)  # a leg of a monitored call (mixing.py)
            if retap is None:
                raise MediaError("set_tap needs a bridged leg")
            retap(tap)
            return
        udp.tap = udp.peer.tap = narrow_tap(tap, udp.codec, udp.peer.codec)

    def send_digit(self, leg: MediaLeg, digit: str, *, duration_ms: int = 100) -> bool:
        return self._own(leg).send_digit(digit, duration_ms)

    # --- timers -------------------------------------------------------------------------

    def _time(self) -> float:
        return self._loop.time() if self._loop is not None else 0.0

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        now = loop.time()
        self._next_round = now + self.rtcp_interval
        self._timers = [
            loop.call_at(now + HOUSEKEEPING_SECONDS, self._housekeeping),
            loop.call_at(now + RTCP_TICK, self._rtcp_tick),
        ]

    def watch_source(self, leg: UdpLeg) -> None:
        """Start sending ``leg``'s source frames (called by the leg's ``set_source``)."""
        self._sourcing.add(leg)
        if self._frame_timer is None and self._loop is not None:
            self._next_frame = self._loop.time()
            self._frame_timer = self._loop.call_at(self._next_frame, self._frame_tick)

    def _frame_tick(self) -> None:
        assert self._loop is not None
        for leg in list(self._sourcing):
            if leg.source is None or leg.closed:
                self._sourcing.discard(leg)
                continue
            try:
                leg.send_source_frame()
            except Exception as e:  # one broken source must not silence every other leg
                log.error("call %s %s: audio source failed (%s: %s); source removed",
                          leg.call_id, leg.label, type(e).__name__, e)  # fmt: skip
                leg.set_source(None)
                self._sourcing.discard(leg)
        if not self._sourcing:
            self._frame_timer = None
            return
        now = self._loop.time()
        self._next_frame += FRAME_SECONDS
        if self._next_frame < now - 0.2:  # the loop stalled: skip ahead, do not burst
            self._next_frame = now
        self._frame_timer = self._loop.call_at(self._next_frame, self._frame_tick)

    def _housekeeping(self) -> None:
        loop = self._loop
        assert loop is not None
        now = loop.time()
        timeout = self.media_timeout
        for leg in list(self._legs.values()):
            if leg.remote is None or leg.closed:
                continue
            if leg.rx != leg.rx_at_check:
                leg.rx_at_check = leg.rx
                leg.last_heard = now
                leg.timed_out = False
                continue
            leg.hear_anyone()  # silent for a second: a moved phone may re-latch (leg.py)
            leg.inband_silence()  # a trunk that stops sending after a key (DTX): it has ended
            if timeout > 0 and not leg.timed_out and now - leg.last_heard >= timeout:
                leg.timed_out = True
                self._emit(
                    MediaTimeout(
                        call_id=leg.call_id,
                        label=leg.label,
                        silent_for=round(now - leg.last_heard, 3),
                        at=now,
                    )
                )
        self._timers[0] = loop.call_at(now + HOUSEKEEPING_SECONDS, self._housekeeping)

    def _rtcp_tick(self) -> None:
        loop = self._loop
        assert loop is not None
        now = loop.time()
        if not self._rtcp_round and now >= self._next_round:
            self._next_round = now + self.rtcp_interval
            self._rtcp_round = list(self._legs.values())
            self._rtcp_round.reverse()  # pop() from the end: oldest legs first
            ticks = max(1, round(self.rtcp_interval / RTCP_TICK))
            self._per_tick = -(-len(self._rtcp_round) // ticks)  # ceil: all within the interval
        wall = time.time()
        for _ in range(min(self._per_tick, len(self._rtcp_round))):
            leg = self._rtcp_round.pop()
            if not leg.closed:
                leg.send_rtcp(wall)
        self._timers[1] = loop.call_at(now + RTCP_TICK, self._rtcp_tick)

    async def aclose(self) -> None:
        for leg in list(self._legs.values()):
            self.close_leg(leg)
        self._close_parked(len(self._parked))
        for timer in self._timers:
            timer.cancel()
        self._timers = []
        self._loop = None  # a later open_leg starts the timers again
        if self._frame_timer is not None:
            self._frame_timer.cancel()
            self._frame_timer = None
        await asyncio.sleep(0)  # let the transports finish closing

    # --- helpers ------------------------------------------------------------------------

    def _own(self, leg: MediaLeg) -> UdpLeg:
        if not isinstance(leg, UdpLeg):
            raise MediaError(f"{leg!r} is not a leg of this engine")
        return leg
