"""Lexing of authentication header values: ``scheme name=value, name="quoted", ...``.

This is the shared shape of ``WWW-Authenticate``, ``Proxy-Authenticate``, ``Authorization`` and
``Proxy-Authorization`` (RFC 3261 section 25.1, ``challenge`` / ``credentials``)::

    value      = LWS? auth-scheme LWS auth-param *(COMMA auth-param) LWS?
    auth-param = token EQUAL ( token / quoted-string )
    COMMA      = SWS "," SWS        EQUAL = SWS "=" SWS
    LWS        = [*WSP CRLF] 1*WSP

Parameter names are case-insensitive and returned lower-cased; values are returned unquoted and
unescaped. Whether a value was a token or a quoted string is not kept: RFC 7235 section 2.2 makes
the two forms equivalent, and the digest layer knows which form each parameter is sent in.
"""

import re
import string
from dataclasses import dataclass

from tamas.sip.errors import ParseError

__all__ = ["AuthHeader", "format_param", "is_token", "parse_auth_header", "quote"]

_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "-.!%*_+`'~")
_WSP = " \t"
# Line folding (CRLF followed by whitespace) is equivalent to a single space (RFC 3261 7.3.1).
_FOLD = re.compile(r"\r\n(?=[ \t])")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthHeader:
    """A lexed auth header value."""

    scheme: str
    """The auth scheme as written (compare case-insensitively)."""
    params: tuple[tuple[str, str], ...]
    """``(lower-cased name, unquoted value)`` pairs in wire order; names are unique."""


def is_token(text: str) -> bool:
    """True when ``text`` is a non-empty RFC 3261 ``token``."""
    return bool(text) and all(ch in _TOKEN_CHARS for ch in text)


def quote(text: str) -> str:
    """Render ``text`` as a quoted-string, escaping ``"``, ``\\`` and control characters.

    Raises ValueError for CR and LF, which no quoted-string can carry.
    """
    out = ['"']
    for ch in text:
        if ch in "\r\n":
            raise ValueError("CR and LF cannot appear in a quoted-string")
        if ch in '"\\' or (ch < " " and ch != "\t") or ch == "\x7f":
            out.append("\\")
        out.append(ch)
    out.append('"')
    return "".join(out)


def format_param(name: str, value: str, *, quoted: bool) -> str:
    """``name=value`` with ``value`` quoted when asked to or when it is not a token."""
    if quoted or not is_token(value):
        return f"{name}={quote(value)}"
    return f"{name}={value}"


def parse_auth_header(value: str) -> AuthHeader:
    """Lex ``value`` into a scheme and its parameters. Raises ParseError when malformed."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ParseError("auth header is not valid UTF-8 text") from None
    lexer = _Lexer(_FOLD.sub(" ", value))
    lexer.skip_lws()
    scheme = lexer.token("auth scheme")
    if not lexer.skip_lws():
        raise ParseError("expected whitespace after the auth scheme")
    params: list[tuple[str, str]] = []
    seen: set[str] = set()
    while True:
        name = lexer.token("parameter name").lower()
        if name in seen:
            raise ParseError(f"duplicate auth parameter {name!r}")
        seen.add(name)
        lexer.skip_lws()
        lexer.expect("=")
        lexer.skip_lws()
        params.append((name, lexer.quoted() if lexer.peek() == '"' else lexer.token(name)))
        lexer.skip_lws()
        if lexer.at_end():
            return AuthHeader(scheme=scheme, params=tuple(params))
        lexer.expect(",")
        lexer.skip_lws()


class _Lexer:
    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_lws(self) -> bool:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _WSP:
            self.pos += 1
        return self.pos > start

    def expect(self, char: str) -> None:
        if self.peek() != char:
            found = repr(self.peek()) if self.peek() else "end of value"
            raise ParseError(f"expected {char!r} at offset {self.pos}, found {found}")
        self.pos += 1

    def token(self, what: str) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _TOKEN_CHARS:
            self.pos += 1
        if self.pos == start:
            raise ParseError(f"expected a token for {what} at offset {start}")
        return self.text[start : self.pos]

    def quoted(self) -> str:
        # quoted-string = DQUOTE *(qdtext / quoted-pair) DQUOTE (RFC 3261 section 25.1);
        # qdtext excludes controls other than whitespace, quoted-pair excludes CR and LF.
        self.expect('"')
        out: list[str] = []
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            self.pos += 1
            if ch == '"':
                return "".join(out)
            if ch == "\\":
                if self.pos >= len(text):
                    break
                ch = text[self.pos]
                self.pos += 1
                if ch in "\r\n" or ch > "\x7f":
                    raise ParseError("invalid quoted-pair in quoted-string")
            elif (ch < " " and ch != "\t") or ch == "\x7f":
                raise ParseError("control character in quoted-string")
            out.append(ch)
        raise ParseError("unterminated quoted-string")
