"""Dead-dialog detection: OPTIONS inside the dialogs of a confirmed call.

A party that vanishes without a BYE (a softphone that crashed, a phone unplugged, a NAT
binding lost) would otherwise leave its call, both legs and the unwritten call record in
memory for ever: nothing else ends a confirmed dialog here (session timers, RFC 4028, are
relayed between the parties, not kept by Tamas; a media timeout needs anchored media).

Every ``interval`` seconds of a confirmed call Tamas sends OPTIONS in each leg's dialog (RFC
3261 section 11 allows it there). RFC 5057 section 5.1: a 481, a 408, or no response at all
(timer F) means that the dialog is gone; the call is then hung up, with a BYE to the other
party only. Any other answer (200, 405, 501...) shows that the party still has the dialog.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tamas.sip.message import Response

if TYPE_CHECKING:
    from tamas.runtime.b2bua import B2BUA, Call, Leg

log = logging.getLogger("tamas.calls")

#: Seconds between probes of a confirmed call (long calls only ever see a few of them).
DEFAULT_INTERVAL = 300.0
_GONE = frozenset({408, 481})


@dataclass(eq=False, slots=True)
class Probe:
    """An OPTIONS Tamas sent in ``leg``'s dialog to see whether the party is still there."""

    leg: Leg


class Keepalive:
    def __init__(self, b2bua: B2BUA, interval: float = DEFAULT_INTERVAL) -> None:
        self.b2bua = b2bua
        self.interval = interval

    def start(self, call: Call) -> None:
        """Probe ``call`` every ``interval`` seconds from now until :meth:`stop`."""
        self.stop(call)
        if self.interval > 0:
            loop = asyncio.get_running_loop()
            call.keepalive = loop.call_later(self.interval, self._probe, call)

    def stop(self, call: Call) -> None:
        if call.keepalive is not None:
            call.keepalive.cancel()
            call.keepalive = None

    def _probe(self, call: Call) -> None:
        call.keepalive = None
        for leg in (call.a, call.b):
            txn = self.b2bua.send_in_dialog(leg, "OPTIONS")
            if txn is not None and leg is not None:
                txn.user_data = Probe(leg)
        self.start(call)

    def on_response(self, probe: Probe, resp: Response) -> None:
        if resp.status in _GONE:
            self._gone(probe.leg, f"{resp.status} {resp.reason}")

    def on_timeout(self, probe: Probe) -> None:
        self._gone(probe.leg, "no response")

    def _gone(self, leg: Leg, why: str) -> None:
        call = leg.call
        if leg is not call.a and leg is not call.b:
            return  # the call ended, or this party was transferred away, meanwhile
        log.info("call %s: %s's dialog is gone (%s to OPTIONS)", call.id, leg.side, why)
        self.b2bua.hangup(call, cause=f"dialog-gone-{leg.side}", notify=(call.other(leg),))
