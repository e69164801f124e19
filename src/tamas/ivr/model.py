"""Call flows as data: frozen dataclasses built by :mod:`tamas.ivr.loader`.

A :class:`Flow` is a list of steps. Steps that do something and go on (``play``, ``say``,
``collect``, ``set_language``) continue with their ``next`` target, which defaults to the
following step in the list (and to hanging up after the last step). Steps that decide
(``menu``, ``hours``, ``branch``, ``lookup``, ``http``) name a :data:`Target` per outcome.
A target is either a :class:`Jump` to another step or a :class:`Destination` that ends the
flow (route the call somewhere, or hang up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

__all__ = [
    "BranchStep",
    "CollectStep",
    "Destination",
    "DestinationKind",
    "Flow",
    "GotoStep",
    "HoursStep",
    "HttpStep",
    "Jump",
    "LookupBy",
    "LookupStep",
    "MenuStep",
    "PlayStep",
    "Prompt",
    "RouteStep",
    "SayKind",
    "SayStep",
    "SetLanguageStep",
    "Step",
    "Target",
]


class DestinationKind(Enum):
    """Where a flow can send a call when it ends."""

    QUEUE = "queue"
    EXTENSION = "extension"
    RING_GROUP = "ring_group"
    VOICEMAIL = "voicemail"
    EXTERNAL = "external"
    HANGUP = "hangup"


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    """The end of a flow: ``kind`` and its ``target`` (queue name, extension, mailbox, number).

    ``trunk`` is set only for ``external`` when the flow names the trunk to use; otherwise
    the runtime's outbound routing chooses. ``target`` is empty for ``hangup``.
    """

    kind: DestinationKind
    target: str = ""
    trunk: str | None = None

    def __str__(self) -> str:
        if self.kind is DestinationKind.HANGUP:
            return "hangup"
        text = f"{self.kind.value}:{self.target}"
        return f"{text}@{self.trunk}" if self.trunk else text


HANGUP = Destination(kind=DestinationKind.HANGUP)


@dataclass(frozen=True, slots=True, kw_only=True)
class Jump:
    """Continue the flow at step ``step``."""

    step: str


Target = Jump | Destination


@dataclass(frozen=True, slots=True, kw_only=True)
class Prompt:
    """Something to play: text per language (spoken by TTS) or one audio file.

    ``texts`` pairs a language code with its text; the text may hold ``{var}`` placeholders
    filled from the session's variables. Exactly one of ``texts`` and ``file`` is set.
    """

    texts: tuple[tuple[str, str], ...] = ()
    file: str | None = None

    def text_in(self, language: str, fallback: str) -> tuple[str, str]:
        """The (language, text) to speak in ``language``, else in ``fallback``, else the first."""
        table = dict(self.texts)
        for lang in (language, fallback):
            if lang in table:
                return lang, table[lang]
        return self.texts[0]

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(lang for lang, _ in self.texts)


class SayKind(Enum):
    """How a ``say`` step speaks its value."""

    DIGITS = "digits"
    NUMBER = "number"
    DURATION = "duration"


class LookupBy(Enum):
    """What a ``lookup`` step looks a contact up by."""

    NUMBER = "number"
    CODE = "code"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayStep:
    id: str
    prompts: tuple[Prompt, ...]
    barge_in: bool = False
    next: Target = HANGUP


@dataclass(frozen=True, slots=True, kw_only=True)
class SayStep:
    id: str
    kind: SayKind
    value: str  # a template such as "{code}"
    next: Target = HANGUP


@dataclass(frozen=True, slots=True, kw_only=True)
class SetLanguageStep:
    id: str
    language: str
    next: Target = HANGUP


@dataclass(frozen=True, slots=True, kw_only=True)
class HoursStep:
    id: str
    calendar: str
    open: Target
    closed: Target
    holiday: Target | None = None  # None: a holiday counts as closed


@dataclass(frozen=True, slots=True, kw_only=True)
class MenuStep:
    """Play ``prompt``, wait ``timeout`` seconds for one key, pick the option it names.

    A key that is not an option plays ``invalid``; silence plays ``no_input`` (or
    ``invalid``); either counts an attempt. After ``retries`` failed attempts the flow goes
    to ``fail``.
    """

    id: str
    prompt: tuple[Prompt, ...]
    options: tuple[tuple[str, Target], ...]
    timeout: float = 5.0
    retries: int = 3
    invalid: tuple[Prompt, ...] = ()
    no_input: tuple[Prompt, ...] = ()
    fail: Target = HANGUP


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectStep:
    """Play ``prompt`` and collect ``min``..``max`` digits into variable ``into``.

    Collection ends at ``max`` digits, at the ``terminator`` key (not stored), or when
    ``timeout`` seconds pass after a digit (``first_timeout`` before the first one). Fewer
    than ``min`` digits is a failed attempt, as in a menu.
    """

    id: str
    prompt: tuple[Prompt, ...]
    into: str
    min: int = 1
    max: int = 20
    terminator: str | None = "#"
    timeout: float = 5.0
    first_timeout: float = 5.0
    retries: int = 3
    invalid: tuple[Prompt, ...] = ()
    fail: Target = HANGUP
    next: Target = HANGUP


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupStep:
    """Ask the runtime for the contact by the caller's number or by a code in ``var``."""

    id: str
    by: LookupBy
    var: str | None  # None with by=number: the caller's number
    found: Target
    unknown: Target
    timeout: float = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class BranchStep:
    id: str
    var: str
    cases: tuple[tuple[str, Target], ...]
    default: Target


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpStep:
    """GET ``url`` (placeholders only after the host); the reply goes into ``into``."""

    id: str
    url: str
    into: str | None
    ok: Target
    error: Target
    timeout: float = 3.0


@dataclass(frozen=True, slots=True, kw_only=True)
class GotoStep:
    id: str
    target: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteStep:
    id: str
    destination: Destination


Step = (
    PlayStep
    | SayStep
    | SetLanguageStep
    | HoursStep
    | MenuStep
    | CollectStep
    | LookupStep
    | BranchStep
    | HttpStep
    | GotoStep
    | RouteStep
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    """A named call flow: its default ``language``, first step ``start`` and its steps."""

    name: str
    language: str
    start: str
    steps: tuple[Step, ...]
    _index: dict[str, Step] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {step.id: step for step in self.steps})

    def step(self, step_id: str) -> Step:
        """The step called ``step_id`` (a loaded flow has every step it refers to)."""
        return self._index[step_id]
