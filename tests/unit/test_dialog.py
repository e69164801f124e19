"""Dialogs (RFC 3261 section 12) on top of two in-memory transaction layers: whole calls."""

from __future__ import annotations

import pytest
from sippair import End, SipPair, invite, is_request, is_response

from tamas.sip.builders import new_branch, new_tag, response_to
from tamas.sip.dialog import Dialog, DialogState, OutOfOrderRequest
from tamas.sip.message import Request, Response
from tamas.sip.transaction import RequestReceived, ResponseReceived
from tamas.sip.uri import parse_uri

A_CONTACT = "<sip:a@192.0.2.1:5060>"
B_CONTACT = "<sip:b@192.0.2.2:5070>"
RR = ("<sip:p1.example.net;lr>", "<sip:p2.example.net;lr>")
OFFER = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
SDP = (("Content-Type", "application/sdp"),)


def via(end: End) -> str:
    return f"SIP/2.0/{end.peer.transport} {end.peer.host}:{end.peer.port};branch={new_branch()}"


class Call:
    """The two TUs of one call (Alice calls Bob), reacting to their layers' events."""

    def __init__(self, pair: SipPair, *, record_route: tuple[str, ...] = ()) -> None:
        self.pair = pair
        self.b_tag = new_tag()
        self.dialog_a: Dialog | None = None
        self.dialog_b: Dialog | None = None
        self.b_requests: list[Request] = []  # in-dialog requests Bob's TU accepted
        self.a_responses: list[Response] = []
        self.rejected: list[OutOfOrderRequest] = []
        headers = tuple(("Record-Route", r) for r in record_route) + SDP
        self.invite = invite(pair.a, pair.b, headers=headers, body=OFFER)

    def start(self) -> None:
        self.pair.a.layer.request(self.invite, self.pair.b.peer, self.pair.now)
        self.run()

    # -- the TUs ----------------------------------------------------------------------------
    def run(self) -> None:
        """Pump and let both TUs react until nothing moves."""
        self.pair.pump()
        while self.pair.a.events or self.pair.b.events:
            for e in self.pair.b.take_events():
                if isinstance(e, RequestReceived):
                    self.bob_gets(e)
            for e in self.pair.a.take_events():
                if isinstance(e, ResponseReceived):
                    self.alice_gets(e)
            self.pair.pump()

    def bob_gets(self, e: RequestReceived) -> None:
        req, txn, layer, now = e.request, e.transaction, self.pair.b.layer, self.pair.now
        if self.dialog_b is None:
            assert req.method == "INVITE" and txn is not None
            self.dialog_b = Dialog.for_uas(req, self.b_tag, B_CONTACT)
            ok = response_to(req, 200, to_tag=self.b_tag, headers=(("Contact", B_CONTACT),))
            layer.respond(txn, ok, now)
            return
        try:
            self.dialog_b.check_request(req)
        except OutOfOrderRequest as err:
            self.rejected.append(err)
            assert txn is not None
            layer.respond(txn, response_to(req, err.status, err.reason), now)
            return
        self.b_requests.append(req)
        if req.method == "ACK":
            self.dialog_b.move(DialogState.CONFIRMED)
            return
        assert txn is not None
        extra = (("Contact", B_CONTACT),) if req.method == "INVITE" else ()
        layer.respond(txn, response_to(req, 200, headers=extra), now)
        if req.method == "BYE":
            self.dialog_b.move(DialogState.TERMINATED)

    def alice_gets(self, e: ResponseReceived) -> None:
        resp = e.response
        self.a_responses.append(resp)
        if resp.status < 200:
            return
        method = resp.cseq.method
        if method == "INVITE" and resp.status < 300:
            if self.dialog_a is None:
                self.dialog_a = Dialog.for_uac(e.transaction.request, resp, A_CONTACT)
            elif not e.retransmission:
                self.dialog_a.update_from_response(resp)
            ack = self.dialog_a.new_request("ACK", via=via(self.pair.a), cseq=resp.cseq.seq)
            self.pair.a.layer.send_stateless(ack, self.pair.b.peer)
        elif method == "BYE" and self.dialog_a is not None:
            self.dialog_a.move(DialogState.TERMINATED)

    # -- in-dialog requests -----------------------------------------------------------------
    def alice_sends(self, method: str, **kw: object) -> Request:
        assert self.dialog_a is not None
        req = self.dialog_a.new_request(method, via=via(self.pair.a), **kw)  # type: ignore[arg-type]
        self.pair.a.layer.request(req, self.pair.b.peer, self.pair.now)
        self.run()
        return req

    def settle(self) -> None:
        while (when := self.pair.deadline()) is not None:
            self.pair.advance(when)
            self.run()


def labels(pair: SipPair) -> list[str]:
    return [f"{s.src}:{s.label}" + ("(lost)" if s.dropped else "") for s in pair.wire.log]


@pytest.mark.parametrize("transport", ["UDP", "TCP"])
def test_invite_200_ack_bye_200(transport: str) -> None:
    pair = SipPair(transport)
    call = Call(pair)
    call.start()
    da, db = call.dialog_a, call.dialog_b
    assert da is not None and db is not None
    assert da.state is DialogState.CONFIRMED and db.state is DialogState.CONFIRMED
    call_id = call.invite.call_id
    a_tag = call.invite.from_.tag
    assert da.id == (call_id, a_tag, call.b_tag)
    assert db.id == (call_id, call.b_tag, a_tag)
    assert str(da.remote_target) == "sip:b@192.0.2.2:5070"
    assert str(db.remote_target) == "sip:a@192.0.2.1:5060"
    assert call.b_requests[0].method == "ACK"
    assert call.b_requests[0].uri == da.remote_target
    assert call.b_requests[0].cseq.seq == 1

    bye = call.alice_sends("BYE")
    assert bye.cseq.seq == 2
    assert bye.uri == da.remote_target
    assert bye.to.tag == call.b_tag and bye.from_.tag == a_tag
    assert da.state is DialogState.TERMINATED and db.state is DialogState.TERMINATED
    assert labels(pair) == [
        "a:INVITE", "b:100/INVITE", "b:200/INVITE", "a:ACK", "a:BYE", "b:200/BYE"
    ]  # fmt: skip
    call.settle()
    assert pair.a.layer.counts == (0, 0) and pair.b.layer.counts == (0, 0)
    assert pair.deadline() is None


def test_route_set_from_record_route_on_both_sides() -> None:
    pair = SipPair()
    call = Call(pair, record_route=RR)
    call.start()
    da, db = call.dialog_a, call.dialog_b
    assert da is not None and db is not None
    assert pair.sent("200/INVITE")[0].message.headers.get_all("Record-Route") == list(RR)
    assert db.route_set == list(RR)
    assert da.route_set == list(reversed(RR))
    assert call.b_requests[0].headers.get_all("Route") == list(reversed(RR))  # the ACK
    bye = call.alice_sends("BYE")
    assert bye.headers.get_all("Route") == list(reversed(RR))
    # Bob's requests go the other way round.
    reverse = db.new_request("INFO", via=via(pair.b))
    assert reverse.headers.get_all("Route") == list(RR)
    assert reverse.uri == parse_uri("sip:a@192.0.2.1:5060")
    assert reverse.cseq.seq == 1  # the UAS's local CSeq space starts here


def test_reinvite_relays_body_and_refreshes_the_target() -> None:
    pair = SipPair()
    call = Call(pair)
    call.start()
    da, db = call.dialog_a, call.dialog_b
    assert da is not None and db is not None
    da.local_contact = "<sip:a@192.0.2.1:5062;transport=udp>"
    hold = OFFER + b"m=audio 49170 RTP/AVP 0\r\na=sendonly\r\n"
    reinvite = call.alice_sends("INVITE", body=hold, headers=SDP)
    assert reinvite.cseq.seq == 2
    got = [r for r in call.b_requests if r.method == "INVITE"]
    assert len(got) == 1
    assert got[0].body == hold and b"a=sendonly" in got[0].body
    assert got[0].content_type == "application/sdp"
    assert str(db.remote_target) == "sip:a@192.0.2.1:5062;transport=udp"
    assert db.remote_seq == 2
    # The re-INVITE's 2xx was acknowledged with its own CSeq.
    acks = [r for r in call.b_requests if r.method == "ACK"]
    assert [a.cseq.seq for a in acks] == [1, 2]
    assert [r.status for r in call.a_responses] == [100, 200, 100, 200]
    # A later request from Bob follows the new target.
    assert db.new_request("BYE", via=via(pair.b)).uri == db.remote_target


def test_reinvite_2xx_refreshes_the_uac_target() -> None:
    pair = SipPair()
    call = Call(pair)
    call.start()
    da = call.dialog_a
    assert da is not None
    reinvite = da.new_request("INVITE", via=via(pair.a))
    moved = response_to(reinvite, 200, headers=(("Contact", "<sip:b@198.51.100.9:5080>"),))
    da.update_from_response(moved)
    assert str(da.remote_target) == "sip:b@198.51.100.9:5080"
    # A 2xx to a non-refresh request leaves the target alone.
    info = da.new_request("INFO", via=via(pair.a))
    da.update_from_response(response_to(info, 200, headers=(("Contact", "<sip:x@h>"),)))
    assert str(da.remote_target) == "sip:b@198.51.100.9:5080"


def test_lower_cseq_is_out_of_order() -> None:
    pair = SipPair()
    call = Call(pair)
    call.start()
    da, db = call.dialog_a, call.dialog_b
    assert da is not None and db is not None
    call.alice_sends("INFO")  # CSeq 2
    call.alice_sends("INFO", cseq=1)
    assert [e.status for e in call.rejected] == [500]
    assert [(r.status, r.cseq.seq) for r in call.a_responses[-2:]] == [(200, 2), (500, 1)]
    assert db.remote_seq == 2
    with pytest.raises(OutOfOrderRequest):
        db.check_request(da.new_request("INFO", via=via(pair.a), cseq=2))
    # ACK and CANCEL reuse the INVITE's number and are not checked.
    db.check_request(da.new_request("ACK", via=via(pair.a), cseq=1))
    assert da.local_seq == 2  # explicit cseq= does not move the local counter


@pytest.mark.parametrize(
    "lose, expected",
    [
        (
            is_request("INVITE"),
            ["a:INVITE(lost)", "a:INVITE", "b:100/INVITE", "b:200/INVITE", "a:ACK"],
        ),
        (
            is_response(200, "INVITE"),
            ["a:INVITE", "b:100/INVITE", "b:200/INVITE(lost)", "b:200/INVITE", "a:ACK"],
        ),
        (
            is_request("ACK"),
            ["a:INVITE", "b:100/INVITE", "b:200/INVITE", "a:ACK(lost)", "b:200/INVITE", "a:ACK"],
        ),
    ],
    ids=["first-invite", "first-200", "first-ack"],
)
def test_lossy_wire_still_completes_the_call(lose: object, expected: list[str]) -> None:
    pair = SipPair()
    pair.wire.drop(lose)  # type: ignore[arg-type]
    call = Call(pair)
    call.start()
    while call.dialog_b is None or call.dialog_b.state is not DialogState.CONFIRMED:
        when = pair.deadline()
        assert when is not None and when <= 32.0, "the call never completed"
        pair.advance(when)
        call.run()
    assert pair.now == 0.5  # one retransmission interval repaired the loss
    assert labels(pair) == expected
    # Bob's TU saw exactly one INVITE and one ACK.
    assert [r.method for r in call.b_requests] == ["ACK"]
    call.alice_sends("BYE")
    assert labels(pair)[-2:] == ["a:BYE", "b:200/BYE"]
    assert call.dialog_a is not None and call.dialog_a.state is DialogState.TERMINATED
    call.settle()
    assert pair.a.layer.counts == (0, 0) and pair.b.layer.counts == (0, 0)


# -- Dialog on its own ------------------------------------------------------------------------
def test_early_dialog_is_confirmed_by_2xx_which_recomputes_the_route_set() -> None:
    pair = SipPair()
    req = invite(pair.a, pair.b)
    tag = new_tag()
    ringing = response_to(req, 180, to_tag=tag, headers=(("Record-Route", RR[0]),))
    d = Dialog.for_uac(req, ringing, A_CONTACT)
    assert d.state is DialogState.EARLY
    assert d.route_set == [RR[0]]
    assert d.remote_target == req.uri  # no Contact in the 180
    ok = response_to(req, 200, to_tag=tag, headers=(("Contact", B_CONTACT),))
    ok.headers.remove("Record-Route")
    for r in RR:
        ok.headers.add("Record-Route", r)
    d.update_from_response(ok)
    assert d.state is DialogState.CONFIRMED
    assert d.route_set == list(reversed(RR))
    assert str(d.remote_target) == "sip:b@192.0.2.2:5070"
    # Once confirmed the route set is fixed.
    later = response_to(req, 200, to_tag=tag, headers=(("Record-Route", "<sip:x;lr>"),))
    d.update_from_response(later)
    assert d.route_set == list(reversed(RR))


def test_dialog_transitions_are_checked() -> None:
    pair = SipPair()
    d = Dialog.for_uas(invite(pair.a, pair.b), new_tag(), B_CONTACT, confirmed=True)
    d.move(DialogState.CONFIRMED)  # staying put is allowed
    d.move(DialogState.TERMINATED)
    with pytest.raises(RuntimeError):
        d.move(DialogState.CONFIRMED)
