"""Playback sources: frames, gapless prompt lists, per-leg music on hold, tones, the cache."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from tamas.media.g711 import alaw_encode, ulaw_encode
from tamas.media.playback import (
    FRAME_SAMPLES,
    LoopSource,
    MusicOnHold,
    PromptCache,
    PromptSource,
    SequenceSource,
    SilenceSource,
    ToneFrames,
    frozen,
    tone_source,
)
from tamas.media.tones import BEEP, BUSY, RINGBACK_ITU, RINGBACK_NA, Tone, ToneSource
from tamas.media.wav import WavWriter


def drain(source: object, limit: int = 100_000) -> list[np.ndarray]:
    frames = []
    for _ in range(limit):
        frame = source.read_frame()  # type: ignore[attr-defined]
        if frame is None:
            return frames
        frames.append(frame)
    raise AssertionError("source did not finish")


def test_prompt_frames_views_and_padding() -> None:
    samples = np.arange(1, 401, dtype=np.int16)  # 2.5 frames
    source = PromptSource(samples)
    frames = drain(source)
    assert [len(f) for f in frames] == [160, 160, 160]
    assert np.array_equal(np.concatenate(frames)[:400], samples)
    assert not frames[2][80:].any()  # padded with silence
    assert source.finished and source.position == 400
    assert source.read_frame() is None
    # Whole frames are read-only views of one frozen copy, not copies per frame.
    assert not frames[0].flags.writeable
    assert frames[0].base is frames[1].base


def test_frozen_does_not_touch_the_callers_array() -> None:
    mine = np.zeros(10, dtype=np.int16)
    out = frozen(mine)
    assert mine.flags.writeable and not out.flags.writeable
    assert frozen(out) is out
    assert frozen([40000, -40000]).tolist() == [32767, -32768]
    with pytest.raises(TypeError):
        frozen(np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError):
        frozen(np.zeros((3, 2), dtype=np.int16))


def test_prompt_list_is_gapless() -> None:
    a = np.full(100, 1, np.int16)
    b = np.full(250, 2, np.int16)
    c = np.full(10, 3, np.int16)
    out = np.concatenate(drain(PromptSource(a, np.zeros(0, np.int16), b, c)))
    assert len(out) == 480
    assert np.array_equal(out[:360], np.concatenate((a, b, c)))
    assert not out[360:].any()


def test_empty_prompt_finishes_at_once() -> None:
    assert PromptSource().read_frame() is None
    assert PromptSource(np.zeros(0, np.int16)).read_frame() is None


def test_music_on_hold_loops_per_leg() -> None:
    music = MusicOnHold([np.arange(300, dtype=np.int16), np.arange(300, 500, dtype=np.int16)])
    assert music.length == 500
    expected = np.tile(np.arange(500, dtype=np.int16), 4)
    first = music.source()
    first_out = np.concatenate([first.read_frame() for _ in range(10)])  # 1600 samples
    assert np.array_equal(first_out, expected[:1600])
    # A second leg put on hold later starts at the beginning, with its own position.
    second = music.source()
    assert np.array_equal(second.read_frame(), expected[:160])
    assert first.position == 1600 % 500 and second.position == 160
    late = music.source(start=450)
    assert np.array_equal(late.read_frame(), expected[450:610])  # across the wrap, still a view
    frame = late.read_frame()
    assert frame.base is not None and not frame.flags.writeable


def test_loop_shorter_than_a_frame() -> None:
    music = MusicOnHold([np.array([1, 2, 3], np.int16)])
    source = music.source()
    out = np.concatenate([source.read_frame() for _ in range(3)])
    assert np.array_equal(out, np.tile([1, 2, 3], 160))
    with pytest.raises(ValueError):
        MusicOnHold([])
    assert isinstance(source, LoopSource)


def test_silence() -> None:
    frames = drain(SilenceSource(3))
    assert len(frames) == 3 and not np.concatenate(frames).any()
    endless = SilenceSource()
    assert all(endless.read_frame() is not None for _ in range(1000))


def test_sequence() -> None:
    beep_then_prompt = SequenceSource(
        [tone_source(BEEP), PromptSource(np.full(160, 7, np.int16)), SilenceSource(1)]
    )
    frames = drain(beep_then_prompt)
    assert len(frames) == -(-2000 // FRAME_SAMPLES) + 1 + 1  # 0.25 s beep, a frame, silence
    assert np.all(frames[-2] == 7)


@pytest.mark.parametrize("tone", [RINGBACK_ITU, BUSY, RINGBACK_NA, BEEP])
def test_precomputed_tones_equal_synthesis(tone: Tone) -> None:
    # 12 s covers the cadence wrap of every tone here (ringback periods are 5-6 s).
    precomputed = tone_source(tone)
    synthesised = ToneSource(tone)
    for index in range(600):
        expected = synthesised.read()
        got = precomputed.read_frame()
        if expected is None:
            assert got is None
            break
        assert got is not None, index
        assert np.max(np.abs(got.astype(int) - expected.astype(int))) <= 1, index


def test_ringback_is_looped_not_synthesised() -> None:
    assert isinstance(tone_source(RINGBACK_ITU), LoopSource)
    assert isinstance(tone_source(BUSY), LoopSource)
    # 441.3 Hz over 1 s is not a whole number of cycles: synthesised frame by frame.
    odd = Tone(frequencies=(441.3,), level_dbm0=-10, cadence=(1.0, 0.0))
    assert isinstance(tone_source(odd), ToneFrames)
    assert tone_source(RINGBACK_ITU).read_frame() is not None


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    with WavWriter(buffer, sample_rate=rate) as writer:
        writer.write(samples.astype(np.int16))
    return buffer.getvalue()


def test_prompt_cache_loads_once_per_mtime(tmp_path: Path) -> None:
    reads: list[str] = []
    files = {"hello.wav": wav_bytes(np.full(1600, 1000), 16000)}

    def read(path: str) -> bytes:
        reads.append(path)
        return files[path]

    cache = PromptCache()
    first = cache.get("hello.wav", 1, read)
    assert len(first) == 800 and not first.flags.writeable  # resampled to 8 kHz
    assert cache.get("hello.wav", 1, read) is first
    assert reads == ["hello.wav"] and (cache.hits, cache.loads) == (1, 1)
    files["hello.wav"] = wav_bytes(np.full(800, 5), 8000)
    second = cache.get("hello.wav", 2, read)  # changed on disk: loaded again
    assert reads == ["hello.wav", "hello.wav"] and second[0] == 5
    assert len(cache) == 1  # the stale version was dropped


def test_prompt_cache_is_bounded() -> None:
    cache = PromptCache(max_samples=2000)
    data = wav_bytes(np.zeros(800), 8000)
    for name in "abc":
        cache.put(name, 0, data)
    assert len(cache) == 2 and cache.lookup("a", 0) is None  # least recently used went first
    assert cache.lookup("b", 0) is not None
    cache.put("d", 0, data)
    assert cache.lookup("c", 0) is None and cache.lookup("b", 0) is not None
    big = cache.put("big", 0, wav_bytes(np.zeros(3000), 8000))
    assert len(big) == 3000 and cache.lookup("big", 0) is None and len(cache) == 2


def test_loop_payloads_are_encoded_once_and_match_the_frames() -> None:
    music = MusicOnHold([np.arange(-2000, 2000, 7, dtype=np.int16)])
    frames, payloads = music.source(start=300), music.source(start=300)
    for _ in range(40):  # across the wrap, several times
        frame = frames.read_frame()
        assert payloads.read_payload("PCMU") == ulaw_encode(frame)
    alaw = music.source()
    assert alaw.read_payload("PCMA") == alaw_encode(music.source().read_frame())
    assert tone_source(BUSY).read_payload("PCMA") == alaw_encode(ToneSource(BUSY).read())  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="PCMU or PCMA"):
        music.source().read_payload("G722")
