"""SIPp against a running Tamas: registration, calls between extensions, CANCEL, busy, loss,
failures, trunks in and out (with the provider's digest challenge) and trunk registration.

Every process binds 127.0.0.1; each test starts its own Tamas on free ports and stops it. SIPp
talks to Tamas directly: Tamas's default ``security.digest_algorithms`` (``["MD5"]``) gives one MD5
challenge, which SIPp 3.6.1 answers (it cannot pick MD5 among several challenges, so it would
fail against ``["SHA-256", "MD5"]``).
"""

from __future__ import annotations

import re
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import harness
import pytest
from tamas_helpers import assert_clean, digest_ok, sip_messages, tamas_config

from conftest import Peers

pytestmark = pytest.mark.peers

LOOPBACK = harness.LOOPBACK


@dataclass
class Center:
    port: int
    proc: harness.ManagedProcess
    tmp: Path

    @property
    def dom(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def trace(self) -> str:
        return self.proc.output()


@pytest.fixture
def start_center(need_sipp: None, tmp_path: Path) -> Iterator[Any]:
    started: list[Center] = []

    def start(**sections: Any) -> Center:
        port = harness.free_port()
        tmp = tmp_path / f"tamas-{len(started)}"
        proc = harness.start_tamas(tamas_config(port, tmp, **sections), tmp, port)
        center = Center(port, proc, tmp)
        started.append(center)
        return center

    try:
        yield start
    finally:
        for c in started:
            c.proc.stop()
        for c in started:
            assert_clean(c.proc)


def ext_run(
    peers: Peers,
    center: Center,
    scenario: str,
    *,
    user: str,
    service: str | None = None,
    password: str | None = None,
    local_port: int | None = None,
    **kw: Any,
) -> harness.SippResult:
    """Run a SIPp UAC as extension ``user``, sending straight to Tamas."""
    variables = {"dom": center.dom, "caller": user, **kw.pop("variables", {})}
    kw.setdefault("timeout", 30.0)
    kw.setdefault("trace_messages", True)
    return peers.uac(
        scenario,
        center.port,
        service=service or user,
        auth_user=user,
        auth_password=password if password is not None else f"demo{user}",
        local_port=local_port,
        variables=variables,
        **kw,
    )


def register_uas(
    peers: Peers, center: Center, user: str, scenario: str, **kw: Any
) -> tuple[int, harness.ManagedProcess]:
    """Register ``user`` from a fresh port, then start UAS ``scenario`` on that same port."""
    port = harness.free_udp_port()
    r = ext_run(peers, center, "tamas_register_keep", user=user, local_port=port)
    assert r.ok, r.describe()
    return peers.uas(scenario, port, **kw)


def messages(r: harness.SippResult) -> str:
    return (r.workdir / "messages.log").read_text(errors="replace")


def uas_successes(proc: harness.ManagedProcess, expected: int, timeout: float = 8.0) -> int:
    """Successful calls of a background SIPp UAS, waiting (bounded) for its timewaits to end and
    its once-a-second statistics line to show ``expected``."""

    def count() -> int:
        stats = harness.read_sipp_stats(proc.workdir / "stats.csv")
        return harness._stat_int(stats, "SuccessfulCall(C)")

    harness.wait_until(lambda: count() >= expected, timeout, interval=0.2)
    return count()


# --------------------------------------------------------------------------- registration


def challenges(response: str) -> list[dict[str, str]]:
    """The WWW-Authenticate digest challenges of a SIP response, in order, as parameter dicts."""
    found = []
    for value in re.findall(r"^WWW-Authenticate:[ \t]*Digest (.*?)\r?$", response, re.M | re.I):
        pairs = re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]+))', value)
        found.append({k.lower(): a or b for k, a, b in pairs})
    return found


def raw_register(port: int, user: str, timeout: float = 3.0) -> str:
    """Send one REGISTER without credentials to Tamas on 127.0.0.1:port over UDP; the first
    final response (bounded wait)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        lport = s.getsockname()[1]
        tag = uuid.uuid4().hex[:10]
        dom = f"{LOOPBACK}:{port}"
        msg = (
            f"REGISTER sip:{dom} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {LOOPBACK}:{lport};branch=z9hG4bK{tag};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:{user}@{dom}>;tag={tag}\r\n"
            f"To: <sip:{user}@{dom}>\r\n"
            f"Call-ID: reg-{tag}@{LOOPBACK}\r\n"
            "CSeq: 1 REGISTER\r\n"
            f"Contact: <sip:{user}@{LOOPBACK}:{lport}>\r\n"
            "Expires: 300\r\n"
            "Content-Length: 0\r\n\r\n"
        )
        s.sendto(msg.encode(), (LOOPBACK, port))
        s.settimeout(0.5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data = s.recv(65535).decode(errors="replace")
            except TimeoutError:
                continue
            if not re.match(r"SIP/2\.0 1\d\d", data):
                return data
    raise AssertionError(f"no final response to REGISTER from 127.0.0.1:{port}")


def test_sipp_registers_directly_with_default_md5(start_center: Any, peers: Peers) -> None:
    """Default config: Tamas offers one MD5 challenge and SIPp, sending straight to Tamas,
    registers with a correct MD5 digest."""
    c = start_center()
    r = ext_run(peers, c, "tamas_register", user="1001")
    assert r.ok and r.successful == 1, r.describe()
    trace = c.trace()
    first = sip_messages(trace, "SIP/2.0 401")[0]
    offered = challenges(first)
    assert [ch.get("algorithm") for ch in offered] == ["MD5"], first
    assert offered[0]["realm"] == "tamas.local", first
    authed = [m for m in sip_messages(trace, "REGISTER ") if "CSeq: 2 REGISTER" in m]
    assert authed, trace[-5000:]
    assert digest_ok(authed[0].split("\n", 1)[1], "Authorization", "REGISTER", "1001", "demo1001")
    oks = [m for m in sip_messages(trace, "SIP/2.0 200") if "CSeq: 2 REGISTER" in m]
    assert oks and "sip:1001@127.0.0.1:" in oks[0], oks


def test_digest_algorithms_setting_orders_challenges(start_center: Any) -> None:
    """``digest_algorithms: [SHA-256, MD5]`` gives two challenges in that order (RFC 8760), each
    with the realm, a nonce and qop=auth; the default gives the MD5 one only."""
    security = dict(tamas_config(1, Path("."))["security"])
    both = start_center(security={**security, "digest_algorithms": ["SHA-256", "MD5"]})
    response = raw_register(both.port, "1001")
    assert response.startswith("SIP/2.0 401"), response
    offered = challenges(response)
    assert [ch.get("algorithm") for ch in offered] == ["SHA-256", "MD5"], response
    for ch in offered:
        assert ch.get("realm") == "tamas.local" and ch.get("nonce"), response
        assert "auth" in ch.get("qop", "").split(","), response
    default = start_center()
    response = raw_register(default.port, "1001")
    assert response.startswith("SIP/2.0 401"), response
    assert [ch.get("algorithm") for ch in challenges(response)] == ["MD5"], response


def test_register_and_unregister(start_center: Any, peers: Peers) -> None:
    c = start_center()
    port = harness.free_udp_port()
    r = ext_run(peers, c, "tamas_register", user="1001", local_port=port)
    assert r.ok and r.successful == 1, r.describe()
    oks = [m for m in sip_messages(c.trace(), "SIP/2.0 200") if "CSeq: 2 REGISTER" in m]
    assert oks and f"sip:1001@127.0.0.1:{port}" in oks[0], oks
    # The unregister's 200 lists no binding for us any more.
    unreg = [m for m in sip_messages(c.trace(), "SIP/2.0 200") if re.search(r"CSeq: [34] REG", m)]
    assert unreg and f"sip:1001@127.0.0.1:{port}" not in unreg[-1], unreg


def test_register_wrong_password_stays_401(start_center: Any, peers: Peers) -> None:
    c = start_center()
    r = ext_run(peers, c, "tamas_register_wrong", user="1001", password="not-the-password")
    assert r.ok and r.successful == 1, r.describe()
    assert not [m for m in sip_messages(c.trace(), "SIP/2.0 200") if "CSeq: 2 REGISTER" in m]


# --------------------------------------------------------------------------- calls


def test_call_between_registered_extensions(start_center: Any, peers: Peers) -> None:
    c = start_center()
    _, uas = register_uas(peers, c, "1002", "uas_answer")
    a_port = harness.free_udp_port()
    r = ext_run(peers, c, "tamas_register_keep", user="1001", local_port=a_port)
    assert r.ok, r.describe()
    r = ext_run(
        peers,
        c,
        "tamas_call",
        user="1001",
        service="1002",
        local_port=a_port,
        hold_ms=300,
        calls=3,
        rate=5,
    )
    assert r.ok and r.successful == 3, r.describe()
    assert uas_successes(uas, 3) == 3
    log = messages(r)
    assert "180 Ringing" in log or "SIP/2.0 180" in log


def test_cancel_before_answer(start_center: Any, peers: Peers) -> None:
    c = start_center()
    _, uas = register_uas(peers, c, "1002", "uas_ring_forever")
    r = ext_run(peers, c, "tamas_call_cancel", user="1001", service="1002", calls=2, rate=5)
    assert r.ok and r.successful == 2, r.describe()
    assert uas_successes(uas, 2) == 2
    assert len(sip_messages(c.trace(), "CANCEL ")) >= 4  # caller's and Tamas's, per call


def test_callee_busy(start_center: Any, peers: Peers) -> None:
    c = start_center()
    _, uas = register_uas(peers, c, "1002", "uas_busy")
    r = ext_run(peers, c, "tamas_call_reject", user="1001", service="1002", calls=2, rate=5)
    assert r.ok and r.successful == 2, r.describe()
    assert "SIP/2.0 486" in messages(r)
    assert uas_successes(uas, 2) == 2


@pytest.mark.parametrize(("callee", "code"), [("1003", 480), ("4999", 404)])
def test_unreachable_callee(start_center: Any, peers: Peers, callee: str, code: int) -> None:
    c = start_center()
    r = ext_run(peers, c, "tamas_call_reject", user="1001", service=callee)
    assert r.ok and r.successful == 1, r.describe()
    finals = re.findall(r"^SIP/2.0 ([3-6]\d\d)", messages(r), re.MULTILINE)
    assert finals == [401, code] or finals == ["401", str(code)], finals


def test_ring_timeout_gives_480(start_center: Any, peers: Peers) -> None:
    exts = tamas_config(1, Path("."))["extensions"]
    exts[1] = {**exts[1], "ring_timeout": 2}
    c = start_center(extensions=exts)
    register_uas(peers, c, "1002", "uas_ring_forever")
    r = ext_run(peers, c, "tamas_call_reject", user="1001", service="1002", timeout=20)
    assert r.ok and r.successful == 1, r.describe()
    assert "SIP/2.0 480" in messages(r)
    # Tamas cancelled the ringing leg.
    assert sip_messages(c.trace(), "CANCEL ")


# --------------------------------------------------------------------------- loss


def test_calls_complete_despite_udp_loss(start_center: Any, peers: Peers) -> None:
    """10% of the caller's INVITEs/BYEs and of the callee's 180/200s are dropped; every call
    still completes through retransmissions (SIPp's own, and Tamas's RFC 3261 timers)."""
    uac_port, uas_port = harness.free_udp_port(), harness.free_udp_port()
    c = start_center(
        extensions=[
            {"number": "2000", "name": "Sink", "contact": f"sip:sink@{LOOPBACK}:{uas_port}"}
        ],
        trunks=[
            {"name": "carrier", "host": LOOPBACK, "port": uac_port, "match_port": True},
        ],
        inbound=[{"did": "*", "destination": "2000", "trunk": "carrier"}],
        logging={"level": "info", "sip_trace": False},
    )
    _, uas = peers.uas("tamas_uas_lossy", uas_port)
    r = peers.uac(
        "tamas_uac_lossy",
        c.port,
        local_port=uac_port,
        service="5550100",
        calls=20,
        rate=5,
        concurrency=10,
        hold_ms=200,
        timeout=90,
    )
    assert r.ok and r.successful == 20, r.describe()
    assert uas_successes(uas, 20, timeout=15) == 20


# --------------------------------------------------------------------------- trunks


def test_inbound_trunk_did_to_static_extension(start_center: Any, peers: Peers) -> None:
    uac_port, uas_port = harness.free_udp_port(), harness.free_udp_port()
    c = start_center(
        extensions=[
            {"number": "1001", "password": "demo1001"},
            {"number": "2000", "name": "Desk", "contact": f"sip:desk@{LOOPBACK}:{uas_port}"},
        ],
        trunks=[{"name": "carrier", "host": LOOPBACK, "port": uac_port, "match_port": True}],
        inbound=[{"did": "02155550100", "destination": "2000", "trunk": "carrier"}],
    )
    _, uas = peers.uas("uas_answer", uas_port)
    r = peers.uac(
        "uac_call",
        c.port,
        local_port=uac_port,
        service="02155550100",
        calls=2,
        rate=5,
        hold_ms=200,
        trace_messages=True,
    )
    assert r.ok and r.successful == 2, r.describe()
    assert uas_successes(uas, 2) == 2
    # No digest challenge for a trunk, and the call reached the static contact.
    assert "SIP/2.0 401" not in messages(r)
    assert [m for m in sip_messages(c.trace(), "INVITE sip:desk@") if "to udp:" in m]


def test_inbound_trunk_unknown_did_is_refused(start_center: Any, peers: Peers) -> None:
    uac_port, uas_port = harness.free_udp_port(), harness.free_udp_port()
    c = start_center(
        extensions=[{"number": "2000", "contact": f"sip:desk@{LOOPBACK}:{uas_port}"}],
        trunks=[{"name": "carrier", "host": LOOPBACK, "port": uac_port, "match_port": True}],
        inbound=[{"did": "02155550100", "destination": "2000", "trunk": "carrier"}],
    )
    r = peers.uac(
        "uac_busy",
        c.port,
        local_port=uac_port,
        service="02199999999",
        timeout=15,
        trace_messages=True,
    )
    assert not r.ok
    finals = re.findall(r"^SIP/2.0 ([3-6]\d\d)", messages(r), re.MULTILINE)
    assert finals and finals[0] in {"404", "403", "480", "604"}, finals


def test_outbound_via_dialplan_with_provider_407(start_center: Any, peers: Peers) -> None:
    provider_port = harness.free_udp_port()
    c = start_center(
        trunks=[
            {
                "name": "carrier",
                "host": LOOPBACK,
                "port": provider_port,
                "match_port": True,
                "username": "02100000000",
                "auth_username": "trunkuser",
                "password": "trunk-secret",
            }
        ],
        dialplan=[{"prefix": "9", "strip": 1, "trunk": "carrier"}],
    )
    _, provider = peers.uas(
        "tamas_provider_auth",
        provider_port,
        trace_messages=True,
    )
    r = ext_run(
        peers, c, "tamas_call", user="1001", service="902188887777", hold_ms=200, calls=2, rate=5
    )
    assert r.ok and r.successful == 2, r.describe()
    assert uas_successes(provider, 2) == 2
    trace = c.trace()
    invites = sip_messages(trace, "INVITE sip:02188887777@")
    answered = [m for m in invites if "Proxy-Authorization" in m]
    assert answered, trace[-5000:]
    seen = (provider.workdir / "messages.log").read_text(errors="replace").split("\n\n")
    authed = [m for m in seen if "Proxy-Authorization:" in m and m.startswith("INVITE ")]
    assert len(authed) == 2, seen
    for m in authed:
        assert digest_ok(m, "Proxy-Authorization", "INVITE", "trunkuser", "trunk-secret"), m


def test_outbound_trunk_registration(start_center: Any, peers: Peers) -> None:
    provider_port = harness.free_udp_port()
    _, provider = peers.uas(
        "tamas_provider_register",
        provider_port,
        trace_messages=True,
    )
    c = start_center(
        trunks=[
            {
                "name": "carrier",
                "host": LOOPBACK,
                "port": provider_port,
                "match_port": True,
                "username": "02100000000",
                "auth_username": "trunkuser",
                "password": "trunk-secret",
                "register": True,
                "register_expires": 300,
            }
        ],
    )
    assert uas_successes(provider, 1, timeout=15) == 1, c.trace()[-5000:]
    registers = sip_messages(c.trace(), "REGISTER sip:")
    assert len(registers) >= 2, registers
    assert digest_ok(
        registers[1].split("\n", 1)[1], "Authorization", "REGISTER", "trunkuser", "trunk-secret"
    ), registers[1]
