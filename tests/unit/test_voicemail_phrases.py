"""Voicemail words in every box language, and the access numbers as applications."""

from __future__ import annotations

import pytest

from tamas.config.voicemail import LANGUAGES, VoicemailConfig
from tamas.runtime.voicemail import access_applications
from tamas.runtime.voicemail_menu import Phrase
from tamas.runtime.voicemail_phrases import GREETING, PHRASES, greeting_text, phrase_text


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_phrase_and_the_greeting_exist_in_every_language(language: str) -> None:
    assert set(PHRASES[language]) == set(Phrase)
    assert "1001" in greeting_text("1001", language)
    assert set(GREETING) == set(LANGUAGES)


def test_numbers_are_filled_in_and_unknown_languages_fall_back_to_english() -> None:
    assert phrase_text(Phrase.YOU_HAVE, (2, 1), "en") == "You have 2 new and 1 old messages."
    assert "2" in phrase_text(Phrase.YOU_HAVE, (2, 1), "fa")
    assert phrase_text(Phrase.MESSAGE_NUMBER, (3,), "de") == "Message 3."
    assert greeting_text("600", "en").startswith("The person at extension 600 is not available")


def test_access_numbers_become_voicemail_main_applications() -> None:
    apps = access_applications(VoicemailConfig())
    assert [(a.number, a.kind) for a in apps] == [("*97", "voicemail_main"),
                                                  ("*98", "voicemail_main")]  # fmt: skip
    none = VoicemailConfig(own_box_number=None, any_box_number=None)
    assert access_applications(none) == ()
