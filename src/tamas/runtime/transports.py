"""The SIP transport layer: UDP, TCP, TLS and WebSocket listeners behind one facade.

The adapters only pump bytes: everything read is parsed and handed to a
:class:`MessageSink` with the :class:`~tamas.sip.peer.Peer` it came from; everything the
endpoint wants sent goes through :meth:`Transports.send`, which never blocks and never
raises for a dead peer (it logs at debug level and drops the message).

Reliable transports identify connections by flow id (``Peer.flow``). Sending to a peer
whose flow is gone, or with ``flow == 0``, reuses any open connection to the same
(transport, host, port), and for TCP/TLS opens a new outbound connection. Hosts must be
IP literals: name resolution (RFC 3263) is the endpoint's job, not the transports'.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Coroutine
from typing import Any

from websockets.asyncio.server import Server as WsServer
from websockets.asyncio.server import serve as ws_serve
from websockets.typing import Subprotocol

from tamas.runtime.transport_flows import Delivery, FlowTable, MessageSink
from tamas.runtime.transport_stream import StreamConnection
from tamas.runtime.transport_udp import UdpEndpoint, UdpFirst, bind_udp
from tamas.runtime.transport_ws import WsHandler
from tamas.sip.message import MAX_MESSAGE
from tamas.sip.peer import Peer

__all__ = ["MessageSink", "Transports"]

CONNECT_TIMEOUT = 10.0
CLOSE_TIMEOUT = 2.0


class Transports:
    """Owns every SIP socket of the process.

    ``tls_verify`` governs *outbound* TLS only: False (the default for now) accepts any
    server certificate, without hostname checks; True verifies against the system CA store.
    ``idle_timeout`` closes TCP/TLS connections that carried nothing for that many seconds
    (None keeps them forever); WebSocket liveness is left to WebSocket ping/pong.
    """

    def __init__(
        self,
        sink: MessageSink,
        *,
        log: logging.Logger,
        tls_verify: bool = False,
        idle_timeout: float | None = 600.0,
    ) -> None:
        self._log = log
        self._delivery = Delivery(sink, log)
        self._flows = FlowTable()
        self._client_tls = _client_context(tls_verify)
        self._idle_timeout = idle_timeout
        self._udp: list[UdpEndpoint] = []
        self._udp4: UdpEndpoint | None = None  # where UDP to an IPv4 / IPv6 peer is sent from
        self._udp6: UdpEndpoint | None = None
        #: What the SIP endpoint should send through: UDP without this class's own code.
        self.sender = UdpFirst(self)
        self._servers: list[asyncio.Server] = []
        self._ws_servers: list[WsServer] = []
        self._streams: set[StreamConnection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._local: dict[str, tuple[str, int]] = {}
        self._closed = False

    async def start_udp(self, host: str, port: int) -> int:
        sock = bind_udp(host, port)
        bound = sock.getsockname()
        loop = asyncio.get_running_loop()
        _, endpoint = await loop.create_datagram_endpoint(
            lambda: UdpEndpoint(self._delivery, self._log), sock=sock
        )
        self._udp.append(endpoint)
        self._pick_udp()
        return self._listening("UDP", bound)

    async def start_tcp(self, host: str, port: int) -> int:
        return await self._start_stream("TCP", host, port, None)

    async def start_tls(self, host: str, port: int, ssl_context: ssl.SSLContext) -> int:
        return await self._start_stream("TLS", host, port, ssl_context)

    async def start_ws(
        self, host: str, port: int, ssl_context: ssl.SSLContext | None = None
    ) -> int:
        name = "WS" if ssl_context is None else "WSS"
        server = await ws_serve(
            WsHandler(name, self._delivery, self._flows, self._log),
            host,
            port,
            subprotocols=[Subprotocol("sip")],
            ssl=ssl_context,
            max_size=MAX_MESSAGE,
            logger=self._log.getChild("ws"),
        )
        self._ws_servers.append(server)
        return self._listening(name, next(iter(server.sockets)).getsockname())

    def send(self, data: bytes, peer: Peer) -> None:
        name = peer.transport
        if name == "UDP" or name.upper() == "UDP":  # the first test is the common case
            self._send_udp(data, peer)
            return
        name = name.upper()
        conn = self._flows.find(peer)
        if conn is not None:
            conn.write(data)
        elif name in ("TCP", "TLS") and not self._closed:
            self._connect(peer).write(data)
        else:
            self._log.debug("no connection to %s, dropping message", peer)

    def local_address(self, transport: str) -> tuple[str, int]:
        """(host, port) of the first listener of that transport; KeyError if none."""
        return self._local[transport.upper()]

    async def close(self) -> None:
        self._closed = True
        for task in self._tasks:
            task.cancel()
        for conn in self._flows.all():
            conn.close()
        for server in self._servers:
            server.close()
        for ws_server in self._ws_servers:
            ws_server.close()
        for endpoint in self._udp:
            if endpoint.transport is not None:
                endpoint.transport.close()
        await self._drain_streams()
        for server in self._servers:
            await server.wait_closed()
        for ws_server in self._ws_servers:
            await ws_server.wait_closed()
        await asyncio.sleep(0)  # let UDP transports finish closing

    async def _start_stream(
        self, name: str, host: str, port: int, ssl_context: ssl.SSLContext | None
    ) -> int:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: self._new_stream(Peer(name, "", 0, self._flows.new_flow())),
            host,
            port,
            ssl=ssl_context,
        )
        self._servers.append(server)
        self._start_sweeper()
        return self._listening(name, server.sockets[0].getsockname())

    def _new_stream(self, peer: Peer) -> StreamConnection:
        conn = StreamConnection(peer, self._delivery, self._flows, self._log)
        self._streams.add(conn)
        conn.done.add_done_callback(lambda _: self._streams.discard(conn))
        return conn

    def _connect(self, peer: Peer) -> StreamConnection:
        name = peer.transport.upper()
        conn = self._new_stream(Peer(name, peer.host, peer.port, self._flows.new_flow()))
        self._flows.add(conn)
        ctx = self._client_tls if conn.peer.transport == "TLS" else None
        self._spawn(self._open(conn, ctx))
        self._start_sweeper()
        return conn

    async def _open(self, conn: StreamConnection, ctx: ssl.SSLContext | None) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await loop.create_connection(lambda: conn, conn.peer.host, conn.peer.port, ssl=ctx)
        except OSError as e:  # includes ssl.SSLError and TimeoutError
            conn.connect_failed(e)
        except asyncio.CancelledError:
            conn.connect_failed(ConnectionAbortedError("transports closed"))
            raise

    def _send_udp(self, data: bytes, peer: Peer) -> None:
        endpoint = self._udp6 if ":" in peer.host else self._udp4
        if endpoint is None:
            self._log.debug("no UDP listener, dropping message to %s", peer)
            return
        endpoint.sendto(data, peer)

    def _pick_udp(self) -> None:
        """The listener each address family sends from: the first of that family, else the
        first of any (looked up once per listener started, not per message)."""
        for family in (socket.AF_INET, socket.AF_INET6):
            same = [e for e in self._udp if e.family == family] or self._udp
            chosen = same[0] if same else None
            if family == socket.AF_INET:
                self._udp4 = chosen
            else:
                self._udp6 = chosen
        self.sender.udp4, self.sender.udp6 = self._udp4, self._udp6

    def _start_sweeper(self) -> None:
        if self._idle_timeout is not None and not any(
            t.get_name() == "sip-idle-sweeper" for t in self._tasks
        ):
            self._spawn(self._sweep(self._idle_timeout), name="sip-idle-sweeper")

    async def _sweep(self, idle_timeout: float) -> None:
        while True:
            await asyncio.sleep(min(idle_timeout / 4, 60.0))
            deadline = time.monotonic() - idle_timeout
            for conn in list(self._streams):
                if conn.last_active < deadline:
                    self._log.debug("closing idle flow %d to %s", conn.peer.flow, conn.peer)
                    conn.close()

    async def _drain_streams(self) -> None:
        pending = [conn.done for conn in self._streams]
        if pending:
            _, late = await asyncio.wait(pending, timeout=CLOSE_TIMEOUT)
            for conn in list(self._streams):
                if conn.done in late:
                    conn.abort()
            await asyncio.sleep(0)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str | None = None) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _listening(self, name: str, sockname: tuple[str | int, ...]) -> int:
        host, port = str(sockname[0]), int(sockname[1])
        self._local.setdefault(name, (host, port))
        self._log.info("listening on %s %s:%d", name, host, port)
        return port


def _client_context(verify: bool) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx
