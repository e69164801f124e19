"""RFC 3261 section 17 (and RFC 6026) transactions, both ends in memory on a fake clock."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sippair import SipPair, bye, invite, is_request, is_response, options

from tamas.sip.builders import new_tag, response_to
from tamas.sip.message import Response, parse_datagram
from tamas.sip.peer import Peer
from tamas.sip.transaction import (
    AckTimeout,
    ClientTransaction,
    RequestReceived,
    ResponseReceived,
    ServerTransaction,
    State,
    StrayResponse,
    TransactionLayer,
    TransactionTimeout,
)
from tamas.sip.uri import parse_uri

INVITE_A = [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]  # timer A doubles without a cap
NON_INVITE_E = [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]  # capped at T2


def server_txn(pair: SipPair) -> ServerTransaction:
    """The transaction of the last request Bob's TU was given."""
    ev = [e for e in pair.b.events if isinstance(e, RequestReceived) and e.transaction]
    assert ev, "Bob received no request"
    txn = ev[-1].transaction
    assert txn is not None
    return txn


def start(pair: SipPair, req_factory: object = invite) -> ClientTransaction:
    req = req_factory(pair.a, pair.b)  # type: ignore[operator]
    txn = pair.a.layer.request(req, pair.b.peer, pair.now)
    pair.pump()
    return txn


# -- INVITE client ----------------------------------------------------------------------------
def test_invite_client_timer_a_then_b_over_udp() -> None:
    pair = SipPair()
    pair.wire.drop(is_request("INVITE"), nth=None)
    txn = start(pair)
    for t in INVITE_A[1:]:
        assert pair.a.layer.next_deadline() == t
        pair.advance(t)
    assert pair.a.layer.next_deadline() == 32.0
    assert pair.a.events == []
    pair.advance(32.0)
    assert pair.times("INVITE") == INVITE_A
    assert [type(e) for e in pair.a.events] == [TransactionTimeout]
    assert pair.a.events[0].transaction is txn  # type: ignore[union-attr]
    assert txn.state is State.TERMINATED
    assert pair.a.layer.next_deadline() is None
    assert pair.a.layer.counts == (0, 0)


def test_invite_client_over_tcp_sends_once_and_times_out() -> None:
    pair = SipPair("TCP")
    pair.wire.drop(is_request("INVITE"), nth=None)
    start(pair)
    assert pair.a.layer.next_deadline() == 32.0
    pair.advance(40.0)
    assert pair.times("INVITE") == [0.0]
    assert [type(e) for e in pair.a.events] == [TransactionTimeout]


def test_provisional_stops_timer_a_and_b() -> None:
    pair = SipPair()
    pair.wire.drop(is_request("INVITE"))  # the first one only
    txn = start(pair)
    pair.advance(0.5)  # the retransmission gets through, Bob answers 100 Trying at once
    assert pair.times("100/INVITE", "b") == [0.5]
    assert txn.state is State.PROCEEDING
    assert pair.a.layer.next_deadline() is None
    pair.advance(100.0)
    assert pair.times("INVITE") == [0.0, 0.5]
    assert [type(e) for e in pair.a.events] == [ResponseReceived]
    assert [type(e) for e in pair.b.events] == [RequestReceived]  # one, not two


@pytest.mark.parametrize("transport, wait_d", [("UDP", 32.0), ("TCP", 0.0)])
def test_invite_client_acks_a_failure_itself(transport: str, wait_d: float) -> None:
    pair = SipPair(transport)
    txn = start(pair)
    pair.advance(1.0)
    pair.b.layer.respond(
        server_txn(pair), response_to(server_txn(pair).request, 486, to_tag=new_tag()), pair.now
    )
    pair.pump()
    assert txn.state is State.COMPLETED
    assert pair.times("ACK", "a") == [1.0]
    ack = pair.sent("ACK")[0].message
    assert ack.headers.get("Via") == txn.request.headers.get("Via")  # same branch
    assert ack.to.tag == pair.sent("486/INVITE")[0].message.to.tag
    assert [e.response.status for e in pair.a.events] == [100, 486]  # type: ignore[union-attr]
    assert pair.a.layer.next_deadline() == 1.0 + wait_d
    pair.advance(1.0 + wait_d)
    assert txn.state is State.TERMINATED
    assert pair.a.layer.counts == (0, 0)


def test_retransmitted_failure_is_acked_again_while_d_runs() -> None:
    pair = SipPair()
    txn = start(pair)
    pair.wire.drop(is_request("ACK"))
    pair.advance(1.0)
    stxn = server_txn(pair)
    pair.b.layer.respond(stxn, response_to(stxn.request, 603, to_tag=new_tag()), pair.now)
    pair.pump()
    assert stxn.state is State.COMPLETED
    assert pair.b.layer.next_deadline() == 1.5  # G
    pair.advance(1.5)  # 603 again, ACK again (this one arrives)
    assert pair.times("603/INVITE") == [1.0, 1.5]
    assert pair.times("ACK") == [1.0, 1.5]
    assert [s.dropped for s in pair.sent("ACK")] == [True, False]
    assert stxn.state is State.CONFIRMED
    assert [e.response.status for e in pair.a.events] == [100, 603]  # type: ignore[union-attr]
    assert pair.b.layer.next_deadline() == 6.5  # I = T4
    assert pair.a.layer.next_deadline() == 33.0  # D from the first 603
    pair.advance(6.5)
    assert stxn.state is State.TERMINATED
    pair.advance(33.0)
    assert txn.state is State.TERMINATED
    assert pair.deadline() is None


def test_invite_client_2xx_and_its_retransmissions_reach_the_tu() -> None:
    pair = SipPair()
    txn = start(pair)
    pair.wire.drop(is_request("ACK"), nth=None)
    pair.advance(1.0)
    stxn = server_txn(pair)
    pair.b.layer.respond(stxn, response_to(stxn.request, 200, to_tag=new_tag()), pair.now)
    pair.pump()
    assert txn.state is State.ACCEPTED
    assert pair.times("ACK") == []  # the TU acknowledges a 2xx, not the transaction
    assert pair.a.layer.next_deadline() == 33.0  # M
    pair.advance(2.5)
    got = [e for e in pair.a.events if isinstance(e, ResponseReceived)]
    assert [(e.response.status, e.retransmission) for e in got] == [
        (100, False), (200, False), (200, True), (200, True)
    ]  # fmt: skip
    pair.advance(33.0)
    assert txn.state is State.TERMINATED
    assert pair.a.layer.counts == (0, 0)


# -- non-INVITE client ------------------------------------------------------------------------
def test_non_invite_timer_e_then_f() -> None:
    pair = SipPair()
    pair.wire.drop(is_request("OPTIONS"), nth=None)
    start(pair, options)
    for t in NON_INVITE_E[1:]:
        assert pair.a.layer.next_deadline() == t
        pair.advance(t)
    assert pair.a.layer.next_deadline() == 32.0
    pair.advance(32.0)
    assert pair.times("OPTIONS") == NON_INVITE_E
    assert [type(e) for e in pair.a.events] == [TransactionTimeout]
    assert pair.a.layer.next_deadline() is None


def test_non_invite_proceeding_retransmits_every_t2_then_f() -> None:
    pair = SipPair()
    txn = start(pair, options)
    pair.advance(2.0)
    stxn = server_txn(pair)
    pair.b.layer.respond(stxn, response_to(stxn.request, 100), pair.now)
    pair.pump()
    assert txn.state is State.PROCEEDING
    # Timer E keeps its pending value (3.5), then runs every T2 (section 17.1.2.2).
    assert pair.a.layer.next_deadline() == 3.5
    pair.advance(32.0)
    assert pair.times("OPTIONS") == [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    # Bob repeats his 100 to each retransmission that follows it.
    assert pair.times("100/OPTIONS") == [2.0, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    # Every provisional, repeated ones included, goes up to the TU in Proceeding.
    assert [type(e) for e in pair.a.events] == [ResponseReceived] * 9 + [TransactionTimeout]
    assert txn.state is State.TERMINATED


@pytest.mark.parametrize("transport, wait_k", [("UDP", 5.0), ("TCP", 0.0)])
def test_non_invite_client_timer_k(transport: str, wait_k: float) -> None:
    pair = SipPair(transport)
    txn = start(pair, options)
    pair.advance(1.0)
    stxn = server_txn(pair)
    pair.b.layer.respond(stxn, response_to(stxn.request, 200, to_tag=new_tag()), pair.now)
    pair.pump()
    assert txn.state is State.COMPLETED
    assert pair.a.layer.next_deadline() == 1.0 + wait_k
    pair.advance(1.0 + wait_k)
    assert txn.state is State.TERMINATED
    assert pair.times("OPTIONS") == ([0.0, 0.5] if transport == "UDP" else [0.0])
    assert [e.response.status for e in pair.a.events] == [200]  # type: ignore[union-attr]


def test_late_response_after_termination_is_stray() -> None:
    pair = SipPair("TCP")
    txn = start(pair, options)
    stxn = server_txn(pair)
    resp = response_to(stxn.request, 200, to_tag=new_tag())
    pair.b.layer.respond(stxn, resp, pair.now)
    pair.pump()
    pair.advance(0.0)
    assert txn.state is State.TERMINATED
    pair.b.layer.send_stateless(resp, pair.a.peer)
    pair.pump()
    assert [type(e) for e in pair.a.events] == [ResponseReceived, StrayResponse]


# -- INVITE server ----------------------------------------------------------------------------
def test_invite_server_answers_100_at_once_and_repeats_last_response() -> None:
    pair = SipPair()
    pair.wire.drop(is_response(100))
    start(pair)
    assert pair.times("100/INVITE") == [0.0]
    stxn = server_txn(pair)
    assert stxn.state is State.PROCEEDING
    assert pair.b.layer.next_deadline() is None  # nothing to time in Proceeding
    pair.advance(0.5)  # the INVITE comes again: the 100 is repeated
    assert pair.times("100/INVITE") == [0.0, 0.5]
    ringing = response_to(stxn.request, 180, to_tag=new_tag())
    pair.b.layer.respond(stxn, ringing, pair.now)
    pair.pump()
    pair.b.layer.receive(parse_datagram(bytes(stxn.request)), pair.a.peer, pair.now)
    pair.pump()
    assert pair.times("180/INVITE") == [0.5, 0.5]
    assert len([e for e in pair.b.events if isinstance(e, RequestReceived)]) == 1


def test_invite_server_failure_timer_g_then_h() -> None:
    pair = SipPair()
    start(pair)
    pair.wire.drop(is_request("ACK"), nth=None)
    pair.advance(1.0)
    stxn = server_txn(pair)
    pair.b.layer.respond(stxn, response_to(stxn.request, 486, to_tag=new_tag()), pair.now)
    pair.pump()
    expected = [1.0, 1.5, 2.5, 4.5, 8.5, 12.5, 16.5, 20.5, 24.5, 28.5, 32.5]
    for t in expected[1:]:
        assert pair.b.layer.next_deadline() == t
        pair.advance(t)
    assert pair.b.layer.next_deadline() == 33.0  # H
    pair.advance(33.0)
    assert stxn.state is State.TERMINATED
    assert pair.times("486/INVITE") == expected
    assert pair.times("ACK") == expected  # Alice acknowledges every copy
    assert pair.b.layer.counts == (0, 0)
    assert [type(e) for e in pair.b.events] == [RequestReceived]  # ACKs never reach the TU


@pytest.mark.parametrize("transport, wait_i", [("UDP", 5.0), ("TCP", 0.0)])
def test_invite_server_ack_confirms_then_timer_i(transport: str, wait_i: float) -> None:
    pair = SipPair(transport)
    start(pair)
    stxn = server_txn(pair)
    pair.b.layer.respond(stxn, response_to(stxn.request, 480, to_tag=new_tag()), pair.now)
    pair.pump()
    assert stxn.state is State.CONFIRMED
    assert pair.b.layer.next_deadline() == wait_i
    pair.advance(wait_i)
    assert stxn.state is State.TERMINATED
    assert pair.times("480/INVITE") == [0.0]


def test_invite_server_2xx_retransmitted_until_the_ack() -> None:
    pair = SipPair()
    ctxn = start(pair)
    pair.wire.drop(is_request("ACK"))  # the TU's first ACK is lost
    pair.advance(1.0)
    stxn = server_txn(pair)
    pair.b.layer.respond(stxn, response_to(stxn.request, 200, to_tag=new_tag()), pair.now)
    pair.pump()
    assert stxn.state is State.ACCEPTED
    assert pair.b.layer.next_deadline() == 1.5

    def ack_every_2xx() -> None:
        for e in pair.a.take_events():
            if isinstance(e, ResponseReceived) and e.response.status == 200:
                ack = invite(pair.a, pair.b, call_id=ctxn.request.call_id, cseq=1)
                ack.method = "ACK"
                ack.headers.set("CSeq", "1 ACK")  # a fresh branch: a new transaction
                pair.a.layer.send_stateless(ack, pair.b.peer)
        pair.pump()

    ack_every_2xx()
    pair.advance(1.5)
    ack_every_2xx()
    assert pair.times("200/INVITE") == [1.0, 1.5]
    assert [s.dropped for s in pair.sent("ACK")] == [True, False]
    acks = [e for e in pair.b.events if isinstance(e, RequestReceived) and e.transaction is None]
    assert len(acks) == 1
    assert stxn.state is State.ACCEPTED  # until L
    assert pair.b.layer.next_deadline() == 33.0  # L runs from the 2xx
    pair.advance(40.0)
    assert pair.times("200/INVITE") == [1.0, 1.5]
    assert stxn.state is State.TERMINATED
    assert not [e for e in pair.b.events if isinstance(e, AckTimeout)]


def test_invite_server_ack_timeout() -> None:
    pair = SipPair()
    start(pair)
    pair.advance(1.0)
    stxn = server_txn(pair)
    pair.b.layer.respond(stxn, response_to(stxn.request, 200, to_tag=new_tag()), pair.now)
    pair.pump()
    pair.advance(32.9)
    assert pair.times("200/INVITE") == [1.0, 1.5, 2.5, 4.5, 8.5, 12.5, 16.5, 20.5, 24.5, 28.5,
                                        32.5]  # fmt: skip
    assert pair.b.layer.next_deadline() == 33.0
    pair.advance(33.0)
    timeouts = [e for e in pair.b.events if isinstance(e, AckTimeout)]
    assert [t.transaction for t in timeouts] == [stxn]
    assert stxn.state is State.TERMINATED
    assert pair.b.layer.next_deadline() is None


def test_invite_server_2xx_over_tcp_is_not_retransmitted() -> None:
    pair = SipPair("TCP")
    start(pair)
    stxn = server_txn(pair)
    pair.b.layer.respond(stxn, response_to(stxn.request, 200, to_tag=new_tag()), pair.now)
    pair.pump()
    assert pair.b.layer.next_deadline() == 32.0
    pair.advance(32.0)
    assert pair.times("200/INVITE") == [0.0]
    assert [type(e) for e in pair.b.events] == [RequestReceived, AckTimeout]


def test_respond_after_final_is_ignored() -> None:
    pair = SipPair()
    start(pair)
    stxn = server_txn(pair)
    pair.b.layer.respond(stxn, response_to(stxn.request, 486, to_tag=new_tag()), pair.now)
    pair.b.layer.respond(stxn, response_to(stxn.request, 200, to_tag=new_tag()), pair.now)
    pair.pump()
    assert pair.times("200/INVITE") == []


# -- non-INVITE server ------------------------------------------------------------------------
@pytest.mark.parametrize("transport, wait_j", [("UDP", 32.0), ("TCP", 0.0)])
def test_non_invite_server_repeats_response_then_timer_j(transport: str, wait_j: float) -> None:
    pair = SipPair(transport)
    pair.wire.drop(is_response(200))
    start(pair, bye)
    assert pair.times("BYE") == [0.0]
    assert pair.b.layer.next_deadline() is None  # Trying: nothing to time
    pair.advance(0.25)
    stxn = server_txn(pair)
    pair.b.layer.respond(stxn, response_to(stxn.request, 200, to_tag=new_tag()), pair.now)
    pair.pump()
    assert stxn.state is State.COMPLETED
    assert pair.b.layer.next_deadline() == 0.25 + wait_j
    if transport == "UDP":
        pair.advance(0.5)  # timer E: the BYE again, the 200 again
        assert pair.times("BYE") == [0.0, 0.5]
        assert pair.times("200/BYE") == [0.25, 0.5]
        assert [type(e) for e in pair.a.events] == [ResponseReceived]
    pair.advance(0.25 + wait_j)
    assert stxn.state is State.TERMINATED
    assert pair.b.layer.counts == (0, 0)
    assert len([e for e in pair.b.events if isinstance(e, RequestReceived)]) == 1


def test_retransmission_before_any_response_is_absorbed() -> None:
    pair = SipPair()
    start(pair, options)
    pair.advance(1.5)
    assert pair.times("OPTIONS") == [0.0, 0.5, 1.5]
    assert pair.sent("100/OPTIONS") == []
    assert len(pair.b.events) == 1


# -- CANCEL -----------------------------------------------------------------------------------
def cancel_for_pending(pair: SipPair, ctxn: ClientTransaction) -> ClientTransaction:
    from tamas.sip.builders import cancel_for

    c = pair.a.layer.request(cancel_for(ctxn.request), pair.b.peer, pair.now)
    pair.pump()
    return c


def test_cancel_matching_a_pending_invite() -> None:
    from tamas.sip.transaction import InviteCancelled

    pair = SipPair()
    ctxn = start(pair)
    stxn = server_txn(pair)
    pair.advance(1.0)
    cancel = cancel_for_pending(pair, ctxn)
    assert pair.times("200/CANCEL") == [1.0]
    assert pair.times("487/INVITE") == [1.0]
    assert pair.times("ACK") == [1.0]  # Alice's INVITE transaction acknowledges the 487
    ok = pair.sent("200/CANCEL")[0].message
    terminated = pair.sent("487/INVITE")[0].message
    assert terminated.to.tag and ok.to.tag == terminated.to.tag  # section 9.2
    cancelled = [e for e in pair.b.events if isinstance(e, InviteCancelled)]
    assert [c.transaction for c in cancelled] == [stxn]
    assert stxn.state is State.CONFIRMED
    assert cancel.state is State.COMPLETED
    assert ctxn.state is State.COMPLETED
    assert [type(e) for e in pair.b.events] == [RequestReceived, InviteCancelled]
    pair.settle()
    assert pair.a.layer.counts == (0, 0)
    assert pair.b.layer.counts == (0, 0)


def test_cancel_keeps_an_existing_to_tag() -> None:
    pair = SipPair()
    ctxn = start(pair)
    stxn = server_txn(pair)
    tag = new_tag()
    pair.b.layer.respond(stxn, response_to(stxn.request, 180, to_tag=tag), pair.now)
    pair.pump()
    cancel_for_pending(pair, ctxn)
    assert pair.sent("200/CANCEL")[0].message.to.tag == tag
    assert pair.sent("487/INVITE")[0].message.to.tag == tag


def test_cancel_without_invite_gets_481() -> None:
    from tamas.sip.builders import cancel_for

    pair = SipPair()
    req = invite(pair.a, pair.b)
    pair.a.layer.request(cancel_for(req), pair.b.peer, pair.now)
    pair.pump()
    assert pair.times("481/CANCEL") == [0.0]
    assert pair.sent("481/CANCEL")[0].message.to.tag  # a final response carries a To tag
    assert pair.b.events == []


def test_cancel_after_final_response_gets_200_only() -> None:
    from tamas.sip.transaction import InviteCancelled

    pair = SipPair()
    ctxn = start(pair)
    stxn = server_txn(pair)
    tag = new_tag()
    pair.wire.drop(is_response(200, "INVITE"))  # Alice still thinks the INVITE is pending
    pair.b.layer.respond(stxn, response_to(stxn.request, 200, to_tag=tag), pair.now)
    pair.pump()
    cancel_for_pending(pair, ctxn)
    assert pair.times("200/CANCEL") == [0.0]
    assert pair.sent("200/CANCEL")[0].message.to.tag == tag
    assert pair.sent("487/INVITE") == []
    assert not [e for e in pair.b.events if isinstance(e, InviteCancelled)]
    assert stxn.state is State.ACCEPTED


def test_retransmitted_cancel_gets_the_same_200() -> None:
    from tamas.sip.builders import cancel_for

    pair = SipPair()
    ctxn = start(pair)
    pair.wire.drop(is_response(200, "CANCEL"))
    pair.a.layer.request(cancel_for(ctxn.request), pair.b.peer, pair.now)
    pair.pump()
    pair.advance(0.5)
    assert pair.times("CANCEL") == [0.0, 0.5]
    assert pair.times("200/CANCEL") == [0.0, 0.5]
    assert pair.times("487/INVITE") == [0.0]


# -- matching and Via -------------------------------------------------------------------------
def test_rfc2543_retransmission_and_ack_match_without_magic_cookie() -> None:
    pair = SipPair()
    old = invite(pair.a, pair.b, branch="1234")  # no z9hG4bK: RFC 2543 matching
    for _ in range(2):
        pair.b.layer.receive(parse_datagram(bytes(old)), pair.a.peer, pair.now)
    pair.pump()
    assert pair.times("100/INVITE") == [0.0, 0.0]
    stxn = server_txn(pair)
    assert stxn.key[0] == "2543"
    assert len(pair.b.events) == 1
    tag = new_tag()
    pair.b.layer.respond(stxn, response_to(stxn.request, 404, to_tag=tag), pair.now)
    pair.pump()
    ack = parse_datagram(bytes(old).replace(b"INVITE sip", b"ACK sip").replace(
        b"1 INVITE", b"1 ACK"))  # fmt: skip
    ack.headers.set("To", f"{ack.headers.get('To')};tag={tag}")
    pair.b.layer.receive(ack, pair.a.peer, pair.now)
    assert stxn.state is State.CONFIRMED  # the ACK matched the INVITE's transaction
    assert len(pair.b.events) == 1  # and was absorbed


def test_rfc2543_other_request_uri_is_a_new_transaction() -> None:
    pair = SipPair()
    first = invite(pair.a, pair.b, branch="", call_id="c@x", from_tag="f")
    second = invite(pair.a, pair.b, branch="", call_id="c@x", from_tag="f")
    second.uri = parse_uri("sip:b@elsewhere.example")
    for req in (first, second):
        pair.b.layer.receive(parse_datagram(bytes(req)), pair.a.peer, pair.now)
    pair.pump()
    # a new transaction (not absorbed as a retransmission), which section 8.2.2.2 then finds
    # to be the first request merged back by another path: 482, and the TU sees one request
    assert [s.label for s in pair.wire.log] == ["100/INVITE", "482/INVITE"]
    assert len([e for e in pair.b.events if isinstance(e, RequestReceived)]) == 1


def test_via_received_and_rport_are_filled_in() -> None:
    pair = SipPair()
    natted = options(pair.a, pair.b, via_host="10.0.0.7", rport=True)
    pair.a.layer.request(natted, pair.b.peer, pair.now)
    pair.pump()
    via = server_txn(pair).request.top_via
    assert via.host == "10.0.0.7"
    assert via.received == "192.0.2.1"
    assert via.rport == "5060"
    stxn = server_txn(pair)
    pair.b.layer.respond(stxn, response_to(stxn.request, 200, to_tag=new_tag()), pair.now)
    pair.pump()
    ok = pair.sent("200/OPTIONS")[0]
    assert ok.dst == "a"  # sent back to the source, not to 10.0.0.7
    assert ok.message.top_via.received == "192.0.2.1"
    assert [type(e) for e in pair.a.events] == [ResponseReceived]  # the client still matches


def test_via_rport_without_nat_and_plain_via_untouched() -> None:
    pair = SipPair()
    pair.a.layer.request(options(pair.a, pair.b, rport=True), pair.b.peer, pair.now)
    pair.a.layer.request(bye(pair.a, pair.b), pair.b.peer, pair.now)
    pair.pump()
    reqs = [e.request for e in pair.b.events if isinstance(e, RequestReceived)]
    assert [(r.top_via.received, r.top_via.rport) for r in reqs] == [(None, "5060"), (None, None)]


def test_layer_refuses_ack_as_a_transaction() -> None:
    layer = TransactionLayer()
    pair = SipPair()
    ack = invite(pair.a, pair.b)
    ack.method = "ACK"
    with pytest.raises(ValueError):
        layer.request(ack, pair.b.peer, 0.0)


def test_configurable_t1() -> None:
    pair = SipPair(t1=0.1, t2=0.4)
    pair.wire.drop(is_request("OPTIONS"), nth=None)
    start(pair, options)
    pair.settle()
    assert pair.times("OPTIONS") == pytest.approx(
        [0.0, 0.1, 0.3, 0.7, 1.1, 1.5, 1.9, 2.3, 2.7, 3.1, 3.5, 3.9, 4.3, 4.7, 5.1, 5.5, 5.9, 6.3]
    )
    assert pair.a.events[0].__class__ is TransactionTimeout


def test_rfc2543_ack_for_2xx_reaches_the_tu_and_stops_retransmission() -> None:
    pair = SipPair()
    old = invite(pair.a, pair.b, branch="1234")
    pair.b.layer.receive(parse_datagram(bytes(old)), pair.a.peer, pair.now)
    pair.pump()
    stxn = server_txn(pair)
    tag = new_tag()
    pair.b.layer.respond(stxn, response_to(stxn.request, 200, to_tag=tag), pair.now)
    pair.pump()
    # An RFC 2543 UA's ACK for the 2xx: same top Via and Request-URI, so the same 2543 key.
    ack = parse_datagram(bytes(old).replace(b"INVITE sip", b"ACK sip").replace(
        b"1 INVITE", b"1 ACK"))  # fmt: skip
    ack.headers.set("To", f"{ack.headers.get('To')};tag={tag}")
    pair.b.layer.receive(ack, pair.a.peer, pair.now)
    pair.pump()
    pair.advance(10.0)
    assert pair.times("200/INVITE") == [0.0]
    assert [type(e) for e in pair.b.events] == [RequestReceived, RequestReceived]
    assert pair.b.events[1].request.method == "ACK"  # type: ignore[union-attr]
    assert pair.b.events[1].transaction is None  # type: ignore[union-attr]


# -- merged requests (RFC 3261 section 8.2.2.2) -------------------------------------------------
def _merged_copy(pair: SipPair, first: ClientTransaction) -> ClientTransaction:
    """The same request (From tag, Call-ID, CSeq) arriving again with another branch, as when
    a proxy upstream forked it and both branches came back to Bob."""
    req = first.request
    again = invite(pair.a, pair.b, call_id=req.call_id, from_tag=req.from_.tag) \
        if req.method == "INVITE" else options(pair.a, pair.b, call_id=req.call_id,
                                               from_tag=req.from_.tag)  # fmt: skip
    assert again.top_via.branch != req.top_via.branch
    txn = pair.a.layer.request(again, pair.b.peer, pair.now)
    pair.pump()
    return txn


@pytest.mark.parametrize("factory", [invite, options])
def test_merged_request_gets_482_and_never_reaches_the_tu(factory: object) -> None:
    pair = SipPair()
    first = start(pair, factory)
    stxn = server_txn(pair)
    merged = _merged_copy(pair, first)
    loop = [s.message for s in pair.wire.log if isinstance(s.message, Response)
            and s.message.status == 482]  # fmt: skip
    assert len(loop) == 1
    assert loop[0].reason == "Loop Detected" and loop[0].to.tag
    assert loop[0].top_via.branch == merged.request.top_via.branch
    assert merged.state is State.COMPLETED
    assert [e.transaction for e in pair.b.events_of(RequestReceived)] == [stxn]  # type: ignore[attr-defined]
    # the first request is untouched and can still be answered
    pair.b.layer.respond(stxn, response_to(stxn.request, 486 if factory is invite else 200,
                                           to_tag=new_tag()), pair.now)  # fmt: skip
    pair.pump()
    assert first.state is State.COMPLETED


def test_merged_request_retransmission_gets_the_same_482() -> None:
    pair = SipPair()
    first = start(pair)
    pair.wire.drop(is_response(482), nth=1)
    _merged_copy(pair, first)
    pair.advance(0.5)  # timer A resends the merged INVITE: the 482 is repeated, not re-decided
    loops = pair.sent("482/INVITE")
    assert len(loops) >= 2 and len({s.message.to.tag for s in loops}) == 1
    assert [s.dropped for s in loops][:2] == [True, False]
    assert len(pair.b.events_of(RequestReceived)) == 1


def test_same_request_after_the_first_transaction_ended_is_not_merged() -> None:
    pair = SipPair("TCP")
    first = start(pair, options)
    stxn = server_txn(pair)
    pair.b.layer.respond(stxn, response_to(stxn.request, 200, to_tag=new_tag()), pair.now)
    pair.pump()
    pair.advance(1.0)  # timer J is zero over TCP: the transaction has ended
    assert stxn.state is State.TERMINATED
    _merged_copy(pair, first)
    assert pair.sent("482/OPTIONS") == []
    assert len(pair.b.events_of(RequestReceived)) == 2


def test_request_with_to_tag_is_never_merged() -> None:
    pair = SipPair()
    call_id, tag = "merge@example.com", new_tag()
    headers = (("To", "<sip:b@example.com>;tag=abc"),)
    for _ in range(2):
        req = bye(pair.a, pair.b, call_id=call_id, from_tag=tag)
        req.headers.set("To", headers[0][1])
        pair.a.layer.request(req, pair.b.peer, pair.now)
        pair.pump()
    assert pair.sent("482/BYE") == []
    assert len(pair.b.events_of(RequestReceived)) == 2


def test_cancel_from_another_address_gets_481_and_the_invite_goes_on() -> None:
    from tamas.sip.builders import cancel_for
    from tamas.sip.peer import Peer
    from tamas.sip.transaction import Send

    pair = SipPair()
    ctxn = start(pair)
    stxn = server_txn(pair)
    # someone else (another host, or the same host over another transport) sends the CANCEL
    for stranger in (Peer("UDP", "192.0.2.9", 5060), Peer("TCP", pair.a.peer.host, 5060)):
        forged = parse_datagram(bytes(cancel_for(ctxn.request)))
        pair.b.layer.receive(forged, stranger, pair.now)
        (out,) = pair.b.layer.take()
        assert isinstance(out, Send) and out.peer == stranger
        assert out.message.status == 481  # type: ignore[union-attr]
    assert stxn.state is State.PROCEEDING
    # the real caller's CANCEL from another port (a new connection, a NAT rebinding) counts
    moved = Peer("UDP", pair.a.peer.host, 5099)
    pair.b.layer.receive(parse_datagram(bytes(cancel_for(ctxn.request))), moved, pair.now)
    labels = [o.message.status for o in pair.b.layer.take() if isinstance(o, Send)]  # type: ignore[union-attr]
    assert labels == [200, 487]
    assert stxn.state is State.COMPLETED


# -- the timer queues ---------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 1.0, 2.5, 3.0, 40.0]),
            st.sampled_from([0.0, 0.5, 1.0, 5.0, 32.0, -1.0]),
        ),
        max_size=40,
    )
)
def test_timers_fall_due_in_the_order_of_one_heap(arms: list[tuple[float, float]]) -> None:
    """Timers by delay (queues) and by deadline (a heap, delay -1 here) come out merged in
    (due time, arming order), as from a single heap, whatever order the clock was read in."""
    layer = TransactionLayer()
    req = parse_datagram(
        b"OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1"
        b"\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
    assert not isinstance(req, Response)
    txn = ClientTransaction(kind="non-invite-client", key=("k",), request=req,
                            peer=Peer("UDP", "127.0.0.1", 5060), state=State.TRYING)  # fmt: skip
    expected = []
    for n, (now, delay) in enumerate(arms):
        if delay < 0:
            layer._arm_at(txn, now + 7.0, "X")
            expected.append((now + 7.0, n))
        else:
            layer._arm(txn, now, delay, "X", sticky=True)
            expected.append((now + delay, n))
    expected.sort()
    if expected:
        assert layer.next_deadline() == expected[0][0]
    seen = []
    while True:
        timer, queue = layer._earliest()
        if timer is None:
            break
        seen.append(timer[0])
        layer._pop(queue)
    assert seen == [when for when, _ in expected]
