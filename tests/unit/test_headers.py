"""Header names, the ordered header list, Via and CSeq (RFC 3261 sections 7.3, 20, RFC 5118)."""

from __future__ import annotations

import pytest

from tamas.sip.errors import ParseError
from tamas.sip.headers import (
    COMPACT,
    LIST_HEADERS,
    CSeq,
    Headers,
    Via,
    canonical_name,
    is_header_name,
    parse_cseq,
    parse_int,
    parse_via,
    split_params_value,
)

# RFC 3261 section 7.3.3 and the IANA registry of compact forms.
ALL_COMPACT = {
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


@pytest.mark.parametrize(("short", "full"), sorted(ALL_COMPACT.items()))
def test_compact_forms(short: str, full: str) -> None:
    assert canonical_name(short) == full
    assert canonical_name(short.upper()) == full
    h = Headers([(short.upper(), "value")])
    assert list(h) == [(full, "value")]
    assert h.get(full) == h.get(short) == "value"


def test_compact_table_is_complete() -> None:
    assert ALL_COMPACT == COMPACT


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("call-id", "Call-ID"),
        ("CSEQ", "CSeq"),
        ("www-authenticate", "WWW-Authenticate"),
        ("MaX-fOrWaRdS", "Max-Forwards"),
        ("x-custom-header", "X-Custom-Header"),
        ("NewFangledHeader", "Newfangledheader"),
        ("rack", "RAck"),
    ],
)
def test_canonical_names(name: str, canonical: str) -> None:
    assert canonical_name(name) == canonical


def test_header_name_is_a_token() -> None:
    assert is_header_name("X-Foo_1.!%*+`'~")
    for bad in ("", "Foo Bar", "Foo:", "Fo\x00o", "Fö"):
        assert not is_header_name(bad)


def test_repeated_and_comma_joined_list_headers_are_equal() -> None:
    # RFC 3261 section 7.3.1.
    repeated = Headers(
        [
            ("Route", "<sip:p1.example.com;lr>"),
            ("Route", "<sip:p2.example.com;lr>"),
            ("Via", "SIP/2.0/UDP a.example.com;branch=z9hG4bK1"),
            ("v", "SIP/2.0/UDP b.example.com;branch=z9hG4bK2"),
        ]
    )
    joined = Headers(
        [
            ("route", "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>"),
            (
                "VIA",
                "SIP/2.0/UDP a.example.com;branch=z9hG4bK1 ,"
                "SIP/2.0/UDP b.example.com;branch=z9hG4bK2",
            ),
        ]
    )
    for name in ("Route", "Via"):
        assert repeated.values(name) == joined.values(name)
        assert len(joined.values(name)) == 2
    assert repeated.count("Via") == 2 and joined.count("Via") == 1


def test_list_split_respects_quotes_and_brackets() -> None:
    h = Headers([("Contact", '"Doe, John" <sip:j@x;a=1,2>, <sip:k@y>;q=0.5,')])
    assert h.values("m") == ['"Doe, John" <sip:j@x;a=1,2>', "<sip:k@y>;q=0.5"]


def test_non_list_headers_are_not_split() -> None:
    h = Headers([("Subject", "lunch, then coffee"), ("Date", "Sat, 13 Nov 2010 23:29:00 GMT")])
    assert h.values("s") == ["lunch, then coffee"]
    assert h.values("Date") == ["Sat, 13 Nov 2010 23:29:00 GMT"]
    assert "Subject" not in LIST_HEADERS


def test_headers_editing() -> None:
    h = Headers([("Via", "SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2")])
    h.add("To", "<sip:b@x>")
    h.prepend("v", "SIP/2.0/TCP p;branch=z9hG4bK0")
    assert h.values("Via")[0] == "SIP/2.0/TCP p;branch=z9hG4bK0"
    assert h.pop_first_value("Via") == "SIP/2.0/TCP p;branch=z9hG4bK0"
    assert h.pop_first_value("Via") == "SIP/2.0/UDP a;branch=z9hG4bK1"
    assert h.get("Via") == "SIP/2.0/UDP b;branch=z9hG4bK2"
    assert h.pop_first_value("Route") is None
    h.add("Supported", "timer")
    h.add("Supported", "100rel")
    h.set("k", "path")
    assert h.get_all("Supported") == ["path"]
    assert [k for k, _ in h] == ["Via", "To", "Supported"]
    copy = h.copy()
    copy.remove("TO")
    assert "To" in h and "to" not in copy and 42 not in copy
    assert len(copy) == 2 and len(h) == 3
    h.set("Expires", "60")
    assert list(h)[-1] == ("Expires", "60")


def test_replace_first_value_in_place() -> None:
    h = Headers([("To", "<sip:b@x>"), ("v", "SIP/2.0/UDP a;branch=z9hG4bK1"),
                 ("Via", "SIP/2.0/UDP b;branch=z9hG4bK2")])  # fmt: skip
    version = h.version
    assert h.replace_first_value("Via", "SIP/2.0/UDP a;branch=z9hG4bK1;rport=5")
    assert h.version != version
    assert list(h) == [("To", "<sip:b@x>"), ("Via", "SIP/2.0/UDP a;branch=z9hG4bK1;rport=5"),
                       ("Via", "SIP/2.0/UDP b;branch=z9hG4bK2")]  # fmt: skip
    assert h.get_all("Via") == ["SIP/2.0/UDP a;branch=z9hG4bK1;rport=5",
                                "SIP/2.0/UDP b;branch=z9hG4bK2"]  # fmt: skip
    # several values in the first field, or none at all: not done, nothing changed
    joined = Headers([("Via", "SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2")])
    assert not joined.replace_first_value("Via", "x")
    assert joined.get("Via") == "SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2"
    assert not Headers().replace_first_value("Via", "x")


# -- Via -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds",
        "SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1",
        "SIP/2.0/UDP pc33.atlanta.com:5066;branch=z9hG4bKnashds8;received=192.0.2.1;rport=5066",
        "SIP/2.0/TLS client.biloxi.example.com:5061;branch=z9hG4bKnashds7;rport",
        "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks",
        # RFC 5118 sections 4.5 and 4.10
        "SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111",
        "SIP/2.0/UDP [2001:db8::9:1]:5070;received=[2001:db8::9:255];branch=z9hG4bKas3",
        "SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3",
        "SIP/2.0/UDP 192.0.2.1;received=[2001:db8::9:255];branch=z9hG4bKmp3",
    ],
)
def test_via_round_trip(text: str) -> None:
    via = parse_via(text)
    assert str(via) == text
    assert parse_via(str(via)) == via


def test_via_fields() -> None:
    via = parse_via("SIP/2.0/UDP [2001:db8::9:1]:5070;received=[2001:db8::9:255];branch=z9hG4bKa")
    assert via == Via(
        transport="UDP",
        host="[2001:db8::9:1]",
        port=5070,
        params=(("received", "[2001:db8::9:255]"), ("branch", "z9hG4bKa")),
    )
    assert via.host_bare == "2001:db8::9:1"
    assert via.received == "[2001:db8::9:255]"
    assert via.rport is None
    assert parse_via("SIP/2.0/UDP h;rport").rport == ""
    assert parse_via("SIP/2.0/UDP h;rport=5060").rport == "5060"
    assert parse_via("SIP/2.0/UDP h").branch is None
    assert str(via.with_param("rport", "7000")).endswith(";branch=z9hG4bKa;rport=7000")


def test_via_liberal_whitespace() -> None:
    # RFC 4475 section 3.1.1.1 (wsinv): LWS around '/' and ';', lower-case transport.
    via = parse_via("  SIP  / 2.0  / tcp     spindle.example.com   :  5060 ;  branch  =   z9hG4bK9")
    assert (via.protocol, via.transport, via.host, via.port) == (
        "SIP/2.0",
        "TCP",
        "spindle.example.com",
        5060,
    )
    assert via.branch == "z9hG4bK9"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "SIP/2.0/UDP",
        "SIP/2.0 UDP host",
        "SIP/2.0/UDP host:65536",
        "SIP/2.0/UDP host:५०६०",
        "SIP/2.0/UDP 2001:db8::9:1",  # IPv6 without brackets (RFC 5118 section 4.2)
        "SIP/2.0/UDP [2001:db8:::9:1]",
        "SIP/2.0/UDP host;;branch=x",  # RFC 4475 badinv01
        "SIP/2.0/UDP ho st",
    ],
)
def test_bad_via(text: str) -> None:
    with pytest.raises(ParseError):
        parse_via(text)


# -- CSeq and integers ---------------------------------------------------------------------


def test_cseq() -> None:
    assert parse_cseq("4711 INVITE") == CSeq(4711, "INVITE")
    assert parse_cseq("  0009 \t INVITE ") == CSeq(9, "INVITE")
    assert parse_cseq("2147483647 BYE").seq == 2**31 - 1
    assert parse_cseq("0000000000000000001 ACK").seq == 1
    assert str(CSeq(1, "REGISTER")) == "1 REGISTER"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "INVITE",
        "1",
        "1 INVITE extra",
        "-1 INVITE",
        "2147483648 INVITE",
        "9292394834772304023312 OPTIONS",  # RFC 4475 scalarlg
        "9" * 5000 + " INVITE",  # regression: int() refuses > 4300 digits (ValueError)
        "² INVITE",  # regression: '²'.isdigit() is True but int('²') raises ValueError
        "١٢ INVITE",  # Arabic-Indic digits are not SIP digits
        "1 INV@ITE",
    ],
)
def test_bad_cseq(text: str) -> None:
    with pytest.raises(ParseError):
        parse_cseq(text)


def test_parse_int() -> None:
    assert parse_int(" 0068 ", "Max-Forwards", 255) == 68
    assert parse_int("0" * 40 + "7", "Max-Forwards", 255) == 7
    for bad in ("", "256", "-1", "1.5", "²", "\u0667", "1" * 13, "9" * 5000, "0x10"):
        with pytest.raises(ParseError):
            parse_int(bad, "Max-Forwards", 255)

    # a spelling read before (cached) is still held to each caller's maximum
    assert parse_int("300", "Content-Length", 1000) == 300
    with pytest.raises(ParseError):
        parse_int("300", "Max-Forwards", 255)
    assert parse_int(" 70", "Max-Forwards", 255) == parse_int(" 70", "Max-Forwards", 255) == 70


def test_split_params_value() -> None:
    assert split_params_value("application/sdp ; charset=utf-8") == (
        "application/sdp",
        (("charset", "utf-8"),),
    )
    assert split_params_value("text/plain") == ("text/plain", ())
