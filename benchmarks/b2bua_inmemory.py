"""Profile the SIP path of Tamas without sockets: calls driven in memory through the real
endpoint, transaction layer and B2BUA (trunk "loadgen" -> extension 2000).

Not a test and not the capacity figure (that is ``sip_cps.py``, over real sockets against SIPp):
this isolates Tamas's own CPU per call, so that changes to the hot path can be compared
quickly and profiled without socket noise.

    python benchmarks/b2bua_inmemory.py --calls 5000            # CPU per call
    python benchmarks/b2bua_inmemory.py --calls 5000 --profile  # plus the top functions
    python benchmarks/b2bua_inmemory.py --calls 5000 --no-anchor  # SDP passed through
    python benchmarks/b2bua_inmemory.py --calls 5000 --expire   # every transaction ends too
    valgrind --tool=callgrind --instr-atstart=no python benchmarks/b2bua_inmemory.py \
        --calls 300 --callgrind       # instructions of the measured calls only (noise-free)

Calls are media-anchored as in the default config (``media.anchor``): the real local media
engine opens its RTP legs on loopback (no RTP flows). ``--no-anchor`` passes SDP through.

Without ``--expire`` the transactions' timers of 5 s and 32 s (RFC 3261 timers K, J, L, M...)
never fire during the measured calls, although a live server fires them all, once per
transaction; ``--expire`` fires every timer still pending (as if 64 s had passed) after the
measured calls, inside the measurement, so that ending the transactions and freeing the
calls' messages are counted too.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import pstats
import subprocess
import tempfile
import time
from pathlib import Path

from tamas.config import parse_config
from tamas.runtime.app import build_sip_stack, start_media
from tamas.runtime.endpoint import SipEndpoint
from tamas.runtime.gcpolicy import GcPolicy
from tamas.runtime.storewriter import StoreWriter
from tamas.sip.message import parse_datagram
from tamas.sip.peer import Peer
from tamas.store import open_store

CONFIG = """
server: {bind: 127.0.0.1, sip_port: 5060, tls_port: 0, ws_port: 0, wss_port: 0, http_port: 0}
security: {rate_limit: {messages_per_second: 1000000, burst: 1000000}}
extensions:
  - {number: "2000", name: Sink, password: x, contact: "sip:sink@127.0.0.1:5072"}
trunks:
  - {name: loadgen, host: 127.0.0.1, port: 5071, inbound_match: source, match_port: true}
inbound:
  - {did: "*", destination: "2000", trunk: loadgen}
"""

UAC = Peer("UDP", "127.0.0.1", 5071)
UAS = Peer("UDP", "127.0.0.1", 5072)
SDP = (
    "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


class Wire:
    """Stands in for the transports: collects what Tamas sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, Peer]] = []

    def send(self, data: bytes, peer: Peer) -> None:
        self.sent.append((data, peer))

    def take(self, peer: Peer) -> list[bytes]:
        mine = [d for d, p in self.sent if p == peer]
        self.sent = [(d, p) for d, p in self.sent if p != peer]
        return mine


def _headers(msg: bytes) -> dict[bytes, bytes]:
    """The first value of each header of one of Tamas's messages (the driver's own parsing,
    kept cheap: it is counted in the figures)."""
    head = msg[: msg.find(b"\r\n\r\n")]
    out: dict[bytes, bytes] = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b": ")
        out.setdefault(name, value)
    return out


def _response(req: bytes, status: str, tag: str, body: str = "") -> bytes:
    heads = [b"SIP/2.0 " + status.encode()]
    found = _headers(req)
    for name in (b"Via", b"From", b"To", b"Call-ID", b"CSeq"):
        value = found[name]
        if name == b"To" and b"tag=" not in value:
            value += b";tag=" + tag.encode()
        heads.append(name + b": " + value)
    heads.append(b"Contact: <sip:sink@127.0.0.1:5072>")
    if body:
        heads.append(b"Content-Type: application/sdp")
    heads.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(heads) + b"\r\n\r\n" + body.encode()


def _uac_request(method: str, n: int, cseq: int, to_tag: str = "") -> bytes:
    to = "<sip:service@127.0.0.1:5060>" + (f";tag={to_tag}" if to_tag else "")
    body = SDP if method == "INVITE" else ""
    lines = [
        f"{method} sip:service@127.0.0.1:5060 SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-{n}-{cseq}-{method};rport",
        f'From: "Load Gen" <sip:loadgen@127.0.0.1:5071>;tag={n}SIPpTag',
        f"To: {to}",
        f"Call-ID: {n}-bench@127.0.0.1",
        f"CSeq: {cseq} {method}",
        "Contact: <sip:loadgen@127.0.0.1:5071>",
        "Max-Forwards: 70",
    ]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def one_call(ep: SipEndpoint, wire: Wire, n: int) -> None:
    def deliver(data: bytes, peer: Peer) -> None:
        ep.on_message(parse_datagram(data), peer)

    deliver(_uac_request("INVITE", n, 1), UAC)
    (invite,) = [m for m in wire.take(UAS) if m.startswith(b"INVITE")]
    deliver(_response(invite, "100 Trying", "u"), UAS)
    deliver(_response(invite, "180 Ringing", f"u{n}"), UAS)
    deliver(_response(invite, "200 OK", f"u{n}", SDP), UAS)
    ok = next(m for m in wire.take(UAC) if m.startswith(b"SIP/2.0 200"))
    a_tag = _headers(ok)[b"To"].split(b";tag=", 1)[1].split(b";", 1)[0].decode()
    deliver(_uac_request("ACK", n, 1, a_tag), UAC)
    deliver(_uac_request("BYE", n, 2, a_tag), UAC)
    (bye,) = [m for m in wire.take(UAS) if m.startswith(b"BYE")]
    deliver(_response(bye, "200 OK", f"u{n}"), UAS)
    wire.take(UAC)


def _callgrind(on: bool) -> None:
    """Switch callgrind's instrumentation of this process (run under --instr-atstart=no)."""
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
                   check=True, capture_output=True)  # fmt: skip


async def run(
    calls: int, profile: bool, no_gc_policy: bool = False, anchor: bool = True,
    callgrind: bool = False, expire: bool = False,
) -> None:  # fmt: skip
    config = parse_config(CONFIG + f"media: {{anchor: {str(anchor).lower()}}}\n", "bench.yaml")
    tmp = Path(tempfile.mkdtemp())
    store = open_store(f"sqlite:///{tmp / 'tamas.db'}")
    writer = StoreWriter(store)
    stack = build_sip_stack(config, store, writer)
    ep = stack.endpoint
    wire = Wire()
    ep.transports = wire
    ep.advertised = {"UDP": ("127.0.0.1", 5060)}
    media = await start_media(config, stack, tmp)
    pool = media.anchor.pool if media is not None else None

    async def ready() -> None:  # the pool refills between calls, as in a live server
        while pool is not None and pool.available() < 2:
            await asyncio.sleep(0)

    gc_policy = GcPolicy()
    if not no_gc_policy:
        gc_policy.start()
    for n in range(200):  # warm up caches
        await ready()
        one_call(ep, wire, -n - 1)
    if expire:  # the warm-up's transactions end before the measurement
        ep.layer.handle_timer(ep.now() + 64 * ep.layer.t1 + 60.0)
        ep.pump()
    prof = cProfile.Profile() if profile else None
    if callgrind:
        _callgrind(True)
    t0 = time.process_time()
    if prof:
        prof.enable()
    lat: list[float] = []
    for n in range(calls):
        await ready()
        t = time.perf_counter()
        one_call(ep, wire, n)
        lat.append(time.perf_counter() - t)
        await asyncio.sleep(0)  # let the transaction timers run, as in a live server
    if expire:  # what the live server does 5 and 32 s later: every transaction ends
        ep.layer.handle_timer(ep.now() + 64 * ep.layer.t1 + 60.0)
        ep.pump()
    if prof:
        prof.disable()
    cpu = time.process_time() - t0
    if callgrind:
        _callgrind(False)
    gc_policy.stop()
    if media is not None:
        await media.aclose()
    writer.close()
    print(f"{calls} calls, {cpu:.2f} s CPU (driver included): {cpu / calls * 1e3:.3f} ms per call")
    print(f"live transactions (client, server): {ep.layer.counts}")
    lat.sort()
    p50, p99, worst = (lat[len(lat) // 2] * 1e3, lat[int(len(lat) * 0.99)] * 1e3, lat[-1] * 1e3)
    print(f"wall per call ms: p50 {p50:.3f}  p99 {p99:.3f}  max {worst:.3f}")
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=5000)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--no-gc-policy", action="store_true", help="leave the collector alone")
    ap.add_argument("--no-anchor", action="store_true", help="pass SDP through (media.anchor off)")
    ap.add_argument(
        "--expire",
        action="store_true",
        help="fire every pending transaction timer after the measured calls (counted)",
    )
    ap.add_argument("--callgrind", action="store_true",
                    help="under valgrind --tool=callgrind --instr-atstart=no: instrument only "
                    "the measured calls")  # fmt: skip
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import uvloop  # the server's loop (tamas.runtime.app.run)

    uvloop.install()
    asyncio.run(
        run(
            args.calls,
            args.profile,
            args.no_gc_policy,
            anchor=not args.no_anchor,
            callgrind=args.callgrind,
            expire=args.expire,
        )
    )


if __name__ == "__main__":
    main()
