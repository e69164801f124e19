"""Outbound registration to SIP trunks (RFC 3261 section 10.2), with digest auth and refresh.

Each trunk with ``register: true`` keeps one registration: REGISTER, answer a 401/407 once per
attempt with the trunk's credentials, and refresh before it expires (at 80 % of the granted
time). A failure or a timeout retries after a back-off (30 s, doubling to 5 minutes).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from tamas.config.model import Trunk
from tamas.core.ids import new_id
from tamas.runtime.endpoint import SipEndpoint
from tamas.runtime.routing import Router
from tamas.sip.auth import DigestClient
from tamas.sip.builders import new_tag
from tamas.sip.errors import ParseError
from tamas.sip.headers import Headers
from tamas.sip.message import Request, Response
from tamas.sip.uri import SipUri, Uri

log = logging.getLogger("tamas.trunks")

RETRY_MIN = 30.0
RETRY_MAX = 300.0


@dataclass(eq=False)
class TrunkRegistration:
    trunk: Trunk
    endpoint: SipEndpoint
    router: Router
    call_id: str = field(default_factory=lambda: new_id(12))
    tag: str = field(default_factory=new_tag)
    cseq: int = 0
    state: str = "unregistered"
    expires_at: float = 0.0
    retry: float = RETRY_MIN
    auth_tried: bool = False
    digest: DigestClient | None = None
    timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        t = self.trunk
        if t.auth_user and t.password:
            self.digest = DigestClient(t.auth_user, t.password)
        self.auth_tried = False
        self._send(expires=t.register_expires, authorization=None)

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.state == "registered":
            self._send(expires=0, authorization=None)

    def _send(self, *, expires: int, authorization: tuple[str, str] | None) -> None:
        t = self.trunk
        target = self.router.trunk_target(t, t.username or "tamas")
        if target is None:
            self._failed("host not resolved")
            return
        user = t.username or "tamas"
        domain = t.from_domain or target.peer.host
        self.cseq += 1
        h = Headers()
        h.add("Via", self.endpoint.via(target.peer.transport))
        h.add("Max-Forwards", "70")
        h.add("From", f"<sip:{user}@{domain}>;tag={self.tag}")
        h.add("To", f"<sip:{user}@{domain}>")
        h.add("Call-ID", self.call_id)
        h.add("CSeq", f"{self.cseq} REGISTER")
        h.add("Contact", f"<{self.endpoint.contact_uri(target.peer.transport, user)}>")
        h.add("Expires", str(expires))
        if authorization is not None:
            h.add(*authorization)
        uri = target.uri
        req = Request(method="REGISTER", uri=_registrar_uri(uri), headers=h)
        self._last = req
        txn = self.endpoint.request(req, target.peer)
        txn.user_data = self

    def on_response(self, resp: Response) -> None:
        if resp.status < 200:
            return
        if resp.status in (401, 407) and self.digest is not None and not self.auth_tried:
            header = "Proxy-Authenticate" if resp.status == 407 else "WWW-Authenticate"
            challenge = resp.headers.get(header)
            if challenge is not None:
                self.auth_tried = True
                try:
                    uri = str(self._last.uri)
                    value = self.digest.authorize(
                        challenge, method="REGISTER", uri=uri, cnonce=new_id(8)
                    )
                except ParseError as e:
                    self._failed(f"unusable challenge: {e.reason}")
                    return
                name = "Proxy-Authorization" if resp.status == 407 else "Authorization"
                self._send(expires=self.trunk.register_expires, authorization=(name, value))
                return
        if 200 <= resp.status < 300:
            granted = _granted(resp, self.trunk.register_expires)
            if granted == 0:
                self.state = "unregistered"
                return
            self.state = "registered"
            self.retry = RETRY_MIN
            log.info("trunk %s registered for %ds", self.trunk.name, granted)
            self._schedule(max(5.0, granted * 0.8))
            return
        self._failed(f"{resp.status} {resp.reason}")

    def on_timeout(self) -> None:
        self._failed("no response")

    def _failed(self, why: str) -> None:
        self.state = "failed"
        log.warning("trunk %s registration failed: %s; retry in %ds", self.trunk.name, why,
                    int(self.retry))  # fmt: skip
        self._schedule(self.retry)
        self.retry = min(RETRY_MAX, self.retry * 2)

    def _schedule(self, delay: float) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_later(delay, self.start)


def _registrar_uri(uri: Uri) -> Uri:
    if isinstance(uri, SipUri):
        return SipUri(scheme=uri.scheme, host=uri.host, port=uri.port, params=uri.params)
    return uri


def _granted(resp: Response, asked: int) -> int:
    try:
        for c in resp.contacts:
            v = c.param("expires")
            if v is not None and v.isdigit():
                return int(v)
        e = resp.expires()
    except ParseError:
        return asked
    return asked if e is None else e


class TrunkRegistrations:
    def __init__(self, endpoint: SipEndpoint, router: Router) -> None:
        self.items = [TrunkRegistration(t, endpoint, router) for t in router.config.trunks
                      if t.register]  # fmt: skip

    def start(self) -> None:
        for r in self.items:
            r.start()

    def stop(self) -> None:
        for r in self.items:
            r.stop()

    def status(self) -> dict[str, str]:
        return {r.trunk.name: r.state for r in self.items}
