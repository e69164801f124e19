"""Header fields: names (compact forms), the ordered header list, Via and CSeq values.

RFC 3261 section 7.3: header names are case-insensitive and several have a one-letter compact
form; a header whose grammar is a comma-separated list may appear once with several values or
several times, and both mean the same (section 7.3.1). :class:`Headers` keeps the fields in wire
order with their canonical names, and :meth:`Headers.values` splits list headers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from tamas.sip.errors import ParseError
from tamas.sip.uri import (
    TOKEN_CHARS,
    Params,
    format_params,
    get_param,
    is_ipv6_reference,
    is_token,
    parse_params,
    set_param,
    split_quoted,
)

COMPACT: dict[str, str] = {
    "a": "Accept-Contact",
    "b": "Referred-By",
    "c": "Content-Type",
    "d": "Request-Disposition",
    "e": "Content-Encoding",
    "f": "From",
    "i": "Call-ID",
    "j": "Reject-Contact",
    "k": "Supported",
    "l": "Content-Length",
    "m": "Contact",
    "n": "Identity-Info",
    "o": "Event",
    "r": "Refer-To",
    "s": "Subject",
    "t": "To",
    "u": "Allow-Events",
    "v": "Via",
    "x": "Session-Expires",
    "y": "Identity",
}

# fmt: off
_CANONICAL: dict[str, str] = {
    n.lower(): n
    for n in (
        "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Allow-Events",
        "Authentication-Info", "Authorization", "Call-ID", "Call-Info", "Contact",
        "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length",
        "Content-Type", "CSeq", "Date", "Error-Info", "Event", "Expires", "From", "In-Reply-To",
        "Max-Forwards", "Min-Expires", "MIME-Version", "Organization", "Priority",
        "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "Record-Route", "Refer-To",
        "Referred-By", "Reply-To", "Require", "Retry-After", "Route", "RSeq", "RAck", "Server",
        "Session-Expires", "Min-SE", "Subject", "Subscription-State", "Supported", "Timestamp",
        "To", "Unsupported", "User-Agent", "Via", "Warning", "WWW-Authenticate", "Path",
        "P-Asserted-Identity", "Privacy", "Replaces", "Diversion", "Reason",
    )
}
# fmt: on

#: Headers whose grammar is a comma-separated list (safe to split on top-level commas).
LIST_HEADERS = frozenset(
    {
        "Via", "Contact", "Route", "Record-Route", "Allow", "Supported", "Require",
        "Proxy-Require", "Unsupported", "Accept", "Accept-Encoding", "Accept-Language",
        "Content-Encoding", "Allow-Events", "Path", "In-Reply-To", "Content-Language",
    }
)  # fmt: skip

#: Headers that must not appear more than once (RFC 4475 section 3.3.9 tests this).
SINGLE_HEADERS = frozenset(
    {"To", "From", "Call-ID", "CSeq", "Max-Forwards", "Content-Length", "Content-Type", "Expires"}
)


_NAME_CACHE: dict[str, str] = {}
#: Header names read from the wire that are tokens, with their canonical spelling.
_TOKEN_NAMES: dict[str, str] = {}


def canonical_name(name: str) -> str:
    """Canonical spelling of a header name (expanding compact forms)."""
    cached = _NAME_CACHE.get(name)
    if cached is not None:
        return cached
    canonical = _canonical_name(name)
    if len(_NAME_CACHE) < 4096:  # bounded: names come from the network
        _NAME_CACHE[name] = canonical
    return canonical


def _canonical_name(name: str) -> str:
    low = name.lower()
    if len(low) == 1 and low in COMPACT:
        return COMPACT[low]
    known = _CANONICAL.get(low)
    if known:
        return known
    return "-".join(p[:1].upper() + p[1:].lower() for p in name.split("-"))


def is_header_name(name: str) -> bool:
    return is_token(name)


class Headers:
    """Ordered, case-insensitive multi-map of header fields.

    ``_items`` keeps the wire order; ``_index`` maps each canonical name to its values for
    O(1) lookups (every message is read far more often than it is changed).
    """

    __slots__ = ("_index", "_items", "version")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = []
        self._index: dict[str, list[str]] = {}
        self.version = 0  # changes with every mutation (lets messages cache parsed values)
        for k, v in items:
            self.add(k, v)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def copy(self) -> Headers:
        h = Headers()
        h._items = list(self._items)
        h._index = {k: list(v) for k, v in self._index.items()}
        return h

    @classmethod
    def from_lines(cls, lines: list[str]) -> Headers | None:
        """Headers from unfolded header lines (``name: value``) in wire order, or None if a
        line is not one: a token, blanks, a colon, the value (stripped of spaces and tabs).

        The parser's fast path, a loop in the compiled build: one regular-expression pass
        (``findall``) over the lines and the pairs it built cost about twice this."""
        h = Headers()
        items = h._items
        index = h._index
        for line in lines:
            # find and slices rather than partition and strip: one new string per value
            # instead of three (the usual spelling, "Name: value", needs no strip at all)
            colon = line.find(":")
            if colon < 0:
                return None
            name = line[:colon]
            cname = _TOKEN_NAMES.get(name)
            if cname is None:
                name = name.rstrip(" \t")
                cname = _TOKEN_NAMES.get(name)
                if cname is None:
                    if not is_token(name):
                        return None
                    cname = canonical_name(name)
                    if len(_TOKEN_NAMES) < 4096:  # bounded: names come from the network
                        _TOKEN_NAMES[name] = cname
            start = colon + 1
            if start < len(line) and line[start] == " ":
                start += 1
            value = line[start:]
            if value and (value[0] in " \t" or value[-1] in " \t"):
                value = value.strip(" \t")
            items.append((cname, value))
            found = index.get(cname)
            if found is None:
                index[cname] = [value]
            else:
                found.append(value)
        return h

    def _values(self, name: str) -> list[str] | None:
        # Callers mostly ask by canonical name: one lookup then. A key equal to ``name`` is
        # canonical, and canonical_name is idempotent, so this finds what the second would.
        found = self._index.get(name)
        if found is not None:
            return found
        return self._index.get(_NAME_CACHE.get(name) or canonical_name(name))

    def get(self, name: str) -> str | None:
        """First field's raw value, or None."""
        found = self._values(name)
        return found[0] if found else None

    def get_all(self, name: str) -> list[str]:
        """Raw values of every field with this name, in order."""
        found = self._values(name)
        return list(found) if found else []

    def values(self, name: str) -> list[str]:
        """All values, list headers split on top-level commas (RFC 3261 section 7.3.1)."""
        cname = canonical_name(name)
        raw = self.get_all(cname)
        if cname not in LIST_HEADERS:
            return raw
        out: list[str] = []
        for v in raw:
            if "," not in v:
                out.append(v.strip())
                continue
            out.extend(p.strip() for p in split_quoted(v, ",") if p.strip())
        return out

    def count(self, name: str) -> int:
        found = self._values(name)
        return len(found) if found else 0

    def add(self, name: str, value: str) -> None:
        self.version += 1
        cname = _NAME_CACHE.get(name) or canonical_name(name)
        self._items.append((cname, value))
        found = self._index.get(cname)
        if found is None:
            self._index[cname] = [value]
        else:
            found.append(value)

    def first_missing(self, names: tuple[str, ...]) -> str | None:
        """The first of ``names`` (canonical) that is absent, if any."""
        index = self._index
        for name in names:
            if name not in index:
                return name
        return None

    def repeated(self, names: frozenset[str]) -> str | None:
        """The first of ``names`` (canonical) that appears more than once, if any."""
        for name, values in self._index.items():
            if len(values) > 1 and name in names:
                return name
        return None

    def prepend(self, name: str, value: str) -> None:
        self.version += 1
        cname = canonical_name(name)
        self._items.insert(0, (cname, value))
        self._index.setdefault(cname, []).insert(0, value)

    def set(self, name: str, value: str) -> None:
        """Replace every field of this name by one (at the first one's position)."""
        cname = canonical_name(name)
        idx = next((i for i, (k, _) in enumerate(self._items) if k == cname), None)
        self.remove(cname)
        if idx is None:
            self._items.append((cname, value))
        else:
            self._items.insert(idx, (cname, value))
        self._index[cname] = [value]

    def remove(self, name: str) -> None:
        self.version += 1
        cname = canonical_name(name)
        if cname in self._index:
            self._items = [(k, v) for k, v in self._items if k != cname]
            del self._index[cname]

    def replace_first_value(self, name: str, value: str) -> bool:
        """Replace the first field of ``name`` by ``value`` where it stands, if that field
        holds one value (no comma); False, and nothing changed, otherwise."""
        cname = _NAME_CACHE.get(name) or canonical_name(name)
        values = self._index.get(cname)
        if not values or "," in values[0]:
            return False
        items = self._items
        for i in range(len(items)):
            if items[i][0] == cname:  # the first field of that name holds values[0]
                items[i] = (cname, value)
                values[0] = value
                self.version += 1
                return True
        return False

    def pop_first_value(self, name: str) -> str | None:
        """Remove and return the first value of a list header (e.g. the top Via or Route)."""
        self.version += 1
        cname = canonical_name(name)
        for i, (k, v) in enumerate(self._items):
            if k != cname:
                continue
            parts = [p.strip() for p in split_quoted(v, ",") if p.strip()] if "," in v else [v]
            values = self._index[cname]  # values[0] is this field's value
            if len(parts) <= 1:
                del self._items[i]
                del values[0]
                if not values:
                    del self._index[cname]
            else:
                rest = ", ".join(parts[1:])
                self._items[i] = (k, rest)
                values[0] = rest
            return parts[0].strip() if parts else None
        return None


@dataclass(slots=True, unsafe_hash=True)
class Via:
    """One Via value: ``SIP/2.0/UDP host:port;branch=...;rport``.

    Immutable by convention (shared by parse_via's cache): its own ``__init__``, as
    :class:`~tamas.sip.peer.Peer`'s, so that the mypyc build compiles it.
    """

    transport: str
    host: str
    port: int | None = None
    params: Params = ()
    protocol: str = "SIP/2.0"

    def __init__(
        self,
        transport: str,
        host: str,
        port: int | None = None,
        params: Params = (),
        protocol: str = "SIP/2.0",
    ) -> None:
        self.transport = transport
        self.host = host
        self.port = port
        self.params = params
        self.protocol = protocol

    @property
    def branch(self) -> str | None:
        return get_param(self.params, "branch")

    @property
    def received(self) -> str | None:
        return get_param(self.params, "received")

    @property
    def rport(self) -> str | None:
        """ "" when present without a value, the value when set, None when absent."""
        return get_param(self.params, "rport")

    @property
    def host_bare(self) -> str:
        h = self.host
        return (h[1:-1] if h.startswith("[") else h).lower()

    def with_param(self, name: str, value: str | None) -> Via:
        # the constructor, not dataclasses.replace: several times cheaper on the hot path
        return Via(self.transport, self.host, self.port, set_param(self.params, name, value),
                   self.protocol)  # fmt: skip

    def __str__(self) -> str:
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.protocol}/{self.transport} {self.host}{port}{format_params(self.params)}"


_VIA_RE = re.compile(
    r"^\s*([A-Za-z0-9\-.!%*_+`'~]+)\s*/\s*([0-9A-Za-z.]+)\s*/\s*([A-Za-z0-9\-.!%*_+`'~]+)\s+"
    r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._]+)(?:\s*:\s*([0-9]{1,5}))?\s*(;.*)?$",
    re.S | re.ASCII,
)


#: The characters of a host name or IPv4 address.
_HOST_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._")
_DIGITS = frozenset("0123456789")
SIP_2_0 = "SIP/2.0"


@lru_cache(maxsize=8192)  # values repeat across a dialog; results are frozen
def parse_via(value: str) -> Via:
    via = _parse_via_plain(value)
    return via if via is not None else _parse_via_re(value)


def _all_in(text: str, chars: frozenset[str]) -> bool:
    return all(c in chars for c in text)


def _parse_via_plain(value: str) -> Via | None:
    """The usual spelling, ``SIP/2.0/<transport> <host>[:<port>][;params]`` with no other
    blanks and a host name or IPv4 address, read without the regular expression (a few
    times cheaper; every new branch is a new value, so the cache rarely helps). Anything
    else is None, for :func:`_parse_via_re`; both give the same Via for what this accepts
    (a property test compares them)."""
    if not value.startswith("SIP/2.0/"):
        return None
    space = value.find(" ", 8)
    if space < 9:
        return None
    transport = value[8:space]
    if not _all_in(transport, TOKEN_CHARS):
        return None
    semi = value.find(";", space + 1)
    hostport = value[space + 1 :] if semi < 0 else value[space + 1 : semi]
    host, colon, port_text = hostport.partition(":")
    if not host or not _all_in(host, _HOST_CHARS):
        return None
    port: int | None = None
    if colon:
        if not 1 <= len(port_text) <= 5 or not _all_in(port_text, _DIGITS):
            return None
        port = int(port_text)
        if port > 65535:
            raise ParseError("bad Via port")
    params = parse_params(value[semi:].strip()[1:]) if semi >= 0 else ()
    return Via(transport.upper(), host, port, params, SIP_2_0)


def _parse_via_re(value: str) -> Via:
    m = _VIA_RE.match(value)
    if not m:
        raise ParseError(f"bad Via {value.strip()[:60]!r}")
    name, version, transport, host, port, ptext = m.groups()
    p = int(port) if port else None
    if p is not None and p > 65535:
        raise ParseError("bad Via port")
    if host.startswith("[") and not is_ipv6_reference(host):
        raise ParseError(f"bad IPv6 reference in Via {host!r}")
    params = parse_params(ptext.strip()[1:]) if ptext else ()
    return Via(
        transport=transport.upper(),
        host=host,
        port=p,
        params=params,
        protocol=f"{name.upper()}/{version}",
    )


@dataclass(frozen=True, slots=True)
class CSeq:
    seq: int
    method: str

    def __str__(self) -> str:
        return f"{self.seq} {self.method}"


MAX_CSEQ = 2**31 - 1


@lru_cache(maxsize=8192)  # values repeat across a dialog; results are frozen
def parse_cseq(value: str) -> CSeq:
    parts = value.split()
    if len(parts) != 2 or not _is_digits(parts[0]) or not is_token(parts[1]):
        raise ParseError("bad CSeq")
    # Leading zeros are legal (RFC 4475 section 3.1.1.1: "cseq: 0009"); anything longer than
    # 2**31 - 1 once they are gone is out of range (section 3.1.2.4), and must not reach int().
    digits = parts[0].lstrip("0") or "0"
    if len(digits) > 10 or int(digits) > MAX_CSEQ:
        raise ParseError("CSeq number too large")
    return CSeq(int(digits), parts[1])


def _is_digits(text: str) -> bool:
    """ASCII decimal digits only: str.isdigit() also accepts e.g. "²", which int() rejects."""
    return text.isascii() and text.isdigit()


#: Integer header values read before (Content-Length, Max-Forwards, Expires: the same few
#: spellings in every message), by their spelling: one dict lookup instead of the checks.
_INTS: dict[str, int] = {}


def parse_int(value: str, name: str, maximum: int) -> int:
    known = _INTS.get(value)
    if known is not None and known <= maximum:
        return known
    v = value.strip()
    if not _is_digits(v):
        raise ParseError(f"bad {name}")
    digits = v.lstrip("0") or "0"
    if len(digits) > 12:
        raise ParseError(f"bad {name}")
    number = int(digits)
    if number > maximum:
        raise ParseError(f"bad {name}")
    if len(value) <= 8 and len(_INTS) < 1024:  # bounded: values come from the network
        _INTS[value] = number
    return number


def split_params_value(value: str) -> tuple[str, Params]:
    """``application/sdp;charset=x`` -> ("application/sdp", params)."""
    parts = split_quoted(value, ";")
    return parts[0].strip(), parse_params(";".join(parts[1:])) if len(parts) > 1 else ()
