"""WAV reading (files made by sox in every common encoding) and incremental writing."""

from __future__ import annotations

import io
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tamas.media.g711 import alaw_encode, ulaw_encode
from tamas.media.wav import WavEncoding, WavError, WavWriter, decode_wav, parse_wav, read_wav


def sox(*args: str) -> None:
    subprocess.run(["sox", *args], check=True, capture_output=True)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def peak_hz(x: np.ndarray, rate: int = 8000) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64) * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


# sox's "synth sine" at gain -6 dBFS: amplitude 0.5 of full scale (16384 on the 16-bit scale).
SOX_FORMATS = [
    (["-b", "8"], WavEncoding.PCM, 8),
    (["-b", "16"], WavEncoding.PCM, 16),
    (["-b", "24"], WavEncoding.PCM, 24),
    (["-b", "32"], WavEncoding.PCM, 32),
    (["-e", "floating-point", "-b", "32"], WavEncoding.FLOAT, 32),
    (["-e", "floating-point", "-b", "64"], WavEncoding.FLOAT, 64),
    (["-e", "mu-law"], WavEncoding.MULAW, 8),
    (["-e", "a-law"], WavEncoding.ALAW, 8),
]


@pytest.mark.parametrize(("options", "encoding", "bits"), SOX_FORMATS)
@pytest.mark.parametrize("rate", [8000, 16000, 44100])
def test_sox_files_read_as_8k_mono(
    tmp_path: Path, options: list[str], encoding: WavEncoding, bits: int, rate: int
) -> None:
    path = tmp_path / "tone.wav"
    sox("-n", "-r", str(rate), *options, str(path), "synth", "1", "sine", "440", "gain", "-6")
    info, _ = parse_wav(path.read_bytes())
    assert (info.encoding, info.bits_per_sample, info.sample_rate) == (encoding, bits, rate)
    assert info.frames == rate and not info.truncated
    y = read_wav(path)
    assert y.dtype == np.int16 and len(y) == 8000
    assert peak_hz(y) == pytest.approx(440, abs=2)
    # 8-bit and G.711 quantisation costs a little level; the rest is exact to 0.1 dB.
    tolerance = 0.3 if bits == 8 else 0.1
    expected = 16384 / np.sqrt(2)
    assert 20 * np.log10(rms(y[100:-100]) / expected) == pytest.approx(0, abs=tolerance)


def test_24bit_keeps_precision_at_native_rate(tmp_path: Path) -> None:
    path = tmp_path / "t.wav"
    sox("-n", "-r", "8000", "-b", "24", str(path), "synth", "0.1", "sine", "1000", "gain", "-6")
    info, samples = parse_wav(path.read_bytes())
    raw = np.frombuffer(path.read_bytes()[-3 * info.frames :], np.uint8).reshape(-1, 3)
    as_int = raw[:, 0].astype(np.int32) | (raw[:, 1].astype(np.int32) << 8)
    as_int |= raw[:, 2].astype(np.int32) << 16
    as_int = np.where(as_int >= 1 << 23, as_int - (1 << 24), as_int)
    assert np.array_equal(samples[:, 0] * 256, as_int)
    assert samples.min() < 0 < samples.max()


def test_stereo_is_mixed_down(tmp_path: Path) -> None:
    path = tmp_path / "stereo.wav"
    # Left 440 Hz, right silent: the mono mix is the tone at half level.
    sox(
        "-D",
        "-n",
        "-r",
        "8000",
        "-c",
        "2",
        "-b",
        "16",
        str(path),
        "synth",
        "1",
        "sine",
        "440",
        "gain",
        "-6",
        "remix",
        "1",
        "0",
    )
    info, samples = parse_wav(path.read_bytes())
    assert info.channels == 2 and samples.shape == (8000, 2)
    assert np.all(samples[:, 1] == 0)
    y = read_wav(path)
    assert rms(y) == pytest.approx(rms(samples[:, 0]) / 2, rel=0.01)


def test_known_values_16bit_and_g711() -> None:
    pcm = np.array([0, 1, -1, 32767, -32768, 1000], dtype=np.int16)
    buffer = io.BytesIO()
    with WavWriter(buffer, sample_rate=8000) as writer:
        writer.write(pcm)
    assert np.array_equal(decode_wav(buffer.getvalue(), rate=None), pcm)

    def g711_file(tag: int, payload: bytes) -> bytes:
        fmt = struct.pack("<HHIIHH", tag, 1, 8000, 8000, 1, 8)
        body = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 6)
        return b"RIFF" + struct.pack("<I", 4 + len(body) + 6) + b"WAVE" + body + payload

    levels = np.array([0, 8, -8, 1000, -1000, 32000], dtype=np.int16)
    ulaw = decode_wav(g711_file(7, ulaw_encode(levels)), rate=None)
    alaw = decode_wav(g711_file(6, alaw_encode(levels)), rate=None)
    assert ulaw.tolist() == [0, 8, -8, 988, -988, 32124]
    assert alaw.tolist() == [8, 8, -8, 1008, -1008, 32256]


def test_writer_stereo_read_back_by_sox(tmp_path: Path) -> None:
    path = tmp_path / "out.wav"
    left = (np.sin(np.arange(8000) * 2 * np.pi * 440 / 8000) * 10000).astype(np.int16)
    with WavWriter(path, channels=2) as writer:
        writer.write(np.zeros((0, 2), np.int16))  # an empty chunk (the recorder writes some)
        for i in range(0, 8000, 160):
            writer.write(np.column_stack((left[i : i + 160], np.zeros(160, np.int16))))
            writer.flush()  # header patched after each write, as the recording process does
            assert parse_wav(path.read_bytes())[0].frames == i + 160
        writer.write(np.zeros((0, 2), np.int16))
        assert writer.frames == 8000 and writer.duration == 1.0
    info = subprocess.run(["sox", "--i", str(path)], check=True, capture_output=True, text=True)
    assert "Channels       : 2" in info.stdout
    assert "Duration       : 00:00:01.00 = 8000 samples" in info.stdout
    _, samples = parse_wav(path.read_bytes())
    assert np.array_equal(samples[:, 0], left) and not samples[:, 1].any()


def test_file_cut_short_reads_to_last_whole_block(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    writer = WavWriter(buffer, channels=2)
    writer.write(np.arange(200, dtype=np.int16).reshape(100, 2))
    writer.flush()  # header now says 100 frames
    data = buffer.getvalue()
    info, samples = parse_wav(data[: 44 + 4 * 37 + 3])
    assert info.truncated and info.frames == 37
    assert samples[-1].tolist() == [72, 73]


def test_writer_before_any_flush_reads_to_end(tmp_path: Path) -> None:
    path = tmp_path / "unflushed.wav"
    with open(path, "wb") as file:
        writer = WavWriter(file)
        writer.write(np.ones(800, dtype=np.int16))
        file.flush()
        # The writer never patched: the header says "unknown size".
        assert parse_wav(path.read_bytes())[0].frames == 800
        out = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True)
        assert "Samples read:               800" in out.stderr
        writer.close()
    assert struct.unpack_from("<I", path.read_bytes(), 40)[0] == 1600


def test_writer_after_flush_header_is_exact() -> None:
    buffer = io.BytesIO()
    writer = WavWriter(buffer, sample_rate=16000)
    writer.write(np.zeros(10, np.int16))
    writer.flush()
    riff_size, data_size = (
        struct.unpack_from("<I", buffer.getvalue(), 4)[0],
        struct.unpack_from("<I", buffer.getvalue(), 40)[0],
    )
    assert (riff_size, data_size) == (36 + 20, 20)
    writer.write(np.zeros(5, np.int16))
    assert len(buffer.getvalue()) == 44 + 30  # the patch did not move the write position
    with pytest.raises(TypeError):
        writer.write(np.zeros(5, np.float32))
    with pytest.raises(ValueError):
        writer.write(np.zeros((5, 2), np.int16))


def test_skips_other_chunks_and_odd_padding() -> None:
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    odd = b"LIST" + struct.pack("<I", 3) + b"abc" + b"\0"
    body = odd + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", 4)
    data = b"RIFF" + struct.pack("<I", 4 + len(body) + 4) + b"WAVE" + body + b"\x01\x00\xff\xff"
    assert decode_wav(data, rate=None).tolist() == [1, -1]


def make(fmt: bytes, payload: bytes = b"\0\0") -> bytes:
    body = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data"
    body += struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a WAV file"),
        (b"RIFX\0\0\0\0WAVE", "not a RIFF file"),
        (b"RIFF\0\0\0\0AVI ", "not WAVE"),
        (b"RIFF\4\0\0\0WAVE", "no fmt chunk"),
        (make(struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16))[:36], "no data chunk"),
        (b"RIFF\0\0\0\0WAVEdata\0\0\0\0", "data chunk before the fmt chunk"),
        (make(struct.pack("<HHIIH", 1, 1, 8000, 16000, 2)), "too short"),
        (make(struct.pack("<HHIIHH", 2, 1, 8000, 4000, 256, 4)), "encoding 0x0002"),
        (make(struct.pack("<HHIIHH", 1, 0, 8000, 16000, 2, 16)), "0 channels"),
        (make(struct.pack("<HHIIHH", 1, 1, 0, 16000, 2, 16)), "sample rate 0 Hz is not supported"),
        (make(struct.pack("<HHIIHH", 1, 2, 8000, 16000, 3, 16)), "block size 3"),
        (make(struct.pack("<HHIIHH", 1, 1, 8000, 16000, 6, 48)), "48-bit PCM"),
        (make(struct.pack("<HHIIHH", 3, 1, 8000, 16000, 2, 16)), "16-bit FLOAT"),
        (b"RIFF\0\0\0\0WAVELIST\xff\0\0\0ab", "runs past the end"),
    ],
)
def test_malformed_files_are_refused_with_name_and_reason(data: bytes, message: str) -> None:
    with pytest.raises(WavError, match=message) as caught:
        decode_wav(data, name="prompts/welcome.wav")
    assert str(caught.value).startswith("prompts/welcome.wav: ")


def test_read_wav_errors_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(WavError, match=r"missing\.wav: cannot read"):
        read_wav(tmp_path / "missing.wav")
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"hello world, not audio")
    with pytest.raises(WavError, match=r"bad\.wav: not a RIFF file"):
        read_wav(bad)
    with open(bad, "rb") as file, pytest.raises(WavError, match=r"bad\.wav: not a RIFF"):
        read_wav(file)


def _valid_file() -> bytes:
    buffer = io.BytesIO()
    with WavWriter(buffer, channels=2, sample_rate=11025) as writer:
        writer.write(np.arange(-50, 50, dtype=np.int16).reshape(50, 2))
    return buffer.getvalue()


VALID = _valid_file()


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.builds(
            lambda cut, pos, value: (VALID[:pos] + bytes([value]) + VALID[pos + 1 :])[:cut],
            st.integers(0, len(VALID)),
            st.integers(0, len(VALID) - 1),
            st.integers(0, 255),
        ),
    )
)
def test_any_bytes_give_audio_or_a_wav_error(data: bytes) -> None:
    try:
        samples = decode_wav(data, rate=8000, name="fuzz.wav")
    except WavError as exc:
        assert str(exc).startswith("fuzz.wav: ")
    else:
        assert samples.dtype == np.int16 and samples.ndim == 1
