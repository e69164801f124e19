"""What an :class:`~tamas.ivr.session.IvrSession` asks the runtime to do."""

from __future__ import annotations

from dataclasses import dataclass

from tamas.core.events import LogRecord
from tamas.ivr.model import Destination, LookupBy

__all__ = [
    "AudioFile",
    "CollectDigits",
    "Command",
    "HttpRequest",
    "Log",
    "LookupContact",
    "Play",
    "PlayItem",
    "Route",
    "Speech",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Speech:
    """Text to speak with TTS in ``language``."""

    text: str
    language: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioFile:
    """A prompt file (path as written in the flow; the configuration checked it exists)."""

    path: str


PlayItem = Speech | AudioFile


@dataclass(frozen=True, slots=True, kw_only=True)
class Play:
    """Play ``items`` in order, then send ``PlayFinished(play_id)``.

    With ``barge_in`` the caller's first key stops the playback (the key is still sent as
    ``DigitPressed``); ``PlayFinished`` for a stopped playback may be sent or not.
    """

    play_id: int
    items: tuple[PlayItem, ...]
    language: str
    barge_in: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectDigits:
    """The session now wants keys (send each as ``DigitPressed``); the session keeps time.

    The fields say what is collected, for a runtime that prefers to gather digits itself
    and send them as one ``Digits`` event.
    """

    min: int
    max: int
    terminator: str | None
    timeout: float
    first_timeout: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """The flow is over: send the call to ``destination`` (or hang up)."""

    destination: Destination


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpRequest:
    """GET ``url`` off the loop; answer with ``HttpResult(request_id, ...)``."""

    request_id: int
    url: str
    timeout: float


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupContact:
    """Find the contact by ``by`` = ``value``; answer with ``ContactResult(request_id, ...)``."""

    request_id: int
    by: LookupBy
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Log:
    """Append ``record`` to the event log."""

    record: LogRecord


Command = Play | CollectDigits | Route | HttpRequest | LookupContact | Log
