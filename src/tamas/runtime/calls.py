"""The B2BUA's records: a :class:`Call` and its :class:`Leg` s (one dialog each), and the
call's states with their allowed transitions (:data:`CALL_TRANSITIONS`).

The records hold state only; :mod:`tamas.runtime.b2bua` and :mod:`tamas.runtime.forking`
act on them. They are importable (and compiled) without the B2BUA itself, so that the
modules acting on them need no circular import.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from tamas.runtime.anchor import CallMedia, LegMedia
from tamas.sip.auth import DigestClient
from tamas.sip.dialog import Dialog
from tamas.sip.message import Request, Response
from tamas.sip.peer import Peer
from tamas.sip.transaction import ClientTransaction, ServerTransaction
from tamas.store.records import CallRecord

if TYPE_CHECKING:
    from tamas.runtime.callcenter.dialer import AgentDial
    from tamas.runtime.relay import AnswerWait
    from tamas.runtime.transfer import BlindTransfer

#: The methods Tamas accepts (the Allow of its INVITEs, 2xx and 405 responses).
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY, MESSAGE, REGISTER"


class CallState(Enum):
    ROUTING = "routing"
    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"

    # Hashed by identity (members are singletons, compared by identity): Enum's own __hash__
    # is a Python function, called for every table lookup of a state.
    __hash__ = object.__hash__


CALL_TRANSITIONS: dict[CallState, frozenset[CallState]] = {
    CallState.ROUTING: frozenset({CallState.RINGING, CallState.ENDED}),
    CallState.RINGING: frozenset({CallState.ANSWERED, CallState.ENDED}),
    CallState.ANSWERED: frozenset({CallState.ENDED}),
    CallState.ENDED: frozenset(),
}


@dataclass(eq=False, slots=True)
class Leg:
    call: Call
    side: str
    peer: Peer
    call_id: str
    local_tag: str
    invite: Request
    dialog: Dialog | None = None
    server_txn: ServerTransaction | None = None
    client_txn: ClientTransaction | None = None
    provisional: bool = False  # its INVITE transaction had a 1xx
    cancel_sent: bool = False
    cancel_wanted: bool = False
    auth_tried: bool = False
    digest: DigestClient | None = None
    sdp: bytes = b""  # the last session description this party sent (for transfers)
    extension: str | None = None  # the extension on this side, if any (only they may transfer)
    own_call_id: bool = False  # Tamas made this leg's Call-ID (it is in B2BUA.own_call_ids)
    transfer: BlindTransfer | None = None  # set on a leg dialed to a transfer target
    ack: Request | None = None  # the ACK we sent for this leg's last 2xx (re-sent if repeated)
    answer_wait: AnswerWait | None = None  # a delayed offer's ACK waits (see relay.py)
    media: LegMedia | None = None  # its engine leg and offer/answer state (anchored calls)
    dial: AgentDial | None = None  # set on a leg ringing an agent (see callcenter/dialer.py)

    # Written out (as Call's): the dataclass-generated __init__ runs interpreted in the mypyc
    # build, and every call makes at least two legs.
    def __init__(
        self,
        call: Call,
        side: str,
        peer: Peer,
        call_id: str,
        local_tag: str,
        invite: Request,
        dialog: Dialog | None = None,
        server_txn: ServerTransaction | None = None,
        client_txn: ClientTransaction | None = None,
        provisional: bool = False,
        cancel_sent: bool = False,
        cancel_wanted: bool = False,
        auth_tried: bool = False,
        digest: DigestClient | None = None,
        sdp: bytes = b"",
        extension: str | None = None,
        own_call_id: bool = False,
        transfer: BlindTransfer | None = None,
        ack: Request | None = None,
        answer_wait: AnswerWait | None = None,
        media: LegMedia | None = None,
        dial: AgentDial | None = None,
    ) -> None:
        self.call = call
        self.side = side
        self.peer = peer
        self.call_id = call_id
        self.local_tag = local_tag
        self.invite = invite
        self.dialog = dialog
        self.server_txn = server_txn
        self.client_txn = client_txn
        self.provisional = provisional
        self.cancel_sent = cancel_sent
        self.cancel_wanted = cancel_wanted
        self.auth_tried = auth_tried
        self.digest = digest
        self.sdp = sdp
        self.extension = extension
        self.own_call_id = own_call_id
        self.transfer = transfer
        self.ack = ack
        self.answer_wait = answer_wait
        self.media = media
        self.dial = dial


@dataclass(eq=False, slots=True)
class Call:
    id: str
    a: Leg | None = None
    forks: list[Leg] = field(default_factory=list)
    b: Leg | None = None
    state: CallState = CallState.ROUTING
    failures: list[Response] = field(default_factory=list)
    ring_timer: asyncio.TimerHandle | None = None
    answered_at: float | None = None
    record: CallRecord | None = None
    keepalive: asyncio.TimerHandle | None = None  # the next probe of its dialogs
    media: CallMedia | None = None  # its engine legs (anchored calls)
    answered_loop: float | None = None  # loop time of the answer (for media timeouts)
    extension: str | None = None  # the extension it rings (its forwarding applies)

    def __init__(
        self,
        id: str,
        a: Leg | None = None,
        forks: list[Leg] | None = None,
        b: Leg | None = None,
        state: CallState = CallState.ROUTING,
        failures: list[Response] | None = None,
        ring_timer: asyncio.TimerHandle | None = None,
        answered_at: float | None = None,
        record: CallRecord | None = None,
        keepalive: asyncio.TimerHandle | None = None,
        media: CallMedia | None = None,
        answered_loop: float | None = None,
        extension: str | None = None,
    ) -> None:
        self.id = id
        self.a = a
        self.forks = [] if forks is None else forks
        self.b = b
        self.state = state
        self.failures = [] if failures is None else failures
        self.ring_timer = ring_timer
        self.answered_at = answered_at
        self.record = record
        self.keepalive = keepalive
        self.media = media
        self.answered_loop = answered_loop
        self.extension = extension

    def move(self, new: CallState) -> None:
        if new is self.state:
            return
        if new not in CALL_TRANSITIONS[self.state]:
            raise RuntimeError(f"call {self.state.value} -> {new.value} not allowed")
        self.state = new

    def other(self, leg: Leg) -> Leg | None:
        return self.b if leg is self.a else self.a
