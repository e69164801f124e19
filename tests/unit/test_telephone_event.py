"""RFC 4733 telephone-event codec, receiver and sender, on exact packet sequences."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tamas.core.errors import TamasError
from tamas.media.telephone_event import (
    DIGITS,
    MAX_DURATION,
    DigitEnded,
    DigitEvent,
    DigitStarted,
    EndReason,
    EventPacket,
    EventReceiver,
    EventSender,
    State,
    TelephoneEvent,
    TelephoneEventError,
    event_for_digit,
)

# Digit "1" as SIPp sends it (/usr/share/sip-tester/dtmf_2833_1.pcap, payload type 101):
# (marker, seq, timestamp, payload, arrival relative to the first packet). The end packet is
# repeated three times back to back with the same sequence number.
CAPTURE_1 = [
    (True, 7984, 13280, bytes.fromhex("010a0000"), 0.000000),
    (False, 7985, 13280, bytes.fromhex("010a0140"), 0.019992),
    (False, 7986, 13280, bytes.fromhex("010a0280"), 0.039881),
    (False, 7987, 13280, bytes.fromhex("010a03c0"), 0.059911),
    (False, 7988, 13280, bytes.fromhex("010a0500"), 0.079983),
    (False, 7989, 13280, bytes.fromhex("010a0640"), 0.099925),
    (False, 7990, 13280, bytes.fromhex("010a0780"), 0.119865),
    (False, 7991, 13280, bytes.fromhex("018a08c0"), 0.139846),
    (False, 7991, 13280, bytes.fromhex("018a08c0"), 0.139888),
    (False, 7991, 13280, bytes.fromhex("018a08c0"), 0.139929),
]
END_AT = 0.139846


def feed(rx: EventReceiver, packets: list[tuple[bool, int, int, bytes, float]]) -> list[DigitEvent]:
    out: list[DigitEvent] = []
    for marker, seq, ts, payload, arrival in packets:
        out += rx.receive(marker, seq, ts, payload, arrival)
    return out


def sent(
    packets: list[EventPacket], *, ts: int = 1000, seq: int = 1, t0: float = 0.0, step: float = 0.02
) -> list[tuple[bool, int, int, bytes, float]]:
    """What the RTP layer would put on the wire for the sender's packets."""
    return [
        (p.marker, (seq + i) % 65536, (ts + p.timestamp_offset) % 2**32, p.payload, t0 + i * step)
        for i, p in enumerate(packets)
    ]


# --- codec ------------------------------------------------------------------------------------


def test_parse_captured_payloads() -> None:
    first = TelephoneEvent.parse(bytes.fromhex("010a0000"))
    assert first == TelephoneEvent(event=1, end=False, volume=10, duration=0)
    last = TelephoneEvent.parse(bytes.fromhex("0b8a08c0"))
    assert last == TelephoneEvent(event=11, end=True, volume=10, duration=2240)
    assert last.digit == "#"


@pytest.mark.parametrize("hexed", ["010a0000", "018a08c0", "0b8a08c0", "10bfffff", "0f40ffff"])
def test_round_trip(hexed: str) -> None:
    payload = bytes.fromhex(hexed)
    assert bytes(TelephoneEvent.parse(payload)) == payload


def test_reserved_bit_is_kept() -> None:
    ev = TelephoneEvent.parse(bytes.fromhex("0f40ffff"))
    assert ev.reserved and not ev.end and ev.volume == 0 and ev.duration == 0xFFFF


@pytest.mark.parametrize("hexed", ["", "010a00", "010a000000", "110a0000", "ff8a0000"])
def test_parse_rejects_bad_payloads(hexed: str) -> None:
    with pytest.raises(TelephoneEventError):
        TelephoneEvent.parse(bytes.fromhex(hexed))


@pytest.mark.parametrize(
    "kwargs",
    [{"event": -1}, {"event": 17}, {"event": 1, "volume": 64}, {"event": 1, "duration": 65536}],
)
def test_constructor_rejects_out_of_range(kwargs: dict[str, Any]) -> None:
    with pytest.raises(TelephoneEventError):
        TelephoneEvent(**kwargs)


def test_error_is_a_tamas_error() -> None:
    assert issubclass(TelephoneEventError, TamasError)


def test_digits_map_to_codes() -> None:
    assert [event_for_digit(d) for d in "0123456789*#ABCD!"] == list(range(17))
    assert event_for_digit("a") == 12
    for bad in ("E", "", "12", " "):
        with pytest.raises(TelephoneEventError):
            event_for_digit(bad)


# --- receiver ---------------------------------------------------------------------------------


def test_captured_digit_reported_once() -> None:
    rx = EventReceiver()
    assert feed(rx, CAPTURE_1) == [
        DigitStarted(digit="1", timestamp=13280, at=0.0),
        DigitEnded(
            digit="1", timestamp=13280, duration_ms=280, at=END_AT, reason=EndReason.END_BIT
        ),
    ]
    assert rx.state is State.IDLE and rx.next_deadline() is None


def test_duplicates_change_nothing() -> None:
    rx = EventReceiver()
    doubled = [p for p in CAPTURE_1 for _ in range(2)]
    events = feed(rx, doubled)
    assert [type(e) for e in events] == [DigitStarted, DigitEnded]


def test_loss_of_first_packets_starts_at_first_seen() -> None:
    rx = EventReceiver()
    events = feed(rx, CAPTURE_1[3:])
    assert events == [
        DigitStarted(digit="1", timestamp=13280, at=0.059911),
        DigitEnded(
            digit="1", timestamp=13280, duration_ms=280, at=END_AT, reason=EndReason.END_BIT
        ),
    ]


def test_only_end_packets_arrive() -> None:
    rx = EventReceiver()
    events = feed(rx, CAPTURE_1[8:])
    assert events == [
        DigitStarted(digit="1", timestamp=13280, at=0.139888),
        DigitEnded(
            digit="1", timestamp=13280, duration_ms=280, at=0.139888, reason=EndReason.END_BIT
        ),
    ]


def test_loss_of_all_end_packets_ends_by_timeout() -> None:
    rx = EventReceiver(end_timeout=0.1)
    assert len(feed(rx, CAPTURE_1[:7])) == 1
    deadline = rx.next_deadline()
    assert deadline == pytest.approx(0.119865 + 0.1)
    assert rx.handle_timer(0.2) == []
    assert rx.handle_timer(0.25) == [
        DigitEnded(digit="1", timestamp=13280, duration_ms=240, at=0.25, reason=EndReason.TIMEOUT)
    ]
    assert rx.next_deadline() is None
    assert rx.handle_timer(1.0) == []
    # A straggler of the finished event does not report it again.
    assert feed(rx, CAPTURE_1[7:]) == []


def test_reordering_keeps_the_largest_duration() -> None:
    rx = EventReceiver()
    order = [0, 2, 1, 3, 5, 4, 7, 6, 8, 9]
    events = feed(rx, [CAPTURE_1[i] for i in order])
    assert events[-1] == DigitEnded(
        digit="1", timestamp=13280, duration_ms=280, at=END_AT, reason=EndReason.END_BIT
    )
    assert len(events) == 2


def test_update_arriving_after_the_end_is_ignored() -> None:
    rx = EventReceiver()
    assert len(feed(rx, CAPTURE_1[:5] + CAPTURE_1[7:8])) == 2
    assert feed(rx, CAPTURE_1[5:7]) == []


def test_shuffled_with_duplicates_reports_once() -> None:
    rng = random.Random(4733)
    for _ in range(50):
        packets = CAPTURE_1 + rng.sample(CAPTURE_1, 4)
        rng.shuffle(packets)
        rx = EventReceiver()
        events = feed(rx, packets)
        assert [type(e) for e in events] == [DigitStarted, DigitEnded]
        assert events[1].duration_ms == 280  # type: ignore[union-attr]


def test_same_digit_twice_is_two_presses() -> None:
    rx = EventReceiver()
    second = [(m, seq + 20, 14880, p, t + 0.3) for m, seq, _, p, t in CAPTURE_1]
    events = feed(rx, CAPTURE_1 + second)
    assert [(type(e).__name__, e.digit, e.timestamp) for e in events] == [
        ("DigitStarted", "1", 13280),
        ("DigitEnded", "1", 13280),
        ("DigitStarted", "1", 14880),
        ("DigitEnded", "1", 14880),
    ]


def test_new_event_ends_an_open_one_whose_end_was_lost() -> None:
    rx = EventReceiver()
    hash_ = [(True, 8000, 14880, bytes.fromhex("0b0a0000"), 0.3)]
    events = feed(rx, CAPTURE_1[:6] + hash_)
    assert events[1:] == [
        DigitEnded(digit="1", timestamp=13280, duration_ms=200, at=0.3, reason=EndReason.NEW_EVENT),
        DigitStarted(digit="#", timestamp=14880, at=0.3),
    ]
    assert rx.next_deadline() == pytest.approx(0.5)


def test_packet_of_an_older_event_is_stale() -> None:
    rx = EventReceiver()
    late_start = [(True, 7900, 12000, bytes.fromhex("050a0000"), 0.2)]
    assert len(feed(rx, CAPTURE_1[:3])) == 1
    assert feed(rx, late_start) == []
    assert rx.state is State.ACTIVE


def test_update_with_another_code_is_stale() -> None:
    rx = EventReceiver()
    feed(rx, CAPTURE_1[:2])
    assert rx.receive(False, 7986, 13280, bytes.fromhex("020a0280"), 0.04) == []


def test_timestamp_wrap_is_a_newer_event() -> None:
    rx = EventReceiver()
    before = 2**32 - 100
    events = rx.receive(True, 1, before, bytes.fromhex("058a0320"), 0.0)
    events += rx.receive(True, 2, 60, bytes.fromhex("068a0320"), 0.5)
    events += rx.receive(True, 3, before, bytes.fromhex("058a0320"), 0.6)
    assert [(type(e).__name__, e.digit) for e in events] == [
        ("DigitStarted", "5"),
        ("DigitEnded", "5"),
        ("DigitStarted", "6"),
        ("DigitEnded", "6"),
    ]


def test_malformed_payload_is_counted_and_ignored() -> None:
    rx = EventReceiver()
    assert rx.receive(True, 1, 0, b"\x01\x0a", 0.0) == []
    assert rx.receive(True, 2, 0, bytes.fromhex("200a0000"), 0.0) == []
    assert rx.malformed == 2 and rx.state is State.IDLE


def test_reset_forgets_the_open_event() -> None:
    rx = EventReceiver()
    feed(rx, CAPTURE_1[:3])
    rx.reset()
    assert rx.state is State.IDLE and rx.next_deadline() is None
    # The same timestamp from a new SSRC is a new event.
    assert len(feed(rx, CAPTURE_1)) == 2


def test_durations_use_the_clock_rate() -> None:
    rx = EventReceiver(clock_rate=16000)
    events = feed(rx, CAPTURE_1)
    assert events[-1].duration_ms == 140  # type: ignore[union-attr]


# --- sender -----------------------------------------------------------------------------------


def test_sender_exact_sequence() -> None:
    packets = EventSender().packets("5", 100)
    assert [(p.marker, p.timestamp_offset, p.payload.hex()) for p in packets] == [
        (True, 0, "050a0000"),
        (False, 0, "050a00a0"),
        (False, 0, "050a0140"),
        (False, 0, "050a01e0"),
        (False, 0, "050a0280"),
        (False, 0, "058a0320"),
        (False, 0, "058a0320"),
        (False, 0, "058a0320"),
    ]
    marker, offset, payload = packets[0]  # plain tuples for the RTP layer
    assert marker and offset == 0 and len(payload) == 4


def test_sender_duration_not_a_multiple_of_the_interval() -> None:
    packets = EventSender(interval_ms=50, volume=7, end_repeats=2).packets("#", 120)
    assert [p.payload.hex() for p in packets] == [
        "0b070000",
        "0b070190",
        "0b070320",
        "0b8703c0",
        "0b8703c0",
    ]


def test_sender_rejects_bad_input() -> None:
    with pytest.raises(TelephoneEventError):
        EventSender().packets("X", 100)
    with pytest.raises(TelephoneEventError):
        EventSender().packets("1", 0)
    with pytest.raises(ValueError):
        EventSender(interval_ms=0)
    assert EventSender(interval_ms=50).interval == 0.05


def test_long_event_is_sent_in_segments() -> None:
    packets = EventSender().packets("0", 20_000)  # 160000 units = 2 * 0xFFFF + 28930
    decoded = [(p.marker, p.timestamp_offset, TelephoneEvent.parse(p.payload)) for p in packets]
    assert [m for m, _, _ in decoded].count(True) == 1 and decoded[0][0]
    assert sorted({off for _, off, _ in decoded}) == [0, MAX_DURATION, 2 * MAX_DURATION]
    closing = [(off, ev) for _, off, ev in decoded if ev.duration == MAX_DURATION]
    assert [off for off, _ in closing] == [0, MAX_DURATION]
    assert not any(ev.end for _, ev in closing)
    ends = [(off, ev.duration) for _, off, ev in decoded if ev.end]
    assert ends == [(2 * MAX_DURATION, 28930)] * 3
    # Within a segment durations never decrease.
    for segment in (0, MAX_DURATION, 2 * MAX_DURATION):
        durations = [ev.duration for _, off, ev in decoded if off == segment]
        assert durations == sorted(durations)


def test_long_event_round_trip_is_one_press() -> None:
    rx = EventReceiver()
    events = feed(rx, sent(EventSender().packets("0", 20_000), ts=2**32 - 1000))
    assert [type(e) for e in events] == [DigitStarted, DigitEnded]
    assert events[1].duration_ms == 20_000  # type: ignore[union-attr]
    assert events[0].timestamp == events[1].timestamp == 2**32 - 1000


def test_long_event_whose_last_segment_only_has_end_packets() -> None:
    # 2 * 0xFFFF + 100 units: the last segment is reached only by the end packets.
    duration_ms = (2 * MAX_DURATION + 100) // 8
    wire = sent(EventSender().packets("9", duration_ms))
    last_updates = [w for w in wire if w[2] == 1000 + 2 * MAX_DURATION and not w[3][1] & 0x80]
    events = feed(EventReceiver(), [w for w in wire if w not in last_updates])
    assert [type(e) for e in events] == [DigitStarted, DigitEnded]
    assert events[1].duration_ms == duration_ms  # type: ignore[union-attr]


def test_long_event_segment_with_marker_is_a_new_press() -> None:
    rx = EventReceiver()
    rx.receive(True, 1, 0, bytes.fromhex("010affff"), 0.0)
    events = rx.receive(True, 2, MAX_DURATION, bytes.fromhex("010a0000"), 8.2)
    assert [type(e) for e in events] == [DigitEnded, DigitStarted]


@pytest.mark.parametrize("interval_ms", [20, 50])
def test_round_trip_every_digit(interval_ms: int) -> None:
    sender = EventSender(interval_ms=interval_ms)
    rx = EventReceiver()
    wire: list[tuple[bool, int, int, bytes, float]] = []
    for i, digit in enumerate(DIGITS):
        start = i * 0.5
        wire += sent(
            sender.packets(digit, 160),
            ts=1000 + i * 4000,
            seq=i * 20,
            t0=start,
            step=sender.interval,
        )
    events = feed(rx, wire)
    assert [e.digit for e in events if isinstance(e, DigitStarted)] == list(DIGITS)
    ended = [e for e in events if isinstance(e, DigitEnded)]
    assert [e.digit for e in ended] == list(DIGITS)
    assert {e.duration_ms for e in ended} == {160}
    assert {e.reason for e in ended} == {EndReason.END_BIT}
    assert [e.timestamp for e in ended] == [1000 + i * 4000 for i in range(len(DIGITS))]
