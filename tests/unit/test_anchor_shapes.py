"""Tamas's SDP built once per shape and stamped per leg (tamas.runtime.anchor_shapes) gives
exactly what a full build gives: the same bytes, the same description, the same RemoteMedia."""

from __future__ import annotations

import pytest

from tamas.runtime.anchor_sdp import anchored_answer, anchored_offer, parse_sdp, remote_media
from tamas.runtime.anchor_shapes import SdpShapes, _shape_of, shape_of
from tamas.runtime.mediaengine.api import CodecName
from tamas.sip.offer_answer import NotAcceptableHere, Role
from tamas.sip.sdp import Direction, SessionDescription


def _sdp(
    *, port: int = 6000, addr: str = "127.0.0.1", sid: str = "4711", fmts: str = "8 0 101",
    extra: str = "a=sendrecv\r\n", session_c: bool = True, media_c: str | None = None,
) -> bytes:  # fmt: skip
    maps = {
        "0": "a=rtpmap:0 PCMU/8000\r\n",
        "8": "a=rtpmap:8 PCMA/8000\r\n",
        "9": "a=rtpmap:9 G722/8000\r\n",
        "18": "a=rtpmap:18 G729/8000\r\n",
        "101": "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n",
    }
    body = f"v=0\r\no=peer {sid} {sid} IN IP4 {addr}\r\ns=-\r\n"
    if session_c:
        body += f"c=IN IP4 {addr}\r\n"
    body += f"t=0 0\r\nm=audio {port} RTP/AVP {fmts}\r\n"
    if media_c is not None:
        body += f"c=IN IP4 {media_c}\r\n"
    body += "".join(maps[f] for f in fmts.split() if f in maps) + extra
    return body.encode()


VARIANTS = [
    _sdp(),
    _sdp(port=7002, addr="10.0.0.7", sid="99"),
    _sdp(fmts="0 101", extra="a=ptime:30\r\na=sendonly\r\n"),
    _sdp(fmts="18 0", extra=""),
    _sdp(fmts="9 8 0 101"),
    _sdp(addr="0.0.0.0", extra="a=sendrecv\r\n"),
    _sdp(session_c=False, media_c="192.0.2.1"),
    _sdp(extra="a=inactive\r\n") + b"m=video 0 RTP/AVP 96\r\n",
    _sdp() + b"m=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n",
]


def test_shape_masks_what_changes_between_calls() -> None:
    a = _sdp(port=6000, addr="127.0.0.1", sid="1")
    b = _sdp(port=7000, addr="10.1.2.3", sid="2")
    assert shape_of(a) == shape_of(b)
    assert shape_of(_sdp(port=6000)) != shape_of(_sdp(port=0))  # a rejected stream is kept
    assert shape_of(_sdp(addr="0.0.0.0")) != shape_of(a)  # hold by address is kept
    assert shape_of(_sdp(fmts="0 101")) != shape_of(a)
    assert shape_of(b"") == b""


@pytest.mark.parametrize("codecs", [(CodecName.PCMU, CodecName.PCMA),
                                    (CodecName.G722, CodecName.PCMU, CodecName.PCMA)])  # fmt: skip
@pytest.mark.parametrize("direction", [None, Direction.SENDONLY])
def test_stamped_offers_and_answers_equal_full_builds(
    codecs: tuple[CodecName, ...], direction: Direction | None
) -> None:
    shapes = SdpShapes()
    for round_ in range(2):  # the second round is served from the cache
        for n, body in enumerate(VARIANTS):
            src = parse_sdp(body)
            assert src is not None
            port, sid = 20000 + 2 * n + round_, 1000 + n

            def offer(p: int, s: int, src: SessionDescription = src) -> SessionDescription:
                return anchored_offer(src, address="127.0.0.1", port=p, session_id=s,
                                      version=1, direction=direction,
                                      preference=codecs)  # fmt: skip

            sd, out = shapes.stamp(("offer", shape_of(body), direction, codecs), offer,
                                   port=port, session_id=sid)  # fmt: skip
            full = offer(port, sid)
            assert sd == full
            assert out == bytes(full)
            assert shape_of(out) == _shape_of(out)  # the shape remembered when stamping
            try:
                answer_full = anchored_answer(src, address="127.0.0.1", port=port,
                                              prefer=None, session_id=sid, version=3,
                                              preference=codecs)  # fmt: skip
            except NotAcceptableHere:
                continue

            def answer(p: int, s: int, src: SessionDescription = src) -> SessionDescription:
                return anchored_answer(src, address="127.0.0.1", port=p, prefer=None,
                                       session_id=s, version=3, preference=codecs)  # fmt: skip

            sd, out = shapes.stamp(("answer", shape_of(body), codecs), answer,
                                   port=port, session_id=sid)  # fmt: skip
            assert sd == answer_full
            assert out == bytes(answer_full)
            assert shape_of(out) == _shape_of(out)


def test_cached_remote_media_equals_negotiated() -> None:
    shapes = SdpShapes()
    for round_ in range(2):
        for n, body in enumerate(VARIANTS):
            src = parse_sdp(body)
            assert src is not None
            ours = anchored_offer(src, address="127.0.0.1", port=30000 + n, session_id=5,
                                  version=1)  # fmt: skip
            ours_body = bytes(ours)
            # the party answers from an address and port of its own, different each round
            answer_body = _sdp(port=40000 + 10 * n + round_, addr=f"10.0.{round_}.{n + 1}",
                               fmts="0 101")  # fmt: skip
            answer = parse_sdp(answer_body)
            assert answer is not None
            got = shapes.remote_media(ours, answer, role=Role.OFFERER,
                                      signalling_address=f"10.9.9.{n}", ours=ours_body,
                                      theirs=answer_body)  # fmt: skip
            want = remote_media(ours, answer, role=Role.OFFERER,
                                signalling_address=f"10.9.9.{n}")  # fmt: skip
            assert got == want
            try:
                ans = anchored_answer(src, address="127.0.0.1", port=31000 + n, prefer=None,
                                      session_id=6, version=1)  # fmt: skip
            except NotAcceptableHere:
                continue
            got = shapes.remote_media(src, ans, role=Role.ANSWERER, signalling_address="10.8.8.8",
                                      ours=bytes(ans), theirs=body)  # fmt: skip
            assert got == remote_media(src, ans, role=Role.ANSWERER,
                                       signalling_address="10.8.8.8")  # fmt: skip


def test_a_common_offer_is_stamped_not_rebuilt() -> None:
    shapes = SdpShapes()
    src = parse_sdp(VARIANTS[0])
    builds: list[int] = []

    assert src is not None

    def offer(p: int, s: int) -> SessionDescription:
        builds.append(p)
        return anchored_offer(src, address="127.0.0.1", port=p, session_id=s, version=1)

    for port in (20000, 20002, 20004):
        shapes.stamp(("offer",), offer, port=port, session_id=7)
    assert builds == [9]  # once, with the placeholder port
