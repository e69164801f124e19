"""Registrar behaviour over real UDP against a running Tamas: digest auth, bindings that survive a
restart, no user enumeration, and the ban after repeated failures."""

from __future__ import annotations

import json
import re
import socket
import ssl
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from harness import (
    LOOPBACK,
    ManagedProcess,
    free_port,
    start_tamas,
    tamas_loadgen_config,
    wait_until,
)

from tamas.core.ids import new_id
from tamas.sip.auth import DigestClient, parse_challenge
from tamas.sip.message import Response, StreamParser, parse_datagram

pytestmark = pytest.mark.peers


class Phone:
    """A minimal UDP SIP client that registers with digest auth."""

    def __init__(self, server_port: int) -> None:
        self.server = (LOOPBACK, server_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, 0))
        self.sock.settimeout(3)
        self.port = self.sock.getsockname()[1]
        self.call_id = new_id()
        self.cseq = 0

    def close(self) -> None:
        self.sock.close()

    def register(
        self, user: str, *, contact: bool = True, expires: int = 600, auth: str | None = None
    ) -> Response:
        self.cseq += 1
        lines = [
            f"REGISTER sip:{LOOPBACK}:{self.server[1]} SIP/2.0",
            f"Via: SIP/2.0/UDP {LOOPBACK}:{self.port};branch=z9hG4bK{new_id(6)};rport",
            "Max-Forwards: 70",
            f"From: <sip:{user}@tamas.local>;tag={new_id(4)}",
            f"To: <sip:{user}@tamas.local>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} REGISTER",
            f"Expires: {expires}",
            "User-Agent: test-phone",
        ]
        if contact:
            lines.append(f"Contact: <sip:{user}@{LOOPBACK}:{self.port}>")
        if auth:
            lines.append(f"Authorization: {auth}")
        self._send(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode())
        while True:
            msg = parse_datagram(self._recv())
            assert isinstance(msg, Response)
            if msg.status >= 200:
                return msg

    def _send(self, data: bytes) -> None:
        self.sock.sendto(data, self.server)

    def _recv(self) -> bytes:
        return self.sock.recv(65535)

    def register_with_password(self, user: str, password: str, **kw: Any) -> Response:
        first = self.register(user, **kw)
        if first.status != 401:
            return first
        challenges = [parse_challenge(v) for v in first.headers.get_all("WWW-Authenticate")]
        md5 = next(c for c in challenges if c.algorithm.upper() == "MD5")
        value = DigestClient(user, password).authorize(
            md5, method="REGISTER", uri=f"sip:{LOOPBACK}:{self.server[1]}", cnonce=new_id(4)
        )
        return self.register(user, auth=value, **kw)


def _server(tmp: Path, port: int, *, data: Path | None = None, **security: Any) -> ManagedProcess:
    cfg = tamas_loadgen_config(sip_port=port, data_dir=data or tmp / "data", log_level="info")
    cfg["extensions"].append({"number": "1005", "name": "E", "password": "demo1005"})
    cfg["security"]["auth_ban"].update(security)
    return start_tamas(cfg, tmp, port)


def test_register_and_bindings_survive_restart(tmp_path: Path) -> None:
    port = free_port("udp")
    data = tmp_path / "data"
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    proc = _server(tmp_path / "first", port, data=data)  # each run keeps its own log
    phone = Phone(port)
    try:
        assert phone.register("1005").status == 401
        ok = phone.register_with_password("1005", "demo1005")
        assert ok.status == 200
        assert [str(c.uri) for c in ok.contacts] == [f"sip:1005@{LOOPBACK}:{phone.port}"]
        assert 590 <= int(ok.contacts[0].param("expires") or 0) <= 600
    finally:
        proc.stop()
    assert "Traceback" not in proc.output()
    first = proc.output()
    proc = _server(tmp_path / "second", port, data=data)
    try:
        # A REGISTER without Contact queries the bindings (RFC 3261 section 10.2.3).
        query = phone.register_with_password("1005", "demo1005", contact=False)
        assert query.status == 200
        assert [str(c.uri) for c in query.contacts] == [f"sip:1005@{LOOPBACK}:{phone.port}"], (
            first[-3000:] + "\n---\n" + proc.output()[-3000:]
        )
        gone = phone.register_with_password("1005", "demo1005", expires=0)
        assert gone.status == 200 and gone.contacts == []
    finally:
        proc.stop()
        phone.close()
    assert "Traceback" not in proc.output()


def _shape(resp: Response) -> tuple[object, ...]:
    """What a scanner could compare: status, header names and the challenge minus the nonce."""
    challenge = [re.sub(r'nonce="[^"]*"', "", v) for v in resp.headers.get_all("WWW-Authenticate")]
    return (resp.status, resp.reason, [k for k, _ in resp.headers], challenge)


def test_unknown_user_and_wrong_password_look_the_same_then_ban(tmp_path: Path) -> None:
    port = free_port("udp")
    proc = _server(tmp_path, port, failures=4, window_seconds=60, ban_seconds=600)
    phone = Phone(port)
    try:
        unknown = phone.register_with_password("4711", "guess")
        wrong = phone.register_with_password("1005", "guess")
        assert unknown.status == wrong.status == 401
        assert _shape(unknown) == _shape(wrong)
        phone.register_with_password("1005", "guess2")
        with pytest.raises(TimeoutError):  # the 4th failure bans: the answer never comes
            phone.register_with_password("1005", "guess3")
        with pytest.raises(TimeoutError):  # and now even the right password gets nothing
            phone.register_with_password("1005", "demo1005")
    finally:
        proc.stop()
        phone.close()
    out = proc.output()
    assert re.search(
        r"SECURITY ban ip=127\.0\.0\.1 reason=auth-failures failures=4 window=60s duration=600s",
        out,
    ), out[-2000:]
    assert "Traceback" not in out


class StreamPhone(Phone):
    """The same phone over TCP, TLS or SIP over WebSocket (RFC 7118)."""

    def __init__(self, transport: str, port: int) -> None:
        self.transport = transport
        self.server = (LOOPBACK, port)
        self.call_id = new_id()
        self.cseq = 0
        self.ws: Any = None
        if transport == "WS":
            from websockets.sync.client import connect

            self.stack = ExitStack()
            self.ws = self.stack.enter_context(
                connect(f"ws://{LOOPBACK}:{port}", subprotocols=["sip"])  # type: ignore[list-item]
            )
            self.port = self.ws.socket.getsockname()[1]
            return
        raw = socket.create_connection(self.server, timeout=3)
        if transport == "TLS":
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # the demo's self-signed certificate
            raw = ctx.wrap_socket(raw, server_hostname="tamas.local")
        self.sock = raw
        self.port = raw.getsockname()[1]
        self.parser = StreamParser()

    def close(self) -> None:
        if self.ws is not None:
            self.stack.close()
        else:
            self.sock.close()

    def _send(self, data: bytes) -> None:
        data = data.replace(b"SIP/2.0/UDP", b"SIP/2.0/" + self.transport.encode())
        if self.ws is not None:
            self.ws.send(data.decode())
        else:
            self.sock.sendall(data)

    def _recv(self) -> bytes:
        if self.ws is not None:
            msg = self.ws.recv(timeout=3)
            return msg.encode() if isinstance(msg, str) else msg
        while True:
            items = self.parser.feed(self.sock.recv(65535))
            if items:
                item = items[0]
                assert not isinstance(item, Exception), item
                return bytes(item)


@pytest.mark.parametrize("transport", ["TCP", "TLS", "WS"])
def test_register_over_stream_transports(tmp_path: Path, transport: str) -> None:
    port = free_port("udp")
    tls_port, ws_port = free_port("tcp"), free_port("tcp")
    cfg = tamas_loadgen_config(sip_port=port, data_dir=tmp_path / "data", log_level="info")
    cfg["server"].update(tls_port=tls_port, ws_port=ws_port)
    cfg["extensions"].append({"number": "1005", "name": "E", "password": "demo1005"})
    proc = start_tamas(cfg, tmp_path, port)
    target = {"TCP": port, "TLS": tls_port, "WS": ws_port}[transport]
    phone = StreamPhone(transport, target)
    try:
        assert phone.register("1005").status == 401
        ok = phone.register_with_password("1005", "demo1005")
        assert ok.status == 200
        assert len(ok.contacts) == 1
    finally:
        phone.close()
        proc.stop()
    assert "Traceback" not in proc.output()


def test_status_api_lists_registrations(tmp_path: Path) -> None:
    port, http_port = free_port("udp"), free_port("tcp")
    cfg = tamas_loadgen_config(sip_port=port, data_dir=tmp_path / "data", log_level="info")
    cfg["server"]["http_port"] = http_port
    cfg["extensions"].append({"number": "1005", "name": "E", "password": "demo1005"})
    proc = start_tamas(cfg, tmp_path, port)
    phone = Phone(port)
    base = f"http://{LOOPBACK}:{http_port}"
    try:
        # SIP answers first; the HTTP API starts once the rest of the server is up
        assert wait_until(lambda: _answers(f"{base}/health"), 15.0), proc.output()[-2000:]
        assert _get_json(f"{base}/health")["status"] == "ok"
        assert _get_json(f"{base}/api/v1/registrations") == {"registrations": {}}
        assert phone.register_with_password("1005", "demo1005").status == 200
        regs = _get_json(f"{base}/api/v1/registrations")["registrations"]
        assert list(regs) == ["1005"]
        (binding,) = regs["1005"]
        assert binding["contact"] == f"sip:1005@{LOOPBACK}:{phone.port}"
        assert binding["source"] == f"{LOOPBACK}:{phone.port}"
        assert binding["transport"] == "UDP"
        assert _get_json(f"{base}/api/v1/calls") == {"calls": []}
        assert _get_json(f"{base}/api/v1/trunks") == {"trunks": {}}
    finally:
        phone.close()
        proc.stop()
    assert "Traceback" not in proc.output()


def _answers(url: str) -> bool:
    try:
        _get_json(url)
    except OSError:
        return False
    return True


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        assert resp.status == 200
        return json.loads(resp.read())
