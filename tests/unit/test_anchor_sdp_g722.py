"""G.722 in the session descriptions Tamas sends (runtime/anchor_sdp.py, media.codecs)."""

from __future__ import annotations

import pytest

from tamas.runtime.anchor_sdp import anchored_answer, anchored_offer, parse_sdp, remote_media
from tamas.runtime.mediaengine.api import CodecName
from tamas.sip.offer_answer import NotAcceptableHere, Role
from tamas.sip.sdp import SessionDescription

TAMAS = "192.0.2.10"
WIDE_FIRST = (CodecName.G722, CodecName.PCMU, CodecName.PCMA)
WIDE_LAST = (CodecName.PCMU, CodecName.PCMA, CodecName.G722)
NAMES = {"0": "PCMU/8000", "8": "PCMA/8000", "9": "G722/8000", "101": "telephone-event/8000"}


def sdp(formats: str) -> SessionDescription:
    maps = "".join(f"a=rtpmap:{pt} {NAMES[pt]}\r\n" for pt in formats.split())
    body = (
        "v=0\r\no=alice 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n"
        f"m=audio 4000 RTP/AVP {formats}\r\n{maps}"
    ).encode()
    sd = parse_sdp(body)
    assert sd is not None
    return sd


def formats(sd: SessionDescription) -> list[str]:
    return list(sd.media[0].formats)


def offer(src: SessionDescription | None, preference: tuple[CodecName, ...] | None = None
          ) -> SessionDescription:  # fmt: skip
    kw = {} if preference is None else {"preference": preference}
    return anchored_offer(src, address=TAMAS, port=30000, session_id=1, version=1, **kw)


def answer(off: SessionDescription, prefer: CodecName | None,
           preference: tuple[CodecName, ...] | None = None) -> SessionDescription:  # fmt: skip
    kw = {} if preference is None else {"preference": preference}
    return anchored_answer(off, address=TAMAS, port=30000, prefer=prefer, session_id=1,
                           version=1, **kw)  # fmt: skip


def test_g722_is_left_out_unless_configured() -> None:
    assert formats(offer(sdp("9 0 101"))) == ["0", "8", "101"]
    assert formats(answer(sdp("9 0 101"), CodecName.G722)) == ["0", "101"]
    with pytest.raises(NotAcceptableHere):
        answer(sdp("9 101"), None)  # G.722 alone, not enabled


def test_g722_offered_first_or_last_as_configured_and_only_if_the_party_has_it() -> None:
    assert formats(offer(sdp("0 9 101"), WIDE_FIRST)) == ["9", "0", "8", "101"]
    assert formats(offer(sdp("9 0 101"), WIDE_LAST)) == ["0", "8", "9", "101"]
    assert formats(offer(sdp("0 101"), WIDE_FIRST)) == ["0", "8", "101"]  # no G.722 to relay
    bare = offer(None, WIDE_FIRST)
    assert formats(bare) == ["9", "0", "8", "101"]
    rtpmaps = bare.media[0].rtpmaps
    assert (rtpmaps[9].encoding, rtpmaps[9].clock_rate) == ("G722", 8000)  # RFC 3551's 8000


def test_answer_relays_g722_when_both_have_it_and_transcodes_otherwise() -> None:
    both = answer(sdp("9 0 101"), CodecName.G722, WIDE_FIRST)
    assert formats(both) == ["9", "101"]
    caller_g711 = answer(sdp("0 8 101"), CodecName.G722, WIDE_FIRST)
    assert formats(caller_g711) == ["0", "101"]  # the callee's G.722 is transcoded
    caller_g722_only = answer(sdp("9 101"), CodecName.PCMU, WIDE_FIRST)
    assert formats(caller_g722_only) == ["9", "101"]
    own_app = answer(sdp("9 8 101"), None, WIDE_FIRST)
    assert formats(own_app) == ["8", "101"]  # Tamas's applications keep G.711


def test_remote_media_says_g722() -> None:
    off = offer(sdp("9 0 101"), WIDE_FIRST)
    ans = sdp("9 101")
    remote = remote_media(off, ans, role=Role.OFFERER, signalling_address="198.51.100.7")
    assert remote is not None
    assert (remote.codec.name, remote.codec.payload_type) == (CodecName.G722, 9)
    assert remote.codec.clock_rate == 8000 and remote.codec.sample_rate == 16000
    assert remote.telephone_event_pt == 101
