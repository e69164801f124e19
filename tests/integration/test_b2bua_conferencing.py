"""Conference rooms and supervisor monitoring through the real B2BUA and media engine.

SIP in memory (memsip), RTP on real loopback sockets, as in test_b2bua_media. Each party
sends a tone of its own frequency; Goertzel power on what it receives tells whom it hears.
"""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

import numpy as np
import pytest
from memsip import Phone, until
from test_b2bua_media import (
    CONFIG,
    PHONE_PORT,
    Anchored,
    Media,
    RtpPort,
    Scenario,
    authed_invite,
    engine_leg,
    media_of,
    resp,
)
from test_b2bua_media import play as media_play

from tamas.media.g711 import ulaw_decode, ulaw_encode
from tamas.media.goertzel import goertzel_power
from tamas.media.telephone_event import EventSender
from tamas.media.tones import sine
from tamas.runtime.app import MediaRuntime
from tamas.sip.dialog import Dialog
from tamas.store import CallRecord

SUPER_PORT = 5078
APPS = """
    - {{number: "8000", kind: conference}}
    - {{number: "*30", kind: monitor, mode: listen}}
    - {{number: "*32", kind: monitor, mode: barge}}
"""
CALLER_HZ, AGENT_HZ, SUPER_HZ, OTHER_HZ = 400.0, 1000.0, 1700.0, 2300.0
AMPLITUDE = 8000.0


def play(tmp_path: Path, caplog: pytest.LogCaptureFixture, scenario: Scenario) -> list[CallRecord]:
    text = CONFIG.replace(
        '- {{number: "1001", name: Al, password: a1001}}',
        '- {{number: "1001", name: Al, password: a1001}}\n'
        '  - {{number: "1010", name: Sue, password: s1010, supervisor: true}}',
    ).replace('prompt_file: "{prompt}"}}\n', 'prompt_file: "{prompt}"}}\n' + APPS)

    def no_room_or_session_left(runtime: MediaRuntime) -> None:
        assert runtime.apps.conferencing.rooms == {}
        assert runtime.apps.conferencing.sessions == {}

    # *44 of the shared configuration plays 0.1 s of silence here
    return media_play(tmp_path, caplog, scenario, config=text, prompt_audio=bytes(1600),
                      checks=no_room_or_session_left)  # fmt: skip


def tone(frequency: float) -> bytes:
    samples = sine(frequency, 0.02, level_dbm0=0.0).astype(np.float64)
    return ulaw_encode((samples / np.abs(samples).max() * AMPLITUDE).astype(np.int16))


async def talk(parties: list[tuple[RtpPort, int, bytes]], seconds: float = 0.6) -> None:
    """Every party sends its tone to its Tamas port for ``seconds``; received audio is kept
    from a fresh start."""
    for rtp, _, _ in parties:
        rtp.poll()
        rtp.received.clear()
    for _ in range(round(seconds / 0.02)):
        for rtp, port, payload in parties:
            rtp.send(port, payload)
        await asyncio.sleep(0.02)
        for rtp, _, _ in parties:
            rtp.poll()


def hears(rtp: RtpPort, frequency: float) -> bool:
    frames = [ulaw_decode(d[12:]) for d, _ in rtp.received if d[1] & 0x7F == 0][-20:]
    if not frames:
        return False
    power = goertzel_power(np.concatenate(frames), frequency, 8000)
    return power > AMPLITUDE**2 / 2 * 0.01


def app_call(media: Media, port: int, user: str, password: str, number: str) -> AppCall:
    phone = media.net.phone(port, user)
    rtp = RtpPort()
    invite = authed_invite(phone, f"sip:{number}@127.0.0.1:5060", rtp.sdp(codecs="0 101"),
                           password)  # fmt: skip
    ok = resp(phone.take()[-1])
    assert ok.status == 200, ok
    _, tamas_port, _, _ = media_of(ok.body)
    dialog = phone.dialog_as_uac(invite, ok)
    phone.ack(dialog, invite)
    return AppCall(phone, rtp, dialog, tamas_port)


class AppCall:
    def __init__(self, phone: Phone, rtp: RtpPort, dialog: Dialog, port: int) -> None:
        self.phone, self.rtp, self.dialog, self.port = phone, rtp, dialog, port
        self.presses = 0

    def press(self, digit: str) -> None:
        self.presses += 1  # each key press: new sequence numbers and event timestamp
        for i, pkt in enumerate(EventSender().packets(digit, 100)):
            header = struct.pack("!BBHII", 0x80, 101 | (0x80 if pkt.marker else 0),
                                 100 * self.presses + i,
                                 8000 * self.presses + pkt.timestamp_offset, 0x4321)  # fmt: skip
            self.rtp.sock.sendto(header + pkt.payload, ("127.0.0.1", self.port))

    def bye(self) -> None:
        self.phone.request(self.dialog, "BYE")
        self.phone.expect("200 BYE")
        self.rtp.close()


def test_supervisor_listens_then_barges_and_leaves(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(media: Media) -> None:
        call = Anchored(media)
        sup = app_call(media, SUPER_PORT, "1010", "s1010", "*302000")
        caller = (call.rtp_a, call.tamas_a_port, tone(CALLER_HZ))
        agent = (call.rtp_b, call.tamas_b_port, tone(AGENT_HZ))
        parties = [caller, agent, (sup.rtp, sup.port, tone(SUPER_HZ))]
        await until(lambda: len(media.runtime.apps.conferencing.sessions) == 1)
        await talk(parties)
        # listen: the supervisor hears both; neither party hears the supervisor
        assert hears(sup.rtp, CALLER_HZ) and hears(sup.rtp, AGENT_HZ)
        assert hears(call.rtp_a, AGENT_HZ) and not hears(call.rtp_a, SUPER_HZ)
        assert hears(call.rtp_b, CALLER_HZ) and not hears(call.rtp_b, SUPER_HZ)
        sup.press("6")  # barge, as in ChanSpy
        await until(lambda: any(d.digit == "6" for d in media.digits))
        await talk(parties)
        assert hears(call.rtp_a, SUPER_HZ) and hears(call.rtp_b, SUPER_HZ)
        sup.press("5")  # whisper: only the agent hears the supervisor
        await until(lambda: any(d.digit == "5" for d in media.digits))
        await talk(parties)
        assert not hears(call.rtp_a, SUPER_HZ) and hears(call.rtp_b, SUPER_HZ)
        assert hears(sup.rtp, CALLER_HZ) and hears(sup.rtp, AGENT_HZ)
        sup.bye()
        await until(lambda: not media.runtime.apps.conferencing.sessions)
        a_leg = engine_leg(media, call.tamas_a_port)
        assert a_leg.peer is engine_leg(media, call.tamas_b_port) and a_leg.source is None
        await talk(parties[:2])
        assert hears(call.rtp_a, AGENT_HZ) and hears(call.rtp_b, CALLER_HZ)
        call.hang_up()

    records = play(tmp_path, caplog, scenario)
    assert sorted(r.callee for r in records) == ["*302000", "5551000"]
    assert "1010 monitors 2000 (listen)" in caplog.text
    assert "monitor mode barge" in caplog.text and "monitor mode whisper" in caplog.text


def test_monitored_call_ending_hangs_up_the_supervisor(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(media: Media) -> None:
        call = Anchored(media)
        sup = app_call(media, SUPER_PORT, "1010", "s1010", "*322000")
        await until(lambda: len(media.runtime.apps.conferencing.sessions) == 1)
        call.hang_up()
        await until(lambda: sup.phone.peek() == ["BYE"], timeout=5.0)
        sup.phone.reply(sup.phone.expect_request("BYE"), 200)
        sup.rtp.close()

    records = play(tmp_path, caplog, scenario)
    assert "monitored-call-ended" in {r.cause for r in records}


@pytest.mark.parametrize(
    ("user", "password", "number", "reason"),
    [
        ("1001", "a1001", "*302000", "1001 is not a supervisor"),
        ("1010", "s1010", "*303000", "extension 3000 has no answered call"),
    ],
)
def test_monitor_refused_with_busy_tone_then_bye(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, user: str, password: str, number: str,
    reason: str,
) -> None:  # fmt: skip
    async def scenario(media: Media) -> None:
        call = Anchored(media)
        refused = app_call(media, PHONE_PORT, user, password, number)
        await until(lambda: refused.phone.peek() == ["BYE"], timeout=8.0)
        refused.phone.reply(refused.phone.expect_request("BYE"), 200)
        refused.rtp.poll()
        # The busy tone (425 Hz) was played before the BYE.
        frames = [ulaw_decode(d[12:]) for d, _ in refused.rtp.received]
        assert goertzel_power(np.concatenate(frames), 425.0, 8000) > 1e5
        assert media.runtime.apps.conferencing.sessions == {}
        refused.rtp.close()
        call.hang_up()

    records = play(tmp_path, caplog, scenario)
    assert "refused" in {r.cause for r in records}
    assert reason in caplog.text


def test_conference_join_and_leave(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(media: Media) -> None:
        one = app_call(media, PHONE_PORT, "1001", "a1001", "8000")
        two = app_call(media, SUPER_PORT, "1010", "s1010", "8000")
        rooms = media.runtime.apps.conferencing.rooms
        assert len(rooms["8000"]) == 2
        parties = [(one.rtp, one.port, tone(CALLER_HZ)), (two.rtp, two.port, tone(OTHER_HZ))]
        await talk(parties)
        assert hears(one.rtp, OTHER_HZ) and not hears(one.rtp, CALLER_HZ)
        assert hears(two.rtp, CALLER_HZ) and not hears(two.rtp, OTHER_HZ)
        one.bye()
        await talk(parties[1:])  # the room notices the closed leg at its next tick
        assert len(rooms["8000"]) == 1
        two.bye()
        await until(lambda: not rooms)

    records = play(tmp_path, caplog, scenario)
    assert [r.callee for r in records] == ["8000", "8000"]
