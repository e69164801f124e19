"""Text-to-speech through the real espeak-ng: English, Persian, Arabic; disk cache; one render."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tamas.media.wav import WavError, parse_wav
from tamas.runtime.prompts import PromptLoader
from tamas.runtime.tts import TextToSpeech, TtsError

PERSIAN = "سلام، به مرکز تماس خوش آمدید"
ARABIC = "مرحبا بكم في مركز الاتصال"


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def sox_seconds(path: Path) -> float:
    out = subprocess.run(["sox", "--i", "-D", str(path)], check=True, capture_output=True)
    return float(out.stdout)


@pytest.mark.parametrize(
    ("voice", "text"),
    [("en", "Welcome to the Tamas contact center"), ("fa", PERSIAN), ("ar", ARABIC)],
)
def test_render_is_speech_at_8k(tmp_path: Path, voice: str, text: str) -> None:
    tts = TextToSpeech(tmp_path / "tts")

    async def go() -> tuple[Path, np.ndarray]:
        path = await tts.render(text, voice)
        return path, await tts.prompt(text, voice)

    path, samples = asyncio.run(go())
    assert path.parent == tmp_path / "tts" and path.suffix == ".wav"
    info, _ = parse_wav(path.read_bytes())
    assert info.sample_rate == 22050 and info.channels == 1  # as espeak-ng writes it
    seconds = sox_seconds(path)
    assert 0.8 < seconds < 10
    assert samples.dtype == np.int16 and abs(len(samples) - seconds * 8000) <= 1
    # Speech, not silence: loud overall, with quiet gaps between words.
    assert rms(samples) > 500
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160)
    loudness = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    assert (loudness > 1000).mean() > 0.3 and (loudness < 100).any()
    assert (tts.renders, tts.hits) == (1, 1)  # prompt() found the file render() made


def test_languages_and_voices_are_distinct_files(tmp_path: Path) -> None:
    tts = TextToSpeech(tmp_path)
    paths = {
        tts.path_for(PERSIAN, "fa"),
        tts.path_for(PERSIAN, "ar"),
        tts.path_for(PERSIAN, "fa", 140),
        tts.path_for(ARABIC, "ar"),
    }
    assert len(paths) == 4
    # The same words in another Unicode normalisation are the same prompt.
    assert tts.path_for("café", "en") == tts.path_for("cafe\u0301", "en")


def test_cache_hit_across_instances_without_rendering(tmp_path: Path) -> None:
    first = TextToSpeech(tmp_path)
    path = asyncio.run(first.render("Please hold", "en"))
    mtime = path.stat().st_mtime_ns
    second = TextToSpeech(tmp_path, executable="/nonexistent/espeak-ng")  # cannot render
    assert asyncio.run(second.render("Please hold", "en")) == path
    assert (second.renders, second.hits) == (0, 1) and path.stat().st_mtime_ns == mtime


def test_concurrent_requests_render_once(tmp_path: Path) -> None:
    tts = TextToSpeech(tmp_path)

    async def go() -> list[np.ndarray]:
        return await asyncio.gather(*(tts.prompt(PERSIAN, "fa") for _ in range(8)))

    prompts = asyncio.run(go())
    assert tts.renders == 1
    assert all(p is prompts[0] for p in prompts)  # one decode, shared
    assert [p.name for p in tmp_path.iterdir()] == [tts.path_for(PERSIAN, "fa").name]


def test_text_is_never_an_option(tmp_path: Path) -> None:
    tts = TextToSpeech(tmp_path)
    samples = asyncio.run(tts.prompt("-v xx --version", "en"))
    assert rms(samples) > 500


def test_failures_are_errors_and_leave_nothing(tmp_path: Path) -> None:
    tts = TextToSpeech(tmp_path)
    with pytest.raises(TtsError, match="failed for voice 'xx'"):
        asyncio.run(tts.render("hello", "xx"))
    assert list(tmp_path.iterdir()) == []
    for bad in [("", "en", 175), ("hi", "en; rm -rf /", 175), ("hi", "en", 10)]:
        with pytest.raises(TtsError):
            tts.path_for(*bad)
    missing = TextToSpeech(tmp_path, executable=str(tmp_path / "no-such-tts"))
    with pytest.raises(TtsError, match="cannot run"):
        asyncio.run(missing.render("hello"))


def test_prompt_loader_reloads_changed_files(tmp_path: Path) -> None:
    path = tmp_path / "p.wav"
    subprocess.run(
        ["sox", "-n", "-r", "16000", str(path), "synth", "0.5", "sine", "300"], check=True
    )
    loader = PromptLoader()

    async def go() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a, b = await asyncio.gather(loader.load(path), loader.load(path))
        subprocess.run(
            ["sox", "-n", "-r", "44100", str(path), "synth", "0.25", "sine", "300"], check=True
        )
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
        return a, b, await loader.load(path)

    a, b, c = asyncio.run(go())
    assert a is b and len(a) == 4000
    assert len(c) == 2000 and loader.cache.loads == 2


def fake_engine(tmp_path: Path, body: str) -> str:
    """A stand-in for espeak-ng that misbehaves: a shell script given the same arguments."""
    script = tmp_path / "fake-espeak"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    return str(script)


def test_hung_engine_is_killed_and_leaves_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    hung = fake_engine(tmp_path, 'echo partial > "$6"; exec sleep 30')  # $6 is the -w file
    tts = TextToSpeech(cache, executable=hung, timeout=0.5)
    with pytest.raises(TtsError, match=r"took more than 0.5 s"):
        asyncio.run(tts.render("hello"))
    assert list(cache.iterdir()) == []


def test_failed_render_leaves_no_partial_file(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    broken = fake_engine(tmp_path, 'echo partial > "$6"; echo "out of voices" >&2; exit 3')
    tts = TextToSpeech(cache, executable=broken)
    with pytest.raises(TtsError, match="out of voices"):
        asyncio.run(tts.render("hello"))
    assert list(cache.iterdir()) == []
    silent = TextToSpeech(cache, executable=fake_engine(tmp_path, "exit 0"))
    with pytest.raises(TtsError, match="no audio"):
        asyncio.run(silent.render("hello"))
    assert list(cache.iterdir()) == []


def test_prompt_loader_refuses_missing_and_oversized_files(tmp_path: Path) -> None:
    path = tmp_path / "big.wav"
    subprocess.run(["sox", "-n", "-r", "8000", str(path), "synth", "1", "sine", "300"], check=True)
    loader = PromptLoader(max_bytes=10_000)
    with pytest.raises(WavError, match="too large for a prompt"):
        asyncio.run(loader.load(path))
    with pytest.raises(WavError, match=r"missing\.wav: cannot read"):
        asyncio.run(loader.load(tmp_path / "missing.wav"))
    assert len(asyncio.run(PromptLoader().load(path))) == 8000
