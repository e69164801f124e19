"""Overload guard: refuse new calls with 503 while the event loop is falling behind.

A SIP server past its capacity does not slow down gracefully: answers come late, phones and
trunks retransmit, the retransmissions add load, and every call suffers (measured here: at
800 calls per second, setup times of 1-3 s and calls timing out). So Tamas watches how late
a 50 ms heartbeat fires. When it is more than ``high`` late, new INVITEs (not requests inside
calls, which keep established calls healthy) are answered ``503 Service Unavailable`` with
``Retry-After``, which a trunk reads as "try another route"; once the lag has stayed under
``low`` for ``hold`` seconds they are accepted again. Both changes are logged once.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("tamas.sip")

HEARTBEAT = 0.05


class OverloadGuard:
    def __init__(self, *, high: float = 0.25, low: float = 0.1, hold: float = 2.0) -> None:
        self.high = high
        self.low = low
        self.hold = hold
        self._calm = 0.0  # seconds the lag has been under ``low`` while overloaded
        self.overloaded = False
        self.lag = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self._expected = 0.0

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._expected = loop.time() + HEARTBEAT
        self._handle = loop.call_at(self._expected, self._beat)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _beat(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        self.observe(now - self._expected, HEARTBEAT)
        self._expected = now + HEARTBEAT
        self._handle = loop.call_at(self._expected, self._beat)

    def observe(self, lag: float, interval: float) -> None:
        """Take one lag measurement into account (seconds; ``interval`` since the last)."""
        self.lag = lag
        if lag > self.high:
            if not self.overloaded:
                log.warning("SIP overload: event loop %d ms behind; new calls get 503",
                            lag * 1000)  # fmt: skip
            self.overloaded = True
            self._calm = 0.0
        elif self.overloaded:
            self._calm = self._calm + interval if lag < self.low else 0.0
            if self._calm >= self.hold:
                self.overloaded = False
                log.warning("SIP overload over: new calls accepted again")
