"""Helpers for the peer tests that point SIPp, baresip and sipvicious at a running Tamas.

Everything binds to and sends to 127.0.0.1 only; every wait is bounded.

``Md5OnlyRelay`` exists because SIPp 3.6.1 cannot pick one challenge among several: Tamas offers
``WWW-Authenticate: ... algorithm=SHA-256`` first and ``... algorithm=MD5`` second (RFC 8760
order), SIPp joins both headers and takes the first ``algorithm=`` it finds, then gives up with
"createAuthHeader: authentication must use MD5 or AKAv1-MD5". The relay forwards SIP between
SIPp and Tamas unchanged except that it drops the SHA-256 challenge lines going to SIPp, which is
what an RFC 8760 client that only knows MD5 would do on its own. Each SIPp address gets its own
upstream socket, so Tamas sees one stable source per SIPp endpoint (registrations bind to it and
calls to the extension come back through it).
"""

from __future__ import annotations

import contextlib
import re
import selectors
import socket
import threading
from pathlib import Path
from typing import Any

import harness

LOOPBACK = harness.LOOPBACK

_SHA256_CHALLENGE = re.compile(
    rb"^(?:WWW|Proxy)-Authenticate:[^\r\n]*algorithm=\"?SHA-256[^\r\n]*\r\n",
    re.IGNORECASE | re.MULTILINE,
)


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


class Md5OnlyRelay:
    """A symmetric UDP relay 127.0.0.1:listen_port <-> Tamas that hides SHA-256 challenges."""

    def __init__(self, tamas_port: int) -> None:
        self.tamas = (LOOPBACK, tamas_port)
        self.listen = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.listen.bind((LOOPBACK, 0))
        self.port: int = self.listen.getsockname()[1]
        self._up: dict[tuple[str, int], socket.socket] = {}  # client address -> upstream socket
        self._sel = selectors.DefaultSelector()
        self._sel.register(self.listen, selectors.EVENT_READ, None)
        self._stop = threading.Event()
        self.dropped_challenges = 0
        self._thread = threading.Thread(target=self._run, name="md5-relay", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._sel.select(timeout=0.1):
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    data, src = sock.recvfrom(65535)
                except OSError:
                    continue
                if key.data is None:  # from a client (SIPp/baresip) towards Tamas
                    if src[0] != LOOPBACK:
                        continue
                    up = self._up.get(src)
                    if up is None:
                        up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                        up.bind((LOOPBACK, 0))
                        self._up[src] = up
                        self._sel.register(up, selectors.EVENT_READ, src)
                    with contextlib.suppress(OSError):
                        up.sendto(data, self.tamas)
                else:  # from Tamas towards the client behind this upstream socket
                    if src != self.tamas:
                        continue
                    data, n = _SHA256_CHALLENGE.subn(b"", data)
                    self.dropped_challenges += n
                    with contextlib.suppress(OSError):
                        self.listen.sendto(data, key.data)

    def upstream_port(self, client_port: int) -> int | None:
        """The relay port Tamas sees for the client at 127.0.0.1:client_port."""
        up = self._up.get((LOOPBACK, client_port))
        return None if up is None else up.getsockname()[1]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for s in [self.listen, *self._up.values()]:
            s.close()
        self._sel.close()

    def __enter__(self) -> Md5OnlyRelay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
