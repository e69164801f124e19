"""Call parking: park a call in a slot, pick it up from any phone by dialing the slot.

A ``park`` application is a prefix followed by one slot digit (``70`` gives slots 700-709).

* **Park**: transfer a call (REFER, the phone's transfer key) to a free slot, e.g. 701. The
  parked party hears music on hold. A slot already taken refuses: the call is sent back to
  whoever parked it, so nothing is lost.
* **Retrieve**: dial the slot from any extension. Tamas answers and bridges the retriever
  with the parked party; from then on it is one ordinary call (the retriever's leg joins the
  parked call, see :meth:`B2BUA.adopt_leg`). Dialing an empty slot gets a short message.
* **Timeout**: a call left parked for ``park_seconds`` rings the extension that parked it
  (the ``extension`` destination of the center) so it is never forgotten.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tamas.runtime.callcenter.audio import Clip

if TYPE_CHECKING:
    from tamas.config.model import MediaApplication
    from tamas.runtime.anchor import LegMedia
    from tamas.runtime.b2bua import Call
    from tamas.runtime.callcenter.center import CallCenter

log = logging.getLogger("tamas.center")

__all__ = ["Parking"]


@dataclass(eq=False, slots=True)
class Parked:
    call: Call
    slot: str
    parker: str  # the extension that parked it ("" if not known)
    timer: asyncio.TimerHandle | None = None


class Parking:
    def __init__(self, center: CallCenter) -> None:
        self.center = center
        self.slots: dict[str, Parked] = {}
        self._parker: dict[str, str] = {}  # call id -> extension that transferred it

    def transferred(self, call: Call, transferor_extension: str | None) -> None:
        """``call`` is being transferred to an application (who parks it, if to a slot)."""
        self._parker[call.id] = transferor_extension or ""

    def handle(self, call: Call, leg: LegMedia, app: MediaApplication, dialed: str) -> None:
        """``dialed`` (a slot) reached by a transfer (park) or by a new call (retrieve)."""
        if call.id in self._parker:  # a transfer to the slot: park
            self._park(call, leg, app, dialed, self._parker.pop(call.id))
            return
        taken = self.slots.get(dialed)
        if taken is not None and taken.call is not call:
            self._retrieve(call, leg, taken)
        else:
            c = self.center
            c.speaker.say(call, leg, [Clip(f"Parking slot {' '.join(dialed)} is empty.", "en")],
                          lambda: c.hang_up(call, "park slot empty"))  # fmt: skip

    def _park(
        self, call: Call, leg: LegMedia, app: MediaApplication, slot: str, parker: str
    ) -> None:
        c = self.center
        if slot in self.slots:
            log.info("call %s: park slot %s is taken; back to %s", call.id, slot, parker)
            if parker:
                c.route(call, "extension", parker)
            else:
                c.hang_up(call, "park slot taken")
            return
        parked = Parked(call, slot, parker)
        self.slots[slot] = parked
        c.take(call)
        c.speaker.background(call, c.anchor.music.source)
        c.speaker.stop(call, leg)
        c.log(call.id, "PARK", slot, parker or "")
        parked.timer = asyncio.get_running_loop().call_later(
            app.park_seconds, self._expired, parked
        )
        log.info("call %s: parked in %s by %s", call.id, slot, parker or "?")
        if self.center.config.extension(parker) is None:
            parked.parker = ""

    def _expired(self, parked: Parked) -> None:
        parked.timer = None
        if self.slots.get(parked.slot) is not parked:
            return
        del self.slots[parked.slot]
        c = self.center
        c.log(parked.call.id, "PARKTIMEOUT", parked.slot, parked.parker or "")
        if parked.parker:
            c.speaker.background(parked.call, None)
            c.route(parked.call, "extension", parked.parker)
        else:
            c.hang_up(parked.call, "park timeout")

    def _retrieve(self, call: Call, leg: LegMedia, parked: Parked) -> None:
        c = self.center
        del self.slots[parked.slot]
        if parked.timer is not None:
            parked.timer.cancel()
        target = parked.call
        a = target.a
        retriever = call.a
        if a is None or a.media is None or retriever is None or retriever.media is None:
            c.hang_up(call, "parked call gone")
            return
        c.speaker.background(target, None)
        c.speaker.stop(target, a.media)
        who = retriever.extension or ""
        c.log(target.id, "UNPARK", parked.slot, who)
        log.info("call %s: %s picks up the call parked in %s", target.id, who, parked.slot)
        c.b2bua.adopt_leg(target, retriever)
        c.anchor.bridge(target, a.media, retriever.media)

    def ended(self, call: Call) -> None:
        self._parker.pop(call.id, None)
        for slot, parked in list(self.slots.items()):
            if parked.call is call:
                if parked.timer is not None:
                    parked.timer.cancel()
                del self.slots[slot]
                self.center.log(call.id, "PARKABANDON", slot)
