"""The Via parser's plain-spelling path gives what the regular expression gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tamas.sip.errors import ParseError
from tamas.sip.headers import Via, _parse_via_plain, _parse_via_re, parse_via

# Pieces near the edges of both grammars: blanks, IPv6, ports too long or too large, case.
_PROTOCOLS = st.sampled_from(["SIP/2.0/", "sip/2.0/", "SIP/2.0 /", " SIP/2.0/", "SIP/3.0/", ""])
_TRANSPORTS = st.sampled_from(["UDP", "udp", "TCP", "TLS", "WS", "X-tp", "", "U DP", "UDP/"])
_SEPARATORS = st.sampled_from([" ", "  ", "\t", "", " \r\n "])
_HOSTS = st.sampled_from(["127.0.0.1", "pc33.atlanta.com", "h", "[2001:db8::1]", "a_b-c", "",
                          "bad host", "h\u00e9", "1.2.3.4.", "[::1"])  # fmt: skip
_PORTS = st.sampled_from(["", ":5060", ":05060", ":65535", ":65536", ":99999", ":123456", ":",
                          " :5060", ":5060 ", ":x", ":1:2"])  # fmt: skip
_PARAMS = st.sampled_from(["", ";branch=z9hG4bK1;rport", ";rport", ";", " ;branch=x",
                           ";branch=\"q;x\"", ";received=[2001:db8::1]", ";a=b\n", "\n",
                           "x"])  # fmt: skip


def _either(value: str) -> Via | str:
    try:
        via = _parse_via_plain(value)
    except ParseError as e:
        return f"error {e.reason}"
    return via if via is not None else _regex(value)


def _regex(value: str) -> Via | str:
    try:
        return _parse_via_re(value)
    except ParseError as e:
        return f"error {e.reason}"


@settings(max_examples=3000)
@given(_PROTOCOLS, _TRANSPORTS, _SEPARATORS, _HOSTS, _PORTS, _PARAMS)
def test_plain_path_agrees_with_the_regular_expression(
    proto: str, transport: str, sep: str, host: str, port: str, params: str
) -> None:
    value = proto + transport + sep + host + port + params
    assert _either(value) == _regex(value)


@given(st.text(alphabet="SIP/2.0UDPudp :;=[]1.5\t\nbrach", max_size=40))
def test_plain_path_agrees_on_arbitrary_text(value: str) -> None:
    assert _either(value) == _regex(value)


def test_the_usual_spelling_takes_the_plain_path() -> None:
    value = "SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-1-1-INVITE;rport"
    assert _parse_via_plain(value) == _parse_via_re(value) == parse_via(value)
    assert _parse_via_plain("SIP/2.0/UDP [::1]:5060") is None  # IPv6: the expression's


_TOKEN_REGEX = __import__("re").compile(r"[A-Za-z0-9\-.!%*_+`'~]+")


@settings(max_examples=2000)
@given(st.text(max_size=12) | st.text(alphabet="aZ09-.!%*_+`'~ :;\"\u00e9\u0661", max_size=12))
def test_is_token_agrees_with_the_grammar_expression(text: str) -> None:
    from tamas.sip.uri import is_token

    assert is_token(text) == (_TOKEN_REGEX.fullmatch(text) is not None)
