"""Where a message came from or goes to, as the sans-IO layers see it."""

from __future__ import annotations

from dataclasses import dataclass

RELIABLE = frozenset({"TCP", "TLS", "WS", "WSS"})


@dataclass(frozen=True, slots=True)
class Peer:
    """A transport address. ``flow`` names a connection for TCP/TLS/WS (0 = any/new)."""

    transport: str
    host: str
    port: int
    flow: int = 0

    @property
    def reliable(self) -> bool:
        return self.transport in RELIABLE

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.transport.lower()}:{host}:{self.port}"
