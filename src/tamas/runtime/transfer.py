"""Blind (unattended) transfer by REFER, handled by the B2BUA (RFC 3515, RFC 5589 section 6).

The transferor (say the agent) sends REFER in its dialog with ``Refer-To: <sip:3000@...>``.
Tamas does not pass the REFER on to the transferee (the customer's phone or trunk may not
support it); it performs the transfer itself:

1. answers 202 and sends the transferor NOTIFY ``SIP/2.0 100 Trying`` (message/sipfrag);
2. dials the target like any call, offering the transferee's last session description;
3. when the target answers, re-INVITEs the transferee with the target's description (so the
   media of the two meet), swaps the target in for the transferor in the call, NOTIFYs the
   transferor ``SIP/2.0 200 OK`` (subscription terminated) and sends it BYE;
4. when the target fails, NOTIFYs the failure (``SIP/2.0 486 Busy Here``...) and the call goes
   on between transferor and transferee.

The call keeps its one call id and record: it is accounted once, with the transfer in its log.
Attended transfer (Refer-To with ``Replaces``, RFC 3891) joins the transferee with the party
of the transferor's consultation call through Tamas (:meth:`Transfers._attended`).

**With anchored media** (:mod:`tamas.runtime.anchor`) the transferee's RTP never moves: the
target is offered Tamas's own SDP from a new engine leg (carrying the transferee's codecs),
the transferee hears ringback tones from Tamas meanwhile (music on hold would stop: the
transfer replaces it), and when the target answers the transferee's engine leg is bridged to
the target's; the transferor's leg is closed. No re-INVITE goes to the transferee (the engine
transcodes PCMU <-> PCMA if the target chose the other law). A failed transfer puts the
transferee's leg back on the bridge with the transferor (and back on hold music if the
transferor was holding).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote

from tamas.media.playback import tone_source
from tamas.media.tones import RINGBACK_ITU
from tamas.runtime.anchor import LegMedia
from tamas.runtime.calls import Call, Leg
from tamas.runtime.own_forks import ForkResult, fork_response
from tamas.runtime.routing import ExtensionRoute, NoRoute, TrunkRoute
from tamas.sip.auth import DigestClient
from tamas.sip.builders import response_to
from tamas.sip.dialog import DialogState
from tamas.sip.errors import ParseError
from tamas.sip.message import Request, Response
from tamas.sip.transaction import ServerTransaction
from tamas.sip.uri import SipUri, TelUri, parse_name_addr

if TYPE_CHECKING:
    from tamas.config.model import MediaApplication
    from tamas.runtime.b2bua import B2BUA

log = logging.getLogger("tamas.calls")

SIPFRAG = "message/sipfrag;version=2.0"

#: Application kinds a call can be transferred to (Tamas takes the transferee itself).
TO_APPLICATIONS = frozenset({"queue", "ivr", "voicemail", "park", "conference"})


@dataclass(eq=False, slots=True)
class BlindTransfer:
    call: Call
    transferor: Leg
    transferee: Leg
    target: str
    forks: list[Leg] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None
    done: bool = False
    transferor_gone: bool = False
    media: LegMedia | None = None  # the target's engine leg (shared by its forks), if anchored


@dataclass(eq=False, slots=True)
class Farewell:
    """A BYE Tamas sent to a leg no longer in its call (a transferor): the leg is forgotten
    once the BYE is answered or times out; until then a BYE crossing ours still gets 200."""

    leg: Leg


@dataclass(eq=False, slots=True)
class Reinvite:
    """A re-INVITE Tamas sent on its own account (its 2xx is ACKed and otherwise ignored)."""

    leg: Leg


class Transfers:
    def __init__(self, b2bua: B2BUA) -> None:
        self.b2bua = b2bua
        self.active: dict[str, BlindTransfer] = {}  # by call id

    # -- REFER ------------------------------------------------------------------------------
    def refer(self, leg: Leg, other: Leg, req: Request, txn: ServerTransaction) -> None:
        b = self.b2bua
        call = leg.call
        if leg.extension is None:
            # only an extension may transfer: a trunk-side party could otherwise send the
            # call anywhere the dial plan reaches, at the center's expense
            b.endpoint.reply(txn, req, 403, "Transfer Not Allowed")
            return
        raw = req.headers.get("Refer-To")
        try:
            refer_to = parse_name_addr(raw or "")
        except ParseError:
            b.endpoint.reply(txn, req, 400, "Bad Refer-To")
            return
        uri = refer_to.uri
        if isinstance(uri, SipUri) and uri.headers and "replaces" in uri.headers.lower():
            self._attended(leg, other, req, txn, uri.headers)
            return
        number = uri.user_unquoted if isinstance(uri, SipUri) else (
            uri.number if isinstance(uri, TelUri) else None)  # fmt: skip
        if not number:
            b.endpoint.reply(txn, req, 400, "Bad Refer-To")
            return
        if call.id in self.active:
            b.endpoint.reply(txn, req, 491, "Transfer In Progress")
            return
        app = b.apps.find(number) if b.apps is not None else None
        if app is not None and app.kind in TO_APPLICATIONS and other.media is not None:
            self._to_application(leg, other, req, txn, app, number)
            return
        route = b.router.dial(number, time.time())
        if isinstance(route, NoRoute):
            b.endpoint.reply(txn, req, route.status, route.reason)
            return
        anchor = b.media
        if anchor is not None and not anchor.ready(1):
            b.endpoint.reply(txn, req, 503, "No Media Ports", headers=(("Retry-After", "5"),))
            return
        contact = f"<{b.endpoint.contact_uri(leg.peer.transport)}>"
        b.endpoint.respond(txn, response_to(req, 202, headers=(("Contact", contact),)))
        transfer = BlindTransfer(call=call, transferor=leg, transferee=other, target=number)
        self.active[call.id] = transfer
        self._notify(transfer, "SIP/2.0 100 Trying", final=False)
        log.info("call %s: blind transfer of %s to %s", call.id, other.side, number)
        caller = call.record.caller if call.record is not None else "anonymous"
        if isinstance(route, ExtensionRoute):
            targets, timeout = list(route.targets), float(route.extension.ring_timeout)
        else:
            assert isinstance(route, TrunkRoute)
            targets, timeout = [route.target], 120.0
        trunk = route.trunk if isinstance(route, TrunkRoute) else None
        offer = other.sdp
        if anchor is not None and other.media is not None:
            transfer.media = anchor.open(call, "t", targets[0].peer.host)
            offer = anchor.offer(transfer.media, other.sdp or other.media.sent)
            anchor.play(other.media, tone_source(RINGBACK_ITU))
        for target in targets:
            fork = b.new_b_leg(call, caller, None, target, 70, trunk, offer,
                               "application/sdp" if offer else None)  # fmt: skip
            fork.transfer = transfer
            if transfer.media is not None and anchor is not None:
                fork.media = transfer.media if not transfer.forks else anchor.share(
                    fork, transfer.media)  # fmt: skip
            if isinstance(route, ExtensionRoute):
                fork.extension = route.extension.number
            elif trunk is not None and trunk.auth_user and trunk.password:
                fork.digest = DigestClient(trunk.auth_user, trunk.password)
            transfer.forks.append(fork)
            b.send_invite(fork)
        transfer.timer = asyncio.get_running_loop().call_later(
            timeout, self.on_failure_all, transfer, 480, "No Answer"
        )

    def _to_application(
        self, leg: Leg, other: Leg, req: Request, txn: ServerTransaction,
        app: MediaApplication, number: str,
    ) -> None:  # fmt: skip
        """A transfer to a number Tamas answers itself (a queue, an IVR, voicemail, a park
        slot): done at once. The transferee becomes the call's caller leg and the
        application takes it; the transferor is told 200 and hung up."""
        b = self.b2bua
        call = leg.call
        contact = f"<{b.endpoint.contact_uri(leg.peer.transport)}>"
        b.endpoint.respond(txn, response_to(req, 202, headers=(("Contact", contact),)))
        transfer = BlindTransfer(call=call, transferor=leg, transferee=other, target=number)
        self._notify(transfer, "SIP/2.0 200 OK", final=True)
        log.info("call %s: %s transferred to %s (%s)", call.id, other.side, number, app.kind)
        for hook in list(b.transfer_hooks):
            hook(call, leg, number)
        anchor = b.media
        if anchor is not None and leg.media is not None and call.media is not None:
            anchor.close(call, leg.media.engine)
            leg.media = None
        call.a, call.b = other, None
        other.side = "a"
        if other.media is not None:
            other.media.side = "a"
            if anchor is not None:
                anchor.play(other.media, None)
        if call.media is not None:
            call.media.bridged = None
        bye = b.send_in_dialog(leg, "BYE")
        if bye is None:
            b.forget(leg)
        else:
            bye.user_data = Farewell(leg)
        if b.apps is not None and other.media is not None:
            b.apps.start(call, other.media, app, number)

    def _attended(
        self, leg: Leg, other: Leg, req: Request, txn: ServerTransaction, headers: str
    ) -> None:
        """Attended (consultative) transfer, RFC 5589 section 7: the transferor (``leg``)
        talked to the target in a second call through Tamas and now REFERs its first call's
        other party (``other``) to it with ``Replaces`` naming that second dialog. Tamas
        joins the two itself: the target's leg moves into this call and is bridged with the
        transferee, and both of the transferor's legs are hung up. Nobody is re-INVITEd.
        """
        b = self.b2bua
        call = leg.call
        found = _replaced_leg(b, headers)
        if found is None or found.call is call or found.extension != leg.extension:
            # unknown dialog, or one that is not the transferor's own (RFC 3891 section 3)
            b.endpoint.reply(txn, req, 481 if found is None else 403)
            return
        consult = found.call
        target = consult.other(found)
        if target is None or target.dialog is None or target.media is None \
                or other.media is None or b.media is None:  # fmt: skip
            b.endpoint.reply(txn, req, 488, "Not Acceptable Here")
            return
        contact = f"<{b.endpoint.contact_uri(leg.peer.transport)}>"
        b.endpoint.respond(txn, response_to(req, 202, headers=(("Contact", contact),)))
        transfer = BlindTransfer(call=call, transferor=leg, transferee=other,
                                 target=target.extension or "")  # fmt: skip
        self._notify(transfer, "SIP/2.0 200 OK", final=True)
        log.info("call %s: attended transfer of %s to %s (call %s)", call.id, other.side,
                 target.extension or "the target", consult.id)  # fmt: skip
        for hook in list(b.attended_hooks):
            hook(call, leg, consult, target)
        anchor = b.media
        for gone in (leg, found):  # both of the transferor's legs
            if gone.media is not None and gone.call.media is not None:
                anchor.close(gone.call, gone.media.engine)
                gone.media = None
            bye = b.send_in_dialog(gone, "BYE")
            if bye is None:
                b.forget(gone)
            else:
                bye.user_data = Farewell(gone)
        if consult.a is found:
            consult.a = None
        if consult.b is found:
            consult.b = None
        call.a, call.b = other, None
        other.side = "a"
        other.media.side = "a"
        if call.media is not None:
            call.media.bridged = None
        anchor.play(other.media, None)
        b.adopt_leg(call, target)  # ends the consultation call ("merged")
        anchor.bridge(call, other.media, target.media)

    # -- the target's answer ------------------------------------------------------------------
    def on_response(self, fork: Leg, resp: Response, retransmission: bool) -> None:
        transfer = fork.transfer
        assert transfer is not None
        result = fork_response(self.b2bua, fork, resp, retransmission, over=transfer.done)
        if result is ForkResult.FAILED:
            self.on_failure(fork, resp.status, resp.reason)
        elif result is ForkResult.ANSWERED:
            self._complete(transfer, fork)

    def _complete(self, transfer: BlindTransfer, fork: Leg) -> None:
        b = self.b2bua
        call = transfer.call
        for other in transfer.forks:
            if other is not fork:
                b.cancel(other)
        transfer.forks = []
        self._close(transfer)
        fork.transfer = None
        transferee, transferor = transfer.transferee, transfer.transferor
        anchor = b.media
        if anchor is not None and fork.media is not None and transferee.media is not None:
            # anchored: the transferee's leg is bridged to the target's; its RTP stays put
            if not anchor.take_answer(fork.media, fork.sdp):
                log.warning("call %s: transfer target's answer has no usable audio", call.id)
            fork.media.side = transferor.side
            anchor.adopt(call, fork.media)
            anchor.play(transferee.media, None)
            anchor.bridge(call, transferee.media, fork.media)
            if transferor.media is not None:
                anchor.close(call, transferor.media.engine)
                transferor.media = None
        elif transferee.dialog is not None and fork.sdp:
            # the transferee's media now go to the target: tell it where (a re-INVITE)
            reinvite = transferee.dialog.new_request(
                "INVITE", via=b.endpoint.via(transferee.peer.transport), body=fork.sdp,
                headers=(("Content-Type", "application/sdp"),),
            )  # fmt: skip
            txn = b.endpoint.request(reinvite, transferee.peer)
            txn.user_data = Reinvite(transferee)
        if call.a is transferor:
            call.a = fork
        else:
            call.b = fork
        fork.side = transferor.side
        self._notify(transfer, "SIP/2.0 200 OK", final=True)
        bye = b.send_in_dialog(transferor, "BYE")
        if bye is None:
            b.forget(transferor)
        else:
            bye.user_data = Farewell(transferor)
        log.info("call %s: transferred to %s", call.id, transfer.target)

    def transferor_left(self, leg: Leg) -> bool:
        """``leg`` hung up; True if it is a transferor whose transfer goes on without it
        (phones commonly BYE right after the 202, RFC 5589 section 6)."""
        transfer = self.active.get(leg.call.id)
        if transfer is None or transfer.transferor is not leg:
            return False
        if leg.dialog is not None:
            leg.dialog.state = DialogState.TERMINATED
        transfer.transferor_gone = True
        return True

    def on_reinvite_response(self, data: Reinvite, resp: Response) -> None:
        leg = data.leg
        if 200 <= resp.status < 300 and leg.dialog is not None:
            leg.dialog.update_from_response(resp)
            ack = leg.dialog.new_request("ACK", via=self.b2bua.endpoint.via(leg.peer.transport),
                                         cseq=resp.cseq.seq)  # fmt: skip
            self.b2bua.endpoint.send_stateless(ack, leg.peer)

    # -- failures ------------------------------------------------------------------------------
    def on_failure(self, fork: Leg, status: int, reason: str) -> None:
        transfer = fork.transfer
        if transfer is None:
            return
        if fork in transfer.forks:
            transfer.forks.remove(fork)
        self.b2bua.forget(fork)
        if not transfer.forks and not transfer.done:
            self._fail(transfer, status, reason)

    def on_failure_all(self, transfer: BlindTransfer, status: int, reason: str) -> None:
        transfer.timer = None
        if transfer.done:
            return
        for fork in list(transfer.forks):
            self.b2bua.cancel(fork)
        self._fail(transfer, status, reason)

    def _fail(self, transfer: BlindTransfer, status: int, reason: str) -> None:
        self._close(transfer)
        anchor, transferee, transferor = self.b2bua.media, transfer.transferee, transfer.transferor
        if anchor is not None and transfer.media is not None:
            anchor.close(transfer.call, transfer.media.engine)
            transfer.media = None
            if transferee.media is not None and transferor.media is not None:
                holding = transferor.media.holding
                anchor.play(transferee.media, anchor.music.source() if holding else None)
                anchor.bridge(transfer.call, transferee.media, transferor.media)
        if transfer.transferor_gone:
            # nobody to return the call to: the transferee is hung up
            self.b2bua.hangup(transfer.call, cause=f"transfer-failed {status}",
                              notify=(transfer.transferee,))  # fmt: skip
        else:
            self._notify(transfer, f"SIP/2.0 {status} {reason}", final=True)
        log.info("call %s: transfer to %s failed: %d %s", transfer.call.id, transfer.target,
                 status, reason)  # fmt: skip

    def abandon(self, call: Call) -> None:
        """The call ended while a transfer was under way: cancel or hang up its forks."""
        transfer = self.active.get(call.id)
        if transfer is None:
            return
        self._close(transfer)
        for fork in transfer.forks:
            if fork.dialog is not None:
                self.b2bua.send_in_dialog(fork, "BYE")
            else:
                self.b2bua.cancel(fork)
            self.b2bua.forget(fork)
        transfer.forks = []  # no fork <-> transfer cycle left behind

    def _close(self, transfer: BlindTransfer) -> None:
        transfer.done = True
        if transfer.timer is not None:
            transfer.timer.cancel()
            transfer.timer = None
        self.active.pop(transfer.call.id, None)

    def _notify(self, transfer: BlindTransfer, sipfrag: str, *, final: bool) -> None:
        leg = transfer.transferor
        dialog = leg.dialog
        if dialog is None or dialog.state is DialogState.TERMINATED:
            return
        state = "terminated;reason=noresource" if final else "active;expires=60"
        notify = dialog.new_request(
            "NOTIFY", via=self.b2bua.endpoint.via(leg.peer.transport),
            body=(sipfrag + "\r\n").encode(),
            headers=(("Event", "refer"), ("Subscription-State", state),
                     ("Content-Type", SIPFRAG)),
        )  # fmt: skip
        self.b2bua.endpoint.request(notify, leg.peer)


def _replaced_leg(b2bua: B2BUA, headers: str) -> Leg | None:
    """The leg whose dialog a Refer-To's ``Replaces`` header names (RFC 3891 section 6.1):
    ``call-id;to-tag=...;from-tag=...`` from the transferor's point of view, so ``to-tag``
    is Tamas's tag of that dialog."""
    for part in headers.split("&"):
        name, _, value = part.partition("=")
        if name.strip().lower() != "replaces":
            continue
        fields = unquote(value).split(";")
        call_id = fields[0].strip()
        params = dict(p.strip().partition("=")[::2] for p in fields[1:])
        to_tag = params.get("to-tag", "")
        leg = b2bua.legs.get((call_id, to_tag))
        if leg is not None and leg.dialog is not None \
                and leg.dialog.remote_tag == params.get("from-tag"):  # fmt: skip
            return leg
    return None
