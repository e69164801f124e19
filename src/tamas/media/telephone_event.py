"""RFC 4733 (formerly RFC 2833) named telephone events: DTMF digits and flash over RTP.

Theory of operation
-------------------
A key press is one *event*. All its packets carry the RTP timestamp of the moment the event
began (RFC 4733 section 2.3.1); the payload repeats the event code with a growing ``duration``
(in timestamp units, section 2.3.5) and the last one sets the E bit, sent three times
(section 2.5.1.4). The first packet sets the RTP marker bit (section 2.5.1.2). So a receiver
identifies an event by its RTP timestamp, not by the marker or the sequence number:

* a packet whose timestamp is newer than any seen starts an event, marker or not (the first
  packets may be lost); if another event was still open it ends there;
* a packet for the open event updates its duration (the largest duration seen wins, so
  reordering and duplicates only ever confirm what is known);
* an E-bit packet ends the event; its two repeats, and any late update, find the event closed
  and are ignored, as is every packet whose timestamp is older than the newest event;
* if every end packet is lost the event ends ``end_timeout`` seconds after its last packet
  (:meth:`EventReceiver.next_deadline` / :meth:`EventReceiver.handle_timer`); the default,
  200 ms, outlasts one lost update at the 50 ms interval many phones use;
* an event longer than the 16-bit duration field (about 8.2 s at 8 kHz) is sent in segments
  (section 2.5.1.3): each later segment has the timestamp ``previous + 0xFFFF``, the same event
  code and no marker. The receiver joins them into one key press.

Pressing the same digit twice gives two timestamps, hence two events. :class:`EventReceiver`
reports each press exactly once as :class:`DigitStarted` then :class:`DigitEnded`.

:class:`EventSender` is the other direction: the payloads for one digit, one per packet
interval, which the RTP layer stamps with sequence numbers and the event's timestamp.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

from tamas.core.errors import TamasError

#: Event codes 0-15 are the DTMF keys (RFC 4733 section 3.2); 16 is a hook flash, shown as "!".
DIGITS = "0123456789*#ABCD!"
FLASH = 16
MAX_DURATION = 0xFFFF
_STRUCT = struct.Struct("!BBH")
_TS_MOD = 1 << 32


class TelephoneEventError(TamasError):
    """A telephone-event payload is malformed or carries a value out of range."""


def event_for_digit(digit: str) -> int:
    """The event code for a key ("0"-"9", "*", "#", "A"-"D", or "!" for flash)."""
    code = DIGITS.find(digit.upper()) if len(digit) == 1 else -1
    if code < 0:
        raise TelephoneEventError(f"not a DTMF digit: {digit!r}")
    return code


@dataclass(frozen=True, slots=True, kw_only=True)
class TelephoneEvent:
    """One telephone-event payload (RFC 4733 section 2.3)::

    |     event     |E|R| volume    |          duration             |
    """

    #: Event code, 0-16 (see :data:`DIGITS`).
    event: int
    #: E bit: this packet reports the end of the event (or of the last segment).
    end: bool = False
    #: R bit: reserved, sent as 0 and ignored on receipt; kept so bytes round-trip.
    reserved: bool = False
    #: Power level in -dBm0 (0 is loudest), 0-63.
    volume: int = 10
    #: Duration so far, in RTP timestamp units, 0-65535.
    duration: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.event <= FLASH:
            raise TelephoneEventError(f"event code {self.event} is not a DTMF event (0-16)")
        if not 0 <= self.volume <= 63:
            raise TelephoneEventError(f"volume {self.volume} out of range 0-63")
        if not 0 <= self.duration <= MAX_DURATION:
            raise TelephoneEventError(f"duration {self.duration} out of range 0-65535")

    @property
    def digit(self) -> str:
        return DIGITS[self.event]

    @classmethod
    def parse(cls, payload: bytes) -> TelephoneEvent:
        if len(payload) != _STRUCT.size:
            raise TelephoneEventError(f"telephone-event payload is {len(payload)} bytes, not 4")
        event, flags, duration = _STRUCT.unpack(payload)
        return cls(
            event=event,
            end=bool(flags & 0x80),
            reserved=bool(flags & 0x40),
            volume=flags & 0x3F,
            duration=duration,
        )

    def __bytes__(self) -> bytes:
        flags = (0x80 if self.end else 0) | (0x40 if self.reserved else 0) | self.volume
        return _STRUCT.pack(self.event, flags, self.duration)


# --- receiving ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DigitStarted:
    """A key press began."""

    #: The key: "0"-"9", "*", "#", "A"-"D", or "!" for flash.
    digit: str
    #: RTP timestamp of the event (its start, in the stream's clock).
    timestamp: int
    #: Local time the first packet seen for it arrived.
    at: float


class EndReason(Enum):
    END_BIT = "end-bit"  # an E-bit packet arrived
    TIMEOUT = "timeout"  # every end packet was lost; no packet for end_timeout seconds
    NEW_EVENT = "new-event"  # a newer event started before this one's end was seen


@dataclass(frozen=True, slots=True, kw_only=True)
class DigitEnded:
    """A key press ended."""

    digit: str
    #: RTP timestamp of the event (the same as in its :class:`DigitStarted`).
    timestamp: int
    #: Total duration reported by the sender (largest seen, segments summed), in ms.
    duration_ms: int
    #: Local time the end became known.
    at: float
    #: How the end became known.
    reason: EndReason


DigitEvent = DigitStarted | DigitEnded


class State(Enum):
    IDLE = "idle"  # no event open
    ACTIVE = "active"  # an event is open


class Input(Enum):
    """What a packet (or the timer) means to the receiver; see the module docstring.

    A packet is one of START, SEGMENT, UPDATE or STALE, followed by END if it has the E bit.
    """

    START = "start"  # newest timestamp: a new event (a START while ACTIVE ends the open one)
    SEGMENT = "segment"  # next segment of the open long event
    UPDATE = "update"  # the open event again
    STALE = "stale"  # an older or already finished event: ignored
    END = "end"  # the E bit, for the event just started or updated
    TIMEOUT = "timeout"  # nothing heard for the open event for end_timeout seconds


#: The receiver's transitions; an input missing here is a bug, raised as an error.
TRANSITIONS: dict[State, dict[Input, State]] = {
    State.IDLE: {
        Input.START: State.ACTIVE,
        Input.STALE: State.IDLE,
    },
    State.ACTIVE: {
        Input.START: State.ACTIVE,
        Input.SEGMENT: State.ACTIVE,
        Input.UPDATE: State.ACTIVE,
        Input.STALE: State.ACTIVE,
        Input.END: State.IDLE,
        Input.TIMEOUT: State.IDLE,
    },
}


def _newer(a: int, b: int) -> bool:
    """True if 32-bit timestamp ``a`` is later than ``b`` (serial arithmetic, RFC 1982)."""
    return 0 < (a - b) % _TS_MOD < _TS_MOD // 2


class EventReceiver:
    """Turns one stream's telephone-event packets into :class:`DigitStarted`/:class:`DigitEnded`.

    Feed every packet of the negotiated telephone-event payload type to :meth:`receive`, call
    :meth:`handle_timer` at :meth:`next_deadline`. Malformed payloads are counted in
    ``malformed`` and ignored. On an SSRC change, call :meth:`reset`.
    """

    def __init__(self, clock_rate: int = 8000, end_timeout: float = 0.2) -> None:
        self.clock_rate = clock_rate
        self.end_timeout = end_timeout
        self.malformed = 0
        self.reset()

    def reset(self) -> None:
        """Forget the stream (new SSRC); an open event is dropped without a DigitEnded."""
        self.state = State.IDLE
        self._newest: int | None = None  # timestamp of the newest event or segment seen
        self._first = 0  # timestamp of the open event's first segment
        self._event = 0  # the open event's code
        self._segments = 0  # completed segments before the current one
        self._duration = 0  # largest duration seen in the current segment
        self._last_arrival = 0.0

    def next_deadline(self) -> float | None:
        if self.state is State.ACTIVE:
            return self._last_arrival + self.end_timeout
        return None

    def handle_timer(self, now: float) -> list[DigitEvent]:
        deadline = self.next_deadline()
        if deadline is None or now < deadline:
            return []
        self._transition(Input.TIMEOUT)
        return [self._ended(now, EndReason.TIMEOUT)]

    def receive(
        self, marker: bool, seq: int, timestamp: int, payload: bytes, arrival: float
    ) -> list[DigitEvent]:
        """Take one packet (``seq`` is unused: RFC 4733 identifies events by timestamp)."""
        try:
            ev = TelephoneEvent.parse(payload)
        except TelephoneEventError:
            self.malformed += 1
            return []
        what = self._classify(marker, timestamp, ev)
        out: list[DigitEvent] = []
        if what is Input.START and self.state is State.ACTIVE:
            out.append(self._ended(arrival, EndReason.NEW_EVENT))
        self._transition(what)
        if what is Input.STALE:
            return out
        if what is Input.START:
            self._first, self._event, self._segments, self._duration = timestamp, ev.event, 0, 0
            out.append(DigitStarted(digit=ev.digit, timestamp=timestamp, at=arrival))
        elif what is Input.SEGMENT:
            self._segments += 1
            self._duration = 0
        self._newest = timestamp
        self._duration = max(self._duration, ev.duration)
        self._last_arrival = arrival
        if ev.end:
            self._transition(Input.END)
            out.append(self._ended(arrival, EndReason.END_BIT))
        return out

    def _classify(self, marker: bool, timestamp: int, ev: TelephoneEvent) -> Input:
        newest = self._newest
        active = self.state is State.ACTIVE and ev.event == self._event
        if newest is None:
            return Input.START
        if _newer(timestamp, newest):
            continues = not marker and timestamp == (newest + MAX_DURATION) % _TS_MOD
            return Input.SEGMENT if active and continues else Input.START
        if timestamp == newest and active:
            return Input.UPDATE
        return Input.STALE

    def _transition(self, what: Input) -> None:
        try:
            self.state = TRANSITIONS[self.state][what]
        except KeyError:
            raise TelephoneEventError(f"{what.value} in state {self.state.value}") from None

    def _ended(self, at: float, reason: EndReason) -> DigitEnded:
        units = self._segments * MAX_DURATION + self._duration
        return DigitEnded(
            digit=DIGITS[self._event],
            timestamp=self._first,
            duration_ms=round(units * 1000 / self.clock_rate),
            at=at,
            reason=reason,
        )


# --- sending --------------------------------------------------------------------------------


class EventPacket(NamedTuple):
    """One packet to send; the RTP layer adds the sequence number and SSRC."""

    #: RTP marker bit (set on the event's first packet only).
    marker: bool
    #: Add to the RTP timestamp of the event's start (non-zero only for later segments).
    timestamp_offset: int
    #: The telephone-event payload.
    payload: bytes


class EventSender:
    """Builds the packets for one key press (RFC 4733 section 2.5.1).

    Packet ``i`` of :meth:`packets` is meant to go ``i * interval`` seconds after the event
    starts: the first with the marker and duration 0, then an update per interval with the
    duration so far, then the final duration with the E bit, ``end_repeats`` times at the same
    interval (section 2.5.1.4). Events longer than 0xFFFF units are cut into segments
    (section 2.5.1.3): a segment closes with a 0xFFFF-duration packet without the E bit and
    the next one is stamped 0xFFFF later, without the marker.
    """

    def __init__(
        self,
        clock_rate: int = 8000,
        interval_ms: int = 20,
        volume: int = 10,
        end_repeats: int = 3,
    ) -> None:
        if interval_ms <= 0 or end_repeats < 1:
            raise ValueError("interval_ms must be positive and end_repeats at least 1")
        self.clock_rate = clock_rate
        self.interval_ms = interval_ms
        self.volume = volume
        self.end_repeats = end_repeats

    @property
    def interval(self) -> float:
        """Seconds between consecutive packets of :meth:`packets`."""
        return self.interval_ms / 1000

    def packets(self, digit: str, duration_ms: int) -> list[EventPacket]:
        event = event_for_digit(digit)
        if duration_ms <= 0:
            raise TelephoneEventError(f"duration {duration_ms} ms must be positive")
        total = duration_ms * self.clock_rate // 1000
        step = self.interval_ms * self.clock_rate // 1000
        out: list[EventPacket] = []
        segment = 0
        for k in range(math.ceil(total / step)):
            elapsed = k * step
            while elapsed - segment * MAX_DURATION >= MAX_DURATION:
                out.append(self._packet(False, segment, event, MAX_DURATION, end=False))
                segment += 1
            out.append(self._packet(k == 0, segment, event, elapsed - segment * MAX_DURATION))
        while total - segment * MAX_DURATION > MAX_DURATION:
            out.append(self._packet(False, segment, event, MAX_DURATION, end=False))
            segment += 1
        final = self._packet(False, segment, event, total - segment * MAX_DURATION, end=True)
        out.extend([final] * self.end_repeats)
        return out

    def _packet(
        self, marker: bool, segment: int, event: int, duration: int, *, end: bool = False
    ) -> EventPacket:
        payload = TelephoneEvent(event=event, end=end, volume=self.volume, duration=duration)
        return EventPacket(marker, (segment * MAX_DURATION) % _TS_MOD, bytes(payload))
