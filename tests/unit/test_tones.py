"""Tone generators: levels, frequencies, cadences and frame-to-frame phase continuity."""

from __future__ import annotations

import numpy as np
import pytest

from tamas.media.g711 import ulaw_decode
from tamas.media.tones import (
    BEEP,
    BUSY,
    DTMF_FREQUENCIES,
    RINGBACK_ITU,
    RINGBACK_NA,
    Tone,
    ToneSource,
    busy,
    dbm0_to_peak,
    dtmf,
    dual_tone,
    ringback,
    sine,
    tone_samples,
)


def rms_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2))))


def peak_frequencies(x: np.ndarray, count: int, rate: int = 8000) -> list[float]:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64)))
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    return sorted(float(f) for f in freqs[np.argsort(spectrum)[-count:]])


def test_dbm0_reference() -> None:
    assert dbm0_to_peak(3.17) == pytest.approx(8159 * 4)
    assert dbm0_to_peak(0.0) == pytest.approx(22657, abs=1)
    # A 0 dBm0 sine has the RMS of G.711's digital milliwatt.
    dmw = ulaw_decode(bytes([0x1E, 0x0B, 0x0B, 0x1E, 0x9E, 0x8B, 0x8B, 0x9E]) * 100)
    assert rms_db(sine(1000, 0.1, 0.0)) == pytest.approx(rms_db(dmw), abs=0.05)


@pytest.mark.parametrize("level", [0.0, -10.0, -20.0, -40.0])
def test_sine_level_and_frequency(level: float) -> None:
    x = sine(1000, 1.0, level)
    assert x.dtype == np.int16 and len(x) == 8000
    assert rms_db(x) - rms_db(sine(1000, 1.0, 0.0)) == pytest.approx(level, abs=0.05)
    assert peak_frequencies(x, 1) == [1000.0]


def test_dtmf_keypad() -> None:
    assert set(DTMF_FREQUENCIES) == set("0123456789*#ABCD")
    assert DTMF_FREQUENCIES["1"] == (697.0, 1209.0)
    assert DTMF_FREQUENCIES["0"] == (941.0, 1336.0)
    assert DTMF_FREQUENCIES["#"] == (941.0, 1477.0)
    assert DTMF_FREQUENCIES["D"] == (941.0, 1633.0)
    assert DTMF_FREQUENCIES["9"] == (852.0, 1477.0)


@pytest.mark.parametrize("digit", list("0123456789*#ABCD"))
def test_dtmf_spectrum(digit: str) -> None:
    x = dtmf(digit, 1.0, -10.0)
    assert peak_frequencies(x, 2) == list(DTMF_FREQUENCIES[digit])


def test_dtmf_twist_and_errors() -> None:
    low, high = DTMF_FREQUENCIES["5"]
    x = dtmf("5", 1.0, -10.0, twist_db=-6.0).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x))
    assert 20 * np.log10(spectrum[int(low)] / spectrum[int(high)]) == pytest.approx(6.0, abs=0.1)
    assert np.array_equal(dtmf("a", 0.02), dtmf("A", 0.02))
    with pytest.raises(ValueError):
        dtmf("E")


def test_dual_tone_is_sum_and_clips() -> None:
    a = dual_tone(440, 480, 0.5, -19.0)
    assert peak_frequencies(a, 2) == [440.0, 480.0]
    loud = tone_samples((400.0, 400.0), 0.01, 3.17)
    assert loud.max() == 32767 and loud.min() == -32768
    with pytest.raises(ValueError):
        tone_samples((400.0,), -1.0)


def frame_energies(source: ToneSource, frames: int) -> np.ndarray:
    return np.array([np.abs(source.read()).max() for _ in range(frames)])


def test_continuous_tone_frames_join_exactly() -> None:
    tone = Tone(frequencies=(697.0, 1209.0), level_dbm0=-10.0)
    frames = [f for _, f in zip(range(50), ToneSource(tone), strict=False)]
    assert all(f.shape == (160,) and f.dtype == np.int16 for f in frames)
    assert np.array_equal(np.concatenate(frames), tone_samples((697.0, 1209.0), 1.0, -10.0))


def test_itu_ringback_cadence() -> None:
    assert RINGBACK_ITU.frequencies == (425.0,) and RINGBACK_ITU.cadence == (1.0, 4.0)
    peaks = frame_energies(ToneSource(RINGBACK_ITU), 500)  # two 5 s cycles
    on = peaks > 0
    assert on[:50].all() and not on[50:250].any() and on[250:300].all() and not on[300:].any()


def test_north_american_ringback_cadence() -> None:
    assert RINGBACK_NA.frequencies == (440.0, 480.0) and RINGBACK_NA.cadence == (2.0, 4.0)
    source = ToneSource(RINGBACK_NA)
    frames = [source.read() for _ in range(600)]
    on = np.array([np.abs(f).max() > 0 for f in frames])
    assert on[:100].all() and not on[100:300].any() and on[300:400].all()
    assert peak_frequencies(np.concatenate(frames[:100]), 2) == [440.0, 480.0]


def test_busy_cadence_and_parameters() -> None:
    on = frame_energies(ToneSource(BUSY), 100) > 0
    assert list(on) == ([True] * 25 + [False] * 25) * 2
    custom = busy((480.0, 620.0), on=0.5, off=0.5, level_dbm0=-24.0)
    assert custom.frequencies == (480.0, 620.0) and custom.level_dbm0 == -24.0
    assert ringback(on=2.0, off=4.0).cadence == (2.0, 4.0)


def test_cadence_edges_are_sample_exact_and_phase_runs_on() -> None:
    tone = Tone(frequencies=(1000.0,), level_dbm0=-10.0, cadence=(0.0125, 0.0125))  # 100/100
    x = np.concatenate([f for _, f in zip(range(10), ToneSource(tone), strict=False)])
    reference = tone_samples((1000.0,), 0.2, -10.0)
    gate = (np.arange(1600) // 100) % 2 == 0
    assert np.array_equal(x[gate], reference[gate])
    assert not x[~gate].any()


def test_beep_plays_once() -> None:
    source = ToneSource(BEEP)
    frames = list(source)
    assert len(frames) == 13  # 250 ms = 12.5 frames, the last padded with silence
    assert np.abs(frames[12][:80]).max() > 0 and not frames[12][80:].any()
    assert source.finished and source.read() is None
    assert source.position == 13 * 160


def test_tone_source_other_rates_and_validation() -> None:
    source = ToneSource(BUSY, sample_rate=16000)
    assert source.frame_samples == 320
    assert len(source.read()) == 320
    with pytest.raises(ValueError):
        ToneSource(BUSY, frame_samples=0)
    with pytest.raises(ValueError):
        Tone(frequencies=(425.0,), level_dbm0=-10.0, cadence=(-1.0, 1.0))
    with pytest.raises(ValueError):
        Tone(frequencies=(425.0,), level_dbm0=-10.0, cadence=(0.0, 0.0))
