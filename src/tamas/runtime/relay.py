"""In-dialog requests of a confirmed call, relayed between its two legs, and the ACKs of 2xx.

Theory of operation
-------------------
A request in one leg's dialog (re-INVITE, UPDATE, INFO, NOTIFY, MESSAGE...) is sent as a new
request in the other leg's dialog; its responses come back through a :class:`Relay` (the
user data of the client transaction) and are answered, with our own Contact, in the original
server transaction (which carries the same :class:`Relay` for CANCEL and ACK timeouts).

**ACK of a 2xx and the delayed offer** (RFC 3261 sections 13.2.1 and 13.3.1.4, RFC 3264
section 5). Tamas is the UAC of every leg it sends INVITE on, so it ACKs each 2xx itself
(:meth:`DialogRelay.acknowledge`), and re-sends that same ACK for every retransmission of the
2xx. If the INVITE had no session description, the 2xx carries the offer and its ACK must
carry the answer. Only the other party can give it: the offer is relayed to it in our 2xx, its
ACK brings the answer, and only then is the waiting ACK sent, with that answer
(:class:`AnswerWait`). Until then retransmissions of the 2xx are absorbed. If the other party
never ACKs, the ACK timeout ends the call; a leg hung up while its ACK waits is first ACKed
with every offered stream rejected (port 0), a valid answer (RFC 3264 section 6), then BYE'd.

**CANCEL of a relayed re-INVITE** (RFC 3261 section 9). The transaction layer answers the
CANCEL 200 and the re-INVITE 487; Tamas then CANCELs the re-INVITE it relayed, once that has
had a provisional response (section 9.1). If the other side's 2xx crosses the CANCEL, that
side now runs the session its party withdrew: Tamas ACKs it and re-INVITEs it with the session
description it had before (its version raised above the withdrawn one, RFC 3264 section 8).
A relayed re-INVITE that had a provisional response but no final one after 64*T1 (timer B's
span; no timer guards the Proceeding state of a client INVITE) is answered 408 and cancelled
the same way, so that neither transaction waits forever.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tamas.runtime.calls import Leg
from tamas.runtime.transfer import Reinvite
from tamas.sip.builders import cancel_for, response_to
from tamas.sip.dialog import DialogState
from tamas.sip.errors import ParseError
from tamas.sip.message import Request, Response
from tamas.sip.sdp import MediaDescription, SessionDescription
from tamas.sip.transaction import ClientTransaction, ServerTransaction, State

if TYPE_CHECKING:
    from tamas.runtime.b2bua import B2BUA

log = logging.getLogger("tamas.calls")

SDP = "application/sdp"
_RELAYED_HEADERS = ("Content-Type", "Event", "Subscription-State", "Refer-To", "Referred-By",
                    "Info-Package", "Content-Disposition")  # fmt: skip


@dataclass(eq=False, slots=True)
class Relay:
    """An in-dialog request relayed to the other leg, waiting for its response."""

    to_leg: Leg
    from_txn: ServerTransaction
    from_leg: Leg
    client_txn: ClientTransaction | None = None
    prior_sdp: bytes = b""  # the sender's session description before this request
    provisional: bool = False  # the other side sent a 1xx (a CANCEL may now go out)
    withdrawn: bool = False  # the sender cancelled (or we gave up): the request is void
    cancel_sent: bool = False
    timer: asyncio.TimerHandle | None = None


@dataclass(eq=False, slots=True)
class AnswerWait:
    """A 2xx on ``to_leg`` carried an offer: its ACK waits for the answer, which comes in the
    ACK that ``from_leg`` sends for the 2xx (CSeq ``from_cseq``) we relayed the offer in."""

    to_leg: Leg
    to_cseq: int
    from_leg: Leg
    from_cseq: int
    offer: bytes


class DialogRelay:
    def __init__(self, b2bua: B2BUA) -> None:
        self.b2bua = b2bua

    # -- requests ------------------------------------------------------------------------------
    def forward(self, leg: Leg, other: Leg, req: Request, txn: ServerTransaction) -> None:
        """Relay ``req`` (checked in ``leg``'s dialog) into ``other``'s dialog."""
        b = self.b2bua
        assert other.dialog is not None
        relay = Relay(to_leg=other, from_txn=txn, from_leg=leg, prior_sdp=leg.sdp)
        if req.method in ("INVITE", "UPDATE") and sdp_body(req):
            leg.sdp = sdp_body(req)
        headers = tuple((n, v) for n in _RELAYED_HEADERS if (v := req.headers.get(n)) is not None)
        out = other.dialog.new_request(req.method, via=b.endpoint.via(other.peer.transport),
                                       body=req.body, headers=headers)  # fmt: skip
        ctxn = b.endpoint.request(out, other.peer)
        ctxn.user_data = relay
        relay.client_txn = ctxn
        if req.method == "INVITE":
            txn.user_data = relay  # for its CANCEL and its ACK timeout
            relay.timer = asyncio.get_running_loop().call_later(
                64 * b.endpoint.layer.t1, self._expired, relay
            )

    def ack_received(self, leg: Leg, ack: Request) -> None:
        """An ACK in ``leg``'s dialog: if it acknowledges a 2xx that relayed an offer, it
        carries the answer the other leg's ACK waits for."""
        wait = leg.answer_wait
        if wait is None or wait.from_leg is not leg or ack.cseq.seq != wait.from_cseq:
            return
        answer = sdp_body(ack)
        if answer:
            leg.sdp = answer
            sessions = self.b2bua.sessions
            if sessions is not None:  # anchored: Tamas answers for its own offer
                answer = sessions.delayed_answer(leg, wait.to_leg, wait.offer, answer)
            self._settle(wait, answer)
            return
        # RFC 3264 section 5: the answer MUST be in the ACK. Without one the other side has no
        # session; reject its offer and end the call.
        log.info("call %s: ACK without the answer to a delayed offer", leg.call.id)
        self._settle(wait, reject_all(wait.offer))
        self.b2bua.hangup(leg.call, cause="no-answer-in-ack", notify=(leg, wait.to_leg))

    # -- responses -----------------------------------------------------------------------------
    def on_response(self, relay: Relay, resp: Response, retransmission: bool) -> None:
        req = relay.from_txn.request
        status = resp.status
        if status < 200:
            relay.provisional = True  # 100 Trying too: a CANCEL may now go (section 9.1)
            if relay.withdrawn:
                self._send_cancel(relay)
                return
            if status == 100:
                return
        elif relay.timer is not None:
            relay.timer.cancel()
            relay.timer = None
        to = relay.to_leg
        if req.method == "INVITE" and 200 <= status < 300 and to.dialog is not None:
            if retransmission:
                self.resend_ack(to, resp)
                return
            to.dialog.update_from_response(resp)
            if relay.withdrawn:
                self._restore(relay, resp)
                return
            to.sdp = sdp_body(resp) or to.sdp
            sender = relay.from_leg
            live = sender.dialog is not None and sender.dialog.state is not DialogState.TERMINATED
            self.acknowledge(to, resp, had_offer=bool(sdp_body(req)),
                             answerer=sender if live else None,
                             answerer_cseq=req.cseq.seq)  # fmt: skip
        elif retransmission:
            return
        headers: list[tuple[str, str]] = []
        ctype = resp.headers.get("Content-Type")
        if ctype and resp.body:
            headers.append(("Content-Type", ctype))
        if req.method == "INVITE" and status < 300:
            contact = self.b2bua.endpoint.contact_uri(relay.from_leg.peer.transport)
            headers.append(("Contact", f"<{contact}>"))
        out = response_to(req, status, resp.reason, headers=tuple(headers),
                          body=resp.body if ctype else b"")  # fmt: skip
        self.b2bua.endpoint.respond(relay.from_txn, out)

    def on_timeout(self, relay: Relay) -> None:
        if relay.timer is not None:
            relay.timer.cancel()
            relay.timer = None
        req = relay.from_txn.request
        self.b2bua.endpoint.respond(relay.from_txn, response_to(req, 408, to_tag=None))

    # -- CANCEL and give-up --------------------------------------------------------------------
    def cancelled(self, relay: Relay) -> None:
        """The sender CANCELled its re-INVITE (the transaction layer answered 200 and 487)."""
        log.info("call %s: re-INVITE cancelled by %s", relay.from_leg.call.id,
                 relay.from_leg.side)  # fmt: skip
        self._withdraw(relay)

    def _expired(self, relay: Relay) -> None:
        relay.timer = None
        txn = relay.client_txn
        if txn is not None and txn.state is State.CALLING:
            # timer B ends it, unless a 1xx comes first: look again later
            relay.timer = asyncio.get_running_loop().call_later(
                64 * self.b2bua.endpoint.layer.t1, self._expired, relay
            )
            return
        if txn is None or txn.state is not State.PROCEEDING:
            return  # answered meanwhile
        log.info("call %s: re-INVITE got no final response; cancelled", relay.from_leg.call.id)
        req = relay.from_txn.request
        self.b2bua.endpoint.respond(relay.from_txn, response_to(req, 408, to_tag=None))
        self._withdraw(relay)

    def _withdraw(self, relay: Relay) -> None:
        if relay.withdrawn:
            return
        relay.withdrawn = True
        relay.from_leg.sdp = relay.prior_sdp  # the offer it made is void
        if relay.provisional:
            self._send_cancel(relay)

    def _send_cancel(self, relay: Relay) -> None:
        txn = relay.client_txn
        if relay.cancel_sent or txn is None or txn.state is not State.PROCEEDING:
            return
        relay.cancel_sent = True
        b = self.b2bua
        b.endpoint.request(cancel_for(txn.request), relay.to_leg.peer)
        # RFC 3261 section 9.1: a callee that never answers the INVITE after our CANCEL must
        # not keep its transaction alive; give up on it after 64*T1.
        asyncio.get_running_loop().call_later(64 * b.endpoint.layer.t1, b.endpoint.drop, txn)

    def _restore(self, relay: Relay, resp: Response) -> None:
        """A 2xx crossed our CANCEL: put the other side back on the session its party still
        has (or end the call if that cannot be described)."""
        to, sender = relay.to_leg, relay.from_leg
        withdrawn = sdp_body(relay.from_txn.request)
        previous = _reoffer(relay.prior_sdp, withdrawn) if relay.prior_sdp else None
        if not withdrawn and sdp_body(resp):
            # our re-INVITE had no offer: the 2xx has one; answer it with the old session
            self._send_ack(to, resp.cseq.seq, previous or reject_all(sdp_body(resp)))
            if previous is None:
                self.b2bua.hangup(to.call, cause="reinvite-cancel-crossed",
                                  notify=(to, sender))  # fmt: skip
            return
        self._send_ack(to, resp.cseq.seq, b"")
        if previous is None or to.dialog is None:
            self.b2bua.hangup(to.call, cause="reinvite-cancel-crossed", notify=(to, sender))
            return
        log.info("call %s: re-INVITE answered after CANCEL; restoring the session", to.call.id)
        b = self.b2bua
        via = b.endpoint.via(to.peer.transport)
        reinvite = to.dialog.new_request("INVITE", via=via, body=previous,
                                         headers=(("Content-Type", SDP),))  # fmt: skip
        b.endpoint.request(reinvite, to.peer).user_data = Reinvite(to)

    # -- the ACK of a 2xx ---------------------------------------------------------------------
    def acknowledge(
        self, leg: Leg, resp: Response, *, had_offer: bool, answerer: Leg | None,
        answerer_cseq: int = 0,
    ) -> None:  # fmt: skip
        """ACK ``resp``, a 2xx on ``leg``. If our INVITE had no offer and the 2xx has one,
        the ACK waits for ``answerer``'s answer (without an answerer, the offer is rejected)."""
        offer = sdp_body(resp)
        if had_offer or not offer:
            self._send_ack(leg, resp.cseq.seq, b"")
        elif answerer is None:
            self._send_ack(leg, resp.cseq.seq, reject_all(offer))
        else:
            wait = AnswerWait(to_leg=leg, to_cseq=resp.cseq.seq, from_leg=answerer,
                              from_cseq=answerer_cseq, offer=offer)  # fmt: skip
            leg.answer_wait = answerer.answer_wait = wait

    def resend_ack(self, leg: Leg, resp: Response) -> None:
        """A retransmitted 2xx: the same ACK again (none while it waits for the answer)."""
        ack = leg.ack
        if ack is not None and ack.cseq.seq == resp.cseq.seq:
            self.b2bua.endpoint.send_stateless(ack, leg.peer)

    def release(self, leg: Leg, *, send: bool) -> None:
        """``leg`` leaves its call: an ACK still waiting on either side goes out now with the
        offer rejected (``send``), or is forgotten; no leg <-> wait cycle is left behind."""
        wait = leg.answer_wait
        if wait is None:
            return
        if send:
            self._settle(wait, reject_all(wait.offer))
        else:
            wait.to_leg.answer_wait = wait.from_leg.answer_wait = None

    def _settle(self, wait: AnswerWait, answer: bytes) -> None:
        wait.to_leg.answer_wait = wait.from_leg.answer_wait = None
        self._send_ack(wait.to_leg, wait.to_cseq, answer)

    def _send_ack(self, leg: Leg, cseq: int, body: bytes) -> None:
        if leg.dialog is None:
            return
        b = self.b2bua
        ctype = (("Content-Type", SDP),) if body else ()
        ack = leg.dialog.new_request("ACK", via=b.endpoint.via(leg.peer.transport), cseq=cseq,
                                     body=body, headers=ctype)  # fmt: skip
        leg.ack = ack
        b.endpoint.send_stateless(ack, leg.peer)


def reject_all(offer: bytes) -> bytes:
    """An answer to ``offer`` that rejects every stream (port 0, RFC 3264 section 6)."""
    try:
        sd = SessionDescription.parse(offer)
    except ParseError:
        return b""
    media = tuple(MediaDescription(media=m.media, port=0, proto=m.proto, formats=m.formats)
                  for m in sd.media)  # fmt: skip
    return bytes(replace(sd, attributes=(), media=media))


def _reoffer(previous: bytes, withdrawn: bytes) -> bytes | None:
    """``previous`` offered again after ``withdrawn``: its o= version must be the higher."""
    try:
        sd = SessionDescription.parse(previous)
        seen = SessionDescription.parse(withdrawn).origin.sess_version if withdrawn else 0
    except ParseError:
        return None
    version = max(sd.origin.sess_version, seen) + 1
    return bytes(replace(sd, origin=replace(sd.origin, sess_version=version)))


def sdp_body(msg: Request | Response) -> bytes:
    """The body if it is a session description, else b""."""
    return msg.body if msg.body and msg.content_type == SDP else b""
