"""Responses to the INVITEs of forks whose answer Tamas takes itself.

A blind transfer's target (:mod:`tamas.runtime.transfer`) and an agent's device rung by the
contact center (:mod:`tamas.runtime.callcenter.dialer`) are forks added to a call Tamas
already holds: their provisional responses are relayed to nobody, and their 2xx is not
passed on to a waiting caller (unlike a callee's forks, :mod:`tamas.runtime.forking`).
:func:`fork_response` does what both need with any response, and tells the caller what is
left to it: a failure to count, or an answer to put to use.

* 1xx: the fork may now be cancelled (RFC 3261 section 9.1); a CANCEL that waited goes.
* 401/407 from a trunk: the INVITE is sent again once with the trunk's credentials.
* 3xx-6xx: :attr:`ForkResult.FAILED`.
* 2xx: ACKed (retransmissions too: our ACK may have been lost). If the work the fork was for
  is over, or the fork was cancelled, the 2xx crossed the end and the fork gets a BYE.
  Otherwise the fork's SDP is kept and the result is :attr:`ForkResult.ANSWERED`.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from tamas.sip.dialog import Dialog
from tamas.sip.message import Response

if TYPE_CHECKING:
    from tamas.runtime.b2bua import B2BUA
    from tamas.runtime.calls import Leg

__all__ = ["ForkResult", "fork_response"]

SDP = "application/sdp"


class ForkResult(Enum):
    #: Nothing for the owner to do (provisional, answered with credentials, a retransmitted
    #: 2xx, or a 2xx that came too late and was hung up).
    HANDLED = "handled"
    #: A final failure (``resp.status`` >= 300).
    FAILED = "failed"
    #: The fork answered (ACKed, ``fork.dialog`` and ``fork.sdp`` set).
    ANSWERED = "answered"


def fork_response(
    b2bua: B2BUA, fork: Leg, resp: Response, retransmission: bool, *, over: bool
) -> ForkResult:
    """Handle ``resp`` to ``fork``'s INVITE; ``over``: the fork's transfer or dial is done."""
    status = resp.status
    if status < 200:
        fork.provisional = True  # 100 Trying too (RFC 3261 section 9.1)
        if fork.cancel_wanted:
            b2bua.cancel(fork)
        return ForkResult.HANDLED
    if status in (401, 407) and b2bua.retry_with_auth(fork, resp):
        return ForkResult.HANDLED  # a trunk challenged: answered with its credentials
    if status >= 300:
        return ForkResult.FAILED
    endpoint = b2bua.endpoint
    if fork.dialog is None:
        contact = f"<{endpoint.contact_uri(fork.peer.transport)}>"
        fork.dialog = Dialog.for_uac(fork.invite, resp, contact)
    ack = fork.dialog.new_request("ACK", via=endpoint.via(fork.peer.transport),
                                  cseq=fork.invite.cseq.seq)  # fmt: skip
    endpoint.send_stateless(ack, fork.peer)
    if retransmission:
        return ForkResult.HANDLED
    if over or fork.cancel_wanted:
        b2bua.send_in_dialog(fork, "BYE")
        b2bua.forget(fork)
        return ForkResult.HANDLED
    fork.sdp = resp.body if resp.content_type == SDP else b""
    return ForkResult.ANSWERED
