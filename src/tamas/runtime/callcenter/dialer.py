"""Ringing an agent's device for a call Tamas has answered (a queue caller, a callback).

The caller's leg (``call.a``) is answered by Tamas and anchored. Ringing an agent adds legs
to the same call, like a blind transfer does (:mod:`tamas.runtime.transfer`): an engine leg
for the agent carrying the caller's codecs, and one INVITE per registered contact of the
agent's extension (forks), each with Tamas's offer. Responses to these INVITEs reach
:meth:`Dialer.on_response` through ``Leg.dial``.

* The first 2xx wins (what these forks' responses have in common with a transfer's is
  :func:`tamas.runtime.own_forks.fork_response`): it is ACKed, the other forks are
  cancelled, and ``on_answer`` is told.
  The center then bridges the caller's engine leg with the agent's and makes the winning
  fork the call's ``b`` leg: from then on the call is an ordinary answered call (BYE, hold,
  transfer, recording all work as for any call).
* A failure of every fork (or no contact at all) reports a cause the ACD understands:
  busy (486/600), rejected (603), unreachable (404/480/408/5xx/no contact), no-answer (the
  dial was stopped by its timer).
* :meth:`Dialer.stop` (the ACD's StopRinging, or the caller hanging up) cancels the forks
  and closes the agent's engine leg. A 2xx that crosses the CANCEL is ACKed and hung up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from tamas.runtime.own_forks import ForkResult, fork_response
from tamas.runtime.routing import ExtensionRoute, NoRoute
from tamas.sip.auth import DigestClient
from tamas.sip.message import Response

if TYPE_CHECKING:
    from tamas.runtime.anchor import LegMedia
    from tamas.runtime.b2bua import B2BUA, Call, Leg

log = logging.getLogger("tamas.calls")

__all__ = ["AgentDial", "Dialer", "FailCause"]

FailCause = Literal["busy", "unreachable", "rejected", "no-answer"]


def _cause(status: int) -> FailCause:
    if status in (486, 600):
        return "busy"
    if status == 603:
        return "rejected"
    return "unreachable"


@dataclass(eq=False, slots=True)
class AgentDial:
    """Ringing one agent's device for one call."""

    call: Call
    agent: str
    device: str
    on_answer: Callable[[AgentDial, Leg], None]
    on_fail: Callable[[AgentDial, FailCause], None]
    forks: list[Leg] = field(default_factory=list)
    media: LegMedia | None = None
    timer: asyncio.TimerHandle | None = None
    started: float = 0.0
    done: bool = False


class Dialer:
    """Every agent dial in progress, by call id."""

    def __init__(self, b2bua: B2BUA) -> None:
        self.b2bua = b2bua
        self.active: dict[str, list[AgentDial]] = {}
        b2bua.dialer = self

    def dial(
        self, call: Call, agent: str, device: str, timeout: float, *,
        caller: str, on_answer: Callable[[AgentDial, Leg], None],
        on_fail: Callable[[AgentDial, FailCause], None], anywhere: bool = False,
    ) -> AgentDial:  # fmt: skip
        """Ring ``device`` (an extension; with ``anywhere``, any number the dial plan
        reaches, trunks included) for ``call``; exactly one of the callbacks runs later,
        unless :meth:`stop` is called first. A device that cannot be rung fails on the next
        turn of the loop (never from inside this call, so the ACD's command loop is not
        re-entered). The offer carries the caller's codecs, or Tamas's own when the call has
        no caller leg yet (a callback rings the agent first)."""
        b = self.b2bua
        d = AgentDial(call, agent, device, on_answer, on_fail, started=time.time())
        self.active.setdefault(call.id, []).append(d)
        loop = asyncio.get_running_loop()
        now = time.time()
        route = b.router.dial(device, now) if anywhere else b.router.to_extension(device, now)
        a, anchor = call.a, b.media
        if isinstance(route, NoRoute) or anchor is None or (a is not None and a.media is None):
            status = route.status if isinstance(route, NoRoute) else 480
            loop.call_soon(self._fail, d, _cause(status))
            return d
        if not anchor.ready(1):
            loop.call_soon(self._fail, d, "unreachable")
            return d
        if isinstance(route, ExtensionRoute):
            targets, trunk = list(route.targets), None
        else:
            targets, trunk = [route.target], route.trunk
        d.media = anchor.open(call, "agent", targets[0].peer.host)
        follow = b""
        if a is not None and a.media is not None:
            follow = a.sdp or a.media.sent
        offer = anchor.offer(d.media, follow)
        for target in targets:
            fork = b.new_b_leg(call, caller, None, target, 70, trunk, offer, "application/sdp")
            fork.dial = d
            fork.extension = device if trunk is None else None
            if trunk is not None and trunk.auth_user and trunk.password:
                fork.digest = DigestClient(trunk.auth_user, trunk.password)
            fork.media = d.media if not d.forks else anchor.share(fork, d.media)
            d.forks.append(fork)
            b.send_invite(fork)
        d.timer = loop.call_later(timeout + 1.0, self._expire, d)
        log.info("call %s: ringing %s on %s", call.id, f"agent {agent}" if agent else "",
                 device)  # fmt: skip
        return d

    # -- responses -------------------------------------------------------------------------
    def on_response(self, fork: Leg, resp: Response, retransmission: bool) -> None:
        d = fork.dial
        assert d is not None
        b = self.b2bua
        result = fork_response(b, fork, resp, retransmission, over=d.done)
        if result is ForkResult.FAILED:
            self._fork_failed(d, fork, resp.status)
        if result is not ForkResult.ANSWERED:
            return
        for other in d.forks:
            if other is not fork:
                b.cancel(other)
                b.forget(other)
        d.forks = []
        fork.dial = None
        self._close(d, keep_media=True)
        anchor = b.media
        if anchor is not None and fork.media is not None:
            if not anchor.take_answer(fork.media, fork.sdp):
                log.warning("call %s: agent %s's answer has no usable audio", d.call.id, d.agent)
            anchor.adopt(d.call, fork.media)
        d.on_answer(d, fork)

    def on_timeout(self, fork: Leg) -> None:
        d = fork.dial
        if d is not None:
            self._fork_failed(d, fork, 408)

    def _fork_failed(self, d: AgentDial, fork: Leg, status: int) -> None:
        if fork in d.forks:
            d.forks.remove(fork)
        fork.dial = None
        self.b2bua.forget(fork)
        if not d.forks and not d.done:
            self._fail(d, _cause(status))

    def _expire(self, d: AgentDial) -> None:
        d.timer = None
        if not d.done:
            self._fail(d, "no-answer")

    def _fail(self, d: AgentDial, cause: FailCause) -> None:
        if d.done:
            return
        self.stop(d)
        log.info("call %s: agent %s on %s did not answer (%s)", d.call.id, d.agent, d.device,
                 cause)  # fmt: skip
        d.on_fail(d, cause)

    # -- stopping --------------------------------------------------------------------------
    def stop(self, d: AgentDial) -> None:
        """Stop ringing: cancel the forks and close the agent's engine leg."""
        if d.done:
            return
        for fork in d.forks:
            self.b2bua.cancel(fork)  # its late responses still come here (fork.dial), done
        self._close(d, keep_media=False)

    def stop_call(self, call_id: str) -> None:
        """The call ended: every dial of it stops (no callback runs)."""
        for d in list(self.active.get(call_id, ())):
            self.stop(d)
        self.active.pop(call_id, None)

    def dials(self, call_id: str) -> list[AgentDial]:
        return list(self.active.get(call_id, ()))

    def _close(self, d: AgentDial, *, keep_media: bool) -> None:
        d.done = True
        if d.timer is not None:
            d.timer.cancel()
            d.timer = None
        dials = self.active.get(d.call.id)
        if dials is not None and d in dials:
            dials.remove(d)
            if not dials:
                del self.active[d.call.id]
        anchor = self.b2bua.media
        if not keep_media and d.media is not None and anchor is not None:
            if d.call.media is not None:
                anchor.close(d.call, d.media.engine)
            d.media = None
