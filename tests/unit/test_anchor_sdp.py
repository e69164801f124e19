"""The session descriptions Tamas sends when it anchors media (runtime/anchor_sdp.py)."""

from __future__ import annotations

import pytest

from tamas.runtime.anchor_sdp import (
    anchored_answer,
    anchored_offer,
    codec_of,
    has_g711,
    parse_sdp,
    remote_media,
)
from tamas.runtime.mediaengine.api import CodecName
from tamas.sip.offer_answer import NotAcceptableHere, Role
from tamas.sip.sdp import Direction, SessionDescription

TAMAS = "192.0.2.10"


def sdp(formats: str, rtpmaps: dict[str, str], *, extra: str = "", video: bool = False) -> bytes:
    maps = "".join(f"a=rtpmap:{pt} {name}\r\n" for pt, name in rtpmaps.items())
    text = (
        "v=0\r\no=alice 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n"
        f"m=audio 4000 RTP/AVP {formats}\r\n{maps}{extra}"
    )
    if video:
        text += "m=video 4002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
    return text.encode()


def parsed(body: bytes) -> SessionDescription:
    sd = parse_sdp(body)
    assert sd is not None
    return sd


def formats(sd: SessionDescription, index: int = 0) -> list[str]:
    return list(sd.media[index].formats)


def test_offer_keeps_the_callers_codecs_and_adds_the_other_law() -> None:
    src = parsed(sdp("0 96", {"0": "PCMU/8000", "96": "telephone-event/8000"},
                     extra="a=ptime:30\r\na=sendonly\r\n"))  # fmt: skip
    offer = anchored_offer(src, address=TAMAS, port=30000, session_id=7, version=1)
    assert formats(offer) == ["0", "8", "96"]
    m = offer.media[0]
    assert m.port == 30000 and m.effective_connection(offer).host == TAMAS  # type: ignore[union-attr]
    assert m.ptime == 30 and m.effective_direction(offer) is Direction.SENDONLY
    assert (offer.origin.sess_id, offer.origin.sess_version) == ("7", 1)


def test_offer_from_nothing_and_from_a_dynamic_pcma() -> None:
    bare = anchored_offer(None, address=TAMAS, port=30000, session_id=1, version=1)
    assert formats(bare) == ["0", "8", "101"]
    # PCMA under the dynamic number 0 is impossible; under 97 its static 8 stays free
    src = parsed(sdp("97", {"97": "PCMA/8000"}))
    offer = anchored_offer(src, address=TAMAS, port=30000, session_id=1, version=1)
    assert formats(offer) == ["97", "0", "101"]


def test_answer_prefers_the_far_sides_law_if_offered() -> None:
    offer = parsed(sdp("0 8 101", {"0": "PCMU/8000", "8": "PCMA/8000",
                                   "101": "telephone-event/8000"}, video=True))  # fmt: skip
    answer = anchored_answer(offer, address=TAMAS, port=30002, prefer=CodecName.PCMA,
                             session_id=3, version=1)  # fmt: skip
    assert formats(answer) == ["8", "101"]
    assert answer.media[1].port == 0  # the video stream is rejected
    only_u = parsed(sdp("0", {"0": "PCMU/8000"}))
    answer = anchored_answer(only_u, address=TAMAS, port=30002, prefer=CodecName.PCMA,
                             session_id=3, version=1)  # fmt: skip
    assert formats(answer) == ["0"]  # the engine transcodes
    with pytest.raises(NotAcceptableHere):
        anchored_answer(parsed(sdp("9", {"9": "G722/8000"})), address=TAMAS, port=1,
                        prefer=None, session_id=1, version=1)  # fmt: skip


def test_hold_offer_answered_recvonly() -> None:
    offer = parsed(sdp("8", {"8": "PCMA/8000"}, extra="a=sendonly\r\n"))
    answer = anchored_answer(offer, address=TAMAS, port=30002, prefer=CodecName.PCMA,
                             session_id=3, version=2)  # fmt: skip
    assert answer.media[0].effective_direction(answer) is Direction.RECVONLY


def test_remote_media_from_both_roles() -> None:
    offer = anchored_offer(None, address=TAMAS, port=30000, session_id=1, version=1)
    answer = parsed(sdp("8 101", {"8": "PCMA/8000", "101": "telephone-event/8000"}))
    remote = remote_media(offer, answer, role=Role.OFFERER, signalling_address="198.51.100.7")
    assert remote is not None
    assert (remote.address, remote.port, remote.codec.name) == ("198.51.100.7", 4000,
                                                                CodecName.PCMA)  # fmt: skip
    assert remote.telephone_event_pt == 101 and remote.signalling_address == "198.51.100.7"
    caller = parsed(sdp("0", {"0": "PCMU/8000"}, extra="a=ptime:30\r\n"))
    ours = anchored_answer(caller, address=TAMAS, port=30002, prefer=None, session_id=1,
                           version=1)  # fmt: skip
    remote = remote_media(caller, ours, role=Role.ANSWERER, signalling_address="203.0.113.1")
    assert remote is not None and remote.codec.name is CodecName.PCMU and remote.ptime == 30
    assert remote.signalling_address == "203.0.113.1"  # not the SDP's address


def test_g711_detection() -> None:
    assert has_g711(parsed(sdp("8", {"8": "PCMA/8000"})))
    assert not has_g711(parsed(sdp("9", {"9": "G722/8000"})))
    assert codec_of(parsed(sdp("8 0", {"8": "PCMA/8000", "0": "PCMU/8000"}))) is CodecName.PCMA
    assert parse_sdp(b"") is None and parse_sdp(b"not sdp") is None
