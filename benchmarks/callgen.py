"""A fast generator of a large contact center's event log, for benchmarks/reports.py.

Calls arrive at random over each day (more around the middle of the day), in ``queues``
queues, served by ``agents`` agents shared by all queues. Each agent works a shift with a
lunch pause; a caller goes to the agent free soonest (a heap of "free at" times — a small
M/M/c queue), and hangs up if that would take longer than their patience. The records are
those the ACD and runtime write (docs/event-log.md): CALLSTART, ENTERQUEUE, RINGNOANSWER
(some), CONNECT, HOLD/UNHOLD (some), COMPLETECALLER/COMPLETEAGENT, WRAPUPSTART/WRAPUPEND,
SURVEY (some), ABANDON, CALLBACKREQUESTED/CALLBACKSTARTED/CALLBACKCOMPLETED (some),
CALLEND, and AGENTLOGIN/ADDMEMBER/PAUSE/UNPAUSE/AGENTLOGOFF per agent per day.

It is not a simulation of the ACD (tamas.sim is); it is a quick source of realistic,
well-formed records by the million. ``seq`` is left 0: the caller numbers them.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator

from tamas.core.events import NONE, LogRecord

DAY = 86400.0


def _rec(at: float, call: str, queue: str, agent: str, event: str, *data: str) -> LogRecord:
    return LogRecord(at=at, call_id=call, queue=queue, agent=agent, event=event, data=data)


def generate(
    *,
    calls: int,
    days: int,
    queues: int = 20,
    agents: int = 200,
    start: float = 1_767_225_600.0,  # 2026-01-01 00:00 UTC
    seed: int = 1,
) -> Iterator[list[LogRecord]]:
    """Yield one day's records at a time (agent records, then calls in arrival order)."""
    rng = random.Random(seed)
    names = [f"q{i:02d}" for i in range(queues)]
    ids = [f"a{i:04d}" for i in range(agents)]
    per_day = calls / days
    made = 0
    for day in range(days):
        n = calls - made if day == days - 1 else round(per_day * (day + 1)) - made
        made += n
        yield _day(rng, start + day * DAY, day, n, names, ids)


def _day(
    rng: random.Random, t0: float, day: int, n: int, queues: list[str], ids: list[str]
) -> list[LogRecord]:
    out: list[LogRecord] = []
    shift_start, shift_end = t0 + 7 * 3600, t0 + 21 * 3600
    free: list[tuple[float, str]] = []
    lunch: dict[str, float] = {}
    for agent in ids:
        login = shift_start + rng.uniform(0, 1800)
        out.append(_rec(login, NONE, NONE, agent, "AGENTLOGIN", f"dev-{agent}"))
        out.extend(_rec(login, NONE, q, agent, "ADDMEMBER", f"dev-{agent}") for q in queues[:3])
        lunch[agent] = t0 + rng.uniform(12, 14) * 3600
        heapq.heappush(free, (login, agent))
    # arrivals: a bell over the working day, sorted
    times = sorted(
        min(max(rng.gauss(t0 + 14 * 3600, 3 * 3600), shift_start), shift_end - 60)
        for _ in range(n)
    )
    last_free: dict[str, float] = {}
    for i, at in enumerate(times):
        call = f"{day}.{i}"
        queue = queues[int(rng.paretovariate(1.2)) % len(queues)]
        caller = f"09{rng.randrange(10**9):09d}"
        out.append(_rec(at, call, NONE, NONE, "CALLSTART", caller, "600", "inbound", "trunk"))
        out.append(_rec(at, call, queue, NONE, "ENTERQUEUE", "", caller, "1"))
        free_at, agent = heapq.heappop(free)
        while agent in lunch and at + 120 > lunch[agent]:  # lunch first (30 min paused)
            pause = max(free_at, lunch.pop(agent))
            out.append(_rec(pause, NONE, queues[0], agent, "PAUSE", "lunch"))
            out.append(_rec(pause + 1800, NONE, queues[0], agent, "UNPAUSE"))
            free_at, agent = heapq.heapreplace(free, (pause + 1800, agent))
        begin = max(at, free_at)
        wait = begin - at
        patience = rng.expovariate(1 / 90)
        if wait > patience:
            heapq.heappush(free, (free_at, agent))
            gone = at + patience
            if rng.random() < 0.2:
                out.append(_rec(gone, call, queue, NONE, "CALLBACKREQUESTED", caller, "1", ""))
                out.append(_rec(gone + 5, call, NONE, NONE, "CALLEND", "normal"))
            else:
                out.append(_rec(gone, call, queue, NONE, "ABANDON", "1", "1", str(int(patience))))
                out.append(_rec(gone, call, NONE, NONE, "CALLEND", "cancelled"))
            continue
        ring = rng.uniform(2, 8)
        if rng.random() < 0.05:  # the first agent did not answer
            out.append(_rec(begin + 15, call, queue, agent, "RINGNOANSWER", "15000"))
            begin += 15
            wait += 15
        connect = begin + ring
        talk = rng.lognormvariate(math.log(180), 0.6)
        out.append(_rec(connect, call, queue, agent, "CONNECT", str(int(wait + ring)),
                        f"dev-{agent}", str(int(ring))))  # fmt: skip
        if rng.random() < 0.1:
            out.append(_rec(connect + talk / 3, call, queue, agent, "HOLD"))
            out.append(_rec(connect + talk / 2, call, queue, agent, "UNHOLD"))
        end = connect + talk
        who = "COMPLETECALLER" if rng.random() < 0.6 else "COMPLETEAGENT"
        out.append(_rec(end, call, queue, agent, who, str(int(wait + ring)), str(int(talk)), "1"))
        out.append(_rec(end, call, queue, agent, "WRAPUPSTART", "10"))
        out.append(_rec(end + 10, NONE, NONE, agent, "WRAPUPEND"))
        if rng.random() < 0.2:
            score = str(rng.choice((3, 4, 5, 5, 5)))
            out.append(_rec(end + 20, call, queue, agent, "SURVEY", score, "5"))
        out.append(_rec(end + 20, call, NONE, NONE, "CALLEND", "normal"))
        last_free[agent] = end + 10
        heapq.heappush(free, (end + 10, agent))
    for _, agent in free:
        off = max(shift_end, last_free.get(agent, shift_end))
        out.append(_rec(off, NONE, NONE, agent, "AGENTLOGOFF", f"dev-{agent}", "0"))
    out.sort(key=lambda r: r.at)  # stable: a call's records keep their order
    return out
