"""SIP/SIPS/tel URIs and name-addr values (RFC 3261 sections 19.1 and 20, RFC 3966, RFC 5118)."""

from __future__ import annotations

import pytest

from tamas.sip.errors import ParseError
from tamas.sip.uri import (
    AbsoluteUri,
    NameAddr,
    SipUri,
    TelUri,
    del_param,
    format_params,
    get_param,
    has_param,
    is_ipv6_reference,
    parse_name_addr,
    parse_params,
    parse_uri,
    set_param,
    split_quoted,
    unquote_string,
)

# RFC 3261 section 19.1.3 examples, plus common shapes seen on the wire.
RFC3261_URIS = [
    "sip:alice@atlanta.com",
    "sip:alice:secretword@atlanta.com;transport=tcp",
    "sips:alice@atlanta.com?subject=project%20x&priority=urgent",
    "sip:+1-212-555-1212:1234@gateway.com;user=phone",
    "sips:1212@gateway.com",
    "sip:alice@192.0.2.4",
    "sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com",
    "sip:alice;day=tuesday@atlanta.com",
    "sip:biloxi.com;lr",
    "sip:bob@biloxi.com:5061;transport=tls;maddr=192.0.2.1;ttl=15",
    "SIP:Bob@Biloxi.COM",
    # RFC 5118
    "sip:[2001:db8::10]",
    "sip:[2001:db8::10]:5070",
    "sip:user@[2001:db8::10:5070]",
    "sip:user@[::ffff:192.0.2.10]:5060;transport=udp",
    "tel:+1-201-555-0123",
    "tel:7042;phone-context=example.com",
    "mailto:alice@example.com",
    "urn:service:sos",
    "http://www.example.com/alice/photo.jpg",
]


@pytest.mark.parametrize("text", RFC3261_URIS)
def test_str_round_trips(text: str) -> None:
    uri = parse_uri(text)
    assert str(uri) == text
    assert parse_uri(str(uri)) == uri


def test_sip_uri_parts() -> None:
    uri = parse_uri("sip:alice:secretword@atlanta.com:5070;transport=tcp;lr?subject=x")
    assert uri == SipUri(
        scheme="sip",
        user="alice",
        password="secretword",
        host="atlanta.com",
        port=5070,
        params=(("transport", "tcp"), ("lr", None)),
        headers="subject=x",
    )
    assert uri.param("TRANSPORT") == "tcp"
    assert uri.param("lr") == ""
    assert uri.param("maddr") is None


def test_user_with_semicolon_and_phone_number() -> None:
    # RFC 3261 section 19.1.1: ';' may appear in the user part; the first '@' ends it.
    uri = parse_uri("sip:alice;day=tuesday@atlanta.com")
    assert isinstance(uri, SipUri)
    assert (uri.user, uri.host, uri.params) == ("alice;day=tuesday", "atlanta.com", ())
    phone = parse_uri("sip:+1-212-555-1212:1234@gateway.com;user=phone")
    assert isinstance(phone, SipUri)
    assert (phone.user, phone.password) == ("+1-212-555-1212", "1234")
    assert phone.param("user") == "phone"


def test_escaped_user() -> None:
    uri = parse_uri("sip:%61lice%20x@atlanta.com")
    assert isinstance(uri, SipUri)
    assert uri.user == "%61lice%20x"
    assert uri.user_unquoted == "alice x"
    assert str(uri) == "sip:%61lice%20x@atlanta.com"


def test_ipv6_references() -> None:
    # RFC 5118 sections 4.1, 4.3, 4.4 and 4.9.
    uri = parse_uri("sip:[2001:db8::10]:5070")
    assert isinstance(uri, SipUri)
    assert (uri.host, uri.port, uri.host_bare) == ("[2001:db8::10]", 5070, "2001:db8::10")
    ambiguous = parse_uri("sip:user@[2001:db8::10:5070]")
    assert isinstance(ambiguous, SipUri)
    assert (ambiguous.host_bare, ambiguous.port) == ("2001:db8::10:5070", None)
    mapped = parse_uri("sip:[::ffff:192.0.2.10]")
    assert isinstance(mapped, SipUri) and mapped.host_bare == "::ffff:192.0.2.10"
    assert parse_uri("sip:[2001:DB8::10]").same_address(parse_uri("sip:[2001:db8::10]"))


@pytest.mark.parametrize(
    "text",
    [
        "sip:user@2001:db8::10",  # RFC 5118 section 4.2: no brackets
        "sip:[2001:db8:::192.0.2.1]",  # not an IPv6 address
        "sip:[2001:db8::10",
        "sip:2001:db8::10]",
        "sip:[]",
        "sip:[1:2:3:4:5:6:7:8:9]",
    ],
)
def test_bad_ipv6_references(text: str) -> None:
    with pytest.raises(ParseError):
        parse_uri(text)


def test_is_ipv6_reference() -> None:
    assert is_ipv6_reference("[::1]")
    assert not is_ipv6_reference("::1")
    assert not is_ipv6_reference("[::g]")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "sip:",
        "sip:@atlanta.com",
        "sip:alice@",
        "atlanta.com",
        "1sip:alice@atlanta.com",
        "sip:alice@atlanta.com:65536",
        "sip:alice@atlanta.com:123456",
        "sip:alice@atlanta.com:",
        "sip:alice@atla nta.com",
        "<sip:alice@atlanta.com>",
        "sip:alice@atlanta.com;;lr",
        "sip:alice@atlanta.com;=x",
        "sip:alice@atlanta.com:५०६०",  # non-ASCII digits are not a port
        "sip:alice@atl\x00anta.com",
        "tel:",
        "tel:;phone-context=x",
    ],
)
def test_malformed_uris(text: str) -> None:
    with pytest.raises(ParseError):
        parse_uri(text)


def test_tel_uri() -> None:
    uri = parse_uri("tel:7042;phone-context=example.com")
    assert uri == TelUri(number="7042", params=(("phone-context", "example.com"),))
    assert uri.user == "7042"
    assert uri.scheme == "tel"


def test_unknown_scheme_is_kept_for_416() -> None:
    uri = parse_uri("soap.beep://192.0.2.103:3002")
    assert uri == AbsoluteUri(scheme="soap.beep", rest="//192.0.2.103:3002")


def test_same_address() -> None:
    a = parse_uri("sip:%61lice@ATLANTA.com;transport=tcp")
    assert isinstance(a, SipUri)
    assert a.same_address(parse_uri("sip:alice@atlanta.com"))
    assert not a.same_address(parse_uri("sip:Alice@atlanta.com"))
    assert not a.same_address(parse_uri("sip:alice@atlanta.com:5060"))
    assert not a.same_address(parse_uri("sips:alice@atlanta.com"))
    assert not a.same_address(parse_uri("tel:+1"))


def test_param_editing_keeps_order() -> None:
    uri = parse_uri("sip:a@b;x=1;lr;y=2")
    assert isinstance(uri, SipUri)
    assert str(uri.with_params(lr="on", z=None)) == "sip:a@b;x=1;lr=on;y=2;z"
    assert str(uri.without_param("LR")) == "sip:a@b;x=1;y=2"
    params = parse_params("a=1;b;c=2")
    assert set_param(params, "B", "v") == (("a", "1"), ("B", "v"), ("c", "2"))
    assert del_param(params, "a") == (("b", None), ("c", "2"))
    assert has_param(params, "C") and not has_param(params, "d")
    assert get_param(params, "b") == "" and get_param(params, "d") is None
    assert format_params(params) == ";a=1;b;c=2"
    assert format_params(params, ",") == ",a=1,b,c=2"


def test_params_with_quoted_values() -> None:
    params = parse_params('+sip.instance="<urn:uuid:1;2>";reg-id=1')
    assert params == (("+sip.instance", '"<urn:uuid:1;2>"'), ("reg-id", "1"))


@pytest.mark.parametrize("text", ["", "a;;b", "a b=1", "=1", '"x"', 'a="x'])
def test_bad_params(text: str) -> None:
    with pytest.raises(ParseError):
        parse_params(text)


def test_split_quoted() -> None:
    assert split_quoted('"a,b" <sip:x@y;p=1,2>, <sip:z>', ",") == [
        '"a,b" <sip:x@y;p=1,2>',
        " <sip:z>",
    ]
    assert split_quoted(r'"a\",b", c', ",") == [r'"a\",b"', " c"]
    with pytest.raises(ParseError):
        split_quoted('"open, x', ",")


# -- name-addr ---------------------------------------------------------------------------------


def test_name_addr_with_quoted_display_name() -> None:
    na = parse_name_addr(r'"Bob \"the builder\" <x>" <sip:bob@biloxi.com>;tag=a6c85cf')
    assert na.display_name == r'"Bob \"the builder\" <x>"'
    assert unquote_string(na.display_name) == 'Bob "the builder" <x>'
    assert na.tag == "a6c85cf"
    assert isinstance(na.uri, SipUri) and na.uri.user == "bob"
    assert str(na) == r'"Bob \"the builder\" <x>" <sip:bob@biloxi.com>;tag=a6c85cf'


def test_name_addr_token_display_name_and_spaces() -> None:
    na = parse_name_addr("  Anonymous  User <sip:anonymous@anonymous.invalid> ; tag = 1928 ")
    assert na.display_name == "Anonymous  User"
    assert na.tag == "1928"


def test_addr_spec_params_belong_to_the_header() -> None:
    # RFC 3261 section 20.10: without <>, parameters after the URI are header parameters.
    na = parse_name_addr("sip:alice@atlanta.com;tag=88sja8x")
    assert na.tag == "88sja8x"
    assert isinstance(na.uri, SipUri) and na.uri.params == ()
    enclosed = parse_name_addr("<sip:alice@atlanta.com;transport=tcp>;expires=60;q=0.5")
    assert isinstance(enclosed.uri, SipUri)
    assert enclosed.uri.param("transport") == "tcp"
    assert (enclosed.param("expires"), enclosed.param("q"), enclosed.tag) == ("60", "0.5", None)


def test_name_addr_ipv6_and_tel() -> None:
    na = parse_name_addr('"v6" <sip:[2001:db8::10]:5070;transport=tcp>;tag=1')
    assert isinstance(na.uri, SipUri) and na.uri.port == 5070
    tel = parse_name_addr("<tel:+1-201-555-0123>;tag=9")
    assert isinstance(tel.uri, TelUri) and tel.uri.number == "+1-201-555-0123"


def test_wildcard_contact() -> None:
    na = parse_name_addr("*")
    assert na.wildcard and str(na) == "*"
    assert parse_name_addr(" * ;expires=0").param("expires") == "0"
    with pytest.raises(ParseError):
        parse_name_addr("*x")
    # Regression (found by test_parser_fuzz): "*" is also a token, so a valid display name.
    starred = parse_name_addr("* <sip:bob@biloxi.com>;tag=1")
    assert not starred.wildcard
    assert (starred.display_name, starred.tag) == ("*", "1")


def test_with_param() -> None:
    na = parse_name_addr("<sip:bob@biloxi.com>")
    assert str(na.with_param("tag", "314159")) == "<sip:bob@biloxi.com>;tag=314159"
    assert na == NameAddr(uri=parse_uri("sip:bob@biloxi.com"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        '"Bob <sip:bob@biloxi.com>',  # unterminated quote
        '"Bob" x <sip:bob@biloxi.com>',  # junk after the quoted display name
        "Bell, Alexander <sip:a.g.bell@bell-tel.com>",  # unquoted comma (RFC 4475 baddn)
        "<sip:bob@biloxi.com",
        "<sip:bob@biloxi.com> junk",
        "<sip:bob@biloxi.com>;",
        '"Bob" sip:bob@biloxi.com',
        "sip:user@example.com?Route=%3Csip:sip.example.com%3E",  # headers need <>
        "< >",
    ],
)
def test_malformed_name_addr(text: str) -> None:
    with pytest.raises(ParseError):
        parse_name_addr(text)


def test_unquote_string() -> None:
    assert unquote_string(r'"a\\b\"c"') == 'a\\b"c'
    assert unquote_string("token") == "token"
