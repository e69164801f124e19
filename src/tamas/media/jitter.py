"""An adaptive, bounded jitter buffer for one RTP stream (for legs that are played to or mixed).

Theory of operation
-------------------
Packets go in with :meth:`JitterBuffer.put` whenever they arrive; the playout side calls
:meth:`JitterBuffer.get` once per frame tick (every ``frame_ms``) and gets exactly one
:class:`Frame` or :class:`Missing` back. Each packet must carry one frame of audio.

*Slots.* The RTP timestamp (unwrapped past 2**32) numbers the frames: slot ``n`` is
``origin + n * frame_units``. Playout walks the slots in order, so reordering is undone by
construction; a packet for a slot already in the buffer or already played is a duplicate, one
for a slot already passed is late. Both are dropped and counted.

*Delay.* A packet's transit is ``arrival - timestamp / clock_rate`` (RFC 3550 section 6.4.1, up
to the unknown clock offset). The smallest transit over the last ``window`` packets is the
*base*: the path with no queueing. A frame played at ``now`` has waited
``now - slot_time - base``, the *playout delay*. The target delay is
``jitter_factor * J`` clamped to ``[min_delay, max_delay]``, with ``J`` the RFC 3550 interarrival
jitter estimate. Per tick the buffer compares the playout delay with the target:

* too short by more than a frame, or short and the frame is not there yet: *stretch* (return
  :class:`Missing` for the same slot again, for the caller to conceal), so the delay grows;
* too long by more than a frame while the next frame is also here: *shrink* (drop one frame);
* a frame not there when the delay is enough is *lost*: :class:`Missing`, and playout moves on.

``J`` follows a rise slowly (gain 1/16), so a packet that arrives after its slot has passed
raises ``J`` at once to what would have covered it; the delay then decays as ``J`` does.
During silence suppression (no packets) the slots are reported lost, like any other gap.

*Bounds.* The buffer holds at most ``max_delay / frame + 1`` slots; a packet beyond that
pushes the oldest frames out (``overflow``). A transit that differs from the base by more than
``resync_ms`` (a timestamp jump, a restarted sender) flushes the buffer and starts again, as
does :meth:`JitterBuffer.reset`, which the caller uses when the SSRC changes.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import Enum

_TS_MOD = 1 << 32
_HALF = 1 << 31


class Gap(Enum):
    """Why :meth:`JitterBuffer.get` has no frame for this tick."""

    PRIMING = "priming"  # nothing to play yet (start or resync): play silence
    LOST = "lost"  # this slot's packet did not arrive in time: conceal
    STRETCH = "stretch"  # held back to grow the delay; the slot comes next tick: conceal


@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    """One frame to play, as it arrived."""

    seq: int
    #: RTP timestamp (32-bit, as on the wire).
    timestamp: int
    payload: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Missing:
    """No frame this tick."""

    #: RTP timestamp of the slot not played, or ``None`` while priming.
    timestamp: int | None
    reason: Gap


@dataclass(slots=True)
class JitterStats:
    """Counters since creation (``reset`` keeps them).

    Every packet received ends up played, late, duplicate, overflow, shrunk or flushed, or is
    still buffered.
    """

    received: int = 0
    played: int = 0
    late: int = 0  # arrived after its slot was passed
    lost: int = 0  # slots passed with no packet (reported as Missing LOST or skipped over)
    duplicates: int = 0
    overflow: int = 0  # buffered frames pushed out by the max-delay bound
    stretched: int = 0  # ticks held back to grow the delay
    shrunk: int = 0  # frames dropped to reduce the delay
    flushed: int = 0  # buffered frames dropped by reset or resync
    resyncs: int = 0  # automatic restarts on a timestamp/transit jump


class State(Enum):
    EMPTY = "empty"  # nothing since creation, reset or resync
    PRIMING = "priming"  # frames buffered, waiting for the target delay
    PLAYING = "playing"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.EMPTY: frozenset({State.PRIMING}),
    State.PRIMING: frozenset({State.PLAYING, State.EMPTY}),
    State.PLAYING: frozenset({State.EMPTY}),
}


class JitterBuffer:
    state: State
    playout_delay: float  # seconds the last frame waited (set by get)
    _frames: dict[int, Frame]  # slot -> frame
    _played: set[int]  # recently passed slots, to tell duplicates from late packets
    _played_order: deque[int]
    _origin: int  # unwrapped RTP timestamp of slot 0
    _last_ts: int
    _last_ext: int
    _next: int  # the slot get() plays next
    _jitter: float
    _prev_transit: float | None
    _count: int
    _minima: deque[tuple[int, float]]  # (packet index, transit), ascending: window minimum

    def __init__(
        self,
        clock_rate: int = 8000,
        frame_ms: int = 20,
        min_delay_ms: int = 20,
        max_delay_ms: int = 200,
        *,
        jitter_factor: float = 4.0,
        resync_ms: int = 1000,
        window: int = 100,
    ) -> None:
        if (clock_rate * frame_ms) % 1000 or frame_ms <= 0:
            raise ValueError("frame_ms must be a whole number of clock ticks")
        if not 0 <= min_delay_ms <= max_delay_ms < resync_ms:
            raise ValueError("need 0 <= min_delay_ms <= max_delay_ms < resync_ms")
        self.clock_rate = clock_rate
        self.frame_units = clock_rate * frame_ms // 1000
        self.frame = frame_ms / 1000
        self.min_delay = min_delay_ms / 1000
        self.max_delay = max_delay_ms / 1000
        self.jitter_factor = jitter_factor
        self.resync = resync_ms / 1000
        self.capacity = math.ceil(max_delay_ms / frame_ms) + 1
        self.window = window
        self.stats = JitterStats()
        self._clear()

    # --- public surface ---------------------------------------------------------------------

    @property
    def jitter(self) -> float:
        """Interarrival jitter estimate in seconds (RFC 3550 section 6.4.1)."""
        return self._jitter

    @property
    def target_delay(self) -> float:
        """The playout delay the buffer steers towards, in seconds."""
        return min(max(self.jitter_factor * self._jitter, self.min_delay), self.max_delay)

    def __len__(self) -> int:
        return len(self._frames)

    def reset(self) -> None:
        """Forget the stream (new SSRC): flush, then prime again from the next packet."""
        self.stats.flushed += len(self._frames)
        self._clear()

    def put(self, seq: int, timestamp: int, payload: bytes, arrival: float) -> None:
        self.stats.received += 1
        if self.state is State.EMPTY:
            self._start(timestamp)
        ext = self._unwrap(timestamp)
        transit = arrival - ext / self.clock_rate
        if self._minima and abs(transit - self._base()) > self.resync:
            self.stats.resyncs += 1
            self.reset()
            self._start(timestamp)
            ext = self._unwrap(timestamp)
        slot = round((ext - self._origin) / self.frame_units)
        if slot in self._frames or (slot < self._next and slot in self._played):
            self.stats.duplicates += 1
            return
        self._measure(transit)
        if slot < self._next:
            if self.state is State.PLAYING:
                # Too late: the estimate lags a sudden rise, so jump to what would have sufficed.
                self.stats.late += 1
                needed = (transit - self._base() + self.frame) / self.jitter_factor
                self._jitter = max(self._jitter, needed)
                return
            if max(self._frames) - slot >= self.capacity:
                self.stats.overflow += 1
                return
            self._next = slot
        self._frames[slot] = Frame(seq=seq, timestamp=timestamp, payload=payload)
        if slot - self._next >= self.capacity:
            self._push_out(slot - self.capacity + 1)

    def get(self, now: float) -> Frame | Missing:
        """The frame for this tick; call once per ``frame_ms``."""
        if self.state is State.EMPTY:
            return Missing(timestamp=None, reason=Gap.PRIMING)
        target = self.target_delay
        delay = self.playout_delay = now - self._slot_time(self._next) - self._base()
        if self.state is State.PRIMING:
            if delay < target:
                return Missing(timestamp=None, reason=Gap.PRIMING)
            self._go(State.PLAYING)
        frame = self._frames.get(self._next)
        if frame is None:
            if delay < target:
                return self._stretch()
            self.stats.lost += 1
            return Missing(timestamp=self._advance(received=False), reason=Gap.LOST)
        if delay < target - self.frame:
            return self._stretch()
        if delay > target + self.frame and self._next + 1 in self._frames:
            self.stats.shrunk += 1
            del self._frames[self._next]
            self._advance()
            frame = self._frames[self._next]
        del self._frames[self._next]
        self.stats.played += 1
        self._advance()
        return frame

    # --- internals --------------------------------------------------------------------------

    def _clear(self) -> None:
        self.state = State.EMPTY
        self.playout_delay = 0.0
        self._frames = {}
        self._played = set()
        self._played_order = deque()
        self._origin = 0
        self._last_ts = 0
        self._last_ext = 0
        self._next = 0
        self._jitter = 0.0
        self._prev_transit = None
        self._count = 0
        self._minima = deque()

    def _start(self, timestamp: int) -> None:
        self._origin = self._last_ext = self._last_ts = timestamp
        self._next = 0
        self._go(State.PRIMING)

    def _go(self, state: State) -> None:
        if state not in TRANSITIONS[self.state]:
            raise AssertionError(f"jitter buffer: {self.state.value} -> {state.value}")
        self.state = state

    def _unwrap(self, timestamp: int) -> int:
        delta = (timestamp - self._last_ts) % _TS_MOD
        if delta >= _HALF:
            delta -= _TS_MOD
        self._last_ts = timestamp
        self._last_ext += delta
        return self._last_ext

    def _measure(self, transit: float) -> None:
        if self._prev_transit is not None:
            self._jitter += (abs(transit - self._prev_transit) - self._jitter) / 16
        self._prev_transit = transit
        minima = self._minima
        while minima and minima[-1][1] >= transit:
            minima.pop()
        minima.append((self._count, transit))
        if minima[0][0] <= self._count - self.window:
            minima.popleft()
        self._count += 1

    def _base(self) -> float:
        return self._minima[0][1]

    def _slot_time(self, slot: int) -> float:
        return (self._origin + slot * self.frame_units) / self.clock_rate

    def _timestamp(self, slot: int) -> int:
        return (self._origin + slot * self.frame_units) % _TS_MOD

    def _stretch(self) -> Missing:
        self.stats.stretched += 1
        return Missing(timestamp=self._timestamp(self._next), reason=Gap.STRETCH)

    def _advance(self, received: bool = True) -> int:
        """Move past the current slot (remembered if its frame came); returns its timestamp."""
        slot = self._next
        if received:
            self._played.add(slot)
            self._played_order.append(slot)
            if len(self._played_order) > 4 * self.capacity:
                self._played.discard(self._played_order.popleft())
        self._next = slot + 1
        return self._timestamp(slot)

    def _push_out(self, first_kept: int) -> None:
        """Drop or skip the slots before ``first_kept`` (the max-delay bound)."""
        playing = self.state is State.PLAYING
        while self._next < first_kept:
            received = self._frames.pop(self._next, None) is not None
            if received:
                self.stats.overflow += 1
            elif playing:
                self.stats.lost += 1
            self._advance(received)
        if not playing:
            self._next = min(self._frames)
