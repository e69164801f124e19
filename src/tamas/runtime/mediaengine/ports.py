"""RTP/RTCP port pairs from a configured range (RFC 3550 section 11: RTP on an even port,
RTCP on the next odd one).

Pairs are handed out round-robin from a cursor rather than lowest-first, so a port just
released is not reused at once (late packets of the old call would land in the new one).
A port another program holds is skipped: binding is the only reliable test.
"""

from __future__ import annotations

import contextlib
import errno
import socket

from tamas.runtime.mediaengine.api import MediaError

__all__ = ["PortPairAllocator"]

#: Receive buffer asked for each RTP socket: a few hundred ms of bursts at high call counts.
RCVBUF_BYTES = 256 * 1024


class PortPairAllocator:
    """Binds UDP socket pairs (RTP even, RTCP odd) on ``host`` within ``[low, high]``."""

    def __init__(self, host: str, low: int, high: int) -> None:
        low += low % 2  # first even port
        if high - low < 1:
            raise MediaError(f"RTP port range {low}-{high} holds no even/odd pair")
        self.host = host
        self.low = low
        self.high = high
        self._family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._in_use: set[int] = set()
        self._cursor = low

    @property
    def capacity(self) -> int:
        return (self.high - self.low + 1) // 2

    @property
    def in_use(self) -> int:
        return len(self._in_use)

    def allocate(self) -> tuple[socket.socket, socket.socket]:
        """Bound, non-blocking (RTP, RTCP) sockets; raise MediaError when the range is full."""
        for _ in range(self.capacity):
            port = self._cursor
            self._cursor = port + 2 if port + 3 <= self.high else self.low
            if port in self._in_use:
                continue
            pair = self._bind_pair(port)
            if pair is not None:
                self._in_use.add(port)
                return pair
        raise MediaError(f"no free RTP port pair in {self.low}-{self.high} on {self.host}")

    def release(self, port: int) -> None:
        self._in_use.discard(port)

    def _bind_pair(self, port: int) -> tuple[socket.socket, socket.socket] | None:
        rtp = self._bind(port)
        if rtp is None:
            return None
        rtcp = self._bind(port + 1)
        if rtcp is None:
            rtp.close()
            return None
        with contextlib.suppress(OSError):  # a smaller buffer still works
            rtp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF_BYTES)
        return rtp, rtcp

    def _bind(self, port: int) -> socket.socket | None:
        sock = socket.socket(self._family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.bind((self.host, port))
        except OSError as exc:
            sock.close()
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return None
            raise MediaError(f"cannot bind RTP port {self.host}:{port}: {exc}") from None
        return sock
