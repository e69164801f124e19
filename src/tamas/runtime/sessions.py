"""The B2BUA's offer/answer when it anchors media: what each party is told, and when.

Theory of operation
-------------------
With anchoring on (``media.anchor``), a session description never crosses from one party to
the other; :class:`AnchoredSessions` translates each step of the call's offer/answer
exchanges (RFC 3264) into one exchange with each party (see :mod:`tamas.runtime.anchor`):

* **INVITE with an offer** (RFC 3261 section 13.2.1): the callee (every fork) gets Tamas's
  offer carrying the caller's codecs. The first 18x or the 2xx with an answer configures the
  callee's engine leg; the caller then gets Tamas's answer (the same body in every 18x and
  the 2xx, as RFC 3261 section 13.2.1 requires of unreliable provisional answers) and the two
  engine legs are bridged, so early media (a far end's ringback) is heard.
* **Delayed offer** (INVITE without SDP): the callee's 2xx brings its offer; the caller gets
  Tamas's offer in the 2xx, and its ACK's answer configures its leg and becomes Tamas's answer
  in the callee's ACK (:meth:`delayed_answer`, called by :mod:`tamas.runtime.relay`).
* **re-INVITE and UPDATE** in a confirmed call are answered by Tamas itself, not relayed: the
  party's leg is reconfigured from its new offer (codec, address) and Tamas answers with the
  reversed direction for a hold (``sendonly`` -> ``recvonly``, ``inactive`` -> ``inactive``,
  RFC 3264 section 8.4). A party that holds the call makes the other one hear music on hold;
  taking it off hold (``sendrecv``) stops the music, the bridge never having moved. A
  re-INVITE without an offer gets Tamas's last description as an offer in the 2xx, and the
  ACK's answer reconfigures the leg.
* **INFO application/dtmf-relay** (``Signal=5`` ``Duration=160``, the de-facto format of
  Cisco and most phones) is a digit like an RFC 4733 one, answered 200; the anchor passes it
  on to the other party as RFC 4733 or as an INFO of its own (DTMF interworking, see
  :mod:`tamas.runtime.anchor`), never by relaying this request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from tamas.runtime.anchor import CallDigit, LegMedia, MediaAnchor
from tamas.runtime.anchor_sdp import parse_sdp
from tamas.runtime.relay import SDP, reject_all, sdp_body
from tamas.sip.builders import response_to
from tamas.sip.dialog import Dialog
from tamas.sip.message import Request, Response
from tamas.sip.offer_answer import NotAcceptableHere
from tamas.sip.sdp import hold_state
from tamas.sip.transaction import ServerTransaction

if TYPE_CHECKING:
    from tamas.config.model import MediaApplication
    from tamas.runtime.apps import Applications
    from tamas.runtime.b2bua import B2BUA, Call, Leg

log = logging.getLogger("tamas.calls")

_DTMF_RELAY = "application/dtmf-relay"
_INFO_DIGITS = {str(n): str(n) for n in range(10)} | {"10": "*", "11": "#", "*": "*", "#": "#",
                                                      "A": "A", "B": "B", "C": "C", "D": "D",
                                                      "12": "A", "13": "B", "14": "C",
                                                      "15": "D", "16": "!"}  # fmt: skip


class AnchoredSessions:
    def __init__(self, b2bua: B2BUA, anchor: MediaAnchor, apps: Applications | None) -> None:
        self.b2bua = b2bua
        self.anchor = anchor
        self.apps = apps

    # -- new calls -----------------------------------------------------------------------------
    def callee_offer(self, call: Call, a: Leg, first_peer_host: str) -> tuple[LegMedia, bytes]:
        """The callee side's engine leg (shared by the forks) and Tamas's offer for them
        (empty for a delayed offer: the forks get no SDP either)."""
        model = self.anchor.open(call, "b", first_peer_host)
        offer = sdp_body(a.invite)
        return model, self.anchor.offer(model, offer) if offer else b""

    def answer_a(self, call: Call, callee: LegMedia) -> bytes:
        """Tamas's answer to the caller's offer (computed once, repeated), bridged to the
        callee's leg, or b"" if the caller made no offer or the callee's answer is unusable."""
        media, a = call.media, call.a
        if media is None or a is None or a.media is None or callee.remote is None:
            return b""
        if not media.answer_a:
            try:
                media.answer_a = self.anchor.answer(a.media, sdp_body(a.invite),
                                                    prefer=callee.codec)  # fmt: skip
            except NotAcceptableHere:
                return b""
        self.anchor.adopt(call, callee)
        self.anchor.bridge(call, a.media, callee)
        return media.answer_a

    def callee_answered(self, leg: Leg, resp: Response) -> tuple[bytes, str | None]:
        """The body and Content-Type to send the caller for ``resp`` (a 18x or 2xx of a fork):
        Tamas's answer or offer, or nothing."""
        call, a, lm = leg.call, leg.call.a, leg.media
        sdp = sdp_body(resp)
        if a is None or lm is None:
            return b"", None
        if not sdp_body(a.invite):
            # a delayed offer: the callee's 2xx carries its offer; the caller gets Tamas's
            if resp.status >= 200 and sdp and a.media is not None:
                self.anchor.adopt(call, lm)
                return self.anchor.offer(a.media, sdp), SDP
            return b"", None
        if sdp and not self.anchor.take_answer(lm, sdp):
            log.warning("call %s: %s's answer has no usable audio", call.id, leg.side)
        body = self.answer_a(call, lm)
        return body, (SDP if body else None)

    def delayed_answer(self, leg: Leg, to_leg: Leg, offer: bytes, answer: bytes) -> bytes:
        """``leg`` (the caller) answered in its ACK the offer Tamas made for ``to_leg``'s
        offer: configure the caller's leg and return Tamas's answer for ``to_leg``."""
        if leg.media is None or to_leg.media is None:
            return answer
        if not self.anchor.take_answer(leg.media, answer):
            log.info("call %s: the answer in the ACK has no usable audio", leg.call.id)
            return reject_all(offer)
        try:
            out = self.anchor.answer(to_leg.media, offer, prefer=leg.media.codec)
        except NotAcceptableHere:
            return reject_all(offer)
        self.anchor.bridge(leg.call, leg.media, to_leg.media)
        return out

    def answer_app(self, call: Call, a: Leg, app: MediaApplication) -> None:
        """Tamas answers the caller itself and runs ``app`` (see :mod:`tamas.runtime.apps`)."""
        assert self.apps is not None and a.media is not None
        if not self.answer_self(call, a):
            self.b2bua.fail(call, 488, "Not Acceptable Here")
            return
        self.apps.start(call, a.media, app)

    def answer_self(self, call: Call, a: Leg) -> bool:
        """Answer the caller with Tamas's own media leg (an application, or a forwarded call
        whose callee did not answer); False if the caller's offer has no usable audio.

        If early media already gave the caller Tamas's answer, the 2xx repeats it (RFC 3261
        section 13.2.1); the callee side's engine leg, whose forks all failed, is closed."""
        b = self.b2bua
        lm, media = a.media, call.media
        if lm is None or media is None:
            return False
        offer = sdp_body(a.invite)
        if media.answer_a:
            body = media.answer_a
        else:
            try:
                body = self.anchor.answer(lm, offer, prefer=None) if offer else self.anchor.offer(
                    lm, b"")  # fmt: skip
            except NotAcceptableHere:
                return False
            if not offer:
                lm.ack_cseq = a.invite.cseq.seq
        for engine_leg in list(media.legs):
            if engine_leg is not lm.engine:
                self.anchor.close(call, engine_leg)
        media.bridged = None
        from tamas.runtime.b2bua import CallState

        call.move(CallState.RINGING)
        call.move(CallState.ANSWERED)
        contact = f"<{b.endpoint.contact_uri(a.peer.transport)}>"
        a.dialog = Dialog.for_uas(a.invite, a.local_tag, contact, confirmed=True)
        b.reply_a(call, 200, "OK", body=body, ctype=SDP)
        call.answered_at = time.time()
        call.answered_loop = asyncio.get_running_loop().time()
        b.keepalive.start(call)
        return True

    # -- confirmed calls -----------------------------------------------------------------------
    def in_dialog(self, leg: Leg, req: Request, txn: ServerTransaction) -> bool:
        """Handle ``req`` here if it is about the media; False to let the B2BUA relay it."""
        lm = leg.media
        if lm is None:
            return False
        if req.method in ("INVITE", "UPDATE"):
            self._session(leg, lm, req, txn)
            return True
        if req.method == "INFO" and req.content_type == _DTMF_RELAY:
            self._info_digit(leg, lm, req, txn)
            return True
        return False

    def _session(self, leg: Leg, lm: LegMedia, req: Request, txn: ServerTransaction) -> None:
        b = self.b2bua
        call = leg.call
        other = call.other(leg)
        offer = sdp_body(req)
        body = b""
        if offer:
            try:
                body = self.anchor.answer(lm, offer, prefer=lm.codec)
            except NotAcceptableHere:
                b.endpoint.reply(txn, req, 488)
                return
            sd = parse_sdp(offer)
            held = sd is not None and hold_state(sd) != "active"
            if held != lm.holding:
                log.info("call %s: %s %s", call.id, leg.side,
                         "holds the call" if held else "resumes the call")  # fmt: skip
            changed = held != lm.holding
            self.anchor.hold(lm, other.media if other is not None else None, held)
            if changed:
                for hook in list(b.hold_hooks):
                    hook(call, leg, held)
            leg.sdp = offer
        elif req.method == "INVITE":
            body = self.anchor.reoffer(lm)
            lm.ack_cseq = req.cseq.seq
        headers: list[tuple[str, str]] = []
        if req.method == "INVITE":
            headers.append(("Contact", f"<{b.endpoint.contact_uri(leg.peer.transport)}>"))
        if body:
            headers.append(("Content-Type", SDP))
        b.endpoint.respond(txn, response_to(req, 200, headers=tuple(headers), body=body))

    def ack_received(self, leg: Leg, ack: Request) -> None:
        """An ACK may carry the answer to the offer Tamas put in a 2xx."""
        lm = leg.media
        if lm is None or lm.ack_cseq == 0 or ack.cseq.seq != lm.ack_cseq:
            return
        lm.ack_cseq = 0
        answer = sdp_body(ack)
        if answer and self.anchor.take_answer(lm, answer):
            return
        log.info("call %s: %s's ACK has no usable answer", leg.call.id, leg.side)

    def _info_digit(self, leg: Leg, lm: LegMedia, req: Request, txn: ServerTransaction) -> None:
        fields: dict[str, str] = {}
        for line in req.body.decode("utf-8", "replace").splitlines():
            name, sep, value = line.partition("=")
            if sep:
                fields[name.strip().lower()] = value.strip()
        digit = _INFO_DIGITS.get(fields.get("signal", "").upper())
        if digit is None:
            self.b2bua.endpoint.reply(txn, req, 400, "Bad Signal")
            return
        self.b2bua.endpoint.reply(txn, req, 200)
        try:
            duration = int(fields.get("duration", "0"))
        except ValueError:
            duration = 0
        self.anchor.digit(CallDigit(call_id=leg.call.id, side=lm.side, digit=digit,
                                    duration_ms=duration, via="info",
                                    at=asyncio.get_running_loop().time()))  # fmt: skip

    def media_timeout(self, call: Call, side: str, silent_for: float, at: float) -> None:
        from tamas.runtime.b2bua import CallState

        if call.state is not CallState.ANSWERED or call.answered_loop is None:
            return  # ringing: only an answered call's silence counts
        if at - silent_for < call.answered_loop - 1.0:
            return  # the silence began before the answer (a callee without early media)
        for leg in (call.a, call.b):
            if leg is not None and leg.media is not None and leg.media.side == side \
                    and leg.media.holding:  # fmt: skip
                return  # a party that holds the call may send nothing (a=inactive)
        log.info("call %s: no RTP from %s for %.0f s; hanging up", call.id, side, silent_for)
        self.b2bua.hangup(call, cause="media-timeout", notify=(call.a, call.b))
