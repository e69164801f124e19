"""Calls Tamas answers itself: the echo test and "play a prompt, then hang up"; hold music.

Conference rooms and monitor prefixes are handed to :mod:`tamas.runtime.conferencing`.

An application number (``media.applications`` in the configuration, ``*43`` and ``*44`` in
the demo) is routed here instead of to a phone. Tamas answers the caller with its own SDP
(PCMU or PCMA and telephone-event, whichever the caller offered) and then:

* **echo** - the caller's engine leg is bridged to a second, idle leg (it faces nobody and is
  never configured, so nothing is sent from it) with an :class:`EchoTap` on the bridge. The
  tap decodes what the caller sends and is also the caller leg's frame source, so the caller
  hears their own voice about one frame later. The idle leg only lends the bridge its tap.
* **prompt** - the file (``prompt_file``) or text-to-speech (``text`` in ``language``) is
  loaded off the loop and played; when it ends Tamas sends BYE.

:func:`chime` makes the default music on hold: a soft four-note arpeggio with a pause, at a
low level, so that the demo needs no music file.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from tamas.config.model import MediaApplication
from tamas.core.errors import TamasError
from tamas.media.g711 import alaw_decode, ulaw_decode
from tamas.media.playback import MusicOnHold, PromptSource
from tamas.media.tones import sine
from tamas.runtime.anchor import LegMedia, MediaAnchor
from tamas.runtime.conferencing import Conferencing
from tamas.runtime.mediaengine.api import FRAME_SAMPLES, Codec, CodecName

if TYPE_CHECKING:
    from tamas.runtime.b2bua import Call

log = logging.getLogger("tamas.calls")

__all__ = ["Applications", "EchoTap", "chime", "find_application"]

Int16Array = npt.NDArray[np.int16]
PromptLoad = Callable[[MediaApplication], Awaitable[Int16Array]]

_ECHO_MAX = 25 * FRAME_SAMPLES  # half a second: older audio is dropped
_SILENCE = np.zeros(FRAME_SAMPLES, np.int16)


def chime(level_dbm0: float = -24.0) -> MusicOnHold:
    """A soft C-E-G-E arpeggio (0.4 s notes with gentle attack and release), then 1.2 s rest."""
    notes = (523.25, 659.25, 783.99, 659.25)
    parts: list[Int16Array] = []
    for freq in notes:
        tone = sine(freq, 0.4, level_dbm0).astype(np.float64)
        envelope = np.minimum(1.0, np.minimum(np.arange(len(tone)) / 400.0,
                                              np.arange(len(tone))[::-1] / 1600.0))  # fmt: skip
        parts.append((tone * envelope).astype(np.int16))
    parts.append(np.zeros(int(1.2 * 8000), np.int16))
    return MusicOnHold([np.concatenate(parts)])


class EchoTap:
    """Both the tap that hears the caller (side 0) and the source that plays it back."""

    def __init__(self) -> None:
        self._pending: list[Int16Array] = []
        self._buffered = 0

    def feed(self, side: int, packet: bytes, codec: Codec) -> None:
        if side != 0 or len(packet) < 12:
            return
        start = 12 + 4 * (packet[0] & 0x0F)
        if packet[0] & 0x10 and len(packet) >= start + 4:
            start += 4 + 4 * int.from_bytes(packet[start + 2 : start + 4], "big")
        end = len(packet) - (packet[-1] if packet[0] & 0x20 else 0)
        if start >= end:
            return
        payload = packet[start:end]
        pcm = ulaw_decode(payload) if codec.name is CodecName.PCMU else alaw_decode(payload)
        self._pending.append(pcm)
        self._buffered += len(pcm)
        while self._buffered > _ECHO_MAX and self._pending:
            self._buffered -= len(self._pending.pop(0))

    def read_frame(self) -> Int16Array:
        if self._buffered < FRAME_SAMPLES:
            return _SILENCE
        joined = np.concatenate(self._pending)
        frame, rest = joined[:FRAME_SAMPLES], joined[FRAME_SAMPLES:]
        self._pending = [rest] if len(rest) else []
        self._buffered = len(rest)
        return frame


def find_application(apps: Iterable[MediaApplication], number: str) -> MediaApplication | None:
    """The application a dialed number reaches: its own number, a monitor prefix followed
    by the digits of an extension (the bare prefix reaches nothing), an agent's login code alone
    or followed by a PIN, or the pause code alone or followed by one reason digit."""
    for app in apps:
        if app.kind == "monitor":
            rest = number[len(app.number) :]
            if number.startswith(app.number) and rest.isdigit():
                return app
        elif app.kind == "park":
            rest = number[len(app.number) :]
            if number.startswith(app.number) and len(rest) == 1 and rest.isdigit():
                return app
        elif app.kind == "agent" and app.action == "login":
            rest = number[len(app.number) :]
            if number.startswith(app.number) and (rest == "" or rest.isdigit()):
                return app
        elif app.kind == "agent" and app.action == "pause":
            rest = number[len(app.number) :]
            if number.startswith(app.number) and (
                rest == "" or (len(rest) == 1 and rest.isdigit())
            ):
                return app
        elif app.number == number:
            return app
    return None


class Applications:
    """The numbers of ``media.applications`` and what happens when one answers."""

    def __init__(
        self,
        anchor: MediaAnchor,
        apps: tuple[MediaApplication, ...],
        load_prompt: PromptLoad,
        hang_up: Callable[[Call, str], None],
    ) -> None:
        self.anchor = anchor
        self.apps = {a.number: a for a in apps}
        self.load_prompt = load_prompt
        self.hang_up = hang_up
        self._tasks: set[asyncio.Task[None]] = set()
        self.conferencing = Conferencing(anchor, hang_up)
        #: Kinds served elsewhere (the contact center: ivr, queue, agent, voicemail...): the
        #: handler gets the call, the caller's leg, the application and the dialed number.
        self.handlers: dict[str, Callable[[Call, LegMedia, MediaApplication, str], None]] = {}

    def find(self, number: str) -> MediaApplication | None:
        return find_application(self.apps.values(), number)

    def legs_needed(self, app: MediaApplication) -> int:
        return 2 if app.kind == "echo" else 1

    def start(
        self, call: Call, caller: LegMedia, app: MediaApplication, dialed: str | None = None
    ) -> None:
        """The caller's leg is answered and configured: run ``app`` on it (``dialed``: the
        number that reached it, when not the call's own, e.g. a transfer's target)."""
        log.info("call %s: application %s (%s)", call.id, app.number, app.kind)
        handler = self.handlers.get(app.kind)
        if handler is not None:
            if dialed is None:
                dialed = call.record.callee if call.record is not None else ""
            handler(call, caller, app, dialed)
            return
        if app.kind == "echo":
            idle = self.anchor.open(call, "echo", caller.peer_host)
            echo = EchoTap()
            self.anchor.engine.bridge(caller.engine, idle.engine, tap=echo)
            self.anchor.play(caller, echo)
            return
        if app.kind == "conference":
            self.conferencing.join(call, caller, app)
            return
        if app.kind == "monitor":
            self.conferencing.monitor(call, caller, app)
            return
        task = asyncio.get_running_loop().create_task(self._prompt(call, caller, app))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _prompt(self, call: Call, caller: LegMedia, app: MediaApplication) -> None:
        try:
            samples = await self.load_prompt(app)
        except (OSError, TamasError) as e:  # a missing file or a failed TTS render
            log.error("call %s: prompt of %s cannot be played: %s", call.id, app.number, e)
            self.hang_up(call, "prompt-failed")
            return
        media = call.media
        if media is None or caller.engine not in media.legs:
            return  # the caller hung up meanwhile
        media.on_source_finished = lambda: self.hang_up(call, "prompt-played")
        self.anchor.play(caller, PromptSource(samples))

    def warm(self) -> None:
        """Load (render) every prompt now, in the background, so that no first caller waits."""
        for app in self.apps.values():
            if app.kind == "prompt":
                task = asyncio.get_running_loop().create_task(self._warm(app))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _warm(self, app: MediaApplication) -> None:
        try:
            await self.load_prompt(app)
        except (OSError, TamasError) as e:
            log.error("prompt of %s cannot be played: %s", app.number, e)

    def close(self) -> None:
        self.conferencing.close()
        for task in self._tasks:
            task.cancel()
