"""Voicemail end to end: the real B2BUA and media engine (SIP in memory, RTP on 127.0.0.1),
the recorder thread, a store, and a local SMTP server.

The voicemail kinds are reached the way the composition root wires them: application
handlers (``Applications.handlers``) calling :meth:`Voicemail.handle_application`. Prompts are
spoken by a fake speaker at the seam (a short tone per phrase, the text kept), so that the
tests do not wait for espeak-ng; the greeting file, the beep, the recording, the WAV, the
e-mail and the store are real.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import subprocess
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from memsip import until
from test_b2bua_conferencing import AppCall, app_call
from test_b2bua_media import CONFIG, Media
from test_b2bua_media import play as media_play

from tamas.config.voicemail import VoicemailConfig
from tamas.core.events import LogRecord
from tamas.media.g711 import ulaw_decode, ulaw_encode
from tamas.media.goertzel import goertzel_power
from tamas.media.tones import sine
from tamas.runtime.recorder import Recorder
from tamas.runtime.voicemail import Voicemail
from tamas.runtime.voicemail_mail import Mailer
from tamas.store import CallRecord, open_store
from tamas.store.voicemail import MessageStatus, VoicemailMessage, Voicemails

try:
    from aiosmtpd import controller as aiosmtpd_controller
except ImportError:  # the e-mail test is skipped; the others run without a mail server
    aiosmtpd_controller = None

APPS = """
    - {{number: "*99", kind: voicemail, box: "1001"}}
    - {{number: "*97", kind: voicemail_main}}
    - {{number: "*98", kind: voicemail_main}}
"""
CALLER_HZ, BEEP_HZ, MESSAGE_HZ = 440.0, 1000.0, 700.0
PIN_PROMPT = "Please enter your password, then press pound."


class Mailbox:
    """aiosmtpd handler: keeps every message received."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(bytes(envelope.original_content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Rig:
    media: Media
    vm: Voicemail
    store: Voicemails
    smtp: Mailbox
    mailer: Mailer | None
    data_dir: Path
    spoken: list[str] = field(default_factory=list)
    records: list[LogRecord] = field(default_factory=list)


Scenario = Callable[[Rig], Awaitable[None]]


def play(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    scenario: Scenario,
    *,
    mail: bool = False,
    max_seconds: float | None = None,
) -> list[CallRecord]:
    """Run ``scenario``; with ``mail``, a local SMTP server receives the e-mails."""
    text = CONFIG.replace('prompt_file: "{prompt}"}}\n', 'prompt_file: "{prompt}"}}\n' + APPS)
    text += 'voicemail: {{boxes: [{{box: "1001", pin: "1234"}}]}}\n'  # for the config checks
    greeting = tmp_path / "greeting.wav"
    with wave.open(str(greeting), "wb") as w:  # 0.3 s of 500 Hz
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(sine(500.0, 0.3, -10.0).astype("<i2").tobytes())
    port = free_port()
    config = VoicemailConfig.model_validate({
        "boxes": [
            {"box": "1001", "pin": "1234", "email": "al@example.com", "name": "Al",
             "greeting": str(greeting)},
            {"box": "600", "pin": "4321", "email": "support@example.com"},
        ],
        "smtp": {"host": "127.0.0.1", "port": port},
    })  # fmt: skip
    if max_seconds is not None:  # below the configurable minimum, to keep the test short
        config = config.model_copy(update={"max_seconds": max_seconds})
    data_dir = tmp_path / "data"
    store = open_store(f"sqlite:///{tmp_path}/vm.db")
    smtp = Mailbox()
    controller = None
    if mail:
        assert aiosmtpd_controller is not None
        controller = aiosmtpd_controller.Controller(smtp, hostname="127.0.0.1", port=port)
        controller.start()

    async def run(media: Media) -> None:
        recorder = Recorder(interval=0.05)
        mailer = Mailer(config.smtp, retry_delay=0.05) if mail else None
        b2bua = media.net.stack.b2bua
        rig_box: list[Rig] = []

        async def speak(text: str, language: str) -> np.ndarray[Any, np.dtype[np.int16]]:
            rig_box[0].spoken.append(text)
            return sine(300.0, 0.06, -20.0)

        vm = Voicemail(
            config, anchor=media.runtime.anchor, recorder=recorder,
            messages=Voicemails(store.engine), data_dir=data_dir, speak=speak,
            load_file=lambda p: asyncio.to_thread(_read, p), mailer=mailer,
            emit=lambda r: rig_box[0].records.append(r),
            hang_up=lambda call, cause: b2bua.hangup(call, cause=cause, notify=(call.a,)),
        )  # fmt: skip
        media.runtime.apps.handlers["voicemail"] = vm.handle_application
        media.runtime.apps.handlers["voicemail_main"] = vm.handle_application
        rig = Rig(media, vm, Voicemails(store.engine), smtp, mailer, data_dir)
        rig_box.append(rig)
        try:
            await scenario(rig)
            assert vm.deposits == {} and vm.sessions == {}
        finally:
            await vm.aclose()
            await recorder.aclose()
            if mailer is not None:
                await asyncio.to_thread(mailer.close)

    try:
        return media_play(tmp_path, caplog, run, config=text)
    finally:
        if controller is not None:
            controller.stop()
        store.close()


def _read(path: Path) -> np.ndarray[Any, np.dtype[np.int16]]:
    from tamas.media.wav import read_wav

    return read_wav(path)


# -- helpers ------------------------------------------------------------------------------------


def frames(call: AppCall) -> list[np.ndarray[Any, np.dtype[np.int16]]]:
    call.rtp.poll()
    return [ulaw_decode(d[12:]) for d, _ in call.rtp.received if d[1] & 0x7F == 0]


def power(frame: np.ndarray[Any, np.dtype[np.int16]], hz: float) -> float:
    return float(goertzel_power(frame, hz, 8000))


async def beep_ended(call: AppCall) -> float:
    """Wait for the beep, then for the first silent frame after it; its loop time."""
    return (await beep_times(call))[1]


async def beep_times(call: AppCall) -> tuple[float, float]:
    """Loop times at which the beep was first heard and its end was heard.

    The message's recording starts between the two (when Tamas finished playing the beep):
    tests bound a message's duration with them instead of trusting how fast a busy machine
    delivers and reads the packets."""
    loop = asyncio.get_running_loop()
    heard: float | None = None
    deadline = loop.time() + 10
    while loop.time() < deadline:
        for frame in frames(call):
            if power(frame, BEEP_HZ) > 1e5:
                heard = loop.time() if heard is None else heard
            elif heard is not None and np.abs(frame.astype(np.int32)).max() < 50:
                return heard, loop.time()
        call.rtp.received.clear()
        await asyncio.sleep(0.002)
    raise AssertionError("no beep heard")


async def talk(call: AppCall, seconds: float) -> None:
    """Send a 440 Hz tone at the real pace (20 ms packets on an absolute schedule)."""
    loop = asyncio.get_running_loop()
    payload = ulaw_encode(sine(CALLER_HZ, 0.02, -10.0))
    start = loop.time()
    for k in range(round(seconds / 0.02)):
        call.rtp.send(call.port, payload)
        await asyncio.sleep(max(0.0, start + (k + 1) * 0.02 - loop.time()))


def sox_info(path: Path) -> dict[str, str]:
    out = subprocess.run(["sox", "--i", str(path)], capture_output=True, text=True, check=True)
    return {
        k.strip(): v.strip()
        for k, _, v in (line.partition(":") for line in out.stdout.splitlines())
        if v
    }


def sox_stat(path: Path) -> dict[str, str]:
    out = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True,
                         check=True)  # fmt: skip
    return {
        k.strip(): v.strip()
        for k, _, v in (line.partition(":") for line in out.stderr.splitlines())
        if v
    }


def write_message(rig: Rig, mid: str, at: float, status: MessageStatus = MessageStatus.NEW) -> Path:
    relative = Path("voicemail") / "1001" / f"{mid}.wav"
    path = rig.data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(sine(MESSAGE_HZ, 0.3, -10.0).astype("<i2").tobytes())
    rig.store.add_message(VoicemailMessage(id=mid, box="1001", caller="2000", call_id=f"c-{mid}",
                                           at=at, duration=0.3, path=relative.as_posix(),
                                           status=status))  # fmt: skip
    return path


# -- leaving a message ----------------------------------------------------------------------------


@pytest.mark.skipif(aiosmtpd_controller is None, reason="aiosmtpd is not installed")
def test_a_caller_leaves_a_message_that_is_stored_logged_and_mailed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spans: list[float] = []

    async def scenario(rig: Rig) -> None:
        call = app_call(rig.media, 5080, "1001", "a1001", "*99")
        beep, t0 = await beep_times(call)
        await talk(call, 2.0)
        t1 = asyncio.get_running_loop().time()
        spans.append(t1 - t0)
        call.bye()
        await until(lambda: len(rig.smtp.messages) == 1, timeout=10)
        done = asyncio.get_running_loop().time()
        (message,) = rig.store.list_messages(box="1001")
        path = rig.data_dir / message.path
        assert message.caller == "1001" and message.status is MessageStatus.NEW
        assert message.assigned_to is None and message.path.startswith("voicemail/1001/")
        info = sox_info(path)
        assert info["Channels"] == "1" and info["Sample Rate"] == "8000"
        # All the talk is in it, and nothing from before the beep or after the BYE.
        assert t1 - t0 - 0.1 < message.duration < done - beep, (message.duration, spans[0])
        with wave.open(str(path)) as w:
            assert abs(w.getnframes() / 8000 - message.duration) < 0.01
        assert float(sox_stat(path)["RMS     amplitude"]) > 0.05  # a -10 dBm0 tone, not silence
        # the mail: to the box's address, the WAV attached byte for byte
        mail = email.message_from_bytes(rig.smtp.messages[0], policy=email.policy.default)
        assert mail["To"] == "al@example.com" and "1001" in str(mail["Subject"])
        (attachment,) = list(mail.iter_attachments())  # type: ignore[attr-defined]
        assert attachment.get_content_type() == "audio/wav"
        assert attachment.get_content() == path.read_bytes()
        (record,) = rig.records
        assert record.event == "VOICEMAIL" and record.call_id == message.call_id
        assert record.data == ("1001", f"{message.duration:.2f}", message.id)

    (rec,) = play(tmp_path, caplog, scenario, mail=True)
    assert rec.cause == "bye-from-a"


def test_pound_ends_the_message_and_tamas_hangs_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(rig: Rig) -> None:
        call = app_call(rig.media, 5080, "1001", "a1001", "*99")
        beep, t0 = await beep_times(call)
        await talk(call, 1.5)
        t1 = asyncio.get_running_loop().time()
        call.press("#")
        await until(lambda: "BYE" in call.phone.peek(), timeout=5)
        hung_up = asyncio.get_running_loop().time()
        call.phone.reply(call.phone.expect_request("BYE"), 200)
        call.rtp.close()
        await until(lambda: len(rig.store.list_messages()) == 1, timeout=10)
        (message,) = rig.store.list_messages()
        # It ends where the key began (after the talk), before Tamas hung up.
        assert t1 - t0 - 0.1 < message.duration < hung_up - beep, (message.duration, t1 - t0)

    (rec,) = play(tmp_path, caplog, scenario)
    assert rec.cause == "voicemail-key"


def test_max_seconds_ends_the_message_and_tamas_hangs_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(rig: Rig) -> None:
        call = app_call(rig.media, 5080, "1001", "a1001", "*99")
        await beep_ended(call)
        talking = asyncio.ensure_future(talk(call, 3.0))
        await until(lambda: "BYE" in call.phone.peek(), timeout=5)
        assert not talking.done()  # cut off while still talking
        call.phone.reply(call.phone.expect_request("BYE"), 200)
        await talking
        call.rtp.close()
        await until(lambda: len(rig.store.list_messages()) == 1, timeout=10)
        (message,) = rig.store.list_messages()
        # Cut at exactly max_seconds of the recorder's clock, even if the timer ran late.
        assert abs(message.duration - 1.5) < 0.01, message.duration

    (rec,) = play(tmp_path, caplog, scenario, max_seconds=1.5)
    assert rec.cause == "voicemail-max-length"


def test_a_message_under_a_second_is_not_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(rig: Rig) -> None:
        call = app_call(rig.media, 5080, "1001", "a1001", "*99")
        await beep_ended(call)
        await talk(call, 0.4)
        call.bye()
        await until(lambda: "discarded" in caplog.text, timeout=10)
        assert rig.store.list_messages() == [] and rig.records == []
        assert list((rig.data_dir / "voicemail" / "1001").glob("*.wav")) == []

    play(tmp_path, caplog, scenario)


# -- the mailbox by phone -------------------------------------------------------------------------


def test_own_mailbox_plays_messages_and_deletes_by_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(rig: Rig) -> None:
        older = write_message(rig, "m-old", 100.0)
        newer = write_message(rig, "m-new", 200.0)
        call = app_call(rig.media, 5080, "1001", "a1001", "*97")
        await until(lambda: PIN_PROMPT in rig.spoken)
        for key in "1234#":
            call.press(key)
        await until(lambda: "Message 1." in rig.spoken, timeout=5)
        assert "You have 2 new and 0 old messages." in rig.spoken
        # the newest message plays: its tone reaches the caller
        await until(lambda: any(power(f, MESSAGE_HZ) > 1e5 for f in frames(call)), timeout=5)
        await until(lambda: rig.store.get_message("m-new").status is MessageStatus.OLD)  # type: ignore[union-attr]
        call.press("7")
        await until(lambda: "Message deleted." in rig.spoken, timeout=5)
        await until(lambda: not newer.exists(), timeout=5)
        assert rig.store.get_message("m-new").status is MessageStatus.DELETED  # type: ignore[union-attr]
        assert "Message 2." in rig.spoken and older.exists()
        call.press("#")
        await until(lambda: "No more messages." in rig.spoken, timeout=5)
        await until(lambda: "BYE" in call.phone.peek(), timeout=5)
        call.phone.reply(call.phone.expect_request("BYE"), 200)
        call.rtp.close()
        assert rig.store.get_message("m-old").status is MessageStatus.OLD  # type: ignore[union-attr]

    (rec,) = play(tmp_path, caplog, scenario)
    assert rec.cause == "voicemail-done"


def test_three_wrong_pins_hang_up(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(rig: Rig) -> None:
        write_message(rig, "m1", 100.0)
        call = app_call(rig.media, 5080, "1001", "a1001", "*98")
        await until(lambda: "Please enter your mailbox number, then press pound." in rig.spoken)
        for attempt in range(3):
            for key in "1001#":
                call.press(key)
            await until(lambda n=attempt: rig.spoken.count(PIN_PROMPT) > n)
            for key in "9999#":
                call.press(key)
            await until(lambda n=attempt: rig.spoken.count("Login incorrect.") > n)
        await until(lambda: "BYE" in call.phone.peek(), timeout=5)
        call.phone.reply(call.phone.expect_request("BYE"), 200)
        call.rtp.close()
        assert "Goodbye." in rig.spoken and "Message 1." not in rig.spoken
        assert rig.store.get_message("m1").status is MessageStatus.NEW  # type: ignore[union-attr]

    (rec,) = play(tmp_path, caplog, scenario)
    assert rec.cause == "voicemail-login-failed"
    assert "mailbox login failed 3 times" in caplog.text
