"""Digest authentication of requests from extensions, with ban accounting.

Unknown users and wrong passwords get exactly the same answer (a fresh 401 challenge), so a
scanner cannot tell which extensions exist; every failure counts towards a ban of the source.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from tamas.runtime.endpoint import SipEndpoint
from tamas.runtime.protection import Protection
from tamas.sip.auth import AuthStatus, DigestServer
from tamas.sip.builders import new_tag, response_to
from tamas.sip.message import Request
from tamas.sip.peer import Peer
from tamas.sip.transaction import ServerTransaction


class Authenticator:
    def __init__(
        self,
        endpoint: SipEndpoint,
        protection: Protection,
        *,
        realm: str,
        nonce_ttl: float,
        algorithms: tuple[str, ...] = ("MD5",),
        password_for: Callable[[str], str | None],
    ) -> None:
        self.endpoint = endpoint
        self.protection = protection
        self.realm = realm
        self.password_for = password_for
        self.digest = DigestServer(
            realm, secrets.token_bytes(32), nonce_ttl=nonce_ttl, algorithms=algorithms
        )

    def check(self, req: Request, txn: ServerTransaction, peer: Peer) -> str | None:
        """The authenticated username, or None after answering the request itself."""
        now = self.endpoint.now()
        value = req.headers.get("Authorization") or req.headers.get("Proxy-Authorization")
        stale = False
        if value is not None:
            result = self.digest.verify(
                value, method=req.method, password_for=self.password_for, now=now
            )
            if result.status is AuthStatus.OK and result.username is not None:
                self.protection.auth_succeeded(peer.host)
                return result.username
            # Credentials we cannot read (another scheme, RFC 4475 regaut01) are no credentials:
            # the answer is the same challenge as for none, and it is no failed attempt.
            stale = result.status is AuthStatus.STALE
            failed = result.status is AuthStatus.FAILED
            if failed and self.protection.auth_failed(peer.host, now):
                return None  # banned: say nothing more to this source
        values = self.digest.challenge(now=now, stale=stale)
        challenges = tuple(("WWW-Authenticate", c) for c in values)
        self.endpoint.respond(txn, response_to(req, 401, to_tag=new_tag(), headers=challenges))
        return None
