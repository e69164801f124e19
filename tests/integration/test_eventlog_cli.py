"""``tamas events export|import`` as a real subprocess: a round trip through files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tamas.core.events import LogRecord
from tamas.runtime.eventlog import EventLog
from tamas.store import events as store_events
from tamas.store import open_store

SAMPLE = Path(__file__).parent.parent / "fixtures" / "queue_log" / "asterisk_sample.log"


def tamas(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tamas.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


def center(tmp_path: Path, name: str) -> Path:
    """A minimal configuration whose data directory is tmp_path/name."""
    config = tmp_path / f"{name}.yaml"
    config.write_text(f"data_dir: {tmp_path / name}\n")
    return config


def test_import_reports_unusable_lines_then_export_gives_the_usable_ones_back(
    tmp_path: Path,
) -> None:
    first = center(tmp_path, "one")
    result = tamas("events", "import", "--format", "queue_log", str(SAMPLE),
                   "--config", str(first), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 1
    assert "imported 31 record(s) (seq 1-31); 6 line(s) not used" in result.stdout
    for lineno in range(32, 38):
        assert f"asterisk_sample.log:line {lineno}: " in result.stderr
    out = tmp_path / "exported.queue_log"
    result = tamas("events", "export", "--format", "queue_log", "--output", str(out),
                   "--config", str(first), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = SAMPLE.read_text().splitlines()
    assert out.read_text().splitlines() == [
        *lines[:30],
        "1700001301|1700001301.70|sales|NONE|ENTERQUEUE||0912|1",
    ]

    # The export imports cleanly into another center and exports the same again.
    second = center(tmp_path, "two")
    result = tamas("events", "import", str(out), "--config", str(second), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "31 record(s) (seq 1-31); 0 line(s) not used" in result.stdout
    again = tamas("events", "export", "--config", str(second), cwd=tmp_path)
    assert again.stdout == out.read_text()


def test_export_jsonl_with_a_time_range_includes_records_not_yet_in_the_database(
    tmp_path: Path,
) -> None:
    config = center(tmp_path, "c")
    data = tmp_path / "c"
    with open_store(f"sqlite:///{data / 'tamas.db'}") as store:
        elog = EventLog.open(data / "events", store, keep_segments=True)
        elog.append([LogRecord(at=1_700_000_000.0 + i, call_id=f"k{i}", event="E")
                     for i in range(10)])  # fmt: skip
        elog.close()
        # As after a crash before the ingest: the journal has records the database lacks.
        with store.engine.begin() as conn:
            conn.execute(store_events.events.delete().where(store_events.events.c.seq > 6))
    result = tamas("events", "export", "--format", "jsonl",
                   "--from", "2023-11-14T22:13:22+00:00", "--to", "2023-11-14T22:13:28+00:00",
                   "--config", str(config), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row[0] for row in rows] == [3, 4, 5, 6, 7, 8]  # 7 and 8 come from the journal
    assert [row[2] for row in rows] == ["k2", "k3", "k4", "k5", "k6", "k7"]


def test_import_refuses_while_the_event_log_is_open_elsewhere(tmp_path: Path) -> None:
    config = center(tmp_path, "busy")
    data = tmp_path / "busy"
    with open_store(f"sqlite:///{data / 'tamas.db'}") as store:
        elog = EventLog.open(data / "events", store)
        try:
            result = tamas("events", "import", str(SAMPLE), "--config", str(config), cwd=tmp_path)
        finally:
            elog.close()
    assert result.returncode == 1
    assert "in use by another process" in result.stderr


def test_a_bad_time_is_a_usage_error(tmp_path: Path) -> None:
    result = tamas("events", "export", "--from", "yesterday", cwd=tmp_path)
    assert result.returncode == 2
    assert "not an ISO 8601 time" in result.stderr
