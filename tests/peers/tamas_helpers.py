"""Helpers for the peer tests that point SIPp, baresip and sipvicious at a running Tamas.

Everything binds to and sends to 127.0.0.1 only; every wait is bounded. The peers talk to Tamas
directly: with the default ``security.digest_algorithms`` (``["MD5"]``) Tamas sends one MD5
challenge, which SIPp 3.6.1, baresip and svcrack all answer.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import harness

LOOPBACK = harness.LOOPBACK


def tamas_config(port: int, tmp: Path, **sections: Any) -> dict[str, Any]:
    """A Tamas config on 127.0.0.1:port with extensions 1001-1010 (passwords demo1001-demo1010),
    SIP trace on, no TLS/WS/HTTP listeners; ``sections`` replace or add top-level keys."""
    cfg: dict[str, Any] = {
        "server": {
            "bind": LOOPBACK,
            "sip_port": port,
            "tls_port": 0,
            "ws_port": 0,
            "wss_port": 0,
            "http_port": 0,
            "domain": "tamas.local",
        },
        "data_dir": str(tmp / "data"),
        "logging": {"level": "info", "sip_trace": True},
        "security": {
            "rate_limit": {"messages_per_second": 10000, "burst": 10000},
            "auth_ban": {"failures": 50, "window_seconds": 60, "ban_seconds": 600},
        },
        "extensions": [
            {"number": f"{n}", "name": f"Ext {n}", "password": f"demo{n}"}
            for n in range(1001, 1011)
        ],
    }
    cfg.update(sections)
    return cfg


def digest_ok(message: str, header: str, method: str, username: str, password: str) -> bool:
    """True when ``header`` (Authorization / Proxy-Authorization) in a SIP message text is a
    correct MD5 digest (with or without qop=auth) for ``method``, ``username`` and ``password``."""
    m = re.search(rf"^{header}: Digest (.*)$", message, re.MULTILINE | re.IGNORECASE)
    if m is None:
        return False
    params = {k: a or b for k, a, b in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]+))', m.group(1))}
    if params.get("username") != username or params.get("algorithm", "MD5").upper() != "MD5":
        return False

    def md5(s: str) -> str:
        return hashlib.md5(s.encode()).hexdigest()

    ha1 = md5(f"{username}:{params['realm']}:{password}")
    ha2 = md5(f"{method}:{params['uri']}")
    if "qop" in params:
        tail = f"{params['nonce']}:{params['nc']}:{params['cnonce']}:{params['qop']}:{ha2}"
    else:
        tail = f"{params['nonce']}:{ha2}"
    return params.get("response", "").lower() == md5(f"{ha1}:{tail}")


def assert_clean(proc: harness.ManagedProcess) -> None:
    out = proc.output()
    assert "Traceback" not in out, out[-6000:]


def sip_messages(trace: str, first_line_prefix: str) -> list[str]:
    """Messages in a Tamas SIP trace (``<<<``/``>>>`` blocks) whose first line starts with
    ``first_line_prefix`` (e.g. "SIP/2.0 487" or "CANCEL ")."""
    blocks = re.split(r"\n(?=\d{4}-\d\d-\d\d \S+ [A-Z]+ )", trace)
    found = []
    for b in blocks:
        lines = b.splitlines()
        if len(lines) > 1 and lines[1].startswith(first_line_prefix):
            found.append(b)
    return found
