"""Calls through the real endpoint, transaction layer and B2BUA, both ends in memory.

The carrier (a trunk at 127.0.0.1:5071) calls in; extensions answer as scripted phones
(:mod:`memsip`). Every test asserts exactly what each party receives, in order, and the call
record Tamas writes at the end.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from memsip import (
    TAMAS_CONTACT,
    Net,
    Phone,
    collapse,
    label,
    sdp,
    until,
)

from tamas.config import parse_config
from tamas.runtime.app import build_sip_stack
from tamas.runtime.storewriter import StoreWriter
from tamas.sip.message import Request, Response
from tamas.sip.transaction import State
from tamas.store import Binding, CallDirection, CallRecord, open_store

CARRIER, B_PORT, C_PORT, D1_PORT, D2_PORT, E_TCP_PORT = 5071, 5072, 5073, 5074, 5075, 5076
SDP_A, SDP_B, SDP_C = sdp(6000), sdp(7000), sdp(8000)
SIPFRAG = "message/sipfrag;version=2.0"

CONFIG = """
server: {{bind: 127.0.0.1, sip_port: 5060, tls_port: 0, ws_port: 0, wss_port: 0, http_port: 0}}
security: {{rate_limit: {{messages_per_second: 100000, burst: 100000}}}}
extensions:
  - {{number: "2000", name: Bea, password: b2000, contact: "sip:b@127.0.0.1:5072",
      ring_timeout: {ring_timeout}}}
  - {{number: "3000", name: Cy, password: c3000, contact: "sip:c@127.0.0.1:5073"}}
  - {{number: "4000", name: Dee, password: d4000}}
  - {{number: "5000", name: Eve, password: e5000, contact: "sip:e@127.0.0.1:5076;transport=tcp"}}
trunks:
  - {{name: carrier, host: 127.0.0.1, port: 5071, inbound_match: source, match_port: true}}
inbound:
  - {{did: "4000", destination: "4000", trunk: carrier}}
  - {{did: "5000", destination: "5000", trunk: carrier}}
  - {{did: "*", destination: "2000", trunk: carrier}}
"""

Scenario = Callable[[Net], Awaitable[None]]


def play(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    scenario: Scenario,
    *,
    ring_timeout: int = 30,
    t1: float | None = None,
    expected_errors: tuple[str, ...] = (),
) -> list[CallRecord]:
    """Run ``scenario`` against a fresh stack in its own event loop; return the call records.
    The log must show no error but those containing one of ``expected_errors``."""
    config = parse_config(CONFIG.format(ring_timeout=ring_timeout), "test.yaml")
    store = open_store(f"sqlite:///{tmp_path}/t.db")
    writer = StoreWriter(store)

    async def main() -> None:
        stack = build_sip_stack(config, store, writer)
        if t1 is not None:
            stack.endpoint.layer.t1 = t1
        for port in (D1_PORT, D2_PORT):
            stack.location.put(Binding(
                aor="4000", contact_uri=f"sip:d{port}@127.0.0.1:{port}", flow_transport="UDP",
                flow_host="127.0.0.1", flow_port=port, expires_at=time.time() + 3600,
                call_id=f"reg-{port}", cseq=1,
            ))  # fmt: skip
        net = Net(stack)
        await scenario(net)
        net.assert_quiet()
        b2bua = stack.b2bua
        assert b2bua.calls == {}, "a call is still up"
        # nothing a call used stays behind in memory once its parties are done with it
        assert b2bua.legs == {}, f"legs left: {list(b2bua.legs.values())}"
        assert b2bua.own_call_ids == set()
        assert b2bua.transfers.active == {}

    caplog.set_level(logging.INFO, logger="tamas")
    try:
        asyncio.run(main())
    finally:
        writer.close()
    records = store.calls.recent_calls()
    store.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert [e for e in errors if not any(x in e for x in expected_errors)] == []
    assert len(errors) >= len(expected_errors)
    return records


def only_record(records: list[CallRecord], *, callee: str = "5551000") -> CallRecord:
    (rec,) = records
    assert rec.direction is CallDirection.INBOUND
    assert (rec.caller, rec.callee, rec.trunk) == ("carrier", callee, "carrier")
    assert rec.ended_at is not None and rec.ended_at >= rec.started_at
    return rec


def req(msg: Request | Response) -> Request:
    assert isinstance(msg, Request), msg
    return msg


def resp(msg: Request | Response) -> Response:
    assert isinstance(msg, Response), msg
    return msg


class Answered:
    """A call carrier -> 2000 (B at 5072), answered: the parties and both dialogs."""

    def __init__(self, net: Net) -> None:
        self.carrier = net.phone(CARRIER, "carrier")
        self.b = net.phone(B_PORT, "b")
        self.invite = self.carrier.invite("sip:5551000@127.0.0.1:5060", body=SDP_A)
        self.b_invite = self.b.expect_request("INVITE")
        self.b.reply(self.b_invite, 180, tag="btag")
        self.b_dialog = self.b.answer(self.b_invite, "btag", body=SDP_B)
        self.b.expect("ACK")
        _, _, ok = self.carrier.expect("100 INVITE", "180 INVITE", "200 INVITE")
        self.ok = resp(ok)
        self.a_dialog = self.carrier.dialog_as_uac(self.invite, self.ok)
        self.carrier.ack(self.a_dialog, self.invite)

    def carrier_hangs_up(self, callee: Phone) -> None:
        self.carrier.request(self.a_dialog, "BYE")
        self.carrier.expect("200 BYE")
        callee.reply(callee.expect_request("BYE"), 200)


# -- 1. basic call ---------------------------------------------------------------------------
def test_basic_call(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def basic(net: Net) -> None:
        carrier, b = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b")
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=SDP_A)
        trying = carrier.expect_response("100 INVITE")
        assert trying.to.tag is None
        b_invite = b.expect_request("INVITE")
        assert b_invite.body == SDP_A and b_invite.content_type == "application/sdp"
        assert str(b_invite.uri) == "sip:b@127.0.0.1:5072"
        assert b_invite.call_id != invite.call_id
        assert b_invite.max_forwards == 69
        assert str(b_invite.from_.uri) == "sip:carrier@tamas.local"
        b.reply(b_invite, 100)
        carrier.expect()  # B's 100 Trying is not relayed
        b.reply(b_invite, 180, tag="btag")
        ringing = carrier.expect_response("180 INVITE")
        tamas_tag = ringing.to.tag
        assert tamas_tag and tamas_tag != "btag"
        assert ringing.call_id == invite.call_id
        b.answer(b_invite, "btag", body=SDP_B)
        ack = b.expect_request("ACK")
        assert (ack.cseq.seq, ack.to.tag, ack.call_id) == (1, "btag", b_invite.call_id)
        assert str(ack.uri) == "sip:b@127.0.0.1:5072"  # B's Contact
        ok = carrier.expect_response("200 INVITE")
        assert ok.to.tag == tamas_tag
        assert ok.body == SDP_B and ok.content_type == "application/sdp"
        assert [str(c.uri) for c in ok.contacts] == [TAMAS_CONTACT]
        a_dialog = carrier.dialog_as_uac(invite, ok)
        carrier.ack(a_dialog, invite)
        net.assert_quiet()  # the carrier's ACK is absorbed: nothing reaches B
        carrier.request(a_dialog, "BYE")
        carrier.expect("200 BYE")
        bye = b.expect_request("BYE")
        assert (bye.call_id, bye.to.tag, bye.cseq.seq) == (b_invite.call_id, "btag", 2)
        b.reply(bye, 200)

    rec = only_record(play(tmp_path, caplog, basic))
    assert rec.answered_at is not None and rec.answered_at >= rec.started_at
    assert (rec.cause, rec.status) == ("bye-from-a", None)


# -- 2. the callee hangs up -----------------------------------------------------------------
def test_bye_from_callee(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(net: Net) -> None:
        call = Answered(net)
        call.b.request(call.b_dialog, "BYE")
        call.b.expect("200 BYE")
        bye = call.carrier.expect_request("BYE")
        assert bye.call_id == call.invite.call_id
        assert bye.to.tag == call.invite.from_.tag and bye.from_.tag == call.ok.to.tag
        assert str(bye.uri) == "sip:carrier@127.0.0.1:5071"  # the carrier's Contact
        call.carrier.reply(bye, 200)

    rec = only_record(play(tmp_path, caplog, scenario))
    assert rec.answered_at is not None
    assert (rec.cause, rec.status) == ("bye-from-b", None)


# -- 3. busy --------------------------------------------------------------------------------
def test_busy(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(net: Net) -> None:
        carrier, b = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b")
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=SDP_A)
        b_invite = b.expect_request("INVITE")
        b.reply(b_invite, 486, tag="btag")
        ack = b.expect_request("ACK")  # the client transaction's ACK, same branch
        assert ack.headers.values("Via")[0] == b_invite.headers.values("Via")[0]
        assert ack.to.tag == "btag"
        _, busy = carrier.expect("100 INVITE", "486 INVITE")
        assert resp(busy).reason == "Busy Here" and resp(busy).to.tag
        carrier.ack_failure(invite, resp(busy))

    rec = only_record(play(tmp_path, caplog, scenario))
    assert rec.answered_at is None
    assert (rec.cause, rec.status) == ("486 Busy Here", 486)


# -- 4. the carrier cancels --------------------------------------------------------------------
def test_cancel_from_carrier(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(net: Net) -> None:
        carrier, b = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b")
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=SDP_A)
        b_invite = b.expect_request("INVITE")
        b.reply(b_invite, 180, tag="btag")
        _, ringing = carrier.expect("100 INVITE", "180 INVITE")
        carrier.cancel(invite)
        ok, terminated = carrier.expect("200 CANCEL", "487 INVITE")
        assert resp(ok).to.tag == resp(terminated).to.tag == resp(ringing).to.tag
        carrier.ack_failure(invite, resp(terminated))
        cancel = b.expect_request("CANCEL")
        assert cancel.headers.values("Via")[0] == b_invite.headers.values("Via")[0]
        assert (cancel.call_id, cancel.cseq.seq) == (b_invite.call_id, 1)
        b.reply(cancel, 200, tag="btag")
        b.reply(b_invite, 487, tag="btag")
        b.expect("ACK")

    rec = only_record(play(tmp_path, caplog, scenario))
    assert rec.answered_at is None
    assert (rec.cause, rec.status) == ("cancelled", 487)


# -- 5. ring timeout ----------------------------------------------------------------------------
def test_ring_timeout(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(net: Net) -> None:
        carrier, b = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b")
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=SDP_A)
        b_invite = b.expect_request("INVITE")
        b.reply(b_invite, 180, tag="btag")
        carrier.expect("100 INVITE", "180 INVITE")
        started = time.monotonic()
        await until(lambda: carrier.peek() != [], timeout=3.0)
        assert 0.9 < time.monotonic() - started < 2.9
        no_answer = carrier.expect_response("480 INVITE")
        assert no_answer.reason == "No Answer"
        carrier.ack_failure(invite, no_answer)
        cancel = b.expect_request("CANCEL")
        b.reply(cancel, 200, tag="btag")
        b.reply(b_invite, 487, tag="btag")
        b.expect("ACK")

    rec = only_record(play(tmp_path, caplog, scenario, ring_timeout=1))
    assert (rec.cause, rec.status) == ("480 No Answer", 480)


# -- 6. no response at all: timer B -------------------------------------------------------------
def test_timer_b(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(net: Net) -> None:
        carrier, b = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b")
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=SDP_A)
        carrier.expect("100 INVITE")
        started = time.monotonic()
        await until(lambda: "408 INVITE" in carrier.peek())
        assert 0.6 < time.monotonic() - started < 2.9  # 64 * T1 = 0.64 s
        received = carrier.take_raw()
        assert [label(r.message) for r in collapse(received)] == ["408 INVITE"]
        timeout = resp(received[0].message)
        assert timeout.to.tag
        carrier.ack_failure(invite, timeout)
        # timer A retransmitted the INVITE (T1, 2*T1, ...) and nothing else reached B
        to_b = b.take_raw()
        assert len(to_b) >= 5
        assert [label(r.message) for r in collapse(to_b)] == ["INVITE"]

    rec = only_record(play(tmp_path, caplog, scenario, t1=0.01))
    assert (rec.cause, rec.status) == ("408 Request Timeout", 408)


# -- 7. hold by re-INVITE -----------------------------------------------------------------------
def test_reinvite_hold(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    hold, held = sdp(6000, direction="sendonly", version=2), sdp(7000, direction="recvonly")

    async def scenario(net: Net) -> None:
        call = Answered(net)
        carrier, b = call.carrier, call.b
        reinvite = carrier.request(call.a_dialog, "INVITE", body=hold)
        carrier.expect("100 INVITE")
        b_reinvite = b.expect_request("INVITE")
        assert b_reinvite.body == hold and b_reinvite.content_type == "application/sdp"
        assert (b_reinvite.call_id, b_reinvite.to.tag) == (call.b_invite.call_id, "btag")
        assert b_reinvite.cseq.seq == 2
        call.b_dialog.check_request(b_reinvite)
        b.reply(b_reinvite, 200, body=held)
        ack = b.expect_request("ACK")
        assert ack.cseq.seq == 2 and ack.to.tag == "btag"
        ok = carrier.expect_response("200 INVITE")
        assert ok.body == held and ok.content_type == "application/sdp"
        assert ok.cseq.seq == reinvite.cseq.seq and ok.to.tag == call.ok.to.tag
        assert [str(c.uri) for c in ok.contacts] == [TAMAS_CONTACT]
        carrier.ack(call.a_dialog, reinvite)
        net.assert_quiet()
        call.carrier_hangs_up(b)

    rec = only_record(play(tmp_path, caplog, scenario))
    assert rec.cause == "bye-from-a"


# -- 8. forking to two registered contacts ------------------------------------------------------
def test_forking_second_contact_answers(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(net: Net) -> None:
        carrier = net.phone(CARRIER, "carrier")
        d1, d2 = net.phone(D1_PORT, "d1"), net.phone(D2_PORT, "d2")
        invite = carrier.invite("sip:4000@127.0.0.1:5060", body=SDP_A)
        inv1, inv2 = d1.expect_request("INVITE"), d2.expect_request("INVITE")
        assert str(inv1.uri) == f"sip:d{D1_PORT}@127.0.0.1:{D1_PORT}"
        assert str(inv2.uri) == f"sip:d{D2_PORT}@127.0.0.1:{D2_PORT}"
        assert inv1.call_id != inv2.call_id and inv1.body == inv2.body == SDP_A
        d1.reply(inv1, 180, tag="d1tag")
        d2.reply(inv2, 180, tag="d2tag")
        carrier.expect("100 INVITE", "180 INVITE", "180 INVITE")
        d2.answer(inv2, "d2tag", body=SDP_C)
        d2.expect("ACK")
        cancel = d1.expect_request("CANCEL")
        assert cancel.headers.values("Via")[0] == inv1.headers.values("Via")[0]
        ok = carrier.expect_response("200 INVITE")
        assert ok.body == SDP_C
        a_dialog = carrier.dialog_as_uac(invite, ok)
        carrier.ack(a_dialog, invite)
        d1.reply(cancel, 200, tag="d1tag")
        d1.reply(inv1, 487, tag="d1tag")
        d1.expect("ACK")
        net.assert_quiet()
        carrier.request(a_dialog, "BYE")
        carrier.expect("200 BYE")
        d2.reply(d2.expect_request("BYE"), 200)

    rec = only_record(play(tmp_path, caplog, scenario), callee="4000")
    assert rec.answered_at is not None and rec.cause == "bye-from-a"


def test_forking_cancel_waits_for_provisional(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A fork that has sent nothing yet is cancelled only once it rings (RFC 3261 9.1)."""

    async def scenario(net: Net) -> None:
        carrier = net.phone(CARRIER, "carrier")
        d1, d2 = net.phone(D1_PORT, "d1"), net.phone(D2_PORT, "d2")
        invite = carrier.invite("sip:4000@127.0.0.1:5060", body=SDP_A)
        inv1, inv2 = d1.expect_request("INVITE"), d2.expect_request("INVITE")
        d2.answer(inv2, "d2tag", body=SDP_C)
        d2.expect("ACK")
        _, ok = carrier.expect("100 INVITE", "200 INVITE")
        a_dialog = carrier.dialog_as_uac(invite, resp(ok))
        carrier.ack(a_dialog, invite)
        d1.expect()  # no CANCEL before a provisional response
        d1.reply(inv1, 180, tag="d1tag")
        cancel = d1.expect_request("CANCEL")
        carrier.expect()  # the late 180 is not relayed
        d1.reply(cancel, 200, tag="d1tag")
        d1.reply(inv1, 487, tag="d1tag")
        d1.expect("ACK")
        carrier.request(a_dialog, "BYE")
        carrier.expect("200 BYE")
        d2.reply(d2.expect_request("BYE"), 200)

    rec = only_record(play(tmp_path, caplog, scenario), callee="4000")
    assert rec.cause == "bye-from-a"


# -- 9. blind transfer ---------------------------------------------------------------------------
def test_blind_transfer(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(net: Net) -> None:
        call = Answered(net)
        carrier, b, c = call.carrier, call.b, net.phone(C_PORT, "c")
        refer = b.request(call.b_dialog, "REFER", headers=(
            ("Refer-To", "<sip:3000@tamas.local>"), ("Referred-By", "<sip:2000@tamas.local>"),
        ))  # fmt: skip
        accepted, trying = b.expect("202 REFER", "NOTIFY")
        assert resp(accepted).cseq.seq == refer.cseq.seq
        trying = req(trying)
        assert trying.headers.get("Event") == "refer"
        assert trying.headers.get("Subscription-State") == "active;expires=60"
        assert trying.headers.get("Content-Type") == SIPFRAG
        assert trying.body == b"SIP/2.0 100 Trying\r\n"
        assert (trying.call_id, trying.to.tag) == (call.b_invite.call_id, "btag")
        b.reply(trying, 200)
        c_invite = c.expect_request("INVITE")
        assert c_invite.body == SDP_A and str(c_invite.uri) == "sip:c@127.0.0.1:5073"
        net.assert_quiet()  # the carrier hears nothing yet
        c.reply(c_invite, 180, tag="ctag")
        c.answer(c_invite, "ctag", body=SDP_C)
        c.expect("ACK")
        reinvite = carrier.expect_request("INVITE")
        assert reinvite.body == SDP_C and reinvite.content_type == "application/sdp"
        assert (reinvite.call_id, reinvite.to.tag) == (call.invite.call_id, call.invite.from_.tag)
        assert reinvite.from_.tag == call.ok.to.tag
        call.a_dialog.check_request(reinvite)
        carrier.reply(reinvite, 200, body=sdp(6000, version=2))
        carrier.expect("ACK")
        done, bye = b.expect("NOTIFY", "BYE")
        done = req(done)
        assert done.body == b"SIP/2.0 200 OK\r\n"
        assert done.headers.get("Subscription-State") == "terminated;reason=noresource"
        assert done.headers.get("Event") == "refer"
        assert done.cseq.seq < bye.cseq.seq
        b.reply(done, 200)
        b.reply(req(bye), 200)
        net.assert_quiet()
        call.carrier_hangs_up(c)

    rec = only_record(play(tmp_path, caplog, scenario))
    assert rec.answered_at is not None and rec.cause == "bye-from-a"


# -- 10. transfer to a busy target --------------------------------------------------------------
def test_blind_transfer_target_busy(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(net: Net) -> None:
        call = Answered(net)
        b, c = call.b, net.phone(C_PORT, "c")
        b.request(call.b_dialog, "REFER", headers=(("Refer-To", "<sip:3000@tamas.local>"),))
        _, trying = b.expect("202 REFER", "NOTIFY")
        b.reply(req(trying), 200)
        c_invite = c.expect_request("INVITE")
        c.reply(c_invite, 486, tag="ctag")
        c.expect("ACK")
        failed = b.expect_request("NOTIFY")
        assert failed.body == b"SIP/2.0 486 Busy Here\r\n"
        assert failed.headers.get("Subscription-State") == "terminated;reason=noresource"
        b.reply(failed, 200)
        net.assert_quiet()
        call.carrier_hangs_up(b)  # the call between carrier and B goes on

    rec = only_record(play(tmp_path, caplog, scenario))
    assert rec.cause == "bye-from-a"


# -- 11. a trunk may not transfer ---------------------------------------------------------------
def test_refer_from_trunk_refused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(net: Net) -> None:
        call = Answered(net)
        call.carrier.request(call.a_dialog, "REFER", headers=(
            ("Refer-To", "<sip:3000@tamas.local>"),
        ))  # fmt: skip
        refused = call.carrier.expect_response("403 REFER")
        assert refused.reason == "Transfer Not Allowed"
        net.assert_quiet()  # no NOTIFY, nothing to B or C
        call.carrier_hangs_up(call.b)

    rec = only_record(play(tmp_path, caplog, scenario))
    assert rec.cause == "bye-from-a"


# -- 12. loops and hop limits ---------------------------------------------------------------------
def test_loop_and_max_forwards(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(net: Net) -> None:
        carrier, b = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b")
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=SDP_A)
        carrier.expect("100 INVITE")
        b_invite = b.expect_request("INVITE")
        b.reply(b_invite, 180, tag="btag")
        carrier.expect("180 INVITE")
        # B's phone forwards the call back to Tamas: same Call-ID as Tamas's B leg
        looped = b.invite("sip:2000@127.0.0.1:5060", body=SDP_A, call_id=b_invite.call_id)
        _, loop = b.expect("100 INVITE", "482 INVITE")
        assert resp(loop).reason == "Loop Detected"
        b.ack_failure(looped, resp(loop))
        hops = carrier.invite("sip:5551000@127.0.0.1:5060", body=SDP_A, max_forwards=0)
        _, too_many = carrier.expect("100 INVITE", "483 INVITE")
        carrier.ack_failure(hops, resp(too_many))
        net.assert_quiet()
        # the first call is untouched
        b.reply(b_invite, 486, tag="btag")
        b.expect("ACK")
        busy = carrier.expect_response("486 INVITE")
        carrier.ack_failure(invite, busy)

    rec = only_record(play(tmp_path, caplog, scenario))
    assert rec.cause == "486 Busy Here"


# -- more crossings ------------------------------------------------------------------------------
def test_cancel_crosses_callee_answer(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """B's 200 crosses the CANCEL Tamas relayed: Tamas ACKs it and hangs B up at once."""

    async def scenario(net: Net) -> None:
        carrier, b = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b")
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=SDP_A)
        b_invite = b.expect_request("INVITE")
        b.reply(b_invite, 180, tag="btag")
        carrier.expect("100 INVITE", "180 INVITE")
        carrier.cancel(invite)
        _, terminated = carrier.expect("200 CANCEL", "487 INVITE")
        carrier.ack_failure(invite, resp(terminated))
        cancel = b.expect_request("CANCEL")
        b.answer(b_invite, "btag", body=SDP_B)  # already answered when the CANCEL came
        b.reply(cancel, 200, tag="btag")
        _, bye = b.expect("ACK", "BYE")
        assert (bye.call_id, bye.to.tag) == (b_invite.call_id, "btag")
        b.reply(req(bye), 200)

    rec = only_record(play(tmp_path, caplog, scenario))
    assert rec.answered_at is None
    assert (rec.cause, rec.status) == ("cancelled", 487)


def test_ack_never_arrives(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The carrier never ACKs the 200: Tamas retransmits it, then gives up and hangs both up
    (RFC 3261 section 13.3.1.4)."""

    async def scenario(net: Net) -> None:
        carrier, b = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b")
        carrier.invite("sip:5551000@127.0.0.1:5060", body=SDP_A)
        b_invite = b.expect_request("INVITE")
        b.answer(b_invite, "btag", body=SDP_B)
        b.expect("ACK")
        await until(lambda: b.peek() != [])  # timer L: 64 * T1 = 0.64 s
        b.reply(b.expect_request("BYE"), 200)
        to_carrier = carrier.take_raw()
        assert len(to_carrier) >= 6  # 100, the 200 and its retransmissions, then BYE
        labels = [label(r.message) for r in collapse(to_carrier)]
        assert labels == ["100 INVITE", "200 INVITE", "BYE"]
        carrier.reply(to_carrier[-1].message, 200)

    rec = only_record(play(tmp_path, caplog, scenario, t1=0.01))
    assert rec.answered_at is not None
    assert (rec.cause, rec.status) == ("ack-timeout", None)


def test_transferor_hangs_up_after_202(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Many phones (Yealink's documented blind-transfer flow) BYE as soon as the REFER is
    accepted: the transfer must go on without them (RFC 5589 section 6)."""

    async def scenario(net: Net) -> None:
        call = Answered(net)
        carrier, b, c = call.carrier, call.b, net.phone(C_PORT, "c")
        b.request(call.b_dialog, "REFER", headers=(("Refer-To", "<sip:3000@tamas.local>"),))
        _, trying = b.expect("202 REFER", "NOTIFY")
        b.reply(req(trying), 200)
        c_invite = c.expect_request("INVITE")
        b.request(call.b_dialog, "BYE")
        b.expect("200 BYE")
        carrier.expect()  # the carrier stays on the line...
        c.expect()  # ...and the target keeps ringing
        c.answer(c_invite, "ctag", body=SDP_C)
        c.expect("ACK")
        reinvite = carrier.expect_request("INVITE")
        assert reinvite.body == SDP_C
        carrier.reply(reinvite, 200, body=sdp(6000, version=2))
        carrier.expect("ACK")
        net.assert_quiet()  # B has hung up: no NOTIFY, no BYE for it
        call.carrier_hangs_up(c)

    rec = only_record(play(tmp_path, caplog, scenario))
    assert rec.cause == "bye-from-a"


def test_reinvite_from_tcp_phone_gets_tcp_contact(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(net: Net) -> None:
        carrier = net.phone(CARRIER, "carrier")
        e = net.phone(E_TCP_PORT, "e", transport="TCP")
        invite = carrier.invite("sip:5000@127.0.0.1:5060", body=SDP_A)
        e_invite = e.expect_request("INVITE")
        assert e_invite.top_via.transport == "TCP"
        assert [str(c.uri) for c in e_invite.contacts] == [f"{TAMAS_CONTACT};transport=tcp"]
        e_dialog = e.answer(e_invite, "etag", body=SDP_B)
        e.expect("ACK")
        _, ok = carrier.expect("100 INVITE", "200 INVITE")
        a_dialog = carrier.dialog_as_uac(invite, resp(ok))
        carrier.ack(a_dialog, invite)
        hold = sdp(7000, direction="sendonly", version=2)
        reinvite = e.request(e_dialog, "INVITE", body=hold)
        e.expect("100 INVITE")
        c_reinvite = carrier.expect_request("INVITE")
        assert [str(c.uri) for c in c_reinvite.contacts] == [TAMAS_CONTACT]
        carrier.reply(c_reinvite, 200, body=sdp(6000, direction="recvonly"))
        carrier.expect("ACK")
        ok2 = e.expect_response("200 INVITE")
        e.ack(e_dialog, reinvite)
        carrier.request(a_dialog, "BYE")
        carrier.expect("200 BYE")
        e.reply(e.expect_request("BYE"), 200)
        # the 200 to a TCP phone's re-INVITE must name Tamas's TCP contact (RFC 3261 8.1.1.8)
        assert [str(c.uri) for c in ok2.contacts] == [f"{TAMAS_CONTACT};transport=tcp"]

    rec = only_record(play(tmp_path, caplog, scenario), callee="5000")
    assert rec.cause == "bye-from-a"


# -- overload: new calls get 503 while the loop lags; calls in progress go on ------------------
def test_overload_refuses_new_calls_only(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(net: Net) -> None:
        guard = net.stack.b2bua.overload
        call = Answered(net)
        guard.start()
        time.sleep(0.4)  # the event loop is blocked, as under a load it cannot carry
        await asyncio.sleep(0.06)  # the heartbeat comes 0.4 s late
        assert guard.overloaded
        invite = call.carrier.invite("sip:5551000@127.0.0.1:5060", body=SDP_A)
        _, refused = call.carrier.expect("100 INVITE", "503 INVITE")
        assert resp(refused).headers.get("Retry-After") == "5"
        call.carrier.ack_failure(invite, resp(refused))
        # the established call is unaffected: its BYE goes through
        call.carrier_hangs_up(call.b)
        await until(lambda: not guard.overloaded, timeout=4.0)  # after 2 s of calm
        guard.stop()

    records = play(tmp_path, caplog, scenario)
    assert [r.status for r in records].count(503) == 0  # refused before a call record exists
    assert "SIP overload: event loop" in caplog.text
    assert "SIP overload over" in caplog.text


# -- BYE in the caller's early dialog ends the attempt like a CANCEL (RFC 3261 section 15) --------
def test_bye_before_answer(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(net: Net) -> None:
        carrier, b = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b")
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=SDP_A)
        b_invite = b.expect_request("INVITE")
        b.reply(b_invite, 180, tag="btag")
        _, ringing = carrier.expect("100 INVITE", "180 INVITE")
        early = carrier.dialog_as_uac(invite, resp(ringing))
        carrier.request(early, "BYE")
        _, terminated = carrier.expect("200 BYE", "487 INVITE")
        carrier.ack_failure(invite, resp(terminated))
        cancel = b.expect_request("CANCEL")
        b.reply(cancel, 200, tag="btag")
        b.reply(b_invite, 487, tag="btag")
        b.expect("ACK")

    rec = only_record(play(tmp_path, caplog, scenario))
    assert (rec.cause, rec.status) == ("bye-before-answer", 487)


# -- a callee that answers CANCEL but never the INVITE is given up on after 64*T1 ------------------
def test_callee_ignores_cancel(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(net: Net) -> None:
        carrier, b = net.phone(CARRIER, "carrier"), net.phone(B_PORT, "b")
        invite = carrier.invite("sip:5551000@127.0.0.1:5060", body=SDP_A)
        b_invite = b.expect_request("INVITE")
        b.reply(b_invite, 180, tag="btag")
        carrier.expect("100 INVITE", "180 INVITE")
        (leg,) = [leg for leg in net.stack.b2bua.legs.values() if leg.side == "b"]
        txn = leg.client_txn
        assert txn is not None
        carrier.cancel(invite)
        _, terminated = carrier.expect("200 CANCEL", "487 INVITE")
        carrier.ack_failure(invite, resp(terminated))
        cancel = b.expect_request("CANCEL")
        b.reply(cancel, 200, tag="btag")  # ...and never a 487 to the INVITE
        await until(lambda: txn.state is State.TERMINATED, timeout=3.0)  # 64 * 0.01 s
        assert net.stack.b2bua.legs == {}

    rec = only_record(play(tmp_path, caplog, scenario, t1=0.01))
    assert rec.cause == "cancelled"
