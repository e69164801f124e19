"""Where a message came from or goes to, as the sans-IO layers see it."""

from __future__ import annotations

from dataclasses import dataclass

RELIABLE = frozenset({"TCP", "TLS", "WS", "WSS"})


@dataclass(slots=True, unsafe_hash=True)
class Peer:
    """A transport address. ``flow`` names a connection for TCP/TLS/WS (0 = any/new).

    Immutable by convention: a dataclass with its own ``__init__`` (compiled in the mypyc
    build, where the generated one runs interpreted), hence not ``frozen``; nothing assigns
    to it after construction.
    """

    transport: str
    host: str
    port: int
    flow: int = 0

    def __init__(self, transport: str, host: str, port: int, flow: int = 0) -> None:
        self.transport = transport
        self.host = host
        self.port = port
        self.flow = flow

    @property
    def reliable(self) -> bool:
        return self.transport in RELIABLE

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.transport.lower()}:{host}:{self.port}"
