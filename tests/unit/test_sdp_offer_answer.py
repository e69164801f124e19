"""RFC 3264 offer/answer: answers for real offers, directions, rejection, negotiation."""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_sdp import BARESIP, IPV6, SIPP, WEBRTC, YEALINK, crlf

from tamas.sip.offer_answer import (
    G722,
    G729,
    PCMA,
    PCMU,
    Codec,
    NotAcceptableHere,
    Role,
    make_answer,
    make_offer,
    negotiated,
)
from tamas.sip.sdp import Attribute, Connection, Direction, RtpMap, SessionDescription, Timing

OPUS = Codec("opus", 48000, 2)


def answer(offer: bytes | SessionDescription, **kw: object) -> SessionDescription:
    sd = offer if isinstance(offer, SessionDescription) else SessionDescription.parse(offer)
    args: dict[str, object] = {
        "local_address": "203.0.113.10",
        "ports": [40000],
        "supported": [PCMA, PCMU],
        "session_id": 7,
        "session_version": 1,
    }
    args.update(kw)
    return make_answer(sd, **args)  # type: ignore[arg-type]


def test_answer_to_yealink_keeps_offerer_order_and_dtmf() -> None:
    sd = answer(YEALINK, supported=[PCMA, PCMU, G722])
    assert bytes(sd) == crlf("""\
v=0
o=- 7 1 IN IP4 203.0.113.10
s=-
c=IN IP4 203.0.113.10
t=0 0
m=audio 40000 RTP/AVP 0 8 9 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:9 G722/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=sendrecv
""")
    assert SessionDescription.parse(bytes(sd)) == sd


def test_answer_to_sipp() -> None:
    sd = answer(SIPP)
    (audio,) = sd.media
    assert audio.formats == ("8", "101")
    assert audio.fmtp(101) == "0-11,16"
    assert audio.direction is Direction.SENDRECV


def test_answer_without_dtmf() -> None:
    sd = answer(SIPP, dtmf=False)
    assert sd.media[0].formats == ("8",)


def test_dynamic_payload_type_is_matched_by_rtpmap_and_kept() -> None:
    sd = answer(BARESIP, supported=[OPUS, PCMU])
    audio = sd.media[0]
    assert audio.formats == ("96", "0", "101")
    assert audio.rtpmaps[96] == RtpMap("opus", 48000, 2)
    assert audio.fmtp(96) == "stereo=1;sprop-stereo=1"


def test_dynamic_payload_type_with_unusual_number() -> None:
    offer = SessionDescription.parse(
        SIPP.replace(b"RTP/AVP 8 101", b"RTP/AVP 120 8 101").replace(
            b"a=rtpmap:8 PCMA/8000", b"a=rtpmap:120 g729/8000\r\na=rtpmap:8 PCMA/8000"
        )
    )
    sd = answer(offer, supported=[G729, PCMA])
    assert sd.media[0].formats == ("120", "8", "101")
    assert sd.media[0].rtpmaps[120] == RtpMap("g729", 8000)


def test_codec_fmtp_of_ours_wins() -> None:
    g729 = replace(G729, fmtp="annexb=no")
    offer = SessionDescription.parse(YEALINK.replace(b"a=fmtp:18 annexb=no", b"a=fmtp:18 x=1"))
    assert answer(offer, supported=[g729]).media[0].fmtp(18) == "annexb=no"


def test_telephone_event_only_at_a_matching_clock_rate() -> None:
    offer = SessionDescription.parse(WEBRTC)
    offer = replace(offer, media=(replace(offer.media[0], proto="RTP/AVP"),))
    sd = answer(offer, supported=[PCMU])
    assert sd.media[0].formats == ("0", "126")
    wideband = answer(offer, supported=[OPUS])
    assert wideband.media[0].formats == ("111", "110")


def test_comfort_noise_alone_is_not_acceptable() -> None:
    offer = SessionDescription.parse(WEBRTC)
    offer = replace(offer, media=(replace(offer.media[0], proto="RTP/AVP"),))
    with pytest.raises(NotAcceptableHere):
        answer(offer, supported=[Codec("CN", 8000)])


def test_unsupported_profile_is_rejected() -> None:
    with pytest.raises(NotAcceptableHere) as info:
        answer(WEBRTC)
    assert info.value.status == 488
    assert info.value.reason == "no acceptable audio stream in the offer"
    sd = answer(WEBRTC, protos=frozenset({"UDP/TLS/RTP/SAVPF"}))
    assert sd.media[0].formats[:3] == ("9", "0", "8") or sd.media[0].formats[:2] == ("0", "8")


@pytest.mark.parametrize(
    ("offered", "local", "expected"),
    [
        (None, None, Direction.SENDRECV),
        ("sendrecv", None, Direction.SENDRECV),
        ("sendonly", None, Direction.RECVONLY),
        ("recvonly", None, Direction.SENDONLY),
        ("inactive", None, Direction.INACTIVE),
        ("sendrecv", "sendonly", Direction.SENDONLY),
        ("sendrecv", "recvonly", Direction.RECVONLY),
        ("sendrecv", "inactive", Direction.INACTIVE),
        ("sendonly", "sendonly", Direction.INACTIVE),
        ("recvonly", Direction.SENDRECV, Direction.SENDONLY),
    ],
)
def test_answer_direction(offered: str | None, local: str | None, expected: Direction) -> None:
    offer = SessionDescription.parse(SIPP)
    if offered:
        offer = offer.with_direction(offered)
    sd = answer(offer, direction=local)
    assert sd.media[0].direction is expected


def test_session_level_direction_in_offer_is_honoured() -> None:
    offer = replace(SessionDescription.parse(SIPP), attributes=(Attribute("sendonly"),))
    assert answer(offer).media[0].direction is Direction.RECVONLY


def test_no_common_codec_is_488() -> None:
    with pytest.raises(NotAcceptableHere) as info:
        answer(SIPP, supported=[PCMU, G722])
    assert info.value.status == 488


def test_rejected_and_non_audio_streams_get_port_zero_and_same_formats() -> None:
    offer = SessionDescription.parse(
        SIPP
        + crlf("""\
m=video 6002 RTP/AVP 31 34
a=rtpmap:31 H261/90000
m=audio 0 RTP/AVP 0
m=audio 6004 RTP/AVP 0 8""")
    )
    sd = answer(offer)
    assert [m.port for m in sd.media] == [40000, 0, 0, 0]
    assert [m.formats for m in sd.media] == [("8", "101"), ("31", "34"), ("0",), ("0", "8")]
    assert sd.media[1].attributes == ()
    two = answer(offer, ports=[40000, 40002])
    assert [m.port for m in two.media] == [40000, 0, 0, 40002]


def test_answer_copies_timing_and_ipv6() -> None:
    offer = SessionDescription.parse(IPV6)
    offer = replace(offer, timings=(Timing(5, 6),))
    sd = answer(offer, local_address="2001:db8::10", supported=[PCMU])
    assert sd.timings == (Timing(5, 6),)
    assert sd.connection == Connection("IN", "IP6", "2001:db8::10")
    assert sd.origin.addrtype == "IP6"
    assert [m.port for m in sd.media] == [40000, 0]
    no_timing = replace(offer, timings=())
    assert answer(no_timing, supported=[PCMU]).timings == (Timing(0, 0),)


# --- offers ------------------------------------------------------------------------------


def test_make_offer() -> None:
    sd = make_offer(
        local_address="192.0.2.7",
        port=30000,
        codecs=[PCMU, PCMA, Codec("G722", 8000), OPUS, Codec("speex", 16000)],
        session_id="1234",
        session_version=1,
        username="tamas",
        ptime=20,
    )
    assert bytes(sd) == crlf("""\
v=0
o=tamas 1234 1 IN IP4 192.0.2.7
s=-
c=IN IP4 192.0.2.7
t=0 0
m=audio 30000 RTP/AVP 0 8 9 96 97 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:9 G722/8000
a=rtpmap:96 opus/48000/2
a=rtpmap:97 speex/16000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
""")


def test_make_offer_without_dtmf_and_held() -> None:
    sd = make_offer(
        local_address="192.0.2.7",
        port=30000,
        codecs=[PCMU, Codec("telephone-event", 8000)],
        session_id=1,
        session_version=2,
        telephone_event=None,
        direction="sendonly",
    )
    assert sd.media[0].formats == ("0",)
    assert sd.media[0].direction is Direction.SENDONLY


# --- negotiation -------------------------------------------------------------------------


def test_offer_answer_round_trip_both_views() -> None:
    offer = make_offer(
        local_address="192.0.2.7",
        port=30000,
        codecs=[OPUS, PCMU],
        session_id=1,
        session_version=1,
    )
    # The far end knows opus as 111 and G.711 u-law only.
    remote_offer = SessionDescription.parse(bytes(offer))
    ans = answer(remote_offer, supported=[PCMU])
    ours = negotiated(offer, ans, role=Role.OFFERER)
    theirs = negotiated(offer, ans, role="answerer")
    assert len(ours) == len(theirs) == 1
    assert ours[0].codec == Codec("PCMU", 8000, 1, 0, None)
    assert ours[0].payload_type == 0 and ours[0].local_payload_type == 0
    assert ours[0].dtmf_payload_type == 101 == ours[0].local_dtmf_payload_type
    assert (ours[0].remote_address, ours[0].remote_port) == ("203.0.113.10", 40000)
    assert (theirs[0].remote_address, theirs[0].remote_port) == ("192.0.2.7", 30000)
    assert ours[0].direction is theirs[0].direction is Direction.SENDRECV


def test_negotiated_uses_each_sides_payload_numbers() -> None:
    offer = SessionDescription.parse(BARESIP)
    ans = answer(offer, supported=[OPUS])
    # The answerer renumbers opus to 100 (allowed, RFC 3264 section 6.1).
    audio = ans.media[0]
    renumbered = replace(
        audio,
        formats=("100", "101"),
        attributes=(
            Attribute("rtpmap", "100 OPUS/48000/2"),
            Attribute("rtpmap", "101 telephone-event/8000"),
        ),
    )
    ans = replace(ans, media=(renumbered,))
    (ours,) = negotiated(offer, ans, role=Role.OFFERER)
    assert ours.payload_type == 100 and ours.local_payload_type == 96
    (theirs,) = negotiated(offer, ans, role=Role.ANSWERER)
    assert theirs.payload_type == 96 and theirs.local_payload_type == 100
    assert theirs.codec.fmtp == "stereo=1;sprop-stereo=1"
    assert theirs.dtmf_payload_type == 101


@pytest.mark.parametrize(
    ("offered", "role", "expected"),
    [
        ("sendonly", Role.OFFERER, Direction.SENDONLY),
        ("sendonly", Role.ANSWERER, Direction.RECVONLY),
        ("recvonly", Role.OFFERER, Direction.RECVONLY),
        ("inactive", Role.ANSWERER, Direction.INACTIVE),
    ],
)
def test_negotiated_direction(offered: str, role: Role, expected: Direction) -> None:
    offer = SessionDescription.parse(SIPP).with_direction(offered)
    assert negotiated(offer, answer(offer), role=role)[0].direction is expected


def test_old_style_hold_means_answerer_may_not_send() -> None:
    offer = SessionDescription.parse(SIPP.replace(b"c=IN IP4 127.0.1.1", b"c=IN IP4 0.0.0.0"))
    (theirs,) = negotiated(offer, answer(offer), role=Role.ANSWERER)
    assert theirs.direction is Direction.RECVONLY
    assert theirs.remote_address == "0.0.0.0"


def test_negotiated_skips_rejected_and_unusable_streams() -> None:
    offer = SessionDescription.parse(SIPP + crlf("m=video 6002 RTP/AVP 31\nm=audio 6004 RTP/AVP 0"))
    ans = answer(offer, ports=[1, 2])
    streams = negotiated(offer, ans, role=Role.OFFERER)
    assert [s.index for s in streams] == [0, 2]
    assert streams[1].dtmf_payload_type is None
    no_c = replace(ans, connection=None)
    assert negotiated(offer, no_c, role=Role.OFFERER) == []
    cn_only = replace(ans.media[0], formats=("13",), attributes=())
    assert (
        negotiated(offer, replace(ans, media=(cn_only, *ans.media[1:])), role="offerer")[0].index
        == 2
    )


def test_negotiated_rejects_mismatched_answer() -> None:
    offer = SessionDescription.parse(SIPP)
    bad = replace(answer(offer), media=())
    with pytest.raises(NotAcceptableHere):
        negotiated(offer, bad, role=Role.OFFERER)
