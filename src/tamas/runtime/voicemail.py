"""Voicemail: leaving a message, and the mailbox by phone (``*97``, ``*98``).

Theory of operation
-------------------
**Leaving a message** (:meth:`Voicemail.leave`, called when a call is routed to a box: from
the IVR, a queue's overflow, a busy or unanswered extension, or a ``voicemail`` application).
The caller's engine leg is bridged to an idle engine leg of the call (it faces nobody and
sends nothing), because the engine taps only bridges; the caller leg's *source* plays the
greeting (the box's WAV file, or the spoken default in the box's language) and a beep. When
that source ends, a mono 8 kHz recording (:class:`~tamas.runtime.recorder.Recorder`, the
writer thread shared with call recording) is put on the bridge as its tap, and the caller
hears silence. The recording stops when the caller presses ``#`` (at the key's start, so the
key is not in the message), at ``max_seconds``, or when the call ends: the anchor's ended
hook runs before the legs close, and the recorder writes everything up to the stop time, so a
hang-up never loses the end. A message shorter than :data:`MIN_SECONDS` is deleted. A kept
one gets its row (in a worker thread), a ``VOICEMAIL`` event-log record through ``emit``, and
an e-mail to the box's address (:mod:`tamas.runtime.voicemail_mail`).

**The mailbox by phone** runs :class:`~tamas.runtime.voicemail_menu.MailboxMenu`, the pure
menu, and carries out its commands (:class:`~tamas.runtime.voicemail_session.MailboxSession`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from tamas.config.model import MediaApplication
from tamas.config.voicemail import VoicemailConfig
from tamas.core.errors import TamasError
from tamas.core.events import LogRecord
from tamas.core.ids import new_id
from tamas.media.playback import PromptSource, SilenceSource
from tamas.media.recording import Layout
from tamas.media.tones import sine
from tamas.runtime.anchor import CallDigit, LegMedia, MediaAnchor
from tamas.runtime.mediaengine.api import MediaError
from tamas.runtime.recorder import ActiveRecording, Recorder, RecordingMetadata
from tamas.runtime.voicemail_mail import Mailer, Notice
from tamas.runtime.voicemail_phrases import greeting_text
from tamas.runtime.voicemail_session import MailboxSession
from tamas.store.voicemail import VoicemailMessage, Voicemails

if TYPE_CHECKING:
    from tamas.runtime.b2bua import Call

__all__ = ["MIN_SECONDS", "Voicemail", "access_applications"]

log = logging.getLogger("tamas.voicemail")

Int16Array = npt.NDArray[np.int16]
#: Text and language in, 8 kHz samples out (``TextToSpeech.prompt`` fits).
Speaker = Callable[[str, str], Awaitable[Int16Array]]
#: A WAV file in, 8 kHz samples out (``PromptLoader.load`` fits).
FileLoader = Callable[[Path], Awaitable[Int16Array]]

#: Messages shorter than this are not kept.
MIN_SECONDS: Final = 1.0
_BEEP: Final = np.concatenate([np.zeros(1600, np.int16), sine(1000.0, 0.4, -13.0)])


def access_applications(config: VoicemailConfig) -> tuple[MediaApplication, ...]:
    """The ``voicemail_main`` applications of the access numbers (``*97``, ``*98``), to add
    to ``media.applications`` when building :class:`~tamas.runtime.apps.Applications`."""
    numbers = (config.own_box_number, config.any_box_number)
    return tuple(MediaApplication(number=n, kind="voicemail_main") for n in numbers if n)


class _Stage(Enum):
    GREETING = "greeting"
    RECORDING = "recording"
    DONE = "done"


class Voicemail:
    """Every voicemail call of a running server (one per process, built at start-up)."""

    def __init__(
        self,
        config: VoicemailConfig,
        *,
        anchor: MediaAnchor,
        recorder: Recorder,
        messages: Voicemails,
        data_dir: Path,
        speak: Speaker,
        load_file: FileLoader,
        mailer: Mailer | None,
        emit: Callable[[LogRecord], object],
        hang_up: Callable[[Call, str], None],
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.anchor = anchor
        self.recorder = recorder
        self.messages = messages
        self.data_dir = Path(data_dir)
        self.speak = speak
        self.load_file = load_file
        self.mailer = mailer
        self.emit = emit
        self.hang_up = hang_up
        self.wall_clock = wall_clock
        self.deposits: dict[str, _Deposit] = {}
        self.sessions: dict[str, MailboxSession] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        anchor.digit_hooks.append(self._on_digit)
        anchor.ended_hooks.append(self._on_ended)

    # -- what the call routing calls -----------------------------------------------------------

    def access(self, number: str) -> str | None:
        """``"own"`` for the own-box number, ``"any"`` for the any-box number, else None."""
        if number == self.config.own_box_number:
            return "own"
        if number == self.config.any_box_number:
            return "any"
        return None

    def handle_application(
        self, call: Call, caller: LegMedia, app: MediaApplication, dialed: str
    ) -> None:
        """An ``Applications.handlers`` entry for the kinds ``voicemail`` (leave a message in
        ``app.box``) and ``voicemail_main`` (the mailbox menu: the own box for the own-box
        number, ``app.box`` when set, else any box)."""
        access = self.access(dialed)
        if app.kind == "voicemail":
            self.leave(call, caller, app.box or "")
        elif access == "own":
            self.check_mailbox(call, caller, ask_box=False)
        elif access is None and app.box is not None:
            self.check_mailbox(call, caller, ask_box=False, box=app.box)
        else:
            self.check_mailbox(call, caller, ask_box=True)

    def leave(self, call: Call, caller: LegMedia, box: str) -> None:
        """Greet the caller of the answered ``call`` and record a message for ``box``."""
        if self.config.mailbox(box) is None:
            log.warning("call %s: voicemail box %s is not configured", call.id, box)
            self.hang_up(call, "voicemail-no-box")
            return
        deposit = _Deposit(self, call, caller, box)
        self.deposits[call.id] = deposit
        self.spawn(deposit.start())

    def check_mailbox(
        self, call: Call, caller: LegMedia, *, ask_box: bool, box: str | None = None
    ) -> None:
        """The mailbox menu for the answered ``call``: ``ask_box`` for ``*98`` (any box),
        else ``box`` or, by default, the box numbered as the caller's extension (``*97``)."""
        if box is None and not ask_box and call.a is not None:
            box = call.a.extension
        session = MailboxSession(self, call, caller, box=None if ask_box else box,
                                 ask_box=ask_box)  # fmt: skip
        self.sessions[call.id] = session
        session.start()

    # -- hooks ---------------------------------------------------------------------------------

    def _on_digit(self, digit: CallDigit) -> None:
        deposit = self.deposits.get(digit.call_id)
        if deposit is not None:
            deposit.digit(digit)
            return
        session = self.sessions.get(digit.call_id)
        if session is not None:
            session.digit(digit.digit)

    def _on_ended(self, call_id: str) -> None:
        deposit = self.deposits.pop(call_id, None)
        if deposit is not None:
            deposit.finish("hangup", hang_up=False)
        session = self.sessions.pop(call_id, None)
        if session is not None:
            session.ended()

    # -- shared helpers ------------------------------------------------------------------------

    def spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def box_path(self, box: str, message_id: str) -> Path:
        return Path("voicemail") / box / f"{message_id}.wav"

    async def keep(self, deposit: _Deposit, meta: RecordingMetadata, at: float) -> None:
        """A finished recording: discard it if too short, else store, log and mail it."""
        path = self.data_dir / deposit.relative
        if meta.duration < MIN_SECONDS:
            await asyncio.to_thread(path.unlink, missing_ok=True)
            log.info("call %s: voicemail for %s discarded (%.2f s)", deposit.call.id,
                     deposit.box, meta.duration)  # fmt: skip
            return
        caller = "anonymous"
        if deposit.call.record is not None:
            caller = deposit.call.record.caller
        message = VoicemailMessage(id=deposit.message_id, box=deposit.box, caller=caller,
                                   call_id=deposit.call.id, at=at, duration=meta.duration,
                                   path=deposit.relative.as_posix())  # fmt: skip
        try:
            await asyncio.to_thread(self.messages.add_message, message)
        except TamasError as exc:
            log.error("voicemail %s not stored: %s", message.id, exc)
            return
        log.info("call %s: voicemail %s for %s from %s (%.1f s)", message.call_id, message.id,
                 message.box, caller, message.duration)  # fmt: skip
        self.emit(LogRecord(at=at, call_id=message.call_id, event="VOICEMAIL",
                            data=(message.box, f"{message.duration:.2f}", message.id)))  # fmt: skip
        mailbox = self.config.mailbox(message.box)
        if self.mailer is not None and mailbox is not None and mailbox.email:
            attachment = path if self.config.email_attach else None
            self.mailer.send(Notice(to=mailbox.email, box=message.box, box_name=mailbox.name,
                                    caller=caller, at=at, duration=message.duration,
                                    message_id=message.id, attachment=attachment))  # fmt: skip

    async def aclose(self) -> None:
        """Stop every recording (kept as on hang-up) and wait for the pending work."""
        for deposit in list(self.deposits.values()):
            deposit.finish("shutdown", hang_up=False)
        self.deposits.clear()
        for session in list(self.sessions.values()):
            session.ended()
        self.sessions.clear()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


class _Deposit:
    """One caller leaving one message (see the module docstring)."""

    def __init__(self, vm: Voicemail, call: Call, caller: LegMedia, box: str) -> None:
        self.vm = vm
        self.call = call
        self.caller = caller
        self.box = box
        self.stage = _Stage.GREETING
        self.message_id = new_id(8)
        self.relative = vm.box_path(box, self.message_id)
        self.recording: ActiveRecording | None = None
        self.started_at = 0.0
        self._timer: asyncio.TimerHandle | None = None

    async def start(self) -> None:
        anchor = self.vm.anchor
        if not anchor.ready(1):
            ready: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

            def then(ok: bool) -> None:
                if not ready.done():
                    ready.set_result(ok)

            anchor.pool.when_ready(1, then)
            if not await ready:
                self._give_up("no media leg for the recording")
                return
        if self.stage is not _Stage.GREETING:
            return  # the caller hung up meanwhile
        idle = anchor.open(self.call, "voicemail", self.caller.peer_host)
        try:
            anchor.engine.bridge(self.caller.engine, idle.engine)
        except MediaError as exc:
            self._give_up(str(exc))
            return
        greeting = await self._greeting()
        media = self.call.media
        if self.stage is not _Stage.GREETING or media is None:
            return
        media.on_source_finished = self._record
        anchor.play(self.caller, PromptSource(*greeting, _BEEP))

    async def _greeting(self) -> tuple[Int16Array, ...]:
        mailbox = self.vm.config.mailbox(self.box)
        language = mailbox.language if mailbox is not None else "en"
        try:
            if mailbox is not None and mailbox.greeting is not None:
                return (await self.vm.load_file(mailbox.greeting),)
            return (await self.vm.speak(greeting_text(self.box, language), language),)
        except (OSError, TamasError) as exc:  # the beep alone still lets the caller speak
            log.warning("call %s: greeting of box %s cannot be played: %s", self.call.id,
                        self.box, exc)  # fmt: skip
            return ()

    def _record(self) -> None:
        """The beep has been played: record from now on."""
        media = self.call.media
        if self.stage is not _Stage.GREETING or media is None:
            return
        vm = self.vm
        media.on_source_finished = None
        begun = vm.recorder.clock()
        # 16-bit PCM whatever the call recordings keep: a message is mailed and played on
        # whatever the user has, and some players read only PCM WAV (Python's wave, for one).
        self.recording = vm.recorder.open(
            vm.data_dir / self.relative, layout=Layout.MONO, now=begun, samples="pcm16"
        )
        self.started_at = vm.wall_clock()
        try:
            vm.anchor.engine.set_tap(self.caller.engine, self.recording)
        except MediaError as exc:
            self.stage = _Stage.RECORDING
            self.finish(f"failed: {exc}", hang_up=True)
            return
        self.stage = _Stage.RECORDING
        vm.anchor.play(self.caller, SilenceSource())
        loop = asyncio.get_running_loop()
        # A late timer (a busy machine) still cuts the message at exactly max_seconds.
        limit = begun + vm.config.max_seconds
        self._timer = loop.call_later(
            vm.config.max_seconds, lambda: self.finish("max-length", now=limit)
        )
        log.info("call %s: recording voicemail for %s", self.call.id, self.box)

    def digit(self, digit: CallDigit) -> None:
        if digit.digit != "#" or self.stage is not _Stage.RECORDING:
            return
        # stop where the key began: convert the loop time of its start to the recorder's clock
        loop_now = asyncio.get_running_loop().time()
        began = digit.at - digit.duration_ms / 1000.0
        self.finish("key", now=self.vm.recorder.clock() - max(0.0, loop_now - began))

    def finish(self, reason: str, *, hang_up: bool = True, now: float | None = None) -> None:
        """Stop (at ``now`` on the recorder's clock, else now) and keep the message; hang up
        unless the call is ending anyway."""
        stage, self.stage = self.stage, _Stage.DONE
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if stage is _Stage.DONE:
            return
        self.vm.deposits.pop(self.call.id, None)
        if stage is _Stage.RECORDING and self.recording is not None:
            self.recording.stop_nowait(now)
            self.vm.spawn(self._kept())
        if hang_up:
            self.vm.hang_up(self.call, f"voicemail-{reason}")

    async def _kept(self) -> None:
        assert self.recording is not None
        try:
            meta = await asyncio.wrap_future(self.recording.done)
        except Exception as exc:  # the recording failed (a full disk): logged by the recorder
            log.error("call %s: voicemail for %s lost: %s", self.call.id, self.box, exc)
            return
        await self.vm.keep(self, meta, self.started_at)

    def _give_up(self, why: str) -> None:
        log.error("call %s: cannot record voicemail for %s: %s", self.call.id, self.box, why)
        self.finish("failed", hang_up=True)
