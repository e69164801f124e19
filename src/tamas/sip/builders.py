"""Building messages from others: responses to a request (RFC 3261 section 8.2.6), ACK and
CANCEL for a client INVITE (sections 17.1.1.3 and 9.1)."""

from __future__ import annotations

from tamas.core.ids import new_id
from tamas.sip.errors import ParseError
from tamas.sip.headers import Headers
from tamas.sip.message import Request, Response, reason_for
from tamas.sip.uri import parse_name_addr

MAGIC_COOKIE = "z9hG4bK"


def new_branch() -> str:
    return MAGIC_COOKIE + new_id(10)


def new_tag() -> str:
    return new_id(6)


def response_to(
    request: Request,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
) -> Response:
    """A response copying Via, From, To, Call-ID and CSeq; adds ``to_tag`` when To has none.

    A 101-299 response also copies Record-Route, as a response that creates a dialog must
    (section 12.1.1); the peer ignores it in other responses.
    """
    h = Headers()
    for v in request.headers.get_all("Via"):
        h.add("Via", v)
    if 100 < status < 300:
        for v in request.headers.get_all("Record-Route"):
            h.add("Record-Route", v)
    for name in ("From", "To", "Call-ID", "CSeq"):
        value = request.headers.get(name)
        if value is not None:
            if name == "To" and to_tag and status > 100 and _lacks_tag(value):
                # the tag is a header parameter: it goes last, after any others
                value = f"{value};tag={to_tag}"
            h.add(name, value)
    if status == 100 and request.headers.get("Timestamp") is not None:
        h.add("Timestamp", request.headers.get("Timestamp") or "")
    for k, v in headers:
        h.add(k, v)
    return Response(status=status, reason=reason or reason_for(status), headers=h, body=body)


def ack_for_non_2xx(invite: Request, response: Response) -> Request:
    """The ACK a client INVITE transaction sends for a 3xx-6xx (section 17.1.1.3)."""
    h = Headers()
    h.add("Via", invite.headers.values("Via")[0])
    for name in ("From", "Call-ID"):
        h.add(name, invite.headers.get(name) or "")
    h.add("To", response.headers.get("To") or invite.headers.get("To") or "")
    for route in invite.headers.get_all("Route"):
        h.add("Route", route)
    h.add("CSeq", f"{invite.cseq.seq} ACK")
    h.add("Max-Forwards", "70")
    return Request(method="ACK", uri=invite.uri, headers=h)


def cancel_for(invite: Request) -> Request:
    """CANCEL for a pending INVITE: same Request-URI, top Via, From, To, Call-ID, CSeq number."""
    h = Headers()
    h.add("Via", invite.headers.values("Via")[0])
    for name in ("From", "To", "Call-ID"):
        h.add(name, invite.headers.get(name) or "")
    for route in invite.headers.get_all("Route"):
        h.add("Route", route)
    h.add("CSeq", f"{invite.cseq.seq} CANCEL")
    h.add("Max-Forwards", "70")
    return Request(method="CANCEL", uri=invite.uri, headers=h)


def _lacks_tag(raw_to: str) -> bool:
    try:
        return parse_name_addr(raw_to).tag is None
    except ParseError:
        return False  # a malformed To is copied as it came
