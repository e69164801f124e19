"""Recording control: start, pause, resume and stop the recording of a call; its store row.

Theory of operation
-------------------
A call is recorded by attaching an :class:`~tamas.runtime.recorder.ActiveRecording` as the
*tap* of the media bridge the call's legs are in (``MediaEngine.set_tap``): the engine hands it
every RTP packet both parties send, and the :class:`~tamas.runtime.recorder.Recorder`'s
thread assembles and writes the WAV file. This module is the bookkeeping around that: which
call is being recorded, where its file goes, and the row that describes the finished file.

The call logic is not this module's: it learns about a call through a small
:class:`CallMediaLookup` (does the call exist; the bridge it is in, if answered, and which
bridge side carries the caller), and is told by the call logic when a call is answered
(:meth:`RecordingControl.call_answered`, for the "record every answered call" policy) and when
it ends (:meth:`RecordingControl.call_ended`).

Every request (start, pause, resume, stop) is handled synchronously on the event loop, so
the time it acts at is the time it was asked: the recorder's clock is read there and passed
on. Stopping fixes the stop time at once (``stop_nowait``), then waits off the loop for the
writer thread to complete the file and for the store's writer thread to insert the row.
That tail runs in a task of its own, shielded from the caller's cancellation (an HTTP client
that goes away does not lose the row), and :meth:`RecordingControl.aclose` waits for every such
task: a hang-up never loses the end of a recording, nor its row. A recording whose file could
not be completed (a full disk) still gets its row, with status ``failed`` and the error.

Files are ``<data_dir>/recordings/YYYY/MM/DD/<call id>-<n>.wav`` (UTC date of the start; ``n``
counts the call's recordings from 1); the row stores the path relative to ``data_dir`` and
uses ``<call id>-<n>`` as the recording's id. Errors are :class:`RecordingError` subclasses
naming the problem (no such call, not answered, already recording, not recording); the web
layer maps them to HTTP codes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Final, Protocol

from tamas.core.errors import TamasError
from tamas.media.recording import Layout, RecordingState
from tamas.runtime.mediaengine.api import MediaEngine, MediaError, MediaLeg, Tap
from tamas.runtime.recorder import ActiveRecording, Recorder, RecordingMetadata
from tamas.store import (
    RecordingLayout,
    RecordingPause,
    RecordingRecord,
    RecordingStatus,
    Store,
)

__all__ = [
    "AlreadyRecording",
    "CallBridge",
    "CallMediaLookup",
    "NoSuchCall",
    "NotAnswered",
    "NotRecording",
    "RecordingClosed",
    "RecordingControl",
    "RecordingError",
    "RecordingInfo",
    "RecordingPolicy",
    "StoreJobs",
]

log = logging.getLogger(__name__)

#: Sample rate of every recording (G.711 audio, decoded).
RATE: Final = 8000
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


class RecordingPolicy(StrEnum):
    """Which calls are recorded without being asked."""

    ON_REQUEST = "on_request"  # only when start() is called (API, agent, IVR)
    ALWAYS = "always"  # every call, from the moment it is answered


class RecordingError(TamasError):
    """A recording request that cannot be done; subclasses say why."""


class NoSuchCall(RecordingError):
    """There is no call in progress with that id."""


class NotAnswered(RecordingError):
    """The call is not answered (no bridge yet, or no longer): nothing to record."""


class AlreadyRecording(RecordingError):
    """The call is being recorded already (one recording per call at a time)."""


class NotRecording(RecordingError):
    """The call is not being recorded, so it cannot be paused, resumed or stopped."""


class RecordingClosed(RecordingError):
    """Tamas is shutting down: no new recording starts."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallBridge:
    """Where a call's audio is: one of the bridged legs, and whose audio each side is."""

    leg: MediaLeg
    """Any leg of the bridge (the tap is set on the bridge through it)."""
    caller_side: int = 0
    """The bridge side (0: the first leg given to ``MediaEngine.bridge``) that the caller
    sends on; its audio is the left channel of a stereo file."""


class CallMediaLookup(Protocol):
    """What this module needs to know of the calls in progress (the B2BUA answers)."""

    def has_call(self, call_id: str) -> bool: ...

    def bridge(self, call_id: str) -> CallBridge | None:
        """The bridge carrying the call's audio, or None if it is not (or no longer) bridged."""
        ...


class StoreJobs(Protocol):
    """Runs jobs against the store off the loop (``runtime.storewriter.StoreWriter`` fits)."""

    def submit(self, job: Callable[[Store], object]) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingInfo:
    """A recording in progress, as the API shows it."""

    id: str
    call_id: str
    path: str
    """Relative to the data directory, ``/`` separated."""
    layout: RecordingLayout
    state: RecordingState
    started_at: float
    """Epoch seconds."""


@dataclass(slots=True, kw_only=True)
class _Entry:
    id: str
    call_id: str
    relative: PurePosixPath
    layout: Layout
    leg: MediaLeg
    recording: ActiveRecording
    wall_start: float
    state: RecordingState = RecordingState.RECORDING

    def info(self) -> RecordingInfo:
        return RecordingInfo(
            id=self.id,
            call_id=self.call_id,
            path=str(self.relative),
            layout=RecordingLayout(self.layout.value),
            state=self.state,
            started_at=self.wall_start,
        )


class RecordingControl:
    """Starts and stops the recordings of calls; one per process, built by the composition root.

    ``data_dir`` is Tamas's data directory (files go under its ``recordings/``). ``policy``
    says whether answered calls are recorded without being asked; ``layout`` is stereo (caller
    left, agent right) or a mono mix. ``wall_clock`` gives the epoch time stored with a
    recording (the recorder's own clock is monotonic).
    """

    def __init__(
        self,
        *,
        recorder: Recorder,
        engine: MediaEngine,
        lookup: CallMediaLookup,
        store: StoreJobs,
        data_dir: str | Path,
        policy: RecordingPolicy = RecordingPolicy.ON_REQUEST,
        layout: Layout = Layout.STEREO,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.policy = policy
        self.layout = layout
        self.data_dir = Path(data_dir)
        self._recorder = recorder
        self._engine = engine
        self._lookup = lookup
        self._store = store
        self._wall = wall_clock
        self._active: dict[str, _Entry] = {}
        self._counts: dict[str, int] = {}
        self._finishing: set[asyncio.Task[RecordingRecord]] = set()
        self._closed = False

    @property
    def recordings_dir(self) -> Path:
        return self.data_dir / "recordings"

    # --- requests -----------------------------------------------------------------------

    def start(self, call_id: str, *, layout: Layout | None = None) -> RecordingInfo:
        """Start recording ``call_id`` now (its bridge gets the recording as its tap)."""
        if self._closed:  # a call answered during shutdown: its row could not be written
            raise RecordingClosed("Tamas is shutting down")
        if not self._lookup.has_call(call_id):
            raise NoSuchCall(f"no call {call_id}")
        if call_id in self._active:
            raise AlreadyRecording(f"call {call_id} is already being recorded")
        bridge = self._lookup.bridge(call_id)
        if bridge is None:
            raise NotAnswered(f"call {call_id} is not answered")
        layout = layout or self.layout
        wall = self._wall()
        recording_id, relative = self._place(call_id, wall)
        now = self._recorder.clock()
        recording = self._recorder.open(
            self.data_dir / relative, layout=layout, now=now, caller_side=bridge.caller_side
        )
        try:
            self._engine.set_tap(bridge.leg, recording)
        except MediaError as exc:  # the bridge went away meanwhile
            recording.stop_nowait(now).add_done_callback(_remove_file)
            raise NotAnswered(f"call {call_id} is not bridged: {exc}") from None
        entry = _Entry(
            id=recording_id,
            call_id=call_id,
            relative=relative,
            layout=layout,
            leg=bridge.leg,
            recording=recording,
            wall_start=wall,
        )
        self._active[call_id] = entry
        log.info("recording %s started: %s", recording_id, relative)
        return entry.info()

    def pause(self, call_id: str) -> RecordingInfo:
        """Silence the recording from now on (idempotent)."""
        entry = self._entry(call_id)
        if entry.state is RecordingState.RECORDING:
            entry.recording.pause(self._recorder.clock())
            entry.state = RecordingState.PAUSED
        return entry.info()

    def resume(self, call_id: str) -> RecordingInfo:
        """Record audio again from now on (idempotent)."""
        entry = self._entry(call_id)
        if entry.state is RecordingState.PAUSED:
            entry.recording.resume(self._recorder.clock())
            entry.state = RecordingState.RECORDING
        return entry.info()

    async def stop(self, call_id: str) -> RecordingRecord:
        """Stop now; returns the stored row once the file is complete and the row written."""
        entry = self._entry(call_id)
        del self._active[call_id]
        return await asyncio.shield(self._stop(entry))

    def current(self, call_id: str) -> RecordingInfo | None:
        """The call's recording in progress, if any."""
        entry = self._active.get(call_id)
        return None if entry is None else entry.info()

    def find(self, recording_id: str) -> RecordingInfo | None:
        """The recording in progress with this id, if any (finished ones are in the store)."""
        for entry in self._active.values():
            if entry.id == recording_id:
                return entry.info()
        return None

    def tap(self, call_id: str) -> Tap | None:
        """The call's recording as a tap, for the call logic to pass on when it bridges the
        call anew (a transfer, an unhold): ``engine.bridge(a, b, tap=control.tap(call_id))``."""
        entry = self._active.get(call_id)
        return None if entry is None else entry.recording

    def __len__(self) -> int:
        return len(self._active)

    # --- what the call logic tells ------------------------------------------------------

    def call_answered(self, call_id: str) -> None:
        """A call was answered and bridged: record it if the policy says every call."""
        if self.policy is not RecordingPolicy.ALWAYS or call_id in self._active:
            return
        try:
            self.start(call_id)
        except RecordingError as exc:
            log.warning("cannot record answered call %s: %s", call_id, exc)

    def call_ended(self, call_id: str) -> None:
        """A call ended: stop its recording at this instant (the file and row complete later)."""
        self._counts.pop(call_id, None)
        entry = self._active.pop(call_id, None)
        if entry is not None:
            self._stop(entry)

    async def aclose(self) -> None:
        """Stop every recording and wait until each file is complete and its row written.

        Call before closing the recorder and the store writer."""
        self._closed = True
        for call_id in list(self._active):
            self.call_ended(call_id)
        if self._finishing:
            await asyncio.gather(*self._finishing, return_exceptions=True)

    # --- helpers ------------------------------------------------------------------------

    def _entry(self, call_id: str) -> _Entry:
        entry = self._active.get(call_id)
        if entry is None:
            if not self._lookup.has_call(call_id):
                raise NoSuchCall(f"no call {call_id}")
            raise NotRecording(f"call {call_id} is not being recorded")
        return entry

    def _place(self, call_id: str, wall: float) -> tuple[str, PurePosixPath]:
        day = datetime.fromtimestamp(wall, UTC)
        folder = PurePosixPath("recordings", f"{day:%Y}", f"{day:%m}", f"{day:%d}")
        stem = _UNSAFE.sub("_", call_id).lstrip(".") or "call"
        n = self._counts.get(call_id, 0)
        while True:
            n += 1
            relative = folder / f"{stem}-{n}.wav"
            if not (self.data_dir / relative).exists():  # e.g. a call id reused after restart
                self._counts[call_id] = n
                return f"{stem}-{n}", relative

    def _stop(self, entry: _Entry) -> asyncio.Task[RecordingRecord]:
        done = entry.recording.stop_nowait(self._recorder.clock())  # the end is fixed here
        with contextlib.suppress(MediaError):  # the bridge may be gone with the call
            self._engine.set_tap(entry.leg, None)
        task = asyncio.ensure_future(self._complete(entry, done))
        self._finishing.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[RecordingRecord]) -> None:
        self._finishing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("recording row not stored: %s", task.exception())

    async def _complete(
        self, entry: _Entry, done: concurrent.futures.Future[RecordingMetadata]
    ) -> RecordingRecord:
        try:
            record = self._row(entry, await asyncio.wrap_future(done))
        except Exception as exc:  # the writer thread could not complete the file
            record = self._failed_row(entry, exc)
        stored: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._store.submit(lambda store: _insert(store, record, stored))
        await asyncio.wrap_future(stored)
        log.info("recording %s stopped: %.2f s, %s", record.id, record.duration, record.status)
        return record

    def _row(self, entry: _Entry, meta: RecordingMetadata) -> RecordingRecord:
        return RecordingRecord(
            id=entry.id,
            call_id=entry.call_id,
            path=str(entry.relative),
            layout=RecordingLayout(meta.layout.value),
            channels=meta.channels,
            rate=RATE,
            started_at=entry.wall_start,
            duration=meta.duration,
            paused_spans=tuple(RecordingPause(start=s.start, end=s.end) for s in meta.paused_spans),
            caller_packets=meta.caller.packets,
            caller_late=meta.caller.late,
            agent_packets=meta.agent.packets,
            agent_late=meta.agent.late,
        )

    def _failed_row(self, entry: _Entry, exc: Exception) -> RecordingRecord:
        return RecordingRecord(
            id=entry.id,
            call_id=entry.call_id,
            path=str(entry.relative),
            layout=RecordingLayout(entry.layout.value),
            channels=2 if entry.layout is Layout.STEREO else 1,
            rate=RATE,
            started_at=entry.wall_start,
            duration=0.0,
            status=RecordingStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}",
        )


def _insert(store: Store, record: RecordingRecord, done: concurrent.futures.Future[None]) -> None:
    """Runs on the store's writer thread."""
    try:
        store.recordings.add_recording(record)
    except Exception as exc:
        done.set_exception(exc)
    else:
        done.set_result(None)


def _remove_file(done: concurrent.futures.Future[RecordingMetadata]) -> None:
    """A recording abandoned at start (its bridge was gone) leaves no empty file behind."""
    if not done.cancelled() and done.exception() is None:
        done.result().path.unlink(missing_ok=True)
