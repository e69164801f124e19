"""The recording process's Worker, driven with messages as the server's sender thread builds
them: a recording's items are queued and assembled together, and nothing queued is lost."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pytest

from tamas.media.g711 import ALAW_DECODE, ULAW_DECODE
from tamas.media.wav import WavEncoding, parse_wav
from tamas.runtime import recorder_worker
from tamas.runtime.recorder_worker import Item, Worker, read_frame

START = 1000.0
PAYLOAD = bytes(range(0, 160))


def side(second: int, ssrc: int, pt: int = 0, packets: int = 50) -> tuple[bytes, bytes, bytes]:
    """One second of 20 ms G.711 packets as the sender thread hands them over."""
    blobs, times = [], []
    for k in range(packets):
        n = second * packets + k
        header = struct.pack("!BBHII", 0x80, pt, n & 0xFFFF, n * 160, ssrc)
        blobs.append(header + PAYLOAD)
        times.append(START + n * 0.02)
    lengths = struct.pack(f"{packets}H", *map(len, blobs))
    return struct.pack(f"{packets}d", *times), b"".join(blobs), lengths


def item(
    path: Path,
    second: int,
    commands: list[tuple[float, str]],
    samples: str = "g711",
    agent_law: str = "PCMU",
) -> Item:
    """The caller's side talks PCMU (payload type 0), the agent's ``agent_law`` (type 8)."""
    header = (str(path), "stereo", START, 0, 0.2, samples) if second == 0 else None
    laws = ({0: "PCMU"}, {8: agent_law}) if second == 0 else None
    return (7, header, commands, laws, (side(second, 1), side(second, 2, pt=8)))


@pytest.fixture(autouse=True)
def batches_of_a_second_and_a_half(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scenarios below are written for assemblies of 75 packets or 1.5 s (the mechanism
    is the same whatever the figures: the server's are in recorder_worker)."""
    monkeypatch.setattr(recorder_worker, "_ASSEMBLE_PACKETS", 75)
    monkeypatch.setattr(recorder_worker, "_ASSEMBLE_SECONDS", 1.5)


def frames(path: Path) -> int:
    return parse_wav(path.read_bytes())[0].frames if path.exists() else 0


@pytest.mark.parametrize(
    ("samples", "agent_law", "encoding"),
    [
        ("g711", "PCMU", WavEncoding.MULAW),
        ("g711", "PCMA", WavEncoding.MULAW),  # the caller's law; the agent's is transcoded
        ("pcm16", "PCMA", WavEncoding.PCM),
    ],
)
def test_items_are_assembled_together_and_a_stop_flushes_the_queue(
    tmp_path: Path, samples: str, agent_law: str, encoding: WavEncoding
) -> None:
    path = tmp_path / "r.wav"
    with (tmp_path / "answers").open("w+b") as answers:  # write_frame needs a descriptor
        check_queue(path, answers, samples, agent_law, encoding)


def check_queue(
    path: Path, answers: BinaryIO, samples: str, agent_law: str, encoding: WavEncoding
) -> None:
    worker = Worker(answers)
    worker.batch(START + 1, [item(path, 0, [], samples, agent_law)])
    assert frames(path) == 0  # one second queued: not assembled yet
    worker.batch(START + 2, [item(path, 1, [])])
    written = frames(path)
    assert written == round((2 - 0.2) * 8000)  # both seconds, less the jitter delay
    worker.batch(START + 3, [item(path, 2, [])])
    assert frames(path) == written  # queued again
    worker.batch(START + 3.5, [item(path, 3, [(START + 3.5, "stop")])])
    info, audio = parse_wav(path.read_bytes())
    assert info.frames == 3.5 * 8000  # the queued second and the stop's half second: all there
    assert info.encoding is encoding and info.channels == 2
    codes = np.frombuffer(PAYLOAD, np.uint8)
    assert np.array_equal(audio[:160, 0], ULAW_DECODE[codes])
    agent = (ULAW_DECODE if agent_law == "PCMU" else ALAW_DECODE)[codes]
    if encoding is WavEncoding.MULAW and agent_law == "PCMA":
        # A-law codes transcoded to µ-law: within one µ-law step of the A-law value
        step = np.maximum(8, np.abs(agent.astype(np.int32)) // 16)
        assert (np.abs(audio[:160, 1].astype(np.int32) - agent) <= step).all()
    else:
        assert np.array_equal(audio[:160, 1], agent)
    answers.seek(0)
    kind, rid, metadata = read_frame(answers)
    assert (kind, rid, metadata.duration) == ("done", 7, 3.5)
    assert metadata.encoding is encoding


def test_close_assembles_what_is_queued(tmp_path: Path) -> None:
    path = tmp_path / "r.wav"
    with (tmp_path / "answers").open("wb") as answers:
        worker = Worker(answers)
        worker.batch(START + 1, [item(path, 0, [])])
        worker.close(START + 1)
    assert frames(path) == 8000
