"""Session descriptions: the SDP codec (RFC 4566, clarified by RFC 8866).

Theory of operation
-------------------
:meth:`SessionDescription.parse` turns a body into value dataclasses and ``bytes(sd)`` turns them
back into CRLF-terminated lines in the grammar's order (RFC 4566 section 5)::

    session: v o s i? u? e* p* c? b* (t r*)* z? k? a* m*
    media:   m i? c* b* k? a*

Every field a well-formed description can carry has a place in the model, attributes are kept in
wire order with their raw values, so a well-formed body round-trips byte for byte. What is
normalised: LF-only endings and a missing final CRLF (CRLF is always written), runs of spaces
between tokens, leading zeros in numbers, and lines that appear out of the grammar's order.

Lines with a type letter the grammar does not define are rejected: RFC 4566 section 5 says a
parser MUST ignore a whole description whose type letters it does not understand, so a UAS
answers 400 (``ParseError``) instead of guessing.

Helpers for a B2BUA sit at the bottom: :func:`hold_state`, :func:`rewrite_connection` and
:func:`bump_version`. Negotiation itself is in :mod:`tamas.sip.offer_answer`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Literal, NamedTuple

from tamas.sip.errors import ParseError

__all__ = [
    "STATIC_PAYLOAD_TYPES",
    "Attribute",
    "Bandwidth",
    "Connection",
    "Direction",
    "MediaDescription",
    "Origin",
    "Rtcp",
    "RtpMap",
    "SessionDescription",
    "Timing",
    "bump_version",
    "hold_state",
    "rewrite_connection",
]

_DIGITS = re.compile(r"[0-9]+")


def _int(text: str, what: str, line: str) -> int:
    if not _DIGITS.fullmatch(text):
        raise ParseError(f"SDP: bad {what} {text!r} in line {line!r}")
    return int(text)


def _tokens(value: str, count: int | None, line: str) -> list[str]:
    """Space-separated fields; each must be a non-empty run of visible characters."""
    parts = [p for p in value.split(" ") if p]
    if count is not None and len(parts) != count:
        raise ParseError(f"SDP: expected {count} fields in line {line!r}")
    for part in parts:
        if any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in part):
            raise ParseError(f"SDP: control character in line {line!r}")
    return parts


def _addrtype(address: str) -> str:
    return "IP6" if ":" in address else "IP4"


# --- direction -----------------------------------------------------------------------------


class Direction(StrEnum):
    """Media direction attributes (RFC 4566 section 6, RFC 3264 section 5.1)."""

    SENDRECV = "sendrecv"
    SENDONLY = "sendonly"
    RECVONLY = "recvonly"
    INACTIVE = "inactive"

    @property
    def sends(self) -> bool:
        return self in (Direction.SENDRECV, Direction.SENDONLY)

    @property
    def receives(self) -> bool:
        return self in (Direction.SENDRECV, Direction.RECVONLY)

    @classmethod
    def of(cls, *, sends: bool, receives: bool) -> Direction:
        if sends:
            return cls.SENDRECV if receives else cls.SENDONLY
        return cls.RECVONLY if receives else cls.INACTIVE

    def reversed(self) -> Direction:
        """The same stream seen from the other end (sendonly <-> recvonly)."""
        return Direction.of(sends=self.receives, receives=self.sends)


_DIRECTIONS = frozenset(d.value for d in Direction)


# --- small value types ---------------------------------------------------------------------


class Attribute(NamedTuple):
    """``a=name`` (value None) or ``a=name:value`` (value kept raw, possibly empty)."""

    name: str
    value: str | None = None

    @classmethod
    def parse(cls, text: str) -> Attribute:
        name, colon, value = text.partition(":")
        if _tokens(name, None, f"a={text}") != [name]:
            raise ParseError(f"SDP: bad attribute name in line {'a=' + text!r}")
        return cls(name, value if colon else None)

    def __str__(self) -> str:
        return self.name if self.value is None else f"{self.name}:{self.value}"


# The value types of a description are immutable by convention, as frozen dataclasses would be
# but with their own ``__init__``s: mypyc compiles those, while a dataclass-generated one runs
# interpreted (a frozen one through object.__setattr__ per field). Anchoring builds a few of
# them per call (tamas.runtime.anchor_shapes). Nothing assigns to a field after construction;
# ``dataclasses.replace`` makes changed copies.


@dataclass(slots=True, unsafe_hash=True)
class Origin:
    """``o=`` (RFC 4566 section 5.2). ``sess_version`` must grow with every change (RFC 3264 §8)."""

    username: str
    sess_id: str
    sess_version: int
    nettype: str
    addrtype: str
    address: str

    def __init__(
        self,
        username: str,
        sess_id: str,
        sess_version: int,
        nettype: str,
        addrtype: str,
        address: str,
    ) -> None:
        self.username = username
        self.sess_id = sess_id
        self.sess_version = sess_version
        self.nettype = nettype
        self.addrtype = addrtype
        self.address = address

    def with_sess_id(self, sess_id: str) -> Origin:
        """This origin with another session id (a constructor call: cheaper than replace)."""
        return Origin(self.username, sess_id, self.sess_version, self.nettype, self.addrtype,
                      self.address)  # fmt: skip

    @classmethod
    def parse(cls, value: str) -> Origin:
        line = f"o={value}"
        user, sess_id, version, nettype, addrtype, address = _tokens(value, 6, line)
        return cls(
            user, sess_id, _int(version, "session version", line), nettype, addrtype, address
        )

    def __str__(self) -> str:
        return (
            f"{self.username} {self.sess_id} {self.sess_version} "
            f"{self.nettype} {self.addrtype} {self.address}"
        )


@dataclass(slots=True, unsafe_hash=True)
class Connection:
    """``c=`` (RFC 4566 section 5.7). ``address`` keeps any multicast ``/ttl/count`` suffix."""

    nettype: str
    addrtype: str
    address: str

    def __init__(self, nettype: str, addrtype: str, address: str) -> None:
        self.nettype = nettype
        self.addrtype = addrtype
        self.address = address

    @classmethod
    def parse(cls, value: str) -> Connection:
        nettype, addrtype, address = _tokens(value, 3, f"c={value}")
        return cls(nettype, addrtype, address)

    @classmethod
    def for_address(cls, address: str) -> Connection:
        """``IN IP4 a.b.c.d`` or ``IN IP6 ...`` depending on the address."""
        return cls("IN", _addrtype(address), address)

    @property
    def host(self) -> str:
        """The address without a multicast ``/ttl`` or ``/count`` suffix."""
        return self.address.split("/", 1)[0]

    @property
    def is_unspecified(self) -> bool:
        """``0.0.0.0`` (RFC 2543 hold, RFC 3264 section 8.4) or its IPv6 twin ``::``."""
        return self.host in ("0.0.0.0", "::")

    def __str__(self) -> str:
        return f"{self.nettype} {self.addrtype} {self.address}"


@dataclass(frozen=True, slots=True)
class Bandwidth:
    """``b=<bwtype>:<bandwidth>`` (RFC 4566 section 5.8), e.g. AS, CT, TIAS."""

    bwtype: str
    bandwidth: int

    @classmethod
    def parse(cls, value: str) -> Bandwidth:
        line = f"b={value}"
        bwtype, colon, amount = value.partition(":")
        if not colon:
            raise ParseError(f"SDP: bandwidth without ':' in line {line!r}")
        _tokens(bwtype, 1, line)
        return cls(bwtype, _int(amount, "bandwidth", line))

    def __str__(self) -> str:
        return f"{self.bwtype}:{self.bandwidth}"


@dataclass(frozen=True, slots=True)
class Timing:
    """``t=<start> <stop>`` with its ``r=`` lines (kept raw: they may use d/h/m/s units)."""

    start: int = 0
    stop: int = 0
    repeats: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: str) -> Timing:
        line = f"t={value}"
        start, stop = _tokens(value, 2, line)
        return cls(_int(start, "start time", line), _int(stop, "stop time", line))

    def lines(self) -> Iterator[str]:
        yield f"t={self.start} {self.stop}"
        for repeat in self.repeats:
            yield f"r={repeat}"


#: A description's default timing: ``t=0 0`` (permanent).
_ONE_TIMING = (Timing(),)


@dataclass(slots=True, unsafe_hash=True)
class RtpMap:
    """``<encoding>/<clock rate>[/<channels>]`` of an ``a=rtpmap`` (RFC 4566 section 6)."""

    encoding: str
    clock_rate: int
    channels: int = 1

    def __init__(self, encoding: str, clock_rate: int, channels: int = 1) -> None:
        self.encoding = encoding
        self.clock_rate = clock_rate
        self.channels = channels

    @classmethod
    def parse(cls, text: str) -> RtpMap:
        parts = text.strip().split("/")
        if len(parts) not in (2, 3) or not parts[0]:
            raise ParseError(f"SDP: bad rtpmap encoding {text!r}")
        channels = _int(parts[2], "channel count", text) if len(parts) == 3 else 1
        return cls(parts[0], _int(parts[1], "clock rate", text), channels)

    def __str__(self) -> str:
        suffix = f"/{self.channels}" if self.channels != 1 else ""
        return f"{self.encoding}/{self.clock_rate}{suffix}"


#: RFC 3551 section 6: payload types that need no a=rtpmap.
STATIC_PAYLOAD_TYPES: dict[int, RtpMap] = {
    0: RtpMap("PCMU", 8000),
    3: RtpMap("GSM", 8000),
    4: RtpMap("G723", 8000),
    5: RtpMap("DVI4", 8000),
    6: RtpMap("DVI4", 16000),
    7: RtpMap("LPC", 8000),
    8: RtpMap("PCMA", 8000),
    9: RtpMap("G722", 8000),  # 8000 despite 16 kHz sampling (RFC 3551 section 4.5.2)
    10: RtpMap("L16", 44100, 2),
    11: RtpMap("L16", 44100),
    12: RtpMap("QCELP", 8000),
    13: RtpMap("CN", 8000),
    14: RtpMap("MPA", 90000),
    15: RtpMap("G728", 8000),
    16: RtpMap("DVI4", 11025),
    17: RtpMap("DVI4", 22050),
    18: RtpMap("G729", 8000),
    25: RtpMap("CelB", 90000),
    26: RtpMap("JPEG", 90000),
    28: RtpMap("nv", 90000),
    31: RtpMap("H261", 90000),
    32: RtpMap("MPV", 90000),
    33: RtpMap("MP2T", 90000),
    34: RtpMap("H263", 90000),
}


@dataclass(frozen=True, slots=True)
class Rtcp:
    """``a=rtcp:<port> [<nettype> <addrtype> <address>]`` (RFC 3605)."""

    port: int
    connection: Connection | None = None

    def __str__(self) -> str:
        return f"{self.port} {self.connection}" if self.connection else str(self.port)


# --- attribute access shared by session and media ------------------------------------------


class _Attributes:
    __slots__ = ()
    attributes: tuple[Attribute, ...]

    def attribute(self, name: str) -> str | None:
        """The value of the first ``a=name:value`` (None if absent or value-less)."""
        for attr in self.attributes:
            if attr.name == name:
                return attr.value
        return None

    def attribute_values(self, name: str) -> list[str | None]:
        return [attr.value for attr in self.attributes if attr.name == name]

    def has_attribute(self, name: str) -> bool:
        return any(attr.name == name for attr in self.attributes)

    @property
    def direction(self) -> Direction | None:
        """The direction attribute declared at this level, if any."""
        for attr in self.attributes:
            if attr.value is None and attr.name in _DIRECTIONS:
                return Direction(attr.name)
        return None


def _with_direction(attrs: tuple[Attribute, ...], direction: Direction) -> tuple[Attribute, ...]:
    """Replace the first direction attribute in place (or append one), dropping the others."""
    out: list[Attribute] = []
    placed = False
    for attr in attrs:
        if attr.value is None and attr.name in _DIRECTIONS:
            if not placed:
                out.append(Attribute(direction.value))
                placed = True
            continue
        out.append(attr)
    if not placed:
        out.append(Attribute(direction.value))
    return tuple(out)


# --- media and session ---------------------------------------------------------------------


@dataclass(slots=True, unsafe_hash=True, kw_only=True)
class MediaDescription(_Attributes):
    """One ``m=`` section (RFC 4566 section 5.14). Port 0 marks a rejected stream."""

    media: str
    port: int
    proto: str
    formats: tuple[str, ...]
    port_count: int | None = None  # the ``/<number of ports>`` suffix, when present
    title: str | None = None  # i=
    connection: Connection | None = None
    extra_connections: tuple[Connection, ...] = ()  # further c= lines (multicast layering)
    bandwidths: tuple[Bandwidth, ...] = ()
    key: str | None = None  # k= (obsolete in RFC 8866, kept for round trips)
    attributes: tuple[Attribute, ...] = ()

    def __init__(
        self,
        *,
        media: str,
        port: int,
        proto: str,
        formats: tuple[str, ...],
        port_count: int | None = None,
        title: str | None = None,
        connection: Connection | None = None,
        extra_connections: tuple[Connection, ...] = (),
        bandwidths: tuple[Bandwidth, ...] = (),
        key: str | None = None,
        attributes: tuple[Attribute, ...] = (),
    ) -> None:
        self.media = media
        self.port = port
        self.proto = proto
        self.formats = formats
        self.port_count = port_count
        self.title = title
        self.connection = connection
        self.extra_connections = extra_connections
        self.bandwidths = bandwidths
        self.key = key
        self.attributes = attributes

    def with_port(self, port: int) -> MediaDescription:
        """This section with another port (a constructor call: cheaper than replace)."""
        return MediaDescription(
            media=self.media,
            port=port,
            proto=self.proto,
            formats=self.formats,
            port_count=self.port_count,
            title=self.title,
            connection=self.connection,
            extra_connections=self.extra_connections,
            bandwidths=self.bandwidths,
            key=self.key,
            attributes=self.attributes,
        )

    @classmethod
    def parse_m_line(cls, value: str) -> MediaDescription:
        line = f"m={value}"
        parts = _tokens(value, None, line)
        if len(parts) < 4:
            raise ParseError(f"SDP: m= line needs media, port, proto and formats: {line!r}")
        media, port_text, proto, *formats = parts
        port_part, slash, count_part = port_text.partition("/")
        port = _int(port_part, "port", line)
        if port > 65535:
            raise ParseError(f"SDP: port out of range in line {line!r}")
        count = None
        if slash:
            count = _int(count_part, "number of ports", line)
            if count == 0:
                raise ParseError(f"SDP: zero number of ports in line {line!r}")
        return cls(media=media, port=port, proto=proto, formats=tuple(formats), port_count=count)

    @property
    def rejected(self) -> bool:
        return self.port == 0

    @property
    def is_rtp(self) -> bool:
        return "RTP/" in self.proto

    @property
    def rtpmaps(self) -> dict[int, RtpMap]:
        """Payload type -> encoding for each format on the m= line, in m= line order.

        An ``a=rtpmap`` wins; static RFC 3551 types need none. Unparsable rtpmaps and unknown
        dynamic types without one are left out.
        """
        declared: dict[int, RtpMap] = {}
        for value in self.attribute_values("rtpmap"):
            pt_text, _, encoding = (value or "").strip().partition(" ")
            if not _DIGITS.fullmatch(pt_text):
                continue
            try:
                declared.setdefault(int(pt_text), RtpMap.parse(encoding))
            except ParseError:
                continue
        result: dict[int, RtpMap] = {}
        for fmt in self.formats:
            if not _DIGITS.fullmatch(fmt):
                continue
            pt = int(fmt)
            rtpmap = declared.get(pt) or (STATIC_PAYLOAD_TYPES.get(pt) if self.is_rtp else None)
            if rtpmap is not None:
                result[pt] = rtpmap
        return result

    def fmtp(self, payload_type: int) -> str | None:
        """The parameters of ``a=fmtp:<payload_type> <parameters>``."""
        for value in self.attribute_values("fmtp"):
            pt_text, _, params = (value or "").strip().partition(" ")
            if _DIGITS.fullmatch(pt_text) and int(pt_text) == payload_type:
                return params.strip()
        return None

    def effective_direction(self, session: SessionDescription) -> Direction:
        """Media-level direction, else session-level, else sendrecv (RFC 3264 section 5.1)."""
        return self.direction or session.direction or Direction.SENDRECV

    def with_direction(self, direction: Direction | str) -> MediaDescription:
        return replace(self, attributes=_with_direction(self.attributes, Direction(direction)))

    def effective_connection(self, session: SessionDescription) -> Connection | None:
        """Media-level c=, else the session-level one (RFC 4566 section 5.7)."""
        return self.connection or session.connection

    @property
    def ptime(self) -> int | None:
        """``a=ptime`` in milliseconds (a fractional value such as ``20.0`` is truncated)."""
        value = self.attribute("ptime")
        if value is None:
            return None
        match = re.fullmatch(r"\s*([0-9]+)(?:\.[0-9]*)?\s*", value)
        return int(match.group(1)) if match else None

    @property
    def rtcp(self) -> Rtcp | None:
        value = self.attribute("rtcp")
        if value is None:
            return None
        parts = value.split()
        if not parts or not _DIGITS.fullmatch(parts[0]) or len(parts) not in (1, 4):
            return None
        conn = Connection(*parts[1:]) if len(parts) == 4 else None
        return Rtcp(int(parts[0]), conn)

    @property
    def rtcp_mux(self) -> bool:
        """``a=rtcp-mux`` (RFC 5761): RTP and RTCP share the port."""
        return self.has_attribute("rtcp-mux")

    def lines(self) -> Iterator[str]:
        port = f"{self.port}/{self.port_count}" if self.port_count is not None else str(self.port)
        yield " ".join(("m=" + self.media, port, self.proto, *self.formats))
        if self.title is not None:
            yield f"i={self.title}"
        for conn in (self.connection, *self.extra_connections):
            if conn is not None:
                yield f"c={conn}"
        yield from (f"b={bw}" for bw in self.bandwidths)
        if self.key is not None:
            yield f"k={self.key}"
        yield from (f"a={attr}" for attr in self.attributes)


@dataclass(slots=True, unsafe_hash=True, kw_only=True)
class SessionDescription(_Attributes):
    """A whole SDP body (RFC 4566 section 5). ``bytes(sd)`` serialises it with CRLF."""

    origin: Origin
    session_name: str = "-"
    version: int = 0
    information: str | None = None  # i=
    uri: str | None = None  # u=
    emails: tuple[str, ...] = ()  # e=
    phones: tuple[str, ...] = ()  # p=
    connection: Connection | None = None
    bandwidths: tuple[Bandwidth, ...] = ()
    timings: tuple[Timing, ...] = _ONE_TIMING
    time_zones: str | None = None  # z=
    key: str | None = None  # k=
    attributes: tuple[Attribute, ...] = ()
    media: tuple[MediaDescription, ...] = ()

    def __init__(
        self,
        *,
        origin: Origin,
        session_name: str = "-",
        version: int = 0,
        information: str | None = None,
        uri: str | None = None,
        emails: tuple[str, ...] = (),
        phones: tuple[str, ...] = (),
        connection: Connection | None = None,
        bandwidths: tuple[Bandwidth, ...] = (),
        timings: tuple[Timing, ...] = _ONE_TIMING,
        time_zones: str | None = None,
        key: str | None = None,
        attributes: tuple[Attribute, ...] = (),
        media: tuple[MediaDescription, ...] = (),
    ) -> None:
        self.origin = origin
        self.session_name = session_name
        self.version = version
        self.information = information
        self.uri = uri
        self.emails = emails
        self.phones = phones
        self.connection = connection
        self.bandwidths = bandwidths
        self.timings = timings
        self.time_zones = time_zones
        self.key = key
        self.attributes = attributes
        self.media = media

    def with_origin_media(
        self, origin: Origin, media: tuple[MediaDescription, ...]
    ) -> SessionDescription:
        """This description with another origin and media sections (a constructor call:
        cheaper than replace)."""
        return SessionDescription(
            origin=origin,
            session_name=self.session_name,
            version=self.version,
            information=self.information,
            uri=self.uri,
            emails=self.emails,
            phones=self.phones,
            connection=self.connection,
            bandwidths=self.bandwidths,
            timings=self.timings,
            time_zones=self.time_zones,
            key=self.key,
            attributes=self.attributes,
            media=media,
        )

    @classmethod
    def parse(cls, data: bytes | str) -> SessionDescription:
        return _Parser(_lines(data)).parse()

    def to_bytes(self) -> bytes:
        return bytes(self)

    def __bytes__(self) -> bytes:
        return "".join(line + "\r\n" for line in self.lines()).encode("utf-8", "surrogateescape")

    def lines(self) -> Iterator[str]:
        yield f"v={self.version}"
        yield f"o={self.origin}"
        yield f"s={self.session_name}"
        if self.information is not None:
            yield f"i={self.information}"
        if self.uri is not None:
            yield f"u={self.uri}"
        yield from (f"e={email}" for email in self.emails)
        yield from (f"p={phone}" for phone in self.phones)
        if self.connection is not None:
            yield f"c={self.connection}"
        yield from (f"b={bw}" for bw in self.bandwidths)
        for timing in self.timings:
            yield from timing.lines()
        if self.time_zones is not None:
            yield f"z={self.time_zones}"
        if self.key is not None:
            yield f"k={self.key}"
        yield from (f"a={attr}" for attr in self.attributes)
        for media in self.media:
            yield from media.lines()

    def with_direction(self, direction: Direction | str) -> SessionDescription:
        """Set ``direction`` on every media section (session-level ones are left alone)."""
        return replace(self, media=tuple(m.with_direction(direction) for m in self.media))


# --- parsing -------------------------------------------------------------------------------


def _lines(data: bytes | str) -> list[tuple[str, str]]:
    """Split into (type letter, value); tolerate LF-only endings and a missing final CRLF."""
    if isinstance(data, bytes):
        text = data.decode("utf-8", "surrogateescape")
    else:
        text = data
        try:
            text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise ParseError("SDP: text is not encodable as UTF-8") from None
    result: list[tuple[str, str]] = []
    for raw in text.split("\n"):
        line = raw[:-1] if raw.endswith("\r") else raw
        if not line:
            continue
        if "\r" in line or "\0" in line:
            raise ParseError(f"SDP: CR or NUL inside line {line!r}")
        if len(line) < 2 or line[1] != "=" or not ("a" <= line[0] <= "z"):
            raise ParseError(f"SDP: line is not '<letter>=<value>': {line!r}")
        result.append((line[0], line[2:]))
    return result


_SESSION_SINGLETONS = {"o": "origin", "s": "session name", "i": "i=", "u": "u=", "c": "c="}
_SESSION_SINGLETONS |= {"z": "z=", "k": "k="}


class _Parser:
    """Walks the lines once: session section first, then one section per ``m=``."""

    def __init__(self, lines: list[tuple[str, str]]) -> None:
        self.lines = lines
        self.single: dict[str, str] = {}
        self.emails: list[str] = []
        self.phones: list[str] = []
        self.bandwidths: list[Bandwidth] = []
        self.timings: list[Timing] = []
        self.attributes: list[Attribute] = []
        self.media: list[MediaDescription] = []

    def parse(self) -> SessionDescription:
        if not self.lines or self.lines[0][0] != "v":
            raise ParseError("SDP: first line must be v=")
        if self.lines[0][1] != "0":
            raise ParseError(f"SDP: unsupported version in line 'v={self.lines[0][1]}'")
        index = 1
        while index < len(self.lines) and self.lines[index][0] != "m":
            self._session_line(*self.lines[index])
            index += 1
        while index < len(self.lines):
            index = self._media_section(index)
        if "o" not in self.single:
            raise ParseError("SDP: missing o= line")
        if "s" not in self.single:
            raise ParseError("SDP: missing s= line")
        conn = self.single.get("c")
        return SessionDescription(
            version=0,
            origin=Origin.parse(self.single["o"]),
            session_name=self.single["s"],
            information=self.single.get("i"),
            uri=self.single.get("u"),
            emails=tuple(self.emails),
            phones=tuple(self.phones),
            connection=Connection.parse(conn) if conn is not None else None,
            bandwidths=tuple(self.bandwidths),
            timings=tuple(self.timings),
            time_zones=self.single.get("z"),
            key=self.single.get("k"),
            attributes=tuple(self.attributes),
            media=tuple(self.media),
        )

    def _session_line(self, kind: str, value: str) -> None:
        line = f"{kind}={value}"
        if kind in _SESSION_SINGLETONS:
            if kind in self.single:
                raise ParseError(f"SDP: duplicate {_SESSION_SINGLETONS[kind]} line {line!r}")
            if kind == "o":
                Origin.parse(value)  # fail early, naming the line
            elif kind == "c":
                Connection.parse(value)
            self.single[kind] = value
        elif kind == "e":
            self.emails.append(value)
        elif kind == "p":
            self.phones.append(value)
        elif kind == "b":
            self.bandwidths.append(Bandwidth.parse(value))
        elif kind == "t":
            self.timings.append(Timing.parse(value))
        elif kind == "r":
            if not self.timings:
                raise ParseError(f"SDP: r= line before any t= line: {line!r}")
            last = self.timings[-1]
            self.timings[-1] = replace(last, repeats=(*last.repeats, value))
        elif kind == "a":
            self.attributes.append(Attribute.parse(value))
        else:
            raise ParseError(f"SDP: unexpected line at session level: {line!r}")

    def _media_section(self, index: int) -> int:
        media = MediaDescription.parse_m_line(self.lines[index][1])
        title: str | None = None
        key: str | None = None
        conns: list[Connection] = []
        bandwidths: list[Bandwidth] = []
        attributes: list[Attribute] = []
        index += 1
        while index < len(self.lines) and self.lines[index][0] != "m":
            kind, value = self.lines[index]
            line = f"{kind}={value}"
            if kind in ("i", "k") and (title if kind == "i" else key) is not None:
                raise ParseError(f"SDP: duplicate {kind}= line in media section: {line!r}")
            if kind == "i":
                title = value
            elif kind == "k":
                key = value
            elif kind == "c":
                conns.append(Connection.parse(value))
            elif kind == "b":
                bandwidths.append(Bandwidth.parse(value))
            elif kind == "a":
                attributes.append(Attribute.parse(value))
            else:
                raise ParseError(f"SDP: unexpected line in media section: {line!r}")
            index += 1
        self.media.append(
            replace(
                media,
                title=title,
                key=key,
                connection=conns[0] if conns else None,
                extra_connections=tuple(conns[1:]),
                bandwidths=tuple(bandwidths),
                attributes=tuple(attributes),
            )
        )
        return index


# --- B2BUA helpers -------------------------------------------------------------------------


def hold_state(sd: SessionDescription) -> Literal["active", "held", "inactive"]:
    """How the sender of ``sd`` treats the call (RFC 3264 section 8.4, RFC 6337 section 5).

    Looks at the audio streams that are not rejected (all streams if there is no audio).
    ``inactive`` when every one is inactive, ``held`` when any is sendonly/inactive or points at
    ``0.0.0.0`` (RFC 2543 hold), else ``active``. A recvonly stream is not a hold by its sender.
    """
    live = [m for m in sd.media if not m.rejected]
    streams = [m for m in live if m.media == "audio"] or live
    states: list[str] = []
    for media in streams:
        direction = media.effective_direction(sd)
        conn = media.effective_connection(sd)
        if conn is not None and conn.is_unspecified:
            # The sender asks for no media to it; if it will not send either, nothing flows.
            direction = Direction.of(sends=direction.sends, receives=False)
        if direction is Direction.INACTIVE:
            states.append("inactive")
        elif direction is Direction.SENDONLY:
            states.append("held")
        else:
            states.append("active")
    if states and all(s == "inactive" for s in states):
        return "inactive"
    if any(s != "active" for s in states):
        return "held"
    return "active"


def rewrite_connection(
    sd: SessionDescription, address: str, ports: Sequence[int] | None = None
) -> SessionDescription:
    """A copy whose media is anchored at ``address`` (and ``ports``, one per m= line).

    Every c= line (session and media level) is replaced; if some stream had none and the session
    had none either, a session-level c= is added. Rejected streams keep port 0. An ``a=rtcp``
    follows the new address and port (RTP port + 1, or the RTP port itself with rtcp-mux).
    """
    if ports is not None and len(ports) != len(sd.media):
        raise ValueError(f"{len(ports)} ports for {len(sd.media)} media sections")
    conn = Connection.for_address(address)
    new_media: list[MediaDescription] = []
    for i, media in enumerate(sd.media):
        port = media.port if ports is None or media.rejected else ports[i]
        new_media.append(
            replace(
                media,
                port=port,
                connection=conn if media.connection is not None else None,
                extra_connections=(),
                attributes=tuple(_rewrite_rtcp(media, conn, port, ports is not None)),
            )
        )
    needs_session_c = sd.connection is not None or any(m.connection is None for m in new_media)
    return replace(sd, connection=conn if needs_session_c else None, media=tuple(new_media))


def _rewrite_rtcp(
    media: MediaDescription, conn: Connection, port: int, new_port: bool
) -> Iterable[Attribute]:
    rtcp = media.rtcp
    for attr in media.attributes:
        if attr.name != "rtcp" or rtcp is None:
            yield attr
            continue
        rtcp_port = (port if media.rtcp_mux else port + 1) if new_port else rtcp.port
        rewritten = Rtcp(rtcp_port, conn if rtcp.connection is not None else None)
        yield Attribute("rtcp", str(rewritten))


def bump_version(sd: SessionDescription) -> SessionDescription:
    """The same description with o= version + 1, as a changed re-offer needs (RFC 3264 §8)."""
    origin = replace(sd.origin, sess_version=sd.origin.sess_version + 1)
    return replace(sd, origin=origin)
