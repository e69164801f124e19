"""The live board kept current on the loop, and the subscribers it notifies.

:class:`LiveService` subscribes to the event log: each appended batch is folded into a
:class:`tamas.reporting.live.LiveBoard` and every subscriber (a wallboard's WebSocket) is
woken. The ACD starts empty with the server (no caller waits, agents log in again), so the
board starts empty too, with the queue membership of the configuration.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from tamas.core.events import LogRecord
from tamas.reporting.live import LiveBoard

__all__ = ["LiveService"]


class LiveService:
    def __init__(
        self,
        members: Mapping[str, Iterable[str]] | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.board = LiveBoard(members)
        self.clock = clock
        self._waiters: set[asyncio.Event] = set()
        self.version = 0  # bumped by every batch

    def on_batch(self, records: Sequence[LogRecord]) -> None:
        """The event log's subscriber (called on the loop after each append)."""
        self.board.feed(records)
        self.version += 1
        for waiter in self._waiters:
            waiter.set()

    def snapshot(self) -> dict[str, object]:
        return self.board.snapshot(self.clock())

    def listen(self) -> asyncio.Event:
        """An event set whenever the board changes; clear it after reading, ``forget`` it
        when done."""
        waiter = asyncio.Event()
        self._waiters.add(waiter)
        return waiter

    def forget(self, waiter: asyncio.Event) -> None:
        self._waiters.discard(waiter)
