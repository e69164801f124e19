"""Prompt files loaded off the event loop into the shared :class:`PromptCache`.

The cache (pure, in ``tamas.media.playback``) is keyed by path and modification time. Here
the file is stat'ed on the loop (cheap), and on a miss read and decoded (resampling can take
tens of milliseconds for a long 44.1 kHz file) in a worker thread; the decoded samples are
stored on the loop, so the cache is only ever touched from one thread. Concurrent requests for
the same file while it is being decoded share one decode.
"""

from __future__ import annotations

import asyncio
import os

import numpy as np
import numpy.typing as npt

from tamas.media.playback import PromptCache
from tamas.media.wav import WavError, decode_wav

__all__ = ["PromptLoader"]

Int16Array = npt.NDArray[np.int16]


def _read_and_decode(path: str, rate: int, max_bytes: int) -> Int16Array:
    try:
        with open(path, "rb") as file:
            data = file.read(max_bytes + 1)
    except OSError as exc:
        raise WavError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise WavError(f"{path}: larger than {max_bytes} bytes, too large for a prompt")
    return decode_wav(data, rate=rate, name=path)


class PromptLoader:
    """Loads WAV prompts as 8 kHz mono int16, each file decoded once per version."""

    def __init__(self, cache: PromptCache | None = None, *, max_bytes: int = 64 << 20) -> None:
        self.cache = cache if cache is not None else PromptCache()
        #: Larger files are refused (a 64 MB WAV is over an hour of 8 kHz 16-bit audio).
        self.max_bytes = max_bytes
        self._inflight: dict[tuple[str, int], asyncio.Future[Int16Array]] = {}

    async def load(self, path: str | os.PathLike[str]) -> Int16Array:
        """The prompt at ``path`` (decoded and resampled once, then from the cache)."""
        name = os.fspath(path)
        try:
            mtime_ns = os.stat(name).st_mtime_ns
        except OSError as exc:
            raise WavError(f"{name}: cannot read: {exc.strerror or exc}") from exc
        cached = self.cache.lookup(name, mtime_ns)
        if cached is not None:
            return cached
        key = (name, mtime_ns)
        pending = self._inflight.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._decode(name, mtime_ns))
            self._inflight[key] = pending
            pending.add_done_callback(lambda _: self._inflight.pop(key, None))
        return await asyncio.shield(pending)

    async def _decode(self, name: str, mtime_ns: int) -> Int16Array:
        samples = await asyncio.to_thread(_read_and_decode, name, self.cache.rate, self.max_bytes)
        return self.cache.store(name, mtime_ns, samples)
