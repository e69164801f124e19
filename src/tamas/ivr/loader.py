"""Flows from plain data (as YAML gives them) to :class:`~tamas.ivr.model.Flow`, checked.

Theory of operation: parsing walks each flow's mapping with a :class:`_At` cursor that
knows the flow, the step and the key path, so every problem becomes a :class:`FlowError`
that points at the exact key. Step ids are collected first (duplicates are rejected), so
names of steps, queues, extensions, calendars... are checked while parsing. What needs the
whole flow is checked afterwards: prompts lacking a language the flow switches to, and
cycles of steps that never wait for the caller (:func:`tamas.ivr.graph.silent_cycle`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlsplit

from tamas.ivr.errors import FlowError
from tamas.ivr.graph import silent_cycle
from tamas.ivr.known import Known
from tamas.ivr.model import (
    HANGUP,
    BranchStep,
    CollectStep,
    Destination,
    DestinationKind,
    Flow,
    GotoStep,
    HoursStep,
    HttpStep,
    Jump,
    LookupBy,
    LookupStep,
    MenuStep,
    PlayStep,
    Prompt,
    RouteStep,
    SayKind,
    SayStep,
    SetLanguageStep,
    Step,
    Target,
)
from tamas.ivr.template import VAR_NAME, placeholders

__all__ = ["load_flows"]

DTMF_KEYS = "0123456789*#ABCD"
_KINDS = ("play", "say", "set_language", "hours", "menu", "collect", "lookup", "branch",
          "http", "goto", *(kind.value for kind in DestinationKind))  # fmt: skip
_FLOW_KEYS = ("language", "start", "steps")
# Step keys besides ``id`` and the kind key.
_EXTRA_KEYS: dict[str, tuple[str, ...]] = {
    "play": ("barge_in", "next"),
    "say": ("next",),
    "set_language": ("next",),
    "collect": ("next",),
    "external": ("trunk",),
}
_SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "hours": ("calendar", "open", "closed", "holiday"),
    "menu": ("prompt", "options", "timeout", "retries", "invalid", "no_input", "fail"),
    "collect": (
        "prompt",
        "into",
        "min",
        "max",
        "terminator",
        "timeout",
        "first_timeout",
        "retries",
        "invalid",
        "fail",
    ),
    "lookup": ("by", "var", "found", "unknown", "timeout"),
    "branch": ("var", "cases", "default"),
    "http": ("url", "timeout", "into", "ok", "error"),
    "say": ("digits", "number", "duration"),
}
_KNOWN_FIELD = {
    DestinationKind.QUEUE: ("queues", "queue"),
    DestinationKind.EXTENSION: ("extensions", "extension"),
    DestinationKind.RING_GROUP: ("ring_groups", "ring group"),
    DestinationKind.VOICEMAIL: ("mailboxes", "mailbox"),
}


def load_flows(data: Mapping[str, Any], known: Known) -> dict[str, Flow]:
    """Parse and check every flow in ``data`` (flow name -> flow mapping).

    Raises :class:`FlowError` for the first problem found.
    """
    flows: dict[str, Flow] = {}
    for name, body in data.items():
        at = _At(flow=str(name), step=None, path=(str(name),), known=known)
        flows[str(name)] = _Parser(at).flow(body)
    return flows


@dataclass(frozen=True, slots=True, kw_only=True)
class _At:
    """Where the parser is: raises errors pointing there."""

    flow: str
    step: str | None
    path: tuple[str | int, ...]
    known: Known

    def __truediv__(self, key: str | int) -> _At:
        return _At(flow=self.flow, step=self.step, path=(*self.path, key), known=self.known)

    def in_step(self, step: str) -> _At:
        return _At(flow=self.flow, step=step, path=self.path, known=self.known)

    def fail(self, reason: str) -> NoReturn:
        raise FlowError(flow=self.flow, step=self.step, path=self.path, reason=reason)


def _choices(names: Sequence[str] | frozenset[str], plural: str) -> str:
    if not names:
        return f"no {plural} are configured"
    return f"{plural}: {', '.join(sorted(names))}"


class _Parser:
    def __init__(self, at: _At) -> None:
        self.at = at
        self.language = "en"
        self.ids: dict[str, int] = {}
        self.text_prompts: list[tuple[_At, Prompt]] = []
        self.switches: dict[str, str] = {}  # language -> the set_language step using it

    def flow(self, body: Any) -> Flow:
        at = self.at
        body = _mapping(at, body)
        _only(at, body, _FLOW_KEYS)
        self.language = _string(at / "language", body.get("language", "en"))
        if self.language not in at.known.languages:
            (at / "language").fail(
                f"language '{self.language}' is not supported "
                f"({_choices(at.known.languages, 'languages')})"
            )
        if "steps" not in body:
            at.fail("a flow needs 'steps' (a list of steps)")
        raw_steps = body["steps"]
        if not isinstance(raw_steps, list) or not raw_steps:
            (at / "steps").fail("'steps' must be a non-empty list of steps")
        ids = [self._step_id(at / "steps" / i, raw) for i, raw in enumerate(raw_steps)]
        for i, step_id in enumerate(ids):
            if step_id in self.ids:
                (at.in_step(step_id) / "steps" / i / "id").fail(
                    f"duplicate step id '{step_id}' (also step {self.ids[step_id]}); "
                    "give each step its own id"
                )
            self.ids[step_id] = i
        steps: list[Step] = []
        for i, raw in enumerate(raw_steps):
            following = ids[i + 1] if i + 1 < len(ids) else None
            steps.append(self.step(at.in_step(ids[i]) / "steps" / i, raw, following))
        start = _string(at / "start", body.get("start", ids[0]))
        self.check_step(at / "start", start)
        flow = Flow(name=at.flow, language=self.language, start=start, steps=tuple(steps))
        self.check_languages()
        cycle = silent_cycle(flow)
        if cycle is not None:
            first = cycle[0]
            (at.in_step(first) / "steps" / self.ids[first]).fail(
                f"the steps {' -> '.join(cycle)} loop forever without waiting for the "
                "caller; put a menu or collect step in the loop or end it"
            )
        return flow

    def check_step(self, at: _At, step_id: str) -> None:
        if step_id not in self.ids:
            at.fail(f"step '{step_id}' does not exist ({_choices(list(self.ids), 'steps')})")

    def check_languages(self) -> None:
        wanted = {self.language: ""} | self.switches
        for at, prompt in self.text_prompts:
            for lang, switch in wanted.items():
                if lang not in prompt.languages:
                    why = (
                        f"the flow switches to {lang} at step '{switch}'"
                        if switch
                        else (f"the flow's language is {lang}")
                    )
                    at.fail(f"prompt has no '{lang}' text ({why}); add {lang}: ...")

    def _step_id(self, at: _At, raw: Any) -> str:
        raw = _mapping(at, raw)
        if "id" not in raw:
            at.fail("every step needs an 'id'")
        step_id = _string(at / "id", raw["id"])
        if not step_id:
            (at / "id").fail("a step id cannot be empty")
        return step_id

    def step(self, at: _At, raw: Mapping[str, Any], following: str | None) -> Step:
        kinds = [key for key in raw if key in _KINDS]
        if len(kinds) != 1:
            found = ", ".join(kinds) if kinds else "none"
            at.fail(f"a step needs exactly one of {', '.join(_KINDS)} (found: {found})")
        kind = kinds[0]
        _only(at, raw, ("id", kind, *_EXTRA_KEYS.get(kind, ())))
        sid = str(raw["id"])
        value = raw[kind]
        vat = at / kind
        nxt: Target = Jump(step=following) if following is not None else HANGUP
        if "next" in raw:
            nxt = self.target(at / "next", raw["next"])
        if kind == "play":
            barge_in = _bool(at / "barge_in", raw.get("barge_in", False))
            return PlayStep(id=sid, prompts=self.prompts(vat, value), barge_in=barge_in, next=nxt)
        if kind == "say":
            return self.say(vat, sid, value, nxt)
        if kind == "set_language":
            lang = _string(vat, value)
            if lang not in at.known.languages:
                vat.fail(
                    f"language '{lang}' is not supported "
                    f"({_choices(at.known.languages, 'languages')})"
                )
            self.switches.setdefault(lang, sid)
            return SetLanguageStep(id=sid, language=lang, next=nxt)
        if kind == "goto":
            goto = _string(vat, value)
            self.check_step(vat, goto)
            return GotoStep(id=sid, target=goto)
        if kind in ("hours", "menu", "collect", "lookup", "branch", "http"):
            section = _mapping(vat, value)
            _only(vat, section, _SECTION_KEYS[kind])
            return getattr(self, kind)(vat, sid, section, nxt)  # type: ignore[no-any-return]
        return RouteStep(id=sid, destination=self.destination(at, kind, value, raw))

    # Section parsers ------------------------------------------------------------------

    def say(self, at: _At, sid: str, value: Any, nxt: Target) -> SayStep:
        section = _mapping(at, value)
        _only(at, section, _SECTION_KEYS["say"])
        if len(section) != 1:
            at.fail("say needs exactly one of digits, number, duration")
        ((key, template),) = section.items()
        text = self.template(at / key, template)
        return SayStep(id=sid, kind=SayKind(key), value=text, next=nxt)

    def hours(self, at: _At, sid: str, s: Mapping[str, Any], nxt: Target) -> HoursStep:
        calendar = _string(at / "calendar", _need(at, s, "calendar"))
        if calendar not in at.known.calendars:
            (at / "calendar").fail(
                f"calendar '{calendar}' does not exist "
                f"({_choices(at.known.calendars, 'calendars')})"
            )
        holiday = self.target(at / "holiday", s["holiday"]) if "holiday" in s else None
        return HoursStep(
            id=sid,
            calendar=calendar,
            open=self.target(at / "open", _need(at, s, "open")),
            closed=self.target(at / "closed", _need(at, s, "closed")),
            holiday=holiday,
        )

    def menu(self, at: _At, sid: str, s: Mapping[str, Any], nxt: Target) -> MenuStep:
        raw_options = _mapping(at / "options", _need(at, s, "options"))
        if not raw_options:
            (at / "options").fail("a menu needs at least one option (key: target)")
        options: list[tuple[str, Target]] = []
        for key, target in raw_options.items():
            digit = str(key)
            if len(digit) != 1 or digit not in DTMF_KEYS:
                (at / "options" / digit).fail(
                    f"option key '{digit}' is not one telephone key (one of {DTMF_KEYS})"
                )
            options.append((digit, self.target(at / "options" / digit, target)))
        return MenuStep(
            id=sid,
            prompt=self.prompts(at / "prompt", _need(at, s, "prompt")),
            options=tuple(options),
            timeout=_seconds(at / "timeout", s.get("timeout", 5)),
            retries=_count(at / "retries", s.get("retries", 3), low=1),
            invalid=self.prompts(at / "invalid", s["invalid"]) if "invalid" in s else (),
            no_input=self.prompts(at / "no_input", s["no_input"]) if "no_input" in s else (),
            fail=self.target(at / "fail", s["fail"]) if "fail" in s else HANGUP,
        )

    def collect(self, at: _At, sid: str, s: Mapping[str, Any], nxt: Target) -> CollectStep:
        low = _count(at / "min", s.get("min", 1), low=1)
        high = _count(at / "max", s.get("max", 20), low=1)
        if high < low:
            (at / "max").fail(f"max ({high}) is less than min ({low})")
        terminator: str | None = None
        if s.get("terminator", "#") is not None:
            terminator = _string(at / "terminator", s.get("terminator", "#"))
            if terminator and (len(terminator) != 1 or terminator not in DTMF_KEYS):
                (at / "terminator").fail(f"terminator '{terminator}' is not one telephone key")
            terminator = terminator or None
        timeout = _seconds(at / "timeout", s.get("timeout", 5))
        return CollectStep(
            id=sid,
            prompt=self.prompts(at / "prompt", _need(at, s, "prompt")),
            into=_var(at / "into", _need(at, s, "into")),
            min=low,
            max=high,
            terminator=terminator,
            timeout=timeout,
            first_timeout=_seconds(at / "first_timeout", s.get("first_timeout", timeout)),
            retries=_count(at / "retries", s.get("retries", 3), low=1),
            invalid=self.prompts(at / "invalid", s["invalid"]) if "invalid" in s else (),
            fail=self.target(at / "fail", s["fail"]) if "fail" in s else HANGUP,
            next=nxt,
        )

    def lookup(self, at: _At, sid: str, s: Mapping[str, Any], nxt: Target) -> LookupStep:
        by_text = _string(at / "by", s.get("by", "number"))
        try:
            by = LookupBy(by_text)
        except ValueError:
            (at / "by").fail(f"lookup by '{by_text}' is not possible (by: number or code)")
        var = _var(at / "var", s["var"]) if "var" in s else None
        if by is LookupBy.CODE and var is None:
            at.fail("lookup by code needs 'var': the variable holding the code")
        return LookupStep(
            id=sid,
            by=by,
            var=var,
            found=self.target(at / "found", _need(at, s, "found")),
            unknown=self.target(at / "unknown", _need(at, s, "unknown")),
            timeout=_seconds(at / "timeout", s.get("timeout", 5)),
        )

    def branch(self, at: _At, sid: str, s: Mapping[str, Any], nxt: Target) -> BranchStep:
        cases = _mapping(at / "cases", s.get("cases", {}))
        return BranchStep(
            id=sid,
            var=_var(at / "var", _need(at, s, "var")),
            cases=tuple((str(k), self.target(at / "cases" / str(k), v)) for k, v in cases.items()),
            default=self.target(at / "default", _need(at, s, "default")),
        )

    def http(self, at: _At, sid: str, s: Mapping[str, Any], nxt: Target) -> HttpStep:
        url = self.template(at / "url", _need(at, s, "url"))
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            (at / "url").fail(f"url '{url}' must be an absolute http:// or https:// address")
        if "{" in parts.netloc:
            (at / "url").fail("placeholders may not choose the host; put them in the path or query")
        return HttpStep(
            id=sid,
            url=url,
            into=_var(at / "into", s["into"]) if "into" in s else None,
            ok=self.target(at / "ok", _need(at, s, "ok")),
            error=self.target(at / "error", _need(at, s, "error")),
            timeout=_seconds(at / "timeout", s.get("timeout", 3)),
        )

    # Pieces ---------------------------------------------------------------------------

    def target(self, at: _At, raw: Any) -> Target:
        """A step id (string), ``{goto: id}`` or a one-key destination mapping."""
        if isinstance(raw, str):
            self.check_step(at, raw)
            return Jump(step=raw)
        section = _mapping(at, raw)
        kinds = [k for k in section if k == "goto" or k in DestinationKind._value2member_map_]
        if len(kinds) != 1:
            at.fail(
                "a target is a step id or one of goto, queue, extension, ring_group, "
                "voicemail, external, hangup"
            )
        kind = kinds[0]
        _only(at, section, (kind, *_EXTRA_KEYS.get(kind, ())))
        if kind == "goto":
            goto = _string(at / "goto", section["goto"])
            self.check_step(at / "goto", goto)
            return Jump(step=goto)
        return self.destination(at, kind, section[kind], section)

    def destination(
        self, at: _At, kind_name: str, value: Any, raw: Mapping[str, Any]
    ) -> Destination:
        kind = DestinationKind(kind_name)
        vat = at / kind_name
        if kind is DestinationKind.HANGUP:
            if value is not True:
                vat.fail("write 'hangup: true'")
            return HANGUP
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # extensions and mailboxes written as numbers
        name = _string(vat, value)
        if kind is DestinationKind.EXTERNAL:
            if not name or any(c not in "+0123456789*#" for c in name):
                vat.fail(f"external number '{name}' may hold only digits, *, # and a leading +")
            trunk = None
            if "trunk" in raw:
                trunk = _string(at / "trunk", raw["trunk"])
                if trunk not in at.known.trunks:
                    (at / "trunk").fail(
                        f"trunk '{trunk}' does not exist ({_choices(at.known.trunks, 'trunks')})"
                    )
            return Destination(kind=kind, target=name, trunk=trunk)
        field, noun = _KNOWN_FIELD[kind]
        names: frozenset[str] = getattr(at.known, field)
        if name not in names:
            vat.fail(f"{noun} '{name}' does not exist ({_choices(names, field.replace('_', ' '))})")
        return Destination(kind=kind, target=name)

    def prompts(self, at: _At, raw: Any) -> tuple[Prompt, ...]:
        items = raw if isinstance(raw, list) else [raw]
        if not items:
            at.fail("a prompt list cannot be empty")
        return tuple(
            self.prompt(at / i if isinstance(raw, list) else at, item)
            for i, item in enumerate(items)
        )

    def prompt(self, at: _At, raw: Any) -> Prompt:
        if isinstance(raw, str):
            prompt = Prompt(texts=((self.language, self.template(at, raw)),))
            self.text_prompts.append((at, prompt))
            return prompt
        section = _mapping(at, raw)
        if "file" in section:
            _only(at, section, ("file",))
            path = _string(at / "file", section["file"])
            if not path:
                (at / "file").fail("a prompt file name cannot be empty")
            return Prompt(file=path)
        if not section:
            at.fail("a prompt needs text per language ({en: ...}) or a file ({file: ...})")
        texts = []
        for lang, text in section.items():
            if lang not in at.known.languages:
                (at / str(lang)).fail(
                    f"'{lang}' is not a supported language "
                    f"({_choices(at.known.languages, 'languages')}), nor 'file'"
                )
            texts.append((str(lang), self.template(at / str(lang), text)))
        prompt = Prompt(texts=tuple(texts))
        self.text_prompts.append((at, prompt))
        return prompt

    def template(self, at: _At, raw: Any) -> str:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            raw = str(raw)
        text = _string(at, raw)
        for name in placeholders(text):
            if not VAR_NAME.fullmatch(name):
                at.fail(f"'{{{name}}}' is not a variable name (letters, digits, _ and dots)")
        if text.count("{") != text.count("}"):
            at.fail("unbalanced { } in text")
        return text


def _mapping(at: _At, raw: Any) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        at.fail(f"expected a mapping, got {type(raw).__name__}")
    return raw


def _only(at: _At, raw: Mapping[str, Any], allowed: Sequence[str]) -> None:
    for key in raw:
        if key not in allowed:
            (at / str(key)).fail(f"unknown key '{key}' (allowed here: {', '.join(allowed)})")


def _need(at: _At, raw: Mapping[str, Any], key: str) -> Any:
    if key not in raw:
        at.fail(f"'{key}' is required here")
    return raw[key]


def _string(at: _At, raw: Any) -> str:
    if not isinstance(raw, str):
        at.fail(f"expected text, got {type(raw).__name__}")
    return raw


def _bool(at: _At, raw: Any) -> bool:
    if not isinstance(raw, bool):
        at.fail(f"expected true or false, got {raw!r}")
    return raw


def _seconds(at: _At, raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 < raw <= 3600:
        at.fail(f"expected seconds between 0 and 3600, got {raw!r}")
    return float(raw)


def _count(at: _At, raw: Any, *, low: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= 100:
        at.fail(f"expected a whole number from {low} to 100, got {raw!r}")
    return raw


def _var(at: _At, raw: Any) -> str:
    name = _string(at, raw)
    if not VAR_NAME.fullmatch(name):
        at.fail(f"'{name}' is not a variable name (letters, digits, _ and dots)")
    return name
