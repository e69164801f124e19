"""In-band DTMF detection on generated tones, in noise, against speech-like audio."""

from __future__ import annotations

import numpy as np
import pytest

from tamas.media.g711 import ulaw_decode, ulaw_encode
from tamas.media.goertzel import DigitEvent, DtmfDetector, goertzel_power
from tamas.media.tones import DTMF_FREQUENCIES, dbm0_to_peak, dtmf, sine, tone_samples

RATE = 8000
DIGITS = "0123456789*#ABCD"


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE), dtype=np.int16)


def run(signal: np.ndarray, t0: float = 0.0, chunk: int = 160, **options) -> list[DigitEvent]:
    detector = DtmfDetector(RATE, **options)
    events: list[DigitEvent] = []
    for i in range(0, len(signal), chunk):
        events += detector.feed(signal[i : i + chunk], t0 + i / RATE)
    return events + detector.flush()


def sequence(
    digits: str, on: float = 0.06, off: float = 0.04, lead: float = 0.1, level: float = -10.0
) -> np.ndarray:
    parts = [silence(lead)]
    for digit in digits:
        parts += [dtmf(digit, on, level), silence(off)]
    parts.append(silence(0.1))
    return np.concatenate(parts)


def noise(seconds: float, level_dbm0: float, seed: int) -> np.ndarray:
    rms = dbm0_to_peak(level_dbm0) / np.sqrt(2)
    return np.random.default_rng(seed).normal(0.0, rms, round(seconds * RATE))


def mix(*signals: np.ndarray) -> np.ndarray:
    length = max(len(s) for s in signals)
    total = np.zeros(length)
    for s in signals:
        total[: len(s)] += s
    return np.clip(np.rint(total), -32768, 32767).astype(np.int16)


def test_goertzel_recurrence_matches_dft() -> None:
    x = sine(1000, 0.02, -10.0).astype(np.float64)  # bin 20 of 160 exactly
    expected = dbm0_to_peak(-10.0) ** 2 / 2
    assert goertzel_power(x, 1000.0, RATE) == pytest.approx(expected, rel=1e-3)
    spectrum = np.fft.fft(x)
    assert goertzel_power(x, 1000.0, RATE) == pytest.approx(2 * abs(spectrum[20]) ** 2 / 160**2)
    assert goertzel_power(x, 697.0, RATE) < expected / 100
    assert goertzel_power([], 697.0, RATE) == 0.0


@pytest.mark.parametrize("digit", list(DIGITS))
@pytest.mark.parametrize("offset", [0, 37, 80, 159])
def test_each_digit_detected_once(digit: str, offset: int) -> None:
    signal = np.concatenate([silence(0.1), silence(offset / RATE), dtmf(digit, 0.06), silence(0.2)])
    events = run(signal, t0=100.0)
    assert [e.digit for e in events] == [digit]
    start = 100.0 + 0.1 + offset / RATE
    (event,) = events
    assert event.start == pytest.approx(start, abs=0.0201)
    assert event.end is not None and event.end == pytest.approx(start + 0.06, abs=0.0201)


def test_early_report_then_end() -> None:
    events = run(sequence("7"), early=True)
    assert [(e.digit, e.end is None) for e in events] == [("7", True), ("7", False)]
    assert events[0].start == events[1].start


@pytest.mark.parametrize("chunk", [160, 80, 240, 1000, 7])
def test_sequence_with_40ms_pauses(chunk: int) -> None:
    digits = "0123456789*#"
    events = run(sequence(digits), chunk=chunk)
    assert "".join(e.digit for e in events) == digits
    starts = [e.start for e in events]
    assert np.all(np.diff(starts) == pytest.approx(0.1, abs=0.021))


def test_repeated_key_with_40ms_pause_counts_twice() -> None:
    assert "".join(e.digit for e in run(sequence("5555", on=0.06, off=0.04))) == "5555"


@pytest.mark.parametrize("offset", range(0, 160, 9))
def test_too_short_tone_ignored(offset: int) -> None:
    signal = np.concatenate([silence(offset / RATE), dtmf("1", 0.03), silence(0.1)])
    assert run(signal) == []


def test_long_press_with_short_dropout_is_one_digit() -> None:
    signal = np.concatenate([dtmf("3", 0.3), silence(0.01), dtmf("3", 0.3), silence(0.1)])
    events = run(signal)
    assert len(events) == 1 and events[0].digit == "3"
    assert events[0].end == pytest.approx(0.61, abs=0.021)


def test_flush_reports_held_key() -> None:
    detector = DtmfDetector()
    assert detector.feed(dtmf("9", 0.5), 2.0) == []
    (event,) = detector.flush()
    assert event == DigitEvent(digit="9", start=2.0, end=2.5)
    assert detector.flush() == []


@pytest.mark.parametrize("level", [-10.0, -20.0, -30.0, -50.0])
def test_white_noise_alone_gives_nothing(level: float) -> None:
    assert run(mix(noise(10.0, level, seed=int(-level)))) == []


def test_digits_at_20db_snr() -> None:
    digits = "0123456789*#ABCD"
    clean = sequence(digits, level=-10.0)
    # The two tones at -10 dBm0 each make -7 dBm0; noise 20 dB below that.
    for seed in range(5):
        events = run(mix(clean, noise(len(clean) / RATE, -27.0, seed)))
        assert "".join(e.digit for e in events) == digits


@pytest.mark.parametrize("snr_db", [10.0, 6.0, 3.0, 0.0, -5.0, -10.0])
def test_heavy_noise_invents_nothing(snr_db: float) -> None:
    digits = "0123456789*#ABCD" * 2
    clean = sequence(digits, level=-10.0)
    for seed in range(3):
        noisy = mix(clean, noise(len(clean) / RATE, -7.0 - snr_db, seed=100 + seed))
        heard = "".join(e.digit for e in run(noisy))
        # Digits may be lost, never invented or reordered: heard is a subsequence of digits.
        remaining = iter(digits)
        assert all(d in remaining for d in heard), (snr_db, heard)


def speech_like(seconds: float, seed: int) -> np.ndarray:
    """Voiced-speech stand-in: random harmonic series of f0 in 120-250 Hz, changing each 50 ms."""
    rng = np.random.default_rng(seed)
    segments = []
    for _ in range(round(seconds / 0.05)):
        f0 = rng.uniform(120, 250)
        n = np.arange(400) / RATE
        harmonics = np.arange(1, int(3400 // f0) + 1)
        amplitudes = rng.uniform(0, 1, len(harmonics)) / harmonics**0.7
        phases = rng.uniform(0, 2 * np.pi, len(harmonics))
        seg = (
            amplitudes[:, None] * np.sin(2 * np.pi * f0 * harmonics[:, None] * n + phases[:, None])
        ).sum(0)
        segments.append(
            seg / np.sqrt(np.mean(seg**2)) * dbm0_to_peak(rng.uniform(-25, -5)) / np.sqrt(2)
        )
    return np.concatenate(segments)


@pytest.mark.parametrize("seed", range(5))
def test_speech_like_signal_gives_nothing(seed: int) -> None:
    assert run(mix(speech_like(10.0, seed))) == []


def test_sparse_harmonics_give_nothing() -> None:
    """Two or three strong harmonics that sit near DTMF frequencies are the hard case."""
    rng = np.random.default_rng(7)
    false = 0
    for _ in range(200):
        f0 = rng.uniform(120, 250)
        harmonics = np.arange(1, int(3400 // f0) + 1)
        amplitudes = rng.uniform(0, 1, len(harmonics)) ** 4 / harmonics**0.5
        n = np.arange(800) / RATE
        seg = (amplitudes[:, None] * np.sin(2 * np.pi * f0 * harmonics[:, None] * n)).sum(0)
        seg = seg / np.abs(seg).max() * 20000
        false += len(run(mix(seg)))
    assert false == 0


@pytest.mark.parametrize(
    ("twist_db", "heard"),
    [(-7.5, True), (-10.0, False), (3.5, True), (6.0, False), (0.0, True)],
)
def test_twist_limits(twist_db: float, heard: bool) -> None:
    """Negative twist: column (high) tone weaker, normal up to 8 dB; reverse up to 4 dB."""
    signal = np.concatenate([silence(0.05), dtmf("8", 0.1, -10.0, twist_db=twist_db), silence(0.1)])
    assert [e.digit for e in run(signal)] == (["8"] if heard else [])


@pytest.mark.parametrize(("level", "heard"), [(-3.0, True), (-25.0, True), (-40.0, False)])
def test_level_threshold(level: float, heard: bool) -> None:
    assert [e.digit for e in run(sequence("4", level=level))] == (["4"] if heard else [])


@pytest.mark.parametrize(
    ("deviation", "heard"), [(-0.015, True), (0.015, True), (0.035, False), (-0.035, False)]
)
def test_frequency_tolerance(deviation: float, heard: bool) -> None:
    """Q.24: accept tones within 1.5% of nominal; these 20 ms blocks reject 3.5% off."""
    for digit in DIGITS:
        low, high = DTMF_FREQUENCIES[digit]
        tone = tone_samples((low * (1 + deviation), high * (1 + deviation)), 0.1, -10.0)
        signal = np.concatenate([silence(0.05), tone, silence(0.1)])
        assert [e.digit for e in run(signal)] == ([digit] if heard else []), digit


def test_single_tone_is_not_a_digit() -> None:
    assert run(np.concatenate([sine(697, 0.5), sine(1336, 0.5)])) == []


def test_through_ulaw() -> None:
    digits = "159#"
    coded = ulaw_decode(ulaw_encode(sequence(digits, level=-20.0)))
    assert "".join(e.digit for e in run(coded)) == digits


def test_sixteen_khz() -> None:
    signal = np.concatenate([np.zeros(800), dtmf("6", 0.08, sample_rate=16000), np.zeros(1600)])
    detector = DtmfDetector(16000)
    assert detector.block_size == 320
    events = detector.feed(signal, 0.0) + detector.flush()
    assert [e.digit for e in events] == ["6"]


def test_invalid_options() -> None:
    with pytest.raises(ValueError):
        DtmfDetector(min_blocks=0)
