"""Text-to-speech prompts rendered by espeak-ng, cached on disk, loaded as 8 kHz audio.

Theory of operation
-------------------
A prompt is identified by ``(text, voice, rate)``: its file in the cache directory is named by
a SHA-256 of those (and of the engine's name), so the same words in the same voice are
rendered once per installation, across restarts. ``espeak-ng -v VOICE -s RATE -w FILE -- TEXT``
runs as a subprocess with an argument list (never a shell; ``--`` ends the options, so text
starting with a dash is spoken, not parsed), writing to a temporary name that is renamed into
place only when the render succeeded: a crash never leaves a half file that a later request
would take for a cached one. Concurrent requests for the same prompt while it renders wait for
that one render. The WAV (22.05 kHz from espeak-ng) is then loaded through
:class:`tamas.runtime.prompts.PromptLoader`: decoded and resampled to 8 kHz once, off the loop.

Voices: any espeak-ng voice name, e.g. ``en``, ``fa`` (Persian), ``ar`` (Arabic). Text is
normalised to Unicode NFC first, so the same words typed differently share one file.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import os
import re
import unicodedata
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from tamas.core import TamasError
from tamas.runtime.prompts import PromptLoader

__all__ = ["TextToSpeech", "TtsError"]

Int16Array = npt.NDArray[np.int16]

_VOICE: Final = re.compile(r"[A-Za-z0-9_+-]{1,40}(/[A-Za-z0-9_+-]{1,40})?")
_MIN_RATE: Final = 80
_MAX_RATE: Final = 450
_MAX_TEXT: Final = 4000
_ENGINE: Final = "espeak-ng"


class TtsError(TamasError):
    """A prompt could not be rendered (bad request, missing voice, engine failure)."""


class TextToSpeech:
    """Renders and caches speech prompts; one per process, shared by all calls."""

    def __init__(
        self,
        cache_dir: str | os.PathLike[str],
        *,
        loader: PromptLoader | None = None,
        executable: str = _ENGINE,
        timeout: float = 30.0,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.loader = loader if loader is not None else PromptLoader()
        self.executable = executable
        self.timeout = timeout
        self.renders = 0
        self.hits = 0
        self._inflight: dict[Path, asyncio.Future[Path]] = {}
        self._tmp_names = itertools.count()

    def path_for(self, text: str, voice: str = "en", rate: int = 175) -> Path:
        """The cache file of a prompt (whether rendered yet or not); validates the request."""
        text = unicodedata.normalize("NFC", text).strip()
        if not text:
            raise TtsError("nothing to say: the text is empty")
        if len(text) > _MAX_TEXT:
            raise TtsError(f"text of {len(text)} characters is too long (at most {_MAX_TEXT})")
        if "\0" in text:
            raise TtsError("text contains a NUL character")
        if not _VOICE.fullmatch(voice):
            raise TtsError(f"not a voice name: {voice!r}")
        if not _MIN_RATE <= rate <= _MAX_RATE:
            raise TtsError(f"rate {rate} words/minute is outside {_MIN_RATE}-{_MAX_RATE}")
        key = json.dumps([_ENGINE, voice, rate, text], ensure_ascii=False).encode()
        return self.cache_dir / f"{hashlib.sha256(key).hexdigest()[:40]}.wav"

    async def render(self, text: str, voice: str = "en", rate: int = 175) -> Path:
        """The WAV file of ``text`` spoken in ``voice``, rendering it if not cached."""
        path = self.path_for(text, voice, rate)
        pending = self._inflight.get(path)
        if pending is None:
            if path.exists():
                self.hits += 1
                return path
            pending = asyncio.ensure_future(self._render(path, text, voice, rate))
            self._inflight[path] = pending
            pending.add_done_callback(lambda _: self._inflight.pop(path, None))
        return await asyncio.shield(pending)

    async def prompt(self, text: str, voice: str = "en", rate: int = 175) -> Int16Array:
        """``text`` spoken in ``voice`` as 8 kHz mono int16 samples (cached)."""
        return await self.loader.load(await self.render(text, voice, rate))

    async def _render(self, path: Path, text: str, voice: str, rate: int) -> Path:
        text = unicodedata.normalize("NFC", text).strip()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.{next(self._tmp_names)}.tmp")
        self.renders += 1
        try:
            process = await asyncio.create_subprocess_exec(
                self.executable,
                "-v",
                voice,
                "-s",
                str(rate),
                "-w",
                str(tmp),
                "--",
                text,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise TtsError(f"cannot run {self.executable}: {exc.strerror or exc}") from exc
        try:
            try:
                _, stderr = await asyncio.wait_for(process.communicate(), self.timeout)
            except TimeoutError:
                raise TtsError(
                    f"{self.executable} took more than {self.timeout:g} s for voice {voice!r}"
                ) from None
            if process.returncode != 0:
                reason = stderr.decode(errors="replace").strip() or f"exit {process.returncode}"
                raise TtsError(f"{self.executable} failed for voice {voice!r}: {reason}")
            if not tmp.exists() or tmp.stat().st_size <= 44:
                raise TtsError(f"{self.executable} produced no audio for voice {voice!r}")
            os.replace(tmp, path)
            return path
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
            tmp.unlink(missing_ok=True)
