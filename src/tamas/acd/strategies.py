"""Queue strategies: which available agents to ring for a caller. One small class each.

Every strategy has the same signature, ``choose(candidates, call, *, now) -> [agent ids]``,
and is looked up by name in :data:`STRATEGIES`. The engine builds one instance per queue (so
round-robin memory is per queue) and passes the random generator in, so runs are repeatable.

The engine has already filtered the candidates: every one is available (not paused, not in
wrap-up, not ringing, not on a call), has the caller's (relaxed) skills, and belongs to a
penalty tier open for this caller's wait. They come in no particular order (but the same
order for the same history, so runs repeat); ``order`` is the member's place. Unless a
strategy sets ``penalty_first = False``, only the lowest penalty present is passed (as
Asterisk rings its lowest-penalty members first). ``candidates`` is never empty.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar, Protocol

__all__ = ["STRATEGIES", "AgentView", "CallerView", "Strategy", "make_strategy"]


class AgentView(Protocol):
    """What a strategy may read about a candidate agent (for the caller's queue)."""

    @property
    def id(self) -> str: ...
    @property
    def penalty(self) -> int: ...
    @property
    def order(self) -> int: ...  # place in the queue's member list
    @property
    def idle_since(self) -> float: ...  # end of the last call, or login
    @property
    def talk_time(self) -> float: ...
    @property
    def calls_answered(self) -> int: ...
    @property
    def skills(self) -> Mapping[str, int]: ...


class CallerView(Protocol):
    """What a strategy may read about the caller."""

    @property
    def call_id(self) -> str: ...
    @property
    def priority(self) -> int: ...
    @property
    def entered_at(self) -> float: ...
    @property
    def required(self) -> Mapping[str, int]: ...  # skill minimums after relaxation


class Strategy(ABC):
    """Pick the agents to ring now (one, a few, or all) from non-empty ``candidates``."""

    name: ClassVar[str]
    penalty_first: ClassVar[bool] = True

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    @abstractmethod
    def choose(
        self, candidates: Sequence[AgentView], call: CallerView, *, now: float
    ) -> list[str]: ...


def _least(key: Callable[[AgentView], float]) -> Callable[[Sequence[AgentView]], str]:
    def pick(candidates: Sequence[AgentView]) -> str:
        return min(candidates, key=lambda a: (key(a), a.order)).id

    return pick


class RingAll(Strategy):
    name = "ringall"

    def choose(self, candidates: Sequence[AgentView], call: CallerView, *, now: float) -> list[str]:
        return [a.id for a in sorted(candidates, key=lambda a: a.order)]


class LongestIdle(Strategy):
    name = "longest_idle"
    _pick = staticmethod(_least(lambda a: a.idle_since))

    def choose(self, candidates: Sequence[AgentView], call: CallerView, *, now: float) -> list[str]:
        return [self._pick(candidates)]


class LeastTalk(Strategy):
    name = "least_talk"
    _pick = staticmethod(_least(lambda a: a.talk_time))

    def choose(self, candidates: Sequence[AgentView], call: CallerView, *, now: float) -> list[str]:
        return [self._pick(candidates)]


class FewestCalls(Strategy):
    name = "fewest_calls"
    _pick = staticmethod(_least(lambda a: a.calls_answered))

    def choose(self, candidates: Sequence[AgentView], call: CallerView, *, now: float) -> list[str]:
        return [self._pick(candidates)]


class RoundRobin(Strategy):
    """The next member after the one rung last (in member order), wrapping around."""

    name = "round_robin"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.last_order = -1

    def choose(self, candidates: Sequence[AgentView], call: CallerView, *, now: float) -> list[str]:
        after = [a for a in candidates if a.order > self.last_order]
        chosen = min(after or candidates, key=lambda a: a.order)
        self.last_order = chosen.order
        return [chosen.id]


class Sequential(Strategy):
    """Always the first available member in the queue's fixed order."""

    name = "sequential"

    def choose(self, candidates: Sequence[AgentView], call: CallerView, *, now: float) -> list[str]:
        return [min(candidates, key=lambda a: a.order).id]


class RandomChoice(Strategy):
    name = "random"

    def choose(self, candidates: Sequence[AgentView], call: CallerView, *, now: float) -> list[str]:
        return [self.rng.choice(sorted(candidates, key=lambda a: a.order)).id]


class Hunt3Priority(Strategy):
    """The best three by penalty, then member order, rung at once (all penalties passed)."""

    name = "hunt3_priority"
    penalty_first = False

    def choose(self, candidates: Sequence[AgentView], call: CallerView, *, now: float) -> list[str]:
        ranked = sorted(candidates, key=lambda a: (a.penalty, a.order))
        return [a.id for a in ranked[:3]]


class Hunt3Random(Strategy):
    """Three candidates drawn at random, rung at once."""

    name = "hunt3_random"

    def choose(self, candidates: Sequence[AgentView], call: CallerView, *, now: float) -> list[str]:
        ordered = sorted(candidates, key=lambda a: a.order)
        return [a.id for a in self.rng.sample(ordered, min(3, len(ordered)))]


class BestSkill(Strategy):
    """Highest total level in the caller's required skills; ties go to the longest idle."""

    name = "skills"

    def choose(self, candidates: Sequence[AgentView], call: CallerView, *, now: float) -> list[str]:
        required = call.required

        def rank(a: AgentView) -> tuple[int, float, int]:
            score = sum(a.skills.get(skill, 0) for skill in required)
            return (-score, a.idle_since, a.order)

        return [min(candidates, key=rank).id]


#: The registry: strategy name -> class (a plain dict, so mypyc can compile the classes).
STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls
    for cls in (
        RingAll,
        LongestIdle,
        LeastTalk,
        FewestCalls,
        RoundRobin,
        Sequential,
        RandomChoice,
        Hunt3Priority,
        Hunt3Random,
        BestSkill,
    )
}


def make_strategy(name: str, rng: random.Random) -> Strategy:
    """A new instance of the strategy called ``name`` (KeyError names the unknown one)."""
    return STRATEGIES[name](rng)
