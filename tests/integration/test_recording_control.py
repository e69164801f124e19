"""Recording control over a real media engine, a real recorder and a real store.

Two loopback UDP "phones" send G.711 to two bridged legs of a LocalMediaEngine on 127.0.0.1
(the caller a 440 Hz tone in PCMU, the agent 1 kHz in PCMA); RecordingControl records the
bridge; the WAV is checked with sox and the row read back from SQLite. Every timing check is
against the times the test actually saw, so a slow machine cannot fail it.
"""

from __future__ import annotations

import asyncio
import re
import struct
import subprocess
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uvloop

from tamas.media.g711 import alaw_encode, ulaw_encode
from tamas.media.recording import Layout, RecordingState
from tamas.media.tones import sine
from tamas.media.wav import parse_wav
from tamas.runtime.mediaengine import Codec, LocalMediaEngine, MediaLeg, RemoteMedia
from tamas.runtime.recorder import Recorder
from tamas.runtime.recording_control import (
    AlreadyRecording,
    CallBridge,
    NoSuchCall,
    NotAnswered,
    NotRecording,
    RecordingControl,
    RecordingPolicy,
)
from tamas.runtime.storewriter import StoreWriter
from tamas.store import RecordingLayout, RecordingStatus, Store, open_store

HOST = "127.0.0.1"
PORTS = (43000, 43999)
CALLER_PCM = sine(440, 30.0, -10.0)
AGENT_PCM = sine(1000, 30.0, -10.0)


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(asyncio.wait_for(test(), 60))


class Phone(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])


def rtp(k: int, pt: int, payload: bytes, ssrc: int) -> bytes:
    return struct.pack("!BBHII", 0x80, pt, k % 65536, (160 * k) % (1 << 32), ssrc) + payload


@dataclass
class Lookup:
    """The call logic's side of the seam, as a table (the B2BUA answers in Tamas)."""

    calls: set[str] = field(default_factory=set)
    bridges: dict[str, CallBridge] = field(default_factory=dict)

    def has_call(self, call_id: str) -> bool:
        return call_id in self.calls

    def bridge(self, call_id: str) -> CallBridge | None:
        return self.bridges.get(call_id)


@dataclass
class Rig:
    engine: LocalMediaEngine
    recorder: Recorder
    store: Store
    control: RecordingControl
    lookup: Lookup
    data_dir: Path
    caller: MediaLeg | None = None
    agent: MediaLeg | None = None
    sent: int = 0
    sending: asyncio.Task[None] | None = None
    phones: list[Phone] = field(default_factory=list)

    async def call(self, call_id: str, *, caller_side: int = 0) -> None:
        """Open and bridge two legs with a phone behind each, and start their audio."""
        loop = asyncio.get_running_loop()
        legs = []
        phones = []
        for label, codec in (("caller", Codec.pcmu()), ("agent", Codec.pcma())):
            _, phone = await loop.create_datagram_endpoint(Phone, local_addr=(HOST, 0))
            leg = await self.engine.open_leg(call_id, label)
            leg.configure(RemoteMedia(address=HOST, port=phone.port, codec=codec,
                                      signalling_address=HOST))  # fmt: skip
            legs.append(leg)
            phones.append(phone)
            self.phones.append(phone)
        self.caller, self.agent = legs
        first, second = (legs[0], legs[1]) if caller_side == 0 else (legs[1], legs[0])
        self.engine.bridge(first, second)
        self.lookup.calls.add(call_id)
        self.lookup.bridges[call_id] = CallBridge(leg=second, caller_side=caller_side)
        self.sending = asyncio.create_task(self._send(phones))

    async def _send(self, phones: list[Phone]) -> None:
        assert self.caller is not None and self.agent is not None
        caller, agent = phones
        assert caller.transport is not None and agent.transport is not None
        t0 = self.recorder.clock()
        k = 0
        while True:
            await asyncio.sleep(max(0.0, t0 + 0.02 * k - self.recorder.clock()))
            pcm = slice(160 * k % len(CALLER_PCM), 160 * k % len(CALLER_PCM) + 160)
            caller.transport.sendto(
                rtp(k, 0, ulaw_encode(CALLER_PCM[pcm]), 0x1111), (HOST, self.caller.local_port)
            )
            agent.transport.sendto(
                rtp(k, 8, alaw_encode(AGENT_PCM[pcm]), 0x2222), (HOST, self.agent.local_port)
            )
            k += 1
            self.sent = k

    async def hang_up(self, call_id: str) -> None:
        if self.sending is not None:
            self.sending.cancel()
            await asyncio.gather(self.sending, return_exceptions=True)
        self.control.call_ended(call_id)
        self.engine.close_call(call_id)
        self.lookup.calls.discard(call_id)
        self.lookup.bridges.pop(call_id, None)


@asynccontextmanager
async def rig(tmp_path: Path, **kw: Any) -> AsyncIterator[Rig]:
    engine = LocalMediaEngine(bind=HOST, port_min=PORTS[0], port_max=PORTS[1])
    recorder = Recorder()
    store = open_store(f"sqlite:///{tmp_path / 'tamas.db'}")
    writer = StoreWriter(store)
    lookup = Lookup()
    data_dir = tmp_path / "data"
    control = RecordingControl(recorder=recorder, engine=engine, lookup=lookup, store=writer,
                               data_dir=data_dir, **kw)  # fmt: skip
    the_rig = Rig(engine, recorder, store, control, lookup, data_dir)
    try:
        yield the_rig
    finally:
        if the_rig.sending is not None:
            the_rig.sending.cancel()
            await asyncio.gather(the_rig.sending, return_exceptions=True)
        await control.aclose()  # before the recorder and the writer: nothing is lost
        await engine.aclose()
        await recorder.aclose()
        await asyncio.to_thread(writer.close)
        store.close()
        for phone in the_rig.phones:  # uvloop's loop close waits for open transports
            if phone.transport is not None:
                phone.transport.close()
        await asyncio.sleep(0.01)


async def sleep_until(clock: Callable[[], float], t: float) -> None:
    await asyncio.sleep(max(0.0, t - clock()))


def sox_info(path: Path) -> tuple[int, float]:
    out = subprocess.run(["sox", "--i", str(path)], check=True, capture_output=True, text=True)
    info = dict(re.findall(r"^(\w[\w ]*?)\s*: (.*)$", out.stdout, re.M))
    hms = re.match(r"(\d+):(\d+):([\d.]+)", info["Duration"])
    assert hms and info["Sample Rate"] == "8000"
    return int(info["Channels"]), int(hms[1]) * 3600 + int(hms[2]) * 60 + float(hms[3])


def sox_stat(path: Path, start: float, length: float, channel: int) -> tuple[float, float]:
    """RMS amplitude (0-1) and rough frequency of ``channel`` (1-based) in a stretch."""
    out = subprocess.run(
        ["sox", str(path), "-n", "trim", f"{start:.3f}", f"{length:.3f}",
         "remix", str(channel), "stat"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    rms = re.search(r"RMS\s+amplitude:\s+([0-9.]+)", out.stderr)
    freq = re.search(r"Rough\s+frequency:\s+(-?[0-9]+)", out.stderr)
    assert rms and freq, out.stderr
    return float(rms.group(1)), float(freq.group(1))


# --- the whole cycle ----------------------------------------------------------------------


def test_start_pause_resume_stop_checked_by_sox_and_stored(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r:
            clock = r.recorder.clock
            await r.call("call-a")
            await asyncio.sleep(0.3)  # audio flowing through the bridge before recording
            t_start = clock()
            info = r.control.start("call-a")
            assert info.state is RecordingState.RECORDING and info.id == "call-a-1"
            assert r.control.current("call-a") == info
            await sleep_until(clock, t_start + 1.0)
            t_pause = clock()
            assert r.control.pause("call-a").state is RecordingState.PAUSED
            assert r.control.pause("call-a").state is RecordingState.PAUSED  # idempotent
            await sleep_until(clock, t_pause + 1.0)
            t_resume = clock()
            assert r.control.resume("call-a").state is RecordingState.RECORDING
            await sleep_until(clock, t_resume + 1.0)
            t_stop = clock()
            row = await r.control.stop("call-a")
            assert r.control.current("call-a") is None
            assert await asyncio.to_thread(r.store.recordings.get_recording, row.id) == row
            await r.hang_up("call-a")
            check(r, row, info.path, t_start, t_pause, t_resume, t_stop)

    def check(r: Rig, row: Any, rel: str, t_start: float, t_pause: float, t_resume: float,
              t_stop: float) -> None:  # fmt: skip
        path = r.data_dir / row.path
        assert row.path == rel and re.fullmatch(r"recordings/\d{4}/\d\d/\d\d/call-a-1\.wav", rel)
        assert row.status is RecordingStatus.OK and row.layout is RecordingLayout.STEREO
        assert row.channels == 2 and row.rate == 8000
        span = t_stop - t_start
        channels, duration = sox_info(path)
        assert channels == 2
        assert abs(duration - span) < 0.1
        assert abs(row.duration - span) < 0.1
        (pause,) = row.paused_spans
        assert pause.start == pytest.approx(t_pause - t_start, abs=0.01)
        assert pause.end == pytest.approx(t_resume - t_start, abs=0.01)
        assert row.caller_packets > 80 and row.agent_packets > 80
        # Audio where it was sent, silence where paused; caller left (440), agent right (1k).
        for channel, freq in ((1, 440), (2, 1000)):
            before = sox_stat(path, 0.1, pause.start - 0.2, channel)
            paused = sox_stat(path, pause.start + 0.05, pause.end - pause.start - 0.1, channel)
            after = sox_stat(path, pause.end + 0.1, duration - pause.end - 0.2, channel)
            assert before[0] > 0.1 and after[0] > 0.1, (channel, before, after)
            assert paused[0] == 0.0
            assert before[1] == pytest.approx(freq, rel=0.05)
            assert after[1] == pytest.approx(freq, rel=0.05)

    run(main)


def test_hang_up_stops_the_recording_and_keeps_its_end(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path, layout=Layout.MONO) as r:
            clock = r.recorder.clock
            await r.call("call-b", caller_side=1)
            await asyncio.sleep(0.1)
            t_start = clock()
            r.control.start("call-b")
            await sleep_until(clock, t_start + 1.2)
            t_end = clock()
            await r.hang_up("call-b")  # call_ended: no await, no stop request
            assert r.control.current("call-b") is None
            await r.control.aclose()  # the file and the row are complete after this
            (row,) = await asyncio.to_thread(r.store.recordings.list_recordings, call_id="call-b")
            assert row.layout is RecordingLayout.MONO and row.channels == 1
            channels, duration = sox_info(r.data_dir / row.path)
            assert channels == 1 and abs(duration - (t_end - t_start)) < 0.1
            # The last stretch before the hang-up is there, not cut by the writer's batching.
            rms, _ = sox_stat(r.data_dir / row.path, duration - 0.3, 0.25, 1)
            assert rms > 0.1

    run(main)


# --- refusals and the policy --------------------------------------------------------------


def test_domain_errors_name_the_problem(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r:
            with pytest.raises(NoSuchCall):
                r.control.start("ghost")
            with pytest.raises(NoSuchCall):
                r.control.pause("ghost")
            with pytest.raises(NoSuchCall):
                await r.control.stop("ghost")
            r.lookup.calls.add("ringing")  # a call exists, not answered yet
            with pytest.raises(NotAnswered):
                r.control.start("ringing")
            with pytest.raises(NotRecording):
                r.control.resume("ringing")
            await r.call("up")
            with pytest.raises(NotRecording):
                await r.control.stop("up")
            r.control.start("up")
            with pytest.raises(AlreadyRecording):
                r.control.start("up")
            await r.control.stop("up")
            with pytest.raises(NotRecording):
                r.control.pause("up")
            second = r.control.start("up")  # a second recording of the same call
            assert second.id == "up-2" and second.path.endswith("/up-2.wav")

    run(main)


def test_a_bridge_gone_before_start_is_refused_and_leaves_no_file(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r:
            await r.call("c")
            assert r.caller is not None
            r.engine.unbridge(r.caller)  # the lookup still names the leg
            with pytest.raises(NotAnswered, match="not bridged"):
                r.control.start("c")
            assert r.control.current("c") is None
            await asyncio.sleep(0.5)  # the recorder's thread had time to finish it
            assert list(r.data_dir.rglob("*.wav")) == []

    run(main)


def test_always_policy_records_answered_calls(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path, policy=RecordingPolicy.ALWAYS) as r:
            r.control.call_answered("ghost")  # logged, not raised
            await r.call("auto")
            r.control.call_answered("auto")
            r.control.call_answered("auto")  # no second recording
            current = r.control.current("auto")
            assert current is not None and current.id == "auto-1"
            assert r.control.tap("auto") is not None
        with open_store(f"sqlite:///{tmp_path / 'tamas.db'}") as store:
            assert [row.id for row in store.recordings.list_recordings()] == ["auto-1"]

    run(main)


def test_on_request_policy_does_not_record_by_itself(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r:
            await r.call("quiet")
            r.control.call_answered("quiet")
            assert r.control.current("quiet") is None and r.control.tap("quiet") is None

    run(main)


def test_unwritable_recordings_dir_gives_a_failed_row(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(tmp_path) as r:
            r.data_dir.mkdir()
            (r.data_dir / "recordings").write_text("not a directory")
            await r.call("c")
            r.control.start("c")
            await asyncio.sleep(0.5)
            row = await r.control.stop("c")
            assert row.status is RecordingStatus.FAILED and row.duration == 0.0
            assert "Error" in row.error
            assert await asyncio.to_thread(r.store.recordings.get_recording, row.id) == row

    run(main)


def test_mono_samples_really_mix_both_sides(tmp_path: Path) -> None:
    """A mono file has both tones in it (not one side alone)."""

    async def main() -> None:
        async with rig(tmp_path, layout=Layout.MONO) as r:
            await r.call("mix")
            await asyncio.sleep(0.1)
            r.control.start("mix")
            await asyncio.sleep(1.0)
            row = await r.control.stop("mix")
            info, pcm = parse_wav((r.data_dir / row.path).read_bytes())
            assert info.channels == 1
            samples = pcm[1600:6400, 0].astype(np.float64)
            spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
            hz = np.fft.rfftfreq(len(samples), 1 / 8000)
            peak = spectrum.max()
            for freq in (440, 1000):
                assert spectrum[np.abs(hz - freq) < 10].max() > 0.3 * peak

    run(main)
