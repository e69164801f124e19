"""The values the store reads and writes: frozen dataclasses, no SQLAlchemy in sight."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypedDict


@dataclass(frozen=True, slots=True, kw_only=True)
class Binding:
    """One registered contact of an address-of-record (RFC 3261 section 10.3).

    ``flow_*`` is where the REGISTER arrived from (the connection or source address that
    requests to this contact go back through, RFC 5626); times are epoch seconds.
    """

    aor: str
    contact_uri: str
    flow_transport: str
    flow_host: str
    flow_port: int
    expires_at: float
    call_id: str
    cseq: int
    user_agent: str = ""
    instance_id: str | None = None
    q: float | None = None
    updated_at: float = 0.0


class CallDirection(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRecord:
    """One call as a whole (a CDR row). ``call_id`` is Tamas's own call id, not a SIP Call-ID."""

    call_id: str
    caller: str
    callee: str
    direction: CallDirection
    started_at: float
    trunk: str | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    cause: str = ""
    status: int | None = None


class CallUpdate(TypedDict, total=False):
    """The fields of a CallRecord that may change after it was inserted."""

    callee: str
    trunk: str | None
    answered_at: float | None
    ended_at: float | None
    cause: str
    status: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Ban:
    """A source address refused until ``until`` (epoch seconds), and why."""

    source: str
    reason: str
    banned_at: float
    until: float


class RecordingLayout(enum.StrEnum):
    STEREO = "stereo"  # caller left, agent right
    MONO = "mono"  # both sides mixed


class RecordingStatus(enum.StrEnum):
    OK = "ok"
    FAILED = "failed"  # the file could not be completed (``error`` says why)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingPause:
    """A paused (silenced) stretch of a recording, in seconds from its start."""

    start: float
    end: float


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingRecord:
    """One finished recording of a call: where its WAV file is and what it holds.

    ``path`` is relative to the data directory, with ``/`` separators. ``started_at`` is epoch
    seconds; ``duration`` the seconds of audio in the file (start to stop, pauses included).
    ``*_packets`` count the RTP packets recorded from each side, ``*_late`` those that came
    too late to be placed (a sign of network trouble on that side).
    """

    id: str
    call_id: str
    path: str
    layout: RecordingLayout
    channels: int
    rate: int
    started_at: float
    duration: float
    paused_spans: tuple[RecordingPause, ...] = ()
    caller_packets: int = 0
    caller_late: int = 0
    agent_packets: int = 0
    agent_late: int = 0
    status: RecordingStatus = RecordingStatus.OK
    error: str = ""
