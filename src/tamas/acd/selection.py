"""Selection: which of a queue's available members may be rung for a caller, and which one(s).

Theory of operation. A member is *eligible* for a caller when its penalty tier is open for
the caller's wait (``tier_wait[penalty - 1]``; penalty 0 always is) and it has every skill
the caller requires at the required level. Required levels relax with the wait: each
``skill_relax`` seconds lowers every level by one, never below 1 (:func:`required`).
:func:`next_step` is the next time either rule lets more members in, so the engine can
wake the caller then.

*Rounds.* Members rung without an answer are remembered (``Caller.tried``) and skipped
until every eligible member has been tried; then a new round starts, after ``retry``
seconds unless the last attempt already paused (:func:`_new_round`).

*Picking.* :func:`pick_scan` filters the available members and hands the strategy the
candidates (the lowest penalty among them first, unless the strategy wants them all).
:func:`pick_ranked` does the same for a ranked strategy without building the list: the
strategy keeps its members in rank order and the first acceptable one is taken.

Waits are compared with thresholds with the tolerance :data:`EPS`, so that the Tick at
``entered_at + t`` sees a wait of ``t`` despite float rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tamas.acd.model import Caller
from tamas.acd.strategies import AgentView, Ranked

if TYPE_CHECKING:
    from tamas.acd.engine import Acd

__all__ = ["EPS", "eligible", "next_step", "pick_ranked", "pick_scan", "required"]

#: Tolerance of wait comparisons (seconds).
EPS = 1e-6


def required(c: Caller, wait: float) -> dict[str, int]:
    """The skill levels ``c`` requires after waiting ``wait`` seconds."""
    step = c.queue.spec.skill_relax
    if not c.skills or not step:
        return c.skills
    drop = int(wait // step)
    return {s: max(1, lvl - drop) for s, lvl in c.skills.items()}


def eligible(m: AgentView, c: Caller, wait: float) -> bool:
    """Whether ``m``'s tier is open for ``c`` and it has ``c.required``."""
    tiers = c.queue.spec.tier_wait
    if m.penalty > 0 and tiers and wait < tiers[min(m.penalty, len(tiers)) - 1]:
        return False
    skills = m.skills
    return all(skills.get(s, 0) >= lvl for s, lvl in c.required.items())


def next_step(c: Caller, now: float) -> float | None:
    """The next time more members may become eligible (tier opens, skill relaxes)."""
    spec = c.queue.spec
    wait = now - c.entered_at + EPS
    best: float | None = None
    for t in spec.tier_wait:
        if t > wait:
            best = c.entered_at + t
            break
    step = spec.skill_relax
    if step and any(lvl > 1 for lvl in required(c, wait).values()):
        at = c.entered_at + (int(wait // step) + 1) * step
        best = at if best is None else min(best, at)
    return best


def pick_scan(acd: Acd, c: Caller, wait: float) -> list[str]:
    """The strategy's choice among the eligible members (none: ring nobody now)."""
    q = c.queue
    if c.required or (q.penalties and q.spec.tier_wait):
        cands = [m for m in q.available.values() if eligible(m, c, wait)]
    else:
        cands = list(q.available.values())
    if not cands:
        return []
    if c.tried:
        tried = c.tried
        untried = [m for m in cands if m.agent.id not in tried]
        if untried:
            cands = untried
        elif not _new_round(acd, c):
            return []
    strategy = q.strategy
    if strategy.penalty_first and q.penalties:
        low = min(m.penalty for m in cands)
        cands = [m for m in cands if m.penalty == low]
    return strategy.choose(cands, c, now=acd._now)


def pick_ranked(acd: Acd, c: Caller, wait: float) -> list[str]:
    """As :func:`pick_scan`, for a ranked strategy: the first acceptable in its index."""
    q = c.queue
    strategy = q.strategy
    assert isinstance(strategy, Ranked)
    accept: Callable[[AgentView], bool] | None = None
    if c.required or (q.penalties and q.spec.tier_wait):

        def accept(m: AgentView) -> bool:
            return eligible(m, c, wait)

    pick: AgentView | None = None
    if c.tried:
        tried = c.tried
        if accept is None:
            pick = strategy.first(lambda m: m.id not in tried)
        else:
            ok = accept
            pick = strategy.first(lambda m: m.id not in tried and ok(m))
    if pick is None:
        pick = strategy.first(accept)
        if pick is None:
            return []
        if c.tried and not _new_round(acd, c):
            return []
    strategy.picked(pick)
    return [pick.id]


def _new_round(acd: Acd, c: Caller) -> bool:
    """Everyone eligible was tried: start a new round; False if it starts after a pause."""
    c.tried.clear()
    if c.retry_until:
        return True
    c.retry_until = acd._now + c.queue.spec.retry  # (no ring since: busy, unreachable)
    acd._schedule(c)
    return False
