"""RFC 4475 torture messages against a running Tamas, over UDP and TCP.

Each message is sent unchanged; the answer (matched by Call-ID) must be what
shared/conformance/README.md expects for a UAS/registrar/B2BUA, and the server must still answer
OPTIONS afterwards and must not have logged a traceback. The messages name hosts such as
192.0.2.x and example.com: Tamas answers the source address (symmetric response routing), so
every reply comes back to the test's own loopback socket and nothing leaves the machine.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import (
    LOOPBACK,
    ManagedProcess,
    free_port,
    sip_options_probe,
    start_tamas,
    tamas_loadgen_config,
)

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "rfc4475"

OK = {200}
CHALLENGE = {401}  # a request that is fine but needs digest authentication first
# The expected final status per file; None means no answer at all (responses are never answered).
EXPECTED: dict[str, set[int] | None] = {
    # 3.1.1 valid, tortuous syntax
    # wsinv's To has a tag: a mid-dialog request for a dialog we do not know (481)
    "wsinv": {481}, "intmeth": {501}, "esc01": CHALLENGE, "escnull": CHALLENGE,
    "esc02": {501}, "lwsdisp": OK, "longreq": CHALLENGE, "dblreq": CHALLENGE,
    "semiuri": OK, "transports": OK, "mpart01": {405}, "unreason": None, "noreason": None,
    # 3.1.2 invalid
    "badinv01": {400}, "clerr": {400}, "ncl": {400}, "scalar02": {400}, "ltgtruri": {400},
    "lwsruri": {400}, "badvers": {505}, "mismatch01": {400}, "mismatch02": {400},
    # 3.1.2 invalid but may be tolerated
    "quotbal": {400, 200}, "baddn": {400, 200}, "lwsstart": {400} | CHALLENGE,
    "trws": {400, 200}, "escruri": {400} | CHALLENGE, "baddate": {400} | CHALLENGE,
    "regbadct": {400} | CHALLENGE, "badaspec": {400, 200},
    # responses: dropped
    "scalarlg": None, "bigcode": None, "bcast": None,
    # 3.2 transaction layer
    "badbranch": {200, 400},
    # 3.3 application semantics
    "insuf": {400}, "unkscm": {416}, "novelsc": {416, 404}, "unksm2": CHALLENGE,
    "bext01": {420}, "invut": {415}, "regaut01": CHALLENGE, "multi01": {400}, "mcl01": {400},
    "sdp01": {406}, "zeromf": OK, "cparam01": CHALLENGE, "cparam02": CHALLENGE,
    "regescrt": CHALLENGE,
    # 3.4 backward compatibility
    "inv2543": CHALLENGE,
}  # fmt: skip



def test_corpus_is_there() -> None:
    """shared/ sits beside the repository (as in CI): a missing corpus is a failure, not a skip."""
    assert len(list(CORPUS.glob("*.dat"))) >= 49, f"RFC 4475 corpus missing at {CORPUS}"


def _txn_key(data: bytes) -> tuple[bytes, ...]:
    """The server-transaction key of RFC 3261 section 17.2.3 (branch, sent-by, method)."""
    via = re.search(rb"^(?:Via|v)\s*:\s*(.*)$", data, re.M | re.I)
    cseq = re.search(rb"^CSeq\s*:\s*\d+\s+(\S+)", data, re.M | re.I)
    return (via.group(1).strip() if via else b"", cseq.group(1) if cseq else b"")


def _round(name: str) -> int:
    """Several corpus messages share a branch and sent-by; to the server a second one is a
    retransmission of the first. Each such message goes to a server of its own "round"."""
    key = _txn_key((CORPUS / f"{name}.dat").read_bytes())
    earlier = [n for n in sorted(EXPECTED) if n < name]
    return sum(_txn_key((CORPUS / f"{n}.dat").read_bytes()) == key for n in earlier)


class Servers:
    def __init__(self, tmp: pytest.TempPathFactory, transport: str) -> None:
        self.tmp, self.transport = tmp, transport
        self.ports: dict[int, int] = {}
        self.procs: list[ManagedProcess] = []

    def port(self, round_: int) -> int:
        if round_ not in self.ports:
            port = free_port("udp")
            tmp = self.tmp.mktemp(f"rfc4475-{self.transport}-{round_}")
            cfg = tamas_loadgen_config(sip_port=port, data_dir=tmp / "data", log_level="info")
            self.procs.append(start_tamas(cfg, tmp, port))
            self.ports[round_] = port
        return self.ports[round_]


@pytest.fixture(scope="module", params=["udp", "tcp"])
def servers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Servers]:  # fmt: skip
    """Tamas servers for one transport; the log of each must hold no traceback."""
    s = Servers(tmp_path_factory, request.param)
    try:
        yield s
    finally:
        for proc in s.procs:
            proc.stop()
            log = proc.output()
            assert "Traceback" not in log, log[-3000:]


def _call_id(data: bytes) -> str | None:
    m = re.search(rb"^(?:Call-ID|i)\s*:\s*(\S+)", data, re.M | re.I)
    return m.group(1).decode(errors="replace") if m else None


def _final_status(replies: list[bytes], call_id: str | None) -> int | None:
    for r in replies:
        m = re.match(rb"SIP/2\.0 (\d{3}) ", r)
        if m and int(m.group(1)) >= 200 and (call_id is None or _call_id(r) == call_id):
            return int(m.group(1))
    return None


def _udp_exchange(port: int, data: bytes, wait: float) -> list[bytes]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        s.sendto(data, (LOOPBACK, port))
        return _collect(s, wait)


def _tcp_exchange(port: int, data: bytes, wait: float) -> list[bytes]:
    with socket.create_connection((LOOPBACK, port), timeout=2) as s:
        s.sendall(data)
        return _collect(s, wait)


def _collect(s: socket.socket, wait: float) -> list[bytes]:
    out: list[bytes] = []
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        s.settimeout(left)
        try:
            chunk = s.recv(65535)
        except (TimeoutError, ConnectionResetError):
            break
        if not chunk:
            break
        # a stream may carry several responses: split on the status lines
        out.extend(b"SIP/2.0 " + p for p in chunk.split(b"SIP/2.0 ")[1:] if p)
        if _final_status(out, None) is not None:
            break
    return out


@pytest.mark.peers
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_torture_message(servers: Servers, name: str) -> None:
    transport = servers.transport
    tamas = servers.port(_round(name))
    data = (CORPUS / f"{name}.dat").read_bytes()
    expected = EXPECTED[name]
    exchange = _udp_exchange if transport == "udp" else _tcp_exchange
    replies = exchange(tamas, data, 0.3 if expected is None else 2.0)
    status = _final_status(replies, _call_id(data))
    if expected is None:
        assert status is None, f"{name}: a response was answered: {replies!r}"
    elif transport == "tcp" and status is None and name == "clerr":
        pass  # on a stream, a Content-Length beyond the data waits for more bytes (RFC 3261 18.3)
    elif transport == "tcp" and name == "inv2543":
        assert status == 400  # no Content-Length: a stream cannot be framed (RFC 3261 18.3)
    else:
        assert status in expected, f"{name}: got {status}, want {expected}: {replies!r}"
    assert sip_options_probe(tamas, timeout=2.0) == "SIP/2.0 200 OK"
