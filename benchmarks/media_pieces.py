"""Per-frame cost of the pure media pieces, and what recording costs the event loop.

    flock /tmp/tamas-bench.lock .venv/bin/python benchmarks/media_pieces.py --calls 600

Part 1 times one call of each per-frame operation the media engine makes (best of 5 repeats,
µs per call): playback sources, mixing, frame resampling, G.722 coding and transcoding,
recording assembly.

Part 2 runs ``--calls`` recordings in real time: an asyncio loop ticks every 20 ms and, like the
engine's tap, feeds one PCMU packet per direction per call to its recording; the recorder's
process assembles and writes the WAV files (to a temporary directory). It prints the
loop-side cost per packet, the recording process's CPU per recorded call, and the lateness of the
20 ms ticks (p50/p99/max) with and without the recorder, which is what recording adds to the
media path's latency. Not a test: the figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import numpy as np

from tamas.media import g722
from tamas.media.g711 import ulaw_encode
from tamas.media.mixer import Conference, MonitoredCall, MonitorMode
from tamas.media.playback import MusicOnHold, PromptSource, tone_source
from tamas.media.recording import Law, Recording, Side
from tamas.media.resample import StreamResampler
from tamas.media.rtp import RtpPacket
from tamas.media.tones import RINGBACK_ITU, sine
from tamas.runtime.recorder import Recorder


def per_call_us(func: Callable[[], object], number: int = 2000) -> float:
    return min(timeit.repeat(func, number=number, repeat=5)) / number * 1e6


def part1() -> None:
    speech = sine(440, 60.0)
    prompt = PromptSource(speech)
    music = MusicOnHold([speech]).source()
    ring = tone_source(RINGBACK_ITU)
    frame = sine(300, 0.02)
    monitor = MonitoredCall(MonitorMode.BARGE)
    conferences = {}
    for size in (3, 10, 50):
        conf: Conference[int] = Conference()
        for i in range(size):
            conf.add(i)
        conferences[size] = (conf, {i: frame for i in range(size)})
    wide = StreamResampler(16000, 8000)
    wide_frame = sine(300, 0.02, sample_rate=16000)
    g722_enc, g722_dec = g722.Encoder(), g722.Decoder()
    g722_payload = g722.Encoder().encode(wide_frame)
    to_pcmu, to_g722 = g722.Transcoder("G722", "PCMU"), g722.Transcoder("PCMU", "G722")
    pcmu_payload = ulaw_encode(frame)

    packets = [
        (
            100.0 + 0.02 * k,
            bytes(
                RtpPacket(
                    payload_type=0,
                    sequence_number=k,
                    timestamp=160 * k,
                    ssrc=7,
                    payload=ulaw_encode(frame),
                )
            ),
        )
        for k in range(10)
    ]
    rec = Recording(start=100.0)
    now = [100.0]

    def record_batch() -> None:
        # One writer-thread round for one call: 10 packets a side (200 ms), then advance.
        rec.feed_rtp_batch(Side.CALLER, packets, {0: Law.ULAW})
        rec.feed_rtp_batch(Side.AGENT, packets, {0: Law.ULAW})
        now[0] += 0.2
        rec.advance(now[0])

    rows = [
        ("prompt read_frame", per_call_us(prompt.read_frame, 500)),
        ("music on hold read_frame", per_call_us(music.read_frame)),
        (
            "music on hold read_frame + ulaw_encode",
            per_call_us(lambda: ulaw_encode(music.read_frame())),
        ),
        ("music on hold read_payload (PCMU)", per_call_us(lambda: music.read_payload("PCMU"))),
        ("ringback read_frame (looped)", per_call_us(ring.read_frame)),
        ("monitor mix, barge (3 parties)", per_call_us(lambda: monitor.mix(frame, frame, frame))),
        ("monitor mix, listen", per_call_us(lambda: MonitoredCall().mix(frame, frame, None))),
        *(
            (f"conference mix, {n} members", per_call_us(lambda c=c, f=f: c.mix(f), 500))
            for n, (c, f) in conferences.items()
        ),
        ("resample 16k->8k, one frame", per_call_us(lambda: wide.process(wide_frame))),
        ("G.722 encode, one 20 ms frame", per_call_us(lambda: g722_enc.encode(wide_frame))),
        ("G.722 decode, one 20 ms frame", per_call_us(lambda: g722_dec.decode(g722_payload))),
        ("G.722 -> PCMU transcode, one packet", per_call_us(lambda: to_pcmu.convert(g722_payload))),
        ("PCMU -> G.722 transcode, one packet", per_call_us(lambda: to_g722.convert(pcmu_payload))),
        ("recording: 20 packets + advance", per_call_us(record_batch, 200)),
    ]
    print("per-frame costs (best of 5, µs per call)")
    for name, us in rows:
        print(f"  {name:40s} {us:8.2f}")


class Name(Enum):
    PCMU = "PCMU"


@dataclass(frozen=True)
class Codec:
    payload_type: int
    name: Name


async def tick_lateness(seconds: float, on_tick: Callable[[int], None]) -> list[float]:
    """Run a 20 ms ticker for ``seconds``; lateness of each tick in ms."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    lateness = []
    for k in range(int(seconds / 0.02)):
        due = start + 0.02 * k
        await asyncio.sleep(max(0.0, due - loop.time()))
        lateness.append((loop.time() - due) * 1000)
        on_tick(k)
    return lateness


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[int(len(ordered) * 0.99)]
    return f"p50 {statistics.median(ordered):6.2f}  p99 {p99:6.2f}  max {ordered[-1]:6.2f} ms"


def part2(calls: int, seconds: float, interval: float) -> None:
    codec = Codec(0, Name.PCMU)
    payload = ulaw_encode(sine(440, 0.02))
    packets = [
        bytes(
            RtpPacket(payload_type=0, sequence_number=k, timestamp=160 * k, ssrc=1, payload=payload)
        )
        for k in range(int(seconds / 0.02) + 1)
    ]
    print(
        f"\nrecording {calls} calls for {seconds:g} s (both directions, 20 ms PCMU), "
        f"batches every {interval:g} s"
    )
    baseline = asyncio.run(tick_lateness(min(seconds, 5.0), lambda k: None))
    print(f"  ticks without recording:  {summary(baseline)}")
    with tempfile.TemporaryDirectory() as tmp:
        recorder = Recorder(interval=interval)
        recordings = [recorder.open(f"{tmp}/{i}.wav") for i in range(calls)]
        feed_time = [0.0]

        def feed(k: int) -> None:
            packet = packets[k]
            started = time.perf_counter()
            for recording in recordings:
                recording.feed(0, packet, codec)
                recording.feed(1, packet, codec)
            feed_time[0] += time.perf_counter() - started

        cpu_before = time.process_time()
        lateness = asyncio.run(tick_lateness(seconds, feed))
        for recording in recordings:
            recording.stop_nowait()
        metas = [r.done.result(timeout=60) for r in recordings]
        process_cpu = time.process_time() - cpu_before
        recorder.close()
        fed = 2 * calls * len(lateness)
        print(f"  ticks with recording:     {summary(lateness)}")
        print(f"  loop-side feed():         {feed_time[0] / fed * 1e6:6.2f} µs per packet")
        per_call = recorder.cpu_seconds / calls / seconds * 100
        print(
            f"  recording process CPU:    {recorder.cpu_seconds:6.2f} s "
            f"({per_call:.3f} % of a core per recorded call)"
        )
        print(f"  whole process CPU:        {process_cpu:6.2f} s over {seconds:g} s")
        short = [m for m in metas if abs(m.duration - metas[0].duration) > 0.1]
        print(f"  files: {len(metas)}, duration {metas[0].duration:.2f} s, {len(short)} off")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--interval", type=float, default=0.2, help="batch period (s)")
    parser.add_argument("--skip-micro", action="store_true")
    args = parser.parse_args()
    if not args.skip_micro:
        part1()
    part2(args.calls, args.seconds, args.interval)


if __name__ == "__main__":
    np.seterr(all="raise")
    main()
