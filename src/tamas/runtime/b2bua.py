"""The B2BUA: every call is two (or more, while forking) dialogs joined by one call record.

Theory of operation
-------------------
An INVITE from a phone (authenticated by digest) or from a trunk (matched by source address)
becomes a :class:`Call` with an A leg (the caller's dialog, Tamas as UAS) and one B leg per
target (each registered contact of the callee, or the trunk), Tamas as UAC. Provisional
responses with a tag are relayed to A (ringing and early media); the first 2xx wins: Tamas
ACKs it, CANCELs the other forks and answers A. With media anchored (the default, see
:mod:`tamas.runtime.sessions`) every party gets Tamas's own SDP naming an engine leg of its
own, and the legs are bridged; otherwise the parties' SDP passes through. A failure of every
fork is relayed to A (the best status by RFC 3261 section 16.7 preference: 6xx, then
486/480/408...). CANCEL from A
(answered 200/487 by the transaction layer) cancels the forks; a ring timeout cancels them and
answers 480. In a confirmed call, BYE from either side is answered 200 and sent to the other;
any other in-dialog request (INFO, NOTIFY, MESSAGE; re-INVITE and UPDATE only when media are
not anchored: anchored, Tamas answers them itself, hold included, and takes INFO DTMF as digits)
is relayed to the other side and its response relayed back (:mod:`tamas.runtime.relay`, which
also holds the ACK of a delayed offer and the CANCEL of a re-INVITE); REFER is carried out by
Tamas (:mod:`tamas.runtime.transfer`). In-dialog requests are taken only from the transport and
IP address of their leg's party (:func:`_same_source`). A confirmed call's dialogs are probed
with OPTIONS now and then, so that a party gone without a BYE does not keep the call for ever
(:mod:`tamas.runtime.keepalive`).

Call states and their allowed transitions are the table :data:`CALL_TRANSITIONS`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import TYPE_CHECKING

from tamas.config import Config
from tamas.core.ids import new_id
from tamas.runtime.anchor import CallMedia, LegMedia, MediaAnchor
from tamas.runtime.anchor_sdp import has_g711, parse_sdp
from tamas.runtime.authn import Authenticator
from tamas.runtime.endpoint import SipEndpoint
from tamas.runtime.keepalive import Keepalive, Probe
from tamas.runtime.overload import OverloadGuard
from tamas.runtime.registrar import Registrar
from tamas.runtime.relay import DialogRelay, Relay
from tamas.runtime.relay import sdp_body as _sdp
from tamas.runtime.routing import ExtensionRoute, NoRoute, Route, Router, Target, TrunkRoute
from tamas.runtime.sessions import AnchoredSessions
from tamas.runtime.storewriter import StoreWriter
from tamas.runtime.transfer import Farewell, Reinvite, Transfers
from tamas.runtime.trunks import TrunkRegistrations
from tamas.sip.auth import DigestClient
from tamas.sip.builders import cancel_for, new_tag, response_to
from tamas.sip.dialog import Dialog, DialogState
from tamas.sip.errors import OutOfOrderRequest, ParseError
from tamas.sip.headers import Headers
from tamas.sip.message import Request, Response
from tamas.sip.peer import Peer
from tamas.sip.transaction import (
    AckTimeout,
    ClientTransaction,
    Event,
    InviteCancelled,
    RequestReceived,
    ResponseReceived,
    ServerTransaction,
    State,
    TransactionTimeout,
)
from tamas.sip.uri import SipUri, TelUri
from tamas.store.records import CallDirection, CallRecord

if TYPE_CHECKING:
    from tamas.runtime.apps import Applications
    from tamas.runtime.callcenter.dialer import AgentDial, Dialer
    from tamas.runtime.relay import AnswerWait
    from tamas.runtime.transfer import BlindTransfer

log = logging.getLogger("tamas.calls")

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY, MESSAGE, REGISTER"
KNOWN_METHODS = frozenset(ALLOW.replace(" ", "").split(",")) | {"SUBSCRIBE", "PRACK", "PUBLISH"}
SUPPORTED_OPTIONS = frozenset({"replaces", "timer", "path", "outbound", "norefersub"})


class CallState(Enum):
    ROUTING = "routing"
    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"


CALL_TRANSITIONS: dict[CallState, frozenset[CallState]] = {
    CallState.ROUTING: frozenset({CallState.RINGING, CallState.ENDED}),
    CallState.RINGING: frozenset({CallState.ANSWERED, CallState.ENDED}),
    CallState.ANSWERED: frozenset({CallState.ENDED}),
    CallState.ENDED: frozenset(),
}

# RFC 3261 section 16.7 step 6, simplified: which failure to report when every fork failed.
_FAILURE_RANK = {6: 0, 486: 1, 600: 1, 603: 1, 480: 2, 408: 3, 404: 4}


@dataclass(eq=False, slots=True)
class Leg:
    call: Call
    side: str
    peer: Peer
    call_id: str
    local_tag: str
    invite: Request
    dialog: Dialog | None = None
    server_txn: ServerTransaction | None = None
    client_txn: ClientTransaction | None = None
    provisional: bool = False  # its INVITE transaction had a 1xx
    cancel_sent: bool = False
    cancel_wanted: bool = False
    auth_tried: bool = False
    digest: DigestClient | None = None
    sdp: bytes = b""  # the last session description this party sent (for transfers)
    extension: str | None = None  # the extension on this side, if any (only they may transfer)
    own_call_id: bool = False  # Tamas made this leg's Call-ID (it is in B2BUA.own_call_ids)
    transfer: BlindTransfer | None = None  # set on a leg dialed to a transfer target
    ack: Request | None = None  # the ACK we sent for this leg's last 2xx (re-sent if repeated)
    answer_wait: AnswerWait | None = None  # a delayed offer's ACK waits (see relay.py)
    media: LegMedia | None = None  # its engine leg and offer/answer state (anchored calls)
    dial: AgentDial | None = None  # set on a leg ringing an agent (see callcenter/dialer.py)


@dataclass(eq=False, slots=True)
class Call:
    id: str
    a: Leg | None = None
    forks: list[Leg] = field(default_factory=list)
    b: Leg | None = None
    state: CallState = CallState.ROUTING
    failures: list[Response] = field(default_factory=list)
    ring_timer: asyncio.TimerHandle | None = None
    answered_at: float | None = None
    record: CallRecord | None = None
    keepalive: asyncio.TimerHandle | None = None  # the next probe of its dialogs
    media: CallMedia | None = None  # its engine legs (anchored calls)
    answered_loop: float | None = None  # loop time of the answer (for media timeouts)
    extension: str | None = None  # the extension it rings (its forwarding applies)

    def move(self, new: CallState) -> None:
        if new is self.state:
            return
        if new not in CALL_TRANSITIONS[self.state]:
            raise RuntimeError(f"call {self.state.value} -> {new.value} not allowed")
        self.state = new

    def other(self, leg: Leg) -> Leg | None:
        return self.b if leg is self.a else self.a


class B2BUA:
    def __init__(
        self,
        config: Config,
        endpoint: SipEndpoint,
        router: Router,
        auth: Authenticator,
        registrar: Registrar,
        trunk_regs: TrunkRegistrations,
        writer: StoreWriter,
    ) -> None:
        self.config = config
        self.endpoint = endpoint
        self.router = router
        self.auth = auth
        self.registrar = registrar
        self.trunk_regs = trunk_regs
        self.writer = writer
        self.domain = config.server.domain
        self.legs: dict[tuple[str, str], Leg] = {}
        self.own_call_ids: set[str] = set()
        self.calls: dict[str, Call] = {}
        self.transfers = Transfers(self)
        self.relay = DialogRelay(self)
        self.keepalive = Keepalive(self)
        self.overload = OverloadGuard()
        self.media: MediaAnchor | None = None
        self.sessions: AnchoredSessions | None = None
        self.apps: Applications | None = None
        #: Rings agents for the contact center (set by callcenter.Dialer when it is built).
        self.dialer: Dialer | None = None
        #: Run with each call and the cause as it ends (before its legs are let go).
        self.ended_hooks: list[Callable[[Call, str], None]] = []
        #: Asked when a party of an answered call hangs up: True keeps the call going
        #: without that leg (the contact center's post-call survey).
        self.leg_left: Callable[[Call, Leg], bool] | None = None
        #: Run with (call, transferor leg, target number) when a call is transferred to an
        #: application (a queue, IVR, voicemail or park slot), before the application runs.
        self.transfer_hooks: list[Callable[[Call, Leg, str], None]] = []
        #: Run with (call, transferor leg, consultation call, target leg) when an attended
        #: transfer joins the call with the target of the transferor's consultation call.
        self.attended_hooks: list[Callable[[Call, Leg, Call, Leg], None]] = []
        #: Asked when a call is about to fail (status, reason) before anyone answered: True
        #: if it was taken care of (an extension's conditional forwarding).
        self.unanswered: Callable[[Call, int, str], bool] | None = None
        #: Run with (call, leg, held) when a party puts an answered call on hold or resumes.
        self.hold_hooks: list[Callable[[Call, Leg, bool], None]] = []

    def anchor_media(self, anchor: MediaAnchor, apps: Applications | None) -> None:
        """Anchor every new call's media at ``anchor`` (see :mod:`tamas.runtime.sessions`)."""
        self.media = anchor
        self.apps = apps
        self.sessions = AnchoredSessions(self, anchor, apps)
        anchor.b2bua = self

    # -- dispatch ----------------------------------------------------------------------------
    def handle(self, event: Event) -> None:
        if isinstance(event, RequestReceived):
            self._request(event.request, event.transaction, event.peer)
        elif isinstance(event, ResponseReceived):
            self._response(event)
        elif isinstance(event, TransactionTimeout):
            self._timeout(event.transaction)
        elif isinstance(event, InviteCancelled):
            self._cancelled(event.transaction)
        elif isinstance(event, AckTimeout):
            data = event.transaction.user_data
            leg = data.from_leg if isinstance(data, Relay) else data
            if isinstance(leg, Leg) and leg.call.state is not CallState.ENDED:
                log.info("call %s: %s never acknowledged the answer", leg.call.id, leg.side)
                # RFC 3261 section 13.3.1.4: the session ends with a BYE as well
                self.hangup(leg.call, cause="ack-timeout", notify=(leg.call.other(leg), leg))

    def _request(self, req: Request, txn: ServerTransaction | None, peer: Peer) -> None:
        to_tag = req.to.tag
        if to_tag:
            leg = self.legs.get((req.call_id, to_tag))
            if leg is not None and not _same_source(leg, peer):
                log.info("call %s: %s from %s refused: %s's peer is %s", leg.call.id,
                         req.method, peer, leg.side, leg.peer)  # fmt: skip
                leg = None  # answered as if no such dialog existed (see _same_source)
            if req.method == "ACK" or txn is None:
                if leg is not None and req.method == "ACK":
                    self.relay.ack_received(leg, req)  # it may bring a delayed answer
                    if self.sessions is not None:
                        self.sessions.ack_received(leg, req)
                return  # ACKs of 2xx are absorbed otherwise: we ACK our legs' 2xx ourselves
            if leg is None:
                self.endpoint.reply(txn, req, 481)
                return
            self._in_dialog(leg, req, txn)
            return
        if txn is None:
            return  # a stray ACK
        if not self._acceptable(req, txn):
            return
        method = req.method
        if method == "REGISTER":
            self.registrar.handle(req, txn, peer)
        elif method == "OPTIONS":
            self.endpoint.reply(txn, req, 200, headers=(
                ("Allow", ALLOW), ("Accept", "application/sdp"),
                ("Supported", "replaces, timer, path, outbound"),
            ))  # fmt: skip
        elif method == "INVITE":
            self._invite(req, txn, peer)
        elif method not in KNOWN_METHODS:
            self.endpoint.reply(txn, req, 501)
        elif method in ("BYE", "INFO", "UPDATE", "PRACK", "NOTIFY", "REFER"):
            self.endpoint.reply(txn, req, 481)
        else:
            self.endpoint.reply(txn, req, 405, headers=(("Allow", ALLOW),))

    def _acceptable(self, req: Request, txn: ServerTransaction) -> bool:
        """The checks of RFC 3261 section 8.2 (method, URI scheme, extensions, content)."""
        if not isinstance(req.uri, SipUri | TelUri):
            self.endpoint.reply(txn, req, 416)
            return False
        if req.method in ("INVITE", "REGISTER", "SUBSCRIBE", "REFER"):
            try:
                _ = req.contacts  # a dialog or binding is built from it later: check it now
            except ParseError as e:
                self.endpoint.reply(txn, req, 400, f"Bad Contact: {e.reason}")
                return False
        required = [v.lower() for v in req.headers.values("Require")]
        unsupported = [r for r in required if r not in SUPPORTED_OPTIONS]
        if unsupported and req.method not in ("CANCEL", "ACK"):
            self.endpoint.reply(txn, req, 420, headers=(("Unsupported", ", ".join(unsupported)),))
            return False
        if req.method == "INVITE":
            ctype = req.content_type
            if req.body and ctype not in ("application/sdp", None):
                self.endpoint.reply(txn, req, 415, headers=(("Accept", "application/sdp"),))
                return False
            accept = [v.split(";")[0].strip().lower() for v in req.headers.values("Accept")]
            if accept and not any(a in ("application/sdp", "application/*", "*/*")
                                  for a in accept):  # fmt: skip
                self.endpoint.reply(txn, req, 406, headers=(("Accept", "application/sdp"),))
                return False
        return True

    # -- new calls ---------------------------------------------------------------------------
    def _invite(self, req: Request, txn: ServerTransaction, peer: Peer) -> None:
        if self.overload.overloaded:
            self.endpoint.reply(txn, req, 503, "Overloaded", headers=(("Retry-After", "5"),))
            return
        if req.call_id in self.own_call_ids:
            self.endpoint.reply(txn, req, 482)
            return
        if req.max_forwards == 0:
            self.endpoint.reply(txn, req, 483)
            return
        anchor = self.media
        if anchor is not None and not anchor.ready(2):
            self._wait_for_media(anchor, req, txn, peer)
            return
        now = time.time()
        dialed = _user(req)
        trunk = self.router.trunk_for_source(peer)
        caller: str
        app = self.apps.find(dialed) if self.apps is not None and trunk is None else None
        if trunk is not None:
            dest = self.router.inbound_destination(trunk, dialed)
            if dest is not None and self.apps is not None:
                app = self.apps.find(dest)  # a DID routed to an IVR, a queue...
            route = self.router.inbound(trunk, dialed, now) if app is None else NoRoute(404, "")
            caller = _user_of(req.from_.uri) or "anonymous"
            direction = CallDirection.INBOUND
            trunk_name: str | None = trunk.name
        else:
            user = self.auth.check(req, txn, peer)
            if user is None:
                return
            caller = user
            route = self.router.dial(dialed, now) if app is None else NoRoute(404, "Not Found")
            direction = CallDirection.INTERNAL
            trunk_name = None
            if isinstance(route, TrunkRoute):
                direction = CallDirection.OUTBOUND
                trunk_name = route.trunk.name
        call = Call(id=new_id(8))
        a = Leg(call, "a", peer, req.call_id, new_tag(), req, server_txn=txn, sdp=_sdp(req),
                extension=None if trunk is not None else caller)  # fmt: skip
        call.a = a
        txn.user_data = a
        self.legs[(a.call_id, a.local_tag)] = a
        self.calls[call.id] = call
        if trunk is not None and app is None:
            # the extension a DID reaches: its forwarding applies even when no phone of it is
            # registered (the call fails before any fork is sent)
            call.extension = self.router.inbound_destination(trunk, dialed)
        call.record = CallRecord(call_id=call.id, caller=caller, callee=dialed,
                                 direction=direction, started_at=now, trunk=trunk_name)  # fmt: skip
        log.info("call %s: %s -> %s (%s)", call.id, caller, dialed, direction.value)
        if anchor is not None:
            a.media = anchor.open(call, "a", peer.host)
            a.media.inband_dtmf = trunk is not None and trunk.dtmf == "inband"
            offer = parse_sdp(a.sdp)
            if a.sdp and (offer is None or not has_g711(offer)):
                self.fail(call, 488, "Not Acceptable Here")  # nothing Tamas can carry
                return
            if app is not None and self.sessions is not None:
                self.sessions.answer_app(call, a, app)
                return
        if isinstance(route, NoRoute):
            self.fail(call, route.status, route.reason)
            return
        try:
            self._start_forks(call, req, caller, route)
        except Exception:
            # the endpoint answers 500 and logs it; the call must not stay behind
            for fork in list(call.forks):
                self.cancel(fork)
                self.forget(fork)
            self._finish(call, cause="internal-error", status=500)
            raise

    def _start_forks(self, call: Call, req: Request, caller: str, route: Route) -> None:
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
        if self.sessions is not None and call.a is not None:
            model, body = self.sessions.callee_offer(call, call.a, targets[0].peer.host)
            model.inband_dtmf = trunk is not None and trunk.dtmf == "inband"
            ctype = "application/sdp" if body else None
        for target in targets:
            leg = self.new_b_leg(call, caller, display, target, mf, trunk, body, ctype)
            if model is not None and self.media is not None:
                leg.media = model if not call.forks else self.media.share(leg, model)
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
        call_id = new_id(12)
        tag = new_tag()
        h = Headers()
        transport = target.peer.transport
        h.add("Via", self.endpoint.via(transport))
        h.add("Max-Forwards", str(mf))
        dn = f"{display} " if display else ""
        from_host = self.domain
        to_uri = str(target.uri)
        if trunk_from is not None:
            from_host = getattr(trunk_from, "from_domain", None) or from_host
            caller = getattr(trunk_from, "from_user", None) or caller
        h.add("From", f"{dn}<sip:{caller}@{from_host}>;tag={tag}")
        h.add("To", f"<{to_uri}>")
        h.add("Call-ID", call_id)
        h.add("CSeq", "1 INVITE")
        h.add("Contact", f"<{self.endpoint.contact_uri(transport)}>")
        h.add("Allow", ALLOW)
        if ctype and body:
            h.add("Content-Type", ctype)
        invite = Request(method="INVITE", uri=target.uri, headers=h, body=body)
        leg = Leg(call, "b", target.peer, call_id, tag, invite, own_call_id=True)
        self.own_call_ids.add(call_id)
        self.legs[(call_id, tag)] = leg
        return leg

    def send_invite(self, leg: Leg) -> None:
        leg.provisional = leg.cancel_sent = False  # they are about this INVITE transaction
        leg.client_txn = self.endpoint.request(leg.invite, leg.peer)
        leg.client_txn.user_data = leg

    # -- responses ---------------------------------------------------------------------------
    def _response(self, ev: ResponseReceived) -> None:
        data = ev.transaction.user_data
        if isinstance(data, Relay):
            self.relay.on_response(data, ev.response, ev.retransmission)
            return
        if isinstance(data, Farewell):
            if ev.response.status >= 200:
                self.forget(data.leg)
            return
        if isinstance(data, Probe):
            self.keepalive.on_response(data, ev.response)
            return
        if isinstance(data, Reinvite):
            self.transfers.on_reinvite_response(data, ev.response)
            return
        if isinstance(data, Leg) and data.client_txn is ev.transaction:
            self._fork_response(data, ev.response, ev.retransmission)
            return
        if data is not None and hasattr(data, "on_response"):
            data.on_response(ev.response)  # trunk registrations

    def _fork_response(self, leg: Leg, resp: Response, retransmission: bool) -> None:
        if leg.dial is not None and self.dialer is not None:
            self.dialer.on_response(leg, resp, retransmission)
            return
        if leg.transfer is not None:
            self.transfers.on_response(leg, resp, retransmission)
            return
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
                if self.sessions is not None:
                    body, ctype = self.sessions.callee_answered(leg, resp)
                self.reply_a(call, status, resp.reason, body=body, ctype=ctype)
            return
        if status in (401, 407) and self.retry_with_auth(leg, resp):
            return
        self._drop_fork(leg)
        call.failures.append(resp)
        if not call.forks and call.state is CallState.RINGING:
            best = min(call.failures, key=lambda r: _FAILURE_RANK.get(
                r.status, _FAILURE_RANK.get(r.status // 100, 5)))  # fmt: skip
            st = best.status if best.status not in (401, 407) else 503
            self.fail(call, st, best.reason if st == best.status else "Service Unavailable")

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
        h.set("Via", self.endpoint.via(leg.peer.transport))
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
        call = leg.call
        invite = leg.invite
        leg.sdp = _sdp(resp) or leg.sdp
        if leg.dialog is not None and (resp.to.tag or "") != leg.dialog.remote_tag:
            self._extra_dialog(leg, resp)
            return
        if leg.dialog is None:
            contact = f"<{self.endpoint.contact_uri(leg.peer.transport)}>"
            leg.dialog = Dialog.for_uac(invite, resp, contact)
        else:
            leg.dialog.update_from_response(resp)
        if retransmission:
            self.relay.resend_ack(leg, resp)
            return
        a = call.a
        if call.state is not CallState.RINGING or leg.cancel_wanted or a is None:
            # another fork won, or the call ended meanwhile: hang this one up
            self.relay.acknowledge(leg, resp, had_offer=bool(_sdp(invite)), answerer=None)
            self.send_in_dialog(leg, "BYE")
            self._drop_fork(leg)
            return
        # a delayed offer (RFC 3261 section 13.2.1): the ACK waits for the caller's answer
        self.relay.acknowledge(leg, resp, had_offer=bool(_sdp(invite)), answerer=a,
                               answerer_cseq=a.invite.cseq.seq)  # fmt: skip
        call.b = leg
        self._drop_fork(leg)
        for other in list(call.forks):
            self.cancel(other)
        self._stop_ring_timer(call)
        call.move(CallState.ANSWERED)
        assert a.server_txn is not None
        contact = f"<{self.endpoint.contact_uri(a.peer.transport)}>"
        a.dialog = Dialog.for_uas(a.invite, a.local_tag, contact, confirmed=True)
        body, ctype = resp.body, resp.headers.get("Content-Type")
        if self.sessions is not None:
            body, ctype = self.sessions.callee_answered(leg, resp)
        self.reply_a(call, 200, "OK", body=body, ctype=ctype)
        call.answered_at = time.time()
        call.answered_loop = asyncio.get_running_loop().time()
        self.keepalive.start(call)
        log.info("call %s answered", call.id)
        if self.media is not None:
            self.media.announce(call)  # bridged already, unless the answer is in the ACK

    def _extra_dialog(self, leg: Leg, resp: Response) -> None:
        """A 2xx with another To tag: a proxy beyond forked our INVITE and a second branch
        answered (RFC 3261 section 13.2.2.4). It gets an ACK and a BYE of its own."""
        contact = f"<{self.endpoint.contact_uri(leg.peer.transport)}>"
        extra = Dialog.for_uac(leg.invite, resp, contact)
        via = self.endpoint.via(leg.peer.transport)
        self.endpoint.send_stateless(
            extra.new_request("ACK", via=via, cseq=leg.invite.cseq.seq), leg.peer
        )
        self.endpoint.request(extra.new_request("BYE", via=self.endpoint.via(leg.peer.transport)),
                              leg.peer)  # fmt: skip

    def reply_a(
        self, call: Call, status: int, reason: str, *, body: bytes = b"", ctype: str | None = None
    ) -> None:
        a = call.a
        if a is None or a.server_txn is None:
            return
        headers: list[tuple[str, str]] = []
        if status < 300:
            headers.append(("Contact", f"<{self.endpoint.contact_uri(a.peer.transport)}>"))
            headers.append(("Allow", ALLOW))
        if body and ctype:
            headers.append(("Content-Type", ctype))
        resp = response_to(a.invite, status, reason, to_tag=a.local_tag, headers=tuple(headers),
                           body=body if ctype else b"")  # fmt: skip
        self.endpoint.respond(a.server_txn, resp)

    def fail(self, call: Call, status: int, reason: str) -> None:
        if self.unanswered is not None and call.state is not CallState.ENDED and \
                call.b is None and self.unanswered(call, status, reason):  # fmt: skip
            return  # forwarded: Tamas answered the caller and sends it elsewhere
        self.reply_a(call, status, reason)
        self._finish(call, cause=f"{status} {reason}", status=status)

    # -- timeouts and cancellation -----------------------------------------------------------
    def _timeout(self, txn: ClientTransaction) -> None:
        data = txn.user_data
        if isinstance(data, Relay):
            self.relay.on_timeout(data)
            return
        if isinstance(data, Farewell):
            self.forget(data.leg)
            return
        if isinstance(data, Probe):
            self.keepalive.on_timeout(data)
            return
        if isinstance(data, Leg) and data.client_txn is txn and data.dial is not None:
            if self.dialer is not None:
                self.dialer.on_timeout(data)
            return
        if isinstance(data, Leg) and data.client_txn is txn and data.transfer is not None:
            self.transfers.on_failure(data, 408, "Request Timeout")
            return
        if isinstance(data, Leg) and data.client_txn is txn:
            self._drop_fork(data)
            call = data.call
            call.failures.append(response_to(txn.request, 408))
            if not call.forks and call.state is CallState.RINGING:
                self.fail(call, 408, "Request Timeout")
            return
        if data is not None and hasattr(data, "on_timeout"):
            data.on_timeout()

    def _ring_timeout(self, call: Call) -> None:
        call.ring_timer = None
        if call.state is not CallState.RINGING:
            return
        for leg in list(call.forks):
            self.cancel(leg)
        self.fail(call, 480, "No Answer")

    def _cancelled(self, txn: ServerTransaction) -> None:
        leg = txn.user_data
        if isinstance(leg, Relay):
            self.relay.cancelled(leg)  # a relayed re-INVITE
            return
        if not isinstance(leg, Leg):
            return
        call = leg.call
        if call.state is not CallState.RINGING and call.state is not CallState.ROUTING:
            return
        for fork in list(call.forks):
            self.cancel(fork)
        self._finish(call, cause="cancelled", status=487)

    def cancel(self, leg: Leg) -> None:
        leg.cancel_wanted = True
        if not leg.provisional:
            return  # CANCEL waits for a provisional response (RFC 3261 section 9.1)
        if leg.client_txn is None or leg.cancel_sent:
            return
        leg.cancel_sent = True
        cancel = cancel_for(leg.invite)
        self.endpoint.request(cancel, leg.peer)
        self._drop_fork(leg)
        # RFC 3261 section 9.1: a callee that never answers the INVITE after our CANCEL must
        # not keep its transaction alive; give up on it after 64*T1.
        txn = leg.client_txn
        asyncio.get_running_loop().call_later(64 * self.endpoint.layer.t1, self.endpoint.drop, txn)

    def _stop_ring_timer(self, call: Call) -> None:
        if call.ring_timer is not None:
            call.ring_timer.cancel()
            call.ring_timer = None

    def _drop_fork(self, leg: Leg) -> None:
        if leg in leg.call.forks:
            leg.call.forks.remove(leg)
        if leg is not leg.call.b:
            self.forget(leg)  # its late responses still reach it through its transaction

    # -- confirmed calls ---------------------------------------------------------------------
    def _in_dialog(self, leg: Leg, req: Request, txn: ServerTransaction) -> None:
        dialog = leg.dialog
        call = leg.call
        if dialog is None and req.method == "BYE" and leg is call.a and \
                call.state is CallState.RINGING:  # fmt: skip
            # BYE in the caller's early dialog (RFC 3261 section 15): like a CANCEL
            self.endpoint.reply(txn, req, 200)
            self.reply_a(call, 487, "Request Terminated")
            for fork in list(call.forks):
                self.cancel(fork)
            self._finish(call, cause="bye-before-answer", status=487)
            return
        if dialog is None:
            self.endpoint.reply(txn, req, 481)
            return
        try:
            dialog.check_request(req)
        except OutOfOrderRequest:
            self.endpoint.reply(txn, req, 500, "CSeq Out of Order")
            return
        except ParseError as e:
            self.endpoint.reply(txn, req, 400, e.reason)
            return
        call = leg.call
        if leg is not call.a and leg is not call.b:
            # a transferor already replaced in its call: its BYE ends only its own dialog
            self.endpoint.reply(txn, req, 200 if req.method == "BYE" else 481)
            if req.method == "BYE":
                self.forget(leg)
            return
        other = call.other(leg)
        if req.method == "BYE" and self.transfers.transferor_left(leg):
            self.endpoint.reply(txn, req, 200)  # the transfer goes on without the transferor
            return
        if req.method == "BYE":
            self.endpoint.reply(txn, req, 200)
            if self.leg_left is not None and other is not None and self.leg_left(call, leg):
                self.release(call, leg)  # the call goes on without this leg
                return
            self.hangup(call, cause=f"bye-from-{leg.side}", notify=(other,))
            return
        if self.sessions is not None and call.state is CallState.ANSWERED and \
                self.sessions.in_dialog(leg, req, txn):  # fmt: skip
            return  # re-INVITE, UPDATE and INFO digits are answered by Tamas itself
        if other is None or other.dialog is None or call.state is not CallState.ANSWERED:
            self.endpoint.reply(txn, req, 481 if call.state is CallState.ENDED else 491)
            return
        if req.method == "REFER":
            self.transfers.refer(leg, other, req, txn)
            return
        self.relay.forward(leg, other, req, txn)

    def send_in_dialog(self, leg: Leg | None, method: str) -> ClientTransaction | None:
        if leg is None or leg.dialog is None or leg.dialog.state is DialogState.TERMINATED:
            return None
        if method == "BYE":
            self.relay.release(leg, send=True)  # a 2xx never ends unacknowledged
        req = leg.dialog.new_request(method, via=self.endpoint.via(leg.peer.transport))
        txn = self.endpoint.request(req, leg.peer)
        if method == "BYE":
            leg.dialog.move(DialogState.TERMINATED)
        return txn

    def hangup(self, call: Call, *, cause: str, notify: tuple[Leg | None, ...]) -> None:
        for leg in notify:
            self.send_in_dialog(leg, "BYE")
        for leg in (call.a, call.b):
            if leg is not None and leg.dialog is not None:
                leg.dialog.state = DialogState.TERMINATED
        self._finish(call, cause=cause, status=None)

    def _finish(self, call: Call, *, cause: str, status: int | None) -> None:
        if call.state is CallState.ENDED:
            return
        self._stop_ring_timer(call)
        self.keepalive.stop(call)
        call.move(CallState.ENDED)
        self.transfers.abandon(call)
        if self.dialer is not None:
            self.dialer.stop_call(call.id)
        for hook in list(self.ended_hooks):
            hook(call, cause)
        if self.media is not None:
            self.media.close_call(call)
        if call.record is not None:
            self.writer.record_call(
                replace(
                    call.record,
                    answered_at=call.answered_at,
                    ended_at=time.time(),
                    cause=cause,
                    status=status,
                )
            )
        log.info("call %s ended: %s", call.id, cause)
        for leg in (call.a, call.b):
            if leg is not None:
                self.relay.release(leg, send=False)
                self.forget(leg)
        self.calls.pop(call.id, None)
        # break the call <-> leg cycles so that reference counting frees them (see gcpolicy)
        call.a = call.b = None
        call.forks = []
        call.media = None

    def adopt_leg(self, into: Call, leg: Leg) -> None:
        """Move ``leg`` (the caller of another call Tamas answered, e.g. one picking up a
        parked call) into ``into`` as its ``b`` leg; its own call ends quietly ("merged")."""
        old = leg.call
        if old is into:
            return
        lm = leg.media
        if lm is not None and old.media is not None and into.media is not None:
            if lm.engine in old.media.legs:
                old.media.legs.remove(lm.engine)
            into.media.legs.append(lm.engine)
            if self.media is not None:
                self.media.adopt(into, lm)
        if old.a is leg:
            old.a = None
        if old.b is leg:
            old.b = None
        leg.call = into
        leg.side = "b"
        if lm is not None:
            lm.side = "b"
        into.b = leg
        self._finish(old, cause="merged", status=None)

    def release(self, call: Call, leg: Leg) -> None:
        """Let ``leg`` go (it hung up) while ``call`` goes on with its other party."""
        if leg.dialog is not None:
            leg.dialog.state = DialogState.TERMINATED
        if leg.media is not None and self.media is not None and call.media is not None:
            bridged = call.media.bridged
            if bridged is not None and leg.media.engine in bridged:
                call.media.bridged = None
            self.media.close(call, leg.media.engine)
            leg.media = None
        if call.b is leg:
            call.b = None
        elif call.a is leg:
            call.a = None
        self.relay.release(leg, send=False)
        self.forget(leg)

    def media_timeout(self, call: Call, side: str, silent_for: float, at: float) -> None:
        if self.sessions is not None:
            self.sessions.media_timeout(call, side, silent_for, at)

    def _wait_for_media(
        self, anchor: MediaAnchor, req: Request, txn: ServerTransaction, peer: Peer
    ) -> None:
        """No engine leg is ready: handle the INVITE once there are (503 if none can be)."""

        def resume(ok: bool) -> None:
            if txn.state is not State.PROCEEDING:
                return  # cancelled (and answered 487) meanwhile
            if ok:
                self._invite(req, txn, peer)
            else:
                self.endpoint.reply(txn, req, 503, "No Media Ports", headers=(
                    ("Retry-After", "5"),))  # fmt: skip

        anchor.pool.when_ready(2, resume)

    def forget(self, leg: Leg) -> None:
        self.legs.pop((leg.call_id, leg.local_tag), None)
        if leg.own_call_id:
            self.own_call_ids.discard(leg.call_id)


def _user_of(uri: object) -> str | None:
    if isinstance(uri, SipUri):
        return uri.user_unquoted
    if isinstance(uri, TelUri):
        return uri.number
    return None


def _user(req: Request) -> str:
    return _user_of(req.uri) or _user_of(req.to.uri) or ""


def _same_source(leg: Leg, peer: Peer) -> bool:
    """Whether a request in ``leg``'s dialog may come from ``peer``.

    The rule: the same transport and the same IP address as the leg's peer (the source of its
    INVITE, the flow its phone registered from, or the trunk's address). The port is free: a
    TCP, TLS or WebSocket phone reconnects from a new port, and a NAT may rebind a UDP flow.
    A stranger who learnt the dialog's Call-ID and tags (they are unguessable, see ids.py)
    cannot then hang up or re-INVITE the call unless it sends from the party's own address;
    parties behind one NAT share an address, which this rule cannot tell apart. A trunk whose
    in-dialog requests come from several addresses is not supported.

    A refused request gets 481, exactly what a wrong Call-ID or tag gets: a 403 would tell a
    scanner that it has found a live dialog.
    """
    seen = leg.peer
    return peer.host == seen.host and peer.transport == seen.transport
