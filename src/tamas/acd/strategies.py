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

Ranked strategies (:class:`Ranked`: longest idle, least talk, fewest calls, sequential,
round robin) pick one agent by a fixed ranking; they also keep the queue's available members
in rank order, told by the engine through :meth:`Strategy.added` / :meth:`Strategy.removed`,
so the engine asks :meth:`Ranked.first` for the best acceptable one without scanning
(unless the queue has penalties: then it scans, as for the other strategies).
"""

from __future__ import annotations

import bisect
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar, Protocol

__all__ = [
    "STRATEGIES",
    "AgentView",
    "CallerView",
    "Ranked",
    "Strategy",
    "make_strategy",
]


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
    #: A :class:`Ranked` strategy (one agent, by a fixed ranking, kept in an index).
    ranked: ClassVar[bool] = False

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def added(self, agent: AgentView) -> None:  # noqa: B027 (a hook; most keep no index)
        """``agent`` (a member of this strategy's queue) became available."""

    def removed(self, agent: AgentView) -> None:  # noqa: B027
        """``agent`` is no longer available (ringing, on a call, paused, logged out...)."""

    @abstractmethod
    def choose(
        self, candidates: Sequence[AgentView], call: CallerView, *, now: float
    ) -> list[str]: ...


class Ranked(Strategy):
    """One agent: the lowest ``(rank(a), a.order)``, from an index kept as agents come and go.

    Theory of operation. The engine tells the queue's strategy when a member becomes
    available (:meth:`added`) and when it stops being available (:meth:`removed`); a ranked
    strategy keeps those members in a list sorted by ``(rank, order)`` (bisect: O(log n) to
    find, a C memmove to insert). A rank must not change while its member is available
    (idle since, talk time and calls answered change only at a call's end or at login,
    when the agent is not available), so the list stays sorted. :meth:`first` then walks it
    from the front and stops at the first member the engine accepts (skills, tiers, agents
    already tried): O(1) when every available member is eligible. :meth:`choose` over
    explicit candidates gives the same answer, by the same key, for the engine's other paths.
    """

    ranked = True

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self._index: list[tuple[float, int, AgentView]] = []  # sorted by (rank, order)
        self._entries: dict[str, tuple[float, int, AgentView]] = {}

    @abstractmethod
    def rank(self, agent: AgentView) -> float: ...

    def added(self, agent: AgentView) -> None:
        entry = (self.rank(agent), agent.order, agent)
        self._entries[agent.id] = entry
        bisect.insort(self._index, entry)

    def removed(self, agent: AgentView) -> None:
        entry = self._entries.pop(agent.id)
        index = self._index
        del index[bisect.bisect_left(index, entry)]

    def indexed(self) -> list[str]:
        """The ids in the index, in rank order (for invariant checks)."""
        return [entry[2].id for entry in self._index]

    def first(self, accept: Callable[[AgentView], bool] | None) -> AgentView | None:
        """The best-ranked available member that ``accept`` takes (all, if None)."""
        index = self._index
        if accept is None:
            return index[0][2] if index else None
        for entry in index:
            if accept(entry[2]):
                return entry[2]
        return None

    def picked(self, agent: AgentView) -> None:
        """The engine rings ``agent``, as chosen by :meth:`first`."""

    def choose(self, candidates: Sequence[AgentView], call: CallerView, *, now: float) -> list[str]:
        rank = self.rank
        chosen = min(candidates, key=lambda a: (rank(a), a.order))
        self.picked(chosen)
        return [chosen.id]


class LongestIdle(Ranked):
    name = "longest_idle"

    def rank(self, agent: AgentView) -> float:
        return agent.idle_since


class LeastTalk(Ranked):
    name = "least_talk"

    def rank(self, agent: AgentView) -> float:
        return agent.talk_time


class FewestCalls(Ranked):
    name = "fewest_calls"

    def rank(self, agent: AgentView) -> float:
        return float(agent.calls_answered)


class Sequential(Ranked):
    """Always the first available member in the queue's fixed order."""

    name = "sequential"

    def rank(self, agent: AgentView) -> float:
        return 0.0


class RoundRobin(Ranked):
    """The next member after the one rung last (in member order), wrapping around."""

    name = "round_robin"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.last_order = -1

    def rank(self, agent: AgentView) -> float:
        return 0.0

    def first(self, accept: Callable[[AgentView], bool] | None) -> AgentView | None:
        index = self._index
        if not index:
            return None
        start = bisect.bisect_left(index, (0.0, self.last_order + 1))
        if accept is None:
            return index[start if start < len(index) else 0][2]
        for i in range(start, len(index)):
            if accept(index[i][2]):
                return index[i][2]
        for i in range(start):
            if accept(index[i][2]):
                return index[i][2]
        return None

    def picked(self, agent: AgentView) -> None:
        self.last_order = agent.order

    def choose(self, candidates: Sequence[AgentView], call: CallerView, *, now: float) -> list[str]:
        after = [a for a in candidates if a.order > self.last_order]
        chosen = min(after or candidates, key=lambda a: a.order)
        self.last_order = chosen.order
        return [chosen.id]


class RingAll(Strategy):
    name = "ringall"

    def choose(self, candidates: Sequence[AgentView], call: CallerView, *, now: float) -> list[str]:
        return [a.id for a in sorted(candidates, key=lambda a: a.order)]


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
