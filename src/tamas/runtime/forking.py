"""The callee side of a call: its forks (one B leg per target), until one answers or all fail.

Theory of operation
-------------------
:meth:`Forking.start` sends an INVITE, Tamas as UAC, to each target of the call's route
(every registered contact of the callee, or the trunk) and arms the ring timer. Provisional
responses with a tag are relayed to the caller (ringing and early media); 100 Trying is not.
The first 2xx wins: Tamas ACKs it (through :mod:`tamas.runtime.relay`, which holds the ACK
of a delayed offer until the caller's ACK brings the answer), CANCELs the other forks and
answers the caller. A 2xx that loses the race (another fork won, or the call ended) is ACKed
and sent BYE; so is a 2xx with another To tag, a second branch of a proxy beyond that forked
our INVITE (RFC 3261 section 13.2.2.4).

A trunk's 401/407 is answered once with the trunk's credentials. When every fork has failed
the caller gets the best failure by RFC 3261 section 16.7 preference (6xx, then
486/480/408...), unless the B2BUA's ``unanswered`` hook takes the call elsewhere (see
:meth:`B2BUA.fail <tamas.runtime.b2bua.B2BUA.fail>`). The ring timeout cancels the forks and
answers 480. A CANCEL waits for its INVITE's provisional response (RFC 3261 section 9.1).

Forks of a transfer (:mod:`tamas.runtime.transfer`) and of the contact center's dialer use
:meth:`Forking.new_b_leg`, :meth:`Forking.send_invite` and :meth:`Forking.cancel` through the
B2BUA; their responses go to them, not here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from tamas.core.ids import new_id
from tamas.runtime.anchor import LegMedia
from tamas.runtime.calls import ALLOW, Call, CallState, Leg
from tamas.runtime.relay import sdp_body as _sdp
from tamas.runtime.routing import ExtensionRoute, Route, Target, TrunkRoute
from tamas.sip.auth import DigestClient
from tamas.sip.builders import cancel_for, new_tag, response_to
from tamas.sip.dialog import Dialog
from tamas.sip.errors import ParseError
from tamas.sip.headers import Headers
from tamas.sip.message import Request, Response
from tamas.sip.transaction import ClientTransaction

if TYPE_CHECKING:
    from tamas.runtime.b2bua import B2BUA

log = logging.getLogger("tamas.calls")

# RFC 3261 section 16.7 step 6, simplified: which failure to report when every fork failed.
_FAILURE_RANK = {6: 0, 486: 1, 600: 1, 603: 1, 480: 2, 408: 3, 404: 4}


class Forking:
    def __init__(self, b2bua: B2BUA) -> None:
        self.b2bua = b2bua

    # -- new forks ---------------------------------------------------------------------------
    def start(self, call: Call, req: Request, caller: str, route: Route) -> None:
        """Ring every target of ``route`` for ``call`` (whose A leg sent ``req``)."""
        b = self.b2bua
        if isinstance(route, ExtensionRoute):
            targets = list(route.targets)
            timeout = float(route.extension.ring_timeout)
            call.extension = route.extension.number
        elif isinstance(route, TrunkRoute):
            targets = [route.target]
            timeout = 120.0
        else:
            return
        call.move(CallState.RINGING)
        display = req.from_.display_name
        mf = req.max_forwards - 1
        trunk = route.trunk if isinstance(route, TrunkRoute) else None
        body, ctype = req.body, req.headers.get("Content-Type")
        model: LegMedia | None = None
        if b.sessions is not None and call.a is not None:
            model, body = b.sessions.callee_offer(call, call.a, targets[0].peer.host)
            model.inband_dtmf = trunk is not None and trunk.dtmf == "inband"
            ctype = "application/sdp" if body else None
        for target in targets:
            leg = self.new_b_leg(call, caller, display, target, mf, trunk, body, ctype)
            if model is not None and b.media is not None:
                leg.media = model if not call.forks else b.media.share(leg, model)
            if isinstance(route, ExtensionRoute):
                leg.extension = route.extension.number
            if trunk is not None and trunk.auth_user and trunk.password:
                leg.digest = DigestClient(trunk.auth_user, trunk.password)
            call.forks.append(leg)
            self.send_invite(leg)
        call.ring_timer = asyncio.get_running_loop().call_later(timeout, self._ring_timeout, call)

    def new_b_leg(
        self, call: Call, caller: str, display: str | None, target: Target, mf: int,
        trunk_from: object | None, body: bytes, ctype: str | None,
    ) -> Leg:  # fmt: skip
        """A leg from Tamas to ``target`` (not yet sent: see :meth:`send_invite`)."""
        b = self.b2bua
        call_id = new_id(12)
        tag = new_tag()
        h = Headers()
        transport = target.peer.transport
        h.add("Via", b.endpoint.via(transport))
        h.add("Max-Forwards", str(mf))
        dn = f"{display} " if display else ""
        from_host = b.domain
        to_uri = str(target.uri)
        if trunk_from is not None:
            from_host = getattr(trunk_from, "from_domain", None) or from_host
            caller = getattr(trunk_from, "from_user", None) or caller
        h.add("From", f"{dn}<sip:{caller}@{from_host}>;tag={tag}")
        h.add("To", f"<{to_uri}>")
        h.add("Call-ID", call_id)
        h.add("CSeq", "1 INVITE")
        h.add("Contact", f"<{b.endpoint.contact_uri(transport)}>")
        h.add("Allow", ALLOW)
        if ctype and body:
            h.add("Content-Type", ctype)
        invite = Request(method="INVITE", uri=target.uri, headers=h, body=body)
        leg = Leg(call, "b", target.peer, call_id, tag, invite, own_call_id=True)
        b.own_call_ids.add(call_id)
        b.legs[(call_id, tag)] = leg
        return leg

    def send_invite(self, leg: Leg) -> None:
        leg.provisional = leg.cancel_sent = False  # they are about this INVITE transaction
        leg.client_txn = self.b2bua.endpoint.request(leg.invite, leg.peer)
        leg.client_txn.user_data = leg

    # -- responses ---------------------------------------------------------------------------
    def on_response(self, leg: Leg, resp: Response, retransmission: bool) -> None:
        """A response to the INVITE of ``leg``, one of its call's forks."""
        call = leg.call
        status = resp.status
        if 200 <= status < 300:
            self._answered(leg, resp, retransmission)
            return
        if status < 200:
            leg.provisional = True  # 100 Trying too: a CANCEL may now go (section 9.1)
            if leg.cancel_wanted:
                self.cancel(leg)
                return
            if status == 100:
                return
            a = call.a
            if a is not None and a.server_txn is not None and call.state is CallState.RINGING:
                body, ctype = resp.body, resp.headers.get("Content-Type")
                sessions = self.b2bua.sessions
                if sessions is not None:
                    body, ctype = sessions.callee_answered(leg, resp)
                self.b2bua.reply_a(call, status, resp.reason, body=body, ctype=ctype)
            return
        if status in (401, 407) and self.retry_with_auth(leg, resp):
            return
        self.drop(leg)
        call.failures.append(resp)
        if not call.forks and call.state is CallState.RINGING:
            best = min(call.failures, key=lambda r: _FAILURE_RANK.get(
                r.status, _FAILURE_RANK.get(r.status // 100, 5)))  # fmt: skip
            st = best.status if best.status not in (401, 407) else 503
            self.b2bua.fail(call, st, best.reason if st == best.status else "Service Unavailable")

    def on_timeout(self, leg: Leg, txn: ClientTransaction) -> None:
        """The INVITE of ``leg`` (one of its call's forks) timed out: a 408 from it."""
        self.drop(leg)
        call = leg.call
        call.failures.append(response_to(txn.request, 408))
        if not call.forks and call.state is CallState.RINGING:
            self.b2bua.fail(call, 408, "Request Timeout")

    def retry_with_auth(self, leg: Leg, resp: Response) -> bool:
        """Answer a trunk's 401/407 once with its credentials; False if that cannot be done
        (no usable challenge, or nobody waits for the call any more)."""
        if leg.digest is None or leg.auth_tried or leg.cancel_wanted:
            return False
        if leg.call.state is CallState.ENDED:
            return False
        leg.auth_tried = True
        header = "Proxy-Authenticate" if resp.status == 407 else "WWW-Authenticate"
        challenge = resp.headers.get(header)
        if challenge is None:
            return False
        invite = leg.invite
        h = invite.headers.copy()
        h.set("Via", self.b2bua.endpoint.via(leg.peer.transport))
        h.set("CSeq", f"{invite.cseq.seq + 1} INVITE")
        try:
            value = leg.digest.authorize(challenge, method="INVITE", uri=str(invite.uri),
                                         cnonce=new_id(8))  # fmt: skip
        except ParseError:
            return False
        h.set("Proxy-Authorization" if resp.status == 407 else "Authorization", value)
        leg.invite = Request(method="INVITE", uri=invite.uri, headers=h, body=invite.body)
        self.send_invite(leg)
        return True

    def _answered(self, leg: Leg, resp: Response, retransmission: bool) -> None:
        b = self.b2bua
        call = leg.call
        invite = leg.invite
        leg.sdp = _sdp(resp) or leg.sdp
        if leg.dialog is not None and (resp.to.tag or "") != leg.dialog.remote_tag:
            self._extra_dialog(leg, resp)
            return
        if leg.dialog is None:
            contact = f"<{b.endpoint.contact_uri(leg.peer.transport)}>"
            leg.dialog = Dialog.for_uac(invite, resp, contact)
        else:
            leg.dialog.update_from_response(resp)
        if retransmission:
            b.relay.resend_ack(leg, resp)
            return
        a = call.a
        if call.state is not CallState.RINGING or leg.cancel_wanted or a is None:
            # another fork won, or the call ended meanwhile: hang this one up
            b.relay.acknowledge(leg, resp, had_offer=bool(_sdp(invite)), answerer=None)
            b.send_in_dialog(leg, "BYE")
            self.drop(leg)
            return
        # a delayed offer (RFC 3261 section 13.2.1): the ACK waits for the caller's answer
        b.relay.acknowledge(leg, resp, had_offer=bool(_sdp(invite)), answerer=a,
                            answerer_cseq=a.invite.cseq.seq)  # fmt: skip
        call.b = leg
        self.drop(leg)
        for other in list(call.forks):
            self.cancel(other)
        self.stop_ring_timer(call)
        call.move(CallState.ANSWERED)
        assert a.server_txn is not None
        contact = f"<{b.endpoint.contact_uri(a.peer.transport)}>"
        a.dialog = Dialog.for_uas(a.invite, a.local_tag, contact, confirmed=True)
        body, ctype = resp.body, resp.headers.get("Content-Type")
        if b.sessions is not None:
            body, ctype = b.sessions.callee_answered(leg, resp)
        b.reply_a(call, 200, "OK", body=body, ctype=ctype)
        call.answered_at = time.time()
        call.answered_loop = asyncio.get_running_loop().time()
        b.keepalive.start(call)
        log.info("call %s answered", call.id)
        if b.media is not None:
            b.media.announce(call)  # bridged already, unless the answer is in the ACK

    def _extra_dialog(self, leg: Leg, resp: Response) -> None:
        """A 2xx with another To tag: a proxy beyond forked our INVITE and a second branch
        answered (RFC 3261 section 13.2.2.4). It gets an ACK and a BYE of its own."""
        endpoint = self.b2bua.endpoint
        contact = f"<{endpoint.contact_uri(leg.peer.transport)}>"
        extra = Dialog.for_uac(leg.invite, resp, contact)
        via = endpoint.via(leg.peer.transport)
        endpoint.send_stateless(extra.new_request("ACK", via=via, cseq=leg.invite.cseq.seq),
                                leg.peer)  # fmt: skip
        endpoint.request(extra.new_request("BYE", via=endpoint.via(leg.peer.transport)),
                         leg.peer)  # fmt: skip

    # -- cancellation ------------------------------------------------------------------------
    def _ring_timeout(self, call: Call) -> None:
        call.ring_timer = None
        if call.state is not CallState.RINGING:
            return
        for leg in list(call.forks):
            self.cancel(leg)
        self.b2bua.fail(call, 480, "No Answer")

    def cancel(self, leg: Leg) -> None:
        leg.cancel_wanted = True
        if not leg.provisional:
            return  # CANCEL waits for a provisional response (RFC 3261 section 9.1)
        if leg.client_txn is None or leg.cancel_sent:
            return
        leg.cancel_sent = True
        endpoint = self.b2bua.endpoint
        cancel = cancel_for(leg.invite)
        endpoint.request(cancel, leg.peer)
        self.drop(leg)
        # RFC 3261 section 9.1: a callee that never answers the INVITE after our CANCEL must
        # not keep its transaction alive; give up on it after 64*T1.
        txn = leg.client_txn
        asyncio.get_running_loop().call_later(64 * endpoint.layer.t1, endpoint.drop, txn)

    def stop_ring_timer(self, call: Call) -> None:
        if call.ring_timer is not None:
            call.ring_timer.cancel()
            call.ring_timer = None

    def drop(self, leg: Leg) -> None:
        """Take ``leg`` off its call's forks (and forget it, unless it is the call's B leg)."""
        if leg in leg.call.forks:
            leg.call.forks.remove(leg)
        if leg is not leg.call.b:
            self.b2bua.forget(leg)  # its late responses still reach it through its transaction
