"""Python's share of relaying one RTP packet: the media engine's hot path without the kernel.

    .venv/bin/python benchmarks/media_hotpath.py
    PYTHONPATH=/path/to/compiled/site .venv/bin/python benchmarks/media_hotpath.py

A real :class:`~tamas.runtime.mediaengine.LocalMediaEngine` on 127.0.0.1 and uvloop (as
``tamas serve`` runs it) opens two legs and
bridges them, as a call does; then the benchmark hands 20 ms PCMU packets (in sequence, 172
bytes) straight to the caller leg's ``datagram_received`` (what its reader does after
``recvfrom``; once connected it reads with ``recv`` and skips the address check). The send to
the peer is swapped for a C method that does nothing useful (``dict.__setitem__``), so what is timed is the engine's Python per packet: checks, receiver
statistics, forwarding and, in the second row, the recording tap. The third row is the same for
``benchmarks/media/lean_relay.py``'s protocol (send on, unexamined): the least a Python
callback costs. The syscalls and uvloop's own work are not in these figures;
``benchmarks/media_capacity.py`` measures everything together.

Which build is timed is whichever ``tamas`` is imported: the source tree, or a compiled install
put first on PYTHONPATH (``TAMAS_COMPILE=1``, see setup.py). Best of 5 repeats, µs per packet.
Not a test: the figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import struct
import sys
import tempfile
import timeit
from pathlib import Path
from typing import Any

import uvloop

import tamas.runtime.mediaengine.leg as leg_module
from tamas.runtime.mediaengine import Codec, LocalMediaEngine, RemoteMedia
from tamas.runtime.recorder import Recorder

sys.path.insert(0, str(Path(__file__).parent / "media"))
from lean_relay import _Half

HOST = "127.0.0.1"
ADDR = (HOST, 40000)


class _Sink:
    """Stands in for the lean relay's other transport: ``sendto`` is a C call that keeps
    nothing new."""

    def __init__(self) -> None:
        self.sendto = {}.__setitem__

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass


def _drain(tap: Any) -> Any:
    rings = (tap._ring0, tap._ring1)

    def drain() -> None:  # as the sender thread and the recording process's answer
        for ring in rings:
            ring.take()
            ring.read_up_to(ring.head)

    return drain


def packets(count: int) -> list[bytes]:
    head = struct.Struct("!BBHII")
    return [head.pack(0x80, 0, k & 0xFFFF, 160 * k, 7) + bytes(160) for k in range(count)]


def per_packet_us(receive: Any, data: list[bytes], rounds: int, after: Any = None) -> float:
    """µs per packet of ``receive``, with ``after`` (if any) called after each round."""

    def run() -> None:
        for packet in data:
            receive(packet, ADDR)
        if after is not None:
            after()

    best = min(timeit.repeat(run, number=rounds, repeat=5))
    return best / (rounds * len(data)) * 1e6


async def engine_row(
    record: Recorder | None, workdir: Path, data: list[bytes], rounds: int
) -> float:
    engine = LocalMediaEngine(bind=HOST, port_min=41000, port_max=41999, media_timeout=0)
    a = await engine.open_leg("bench", "caller")
    b = await engine.open_leg("bench", "callee")
    for leg in (a, b):
        leg.configure(
            RemoteMedia(address=HOST, port=ADDR[1], codec=Codec.pcmu(), signalling_address=HOST)
        )
    tap = None if record is None else record.open(workdir / "bench.wav")
    engine.bridge(a, b, tap=tap)
    caller = engine._own(a)
    caller._fwd_send = {}.__setitem__  # the send to the peer: a C call that keeps nothing new
    caller._fwd_addr = ADDR
    # After each round the tap's rings are marked read (timed: a few attribute writes): a
    # full ring would end the recording. The sender thread's and the recording process's
    # work are not in the figure.
    us = per_packet_us(caller.datagram_received, data, rounds, None if tap is None else _drain(tap))
    caller.refresh_route()
    if tap is not None:
        if tap._stopping:
            raise SystemExit("the recording ended early (more packets a round than its ring)")
        await tap.stop()
    await engine.aclose()
    return us


ROWS = {
    "plain": "tamas leg, bridged",
    "record": "tamas leg, bridged + recording",
    "lean": "lean relay (send on unexamined)",
}


def row_us(row: str, data: list[bytes], rounds: int, workdir: Path) -> float:
    if row == "lean":
        half = _Half(ADDR)
        half.out = _Sink()  # type: ignore[assignment]
        return per_packet_us(half.datagram_received, data, rounds)
    if row == "plain":
        return uvloop.run(engine_row(None, workdir, data, rounds))
    recorder = Recorder()
    try:
        return uvloop.run(engine_row(recorder, workdir, data, rounds))
    finally:
        recorder.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--packets", type=int, default=200, help="packets per round (at most 256: a tap's ring)"
    )
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument(
        "--rows",
        default=",".join(ROWS),
        help="which rows, of " + ", ".join(ROWS) + " (one row at a time under"
        " valgrind --tool=callgrind: instructions per packet, whatever the machine's load,"
        " from the difference between two --rounds)",
    )
    args = parser.parse_args()
    data = packets(args.packets)
    compiled = not leg_module.__file__ or not leg_module.__file__.endswith(".py")
    build = "compiled" if compiled else "source"
    print(f"tamas.runtime.mediaengine.leg: {leg_module.__file__} ({build})")
    print("µs per packet (best of 5), Python only: no syscall")
    with tempfile.TemporaryDirectory() as tmp:
        for row in args.rows.split(","):
            print(f"  {ROWS[row]:32s} {row_us(row, data, args.rounds, Path(tmp)):6.3f}", flush=True)


if __name__ == "__main__":
    main()
