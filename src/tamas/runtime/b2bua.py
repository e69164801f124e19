"""The B2BUA: every call is two (or more, while forking) dialogs joined by one call record.

Theory of operation
-------------------
An INVITE from a phone (authenticated by digest) or from a trunk (matched by source address)
becomes a :class:`~tamas.runtime.calls.Call` with an A leg (the caller's dialog, Tamas as UAS)
and one B leg per target (each registered contact of the callee, or the trunk), Tamas as UAC:
the forks, rung until one answers or all fail (:mod:`tamas.runtime.forking`). With media
anchored (the default, see :mod:`tamas.runtime.sessions`) every party gets Tamas's own SDP
naming an engine leg of its own, and the legs are bridged; otherwise the parties' SDP passes
through. CANCEL from A (answered 200/487 by the transaction layer) cancels the forks. In a
confirmed call, BYE from either side is answered 200 and sent to the other;
any other in-dialog request (INFO, NOTIFY, MESSAGE; re-INVITE and UPDATE only when media are
not anchored: anchored, Tamas answers them itself, hold included, and takes INFO DTMF as digits)
is relayed to the other side and its response relayed back (:mod:`tamas.runtime.relay`, which
also holds the ACK of a delayed offer and the CANCEL of a re-INVITE); REFER is carried out by
Tamas (:mod:`tamas.runtime.transfer`). In-dialog requests are taken only from the transport and
IP address of their leg's party (:func:`_same_source`). A confirmed call's dialogs are probed
with OPTIONS now and then, so that a party gone without a BYE does not keep the call for ever
(:mod:`tamas.runtime.keepalive`).

The call and leg records, and the table of call states :data:`CALL_TRANSITIONS`, are in
:mod:`tamas.runtime.calls`; they are re-exported here, where most modules name them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from tamas.config import Config
from tamas.core.ids import new_id
from tamas.runtime.anchor import MediaAnchor
from tamas.runtime.anchor_sdp import has_g711, parse_sdp
from tamas.runtime.authn import Authenticator
from tamas.runtime.calls import ALLOW as ALLOW
from tamas.runtime.calls import CALL_TRANSITIONS as CALL_TRANSITIONS
from tamas.runtime.calls import Call as Call
from tamas.runtime.calls import CallState as CallState
from tamas.runtime.calls import Leg as Leg
from tamas.runtime.endpoint import SipEndpoint
from tamas.runtime.forking import Forking
from tamas.runtime.keepalive import Keepalive, Probe
from tamas.runtime.mediaengine.api import CodecName
from tamas.runtime.overload import OverloadGuard
from tamas.runtime.registrar import Registrar
from tamas.runtime.relay import DialogRelay, Relay
from tamas.runtime.relay import sdp_body as _sdp
from tamas.runtime.routing import NoRoute, Router, Target, TrunkRoute
from tamas.runtime.sessions import AnchoredSessions
from tamas.runtime.storewriter import StoreWriter
from tamas.runtime.transfer import Farewell, Reinvite, Transfers
from tamas.runtime.trunks import TrunkRegistrations
from tamas.sip.builders import new_tag, response_to
from tamas.sip.dialog import DialogState
from tamas.sip.errors import OutOfOrderRequest, ParseError
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
    from tamas.runtime.callcenter.dialer import Dialer

log = logging.getLogger("tamas.calls")

KNOWN_METHODS = frozenset(ALLOW.replace(" ", "").split(",")) | {"SUBSCRIBE", "PRACK", "PUBLISH"}
SUPPORTED_OPTIONS = frozenset({"replaces", "timer", "path", "outbound", "norefersub"})


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
        self.forking = Forking(self)
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
            wideband = CodecName.G722 in anchor.codecs
            if a.sdp and (offer is None or not has_g711(offer, wideband=wideband)):
                self.fail(call, 488, "Not Acceptable Here")  # nothing Tamas can carry
                return
            if app is not None and self.sessions is not None:
                self.sessions.answer_app(call, a, app)
                return
        if isinstance(route, NoRoute):
            self.fail(call, route.status, route.reason)
            return
        try:
            self.forking.start(call, req, caller, route)
        except Exception:
            # the endpoint answers 500 and logs it; the call must not stay behind
            for fork in list(call.forks):
                self.forking.cancel(fork)
                self.forget(fork)
            self._finish(call, cause="internal-error", status=500)
            raise

    # -- forks (see tamas.runtime.forking; transfers and the dialer ring their targets too) ---
    def new_b_leg(
        self, call: Call, caller: str, display: str | None, target: Target, mf: int,
        trunk_from: object | None, body: bytes, ctype: str | None,
    ) -> Leg:  # fmt: skip
        """A leg from Tamas to ``target`` (not yet sent: see :meth:`send_invite`)."""
        return self.forking.new_b_leg(call, caller, display, target, mf, trunk_from, body, ctype)

    def send_invite(self, leg: Leg) -> None:
        self.forking.send_invite(leg)

    def retry_with_auth(self, leg: Leg, resp: Response) -> bool:
        """Answer a trunk's 401/407 once with its credentials (see :mod:`tamas.runtime.forking`)."""
        return self.forking.retry_with_auth(leg, resp)

    def cancel(self, leg: Leg) -> None:
        """CANCEL ``leg``'s INVITE, once it has had a provisional response."""
        self.forking.cancel(leg)

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
            if data.dial is not None and self.dialer is not None:
                self.dialer.on_response(data, ev.response, ev.retransmission)
            elif data.transfer is not None:
                self.transfers.on_response(data, ev.response, ev.retransmission)
            else:
                self.forking.on_response(data, ev.response, ev.retransmission)
            return
        if data is not None and hasattr(data, "on_response"):
            data.on_response(ev.response)  # trunk registrations

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
            self.forking.on_timeout(data, txn)
            return
        if data is not None and hasattr(data, "on_timeout"):
            data.on_timeout()

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
            self.forking.cancel(fork)
        self._finish(call, cause="cancelled", status=487)

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
                self.forking.cancel(fork)
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
        self.forking.stop_ring_timer(call)
        self.keepalive.stop(call)
        call.move(CallState.ENDED)
        self.transfers.abandon(call)
        if self.dialer is not None:
            self.dialer.stop_call(call.id)
        for hook in list(self.ended_hooks):
            hook(call, cause)
        if self.media is not None:
            self.media.close_call(call)
        r = call.record
        if r is not None:
            # the constructor, not dataclasses.replace (several times its cost, once per call)
            self.writer.record_call(
                CallRecord(
                    call_id=r.call_id,
                    caller=r.caller,
                    callee=r.callee,
                    direction=r.direction,
                    started_at=r.started_at,
                    trunk=r.trunk,
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
