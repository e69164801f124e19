"""A fake-clock driver for the ACD, for tests and quick experiments.

:class:`Driver` owns the clock: ``at(t, event)`` advances to ``t`` (delivering every Tick due
on the way, at its deadline), then handles ``event``. Every record and command is kept, and
the engine's invariants are checked after each step.
"""

from __future__ import annotations

from collections.abc import Sequence

from tamas.acd import api
from tamas.acd.engine import Acd
from tamas.core.events import LogRecord

__all__ = ["Driver"]


class Driver:
    def __init__(
        self,
        queues: Sequence[api.QueueSpec],
        agents: Sequence[api.AgentSpec],
        options: api.AcdOptions | None = None,
    ) -> None:
        self.acd = Acd(queues, agents, options)
        self.now = 0.0
        self.last_tick = -1.0
        self.records: list[LogRecord] = []
        self.commands: list[api.Command] = []

    def _take(self, out: api.Outcome) -> api.Outcome:
        self.records.extend(out.records)
        self.commands.extend(out.commands)
        self.acd.check_invariants()
        return out

    def advance(self, t: float) -> None:
        """Move the clock to ``t``, ticking at every deadline on the way.

        Raises AssertionError if the engine keeps asking for a Tick at an instant already
        ticked (it would spin forever in a simulator).
        """
        while True:
            deadline = self.acd.next_deadline()
            if deadline is None or deadline > t:
                break
            assert deadline > self.last_tick, f"deadline {deadline} already ticked"
            self.now = self.last_tick = max(self.now, deadline)
            self._take(self.acd.handle(api.Tick(), self.now))
        self.now = max(self.now, t)

    def at(self, t: float, event: api.Event) -> api.Outcome:
        self.advance(t)
        return self._take(self.acd.handle(event, self.now))

    def events(self, name: str | None = None) -> list[LogRecord]:
        return [r for r in self.records if name is None or r.event == name]

    def names(self) -> list[str]:
        return [r.event for r in self.records]

    def rung(self, call_id: str | None = None) -> list[tuple[str, ...]]:
        """The agent ids of each RingAgents so far (for ``call_id`` if given)."""
        return [
            tuple(a for a, _ in c.agents)
            for c in self.commands
            if isinstance(c, api.RingAgents) and (call_id is None or c.call_id == call_id)
        ]

    def login(self, t: float, *agents: str) -> None:
        for a in agents:
            self.at(t, api.AgentLogin(agent=a, device=f"dev-{a}"))
