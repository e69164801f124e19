"""benchmarks/media_capacity.py --quick works end to end (numbers come out; speed not judged).

Runs the four targets (Tamas, Tamas with recording taps, rtpengine, the lean uvloop reference
relay) at a trivial load for a few seconds each, through the real C load generator, on
127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "media_capacity.py"


@pytest.mark.peers
def test_quick_mode_produces_figures_for_every_target(tmp_path: Path) -> None:
    for tool in ("gcc", "taskset", "rtpengine"):
        assert shutil.which(tool), f"{tool} is missing (scripts/test.sh installs it)"
    out = tmp_path / "levels.json"
    series = tmp_path / "series"
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--quick",
            "--start",
            "5",
            "--targets",
            "tamas,tamas+rec,rtpengine,uvloop",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env={**os.environ, "RTPLOAD_SERIES": str(series)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    levels = json.loads(out.read_text())
    assert [lv["target"] for lv in levels] == ["tamas", "tamas+rec", "rtpengine", "uvloop"]
    for level in levels:
        assert level["calls"] == 5
        (repeat,) = level["repeats"]
        assert repeat["sent"] > 0 and repeat["received"] > 0, level
        assert repeat["p99_ms"] >= 0 and 0 <= repeat["loss"] <= 1
        assert level["relay_cpu_pct"] >= 0
    rec = next(lv for lv in levels if lv["target"] == "tamas+rec")
    assert rec["relay"]["recorded_bytes"] > 0  # the taps wrote audio
    # every recording lasted the whole time relayed (none ended early, none failed)
    assert rec["relay"]["recordings_short"] == 0 and rec["relay"]["recordings_failed"] == 0
    assert rec["relay"]["recorded_min_s"] >= rec["relay"]["relayed_s"] > 0
    lean = next(lv for lv in levels if lv["target"] == "uvloop")
    assert lean["relay"]["received"] >= lean["repeats"][0]["received"] > 0
    assert "ratio tamas+rec/rtpengine" in result.stdout
    assert "ratio uvloop/rtpengine" in result.stdout
    # RTPLOAD_SERIES: each generator run wrote its latency per 100 ms of send time
    runs = sorted(tmp_path.glob("series.*"))
    assert len(runs) == len(levels)
    for run in runs:
        rows = [line.split() for line in run.read_text().splitlines()]
        assert rows and all(len(row) == 4 for row in rows), run
        packets = sum(int(row[1]) for row in rows)
        over = sum(int(row[2]) for row in rows)
        assert packets > 0 and 0 <= over <= packets
        assert [float(row[0]) for row in rows[:2]] == [0.0, 0.1]
