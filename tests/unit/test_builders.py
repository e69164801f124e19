"""Responses, ACK and CANCEL built from other messages (RFC 3261 sections 8.2.6, 9.1, 17.1.1.3)."""

from __future__ import annotations

from tamas.sip.builders import (
    MAGIC_COOKIE,
    ack_for_non_2xx,
    cancel_for,
    new_branch,
    new_tag,
    response_to,
)
from tamas.sip.message import Request, parse_datagram

INVITE = (
    b"INVITE sip:bob@192.0.2.2 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP proxy.example.net;branch=z9hG4bKp1\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa1;received=192.0.2.1\r\n"
    b"Max-Forwards: 69\r\n"
    b"Route: <sip:edge.example.net;lr>\r\n"
    b"Record-Route: <sip:proxy.example.net;lr>\r\n"
    b"From: Alice <sip:alice@example.com>;tag=fa\r\n"
    b"To: Bob <sip:bob@example.com>\r\n"
    b"Call-ID: c1@example.com\r\n"
    b"CSeq: 7 INVITE\r\n"
    b"Timestamp: 54\r\n"
    b"Contact: <sip:alice@192.0.2.1>\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def request() -> Request:
    msg = parse_datagram(INVITE)
    assert isinstance(msg, Request)
    return msg


def test_response_copies_the_transaction_headers() -> None:
    resp = response_to(request(), 180, to_tag="tb")
    again = parse_datagram(bytes(resp))
    assert again.headers.get_all("Via") == request().headers.get_all("Via")
    assert again.headers.get("From") == "Alice <sip:alice@example.com>;tag=fa"
    assert again.to.tag == "tb"
    assert again.call_id == "c1@example.com"
    assert str(again.cseq) == "7 INVITE"
    assert again.headers.get("Contact") is None
    assert again.headers.get("Timestamp") is None  # only a 100 echoes it


def test_100_has_no_tag_and_echoes_timestamp() -> None:
    trying = response_to(request(), 100, to_tag="tb")
    assert trying.to.tag is None
    assert trying.reason == "Trying"
    assert trying.headers.get("Timestamp") == "54"
    assert trying.headers.get("Record-Route") is None


def test_existing_to_tag_is_kept() -> None:
    req = request()
    req.headers.set("To", "<sip:bob@example.com>;tag=old")
    assert response_to(req, 200, to_tag="new").to.tag == "old"


def test_record_route_copied_into_dialog_creating_responses_only() -> None:
    for status in (180, 200):
        rr = response_to(request(), status, to_tag="t").headers.get_all("Record-Route")
        assert rr == ["<sip:proxy.example.net;lr>"]
    for status in (100, 302, 486):
        assert response_to(request(), status, to_tag="t").headers.get("Record-Route") is None


def test_extra_headers_body_and_reason() -> None:
    resp = response_to(request(), 200, "Fine", headers=(("Contact", "<sip:b@h>"),), body=b"x")
    again = parse_datagram(bytes(resp))
    assert again.reason == "Fine"  # type: ignore[union-attr]
    assert again.headers.get("Contact") == "<sip:b@h>"
    assert again.body == b"x"
    assert response_to(request(), 487).reason == "Request Terminated"


def test_ack_for_non_2xx() -> None:
    req = request()
    busy = response_to(req, 486, to_tag="tb")
    ack = parse_datagram(bytes(ack_for_non_2xx(req, busy)))
    assert isinstance(ack, Request)
    assert ack.method == "ACK" and ack.uri == req.uri
    assert ack.headers.get_all("Via") == [req.headers.get_all("Via")[0]]  # the top one only
    assert ack.to.tag == "tb"
    assert ack.from_.tag == "fa"
    assert str(ack.cseq) == "7 ACK"
    assert ack.headers.get_all("Route") == ["<sip:edge.example.net;lr>"]
    assert ack.max_forwards == 70


def test_cancel_for() -> None:
    req = request()
    cancel = parse_datagram(bytes(cancel_for(req)))
    assert isinstance(cancel, Request)
    assert cancel.method == "CANCEL" and cancel.uri == req.uri
    assert cancel.top_via.branch == "z9hG4bKp1"
    assert len(cancel.vias) == 1
    assert cancel.to.tag is None
    assert str(cancel.cseq) == "7 CANCEL"
    assert cancel.headers.get_all("Route") == ["<sip:edge.example.net;lr>"]


def test_branches_and_tags_are_fresh() -> None:
    branches = {new_branch() for _ in range(100)}
    assert len(branches) == 100
    assert all(b.startswith(MAGIC_COOKIE) and len(b) > len(MAGIC_COOKIE) + 8 for b in branches)
    assert len({new_tag() for _ in range(100)}) == 100
