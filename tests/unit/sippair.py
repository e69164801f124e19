"""Two SIP transaction layers wired back to back in memory, with a fake clock.

In the spirit of h11's ConnectionPair and aioquic's ``roundtrip()``: every :class:`Send` one
layer emits is serialised, optionally dropped by a rule, parsed again with
:func:`parse_datagram` and fed to the other layer at the current fake time. Nothing sleeps;
:meth:`SipPair.advance` moves time from deadline to deadline.

A test drives the transaction users (TUs) by hand: it reads the events an :class:`End`
collected, answers with ``layer.respond``/``layer.request`` and calls :meth:`SipPair.pump`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tamas.sip.builders import new_branch, new_tag
from tamas.sip.headers import Headers
from tamas.sip.message import Request, Response, parse_datagram
from tamas.sip.peer import Peer
from tamas.sip.transaction import Output, Send, TransactionLayer
from tamas.sip.uri import parse_uri

Message = Request | Response
Predicate = Callable[[Message], bool]


class FakeClock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now


@dataclass
class DropRule:
    """Drop the ``nth`` (1-based) message for which ``predicate`` holds; every one if None."""

    predicate: Predicate
    nth: int | None = 1
    seen: int = 0

    def drops(self, msg: Message) -> bool:
        if not self.predicate(msg):
            return False
        self.seen += 1
        return self.nth is None or self.seen == self.nth


@dataclass(frozen=True)
class Sent:
    """One message on the wire (``dropped`` when a rule ate it)."""

    time: float
    src: str
    dst: str
    message: Message
    dropped: bool

    @property
    def label(self) -> str:
        m = self.message
        return m.method if isinstance(m, Request) else f"{m.status}/{m.cseq.method}"


@dataclass
class End:
    """One side: its layer, its address, and the TU events it received (Sends excluded)."""

    name: str
    layer: TransactionLayer
    peer: Peer
    events: list[Output] = field(default_factory=list)

    def take_events(self) -> list[Output]:
        out, self.events = self.events, []
        return out

    def events_of(self, kind: type) -> list[object]:
        return [e for e in self.events if isinstance(e, kind)]


class Wire:
    """Delivery between ends, with drop rules and a log of every message."""

    def __init__(self) -> None:
        self.rules: list[DropRule] = []
        self.log: list[Sent] = []

    def drop(self, predicate: Predicate, nth: int | None = 1) -> None:
        self.rules.append(DropRule(predicate, nth))

    def should_drop(self, msg: Message) -> bool:
        # Every rule sees every message, so that counts stay exact.
        return any([r.drops(msg) for r in self.rules])


class SipPair:
    """Alice (``a``, usually the UAC) and Bob (``b``, usually the UAS)."""

    def __init__(self, transport: str = "UDP", **timers: float) -> None:
        self.transport = transport
        self.clock = FakeClock()
        self.wire = Wire()
        self.a = End("a", TransactionLayer(**timers), Peer(transport, "192.0.2.1", 5060))
        self.b = End("b", TransactionLayer(**timers), Peer(transport, "192.0.2.2", 5070))

    @property
    def now(self) -> float:
        return self.clock.now

    def other(self, end: End) -> End:
        return self.b if end is self.a else self.a

    def end_at(self, peer: Peer) -> End:
        for end in (self.a, self.b):
            if (end.peer.host, end.peer.port) == (peer.host, peer.port):
                return end
        raise AssertionError(f"no end listens on {peer}")

    # -- delivery ---------------------------------------------------------------------------
    def pump(self) -> None:
        """Deliver until both layers are quiet."""
        busy = True
        while busy:
            busy = False
            for end in (self.a, self.b):
                for item in end.layer.take():
                    busy = True
                    if isinstance(item, Send):
                        self._deliver(end, item)
                    else:
                        end.events.append(item)

    def _deliver(self, src: End, item: Send) -> None:
        assert item.peer.transport == self.transport
        dst = self.end_at(item.peer)
        msg = parse_datagram(item.data)
        dropped = self.wire.should_drop(msg)
        self.wire.log.append(Sent(self.now, src.name, dst.name, msg, dropped))
        if not dropped:
            dst.layer.receive(msg, src.peer, self.now)

    # -- time -------------------------------------------------------------------------------
    def deadline(self) -> float | None:
        pending = (self.a.layer.next_deadline(), self.b.layer.next_deadline())
        times = [t for t in pending if t is not None]
        return min(times) if times else None

    def advance(self, until: float) -> None:
        """Move the clock to ``until``, firing every timer on the way at its exact time."""
        while (when := self.deadline()) is not None and when <= until:
            assert when >= self.now, "a deadline lies in the past"
            for end in (self.a, self.b):
                # No timer may fire before the reported deadline.
                end.layer.handle_timer(when - 1e-9)
                assert end.layer.take() == []
            self.clock.now = when
            self.a.layer.handle_timer(when)
            self.b.layer.handle_timer(when)
            self.pump()
        self.clock.now = until

    def settle(self) -> None:
        """Run until no timer is pending in either layer."""
        while (when := self.deadline()) is not None:
            self.advance(when)

    # -- wire log ---------------------------------------------------------------------------
    def sent(self, label: str, src: str | None = None) -> list[Sent]:
        return [s for s in self.wire.log if s.label == label and src in (None, s.src)]

    def times(self, label: str, src: str | None = None) -> list[float]:
        return [s.time for s in self.sent(label, src)]


def is_request(method: str) -> Predicate:
    return lambda m: isinstance(m, Request) and m.method == method


def is_response(status: int, method: str | None = None) -> Predicate:
    def match(m: Message) -> bool:
        return isinstance(m, Response) and m.status == status and method in (None, m.cseq.method)

    return match


# -- request factories ----------------------------------------------------------------------
def make_request(
    method: str,
    src: End,
    dst: End,
    *,
    call_id: str | None = None,
    cseq: int = 1,
    branch: str | None = None,
    from_tag: str | None = None,
    via_host: str | None = None,
    rport: bool = False,
    body: bytes = b"",
    headers: tuple[tuple[str, str], ...] = (),
) -> Request:
    """A request from ``src`` to ``dst`` with a fresh branch (unless one is given)."""
    via_params = f";branch={branch or new_branch()}" + (";rport" if rport else "")
    h = Headers()
    h.add("Via", f"SIP/2.0/{src.peer.transport} {via_host or src.peer.host}:{src.peer.port}"
                 f"{via_params}")  # fmt: skip
    h.add("Max-Forwards", "70")
    h.add("From", f"<sip:{src.name}@example.com>;tag={from_tag or new_tag()}")
    h.add("To", f"<sip:{dst.name}@example.com>")
    h.add("Call-ID", call_id or f"{new_tag()}@example.com")
    h.add("CSeq", f"{cseq} {method}")
    if method == "INVITE":
        h.add("Contact", f"<sip:{src.name}@{src.peer.host}:{src.peer.port}>")
    for k, v in headers:
        h.add(k, v)
    uri = parse_uri(f"sip:{dst.name}@{dst.peer.host}:{dst.peer.port}")
    return Request(method=method, uri=uri, headers=h, body=body)


def invite(src: End, dst: End, **kw: object) -> Request:
    return make_request("INVITE", src, dst, **kw)  # type: ignore[arg-type]


def options(src: End, dst: End, **kw: object) -> Request:
    return make_request("OPTIONS", src, dst, **kw)  # type: ignore[arg-type]


def bye(src: End, dst: End, **kw: object) -> Request:
    return make_request("BYE", src, dst, **kw)  # type: ignore[arg-type]
