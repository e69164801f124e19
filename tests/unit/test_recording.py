"""Recording assembly: placement by RTP timestamp, loss as silence, pauses, the tail on stop."""

from __future__ import annotations

from array import array

import numpy as np
import pytest

from tamas.media.g711 import (
    ALAW_TO_ULAW,
    ULAW_DECODE,
    ULAW_TO_ALAW,
    alaw_encode,
    ulaw_decode,
    ulaw_encode,
)
from tamas.media.recording import (
    Law,
    Layout,
    PausedSpan,
    Recording,
    RecordingState,
    Side,
    rtp_payload,
)
from tamas.media.rtp import RtpExtension, RtpPacket
from tamas.media.wav import WavEncoding

START = 1000.0


def ramp(first: int, n: int = 160) -> np.ndarray:
    """Distinct, traceable samples: frame k of a side holds values first + k*n ..."""
    return (np.arange(first, first + n) % 30000).astype(np.int16)


def collect(rec: Recording, chunks: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(chunks) if chunks else np.zeros((0, 2), np.int16)


def test_two_sides_aligned_and_duration_exact() -> None:
    rec = Recording(start=START)
    chunks = []
    caller_ts, agent_ts = 12345, 4_000_000_000  # unrelated timestamp bases
    for k in range(100):  # 2 s of 20 ms frames on both sides
        now = START + 0.02 * k
        rec.feed(Side.CALLER, ramp(k * 160), timestamp=caller_ts + 160 * k, arrival=now)
        rec.feed(Side.AGENT, -ramp(k * 160), timestamp=agent_ts + 160 * k, arrival=now + 0.003)
        chunks.append(rec.advance(now))
    chunks.append(rec.stop(START + 2.5))
    out = collect(rec, chunks)
    assert out.shape == (20000, 2)  # 2.5 s: the file lasts as long as the call
    assert np.array_equal(out[:16000, 0], ramp(0, 16000))
    # The agent's first packet came 3 ms (24 samples) after the caller's: placed there.
    assert not out[:24, 1].any()
    assert np.array_equal(out[24:16024, 1], -ramp(0, 16000))
    assert not out[16024:].any()
    assert rec.duration == 2.5 and rec.state is RecordingState.STOPPED
    assert rec.stats[Side.CALLER].packets == 100 and rec.stats[Side.CALLER].anchors == 1


def test_jitter_and_reordering_do_not_move_audio() -> None:
    rng = np.random.default_rng(7)
    arrivals = [START + 0.02 * k + rng.uniform(0, 0.08) for k in range(150)]
    order = sorted(range(150), key=lambda k: arrivals[k])  # out of order when jittered
    assert order != sorted(order)
    rec = Recording(start=START)
    chunks = []
    for k in order:
        rec.feed(Side.CALLER, ramp(k * 160), timestamp=160 * k, arrival=arrivals[k])
        chunks.append(rec.advance(arrivals[k]))
    chunks.append(rec.stop(START + 3.2))
    out = collect(rec, chunks)
    # The anchor is the first packet's arrival (up to 80 ms late); every later one is placed
    # by its timestamp relative to it, so the stream is exact and contiguous.
    lead = int(np.argmax(out[:, 0] != 0)) - 1  # ramp(0) starts with a zero sample
    assert 0 <= lead <= 0.08 * 8000
    assert np.array_equal(out[lead : lead + 24000, 0], ramp(0, 24000))
    assert rec.stats[Side.CALLER].late == 0


def test_lost_packets_are_silence_and_keep_alignment() -> None:
    rec = Recording(start=START)
    chunks = []
    for k in range(50):
        now = START + 0.02 * k
        if k not in (10, 11, 30):
            rec.feed(Side.CALLER, ramp(1 + k * 160), timestamp=160 * k, arrival=now)
        rec.feed(Side.AGENT, ramp(1 + k * 160), timestamp=160 * k, arrival=now)
        chunks.append(rec.advance(now))
    chunks.append(rec.stop(START + 1.0))
    out = collect(rec, chunks)
    assert out.shape == (8000, 2)
    expected = ramp(1, 8000)
    gaps = np.zeros(8000, bool)
    for k in (10, 11, 30):
        gaps[k * 160 : (k + 1) * 160] = True
    assert not out[gaps, 0].any()
    assert np.array_equal(out[~gaps, 0], expected[~gaps])
    assert np.array_equal(out[:, 1], expected)


def test_late_joiner_starts_at_its_arrival_time() -> None:
    rec = Recording(start=START)
    # The agent's first packet arrives 1.5 s into the recording.
    rec.feed(Side.AGENT, np.full(160, 9, np.int16), timestamp=777, arrival=START + 1.5)
    out = rec.stop(START + 2.0)
    assert out.shape == (16000, 2)
    assert not out[:12000].any() and np.all(out[12000:12160, 1] == 9)
    assert not out[12160:].any()


def test_pause_resume_is_silence_with_spans() -> None:
    rec = Recording(start=START)
    chunks = []
    for k in range(200):  # 4 s, loud on both sides
        now = START + 0.02 * k
        if k == 50:
            rec.pause(now)  # 1.0 s
        if k == 100:
            rec.resume(now)  # 2.0 s
        if k == 175:
            rec.pause(now)  # 3.5 s
        rec.feed(Side.CALLER, np.full(160, 1000, np.int16), timestamp=160 * k, arrival=now)
        rec.feed(Side.AGENT, np.full(160, 2000, np.int16), timestamp=160 * k, arrival=now)
        chunks.append(rec.advance(now))
    assert rec.state is RecordingState.PAUSED
    chunks.append(rec.stop(START + 4.0))  # stopped while paused: the span ends at the stop
    out = collect(rec, chunks)
    assert out.shape == (32000, 2)
    assert np.all(out[:8000] == [1000, 2000])
    assert not out[8000:16000].any()
    assert np.all(out[16000:28000] == [1000, 2000])
    assert not out[28000:].any()
    assert rec.paused_spans == [PausedSpan(start=1.0, end=2.0), PausedSpan(start=3.5, end=4.0)]


def test_pause_and_resume_are_idempotent() -> None:
    rec = Recording(start=START)
    rec.resume(START + 0.1)  # not paused: nothing
    rec.pause(START + 0.2)
    rec.pause(START + 0.3)  # already paused: the first time counts
    rec.resume(START + 0.5)
    rec.resume(START + 0.6)
    assert rec.paused_spans == [PausedSpan(start=0.2, end=0.5)]


def test_stop_flushes_the_tail_and_ignores_what_comes_after() -> None:
    rec = Recording(start=START, delay=0.5)
    for k in range(10):
        rec.feed(
            Side.CALLER, np.full(160, 5, np.int16), timestamp=160 * k, arrival=START + 0.02 * k
        )
    assert len(rec.advance(START + 0.2)) == 0  # still within the delay
    tail = rec.stop(START + 0.2)
    assert tail.shape == (1600, 2) and np.all(tail[:, 0] == 5)  # nothing lost at hang-up
    rec.feed(Side.CALLER, np.full(160, 5, np.int16), timestamp=1600, arrival=START + 0.2)
    assert len(rec.advance(START + 5)) == 0 and len(rec.stop(START + 5)) == 0
    assert rec.duration == 0.2


def test_advance_chunks_are_contiguous() -> None:
    rec = Recording(start=START, delay=0.1)
    sizes = []
    for k in range(100):
        now = START + 0.02 * k
        rec.feed(Side.CALLER, ramp(1 + 160 * k), timestamp=160 * k, arrival=now)
        sizes.append(len(rec.advance(now)))
    assert sum(sizes) == round((0.02 * 99 - 0.1) * 8000)
    assert rec.duration == pytest.approx(0.02 * 99 - 0.1)


def test_late_packet_is_dropped_and_counted() -> None:
    rec = Recording(start=START, delay=0.1)
    for k in range(20):
        if k != 5:
            rec.feed(Side.CALLER, ramp(1 + 160 * k), timestamp=160 * k, arrival=START + 0.02 * k)
    first = rec.advance(START + 0.4)  # emits up to 0.3 s
    rec.feed(Side.CALLER, ramp(1 + 800), timestamp=800, arrival=START + 0.4)  # too late
    out = np.concatenate((first, rec.stop(START + 0.4)))
    assert not out[800:960, 0].any()
    assert rec.stats[Side.CALLER].late == 1


def test_mono_mix_clips() -> None:
    rec = Recording(start=START, layout=Layout.MONO)
    rec.feed(Side.CALLER, np.full(160, 30000, np.int16), timestamp=0, arrival=START)
    rec.feed(Side.AGENT, np.full(160, 10000, np.int16), timestamp=0, arrival=START)
    rec.feed(Side.CALLER, np.full(160, -300, np.int16), timestamp=160, arrival=START + 0.02)
    rec.feed(Side.AGENT, np.full(160, 100, np.int16), timestamp=160, arrival=START + 0.02)
    out = rec.stop(START + 0.04)
    assert out.shape == (320,) and out.dtype == np.int16
    assert np.all(out[:160] == 32767) and np.all(out[160:] == -200)


def test_new_ssrc_and_timestamp_jumps_reanchor() -> None:
    rec = Recording(start=START)
    one = np.full(160, 1, np.int16)
    for k in range(10):
        rec.feed(Side.CALLER, one, timestamp=160 * k, arrival=START + 0.02 * k, ssrc=1)
    # A new stream (re-INVITE, another phone) with an unrelated timestamp base.
    rec.feed(Side.CALLER, one * 2, timestamp=99_999_999, arrival=START + 0.5, ssrc=2)
    # The same stream's timestamp leaps 10 s ahead of real time (a phone after hold).
    rec.feed(Side.CALLER, one * 3, timestamp=99_999_999 + 80000, arrival=START + 0.6, ssrc=2)
    out = rec.stop(START + 1.0)
    assert np.all(out[4000:4160, 0] == 2) and np.all(out[4800:4960, 0] == 3)
    assert rec.stats[Side.CALLER].anchors == 3


def test_clock_going_back_a_little_resyncs_after_a_second_of_late_packets() -> None:
    rec = Recording(start=START, delay=0.1)
    chunks = []
    ts = 0
    for k in range(200):
        now = START + 0.02 * k
        if k == 100:
            ts -= 8000  # back 1 s: within max_jump, so only the late run re-anchors
        rec.feed(Side.CALLER, np.full(160, 4, np.int16), timestamp=ts, arrival=now)
        ts += 160
        chunks.append(rec.advance(now))
    out = np.concatenate([*chunks, rec.stop(START + 4.0)])
    stats = rec.stats[Side.CALLER]
    assert stats.anchors == 2 and stats.late == 49
    assert np.all(out[: 100 * 160, 0] == 4)
    # One second of audio is lost while the late run builds up, then recording goes on.
    assert not out[100 * 160 : 149 * 160, 0].any()
    assert np.all(out[150 * 160 : 199 * 160, 0] == 4)


def test_timestamp_wrap() -> None:
    rec = Recording(start=START)
    base = (1 << 32) - 320
    for k in range(6):
        rec.feed(
            Side.AGENT,
            np.full(160, k + 1, np.int16),
            timestamp=(base + 160 * k) % (1 << 32),
            arrival=START + 0.02 * k,
        )
    out = rec.stop(START + 0.12)
    assert [int(out[160 * k, 1]) for k in range(6)] == [1, 2, 3, 4, 5, 6]
    assert rec.stats[Side.AGENT].anchors == 1


def packet(ts: int, payload: bytes, *, pt: int = 0, ssrc: int = 0x1234, **kw: object) -> bytes:
    return bytes(
        RtpPacket(
            payload_type=pt,
            sequence_number=ts // 160 % 65536,
            timestamp=ts,
            ssrc=ssrc,
            payload=payload,
            **kw,
        )  # type: ignore[arg-type]
    )


def test_rtp_payload_parsing() -> None:
    assert rtp_payload(packet(160, b"\x01\x02")) == (0, 160, 0x1234, b"\x01\x02")
    ext = packet(0, b"ab", csrc=(1, 2), extension=RtpExtension(profile=0xBEDE, data=b"1234"))
    assert rtp_payload(ext) == (0, 0, 0x1234, b"ab")
    assert rtp_payload(packet(0, b"abc", padding=4)) == (0, 0, 0x1234, b"abc")
    assert rtp_payload(b"\x80\x00") is None
    assert rtp_payload(b"\x40" + bytes(20)) is None  # version 1


def test_rtp_batch_decodes_places_and_ignores_events() -> None:
    rec = Recording(start=START)
    pcm = (np.sin(np.arange(1600) * 0.05) * 8000).astype(np.int16)
    caller = [
        (START + 0.02 * k, packet(160 * k, ulaw_encode(pcm[160 * k : 160 * (k + 1)])))
        for k in range(10)
        if k != 4
    ]
    caller.insert(3, (START + 0.07, packet(480, b"\x01\x00\x00\xa0", pt=101)))  # DTMF event
    agent = [
        (START + 0.02 * k, packet(50_000 + 160 * k, alaw_encode(pcm[:160]), pt=8, ssrc=9))
        for k in range(10)
    ]
    rec.feed_rtp_batch(Side.CALLER, caller, {0: Law.ULAW})
    rec.feed_rtp_batch(Side.AGENT, agent, {8: Law.ALAW})
    out = rec.stop(START + 0.2)
    expected = ulaw_decode(ulaw_encode(pcm))
    expected[640:800] = 0  # the lost packet
    assert np.array_equal(out[:, 0], expected)
    assert np.max(np.abs(out[:160, 1].astype(int) - pcm[:160])) < 300  # A-law, decoded
    assert rec.stats[Side.CALLER].ignored == 1 and rec.stats[Side.CALLER].packets == 9


def test_rtp_batch_timestamps_across_batches_and_wrap() -> None:
    rec = Recording(start=START)
    base = (1 << 32) - 480
    packets = [
        (START + 0.02 * k, packet((base + 160 * k) % (1 << 32), bytes([0x80 | k]) * 160))
        for k in range(8)
    ]
    rec.feed_rtp_batch(Side.CALLER, packets[:5], {0: Law.ULAW})
    rec.feed_rtp_batch(Side.CALLER, packets[5:], {0: Law.ULAW})
    out = rec.stop(START + 0.16)
    decoded = [int(ulaw_decode(bytes([0x80 | k]))[0]) for k in range(8)]
    assert [int(out[160 * k, 0]) for k in range(8)] == decoded
    assert rec.stats[Side.CALLER].anchors == 1


def test_rtp_batch_codec_change_and_unusual_headers() -> None:
    rec = Recording(start=START)
    pcm = (np.sin(np.arange(960) * 0.05) * 8000).astype(np.int16)
    frames = [pcm[160 * k : 160 * (k + 1)] for k in range(6)]
    batch = [
        (START, packet(0, ulaw_encode(frames[0]))),
        (START + 0.02, packet(160, ulaw_encode(frames[1]), csrc=(5,))),  # slow path, same run
        # A re-INVITE switched the caller to PCMA: same stream, another payload type.
        (START + 0.04, packet(320, alaw_encode(frames[2]), pt=8)),
        (START + 0.06, packet(480, alaw_encode(frames[3]), pt=8, padding=3)),
        (START + 0.08, packet(640, alaw_encode(frames[4]), pt=9)),  # G.722: not recorded
        (START + 0.10, b"\x80\x08" + bytes(10)),  # header only
    ]
    rec.feed_rtp_batch(Side.CALLER, batch, {0: Law.ULAW, 8: Law.ALAW})
    out = rec.stop(START + 0.12)
    for k in range(4):
        got = out[160 * k : 160 * (k + 1), 0].astype(int)
        assert np.max(np.abs(got - frames[k])) < 300, k
    assert not out[640:, 0].any()
    assert rec.stats[Side.CALLER].packets == 4 and rec.stats[Side.CALLER].ignored == 2
    assert rec.stats[Side.CALLER].anchors == 1


def test_rtp_batch_splits_runs_like_single_packets() -> None:
    rng = np.random.default_rng(3)
    items = []
    ts, ssrc, pt = 4_294_960_000, 11, 0  # wraps within the batch
    for k in range(60):
        if k == 20:
            ts += 480  # two packets lost
        if k == 30:
            pt = 8  # codec switch
        if k == 40:
            ssrc, ts = 12, 777  # new stream
        payload = rng.integers(0, 256, 160, dtype=np.uint8).tobytes()
        kind = 101 if k == 50 else pt  # an event the audio's size: ignored
        items.append((START + 0.02 * k, packet(ts % (1 << 32), payload, pt=kind, ssrc=ssrc)))
        ts += 160
    batch, single = Recording(start=START), Recording(start=START)
    batch.feed_rtp_batch(Side.AGENT, items, {0: Law.ULAW, 8: Law.ALAW})
    for arrival, data in items:
        kind, stamp, source, payload = rtp_payload(data)  # type: ignore[misc]
        if kind in (0, 8):
            law = Law.ULAW if kind == 0 else Law.ALAW
            single.feed_g711(
                Side.AGENT, payload, law, timestamp=stamp, arrival=arrival, ssrc=source
            )
    a, b = batch.stop(START + 1.5), single.stop(START + 1.5)
    assert np.array_equal(a, b) and a[:, 1].any()
    assert batch.stats[Side.AGENT].anchors == single.stats[Side.AGENT].anchors == 2
    assert batch.stats[Side.AGENT].ignored == 1 and batch.stats[Side.AGENT].packets == 59


def test_long_stretch_without_advance_grows_and_keeps_everything() -> None:
    rec = Recording(start=START)
    for k in range(500):  # 10 s fed before anyone collects
        rec.feed(Side.CALLER, ramp(1 + 160 * k), timestamp=160 * k, arrival=START + 0.02 * k)
    assert len(rec.advance(START + 5.0)) == 38400  # 4.8 s: 0.2 s behind
    rec.pause(START + 5.0)
    assert rec.paused_spans == [PausedSpan(start=5.0, end=5.0)]  # open, not yet written out
    out = rec.stop(START + 10.0)
    assert len(out) == 41600
    assert np.array_equal(out[:1600, 0], ramp(1 + 38400, 1600))
    assert not out[1600:].any()
    assert rec.paused_spans == [PausedSpan(start=5.0, end=10.0)]


def _stream(rng: np.random.Generator, count: int, *, size: int = 160) -> list[bytes]:
    """One plain PCMU stream: timestamps that follow on (and wrap), markers now and then."""
    ts = 4_294_967_296 - 160 * (count // 2)  # wraps half way through
    out = []
    for k in range(count):
        payload = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        data = bytearray(packet(ts % (1 << 32), payload, pt=0, ssrc=99))
        if k % 17 == 0:
            data[1] |= 0x80  # marker bit: still one stream
        out.append(bytes(data))
        ts += size
    return out


def _as_batch_and_arrays(
    items: list[bytes], laws: dict[int, Law], *, whole: bool = False
) -> tuple[np.ndarray, np.ndarray, Recording, Recording]:
    arrivals = [START + 0.02 * k for k in range(len(items))]
    by_batch, by_arrays = Recording(start=START), Recording(start=START)
    by_batch.feed_rtp_batch(Side.CALLER, list(zip(arrivals, items, strict=True)), laws)
    sizes = array("H", [len(item) for item in items])
    by_arrays.feed_rtp_blob(Side.CALLER, arrivals, b"".join(items), sizes, laws)
    if whole:  # the batch must have been placed whole, not handed to the packet-by-packet path
        assert by_arrays.whole_batches == 1
    end = START + 0.02 * len(items) + 0.5
    return by_batch.stop(end), by_arrays.stop(end), by_batch, by_arrays


@pytest.mark.parametrize(
    "change",
    ["none", "gap", "swap", "ssrc", "pt", "first_byte", "sizes", "odd_size", "short",
     "ignored_pt"],
)  # fmt: skip
def test_rtp_arrays_equal_the_batch_path(change: str) -> None:
    # feed_rtp_blob checks a batch in a few operations and places it whole; every batch
    # that is not one plain stream must go the packet-by-packet way: the same audio and
    # the same counters as feed_rtp_batch in every case.
    rng = np.random.default_rng(7)
    items = _stream(rng, 50, size=161 if change == "odd_size" else 160)
    laws = {0: Law.ULAW, 8: Law.ALAW}
    if change == "gap":  # the timestamp jumps by one packet at packet 30
        items[30:] = [
            packet((rtp_payload(p)[1] + 160) % (1 << 32), rtp_payload(p)[3], pt=0, ssrc=99)  # type: ignore[index]
            for p in items[30:]
        ]
    elif change == "swap":  # two packets reordered: the same ends, the same sequence of sizes
        items[20], items[21] = items[21], items[20]
    elif change == "ssrc":
        items[25] = packet(rtp_payload(items[25])[1], b"\x55" * 160, pt=0, ssrc=100)  # type: ignore[index]
    elif change == "pt":
        items[40] = packet(rtp_payload(items[40])[1], b"\x55" * 160, pt=8, ssrc=99)  # type: ignore[index]
    elif change == "first_byte":  # one packet with padding: not plain
        parsed = rtp_payload(items[10])
        assert parsed is not None
        padded = bytearray(packet(parsed[1], parsed[3][:-4], pt=0, ssrc=99) + b"\x00\x00\x00\x04")
        padded[0] |= 0x20
        items[10] = bytes(padded)
    elif change == "sizes":  # two sizes whose sum equals two of the usual
        items[5] = items[5][:-2]
        items[6] = items[6] + b"\x00\x00"
    elif change == "short":
        items = items[:5]
    elif change == "ignored_pt":
        laws = {8: Law.ALAW}
    a, b, by_batch, by_arrays = _as_batch_and_arrays(items, laws, whole=change == "none")
    assert np.array_equal(a, b)
    assert by_batch.stats == by_arrays.stats
    if change not in ("ignored_pt",):
        assert a[:, 0].any()


def test_rtp_arrays_decode_pairs_like_the_byte_table() -> None:
    # Every byte value in both positions of a pair, both laws.
    values = np.arange(256, dtype=np.uint8)
    payload = np.stack([values, values[::-1]], axis=1).ravel().tobytes()  # 512 bytes
    for pt, law, decode in ((0, Law.ULAW, ulaw_decode), (8, Law.ALAW, None)):
        items = [packet(160 * k, payload[160 * k % 480 : 160 * k % 480 + 160], pt=pt, ssrc=5)
                 for k in range(20)]  # fmt: skip
        a, b, _, _ = _as_batch_and_arrays(items, {pt: law}, whole=True)
        assert np.array_equal(a, b)
        if decode is not None:
            expected = decode(np.frombuffer(items[0][12:], np.uint8))
            assert np.array_equal(b[: len(expected), 0], expected)


# --- recordings that keep G.711 codes ----------------------------------------------------


def _lossy_stream(rng: np.random.Generator, pt: int) -> list[bytes]:
    """Two seconds of one stream with two packets lost and two swapped."""
    items = [
        packet(160 * k, rng.integers(0, 256, 160, dtype=np.uint8).tobytes(), pt=pt, ssrc=3)
        for k in range(100)
    ]
    del items[40], items[70]
    items[10], items[11] = items[11], items[10]
    return items


@pytest.mark.parametrize("whole", [True, False])
def test_g711_recording_keeps_the_codes_and_decodes_like_pcm(whole: bool) -> None:
    # The same audio into a µ-law recording and a PCM one: the µ-law file holds the very
    # codes that came (the caller's PCMU), the agent's A-law transcoded code for code, and
    # silence where nothing came; decoded, it is the PCM recording wherever the caller spoke.
    rng = np.random.default_rng(11)
    caller, agent = _lossy_stream(rng, 0), _lossy_stream(rng, 8)
    laws = {0: Law.ULAW, 8: Law.ALAW}
    out = {}
    for encoding in (WavEncoding.MULAW, WavEncoding.PCM):
        rec = Recording(start=START, encoding=encoding)
        for side, items in ((Side.CALLER, caller), (Side.AGENT, agent)):
            arrivals = [START + 0.02 * k for k in range(len(items))]
            if whole:  # as the recording process hands them: one blob per side
                sizes = array("H", map(len, items))
                rec.feed_rtp_blob(side, arrivals, b"".join(items), sizes, laws)
            else:
                for arrival, item in zip(arrivals, items, strict=True):
                    rec.feed_rtp_batch(side, [(arrival, item)], laws)
        out[encoding] = rec.stop(START + 2.0)
    codes, pcm = out[WavEncoding.MULAW], out[WavEncoding.PCM]
    assert codes.dtype == np.uint8 and codes.shape == pcm.shape == (16000, 2)
    for item in caller:
        ts = int.from_bytes(item[4:8], "big")
        assert codes[ts : ts + 160, 0].tobytes() == item[12:]
    lost = [40 * 160, 71 * 160]  # (packet 71 of the first hundred was item 70 after the del)
    for at in lost:
        assert (codes[at : at + 160, 0] == 0xFF).all() and not pcm[at : at + 160, 0].any()
    assert np.array_equal(ULAW_DECODE[codes[:, 0]], pcm[:, 0])
    for item in agent:
        ts = int.from_bytes(item[4:8], "big")
        assert codes[ts : ts + 160, 1].tobytes() == item[12:].translate(ALAW_TO_ULAW)


def test_alaw_recording_silence_pause_and_mono() -> None:
    # An A-law recording: what is not heard and what is paused is A-law's silence (0xD5,
    # +8: A-law has no zero); µ-law audio is transcoded; a mono mix is encoded in A-law.
    rec = Recording(start=START, encoding=WavEncoding.ALAW)
    payload = bytes(range(60, 220))
    rec.feed_g711(Side.CALLER, payload, Law.ULAW, timestamp=0, arrival=START)
    rec.pause(START + 0.05)
    rec.feed_g711(Side.CALLER, payload, Law.ULAW, timestamp=800, arrival=START + 0.1)
    rec.resume(START + 0.2)
    out = rec.stop(START + 0.25)
    assert out.dtype == np.uint8 and out.shape == (2000, 2)
    assert out[:160, 0].tobytes() == payload.translate(ULAW_TO_ALAW)
    assert (out[160:, 0] == 0xD5).all() and (out[:, 1] == 0xD5).all()
    mono = Recording(start=START, layout=Layout.MONO, encoding=WavEncoding.ALAW)
    mono.feed(Side.CALLER, np.full(160, 30000, np.int16), timestamp=0, arrival=START)
    mono.feed(Side.AGENT, np.full(160, 10000, np.int16), timestamp=0, arrival=START)
    mixed = mono.stop(START + 0.04)
    assert mixed.shape == (320,) and mixed.dtype == np.uint8
    assert (mixed[:160] == alaw_encode([32767])[0]).all()  # 30000 + 10000, clipped
    assert (mixed[160:] == 0xD5).all()


def test_g711_recording_emits_views_only_when_asked() -> None:
    rec = Recording(start=START, encoding=WavEncoding.MULAW, delay=0.0)
    rec.feed_g711(Side.CALLER, b"\x10" * 160, Law.ULAW, timestamp=0, arrival=START)
    view = rec.advance(START + 0.02, copy=False)
    assert view.base is not None and (view[:, 0] == 0x10).all()
    copied = rec.advance(START + 0.04)
    assert copied.base is None and (copied == 0xFF).all()
    with pytest.raises(ValueError, match="PCM, µ-law or A-law"):
        Recording(start=START, encoding=WavEncoding.FLOAT)
