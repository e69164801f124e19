"""Rational sample-rate conversion with an anti-alias low-pass (polyphase, windowed sinc).

Theory of operation
-------------------
Converting from rate ``fin`` to ``fout`` is upsampling by ``L`` and downsampling by ``M`` with
``L / M = fout / fin`` in lowest terms: insert ``L - 1`` zeros between input samples, low-pass
at the lower of the two Nyquist frequencies, keep every ``M``-th sample. The zero-stuffed
signal is never built: output ``k`` sits at position ``m = k * M`` of the upsampled stream,
and only the taps ``h[p + j * L]`` with ``p = m mod L`` meet non-zero samples, namely
``x[m // L - j]``. So the filter is stored as ``L`` *phases* of ``T`` taps, and each output is
one dot product of ``T`` input samples with one phase (the polyphase form).

The low-pass is a Kaiser-windowed sinc (Kaiser's design formulas; ``beta`` for ~80 dB of
stop-band attenuation). Its cut-off is ``0.475 * min(fin, fout)`` with a transition band of
``0.05 * min(fin, fout)``: going to 8 kHz the pass band reaches 3.6 kHz (the telephone band
ends at 3.4 kHz) and everything from 4 kHz up is at least ~80 dB down. The taps are scaled so
that each phase sums to one: a constant stays constant.

The number of phases is bounded (:data:`_MAX_PHASES`): every common rate converts exactly
(11,025 Hz to 16 kHz, the largest, needs 640), and an odd rate such as 44,099 Hz uses the
nearest ratio within the bound (an error of a few parts per million in speed, inaudible)
rather than a filter of tens of millions of taps.

Two ways to run it:

* :func:`resample` converts a whole signal (a prompt, loaded once). The filter is centred, so
  the output is aligned with the input (no delay) and has ``ceil(n * L / M)`` samples.
* :class:`StreamResampler` converts a stream frame by frame, for a leg at another rate. It is
  causal: it keeps the last ``T - 1`` input samples between calls and delays the signal by
  half the filter (a few milliseconds); a 20 ms frame in gives a 20 ms frame out.

Work per output sample is ``T`` multiply-adds in numpy, one strided correlation per phase
(see :meth:`PolyphaseFilter.run`), with no Python loop over samples.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["PolyphaseFilter", "StreamResampler", "design", "resample"]

Int16Array = npt.NDArray[np.int16]
FloatArray = npt.NDArray[np.float64]

_STOPBAND_DB: Final = 80.0
_CUTOFF: Final = 0.475  # of the lower rate
_TRANSITION: Final = 0.05  # of the lower rate
_CHUNK: Final = 1 << 13  # outputs per gathered block (bounds its memory)
_CORRELATE_MAX_DOWN: Final = 4
_MAX_PHASES: Final = 1024  # 11025 -> 16000 needs 640


class PolyphaseFilter:
    """The low-pass for one ``fin -> fout`` conversion, split into ``up`` phases.

    ``phases[p]`` holds taps ``h[p], h[p + L], ...`` reversed, so that the dot product with
    the input window ``x[b - T + 1 : b + 1]`` (oldest first) is output at phase ``p``.
    """

    __slots__ = ("delay", "down", "phases", "taps", "up")

    def __init__(self, in_rate: int, out_rate: int) -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError(f"sample rates must be positive, not {in_rate} -> {out_rate}")
        ratio = Fraction(in_rate, out_rate)
        if ratio.denominator > _MAX_PHASES:  # an odd rate: the nearest ratio with fewer phases
            ratio = ratio.limit_denominator(_MAX_PHASES)
        self.up = ratio.denominator
        self.down = ratio.numerator
        high_rate = in_rate * self.up  # rate of the (virtual) upsampled stream
        low = min(in_rate, out_rate)
        cutoff = _CUTOFF * low / high_rate  # cycles per upsampled sample
        width = _TRANSITION * low / high_rate
        # Kaiser: length for the attenuation and transition width, beta for the attenuation.
        length = math.ceil((_STOPBAND_DB - 7.95) / (14.36 * width))
        half = max(1, math.ceil(length / (2 * self.up)))  # input samples each side of centre
        centre = half * self.up
        n = np.arange(2 * centre + 1, dtype=np.float64) - centre
        beta = 0.1102 * (_STOPBAND_DB - 8.7)
        h = 2 * cutoff * np.sinc(2 * cutoff * n) * np.kaiser(len(n), beta)
        self.taps = 2 * half + 1
        padded = np.zeros(self.up * self.taps, dtype=np.float64)
        padded[: len(h)] = h
        phases = padded.reshape(self.taps, self.up).T  # phases[p, j] = h[p + j * up]
        phases = phases / phases.sum(axis=1, keepdims=True)  # unity DC gain per phase
        self.phases: FloatArray = np.ascontiguousarray(phases[:, ::-1])
        self.phases.setflags(write=False)
        #: Filter centre in upsampled samples: `resample` shifts by it, the stream delays by it.
        self.delay = centre

    def run(self, buffer: FloatArray, position: int, count: int, offset: int) -> FloatArray:
        """``count`` outputs, the first at upsampled ``position``, the next ``down`` further on.

        The window for an output at base ``b = position // up`` starts at
        ``buffer[b - taps + 1 + offset]``. Outputs ``r, r + up, r + 2 * up, ...`` share one
        phase and their windows are ``down`` samples apart, so each phase class is one strided
        correlation: ``np.correlate`` over the span when ``down`` is small (it computes
        ``down`` times what is kept, in fast C), a strided window view times the taps otherwise.
        """
        out = np.empty(count, dtype=np.float64)
        windows = sliding_window_view(buffer, self.taps)
        for r in range(min(self.up, count)):
            n = len(range(r, count, self.up))
            pos = position + r * self.down
            start = pos // self.up - self.taps + 1 + offset
            taps = self.phases[pos % self.up]
            if self.down <= _CORRELATE_MAX_DOWN:
                span = buffer[start : start + (n - 1) * self.down + self.taps]
                out[r :: self.up] = np.correlate(span, taps, "valid")[:: self.down]
            else:
                for first in range(0, n, _CHUNK):
                    m = min(_CHUNK, n - first)
                    s0 = start + first * self.down
                    block = windows[s0 : s0 + (m - 1) * self.down + 1 : self.down]
                    out[r + first * self.up :: self.up][:m] = block @ taps
        return out


@lru_cache(maxsize=8)
def design(in_rate: int, out_rate: int) -> PolyphaseFilter:
    """The (cached, shared, read-only) filter for one conversion."""
    return PolyphaseFilter(in_rate, out_rate)


def _to_int16(signal: FloatArray) -> Int16Array:
    return np.clip(np.rint(signal), -32768, 32767).astype(np.int16)


def resample(samples: npt.ArrayLike, in_rate: int, out_rate: int) -> Int16Array:
    """Convert a whole mono signal (int16 scale, any real dtype) to ``out_rate`` as int16.

    The output is time-aligned with the input and has ``ceil(len * out / in)`` samples.
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"resample takes a mono signal, not shape {x.shape}")
    if in_rate == out_rate:
        return _to_int16(x)
    f = design(in_rate, out_rate)
    n_out = -(-len(x) * f.up // f.down)
    # Output k is at upsampled position k * M + delay and reads x[b - T + 1 .. b], b = pos // L:
    # pad T zeros on the left and enough on the right for the last window.
    last_base = ((n_out - 1) * f.down + f.delay) // f.up if n_out else 0
    padded = np.zeros(f.taps + max(len(x), last_base + 1) + 1, dtype=np.float64)
    padded[f.taps : f.taps + len(x)] = x
    out = f.run(padded, f.delay, n_out, f.taps)
    return _to_int16(out)


class StreamResampler:
    """Frame-by-frame conversion of one stream, causal, phase-continuous across frames.

    Each call to :meth:`process` returns every output sample whose input is complete: for
    input frames of ``n`` samples with ``n * L / M`` whole, exactly that many each time.
    """

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._f = design(in_rate, out_rate)
        self._history = np.zeros(self._f.taps - 1, dtype=np.float64)
        self._k = 0  # next output index, kept below L by rebasing
        self._consumed = 0  # input samples before `_history`'s end, rebased with `_k`

    def process(self, frame: npt.ArrayLike) -> Int16Array:
        x = np.asarray(frame, dtype=np.float64)
        if self.in_rate == self.out_rate:
            return _to_int16(x)
        f = self._f
        buffer = np.concatenate((self._history, x))
        available = self._consumed + len(x)  # input indices [0, available) are known
        # Outputs k with (k * M) // L < available.
        end = -(-available * f.up // f.down)
        # Buffer index 0 is input index `_consumed - (T - 1)`: base b's window starts at
        # b - _consumed.
        out = f.run(buffer, self._k * f.down, end - self._k, f.taps - 1 - self._consumed)
        self._history = buffer[len(buffer) - (f.taps - 1) :].copy()
        self._k = end
        self._consumed = available
        cycles = self._k // f.up
        self._k -= cycles * f.up
        self._consumed -= cycles * f.down
        return _to_int16(out)
