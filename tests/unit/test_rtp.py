"""RTP packets (RFC 3550 section 5.1): parse and serialize captured and hand-built bytes."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tamas.media.rtp import (
    RtpError,
    RtpExtension,
    RtpPacket,
    peek_header,
    rewrite_header,
    seq_add,
    seq_diff,
    seq_newer,
    ts_add,
    ts_diff,
    ts_newer,
)

SIPP = Path("/usr/share/sip-tester")

# First packet of SIPp's g711a.pcap: V=2, M=1, PT=8 (PCMA), seq 0xe6fd, ts 0xf0,
# SSRC 0xdee0ee8f, then 240 octets of A-law silence (0xd5).
G711A_FIRST = bytes.fromhex("8088e6fd000000f0dee0ee8f") + b"\xd5" * 240

# SIPp's dtmf_2833_1.pcap: RFC 4733 events for digit 1, PT 101. The first has the marker bit;
# the last three are the repeated end packets (E bit, duration 0x08c0).
DTMF_FIRST = bytes.fromhex("80e51f30000033e00e05384e010a0000")
DTMF_END = bytes.fromhex("80651f37000033e00e05384e018a08c0")


def pcap_udp_payloads(path: Path) -> Iterator[tuple[float, bytes]]:
    """(time, UDP payload) of each frame of a classic little-endian Ethernet/IPv4 pcap."""
    data = path.read_bytes()
    offset = 24
    while offset < len(data):
        sec, usec, incl, _ = struct.unpack_from("<IIII", data, offset)
        frame = data[offset + 16 : offset + 16 + incl]
        offset += 16 + incl
        ihl = (frame[14] & 0x0F) * 4
        yield sec + usec / 1e6, frame[14 + ihl + 8 :]


def test_parse_captured_g711() -> None:
    pkt = RtpPacket.parse(G711A_FIRST)
    assert pkt == RtpPacket(
        payload_type=8,
        sequence_number=0xE6FD,
        timestamp=0xF0,
        ssrc=0xDEE0EE8F,
        marker=True,
        payload=b"\xd5" * 240,
    )
    assert bytes(pkt) == G711A_FIRST


def test_parse_captured_dtmf() -> None:
    first, end = RtpPacket.parse(DTMF_FIRST), RtpPacket.parse(DTMF_END)
    assert (first.payload_type, first.marker, first.payload) == (101, True, b"\x01\x0a\x00\x00")
    assert (end.marker, end.sequence_number - first.sequence_number) == (False, 7)
    assert end.timestamp == first.timestamp  # one event, one timestamp
    assert bytes(first) == DTMF_FIRST and bytes(end) == DTMF_END


@pytest.mark.parametrize("name", ["g711a.pcap", "dtmf_2833_5.pcap", "dtmf_2833_pound.pcap"])
def test_sipp_captures_round_trip(name: str) -> None:
    path = SIPP / name
    if not path.exists():
        pytest.skip(f"{path} not installed (Debian package sip-tester)")
    count = 0
    for _, payload in pcap_udp_payloads(path):
        pkt = RtpPacket.parse(payload)
        assert bytes(pkt) == payload
        assert peek_header(payload) == (
            pkt.payload_type,
            pkt.sequence_number,
            pkt.timestamp,
            pkt.ssrc,
            pkt.marker,
        )
        count += 1
    assert count > 0


# Hand-built: V=2 P=1 X=1 CC=2 | M=0 PT=0 | seq 1 | ts 2 | SSRC 3 | CSRC 4, 5
# | extension profile 0xBEDE, 1 word: 0x10 0xAA 0x00 0x00 | payload "abc" | 3 padding octets.
FULL = bytes.fromhex(
    "b2000001" "00000002" "00000003" "00000004" "00000005"
    "bede0001" "10aa0000" "616263" "000003"
)  # fmt: skip


def test_parse_all_header_fields() -> None:
    pkt = RtpPacket.parse(FULL)
    assert pkt == RtpPacket(
        payload_type=0,
        sequence_number=1,
        timestamp=2,
        ssrc=3,
        csrc=(4, 5),
        extension=RtpExtension(profile=0xBEDE, data=bytes.fromhex("10aa0000")),
        payload=b"abc",
        padding=3,
    )
    assert bytes(pkt) == FULL


def test_parse_accepts_bytearray_and_memoryview() -> None:
    assert RtpPacket.parse(bytearray(FULL)) == RtpPacket.parse(memoryview(FULL)[:])


def test_empty_extension_and_payload() -> None:
    data = bytes.fromhex("90000001000000020000000312340000")
    pkt = RtpPacket.parse(data)
    assert pkt.extension == RtpExtension(profile=0x1234, data=b"")
    assert pkt.payload == b""
    assert bytes(pkt) == data


def test_padding_may_cover_the_whole_payload() -> None:
    data = bytes.fromhex("a0000001000000020000000300000004")
    pkt = RtpPacket.parse(data)
    assert (pkt.payload, pkt.padding) == (b"", 4)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "short"),
        (bytes.fromhex("8000000100000002000000"), "short"),
        (bytes.fromhex("400000010000000200000003"), "version"),
        (bytes.fromhex("c00000010000000200000003"), "version"),
        (bytes.fromhex("a0000001000000020000000300"), "padding"),  # count 0
        (bytes.fromhex("a0000001000000020000000305"), "padding"),  # count past the header
        (bytes.fromhex("810000010000000200000003"), "CSRC"),
        (bytes.fromhex("8f000001000000020000000300000004"), "CSRC"),
        (bytes.fromhex("90000001000000020000000312"), "extension"),
        (bytes.fromhex("900000010000000200000003beef0001"), "extension"),
        (
            bytes.fromhex("b00000010000000200000003beef000000000005"),
            "padding",
        ),  # into the extension
    ],
)
def test_malformed_packets_raise_rtp_error(data: bytes, why: str) -> None:
    with pytest.raises(RtpError, match=why):
        RtpPacket.parse(data)


@pytest.mark.parametrize(
    "pkt",
    [
        RtpPacket(payload_type=128, sequence_number=0, timestamp=0, ssrc=0),
        RtpPacket(payload_type=0, sequence_number=65536, timestamp=0, ssrc=0),
        RtpPacket(payload_type=0, sequence_number=0, timestamp=-1, ssrc=0),
        RtpPacket(payload_type=0, sequence_number=0, timestamp=0, ssrc=1 << 32),
        RtpPacket(payload_type=0, sequence_number=0, timestamp=0, ssrc=0, csrc=(1,) * 16),
        RtpPacket(payload_type=0, sequence_number=0, timestamp=0, ssrc=0, csrc=(-1,)),
        RtpPacket(payload_type=0, sequence_number=0, timestamp=0, ssrc=0, padding=256),
        RtpPacket(
            payload_type=0,
            sequence_number=0,
            timestamp=0,
            ssrc=0,
            extension=RtpExtension(profile=1, data=b"abc"),
        ),
        RtpPacket(
            payload_type=0,
            sequence_number=0,
            timestamp=0,
            ssrc=0,
            extension=RtpExtension(profile=0x10000, data=b""),
        ),
    ],
)
def test_unencodable_packets_raise_rtp_error(pkt: RtpPacket) -> None:
    with pytest.raises(RtpError):
        bytes(pkt)


def test_peek_header() -> None:
    assert peek_header(G711A_FIRST) == (8, 0xE6FD, 0xF0, 0xDEE0EE8F, True)
    with pytest.raises(RtpError, match="short"):
        peek_header(G711A_FIRST[:11])
    with pytest.raises(RtpError, match="version"):
        peek_header(b"\x00" * 12)


def test_rewrite_header_patches_in_place() -> None:
    buf = bytearray(FULL)
    rewrite_header(buf, ssrc=0xCAFEBABE, seq=65535 + 3, ts=(1 << 32) + 7)
    pkt = RtpPacket.parse(buf)
    assert (pkt.ssrc, pkt.sequence_number, pkt.timestamp) == (0xCAFEBABE, 2, 7)
    assert (pkt.payload_type, pkt.marker) == (0, False)
    assert buf[12:] == FULL[12:]  # CSRCs, extension, payload and padding untouched
    assert buf[0] == FULL[0]


def test_rewrite_header_payload_type_and_marker() -> None:
    buf = bytearray(G711A_FIRST)
    rewrite_header(buf, ssrc=1, seq=2, ts=3, pt=0)
    assert peek_header(buf) == (0, 2, 3, 1, True)  # marker kept
    rewrite_header(buf, ssrc=1, seq=2, ts=3, marker=False)
    assert peek_header(buf) == (0, 2, 3, 1, False)  # payload type kept
    rewrite_header(buf, ssrc=1, seq=2, ts=3, pt=101, marker=True)
    assert peek_header(buf) == (101, 2, 3, 1, True)
    assert buf[12:] == G711A_FIRST[12:]


def test_rewrite_header_short_buffer() -> None:
    with pytest.raises(RtpError):
        rewrite_header(bytearray(11), ssrc=1, seq=2, ts=3)


def test_sequence_arithmetic_wraps() -> None:
    assert seq_diff(5, 3) == 2
    assert seq_diff(3, 5) == -2
    assert seq_diff(2, 65534) == 4
    assert seq_diff(65534, 2) == -4
    assert seq_diff(0x8000, 0) == -0x8000
    assert seq_newer(0, 65535)
    assert not seq_newer(65535, 0)
    assert not seq_newer(7, 7)
    assert seq_newer(0x7FFF, 0) and not seq_newer(0x8000, 0)
    assert seq_add(65535, 1) == 0
    assert seq_add(0, -1) == 65535


def test_timestamp_arithmetic_wraps() -> None:
    top = 0xFFFFFFFF
    assert ts_diff(80, top - 79) == 160
    assert ts_diff(top - 79, 80) == -160
    assert ts_newer(80, top - 79)
    assert not ts_newer(top - 79, 80)
    assert ts_add(top, 160) == 159
    assert ts_add(0, -160) == top - 159


packets = st.builds(
    RtpPacket,
    payload_type=st.integers(0, 127),
    sequence_number=st.integers(0, 0xFFFF),
    timestamp=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    payload=st.binary(max_size=64),
    marker=st.booleans(),
    csrc=st.lists(st.integers(0, 0xFFFFFFFF), max_size=15).map(tuple),
    extension=st.none()
    | st.builds(
        RtpExtension,
        profile=st.integers(0, 0xFFFF),
        data=st.integers(0, 8).flatmap(lambda n: st.binary(min_size=4 * n, max_size=4 * n)),
    ),
    padding=st.integers(0, 255),
)


@given(packets)
def test_serialized_packets_parse_back(pkt: RtpPacket) -> None:
    data = bytes(pkt)
    assert RtpPacket.parse(data) == pkt
    rewritten = bytearray(data)
    rewrite_header(rewritten, ssrc=pkt.ssrc, seq=pkt.sequence_number, ts=pkt.timestamp)
    assert rewritten == data


@settings(max_examples=500)
@given(st.binary(max_size=80) | st.binary(min_size=1, max_size=80).map(lambda b: b"\x80" + b))
def test_random_bytes_raise_only_rtp_error(data: bytes) -> None:
    try:
        pkt = RtpPacket.parse(data)
    except RtpError:
        return
    if pkt.padding == 0 or data[len(data) - pkt.padding : -1] == bytes(pkt.padding - 1):
        assert bytes(pkt) == data
