"""SIP over UDP: one datagram is one message (RFC 3261 section 18.1)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Protocol, cast

from tamas.runtime.transport_flows import Delivery
from tamas.sip.errors import ParseError
from tamas.sip.message import parse_datagram
from tamas.sip.peer import Peer

BUFFER_SIZE = 4 * 1024 * 1024


class UdpEndpoint(asyncio.DatagramProtocol):
    """Pumps datagrams between one bound socket and the sink."""

    def __init__(self, delivery: Delivery, log: logging.Logger) -> None:
        self._delivery = delivery
        self._log = log
        self.transport: asyncio.DatagramTransport | None = None
        self.family = socket.AF_INET

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's UDP transport is not a subclass of asyncio.DatagramTransport
        self.transport = cast(asyncio.DatagramTransport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            self.family = sock.family

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        peer = Peer("UDP", str(addr[0]), int(addr[1]))
        if not self._delivery.allow(peer):
            return
        try:
            item = parse_datagram(data)
        except ParseError as e:
            self._delivery.deliver(e, peer)
        else:
            self._delivery.deliver(item, peer)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and friends: the peer is gone, the socket is fine.
        self._log.debug("UDP error: %s", exc)

    def sendto(self, data: bytes, peer: Peer) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            self._log.debug("UDP endpoint closed, dropping message to %s", peer)
            return
        try:
            transport.sendto(data, (peer.host, peer.port))
        except (OSError, ValueError) as e:
            self._log.debug("UDP send to %s failed: %s", peer, e)


class _Sender(Protocol):
    def send(self, data: bytes, peer: Peer) -> None: ...


class UdpFirst:
    """What the SIP endpoint sends through (``Transports.sender``): a message for a UDP peer
    goes straight to the listener of the peer's address family, anything else to ``other``
    (the transports). Compiled in the mypyc build, where the transports are not (see
    setup.py): every UDP message out then runs no interpreted code on its way to the socket.
    The transports set ``udp4`` and ``udp6`` whenever a UDP listener starts."""

    def __init__(self, other: _Sender) -> None:
        self.other = other
        self.udp4: UdpEndpoint | None = None
        self.udp6: UdpEndpoint | None = None

    def send(self, data: bytes, peer: Peer) -> None:
        if peer.transport == "UDP":
            endpoint = self.udp6 if ":" in peer.host else self.udp4
            if endpoint is not None:
                endpoint.sendto(data, peer)
                return
        self.other.send(data, peer)


def bind_udp(host: str, port: int) -> socket.socket:
    """A bound, non-blocking UDP socket with large buffers (best effort)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, opt, BUFFER_SIZE)
        sock.bind((host, port))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock
