"""A bridged call on a real LocalMediaEngine with RecordingControl, a Recorder and a store.

Shared by the recording control and recording API tests. Two loopback UDP "phones" send
G.711 to two bridged legs on 127.0.0.1: the caller a 440 Hz tone in PCMU, the agent 1 kHz in
PCMA. Nothing is sent anywhere but 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import re
import struct
import subprocess
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvloop

from tamas.media.g711 import alaw_encode, ulaw_encode
from tamas.media.tones import sine
from tamas.runtime.mediaengine import Codec, LocalMediaEngine, MediaLeg, RemoteMedia
from tamas.runtime.recorder import Recorder
from tamas.runtime.recording_control import CallBridge, RecordingControl
from tamas.runtime.storewriter import StoreWriter
from tamas.store import Store, open_store

HOST = "127.0.0.1"
PORTS = (43000, 43999)
CALLER_PCM = sine(440, 30.0, -10.0)
AGENT_PCM = sine(1000, 30.0, -10.0)


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(asyncio.wait_for(test(), 60))


class Phone(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])


def rtp(k: int, pt: int, payload: bytes, ssrc: int) -> bytes:
    return struct.pack("!BBHII", 0x80, pt, k % 65536, (160 * k) % (1 << 32), ssrc) + payload


@dataclass
class Lookup:
    """The call logic's side of the seam, as a table (the B2BUA answers in Tamas)."""

    calls: set[str] = field(default_factory=set)
    bridges: dict[str, CallBridge] = field(default_factory=dict)

    def has_call(self, call_id: str) -> bool:
        return call_id in self.calls

    def bridge(self, call_id: str) -> CallBridge | None:
        return self.bridges.get(call_id)


@dataclass
class Rig:
    engine: LocalMediaEngine
    recorder: Recorder
    store: Store
    control: RecordingControl
    lookup: Lookup
    data_dir: Path
    caller: MediaLeg | None = None
    agent: MediaLeg | None = None
    sent: int = 0
    sending: asyncio.Task[None] | None = None
    phones: list[Phone] = field(default_factory=list)

    async def call(self, call_id: str, *, caller_side: int = 0) -> None:
        """Open and bridge two legs with a phone behind each, and start their audio."""
        loop = asyncio.get_running_loop()
        legs = []
        phones = []
        for label, codec in (("caller", Codec.pcmu()), ("agent", Codec.pcma())):
            _, phone = await loop.create_datagram_endpoint(Phone, local_addr=(HOST, 0))
            leg = await self.engine.open_leg(call_id, label)
            leg.configure(RemoteMedia(address=HOST, port=phone.port, codec=codec,
                                      signalling_address=HOST))  # fmt: skip
            legs.append(leg)
            phones.append(phone)
            self.phones.append(phone)
        self.caller, self.agent = legs
        first, second = (legs[0], legs[1]) if caller_side == 0 else (legs[1], legs[0])
        self.engine.bridge(first, second)
        self.lookup.calls.add(call_id)
        self.lookup.bridges[call_id] = CallBridge(leg=second, caller_side=caller_side)
        self.sending = asyncio.create_task(self._send(phones))

    async def _send(self, phones: list[Phone]) -> None:
        assert self.caller is not None and self.agent is not None
        caller, agent = phones
        assert caller.transport is not None and agent.transport is not None
        t0 = self.recorder.clock()
        k = 0
        while True:
            await asyncio.sleep(max(0.0, t0 + 0.02 * k - self.recorder.clock()))
            pcm = slice(160 * k % len(CALLER_PCM), 160 * k % len(CALLER_PCM) + 160)
            caller.transport.sendto(
                rtp(k, 0, ulaw_encode(CALLER_PCM[pcm]), 0x1111), (HOST, self.caller.local_port)
            )
            agent.transport.sendto(
                rtp(k, 8, alaw_encode(AGENT_PCM[pcm]), 0x2222), (HOST, self.agent.local_port)
            )
            k += 1
            self.sent = k

    async def hang_up(self, call_id: str) -> None:
        if self.sending is not None:
            self.sending.cancel()
            await asyncio.gather(self.sending, return_exceptions=True)
        self.control.call_ended(call_id)
        self.engine.close_call(call_id)
        self.lookup.calls.discard(call_id)
        self.lookup.bridges.pop(call_id, None)


@asynccontextmanager
async def rig(tmp_path: Path, **kw: Any) -> AsyncIterator[Rig]:
    engine = LocalMediaEngine(bind=HOST, port_min=PORTS[0], port_max=PORTS[1])
    recorder = Recorder()
    store = open_store(f"sqlite:///{tmp_path / 'tamas.db'}")
    writer = StoreWriter(store)
    lookup = Lookup()
    data_dir = tmp_path / "data"
    control = RecordingControl(recorder=recorder, engine=engine, lookup=lookup, store=writer,
                               data_dir=data_dir, **kw)  # fmt: skip
    the_rig = Rig(engine, recorder, store, control, lookup, data_dir)
    try:
        yield the_rig
    finally:
        if the_rig.sending is not None:
            the_rig.sending.cancel()
            await asyncio.gather(the_rig.sending, return_exceptions=True)
        await control.aclose()  # before the recorder and the writer: nothing is lost
        await engine.aclose()
        await recorder.aclose()
        await asyncio.to_thread(writer.close)
        store.close()
        for phone in the_rig.phones:  # uvloop's loop close waits for open transports
            if phone.transport is not None:
                phone.transport.close()
        await asyncio.sleep(0.01)


async def sleep_until(clock: Callable[[], float], t: float) -> None:
    await asyncio.sleep(max(0.0, t - clock()))


def sox_info(path: Path) -> tuple[int, float]:
    out = subprocess.run(["sox", "--i", str(path)], check=True, capture_output=True, text=True)
    info = dict(re.findall(r"^(\w[\w ]*?)\s*: (.*)$", out.stdout, re.M))
    hms = re.match(r"(\d+):(\d+):([\d.]+)", info["Duration"])
    assert hms and info["Sample Rate"] == "8000"
    return int(info["Channels"]), int(hms[1]) * 3600 + int(hms[2]) * 60 + float(hms[3])


def sox_stat(path: Path, start: float, length: float, channel: int) -> tuple[float, float]:
    """RMS amplitude (0-1) and rough frequency of ``channel`` (1-based) in a stretch."""
    out = subprocess.run(
        ["sox", str(path), "-n", "trim", f"{start:.3f}", f"{length:.3f}",
         "remix", str(channel), "stat"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    rms = re.search(r"RMS\s+amplitude:\s+([0-9.]+)", out.stderr)
    freq = re.search(r"Rough\s+frequency:\s+(-?[0-9]+)", out.stderr)
    assert rms and freq, out.stderr
    return float(rms.group(1)), float(freq.group(1))
