"""The contact-center sections: ``queues:``, ``agents:``, ``calendars:``, ``ivr:`` and
``features:`` (the feature codes agents dial).

A *destination* (where a queue overflows, what an exit key does) is written as one string,
``kind:target``: ``queue:support``, ``voicemail:100``, ``ivr:main``, ``extension:1001``,
``external:02188776655``, or a bare ``callback`` or ``hangup``. References to queues, flows,
extensions and calendars are checked in :mod:`tamas.config.checks`; IVR flows are checked by
:func:`tamas.ivr.load_flows` (see docs/ivr.md).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from tamas.config.section import Section

__all__ = [
    "DESTINATION_KINDS",
    "STRATEGIES",
    "AgentConfig",
    "FeatureCodes",
    "QueueConfig",
    "parse_destination",
]

STRATEGIES = (
    "ringall", "longest_idle", "least_talk", "fewest_calls", "round_robin", "sequential",
    "random", "hunt3_priority", "hunt3_random", "skills",
)  # fmt: skip
DESTINATION_KINDS = ("queue", "voicemail", "ivr", "extension", "external", "callback", "hangup")
_BARE = ("callback", "hangup")
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_DIAL = re.compile(r"\+?[0-9*#]+")


def parse_destination(value: str) -> tuple[str, str]:
    """``"queue:sales"`` -> ``("queue", "sales")``; raises ValueError with the accepted forms."""
    kind, sep, target = value.partition(":")
    kind = kind.strip()
    target = target.strip()
    if kind in _BARE and not sep:
        return kind, ""
    if kind not in DESTINATION_KINDS or kind in _BARE or not target:
        raise ValueError(
            "must be queue:NAME, voicemail:BOX, ivr:FLOW, extension:NUMBER, external:NUMBER, "
            "callback or hangup"
        )
    return kind, target


def _destination(value: str) -> str:
    parse_destination(value)
    return value


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError("may contain only letters, digits, '_', '.' and '-'")
    return value


def _dial(value: str) -> str:
    if not _DIAL.fullmatch(value):
        raise ValueError("may contain only digits, '*', '#' and a leading '+'")
    return value


Destination = Annotated[str, AfterValidator(_destination)]
Name = Annotated[str, AfterValidator(_name)]
DialNumber = Annotated[str, AfterValidator(_dial)]
Seconds = Annotated[float, Field(ge=0)]
Level = Annotated[int, Field(ge=1, le=10)]
Penalty = Annotated[int, Field(ge=0, le=100)]


class QueueConfig(Section):
    """One ACD queue (see docs/acd.md for what each setting does)."""

    name: Name
    strategy: Literal[
        "ringall", "longest_idle", "least_talk", "fewest_calls", "round_robin", "sequential",
        "random", "hunt3_priority", "hunt3_random", "skills",
    ] = "longest_idle"  # fmt: skip
    ring_timeout: float = Field(default=15.0, gt=0)
    retry: Seconds = 2.0
    wrapup: Seconds = 10.0
    max_callers: int | None = Field(default=None, ge=1)
    max_wait: float | None = Field(default=None, gt=0)
    join_empty: bool = True
    leave_empty: bool = False
    #: Where callers go: ``full`` (max_callers), ``timeout`` (max_wait), ``empty`` (no agent).
    overflow: dict[Literal["full", "timeout", "empty"], Destination] = {}
    announce_every: float | None = Field(default=30.0, gt=0)
    announce_position: bool = True
    announce_wait: bool = True
    #: Keys a waiting caller may press, e.g. ``{"1": "voicemail:100", "2": "callback"}``.
    exit_keys: dict[Annotated[str, Field(pattern=r"^[0-9*#]$")], Destination] = {}
    #: Offer a callback when the estimated wait exceeds this many seconds (null: never).
    callback_offer_wait: float | None = Field(default=None, ge=0)
    callback_retries: int = Field(default=3, ge=0)
    callback_retry_delay: float = Field(default=300.0, gt=0)
    autopause_misses: int = Field(default=3, ge=0)
    #: Seconds of waiting after which agents with penalty 1, 2, ... are also rung.
    tier_wait: tuple[Seconds, ...] = ()
    #: What calls in this queue need: ``{skill: minimum level}`` (strategy ``skills``).
    skills: dict[Name, Level] = {}
    #: Seconds of waiting per level the skill requirement drops (null: never relaxed).
    skill_relax: float | None = Field(default=None, gt=0)
    survey: bool = False
    language: str = "en"


class AgentConfig(Section):
    """A person who answers calls; logs in on a device (an extension)."""

    id: Name
    name: str = ""
    #: The extension this agent logs in on by default (and ``login_when_registered``).
    extension: DialNumber | None = None
    #: Digits an agent dials after the login code to log in on any phone (``*50`` + PIN);
    #: ``*50`` alone logs in the agent whose ``extension`` is the phone dialing.
    pin: Annotated[str, Field(pattern=r"^[0-9]{4,12}$")] | None = None
    skills: dict[Name, Level] = {}
    #: Queues served, each with a penalty (0 is rung first; higher tiers open as calls wait).
    queues: dict[Name, Penalty] = {}
    wrapup: float | None = Field(default=None, ge=0)
    #: Logged in whenever ``extension`` is registered, logged out when it unregisters.
    login_when_registered: bool = False


class FeatureCodes(Section):
    """Numbers agents dial from their phone."""

    agent_login: DialNumber = "*50"
    agent_logout: DialNumber = "*51"
    agent_pause: DialNumber = "*52"  # followed by a reason code digit, e.g. *521
    agent_unpause: DialNumber = "*53"
    #: Reason codes for ``agent_pause`` + digit.
    pause_reasons: dict[Annotated[str, Field(pattern=r"^[0-9]$")], Name] = {
        "1": "break", "2": "lunch", "3": "training", "4": "meeting",
    }  # fmt: skip


#: ``calendars:`` and ``ivr:`` are kept as the YAML gave them and parsed by tamas.ivr, whose
#: errors carry the key path (so they are reported at the file's line like any other).
RawSection = dict[str, Any]
