"""The Tamas media engine as a stand-alone relay for benchmarks/media_capacity.py.

Opens ``--calls`` bridged calls (two legs each) whose far ends are the load generator's two
sockets, prints one line "PA PB" per call (the ports the generator must send to), then
"READY", and relays until stdin closes. With ``--record DIR`` every bridge is recorded to a
stereo WAV file by Tamas's recorder (``tamas.runtime.recorder``: the tap appends packets, and
a recording process of its own assembles and writes them in batches). On exit it prints a
JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import uvloop

from tamas.runtime.gcpolicy import GcPolicy
from tamas.runtime.mediaengine import Codec, LocalMediaEngine, RemoteMedia
from tamas.runtime.recorder import ActiveRecording, Recorder

HOST = "127.0.0.1"


async def main(args: argparse.Namespace) -> None:
    engine = LocalMediaEngine(
        bind=HOST, port_min=args.port_min, port_max=args.port_max, media_timeout=0
    )
    recorder = None
    if args.record:
        recorder = (
            Recorder() if args.record_interval is None else Recorder(interval=args.record_interval)
        )
    recordings: list[ActiveRecording] = []
    legs = []
    for i in range(args.calls):
        a = await engine.open_leg(f"call-{i}", "caller")
        b = await engine.open_leg(f"call-{i}", "callee")
        a.configure(
            RemoteMedia(
                address=HOST,
                port=args.gen_a,
                codec=Codec.pcmu(),
                signalling_address=HOST,
                telephone_event_pt=101,
            )
        )
        b.configure(
            RemoteMedia(
                address=HOST,
                port=args.gen_b,
                codec=Codec.pcmu(),
                signalling_address=HOST,
                telephone_event_pt=101,
            )
        )
        tap = None
        if recorder is not None:
            tap = recorder.open(Path(args.record) / f"call-{i}.wav")
            recordings.append(tap)
        engine.bridge(a, b, tap=tap)
        legs.append((a, b))
        print(a.local_port, b.local_port)
    print("READY", flush=True)
    ready_at = time.monotonic()
    gc_policy = GcPolicy()  # as in `tamas serve`: survivors frozen every second
    gc_policy.start()
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    loop.add_reader(sys.stdin.fileno(), done.set)
    await done.wait()
    # Once closed, stdin stays readable: a reader left on it would spin the loop while the
    # relay closes (and under media_capacity.py --realtime starve the recording process).
    loop.remove_reader(sys.stdin.fileno())
    relayed_s = time.monotonic() - ready_at
    gc_policy.stop()
    recorder_cpu = 0.0
    if recorder is not None:
        await recorder.aclose()  # stops every recording; the files are complete
        recorder_cpu = recorder.cpu_seconds
    # Every recording must have been written whole: one that failed or ended early (the
    # recording process fell behind) makes the level unclean, whatever the relay did.
    # Every recording began before READY, so each lasts at least the time relayed; one that
    # the recorder ended early (its process fell 5 s behind) is short, not failed.
    failed, short, durations = 0, 0, []
    for recording in recordings:
        try:
            duration = recording.done.result(timeout=0).duration
        except Exception:
            failed += 1
            continue
        durations.append(duration)
        short += duration < relayed_s - 0.5
    stats = [leg.stats() for pair in legs for leg in pair]
    print(
        json.dumps(
            {
                "legs": len(stats),
                "received": sum(s.packets_received for s in stats),
                "sent": sum(s.packets_sent for s in stats),
                "lost": sum(s.packets_lost for s in stats),
                "max_jitter_ms": max((s.jitter_ms for s in stats), default=0.0),
                "recorded_bytes": sum(r.path.stat().st_size for r in recordings),
                "recorder_process_cpu_s": round(recorder_cpu, 3),
                "recordings_failed": failed,
                "recordings_short": short,
                "relayed_s": round(relayed_s, 3),
                "recorded_min_s": round(min(durations, default=0.0), 3),
                "recorded_max_s": round(max(durations, default=0.0), 3),
            }
        ),
        flush=True,
    )
    await engine.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--gen-a", type=int, required=True)
    parser.add_argument("--gen-b", type=int, required=True)
    parser.add_argument("--record", default="")
    parser.add_argument(
        "--record-interval",
        type=float,
        default=None,
        help="seconds between the recorder's batches (default: the server's)",
    )
    parser.add_argument("--port-min", type=int, default=20000)
    parser.add_argument("--port-max", type=int, default=29999)
    uvloop.run(main(parser.parse_args()))
