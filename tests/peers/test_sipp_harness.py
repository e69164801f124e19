"""The SIPp scenarios and the peer harness, proven against SIPp itself, Kamailio and sippy.

These need no Tamas: they show that the scenarios are right before they are pointed at Tamas.
"""

from __future__ import annotations

import harness
import pytest

from conftest import Peers

pytestmark = pytest.mark.peers


def test_uac_to_uas_direct(need_sipp: None, peers: Peers) -> None:
    uas_port, _ = peers.uas("uas_answer")
    r = peers.uac("uac_call", uas_port, calls=5, rate=50, service="2000", hold_ms=50)
    assert r.ok and r.successful == 5, r.describe()


def test_calls_through_kamailio_stateful_proxy(need_kamailio: None, peers: Peers) -> None:
    uas_port, _ = peers.uas("uas_answer")
    proxy_port = harness.free_udp_port()
    peers.kamailio(harness.kamailio_proxy_cfg(proxy_port, uas_port), proxy_port)
    assert harness.sip_options_probe(proxy_port) == "SIP/2.0 200 OK"
    r = peers.uac(
        "uac_call", proxy_port, calls=20, rate=20, service="2000", hold_ms=200, trace_rtt=True
    )
    assert r.ok and r.successful == 20 and r.failed == 0, r.describe()
    assert len(r.rtt_ms) == 20, r.rtt_ms
    assert max(r.rtt_ms) < 1000


def test_busy_direct(need_sipp: None, peers: Peers) -> None:
    uas_port, _ = peers.uas("uas_busy")
    r = peers.uac("uac_busy", uas_port, calls=5, rate=20, service="2000")
    assert r.ok and r.successful == 5, r.describe()


def test_busy_through_kamailio(need_kamailio: None, peers: Peers) -> None:
    uas_port, _ = peers.uas("uas_busy")
    proxy_port = harness.free_udp_port()
    peers.kamailio(harness.kamailio_proxy_cfg(proxy_port, uas_port), proxy_port)
    r = peers.uac("uac_busy", proxy_port, calls=5, rate=20, service="2000")
    assert r.ok and r.successful == 5, r.describe()


def test_cancel_direct(need_sipp: None, peers: Peers) -> None:
    uas_port, _ = peers.uas("uas_ring_forever")
    r = peers.uac("uac_cancel", uas_port, calls=5, rate=20, service="2000")
    assert r.ok and r.successful == 5, r.describe()


def test_cancel_through_kamailio(need_kamailio: None, peers: Peers) -> None:
    uas_port, _ = peers.uas("uas_ring_forever")
    proxy_port = harness.free_udp_port()
    peers.kamailio(harness.kamailio_proxy_cfg(proxy_port, uas_port), proxy_port)
    r = peers.uac("uac_cancel", proxy_port, calls=5, rate=20, service="2000")
    assert r.ok and r.successful == 5, r.describe()


def test_register_with_digest_against_kamailio(need_kamailio: None, peers: Peers) -> None:
    proxy_port = harness.free_udp_port()
    cfg = harness.kamailio_proxy_cfg(proxy_port, harness.free_udp_port(), auth_password="demo1001")
    peers.kamailio(cfg, proxy_port)
    r = peers.uac(
        "register_auth",
        proxy_port,
        calls=3,
        rate=10,
        service="1001",
        auth_user="1001",
        auth_password="demo1001",
    )
    assert r.ok and r.successful == 3, r.describe()


def test_register_with_wrong_password_fails(need_kamailio: None, peers: Peers) -> None:
    proxy_port = harness.free_udp_port()
    cfg = harness.kamailio_proxy_cfg(proxy_port, harness.free_udp_port(), auth_password="demo1001")
    peers.kamailio(cfg, proxy_port)
    r = peers.uac(
        "register_auth",
        proxy_port,
        calls=1,
        rate=10,
        service="1001",
        auth_user="1001",
        auth_password="wrong",
        timeout=20,
    )
    assert not r.ok and r.successful == 0, r.describe()


def test_call_with_digest_challenge_through_kamailio(need_kamailio: None, peers: Peers) -> None:
    uas_port, _ = peers.uas("uas_answer")
    proxy_port = harness.free_udp_port()
    cfg = harness.kamailio_proxy_cfg(proxy_port, uas_port, auth_password="demo1001")
    peers.kamailio(cfg, proxy_port)
    r = peers.uac(
        "uac_call_auth",
        proxy_port,
        calls=5,
        rate=20,
        service="2000",
        hold_ms=100,
        auth_user="1001",
        auth_password="demo1001",
        variables={"caller": "1001"},
        trace_messages=True,
    )
    assert r.ok and r.successful == 5, r.describe()
    messages = (r.workdir / "messages.log").read_text(errors="replace")
    assert "407 Proxy Authentication Required" in messages
    assert "Proxy-Authorization: Digest" in messages


def test_call_auth_scenario_without_challenge(need_sipp: None, peers: Peers) -> None:
    uas_port, _ = peers.uas("uas_answer")
    r = peers.uac(
        "uac_call_auth",
        uas_port,
        calls=3,
        rate=20,
        service="2000",
        hold_ms=50,
        variables={"caller": "1001"},
    )
    assert r.ok and r.successful == 3, r.describe()


def test_calls_through_sippy_b2bua(need_sippy: None, peers: Peers) -> None:
    uas_port, _ = peers.uas("uas_answer")
    b2bua_port = harness.free_udp_port()
    peers.sippy(b2bua_port, f"{harness.LOOPBACK}:{uas_port}")
    # sippy sometimes relays a 180 after the 200 (seen here: 1 call in 10, once): SIPp must not
    # abort a call on such a stray provisional, which says nothing about the harness.
    r = peers.uac("uac_call", b2bua_port, calls=10, rate=10, service="2000", hold_ms=200,
                  extra_args=["-default_behaviors", "all,-abortunexp"])  # fmt: skip
    assert r.ok and r.successful == 10, r.describe()


def test_options_probe_gets_no_answer_from_closed_port(need_sipp: None) -> None:
    assert harness.sip_options_probe(harness.free_udp_port(), timeout=0.2) is None
