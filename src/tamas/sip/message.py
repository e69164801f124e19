"""SIP requests and responses: parsing and serialisation (RFC 3261 sections 7 and 25).

Theory of operation: :func:`parse_datagram` turns one UDP datagram (or one WebSocket message)
into a :class:`Request` or :class:`Response`; :class:`StreamParser` frames messages on a byte
stream (TCP, TLS) using Content-Length, which is mandatory there (section 18.3). Header lines are
unfolded, names canonicalised (compact forms expanded) and the mandatory headers are checked once
at parse time (:meth:`Message.validate`) so that a malformed message is answered 400 before any
layer looks at it. Values stay raw strings; typed accessors parse on demand.

A :class:`ParseError` raised while parsing a request carries enough of the message
(``partial``) for the caller to build a 400 response when the Via/From/To/Call-ID/CSeq it needs
survived; responses that fail to parse are simply dropped (section 18.1.2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tamas.sip.errors import ParseError, SipError, VersionNotSupported
from tamas.sip.headers import (
    SINGLE_HEADERS,
    CSeq,
    Headers,
    Via,
    parse_cseq,
    parse_int,
    parse_via,
)
from tamas.sip.uri import NameAddr, Uri, is_token, parse_name_addr, parse_uri

SIP_VERSION = "SIP/2.0"
MAX_MESSAGE = 65535

REASONS: dict[int, str] = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
    183: "Session Progress", 200: "OK", 202: "Accepted", 301: "Moved Permanently",
    302: "Moved Temporarily", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 413: "Request Entity Too Large",
    415: "Unsupported Media Type", 416: "Unsupported URI Scheme", 420: "Bad Extension",
    423: "Interval Too Brief", 480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist", 482: "Loop Detected", 483: "Too Many Hops",
    484: "Address Incomplete", 486: "Busy Here", 487: "Request Terminated",
    488: "Not Acceptable Here", 489: "Bad Event", 491: "Request Pending",
    500: "Server Internal Error",
    501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
    504: "Server Time-out", 505: "Version Not Supported", 513: "Message Too Large",
    600: "Busy Everywhere", 603: "Decline", 604: "Does Not Exist Anywhere",
}  # fmt: skip


#: The headers every message needs (RFC 3261 section 8.1.1), canonical names.
_MANDATORY = ("Via", "From", "To", "Call-ID", "CSeq")


@dataclass(eq=False, slots=True, kw_only=True)
class Message:
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    # Parsed header values, valid while the headers are unchanged (the same object at the same
    # Headers.version): plain slots rather than a dict, as every layer reads them many times.
    _seen: Headers | None = field(default=None, init=False, repr=False)
    _seen_version: int = field(default=-1, init=False, repr=False)
    _c_call_id: str | None = field(default=None, init=False, repr=False)
    _c_cseq: CSeq | None = field(default=None, init=False, repr=False)
    _c_from: NameAddr | None = field(default=None, init=False, repr=False)
    _c_to: NameAddr | None = field(default=None, init=False, repr=False)
    _c_top_via: Via | None = field(default=None, init=False, repr=False)

    def _init_message(self, headers: Headers | None, body: bytes) -> None:
        """The fields every message starts with (for the written-out ``__init__``s of
        Request and Response): its headers and body, and no parsed value yet."""
        self.headers = Headers() if headers is None else headers
        self.body = body
        self._seen = None
        self._seen_version = -1
        self._c_call_id = None
        self._c_cseq = None
        self._c_from = None
        self._c_to = None
        self._c_top_via = None

    def _fresh(self) -> None:
        """Forget the parsed values if the headers changed since they were parsed."""
        h = self.headers
        if h is not self._seen or h.version != self._seen_version:
            self._seen = h
            self._seen_version = h.version
            self._c_call_id = None
            self._c_cseq = None
            self._c_from = None
            self._c_to = None
            self._c_top_via = None

    # -- typed accessors (raise ParseError on malformed values) --------------------------------
    @property
    def call_id(self) -> str:
        self._fresh()
        value = self._c_call_id
        if value is None:
            value = self._c_call_id = _call_id(self)
        return value

    @property
    def cseq(self) -> CSeq:
        self._fresh()
        value = self._c_cseq
        if value is None:
            value = self._c_cseq = _cseq(self)
        return value

    @property
    def from_(self) -> NameAddr:
        self._fresh()
        value = self._c_from
        if value is None:
            value = self._c_from = _from(self)
        return value

    @property
    def to(self) -> NameAddr:
        self._fresh()
        value = self._c_to
        if value is None:
            value = self._c_to = _to(self)
        return value

    @property
    def vias(self) -> list[Via]:
        return [parse_via(v) for v in self.headers.values("Via")]

    @property
    def top_via(self) -> Via:
        self._fresh()
        value = self._c_top_via
        if value is None:
            value = self._c_top_via = _top_via(self)
        return value

    def set_top_via(self, via: Via) -> None:
        """Replace the top Via value by ``via`` (a server transaction adds ``received`` and
        ``rport``, RFC 3261 section 18.2.1 and RFC 3581), keeping the other parsed values:
        they do not depend on Via."""
        self._fresh()
        h = self.headers
        text = str(via)
        if not h.replace_first_value("Via", text):  # in place, unless it holds several
            h.pop_first_value("Via")
            h.prepend("Via", text)
        self._seen_version = h.version
        self._c_top_via = None  # parsed again from the new value if it is read

    @property
    def contacts(self) -> list[NameAddr]:
        return [parse_name_addr(v) for v in self.headers.values("Contact")]

    @property
    def content_type(self) -> str | None:
        v = self.headers.get("Content-Type")
        return v.split(";", 1)[0].strip().lower() if v else None

    def expires(self) -> int | None:
        v = self.headers.get("Expires")
        return None if v is None else parse_int(v, "Expires", 2**32 - 1)

    def serialize_head(self, start_line: str) -> bytes:
        lines = [start_line]
        for k, v in self.headers:  # a loop, not a generator (one object less per message)
            if k != "Content-Length":
                lines.append(f"{k}: {v}")
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")

    def validate(self) -> None:
        """Check the headers every message needs (RFC 3261 section 8.1.1)."""
        h = self.headers
        missing = h.first_missing(_MANDATORY)
        if missing is not None:
            raise ParseError(f"missing {missing}")
        repeated = h.repeated(SINGLE_HEADERS)
        if repeated is not None:
            raise ParseError(f"multiple {repeated} headers")
        if not self.call_id:
            raise ParseError("empty Call-ID")
        # CSeq too: a response whose CSeq is out of range is dropped (RFC 4475 section 3.1.2.4).
        # Only the top Via matters to us; the others are copied back verbatim in responses.
        _ = self.from_, self.to, self.top_via, self.cseq
        mf = h.get("Max-Forwards")
        if mf is not None:
            parse_int(mf, "Max-Forwards", 255)
        self.expires()


@dataclass(eq=False, slots=True, kw_only=True)
class Request(Message):
    method: str
    uri: Uri
    version: str = SIP_VERSION

    # Written out (with Response's): the dataclass-generated __init__ runs interpreted even in
    # the mypyc build, and every message is built through one of these two.
    def __init__(
        self,
        *,
        method: str,
        uri: Uri,
        version: str = SIP_VERSION,
        headers: Headers | None = None,
        body: bytes = b"",
    ) -> None:
        self._init_message(headers, body)
        self.method = method
        self.uri = uri
        self.version = version

    @property
    def max_forwards(self) -> int:
        v = self.headers.get("Max-Forwards")
        return 70 if v is None else parse_int(v, "Max-Forwards", 255)

    def validate(self) -> None:
        Message.validate(self)
        cseq = self.cseq
        if cseq.method != self.method:
            raise ParseError("CSeq method does not match request method")

    def __bytes__(self) -> bytes:
        return self.serialize_head(f"{self.method} {self.uri} {self.version}") + self.body

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.uri} call-id={self.call_id!r}>"


@dataclass(eq=False, slots=True, kw_only=True)
class Response(Message):
    status: int
    reason: str = ""
    version: str = SIP_VERSION

    def __init__(
        self,
        *,
        status: int,
        reason: str = "",
        version: str = SIP_VERSION,
        headers: Headers | None = None,
        body: bytes = b"",
    ) -> None:
        self._init_message(headers, body)
        self.status = status
        self.reason = reason
        self.version = version

    def __bytes__(self) -> bytes:
        return self.serialize_head(f"{self.version} {self.status} {self.reason}") + self.body

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.reason} call-id={self.call_id!r}>"


def _call_id(m: Message) -> str:
    return (m.headers.get("Call-ID") or "").strip()


def _cseq(m: Message) -> CSeq:
    return parse_cseq(m.headers.get("CSeq") or "")


def _from(m: Message) -> NameAddr:
    return parse_name_addr(m.headers.get("From") or "")


def _to(m: Message) -> NameAddr:
    return parse_name_addr(m.headers.get("To") or "")


def _top_via(m: Message) -> Via:
    first = m.headers.get("Via")
    if first is not None and "," not in first:  # one value in the first Via field
        return parse_via(first.strip())
    values = m.headers.values("Via")
    if not values:
        raise ParseError("missing Via")
    return parse_via(values[0])


class RequestParseError(ParseError):
    """A request failed to parse; ``partial`` holds what could be read (for building a 400)."""

    def __init__(self, cause: SipError, partial: Request) -> None:
        super().__init__(cause.reason)
        self.status = cause.status
        self.partial = partial


def reason_for(status: int) -> str:
    return REASONS.get(status, "Unknown")


# -- parsing ----------------------------------------------------------------------------------


def _split_head(data: bytes) -> tuple[bytes, bytes] | None:
    """Split at the first empty line (CRLF CRLF, tolerating bare LF)."""
    i = data.find(b"\r\n\r\n")
    # A bare LF LF only matters before CRLF CRLF (not in the body after it).
    j = data.find(b"\n\n") if i < 0 else data.find(b"\n\n", 0, i + 3)
    if i < 0 and j < 0:
        return None
    if i >= 0 and (j < 0 or i + 2 <= j):
        return data[:i], data[i + 4 :]
    return data[:j], data[j + 2 :]


_HEADER_LINE = re.compile(r"([!%'*+\-.0-9A-Z_`a-z~]+)[ \t]*:[ \t]*(.*?)[ \t]*", re.S)


def _unfold(head: str) -> list[str]:
    """The lines of a message head (CRLF or bare LF line ends), folded lines joined."""
    split = head.split("\r\n")
    if head.count("\n") != len(split) - 1:  # a bare LF somewhere
        split = head.replace("\r\n", "\n").split("\n")
    if "\n " not in head and "\n\t" not in head:
        return split  # nothing folded: the common case
    lines: list[str] = []
    for raw in split:
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += " " + raw.strip()
        else:
            lines.append(raw)
    return lines


def _parse_head(head: bytes) -> tuple[Request | Response, int | None]:
    """Parse the start line and headers. Returns the message and its Content-Length."""
    text = head.decode("utf-8", "surrogateescape").lstrip("\r\n")
    lines = text.split("\r\n")
    found: Headers | None = None
    # One loop over well-formed header lines (the common case: CRLF line ends, nothing
    # folded; from_lines gives up on a folded line, which starts with a blank)...
    if text.count("\n") == len(lines) - 1:
        found = Headers.from_lines(lines[1:])
    if found is None:  # bare LFs, folded or malformed lines
        lines = _unfold(text)
        found = Headers.from_lines(lines[1:])
    start = lines[0]
    if not start:
        raise ParseError("empty message")
    bad_line: ParseError | None = None
    if found is not None:
        headers = found
    else:  # ...and line by line with the expression only to find the bad one
        headers = Headers()
        for line in lines[1:]:
            m = _HEADER_LINE.fullmatch(line)
            if m is None:
                # Keep reading: a request's partial needs the headers that follow to answer 400.
                bad_line = bad_line or ParseError(f"malformed header line {line[:40]!r}")
                continue
            headers.add(m.group(1), m.group(2))
    msg = _parse_start_line(start, headers)
    if bad_line is not None:
        if isinstance(msg, Request):
            raise RequestParseError(bad_line, msg)
        raise bad_line
    clen: int | None = None
    raw_cl = headers.get_all("Content-Length")
    if len(raw_cl) > 1:
        if isinstance(msg, Request):
            raise RequestParseError(ParseError("multiple Content-Length headers"), msg)
        raise ParseError("multiple Content-Length headers")
    if raw_cl:
        try:
            clen = parse_int(raw_cl[0], "Content-Length", MAX_MESSAGE * 16)
        except ParseError as e:
            if isinstance(msg, Request):
                raise RequestParseError(e, msg) from None
            raise
    return msg, clen


def _parse_start_line(start: str, headers: Headers) -> Request | Response:
    if start.startswith("SIP/"):
        parts = start.split(" ", 2)
        if len(parts) < 2 or len(parts[1]) != 3 or not parts[1].isascii() or not parts[1].isdigit():
            raise ParseError("bad status line")
        status = int(parts[1])
        if not 100 <= status <= 699:
            raise ParseError("bad status code")
        if parts[0] != SIP_VERSION:
            raise ParseError("unsupported SIP version in response")
        return Response(status=status, reason=parts[2] if len(parts) > 2 else "", headers=headers)
    parts = start.split(" ")
    if len(parts) != 3 or not all(parts):
        # RFC 3261 section 25: exactly one SP between the elements.
        partial = _partial_request(start, headers)
        raise RequestParseError(ParseError("malformed request line"), partial)
    method, uri_text, version = parts
    if not is_token(method):
        raise RequestParseError(ParseError("bad method"), _partial_request(start, headers))
    try:
        uri = parse_uri(uri_text)
    except ParseError as e:
        raise RequestParseError(
            e, Request(method=method, uri=parse_uri("sip:invalid"), headers=headers)
        ) from None
    req = Request(method=method, uri=uri, version=version, headers=headers)
    if version.upper() != SIP_VERSION:
        raise RequestParseError(VersionNotSupported(), req)
    return req


def _partial_request(start: str, headers: Headers) -> Request:
    method = start.split(" ", 1)[0].strip() or "UNKNOWN"
    return Request(method=method if is_token(method) else "UNKNOWN", uri=parse_uri("sip:invalid"),
                   headers=headers)  # fmt: skip


def _finish(msg: Request | Response) -> Request | Response:
    if isinstance(msg, Request):
        try:
            msg.validate()
        except ParseError as e:
            raise RequestParseError(e, msg) from None
    else:
        msg.validate()
    return msg


def parse_datagram(data: bytes) -> Request | Response:
    """Parse one message from a datagram (UDP, WebSocket frame).

    Without Content-Length the body is the rest of the datagram; with it, extra bytes are
    ignored and a body shorter than announced is an error (RFC 3261 section 18.3).
    """
    if len(data) > MAX_MESSAGE:
        raise ParseError("message too large")
    # CRLFs before the start line are ignored (RFC 3261 section 7.5); without this the empty
    # line among them would be taken for the end of an empty header section.
    data = data.lstrip(b"\r\n")
    parts = _split_head(data)
    if parts is None:
        head, body = data.rstrip(b"\r\n"), b""
    else:
        head, body = parts
    msg, clen = _parse_head(head)
    if clen is not None:
        if clen > len(body):
            err = ParseError("Content-Length larger than body")
            if isinstance(msg, Request):
                raise RequestParseError(err, msg)
            raise err
        body = body[:clen]
    msg.body = body
    return _finish(msg)


class StreamParser:
    """Frames SIP messages on a reliable byte stream (TCP/TLS), RFC 3261 section 18.3.

    Feed bytes with :meth:`feed`; it returns the complete messages now available. CRLF
    keep-alives (RFC 5626 section 3.5.1) are skipped. A framing error (no or bad
    Content-Length, oversize head) raises :class:`ParseError`: the stream cannot be
    resynchronised and the caller should answer 400 if it can and close the connection.
    Messages completed earlier in the same :meth:`feed` call are returned first; the framing
    error is then raised by the next call (and by every call after it).
    """

    def __init__(self, max_head: int = 16384) -> None:
        self._buf = bytearray()
        self._max_head = max_head
        self._failed: ParseError | None = None

    def feed(self, data: bytes) -> list[Request | Response | ParseError]:
        """Complete messages now available; a well-framed but invalid one comes as its error."""
        if self._failed is not None:
            raise self._failed
        self._buf += data
        out: list[Request | Response | ParseError] = []
        try:
            self._frame(out)
        except ParseError as e:
            self._failed = e
            if not out:
                raise
        return out

    def _frame(self, out: list[Request | Response | ParseError]) -> None:
        while True:
            while self._buf[:2] == b"\r\n":
                del self._buf[:2]
            while self._buf[:1] == b"\n":
                del self._buf[:1]
            if not self._buf:
                break
            parts = _split_head(bytes(self._buf))
            if parts is None:
                if len(self._buf) > self._max_head:
                    raise ParseError("header section too large")
                break
            head, rest = parts
            if len(head) > self._max_head:
                raise ParseError("header section too large")
            msg, clen = _parse_head(head)
            if clen is None:
                err = ParseError("missing Content-Length on a stream transport")
                if isinstance(msg, Request):
                    raise RequestParseError(err, msg)
                raise err
            if len(rest) < clen:
                break
            msg.body = rest[:clen]
            consumed = len(self._buf) - len(rest) + clen
            del self._buf[:consumed]
            try:
                out.append(_finish(msg))
            except ParseError as e:
                out.append(e)
