"""Numbers, digits and durations in words, against known renderings."""

from __future__ import annotations

import pytest

from tamas.ivr.errors import IvrError
from tamas.ivr.say import say_digits, say_duration, say_number

NUMBERS = [
    (0, "zero", "صفر", "صفر"),
    (7, "seven", "هفت", "سبعة"),
    (11, "eleven", "یازده", "أحد عشر"),
    (12, "twelve", "دوازده", "اثنا عشر"),
    (15, "fifteen", "پانزده", "خمسة عشر"),
    (20, "twenty", "بیست", "عشرون"),
    (21, "twenty-one", "بیست و یک", "واحد وعشرون"),
    (100, "one hundred", "صد", "مائة"),
    (205, "two hundred five", "دویست و پنج", "مائتان وخمسة"),
    (321, "three hundred twenty-one", "سیصد و بیست و یک", "ثلاثمائة وواحد وعشرون"),
    (1000, "one thousand", "هزار", "ألف"),
    (1500, "one thousand five hundred", "هزار و پانصد", "ألف وخمسمائة"),
    (2000, "two thousand", "دو هزار", "ألفان"),
    (3000, "three thousand", "سه هزار", "ثلاثة آلاف"),
    (11000, "eleven thousand", "یازده هزار", "أحد عشر ألفا"),
    (200000, "two hundred thousand", "دویست هزار", "مائتا ألف"),
    (1000000, "one million", "یک میلیون", "مليون"),
    (
        2500000,
        "two million five hundred thousand",
        "دو میلیون و پانصد هزار",
        "مليونان وخمسمائة ألف",
    ),
    (-4, "minus four", "منفی چهار", "سالب أربعة"),
]


@pytest.mark.parametrize(("n", "en", "fa", "ar"), NUMBERS)
def test_say_number(n: int, en: str, fa: str, ar: str) -> None:
    assert say_number(n, "en") == en
    assert say_number(n, "fa") == fa
    assert say_number(n, "ar") == ar


DURATIONS = [
    (0, "zero seconds", "صفر ثانیه", "صفر ثانية"),
    (1, "one second", "یک ثانیه", "ثانية"),
    (2, "two seconds", "دو ثانیه", "ثانيتان"),
    (5, "five seconds", "پنج ثانیه", "خمس ثوان"),
    (45, "forty-five seconds", "چهل و پنج ثانیه", "خمس وأربعون ثانية"),
    (60, "one minute", "یک دقیقه", "دقيقة"),
    (90, "one and a half minutes", "یک و نیم دقیقه", "دقيقة ونصف"),
    (100, "one and a half minutes", "یک و نیم دقیقه", "دقيقة ونصف"),  # nearest half
    (150, "two and a half minutes", "دو و نیم دقیقه", "دقيقتان ونصف"),
    (600, "ten minutes", "ده دقیقه", "عشر دقائق"),
    (900, "fifteen minutes", "پانزده دقیقه", "خمس عشرة دقيقة"),
    (3600, "one hour", "یک ساعت", "ساعة"),
    (3900, "one hour and five minutes", "یک ساعت و پنج دقیقه", "ساعة وخمس دقائق"),
    (7260, "two hours and one minute", "دو ساعت و یک دقیقه", "ساعتان ودقيقة"),
]


@pytest.mark.parametrize(("seconds", "en", "fa", "ar"), DURATIONS)
def test_say_duration(seconds: float, en: str, fa: str, ar: str) -> None:
    assert say_duration(seconds, "en") == en
    assert say_duration(seconds, "fa") == fa
    assert say_duration(seconds, "ar") == ar


def test_say_digits_reads_each_key_and_persian_digits() -> None:
    assert say_digits("12*#", "en") == "one two star pound"
    assert say_digits("۰۹۱۲", "fa") == "صفر نه یک دو"
    assert say_digits("305", "ar") == "ثلاثة صفر خمسة"
    assert say_digits("+1-2", "en") == "one two"


def test_unknown_language_is_an_error() -> None:
    with pytest.raises(IvrError, match="cannot say numbers in 'de'"):
        say_number(5, "de")


def test_very_large_numbers_are_said_digit_by_digit() -> None:
    assert say_number(10**12, "en") == "one " + " ".join(["zero"] * 12)
