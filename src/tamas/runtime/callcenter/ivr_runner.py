"""Running IVR flows on calls: one pure :class:`~tamas.ivr.session.IvrSession` per call.

The runner carries out the session's commands: ``Play`` (speech through espeak-ng or prompt
files, via the :class:`~tamas.runtime.callcenter.audio.Speaker`; a key stops a barge-in
playback), ``CollectDigits`` (nothing to do: every key of the caller is given to the session,
which keeps its own time), ``HttpRequest`` (a GET off the loop with its timeout; only to
loopback or addresses the administrator wrote in the flow), ``LookupContact`` (answered
by the :class:`~tamas.runtime.contacts.ContactLookup` given as ``contacts``, else "not
found"), ``Log`` (the event log) and ``Route`` (the destination,
through the center). Timers: one loop timer per session at its ``next_deadline()``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tamas.core.events import LogRecord
from tamas.ivr import commands as ivc
from tamas.ivr import events as ive
from tamas.ivr.hours import Calendar
from tamas.ivr.model import Flow
from tamas.ivr.session import IvrSession
from tamas.runtime.callcenter.audio import Clip, Speaker

if TYPE_CHECKING:
    from tamas.runtime.anchor import CallDigit, LegMedia
    from tamas.runtime.b2bua import Call
    from tamas.runtime.contacts import ContactLookup

log = logging.getLogger("tamas.ivr")

__all__ = ["IvrRunner"]

RouteTo = Callable[["Call", str, str, str], None]  # call, kind, target, language


@dataclass(eq=False, slots=True)
class _Running:
    call: Call
    leg: LegMedia
    session: IvrSession
    timer: asyncio.TimerHandle | None = None
    barge_in: bool = False


def _http_get(url: str, timeout: float) -> tuple[int, object, str | None]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            raw = resp.read(1 << 20).decode("utf-8", "replace")
            status = int(resp.status)
    except urllib.error.HTTPError as e:
        return e.code, None, f"HTTP {e.code}"
    except (urllib.error.URLError, OSError, ValueError) as e:
        return 0, None, str(getattr(e, "reason", e))
    try:
        return status, json.loads(raw), None
    except ValueError:
        return status, raw, None


class IvrRunner:
    def __init__(
        self, flows: Mapping[str, Flow], calendars: Mapping[str, Calendar], speaker: Speaker,
        append: Callable[[Sequence[LogRecord]], object], route: RouteTo,
        *, clock: Callable[[], float] = time.time, contacts: ContactLookup | None = None,
    ) -> None:  # fmt: skip
        self.contacts = contacts
        self.flows = flows
        self.calendars = calendars
        self.speaker = speaker
        self.append = append
        self.route_to = route
        self.clock = clock
        self.running: dict[str, _Running] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, call: Call, leg: LegMedia, flow: str) -> None:
        old = self.running.pop(call.id, None)
        if old is not None and old.timer is not None:
            old.timer.cancel()
        caller = call.record.caller if call.record is not None else ""
        session = IvrSession(self.flows[flow], call_id=call.id, caller=caller,
                             calendars=self.calendars)  # fmt: skip
        run = self.running[call.id] = _Running(call, leg, session)
        self._carry_out(run, session.start(self.clock()))

    def digit(self, digit: CallDigit) -> None:
        run = self.running.get(digit.call_id)
        if run is None or digit.side != run.leg.side:
            return
        if run.barge_in:
            run.barge_in = False
            self.speaker.stop(run.call, run.leg)
        self._feed(run, ive.DigitPressed(digit=digit.digit))

    def ended(self, call: Call) -> None:
        run = self.running.pop(call.id, None)
        if run is None:
            return
        if run.timer is not None:
            run.timer.cancel()
        self._carry_out(run, run.session.handle(ive.CallerHungUp(), self.clock()), ended=True)

    def _feed(self, run: _Running, event: ive.Event) -> None:
        if self.running.get(run.call.id) is not run:
            return  # the flow is over (routed, or the call ended)
        self._carry_out(run, run.session.handle(event, self.clock()))

    def _carry_out(
        self, run: _Running, commands: list[ivc.Command], *, ended: bool = False
    ) -> None:
        records = [c.record for c in commands if isinstance(c, ivc.Log)]
        if records:
            self.append(records)
        if ended:
            return
        for command in commands:
            if isinstance(command, ivc.Play):
                self._play(run, command)
            elif isinstance(command, ivc.HttpRequest):
                self._http(run, command)
            elif isinstance(command, ivc.LookupContact):
                if self.contacts is not None:  # answered off the loop, then fed to the session
                    self.contacts.request(command, lambda result: self._feed(run, result))
                else:
                    result = ive.ContactResult(request_id=command.request_id, contact_id=None)
                    asyncio.get_running_loop().call_soon(self._feed, run, result)
            elif isinstance(command, ivc.Route):
                self._finish(run)
                dest = command.destination
                self.route_to(run.call, dest.kind.value, dest.target, run.session.language)
                return
        self._arm(run)

    def _play(self, run: _Running, command: ivc.Play) -> None:
        clips = [Clip(path=i.path) if isinstance(i, ivc.AudioFile) else Clip(i.text, i.language)
                 for i in command.items]  # fmt: skip
        run.barge_in = command.barge_in
        play_id = command.play_id

        def heard() -> None:
            run.barge_in = False
            self._feed(run, ive.PlayFinished(play_id=play_id))

        self.speaker.say(run.call, run.leg, clips, heard)

    def _http(self, run: _Running, command: ivc.HttpRequest) -> None:
        async def fetch() -> None:
            status, body, error = await asyncio.to_thread(_http_get, command.url, command.timeout)
            self._feed(run, ive.HttpResult(request_id=command.request_id, status=status,
                                           body=body, error=error))  # fmt: skip

        task = asyncio.get_running_loop().create_task(fetch())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _arm(self, run: _Running) -> None:
        if run.timer is not None:
            run.timer.cancel()
            run.timer = None
        deadline = run.session.next_deadline()
        if deadline is not None and self.running.get(run.call.id) is run:
            delay = max(0.0, deadline - self.clock())
            run.timer = asyncio.get_running_loop().call_later(
                delay, lambda: self._feed(run, ive.Tick())
            )

    def _finish(self, run: _Running) -> None:
        self.running.pop(run.call.id, None)
        if run.timer is not None:
            run.timer.cancel()
            run.timer = None

    def close(self) -> None:
        for run in self.running.values():
            if run.timer is not None:
                run.timer.cancel()
        for task in self._tasks:
            task.cancel()
