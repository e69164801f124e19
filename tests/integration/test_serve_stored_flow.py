"""``tamas serve`` with a flow the file names ``{stored: true}``: it refuses to start, with a
message and no traceback, while the database lacks the flow, and builds its contact center
with the flow once it is stored.

The real command in a subprocess, on 127.0.0.1 with ports chosen by the system and a SQLite
store in a temporary data directory.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tamas.config import parse_config
from tamas.store import open_store
from tamas.store.ivr_flows import IvrFlows, StoredFlow

CONFIG = """
data_dir: {data}
server: {{bind: 127.0.0.1, sip_port: 0, tls_port: 0, ws_port: 0, wss_port: 0, http_port: 0}}
media: {{anchor: true, port_min: 46400, port_max: 46449, prealloc_legs: 1,
         applications: [{{number: "600", kind: ivr, flow: promo}}]}}
queues: [{{name: sales}}]
ivr:
  promo: {{stored: true}}
"""
PROMO = {"steps": [{"id": "menu", "menu": {"prompt": "Press 1",
                                           "options": {"1": {"queue": "sales"}}}}]}  # fmt: skip


def serve(path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tamas.cli.main", "serve", "--config", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_serve_refuses_to_start_without_the_stored_flow_then_starts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = tmp_path / "tamas.yaml"
    path.write_text(CONFIG.format(data=data), encoding="utf-8")
    refused = serve(path)
    _, err = refused.communicate(timeout=120)
    assert refused.returncode == 1, err
    assert (
        "tamas: IVR flow 'promo' (ivr.promo: {stored: true} in the configuration) is not in "
        "the database. Store it through the API" in err
    )
    assert "Traceback" not in err

    config = parse_config(path.read_text(encoding="utf-8"), str(path))
    with open_store(config.database_url_resolved()) as store:
        IvrFlows(store.engine).put(
            StoredFlow(name="promo", definition=PROMO, updated_at=1.0, updated_by="api")
        )
    started = serve(path)
    try:
        assert started.stderr is not None
        lines: list[str] = []
        deadline = time.monotonic() + 120  # a bound for a hung start, not a speed check
        while time.monotonic() < deadline:
            line = started.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "contact center:" in line:
                break
        assert any("contact center: 1 queues, 0 agents, 1 IVR flows" in x for x in lines), lines
        assert started.poll() is None  # the center is built: the server is starting, not out
    finally:
        started.terminate()
        started.communicate(timeout=60)
