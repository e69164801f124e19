"""Frame sources for playback (prompts, prompt lists, music on hold, tones, silence) and a
prompt cache.

Theory of operation
-------------------
The media engine sends one 20 ms frame (160 samples of 8 kHz int16 PCM) per leg per tick and
asks the leg's *source* for it with ``read_frame()``; ``None`` means the source has finished.
Everything here is precomputed so that a tick is a slice: prompts and loops hand out
read-only *views* of arrays decoded once, never copies, except for the one frame that
straddles two prompts of a list. Music on hold is one shared array per track list with an
extra frame appended from its start, so any 160-sample window of the loop, the wrap included,
is a contiguous view; each leg has its own :class:`LoopSource` and so its own position.

Tones come from :mod:`tamas.media.tones`. A repeating tone whose cadence period holds a whole
number of cycles of each component (ringback, busy: 425 Hz over 5 s or 1 s) is rendered once
per period and then looped like music; any other tone is synthesised frame by frame.

:class:`PromptCache` keeps decoded prompts keyed by ``(path, mtime_ns)``: a file is decoded and
resampled once, and again only when it changes on disk. It is pure given the bytes: the
caller (the runtime) states the file and passes the function that reads it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from tamas.media.g711 import alaw_encode, ulaw_encode
from tamas.media.tones import Tone, ToneSource
from tamas.media.wav import decode_wav

__all__ = [
    "FRAME_SAMPLES",
    "FrameSource",
    "LoopSource",
    "MusicOnHold",
    "PromptCache",
    "PromptSource",
    "SequenceSource",
    "SilenceSource",
    "ToneFrames",
    "frozen",
    "tone_source",
]

Int16Array = npt.NDArray[np.int16]

SAMPLE_RATE: Final = 8000
FRAME_SAMPLES: Final = 160
_MAX_TONE_PERIOD: Final = 30 * SAMPLE_RATE
_ENCODERS: Final[dict[str, Callable[[npt.ArrayLike], bytes]]] = {
    "PCMU": ulaw_encode,
    "PCMA": alaw_encode,
}


class FrameSource(Protocol):
    """Yields one frame per call, or None when finished."""

    def read_frame(self) -> Int16Array | None: ...


def frozen(samples: npt.ArrayLike) -> Int16Array:
    """``samples`` as a read-only 1-D int16 array: itself if it already is one, else a copy."""
    array = np.asarray(samples)
    if array.ndim != 1:
        raise ValueError(f"audio must be mono (1-D), not shape {array.shape}")
    if array.dtype != np.int16:
        if array.size and array.dtype.kind not in "iu":
            raise TypeError(f"audio must be integer PCM, not {array.dtype}")
        array = np.clip(array, -32768, 32767).astype(np.int16)
    elif array.flags.writeable or not array.flags.c_contiguous:
        array = array.copy()
    if array.flags.writeable:
        array.setflags(write=False)
    return array


_SILENCE: Final = frozen(np.zeros(FRAME_SAMPLES, dtype=np.int16))


class PromptSource:
    """Plays one or more prompts back to back, gapless, once.

    The last frame is padded with silence. ``position`` counts samples played.
    """

    def __init__(self, *prompts: npt.ArrayLike, frame_samples: int = FRAME_SAMPLES) -> None:
        self._prompts = [p for p in (frozen(p) for p in prompts) if len(p)]
        self.frame_samples = frame_samples
        self.total = sum(len(p) for p in self._prompts)
        self.position = 0
        self._index = 0  # prompt being played
        self._offset = 0  # within it

    @property
    def finished(self) -> bool:
        return self._index >= len(self._prompts)

    def read_frame(self) -> Int16Array | None:
        if self.finished:
            return None
        prompt = self._prompts[self._index]
        end = self._offset + self.frame_samples
        if end <= len(prompt):  # the common case: a view
            frame = prompt[self._offset : end]
            self._offset = end
            if end == len(prompt):
                self._index, self._offset = self._index + 1, 0
            self.position += self.frame_samples
            return frame
        out = np.zeros(self.frame_samples, dtype=np.int16)
        filled = 0
        while filled < self.frame_samples and not self.finished:
            prompt = self._prompts[self._index]
            take = min(self.frame_samples - filled, len(prompt) - self._offset)
            out[filled : filled + take] = prompt[self._offset : self._offset + take]
            filled += take
            self._offset += take
            if self._offset == len(prompt):
                self._index, self._offset = self._index + 1, 0
        self.position += filled
        return out


class LoopSource:
    """Loops a shared track forever from its own position (music on hold, cadenced tones)."""

    def __init__(self, loop: _Loop, *, start: int = 0) -> None:
        self._loop = loop
        self.position = start % loop.length

    def read_frame(self) -> Int16Array:
        start = self.position
        self.position = (start + self._loop.frame_samples) % self._loop.length
        return self._loop.extended[start : start + self._loop.frame_samples]

    def read_payload(self, codec: str) -> bytes:
        """The next frame already G.711-encoded (``"PCMU"`` or ``"PCMA"``).

        The loop is encoded once per law and shared by every listener, so a held leg costs a
        160-byte slice per tick instead of an encode.
        """
        start = self.position
        self.position = (start + self._loop.frame_samples) % self._loop.length
        return self._loop.encoded(codec)[start : start + self._loop.frame_samples]


class _Loop:
    """A track plus its first frame again at the end: every window of the loop is a view."""

    __slots__ = ("_encoded", "extended", "frame_samples", "length")

    def __init__(self, samples: Int16Array, frame_samples: int) -> None:
        if not len(samples):
            raise ValueError("cannot loop empty audio")
        self.length = len(samples)
        self.frame_samples = frame_samples
        repeats = -(-(self.length + frame_samples) // self.length)
        self.extended = frozen(np.tile(samples, repeats)[: self.length + frame_samples])
        self._encoded: dict[str, bytes] = {}

    def encoded(self, codec: str) -> bytes:
        payload = self._encoded.get(codec)
        if payload is None:
            encode = _ENCODERS.get(codec)
            if encode is None:
                raise ValueError(f"no G.711 encoder for {codec!r} (PCMU or PCMA)")
            payload = self._encoded[codec] = encode(self.extended)
        return payload


class MusicOnHold:
    """One music class: its tracks joined into one loop; each held leg gets its own source."""

    def __init__(self, tracks: Iterable[npt.ArrayLike], *, frame_samples: int = FRAME_SAMPLES):
        joined = np.concatenate([frozen(t) for t in tracks] or [np.zeros(0, np.int16)])
        self._loop = _Loop(joined, frame_samples)

    @property
    def length(self) -> int:
        return self._loop.length

    def source(self, *, start: int = 0) -> LoopSource:
        """A new listener, starting ``start`` samples into the music."""
        return LoopSource(self._loop, start=start)


class SilenceSource:
    """Silence: ``frames`` frames, or forever when None."""

    def __init__(self, frames: int | None = None) -> None:
        self.remaining = frames

    def read_frame(self) -> Int16Array | None:
        if self.remaining is not None:
            if self.remaining <= 0:
                return None
            self.remaining -= 1
        return _SILENCE


class SequenceSource:
    """Sources played one after another (e.g. a beep, then a prompt)."""

    def __init__(self, sources: Sequence[FrameSource]) -> None:
        self._sources = list(sources)
        self._index = 0

    def read_frame(self) -> Int16Array | None:
        while self._index < len(self._sources):
            frame = self._sources[self._index].read_frame()
            if frame is not None:
                return frame
            self._index += 1
        return None


class ToneFrames:
    """A :class:`~tamas.media.tones.ToneSource` behind the ``read_frame`` interface."""

    def __init__(self, tone: Tone, *, frame_samples: int = FRAME_SAMPLES) -> None:
        self._tone = ToneSource(tone, frame_samples=frame_samples)

    def read_frame(self) -> Int16Array | None:
        return self._tone.read()


@lru_cache(maxsize=64)
def _tone_period(tone: Tone, frame_samples: int) -> _Loop | Int16Array | None:
    """A repeating tone's period as a loop, a one-shot tone whole, or None (synthesise)."""
    period = sum(round(d * SAMPLE_RATE) for d in tone.cadence) if tone.cadence else SAMPLE_RATE
    if period > _MAX_TONE_PERIOD:
        return None
    rendered = ToneSource(tone, frame_samples=period).read()
    assert rendered is not None  # the first read of a tone always has a frame
    if tone.cadence and not tone.repeat:
        return frozen(rendered)
    cycles = [f * period / SAMPLE_RATE for f in tone.frequencies]
    if any(abs(c - round(c)) > 1e-9 for c in cycles):
        return None
    return _Loop(frozen(rendered), frame_samples)


def tone_source(tone: Tone, *, frame_samples: int = FRAME_SAMPLES) -> FrameSource:
    """The cheapest source for ``tone``: a precomputed loop or prompt when exact, else synthesis.

    Every source starts at the beginning of the cadence (a ring starts with its "on" part).
    """
    rendered = _tone_period(tone, frame_samples)
    if isinstance(rendered, _Loop):
        return LoopSource(rendered)
    if rendered is not None:
        return PromptSource(rendered, frame_samples=frame_samples)
    return ToneFrames(tone, frame_samples=frame_samples)


class PromptCache:
    """Decoded prompts by ``(path, mtime_ns)``, least recently used first out.

    ``max_samples`` bounds the memory (two bytes a sample; the default, one hour of 8 kHz
    audio, is about 58 MB). A prompt larger than the whole bound is returned but not kept.
    """

    def __init__(self, *, rate: int = SAMPLE_RATE, max_samples: int = 3600 * SAMPLE_RATE) -> None:
        self.rate = rate
        self.max_samples = max_samples
        self._entries: OrderedDict[tuple[str, int], Int16Array] = OrderedDict()
        self._latest: dict[str, int] = {}  # path -> mtime of its cached version
        self._samples = 0
        self.hits = 0
        self.loads = 0

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, path: str, mtime_ns: int) -> Int16Array | None:
        key = (path, mtime_ns)
        samples = self._entries.get(key)
        if samples is not None:
            self._entries.move_to_end(key)
            self.hits += 1
        return samples

    def put(self, path: str, mtime_ns: int, data: bytes) -> Int16Array:
        """Decode a WAV file's bytes (resampled to ``rate``) and keep it."""
        return self.store(path, mtime_ns, decode_wav(data, rate=self.rate, name=path))

    def store(self, path: str, mtime_ns: int, samples: npt.ArrayLike) -> Int16Array:
        """Keep already decoded samples (at ``rate``), e.g. decoded off the event loop."""
        prompt = frozen(samples)
        self.loads += 1
        old = self._latest.pop(path, None)
        if old is not None:
            self._samples -= len(self._entries.pop((path, old)))
        if len(prompt) <= self.max_samples:
            self._entries[(path, mtime_ns)] = prompt
            self._latest[path] = mtime_ns
            self._samples += len(prompt)
            while self._samples > self.max_samples:
                (old_path, _), evicted = self._entries.popitem(last=False)
                del self._latest[old_path]
                self._samples -= len(evicted)
        return prompt

    def get(self, path: str, mtime_ns: int, read: Callable[[str], bytes]) -> Int16Array:
        """The prompt at ``path`` as of ``mtime_ns``, reading it with ``read`` if not cached."""
        cached = self.lookup(path, mtime_ns)
        if cached is not None:
            return cached
        return self.put(path, mtime_ns, read(path))
