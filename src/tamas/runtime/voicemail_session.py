"""One caller in the mailbox menu: carries out what :class:`MailboxMenu` decides.

The menu is pure; this adapter only pumps. It feeds the menu the call's start, the caller's
keys, the end of each played prompt, the loaded messages and its timer (``loop.time()`` is
the menu's ``now``), and does what the commands say:

* ``Play`` - the phrases are rendered (text-to-speech in the box's language, cached on disk)
  and the messages read from their WAV files, off the loop; then they play as one source on
  the caller's leg. Each Play has a *generation*: a newer Play (a key pressed meanwhile)
  silences the older one at once, and a render that finishes late is dropped.
* ``LoadMessages``, ``MarkOld``, ``Delete`` - the store, in a worker thread. A deleted message's
  row is marked deleted and its file removed.
* ``HangUp`` - the call is ended with cause ``voicemail-<reason>``.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from tamas.core.errors import TamasError
from tamas.media.playback import PromptSource, SilenceSource
from tamas.media.wav import read_wav
from tamas.runtime.anchor import LegMedia
from tamas.runtime.voicemail_menu import (
    Audio,
    Command,
    Delete,
    DigitPressed,
    Event,
    HangUp,
    LoadMessages,
    LoggedIn,
    MailboxMenu,
    MarkOld,
    MessageInfo,
    MessagesLoaded,
    Play,
    PlayEnded,
    Started,
    TimerFired,
)
from tamas.runtime.voicemail_phrases import phrase_text
from tamas.store.voicemail import MAX_PAGE, MessageStatus

if TYPE_CHECKING:
    from tamas.runtime.b2bua import Call
    from tamas.runtime.voicemail import Voicemail

__all__ = ["MailboxSession"]

log = logging.getLogger("tamas.voicemail")

Int16Array = npt.NDArray[np.int16]


class MailboxSession:
    """The mailbox menu on one call."""

    def __init__(
        self, vm: Voicemail, call: Call, caller: LegMedia, *, box: str | None, ask_box: bool
    ) -> None:
        self.vm = vm
        self.call = call
        self.caller = caller
        pins = {b.box: b.pin for b in vm.config.boxes}
        self.menu = MailboxMenu(pins, box=box, ask_box=ask_box)
        mailbox = vm.config.mailbox(box) if box is not None else None
        self.language = mailbox.language if mailbox is not None else "en"
        self.paths: dict[str, Path] = {}
        self.alive = True
        self._generation = 0
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._feed(Started())

    def digit(self, digit: str) -> None:
        self._feed(DigitPressed(digit=digit))

    def ended(self) -> None:
        """The call is ending: nothing more is played or decided."""
        self.alive = False
        self._generation += 1
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # -- the pump ------------------------------------------------------------------------------

    def _feed(self, event: Event) -> None:
        if not self.alive:
            return
        loop = asyncio.get_running_loop()
        for command in self.menu.handle(event, loop.time()):
            self._do(command)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.menu.deadline
        if deadline is not None and self.alive:
            self._timer = loop.call_at(deadline, self._feed, TimerFired())

    def _do(self, command: Command) -> None:
        vm = self.vm
        if isinstance(command, Play):
            self._generation += 1
            vm.anchor.play(self.caller, SilenceSource())
            if command.items:
                vm.spawn(self._play(command, self._generation))
        elif isinstance(command, LoggedIn):
            mailbox = vm.config.mailbox(command.box)
            self.language = mailbox.language if mailbox is not None else self.language
            log.info("call %s: mailbox %s logged in", self.call.id, command.box)
        elif isinstance(command, LoadMessages):
            vm.spawn(self._load(command.box))
        elif isinstance(command, MarkOld):
            vm.spawn(self._mark(command.message_id, MessageStatus.OLD))
        elif isinstance(command, Delete):
            vm.spawn(self._mark(command.message_id, MessageStatus.DELETED))
        elif isinstance(command, HangUp):
            if command.reason == "login-failed":
                log.warning("call %s: mailbox login failed %d times", self.call.id,
                            self.menu.failures)  # fmt: skip
            self.alive = False
            vm.hang_up(self.call, f"voicemail-{command.reason}")

    # -- the commands' work --------------------------------------------------------------------

    async def _play(self, play: Play, generation: int) -> None:
        parts: list[Int16Array] = []
        for item in play.items:
            try:
                if isinstance(item, Audio):
                    parts.append(await asyncio.to_thread(read_wav, self.paths[item.message_id]))
                else:
                    text = phrase_text(item.phrase, item.numbers, self.language)
                    parts.append(await self.vm.speak(text, self.language))
            except (OSError, KeyError, TamasError) as exc:
                log.warning("call %s: voicemail prompt skipped: %s", self.call.id, exc)
        media = self.call.media
        if generation != self._generation or not self.alive or media is None:
            return
        if not parts:
            asyncio.get_running_loop().call_soon(self._played, generation)
            return
        media.on_source_finished = lambda: self._played(generation)
        self.vm.anchor.play(self.caller, PromptSource(*parts))

    def _played(self, generation: int) -> None:
        if generation == self._generation:
            self._feed(PlayEnded())

    async def _load(self, box: str) -> None:
        rows = await asyncio.to_thread(self.vm.messages.list_messages, box=box, limit=MAX_PAGE)
        ordered = sorted(rows, key=lambda m: m.status is not MessageStatus.NEW)  # stable
        self.paths = {m.id: self.vm.data_dir / m.path for m in ordered}
        infos = tuple(MessageInfo(id=m.id, new=m.status is MessageStatus.NEW) for m in ordered)
        self._feed(MessagesLoaded(messages=infos))

    async def _mark(self, message_id: str, status: MessageStatus) -> None:
        await asyncio.to_thread(self.vm.messages.set_status, message_id, status)
        if status is MessageStatus.DELETED:
            path = self.paths.get(message_id)
            if path is not None:
                await asyncio.to_thread(path.unlink, missing_ok=True)
            log.info("call %s: voicemail %s deleted by phone", self.call.id, message_id)
