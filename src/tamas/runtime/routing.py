"""Where a call goes: extensions (registered or static contacts), trunks by dial plan, DIDs.

Pure decisions over the configuration and the location service; no IO.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass

from tamas.config import Config
from tamas.config.model import Extension, Trunk
from tamas.runtime.registrar import Location, binding_peer
from tamas.sip.peer import Peer
from tamas.sip.uri import SipUri, Uri, parse_uri

log = logging.getLogger("tamas.routing")

_DIALABLE = re.compile(r"\+?[0-9*#]{1,32}")
#: The reason of the NoRoute a call to a closed extension gets (its ``forward.closed`` then
#: applies: :meth:`tamas.runtime.callcenter.center.CallCenter.closed_now`).
CLOSED = "Closed"


@dataclass(frozen=True, slots=True)
class Target:
    """One place to send an INVITE: the Request-URI and the peer (flow) to send it to."""

    uri: Uri
    peer: Peer


@dataclass(frozen=True, slots=True)
class ExtensionRoute:
    extension: Extension
    targets: tuple[Target, ...]


@dataclass(frozen=True, slots=True)
class TrunkRoute:
    trunk: Trunk
    number: str
    target: Target


@dataclass(frozen=True, slots=True)
class NoRoute:
    status: int
    reason: str


Route = ExtensionRoute | TrunkRoute | NoRoute


@functools.lru_cache(maxsize=1024)
def _ip_host(host: str) -> str | None:
    """``host`` as an IP address in canonical form, or None if it is not an IP literal.

    Called on every call with the hosts of the configuration (a static contact, a trunk):
    the answers are kept (bounded), as ``ipaddress`` costs microseconds per parse."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def resolve_host(host: str) -> str | None:
    """The IP address of a trunk host from the configuration (a literal, or a name looked up
    once at start-up; names written in SIP messages are never looked up)."""
    literal = _ip_host(host)
    if literal is not None:
        return literal
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except OSError:
        return None
    return str(infos[0][4][0]) if infos else None


class Router:
    def __init__(self, config: Config, location: Location) -> None:
        self.config = config
        self.location = location
        self.extensions = {e.number: e for e in config.extensions}
        self.trunks = {t.name: t for t in config.trunks}
        self.trunk_hosts: dict[str, str] = {}
        for t in config.trunks:
            address = resolve_host(t.host)
            if address is None:
                log.error("trunk %s: cannot resolve host %r; it is not used", t.name, t.host)
            else:
                self.trunk_hosts[t.name] = address
        #: Whether a new call to an extension goes to its ``forward.closed`` without ringing
        #: (set by the contact center, whose clock tells the time); None: never.
        self.closed: Callable[[Extension], bool] | None = None

    def trunk_for_source(self, peer: Peer) -> Trunk | None:
        """The trunk a request from ``peer`` belongs to: one matching host and port first,
        then one matching the host alone (several trunks may share a provider's address)."""
        host_only: Trunk | None = None
        for t in self.config.trunks:
            if t.inbound_match != "source" or self.trunk_hosts.get(t.name) != peer.host:
                continue
            if t.match_port:
                if t.port == peer.port:
                    return t
            elif host_only is None:
                host_only = t
        return host_only

    def trunk_target(self, trunk: Trunk, number: str) -> Target | None:
        """Where a request for ``number`` goes on ``trunk`` (None if its host is unresolved)."""
        host = self.trunk_hosts.get(trunk.name)
        if host is None:
            return None
        uri_host = f"[{host}]" if ":" in host else host
        tp = "" if trunk.transport == "udp" else f";transport={trunk.transport}"
        name = trunk.host if _ip_host(trunk.host) is None else uri_host
        uri = parse_uri(f"sip:{number}@{name}:{trunk.port}{tp}")
        return Target(uri, Peer(trunk.transport.upper(), host, trunk.port))

    def password_for(self, user: str) -> str | None:
        ext = self.extensions.get(user)
        if ext is None or not ext.enabled or ext.password is None:
            return None
        return ext.password

    def to_extension(self, number: str, now: float) -> Route:
        ext = self.extensions.get(number)
        if ext is None:
            return NoRoute(404, "Not Found")
        if not ext.enabled:
            return NoRoute(480, "Temporarily Unavailable")
        targets: list[Target] = []
        if ext.contact:
            uri = parse_uri(ext.contact)
            if isinstance(uri, SipUri):
                host = _ip_host(uri.host)
                if host is not None:
                    transport = (uri.param("transport") or "udp").upper()
                    targets.append(Target(uri, Peer(transport, host, uri.port or 5060)))
        for b in self.location.lookup(number, now):
            targets.append(Target(parse_uri(b.contact_uri), binding_peer(b)))
        if not targets:
            return NoRoute(480, "Temporarily Unavailable")
        return ExtensionRoute(ext, tuple(targets))

    def dial(self, dialed: str, now: float) -> Route:
        """An extension's call: an extension number first, then the dial plan."""
        if not _DIALABLE.fullmatch(dialed):
            return NoRoute(484, "Address Incomplete")  # only digits, * # and a leading +
        if dialed in self.extensions:
            return self._if_closed(dialed) or self.to_extension(dialed, now)
        for rule in self.config.dialplan:
            if dialed.startswith(rule.prefix) and len(dialed) > len(rule.prefix) - 1:
                number = rule.prepend + dialed[rule.strip :]
                trunk = self.trunks[rule.trunk]
                target = self.trunk_target(trunk, number)
                if target is None:
                    return NoRoute(503, "Trunk Unavailable")
                return TrunkRoute(trunk, number, target)
        return NoRoute(404, "Not Found")

    def inbound_destination(self, trunk: Trunk, did: str) -> str | None:
        """The number a call to ``did`` on ``trunk`` goes to (first matching DID route)."""
        for r in self.config.inbound:
            if r.trunk not in (None, trunk.name):
                continue
            if r.did in ("*", did):
                return r.destination
        return None

    def inbound(self, trunk: Trunk, did: str, now: float) -> Route:
        destination = self.inbound_destination(trunk, did)
        if destination is None:
            return NoRoute(404, "Not Found")
        return self._if_closed(destination) or self.to_extension(destination, now)

    def _if_closed(self, number: str) -> NoRoute | None:
        ext = self.extensions.get(number)
        if ext is None or not ext.enabled or self.closed is None or not self.closed(ext):
            return None
        return NoRoute(480, CLOSED)
