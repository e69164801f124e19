"""In-band DTMF detection (Goertzel), for trunks that send digits as tones in the audio.

Theory of operation
-------------------
The audio is cut into 20 ms blocks (160 samples at 8 kHz; a partial block waits for the next
`feed`). For each block the detector measures the power at the 8 DTMF frequencies and at their
second harmonics with Goertzel's single-bin DFT. The recurrence
``s[n] = x[n] + 2 cos(w) s[n-1] - s[n-2]`` (see `goertzel_power`) gives the same number as
``|sum x[n] e^(-jwn)|^2``; a block evaluates all its bins at once as two matrix products.
Each frequency is probed at its nominal value and 1% either side, keeping the strongest, so
tones up to 1.5% off nominal (Q.24) lose under 0.4 dB.
Powers are scaled so a sine of amplitude A reads A**2 / 2, the same unit as the block's
mean power.

A block is a candidate digit when the strongest row tone and the strongest column tone
(Q.23 frequencies) pass every check:

1. level: each tone at least `min_level_dbm0` (µ-law dBm0 reference, see `tones`);
2. twist: row over column at most `normal_twist_db` (8 dB), column over row at most
   `reverse_twist_db` (4 dB);
3. relative peak: each tone `relative_peak_db` over every other frequency of its group;
4. tone share: the two tones carry at least `min_tone_share` of the block's power, which
   rejects noise, speech and music whose energy is spread out;
5. second harmonic: a real DTMF tone has little power at twice its frequency, speech has
   much (`max_harmonic_db` below the fundamental);
6. steadiness: the block's two halves differ in power by at most `max_half_delta_db`, so a
   block only partly covered by a tone does not count.

A digit starts after `min_blocks` (2) consecutive candidate blocks of that digit, so tones of
40 ms may be heard, tones of 60 ms always are, and tones of 30 ms never. It ends after
`release_blocks` (2) blocks without it: a pause of 40 ms separates two presses of one key,
while a single lost block inside a press does not split it. Times are block edges derived
from the `t` the caller passes (media time of the first sample): accurate to one block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from tamas.media.tones import DTMF_COLUMNS, DTMF_ROWS, dbm0_to_peak

__all__ = ["DigitEvent", "DtmfDetector", "goertzel_power"]

FloatArray = npt.NDArray[np.float64]

_KEYPAD: Final = ("123A", "456B", "789C", "*0#D")
_PROBE_OFFSETS: Final = (-0.01, 0.0, 0.01)
_EIGHT: Final = np.arange(8)


def _db(ratio_db: float) -> float:
    return float(10.0 ** (ratio_db / 10.0))


def goertzel_power(samples: npt.ArrayLike, frequency: float, sample_rate: int) -> float:
    """Power at `frequency` by the Goertzel recurrence, as A**2 / 2 for a sine of amplitude A.

    The reference the vectorised detector is tested against; slow (pure Python per sample).
    """
    x = np.asarray(samples, dtype=np.float64)
    coeff = 2.0 * math.cos(2.0 * math.pi * frequency / sample_rate)
    s1 = s2 = 0.0
    for value in x.tolist():
        s1, s2 = value + coeff * s1 - s2, s1
    magnitude_sq = s1 * s1 + s2 * s2 - coeff * s1 * s2
    return 2.0 * magnitude_sq / (len(x) ** 2) if len(x) else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DigitEvent:
    """A DTMF key heard in the audio."""

    digit: str
    """One of 0-9 * # A-D."""
    start: float
    """Media time (seconds, the caller's `t` scale) at which the tone began."""
    end: float | None
    """Media time at which it stopped; None on the early report of a key still held."""


class DtmfDetector:
    """Feed audio with its media time; get each pressed key back once (see module doc)."""

    def __init__(
        self,
        sample_rate: int = 8000,
        *,
        early: bool = False,
        min_level_dbm0: float = -30.0,
        normal_twist_db: float = 8.0,
        reverse_twist_db: float = 4.0,
        relative_peak_db: float = 8.0,
        min_tone_share: float = 0.75,
        max_harmonic_db: float = -6.0,
        max_half_delta_db: float = 2.0,
        min_blocks: int = 2,
        release_blocks: int = 2,
    ) -> None:
        """`early`: also report a key as soon as it is confirmed (with end=None); its final
        event, with the end time, still follows on release."""
        if min_blocks < 1 or release_blocks < 1:
            raise ValueError("min_blocks and release_blocks must be at least 1")
        self.sample_rate = sample_rate
        self.block_size = sample_rate // 50
        self.early = early
        self._min_power = dbm0_to_peak(min_level_dbm0) ** 2 / 2.0
        self._normal_twist = _db(normal_twist_db)
        self._reverse_twist = _db(reverse_twist_db)
        self._relative_peak = _db(relative_peak_db)
        self._min_tone_share = min_tone_share
        self._max_harmonic = _db(max_harmonic_db)
        self._max_half_delta = _db(max_half_delta_db)
        self._min_blocks = min_blocks
        self._release_blocks = release_blocks

        # Q.24 asks for tones within 1.5% of nominal to be accepted; one 20 ms bin is too narrow
        # for that (a 1.5% error at 1633 Hz costs 3.7 dB), so each frequency is probed at
        # -1%, 0 and +1% and the strongest probe counts (at most 0.4 dB lost inside 1.5%).
        nominal = np.array(DTMF_ROWS + DTMF_COLUMNS, dtype=np.float64)
        probes = np.outer(1.0 + np.array(_PROBE_OFFSETS), nominal)  # (3, 8)
        freqs = np.concatenate([probes, 2.0 * probes], axis=1).ravel()  # per probe: 8 + 8 harm.
        omega = 2.0 * np.pi * freqs / sample_rate
        n = np.arange(self.block_size, dtype=np.float64)
        self._cos: FloatArray = np.cos(np.outer(omega, n))
        self._sin: FloatArray = np.sin(np.outer(omega, n))
        self._scale = 2.0 / self.block_size**2

        self._pending: FloatArray = np.zeros(0, dtype=np.float64)
        self._pending_t = 0.0
        # Run of consecutive identical candidates.
        self._run_digit: str | None = None
        self._run_start = 0.0
        self._run_length = 0
        # The key currently held, if any.
        self._active: str | None = None
        self._active_start = 0.0
        self._active_last_end = 0.0
        self._misses = 0

    def feed(self, samples: npt.ArrayLike, t: float) -> list[DigitEvent]:
        """Process `samples` (linear PCM) whose first sample is at media time `t` seconds."""
        x = np.asarray(samples, dtype=np.float64).ravel()
        block_time = t - len(self._pending) / self.sample_rate
        if len(self._pending):
            x = np.concatenate([self._pending, x])
        events: list[DigitEvent] = []
        n = self.block_size
        whole = len(x) // n
        for i in range(whole):
            start = block_time + i * n / self.sample_rate
            self._step(self._classify(x[i * n : (i + 1) * n]), start, events)
        self._pending = x[whole * n :].copy()
        return events

    def flush(self) -> list[DigitEvent]:
        """End of the stream: report a key still held (ending at its last block), drop the rest."""
        self._pending = np.zeros(0, dtype=np.float64)
        self._run_digit, self._run_length = None, 0
        events: list[DigitEvent] = []
        if self._active is not None:
            events.append(self._release())
        return events

    def _classify(self, block: FloatArray) -> str | None:
        re = self._cos @ block
        im = self._sin @ block
        power = ((re * re + im * im) * self._scale).reshape(len(_PROBE_OFFSETS), 16)
        best = np.argmax(power[:, :8], axis=0)  # the strongest probe of each frequency
        fundamentals = power[best, _EIGHT]
        harmonics = power[best, _EIGHT + 8]
        rows, cols = fundamentals[:4], fundamentals[4:]
        r = int(np.argmax(rows))
        c = int(np.argmax(cols))
        p_row, p_col = float(rows[r]), float(cols[c])

        if p_row < self._min_power or p_col < self._min_power:
            return None
        if p_row > p_col * self._normal_twist or p_col > p_row * self._reverse_twist:
            return None
        others_row = np.delete(rows, r)
        others_col = np.delete(cols, c)
        if np.any(others_row * self._relative_peak > p_row):
            return None
        if np.any(others_col * self._relative_peak > p_col):
            return None
        mean_power = float(block @ block) / len(block)
        if p_row + p_col < self._min_tone_share * mean_power:
            return None
        if harmonics[r] > p_row * self._max_harmonic:
            return None
        if harmonics[4 + c] > p_col * self._max_harmonic:
            return None
        half = len(block) // 2
        first = float(block[:half] @ block[:half])
        second = float(block[half:] @ block[half:])
        if first > second * self._max_half_delta or second > first * self._max_half_delta:
            return None
        return _KEYPAD[r][c]

    def _step(self, candidate: str | None, start: float, events: list[DigitEvent]) -> None:
        end = start + self.block_size / self.sample_rate
        if candidate is not None and candidate == self._run_digit:
            self._run_length += 1
        else:
            self._run_digit, self._run_start = candidate, start
            self._run_length = 0 if candidate is None else 1

        if self._active is not None:
            if candidate == self._active:
                self._misses = 0
                self._active_last_end = end
                return
            self._misses += 1
            if self._misses < self._release_blocks:
                return
            events.append(self._release())

        if self._run_digit is not None and self._run_length >= self._min_blocks:
            self._active = self._run_digit
            self._active_start = self._run_start
            self._active_last_end = end
            self._misses = 0
            if self.early:
                events.append(DigitEvent(digit=self._active, start=self._run_start, end=None))

    def _release(self) -> DigitEvent:
        assert self._active is not None
        event = DigitEvent(digit=self._active, start=self._active_start, end=self._active_last_end)
        self._active = None
        self._misses = 0
        return event
