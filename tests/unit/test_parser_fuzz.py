"""Property tests: whatever arrives, the parser raises only ParseError, and good messages
round-trip. Every accessor a later layer calls is exercised on what parsed, because a crash
there is as bad as a crash in parse_datagram."""

from __future__ import annotations

import contextlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tamas.sip.errors import ParseError
from tamas.sip.message import Request, Response, StreamParser, parse_datagram

CORPUS = Path(__file__).parents[2].parent / "shared" / "conformance" / "rfc4475"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "sip"
SEEDS = [p.read_bytes() for p in sorted(CORPUS.glob("*.dat")) + sorted(FIXTURES.glob("*.sip"))]

FUZZ = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _touch(msg: Request | Response) -> None:
    """Call every typed accessor; each may raise ParseError and nothing else."""
    for access in (
        lambda: msg.from_,
        lambda: msg.to,
        lambda: msg.vias,
        lambda: msg.top_via,
        lambda: msg.cseq,
        lambda: msg.contacts,
        msg.expires,
        lambda: msg.call_id,
        lambda: msg.content_type,
        lambda: msg.max_forwards if isinstance(msg, Request) else None,
        lambda: [msg.headers.values(k) for k, _ in msg.headers],
        lambda: bytes(msg),
        lambda: repr(msg),
    ):
        with contextlib.suppress(ParseError):
            access()


def _datagram(data: bytes) -> None:
    try:
        msg = parse_datagram(data)
    except ParseError:
        return
    _touch(msg)
    # What parsed serialises into something that parses again to the same thing.
    again = parse_datagram(bytes(msg))
    assert bytes(again) == bytes(msg)


def _stream(chunks: list[bytes]) -> None:
    parser = StreamParser()
    for chunk in chunks:
        try:
            items = parser.feed(chunk)
        except ParseError:
            return
        for item in items:
            if not isinstance(item, ParseError):
                _touch(item)


# -- (a) arbitrary bytes ------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_datagram(data: bytes) -> None:
    _datagram(data)


@FUZZ
@given(st.lists(st.binary(max_size=512), max_size=6))
def test_arbitrary_bytes_stream(chunks: list[bytes]) -> None:
    _stream(chunks)


_SIPISH = st.lists(
    st.sampled_from(
        [
            b"INVITE sip:a@b SIP/2.0", b"SIP/2.0 200 OK", b"\r\n", b"\n", b"\r", b" ", b"\t",
            b":", b";", b",", b"<", b">", b'"', b"\\", b"@", b"[", b"]", b"=", b"?", b"%",
            b"Via: SIP/2.0/UDP h;branch=z9hG4bK1", b"v:", b"f:", b"t:", b"i:", b"m:", b"l:",
            b"From:", b"To:", b"Call-ID:", b"CSeq: 1 INVITE", b"CSeq:", b"Contact:", b"*",
            b"Content-Length: 0", b"Content-Length:", b"Max-Forwards:", b"Expires:", b"0",
            b"9", b"99999999999999999999", b"\xc2\xb2", b"\xd9\xa1", b"\xff", b"\x00",
            b"sip:", b"sips:", b"tel:", b"[2001:db8::1]", b"[::", b"tag=", b"\r\n\r\n",
        ]
    ),
    max_size=60,
).map(b"".join)  # fmt: skip


@FUZZ
@given(_SIPISH)
def test_sip_shaped_tokens(data: bytes) -> None:
    _datagram(data)
    _stream([data])


# -- (b) mutated corpus messages ----------------------------------------------------------

_INSERTS = [b"\r", b"\n", b"\r\n", b"\x00", b" ", b"\t", b"\xff", b"\xc3\x28", b":", b";", b'"']


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "truncate", "dup_line", "insert", "delete", "set"]))
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[pos:]
        elif kind == "dup_line":
            start = data.rfind(b"\n", 0, pos) + 1
            end = data.find(b"\n", pos)
            end = len(data) if end < 0 else end + 1
            data[start:start] = data[start:end]
        elif kind == "insert":
            data[pos:pos] = draw(st.sampled_from(_INSERTS))
        elif kind == "delete":
            del data[pos : pos + draw(st.integers(1, 8))]
        else:
            data[pos] = draw(st.integers(0, 255))
    return bytes(data)


@FUZZ
@given(mutated())
def test_mutated_corpus_datagram(data: bytes) -> None:
    _datagram(data)


@FUZZ
@given(mutated(), st.integers(1, 64))
def test_mutated_corpus_stream(data: bytes, size: int) -> None:
    _stream([data[i : i + size] for i in range(0, len(data), size)])


# -- (c) generated well-formed messages round-trip ----------------------------------------

_token = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~",
    min_size=1,
    max_size=12,
)
_host = st.one_of(
    st.lists(
        st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8),
        min_size=1,
        max_size=3,
    ).map(".".join),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
)
_port = st.none() | st.integers(1, 65535)
_user = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789+-_.!~*'()%&=$,", max_size=10)
_params = st.lists(st.tuples(_token, st.none() | _token), max_size=3)
_display = (
    st.none()
    | _token
    | st.text(
        alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x2FF, exclude_characters='"\\'),
        max_size=12,
    ).map(lambda t: f'"{t}"')
)


def _fmt_params(params: list[tuple[str, str | None]]) -> str:
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params)


@st.composite
def sip_uris(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["sip", "sips", "SIP"]))
    user = draw(_user)
    port = draw(_port)
    host = draw(_host)
    return (
        f"{scheme}:{user + '@' if user else ''}{host}"
        f"{'' if port is None else f':{port}'}{_fmt_params(draw(_params))}"
    )


@st.composite
def name_addrs(draw: st.DrawFn, tag: bool) -> str:
    display = draw(_display)
    params = draw(_params)
    if tag:
        params = [("tag", draw(_token)), *params]
    return f"{display + ' ' if display else ''}<{draw(sip_uris())}>{_fmt_params(params)}"


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    method = draw(st.sampled_from(["INVITE", "REGISTER", "OPTIONS", "BYE", "MESSAGE"]) | _token)
    body = draw(st.binary(max_size=300))
    vias = draw(
        st.lists(
            st.tuples(st.sampled_from(["UDP", "TCP", "TLS", "WS"]), _host, _port, _token),
            min_size=1,
            max_size=3,
        )
    )
    lines = []
    if draw(st.booleans()):
        lines.append(f"SIP/2.0 {draw(st.integers(100, 699))} {draw(_token)}")
    else:
        lines.append(f"{method} {draw(sip_uris())} SIP/2.0")
    for transport, host, port, branch in vias:
        p = "" if port is None else f":{port}"
        name = draw(st.sampled_from(["Via", "v", "VIA"]))
        lines.append(f"{name}: SIP/2.0/{transport} {host}{p};branch=z9hG4bK{branch}")
    headers = [
        f"{draw(st.sampled_from(['From', 'f']))}: {draw(name_addrs(True))}",
        f"{draw(st.sampled_from(['To', 't']))}: {draw(name_addrs(False))}",
        f"{draw(st.sampled_from(['Call-ID', 'i']))}: {draw(_token)}@{draw(_host)}",
        f"CSeq: {draw(st.integers(0, 2**31 - 1))} {method}",
        f"Max-Forwards: {draw(st.integers(0, 255))}",
        *(f"Contact: {draw(name_addrs(False))}" for _ in range(draw(st.integers(0, 2)))),
        *(f"X-{draw(_token)}: {draw(_token)}" for _ in range(draw(st.integers(0, 2)))),
    ]
    if draw(st.booleans()):
        headers.append(f"Expires: {draw(st.integers(0, 2**32 - 1))}")
    lines.extend(draw(st.permutations(headers)))
    lines.append(f"{draw(st.sampled_from(['Content-Length', 'l']))}: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@settings(FUZZ, max_examples=300)
@given(messages())
def test_generated_messages_round_trip(data: bytes) -> None:
    msg = parse_datagram(data)
    assert msg.body == data[data.index(b"\r\n\r\n") + 4 :]
    _ = msg.from_, msg.to, msg.vias, msg.cseq, msg.contacts, msg.expires()
    if isinstance(msg, Request):
        assert msg.cseq.method == msg.method
        _ = msg.max_forwards
    wire = bytes(msg)
    again = parse_datagram(wire)
    assert list(again.headers) == list(msg.headers)
    assert again.body == msg.body
    assert bytes(again) == wire
    # And over a stream, two copies in one go and then cut in three.
    assert len(StreamParser().feed(wire + b"\r\n\r\n" + wire)) == 2
    parser = StreamParser()
    third = max(1, len(wire) // 3)
    out = [*parser.feed(wire[:third]), *parser.feed(wire[third : 2 * third])]
    out += parser.feed(wire[2 * third :])
    (streamed,) = out
    assert not isinstance(streamed, ParseError)
    assert bytes(streamed) == wire
