"""Playing speech and prompt files to a caller Tamas answered, then telling who asked.

The IVR and the queues speak through one :class:`Speaker` per server. A request names the
call's leg, what to say (text in a language, rendered by espeak-ng and cached on disk, or a
WAV file), and what to run when it has been heard. Rendering and decoding happen off the
loop (:mod:`tamas.runtime.tts`, :mod:`tamas.runtime.prompts`); a newer request on the same leg
supersedes an older one (its callback never runs). When a playback ends the leg goes back to
its *background*: music on hold for a queue caller, silence otherwise.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tamas.core.errors import TamasError
from tamas.media.playback import FrameSource, PromptSource
from tamas.media.wav import WavError
from tamas.runtime.prompts import PromptLoader
from tamas.runtime.tts import TextToSpeech

if TYPE_CHECKING:
    from tamas.runtime.anchor import LegMedia, MediaAnchor
    from tamas.runtime.b2bua import Call

log = logging.getLogger("tamas.calls")

__all__ = ["Clip", "Speaker"]


@dataclass(frozen=True, slots=True)
class Clip:
    """Something to play: ``text`` spoken in ``language``, or the WAV file at ``path``."""

    text: str = ""
    language: str = "en"
    path: str = ""


class Speaker:
    def __init__(self, anchor: MediaAnchor, tts: TextToSpeech, prompts: PromptLoader) -> None:
        self.anchor = anchor
        self.tts = tts
        self.prompts = prompts
        self._serial: dict[str, int] = {}  # by call id: the request that may still play
        self._done: dict[str, Callable[[], None]] = {}
        self._background: dict[str, Callable[[], FrameSource | None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def background(self, call: Call, source: Callable[[], FrameSource | None] | None) -> None:
        """What ``call``'s caller hears between playbacks (None: silence)."""
        if source is None:
            self._background.pop(call.id, None)
        else:
            self._background[call.id] = source

    def say(
        self, call: Call, leg: LegMedia, clips: Sequence[Clip], then: Callable[[], None] | None
    ) -> None:
        """Play ``clips`` to ``leg`` in order; run ``then`` when they have been heard."""
        serial = self._serial.get(call.id, 0) + 1
        self._serial[call.id] = serial
        self._done.pop(call.id, None)
        task = asyncio.get_running_loop().create_task(self._play(call, leg, clips, then, serial))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stop(self, call: Call, leg: LegMedia | None) -> None:
        """Stop what is playing (no callback runs); the leg hears its background."""
        self._serial[call.id] = self._serial.get(call.id, 0) + 1
        self._done.pop(call.id, None)
        if call.media is not None:
            call.media.on_source_finished = None
        if leg is not None:
            self.anchor.play(leg, self._back(call))

    def forget(self, call_id: str) -> None:
        """The call ended."""
        self._serial.pop(call_id, None)
        self._done.pop(call_id, None)
        self._background.pop(call_id, None)

    def _back(self, call: Call) -> FrameSource | None:
        make = self._background.get(call.id)
        return make() if make is not None else None

    async def _play(
        self, call: Call, leg: LegMedia, clips: Sequence[Clip],
        then: Callable[[], None] | None, serial: int,
    ) -> None:  # fmt: skip
        parts = []
        for clip in clips:
            try:
                if clip.path:
                    parts.append(await self.prompts.load(clip.path))
                elif clip.text:
                    parts.append(await self.tts.prompt(clip.text, clip.language))
            except (OSError, WavError, TamasError) as e:
                log.error("call %s: cannot play %s: %s", call.id, clip.path or repr(clip.text), e)
        if self._serial.get(call.id) != serial or call.media is None:
            return  # superseded, or the call ended
        if not parts:
            if then is not None:
                then()
            return
        samples = np.concatenate(parts)

        def finished() -> None:
            if self._serial.get(call.id) != serial:
                return
            if call.media is not None:
                call.media.on_source_finished = None
            self.anchor.play(leg, self._back(call))
            if then is not None:
                then()

        call.media.on_source_finished = finished
        self.anchor.play(leg, PromptSource(samples))

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
