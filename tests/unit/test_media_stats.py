"""Receiver statistics (RFC 3550 A.1 sequence validation, A.3 loss, A.8 jitter)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_rtp import pcap_udp_payloads

from tamas.media.rtcp import ReportBlock, ntp_middle32
from tamas.media.rtp import RtpPacket
from tamas.media.stats import MAX_DROPOUT, MAX_MISORDER, ReceiverStats

PTIME = 0.020
STEP = 160  # 20 ms at 8 kHz


def feed(stats: ReceiverStats, seqs: list[int], start: float = 0.0) -> list[bool]:
    """Packets on a perfect 20 ms clock, timestamps following the sequence numbers."""
    return [
        stats.update(seq, (seq * STEP) & 0xFFFFFFFF, start + i * PTIME)
        for i, seq in enumerate(seqs)
    ]


def trusted(ssrc: int = 7) -> ReceiverStats:
    """A source accepted from its first packet (min_sequential=1)."""
    return ReceiverStats(ssrc, 8000, min_sequential=1)


def test_probation_then_counting() -> None:
    stats = ReceiverStats(7, 8000)
    assert feed(stats, [1000, 1001, 1002]) == [False, True, True]
    # The probation packet is not counted: the base is the packet that ended probation.
    assert (stats.received, stats.expected, stats.lost) == (2, 2, 0)
    assert stats.extended_highest_seq == 1002


def test_probation_restarts_on_a_gap() -> None:
    stats = ReceiverStats(7, 8000)
    assert feed(stats, [10, 12, 14, 15, 16]) == [False, False, False, True, True]
    assert (stats.received, stats.expected) == (2, 2)


def test_nothing_expected_before_validation() -> None:
    stats = ReceiverStats(7, 8000, min_sequential=3)
    assert stats.report_block(0.0) == ReportBlock(ssrc=7)
    feed(stats, [5, 6])
    assert (stats.expected, stats.lost, stats.fraction_lost) == (0, 0, 0)
    assert stats.last_arrival is None


def test_probation_across_the_wrap() -> None:
    stats = ReceiverStats(7, 8000)
    assert feed(stats, [65535, 0, 1]) == [False, True, True]
    assert stats.extended_highest_seq == 1  # base 0, no cycle yet
    assert stats.expected == 2


def test_sequence_wrap_counts_a_cycle() -> None:
    stats = trusted()
    seqs = [*range(65530, 65536), *range(0, 11)]
    assert all(feed(stats, seqs))
    assert stats.extended_highest_seq == 65536 + 10
    assert (stats.received, stats.expected, stats.lost) == (17, 17, 0)
    block = stats.report_block(1.0)
    assert block.highest_seq == 0x1000A
    assert (block.fraction_lost, block.packets_lost) == (0, 0)


def test_losses_and_fraction_per_interval() -> None:
    stats = trusted()
    # 0..19 with 5, 6, 7 missing: expected 20, received 17.
    feed(stats, [s for s in range(20) if s not in (5, 6, 7)])
    assert (stats.expected, stats.received, stats.lost) == (20, 17, 3)
    assert stats.fraction_lost == 3 * 256 // 20  # 38, i.e. 15%
    first = stats.report_block(0.4)
    assert (first.fraction_lost, first.packets_lost, first.highest_seq) == (38, 3, 19)
    # Next interval: 20..29 with 25 missing -> fraction 1/10 of 256; cumulative 4.
    feed(stats, [s for s in range(20, 30) if s != 25], start=0.4)
    second = stats.report_block(0.6)
    assert (second.fraction_lost, second.packets_lost) == (25, 4)
    # An interval with nothing new reports no loss.
    assert stats.report_block(0.8).fraction_lost == 0


def test_whole_interval_lost_saturates_fraction() -> None:
    stats = trusted()
    feed(stats, [0, 1])
    stats.report_block(0.0)
    stats.update(10, 1600, 0.2)  # 2..9 lost, one received: 8 of 9 -> 227
    assert stats.fraction_lost == 8 * 256 // 9


def test_duplicates_make_loss_negative() -> None:
    stats = trusted()
    assert all(feed(stats, [0, 1, 2, 2, 2, 3]))
    assert (stats.expected, stats.received, stats.lost) == (4, 6, -2)
    block = stats.report_block(0.2)
    assert (block.packets_lost, block.fraction_lost) == (-2, 0)


def test_reordering_does_not_count_as_loss() -> None:
    stats = trusted()
    assert all(feed(stats, [0, 1, 3, 4, 2, 5]))
    assert stats.extended_highest_seq == 5  # the late 2 did not move it back
    assert (stats.expected, stats.lost) == (6, 0)


def test_reordering_across_the_wrap() -> None:
    stats = trusted()
    assert all(feed(stats, [65534, 0, 65535, 1]))
    assert stats.extended_highest_seq == 65536 + 1
    assert stats.lost == 0


def test_misorder_and_dropout_limits() -> None:
    stats = trusted()
    feed(stats, list(range(200)))
    assert stats.update(199 - (MAX_MISORDER - 1), 0, 5.0)  # 99 behind: late, counted
    assert not stats.update(199 - MAX_MISORDER, 0, 5.0)  # 100 behind: a jump, dropped
    assert stats.update(199 + MAX_DROPOUT - 1, 0, 5.0)  # 2999 ahead: a gap, counted
    assert stats.lost == MAX_DROPOUT - 2 - 1  # the gap, less the late duplicate
    assert not stats.update(199 + MAX_DROPOUT - 1 + MAX_DROPOUT, 0, 5.0)  # 3000 ahead: jump


def test_single_jump_is_ignored() -> None:
    stats = trusted()
    assert feed(stats, [0, 1, 2, 30000, 3, 4]) == [True, True, True, False, True, True]
    assert (stats.extended_highest_seq, stats.expected, stats.lost) == (4, 5, 0)


def test_source_restart_after_jump_then_consecutive() -> None:
    stats = trusted()
    feed(stats, [0, 1, 2, 4])  # one lost before the restart
    assert stats.lost == 1
    # The sender restarts at 40000: the first packet is dropped as a jump, the second one in
    # sequence re-initialises the counts from itself.
    assert stats.update(40000, 999_000, 1.0) is False
    assert stats.update(40001, 999_160, 1.02) is True
    assert (stats.received, stats.expected, stats.lost) == (1, 1, 0)
    assert stats.extended_highest_seq == 40001
    assert feed(stats, [40002, 40003], start=1.04) == [True, True]
    assert (stats.received, stats.expected) == (3, 3)


def test_jitter_from_a_known_arrival_pattern() -> None:
    stats = trusted()
    # 8 kHz, 160 timestamp units (20 ms) per packet; D in timestamp units:
    #   seq 0: ts 0,   arrives 0.000 s  -> first packet, J = 0
    #   seq 1: ts 160, arrives 0.020 s  -> D = 160 - 160 = 0,        J = 0
    #   seq 2: ts 320, arrives 0.050 s  -> D = 240 - 160 = 80,       J = 0 + (80 - 0)/16 = 5
    #   seq 3: ts 480, arrives 0.060 s  -> D = |80 - 160| = 80,      J = 5 + (80 - 5)/16 = 9.6875
    #   seq 4: ts 640, arrives 0.080 s  -> D = 160 - 160 = 0,        J = 9.6875 - 9.6875/16
    #                                                                  = 9.08203125
    for seq, arrival in enumerate([0.0, 0.020, 0.050, 0.060, 0.080]):
        stats.update(seq, seq * 160, arrival)
        if seq == 3:
            assert stats.jitter == pytest.approx(9.6875)
            assert stats.jitter_ms == pytest.approx(9.6875 / 8)  # 1.2109375 ms
    assert stats.jitter == pytest.approx(9.08203125)
    assert stats.report_block(0.1).jitter == 9  # truncated to whole timestamp units


def test_jitter_is_zero_for_a_perfect_stream_across_timestamp_wrap() -> None:
    stats = trusted()
    ts0 = 0xFFFFFFFF - 400
    for i in range(10):
        stats.update(i, (ts0 + i * STEP) & 0xFFFFFFFF, i * PTIME)
    assert stats.jitter == pytest.approx(0.0, abs=1e-6)


def test_jitter_with_a_16khz_clock() -> None:
    stats = ReceiverStats(7, 16000, min_sequential=1)
    stats.update(0, 0, 0.0)
    stats.update(1, 320, 0.030)  # D = 480 - 320 = 160 -> J = 10 units = 0.625 ms
    assert stats.jitter == pytest.approx(10.0)
    assert stats.jitter_ms == pytest.approx(0.625)


def test_lsr_and_dlsr_echo_the_last_sender_report() -> None:
    stats = trusted()
    feed(stats, [0, 1])
    assert (stats.report_block(1.0).lsr, stats.report_block(1.0).dlsr) == (0, 0)
    stats.sender_report(0xE6B0C3D1, 0x80004321, arrival=10.0)
    block = stats.report_block(10.5)
    assert block.lsr == ntp_middle32(0xE6B0C3D1, 0x80004321) == 0xC3D18000
    assert block.dlsr == 0x8000  # half a second in 1/65536 s


def test_cumulative_loss_is_clamped_to_24_bits() -> None:
    stats = trusted()
    seq = 0
    stats.update(seq, 0, 0.0)
    for _ in range(2800):  # each step skips 2998 packets: about 8.4 million lost
        seq = (seq + MAX_DROPOUT - 1) & 0xFFFF
        assert stats.update(seq, 0, 0.0)
    assert stats.lost > 0x7FFFFF
    assert stats.report_block(0.0).packets_lost == 0x7FFFFF


def test_constructor_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        ReceiverStats(1, 0)
    with pytest.raises(ValueError):
        ReceiverStats(1, 8000, min_sequential=0)


def test_sipp_g711_capture_has_no_loss() -> None:
    path = Path("/usr/share/sip-tester/g711a.pcap")
    if not path.exists():
        pytest.skip("sip-tester not installed")
    stats = ReceiverStats(0, 8000)
    frames = list(pcap_udp_payloads(path))
    for arrival, payload in frames:
        pkt = RtpPacket.parse(payload)
        stats.update(pkt.sequence_number, pkt.timestamp, arrival)
    assert stats.received == len(frames) - 1  # the first packet was on probation
    assert stats.lost == 0
    assert stats.extended_highest_seq == 0xE6FD + len(frames) - 1
    assert 0 <= stats.jitter_ms < 30


@given(
    st.lists(
        st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF), st.floats(0, 1e4)),
        max_size=60,
    ),
    st.integers(1, 3),
)
def test_any_packet_sequence_gives_a_reportable_block(
    packets: list[tuple[int, int, float]], min_sequential: int
) -> None:
    stats = ReceiverStats(1, 8000, min_sequential=min_sequential)
    for seq, ts, arrival in packets:
        stats.update(seq, ts, arrival)
        assert 0 <= stats.fraction_lost <= 255
        assert stats.jitter >= 0
    ReportBlock.parse(bytes(stats.report_block(1e4)))
