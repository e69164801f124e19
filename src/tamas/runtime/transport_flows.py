"""Connection bookkeeping shared by the stream and WebSocket transports.

A *flow* is one open connection; its id is unique across all transports of a
:class:`~tamas.runtime.transports.Transports` and appears as ``Peer.flow`` on every message
read from it, so a response can go back on the very connection its request came in on
(RFC 3261 section 18.2.2, RFC 5626 section 5.3).
"""

from __future__ import annotations

import itertools
import logging
from typing import Protocol

from tamas.sip.errors import ParseError
from tamas.sip.message import Request, Response
from tamas.sip.peer import Peer


class MessageSink(Protocol):
    """Where the transports deliver what they read; implemented by the SIP endpoint."""

    def allow(self, peer: Peer) -> bool:
        """Rate-limit/ban check before each datagram or stream chunk is parsed.

        False drops the datagram; for a connection it also closes the connection.
        """
        ...

    def on_message(self, item: Request | Response | ParseError, peer: Peer) -> None:
        """A parsed message, or the error that parsing it raised."""
        ...


class Connection(Protocol):
    """One open flow, as the transport facade sees it."""

    @property
    def peer(self) -> Peer: ...

    @property
    def last_active(self) -> float: ...

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class FlowTable:
    """Open connections by flow id and by (transport, host, port)."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._by_flow: dict[int, Connection] = {}
        self._by_addr: dict[tuple[str, str, int], Connection] = {}

    def new_flow(self) -> int:
        return next(self._ids)

    def add(self, conn: Connection) -> None:
        peer = conn.peer
        self._by_flow[peer.flow] = conn
        self._by_addr[(peer.transport, peer.host, peer.port)] = conn

    def remove(self, conn: Connection) -> None:
        peer = conn.peer
        self._by_flow.pop(peer.flow, None)
        key = (peer.transport, peer.host, peer.port)
        if self._by_addr.get(key) is conn:
            del self._by_addr[key]

    def find(self, peer: Peer) -> Connection | None:
        """The peer's own flow if still open, else any open connection to its address."""
        name = peer.transport.upper()
        conn = self._by_flow.get(peer.flow) if peer.flow else None
        if conn is not None and conn.peer.transport == name:
            return conn
        return self._by_addr.get((name, peer.host, peer.port))

    def all(self) -> list[Connection]:
        return list(self._by_flow.values())


class Delivery:
    """Hands items to the sink; a failing sink is logged, never propagated into asyncio."""

    def __init__(self, sink: MessageSink, log: logging.Logger) -> None:
        self._sink = sink
        self._log = log
        self._seen: set[type[BaseException]] = set()

    def allow(self, peer: Peer) -> bool:
        try:
            return self._sink.allow(peer)
        except Exception as e:
            self._failed(e, "allow", peer)
            return False

    def deliver(self, item: Request | Response | ParseError, peer: Peer) -> None:
        if isinstance(item, ParseError):
            self._log.debug("unparsable message from %s: %s", peer, item)
        try:
            self._sink.on_message(item, peer)
        except Exception as e:
            self._failed(e, "on_message", peer)

    def _failed(self, e: Exception, where: str, peer: Peer) -> None:
        # A traceback the first time a given error type shows up, one line afterwards.
        if type(e) in self._seen:
            self._log.error("sink %s failed for %s: %r", where, peer, e)
        else:
            self._seen.add(type(e))
            self._log.exception("sink %s failed for %s", where, peer)
