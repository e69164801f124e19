"""The configuration model: frozen pydantic models, unknown keys rejected.

Field-level rules live here (types, ranges, formats). Rules that relate several parts of the
file (unique numbers, references to trunks and extensions) live in ``checks.py`` so that they
can name the exact key that is wrong.
"""

from __future__ import annotations

import ipaddress
import re
import warnings
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from tamas.config.center import AgentConfig, Destination, FeatureCodes, QueueConfig, RawSection
from tamas.config.reports import ReportsConfig
from tamas.config.section import Section
from tamas.config.simulation import SimulationConfig
from tamas.config.voicemail import VoicemailConfig

_DIGITS = re.compile(r"[0-9]+")
_DIAL = re.compile(r"[0-9*#+]*")


def _ip_address(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ValueError("must be an IP address such as 127.0.0.1 or 0.0.0.0") from None
    return value


def _digits(value: str) -> str:
    if not _DIGITS.fullmatch(value):
        raise ValueError("must contain only digits 0-9")
    return value


def _dial_string(value: str) -> str:
    if not _DIAL.fullmatch(value):
        raise ValueError("may contain only digits, '*', '#' and '+'")
    return value


def _did(value: str) -> str:
    return value if value == "*" else _dial_string(value)


def _sip_uri(value: str) -> str:
    if not value.lower().startswith(("sip:", "sips:")) or len(value.split(":", 1)[1]) == 0:
        raise ValueError("must be a SIP URI such as sip:1001@192.0.2.10:5060")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Port = Annotated[int, Field(ge=0, le=65535)]
IpAddress = Annotated[str, AfterValidator(_ip_address)]
Digits = Annotated[str, AfterValidator(_digits)]
DialString = Annotated[str, AfterValidator(_dial_string)]
Name = Annotated[str, AfterValidator(_not_blank)]


class ServerConfig(Section):
    bind: IpAddress = "127.0.0.1"
    external_address: str | None = None
    sip_port: Port = 5060
    tls_port: Port = 5061
    ws_port: Port = 8089
    wss_port: Port = 8090
    http_port: Port = 8080
    domain: Name = "tamas.local"
    user_agent: Name = "Tamas"
    #: Bearer token that admits HTTP API requests from any address (recordings); null: the
    #: recording API answers loopback only.
    api_token: Annotated[str, AfterValidator(_not_blank)] | None = None

    @property
    def advertised_address(self) -> str:
        """The address put in Via/Contact: ``external_address`` or else ``bind``."""
        return self.external_address or self.bind


class TlsConfig(Section):
    cert_file: Path | None = None
    key_file: Path | None = None


class LoggingConfig(Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["text", "json"] = "text"
    sip_trace: bool = False


class RateLimitConfig(Section):
    messages_per_second: float = Field(default=100.0, gt=0)
    burst: int = Field(default=200, ge=1)


class AuthBanConfig(Section):
    failures: int = Field(default=5, ge=1)
    window_seconds: float = Field(default=60.0, gt=0)
    ban_seconds: float = Field(default=600.0, ge=0)


class SecurityConfig(Section):
    rate_limit: RateLimitConfig = RateLimitConfig()
    auth_ban: AuthBanConfig = AuthBanConfig()
    nonce_ttl_seconds: int = Field(default=300, ge=1)
    digest_algorithms: tuple[Literal["MD5", "SHA-256"], ...] = Field(default=("MD5",), min_length=1)


class Extension(Section):
    number: Digits
    name: str = ""
    password: str | None = None
    enabled: bool = True
    max_contacts: int = Field(default=5, ge=1)
    contact: Annotated[str, AfterValidator(_sip_uri)] | None = None
    ring_timeout: int = Field(default=30, ge=1)
    #: May monitor other extensions' calls (``kind: monitor`` applications).
    supervisor: bool = False
    #: Conditional forwarding: where an unanswered call goes instead of failing, by why it
    #: was not answered (``busy``: 486/600; ``no_answer``: rang ``ring_timeout`` seconds or
    #: 408; ``unavailable``: no phone registered, 480; ``closed``: outside ``hours``, not
    #: rung at all). Destinations as in ``queues:``.
    forward: dict[Literal["busy", "no_answer", "unavailable", "closed"], Destination] = {}
    #: The extension's business hours: a calendar under ``calendars:`` (``forward.closed``).
    hours: str | None = None

    @property
    def display_name(self) -> str:
        return self.name or self.number


# ``register`` is the natural key name; pydantic warns because ABCMeta (the models' metaclass)
# has a ``register`` method, which instances never see, so the warning is silenced here only.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message='Field name "register"', category=UserWarning)

    class Trunk(Section):
        name: Name
        host: Name
        port: int = Field(default=5060, ge=1, le=65535)
        transport: Literal["udp", "tcp", "tls"] = "udp"
        username: str | None = None
        password: str | None = None
        auth_username: str | None = None
        realm: str | None = None
        register: bool = False
        register_expires: int = Field(default=300, ge=1)
        from_user: str | None = None
        from_domain: str | None = None
        inbound_match: Literal["source", "none"] = "source"
        match_port: bool = False
        #: How the carrier sends key presses: RFC 4733 telephone-events, or tones in the audio.
        dtmf: Literal["rfc4733", "inband"] = "rfc4733"

        @property
        def auth_user(self) -> str | None:
            """The digest username: ``auth_username`` or else ``username``."""
            return self.auth_username or self.username


class DialRule(Section):
    prefix: DialString = ""
    strip: int = Field(default=0, ge=0)
    prepend: DialString = ""
    trunk: Name


class InboundRoute(Section):
    did: Annotated[str, AfterValidator(_did)]
    destination: Digits
    trunk: str | None = None


class MediaApplication(Section):
    """A number Tamas answers itself (``*43`` echo test, a prompt that plays then hangs up,
    a ``conference`` room, or a ``monitor`` prefix followed by the extension to monitor)."""

    number: Annotated[str, AfterValidator(_dial_string), AfterValidator(_not_blank)]
    kind: Literal[
        "echo",
        "prompt",
        "conference",
        "monitor",
        "ivr",
        "queue",
        "voicemail",
        "voicemail_main",
        "agent",
        "park",
        "ring_group",
    ]
    #: For ``monitor``: what the supervisor does (listen, whisper to the agent, barge in).
    mode: Literal["listen", "whisper", "barge"] = "listen"
    #: For ``prompt``: a WAV file (any common format), or else ``text`` spoken by espeak-ng.
    prompt_file: Path | None = None
    text: str | None = None
    language: Annotated[str, AfterValidator(_not_blank)] = "en"
    #: For ``ivr``: the flow (a key of ``ivr:``) the caller enters.
    flow: str | None = None
    #: For ``agent``: what the agent's feature code does (``pause`` may be followed by a
    #: reason digit, see ``features.pause_reasons``).
    action: Literal["login", "logout", "pause", "unpause"] | None = None
    #: For ``ring_group``: the extensions rung, how (all at once, or one after another in
    #: this order), for how long each round or each member, and where the call goes when
    #: nobody answers (a destination as in ``queues:``; none: the caller hears busy).
    members: tuple[str, ...] = ()
    ring_strategy: Literal["ringall", "hunt"] = "ringall"
    ring_seconds: float = Field(default=20.0, gt=0)
    fallback: Destination | None = None
    #: For ``park``: seconds a parked call waits before it rings the extension that parked it.
    park_seconds: float = Field(default=120.0, gt=0)
    #: For ``queue``: the queue (a name under ``queues:``) the caller joins.
    queue: str | None = None
    #: For ``voicemail``: the mailbox a caller leaves a message in.
    box: str | None = None


class MediaConfig(Section):
    """RTP anchoring: every call's audio flows through Tamas (see docs/admin-guide.md)."""

    #: False: SDP passes through unchanged and RTP goes directly between the parties.
    anchor: bool = True
    port_min: int = Field(default=20000, ge=1024, le=65534)
    port_max: int = Field(default=29999, ge=1025, le=65535)
    #: A call whose RTP stops for this many seconds is hung up; 0 turns it off.
    timeout_seconds: float = Field(default=30.0, ge=0)
    #: A WAV file played to a held party; null: a generated soft chime.
    music_on_hold: Path | None = None
    #: Legs opened ahead of time so that an INVITE never waits for a socket.
    prealloc_legs: int = Field(default=8, ge=1, le=1000)
    #: Codec preference (docs/media-engine.md): G.711 always; list ``G722`` to let phones
    #: that offer it talk wideband (first when before PCMU and PCMA).
    codecs: tuple[Literal["G722", "PCMU", "PCMA"], ...] = ("PCMU", "PCMA")
    applications: tuple[MediaApplication, ...] = ()


class RecordingConfig(Section):
    """Call recording (docs/recording.md); needs ``media.anchor``."""

    #: ``on_request``: only calls asked for (the API); ``always``: every answered call.
    policy: Literal["on_request", "always"] = "on_request"
    #: ``stereo``: caller left, the other party right; ``mono``: both mixed.
    layout: Literal["stereo", "mono"] = "stereo"
    #: ``g711``: the call's own G.711 codes, 8 bits a sample (µ-law, or A-law when the caller
    #: talks A-law): what came off the wire, half the disk of ``pcm16`` (16-bit linear PCM).
    samples: Literal["g711", "pcm16"] = "g711"


class EventLogConfig(Section):
    """The event log's journal (docs/event-log.md)."""

    #: always: fsync each append; interval: at most 0.2 s lost on power loss; never: the
    #: kernel's choice. A kill -9 of Tamas loses nothing in any of them.
    fsync: Literal["always", "interval", "never"] = "interval"
    #: Keep journal segments after their records are in the database.
    keep_segments: bool = False


class Config(Section):
    """A whole Tamas configuration (one YAML file)."""

    server: ServerConfig = ServerConfig()
    data_dir: Path = Path("./tamas-data")
    database_url: str | None = None
    tls: TlsConfig = TlsConfig()
    logging: LoggingConfig = LoggingConfig()
    security: SecurityConfig = SecurityConfig()
    extensions: tuple[Extension, ...] = ()
    trunks: tuple[Trunk, ...] = ()
    dialplan: tuple[DialRule, ...] = ()
    inbound: tuple[InboundRoute, ...] = ()
    media: MediaConfig = MediaConfig()
    recording: RecordingConfig = RecordingConfig()
    voicemail: VoicemailConfig = VoicemailConfig()
    events: EventLogConfig = EventLogConfig()
    reports: ReportsConfig = ReportsConfig()
    queues: tuple[QueueConfig, ...] = ()
    agents: tuple[AgentConfig, ...] = ()
    features: FeatureCodes = FeatureCodes()
    #: Business-hours calendars by name (see docs/ivr.md).
    calendars: RawSection = {}
    #: IVR flows by name (see docs/ivr.md); ``media.applications`` kind ``ivr`` gives a number.
    ivr: RawSection = {}
    simulation: SimulationConfig = SimulationConfig()

    def database_url_resolved(self) -> str:
        """``database_url`` or, by default, SQLite at ``<data_dir>/tamas.db`` (absolute path)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir.expanduser().absolute() / 'tamas.db'}"

    def extension(self, number: str) -> Extension | None:
        return next((e for e in self.extensions if e.number == number), None)

    def trunk(self, name: str) -> Trunk | None:
        return next((t for t in self.trunks if t.name == name), None)

    def demo_password_extensions(self) -> tuple[str, ...]:
        """Numbers of enabled extensions still using the published demo password ``demo<N>``."""
        return tuple(
            e.number for e in self.extensions if e.enabled and e.password == f"demo{e.number}"
        )
