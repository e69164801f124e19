"""Phones and trunks talking to Tamas's real endpoint and B2BUA in memory (no sockets).

In the spirit of h11's ConnectionPair (STYLE.md principle 10): the :class:`Wire` stands in for
the transports, parses every datagram Tamas sends and files it under the destination port; a
:class:`Phone` is one scripted peer at ``127.0.0.1:<port>``, built from the project's own sans-IO
pieces (:func:`~tamas.sip.builders.response_to`, :class:`~tamas.sip.dialog.Dialog`,
:class:`~tamas.sip.message.Request`). What a phone sends is serialised and parsed again, as if it
had crossed a wire, before it reaches :meth:`SipEndpoint.on_message`.

Timers are the endpoint's real loop timers: a scenario runs inside ``asyncio.run`` and waits
for a timer with :func:`until`.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from tamas.runtime.app import SipStack
from tamas.sip.builders import ack_for_non_2xx, cancel_for, new_branch, new_tag, response_to
from tamas.sip.dialog import Dialog
from tamas.sip.headers import Headers
from tamas.sip.message import Request, Response, parse_datagram
from tamas.sip.peer import Peer
from tamas.sip.uri import parse_uri

HOST = "127.0.0.1"
STRANGER_HOST = "127.0.0.2"  # another machine, for requests that must not be trusted
TAMAS_PORT = 5060
TAMAS_CONTACT = f"sip:tamas@{HOST}:{TAMAS_PORT}"

Message = Request | Response


def label(msg: Message) -> str:
    """``"INVITE"`` for a request, ``"180 INVITE"`` for a response (status and CSeq method)."""
    if isinstance(msg, Request):
        return msg.method
    return f"{msg.status} {msg.cseq.method}"


def sdp(port: int, *, direction: str = "sendrecv", version: int = 1) -> bytes:
    """A small audio offer/answer from ``127.0.0.1:port`` (the port tells the parties apart)."""
    return (
        f"v=0\r\no=- {port} {version} IN IP4 {HOST}\r\ns=-\r\nc=IN IP4 {HOST}\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na={direction}\r\n"
    ).encode()


@dataclass(frozen=True, slots=True)
class Received:
    data: bytes
    message: Message


class Wire:
    """The endpoint's ``transports``: parses what Tamas sends and files it by destination port."""

    def __init__(self) -> None:
        self.inbox: dict[int, list[Received]] = defaultdict(list)

    def send(self, data: bytes, peer: Peer) -> None:
        # loopback addresses only; the port alone tells the parties apart
        assert peer.transport in ("UDP", "TCP") and peer.host in (HOST, STRANGER_HOST), peer
        self.inbox[peer.port].append(Received(data, parse_datagram(data)))

    def take(self, port: int) -> list[Received]:
        return self.inbox.pop(port, [])

    def pending(self) -> dict[int, list[str]]:
        return {port: [label(r.message) for r in rs] for port, rs in self.inbox.items() if rs}


class Net:
    """A built SIP stack wired to an in-memory :class:`Wire`; hands out :class:`Phone` objects."""

    def __init__(self, stack: SipStack) -> None:
        self.stack = stack
        self.wire = Wire()
        stack.endpoint.transports = self.wire
        stack.endpoint.advertised = {"UDP": (HOST, TAMAS_PORT), "TCP": (HOST, TAMAS_PORT)}

    def phone(self, port: int, user: str, *, transport: str = "UDP", host: str = HOST) -> Phone:
        return Phone(self, port, user, transport=transport, host=host)

    def deliver(self, data: bytes, peer: Peer) -> None:
        self.stack.endpoint.on_message(parse_datagram(data), peer)

    def assert_quiet(self) -> None:
        """Nobody has a message left unread."""
        assert self.wire.pending() == {}


class Phone:
    """One scripted SIP peer (phone or trunk) at ``127.0.0.1:port``, over UDP or TCP."""

    def __init__(
        self, net: Net, port: int, user: str, *, transport: str = "UDP", host: str = HOST
    ) -> None:
        self.net = net
        self.port = port
        self.user = user
        self.transport = transport
        self.host = host
        self.peer = Peer(transport, host, port)
        tp = "" if transport == "UDP" else f";transport={transport.lower()}"
        self.contact = f"<sip:{user}@{host}:{port}{tp}>"

    # -- receiving ----------------------------------------------------------------------------
    def take_raw(self) -> list[Received]:
        return self.net.wire.take(self.port)

    def take(self) -> list[Message]:
        return [r.message for r in self.take_raw()]

    def peek(self) -> list[str]:
        return [label(r.message) for r in self.net.wire.inbox.get(self.port, [])]

    def expect(self, *labels: str) -> list[Message]:
        """Take everything received so far; it must be exactly ``labels``, in order."""
        got = self.take()
        assert [label(m) for m in got] == list(labels), (self.user, got)
        return got

    def expect_one(self, lbl: str) -> Message:
        (msg,) = self.expect(lbl)
        return msg

    def expect_request(self, method: str) -> Request:
        msg = self.expect_one(method)
        assert isinstance(msg, Request)
        return msg

    def expect_response(self, lbl: str) -> Response:
        msg = self.expect_one(lbl)
        assert isinstance(msg, Response)
        return msg

    # -- sending ------------------------------------------------------------------------------
    def send(self, msg: Message) -> None:
        """Serialise ``msg`` and hand the bytes to Tamas as coming from this phone."""
        self.net.deliver(bytes(msg), self.peer)

    def via(self) -> str:
        return f"SIP/2.0/{self.transport} {self.host}:{self.port};branch={new_branch()};rport"

    def invite(
        self,
        uri: str,
        *,
        body: bytes = b"",
        call_id: str | None = None,
        max_forwards: int = 70,
        from_tag: str | None = None,
    ) -> Request:
        """Send a dialog-creating INVITE (out of any dialog) and return it as sent."""
        h = Headers()
        h.add("Via", self.via())
        h.add("Max-Forwards", str(max_forwards))
        h.add("From", f"<sip:{self.user}@{self.host}:{self.port}>;tag={from_tag or new_tag()}")
        h.add("To", f"<{uri}>")
        h.add("Call-ID", call_id or f"{new_tag()}@{HOST}")
        h.add("CSeq", "1 INVITE")
        h.add("Contact", self.contact)
        if body:
            h.add("Content-Type", "application/sdp")
        req = Request(method="INVITE", uri=parse_uri(uri), headers=h, body=body)
        self.send(req)
        return req

    def cancel(self, invite: Request) -> Request:
        req = cancel_for(invite)
        self.send(req)
        return req

    def ack_failure(self, invite: Request, resp: Response) -> None:
        """The ACK for a 3xx-6xx final response (same branch as the INVITE)."""
        self.send(ack_for_non_2xx(invite, resp))

    def reply(
        self,
        req: Request,
        status: int,
        *,
        tag: str | None = None,
        body: bytes = b"",
        headers: tuple[tuple[str, str], ...] = (),
    ) -> Response:
        """Answer ``req``; a 1xx/2xx to INVITE carries this phone's Contact."""
        extra = list(headers)
        if req.method == "INVITE" and status < 300:
            extra.append(("Contact", self.contact))
        if body:
            extra.append(("Content-Type", "application/sdp"))
        resp = response_to(req, status, to_tag=tag, headers=tuple(extra), body=body)
        self.send(resp)
        return resp

    # -- dialogs ------------------------------------------------------------------------------
    def dialog_as_uac(self, invite: Request, resp: Response) -> Dialog:
        """This phone's dialog after the 2xx to its INVITE."""
        return Dialog.for_uac(invite, resp, self.contact)

    def answer(self, invite: Request, tag: str, *, body: bytes) -> Dialog:
        """Answer ``invite`` 200 with ``body`` and return this phone's (UAS) dialog."""
        self.reply(invite, 200, tag=tag, body=body)
        return Dialog.for_uas(invite, tag, self.contact, confirmed=True)

    def request(
        self,
        dialog: Dialog,
        method: str,
        *,
        body: bytes = b"",
        ctype: str = "application/sdp",
        headers: tuple[tuple[str, str], ...] = (),
        cseq: int | None = None,
    ) -> Request:
        """Send a request in ``dialog`` (an ACK for a 2xx: pass the INVITE's ``cseq``)."""
        extra = (*headers, ("Content-Type", ctype)) if body else headers
        req = dialog.new_request(method, via=self.via(), body=body, headers=extra, cseq=cseq)
        self.send(req)
        return req

    def ack(self, dialog: Dialog, invite: Request) -> Request:
        return self.request(dialog, "ACK", cseq=invite.cseq.seq)


async def until(cond: Callable[[], bool], timeout: float = 3.0) -> None:
    """Let the loop's timers run until ``cond()`` holds (polling every millisecond)."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.001)


def collapse(received: list[Received]) -> list[Received]:
    """Drop retransmissions: a message byte-identical to the one just before it."""
    out: list[Received] = []
    for r in received:
        if not out or out[-1].data != r.data:
            out.append(r)
    return out
