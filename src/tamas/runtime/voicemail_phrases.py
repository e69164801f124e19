"""What voicemail says, in each box language (en, fa, ar), spoken by espeak-ng.

Numbers are written as digits: espeak-ng reads them in the voice's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from tamas.runtime.voicemail_menu import Phrase

__all__ = ["GREETING", "PHRASES", "greeting_text", "phrase_text"]

#: The default greeting of a box without a greeting file (``{box}``: the box number).
GREETING: Final[Mapping[str, str]] = {
    "en": "The person at extension {box} is not available. Please leave a message after the tone.",
    "fa": "مشترک داخلی {box} در دسترس نیست. لطفاً پس از شنیدن صدای بوق پیغام بگذارید.",
    "ar": "الشخص على الرقم الداخلي {box} غير متاح. يرجى ترك رسالة بعد سماع الصافرة.",
}

#: Menu phrases; ``{0}``, ``{1}``: the :class:`~tamas.runtime.voicemail_menu.Speak` numbers.
PHRASES: Final[Mapping[str, Mapping[Phrase, str]]] = {
    "en": {
        Phrase.ENTER_BOX: "Please enter your mailbox number, then press pound.",
        Phrase.ENTER_PIN: "Please enter your password, then press pound.",
        Phrase.LOGIN_INCORRECT: "Login incorrect.",
        Phrase.NO_MAILBOX: "You have no mailbox.",
        Phrase.YOU_HAVE: "You have {0} new and {1} old messages.",
        Phrase.NO_MESSAGES: "You have no messages.",
        Phrase.MESSAGE_NUMBER: "Message {0}.",
        Phrase.OPTIONS: "Press 5 to replay, 7 to delete, 9 to save, 6 for the next message, "
        "star for help.",
        Phrase.HELP: "Press 5 or 1 to replay the message, 4 for the previous message, "
        "6 or pound for the next message, 7 to delete it, 9 to save it. Hang up when done.",
        Phrase.DELETED: "Message deleted.",
        Phrase.SAVED: "Message saved.",
        Phrase.NO_MORE: "No more messages.",
        Phrase.GOODBYE: "Goodbye.",
    },
    "fa": {
        Phrase.ENTER_BOX: "لطفاً شماره صندوق صوتی را وارد کنید و سپس مربع را بزنید.",
        Phrase.ENTER_PIN: "لطفاً رمز عبور را وارد کنید و سپس مربع را بزنید.",
        Phrase.LOGIN_INCORRECT: "ورود نادرست است.",
        Phrase.NO_MAILBOX: "شما صندوق صوتی ندارید.",
        Phrase.YOU_HAVE: "شما {0} پیغام جدید و {1} پیغام قدیمی دارید.",
        Phrase.NO_MESSAGES: "شما پیغامی ندارید.",
        Phrase.MESSAGE_NUMBER: "پیغام {0}.",
        Phrase.OPTIONS: "برای تکرار 5، برای حذف 7، برای ذخیره 9، برای پیغام بعدی 6، "
        "و برای راهنما ستاره را بزنید.",
        Phrase.HELP: "برای تکرار پیغام 5 یا 1، برای پیغام قبلی 4، برای پیغام بعدی 6 یا مربع، "
        "برای حذف 7 و برای ذخیره 9 را بزنید.",
        Phrase.DELETED: "پیغام حذف شد.",
        Phrase.SAVED: "پیغام ذخیره شد.",
        Phrase.NO_MORE: "پیغام دیگری نیست.",
        Phrase.GOODBYE: "خدانگهدار.",
    },
    "ar": {
        Phrase.ENTER_BOX: "يرجى إدخال رقم صندوق البريد ثم الضغط على المربع.",
        Phrase.ENTER_PIN: "يرجى إدخال كلمة المرور ثم الضغط على المربع.",
        Phrase.LOGIN_INCORRECT: "تسجيل الدخول غير صحيح.",
        Phrase.NO_MAILBOX: "ليس لديك صندوق بريد صوتي.",
        Phrase.YOU_HAVE: "لديك {0} رسائل جديدة و {1} رسائل قديمة.",
        Phrase.NO_MESSAGES: "ليس لديك رسائل.",
        Phrase.MESSAGE_NUMBER: "الرسالة {0}.",
        Phrase.OPTIONS: "اضغط 5 للإعادة، 7 للحذف، 9 للحفظ، 6 للرسالة التالية، والنجمة للمساعدة.",
        Phrase.HELP: "اضغط 5 أو 1 لإعادة الرسالة، 4 للرسالة السابقة، 6 أو المربع للرسالة "
        "التالية، 7 لحذفها، 9 لحفظها.",
        Phrase.DELETED: "تم حذف الرسالة.",
        Phrase.SAVED: "تم حفظ الرسالة.",
        Phrase.NO_MORE: "لا توجد رسائل أخرى.",
        Phrase.GOODBYE: "مع السلامة.",
    },
}


def phrase_text(phrase: Phrase, numbers: tuple[int, ...], language: str) -> str:
    """``phrase`` in ``language`` (English for a language without phrases)."""
    table = PHRASES.get(language, PHRASES["en"])
    return table[phrase].format(*numbers)


def greeting_text(box: str, language: str) -> str:
    return GREETING.get(language, GREETING["en"]).format(box=box)
