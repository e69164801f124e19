"""SIP dialogs (RFC 3261 section 12): identity, route set, CSeq spaces and target refresh.

A dialog is created by a 101-299 response with a To tag (UAC side, :meth:`Dialog.for_uac`) or
by sending such a response to a dialog-creating request (UAS side, :meth:`Dialog.for_uas`).
Requests inside it come from :meth:`Dialog.new_request`; requests received inside it pass
:meth:`Dialog.check_request` (CSeq must grow, section 12.2.2). re-INVITE and UPDATE refresh the
remote target (RFC 3261 section 12.2, RFC 3311). Loose routing only (``;lr``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache

from tamas.sip.errors import OutOfOrderRequest as OutOfOrderRequest  # re-exported
from tamas.sip.headers import Headers
from tamas.sip.message import Request, Response
from tamas.sip.uri import NameAddr, Uri

TARGET_REFRESH = frozenset({"INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY", "REFER"})


class DialogState(Enum):
    EARLY = "early"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"

    # Hashed by identity (members are singletons, compared by identity): Enum's own __hash__
    # is a Python function, called for every table lookup of a state (dozens per call).
    __hash__ = object.__hash__


DIALOG_TRANSITIONS: dict[DialogState, frozenset[DialogState]] = {
    DialogState.EARLY: frozenset({DialogState.CONFIRMED, DialogState.TERMINATED}),
    DialogState.CONFIRMED: frozenset({DialogState.TERMINATED}),
    DialogState.TERMINATED: frozenset(),
}


@dataclass(eq=False, slots=True, kw_only=True)
class Dialog:
    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: NameAddr
    remote_uri: NameAddr
    remote_target: Uri
    local_contact: str
    route_set: list[str] = field(default_factory=list)
    local_seq: int = 1
    remote_seq: int | None = None
    state: DialogState = DialogState.EARLY

    # Written out: the dataclass-generated __init__ runs interpreted in the mypyc build, and
    # every call makes two dialogs.
    def __init__(
        self,
        *,
        call_id: str,
        local_tag: str,
        remote_tag: str,
        local_uri: NameAddr,
        remote_uri: NameAddr,
        remote_target: Uri,
        local_contact: str,
        route_set: list[str] | None = None,
        local_seq: int = 1,
        remote_seq: int | None = None,
        state: DialogState = DialogState.EARLY,
    ) -> None:
        self.call_id = call_id
        self.local_tag = local_tag
        self.remote_tag = remote_tag
        self.local_uri = local_uri
        self.remote_uri = remote_uri
        self.remote_target = remote_target
        self.local_contact = local_contact
        self.route_set = [] if route_set is None else route_set
        self.local_seq = local_seq
        self.remote_seq = remote_seq
        self.state = state

    @property
    def id(self) -> tuple[str, str, str]:
        return (self.call_id, self.local_tag, self.remote_tag)

    def move(self, new: DialogState) -> None:
        if new is self.state:
            return
        if new not in DIALOG_TRANSITIONS[self.state]:
            raise RuntimeError(f"dialog {self.state.value} -> {new.value} not allowed")
        self.state = new

    @classmethod
    def for_uac(cls, request: Request, response: Response, local_contact: str) -> Dialog:
        """The dialog a UAC gets from a 1xx (early) or 2xx (confirmed) with a To tag."""
        contacts = response.contacts
        to = response.to
        return cls(
            call_id=request.call_id,
            local_tag=request.from_.tag or "",
            remote_tag=to.tag or "",
            local_uri=request.from_,
            remote_uri=to,
            remote_target=contacts[0].uri if contacts else request.uri,
            local_contact=local_contact,
            route_set=list(reversed(response.headers.values("Record-Route"))),
            local_seq=request.cseq.seq,
            state=DialogState.CONFIRMED if response.status >= 200 else DialogState.EARLY,
        )

    @classmethod
    def for_uas(
        cls, request: Request, local_tag: str, local_contact: str, *, confirmed: bool = False
    ) -> Dialog:
        contacts = request.contacts
        return cls(
            call_id=request.call_id,
            local_tag=local_tag,
            remote_tag=request.from_.tag or "",
            local_uri=request.to.with_param("tag", local_tag),
            remote_uri=request.from_,
            remote_target=contacts[0].uri if contacts else request.uri,
            local_contact=local_contact,
            route_set=list(request.headers.values("Record-Route")),
            local_seq=0,
            remote_seq=request.cseq.seq,
            state=DialogState.CONFIRMED if confirmed else DialogState.EARLY,
        )

    def update_from_response(self, response: Response) -> None:
        """A later response in the dialog: confirm on 2xx; 2xx to a refresh updates target."""
        if self.state is DialogState.TERMINATED:
            return  # e.g. a retransmitted 2xx after BYE: nothing to update
        if 200 <= response.status < 300:
            contacts = response.contacts
            if contacts and response.cseq.method in TARGET_REFRESH:
                self.remote_target = contacts[0].uri
            if self.state is DialogState.EARLY:
                self.route_set = list(reversed(response.headers.values("Record-Route")))
            self.move(DialogState.CONFIRMED)

    def check_request(self, request: Request) -> None:
        """Validate and absorb a request received in this dialog (section 12.2.2)."""
        seq = request.cseq.seq
        if request.method not in ("ACK", "CANCEL"):
            if self.remote_seq is not None and seq <= self.remote_seq:
                raise OutOfOrderRequest()
            self.remote_seq = seq
        if request.method in TARGET_REFRESH:
            contacts = request.contacts
            if contacts:
                self.remote_target = contacts[0].uri

    def new_request(
        self,
        method: str,
        *,
        via: str,
        body: bytes = b"",
        headers: tuple[tuple[str, str], ...] = (),
        cseq: int | None = None,
    ) -> Request:
        """A request inside the dialog (ACK for 2xx: pass the INVITE's ``cseq``)."""
        if cseq is None:
            self.local_seq += 1
            cseq = self.local_seq
        h = Headers()
        h.add("Via", via)
        h.add("Max-Forwards", "70")
        h.add("From", _tagged(self.local_uri, self.local_tag))
        h.add("To", _tagged(self.remote_uri, self.remote_tag))
        h.add("Call-ID", self.call_id)
        h.add("CSeq", f"{cseq} {method}")
        for route in self.route_set:
            h.add("Route", route)
        if method in TARGET_REFRESH or method == "INVITE":
            h.add("Contact", self.local_contact)
        for k, v in headers:
            h.add(k, v)
        return Request(method=method, uri=self.remote_target, headers=h, body=body)


@lru_cache(maxsize=4096)  # a dialog sends the same From and To in every request
def _tagged(addr: NameAddr, tag: str) -> str:
    return str(addr.with_param("tag", tag) if tag else addr)
