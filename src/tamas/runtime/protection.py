"""Protection against floods, scanners and password guessing.

* A token bucket per source IP limits the messages a source may send (excess is dropped
  silently: a scanner learns nothing, not even that it is being limited).
* Failed digest authentications are counted per source IP in a sliding window; at the limit the
  source is banned for a while, and one line is logged in a fixed format that fail2ban can read::

    SECURITY ban ip=192.0.2.7 reason=auth-failures failures=5 window=60s duration=600s

  While banned, every message from the source is dropped.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


@dataclass(slots=True)
class Protection:
    rate: float
    burst: float
    ban_failures: int
    ban_window: float
    ban_seconds: float
    log: logging.Logger
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _banned: dict[str, float] = field(default_factory=dict)

    def allow(self, ip: str, now: float) -> bool:
        until = self._banned.get(ip)
        if until is not None:
            if now < until:
                return False
            del self._banned[ip]
            self.log.info("SECURITY unban ip=%s", ip)
        b = self._buckets.get(ip)
        if b is None:
            if len(self._buckets) > 100_000:
                self._buckets.clear()
            self._buckets[ip] = _Bucket(self.burst - 1, now)
            return True
        b.tokens = min(self.burst, b.tokens + (now - b.stamp) * self.rate)
        b.stamp = now
        if b.tokens < 1:
            return False
        b.tokens -= 1
        return True

    def auth_failed(self, ip: str, now: float) -> bool:
        """Count a failed authentication; True if this one got the source banned."""
        q = self._failures.setdefault(ip, deque())
        q.append(now)
        while q and q[0] < now - self.ban_window:
            q.popleft()
        if len(q) < self.ban_failures:
            return False
        count = len(q)
        del self._failures[ip]
        self._banned[ip] = now + self.ban_seconds
        self.log.warning(
            "SECURITY ban ip=%s reason=auth-failures failures=%d window=%ds duration=%ds",
            ip, count, int(self.ban_window), int(self.ban_seconds),
        )  # fmt: skip
        return True

    def auth_succeeded(self, ip: str) -> None:
        self._failures.pop(ip, None)
