"""Mixing: N-party conferences and supervisor monitoring (listen, whisper, barge).

Theory of operation
-------------------
Mixing is addition of 16-bit linear PCM frames. Sums are formed in int32 (no wrap-around: a
sum of up to 65,536 int16 frames fits) and clipped to the int16 range once, at the end, for
each listener. Clipping the running total first and subtracting a party's own voice afterwards
would be wrong: with A = B = 30,000 and C = -30,000, A must hear B + C = 0, not
clip(90,000 - 30,000) - ... So each listener's mix is ``clip(total - own)`` computed from the
unclipped total, one vectorised operation for all listeners.

*Conference.* Every member hears the sum of the other members who talk. A member may be muted
(talks, is not heard) or deaf (is not sent audio). A member without a frame this tick (packet
lost, not yet started) adds nothing.

*Monitoring.* A bridged call between a caller and an agent, with a supervisor attached. Who
hears whom is one table (:data:`HEARS`), by mode:

========  =================  =====================  ==================
mode      caller hears       agent hears            supervisor hears
========  =================  =====================  ==================
listen    agent              caller                 caller + agent
whisper   agent              caller + supervisor    caller + agent
barge     agent + super.     caller + supervisor    caller + agent
========  =================  =====================  ==================

A listener who hears exactly one source gets that source's frame itself (no copy, no
arithmetic), so an unmonitored bridge costs nothing here. A listener none of whose sources has
a frame this tick gets ``None``: there is nothing to send.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final, Generic, TypeVar

import numpy as np
import numpy.typing as npt

__all__ = [
    "HEARS",
    "Conference",
    "MonitorFrames",
    "MonitorMode",
    "MonitoredCall",
    "Role",
    "mix",
]

Int16Array = npt.NDArray[np.int16]
K = TypeVar("K", bound=Hashable)


_LOW: Final = np.int32(-32768)
_HIGH: Final = np.int32(32767)


def _clip(total: npt.NDArray[np.int32]) -> Int16Array:
    # The ndarray method with int32 bounds: about half the cost of np.clip with Python ints.
    return total.clip(_LOW, _HIGH).astype(np.int16)


def mix(frames: Sequence[Int16Array | None]) -> Int16Array | None:
    """The clipped sum of the frames present; a lone frame is returned as it is."""
    present = [f for f in frames if f is not None]
    if len(present) <= 1:
        return present[0] if present else None
    total = np.add(present[0], present[1], dtype=np.int32)
    for frame in present[2:]:
        total += frame
    return _clip(total)


class Role(Enum):
    CALLER = "caller"
    AGENT = "agent"
    SUPERVISOR = "supervisor"


class MonitorMode(Enum):
    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"


_C, _A, _S = Role.CALLER, Role.AGENT, Role.SUPERVISOR

#: Who hears whom in each monitoring mode: ``HEARS[mode][listener]`` is the set of sources.
HEARS: Final[dict[MonitorMode, dict[Role, tuple[Role, ...]]]] = {
    MonitorMode.LISTEN: {_C: (_A,), _A: (_C,), _S: (_C, _A)},
    MonitorMode.WHISPER: {_C: (_A,), _A: (_C, _S), _S: (_C, _A)},
    MonitorMode.BARGE: {_C: (_A, _S), _A: (_C, _S), _S: (_C, _A)},
}


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorFrames:
    """What each party of a monitored call is sent this tick (None: nothing to send)."""

    to_caller: Int16Array | None
    to_agent: Int16Array | None
    to_supervisor: Int16Array | None


class MonitoredCall:
    """Routes one tick of a caller/agent bridge with a supervisor, by the current mode.

    ``mode`` may be changed at any time (listen -> whisper -> barge and back); the next tick
    follows the new row of :data:`HEARS`.
    """

    def __init__(self, mode: MonitorMode = MonitorMode.LISTEN) -> None:
        self.mode = mode

    def mix(
        self,
        caller: Int16Array | None,
        agent: Int16Array | None,
        supervisor: Int16Array | None,
    ) -> MonitorFrames:
        heard = {_C: caller, _A: agent, _S: supervisor}
        row = HEARS[self.mode]
        return MonitorFrames(
            to_caller=mix([heard[r] for r in row[_C]]),
            to_agent=mix([heard[r] for r in row[_A]]),
            to_supervisor=mix([heard[r] for r in row[_S]]),
        )


@dataclass(slots=True)
class _Member:
    talks: bool = True
    listens: bool = True


class Conference(Generic[K]):
    """An N-party mix: each member hears the sum of the other talking members.

    Members are any hashable keys (leg ids). :meth:`mix` takes this tick's frames by member
    and returns the frame to send to each listening member.
    """

    def __init__(self, *, frame_samples: int = 160) -> None:
        self.frame_samples = frame_samples
        self._members: dict[K, _Member] = {}
        self._silence = np.zeros(frame_samples, dtype=np.int16)
        self._silence.setflags(write=False)

    def __contains__(self, key: object) -> bool:
        return key in self._members

    def __len__(self) -> int:
        return len(self._members)

    def add(self, key: K, *, talks: bool = True, listens: bool = True) -> None:
        self._members[key] = _Member(talks=talks, listens=listens)

    def remove(self, key: K) -> None:
        self._members.pop(key, None)

    def set_talks(self, key: K, talks: bool) -> None:
        """Mute (False) or unmute a member."""
        self._members[key].talks = talks

    def set_listens(self, key: K, listens: bool) -> None:
        self._members[key].listens = listens

    def mix(self, frames: Mapping[K, Int16Array | None]) -> dict[K, Int16Array]:
        talkers: list[K] = []
        voices: list[Int16Array] = []
        for key, member in self._members.items():
            frame = frames.get(key)
            if member.talks and frame is not None:
                talkers.append(key)
                voices.append(frame)
        listeners = [k for k, m in self._members.items() if m.listens]
        if not voices:
            return dict.fromkeys(listeners, self._silence)
        stack = np.asarray(voices, dtype=np.int32)  # (talkers, samples)
        total = stack.sum(axis=0)
        own = dict(zip(talkers, _clip(total[np.newaxis, :] - stack), strict=True))
        everyone = _clip(total)  # for listeners who do not talk this tick
        return {k: own.get(k, everyone) for k in listeners}
