"""Call-progress and DTMF tones as 16-bit linear PCM (8 kHz unless told otherwise).

Levels are in dBm0 per frequency component. The reference is µ-law's (G.711): a sine whose
peak reaches the µ-law overload point (8159 on the 14-bit scale, 32636 on the 16-bit one) is
+3.17 dBm0, so a 0 dBm0 sine has a peak of 32636 / 10**(3.17/20) ~= 22657 (RMS ~= 16021).
A-law's reference (+3.14 dBm0 at 4096 on 13 bits) differs by under 0.1 dB.

`ToneSource` plays a `Tone` (frequencies, level, on/off cadence) as consecutive frames. Its
oscillators run on the sample count, not per burst, so the phase is continuous across frames
and the cadence is exact to the sample however the frames fall.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "BEEP",
    "BUSY",
    "DTMF_COLUMNS",
    "DTMF_FREQUENCIES",
    "DTMF_ROWS",
    "RINGBACK_ITU",
    "RINGBACK_NA",
    "SAMPLE_RATE",
    "Tone",
    "ToneSource",
    "beep",
    "busy",
    "dbm0_to_peak",
    "dtmf",
    "dual_tone",
    "ringback",
    "sine",
    "tone_samples",
]

Int16Array = npt.NDArray[np.int16]

SAMPLE_RATE: Final = 8000
FRAME_MS: Final = 20
ULAW_OVERLOAD_DBM0: Final = 3.17
ULAW_OVERLOAD_PEAK: Final = 8159 * 4

DTMF_ROWS: Final = (697.0, 770.0, 852.0, 941.0)
DTMF_COLUMNS: Final = (1209.0, 1336.0, 1477.0, 1633.0)
_KEYPAD: Final = ("123A", "456B", "789C", "*0#D")
DTMF_FREQUENCIES: Final[dict[str, tuple[float, float]]] = {
    key: (DTMF_ROWS[r], DTMF_COLUMNS[c])
    for r, keys in enumerate(_KEYPAD)
    for c, key in enumerate(keys)
}


def dbm0_to_peak(level_dbm0: float) -> float:
    """Peak amplitude (16-bit scale) of a sine at `level_dbm0` (µ-law reference)."""
    return float(ULAW_OVERLOAD_PEAK * 10.0 ** ((level_dbm0 - ULAW_OVERLOAD_DBM0) / 20.0))


def _synthesise(
    frequencies: Sequence[float],
    level_dbm0: float,
    first_sample: int,
    count: int,
    sample_rate: int,
) -> npt.NDArray[np.float64]:
    n = np.arange(first_sample, first_sample + count, dtype=np.float64)
    out = np.zeros(count, dtype=np.float64)
    peak = dbm0_to_peak(level_dbm0)
    for freq in frequencies:
        # Phase from the absolute sample index (not an accumulator), so frames join exactly;
        # float64 keeps it within 1e-6 cycles for years of samples.
        cycles = np.mod(n * (freq / sample_rate), 1.0)
        out += peak * np.sin(2.0 * math.pi * cycles)
    return out


def _to_int16(signal: npt.NDArray[np.float64]) -> Int16Array:
    return np.clip(np.rint(signal), -32768, 32767).astype(np.int16)


def tone_samples(
    frequencies: Sequence[float],
    duration: float,
    level_dbm0: float = -10.0,
    *,
    sample_rate: int = SAMPLE_RATE,
) -> Int16Array:
    """`duration` seconds of the sum of sines at `frequencies`, each at `level_dbm0`."""
    count = round(duration * sample_rate)
    if count < 0:
        raise ValueError("duration must not be negative")
    return _to_int16(_synthesise(frequencies, level_dbm0, 0, count, sample_rate))


def sine(
    frequency: float, duration: float, level_dbm0: float = -10.0, *, sample_rate: int = SAMPLE_RATE
) -> Int16Array:
    return tone_samples((frequency,), duration, level_dbm0, sample_rate=sample_rate)


def dual_tone(
    low: float,
    high: float,
    duration: float,
    level_dbm0: float = -10.0,
    *,
    sample_rate: int = SAMPLE_RATE,
) -> Int16Array:
    return tone_samples((low, high), duration, level_dbm0, sample_rate=sample_rate)


def dtmf(
    digit: str,
    duration: float = 0.1,
    level_dbm0: float = -10.0,
    *,
    twist_db: float = 0.0,
    sample_rate: int = SAMPLE_RATE,
) -> Int16Array:
    """A DTMF key (0-9 * # A-D). `twist_db` > 0 raises the column (high) tone over the row."""
    try:
        low, high = DTMF_FREQUENCIES[digit.upper()]
    except KeyError:
        raise ValueError(f"not a DTMF digit: {digit!r}") from None
    count = round(duration * sample_rate)
    signal = _synthesise((low,), level_dbm0, 0, count, sample_rate) + _synthesise(
        (high,), level_dbm0 + twist_db, 0, count, sample_rate
    )
    return _to_int16(signal)


@dataclass(frozen=True, slots=True, kw_only=True)
class Tone:
    """A tone plan: what sounds, how loud, and when."""

    frequencies: tuple[float, ...]
    """Components, summed; each at `level_dbm0`."""
    level_dbm0: float
    cadence: tuple[float, ...] = ()
    """Alternating on/off durations in seconds, starting with "on"; empty means continuous."""
    repeat: bool = True
    """Loop the cadence; when False the tone ends after one pass."""

    def __post_init__(self) -> None:
        if any(d < 0 for d in self.cadence):
            raise ValueError("cadence durations must not be negative")
        if self.cadence and sum(self.cadence) <= 0:
            raise ValueError("cadence must have a positive total duration")


def ringback(
    frequencies: tuple[float, ...] = (425.0,),
    on: float = 1.0,
    off: float = 4.0,
    level_dbm0: float = -13.0,
) -> Tone:
    """Ringing tone; the default is the ITU-T E.180 / European 425 Hz 1 s on, 4 s off."""
    return Tone(frequencies=frequencies, level_dbm0=level_dbm0, cadence=(on, off))


def busy(
    frequencies: tuple[float, ...] = (425.0,),
    on: float = 0.5,
    off: float = 0.5,
    level_dbm0: float = -13.0,
) -> Tone:
    """Busy tone; the default is the ITU-T E.180 / European 425 Hz 0.5 s on, 0.5 s off."""
    return Tone(frequencies=frequencies, level_dbm0=level_dbm0, cadence=(on, off))


def beep(frequency: float = 1000.0, duration: float = 0.25, level_dbm0: float = -13.0) -> Tone:
    """A single beep (e.g. "recording starts"), played once."""
    return Tone(frequencies=(frequency,), level_dbm0=level_dbm0, cadence=(duration,), repeat=False)


RINGBACK_ITU: Final = ringback()
RINGBACK_NA: Final = ringback((440.0, 480.0), on=2.0, off=4.0, level_dbm0=-19.0)
BUSY: Final = busy()
BEEP: Final = beep()


class ToneSource:
    """Consecutive fixed-size frames of a `Tone`, phase-continuous, gated by its cadence.

    `read()` returns the next frame, or None once a non-repeating tone has finished (the
    last frame is padded with silence). Iterating yields frames until then.
    """

    def __init__(
        self,
        tone: Tone,
        *,
        sample_rate: int = SAMPLE_RATE,
        frame_samples: int | None = None,
    ) -> None:
        self.tone = tone
        self.sample_rate = sample_rate
        self.frame_samples = (
            frame_samples if frame_samples is not None else sample_rate * FRAME_MS // 1000
        )
        if self.frame_samples <= 0:
            raise ValueError("frame_samples must be positive")
        # Cadence boundaries in samples: [0, on_end, off_end, on_end, ...].
        edges = [0]
        for duration in tone.cadence:
            edges.append(edges[-1] + round(duration * sample_rate))
        self._edges = np.array(edges, dtype=np.int64)
        self._period = int(self._edges[-1])
        self._position = 0

    @property
    def position(self) -> int:
        """Samples produced so far."""
        return self._position

    @property
    def finished(self) -> bool:
        return not self.tone.repeat and bool(self.tone.cadence) and (self._position >= self._period)

    def _gate(self, first: int, count: int) -> npt.NDArray[np.bool_]:
        if not self.tone.cadence:
            return np.ones(count, dtype=np.bool_)
        n = np.arange(first, first + count, dtype=np.int64)
        if self.tone.repeat:
            n = n % self._period
        # Segment index: even = on, odd = off; past the end of one pass is silence.
        segment = np.searchsorted(self._edges, n, side="right") - 1
        gate: npt.NDArray[np.bool_] = (segment % 2 == 0) & (n < self._period)
        return gate

    def read(self) -> Int16Array | None:
        if self.finished:
            return None
        first, count = self._position, self.frame_samples
        self._position += count
        signal = _synthesise(
            self.tone.frequencies, self.tone.level_dbm0, first, count, self.sample_rate
        )
        signal[~self._gate(first, count)] = 0.0
        return _to_int16(signal)

    def __iter__(self) -> Iterator[Int16Array]:
        while (frame := self.read()) is not None:
            yield frame
