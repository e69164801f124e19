"""SIP digest authentication (RFC 3261 section 22, RFC 2617, RFC 7616, RFC 8760).

Theory of operation
-------------------
A UAS (or proxy) that wants credentials answers 401 with ``WWW-Authenticate`` (407 with
``Proxy-Authenticate``) header values from :meth:`DigestServer.challenge`: one per algorithm,
the most preferred first (RFC 8760 section 2.4), all sharing one nonce, with ``qop="auth"``.
The UAC picks the first challenge it supports (:func:`select_challenge`) and retries with the
``Authorization`` / ``Proxy-Authorization`` value from :meth:`DigestClient.authorize`.

Nonces are stateless: ``base64url(timestamp || HMAC-SHA256(secret, timestamp || realm)[:16])``.
The server recognises its own nonces without storage and ages them with the ``now`` it is given
(a wall clock if nonces must survive a restart). An expired nonce carrying an otherwise correct
response yields :attr:`AuthStatus.STALE`, so the caller re-challenges with ``stale=True`` and the
UAC retries without asking its user for the password again (RFC 2617 section 3.2.1).

Replay: with ``qop=auth`` every request carries a nonce-count ``nc`` that the UAC increments for
each request under one nonce. For each (nonce, cnonce) the server keeps the highest count seen
and a 64-wide window below it, so requests reordered in flight still pass while a repeated count
fails. Only successfully verified requests are recorded, and the table is bounded (oldest evicted).
Responses without qop (RFC 2069) have no count; a second use of such a nonce is answered STALE.

Unknown users and wrong passwords are indistinguishable: an unknown user's response is checked
against a dummy password derived from the secret (the same hashing work) and both give FAILED
with the claimed username.

The server does not check ``uri`` against the Request-URI: the caller does, with
:attr:`Credentials.uri`, because only it knows the request (RFC 3261 section 22.4 leaves
the comparison rules to it).
"""

import base64
import binascii
import enum
import hashlib
import hmac
import string
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tamas.sip.authparams import format_param, parse_auth_header
from tamas.sip.errors import ParseError

__all__ = [
    "SUPPORTED_ALGORITHMS",
    "AuthResult",
    "AuthStatus",
    "Challenge",
    "Credentials",
    "DigestClient",
    "DigestServer",
    "digest_response",
    "parse_challenge",
    "parse_credentials",
    "select_challenge",
]


@dataclass(frozen=True, slots=True)
class _Algorithm:
    name: str
    hash_name: str
    sess: bool


# RFC 7616 section 6.1 names; matched case-insensitively.
_ALGORITHMS = {
    a.name.lower(): a
    for a in (
        _Algorithm("MD5", "md5", False),
        _Algorithm("MD5-sess", "md5", True),
        _Algorithm("SHA-256", "sha256", False),
        _Algorithm("SHA-256-sess", "sha256", True),
    )
}
SUPPORTED_ALGORITHMS: tuple[str, ...] = tuple(a.name for a in _ALGORITHMS.values())


def _canonical_algorithm(name: str) -> str:
    algorithm = _ALGORITHMS.get(name.lower())
    return algorithm.name if algorithm else name


# --- Header values ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Challenge:
    """A ``Digest`` challenge: a ``WWW-Authenticate`` or ``Proxy-Authenticate`` value."""

    realm: str
    nonce: str
    opaque: str | None = None
    algorithm: str | None = None
    """Canonical spelling for known algorithms; absent means MD5."""
    qop: tuple[str, ...] = ()
    """qop-options offered, e.g. ``("auth",)``; empty for an RFC 2069 challenge."""
    stale: bool = False
    domain: str | None = None
    extra: tuple[tuple[str, str], ...] = ()
    """Parameters this module does not interpret, ``(lower-cased name, value)``."""

    def __str__(self) -> str:
        parts = [format_param("realm", self.realm, quoted=True)]
        if self.domain is not None:
            parts.append(format_param("domain", self.domain, quoted=True))
        parts.append(format_param("nonce", self.nonce, quoted=True))
        if self.opaque is not None:
            parts.append(format_param("opaque", self.opaque, quoted=True))
        if self.stale:
            parts.append("stale=TRUE")
        if self.algorithm is not None:
            parts.append(format_param("algorithm", self.algorithm, quoted=False))
        if self.qop:
            parts.append(format_param("qop", ",".join(self.qop), quoted=True))
        parts.extend(format_param(n, v, quoted=False) for n, v in self.extra)
        return "Digest " + ", ".join(parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """``Digest`` credentials: an ``Authorization`` or ``Proxy-Authorization`` value."""

    username: str
    realm: str
    nonce: str
    uri: str
    """The digest-uri; the caller must check it against the Request-URI."""
    response: str
    algorithm: str | None = None
    cnonce: str | None = None
    opaque: str | None = None
    qop: str | None = None
    nc: str | None = None
    """Nonce-count, eight hex digits, present with qop."""
    extra: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        parts = [
            format_param("username", self.username, quoted=True),
            format_param("realm", self.realm, quoted=True),
            format_param("nonce", self.nonce, quoted=True),
            format_param("uri", self.uri, quoted=True),
            format_param("response", self.response, quoted=True),
        ]
        if self.algorithm is not None:
            parts.append(format_param("algorithm", self.algorithm, quoted=False))
        if self.cnonce is not None:
            parts.append(format_param("cnonce", self.cnonce, quoted=True))
        if self.opaque is not None:
            parts.append(format_param("opaque", self.opaque, quoted=True))
        if self.qop is not None:
            parts.append(format_param("qop", self.qop, quoted=False))
        if self.nc is not None:
            parts.append(format_param("nc", self.nc, quoted=False))
        parts.extend(format_param(n, v, quoted=False) for n, v in self.extra)
        return "Digest " + ", ".join(parts)


def _digest_params(value: str) -> dict[str, str]:
    header = parse_auth_header(value)
    if header.scheme.lower() != "digest":
        raise ParseError(f"unsupported auth scheme {header.scheme!r}")
    return dict(header.params)


def _required(params: dict[str, str], name: str) -> str:
    try:
        return params.pop(name)
    except KeyError:
        raise ParseError(f"digest parameter {name!r} is missing") from None


def parse_challenge(value: str) -> Challenge:
    """Parse a ``WWW-Authenticate`` / ``Proxy-Authenticate`` value. Raises ParseError."""
    params = _digest_params(value)
    realm = _required(params, "realm")
    nonce = _required(params, "nonce")
    algorithm = params.pop("algorithm", None)
    qop = params.pop("qop", None)
    stale = params.pop("stale", "false")
    return Challenge(
        realm=realm,
        nonce=nonce,
        opaque=params.pop("opaque", None),
        algorithm=None if algorithm is None else _canonical_algorithm(algorithm),
        qop=() if qop is None else tuple(q.strip() for q in qop.split(",") if q.strip()),
        # RFC 7616 section 3.3: any value other than "true" means false.
        stale=stale.lower() == "true",
        domain=params.pop("domain", None),
        extra=tuple(params.items()),
    )


def parse_credentials(value: str) -> Credentials:
    """Parse an ``Authorization`` / ``Proxy-Authorization`` value. Raises ParseError."""
    params = _digest_params(value)
    username = _required(params, "username")
    realm = _required(params, "realm")
    nonce = _required(params, "nonce")
    uri = _required(params, "uri")
    response = _required(params, "response")
    algorithm = params.pop("algorithm", None)
    qop = params.pop("qop", None)
    nc = params.pop("nc", None)
    cnonce = params.pop("cnonce", None)
    if nc is not None and _parse_count(nc) is None:
        raise ParseError("nc must be eight hex digits")
    if qop is not None and (nc is None or cnonce is None):
        # RFC 2617 section 3.2.2: cnonce and nc MUST be sent with qop.
        raise ParseError("qop requires nc and cnonce")
    return Credentials(
        username=username,
        realm=realm,
        nonce=nonce,
        uri=uri,
        response=response,
        algorithm=None if algorithm is None else _canonical_algorithm(algorithm),
        cnonce=cnonce,
        opaque=params.pop("opaque", None),
        qop=qop,
        nc=nc,
        extra=tuple(params.items()),
    )


# --- The digest itself --------------------------------------------------------------------------


def digest_response(
    *,
    algorithm: str | None,
    username: str,
    password: str,
    realm: str,
    method: str,
    uri: str,
    nonce: str,
    qop: str | None = None,
    nc: str | None = None,
    cnonce: str | None = None,
    body: bytes = b"",
) -> str:
    """The ``response`` value, lower-case hex (RFC 7616 section 3.4.1, RFC 2617 section 3.2.2.1).

    ``algorithm`` None means MD5. Raises ValueError for an unsupported algorithm or qop, or when
    qop or a ``-sess`` algorithm lacks the cnonce (and nc) it needs.
    """
    spec = _ALGORITHMS.get((algorithm or "MD5").lower())
    if spec is None:
        raise ValueError(f"unsupported digest algorithm {algorithm!r}")

    def h(data: str | bytes) -> str:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        return hashlib.new(spec.hash_name, raw).hexdigest()

    ha1 = h(f"{username}:{realm}:{password}")
    if spec.sess:
        if cnonce is None:
            raise ValueError(f"{spec.name} needs a cnonce")
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    if qop is None or qop.lower() == "auth":
        ha2 = h(f"{method}:{uri}")
    elif qop.lower() == "auth-int":
        ha2 = h(f"{method}:{uri}:{h(body)}")
    else:
        raise ValueError(f"unsupported qop {qop!r}")
    if qop is None:
        return h(f"{ha1}:{nonce}:{ha2}")
    if nc is None or cnonce is None:
        raise ValueError("qop needs nc and cnonce")
    return h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def _parse_count(nc: str | None) -> int | None:
    """The value of an 8-hex-digit nonce-count (RFC 2617 section 3.2.2), or None."""
    if nc is None or len(nc) != 8 or not all(c in string.hexdigits for c in nc):
        return None
    return int(nc, 16)


# --- Server -------------------------------------------------------------------------------------


class AuthStatus(enum.Enum):
    OK = "ok"
    STALE = "stale"
    """Correct response under an expired (or reused RFC 2069) nonce: re-challenge with stale."""
    FAILED = "failed"
    """Wrong password, unknown user, foreign nonce, realm mismatch or replay: re-challenge."""
    MALFORMED = "malformed"
    """The header value is not valid digest credentials: answer 400."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthResult:
    status: AuthStatus
    username: str | None
    """The username claimed in the credentials (not proof of identity unless status is OK)."""


_NONCE_MAC_BYTES = 16
_NONCE_STAMP_BYTES = 16  # issue time (double) and serial number (unsigned 64-bit)
_NC_WINDOW = 64


class DigestServer:
    """Issues digest challenges and verifies credentials for one realm. Does no IO."""

    def __init__(
        self,
        realm: str,
        secret: bytes,
        *,
        nonce_ttl: float = 300.0,
        algorithms: tuple[str, ...] = ("SHA-256", "MD5"),
        max_tracked: int = 10_000,
    ) -> None:
        if not secret:
            raise ValueError("secret must not be empty")
        if not algorithms:
            raise ValueError("at least one algorithm is required")
        unknown = [a for a in algorithms if a.lower() not in _ALGORITHMS]
        if unknown:
            raise ValueError(f"unsupported digest algorithms: {unknown}")
        self.realm = realm
        self.nonce_ttl = nonce_ttl
        self.algorithms = tuple(dict.fromkeys(_canonical_algorithm(a) for a in algorithms))
        self._secret = secret
        self._max_tracked = max_tracked
        self._opaque = self._b64(self._mac(b"opaque"))
        self._dummy_password = self._mac(b"dummy-password").hex()
        # (nonce, cnonce or None) -> (nonce timestamp, highest nc, bitmap of seen nc below it)
        self._seen: dict[tuple[str, str | None], tuple[float, int, int]] = {}
        self._serial = 0

    def challenges(self, *, now: float, stale: bool = False) -> list[Challenge]:
        """One challenge per configured algorithm, most preferred first, sharing one nonce."""
        # the issue time and a serial number: two challenges at the same instant (one loop
        # turn) still get different nonces, so two clients that pick the same cnonce (SIPp
        # processes do: an unseeded rand()) cannot look like a replay of each other
        self._serial += 1
        stamp = struct.pack(">dQ", now, self._serial)
        nonce = self._b64(stamp + self._mac(b"nonce", stamp))
        return [
            Challenge(
                realm=self.realm,
                nonce=nonce,
                opaque=self._opaque,
                algorithm=algorithm,
                qop=("auth",),
                stale=stale,
            )
            for algorithm in self.algorithms
        ]

    def challenge(self, *, now: float, stale: bool = False) -> list[str]:
        """``WWW-Authenticate`` (401) or ``Proxy-Authenticate`` (407) header values."""
        return [str(c) for c in self.challenges(now=now, stale=stale)]

    def verify(
        self,
        credentials_value: str,
        *,
        method: str,
        password_for: Callable[[str], str | None],
        now: float,
    ) -> AuthResult:
        """Check an ``Authorization`` / ``Proxy-Authorization`` value for a request."""
        try:
            credentials = parse_credentials(credentials_value)
        except ParseError:
            return AuthResult(status=AuthStatus.MALFORMED, username=None)
        return self.verify_credentials(
            credentials, method=method, password_for=password_for, now=now
        )

    def verify_credentials(
        self,
        credentials: Credentials,
        *,
        method: str,
        password_for: Callable[[str], str | None],
        now: float,
    ) -> AuthResult:
        """Like :meth:`verify` for credentials the caller already parsed (to check ``uri``)."""
        username = credentials.username

        def result(status: AuthStatus) -> AuthResult:
            return AuthResult(status=status, username=username)

        spec = _ALGORITHMS.get((credentials.algorithm or "MD5").lower())
        if spec is None or spec.name not in self.algorithms:
            return result(AuthStatus.FAILED)
        qop, nc, cnonce = credentials.qop, credentials.nc, credentials.cnonce
        count = _parse_count(nc)
        if (spec.sess and cnonce is None) or (
            qop is not None and (count is None or cnonce is None)
        ):
            return result(AuthStatus.MALFORMED)
        if qop is not None and qop.lower() != "auth":
            return result(AuthStatus.FAILED)
        if credentials.realm != self.realm:
            return result(AuthStatus.FAILED)
        if credentials.opaque is not None and credentials.opaque != self._opaque:
            return result(AuthStatus.FAILED)
        issued = self._nonce_time(credentials.nonce)
        if issued is None:
            return result(AuthStatus.FAILED)

        password = password_for(username)
        expected = digest_response(
            algorithm=spec.name,
            username=username,
            password=self._dummy_password if password is None else password,
            realm=credentials.realm,
            method=method,
            uri=credentials.uri,
            nonce=credentials.nonce,
            qop=qop,
            nc=nc,
            cnonce=cnonce,
        )
        matches = hmac.compare_digest(
            expected.encode("ascii"), credentials.response.lower().encode("utf-8")
        )
        if not matches or password is None:
            return result(AuthStatus.FAILED)
        if now - issued > self.nonce_ttl:
            return result(AuthStatus.STALE)
        if qop is None:
            return result(
                AuthStatus.OK
                if self._first_use(credentials.nonce, issued, now)
                else AuthStatus.STALE
            )
        assert count is not None  # checked with qop above
        fresh = self._record_count(credentials.nonce, cnonce, count, issued, now)
        return result(AuthStatus.OK if fresh else AuthStatus.FAILED)

    # RFC 7616 section 5.4 / RFC 2617 section 4.5: nonce-count replay protection.

    def _record_count(
        self, nonce: str, cnonce: str | None, nc: int, issued: float, now: float
    ) -> bool:
        key = (nonce, cnonce)
        entry = self._seen.get(key)
        if entry is None:
            self._remember(key, (issued, nc, 1), now)
            return True
        _, highest, seen = entry
        if nc > highest:
            shift = nc - highest
            seen = ((seen << shift) | 1) if shift < _NC_WINDOW else 1
            seen &= (1 << _NC_WINDOW) - 1
            highest = nc
        else:
            offset = highest - nc
            if offset >= _NC_WINDOW or (seen >> offset) & 1:
                return False
            seen |= 1 << offset
        self._seen[key] = (issued, highest, seen)
        return True

    def _first_use(self, nonce: str, issued: float, now: float) -> bool:
        key = (nonce, None)
        if key in self._seen:
            return False
        self._remember(key, (issued, 0, 1), now)
        return True

    def _remember(
        self, key: tuple[str, str | None], entry: tuple[float, int, int], now: float
    ) -> None:
        # Insertion order is roughly issue order: drop expired entries from the front, then
        # the oldest live ones if the table is still full.
        while self._seen:
            oldest = next(iter(self._seen))
            if (
                now - self._seen[oldest][0] <= self.nonce_ttl
                and len(self._seen) < self._max_tracked
            ):
                break
            del self._seen[oldest]
        self._seen[key] = entry

    # Stateless nonces.

    def _mac(self, purpose: bytes, data: bytes = b"") -> bytes:
        message = purpose + b"\0" + data + b"\0" + self.realm.encode("utf-8")
        return hmac.new(self._secret, message, hashlib.sha256).digest()[:_NONCE_MAC_BYTES]

    @staticmethod
    def _b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def _nonce_time(self, nonce: str) -> float | None:
        """The issue time of a nonce this server made, or None for anything else."""
        if not nonce.isascii():
            return None
        try:
            raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
        except (binascii.Error, ValueError):
            return None
        if len(raw) != _NONCE_STAMP_BYTES + _NONCE_MAC_BYTES or self._b64(raw) != nonce:
            return None
        stamp, mac = raw[:_NONCE_STAMP_BYTES], raw[_NONCE_STAMP_BYTES:]
        if not hmac.compare_digest(mac, self._mac(b"nonce", stamp)):
            return None
        issued: float = struct.unpack(">dQ", stamp)[0]
        return issued


# --- Client -------------------------------------------------------------------------------------


def select_challenge(values: Iterable[str]) -> Challenge:
    """The first challenge a :class:`DigestClient` can answer, in the server's order.

    Unparsable or unsupported values are skipped; raises ParseError when none is usable.
    """
    for value in values:
        try:
            challenge = parse_challenge(value)
        except ParseError:
            continue
        if DigestClient.supports(challenge):
            return challenge
    raise ParseError("no usable digest challenge")


class DigestClient:
    """Answers digest challenges for one user. The caller supplies fresh cnonces."""

    def __init__(self, username: str, password: str, *, max_nonces: int = 32) -> None:
        self.username = username
        self._password = password
        self._max_nonces = max_nonces
        self._counts: dict[str, int] = {}

    @staticmethod
    def supports(challenge: Challenge) -> bool:
        algorithm_ok = (challenge.algorithm or "MD5").lower() in _ALGORITHMS
        qop_ok = not challenge.qop or bool(
            {"auth", "auth-int"} & {q.lower() for q in challenge.qop}
        )
        return algorithm_ok and qop_ok

    def credentials(
        self,
        challenge: str | Challenge,
        *,
        method: str,
        uri: str,
        cnonce: str,
        body: bytes = b"",
    ) -> Credentials:
        """Credentials answering ``challenge`` for a request. Raises ParseError if unusable."""
        if isinstance(challenge, str):
            challenge = parse_challenge(challenge)
        if not self.supports(challenge):
            raise ParseError("unsupported digest challenge (algorithm or qop)")
        offered = {q.lower() for q in challenge.qop}
        qop = None if not offered else "auth" if "auth" in offered else "auth-int"
        nc = None
        if qop is not None:
            nc = f"{self._next_count(challenge.nonce):08x}"
        sess = (challenge.algorithm or "").lower().endswith("-sess")
        send_cnonce = cnonce if qop is not None or sess else None
        response = digest_response(
            algorithm=challenge.algorithm,
            username=self.username,
            password=self._password,
            realm=challenge.realm,
            method=method,
            uri=uri,
            nonce=challenge.nonce,
            qop=qop,
            nc=nc,
            cnonce=send_cnonce,
            body=body,
        )
        return Credentials(
            username=self.username,
            realm=challenge.realm,
            nonce=challenge.nonce,
            uri=uri,
            response=response,
            algorithm=challenge.algorithm,
            cnonce=send_cnonce,
            opaque=challenge.opaque,
            qop=qop,
            nc=nc,
        )

    def authorize(
        self,
        challenge: str | Challenge,
        *,
        method: str,
        uri: str,
        cnonce: str,
        body: bytes = b"",
    ) -> str:
        """The ``Authorization`` / ``Proxy-Authorization`` value answering ``challenge``."""
        return str(self.credentials(challenge, method=method, uri=uri, cnonce=cnonce, body=body))

    def _next_count(self, nonce: str) -> int:
        count = self._counts.pop(nonce, 0) + 1
        while len(self._counts) >= self._max_nonces:
            del self._counts[next(iter(self._counts))]
        self._counts[nonce] = count
        return count
