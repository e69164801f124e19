"""The leanest uvloop relay: a reference floor for benchmarks/media_capacity.py (target ``uvloop``).

Speaks relay_server.py's protocol: opens ``--calls`` calls of two UDP sockets each, prints one
line "PA PB" per call (the ports the generator sends to), then "READY", and relays until stdin
closes; then prints a JSON summary. Each packet that arrives on one socket of a call is sent,
unchanged and unexamined, out of the call's other socket to the generator's other port: no
RTP parsing, no statistics, no latching, no recording. It is what the issue calls "a lean
uvloop relay": what CPython + uvloop + the kernel cost per packet before any media engine
work, so that the figures of ``tamas`` and ``tamas+rec`` can be read against the floor that
Python itself sets, beside rtpengine's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys

import uvloop

HOST = "127.0.0.1"


class _Half(asyncio.DatagramProtocol):
    __slots__ = ("out", "received", "target", "transport")

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.out: asyncio.DatagramTransport | None = None  # the other socket's transport
        self.transport: asyncio.DatagramTransport | None = None
        self.received = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received += 1
        self.out.sendto(data, self.target)  # type: ignore[union-attr]

    def error_received(self, exc: Exception) -> None:
        pass


def _bound_socket(port_min: int, port_max: int, taken: set[int]) -> socket.socket:
    for port in range(port_min, port_max, 2):
        if port in taken:
            continue
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((HOST, port))
        except OSError:
            sock.close()
            continue
        taken.add(port)
        sock.setblocking(False)
        return sock
    raise SystemExit("no free port")


async def main(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    taken: set[int] = set()
    halves: list[_Half] = []
    for _ in range(args.calls):
        a = _Half((HOST, args.gen_b))  # from the generator's A side, out to its B side
        b = _Half((HOST, args.gen_a))
        for half in (a, b):
            sock = _bound_socket(args.port_min, args.port_max, taken)
            await loop.create_datagram_endpoint(lambda half=half: half, sock=sock)  # type: ignore[misc]
        a.out, b.out = b.transport, a.transport
        halves += (a, b)
        print(a.transport.get_extra_info("sockname")[1], b.transport.get_extra_info("sockname")[1])  # type: ignore[union-attr]
    print("READY", flush=True)
    done = asyncio.Event()
    loop.add_reader(sys.stdin.fileno(), done.set)
    await done.wait()
    # Once closed, stdin stays readable: a reader left on it would spin the loop while the
    # relay closes (and under media_capacity.py --realtime starve the recording process).
    loop.remove_reader(sys.stdin.fileno())
    print(json.dumps({"legs": len(halves), "received": sum(h.received for h in halves)}))
    for half in halves:
        half.transport.close()  # type: ignore[union-attr]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--gen-a", type=int, required=True)
    parser.add_argument("--gen-b", type=int, required=True)
    parser.add_argument("--port-min", type=int, default=20000)
    parser.add_argument("--port-max", type=int, default=29999)
    uvloop.run(main(parser.parse_args()))
