"""The media seam: what the B2BUA and the IVR ask of a media engine, and what it tells them.

The call logic never touches RTP. It opens a *leg* per SIP dialog (the leg's local address and
port go into Tamas's SDP), configures it from the negotiated SDP, and then either *bridges* two
legs (their RTP is relayed, transcoded when the codecs differ) or gives a leg a *source* of
20 ms audio frames (prompts, music on hold, tones). A bridge may carry a *tap* that receives the
audio of both directions (recording, monitoring). What happens on the wire comes back as
events: digits, media timeouts, a finished source, and the statistics of a closed leg.

The interface is deliberately small and free of sockets, so that a second backend (rtpengine over
its ng protocol: ``offer``/``answer`` = open+configure, ``delete`` = close, ``play media`` =
source, ``start recording`` = tap) can implement it as a module of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

import numpy as np
import numpy.typing as npt

from tamas.core.errors import TamasError

__all__ = [
    "FRAME_SAMPLES",
    "Codec",
    "CodecName",
    "DigitReceived",
    "EventSink",
    "FrameSource",
    "LegClosed",
    "LegStats",
    "MediaEngine",
    "MediaError",
    "MediaEvent",
    "MediaLeg",
    "MediaTimeout",
    "PcmFrame",
    "RemoteMedia",
    "SourceFinished",
    "Tap",
]

#: Samples in one 20 ms frame at 8 kHz: what a :class:`FrameSource` yields each time.
FRAME_SAMPLES = 160

#: 16-bit signed linear PCM, mono, 8 kHz: an int16 array or its native-endian bytes.
PcmFrame = npt.NDArray[np.int16] | bytes


class MediaError(TamasError):
    """A media request cannot be done (no free port, unknown codec, leg closed...)."""


class CodecName(Enum):
    PCMU = "PCMU"
    PCMA = "PCMA"
    #: Wideband (16 kHz audio) on an 8000 Hz RTP clock: RFC 3551 section 4.5.2's quirk.
    G722 = "G722"

    # Hashed by identity (members are singletons, compared by identity): Enum's own __hash__
    # is a Python function, called for every table lookup of a state (dozens per call).
    __hash__ = object.__hash__


@dataclass(frozen=True, slots=True, kw_only=True)
class Codec:
    """The audio codec negotiated for a leg: its RTP payload type and name (RFC 3551)."""

    payload_type: int
    name: CodecName
    clock_rate: int = 8000

    @classmethod
    def pcmu(cls, payload_type: int = 0) -> Codec:
        return cls(payload_type=payload_type, name=CodecName.PCMU)

    @classmethod
    def pcma(cls, payload_type: int = 8) -> Codec:
        return cls(payload_type=payload_type, name=CodecName.PCMA)

    @classmethod
    def g722(cls, payload_type: int = 9) -> Codec:
        return cls(payload_type=payload_type, name=CodecName.G722)

    @property
    def sample_rate(self) -> int:
        """The audio's sampling rate (16 kHz for G.722; its RTP clock still counts 8000/s)."""
        return 16000 if self.name is CodecName.G722 else self.clock_rate


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteMedia:
    """What the far end's SDP says, plus where its signalling came from.

    ``address``/``port`` are the SDP ``c=`` address and ``m=`` port. ``signalling_address`` is
    the IP the SIP peer's messages actually came from. Tamas sends RTP to the SDP address only
    when the two are equal; otherwise it waits for the peer's first RTP packet and answers to
    where that came from (symmetric RTP). A spoofed SDP therefore cannot aim Tamas's media at a
    third party.
    """

    address: str
    port: int
    codec: Codec
    signalling_address: str
    telephone_event_pt: int | None = None
    ptime: int = 20
    #: Also listen for DTMF tones in the received audio (a trunk that sends digits in-band);
    #: each key heard is reported as a :class:`DigitReceived` like a telephone-event one.
    inband_dtmf: bool = False


# --- events out ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DigitReceived:
    """A key press ended on a leg: RFC 4733 telephone-events, or tones heard in the audio
    when the leg was configured with ``inband_dtmf``."""

    call_id: str
    #: The leg's label given to :meth:`MediaEngine.open_leg` (e.g. "caller", "callee").
    label: str
    #: "0"-"9", "*", "#", "A"-"D", or "!" for flash.
    digit: str
    #: Duration reported by the sender (in-band: measured, to 20 ms), in ms.
    duration_ms: int
    #: Loop time (seconds) at which the key press began (its first packet arrived).
    started_at: float
    #: Loop time at which its end became known.
    at: float
    #: How it came: "rfc4733" (telephone-event packets) or "inband" (tones in the audio).
    via: str = "rfc4733"


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaTimeout:
    """A configured leg received no RTP for ``silent_for`` seconds (the call should end)."""

    call_id: str
    label: str
    silent_for: float
    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceFinished:
    """A leg's source returned no more frames (a prompt ended)."""

    call_id: str
    label: str
    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class LegStats:
    """What a leg carried, for the call record (kept when the leg closes)."""

    call_id: str
    label: str
    #: RTP packets received from the far end (all payload types) and sent to it.
    packets_received: int
    packets_sent: int
    #: RFC 3550 A.3 cumulative loss and A.8 jitter of the audio received (last SSRC).
    packets_lost: int
    jitter_ms: float
    #: Loss fraction (0-1) and jitter the far end reported in its last RTCP report, if any.
    remote_fraction_lost: float | None
    remote_jitter_ms: float | None
    #: Packets dropped: not RTP, from an address other than the latched one, or the first
    #: datagram longer than the leg read (leg.SMALL_RECV_BYTES; it reads longer ones after).
    dropped: int
    #: The address RTP was latched to, if any packet arrived.
    latched_to: tuple[str, int] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class LegClosed:
    """A leg was closed; its final statistics."""

    stats: LegStats
    at: float


MediaEvent = DigitReceived | MediaTimeout | SourceFinished | LegClosed
EventSink = Callable[[MediaEvent], None]


# --- plug-ins: sources and taps -----------------------------------------------------------


class FrameSource(Protocol):
    """Audio to send on a leg instead of a bridged peer's: one 20 ms frame per call.

    Return :data:`FRAME_SAMPLES` samples of 8 kHz linear PCM, or ``None`` when finished (the
    engine then emits :class:`SourceFinished` and removes the source). Called on the event loop
    every 20 ms: it must be quick (pre-decoded, cached audio).
    """

    def read_frame(self) -> PcmFrame | None: ...


class Tap(Protocol):
    """Receives the audio of both directions of a bridge, packet by packet.

    ``side`` is 0 for audio received on the bridge's first leg (sent by that party), 1 for the
    second. ``packet`` is the whole RTP packet as received (header included, not copied), in
    ``codec``. Called on the event loop in the hot path: append and return (hand the work to a
    thread in batches); never block, never raise.
    """

    def feed(self, side: int, packet: bytes, codec: Codec) -> None: ...


# --- the seam -----------------------------------------------------------------------------


class MediaLeg(Protocol):
    """One RTP endpoint of Tamas, facing one party."""

    @property
    def call_id(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def local_address(self) -> str:
        """The IP to put in Tamas's SDP ``c=`` line for this leg."""
        ...

    @property
    def local_port(self) -> int:
        """The RTP port (even) for the SDP ``m=`` line; RTCP is on the next port."""
        ...

    def configure(self, remote: RemoteMedia) -> None:
        """Apply the negotiated SDP of the far end (again after each re-INVITE)."""
        ...

    def set_source(self, source: FrameSource | None) -> None:
        """Send ``source``'s frames on this leg (the bridged peer's audio is not sent here
        meanwhile); ``None`` goes back to the peer's audio."""
        ...

    def stats(self) -> LegStats: ...

    def close(self) -> LegStats:
        """Release the ports; idempotent. Emits :class:`LegClosed` the first time."""
        ...


class MediaEngine(Protocol):
    """Allocates legs and connects them."""

    async def open_leg(self, call_id: str, label: str) -> MediaLeg:
        """A new leg with an even RTP port (and RTCP on port + 1) from the configured range."""
        ...

    def bridge(self, a: MediaLeg, b: MediaLeg, *, tap: Tap | None = None) -> None:
        """Relay audio and telephone events between ``a`` and ``b`` (each leaves any bridge
        it was in)."""
        ...

    def unbridge(self, leg: MediaLeg) -> None:
        """Undo the bridge ``leg`` is in (no-op if none)."""
        ...

    def set_tap(self, leg: MediaLeg, tap: Tap | None) -> None:
        """Attach (or remove) a tap on the bridge ``leg`` is in."""
        ...

    def send_digit(self, leg: MediaLeg, digit: str, *, duration_ms: int = 100) -> bool:
        """Send the key ``digit`` to ``leg``'s party as RFC 4733 telephone-events, after any
        digit still being sent; audio towards the party pauses meanwhile. False (nothing
        sent) if the party did not negotiate telephone-event. Raises :class:`MediaError` for
        a closed leg or a character that is not a key."""
        ...

    def close_call(self, call_id: str) -> tuple[LegStats, ...]:
        """Close every leg of ``call_id``; their statistics for the call record."""
        ...

    async def aclose(self) -> None:
        """Close every leg and stop the engine's timers."""
        ...
