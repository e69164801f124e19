"""The composition root: builds every runtime object once, starts listeners, runs until a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tamas import __version__
from tamas.config import Config
from tamas.config.model import MediaApplication
from tamas.core.errors import TamasError
from tamas.media.playback import MusicOnHold
from tamas.media.recording import Layout
from tamas.runtime.anchor import BridgeLookup, MediaAnchor
from tamas.runtime.apps import Applications, Int16Array, chime
from tamas.runtime.authn import Authenticator
from tamas.runtime.b2bua import B2BUA
from tamas.runtime.callcenter.audio import Speaker
from tamas.runtime.callcenter.build import build_center
from tamas.runtime.callcenter.cdrs import CdrWriter
from tamas.runtime.callcenter.center import CallCenter
from tamas.runtime.contacts import ContactLookup
from tamas.runtime.endpoint import SipEndpoint
from tamas.runtime.eventlog import EventLog
from tamas.runtime.gcpolicy import GcPolicy
from tamas.runtime.live import LiveService
from tamas.runtime.logs import setup_logging
from tamas.runtime.mediaengine import LocalMediaEngine, MediaEvent
from tamas.runtime.mediaengine.api import (
    CodecName,
    LegStats,
    MediaEngine,
    MediaError,
    MediaLeg,
    Tap,
)
from tamas.runtime.prompts import PromptLoader
from tamas.runtime.protection import Protection
from tamas.runtime.recorder import Recorder
from tamas.runtime.recording_control import (
    CallBridge,
    CallMediaLookup,
    RecordingControl,
    RecordingPolicy,
)
from tamas.runtime.registrar import Location, Registrar
from tamas.runtime.reports import ReportMaintainer
from tamas.runtime.routing import Router
from tamas.runtime.storewriter import StoreWriter
from tamas.runtime.tlscert import ensure_self_signed, server_context
from tamas.runtime.transports import Transports
from tamas.runtime.trunks import TrunkRegistrations
from tamas.runtime.tts import TextToSpeech
from tamas.runtime.voicemail import Voicemail, access_applications
from tamas.runtime.voicemail_mail import Mailer
from tamas.store import Store, open_store
from tamas.store.contacts import Contacts
from tamas.store.ivr_flows import IvrFlows
from tamas.store.voicemail import Voicemails

log = logging.getLogger("tamas")


#: Something started beside SIP (e.g. the HTTP API) given the running server; returns its stop
#: function.
Service = Callable[["Running"], Awaitable[Callable[[], Awaitable[None]]]]


def run(config: Config, services: Sequence[Service] = ()) -> int:
    """Run the server until SIGINT/SIGTERM. Returns the process exit code."""
    setup_logging(config.logging.level, config.logging.format)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        pass
    try:
        return int(asyncio.run(serve(config, services=services)))
    except OSError as e:
        log.error("cannot start: %s", e)
        return 1


@dataclass(frozen=True, slots=True)
class SipStack:
    """The SIP side of a running Tamas, wired; transports are attached by the caller."""

    endpoint: SipEndpoint
    b2bua: B2BUA
    location: Location
    trunk_regs: TrunkRegistrations


def build_sip_stack(config: Config, store: Store, writer: StoreWriter) -> SipStack:
    """Build the endpoint, registrar, router and B2BUA (must run inside the event loop)."""
    srv = config.server
    sec = config.security
    protection = Protection(
        rate=sec.rate_limit.messages_per_second, burst=float(sec.rate_limit.burst),
        ban_failures=sec.auth_ban.failures, ban_window=sec.auth_ban.window_seconds,
        ban_seconds=sec.auth_ban.ban_seconds, log=logging.getLogger("tamas.security"),
    )  # fmt: skip
    endpoint = SipEndpoint(protection=protection, user_agent=f"{srv.user_agent}/{__version__}",
                           trace=config.logging.sip_trace)  # fmt: skip
    location = Location()
    location.load(store.registrations.load_bindings(time.time()))
    router = Router(config, location)
    auth = Authenticator(endpoint, protection, realm=srv.domain,
                         nonce_ttl=float(sec.nonce_ttl_seconds),
                         algorithms=tuple(sec.digest_algorithms),
                         password_for=router.password_for)  # fmt: skip
    registrar = Registrar(endpoint, auth, location, writer, max_contacts=lambda u: (
        router.extensions[u].max_contacts if u in router.extensions else None))  # fmt: skip
    trunk_regs = TrunkRegistrations(endpoint, router)
    b2bua = B2BUA(config, endpoint, router, auth, registrar, trunk_regs, writer)
    endpoint.tu = b2bua
    return SipStack(endpoint, b2bua, location, trunk_regs)


@dataclass(frozen=True, slots=True)
class MediaRuntime:
    """The media side of a running Tamas: the engine and the B2BUA's anchor."""

    engine: LocalMediaEngine
    anchor: MediaAnchor
    apps: Applications
    speaker: Speaker

    async def aclose(self) -> None:
        self.speaker.close()
        self.apps.close()
        self.anchor.close_all()
        await self.engine.aclose()


async def start_media(config: Config, stack: SipStack, data_dir: Path) -> MediaRuntime | None:
    """Anchor the B2BUA's calls at a media engine (None when ``media.anchor`` is off)."""
    media = config.media
    if not media.anchor:
        return None
    srv = config.server
    address = srv.external_address or srv.bind
    if address in ("0.0.0.0", "::"):
        log.warning("media: server.bind is %s and no external_address is set; SDP would "
                    "name no reachable address", address)  # fmt: skip
    anchor_box: list[MediaAnchor] = []

    def on_event(event: MediaEvent) -> None:
        if anchor_box:
            anchor_box[0].on_event(event)

    engine = LocalMediaEngine(bind=srv.bind, port_min=media.port_min, port_max=media.port_max,
                              media_timeout=media.timeout_seconds, on_event=on_event,
                              advertise=address)  # fmt: skip
    loader = PromptLoader()
    music = chime()
    if media.music_on_hold is not None:
        try:
            music = MusicOnHold([await loader.load(media.music_on_hold)])
        except (OSError, TamasError, ValueError) as e:
            log.error("media: music_on_hold %s cannot be used (%s); playing the chime",
                      media.music_on_hold, e)  # fmt: skip
    anchor = MediaAnchor(engine, address=address, prealloc=media.prealloc_legs, music=music,
                         codecs=tuple(CodecName(c) for c in media.codecs))  # fmt: skip
    anchor_box.append(anchor)
    tts = TextToSpeech(data_dir / "tts", loader=loader)

    async def load_prompt(app: MediaApplication) -> Int16Array:
        if app.prompt_file is not None:
            return await loader.load(app.prompt_file)
        return await tts.prompt(app.text or "", voice=app.language)

    b2bua = stack.b2bua
    apps = Applications(
        anchor,
        media.applications,
        load_prompt,
        lambda call, cause: b2bua.hangup(call, cause=cause, notify=(call.a,)),
    )
    await anchor.pool.fill()
    b2bua.anchor_media(anchor, apps)
    apps.warm()
    return MediaRuntime(engine, anchor, apps, Speaker(anchor, tts, loader))


@dataclass(frozen=True, slots=True)
class Running:
    """What a service started beside SIP may use: the SIP stack, the store, recordings."""

    stack: SipStack
    store: Store
    recordings: RecordingControl
    center: CallCenter | None = None
    live: LiveService | None = None
    reports: ReportMaintainer | None = None


class _Unanchored:
    """The calls' media when ``media.anchor`` is off: no call has a bridge to record."""

    def __init__(self, b2bua: B2BUA) -> None:
        self.b2bua = b2bua

    def has_call(self, call_id: str) -> bool:
        return call_id in self.b2bua.calls

    def bridge(self, call_id: str) -> CallBridge | None:
        return None


class _NoEngine:
    """The media engine when ``media.anchor`` is off: there is none."""

    async def open_leg(self, call_id: str, label: str) -> MediaLeg:
        raise MediaError("media is not anchored (media.anchor is false)")

    def bridge(self, a: MediaLeg, b: MediaLeg, *, tap: Tap | None = None) -> None:
        raise MediaError("media is not anchored (media.anchor is false)")

    def unbridge(self, leg: MediaLeg) -> None:
        pass

    def set_tap(self, leg: MediaLeg, tap: Tap | None) -> None:
        raise MediaError("media is not anchored (media.anchor is false)")

    def send_digit(self, leg: MediaLeg, digit: str, *, duration_ms: int = 100) -> bool:
        raise MediaError("media is not anchored (media.anchor is false)")

    def close_call(self, call_id: str) -> tuple[LegStats, ...]:
        return ()

    async def aclose(self) -> None:
        pass


def start_recording(
    config: Config, stack: SipStack, media: MediaRuntime | None, writer: StoreWriter
) -> tuple[RecordingControl, Recorder]:
    """Recording control over the anchored calls: answered calls are reported to it (its
    ``always`` policy), ended calls stop their recording, and every bridge the anchor makes
    or re-makes (a transfer) carries the call's recording as its tap. Without anchoring, a
    start is refused as for a call that is not bridged."""
    rec = config.recording
    recorder = Recorder(samples=rec.samples)
    engine: MediaEngine
    lookup: CallMediaLookup
    if media is not None:
        engine, lookup = media.engine, BridgeLookup(stack.b2bua)
    else:
        engine, lookup = _NoEngine(), _Unanchored(stack.b2bua)
    control = RecordingControl(recorder=recorder, engine=engine, lookup=lookup, store=writer,
                               data_dir=Path(config.data_dir), policy=RecordingPolicy(rec.policy),
                               layout=Layout(rec.layout))  # fmt: skip
    if media is not None:
        media.anchor.answered_hooks.append(control.call_answered)
        media.anchor.ended_hooks.append(control.call_ended)
        media.anchor.tap_for = control.tap
    log.info("recording: policy %s, %s", rec.policy,
             f"{rec.layout}, {rec.samples}" if media else "media not anchored")  # fmt: skip
    return control, recorder


async def serve(
    config: Config,
    *,
    ready: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
    services: Sequence[Service] = (),
) -> int:
    data_dir = Path(config.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(config.database_url_resolved())
    writer = StoreWriter(store)
    srv = config.server
    stack = build_sip_stack(config, store, writer)
    endpoint, trunk_regs = stack.endpoint, stack.trunk_regs
    # idle_timeout=None: a registered phone's connection must stay open for its incoming calls
    transports = Transports(endpoint, log=logging.getLogger("tamas.transport"), idle_timeout=None)
    endpoint.transports = transports.sender  # UDP straight to its listener, the rest here

    advertised = srv.external_address or srv.bind
    udp = await transports.start_udp(srv.bind, srv.sip_port)
    tcp = await transports.start_tcp(srv.bind, srv.sip_port)
    endpoint.advertised = {"UDP": (advertised, udp), "TCP": (advertised, tcp)}
    if srv.tls_port or srv.wss_port:
        cert, key = _tls_files(config, data_dir)
        ctx = server_context(cert, key)
        if srv.tls_port:
            endpoint.advertised["TLS"] = (
                advertised,
                await transports.start_tls(srv.bind, srv.tls_port, ctx),
            )
        if srv.wss_port:
            endpoint.advertised["WSS"] = (
                advertised,
                await transports.start_ws(srv.bind, srv.wss_port, ctx),
            )
    if srv.ws_port:
        endpoint.advertised["WS"] = (advertised, await transports.start_ws(srv.bind, srv.ws_port))
    listening = ", ".join(f"{t} {h}:{p}" for t, (h, p) in endpoint.advertised.items())
    log.info(
        "Tamas %s listening: %s; store %s; %d extensions, %d trunks",
        __version__,
        listening,
        store.url,
        len(config.extensions),
        len(config.trunks),
    )
    media = await start_media(config, stack, data_dir)
    recordings, recorder = start_recording(config, stack, media, writer)
    # the event log is open (and what a crash left unstored is stored) before any call
    event_log = await asyncio.to_thread(
        lambda: EventLog.open(data_dir / "events", store, fsync=config.events.fsync,
                              keep_segments=config.events.keep_segments))  # fmt: skip
    event_log.subscribe(CdrWriter(writer).on_batch)
    members: dict[str, list[str]] = {q.name: [] for q in config.queues}
    for agent in config.agents:
        for queue in agent.queues:
            members.setdefault(queue, []).append(agent.id)
    live = LiveService(members)
    event_log.subscribe(live.on_batch)
    # the KPI aggregates follow the stored events (a thread; woken by each append)
    report_maintainer = ReportMaintainer(store.engine, config.reports.settings(),
                                         zone=config.reports.timezone)  # fmt: skip
    report_maintainer.start()
    event_log.subscribe(report_maintainer.notify)
    center = None
    contact_lookup = ContactLookup(Contacts(store.engine))
    if media is not None:
        center = build_center(config, stack.b2bua, media.anchor, media.apps, media.speaker,
                              event_log.append, stack.b2bua.registrar,
                              contacts=contact_lookup,
                              flow_store=IvrFlows(store.engine))  # fmt: skip
    elif config.queues or config.ivr:
        log.warning("queues and IVR flows need media.anchor: true; they are not served")
    voicemail: Voicemail | None = None
    mailer = Mailer(config.voicemail.smtp)
    if media is not None:
        speaker, b2bua = media.speaker, stack.b2bua
        voicemail = Voicemail(
            config.voicemail, anchor=media.anchor, recorder=recorder,
            messages=Voicemails(store.engine), data_dir=data_dir,
            speak=lambda text, language: speaker.tts.prompt(text, voice=language),
            load_file=speaker.prompts.load, mailer=mailer,
            emit=lambda record: event_log.append([record]),
            hang_up=lambda call, cause: b2bua.hangup(call, cause=cause, notify=(call.a,)),
        )  # fmt: skip
        media.apps.handlers["voicemail"] = voicemail.handle_application
        media.apps.handlers["voicemail_main"] = voicemail.handle_application
        for app in access_applications(config.voicemail):
            media.apps.apps.setdefault(app.number, app)
        if center is not None:
            center.voicemail = voicemail
    trunk_regs.start()
    running = Running(stack, store, recordings, center, live, report_maintainer)
    stoppers = [await start(running) for start in services]
    gc_policy = GcPolicy()
    gc_policy.start()
    stack.b2bua.overload.start()

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
            loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready.set()
    await stop.wait()
    log.info("stopping")
    gc_policy.stop()
    stack.b2bua.overload.stop()
    for stop_service in stoppers:
        await stop_service()
    trunk_regs.stop()
    # Every recording's end is fixed now, its file completed and its row written before the
    # recorder thread and the store writer close: SIGTERM loses no recording's end.
    await recordings.aclose()
    if voicemail is not None:
        await voicemail.aclose()  # messages in progress are kept, as on hang-up
    await recorder.aclose()
    if center is not None:
        center.close()
    await contact_lookup.aclose()  # look-ups under way finish before the store closes
    await asyncio.to_thread(event_log.close)
    await asyncio.to_thread(report_maintainer.stop)
    await asyncio.sleep(0.05)
    if media is not None:
        await media.aclose()
    await transports.close()
    writer.close()
    store.close()
    # last: mail still queued is sent (it may wait on a slow SMTP server) once every record is
    # safe in the store, so a supervisor's SIGKILL after its grace time loses no data
    await asyncio.to_thread(mailer.close)
    return 0


def _tls_files(config: Config, data_dir: Path) -> tuple[Path, Path]:
    if config.tls.cert_file and config.tls.key_file:
        return Path(config.tls.cert_file), Path(config.tls.key_file)
    return ensure_self_signed(data_dir, config.server.domain)
