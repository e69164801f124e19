"""Resampling: frequency and level kept in the pass band, aliases removed, streaming = batch."""

from __future__ import annotations

import numpy as np
import pytest

from tamas.media.resample import StreamResampler, design, resample


def tone(freq: float, rate: int, seconds: float = 1.0, amplitude: float = 10000.0) -> np.ndarray:
    n = np.arange(round(rate * seconds))
    return amplitude * np.sin(2 * np.pi * freq * n / rate)


def rms(x: np.ndarray, edge: int = 400) -> float:
    body = x.astype(np.float64)[edge:-edge]
    return float(np.sqrt(np.mean(body**2)))


def peak_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64) * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


@pytest.mark.parametrize("in_rate", [8000, 11025, 16000, 22050, 32000, 44100, 48000])
def test_1khz_keeps_frequency_and_level_at_8k(in_rate: int) -> None:
    y = resample(tone(1000, in_rate), in_rate, 8000)
    assert y.dtype == np.int16
    assert len(y) == 8000
    assert peak_hz(y, 8000) == pytest.approx(1000, abs=1)
    assert 20 * np.log10(rms(y) / (10000 / np.sqrt(2))) == pytest.approx(0.0, abs=0.05)


@pytest.mark.parametrize(("in_rate", "out_rate"), [(8000, 16000), (44100, 16000), (48000, 16000)])
def test_1khz_at_16k(in_rate: int, out_rate: int) -> None:
    y = resample(tone(1000, in_rate), in_rate, out_rate)
    assert len(y) == out_rate
    assert peak_hz(y, out_rate) == pytest.approx(1000, abs=1)
    assert 20 * np.log10(rms(y, 800) / (10000 / np.sqrt(2))) == pytest.approx(0.0, abs=0.05)


def test_6khz_at_16k_is_removed_going_to_8k() -> None:
    x = tone(6000, 16000, amplitude=30000)
    y = resample(x, 16000, 8000)
    # Without the low-pass, 6 kHz would alias to 2 kHz at full level.
    attenuation_db = 20 * np.log10(rms(x) / max(rms(y), 1e-9))
    assert attenuation_db > 40


def test_stopband_and_passband_edges() -> None:
    level = 10000 / np.sqrt(2)
    # 3.4 kHz (top of the telephone band) passes; 4.5 kHz (would alias to 3.5 kHz) does not.
    assert rms(resample(tone(3400, 16000), 16000, 8000)) / level == pytest.approx(1, abs=0.01)
    assert rms(resample(tone(4500, 44100, amplitude=30000), 44100, 8000)) < 30000 * 0.01


def test_constant_stays_constant() -> None:
    y = resample(np.full(4410, 1234.0), 44100, 8000)
    assert np.all(y[100:-100] == 1234)


def test_output_is_aligned_with_input() -> None:
    # An impulse in the middle lands at the same time after conversion.
    x = np.zeros(16000)
    x[8000] = 30000
    y = resample(x, 16000, 8000)
    assert int(np.argmax(y)) == 4000


def test_int16_saturation_and_lengths() -> None:
    x = np.full(100, 40000.0)
    assert resample(x, 8000, 8000).max() == 32767
    assert len(resample(np.zeros(101), 16000, 8000)) == 51
    assert len(resample(np.zeros(0), 44100, 8000)) == 0
    with pytest.raises(ValueError):
        resample(np.zeros((10, 2)), 16000, 8000)
    with pytest.raises(ValueError):
        design(0, 8000)


@pytest.mark.parametrize(("in_rate", "out_rate"), [(16000, 8000), (8000, 16000), (48000, 8000)])
def test_stream_equals_batch_delayed(in_rate: int, out_rate: int) -> None:
    f = design(in_rate, out_rate)
    x = tone(1000, in_rate, 0.5) + tone(2500, in_rate, 0.5, 5000)
    frame = in_rate // 50
    stream = StreamResampler(in_rate, out_rate)
    outs = [stream.process(x[i : i + frame]) for i in range(0, len(x), frame)]
    # A 20 ms frame in gives a 20 ms frame out, every time.
    assert {len(o) for o in outs} == {out_rate // 50}
    streamed = np.concatenate(outs)
    # The stream is the batch conversion of the input delayed by half the filter.
    half = f.delay // f.up
    batch = resample(np.concatenate((np.zeros(half), x)), in_rate, out_rate)
    assert np.max(np.abs(streamed.astype(int) - batch[: len(streamed)].astype(int))) <= 1


def test_stream_odd_chunks() -> None:
    x = tone(1000, 16000, 0.3)
    whole = StreamResampler(16000, 8000).process(x)
    s = StreamResampler(16000, 8000)
    pieces = [s.process(x[a:b]) for a, b in [(0, 1), (1, 250), (250, 251), (251, 4800)]]
    assert np.array_equal(np.concatenate(pieces), whole)


def test_common_rates_are_exact_and_odd_rates_bounded() -> None:
    f = design(11025, 16000)
    assert (f.up, f.down) == (640, 441)  # exact
    odd = design(44099, 8000)
    assert odd.up <= 1024 and abs(odd.down / odd.up - 44099 / 8000) < 1e-5
    assert odd.phases.size < 2_000_000
    y = resample(tone(1000, 44099), 44099, 8000)
    assert abs(len(y) - 8000) <= 1
    assert peak_hz(y, 8000) == pytest.approx(1000, abs=1)
    assert 20 * np.log10(rms(y) / (10000 / np.sqrt(2))) == pytest.approx(0.0, abs=0.05)
