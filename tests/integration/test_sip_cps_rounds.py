"""benchmarks/sip_cps.py --rounds works end to end (figures come out; speed not judged).

Two rounds of Tamas (SDP passed through) and Kamailio at 100 calls per second for 2 s (SIPp
writes its setup times every 100 calls, so fewer give no p99) through real SIPp
on 127.0.0.1: each round has its table, the second runs the targets in reverse order, and
the run ends with the series of ratios and their median.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "sip_cps.py"
sys.path.insert(0, str(ROOT / "tests" / "peers"))

import harness  # noqa: E402


@pytest.mark.peers
def test_rounds_alternate_the_order_and_end_with_the_series(tmp_path: Path) -> None:
    for tool in (harness.SIPP, "kamailio"):
        assert harness.have(tool), f"{tool} is missing (scripts/test.sh installs it)"
    out = tmp_path / "rounds.json"
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--targets",
            "tamas,kamailio",
            "--media",
            "pass-through",
            "--rounds",
            "2",
            "--ladder",
            "100",
            "--step-seconds",
            "2",
            "--hold-ms",
            "100",
            "--warmup-calls",
            "0",
            "--bisect-steps",
            "0",
            # clean = every call succeeded: a slow or busy machine must not fail this test
            "--p99-ms",
            "60000",
            "--max-seconds",
            "120",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    text = result.stdout + result.stderr
    assert result.returncode == 0, text
    headings = re.findall(r"=== round (\d)/2 \(.*\): (.*)", result.stdout)
    assert headings == [("1", "tamas-passthrough, kamailio"), ("2", "kamailio, tamas-passthrough")]
    rounds = json.loads(out.read_text())
    assert len(rounds) == 2
    for results in rounds:
        assert list(results) == ["tamas-passthrough", "kamailio"]  # the asked order
        for name, row in results.items():
            assert row["max_clean_cps"] == 100, (name, text)
            assert row["steps"] and row["steps"][0]["successful"] == 200
    series = re.search(r"tamas-passthrough/kamailio: (.*)  \(median (.*), lowest (.*)\)", text)
    assert series is not None, text
    assert series.groups() == ("1.00, 1.00", "1.00", "1.00")
