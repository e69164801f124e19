"""The step graph of a flow: which steps each step can go to, and cycles that never wait.

A flow must not be able to run around a loop forever without waiting for the caller. The
steps that wait for the caller are ``menu`` and ``collect`` (each attempt waits for a key or
a timeout, and their retries end in ``fail``). Every cycle in the graph must pass through
one of them; :func:`silent_cycle` finds a cycle that does not.
"""

from __future__ import annotations

from tamas.ivr.model import (
    BranchStep,
    CollectStep,
    Flow,
    GotoStep,
    HoursStep,
    HttpStep,
    Jump,
    LookupStep,
    MenuStep,
    PlayStep,
    RouteStep,
    SayStep,
    SetLanguageStep,
    Step,
    Target,
)

__all__ = ["silent_cycle", "step_kind", "targets", "waits_for_caller"]


def targets(step: Step) -> list[Target]:
    """Every target ``step`` may continue with."""
    match step:
        case PlayStep() | SayStep() | SetLanguageStep():
            return [step.next]
        case HoursStep():
            return [t for t in (step.open, step.closed, step.holiday) if t is not None]
        case MenuStep():
            return [target for _, target in step.options] + [step.fail]
        case CollectStep():
            return [step.next, step.fail]
        case LookupStep():
            return [step.found, step.unknown]
        case BranchStep():
            return [target for _, target in step.cases] + [step.default]
        case HttpStep():
            return [step.ok, step.error]
        case GotoStep():
            return [Jump(step=step.target)]
        case RouteStep():
            return [step.destination]


_KINDS: dict[type[Step], str] = {
    PlayStep: "play",
    SayStep: "say",
    SetLanguageStep: "set_language",
    HoursStep: "hours",
    MenuStep: "menu",
    CollectStep: "collect",
    LookupStep: "lookup",
    BranchStep: "branch",
    HttpStep: "http",
    GotoStep: "goto",
    RouteStep: "route",
}


def step_kind(step: Step) -> str:
    """The step's kind as written in a flow (``route`` for the destination kinds)."""
    return _KINDS[type(step)]


def waits_for_caller(step: Step) -> bool:
    return isinstance(step, MenuStep | CollectStep)


def silent_cycle(flow: Flow) -> list[str] | None:
    """Step ids of a cycle without a menu or collect step, or ``None`` if there is none."""
    edges: dict[str, list[str]] = {}
    for step in flow.steps:
        if waits_for_caller(step):
            continue
        edges[step.id] = [t.step for t in targets(step) if isinstance(t, Jump)]
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(edges, white)
    for root in edges:
        if colour[root] != white:
            continue
        # Iterative depth-first search; ``trail`` is the current path.
        trail: list[str] = [root]
        iters = [iter(edges[root])]
        colour[root] = grey
        while iters:
            nxt = next(iters[-1], None)
            if nxt is None:
                colour[trail.pop()] = black
                iters.pop()
                continue
            if nxt not in colour:  # a menu/collect step (or a missing one): breaks cycles
                continue
            if colour[nxt] == grey:
                return [*trail[trail.index(nxt) :], nxt]
            if colour[nxt] == white:
                colour[nxt] = grey
                trail.append(nxt)
                iters.append(iter(edges[nxt]))
    return None
