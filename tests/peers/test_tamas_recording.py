"""Call recording in a running Tamas, with real peers: SIPp calls SIPp through Tamas, both play
audio, and the recording is fetched over the HTTP API and checked with sox.

The caller is SIPp extension 1001 playing the Debian package's PCMA capture (``tamas_call_play``);
the callee is a registered SIPp UAS (1003) that answers and plays key presses and the same
capture (``uas_answer_play``). Everything is on 127.0.0.1. The call's answered and ended times
are the call record's (the ``calls`` table of Tamas's SQLite store); the recording's row and WAV
come from ``GET /api/v1/recordings`` and ``.../audio``.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import harness
import pytest
from test_tamas_sipp import Center, ext_run, register_uas, start_center

from conftest import Peers

pytestmark = pytest.mark.peers

LOOPBACK = harness.LOOPBACK
__all__ = ["start_center"]  # a fixture, used by name


def recording_center(start: Any, policy: str) -> tuple[Center, int]:
    http = harness.free_port("tcp")
    server = {"bind": LOOPBACK, "tls_port": 0, "ws_port": 0, "wss_port": 0, "http_port": http,
              "domain": "tamas.local"}  # fmt: skip
    return start(server=server, recording={"policy": policy, "layout": "stereo"}), http


def api(http: int, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://{LOOPBACK}:{http}{path}", data=data,
                                 method="GET" if body is None else "POST")  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def wait_for(what: str, probe: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = probe()
        if got:
            return got
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def finished_recordings(http: int) -> list[dict[str, Any]]:
    status, body = api(http, "/api/v1/recordings")
    assert status == 200, body
    return list(body["recordings"])


def fetch_audio(http: int, row: dict[str, Any], dest: Path) -> Path:
    with urllib.request.urlopen(f"http://{LOOPBACK}:{http}{row['audio']}", timeout=10) as resp:
        assert resp.headers["content-type"] == "audio/wav"
        dest.write_bytes(resp.read())
    return dest


def sox_info(path: Path, flag: str) -> str:
    return subprocess.run(["sox", "--i", flag, str(path)], capture_output=True, text=True,
                          timeout=30, check=True).stdout.strip()  # fmt: skip


def amplitude(path: Path, channel: int, *trim: float) -> tuple[float, float]:
    """(maximum, RMS) amplitude of one channel, of ``trim`` (start, length) if given."""
    args = ["sox", str(path), "-n", "remix", str(channel)]
    if trim:
        args += ["trim", *(f"{t:.3f}" for t in trim)]
    stat = subprocess.run([*args, "stat"], capture_output=True, text=True, timeout=30,
                          check=True).stderr  # fmt: skip
    peak = re.search(r"Maximum amplitude:\s+(-?[0-9.]+)", stat)
    rms = re.search(r"RMS\s+amplitude:\s+([0-9.]+)", stat)
    assert peak is not None and rms is not None, stat
    return float(peak.group(1)), float(rms.group(1))


def call_times(center: Center, call_id: str) -> tuple[float, float]:
    """The call record's answered and ended times (epoch seconds)."""
    db = sqlite3.connect(center.tmp / "data" / "tamas.db")
    try:
        row = db.execute(
            "SELECT answered_at, ended_at FROM calls WHERE call_id = ?", (call_id,)
        ).fetchone()
    finally:
        db.close()
    assert row is not None and row[0] is not None and row[1] is not None, row
    return float(row[0]), float(row[1])


def test_always_policy_records_the_whole_call_in_stereo(
    start_center: Any, peers: Peers, tmp_path: Path
) -> None:
    c, http = recording_center(start_center, "always")
    register_uas(peers, c, "1003", "uas_answer_play", media_port=harness.free_port(span=4))
    r = ext_run(peers, c, "tamas_call_play", user="1001", service="1003", hold_ms=4000)
    assert r.ok and r.successful == 1, r.describe()

    rows = wait_for("the recording's row", lambda: finished_recordings(http))
    assert len(rows) == 1, rows
    row = rows[0]
    assert (row["status"], row["layout"], row["channels"], row["rate"]) == ("ok", "stereo", 2, 8000)
    assert row["paused_spans"] == []
    assert row["caller"]["packets"] > 50 and row["agent"]["packets"] > 50, row
    wav = fetch_audio(http, row, tmp_path / "call.wav")
    assert sox_info(wav, "-c") == "2"
    assert sox_info(wav, "-r") == "8000"
    duration = float(sox_info(wav, "-D"))
    answered, ended = call_times(c, row["call_id"])
    assert abs(duration - (ended - answered)) <= 0.1, (duration, answered, ended)
    assert abs(row["duration"] - duration) <= 0.05, (row["duration"], duration)
    # the caller (left) played its capture from the answer, the callee (right) after its keys
    for channel in (1, 2):
        peak, rms = amplitude(wav, channel)
        assert peak > 0.05 and rms > 0.005, (channel, peak, rms)
    # the data directory has the same file the API served
    assert (c.tmp / "data" / row["path"]).read_bytes() == wav.read_bytes()


def test_on_request_start_pause_resume_stop_over_the_api(
    start_center: Any, peers: Peers, tmp_path: Path
) -> None:
    c, http = recording_center(start_center, "on_request")
    register_uas(peers, c, "1003", "uas_answer_play", media_port=harness.free_port(span=4))
    result: list[harness.SippResult] = []
    caller = threading.Thread(
        target=lambda: result.append(
            ext_run(peers, c, "tamas_call_play", user="1001", service="1003", hold_ms=9000)
        ),
        daemon=True,
    )
    caller.start()

    def answered() -> str | None:
        _, body = api(http, "/api/v1/calls")
        ids = [call["id"] for call in body["calls"] if call["state"] == "answered"]
        return ids[0] if ids else None

    call_id = wait_for("the answered call", answered)
    # nothing is recorded until asked (on_request)
    assert api(http, f"/api/v1/calls/{call_id}/recording", {"action": "pause"})[0] == 409
    status, body = api(http, f"/api/v1/calls/{call_id}/recording", {"action": "start"})
    assert status == 201 and body["recording"]["state"] == "recording", body
    assert api(http, f"/api/v1/calls/{call_id}/recording", {"action": "start"})[1]["error"] == (
        "already_recording"
    )
    time.sleep(1.5)
    status, body = api(http, f"/api/v1/calls/{call_id}/recording", {"action": "pause"})
    assert status == 200 and body["recording"]["state"] == "paused", body
    time.sleep(2.0)
    status, body = api(http, f"/api/v1/calls/{call_id}/recording", {"action": "resume"})
    assert status == 200 and body["recording"]["state"] == "recording", body
    time.sleep(1.5)
    status, body = api(http, f"/api/v1/calls/{call_id}/recording", {"action": "stop"})
    assert status == 200, body
    row = body["recording"]
    assert row["status"] == "ok" and row["call_id"] == call_id, row
    # a stopped recording leaves the call going, unrecorded
    assert api(http, f"/api/v1/calls/{call_id}/recording", {"action": "stop"})[0] == 409
    caller.join(30)
    assert result and result[0].ok and result[0].successful == 1, result

    assert finished_recordings(http) == [row]
    spans = row["paused_spans"]
    assert len(spans) == 1, spans
    start, end = spans[0]["start"], spans[0]["end"]
    assert 0.5 < start < end < row["duration"], row  # paused after a while, resumed before stop
    assert end - start >= 1.5, spans  # the test slept 2 s between pause and resume
    wav = fetch_audio(http, row, tmp_path / "rec.wav")
    assert sox_info(wav, "-c") == "2"
    assert abs(float(sox_info(wav, "-D")) - row["duration"]) <= 0.05
    for channel in (1, 2):  # the paused span is silence on both sides
        peak, _ = amplitude(wav, channel, start + 0.05, end - start - 0.1)
        assert peak <= 0.001, (channel, start, end, peak)
    # the caller's audio (left) is there before the pause and after the resume
    assert amplitude(wav, 1, 0.0, start - 0.1)[1] > 0.005
    assert amplitude(wav, 1, end + 0.1, row["duration"] - end - 0.2)[1] > 0.005


def test_sigterm_during_a_recorded_call_completes_its_file_and_row(
    start_center: Any, peers: Peers, tmp_path: Path
) -> None:
    """Tamas stopped (SIGTERM) in the middle of a recorded call: the recording ends at that
    moment, its WAV is whole (sox reads all of it) and its row is in the store."""
    c, http = recording_center(start_center, "always")
    register_uas(peers, c, "1003", "uas_answer_play", media_port=harness.free_port(span=4))
    caller = threading.Thread(target=lambda: ext_run(
        peers, c, "tamas_call_play", user="1001", service="1003", hold_ms=20000, timeout=25.0),
        daemon=True)  # fmt: skip
    caller.start()

    def recording() -> bool:
        _, body = api(http, "/api/v1/calls")
        return any(call["state"] == "answered" for call in body["calls"])

    wait_for("the answered call", recording)
    seen = time.monotonic()
    time.sleep(2.0)
    stopping = time.monotonic()
    assert c.proc.stop(grace=15.0) == 0, c.trace()[-4000:]

    db = sqlite3.connect(c.tmp / "data" / "tamas.db")
    try:
        rows = db.execute("SELECT path, status, duration, channels FROM recordings").fetchall()
    finally:
        db.close()
    assert len(rows) == 1, rows
    path, status, duration, channels = rows[0]
    assert (status, channels) == ("ok", 2), rows
    # the recording began before the test saw the call answered and ended after SIGTERM
    assert duration >= stopping - seen - 0.05, (duration, stopping - seen)
    wav = c.tmp / "data" / path
    assert abs(float(sox_info(wav, "-D")) - duration) <= 0.05
    assert amplitude(wav, 1)[1] > 0.005
    caller.join(30)
