"""The SIP transaction layer (RFC 3261 section 17, with the RFC 6026 "Accepted" states).

Theory of operation
-------------------
:class:`TransactionLayer` is sans-IO. The runtime feeds it parsed messages with
:meth:`~TransactionLayer.receive`, asks it to send with :meth:`~TransactionLayer.request` and
:meth:`~TransactionLayer.respond`, and calls :meth:`~TransactionLayer.handle_timer` at
:meth:`~TransactionLayer.next_deadline`. Everything the layer wants done comes out of
:meth:`~TransactionLayer.take` in order: :class:`Send` items (bytes for a peer) and events for
the transaction user (TU).

Timers (T1 = 500 ms, T2 = 4 s, T4 = 5 s by default) are deadlines; a timer entry is ignored
when its transaction has moved on (its ``generation`` changed). Almost every timer is armed
``delay`` seconds from now with one of a few delays (T1 and its doublings, T4, 64*T1, 0), so
timers armed with the same delay fall due in the order they were armed: each delay has a
first-in first-out queue (two operations per timer, whatever the number of pending ones),
and the few others (a deadline kept from before) go on a heap. The earliest head of them all
fires first, in the order a single heap would give (due time, then arming order). Retransmissions
(A, E, G and the 2xx retransmission of section 13.3.1.4) happen only over unreliable
transports; the waiting timers D, I, J, K are zero over reliable ones.

Choices (allowed by the RFC):

* An INVITE server transaction sends 100 Trying at once.
* CANCEL is answered here: 481 when no INVITE matches, else 200, then 487 to the INVITE if it
  has no final response yet; the TU hears :class:`InviteCancelled`. A CANCEL must also come
  from the transport and IP address the INVITE came from (the port may differ, as after a
  reconnection): the key of section 17.2.3 is made of values written in the message, so
  anyone who saw the INVITE's branch could otherwise cancel it. Others get the same 481 as
  a CANCEL that matches nothing (sent statelessly: their CANCEL starts no transaction that
  the caller's own CANCEL, with the same key, would then match).
* 2xx to an INVITE is retransmitted by the layer until the ACK arrives (the ACK for a 2xx is a
  new transaction, matched by Call-ID and CSeq number); :class:`AckTimeout` if it never does.
* Responses go back to the peer the request came from (symmetric response routing, as with
  RFC 3581 ``rport``; the Via ``received``/``rport`` parameters are filled in accordingly).
* Merged requests (section 8.2.2.2) are detected here, where the transactions in progress are
  known: a request without a To tag whose From tag, Call-ID and CSeq (number and method) equal
  those of a server transaction in progress, but which does not match that transaction (another
  branch: it forked upstream and came back by another path), gets 482 Loop Detected in a
  transaction of its own (so that its retransmissions get the same answer), and the TU never
  sees it. A transaction stops counting once it has ended.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from dataclasses import dataclass, field
from enum import Enum

from tamas.sip.builders import MAGIC_COOKIE, ack_for_non_2xx, new_tag, response_to
from tamas.sip.errors import ParseError
from tamas.sip.message import Request, Response
from tamas.sip.peer import Peer

T1 = 0.5
T2 = 4.0
T4 = 5.0
_STICKY = -1


class State(Enum):
    CALLING = "calling"
    TRYING = "trying"
    PROCEEDING = "proceeding"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"

    # Hashed by identity (members are singletons, compared by identity): Enum's own __hash__
    # is a Python function, called for every table lookup of a state (dozens per call).
    __hash__ = object.__hash__


S = State
#: Allowed transitions per transaction kind (RFC 3261 figures 5-8, RFC 6026 figures 5 and 7).
TRANSITIONS: dict[str, dict[State, frozenset[State]]] = {
    "invite-client": {
        S.CALLING: frozenset({S.PROCEEDING, S.ACCEPTED, S.COMPLETED, S.TERMINATED}),
        S.PROCEEDING: frozenset({S.ACCEPTED, S.COMPLETED, S.TERMINATED}),
        S.ACCEPTED: frozenset({S.TERMINATED}),
        S.COMPLETED: frozenset({S.TERMINATED}),
    },
    "non-invite-client": {
        S.TRYING: frozenset({S.PROCEEDING, S.COMPLETED, S.TERMINATED}),
        S.PROCEEDING: frozenset({S.COMPLETED, S.TERMINATED}),
        S.COMPLETED: frozenset({S.TERMINATED}),
    },
    "invite-server": {
        S.PROCEEDING: frozenset({S.ACCEPTED, S.COMPLETED, S.TERMINATED}),
        S.ACCEPTED: frozenset({S.TERMINATED}),
        S.COMPLETED: frozenset({S.CONFIRMED, S.TERMINATED}),
        S.CONFIRMED: frozenset({S.TERMINATED}),
    },
    "non-invite-server": {
        S.TRYING: frozenset({S.PROCEEDING, S.COMPLETED, S.TERMINATED}),
        S.PROCEEDING: frozenset({S.COMPLETED, S.TERMINATED}),
        S.COMPLETED: frozenset({S.TERMINATED}),
    },
}


# -- outputs --------------------------------------------------------------------------------
# Send, RequestReceived and ResponseReceived (several per call) are immutable by convention:
# their own __init__, compiled in the mypyc build where the generated one runs interpreted
# (see tamas.sip.peer.Peer), hence not frozen.
@dataclass(slots=True, unsafe_hash=True, kw_only=True)
class Send:
    """Bytes to send to ``peer``; ``message`` is kept for tracing."""

    data: bytes
    peer: Peer
    message: Request | Response

    def __init__(self, *, data: bytes, peer: Peer, message: Request | Response) -> None:
        self.data = data
        self.peer = peer
        self.message = message


@dataclass(slots=True, unsafe_hash=True, kw_only=True)
class RequestReceived:
    """A new request for the TU. ``transaction`` is None for an ACK (it has none)."""

    request: Request
    peer: Peer
    transaction: ServerTransaction | None

    def __init__(
        self, *, request: Request, peer: Peer, transaction: ServerTransaction | None
    ) -> None:
        self.request = request
        self.peer = peer
        self.transaction = transaction


@dataclass(slots=True, unsafe_hash=True, kw_only=True)
class ResponseReceived:
    """A response for a client transaction (``retransmission`` for a repeated 2xx)."""

    response: Response
    peer: Peer
    transaction: ClientTransaction
    retransmission: bool = False

    def __init__(
        self,
        *,
        response: Response,
        peer: Peer,
        transaction: ClientTransaction,
        retransmission: bool = False,
    ) -> None:
        self.response = response
        self.peer = peer
        self.transaction = transaction
        self.retransmission = retransmission


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionTimeout:
    """Timer B or F fired: no final response (the TU treats it as a 408)."""

    transaction: ClientTransaction


@dataclass(frozen=True, slots=True, kw_only=True)
class InviteCancelled:
    """A CANCEL matched this INVITE server transaction (already answered 487 if pending)."""

    transaction: ServerTransaction
    cancel: Request


@dataclass(frozen=True, slots=True, kw_only=True)
class AckTimeout:
    """A 2xx to an INVITE was never acknowledged (64*T1): the TU should end the dialog."""

    transaction: ServerTransaction


@dataclass(frozen=True, slots=True, kw_only=True)
class StrayResponse:
    """A response matching no client transaction (dropped; reported for tracing)."""

    response: Response
    peer: Peer


Event = RequestReceived | ResponseReceived | TransactionTimeout | InviteCancelled | AckTimeout
#: A pending timer: (due time, arming order, transaction, its generation or _STICKY, name).
_Timer = tuple[float, int, "_Base", int, str]
Output = Send | Event | StrayResponse


# -- transactions ---------------------------------------------------------------------------
@dataclass(eq=False, slots=True)
class _Base:
    kind: str
    key: tuple[str, ...]
    request: Request
    peer: Peer
    state: State
    generation: int = 0
    interval: float = T1
    last_sent: bytes | None = None
    user_data: object | None = None
    #: When the pending retransmission timer (A, E, G) is due, if one is.
    retransmit_at: float | None = None

    @property
    def method(self) -> str:
        return self.request.method

    def _move(self, new: State) -> None:
        allowed = TRANSITIONS[self.kind].get(self.state, frozenset())
        if new not in allowed:
            raise RuntimeError(f"{self.kind}: {self.state.value} -> {new.value} not allowed")
        self.state = new
        self.generation += 1

    def _init_base(
        self,
        kind: str,
        key: tuple[str, ...],
        request: Request,
        peer: Peer,
        state: State,
        interval: float,
    ) -> None:
        self.kind = kind
        self.key = key
        self.request = request
        self.peer = peer
        self.state = state
        self.generation = 0
        self.interval = interval
        self.last_sent = None
        self.user_data = None
        self.retransmit_at = None


# The two transactions write their __init__ out: the generated one runs interpreted even in
# the mypyc build (see tamas.sip.peer.Peer), and every request makes one or two.
@dataclass(eq=False, slots=True)
class ClientTransaction(_Base):
    last_response: Response | None = None

    def __init__(
        self,
        *,
        kind: str,
        key: tuple[str, ...],
        request: Request,
        peer: Peer,
        state: State,
        interval: float = T1,
    ) -> None:
        self._init_base(kind, key, request, peer, state, interval)
        self.last_response = None


@dataclass(eq=False, slots=True)
class ServerTransaction(_Base):
    last_response: Response | None = None
    ack_key: tuple[str, int] | None = None
    to_tag: str | None = field(default=None)
    #: (From tag, Call-ID, CSeq number, method) of a request without To tag (section 8.2.2.2).
    merge_key: tuple[str, str, int, str] | None = None

    def __init__(
        self,
        *,
        kind: str,
        key: tuple[str, ...],
        request: Request,
        peer: Peer,
        state: State,
        interval: float = T1,
    ) -> None:
        self._init_base(kind, key, request, peer, state, interval)
        self.last_response = None
        self.ack_key = None
        self.to_tag = None
        self.merge_key = None


def _server_key(req: Request, via_branch: str | None, sent_by: str) -> tuple[str, ...]:
    method = "INVITE" if req.method == "ACK" else req.method
    if via_branch and via_branch.startswith(MAGIC_COOKIE) and len(via_branch) > len(MAGIC_COOKIE):
        return (via_branch, sent_by, method)
    # RFC 2543 matching (section 17.2.3): Request-URI, From tag, Call-ID, CSeq number, top Via.
    return (
        "2543",
        str(req.uri),
        req.from_.tag or "",
        req.call_id,
        str(req.cseq.seq),
        sent_by + ";" + (via_branch or ""),
        method,
    )


class TransactionLayer:
    """All client and server transactions of one SIP endpoint."""

    def __init__(self, *, t1: float = T1, t2: float = T2, t4: float = T4) -> None:
        self.t1, self.t2, self.t4 = t1, t2, t4
        self._server: dict[tuple[str, ...], ServerTransaction] = {}
        self._client: dict[tuple[str, ...], ClientTransaction] = {}
        self._accepted: dict[tuple[str, int], ServerTransaction] = {}
        self._merging: dict[tuple[str, str, int, str], ServerTransaction] = {}
        #: Timers with a deadline of their own (a heap), and timers by delay (queues in the
        #: order they fall due; see the module docstring).
        self._timers: list[_Timer] = []
        self._queues: dict[float, deque[_Timer]] = {}
        self._seq = itertools.count()
        self._out: list[Output] = []
        self._ended: list[_Base] = []
        self._ended_before: list[_Base] = []

    # -- pump interface ---------------------------------------------------------------------
    def take(self) -> list[Output]:
        # Transactions that ended before the previous take() have had their last events
        # handled by now: drop the TU's data, which often points back at them (no cycle left).
        for txn in self._ended_before:
            txn.user_data = None
        self._ended_before, self._ended = self._ended, []
        out, self._out = self._out, []
        return out

    def _earliest(self) -> tuple[_Timer | None, deque[_Timer] | None]:
        """The timer due first (due time, then arming order) and the queue that holds it
        (None: the heap, or no timer at all)."""
        best: _Timer | None = self._timers[0] if self._timers else None
        best_queue: deque[_Timer] | None = None
        for queue in self._queues.values():
            if queue:
                head = queue[0]
                if best is None or head[0] < best[0] or (head[0] == best[0] and head[1] < best[1]):
                    best = head
                    best_queue = queue
        return best, best_queue

    def _pop(self, queue: deque[_Timer] | None) -> None:
        if queue is None:
            heapq.heappop(self._timers)
        else:
            queue.popleft()

    def next_deadline(self) -> float | None:
        while True:
            timer, queue = self._earliest()
            if timer is None:
                return None
            when, _, txn, gen, _ = timer
            if gen in (_STICKY, txn.generation) and txn.state is not State.TERMINATED:
                return when
            self._pop(queue)

    def handle_timer(self, now: float) -> None:
        while True:
            timer, queue = self._earliest()
            if timer is None or timer[0] > now:
                return
            self._pop(queue)
            _, _, txn, gen, name = timer
            if gen not in (_STICKY, txn.generation) or txn.state is State.TERMINATED:
                continue
            self._fire(txn, name, now)

    @property
    def counts(self) -> tuple[int, int]:
        return len(self._client), len(self._server)

    # -- TU -> network ----------------------------------------------------------------------
    def request(self, req: Request, peer: Peer, now: float) -> ClientTransaction:
        """Start a client transaction. The request's top Via must carry a fresh branch."""
        if req.method == "ACK":
            raise ValueError("ACK is sent with send_stateless (it has no transaction)")
        branch = req.top_via.branch or ""
        key = (branch, req.method)
        invite = req.method == "INVITE"
        txn = ClientTransaction(
            kind="invite-client" if invite else "non-invite-client",
            key=key,
            request=req,
            peer=peer,
            state=State.CALLING if invite else State.TRYING,
            interval=self.t1,
        )
        self._client[key] = txn
        txn.last_sent = bytes(req)
        self._emit_send(txn.last_sent, peer, req)
        if not peer.reliable:
            self._arm(txn, now, self.t1, "A" if invite else "E")
        self._arm(txn, now, 64 * self.t1, "B" if invite else "F", sticky=not invite)
        return txn

    def respond(self, txn: ServerTransaction, resp: Response, now: float) -> None:
        """Send a response within a server transaction (ignored once it is final)."""
        if txn.state not in (State.TRYING, State.PROCEEDING):
            return
        data = bytes(resp)
        if txn.to_tag is None and resp.status > 100:
            txn.to_tag = resp.to.tag
        txn.last_response = resp
        txn.last_sent = data
        self._emit_send(data, txn.peer, resp)
        if resp.status < 200:
            if txn.state is State.TRYING:
                txn._move(State.PROCEEDING)
            return
        if txn.kind == "invite-server":
            if resp.status < 300:
                txn._move(State.ACCEPTED)
                txn.ack_key = (txn.request.call_id, txn.request.cseq.seq)
                self._accepted[txn.ack_key] = txn
                if not txn.peer.reliable:
                    txn.interval = self.t1
                    self._arm(txn, now, self.t1, "G2xx")
                self._arm(txn, now, 64 * self.t1, "L", sticky=True)
            else:
                txn._move(State.COMPLETED)
                if not txn.peer.reliable:
                    txn.interval = self.t1
                    self._arm(txn, now, self.t1, "G")
                self._arm(txn, now, 64 * self.t1, "H")
        else:
            txn._move(State.COMPLETED)
            self._arm(txn, now, 0.0 if txn.peer.reliable else 64 * self.t1, "J")

    def drop(self, txn: ServerTransaction | ClientTransaction) -> None:
        """Forget a transaction: a server one without a response (e.g. to a banned source;
        its retransmissions start a new one that is dropped the same way), a client one
        without waiting any longer for its final response."""
        if txn.state is not State.TERMINATED:
            self._terminate(txn)

    def send_stateless(self, msg: Request | Response, peer: Peer) -> None:
        """Send outside any transaction (ACK for 2xx, stateless error responses)."""
        self._emit_send(bytes(msg), peer, msg)

    # -- network -> TU ----------------------------------------------------------------------
    def receive(self, msg: Request | Response, peer: Peer, now: float) -> None:
        if isinstance(msg, Response):
            self._receive_response(msg, peer, now)
        else:
            self._receive_request(msg, peer, now)

    def _receive_request(self, req: Request, peer: Peer, now: float) -> None:
        via = req.top_via
        if via.host_bare != peer.host.lower():
            via = via.with_param("received", peer.host)
        if via.rport is not None or via.host_bare != peer.host.lower():
            via = via.with_param("rport", str(peer.port))
        req.set_top_via(via)
        sent_by = f"{via.host_bare}:{via.port or 5060}"
        key = _server_key(req, via.branch, sent_by)
        txn = self._server.get(key)
        if req.method == "ACK":
            self._receive_ack(req, peer, txn, now)
            return
        if txn is not None:
            # A retransmission: repeat the last response (sections 17.2.1 and 17.2.2).
            if txn.last_sent is not None and txn.state is not State.ACCEPTED:
                self._emit_send(txn.last_sent, txn.peer, txn.last_response or req)
            return
        if req.method == "CANCEL":
            self._receive_cancel(req, peer, key, now)
            return
        invite = req.method == "INVITE"
        txn = ServerTransaction(
            kind="invite-server" if invite else "non-invite-server",
            key=key,
            request=req,
            peer=peer,
            state=State.PROCEEDING if invite else State.TRYING,
        )
        self._server[key] = txn
        if not req.to.tag:
            merge_key = (req.from_.tag or "", req.call_id, req.cseq.seq, req.method)
            if merge_key in self._merging:
                # Section 8.2.2.2: the same request by another path; not for the TU.
                self.respond(txn, response_to(req, 482, to_tag=new_tag()), now)
                return
            txn.merge_key = merge_key
            self._merging[merge_key] = txn
        if invite:
            trying = response_to(req, 100)
            txn.last_response = trying
            txn.last_sent = bytes(trying)
            self._emit_send(txn.last_sent, peer, trying)
        self._out.append(RequestReceived(request=req, peer=peer, transaction=txn))

    def _receive_ack(
        self, ack: Request, peer: Peer, txn: ServerTransaction | None, now: float
    ) -> None:
        if txn is not None and txn.kind == "invite-server" and txn.state is not State.ACCEPTED:
            if txn.state is State.COMPLETED:
                txn._move(State.CONFIRMED)
                self._arm(txn, now, 0.0 if txn.peer.reliable else self.t4, "I")
            return  # an ACK for a non-2xx final response is absorbed here
        # The ACK for a 2xx is its own transaction (it usually has a new branch; an RFC 2543
        # peer's, or a sloppy one's, may still match the INVITE's key while it is Accepted).
        accepted = self._accepted.pop((ack.call_id, ack.cseq.seq), None)
        if accepted is not None and accepted.state is State.ACCEPTED:
            accepted.generation += 1  # stops 2xx retransmission; the sticky timer L frees it
        self._out.append(RequestReceived(request=ack, peer=peer, transaction=None))

    def _receive_cancel(
        self, cancel: Request, peer: Peer, key: tuple[str, ...], now: float
    ) -> None:
        invite_key = (*key[:-1], "INVITE")
        invite = self._server.get(invite_key)
        if invite is not None and (invite.peer.host, invite.peer.transport) != (
            peer.host, peer.transport,
        ):  # fmt: skip
            # Not from where the INVITE came: as if nothing matched, and statelessly, so that
            # the caller's own CANCEL (same key) is not taken for a retransmission of this one.
            self.send_stateless(response_to(cancel, 481, to_tag=new_tag()), peer)
            return
        ctx = ServerTransaction(
            kind="non-invite-server", key=key, request=cancel, peer=peer, state=State.TRYING
        )
        self._server[key] = ctx
        if invite is None:
            self.respond(ctx, response_to(cancel, 481, to_tag=new_tag()), now)
            return
        if invite.to_tag is None:
            # Only 100 Trying went out: the 200 and the 487 are final and need a To tag, the
            # same one (section 9.2).
            invite.to_tag = new_tag()
        self.respond(ctx, response_to(cancel, 200, to_tag=invite.to_tag), now)
        if invite.state is State.PROCEEDING:
            self.respond(invite, response_to(invite.request, 487, to_tag=invite.to_tag), now)
            self._out.append(InviteCancelled(transaction=invite, cancel=cancel))

    def _receive_response(self, resp: Response, peer: Peer, now: float) -> None:
        try:
            via = resp.top_via
            key = (via.branch or "", resp.cseq.method)
        except ParseError:
            return
        txn = self._client.get(key)
        if txn is None or txn.state is State.TERMINATED:
            self._out.append(StrayResponse(response=resp, peer=peer))
            return
        status = resp.status
        if txn.kind == "invite-client":
            self._invite_client_response(txn, resp, peer, now)
            return
        if txn.state in (State.TRYING, State.PROCEEDING):
            txn.last_response = resp
            if status < 200:
                if txn.state is State.TRYING:
                    txn._move(State.PROCEEDING)
                    if not txn.peer.reliable and txn.retransmit_at is not None:
                        # Timer E keeps running; it is reset to T2 when it next fires
                        # (section 17.1.2.2).
                        self._arm_at(txn, txn.retransmit_at, "E")
            else:
                txn._move(State.COMPLETED)
                self._arm(txn, now, 0.0 if txn.peer.reliable else self.t4, "K")
            self._out.append(ResponseReceived(response=resp, peer=peer, transaction=txn))

    def _invite_client_response(
        self, txn: ClientTransaction, resp: Response, peer: Peer, now: float
    ) -> None:
        status = resp.status
        if txn.state in (State.CALLING, State.PROCEEDING):
            txn.last_response = resp
            if status < 200:
                if txn.state is State.CALLING:
                    txn._move(State.PROCEEDING)  # stops timer A; B no longer applies
                self._out.append(ResponseReceived(response=resp, peer=peer, transaction=txn))
            elif status < 300:
                txn._move(State.ACCEPTED)
                self._arm(txn, now, 64 * self.t1, "M")
                self._out.append(ResponseReceived(response=resp, peer=peer, transaction=txn))
            else:
                txn._move(State.COMPLETED)
                self._send_ack(txn, resp)
                self._arm(txn, now, 0.0 if txn.peer.reliable else 32.0, "D")
                self._out.append(ResponseReceived(response=resp, peer=peer, transaction=txn))
        elif txn.state is State.ACCEPTED and 200 <= status < 300:
            self._out.append(
                ResponseReceived(response=resp, peer=peer, transaction=txn, retransmission=True)
            )
        elif txn.state is State.COMPLETED and status >= 300:
            self._send_ack(txn, resp)

    def _send_ack(self, txn: ClientTransaction, resp: Response) -> None:
        ack = ack_for_non_2xx(txn.request, resp)
        self._emit_send(bytes(ack), txn.peer, ack)

    # -- timers -----------------------------------------------------------------------------
    def _arm(
        self, txn: _Base, now: float, delay: float, name: str, *, sticky: bool = False
    ) -> None:
        """Schedule a timer ``delay`` seconds after ``now``; it lapses when the transaction
        changes state unless ``sticky``."""
        when = now + delay
        gen = _STICKY if sticky else txn.generation
        if name in ("A", "E", "G", "G2xx"):
            txn.retransmit_at = when
        timer = (when, next(self._seq), txn, gen, name)
        queue = self._queues.get(delay)
        if queue is None:
            queue = self._queues[delay] = deque()
        if queue and queue[-1][0] > when:  # a clock that went back (tests): keep the order
            heapq.heappush(self._timers, timer)
        else:
            queue.append(timer)

    def _arm_at(self, txn: _Base, when: float, name: str) -> None:
        """Schedule a (non-sticky) timer at ``when``, a deadline kept from before."""
        if name in ("A", "E", "G", "G2xx"):
            txn.retransmit_at = when
        heapq.heappush(self._timers, (when, next(self._seq), txn, txn.generation, name))

    def _fire(self, txn: _Base, name: str, now: float) -> None:
        if name in ("A", "E", "G", "G2xx"):
            if txn.last_sent is not None:
                msg = txn.last_response if isinstance(txn, ServerTransaction) else txn.request
                self._emit_send(txn.last_sent, txn.peer, msg or txn.request)
            if name == "A":
                txn.interval *= 2
            elif name == "E" and txn.state is State.PROCEEDING:
                txn.interval = self.t2
            else:
                txn.interval = min(txn.interval * 2, self.t2)
            self._arm(txn, now, txn.interval, name)
        elif name in ("B", "F"):
            assert isinstance(txn, ClientTransaction)
            if txn.state in (State.CALLING, State.TRYING, State.PROCEEDING):
                if name == "B" and txn.state is State.PROCEEDING:
                    return  # timer B only guards the Calling state
                self._terminate(txn)
                self._out.append(TransactionTimeout(transaction=txn))
        elif name == "H":
            assert isinstance(txn, ServerTransaction)
            self._terminate(txn)
        elif name == "L":
            assert isinstance(txn, ServerTransaction)
            if txn.ack_key is not None and self._accepted.pop(txn.ack_key, None) is not None:
                self._out.append(AckTimeout(transaction=txn))
            self._terminate(txn)
        else:  # D, I, J, K, M: waiting over
            self._terminate(txn)

    def _terminate(self, txn: _Base) -> None:
        if txn.state is not State.TERMINATED:
            txn._move(State.TERMINATED)
        self._ended.append(txn)
        if isinstance(txn, ServerTransaction):
            self._server.pop(txn.key, None)
            if txn.merge_key is not None and self._merging.get(txn.merge_key) is txn:
                del self._merging[txn.merge_key]
        else:
            self._client.pop(txn.key, None)

    def _emit_send(self, data: bytes, peer: Peer, msg: Request | Response) -> None:
        self._out.append(Send(data=data, peer=peer, message=msg))
