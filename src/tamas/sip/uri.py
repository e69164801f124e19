"""SIP, SIPS and tel URIs (RFC 3261 section 19.1, RFC 3966), and name-addr values.

Theory of operation: a URI is parsed once into a frozen value; parameters keep their order and
their original spelling so that ``str(parse_uri(s)) == s`` for every well-formed input we see
on the wire. Comparison helpers implement the parts of RFC 3261 section 19.1.4 that routing needs
(user, host, port). URIs with schemes we do not know are kept as :class:`AbsoluteUri` so that the
caller can answer 416 (RFC 3261 section 8.2.2.1) instead of failing to parse.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from urllib.parse import unquote

from tamas.sip.errors import ParseError

Params = tuple[tuple[str, str | None], ...]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._]+)(?::([0-9]{1,5}))?$")

#: The characters of an RFC 3261 token (section 25.1): ``[A-Za-z0-9\-.!%*_+`'~]``.
TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.!%*_+`'~")


#: Tokens already checked (parameter names, methods: the same few in every message).
_TOKENS_SEEN: set[str] = set()


def is_token(text: str) -> bool:
    """True if ``text`` is a non-empty RFC 3261 token.

    A loop over a set rather than a regular expression: parameter names, methods and header
    names are short, and a ``fullmatch`` call cost several times the loop in the compiled
    build (a property test checks both agree). A token seen before is found in one set
    lookup instead of the loop."""
    if text in _TOKENS_SEEN:
        return True
    if text == "" or not all(c in TOKEN_CHARS for c in text):
        return False
    if len(_TOKENS_SEEN) < 4096:  # bounded: tokens come from the network
        _TOKENS_SEEN.add(text)
    return True


def is_ipv6_reference(text: str) -> bool:
    """True for ``[IPv6address]`` (RFC 3261 section 25.1, RFC 5118 section 4.2)."""
    if len(text) < 4 or text[0] != "[" or text[-1] != "]":
        return False
    try:
        ipaddress.IPv6Address(text[1:-1])
    except ValueError:
        return False
    return True


def parse_params(text: str, sep: str = ";") -> Params:
    """Parse ``a=b;c;d="e"`` (without the leading separator) into ordered pairs."""
    out: list[tuple[str, str | None]] = []
    for part in split_quoted(text, sep):
        part = part.strip()
        if not part:
            raise ParseError("empty parameter")
        name, eq, value = part.partition("=")
        name = name.strip()
        if not is_token(name):
            raise ParseError(f"bad parameter name {name!r}")
        out.append((name, value.strip() if eq else None))
    return tuple(out)


def format_params(params: Params, sep: str = ";") -> str:
    return "".join(f"{sep}{k}" if v is None else f"{sep}{k}={v}" for k, v in params)


def get_param(params: Params, name: str) -> str | None:
    """Value of a parameter by case-insensitive name ("" for a flag, None if absent)."""
    lname = name.lower()
    for k, v in params:
        if k.lower() == lname:
            return "" if v is None else v
    return None


def has_param(params: Params, name: str) -> bool:
    lname = name.lower()
    return any(k.lower() == lname for k, _ in params)


def set_param(params: Params, name: str, value: str | None) -> Params:
    """Replace (or append) a parameter, keeping the order of the others."""
    lname = name.lower()
    out = [(k, v) for k, v in params if k.lower() != lname]
    idx = next((i for i, (k, _) in enumerate(params) if k.lower() == lname), len(out))
    out.insert(min(idx, len(out)), (name, value))
    return tuple(out)


def del_param(params: Params, name: str) -> Params:
    lname = name.lower()
    return tuple((k, v) for k, v in params if k.lower() != lname)


def split_quoted(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside double quotes and angle brackets."""
    if '"' not in text and "<" not in text:
        return text.split(sep)  # the common case, without the character loop
    parts: list[str] = []
    buf: list[str] = []
    in_quote = False
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if in_quote:
            buf.append(c)
            if c == "\\" and i + 1 < n:
                buf.append(text[i + 1])
                i += 1
            elif c == '"':
                in_quote = False
        elif c == '"':
            in_quote = True
            buf.append(c)
        elif c == "<":
            depth += 1
            buf.append(c)
        elif c == ">":
            depth = max(0, depth - 1)
            buf.append(c)
        elif c == sep and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(c)
        i += 1
    if in_quote:
        raise ParseError("unterminated quoted string")
    parts.append("".join(buf))
    return parts


@dataclass(frozen=True, slots=True)
class SipUri:
    """``sip:`` or ``sips:`` URI. ``host`` keeps IPv6 brackets as written (RFC 5118)."""

    scheme: str = "sip"
    user: str | None = None
    password: str | None = None
    host: str = ""
    port: int | None = None
    params: Params = ()
    headers: str | None = None
    # the text it was parsed from, so str() is free for parsed URIs (not copied by replace())
    _text: str | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def user_unquoted(self) -> str | None:
        user = self.user
        if user is None or "%" not in user:  # nothing escaped (the usual case): no call
            return user
        return unquote(user)

    @property
    def host_bare(self) -> str:
        """Host without IPv6 brackets, lower-cased (for comparisons and sockets)."""
        h = self.host
        if h.startswith("[") and h.endswith("]"):
            h = h[1:-1]
        return h.lower()

    def param(self, name: str) -> str | None:
        return get_param(self.params, name)

    def with_params(self, **values: str | None) -> SipUri:
        params = self.params
        for k, v in values.items():
            params = set_param(params, k, v)
        return replace(self, params=params)

    def without_param(self, name: str) -> SipUri:
        return replace(self, params=del_param(self.params, name))

    def __hash__(self) -> int:
        # written out (compiled in the mypyc build; the generated one runs interpreted): the
        # fields the generated one hashed, all but ``_text``
        return hash((self.scheme, self.user, self.password, self.host, self.port, self.params,
                     self.headers))  # fmt: skip

    def same_address(self, other: object) -> bool:
        """User, host and port equal (user case-sensitive, host case-insensitive)."""
        if not isinstance(other, SipUri):
            return False
        return (
            self.scheme.lower() == other.scheme.lower()
            and self.user_unquoted == other.user_unquoted
            and self.host_bare == other.host_bare
            and self.port == other.port
        )

    def __str__(self) -> str:
        if self._text is not None:
            return self._text
        out = [self.scheme, ":"]
        if self.user is not None:
            out.append(self.user)
            if self.password is not None:
                out.append(":" + self.password)
            out.append("@")
        out.append(self.host)
        if self.port is not None:
            out.append(f":{self.port}")
        out.append(format_params(self.params))
        if self.headers is not None:
            out.append("?" + self.headers)
        return "".join(out)


@dataclass(frozen=True, slots=True)
class TelUri:
    """``tel:`` URI (RFC 3966): a number with parameters."""

    number: str
    params: Params = ()
    scheme: str = "tel"

    @property
    def user(self) -> str:
        return self.number

    def __str__(self) -> str:
        return f"tel:{self.number}{format_params(self.params)}"


@dataclass(frozen=True, slots=True)
class AbsoluteUri:
    """Any other absolute URI, kept verbatim (e.g. ``mailto:``, ``http:``, ``urn:``)."""

    scheme: str
    rest: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.rest}"


Uri = SipUri | TelUri | AbsoluteUri


@lru_cache(maxsize=8192)  # values repeat across a dialog; results are frozen
def parse_uri(text: str) -> Uri:
    """Parse a URI. Raises :class:`ParseError` for a malformed sip/sips/tel URI."""
    if not text or any(c in text for c in " \t\r\n<>"):
        raise ParseError(f"bad URI {text!r}")
    m = _SCHEME.match(text)
    if not m:
        raise ParseError(f"URI without scheme {text!r}")
    scheme = m.group(1)
    rest = text[m.end() :]
    low = scheme.lower()
    if low in ("sip", "sips"):
        return _parse_sip(scheme, rest, text)
    if low == "tel":
        number, _, ptext = rest.partition(";")
        if not number:
            raise ParseError(f"bad tel URI {text!r}")
        return TelUri(number=number, params=parse_params(ptext) if ptext else ())
    return AbsoluteUri(scheme=scheme, rest=rest)


def _parse_sip(scheme: str, rest: str, text: str) -> SipUri:
    user: str | None = None
    password: str | None = None
    # userinfo cannot hold an unescaped "@", so the first one ends it (RFC 3261 section 25.1);
    # "?" and ";" are legal inside the user part (RFC 4475 section 3.1.1.4).
    if "@" in rest:
        userinfo, _, hostpart = rest.partition("@")
        user, colon, pw = userinfo.partition(":")
        password = pw if colon else None
        if not user:
            raise ParseError(f"empty user in URI {text!r}")
    else:
        hostpart = rest
    hostpart, qmark, headers = hostpart.partition("?")
    hostport, _, ptext = hostpart.partition(";")
    hm = _HOST.match(hostport)
    if not hm:
        raise ParseError(f"bad host in URI {text!r}")
    port = int(hm.group(2)) if hm.group(2) is not None else None
    if port is not None and port > 65535:
        raise ParseError(f"bad port in URI {text!r}")
    if hm.group(1).startswith("[") and not is_ipv6_reference(hm.group(1)):
        raise ParseError(f"bad IPv6 reference in URI {text!r}")
    params = parse_params(ptext) if ptext or hostpart.endswith(";") else ()
    uri = SipUri(
        scheme=scheme,
        user=user,
        password=password,
        host=hm.group(1),
        port=port,
        params=params,
        headers=headers if qmark else None,
    )
    object.__setattr__(uri, "_text", text)
    return uri


@dataclass(slots=True)
class NameAddr:
    """``"Display" <uri>;params`` as in From, To, Contact, Route, Refer-To (RFC 3261 section 20).

    Immutable by convention (shared by parse_name_addr's cache): its own ``__init__`` and
    ``__hash__`` (the key of ``dialog._tagged``'s cache), as :class:`~tamas.sip.peer.Peer`'s,
    so that the mypyc build compiles them.
    """

    uri: Uri
    display_name: str | None = None
    params: Params = field(default=())
    wildcard: bool = False

    def __init__(
        self,
        uri: Uri,
        display_name: str | None = None,
        params: Params = (),
        wildcard: bool = False,
    ) -> None:
        self.uri = uri
        self.display_name = display_name
        self.params = params
        self.wildcard = wildcard

    def __hash__(self) -> int:
        return hash((self.uri, self.display_name, self.params, self.wildcard))

    @property
    def tag(self) -> str | None:
        return get_param(self.params, "tag")

    def param(self, name: str) -> str | None:
        return get_param(self.params, name)

    def with_param(self, name: str, value: str | None) -> NameAddr:
        # the constructor, not dataclasses.replace: several times cheaper on the hot path
        return NameAddr(self.uri, self.display_name, set_param(self.params, name, value),
                        self.wildcard)  # fmt: skip

    def __str__(self) -> str:
        if self.wildcard:
            return "*" + format_params(self.params)
        dn = f"{self.display_name} " if self.display_name else ""
        return f"{dn}<{self.uri}>{format_params(self.params)}"


@lru_cache(maxsize=8192)  # values repeat across a dialog; results are frozen
def parse_name_addr(text: str) -> NameAddr:
    """Parse a name-addr or addr-spec with header parameters."""
    text = text.strip()
    if text.startswith("*"):
        tail = text[1:].strip()
        # "* <sip:...>" is a name-addr whose display name is the token "*", not a wildcard.
        if not tail or tail.startswith(";"):
            return NameAddr(uri=AbsoluteUri("*", ""), wildcard=True, params=_hparams(tail))
    lt = _find_unquoted(text, "<")
    if lt >= 0:
        display = text[:lt].strip() or None
        if display is not None:
            _check_display(display)
        gt = text.find(">", lt)
        if gt < 0:
            raise ParseError("unterminated <URI>")
        uri = parse_uri(text[lt + 1 : gt].strip())
        return NameAddr(uri=uri, display_name=display, params=_hparams(text[gt + 1 :].strip()))
    # addr-spec: header parameters follow the first ';' (RFC 3261 section 20.10)
    if '"' in text:
        raise ParseError("quoted display name without <URI>")
    uri_text, semi, ptext = text.partition(";")
    uri = parse_uri(uri_text.strip())
    if isinstance(uri, SipUri) and uri.headers is not None:
        raise ParseError("URI with headers must be enclosed in <>")
    return NameAddr(uri=uri, params=parse_params(ptext) if semi else ())


def _hparams(text: str) -> Params:
    if not text:
        return ()
    if not text.startswith(";"):
        raise ParseError(f"junk after URI: {text[:40]!r}")
    return parse_params(text[1:])


def _find_unquoted(text: str, ch: str) -> int:
    in_quote = False
    i = 0
    while i < len(text):
        c = text[i]
        if in_quote:
            if c == "\\":
                i += 1
            elif c == '"':
                in_quote = False
        elif c == '"':
            in_quote = True
        elif c == ch:
            return i
        i += 1
    if in_quote:
        raise ParseError("unterminated quoted string")
    return -1


def _check_display(display: str) -> None:
    if display.startswith('"'):
        end = _end_of_quoted(display)
        if end != len(display):
            raise ParseError("junk after quoted display name")
        return
    for word in display.split():
        if not is_token(word):
            raise ParseError(f"display name must be quoted: {display!r}")


def _end_of_quoted(text: str) -> int:
    i = 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i + 1
        i += 1
    raise ParseError("unterminated quoted string")


def unquote_string(text: str) -> str:
    """Remove the quotes and backslash escapes of a quoted-string (or return a token as is)."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text
