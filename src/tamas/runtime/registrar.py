"""Registrar and location service (RFC 3261 section 10).

Bindings live in memory for lookups and in the store so that they survive a restart. Each
binding remembers the flow its REGISTER came from (transport, source address and connection):
requests to the contact go back through that flow, which is what phones behind NAT need and
means Tamas never sends to an address merely written in a message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from tamas.runtime.authn import Authenticator
from tamas.runtime.endpoint import SipEndpoint
from tamas.runtime.storewriter import Job, StoreWriter
from tamas.sip.errors import ParseError
from tamas.sip.message import Request
from tamas.sip.peer import Peer
from tamas.sip.transaction import ServerTransaction
from tamas.sip.uri import SipUri
from tamas.store.records import Binding

log = logging.getLogger("tamas.registrar")

DEFAULT_EXPIRES = 3600
MIN_EXPIRES = 60
MAX_EXPIRES = 7200


class Location:
    """In-memory bindings by address-of-record (the extension number)."""

    def __init__(self) -> None:
        self._by_aor: dict[str, dict[str, Binding]] = {}

    def load(self, bindings: list[Binding]) -> None:
        for b in bindings:
            self._by_aor.setdefault(b.aor, {})[b.contact_uri] = b

    def lookup(self, aor: str, now: float) -> list[Binding]:
        bindings = self._by_aor.get(aor)
        if not bindings:
            return []
        expired = [uri for uri, b in bindings.items() if b.expires_at <= now]
        for uri in expired:  # pruned on the way, so a phone that changes Contact leaks nothing
            del bindings[uri]
        return sorted(bindings.values(), key=lambda b: -(b.q or 0.0))

    def put(self, b: Binding) -> None:
        self._by_aor.setdefault(b.aor, {})[b.contact_uri] = b

    def remove(self, aor: str, contact: str | None = None) -> None:
        if contact is None:
            self._by_aor.pop(aor, None)
        else:
            self._by_aor.get(aor, {}).pop(contact, None)

    def all(self) -> dict[str, list[Binding]]:
        return {aor: list(bs.values()) for aor, bs in self._by_aor.items()}


def binding_peer(b: Binding) -> Peer:
    return Peer(b.flow_transport, b.flow_host, b.flow_port)


class Registrar:
    def __init__(
        self,
        endpoint: SipEndpoint,
        auth: Authenticator,
        location: Location,
        writer: StoreWriter,
        *,
        max_contacts: Callable[[str], int | None],
    ) -> None:
        self.endpoint = endpoint
        self.auth = auth
        self.location = location
        self.writer = writer
        self.max_contacts = max_contacts
        #: Run with (extension, has a live contact) after every accepted REGISTER.
        self.changed_hooks: list[Callable[[str, bool], None]] = []

    def handle(self, req: Request, txn: ServerTransaction, peer: Peer) -> None:
        user = self.auth.check(req, txn, peer)
        if user is None:
            return
        to_uri = req.to.uri
        aor = to_uri.user if isinstance(to_uri, SipUri) else None
        limit = self.max_contacts(user)
        if aor != user or limit is None:
            self.endpoint.reply(txn, req, 403, "Forbidden")
            return
        now = time.time()
        try:
            default = req.expires()
            contacts = req.contacts
        except ParseError as e:
            self.endpoint.reply(txn, req, 400, e.reason)
            return
        if default is None:
            default = DEFAULT_EXPIRES
        if any(c.wildcard for c in contacts):
            if len(contacts) != 1 or default != 0:
                self.endpoint.reply(txn, req, 400, "Invalid wildcard Contact")
                return
            self.location.remove(aor)
            self.writer.submit(lambda s: s.registrations.delete_aor(aor))
            log.info("unregistered all contacts of %s from %s", aor, peer)
            self._ok(txn, req, aor, now)
            return
        current = {b.contact_uri: b for b in self.location.lookup(aor, now)}
        changes: list[Binding | str] = []
        for c in contacts:
            raw = c.param("expires")
            if raw is not None and not (raw.isascii() and raw.isdigit() and len(raw) <= 10):
                self.endpoint.reply(txn, req, 400, "Bad expires parameter")
                return
            expires = default if raw is None else int(raw)
            expires = min(expires, MAX_EXPIRES)
            uri = str(c.uri)
            if 0 < expires < MIN_EXPIRES:
                self.endpoint.reply(txn, req, 423, headers=(("Min-Expires", str(MIN_EXPIRES)),))
                return
            old = current.get(uri)
            if old is not None and old.call_id == req.call_id and old.cseq >= req.cseq.seq:
                continue  # an old, reordered REGISTER (section 10.3 step 7)
            if expires == 0:
                changes.append(uri)
                current.pop(uri, None)
                continue
            q = c.param("q")
            b = Binding(
                aor=aor, contact_uri=uri, flow_transport=peer.transport, flow_host=peer.host,
                flow_port=peer.port, expires_at=now + expires, call_id=req.call_id,
                cseq=req.cseq.seq, user_agent=req.headers.get("User-Agent") or "",
                instance_id=c.param("+sip.instance"), q=_float(q), updated_at=now,
            )  # fmt: skip
            changes.append(b)
            current[uri] = b
        if len(current) > limit:
            self.endpoint.reply(txn, req, 403, "Too Many Contacts")
            return
        for ch in changes:
            if isinstance(ch, str):
                self.location.remove(aor, ch)
                self.writer.submit(_delete(aor, ch))
            else:
                self.location.put(ch)
                self.writer.submit(_upsert(ch))
        if changes:
            log.info("registration %s from %s: %d contact(s)", aor, peer, len(current))
        self._ok(txn, req, aor, now)

    def _ok(self, txn: ServerTransaction, req: Request, aor: str, now: float) -> None:
        headers = tuple(
            ("Contact", f"<{b.contact_uri}>;expires={max(0, int(b.expires_at - now))}")
            for b in self.location.lookup(aor, now)
        )
        self.endpoint.reply(txn, req, 200, headers=headers)
        for hook in self.changed_hooks:
            hook(aor, bool(headers))


def _float(v: str | None) -> float | None:
    try:
        return None if v is None else float(v)
    except ValueError:
        return None


def _delete(aor: str, contact: str) -> Job:
    return lambda s: s.registrations.delete_binding(aor, contact)


def _upsert(b: Binding) -> Job:
    return lambda s: s.registrations.upsert_binding(b)
