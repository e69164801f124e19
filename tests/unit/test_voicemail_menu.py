"""The mailbox-by-phone menu as a pure state machine: events and a number for the time in,
commands out."""

from __future__ import annotations

import pytest

from tamas.runtime.voicemail_menu import (
    ENTRY_TIMEOUT,
    OPTIONS_TIMEOUT,
    TRANSITIONS,
    Audio,
    Command,
    Delete,
    DigitPressed,
    HangUp,
    LoadMessages,
    LoggedIn,
    MailboxMenu,
    MarkOld,
    MenuState,
    MessageInfo,
    MessagesLoaded,
    Phrase,
    Play,
    PlayEnded,
    Speak,
    Started,
    TimerFired,
)

PINS = {"1001": "1234", "600": "4321"}
MESSAGES = (
    MessageInfo(id="n2", new=True),
    MessageInfo(id="n1", new=True),
    MessageInfo(id="o1", new=False),
)


def say(*phrases: Phrase | tuple[Phrase, tuple[int, ...]] | str) -> Play:
    """A Play of phrases (or (phrase, numbers)) and message ids (str)."""
    items: list[Speak | Audio] = []
    for p in phrases:
        if isinstance(p, str):
            items.append(Audio(message_id=p))
        elif isinstance(p, tuple):
            items.append(Speak(phrase=p[0], numbers=p[1]))
        else:
            items.append(Speak(phrase=p))
    return Play(items=tuple(items))


class Session:
    def __init__(self, *, box: str | None = "1001", ask_box: bool = False) -> None:
        self.menu = MailboxMenu(PINS, box=box, ask_box=ask_box)
        self.now = 0.0

    def __call__(self, event: object) -> list[Command]:
        return self.menu.handle(event, self.now)  # type: ignore[arg-type]

    def keys(self, text: str) -> list[Command]:
        out: list[Command] = []
        for key in text:
            out += self(DigitPressed(digit=key))
        return out

    def wait(self, seconds: float) -> list[Command]:
        self.now += seconds
        return self(TimerFired())

    def login(self) -> None:
        assert self(Started()) == [say(Phrase.ENTER_PIN)]
        assert self(PlayEnded()) == []  # the prompt has ended: keys cut nothing short
        assert self.keys("1234#") == [LoggedIn(box="1001"), LoadMessages(box="1001")]


def test_own_box_login_and_messages_newest_new_first() -> None:
    s = Session()
    s.login()
    assert s(MessagesLoaded(messages=MESSAGES)) == [
        say((Phrase.YOU_HAVE, (2, 1)), (Phrase.MESSAGE_NUMBER, (1,)), "n2"),
        MarkOld(message_id="n2"),
    ]
    assert s(PlayEnded()) == [say(Phrase.OPTIONS)]
    assert s.menu.state is MenuState.OPTIONS
    assert s.keys("6") == [say((Phrase.MESSAGE_NUMBER, (2,)), "n1"), MarkOld(message_id="n1")]
    # the old message is not marked again; # is "next" as well
    assert s.keys("#") == [say((Phrase.MESSAGE_NUMBER, (3,)), "o1")]
    assert s.keys("#") == [say(Phrase.NO_MORE, Phrase.GOODBYE)]
    assert s(PlayEnded()) == [HangUp(reason="done")]
    assert s.menu.state is MenuState.DONE
    assert s.keys("1") == [] and s(PlayEnded()) == []


def test_replay_previous_help_and_a_key_while_the_message_plays() -> None:
    s = Session()
    s.login()
    s(MessagesLoaded(messages=MESSAGES))
    # 5 while the first message still plays: it starts again, not marked a second time
    assert s.keys("5") == [say((Phrase.MESSAGE_NUMBER, (1,)), "n2")]
    assert s.keys("1") == [say((Phrase.MESSAGE_NUMBER, (1,)), "n2")]
    assert s.keys("4") == [say((Phrase.MESSAGE_NUMBER, (1,)), "n2")]  # no previous: the same
    s.keys("6")
    assert s.keys("4") == [say((Phrase.MESSAGE_NUMBER, (1,)), "n2")]
    assert s.keys("*") == [say(Phrase.HELP)]
    assert s.keys("2") == []  # not a key of this menu
    assert s.menu.state is MenuState.OPTIONS


def test_delete_and_save_move_on() -> None:
    s = Session()
    s.login()
    s(MessagesLoaded(messages=MESSAGES))
    assert s.keys("7") == [
        Delete(message_id="n2"),
        say(Phrase.DELETED, (Phrase.MESSAGE_NUMBER, (2,)), "n1"),
        MarkOld(message_id="n1"),
    ]
    assert s.keys("9") == [say(Phrase.SAVED, (Phrase.MESSAGE_NUMBER, (3,)), "o1")]
    assert s.keys("7") == [
        Delete(message_id="o1"),
        say(Phrase.DELETED, Phrase.NO_MORE, Phrase.GOODBYE),
    ]
    assert s(PlayEnded()) == [HangUp(reason="done")]


def test_an_empty_box() -> None:
    s = Session()
    s.login()
    assert s(MessagesLoaded(messages=())) == [say(Phrase.NO_MESSAGES, Phrase.GOODBYE)]
    assert s(PlayEnded()) == [HangUp(reason="done")]


def test_three_wrong_pins_end_the_call() -> None:
    s = Session()
    s(Started())
    assert s.keys("1111#") == [Play(items=()), say(Phrase.LOGIN_INCORRECT, Phrase.ENTER_PIN)]
    assert s.keys("2222#") == [Play(items=()), say(Phrase.LOGIN_INCORRECT, Phrase.ENTER_PIN)]
    assert s.keys("12345#") == [Play(items=()), say(Phrase.LOGIN_INCORRECT, Phrase.GOODBYE)]
    assert s.keys("1234#") == []  # too late: the goodbye plays
    assert s(PlayEnded()) == [HangUp(reason="login-failed")]
    assert s.menu.failures == 3


def test_any_box_asks_the_box_and_a_wrong_login_asks_it_again() -> None:
    s = Session(box=None, ask_box=True)
    assert s(Started()) == [say(Phrase.ENTER_BOX)]
    assert s.keys("600#") == [Play(items=()), say(Phrase.ENTER_PIN)]
    assert s.keys("1234#") == [Play(items=()), say(Phrase.LOGIN_INCORRECT, Phrase.ENTER_BOX)]
    # an unknown box is refused the same way (nothing tells which part was wrong)
    s.keys("999#")
    assert s.keys("1234#") == [Play(items=()), say(Phrase.LOGIN_INCORRECT, Phrase.ENTER_BOX)]
    s.keys("600#")
    assert s.keys("4321#")[-2:] == [LoggedIn(box="600"), LoadMessages(box="600")]


def test_a_caller_without_a_box() -> None:
    s = Session(box="2000")
    assert s(Started()) == [say(Phrase.NO_MAILBOX, Phrase.GOODBYE)]
    assert s(PlayEnded()) == [HangUp(reason="no-mailbox")]
    assert Session(box=None)(Started()) == [say(Phrase.NO_MAILBOX, Phrase.GOODBYE)]


def test_a_pause_ends_the_entry_and_silence_ends_the_call() -> None:
    s = Session()
    s(Started())
    s(PlayEnded())
    assert s.menu.deadline == ENTRY_TIMEOUT
    assert s.keys("12") == []  # the prompt had ended: nothing to cut
    s.now = 1.0
    s.keys("34")
    assert s.menu.deadline == 1.0 + ENTRY_TIMEOUT
    assert s.wait(ENTRY_TIMEOUT - 0.5) == []  # not yet
    assert s.wait(0.5) == [LoggedIn(box="1001"), LoadMessages(box="1001")]
    silent = Session()
    silent(Started())
    for _ in range(2):
        silent(PlayEnded())
        assert silent.wait(ENTRY_TIMEOUT) == [say(Phrase.ENTER_PIN)]
    silent(PlayEnded())
    assert silent.wait(ENTRY_TIMEOUT) == [say(Phrase.GOODBYE)]
    assert silent(PlayEnded()) == [HangUp(reason="no-input")]


def test_options_are_read_again_then_goodbye() -> None:
    s = Session()
    s.login()
    s(MessagesLoaded(messages=MESSAGES[:1]))
    s(PlayEnded())
    for _ in range(2):
        s(PlayEnded())
        assert s.menu.deadline == s.now + OPTIONS_TIMEOUT
        assert s.wait(OPTIONS_TIMEOUT) == [say(Phrase.OPTIONS)]
    s(PlayEnded())
    assert s.wait(OPTIONS_TIMEOUT) == [say(Phrase.GOODBYE)]
    assert s(PlayEnded()) == [HangUp(reason="no-input")]


def test_events_out_of_place_are_ignored() -> None:
    s = Session()
    assert s(PlayEnded()) == [] and s(TimerFired()) == []
    assert s(MessagesLoaded(messages=MESSAGES)) == []  # not logged in
    s.login()
    assert s(Started()) == []


@pytest.mark.parametrize("state", list(MenuState))
def test_every_state_is_in_the_table_and_done_is_final(state: MenuState) -> None:
    assert state in TRANSITIONS
    assert all(target in TRANSITIONS for target in TRANSITIONS[state])
    assert (TRANSITIONS[state] == frozenset()) is (state is MenuState.DONE)
