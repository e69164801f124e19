"""The recorder and its recording process: real time, real files, checked with sox."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np
import pytest

from tamas.media.g711 import ALAW_DECODE, ULAW_DECODE, alaw_encode, ulaw_encode
from tamas.media.recording import Layout, PausedSpan
from tamas.media.rtp import RtpPacket
from tamas.media.tones import sine
from tamas.media.wav import parse_wav
from tamas.runtime.recorder import Recorder, RecordingMetadata
from tamas.runtime.recorder_ring import SIDE_SLOTS


class Name(Enum):
    PCMU = "PCMU"
    PCMA = "PCMA"
    OPUS = "opus"


@dataclass(frozen=True)
class Codec:
    """Shaped like the media engine's codec description (what a tap is given)."""

    payload_type: int
    name: Name


PCMU = Codec(0, Name.PCMU)
PCMA = Codec(8, Name.PCMA)


def rtp(pt: int, k: int, payload: bytes, ssrc: int, ts0: int) -> bytes:
    packet = RtpPacket(
        payload_type=pt,
        sequence_number=k % 65536,
        timestamp=(ts0 + 160 * k) % (1 << 32),
        ssrc=ssrc,
        payload=payload,
    )
    return bytes(packet)


CALLER_PCM = sine(440, 20.0, -10.0)
AGENT_PCM = sine(1000, 20.0, -10.0)


def caller_packet(k: int) -> bytes:
    return rtp(0, k, ulaw_encode(CALLER_PCM[160 * k : 160 * (k + 1)]), 0x1111, 1234)


def agent_packet(k: int) -> bytes:
    return rtp(8, k, alaw_encode(AGENT_PCM[160 * k : 160 * (k + 1)]), 0x2222, 4_294_000_000)


def sox_info(path: Path) -> dict[str, str]:
    out = subprocess.run(["sox", "--i", str(path)], check=True, capture_output=True, text=True)
    return dict(re.findall(r"^(\w[\w ]*?)\s*: (.*)$", out.stdout, re.M))


def sox_rms(path: Path, start: float, length: float, channel: int) -> float:
    out = subprocess.run(
        ["sox", str(path), "-n", "trim", str(start), str(length), "remix", str(channel), "stat"],
        check=True,
        capture_output=True,
        text=True,
    )
    match = re.search(r"RMS\s+amplitude:\s+([0-9.]+)", out.stderr)
    assert match, out.stderr
    return float(match.group(1))


def test_realtime_recording_with_pause_checked_by_sox(tmp_path: Path) -> None:
    path = tmp_path / "calls" / "c1.wav"
    recorder = Recorder()

    async def call() -> tuple[float, dict[str, float], int, RecordingMetadata]:
        recording = recorder.open(path)
        t0 = recorder.clock()
        marks: dict[str, float] = {}
        k = 0
        # 20 ms packets both ways: pause at 1 s, resume at 2 s, go on for 1 s more (longer
        # if the machine is slow: every check below is against the times actually seen).
        while k < 150 or recorder.clock() < marks["resume"] + 1.0:
            await asyncio.sleep(max(0.0, t0 + 0.02 * k - recorder.clock()))
            if k in (50, 100):
                event = "pause" if k == 50 else "resume"
                marks[event] = recorder.clock()
                (recording.pause if k == 50 else recording.resume)(marks[event])
            recording.feed(0, caller_packet(k), PCMU)
            recording.feed(1, agent_packet(k), PCMA)
            k += 1
        await asyncio.sleep(0.02)
        stopped = recorder.clock()
        return stopped, marks, k, await recording.stop(stopped)

    try:
        stopped, marks, sent, meta = asyncio.run(call())
    finally:
        recorder.close()
    call_length = stopped - meta.started_at
    info = sox_info(path)
    assert info["Channels"] == "2" and info["Sample Rate"] == "8000"
    seconds = re.match(r"(\d+):(\d+):([\d.]+)", info["Duration"])
    assert seconds
    duration = int(seconds[1]) * 3600 + int(seconds[2]) * 60 + float(seconds[3])
    assert abs(duration - call_length) < 0.1
    assert meta.channels == 2 and abs(meta.duration - call_length) < 0.01
    # One paused span, starting and ending where pause()/resume() were called.
    assert len(meta.paused_spans) == 1
    span = meta.paused_spans[0]
    assert span.start == pytest.approx(marks["pause"] - meta.started_at, abs=2 / 8000)
    assert span.end == pytest.approx(marks["resume"] - meta.started_at, abs=2 / 8000)
    assert span.start >= 0.98 and span.end - span.start >= 0.98
    assert meta.caller.packets == sent and meta.agent.packets == sent
    # -10 dBm0 sines: RMS ~0.22 of full scale. Audio where sent, silence where paused.
    for channel in (1, 2):
        assert sox_rms(path, 0.2, 0.6, channel) > 0.1
        assert sox_rms(path, span.start + 0.05, span.end - span.start - 0.1, channel) == 0.0
        assert sox_rms(path, span.end + 0.2, 0.6, channel) > 0.1
    # Left is the caller's 440 Hz, right the agent's 1 kHz.
    _, samples = parse_wav(path.read_bytes())
    for channel, freq in ((0, 440), (1, 1000)):
        piece = samples[1600:6400, channel]
        spectrum = np.abs(np.fft.rfft(piece * np.hanning(len(piece))))
        assert np.argmax(spectrum) * 8000 / len(piece) == pytest.approx(freq, abs=5)


class FakeClock:
    def __init__(self, now: float = 500.0) -> None:
        self.now = now
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_tail_is_never_lost_and_mono_mix(tmp_path: Path) -> None:
    clock = FakeClock()
    recorder = Recorder(clock=clock, interval=0.01)
    try:
        recording = recorder.open(tmp_path / "m.wav", layout=Layout.MONO, caller_side=1)
        for k in range(25):
            recording.feed(1, caller_packet(k), PCMU)  # the caller is bridge side 1 here
            clock.advance(0.02)
        meta = recording.stop_nowait().result(timeout=10)  # right after the last packet
        recording.feed(1, caller_packet(25), PCMU)  # the tap is still attached: dropped
        assert recording.pending() == (0, 0)
    finally:
        recorder.close()
    info, samples = parse_wav((tmp_path / "m.wav").read_bytes())
    assert info.channels == 1 and meta.duration == 0.5 and info.frames == 4000
    expected = np.frombuffer(b"".join(caller_packet(k)[12:] for k in range(25)), np.uint8)
    assert np.array_equal(samples[:, 0], ULAW_DECODE[expected])  # every sample, to the end
    assert meta.caller.packets == 25 and meta.agent.packets == 0


def test_close_completes_open_recordings_and_refuses_new_ones(tmp_path: Path) -> None:
    clock = FakeClock()
    recorder = Recorder(clock=clock, interval=0.01)
    recordings = [recorder.open(tmp_path / f"r{i}.wav") for i in range(3)]
    for k in range(10):
        for recording in recordings:
            recording.feed(0, caller_packet(k), PCMU)
            recording.feed(1, agent_packet(k), PCMA)
            recording.feed(1, b"\x80\x65" + bytes(14), Codec(101, Name.OPUS))  # not recorded
        clock.advance(0.02)
    recorder.close()
    assert len(recorder) == 0
    for i, recording in enumerate(recordings):
        meta = recording.done.result(timeout=0)
        assert meta.duration == 0.2 and meta.paused_spans == ()
        info, samples = parse_wav((tmp_path / f"r{i}.wav").read_bytes())
        assert info.frames == 1600 and not info.truncated  # header patched at close
        assert samples[:, 1].any()
    with pytest.raises(RuntimeError):
        recorder.open(tmp_path / "late.wav")


def test_write_failure_is_reported_not_fatal(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    recorder = Recorder(interval=0.01)
    try:
        bad = recorder.open(blocker / "x.wav")
        good = recorder.open(tmp_path / "ok.wav")
        bad.feed(0, caller_packet(0), PCMU)
        good.feed(0, caller_packet(0), PCMU)
        with pytest.raises(OSError):
            bad.stop_nowait().result(timeout=10)
        assert good.stop_nowait().result(timeout=10).caller.packets == 1
    finally:
        recorder.close()


def test_paused_spans_in_metadata_fake_clock(tmp_path: Path) -> None:
    clock = FakeClock()
    recorder = Recorder(clock=clock, interval=0.01)
    try:
        recording = recorder.open(tmp_path / "p.wav")
        for k in range(100):
            if k == 20:
                recording.pause()
            if k == 60:
                recording.resume()
            recording.feed(0, caller_packet(k), PCMU)
            clock.advance(0.02)
        meta = recording.stop_nowait().result(timeout=10)
    finally:
        recorder.close()
    assert meta.paused_spans == (PausedSpan(start=0.4, end=1.2),)
    _, samples = parse_wav((tmp_path / "p.wav").read_bytes())
    assert samples[: 20 * 160, 0].any() and not samples[20 * 160 : 60 * 160].any()
    assert samples[60 * 160 :, 0].any()


def pcap_rtp(path: str) -> list[tuple[float, bytes]]:
    """(capture time, RTP packet) of a classic pcap of Ethernet/IPv4/UDP packets."""
    data = Path(path).read_bytes()
    assert (
        struct.unpack_from("<I", data)[0] == 0xA1B2C3D4
        and struct.unpack_from("<I", data, 20)[0] == 1
    )
    out, offset = [], 24
    while offset < len(data):
        seconds, micros, length, _ = struct.unpack_from("<IIII", data, offset)
        frame = data[offset + 16 : offset + 16 + length]
        offset += 16 + length
        ip_header = (frame[14] & 0x0F) * 4
        out.append((seconds + micros / 1e6, frame[14 + ip_header + 8 :]))
    return out


def test_sipp_capture_recorded_exactly(tmp_path: Path) -> None:
    # SIPp's own capture: 7 s of PCMA in 30 ms packets (first with the marker bit), and on
    # the other side an RFC 2833 key press, which is not audio and must not be recorded.
    audio = pcap_rtp("/usr/share/sip-tester/g711a.pcap")
    events = pcap_rtp("/usr/share/sip-tester/dtmf_2833_1.pcap")
    assert len(audio) == 236 and {len(p) for _, p in audio} == {252}
    clock = FakeClock(audio[0][0])
    recorder = Recorder(clock=clock, interval=0.01)
    try:
        recording = recorder.open(tmp_path / "sipp.wav")
        event_at = iter(events)
        for k, (at, packet) in enumerate(audio):
            clock.now = at
            recording.feed(0, packet, PCMA)
            if 50 <= k < 50 + len(events):
                recording.feed(1, next(event_at)[1], Codec(101, Name.OPUS))
        clock.now = audio[-1][0] + 0.03
        meta = recording.stop_nowait().result(timeout=10)
    finally:
        recorder.close()
    path = tmp_path / "sipp.wav"
    info = sox_info(path)
    assert info["Channels"] == "2"
    assert abs(meta.duration - (audio[-1][0] + 0.03 - audio[0][0])) < 0.001
    # Every payload byte, decoded, at the place its RTP timestamp says.
    _, samples = parse_wav(path.read_bytes())
    first_ts = int.from_bytes(audio[0][1][4:8], "big")
    for _, packet in audio:
        place = int.from_bytes(packet[4:8], "big") - first_ts
        expected = ALAW_DECODE[np.frombuffer(packet[12:], np.uint8)]
        got = samples[place : place + 240, 0]
        # The file ends at the stop time: the last packet came 0.4 ms early, 3 samples go.
        assert len(got) >= 237 and np.array_equal(got, expected[: len(got)])
    # An A-law call's file is A-law (the caller's law): the silent side is A-law's silence
    # code, 0xD5, which decodes to +8 (A-law has no code for zero).
    assert info["Sample Encoding"] == "8-bit A-law"
    assert (samples[:, 1] == ALAW_DECODE[0xD5]).all()
    assert meta.agent.packets == 0 and meta.agent.ignored == len(events)
    assert sox_rms(path, 1.0, 5.0, 1) > 0.01


KILLED_SERVER = """
import sys, time
sys.path.insert(0, {tests!r})
from test_recorder import PCMA, PCMU, agent_packet, caller_packet
from tamas.runtime.recorder import Recorder

recorder = Recorder(interval=0.05)
recording = recorder.open({path!r})
t0 = time.monotonic()
for k in range(50):  # one second of audio both ways, in real time
    time.sleep(max(0.0, t0 + 0.02 * k - time.monotonic()))
    recording.feed(0, caller_packet(k), PCMU)
    recording.feed(1, agent_packet(k), PCMA)
while recording.pending() != (0, 0):  # until the sender has taken everything fed
    time.sleep(0.01)
time.sleep(0.2)  # and sent it: a few more rounds
print(recorder.pid, flush=True)
time.sleep(600)
"""


def test_a_killed_server_loses_no_audio_it_had_sent(tmp_path: Path) -> None:
    # The server is killed (SIGKILL: nothing of it runs again); its recording process sees
    # the pipe close and finishes the file with everything it had been sent.
    path = tmp_path / "killed.wav"
    script = KILLED_SERVER.format(tests=str(Path(__file__).parent), path=str(path))
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    with server.stdout:
        worker = int(server.stdout.readline())
    server.kill()
    server.wait()
    for _ in range(600):  # the worker finishes and exits on its own
        if not Path(f"/proc/{worker}").exists() or "Z" in _proc_state(worker):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the recording process did not end after its server was killed")
    info, samples = parse_wav(path.read_bytes())  # sizes in the header were patched
    assert info.channels == 2 and info.frames >= 50 * 160
    # Both sides' whole second of audio is there (a -10 dBm0 sine is never zero for long).
    for channel in (0, 1):
        assert np.count_nonzero(samples[:, channel]) >= 0.95 * 50 * 160


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_a_crashed_recording_process_fails_its_recordings_and_is_replaced(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    recorder = Recorder(clock=clock, interval=0.01)
    try:
        lost = recorder.open(tmp_path / "lost.wav")
        lost.feed(0, caller_packet(0), PCMU)
        first = recorder.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        with pytest.raises(RuntimeError, match="recording process ended"):
            lost.done.result(timeout=30)
        again = recorder.open(tmp_path / "again.wav")  # a new recording process takes it
        assert recorder.pid not in (None, first)
        for k in range(10):
            again.feed(0, caller_packet(k), PCMU)
            clock.advance(0.02)
        meta = again.stop_nowait().result(timeout=30)
        assert meta.caller.packets == 10 and meta.duration == 0.2
    finally:
        recorder.close()


def test_replacing_a_crashed_recording_process_never_blocks_open(tmp_path: Path) -> None:
    # open() runs on the event loop: it must never wait for the dead child's threads.
    recorder = Recorder(interval=0.01)
    try:
        for i in range(15):
            recording = recorder.open(tmp_path / f"{i}.wav")
            recording.feed(0, caller_packet(0), PCMU)
            pid = recorder.pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            with pytest.raises(RuntimeError):
                recording.done.result(timeout=30)
            opened: list[object] = []
            opener = threading.Thread(
                target=lambda out=opened: out.append(recorder.open(tmp_path / "x"))
            )
            opener.start()
            opener.join(timeout=20)
            assert not opener.is_alive(), f"open() blocked after crash {i}"
            (again,) = opened
            assert isinstance(again, type(recording))
            again.stop_nowait()
    finally:
        recorder.close()


def test_a_recording_process_that_cannot_start_fails_only_that_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder(interval=0.01)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
            failed = recorder.open(tmp_path / "f.wav")
        with pytest.raises(FileNotFoundError):
            failed.done.result(timeout=0)
        failed.feed(0, caller_packet(0), PCMU)  # the tap takes nothing more
        assert failed.pending() == (0, 0)
        ok = recorder.open(tmp_path / "ok.wav")  # the next one starts the process
        ok.feed(0, caller_packet(0), PCMU)
        assert ok.stop_nowait().result(timeout=30).caller.packets == 1
    finally:
        recorder.close()


def test_signals_for_the_server_do_not_stop_the_recording_process(tmp_path: Path) -> None:
    # Ctrl-C or a service manager's SIGTERM/SIGHUP to the whole group, even while the
    # child is still starting: the server alone ends recordings.
    clock = FakeClock()
    recorder = Recorder(clock=clock, interval=0.01)
    try:
        recording = recorder.open(tmp_path / "s.wav")
        pid = recorder.pid
        assert pid is not None
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            os.kill(pid, number)
        for k in range(10):
            recording.feed(0, caller_packet(k), PCMU)
            clock.advance(0.02)
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            os.kill(pid, number)
        meta = recording.stop_nowait().result(timeout=30)
        assert meta.caller.packets == 10 and recorder.pid == pid
    finally:
        recorder.close()


def test_a_stalled_recording_process_bounds_memory_and_shutdown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    recorder = Recorder(clock=clock, interval=0.01)
    behind = recorder.open(tmp_path / "behind.wav")
    behind.feed(0, caller_packet(0), PCMU)
    pid = recorder.pid
    assert pid is not None
    time.sleep(0.2)
    os.kill(pid, signal.SIGSTOP)  # stalled: it takes nothing more
    try:
        # The child reads nothing more: the tap's ring fills (5 s of packets) and the
        # recording ends itself, with one log line, rather than overwrite unread audio.
        fed = 1
        for k in range(1, 3000):
            behind.feed(0, caller_packet(k % 900), PCMU)
            clock.advance(0.02)
            if behind._stopping:
                break
            fed += 1
        # (the child read the first packet before it stopped: room for one more, if it said so)
        assert behind._stopping and SIDE_SLOTS <= fed <= SIDE_SLOTS + 1
        assert "recording process is 5 s behind" in caplog.text
        stuck = recorder.open(tmp_path / "stuck.wav")
        stuck.feed(0, caller_packet(0), PCMU)
        started = time.monotonic()
        recorder.close(timeout=2)  # the child never answers: killed after the timeout
        assert time.monotonic() - started < 30
        assert "did not finish within 2 s: killed" in caplog.text
        with pytest.raises(RuntimeError):
            stuck.done.result(timeout=10)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
