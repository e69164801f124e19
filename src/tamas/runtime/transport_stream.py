"""SIP over TCP and TLS: one :class:`StreamParser` per connection (RFC 3261 section 18.3).

Inbound connections come from a listening server; outbound ones are opened by
:meth:`Transports.send` and buffer what is written until the handshake completes. Every
connection is a flow (see :mod:`tamas.runtime.transport_flows`).

A framing error cannot be recovered from: the error goes to the sink (which may answer 400
on the same flow) and the connection is closed on the next loop iteration, after that
answer was written. A double CRLF at the start of a chunk is a keep-alive ping and gets a
single CRLF pong (RFC 5626 section 3.5.1); the bytes are still fed to the parser, which
skips CRLFs between messages.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import cast

from tamas.runtime.transport_flows import Delivery, FlowTable
from tamas.sip.errors import ParseError
from tamas.sip.message import StreamParser
from tamas.sip.peer import Peer

PING = b"\r\n\r\n"
PONG = b"\r\n"


class StreamConnection(asyncio.Protocol):
    """Pumps one TCP/TLS connection between its socket, its parser and the sink."""

    def __init__(
        self, peer: Peer, delivery: Delivery, flows: FlowTable, log: logging.Logger
    ) -> None:
        self.peer = peer  # host/port are filled in on connect for inbound connections
        self.last_active = time.monotonic()
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._delivery = delivery
        self._flows = flows
        self._log = log
        self._parser = StreamParser()
        self._transport: asyncio.Transport | None = None
        self._pending: list[bytes] = []
        self._closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not subclasses of asyncio.Transport
        self._transport = cast(asyncio.Transport, transport)
        if not self.peer.port:
            host, port = transport.get_extra_info("peername")[:2]
            self.peer = Peer(self.peer.transport, host, port, self.peer.flow)
            self._flows.add(self)
        self._log.debug("connected %s (flow %d)", self.peer, self.peer.flow)
        pending, self._pending = self._pending, []
        for data in pending:
            self.write(data)
        if self._closing:
            transport.close()

    def data_received(self, data: bytes) -> None:
        self.last_active = time.monotonic()
        if self._closing:
            return
        if not self._delivery.allow(self.peer):
            self.close()
            return
        if data.startswith(PING):
            self.write(PONG)
        try:
            items = self._parser.feed(data)
            for item in items:
                self._delivery.deliver(item, self.peer)
            if items:
                self._parser.feed(b"")  # surfaces a framing error found after them
        except ParseError as e:
            self._closing = True
            self._delivery.deliver(e, self.peer)
            asyncio.get_running_loop().call_soon(self.close)

    def eof_received(self) -> bool | None:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._log.debug("disconnected %s (flow %d): %s", self.peer, self.peer.flow, exc)
        self._closing = True
        self._flows.remove(self)
        if not self.done.done():
            self.done.set_result(None)

    def connect_failed(self, exc: BaseException) -> None:
        """The outbound connection never came up: drop what was queued."""
        self._log.debug("connect to %s failed: %s; dropped %d", self.peer, exc, len(self._pending))
        self._pending.clear()
        self.connection_lost(None)

    def write(self, data: bytes) -> None:
        if self._transport is None:
            self._pending.append(data)
        elif self._transport.is_closing():
            self._log.debug("flow %d to %s is closing, dropping message", self.peer.flow, self.peer)
        else:
            self.last_active = time.monotonic()
            self._transport.write(data)

    def close(self) -> None:
        self._closing = True
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()
