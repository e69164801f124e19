"""G.711 µ-law/A-law against the ITU reference values and the algorithm's properties."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tamas.media.g711 import (
    ALAW_DECODE,
    ALAW_ENCODE,
    ULAW_DECODE,
    ULAW_ENCODE,
    alaw_decode,
    alaw_encode,
    alaw_to_ulaw,
    ulaw_decode,
    ulaw_encode,
    ulaw_to_alaw,
)

ALL_CODES = bytes(range(256))
ALL_SAMPLES = np.arange(-32768, 32768, dtype=np.int64).astype(np.int16)


def enc_u(*samples: int) -> bytes:
    return ulaw_encode(np.array(samples, dtype=np.int16))


def enc_a(*samples: int) -> bytes:
    return alaw_encode(np.array(samples, dtype=np.int16))


def test_tables_shape_and_dtype() -> None:
    assert ULAW_DECODE.shape == ALAW_DECODE.shape == (256,)
    assert ULAW_DECODE.dtype == ALAW_DECODE.dtype == np.int16
    assert ULAW_ENCODE.shape == ALAW_ENCODE.shape == (65536,)
    assert ULAW_ENCODE.dtype == ALAW_ENCODE.dtype == np.uint8
    assert not ULAW_ENCODE.flags.writeable


# G.711 table 2a (µ-law) and table 1a (A-law), scaled to 16-bit linear.
@pytest.mark.parametrize(
    ("code", "value"),
    [(0xFF, 0), (0x7F, 0), (0x00, -32124), (0x80, 32124), (0xFE, 8), (0x7E, -8), (0xEF, 132)],
)
def test_ulaw_reference_decode(code: int, value: int) -> None:
    assert int(ulaw_decode(bytes([code]))[0]) == value


@pytest.mark.parametrize(
    ("code", "value"),
    # 0xAA is the largest positive A-law code (sign bit set after the XOR with 0x55).
    [(0xD5, 8), (0x55, -8), (0xAA, 32256), (0x2A, -32256), (0xD4, 24), (0xC5, 264)],
)
def test_alaw_reference_decode(code: int, value: int) -> None:
    assert int(alaw_decode(bytes([code]))[0]) == value


def test_reference_encode() -> None:
    assert enc_u(0) == b"\xff"
    assert enc_u(3, 4, 11, 12) == b"\xff\xfe\xfe\xfd"
    assert enc_u(-3, -4, -11, -12) == b"\x7f\x7e\x7e\x7d"
    assert enc_u(32767, -32768) == b"\x80\x00"
    assert enc_a(0) == b"\xd5"
    assert enc_a(15, 16, -1, -16, -17) == b"\xd5\xd4\x55\x55\x54"
    assert enc_a(32767, -32768) == b"\xaa\x2a"


def test_digital_milliwatt_is_zero_dbm0() -> None:
    # G.711's µ-law digital milliwatt: 1 kHz at 0 dBm0, RMS ~16016 on the 16-bit scale.
    dmw = ulaw_decode(bytes([0x1E, 0x0B, 0x0B, 0x1E, 0x9E, 0x8B, 0x8B, 0x9E]))
    rms = float(np.sqrt(np.mean(dmw.astype(np.float64) ** 2)))
    assert abs(20 * np.log10(rms / 16021)) < 0.05


def test_decode_levels_ordered_and_distinct() -> None:
    # Within a sign, a higher code is a smaller magnitude (codes are sent inverted, µ-law).
    assert np.all(np.diff(ULAW_DECODE[0x80:].astype(int)) < 0)
    assert np.all(np.diff(ULAW_DECODE[:0x80].astype(int)) > 0)
    # µ-law has +0 and -0; every other code is its own level. A-law has no zero.
    assert len(np.unique(ULAW_DECODE)) == 255
    assert len(np.unique(ALAW_DECODE)) == 256
    assert 0 not in ALAW_DECODE


@pytest.mark.parametrize(
    ("encode", "decode"),
    [(ulaw_encode, ulaw_decode), (alaw_encode, alaw_decode)],
    ids=["ulaw", "alaw"],
)
def test_full_range_monotonic_and_bounded_error(encode, decode) -> None:
    out = decode(encode(ALL_SAMPLES)).astype(np.int64)
    assert np.all(np.diff(out) >= 0)
    error = np.abs(out - ALL_SAMPLES.astype(np.int64))
    # Half of the largest step (1024 on the 16-bit scale), plus the overload region.
    inside = np.abs(ALL_SAMPLES.astype(np.int64)) <= 32124
    assert error[inside].max() <= 512
    # Relative error of a log compander: about half a step in 16, above the linear low segments.
    big = np.abs(ALL_SAMPLES.astype(np.int64)) >= 1024
    assert (error[big & inside] / np.abs(ALL_SAMPLES[big & inside])).max() < 0.035


def test_round_trip_of_every_code() -> None:
    for encode, decode in ((ulaw_encode, ulaw_decode), (alaw_encode, alaw_decode)):
        levels = decode(ALL_CODES)
        assert np.array_equal(decode(encode(levels)), levels)
    # Every code re-encodes to itself, except µ-law's -0, which becomes +0 (as in Sun g711.c).
    assert ulaw_encode(ulaw_decode(ALL_CODES)) == ALL_CODES.replace(b"\x7f", b"\xff")
    assert alaw_encode(alaw_decode(ALL_CODES)) == ALL_CODES


def test_sign_symmetry() -> None:
    positive = np.arange(1, 32768, dtype=np.int16)
    u_pos = np.frombuffer(ulaw_encode(positive), dtype=np.uint8)
    u_neg = np.frombuffer(ulaw_encode(-positive), dtype=np.uint8)
    assert np.array_equal(u_neg, u_pos ^ 0x7F ^ 0xFF)  # sign-magnitude: only bit 7 differs
    nonneg = np.arange(0, 32768, dtype=np.int16)
    a_pos = np.frombuffer(alaw_encode(nonneg), dtype=np.uint8)
    a_neg = np.frombuffer(alaw_encode(~nonneg), dtype=np.uint8)  # one's complement mirror
    assert np.array_equal(a_neg, a_pos ^ 0x80)
    assert np.array_equal(ULAW_DECODE[0x00:0x80], -ULAW_DECODE[0x80:0x100])
    assert np.array_equal(ALAW_DECODE[0x00:0x80], -ALAW_DECODE[0x80:0x100])


def test_encode_table_indexed_by_uint16_pattern() -> None:
    assert ULAW_ENCODE[0xFFFF] == enc_u(-1)[0]
    assert ALAW_ENCODE[0x8000] == enc_a(-32768)[0]
    assert ULAW_ENCODE[0x7FFF] == 0x80


def test_encode_accepts_other_integer_arrays_and_clips() -> None:
    assert ulaw_encode(np.array([40000, -40000, 0], dtype=np.int32)) == b"\x80\x00\xff"
    assert alaw_encode([100, -100]) == enc_a(100, -100)
    assert ulaw_encode(np.zeros(0, dtype=np.int16)) == b""
    assert ulaw_decode(b"").shape == (0,)
    with pytest.raises(TypeError):
        ulaw_encode(np.array([0.5]))


def test_decode_returns_writable_copy() -> None:
    samples = ulaw_decode(b"\x00\x80")
    samples[0] = 1
    assert int(ULAW_DECODE[0]) == -32124


def test_transcoding_tables() -> None:
    assert ulaw_to_alaw(ALL_CODES) == alaw_encode(ulaw_decode(ALL_CODES))
    assert alaw_to_ulaw(ALL_CODES) == ulaw_encode(alaw_decode(ALL_CODES))
    assert ulaw_to_alaw(b"\xff\x7f\x80\x00") == b"\xd5\xd5\xaa\x2a"
    assert alaw_to_ulaw(b"\xd5\x55") == b"\xfe\x7e"
    # There and back costs at most one step of the coarser law.
    back = ulaw_decode(alaw_to_ulaw(ulaw_to_alaw(ALL_CODES))).astype(int)
    orig = ulaw_decode(ALL_CODES).astype(int)
    assert np.all(np.abs(back - orig) <= np.maximum(16, np.abs(orig) // 16))


def test_transcoding_frame() -> None:
    frame = bytes((i * 37) % 256 for i in range(160))
    assert len(ulaw_to_alaw(frame)) == 160
    assert alaw_to_ulaw(ulaw_to_alaw(frame))[:1] == alaw_to_ulaw(ulaw_to_alaw(frame[:1]))


def test_against_cpython_audioop() -> None:
    """An independent implementation (CPython's audioop, the later Sun g711.c)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")
    pcm = ALL_SAMPLES.tobytes()
    assert ulaw_decode(ALL_CODES).tobytes() == audioop.ulaw2lin(ALL_CODES, 2)
    assert alaw_decode(ALL_CODES).tobytes() == audioop.alaw2lin(ALL_CODES, 2)
    assert alaw_encode(ALL_SAMPLES) == audioop.lin2alaw(pcm, 2)
    ours = np.frombuffer(ulaw_encode(ALL_SAMPLES), dtype=np.uint8)
    theirs = np.frombuffer(audioop.lin2ulaw(pcm, 2), dtype=np.uint8)
    nonneg = ALL_SAMPLES >= 0
    assert np.array_equal(ours[nonneg], theirs[nonneg])
    # audioop truncates negatives towards -inf (x >> 2) before taking the magnitude, we
    # quantise the magnitude symmetrically: they differ on the last few values of a step.
    differ = ALL_SAMPLES[ours != theirs]
    assert np.all(differ < 0)
    assert len(differ) < 400
    step_gap = np.abs(ULAW_DECODE[ours[~nonneg]].astype(int) - ULAW_DECODE[theirs[~nonneg]])
    assert step_gap.max() <= 1024
