"""Numbers, digits and durations as words for TTS, in English, Persian and Arabic.

Theory of operation: numbers are split into groups of three digits (thousands, millions,
billions); each group is said by a per-language function and joined with the scale word.
Persian joins every part with " و " and leaves the noun singular after a number (سیصد و
بیست و یک ثانیه). Arabic says units before tens (واحد وعشرون), attaches "و" to the next
word, and makes a counted noun agree with its number: one alone (دقيقة), two as a dual
(دقيقتان), 3-10 with the plural and the number in the form used with feminine nouns
(ثلاث دقائق), 11 and more with the singular (خمس عشرة دقيقة). The time nouns (second,
minute, hour) are feminine, so durations count them with the feminine number forms.
"""

from __future__ import annotations

from tamas.ivr.errors import IvrError

__all__ = ["say_digits", "say_duration", "say_number"]

_EN_SMALL = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_EN_SCALES = ("", "thousand", "million", "billion")

_FA_SMALL = [
    "صفر",
    "یک",
    "دو",
    "سه",
    "چهار",
    "پنج",
    "شش",
    "هفت",
    "هشت",
    "نه",
    "ده",
    "یازده",
    "دوازده",
    "سیزده",
    "چهارده",
    "پانزده",
    "شانزده",
    "هفده",
    "هجده",
    "نوزده",
]
_FA_TENS = ["_", "_", "بیست", "سی", "چهل", "پنجاه", "شصت", "هفتاد", "هشتاد", "نود"]
_FA_HUNDREDS = ["_", "صد", "دویست", "سیصد", "چهارصد", "پانصد", "ششصد", "هفتصد", "هشتصد", "نهصد"]
_FA_SCALES = ("", "هزار", "میلیون", "میلیارد")

_AR_UNITS_M = [
    "صفر",
    "واحد",
    "اثنان",
    "ثلاثة",
    "أربعة",
    "خمسة",
    "ستة",
    "سبعة",
    "ثمانية",
    "تسعة",
    "عشرة",
]
_AR_UNITS_F = ["صفر", "واحدة", "اثنتان", "ثلاث", "أربع", "خمس", "ست", "سبع", "ثماني", "تسع", "عشر"]
_AR_TENS = ["_", "_", "عشرون", "ثلاثون", "أربعون", "خمسون", "ستون", "سبعون", "ثمانون", "تسعون"]
_AR_HUNDREDS = [
    "_",
    "مائة",
    "مائتان",
    "ثلاثمائة",
    "أربعمائة",
    "خمسمائة",
    "ستمائة",
    "سبعمائة",
    "ثمانمائة",
    "تسعمائة",
]
# Scale words: (singular, dual, plural, singular after 11-99).
_AR_SCALES = (
    ("", "", "", ""),
    ("ألف", "ألفان", "آلاف", "ألفا"),
    ("مليون", "مليونان", "ملايين", "مليونا"),
    ("مليار", "ملياران", "مليارات", "مليارا"),
)

_MINUS = {"en": "minus", "fa": "منفی", "ar": "سالب"}
_KEYS = {
    "en": {"*": "star", "#": "pound"},
    "fa": {"*": "ستاره", "#": "مربع"},
    "ar": {"*": "نجمة", "#": "مربع"},
}
_LIMIT = 10**12


def say_number(n: int, lang: str) -> str:
    """``n`` in words: ``say_number(321, "fa") == "سیصد و بیست و یک"``."""
    return _number(n, lang, feminine=False)


def say_digits(text: str, lang: str) -> str:
    """Each digit (and * and #) of ``text`` said on its own; other characters are skipped.

    Persian and Arabic-Indic digits are read like ASCII ones.
    """
    _check(lang)
    words = []
    for char in text:
        if char.isdecimal():
            words.append(_number(int(char), lang, feminine=False))
        elif char in _KEYS[lang]:
            words.append(_KEYS[lang][char])
    return " ".join(words)


def say_duration(seconds: float, lang: str) -> str:
    """A wait as a caller would say it: "45 seconds", "one and a half minutes", "1 hour 5 min".

    Under a minute: whole seconds. Under an hour: minutes to the nearest half minute. From
    an hour: hours and whole minutes.
    """
    _check(lang)
    whole = max(0, round(seconds))
    if whole < 60:
        return _count(whole, "second", lang)
    if whole < 3600:
        halves = round(whole / 30)
        minutes, half = divmod(halves, 2)
        return _count(minutes, "minute", lang, half=bool(half))
    hours, rest = divmod(round(whole / 60), 60)
    text = _count(hours, "hour", lang)
    if rest:
        text = _join(lang, text, _count(rest, "minute", lang))
    return text


def _check(lang: str) -> None:
    if lang not in _MINUS:
        raise IvrError(f"cannot say numbers in '{lang}' (languages: ar, en, fa)")


def _number(n: int, lang: str, *, feminine: bool) -> str:
    _check(lang)
    if n < 0:
        return f"{_MINUS[lang]} {_number(-n, lang, feminine=feminine)}"
    if n >= _LIMIT:
        return say_digits(str(n), lang)
    if n == 0:
        return {"en": "zero", "fa": "صفر", "ar": "صفر"}[lang]
    groups = []
    scale = 0
    while n:
        n, group = divmod(n, 1000)
        if group:
            groups.append(_group(group, scale, lang, feminine=feminine and scale == 0))
        scale += 1
    parts = list(reversed(groups))
    if lang == "en":
        return " ".join(parts)
    if lang == "fa":
        return " و ".join(parts)
    return " و".join(parts)


def _group(n: int, scale: int, lang: str, *, feminine: bool) -> str:
    """A group of three digits (1..999) times 1000**scale."""
    if lang == "en":
        words = _en_under_1000(n)
        return f"{words} {_EN_SCALES[scale]}" if scale else words
    if lang == "fa":
        if scale == 1 and n == 1:
            return _FA_SCALES[1]  # هزار, not یک هزار
        words = _fa_under_1000(n)
        return f"{words} {_FA_SCALES[scale]}" if scale else words
    if scale == 0:
        return _ar_under_1000(n, feminine=feminine)
    singular, dual, plural, accusative = _AR_SCALES[scale]
    if n == 1:
        return singular
    if n == 2:
        return dual
    if n == 200:
        return f"مائتا {singular}"  # construct form: مائتا ألف
    words = _ar_under_1000(n, feminine=False)
    if 3 <= n % 100 <= 10:
        return f"{words} {plural}"
    if n % 100 >= 11:
        return f"{words} {accusative}"
    return f"{words} {singular}"


def _en_under_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = []
    if hundreds:
        words.append(f"{_EN_SMALL[hundreds]} hundred")
    if rest >= 20:
        tens, unit = divmod(rest, 10)
        words.append(_EN_TENS[tens] + (f"-{_EN_SMALL[unit]}" if unit else ""))
    elif rest:
        words.append(_EN_SMALL[rest])
    return " ".join(words)


def _fa_under_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = []
    if hundreds:
        words.append(_FA_HUNDREDS[hundreds])
    if rest >= 20:
        tens, unit = divmod(rest, 10)
        words.append(_FA_TENS[tens])
        if unit:
            words.append(_FA_SMALL[unit])
    elif rest:
        words.append(_FA_SMALL[rest])
    return " و ".join(words)


def _ar_under_1000(n: int, *, feminine: bool) -> str:
    units = _AR_UNITS_F if feminine else _AR_UNITS_M
    hundreds, rest = divmod(n, 100)
    words = []
    if hundreds:
        words.append(_AR_HUNDREDS[hundreds])
    if rest:
        words.append(_ar_under_100(rest, units, feminine=feminine))
    return " و".join(words)


def _ar_under_100(n: int, units: list[str], *, feminine: bool) -> str:
    if n <= 10:
        return units[n]
    if n < 20:
        ten = "عشرة" if feminine else "عشر"
        if n == 11:
            return f"{'إحدى' if feminine else 'أحد'} {ten}"
        if n == 12:
            return f"{'اثنتا' if feminine else 'اثنا'} {ten}"
        return f"{units[n - 10]} {ten}"
    tens, unit = divmod(n, 10)
    if not unit:
        return _AR_TENS[tens]
    first = "إحدى" if feminine and unit == 1 else units[unit]
    return f"{first} و{_AR_TENS[tens]}"


# Time nouns: en (singular, plural); fa singular; ar (singular, dual, plural).
_EN_UNITS = {"second": ("second", "seconds"), "minute": ("minute", "minutes"),
             "hour": ("hour", "hours")}  # fmt: skip
_FA_UNITS = {"second": "ثانیه", "minute": "دقیقه", "hour": "ساعت"}
_AR_UNITS = {
    "second": ("ثانية", "ثانيتان", "ثوان"),
    "minute": ("دقيقة", "دقيقتان", "دقائق"),
    "hour": ("ساعة", "ساعتان", "ساعات"),
}
_HALF = {"en": "a half", "fa": "نیم", "ar": "نصف"}


def _count(n: int, unit: str, lang: str, *, half: bool = False) -> str:
    if lang == "en":
        singular, plural = _EN_UNITS[unit]
        if half:
            return f"{say_number(n, 'en')} and a half {plural}" if n else f"half a {singular}"
        return f"{say_number(n, 'en')} {singular if n == 1 else plural}"
    if lang == "fa":
        if half:
            return (
                f"{say_number(n, 'fa')} و نیم {_FA_UNITS[unit]}"
                if n
                else (f"نیم {_FA_UNITS[unit]}")
            )
        return f"{say_number(n, 'fa')} {_FA_UNITS[unit]}"
    singular, dual, plural = _AR_UNITS[unit]
    if n == 1:
        text = singular
    elif n == 2:
        text = dual
    elif 3 <= n % 100 <= 10:
        text = f"{_number(n, 'ar', feminine=True)} {plural}"
    else:
        text = f"{_number(n, 'ar', feminine=True)} {singular}"
    return f"{text} و{_HALF['ar']}" if half else text


def _join(lang: str, first: str, second: str) -> str:
    return {"en": f"{first} and {second}", "fa": f"{first} و {second}"}.get(
        lang, f"{first} و{second}"
    )
