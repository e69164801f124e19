"""Recording control over a real media engine, a real recorder and a real store.

Two loopback UDP "phones" send G.711 to two bridged legs of a LocalMediaEngine on 127.0.0.1
(the caller a 440 Hz tone in PCMU, the agent 1 kHz in PCMA); RecordingControl records the
bridge; the WAV is checked with sox and the row read back from SQLite. Every timing check is
against the times the test actually saw, so a slow machine cannot fail it.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from recording_rig import Rig, rig, run, sleep_until, sox_info, sox_stat

from tamas.media.recording import Layout, RecordingState
from tamas.media.wav import parse_wav
from tamas.runtime.recording_control import (
    AlreadyRecording,
    NoSuchCall,
    NotAnswered,
    NotRecording,
    RecordingClosed,
    RecordingPolicy,
)
from tamas.store import RecordingLayout, RecordingStatus, open_store

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
            started = clock()
            await sleep_until(clock, t_start + 1.2)
            t_end = clock()
            await r.hang_up("call-b")  # call_ended: no await, no stop request
            hung_up = clock()
            assert r.control.current("call-b") is None
            await r.control.aclose()  # the file and the row are complete after this
            (row,) = await asyncio.to_thread(r.store.recordings.list_recordings, call_id="call-b")
            assert row.layout is RecordingLayout.MONO and row.channels == 1
            channels, duration = sox_info(r.data_dir / row.path)
            # From the start to the hang-up: bounded by the clock read around each (not a
            # fixed tolerance, which a busy machine's slow hang-up would exceed).
            assert channels == 1 and t_end - started - 0.01 < duration < hung_up - t_start + 0.01
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


def test_a_cancelled_stop_request_still_completes_the_file_and_row(tmp_path: Path) -> None:
    """An HTTP client that goes away mid-stop cancels its request, not the recording's end."""

    async def main() -> None:
        async with rig(tmp_path) as r:
            await r.call("gone")
            r.control.start("gone")
            await asyncio.sleep(0.5)
            request = asyncio.create_task(r.control.stop("gone"))
            await asyncio.sleep(0)  # the stop is under way
            request.cancel()
            with pytest.raises(asyncio.CancelledError):
                await request
            await r.control.aclose()
            (row,) = await asyncio.to_thread(r.store.recordings.list_recordings, call_id="gone")
            assert row.status is RecordingStatus.OK and row.duration > 0.4
            assert sox_info(r.data_dir / row.path)[0] == 2

    run(main)


def test_no_recording_starts_once_shutdown_began(tmp_path: Path) -> None:
    # A call answered while Tamas shuts down: its row could no longer be written.
    async def main() -> None:
        async with rig(tmp_path) as r:
            await r.call("call-c")
            await r.control.aclose()
            with pytest.raises(RecordingClosed):
                r.control.start("call-c")
            r.control.call_answered("call-c")  # the policy's start: logged, not raised
            assert r.control.current("call-c") is None

    run(main)
