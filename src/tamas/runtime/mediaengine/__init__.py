"""The media engine runtime: RTP legs, bridges, sources and taps behind a small seam.

``api`` is the seam the call logic uses (``MediaEngine``, ``MediaLeg``, the events);
``engine.LocalMediaEngine`` is the built-in backend (uvloop datagram protocols, see ``leg``);
recordings plug in as bridge taps (``tamas.runtime.recorder``).
"""

from tamas.runtime.mediaengine.api import (
    FRAME_SAMPLES,
    Codec,
    CodecName,
    DigitReceived,
    EventSink,
    FrameSource,
    LegClosed,
    LegStats,
    MediaEngine,
    MediaError,
    MediaEvent,
    MediaLeg,
    MediaTimeout,
    PcmFrame,
    RemoteMedia,
    SourceFinished,
    Tap,
)
from tamas.runtime.mediaengine.engine import LocalMediaEngine

__all__ = [
    "FRAME_SAMPLES",
    "Codec",
    "CodecName",
    "DigitReceived",
    "EventSink",
    "FrameSource",
    "LegClosed",
    "LegStats",
    "LocalMediaEngine",
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
