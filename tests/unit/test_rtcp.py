"""RTCP compound packets (RFC 3550 section 6): SR, RR, SDES, BYE, and NTP time."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tamas.media.rtcp import (
    NTP_UNIX_OFFSET,
    Bye,
    ReceiverReport,
    ReportBlock,
    RtcpError,
    RtcpPacket,
    RtcpType,
    SdesChunk,
    SdesItem,
    SdesType,
    SenderReport,
    SourceDescription,
    UnknownRtcp,
    dlsr_from_seconds,
    is_rtcp,
    ntp_from_unix,
    ntp_middle32,
    ntp_to_unix,
    parse_rtcp,
    serialize_rtcp,
)
from tamas.media.rtp import RtpError

SR = bytes.fromhex(
    "81c8000c"  # V=2 RC=1, PT=200 (SR), length 12 words
    "11223344"  # sender SSRC
    "e6b0c3d1" "80000000"  # NTP timestamp: msw, lsw (half a second)
    "00003e80"  # RTP timestamp 16000
    "00000064"  # sender's packet count 100
    "00003e80"  # sender's octet count 16000
    "55667788"  # report block: SSRC of source
    "40000005"  # fraction lost 64/256, cumulative lost 5
    "0001000a"  # extended highest seq: 1 cycle, seq 10
    "00000020"  # jitter 32
    "c3d18000"  # LSR
    "00010000"  # DLSR one second
)  # fmt: skip
SDES = bytes.fromhex(
    "81ca0005"  # V=2 SC=1, PT=202 (SDES), length 5 words
    "11223344"  # chunk SSRC
    "010a" "74616d617340686f7374"  # CNAME, 10 octets: "tamas@host"
    "00000000"  # END, padded to the word
)  # fmt: skip
BYE = bytes.fromhex("81cb0002 11223344 03") + b"bye"  # SC=1, PT=203, 2 words; reason "bye"

SR_PACKET = SenderReport(
    ssrc=0x11223344,
    ntp_msw=0xE6B0C3D1,
    ntp_lsw=0x80000000,
    rtp_timestamp=16000,
    packet_count=100,
    octet_count=16000,
    reports=(
        ReportBlock(
            ssrc=0x55667788,
            fraction_lost=64,
            packets_lost=5,
            highest_seq=0x1000A,
            jitter=32,
            lsr=0xC3D18000,
            dlsr=0x10000,
        ),
    ),
)


def test_parse_compound_sr_sdes_bye() -> None:
    packets = parse_rtcp(SR + SDES + BYE)
    assert packets == [
        SR_PACKET,
        SourceDescription.for_cname(0x11223344, "tamas@host"),
        Bye(sources=(0x11223344,), reason="bye"),
    ]
    assert serialize_rtcp(packets) == SR + SDES + BYE


def test_each_packet_serializes_to_its_bytes() -> None:
    assert bytes(SR_PACKET) == SR
    assert bytes(SourceDescription.for_cname(0x11223344, "tamas@host")) == SDES
    assert bytes(Bye(sources=(0x11223344,), reason="bye")) == BYE


def test_receiver_report_without_blocks() -> None:
    data = bytes.fromhex("80c90001deadbeef")
    assert parse_rtcp(data) == [ReceiverReport(ssrc=0xDEADBEEF)]
    assert bytes(ReceiverReport(ssrc=0xDEADBEEF)) == data


def test_receiver_report_with_blocks_and_extension() -> None:
    rr = ReceiverReport(
        ssrc=1,
        reports=(ReportBlock(ssrc=2, packets_lost=-1), ReportBlock(ssrc=3, fraction_lost=255)),
        extension=b"\x01\x02\x03\x04",
    )
    data = bytes(rr)
    assert data[:4] == bytes.fromhex("82c9000e")  # RC=2, (4 + 4 + 2*24 + 4) / 4 - 1 words
    assert data[12:16] == bytes.fromhex("00ffffff")  # -1 in 24 bits
    assert parse_rtcp(data) == [rr]


def test_negative_cumulative_loss() -> None:
    block = ReportBlock(ssrc=9, packets_lost=-0x800000)
    assert bytes(block)[4:8] == bytes.fromhex("00800000")
    assert ReportBlock.parse(bytes(block)) == block


def test_bye_without_reason_and_with_several_sources() -> None:
    data = bytes.fromhex("82cb00020000000100000002")
    assert parse_rtcp(data) == [Bye(sources=(1, 2))]
    assert bytes(Bye(sources=(1, 2))) == data


def test_bye_reason_is_padded_to_a_word() -> None:
    data = bytes(Bye(sources=(1,), reason="done"))
    assert data == bytes.fromhex("81cb0003 00000001 04") + b"done" + bytes(3)
    assert parse_rtcp(data) == [Bye(sources=(1,), reason="done")]


def test_sdes_several_chunks_and_items() -> None:
    sdes = SourceDescription(
        chunks=(
            SdesChunk(
                ssrc=1,
                items=(
                    SdesItem(type=SdesType.CNAME, value=b"a@b"),
                    SdesItem(type=SdesType.TOOL, value=b"tamas"),
                ),
            ),
            SdesChunk(ssrc=2, items=(SdesItem(type=SdesType.NAME, value=b""),)),
            SdesChunk(ssrc=3),
        )
    )
    data = bytes(sdes)
    # chunk 1: 4 + (2+3) + (2+5) = 16 -> END + 3 pad = 20; chunk 2: 4 + 2 -> 8; chunk 3: 8
    assert data[:4] == bytes.fromhex("83ca0009")
    assert parse_rtcp(data) == [sdes]
    assert [c.cname for c in sdes.chunks] == ["a@b", None, None]


def test_unknown_packet_types_are_kept() -> None:
    app = bytes.fromhex("81cc000200000001") + b"name"
    fb = bytes.fromhex("81cd0002 00000001 00000002")  # RTPFB (generic NACK) header
    packets = parse_rtcp(app + fb)
    assert packets == [
        UnknownRtcp(packet_type=RtcpType.APP, count=1, body=bytes.fromhex("00000001") + b"name"),
        UnknownRtcp(packet_type=205, count=1, body=bytes.fromhex("0000000100000002")),
    ]
    assert serialize_rtcp(packets) == app + fb


def test_padding_is_stripped() -> None:
    data = bytes.fromhex("a0c90002deadbeef00000004")  # RR, P=1, 4 padding octets
    assert parse_rtcp(data) == [ReceiverReport(ssrc=0xDEADBEEF)]


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (bytes.fromhex("80c9"), "truncated"),
        (bytes.fromhex("80c90001deadbeef80"), "truncated"),
        (bytes.fromhex("40c90001deadbeef"), "version"),
        (bytes.fromhex("80c90002deadbeef"), "runs past"),
        (bytes.fromhex("81c90001deadbeef"), "RR"),
        (bytes.fromhex("80c8000111223344"), "SR"),
        (bytes.fromhex("82cb000100000001"), "BYE"),
        (bytes.fromhex("81cb00020000000105000000"), "reason"),
        (bytes.fromhex("81cb00020000000103ffc0c0"), "UTF-8"),
        (bytes.fromhex("a0c90001deadbeef"), "padding"),  # pad count 0xef > body
        (bytes.fromhex("a0c90001deadbe00"), "padding"),  # pad count 0
        (bytes.fromhex("a0c90000"), "padding"),  # P bit on an empty body
        (bytes.fromhex("81ca000100000001"), "END"),
        (bytes.fromhex("81ca0002000000010105aaaa"), "item"),
        (bytes.fromhex("81ca000200000001010200aa"), "END"),
        (bytes.fromhex("82ca00020000000100000000"), "chunk"),
        (bytes.fromhex("81ca00020000000101010001"), "item"),  # no length octet
    ],
)
def test_malformed_rtcp_raises_rtcp_error(data: bytes, why: str) -> None:
    with pytest.raises(RtcpError, match=why):
        parse_rtcp(data)


def test_rtcp_error_is_an_rtp_error() -> None:
    with pytest.raises(RtpError):
        parse_rtcp(b"\x00")


@pytest.mark.parametrize(
    "packet",
    [
        ReceiverReport(ssrc=1, reports=(ReportBlock(ssrc=2, packets_lost=0x800000),)),
        ReceiverReport(ssrc=1, reports=(ReportBlock(ssrc=2, packets_lost=-0x800001),)),
        ReceiverReport(ssrc=1, reports=(ReportBlock(ssrc=2, fraction_lost=256),)),
        ReceiverReport(ssrc=1, reports=(ReportBlock(ssrc=2, jitter=-1),)),
        ReceiverReport(ssrc=1, reports=(ReportBlock(ssrc=2),) * 32),
        ReceiverReport(ssrc=1 << 32),
        ReceiverReport(ssrc=1, extension=b"abc"),
        SenderReport(
            ssrc=1, ntp_msw=1 << 32, ntp_lsw=0, rtp_timestamp=0, packet_count=0, octet_count=0
        ),
        Bye(sources=(-1,)),
        Bye(sources=(1,), reason="x" * 256),
        SourceDescription.for_cname(1, "x" * 256),
        SourceDescription(chunks=(SdesChunk(ssrc=1, items=(SdesItem(type=0, value=b""),)),)),
        UnknownRtcp(packet_type=256),
        UnknownRtcp(packet_type=204, body=b"\x00" * 4 * 0x10001),
    ],
)
def test_unencodable_packets_raise_rtcp_error(packet: RtcpPacket) -> None:
    with pytest.raises(RtcpError):
        bytes(packet)


def test_ntp_conversions() -> None:
    assert ntp_from_unix(0.0) == (NTP_UNIX_OFFSET, 0)
    assert ntp_from_unix(1.5) == (NTP_UNIX_OFFSET + 1, 0x80000000)
    assert ntp_from_unix(0.25)[1] == 0x40000000
    assert ntp_to_unix(NTP_UNIX_OFFSET + 1, 0x80000000) == 1.5
    t = 1_700_000_000.123456
    assert ntp_to_unix(*ntp_from_unix(t)) == pytest.approx(t, abs=1e-6)
    # LSR: low 16 bits of the seconds, high 16 bits of the fraction.
    assert ntp_middle32(0xE6B0C3D1, 0x80004321) == 0xC3D18000
    assert dlsr_from_seconds(1.0) == 0x10000
    assert dlsr_from_seconds(0.5) == 0x8000
    assert dlsr_from_seconds(-1.0) == 0
    assert dlsr_from_seconds(1e9) == 0xFFFFFFFF


def test_is_rtcp_demultiplexes_rfc5761() -> None:
    assert is_rtcp(SR) and is_rtcp(BYE)
    assert not is_rtcp(bytes.fromhex("8088e6fd000000f0dee0ee8f"))  # PCMA with marker
    assert not is_rtcp(bytes.fromhex("80e51f30000033e00e05384e"))  # telephone-event 101
    assert not is_rtcp(b"\x80")


u32 = st.integers(0, 0xFFFFFFFF)
blocks = st.builds(
    ReportBlock,
    ssrc=u32,
    fraction_lost=st.integers(0, 255),
    packets_lost=st.integers(-0x800000, 0x7FFFFF),
    highest_seq=u32,
    jitter=u32,
    lsr=u32,
    dlsr=u32,
)
report_lists = st.lists(blocks, max_size=31).map(tuple)
extensions = st.integers(0, 4).flatmap(lambda n: st.binary(min_size=4 * n, max_size=4 * n))
rtcp_packets: st.SearchStrategy[RtcpPacket] = st.one_of(
    st.builds(
        SenderReport,
        ssrc=u32,
        ntp_msw=u32,
        ntp_lsw=u32,
        rtp_timestamp=u32,
        packet_count=u32,
        octet_count=u32,
        reports=report_lists,
        extension=extensions,
    ),
    st.builds(ReceiverReport, ssrc=u32, reports=report_lists, extension=extensions),
    st.builds(
        SourceDescription,
        chunks=st.lists(
            st.builds(
                SdesChunk,
                ssrc=u32,
                items=st.lists(
                    st.builds(SdesItem, type=st.integers(1, 255), value=st.binary(max_size=255)),
                    max_size=4,
                ).map(tuple),
            ),
            max_size=31,
        ).map(tuple),
    ),
    st.builds(
        Bye,
        sources=st.lists(u32, max_size=31).map(tuple),
        reason=st.none() | st.text(max_size=60),
    ),
    st.builds(
        UnknownRtcp,
        packet_type=st.integers(204, 210),
        count=st.integers(0, 31),
        body=st.integers(0, 4).flatmap(lambda n: st.binary(min_size=4 * n, max_size=4 * n)),
    ),
)


@given(st.lists(rtcp_packets, min_size=1, max_size=4))
def test_serialized_compounds_parse_back(packets: list[RtcpPacket]) -> None:
    data = serialize_rtcp(packets)
    assert parse_rtcp(data) == packets
    assert serialize_rtcp(parse_rtcp(data)) == data


FUZZ = settings(max_examples=1000, deadline=None)
# Random bytes rarely get past the version check; also start them with a valid-looking header.
headers = st.tuples(
    st.integers(0x80, 0xBF), st.sampled_from([200, 201, 202, 203, 204]), st.integers(0, 20)
).map(lambda h: bytes((h[0], h[1], 0, h[2])))


@FUZZ
@given(st.binary(max_size=120) | st.tuples(headers, st.binary(max_size=120)).map(b"".join))
def test_random_bytes_raise_only_rtcp_error(data: bytes) -> None:
    try:
        packets = parse_rtcp(data)
    except RtcpError:
        return
    for packet in packets:
        with contextlib.suppress(RtcpError):  # padding may leave a body of partial words
            bytes(packet)


@FUZZ
@given(st.lists(rtcp_packets, min_size=1, max_size=3), st.data())
def test_mutated_compounds_raise_only_rtcp_error(
    packets: list[RtcpPacket], data: st.DataObject
) -> None:
    raw = bytearray(serialize_rtcp(packets))
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    with contextlib.suppress(RtcpError):
        parse_rtcp(bytes(raw[:cut]))
