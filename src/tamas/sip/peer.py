"""Where a message came from or goes to, as the sans-IO layers see it."""

from __future__ import annotations

from dataclasses import dataclass

RELIABLE = frozenset({"TCP", "TLS", "WS", "WSS"})


@dataclass(slots=True)
class Peer:
    """A transport address. ``flow`` names a connection for TCP/TLS/WS (0 = any/new).

    Immutable by convention: a dataclass with its own ``__init__``, ``__eq__`` and
    ``__hash__`` (compiled in the mypyc build, where the generated ones run interpreted; the
    server's SIP path compares peers rarely, benchmarks/b2bua_inmemory.py's wire 20 times per
    call, ~4 % of its instructions with the generated ``__eq__``), hence not ``frozen``;
    nothing assigns to it after construction. They compare and hash the four fields as the
    generated ones did.
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

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Peer) or other.__class__ is not self.__class__:
            return NotImplemented
        return (
            self.port == other.port
            and self.host == other.host
            and self.transport == other.transport
            and self.flow == other.flow
        )

    def __hash__(self) -> int:
        return hash((self.transport, self.host, self.port, self.flow))

    @property
    def reliable(self) -> bool:
        return self.transport in RELIABLE

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.transport.lower()}:{host}:{self.port}"
