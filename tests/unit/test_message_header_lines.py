"""The parser's header-line loop (``Headers.from_lines``) reads exactly what the plain
expression (name, colon, value up to trailing blanks) reads: it replaced a regular expression
for speed. A line the expression does not match makes the loop give up (the parser then finds
the bad line with the expression)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from tamas.sip.headers import Headers, canonical_name

REFERENCE = re.compile(r"([!%'*+\-.0-9A-Z_`a-z~]+)[ \t]*:[ \t]*(.*?)[ \t]*", re.S)

LINE = st.text(alphabet="ab-:; \t\x0b\r<>=\"'x\u00e9", max_size=16)


def reference(lines: list[str]) -> list[tuple[str, str]] | None:
    matches = [REFERENCE.fullmatch(line) for line in lines]
    if any(m is None for m in matches):
        return None
    return [(canonical_name(m.group(1)), m.group(2)) for m in matches if m is not None]


@settings(max_examples=3000, deadline=None)
@given(st.lists(LINE, max_size=6))
def test_same_fields_as_the_expression(lines: list[str]) -> None:
    found = Headers.from_lines(lines)
    expected = reference(lines)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert list(found) == expected
        for name, _ in expected:
            assert found.get_all(name) == [v for k, v in expected if k == name]


def test_trailing_blanks_are_not_part_of_the_value() -> None:
    found = Headers.from_lines(["Via: SIP/2.0/UDP h \t", "X-Empty:   ", "subject :a b\t", "i:x"])
    assert found is not None
    assert list(found) == [
        ("Via", "SIP/2.0/UDP h"),
        ("X-Empty", ""),
        ("Subject", "a b"),
        ("Call-ID", "x"),
    ]


def test_a_line_that_is_not_a_field_gives_up() -> None:
    assert Headers.from_lines(["Via: x", "no colon here"]) is None
    assert Headers.from_lines(["Bad Name: x"]) is None
    assert Headers.from_lines([": x"]) is None
    assert Headers.from_lines([""]) is None
