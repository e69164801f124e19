"""The recording process's Worker, driven with messages as the server's sender thread builds
them: a recording's items are queued and assembled together, and nothing queued is lost."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

from tamas.media.g711 import ULAW_DECODE
from tamas.media.wav import parse_wav
from tamas.runtime.recorder_worker import Item, Worker, read_frame

START = 1000.0
PAYLOAD = bytes(range(0, 160))


def side(second: int, ssrc: int, packets: int = 50) -> tuple[bytes, bytes, bytes]:
    """One second of 20 ms PCMU packets as the sender thread hands them over."""
    blobs, times = [], []
    for k in range(packets):
        n = second * packets + k
        header = struct.pack("!BBHII", 0x80, 0, n & 0xFFFF, n * 160, ssrc)
        blobs.append(header + PAYLOAD)
        times.append(START + n * 0.02)
    lengths = struct.pack(f"{packets}H", *map(len, blobs))
    return struct.pack(f"{packets}d", *times), b"".join(blobs), lengths


def item(path: Path, second: int, commands: list[tuple[float, str]]) -> Item:
    header = (str(path), "stereo", START, 0, 0.2) if second == 0 else None
    laws = ({0: "PCMU"}, {0: "PCMU"}) if second == 0 else None
    return (7, header, commands, laws, (side(second, 1), side(second, 2)))


def frames(path: Path) -> int:
    return parse_wav(path.read_bytes())[0].frames if path.exists() else 0


def test_items_are_assembled_together_and_a_stop_flushes_the_queue(tmp_path: Path) -> None:
    path = tmp_path / "r.wav"
    with (tmp_path / "answers").open("w+b") as answers:  # write_frame needs a descriptor
        check_queue(path, answers)


def check_queue(path: Path, answers: BinaryIO) -> None:
    worker = Worker(answers)
    worker.batch(START + 1, [item(path, 0, [])])
    assert frames(path) == 0  # one second queued: not assembled yet
    worker.batch(START + 2, [item(path, 1, [])])
    written = frames(path)
    assert written == round((2 - 0.2) * 8000)  # both seconds, less the jitter delay
    worker.batch(START + 3, [item(path, 2, [])])
    assert frames(path) == written  # queued again
    worker.batch(START + 3.5, [item(path, 3, [(START + 3.5, "stop")])])
    info, samples = parse_wav(path.read_bytes())
    assert info.frames == 3.5 * 8000  # the queued second and the stop's half second: all there
    expected = ULAW_DECODE[np.frombuffer(PAYLOAD, np.uint8)]
    assert np.array_equal(samples[:160, 0], expected) and np.array_equal(samples[:160, 1], expected)
    answers.seek(0)
    kind, rid, metadata = read_frame(answers)
    assert (kind, rid, metadata.duration) == ("done", 7, 3.5)


def test_close_assembles_what_is_queued(tmp_path: Path) -> None:
    path = tmp_path / "r.wav"
    with (tmp_path / "answers").open("wb") as answers:
        worker = Worker(answers)
        worker.batch(START + 1, [item(path, 0, [])])
        worker.close(START + 1)
    assert frames(path) == 8000
