"""The one-pass header-line expression of the parser matches exactly what the plain lazy
expression (name, colon, value up to trailing blanks) matched: it was rewritten for speed."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from tamas.sip.message import _HEADER_LINES

REFERENCE = re.compile(r"^([!%'*+\-.0-9A-Z_`a-z~]+)[ \t]*:[ \t]*(.*?)[ \t]*$", re.M)

LINE = st.text(alphabet="ab-:; \t\x0b\r<>=\"'x\u00e9", max_size=16)


@settings(max_examples=2000, deadline=None)
@given(st.lists(LINE, min_size=1, max_size=6))
def test_same_matches_as_the_lazy_expression(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert _HEADER_LINES.findall(text) == REFERENCE.findall(text)


def test_trailing_blanks_are_not_part_of_the_value() -> None:
    text = "Via: SIP/2.0/UDP h \t\nX-Empty:   \nSubject:a b\t"
    assert _HEADER_LINES.findall(text) == [
        ("Via", "SIP/2.0/UDP h"),
        ("X-Empty", ""),
        ("Subject", "a b"),
    ]
