"""Routing decisions: extensions, dial plan, DIDs, and trunk hosts given by name."""

from __future__ import annotations

import time

from tamas.config import parse_config
from tamas.runtime.registrar import Location
from tamas.runtime.routing import ExtensionRoute, NoRoute, Router, TrunkRoute, resolve_host
from tamas.sip.peer import Peer
from tamas.sip.uri import SipUri
from tamas.store.records import Binding

CONFIG = """
extensions:
  - {number: "1001", name: A, password: a}
  - {number: "1002", name: B, password: b}
  - {number: "2000", name: S, password: s, contact: "sip:s@127.0.0.1:5072"}
trunks:
  - {name: byname, host: localhost, port: 5080}
  - {name: byip, host: 127.0.0.1, port: 5090, match_port: true}
dialplan:
  - {prefix: "9", strip: 1, trunk: byname}
  - {prefix: "00", prepend: "+", strip: 2, trunk: byip}
inbound:
  - {did: "02155550100", destination: "1001", trunk: byip}
"""


def make_router() -> tuple[Router, Location]:
    location = Location()
    return Router(parse_config(CONFIG, "test.yaml"), location), location


def test_trunk_host_names_are_resolved_once_from_the_configuration() -> None:
    router, _ = make_router()
    assert router.trunk_hosts["byname"] in ("127.0.0.1", "::1")
    assert resolve_host("192.0.2.7") == "192.0.2.7"  # a literal is not looked up
    route = router.dial("9123", time.time())
    assert isinstance(route, TrunkRoute)
    assert route.number == "123"
    assert isinstance(route.target.uri, SipUri)
    assert route.target.uri.host == "localhost"  # the provider's name stays in the URI
    assert route.target.peer.host == router.trunk_hosts["byname"]


def test_dial_plan_strip_and_prepend() -> None:
    router, _ = make_router()
    route = router.dial("00982155550100", time.time())
    assert isinstance(route, TrunkRoute) and route.trunk.name == "byip"
    assert route.number == "+982155550100"
    assert route.target.peer == Peer("UDP", "127.0.0.1", 5090)


def test_extensions_registered_static_and_unavailable() -> None:
    router, location = make_router()
    now = time.time()
    assert router.dial("1002", now) == NoRoute(480, "Temporarily Unavailable")
    assert router.dial("4711", now) == NoRoute(404, "Not Found")
    location.put(Binding(aor="1002", contact_uri="sip:1002@192.0.2.9:5062", flow_transport="UDP",
                         flow_host="127.0.0.1", flow_port=40000, expires_at=now + 60,
                         call_id="c", cseq=1))  # fmt: skip
    route = router.dial("1002", now)
    assert isinstance(route, ExtensionRoute)
    # the request goes back through the flow the REGISTER came from, not to the Contact's host
    assert [t.peer for t in route.targets] == [Peer("UDP", "127.0.0.1", 40000)]
    static = router.dial("2000", now)
    assert isinstance(static, ExtensionRoute)
    assert [t.peer for t in static.targets] == [Peer("UDP", "127.0.0.1", 5072)]


def test_inbound_did_and_trunk_matching_by_source() -> None:
    router, _ = make_router()
    byip = router.trunk_for_source(Peer("UDP", "127.0.0.1", 5090))
    assert byip is not None and byip.name == "byip"
    # byip matches the port too; byname (port not matched) takes the other ports of its host
    other = router.trunk_for_source(Peer("UDP", router.trunk_hosts["byname"], 41000))
    assert other is not None and other.name == "byname"
    assert router.trunk_for_source(Peer("UDP", "192.0.2.1", 5090)) is None
    route = router.inbound(byip, "02155550100", time.time())
    assert route == NoRoute(480, "Temporarily Unavailable")  # 1001 has no device registered
    assert router.inbound(byip, "999", time.time()) == NoRoute(404, "Not Found")
