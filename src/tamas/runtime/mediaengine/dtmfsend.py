"""Sending key presses on a leg as RFC 4733 telephone-events (DTMF interworking, IVRs).

Theory of operation
-------------------
:class:`DigitSender` belongs to one :class:`~tamas.runtime.mediaengine.leg.UdpLeg`. Digits are
queued and sent one after the other, :data:`GAP` apart. For each, the packets come from
:class:`tamas.media.telephone_event.EventSender` at the leg's packet time (``ptime``, 20 ms
by default; RFC 4733 section 2.5.1.2 asks for updates at least every 50 ms): the first with
the marker bit and duration 0, an update per packet time, then the final duration with the
E bit three times (section 2.5.1.4), all under the event's start timestamp.

The packets go out under the leg's *own* stream (its SSRC, the sequence numbers and
timestamps a source's frames use): a prompt, a digit and the next prompt are one continuous
stream. The event's timestamp is the own stream's next one, moved on by the time elapsed since
the stream last sent (RFC 3550: the clock runs while a stream is silent); after the event the
stream's timestamp is past the event's span, so audio resumes after it.

While a digit is out (from its first packet to its last end packet) the leg sends no other
audio: a source's frames are held back, and the bridged peer's audio is not relayed to the
leg (the peer's route is recomputed, as when a source starts), so tones and events never
overlap. Relayed telephone-events of the peer would not be held back; they do not occur, since
the call logic sends digits only to a leg whose peer does not send it RFC 4733 itself.
"""

from __future__ import annotations

import asyncio
import struct
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from tamas.media.telephone_event import EventPacket, EventSender, TelephoneEventError

if TYPE_CHECKING:
    from tamas.runtime.mediaengine.leg import UdpLeg

__all__ = ["GAP", "DigitSender"]

#: Pause between two queued digits (seconds): receivers need the key to be released.
GAP: Final = 0.06
_HEADER = struct.Struct("!BBHII")


class DigitSender:
    """The RFC 4733 sender of one leg (see the module docstring)."""

    def __init__(self, leg: UdpLeg, loop: asyncio.AbstractEventLoop) -> None:
        self.leg = leg
        self._loop = loop
        self._queue: deque[tuple[str, int]] = deque()
        self._packets: list[EventPacket] = []
        self._index = 0
        self._started = 0.0
        self._interval = 0.02
        self._event_ts = 0
        self._timer: asyncio.TimerHandle | None = None
        #: True from a digit's first packet to its last end packet.
        self.active = False
        #: (own stream timestamp, loop time) when the own stream last moved (for idle time).
        self._clock: tuple[int, float] | None = None
        #: Called when ``active`` changes (the leg recomputes its peer's route).
        self.on_change: Callable[[], None] = lambda: None

    def send(self, digit: str, duration_ms: int) -> None:
        """Queue ``digit``; raises :class:`TelephoneEventError` for a bad digit or duration."""
        EventSender().packets(digit, duration_ms)  # validates before queueing
        self._queue.append((digit, duration_ms))
        if not self.active and self._timer is None:
            self._next()

    def stop(self) -> None:
        """Forget queued digits and stop the one being sent (the leg closes)."""
        self._queue.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.active = False

    @property
    def pending(self) -> int:
        """Digits queued or being sent."""
        return len(self._queue) + (1 if self.active else 0)

    def _next(self) -> None:
        self._timer = None
        if not self._queue or self.leg.closed:
            return
        digit, duration_ms = self._queue.popleft()
        leg = self.leg
        ptime = leg.remote.ptime if leg.remote is not None and leg.remote.ptime > 0 else 20
        sender = EventSender(clock_rate=8000, interval_ms=ptime)
        try:
            self._packets = sender.packets(digit, duration_ms)
        except TelephoneEventError:
            self._next()
            return
        self._interval = sender.interval
        now = self._loop.time()
        self._event_ts = self._own_timestamp(now)
        self._started = now
        self._index = 0
        self.active = True
        self.on_change()
        self._tick()

    def _own_timestamp(self, now: float) -> int:
        """The own stream's timestamp for ``now``: as it is if a source keeps it moving, else
        moved on by the time since it last moved."""
        leg = self.leg
        ts = leg.own_timestamp
        if leg.source is None and self._clock is not None and self._clock[0] == ts:
            ts = (ts + round((now - self._clock[1]) * 8000)) & 0xFFFFFFFF
        return ts

    def _tick(self) -> None:
        self._timer = None
        leg = self.leg
        if leg.closed:
            self.stop()
            return
        packet = self._packets[self._index]
        ts = (self._event_ts + packet.timestamp_offset) & 0xFFFFFFFF
        leg.send_event_packet(packet.marker, ts, packet.payload)
        self._index += 1
        if self._index < len(self._packets):
            at = self._started + self._index * self._interval
            self._timer = self._loop.call_at(at, self._tick)
            return
        # The event spans its packets' intervals; the own stream resumes after it.
        step = round(self._interval * 8000)
        end_ts = (self._event_ts + len(self._packets) * step) & 0xFFFFFFFF
        leg.own_timestamp = end_ts
        done = self._started + len(self._packets) * self._interval
        self._clock = (end_ts, done)
        self.active = False
        self.on_change()
        if self._queue:
            self._timer = self._loop.call_at(done + GAP, self._next)
