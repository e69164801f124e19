"""The recording process's own cost per recorded call, offline: no relay, no pipe, no clock.

    .venv/bin/python benchmarks/recording_worker.py --calls 1000 --seconds 20

Builds what the relay's recorder hands the recording process (``ActiveRecording._take`` of real
taps fed one 20 ms G.711 packet per side every 20 ms into a shared-memory ring pool, the
messages pickled and unpickled as the pipe carries them, the packets read out of the rings
with :func:`tamas.runtime.recorder_worker.resolve`) and gives it to
:class:`tamas.runtime.recorder_worker.Worker` exactly as the recording process does, writing
the WAV files to a temporary directory (``--dir`` to choose one), once for each way of keeping
the samples (``--samples``, by default ``g711`` then ``pcm16``, the reference). Time is
simulated: the rounds follow each other as fast as the worker takes them, so the figure is CPU,
not a deadline. It prints the worker's CPU per recorded call and second of audio before the
stops (the part of ``media_capacity.py``'s ``tamas+rec`` that runs in the recording process,
apart from reading the pipe; the ring reads included), the same as a share of one core per
recorded call, the CPU of the stops (each file's last write and fsync), the bytes written, and
the ratio to the reference.

``--law PCMA`` records A-law calls. Under ``valgrind --tool=callgrind`` (``--calls 200``) the
instruction count per recorded call-second is repeatable, for comparing two builds on a
machine whose speed varies. Not a test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np

from tamas.media.g711 import alaw_encode, ulaw_encode
from tamas.media.recording import Layout
from tamas.media.rtp import RtpPacket
from tamas.media.tones import sine
from tamas.runtime.mediaengine import Codec
from tamas.runtime.recorder import ActiveRecording
from tamas.runtime.recorder_ring import RingPool, RingReader
from tamas.runtime.recorder_worker import Worker, resolve


def _packets(law: str, seconds: float, ssrc: int, seed: int) -> list[bytes]:
    """One side's RTP packets: speech-like noise under a tone, 160 samples each."""
    rng = np.random.default_rng(seed)
    frames = round(seconds / 0.02) + 1
    audio = sine(300 + seed % 200, frames * 0.02) // 2
    audio = (audio + rng.normal(0, 2000, audio.shape)).clip(-32768, 32767).astype(np.int16)
    encode = ulaw_encode if law == "PCMU" else alaw_encode
    payload_type = 0 if law == "PCMU" else 8
    payloads = encode(audio)
    return [
        bytes(
            RtpPacket(
                payload_type=payload_type,
                sequence_number=k & 0xFFFF,
                timestamp=(1000 + 160 * k) & 0xFFFFFFFF,
                ssrc=ssrc,
                payload=payloads[160 * k : 160 * (k + 1)],
            )
        )
        for k in range(frames)
    ]


def run(
    calls: int,
    seconds: float,
    interval: float,
    law: str,
    layout: Layout,
    samples: str,
    out: Path,
) -> float:
    """One run; prints its figures and returns the worker's µs per recorded call-second."""
    codec = Codec.pcmu() if law == "PCMU" else Codec.pcma()
    sides = (_packets(law, seconds, 0x1111, 1), _packets(law, seconds, 0x2222, 2))
    clock = [100.0]
    pool = RingPool(calls)
    reader = RingReader(pool.fd, calls)
    taps = [
        ActiveRecording(
            None,
            rid,
            out / f"{rid}.wav",
            rings=pool.sides(rid),
            region=rid,
            clock=lambda: clock[0],
            layout=layout,
            start=100.0,
            caller_side=0,
            delay=0.2,
            samples=samples,
        )
        for rid in range(calls)
    ]
    with open(os.devnull, "wb") as answers:
        worker = Worker(answers)
        worker_cpu = finish_cpu = 0.0
        per_round = round(interval / 0.02)
        frames = len(sides[0]) - 1
        k = 0
        while k < frames:
            for _ in range(min(per_round, frames - k)):
                clock[0] = 100.0 + 0.02 * (k + 1)
                for tap in taps:
                    tap.feed(0, sides[0][k], codec)
                    tap.feed(1, sides[1][k], codec)
                k += 1
            last = k >= frames
            if last:
                for tap in taps:
                    tap.stop_nowait(clock[0])
            items = [tap._take() for tap in taps]
            for first in range(0, calls, 16):  # as the sender thread: 16 recordings a message
                data = pickle.dumps(("batch", clock[0], items[first : first + 16]), protocol=5)
                started = time.process_time()
                message = pickle.loads(data)
                resolved, ends = resolve(reader, message[2])
                for tap, (_, end0, end1) in zip(taps[first : first + 16], ends, strict=True):
                    tap._read_up_to(end0, end1)  # as the reader thread, on the answer
                worker.batch(message[1], resolved)
                if last:
                    finish_cpu += time.process_time() - started
                else:
                    worker_cpu += time.process_time() - started
    written = sum(f.stat().st_size for f in out.iterdir())
    call_seconds = calls * frames * 0.02
    steady_seconds = calls * (frames - (frames % per_round or per_round)) * 0.02
    per_call_second = worker_cpu / steady_seconds * 1e6
    print(
        f"{calls} {layout.value} {law} recordings kept as {samples} of {frames * 0.02:g} s, "
        f"handed over every {interval:g} s: worker CPU before the stops {worker_cpu:.2f} s = "
        f"{per_call_second:.1f} µs per recorded call-second ({per_call_second / 1e4:.4f} % of "
        f"a core per call); the stops (last round, fsync) {finish_cpu / calls * 1e6:.0f} µs "
        f"per recording; {written / 1e6:.1f} MB written "
        f"({written / call_seconds / 1e3:.1f} kB per call-second)"
    )
    return per_call_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--interval", type=float, default=1.0, help="hand-over period (s)")
    parser.add_argument("--law", choices=("PCMU", "PCMA"), default="PCMU")
    parser.add_argument("--layout", choices=("stereo", "mono"), default="stereo")
    parser.add_argument(
        "--samples",
        default="g711,pcm16",
        help="how the recordings keep their audio, one run each in this order (recording."
        "samples: g711, pcm16); the ratio of each to the last is printed",
    )
    parser.add_argument("--dir", type=Path, help="where to write (default: a temporary dir)")
    args = parser.parse_args()
    figures = {}
    for samples in args.samples.split(","):
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            figures[samples] = run(
                args.calls,
                args.seconds,
                args.interval,
                args.law,
                Layout(args.layout),
                samples,
                Path(tmp),
            )
    reference = list(figures)[-1]
    for samples, figure in list(figures.items())[:-1]:
        print(f"{samples} / {reference}: {figure / figures[reference]:.2f} of the CPU")


if __name__ == "__main__":
    np.seterr(all="raise")
    main()
