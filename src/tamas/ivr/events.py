"""What the runtime tells an :class:`~tamas.ivr.session.IvrSession`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CallerHungUp",
    "ContactResult",
    "DigitPressed",
    "Digits",
    "Event",
    "HttpResult",
    "PlayFinished",
    "Tick",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayFinished:
    """The playback started by ``Play(play_id)`` has ended."""

    play_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DigitPressed:
    """The caller pressed one key (0-9, *, #, A-D)."""

    digit: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Digits:
    """Several keys at once, handled as one ``DigitPressed`` each, in order."""

    digits: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpResult:
    """The answer to ``HttpRequest(request_id)``.

    ``status`` is the HTTP status (0 when no response came), ``body`` the decoded JSON value
    or the text, ``error`` a short reason when the request failed.
    """

    request_id: int
    status: int = 0
    body: object = None
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactResult:
    """The answer to ``LookupContact(request_id)``.

    ``contact_id`` is ``None`` when nothing was found and nothing created; ``created`` is
    true when the runtime created a new contact (the caller was unknown).
    """

    request_id: int
    contact_id: str | None
    created: bool = False
    fields: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallerHungUp:
    """The caller hung up; the session ends."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Tick:
    """Time has passed (sent at or after ``next_deadline()``)."""


Event = PlayFinished | DigitPressed | Digits | HttpResult | ContactResult | CallerHungUp | Tick
