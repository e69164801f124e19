"""SIP over WebSocket (RFC 7118): subprotocol "sip", one WebSocket message per SIP message.

A handshake that does not offer the "sip" subprotocol is refused with HTTP 400 (the
websockets library does this when the server lists subprotocols and the client offers
none). Each connection is a flow; writes go through a per-connection queue and writer task
so that messages leave in the order :meth:`WsConnection.write` was called.
"""

from __future__ import annotations

import asyncio
import logging
import time

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from tamas.runtime.transport_flows import Delivery, FlowTable
from tamas.sip.errors import ParseError
from tamas.sip.message import Request, Response, parse_datagram
from tamas.sip.peer import Peer


class WsConnection:
    """One accepted WebSocket; ``write`` is non-blocking and keeps order."""

    def __init__(self, ws: ServerConnection, peer: Peer, log: logging.Logger) -> None:
        self.peer = peer
        self.last_active = time.monotonic()
        self._ws = ws
        self._log = log
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._closing = False

    def write(self, data: bytes) -> None:
        if self._closing:
            self._log.debug("flow %d to %s is closing, dropping message", self.peer.flow, self.peer)
            return
        self.last_active = time.monotonic()
        self._queue.put_nowait(data)

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._queue.put_nowait(None)

    async def pump(self) -> None:
        """Writer task: sends queued messages (text when UTF-8), then closes."""
        try:
            while (data := await self._queue.get()) is not None:
                try:
                    await self._ws.send(data.decode())
                except UnicodeDecodeError:
                    await self._ws.send(data)
            await self._ws.close()
        except ConnectionClosed as e:
            self._log.debug("flow %d to %s closed while sending: %s", self.peer.flow, self.peer, e)


class WsHandler:
    """The websockets connection handler: reads messages and feeds them to the sink."""

    def __init__(
        self, name: str, delivery: Delivery, flows: FlowTable, log: logging.Logger
    ) -> None:
        self._name = name
        self._delivery = delivery
        self._flows = flows
        self._log = log

    async def __call__(self, ws: ServerConnection) -> None:
        host, port = ws.remote_address[:2]
        conn = WsConnection(ws, Peer(self._name, host, port, self._flows.new_flow()), self._log)
        self._flows.add(conn)
        writer = asyncio.create_task(conn.pump())
        try:
            async for message in ws:
                conn.last_active = time.monotonic()
                if not self._delivery.allow(conn.peer):
                    break
                data = message.encode() if isinstance(message, str) else message
                self._delivery.deliver(_parse(data), conn.peer)
        except ConnectionClosed as e:
            self._log.debug("flow %d from %s closed: %s", conn.peer.flow, conn.peer, e)
        finally:
            self._flows.remove(conn)
            conn.close()
            await writer


def _parse(data: bytes) -> Request | Response | ParseError:
    try:
        return parse_datagram(data)
    except ParseError as e:
        return e
