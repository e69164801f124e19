"""G.722 (media/g722.py over the G722 package): tones through the codec keep their frequency
and level; the 8 kHz paths (narrow decode, wide encode, G.711 transcoding) low-pass properly."""

from __future__ import annotations

import numpy as np
import pytest

from tamas.media.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from tamas.media.g722 import Decoder, Encoder, NarrowDecoder, Transcoder, WideEncoder


def tone(freq: float, rate: int, seconds: float = 1.0, amp: float = 8000.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * freq * t) * amp).astype(np.int16)


def frames(x: np.ndarray, size: int) -> list[np.ndarray]:
    return [x[i : i + size] for i in range(0, len(x) - size + 1, size)]


def peak_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64) * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


def goertzel_power(x: np.ndarray, freq: float, rate: int) -> float:
    coeff = 2 * np.cos(2 * np.pi * freq / rate)
    s1 = s2 = 0.0
    for v in x.astype(np.float64):
        s1, s2 = v + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def snr_db(got: np.ndarray, freq: float, rate: int, skip: int = 800) -> float:
    """Tone-to-rest ratio of ``got``: the least-squares sinusoid at ``freq`` against what is
    left (noise and distortion). Blind to the path's delay, which the resamplers make
    fractional."""
    y = got[skip:].astype(np.float64)
    t = np.arange(len(y)) / rate
    basis = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
    fitted = basis @ coef
    return float(10 * np.log10(np.mean(fitted**2) / max(np.mean((y - fitted) ** 2), 1e-9)))


@pytest.mark.parametrize("freq", [300.0, 1000.0, 3000.0, 5000.0, 6500.0])
def test_round_trip_at_16khz_keeps_frequency_and_snr(freq: float) -> None:
    x = tone(freq, 16000)
    enc, dec = Encoder(), Decoder()
    payloads = [enc.encode(f) for f in frames(x, 320)]
    assert {len(p) for p in payloads} == {160}  # 20 ms: 160 bytes (64 kbit/s)
    y = np.concatenate([dec.decode(p) for p in payloads])
    assert len(y) == len(x)
    assert abs(peak_hz(y[1600:], 16000) - freq) <= 2
    assert snr_db(y, freq, 16000) > 20


def test_wideband_tone_is_what_g711_cannot_carry() -> None:
    """5 kHz passes G.722 (above) but not the 8 kHz path, whose low-pass removes it."""
    x = tone(5000.0, 16000)
    enc = Encoder()
    narrow = NarrowDecoder()
    y = np.concatenate([narrow.decode(enc.encode(f)) for f in frames(x, 320)])
    assert len(y) == 8000
    rms_in = np.sqrt(np.mean(x.astype(np.float64) ** 2))
    rms_out = np.sqrt(np.mean(y[800:].astype(np.float64) ** 2))
    assert rms_out < rms_in / 30  # about 30 dB down at least (codec noise remains)


def test_narrow_decode_and_wide_encode_keep_a_telephone_band_tone() -> None:
    x8 = tone(1000.0, 8000)
    wide = WideEncoder()
    payloads = [wide.encode(f) for f in frames(x8, 160)]
    assert {len(p) for p in payloads} == {160}
    narrow = NarrowDecoder()
    y8 = np.concatenate([narrow.decode(p) for p in payloads])
    assert len(y8) == len(x8)
    assert abs(peak_hz(y8[800:], 8000) - 1000) <= 2
    assert snr_db(y8, 1000, 8000) > 30
    # and the 16 kHz decode of the wide-encoded frames is the same tone at 16 kHz
    dec = Decoder()
    again = WideEncoder()
    y16 = np.concatenate([dec.decode(again.encode(f)) for f in frames(x8, 160)])
    assert len(y16) == 16000
    assert goertzel_power(y16[1600:4800], 1000, 16000) > 100 * goertzel_power(
        y16[1600:4800], 2000, 16000
    )


def test_wide_encoder_takes_native_bytes_like_sources_give() -> None:
    x8 = tone(700.0, 8000, 0.1)
    a, b = WideEncoder(), WideEncoder()
    assert [a.encode(f) for f in frames(x8, 160)] == [
        b.encode(f.tobytes()) for f in frames(x8, 160)
    ]


@pytest.mark.parametrize("law", ["PCMU", "PCMA"])
def test_transcoding_to_and_from_g711(law: str) -> None:
    encode = ulaw_encode if law == "PCMU" else alaw_encode
    decode = ulaw_decode if law == "PCMU" else alaw_decode
    x8 = tone(1200.0, 8000)
    to_wide, to_narrow = Transcoder(law, "G722"), Transcoder("G722", law)
    g722 = [to_wide.convert(encode(f)) for f in frames(x8, 160)]
    assert {len(p) for p in g722} == {160}
    back = [to_narrow.convert(p) for p in g722]
    assert {len(p) for p in back} == {160}
    y8 = np.concatenate([decode(p) for p in back])
    assert abs(peak_hz(y8[800:], 8000) - 1200) <= 2
    assert snr_db(y8, 1200, 8000) > 25  # two G.711 quantisations and a G.722 pass


def test_transcoder_refuses_pairs_without_g722() -> None:
    with pytest.raises(ValueError):
        Transcoder("PCMU", "PCMA")
    with pytest.raises(ValueError):
        Transcoder("G722", "G722")
