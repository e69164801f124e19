"""B2BUA scenarios beyond the plain call: delayed offers, CANCEL of a re-INVITE, merged
requests, requests from strangers, internal errors. Same in-memory harness and fixture as
:mod:`test_b2bua_memory` (whose ``play`` also checks that no call, leg or Call-ID is left)."""

from __future__ import annotations

from pathlib import Path

import pytest
from memsip import STRANGER_HOST, Net, Phone, collapse, label, sdp, until
from test_b2bua_memory import (
    B_PORT,
    CARRIER,
    D1_PORT,
    D2_PORT,
    E_TCP_PORT,
    SDP_A,
    SDP_B,
    Answered,
    only_record,
    play,
    req,
    resp,
)

from tamas.sip.dialog import Dialog
from tamas.sip.message import Request
from tamas.sip.sdp import SessionDescription

HOLD = sdp(6000, direction="sendonly", version=2)
HELD = sdp(7000, direction="recvonly", version=2)


def rejects_everything(body: bytes) -> bool:
    sd = SessionDescription.parse(body)
    return bool(sd.media) and all(m.port == 0 for m in sd.media)


# -- delayed offer (RFC 3261 section 13.2.1, RFC 3264 section 5) ---------------------------------
class DelayedOffer:
    """carrier -> 2000 with an INVITE without SDP; B's 200 carries the offer."""

    def __init__(self, net: Net) -> None:
        self.carrier, self.b = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b")
        self.invite = self.carrier.invite("sip:5551000@127.0.0.1:5060")
        self.b_invite = self.b.expect_request("INVITE")
        assert self.b_invite.body == b"" and self.b_invite.content_type is None
        self.b_ok = self.b.reply(self.b_invite, 200, tag="btag", body=SDP_B)
        self.b_dialog = Dialog.for_uas(self.b_invite, "btag", self.b.contact, confirmed=True)
        self.b.expect()  # no ACK yet: it must carry the answer, which only the caller has
        _, ok = self.carrier.expect("100 INVITE", "200 INVITE")
        self.ok = resp(ok)
        assert self.ok.body == SDP_B and self.ok.content_type == "application/sdp"
        self.a_dialog = self.carrier.dialog_as_uac(self.invite, self.ok)

    def ack_with_answer(self, body: bytes = SDP_A) -> Request:
        return self.carrier.request(self.a_dialog, "ACK", body=body, cseq=self.invite.cseq.seq)


def test_delayed_offer_answer_goes_in_the_callee_ack(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(net: Net) -> None:
        call = DelayedOffer(net)
        b = call.b
        b.send(call.b_ok)  # B retransmits its 2xx: absorbed, there is no answer to send yet
        b.expect()
        stranger = net.phone(5090, "x", host=STRANGER_HOST)
        stranger.request(call.a_dialog, "ACK", body=sdp(9999), cseq=call.invite.cseq.seq)
        b.expect()  # an "answer" from another address is not the caller's
        call.ack_with_answer()
        ack = b.expect_request("ACK")
        assert ack.body == SDP_A and ack.content_type == "application/sdp"
        assert (ack.cseq.seq, ack.to.tag) == (call.b_invite.cseq.seq, "btag")
        b.send(call.b_ok)  # a late retransmission gets the same ACK again
        assert b.expect_request("ACK").body == SDP_A
        call.carrier.send(ack)  # ...and a repeated ACK from the caller is not relayed twice
        net.assert_quiet()
        call.carrier.request(call.a_dialog, "BYE")
        call.carrier.expect("200 BYE")
        b.reply(b.expect_request("BYE"), 200)

    rec = only_record(play(tmp_path, caplog, scenario))
    assert rec.answered_at is not None and rec.cause == "bye-from-a"


def test_delayed_offer_caller_never_acks(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The ACK timeout ends the call; B's 2xx gets its ACK first (every stream rejected, a
    valid answer), then BYE."""

    async def scenario(net: Net) -> None:
        call = DelayedOffer(net)
        b = call.b
        await until(lambda: "BYE" in b.peek(), timeout=10.0)  # timer L: 64 * T1
        ack, bye = [r.message for r in collapse(b.take_raw())]
        assert (label(ack), label(bye)) == ("ACK", "BYE")
        assert ack.content_type == "application/sdp" and rejects_everything(ack.body)
        b.reply(req(bye), 200)
        to_carrier = collapse(call.carrier.take_raw())
        assert [label(r.message) for r in to_carrier] == ["200 INVITE", "BYE"]
        call.carrier.reply(req(to_carrier[-1].message), 200)

    rec = only_record(play(tmp_path, caplog, scenario, t1=0.01))
    assert rec.cause == "ack-timeout"


def test_delayed_offer_ack_without_answer(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(net: Net) -> None:
        call = DelayedOffer(net)
        call.carrier.ack(call.a_dialog, call.invite)  # no body: RFC 3264 requires the answer
        ack, bye = call.b.expect("ACK", "BYE")
        assert rejects_everything(ack.body)
        call.b.reply(req(bye), 200)
        call.carrier.reply(call.carrier.expect_request("BYE"), 200)

    rec = only_record(play(tmp_path, caplog, scenario))
    assert rec.cause == "no-answer-in-ack"


def test_delayed_offer_reinvite(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(net: Net) -> None:
        call = Answered(net)
        carrier, b = call.carrier, call.b
        reinvite = carrier.request(call.a_dialog, "INVITE")  # no body: B is to offer
        carrier.expect("100 INVITE")
        b_reinvite = b.expect_request("INVITE")
        assert b_reinvite.body == b""
        call.b_dialog.check_request(b_reinvite)
        b_ok = b.reply(b_reinvite, 200, body=HELD)
        b.expect()
        ok = carrier.expect_response("200 INVITE")
        assert ok.body == HELD
        b.send(b_ok)
        b.expect()
        carrier.request(call.a_dialog, "ACK", body=HOLD, cseq=reinvite.cseq.seq)
        ack = b.expect_request("ACK")
        assert (ack.body, ack.cseq.seq) == (HOLD, b_reinvite.cseq.seq)
        net.assert_quiet()
        call.carrier_hangs_up(b)

    rec = only_record(play(tmp_path, caplog, scenario))
    assert rec.cause == "bye-from-a"


def test_delayed_offer_losing_fork_gets_a_rejecting_ack(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two contacts answer a delayed-offer call: the second 2xx's offer can have no answer
    from the caller, so its ACK rejects every stream before the BYE (RFC 3264 section 6)."""

    async def scenario(net: Net) -> None:
        carrier = net.phone(CARRIER, "carrier")
        d1, d2 = net.phone(D1_PORT, "d1"), net.phone(D2_PORT, "d2")
        invite = carrier.invite("sip:4000@127.0.0.1:5060")
        inv1, inv2 = d1.expect_request("INVITE"), d2.expect_request("INVITE")
        d2.reply(inv2, 200, tag="d2tag", body=sdp(7200))
        _, ok = carrier.expect("100 INVITE", "200 INVITE")
        d1.reply(inv1, 200, tag="d1tag", body=sdp(7100))  # too late
        ack1, bye1 = d1.expect("ACK", "BYE")
        assert rejects_everything(ack1.body)
        d1.reply(req(bye1), 200)
        a_dialog = carrier.dialog_as_uac(invite, resp(ok))
        carrier.request(a_dialog, "ACK", body=SDP_A, cseq=invite.cseq.seq)
        assert d2.expect_request("ACK").body == SDP_A
        carrier.request(a_dialog, "BYE")
        carrier.expect("200 BYE")
        d2.reply(d2.expect_request("BYE"), 200)

    rec = only_record(play(tmp_path, caplog, scenario), callee="4000")
    assert rec.cause == "bye-from-a"


# -- CANCEL of a relayed re-INVITE (RFC 3261 section 9) -----------------------------------------
def _hold(call: Answered) -> tuple[Request, Request]:
    reinvite = call.carrier.request(call.a_dialog, "INVITE", body=HOLD)
    call.carrier.expect("100 INVITE")
    b_reinvite = call.b.expect_request("INVITE")
    call.b_dialog.check_request(b_reinvite)
    return reinvite, b_reinvite


def _cancel(call: Answered, reinvite: Request) -> None:
    call.carrier.cancel(reinvite)
    ok, terminated = call.carrier.expect("200 CANCEL", "487 INVITE")
    assert resp(ok).to.tag == resp(terminated).to.tag == call.ok.to.tag
    call.carrier.ack_failure(reinvite, resp(terminated))


def test_cancelled_reinvite_is_cancelled_on_the_other_leg(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(net: Net) -> None:
        call = Answered(net)
        b = call.b
        reinvite, b_reinvite = _hold(call)
        b.reply(b_reinvite, 100)  # a provisional response: a CANCEL may follow
        _cancel(call, reinvite)
        cancel = b.expect_request("CANCEL")
        assert cancel.headers.values("Via")[0] == b_reinvite.headers.values("Via")[0]
        assert (cancel.call_id, cancel.cseq.seq) == (b_reinvite.call_id, b_reinvite.cseq.seq)
        assert cancel.to.tag == "btag"
        b.reply(cancel, 200)
        b.reply(b_reinvite, 487)
        b.expect("ACK")
        net.assert_quiet()  # the 487 is not relayed again: the carrier has its own
        call.carrier_hangs_up(b)  # the call goes on as before

    rec = only_record(play(tmp_path, caplog, scenario))
    assert rec.cause == "bye-from-a"


def test_cancel_of_reinvite_waits_for_a_provisional(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(net: Net) -> None:
        call = Answered(net)
        b = call.b
        reinvite, b_reinvite = _hold(call)
        _cancel(call, reinvite)
        b.expect()  # RFC 3261 section 9.1: no CANCEL before a provisional response
        b.reply(b_reinvite, 180)
        cancel = b.expect_request("CANCEL")
        call.carrier.expect()  # the late 180 is not relayed
        b.reply(cancel, 200)
        b.reply(b_reinvite, 487)
        b.expect("ACK")
        call.carrier_hangs_up(b)

    only_record(play(tmp_path, caplog, scenario))


def test_reinvite_answered_across_the_cancel_is_undone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """B's 200 crosses Tamas's CANCEL: B now has the session the carrier withdrew, so Tamas
    ACKs it and re-INVITEs B with the carrier's previous description (a newer o= version)."""

    async def scenario(net: Net) -> None:
        call = Answered(net)
        b = call.b
        reinvite, b_reinvite = _hold(call)
        b.reply(b_reinvite, 180)
        call.carrier.expect_response("180 INVITE")
        _cancel(call, reinvite)
        cancel = b.expect_request("CANCEL")
        b.reply(b_reinvite, 200, body=HELD)  # already answered when the CANCEL came
        b.reply(cancel, 200)
        ack, restore = b.expect("ACK", "INVITE")
        assert ack.cseq.seq == b_reinvite.cseq.seq and ack.body == b""
        restore = req(restore)
        call.b_dialog.check_request(restore)
        sd, before = SessionDescription.parse(restore.body), SessionDescription.parse(SDP_A)
        assert sd.origin.sess_version == 3  # above the withdrawn offer's 2
        assert sd.media == before.media and sd.connection == before.connection
        b.reply(restore, 200, body=sdp(7000, version=3))
        b.expect("ACK")
        net.assert_quiet()  # the carrier hears nothing of it
        call.carrier_hangs_up(b)

    rec = only_record(play(tmp_path, caplog, scenario))
    assert rec.cause == "bye-from-a"


def test_reinvite_without_final_response_is_given_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No timer ends a client INVITE in Proceeding: after 64*T1 Tamas answers the carrier 408
    and cancels the relayed re-INVITE, so that neither transaction waits forever."""

    async def scenario(net: Net) -> None:
        call = Answered(net)
        carrier, b = call.carrier, call.b
        reinvite, b_reinvite = _hold(call)
        b.reply(b_reinvite, 180)
        carrier.expect_response("180 INVITE")
        await until(lambda: "CANCEL" in b.peek(), timeout=10.0)
        (timeout,) = [r.message for r in collapse(carrier.take_raw())]
        assert label(timeout) == "408 INVITE"
        carrier.ack_failure(reinvite, resp(timeout))
        (cancel,) = [r.message for r in collapse(b.take_raw())]
        b.reply(req(cancel), 200)
        b.reply(b_reinvite, 487)
        b.expect("ACK")
        call.carrier_hangs_up(b)

    rec = only_record(play(tmp_path, caplog, scenario, t1=0.01))
    assert rec.cause == "bye-from-a"


# -- merged requests (RFC 3261 section 8.2.2.2) -------------------------------------------------
def test_merged_invite_gets_482(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(net: Net) -> None:
        carrier, b = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b")
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=SDP_A)
        b_invite = b.expect_request("INVITE")
        # the same INVITE, forked upstream, comes back by another path (another branch)
        merged = Request(method="INVITE", uri=invite.uri, headers=invite.headers.copy(),
                         body=invite.body)  # fmt: skip
        merged.headers.set("Via", carrier.via())
        carrier.send(merged)
        _, loop = carrier.expect("100 INVITE", "482 INVITE")
        assert resp(loop).top_via.branch == merged.top_via.branch
        carrier.ack_failure(merged, resp(loop))
        b.expect()  # no second call
        b.reply(b_invite, 486, tag="btag")
        b.expect("ACK")
        carrier.ack_failure(invite, carrier.expect_response("486 INVITE"))

    rec = only_record(play(tmp_path, caplog, scenario))
    assert rec.status == 486


# -- in-dialog requests bound to their leg's source ---------------------------------------------
def test_in_dialog_requests_from_strangers_are_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(net: Net) -> None:
        call = Answered(net)
        carrier, b = call.carrier, call.b
        # someone who learnt the carrier's Call-ID and tags, on another machine
        stranger = net.phone(5090, "x", host=STRANGER_HOST)
        stranger.request(call.a_dialog, "BYE")
        assert stranger.expect_response("481 BYE").reason == "Call/Transaction Does Not Exist"
        bad = stranger.request(call.a_dialog, "INVITE", body=sdp(9999, version=2))
        _, refused = stranger.expect("100 INVITE", "481 INVITE")
        stranger.ack_failure(bad, resp(refused))
        # the same machine as B, but another transport
        local = net.phone(E_TCP_PORT, "y", transport="TCP")
        local.request(call.b_dialog, "BYE")
        local.expect("481 BYE")
        net.assert_quiet()  # the call was not touched
        # the carrier itself from another port (a NAT rebinding): accepted
        moved = net.phone(5091, "carrier")
        moved.request(call.a_dialog, "BYE")
        moved.expect("200 BYE")
        b.reply(b.expect_request("BYE"), 200)
        carrier.expect()

    rec = only_record(play(tmp_path, caplog, scenario))
    assert rec.cause == "bye-from-a"
    assert "BYE from udp:127.0.0.2:5090 refused" in caplog.text


# -- an internal error while setting a call up leaves nothing behind -----------------------------
def test_failure_while_dialling_ends_the_call(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(net: Net) -> None:
        del net.stack.endpoint.advertised["TCP"]  # 5000 is reached over TCP: no Via for it
        carrier = net.phone(CARRIER, "carrier")
        invite = carrier.invite("sip:5000@127.0.0.1:5060", body=SDP_A)
        _, failed = carrier.expect("100 INVITE", "500 INVITE")
        carrier.ack_failure(invite, resp(failed))

    records = play(tmp_path, caplog, scenario, expected_errors=("transaction user failed",))
    rec = only_record(records, callee="5000")
    assert (rec.cause, rec.status) == ("internal-error", 500)



# -- a callee that only ever said 100 Trying ------------------------------------------------------
def test_callee_that_only_sent_100_is_cancelled(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """100 Trying is a provisional response (RFC 3261 section 9.1): after it a CANCEL may go,
    and must, or the callee's INVITE (Proceeding: timer B no longer runs) and its leg would
    wait forever."""

    async def scenario(net: Net) -> None:
        carrier, b = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b")
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=SDP_A)
        b_invite = b.expect_request("INVITE")
        b.reply(b_invite, 100)
        carrier.cancel(invite)
        _, _, terminated = carrier.expect("100 INVITE", "200 CANCEL", "487 INVITE")
        carrier.ack_failure(invite, resp(terminated))
        cancel = b.expect_request("CANCEL")
        b.reply(cancel, 200, tag="btag")
        b.reply(b_invite, 487, tag="btag")
        b.expect("ACK")

    rec = only_record(play(tmp_path, caplog, scenario))
    assert (rec.cause, rec.status) == ("cancelled", 487)


# -- a party that vanishes without BYE: in-dialog OPTIONS find out (RFC 5057 section 5.1) ---------
def test_keepalive_probes_both_parties_and_the_call_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(net: Net) -> None:
        net.stack.b2bua.keepalive.interval = 0.05
        call = Answered(net)
        carrier, b = call.carrier, call.b
        await until(lambda: carrier.peek() != [] and b.peek() != [], timeout=10.0)
        to_carrier, to_b = carrier.expect_request("OPTIONS"), b.expect_request("OPTIONS")
        assert (to_carrier.call_id, to_carrier.from_.tag) == (call.invite.call_id, call.ok.to.tag)
        assert (to_b.call_id, to_b.to.tag) == (call.b_invite.call_id, "btag")
        call.a_dialog.check_request(to_carrier)
        call.b_dialog.check_request(to_b)
        carrier.reply(to_carrier, 200)
        b.reply(to_b, 405)  # "not allowed" still shows that the dialog is there
        call.carrier_hangs_up(b)

    rec = only_record(play(tmp_path, caplog, scenario))
    assert rec.cause == "bye-from-a"


def _answer_probes(phone: Phone) -> bool:
    """Answer 200 to every OPTIONS ``phone`` has received (left in order otherwise)."""
    inbox = phone.net.wire.inbox[phone.port]
    for r in [r for r in inbox if label(r.message) == "OPTIONS"]:
        inbox.remove(r)
        phone.reply(req(r.message), 200)
    return True


@pytest.mark.parametrize("gone", [481, 408, None])
def test_keepalive_ends_a_call_whose_party_is_gone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, gone: int | None
) -> None:
    async def scenario(net: Net) -> None:
        net.stack.b2bua.keepalive.interval = 0.05
        call = Answered(net)
        carrier, b = call.carrier, call.b
        await until(lambda: carrier.peek() != [] and b.peek() != [], timeout=10.0)
        b.reply(b.expect_request("OPTIONS"), 200)
        probe = carrier.expect_request("OPTIONS")
        if gone is not None:
            carrier.reply(probe, gone)  # the carrier no longer knows the call
        else:  # the carrier is silent; B, still there, answers every probe
            await until(lambda: _answer_probes(b) and "BYE" in b.peek(), timeout=10.0)
            assert {label(r.message) for r in carrier.take_raw()} == {"OPTIONS"}
        b.reply(b.expect_request("BYE"), 200)  # B is told; the carrier gets no BYE

    t1 = 0.01 if gone is None else None
    rec = only_record(play(tmp_path, caplog, scenario, t1=t1))
    assert rec.cause == "dialog-gone-a"
