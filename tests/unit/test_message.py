"""Requests and responses: datagram parsing, stream framing, serialisation (RFC 3261 7, 18, 25)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tamas.sip.errors import ParseError
from tamas.sip.headers import Headers
from tamas.sip.message import (
    MAX_MESSAGE,
    Request,
    RequestParseError,
    Response,
    StreamParser,
    parse_datagram,
    reason_for,
)
from tamas.sip.uri import SipUri, parse_uri

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sip"
CORPUS = Path(__file__).parents[2].parent / "shared" / "conformance" / "rfc4475"

# RFC 3261 section 24.2, F1 (Alice's INVITE), with the SDP body.
SDP = (
    b"v=0\r\n"
    b"o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.com\r\n"
    b"s=Session SDP\r\n"
    b"c=IN IP4 pc33.atlanta.com\r\n"
    b"t=0 0\r\n"
    b"m=audio 49172 RTP/AVP 0\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
)
INVITE = (
    b"INVITE sip:bob@biloxi.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: Bob <sip:bob@biloxi.com>\r\n"
    b"From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@pc33.atlanta.com>\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: " + str(len(SDP)).encode() + b"\r\n"
    b"\r\n" + SDP
)
CL = b"Content-Length: " + str(len(SDP)).encode()
RINGING = (
    b"SIP/2.0 180 Ringing\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds;received=192.0.2.1\r\n"
    b"To: Bob <sip:bob@biloxi.com>;tag=a6c85cf\r\n"
    b"From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n"
    b"Contact: <sip:bob@192.0.2.4>\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)
OPTIONS_IPV6 = (  # RFC 5118 section 4.1 style
    b"OPTIONS sip:[2001:db8::10]:5070 SIP/2.0\r\n"
    b"v: SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3-111\r\n"
    b"f: <sip:user@[2001:db8::9:1]>;tag=1\r\n"
    b"t: <sip:[2001:db8::10]:5070>\r\n"
    b"i: ipv6.k345asrl3fdbv@[2001:db8::9:1]\r\n"
    b"CSeq: 1 OPTIONS\r\n"
    b"m: <sip:user@[2001:db8::9:1]>\r\n"
    b"l: 0\r\n"
    b"\r\n"
)


def _req(data: bytes) -> Request:
    msg = parse_datagram(data)
    assert isinstance(msg, Request)
    return msg


def _replace(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data
    return data.replace(old, new, 1)


# -- datagrams -----------------------------------------------------------------------------


def test_rfc3261_invite() -> None:
    msg = _req(INVITE)
    assert (msg.method, str(msg.uri), msg.version) == ("INVITE", "sip:bob@biloxi.com", "SIP/2.0")
    assert msg.call_id == "a84b4c76e66710@pc33.atlanta.com"
    assert msg.from_.tag == "1928301774" and msg.from_.display_name == "Alice"
    assert msg.to.tag is None
    assert msg.cseq.seq == 314159
    assert msg.top_via.branch == "z9hG4bK776asdhds"
    assert msg.max_forwards == 70
    assert msg.content_type == "application/sdp"
    assert msg.body == SDP
    assert msg.expires() is None
    assert bytes(msg) == INVITE
    assert repr(msg).startswith("<Request INVITE sip:bob@biloxi.com")


def test_rfc3261_response() -> None:
    msg = parse_datagram(RINGING)
    assert isinstance(msg, Response)
    assert (msg.status, msg.reason) == (180, "Ringing")
    assert msg.to.tag == "a6c85cf"
    assert msg.top_via.received == "192.0.2.1"
    assert bytes(msg) == RINGING
    assert repr(msg) == "<Response 180 Ringing call-id='a84b4c76e66710@pc33.atlanta.com'>"


def test_ipv6_request_with_compact_headers() -> None:
    msg = _req(OPTIONS_IPV6)
    assert isinstance(msg.uri, SipUri)
    assert (msg.uri.host_bare, msg.uri.port) == ("2001:db8::10", 5070)
    via = msg.top_via
    assert (via.host, via.received) == ("[2001:db8::9:1]", "[2001:db8::9:255]")
    assert [k for k, _ in msg.headers][:4] == ["Via", "From", "To", "Call-ID"]
    assert msg.contacts[0].uri == parse_uri("sip:user@[2001:db8::9:1]")
    assert msg.max_forwards == 70  # absent: the default
    # Serialisation writes the full names.
    assert b"\r\nVia: SIP/2.0/UDP [2001:db8::9:1]" in bytes(msg)


def test_folded_headers() -> None:
    data = _replace(
        INVITE,
        b"Max-Forwards: 70\r\n",
        b"Max-Forwards: 70\r\nSubject: I know you're there,\r\n\tpick up the phone\r\n"
        b"   and talk to me!\r\n"
        b"Route:\r\n <sip:p1.example.com;lr>,\r\n <sip:p2.example.com;lr>\r\n",
    )
    msg = _req(data)
    assert msg.headers.get("Subject") == "I know you're there, pick up the phone and talk to me!"
    assert msg.headers.values("Route") == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]


def test_bare_lf_line_endings_are_tolerated() -> None:
    lf_sdp = SDP.replace(b"\r\n", b"\n")
    lf_cl = b"Content-Length: " + str(len(lf_sdp)).encode()
    msg = _req(INVITE.replace(b"\r\n", b"\n").replace(CL, lf_cl))
    assert msg.call_id == "a84b4c76e66710@pc33.atlanta.com"
    assert msg.body == lf_sdp


def test_bare_lf_pairs_in_the_body_do_not_end_the_head() -> None:
    body = b"v=0\n\nx=1\r\n"
    data = _replace(INVITE, SDP, body).replace(CL, b"Content-Length: " + str(len(body)).encode())
    msg = _req(data)
    assert msg.body == body
    assert msg.headers.get("Content-Type") == "application/sdp"


def test_a_folded_line_mixed_with_plain_ones() -> None:
    # the fast header loop gives up on the folded line; the whole head is then unfolded
    msg = _req(_replace(INVITE, b"Max-Forwards: 70\r\n", b"Max-Forwards:\r\n 70\r\n"))
    assert msg.headers.get("Max-Forwards") == "70"
    assert [k for k, _ in msg.headers][:3] == ["Via", "Max-Forwards", "To"]


def test_set_top_via_keeps_the_field_in_place() -> None:
    msg = _req(_replace(INVITE, b"Max-Forwards: 70\r\n", b""))
    msg = _req(_replace(bytes(msg), b"Via: ", b"Max-Forwards: 70\r\nVia: "))
    call_id, cseq, from_ = msg.call_id, msg.cseq, msg.from_
    via = msg.top_via.with_param("received", "192.0.2.9")
    msg.set_top_via(via)
    assert [k for k, _ in msg.headers][:2] == ["Max-Forwards", "Via"]
    assert msg.top_via == via
    assert msg.headers.get_all("Via") == [str(via)]
    assert (msg.call_id, msg.cseq, msg.from_) == (call_id, cseq, from_)
    # a first Via field holding two values: the new top one goes first, the other stays
    two = _req(_replace(INVITE, b"branch=z9hG4bK776asdhds", b"branch=z9hG4bK776asdhds, "
                        b"SIP/2.0/UDP p2.example.com;branch=z9hG4bK2"))  # fmt: skip
    two.set_top_via(via)
    assert two.headers.values("Via") == [str(via), "SIP/2.0/UDP p2.example.com;branch=z9hG4bK2"]
    assert two.top_via == via


def test_leading_crlf_ignored() -> None:
    # RFC 3261 section 7.5: CRLFs before the start line are ignored.
    assert _req(b"\r\n\r\n" + OPTIONS_IPV6).method == "OPTIONS"


def test_content_length_on_datagrams() -> None:
    # Extra bytes after the announced body are ignored (section 18.3)...
    assert _req(INVITE + b"garbage").body == SDP
    # ...no Content-Length means the rest of the datagram...
    no_cl = _replace(INVITE, CL + b"\r\n", b"")
    assert _req(no_cl).body == SDP
    # ...and a body shorter than announced is a 400.
    with pytest.raises(RequestParseError) as info:
        parse_datagram(INVITE[:-5])
    assert info.value.status == 400
    with pytest.raises(ParseError):
        parse_datagram(_replace(RINGING, b"Content-Length: 0", b"Content-Length: 10"))


def test_oversize_datagram() -> None:
    big = _replace(INVITE, b"Max-Forwards", b"X-Pad: " + b"a" * MAX_MESSAGE + b"\r\nMax-Forwards")
    with pytest.raises(ParseError, match="too large"):
        parse_datagram(big)


@pytest.mark.parametrize(
    ("old", "new", "status"),
    [
        (b"Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n", b"", 400),
        (b"Call-ID: a84b4c76e66710@pc33.atlanta.com", b"Call-ID:  ", 400),
        (b"CSeq: 314159 INVITE", b"CSeq: 314159 BYE", 400),
        (b"CSeq: 314159 INVITE", b"CSeq: 2147483648 INVITE", 400),
        (b"Max-Forwards: 70", b"Max-Forwards: 256", 400),
        (b"Max-Forwards: 70", b"Max-Forwards: \xc2\xb2", 400),  # regression: '²' crashed
        (b"Max-Forwards: 70\r\n", b"Max-Forwards: 70\r\nExpires: never\r\n", 400),
        (b"Max-Forwards: 70\r\n", b"Max-Forwards: 70\r\nTo: <sip:x@y>\r\n", 400),
        (CL, b"Content-Length: -1", 400),
        (CL, CL + b"\r\nl: 1", 400),
        (b"SIP/2.0\r\n", b"SIP/3.0\r\n", 505),
        (b"INVITE sip", b"INVITE  sip", 400),
        (b"sip:bob@biloxi.com", b"<sip:bob@biloxi.com>", 400),
        # regression: a header line without ':' was a plain ParseError without the partial.
        (b"Max-Forwards: 70\r\n", b"Max-Forwards: 70\r\nthis is not a header\r\n", 400),
        # regression: a bad method was a plain ParseError without the partial.
        (b"INVITE sip:bob@biloxi.com", b"INV\xc3\x8fTE sip:bob@biloxi.com", 400),
    ],
)
def test_invalid_requests_carry_a_partial(old: bytes, new: bytes, status: int) -> None:
    with pytest.raises(RequestParseError) as info:
        parse_datagram(_replace(INVITE, old, new))
    assert info.value.status == status
    partial = info.value.partial
    assert isinstance(partial, Request)
    # What the 400 needs survived, including the headers after a malformed line.
    if old != b"Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n":
        assert partial.headers.get("Call-ID") is not None
    assert partial.headers.get("Content-Type") == "application/sdp"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\r\n\r\n",
        b"SIP/2.0 1800 Ringing\r\n\r\n",
        b"SIP/2.0 099 Low\r\n\r\n",
        b"SIP/2.0 \xc2\xb200 Odd\r\n\r\n",  # regression: '²00'.isdigit() then int() crashed
        b"SIP/2.0 \xd9\xa1\xd9\xa0\xd9\xa0 Trying\r\n\r\n",  # Arabic-Indic digits
        b"SIP/2.1 200 OK\r\n\r\n",
        # regression: a response with an out-of-range CSeq was accepted (RFC 4475 scalarlg).
        RINGING.replace(b"CSeq: 314159 INVITE", b"CSeq: 99999999999 INVITE"),
        RINGING.replace(b"Via: ", b"Via: [::1] "),
        RINGING.replace(b"Contact: ", b"Contact "),
    ],
)
def test_invalid_responses_are_plain_parse_errors(data: bytes) -> None:
    with pytest.raises(ParseError) as info:
        parse_datagram(data)
    assert not isinstance(info.value, RequestParseError)


def test_serialisation_recomputes_content_length() -> None:
    msg = _req(INVITE)
    msg.body = b"v=0\r\n"
    data = bytes(msg)
    assert b"Content-Length: 5\r\n\r\nv=0\r\n" in data
    assert data.count(b"Content-Length") == 1
    built = Response(status=200, reason=reason_for(200), headers=Headers([("l", "99")]))
    assert bytes(built) == b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"
    assert reason_for(799) == "Unknown"


def test_non_utf8_bytes_survive_round_trip() -> None:
    data = _replace(INVITE, b"To: Bob", b'To: "B\xff\xfeb"')
    msg = _req(data)
    assert bytes(msg) == data


# -- round trips -----------------------------------------------------------------------------


def _key(msg: Request | Response) -> tuple[object, ...]:
    if isinstance(msg, Request):
        start: tuple[object, ...] = (msg.method, str(msg.uri), msg.version)
    else:
        start = (msg.version, msg.status, msg.reason)
    headers = tuple((k, v) for k, v in msg.headers if k != "Content-Length")
    return (start, headers, msg.body)


def _corpus_valid() -> list[Path]:
    out = []
    for path in sorted(CORPUS.glob("*.dat")):
        try:
            parse_datagram(path.read_bytes())
        except ParseError:
            continue
        out.append(path)
    return out


FIXTURE_FILES = sorted(FIXTURES.glob("*.sip"))
ROUND_TRIP = [pytest.param(p, id=p.name) for p in [*FIXTURE_FILES, *_corpus_valid()]]


def test_fixture_corpus_present() -> None:
    assert len(FIXTURE_FILES) >= 5
    assert len(ROUND_TRIP) >= len(FIXTURE_FILES) + 25


@pytest.mark.parametrize("path", ROUND_TRIP)
def test_round_trip(path: Path) -> None:
    first = parse_datagram(path.read_bytes())
    wire = bytes(first)
    second = parse_datagram(wire)
    assert type(second) is type(first)
    assert _key(second) == _key(first)
    assert bytes(second) == wire
    # And over a stream, whole and in two halves.
    assert _key(_single(StreamParser().feed(wire))) == _key(first)
    parser = StreamParser()
    half = len(wire) // 2
    assert parser.feed(wire[:half]) == []
    assert _key(_single(parser.feed(wire[half:]))) == _key(first)


def _single(items: list[Request | Response | ParseError]) -> Request | Response:
    assert len(items) == 1
    item = items[0]
    assert not isinstance(item, ParseError)
    return item


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in FIXTURE_FILES])
def test_fixtures_are_byte_exact(path: Path) -> None:
    data = path.read_bytes()
    msg = parse_datagram(data)
    assert bytes(msg) == data
    msg.validate()
    _ = msg.contacts, msg.expires()


def test_fixture_facts() -> None:
    register = _req((FIXTURES / "yealink_register.sip").read_bytes())
    (contact,) = register.contacts
    assert contact.param("+sip.instance") == '"<urn:uuid:00000000-0000-1000-8000-805ec0a1b2c3>"'
    assert register.expires() == 3600
    assert "REFER" in register.headers.values("Allow")
    challenge = parse_datagram((FIXTURES / "tamas_401_challenge.sip").read_bytes())
    assert isinstance(challenge, Response) and challenge.status == 401
    assert challenge.top_via.rport == "5062"
    assert 'realm="tamas"' in (challenge.headers.get("WWW-Authenticate") or "")
    invite = _req((FIXTURES / "baresip_invite.sip").read_bytes())
    assert invite.top_via.host_bare == "2001:db8::51"
    assert invite.body.startswith(b"v=0\r\no=- ")
    ok = parse_datagram((FIXTURES / "sipp_200.sip").read_bytes())
    assert isinstance(ok, Response) and ok.content_type == "application/sdp"


# -- streams ---------------------------------------------------------------------------------


def test_stream_split_across_feeds() -> None:
    parser = StreamParser()
    cut = INVITE.index(b"\r\n\r\n") + 2
    assert parser.feed(INVITE[:10]) == []
    assert parser.feed(INVITE[10:cut]) == []  # head not complete yet
    assert parser.feed(INVITE[cut:-1]) == []  # body one byte short
    (msg,) = parser.feed(INVITE[-1:])
    assert isinstance(msg, Request) and msg.body == SDP


def test_stream_byte_by_byte() -> None:
    parser = StreamParser()
    out: list[Request | Response | ParseError] = []
    for i in range(len(INVITE + RINGING)):
        out.extend(parser.feed((INVITE + RINGING)[i : i + 1]))
    assert [type(m) for m in out] == [Request, Response]


def test_stream_two_messages_in_one_feed_with_keepalives() -> None:
    # RFC 5626 section 3.5.1: CRLF keep-alives (and the pong) between messages are skipped.
    parser = StreamParser()
    out = parser.feed(b"\r\n\r\n" + INVITE + b"\r\n\r\n\r\n" + RINGING + b"\r\n")
    assert [type(m) for m in out] == [Request, Response]
    assert parser.feed(b"\r\n\r\n") == []
    assert parser.feed(b"\r") == []
    assert parser.feed(b"\n" + OPTIONS_IPV6[:5]) == []
    (options,) = parser.feed(OPTIONS_IPV6[5:])
    assert isinstance(options, Request) and options.method == "OPTIONS"


def test_stream_missing_content_length() -> None:
    no_cl = _replace(INVITE, CL + b"\r\n", b"")
    with pytest.raises(RequestParseError, match="Content-Length") as info:
        StreamParser().feed(no_cl)
    assert info.value.partial.call_id == "a84b4c76e66710@pc33.atlanta.com"
    with pytest.raises(ParseError):
        StreamParser().feed(RINGING.replace(b"Content-Length: 0\r\n", b""))


def test_stream_invalid_but_framed_message_comes_as_error() -> None:
    bad = _replace(INVITE, b"CSeq: 314159 INVITE", b"CSeq: 314159 BYE")
    out = StreamParser().feed(bad + RINGING)
    assert isinstance(out[0], RequestParseError) and out[0].status == 400
    assert isinstance(out[1], Response)


def test_stream_framing_error_after_a_message_keeps_the_message() -> None:
    # Regression: the INVITE completed in the same feed used to be lost with the exception.
    parser = StreamParser()
    (msg,) = parser.feed(INVITE + b"GARBAGE\r\n\r\n")
    assert isinstance(msg, Request)
    with pytest.raises(ParseError):
        parser.feed(b"")
    with pytest.raises(ParseError):  # the stream stays failed
        parser.feed(RINGING)


def test_stream_oversize_head() -> None:
    parser = StreamParser(max_head=1024)
    with pytest.raises(ParseError, match="too large"):
        parser.feed(b"INVITE sip:x@y SIP/2.0\r\nX-Pad: " + b"a" * 2000)
    # Also when the whole oversize head arrives in one piece.
    big = _replace(INVITE, b"Max-Forwards", b"X-Pad: " + b"a" * 2000 + b"\r\nMax-Forwards")
    with pytest.raises(ParseError, match="too large"):
        StreamParser(max_head=1024).feed(big)


def test_stream_huge_content_length_is_refused() -> None:
    huge = _replace(INVITE, CL, b"Content-Length: 99999999")
    with pytest.raises(RequestParseError, match="Content-Length"):
        StreamParser().feed(huge)
