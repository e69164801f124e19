import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tamas.sip.authparams import AuthHeader, format_param, is_token, parse_auth_header, quote
from tamas.sip.errors import ParseError


def test_tokens_and_quoted_strings() -> None:
    header = parse_auth_header('Digest realm="x, y", algorithm=SHA-256, stale=TRUE')
    assert header == AuthHeader(
        scheme="Digest",
        params=(("realm", "x, y"), ("algorithm", "SHA-256"), ("stale", "TRUE")),
    )


def test_names_are_lowercased_and_lws_is_allowed_anywhere() -> None:
    header = parse_auth_header('  dIgEsT \t REALM \t= "a" ,\tNonce=\r\n  "b"  ')
    assert header.scheme == "dIgEsT"
    assert header.params == (("realm", "a"), ("nonce", "b"))


def test_line_folding_inside_quoted_string_is_a_space() -> None:
    assert parse_auth_header('Digest realm="a\r\n b"').params == (("realm", "a  b"),)


def test_backslash_escapes() -> None:
    assert parse_auth_header(r'Digest realm="a\"b\\c\d"').params == (("realm", 'a"b\\cd'),)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "Digest",
        "Digest ",
        'Digest realm="x",',
        'Digest realm="x" nonce="y"',
        'Digest realm="x",, nonce="y"',
        'Digest realm="unterminated',
        'Digest realm="a\\',
        "Digest realm=",
        "Digest =x",
        'Digest realm="x", realm="y"',
        'Digest REALM="x", realm="y"',
        'Digest realm="a\rb"',
        'Digest realm="a\nb"',
        'Digest realm="a\x00b"',
        'Digest realm="a\\\u00e9"',
        "Digest realm=a/b",
        "Digest realm=\u00e9",
        "Digest\r\nrealm=x",
        'Digest realm="x"\r\n',
        'Digest realm="\ud800"',
        'Di"gest realm="x"',
    ],
)
def test_malformed(value: str) -> None:
    with pytest.raises(ParseError):
        parse_auth_header(value)


def test_non_ascii_allowed_in_quoted_strings() -> None:
    assert parse_auth_header('Digest username="J\u00fcrgen"').params == (
        ("username", "J\u00fcrgen"),
    )


def test_quote_escapes_and_rejects_line_breaks() -> None:
    assert quote('a"b\\c\x01\td') == '"a\\"b\\\\c\\\x01\td"'
    with pytest.raises(ValueError):
        quote("a\r\nb")


def test_format_param() -> None:
    assert format_param("algorithm", "MD5", quoted=False) == "algorithm=MD5"
    assert format_param("realm", "MD5", quoted=True) == 'realm="MD5"'
    assert format_param("x", "not a token", quoted=False) == 'x="not a token"'
    assert format_param("x", "", quoted=False) == 'x=""'
    assert is_token("abc-1.!%*_+`'~")
    assert not is_token("")
    assert not is_token("a b")


quotable = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"), max_size=20
)


@given(st.lists(st.tuples(st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), quotable)))
def test_round_trip(params: list[tuple[str, str]]) -> None:
    unique = dict(params)
    if not unique:
        return
    value = "Digest " + ", ".join(format_param(n, v, quoted=False) for n, v in unique.items())
    assert parse_auth_header(value).params == tuple(unique.items())


@given(st.text())
def test_any_text_raises_only_parse_error(value: str) -> None:
    with contextlib.suppress(ParseError):
        parse_auth_header(value)
