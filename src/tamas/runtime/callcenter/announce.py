"""What a waiting caller is told, in English, Persian and Arabic.

Numbers and durations are spelled out by :mod:`tamas.ivr.say` so that espeak-ng reads them
as words in the caller's language ("one and a half minutes", "یک و نیم دقیقه").
"""

from __future__ import annotations

from tamas.ivr.say import say_digits, say_duration, say_number

__all__ = ["announcement"]

_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "periodic": "Thank you for waiting. Your call is important to us.",
        "position": "You are caller number {position} in line.",
        "wait": "Your estimated waiting time is {wait}.",
        "callback-offer": "To be called back without losing your place, press {key}.",
        "callback-confirmed": "Thank you. We will call you back in about {wait}, as soon as "
        "an agent is free. Goodbye.",
        "callback-ask": "We will call you back at {number}. To confirm, press 1. To give "
        "another number, press 2.",
        "callback-enter": "Please enter the number to call back, then press the pound key.",
        "survey": "Please rate the call you just had, from one for poor to five for excellent.",
        "survey-thanks": "Thank you for your rating. Goodbye.",
    },
    "fa": {
        "periodic": "از شکیبایی شما سپاسگزاریم. تماس شما برای ما مهم است.",
        "position": "شما نفر {position} در صف هستید.",
        "wait": "زمان تقریبی انتظار شما {wait} است.",
        "callback-offer": "برای تماس مجدد بدون از دست دادن نوبت، کلید {key} را فشار دهید.",
        "callback-confirmed": "سپاسگزاریم. حدود {wait} دیگر، به محض آزاد شدن یک کارشناس با "
        "شما تماس می‌گیریم. خدانگهدار.",
        "callback-ask": "با شماره {number} با شما تماس می‌گیریم. برای تایید یک و برای شماره "
        "دیگر دو را فشار دهید.",
        "callback-enter": "لطفا شماره را وارد کنید و سپس کلید مربع را فشار دهید.",
        "survey": "لطفا به این تماس از یک برای ضعیف تا پنج برای عالی امتیاز دهید.",
        "survey-thanks": "از امتیاز شما سپاسگزاریم. خدانگهدار.",
    },
    "ar": {
        "periodic": "شكرا لانتظاركم. اتصالكم مهم لنا.",
        "position": "ترتيبكم في قائمة الانتظار هو {position}.",
        "wait": "مدة الانتظار المتوقعة هي {wait}.",
        "callback-offer": "لمعاودة الاتصال بكم دون أن تفقدوا دوركم، اضغطوا {key}.",
        "callback-confirmed": "شكرا لكم. سنعاود الاتصال بكم خلال {wait} تقريبا، حالما يتوفر "
        "موظف. مع السلامة.",
        "callback-ask": "سنعاود الاتصال بكم على الرقم {number}. للتأكيد اضغطوا واحد، ولرقم آخر "
        "اضغطوا اثنين.",
        "callback-enter": "يرجى إدخال الرقم ثم الضغط على مفتاح المربع.",
        "survey": "يرجى تقييم المكالمة من واحد للضعيف إلى خمسة للممتاز.",
        "survey-thanks": "شكرا على تقييمكم. مع السلامة.",
    },
}


def announcement(
    kind: str, position: int, wait_s: float, language: str, *,
    callback_key: str | None = None, number: str = "",
) -> str:  # fmt: skip
    """The sentence for ``kind`` (an ACD Announce kind, or ``callback-confirmed``)."""
    texts = _TEXTS.get(language, _TEXTS["en"])
    lang = language if language in _TEXTS else "en"
    if kind == "callback-offer" and callback_key is None:
        return texts["periodic"]
    template = texts.get(kind, texts["periodic"])
    return template.format(
        position=say_number(position, lang),
        wait=say_duration(max(60.0, wait_s), lang),
        key=callback_key or "",
        number=say_digits(number, lang),
    )
