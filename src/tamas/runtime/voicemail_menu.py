"""The mailbox-by-phone menu (``*97``, ``*98``) as a pure state machine.

Theory of operation
-------------------
:class:`MailboxMenu` takes events (the call started, a key, a played prompt ended, the box's
messages were loaded, a timer fired) with ``now`` and returns commands (play these phrases and
messages, load a box's messages, mark a message heard or deleted, hang up). It reads no clock,
touches no file or socket: the runtime (:mod:`tamas.runtime.voicemail`) carries the commands
out and calls :meth:`MailboxMenu.handle` with :class:`TimerFired` once ``now`` reaches
:attr:`MailboxMenu.deadline`.

The keys follow Asterisk's VoiceMailMain where they overlap:

=====  ============================================================================
key    while a message plays or after it
=====  ============================================================================
5, 1   replay the message
4      the previous message
6, #   the next message
7      delete the message, then the next one
9      save the message (kept as old), then the next one
\\*     help (the list of keys)
=====  ============================================================================

A login is the box number (``*98`` only; ``*97`` takes the caller's extension) and the PIN,
each ended by ``#`` or a pause of :data:`ENTRY_TIMEOUT` seconds. Three wrong logins end the
call. Messages are played new ones first, then old ones, newest first within each; a new
message becomes old as soon as it starts to play.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Final

__all__ = [
    "ENTRY_TIMEOUT",
    "MAX_LOGIN_ATTEMPTS",
    "OPTIONS_TIMEOUT",
    "TRANSITIONS",
    "Audio",
    "Command",
    "Delete",
    "DigitPressed",
    "Event",
    "HangUp",
    "LoadMessages",
    "LoggedIn",
    "MailboxMenu",
    "MarkOld",
    "MenuState",
    "MessageInfo",
    "MessagesLoaded",
    "Phrase",
    "Play",
    "PlayEnded",
    "Speak",
    "Started",
    "TimerFired",
]

#: Seconds of silence that end a box number or PIN entry (as ``#`` does).
ENTRY_TIMEOUT: Final = 6.0
#: Seconds the menu waits for a key after the options were read before reading them again.
OPTIONS_TIMEOUT: Final = 10.0
MAX_LOGIN_ATTEMPTS: Final = 3
#: Prompts for an entry, or readings of the options, without any key: then goodbye.
_MAX_REPROMPTS: Final = 3
_MAX_ENTRY: Final = 16


class MenuState(Enum):
    START = "start"
    ASK_BOX = "ask_box"
    ASK_PIN = "ask_pin"
    LOADING = "loading"
    MESSAGE = "message"  # a message (and what leads to it) is playing
    OPTIONS = "options"  # the options were read (or are being read); waiting for a key
    GOODBYE = "goodbye"  # the last words are playing; then hang up
    DONE = "done"


#: Every move the menu may make; a move not listed is a bug (``RuntimeError``).
TRANSITIONS: Final[Mapping[MenuState, frozenset[MenuState]]] = {
    MenuState.START: frozenset({MenuState.ASK_BOX, MenuState.ASK_PIN, MenuState.GOODBYE}),
    MenuState.ASK_BOX: frozenset({MenuState.ASK_PIN, MenuState.GOODBYE}),
    MenuState.ASK_PIN: frozenset({MenuState.ASK_BOX, MenuState.LOADING, MenuState.GOODBYE}),
    MenuState.LOADING: frozenset({MenuState.MESSAGE, MenuState.GOODBYE}),
    MenuState.MESSAGE: frozenset({MenuState.OPTIONS, MenuState.GOODBYE}),
    MenuState.OPTIONS: frozenset({MenuState.MESSAGE, MenuState.GOODBYE}),
    MenuState.GOODBYE: frozenset({MenuState.DONE}),
    MenuState.DONE: frozenset(),
}


class Phrase(Enum):
    """Something the menu says; the runtime renders it in the box's language."""

    ENTER_BOX = "enter_box"
    ENTER_PIN = "enter_pin"
    LOGIN_INCORRECT = "login_incorrect"
    NO_MAILBOX = "no_mailbox"
    YOU_HAVE = "you_have"  # numbers: (new, old)
    NO_MESSAGES = "no_messages"
    MESSAGE_NUMBER = "message_number"  # numbers: (n,)
    OPTIONS = "options"
    HELP = "help"
    DELETED = "deleted"
    SAVED = "saved"
    NO_MORE = "no_more"
    GOODBYE = "goodbye"


# --- events in ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Started:
    """The call was answered; the menu may speak."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DigitPressed:
    #: "0"-"9", "*" or "#".
    digit: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayEnded:
    """Everything of the last :class:`Play` has been played."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageInfo:
    id: str
    new: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagesLoaded:
    """The box's messages, in the order to play them (see the module docstring)."""

    messages: tuple[MessageInfo, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerFired:
    """``now`` reached :attr:`MailboxMenu.deadline`."""


Event = Started | DigitPressed | PlayEnded | MessagesLoaded | TimerFired

# --- commands out ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Speak:
    phrase: Phrase
    numbers: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Audio:
    """A message's recording."""

    message_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Play:
    """Play ``items`` in order, instead of whatever plays; empty: stop playing."""

    items: tuple[Speak | Audio, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadMessages:
    box: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedIn:
    box: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkOld:
    message_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Delete:
    message_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HangUp:
    reason: str


Command = Play | LoadMessages | LoggedIn | MarkOld | Delete | HangUp

_BYE: Final = (Speak(phrase=Phrase.GOODBYE),)


class MailboxMenu:
    """One caller's session with the mailbox menu (see the module docstring).

    ``pins`` maps every box to its PIN. ``box`` is the caller's own box for ``*97`` (None when
    the caller has none); with ``ask_box`` (``*98``) the caller is asked for it.
    """

    def __init__(self, pins: Mapping[str, str], *, box: str | None, ask_box: bool) -> None:
        self.pins = dict(pins)
        self.box = box
        self.ask_box = ask_box
        self.state = MenuState.START
        self.deadline: float | None = None
        self.failures = 0
        self.messages: tuple[MessageInfo, ...] = ()
        self.index = 0
        self._entry = ""
        self._prompt_playing = False
        self._reprompts = 0
        self._heard: set[str] = set()
        self._end_reason = "done"

    # -- the one entry point -------------------------------------------------------------------

    def handle(self, event: Event, now: float) -> list[Command]:
        if self.state is MenuState.DONE:
            return []
        if isinstance(event, Started):
            return self._start()
        if isinstance(event, DigitPressed):
            return self._digit(event.digit, now)
        if isinstance(event, PlayEnded):
            return self._play_ended(now)
        if isinstance(event, MessagesLoaded):
            return self._loaded(event.messages)
        if self.deadline is not None and now >= self.deadline:
            self.deadline = None
            return self._timeout(now)
        return []

    # -- login ---------------------------------------------------------------------------------

    def _start(self) -> list[Command]:
        if self.state is not MenuState.START:
            return []
        if self.ask_box:
            return self._ask(MenuState.ASK_BOX, (), Phrase.ENTER_BOX)
        if self.box is None or self.box not in self.pins:
            return self._goodbye((Speak(phrase=Phrase.NO_MAILBOX), *_BYE), reason="no-mailbox")
        return self._ask(MenuState.ASK_PIN, (), Phrase.ENTER_PIN)

    def _ask(self, state: MenuState, before: tuple[Speak, ...], phrase: Phrase) -> list[Command]:
        self._move(state)
        self._entry = ""
        self._prompt_playing = True
        self.deadline = None
        return [Play(items=(*before, Speak(phrase=phrase)))]

    def _entering(self) -> bool:
        return self.state in (MenuState.ASK_BOX, MenuState.ASK_PIN)

    def _submit(self) -> list[Command]:
        entry, self._entry = self._entry, ""
        self.deadline = None
        if self.state is MenuState.ASK_BOX:
            self.box = entry
            return self._ask(MenuState.ASK_PIN, (), Phrase.ENTER_PIN)
        if self.box is not None and self.pins.get(self.box) == entry:
            self._move(MenuState.LOADING)
            return [LoggedIn(box=self.box), LoadMessages(box=self.box)]
        self.failures += 1
        wrong = (Speak(phrase=Phrase.LOGIN_INCORRECT),)
        if self.failures >= MAX_LOGIN_ATTEMPTS:
            return self._goodbye((*wrong, *_BYE), reason="login-failed")
        if self.ask_box:
            return self._ask(MenuState.ASK_BOX, wrong, Phrase.ENTER_BOX)
        return self._ask(MenuState.ASK_PIN, wrong, Phrase.ENTER_PIN)

    # -- messages ------------------------------------------------------------------------------

    def _loaded(self, messages: tuple[MessageInfo, ...]) -> list[Command]:
        if self.state is not MenuState.LOADING:
            return []
        self.messages = messages
        new = sum(1 for m in messages if m.new)
        if not messages:
            return self._goodbye((Speak(phrase=Phrase.NO_MESSAGES), *_BYE), reason="done")
        intro = Speak(phrase=Phrase.YOU_HAVE, numbers=(new, len(messages) - new))
        return self._play_message(0, (intro,))

    def _play_message(self, index: int, before: tuple[Speak, ...]) -> list[Command]:
        self.index = index
        self._move(MenuState.MESSAGE)
        self.deadline = None
        message = self.messages[index]
        number = Speak(phrase=Phrase.MESSAGE_NUMBER, numbers=(index + 1,))
        commands: list[Command] = [Play(items=(*before, number, Audio(message_id=message.id)))]
        if message.new and message.id not in self._heard:
            self._heard.add(message.id)
            commands.append(MarkOld(message_id=message.id))
        return commands

    def _next(self, before: tuple[Speak, ...]) -> list[Command]:
        if self.index + 1 < len(self.messages):
            return self._play_message(self.index + 1, before)
        return self._goodbye((*before, Speak(phrase=Phrase.NO_MORE), *_BYE), reason="done")

    def _options(self, phrase: Phrase) -> list[Command]:
        self._move(MenuState.OPTIONS)
        self.deadline = None
        return [Play(items=(Speak(phrase=phrase),))]

    def _message_key(self, digit: str) -> list[Command]:
        self._reprompts = 0
        current = self.messages[self.index]
        if digit in ("5", "1"):
            return self._play_message(self.index, ())
        if digit == "4":
            return self._play_message(max(self.index - 1, 0), ())
        if digit in ("6", "#"):
            return self._next(())
        if digit == "7":
            return [Delete(message_id=current.id), *self._next((Speak(phrase=Phrase.DELETED),))]
        if digit == "9":
            commands: list[Command] = []
            if current.new and current.id not in self._heard:
                commands.append(MarkOld(message_id=current.id))
            return [*commands, *self._next((Speak(phrase=Phrase.SAVED),))]
        if digit == "*":
            return self._options(Phrase.HELP)
        return []

    # -- keys, prompt ends, timers -------------------------------------------------------------

    def _digit(self, digit: str, now: float) -> list[Command]:
        if self._entering():
            self._reprompts = 0
            if digit == "#":
                return self._submit()
            if digit.isdigit() and len(self._entry) < _MAX_ENTRY:
                self._entry += digit
            self.deadline = now + ENTRY_TIMEOUT
            if self._prompt_playing:  # a key cuts the prompt short
                self._prompt_playing = False
                return [Play(items=())]
            return []
        if self.state in (MenuState.MESSAGE, MenuState.OPTIONS):
            return self._message_key(digit)
        return []

    def _play_ended(self, now: float) -> list[Command]:
        if self._entering():
            self._prompt_playing = False
            self.deadline = now + ENTRY_TIMEOUT
            return []
        if self.state is MenuState.MESSAGE:
            return self._options(Phrase.OPTIONS)
        if self.state is MenuState.OPTIONS:
            self.deadline = now + OPTIONS_TIMEOUT
            return []
        if self.state is MenuState.GOODBYE:
            self._move(MenuState.DONE)
            self.deadline = None
            return [HangUp(reason=self._end_reason)]
        return []

    def _timeout(self, now: float) -> list[Command]:
        if self._entering():
            if self._entry:
                return self._submit()
            self._reprompts += 1
            if self._reprompts >= _MAX_REPROMPTS:
                return self._goodbye(_BYE, reason="no-input")
            phrase = Phrase.ENTER_BOX if self.state is MenuState.ASK_BOX else Phrase.ENTER_PIN
            return self._ask(self.state, (), phrase)
        if self.state is MenuState.OPTIONS:
            self._reprompts += 1
            if self._reprompts >= _MAX_REPROMPTS:
                return self._goodbye(_BYE, reason="no-input")
            return self._options(Phrase.OPTIONS)
        return []

    def _goodbye(self, items: tuple[Speak, ...], *, reason: str) -> list[Command]:
        """Say ``items``, then hang up for ``reason`` (the :class:`HangUp`'s)."""
        self._move(MenuState.GOODBYE)
        self.deadline = None
        self._end_reason = reason
        return [Play(items=items)]

    def _move(self, new: MenuState) -> None:
        if new is self.state:
            return
        if new not in TRANSITIONS[self.state]:
            raise RuntimeError(f"voicemail menu {self.state.value} -> {new.value} not allowed")
        self.state = new
