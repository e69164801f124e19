"""The flow interpreter: one :class:`IvrSession` per call, sans-IO.

Theory of operation: the session walks the flow's steps. Steps that decide at once
(``goto``, ``branch``, ``hours``, ``set_language``) are followed in a loop inside one call;
the loader guarantees that loop ends (no cycle without a menu or collect). A step that
needs the outside world returns commands and puts the session in a waiting
:class:`State`: ``PLAYING`` (a play or say step; waits for ``PlayFinished``), ``MENU`` and
``COLLECTING`` (wait for keys, with a deadline the session keeps itself), ``HTTP`` and
``LOOKUP`` (wait for the answer or the step's timeout). The table :data:`ACCEPTS` says which
events each state handles; the others are ignored, because in a live call they race with
the flow (a key pressed during an HTTP request, a ``PlayFinished`` after a barge-in). Replies
carry the id of the request they answer (``play_id``, ``request_id``), so a late one for an
earlier step is recognised and dropped.

A menu or collect attempt: play the prompt (barge-in), then wait ``timeout`` seconds from
the end of the prompt (or from the last key). A bad or missing answer counts one attempt,
plays ``invalid`` (or ``no_input``) followed by the prompt again; after ``retries`` failed
attempts the flow goes to ``fail``. The session's time is only ever the ``now`` argument:
the runtime calls :meth:`IvrSession.handle` with :class:`Tick` at :meth:`next_deadline`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from urllib.parse import quote

from tamas.core.events import LogRecord
from tamas.ivr.commands import (
    AudioFile,
    CollectDigits,
    Command,
    HttpRequest,
    Log,
    LookupContact,
    Play,
    PlayItem,
    Route,
    Speech,
)
from tamas.ivr.errors import IvrError
from tamas.ivr.events import (
    CallerHungUp,
    ContactResult,
    DigitPressed,
    Digits,
    Event,
    HttpResult,
    PlayFinished,
    Tick,
)
from tamas.ivr.graph import step_kind
from tamas.ivr.hours import Calendar, HoursState, hours_state
from tamas.ivr.model import (
    HANGUP,
    BranchStep,
    CollectStep,
    Destination,
    Flow,
    GotoStep,
    HoursStep,
    HttpStep,
    Jump,
    LookupStep,
    MenuStep,
    PlayStep,
    Prompt,
    RouteStep,
    SayKind,
    SayStep,
    SetLanguageStep,
    Target,
)
from tamas.ivr.say import say_digits, say_duration, say_number
from tamas.ivr.template import render

__all__ = ["ACCEPTS", "IvrSession", "State"]


class State(Enum):
    NEW = "new"
    PLAYING = "playing"
    MENU = "menu"
    COLLECTING = "collecting"
    HTTP = "http"
    LOOKUP = "lookup"
    DONE = "done"


#: The events each state acts on; any other event is ignored in that state.
ACCEPTS: dict[State, frozenset[type[Event]]] = {
    State.NEW: frozenset({CallerHungUp}),
    State.PLAYING: frozenset({PlayFinished, DigitPressed, CallerHungUp}),
    State.MENU: frozenset({PlayFinished, DigitPressed, Tick, CallerHungUp}),
    State.COLLECTING: frozenset({PlayFinished, DigitPressed, Tick, CallerHungUp}),
    State.HTTP: frozenset({HttpResult, Tick, CallerHungUp}),
    State.LOOKUP: frozenset({ContactResult, Tick, CallerHungUp}),
    State.DONE: frozenset(),
}


class IvrSession:
    """One call's walk through ``flow``.

    ``caller`` is the caller's number (variable ``caller``, and what ``lookup by: number``
    uses); ``calendars`` gives the calendars ``hours`` steps name; ``variables`` seeds the
    session's variables (all values are text). ``max_steps`` bounds the steps one call
    may enter (a flow whose menu ``fail`` leads back to the menu would otherwise keep a
    silent caller forever); past it the session hangs up.
    """

    def __init__(
        self,
        flow: Flow,
        *,
        call_id: str,
        caller: str = "",
        calendars: Mapping[str, Calendar] | None = None,
        variables: Mapping[str, str] | None = None,
        max_steps: int = 500,
    ) -> None:
        self.flow = flow
        self.call_id = call_id
        self.calendars = dict(calendars or {})
        for step in flow.steps:
            if isinstance(step, HoursStep) and step.calendar not in self.calendars:
                raise IvrError(
                    f"flow '{flow.name}' step '{step.id}' needs calendar '{step.calendar}'"
                )
        self.variables: dict[str, str] = {"caller": caller, **(variables or {})}
        self.language = flow.language
        self.state = State.NEW
        self.step_id = flow.start
        self.result: Destination | None = None  # where the flow sent the call
        self._deadline: float | None = None
        self._play_id = 0
        self._request_id = 0
        self._prompt_playing = False
        self._attempts = 0
        self._digits = ""
        self._out: list[Command] = []
        self._steps_left = max_steps

    # The interface -------------------------------------------------------------------

    def start(self, now: float) -> list[Command]:
        if self.state is not State.NEW:
            raise IvrError("the session has already started")
        self._log(now, "IVRSTART")
        self._run(Jump(step=self.flow.start), now)
        return self._flush()

    def handle(self, event: Event, now: float) -> list[Command]:
        events = (
            [DigitPressed(digit=d) for d in event.digits] if isinstance(event, Digits) else [event]
        )
        for one in events:
            if type(one) in ACCEPTS[self.state]:
                self._HANDLERS[type(one)](self, one, now)
        return self._flush()

    def next_deadline(self) -> float | None:
        return self._deadline

    @property
    def done(self) -> bool:
        return self.state is State.DONE

    # Walking the flow ----------------------------------------------------------------

    def _run(self, target: Target, now: float) -> None:
        """Follow steps that decide at once until one waits or the flow ends."""
        self._deadline = None
        for _ in range(len(self.flow.steps) + 1):
            if isinstance(target, Destination):
                self._route(target, now)
                return
            self._steps_left -= 1
            if self._steps_left < 0:
                break
            step = self.flow.step(target.step)
            self.step_id = step.id
            self._log(now, "IVRSTEP", step_kind(step))
            match step:
                case GotoStep():
                    target = Jump(step=step.target)
                case SetLanguageStep():
                    self.language = step.language
                    target = step.next
                case BranchStep():
                    value = self.variables.get(step.var, "")
                    target = dict(step.cases).get(value, step.default)
                case HoursStep():
                    target = self._hours(step, now)
                case RouteStep():
                    target = step.destination
                case _:
                    self._enter(step, now)
                    return
        # The step limit, or a hand-built flow with a silent cycle.
        self._route(HANGUP, now, "step limit")

    def _enter(self, step: PlayStep | SayStep | MenuStep | CollectStep | LookupStep | HttpStep,
               now: float) -> None:  # fmt: skip
        match step:
            case PlayStep():
                self.state = State.PLAYING
                self._play(self._items(step.prompts), barge_in=step.barge_in)
            case SayStep():
                self.state = State.PLAYING
                self._play(self._say(step), barge_in=False)
            case MenuStep():
                self.state = State.MENU
                self._attempts = 0
                self._prompt(step.prompt)
            case CollectStep():
                self.state = State.COLLECTING
                self._attempts = 0
                self._prompt(step.prompt)
            case HttpStep():
                self.state = State.HTTP
                self._request_id += 1
                url = render(step.url, self.variables, quote=lambda v: quote(v, safe=""))
                self._out.append(
                    HttpRequest(request_id=self._request_id, url=url, timeout=step.timeout)
                )
                self._deadline = now + step.timeout
            case LookupStep():
                self.state = State.LOOKUP
                self._request_id += 1
                var = step.var if step.var is not None else "caller"
                value = self.variables.get(var, "")
                self._out.append(
                    LookupContact(request_id=self._request_id, by=step.by, value=value)
                )
                self._deadline = now + step.timeout

    def _hours(self, step: HoursStep, now: float) -> Target:
        state = hours_state(self.calendars[step.calendar], now)
        if state is HoursState.OPEN:
            return step.open
        if state is HoursState.HOLIDAY and step.holiday is not None:
            return step.holiday
        return step.closed

    def _route(self, destination: Destination, now: float, *why: str) -> None:
        self.state = State.DONE
        self._deadline = None
        self.result = destination
        self._log(now, "IVREXIT", str(destination), *why)
        self._out.append(Route(destination=destination))

    # Playing -------------------------------------------------------------------------

    def _items(self, prompts: tuple[Prompt, ...]) -> tuple[PlayItem, ...]:
        items: list[PlayItem] = []
        for prompt in prompts:
            if prompt.file is not None:
                items.append(AudioFile(path=prompt.file))
            else:
                lang, text = prompt.text_in(self.language, self.flow.language)
                items.append(Speech(text=render(text, self.variables), language=lang))
        return tuple(items)

    def _say(self, step: SayStep) -> tuple[PlayItem, ...]:
        value = render(step.value, self.variables).strip()
        try:
            if step.kind is SayKind.DIGITS:
                text = say_digits(value, self.language)
            elif step.kind is SayKind.NUMBER:
                text = say_number(int(value), self.language)
            else:
                text = say_duration(float(value), self.language)
        except ValueError:
            text = ""  # not a number: say nothing rather than stop the call
        return (Speech(text=text, language=self.language),) if text else ()

    def _play(self, items: tuple[PlayItem, ...], *, barge_in: bool) -> None:
        self._play_id += 1
        self._out.append(
            Play(play_id=self._play_id, items=items, language=self.language, barge_in=barge_in)
        )

    def _prompt(self, prompts: tuple[Prompt, ...], before: tuple[Prompt, ...] = ()) -> None:
        """Start an attempt of the current menu or collect step."""
        self._digits = ""
        self._deadline = None
        self._prompt_playing = True
        self._play(self._items(before + prompts), barge_in=True)

    # Event handlers ------------------------------------------------------------------

    def _on_play_finished(self, event: PlayFinished, now: float) -> None:
        if event.play_id != self._play_id:
            return
        if self.state is State.PLAYING:
            step = self.flow.step(self.step_id)
            assert isinstance(step, PlayStep | SayStep)
            self._run(step.next, now)
        elif self._prompt_playing:
            self._prompt_finished(now)

    def _prompt_finished(self, now: float) -> None:
        self._prompt_playing = False
        step = self.flow.step(self.step_id)
        if isinstance(step, MenuStep):
            self._deadline = now + step.timeout
        elif isinstance(step, CollectStep):
            self._deadline = now + (step.timeout if self._digits else step.first_timeout)
            self._out.append(
                CollectDigits(
                    min=step.min,
                    max=step.max,
                    terminator=step.terminator,
                    timeout=step.timeout,
                    first_timeout=step.first_timeout,
                )
            )

    def _on_digit(self, event: DigitPressed, now: float) -> None:
        step = self.flow.step(self.step_id)
        if isinstance(step, PlayStep):
            if step.barge_in:  # a key skips the rest of the play; the key is not kept
                self._log(now, "IVRKEY", event.digit)
                self._run(step.next, now)
            return
        if not isinstance(step, MenuStep | CollectStep):
            return
        self._log(now, "IVRKEY", event.digit)
        self._prompt_playing = False  # barge-in: the key stopped the prompt
        if isinstance(step, MenuStep):
            target = dict(step.options).get(event.digit)
            if target is None:
                self._failed(step, now, "IVRINVALID", event.digit)
            else:
                self._run(target, now)
            return
        if event.digit == step.terminator:
            self._collected(step, now)
            return
        self._digits += event.digit
        if len(self._digits) >= step.max:
            self._collected(step, now)
        else:
            self._deadline = now + step.timeout

    def _collected(self, step: CollectStep, now: float) -> None:
        if len(self._digits) < step.min:
            self._failed(step, now, "IVRINVALID", self._digits)
            return
        self.variables[step.into] = self._digits
        self._run(step.next, now)

    def _on_tick(self, event: Tick, now: float) -> None:
        if self._deadline is None or now < self._deadline:
            return
        step = self.flow.step(self.step_id)
        match step:
            case MenuStep():
                self._failed(step, now, "IVRTIMEOUT", "")
            case CollectStep():
                if self._digits and len(self._digits) >= step.min:
                    self._collected(step, now)
                else:
                    self._failed(step, now, "IVRTIMEOUT", self._digits)
            case HttpStep():
                self._log(now, "IVRTIMEOUT", "http")
                self._run(step.error, now)
            case LookupStep():
                self._log(now, "IVRTIMEOUT", "lookup")
                self._run(step.unknown, now)

    def _failed(self, step: MenuStep | CollectStep, now: float, event: str, got: str) -> None:
        """A bad or missing answer: try again, or go to ``fail`` after ``retries`` attempts."""
        self._attempts += 1
        self._log(now, event, got, str(self._attempts))
        if self._attempts >= step.retries:
            self._run(step.fail, now)
            return
        feedback = step.invalid
        if event == "IVRTIMEOUT" and isinstance(step, MenuStep) and step.no_input:
            feedback = step.no_input
        self._prompt(step.prompt, before=feedback)

    def _on_http(self, event: HttpResult, now: float) -> None:
        step = self.flow.step(self.step_id)
        if event.request_id != self._request_id or not isinstance(step, HttpStep):
            return
        ok = event.error is None and 200 <= event.status < 300
        if ok and step.into is not None:
            _store(self.variables, step.into, event.body)
        self._run(step.ok if ok else step.error, now)

    def _on_contact(self, event: ContactResult, now: float) -> None:
        step = self.flow.step(self.step_id)
        if event.request_id != self._request_id or not isinstance(step, LookupStep):
            return
        if event.contact_id is not None:
            self.variables["contact.id"] = event.contact_id
            for name, value in event.fields:
                self.variables[f"contact.{name}"] = value
        found = event.contact_id is not None and not event.created
        self._run(step.found if found else step.unknown, now)

    def _on_hangup(self, event: CallerHungUp, now: float) -> None:
        self.state = State.DONE
        self._deadline = None
        self._log(now, "IVRHANGUP")

    _HANDLERS: dict[type[Event], Callable[[IvrSession, object, float], None]] = {
        PlayFinished: _on_play_finished,  # type: ignore[dict-item]
        DigitPressed: _on_digit,  # type: ignore[dict-item]
        Tick: _on_tick,  # type: ignore[dict-item]
        HttpResult: _on_http,  # type: ignore[dict-item]
        ContactResult: _on_contact,  # type: ignore[dict-item]
        CallerHungUp: _on_hangup,  # type: ignore[dict-item]
    }

    # Output --------------------------------------------------------------------------

    def _log(self, now: float, event: str, *data: str) -> None:
        record = LogRecord(
            at=now, call_id=self.call_id, event=event, data=(self.flow.name, self.step_id, *data)
        )
        self._out.append(Log(record=record))

    def _flush(self) -> list[Command]:
        out, self._out = self._out, []
        return out


def _store(variables: dict[str, str], name: str, value: object) -> None:
    """Put an HTTP body into variables: objects flattened as ``name.key``, scalars as text."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            _store(variables, f"{name}.{key}", item)
    elif isinstance(value, bool):
        variables[name] = "true" if value else "false"
    elif isinstance(value, str | int | float):
        variables[name] = str(value)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _store(variables, f"{name}.{i}", item)
