"""The SIP endpoint: pumps bytes between the transports and the sans-IO transaction layer.

It owns the clock (``loop.time()``) and the one timer handle; decisions live in the
transaction layer and in the transaction user (:class:`TransactionUser`, the B2BUA), which it
calls with each event. Malformed requests get a stateless 400 (or 505) when enough of them was
readable to build a response; anything else malformed is dropped. A message never raises out
of here: an unexpected error is logged in one line and the message dropped.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from tamas.runtime.protection import Protection
from tamas.sip.builders import new_branch, new_tag, response_to
from tamas.sip.errors import ParseError, SipError
from tamas.sip.message import Request, RequestParseError, Response
from tamas.sip.peer import Peer
from tamas.sip.transaction import (
    ClientTransaction,
    Event,
    RequestReceived,
    Send,
    ServerTransaction,
    State,
    StrayResponse,
    TransactionLayer,
)

log = logging.getLogger("tamas.sip")

TIMER_SLACK = 0.02
trace_log = logging.getLogger("tamas.sip.trace")


class Sender(Protocol):
    """Where the endpoint's bytes go: the transports, or a test's in-memory wire."""

    def send(self, data: bytes, peer: Peer) -> None: ...


class TransactionUser(Protocol):
    def handle(self, event: Event) -> None: ...


class SipEndpoint:
    def __init__(
        self,
        *,
        protection: Protection,
        user_agent: str,
        trace: bool = False,
    ) -> None:
        self.layer = TransactionLayer()
        self.protection = protection
        self.user_agent = user_agent
        self.trace = trace
        self.transports: Sender | None = None
        self.tu: TransactionUser | None = None
        self.advertised: dict[str, tuple[str, int]] = {}
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._pumping = False

    def now(self) -> float:
        return self._loop.time()

    # -- MessageSink ------------------------------------------------------------------------
    def allow(self, peer: Peer) -> bool:
        return self.protection.allow(peer.host, self.now())

    def on_message(self, item: Request | Response | ParseError, peer: Peer) -> None:
        try:
            if isinstance(item, ParseError):
                self._bad_message(item, peer)
                return
            if self.trace:
                trace_log.info("<<< from %s\n%s", peer, bytes(item).decode("utf-8", "replace"))
            self.layer.receive(item, peer, self.now())
            self.pump()
        except SipError as e:
            # e.g. a header that validated but is unusable for matching: answer if we can
            if isinstance(item, Request):
                self._stateless_error(item, e, peer)
        except Exception as e:
            log.error("error handling message from %s: %s: %s", peer, type(e).__name__, e)

    def _bad_message(self, err: ParseError, peer: Peer) -> None:
        log.info("malformed message from %s: %s", peer, err.reason)
        if isinstance(err, RequestParseError) and err.partial.method != "ACK":
            self._stateless_error(err.partial, err, peer)

    def _stateless_error(self, req: Request, err: SipError, peer: Peer) -> None:
        h = req.headers
        if h.get("Via") is None:
            return  # nowhere to send a response (RFC 3261 section 18.2.2)
        resp = response_to(req, err.status, err.reason, headers=err.extra_headers)
        self.layer.send_stateless(resp, peer)
        self.pump()

    # -- TU -> network ----------------------------------------------------------------------
    def via(self, transport: str) -> str:
        host, port = self.advertised[transport]
        return f"SIP/2.0/{transport} {_host(host)}:{port};branch={new_branch()};rport"

    def contact_uri(self, transport: str, user: str = "tamas") -> str:
        host, port = self.advertised[transport]
        tp = "" if transport == "UDP" else f";transport={transport.lower()}"
        return f"sip:{user}@{_host(host)}:{port}{tp}"

    def request(self, req: Request, peer: Peer) -> ClientTransaction:
        req.headers.set("User-Agent", self.user_agent)
        txn = self.layer.request(req, peer, self.now())
        self.pump()
        return txn

    def respond(self, txn: ServerTransaction, resp: Response) -> None:
        if resp.headers.get("Server") is None:
            resp.headers.add("Server", self.user_agent)
        self.layer.respond(txn, resp, self.now())
        self.pump()

    def reply(
        self,
        txn: ServerTransaction,
        req: Request,
        status: int,
        reason: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        """Answer ``req`` in ``txn`` with a response of our own (a fresh To tag)."""
        self.respond(txn, response_to(req, status, reason, to_tag=new_tag(), headers=headers))

    def send_stateless(self, msg: Request | Response, peer: Peer) -> None:
        self.layer.send_stateless(msg, peer)
        self.pump()

    # -- the pump ---------------------------------------------------------------------------
    def pump(self) -> None:
        if self._pumping:
            return
        self._pumping = True
        try:
            while outs := self.layer.take():
                for out in outs:
                    if isinstance(out, Send):
                        self._send(out)
                    elif isinstance(out, StrayResponse):
                        log.debug("stray response %s from %s", out.response.status, out.peer)
                    elif self.tu is not None:
                        try:
                            self.tu.handle(out)
                        except Exception as e:
                            log.error(
                                "transaction user failed on %s: %s: %s",
                                type(out).__name__,
                                type(e).__name__,
                                e,
                            )
                            log.debug("traceback", exc_info=True)
                            self._answer_failed(out)
        finally:
            self._pumping = False
        self._rearm()

    def _answer_failed(self, event: Event) -> None:
        """A request whose handling failed still gets a final answer (500), so that neither
        the sender nor our transaction waits for one forever."""
        if isinstance(event, RequestReceived) and event.transaction is not None:
            txn = event.transaction
            if txn.state in (State.TRYING, State.PROCEEDING):
                self.layer.respond(txn, response_to(txn.request, 500), self.now())

    def drop(self, txn: ServerTransaction | ClientTransaction) -> None:
        """End a transaction without a response (a banned source gets nothing; a callee that
        ignores CANCEL is given up on)."""
        self.layer.drop(txn)

    def _send(self, out: Send) -> None:
        if self.trace:
            trace_log.info(">>> to %s\n%s", out.peer, out.data.decode("utf-8", "replace"))
        if self.transports is not None:
            self.transports.send(out.data, out.peer)

    def _rearm(self) -> None:
        deadline = self.layer.next_deadline()
        if deadline is None or deadline == self._timer_at:
            return
        # Coalesce: SIP timers are 500 ms and up, so firing up to TIMER_SLACK late is harmless,
        # and a busy server then wakes at most 1/TIMER_SLACK times a second for timers
        # instead of once per expiring transaction.
        deadline = max(deadline, self._loop.time() + TIMER_SLACK)
        if self._timer is not None:
            if self._timer_at is not None and self._timer_at <= deadline:
                return
            self._timer.cancel()
        self._timer_at = deadline
        self._timer = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        self.layer.handle_timer(self.now())
        self.pump()


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
