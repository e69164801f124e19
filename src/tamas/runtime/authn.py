"""Digest authentication of requests from extensions, with ban accounting.

Unknown users and wrong passwords get exactly the same answer (a fresh 401 challenge), so a
scanner cannot tell which extensions exist; every failure counts towards a ban of the source.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace

from tamas.runtime.endpoint import SipEndpoint
from tamas.runtime.protection import Protection
from tamas.sip.auth import AuthResult, AuthStatus, DigestServer, parse_credentials
from tamas.sip.errors import ParseError
from tamas.sip.message import Request
from tamas.sip.peer import Peer
from tamas.sip.transaction import ServerTransaction
from tamas.sip.uri import SipUri, Uri, parse_uri


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
            result = self._verify(value, req, now)
            if result.status is AuthStatus.OK and result.username is not None:
                self.protection.auth_succeeded(peer.host)
                return result.username
            # Credentials we cannot read (another scheme, RFC 4475 regaut01) are no credentials:
            # the answer is the same challenge as for none, and it is no failed attempt.
            stale = result.status is AuthStatus.STALE
            failed = result.status is AuthStatus.FAILED
            if failed and self.protection.auth_failed(peer.host, now):
                self.endpoint.drop(txn)  # banned: say nothing more to this source
                return None
        values = self.digest.challenge(now=now, stale=stale)

        challenges = tuple(("WWW-Authenticate", c) for c in values)
        self.endpoint.reply(txn, req, 401, headers=challenges)
        return None

    def _verify(self, value: str, req: Request, now: float) -> AuthResult:
        try:
            credentials = parse_credentials(value)
        except ParseError:
            return AuthResult(status=AuthStatus.MALFORMED, username=None)
        if not _same_uri(credentials.uri, req.uri):
            # Credentials computed for another Request-URI: replayed or redirected (e.g. a
            # captured INVITE's answer reused to call a premium number). RFC 3261 22.4.
            return AuthResult(status=AuthStatus.FAILED, username=credentials.username)
        return self.digest.verify_credentials(
            credentials, method=req.method, password_for=self.password_for, now=now
        )


def _same_uri(text: str, uri: Uri) -> bool:
    """The digest-uri names the Request-URI: same scheme, host and port, and the same user if
    it names one. (Phones send the whole Request-URI; SIPp sends only ``sip:host:port``.)"""
    if text == str(uri):
        return True
    try:
        parsed = parse_uri(text)
    except ParseError:
        return False
    if isinstance(parsed, SipUri) and isinstance(uri, SipUri):
        if parsed.user is None:
            return parsed.same_address(replace(uri, user=None))
        return parsed.same_address(uri)
    return str(parsed) == str(uri)
