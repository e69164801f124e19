"""Agent login sessions from the raw event log: when each agent worked, paused and answered.

One row per session: from AGENTLOGIN to AGENTLOGOFF (or to the end of the records when the
agent is still logged in), with its device, its length, the pause time by reason inside it
(PAUSE/PAUSEALL to UNPAUSE/UNPAUSEALL, cut at the session's edges) and the calls the agent
answered in it (CONNECT, CALLBACKCOMPLETED). A session belongs to the range when it started
in ``[start, end)``. The ACD writes one PAUSE per queue of the agent; they are one pause.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from tamas.core.events import LogRecord
from tamas.reporting.table import Column, Kind, Table, Value

__all__ = ["Session", "agent_sessions", "find_sessions"]


@dataclass(slots=True, kw_only=True)
class Session:
    agent: str
    device: str
    login: float
    logout: float | None = None
    paused_by: dict[str, float] = field(default_factory=dict)
    calls: int = 0
    pause_reason: str | None = None
    pause_since: float = 0.0
    #: The last record's time, for a session still open when the records end.
    until: float | None = None
    #: Each pause as (from, to, reason), in time order (the adherence report's input).
    pauses: list[tuple[float, float, str]] = field(default_factory=list)
    #: The session was still paused when the records ended (its last pause ends at ``until``).
    paused_at_end: bool = False

    def close_pause(self, at: float) -> None:
        if self.pause_reason is not None:
            reason = self.pause_reason or "(none)"
            self.paused_by[reason] = self.paused_by.get(reason, 0.0) + max(
                0.0, at - self.pause_since
            )
            self.pauses.append((self.pause_since, max(at, self.pause_since), reason))
            self.pause_reason = None


def find_sessions(
    records: Iterable[LogRecord], *, start: float, end: float, agents: Collection[str] = ()
) -> list[Session]:
    """The sessions that started in ``[start, end)``, by login time."""
    open_: dict[str, Session] = {}
    found: list[Session] = []
    last = start
    for rec in records:
        last = max(last, rec.at)
        if agents and rec.agent not in agents:
            continue
        s = open_.get(rec.agent)
        if rec.event == "AGENTLOGIN":
            if s is not None:  # logged in again without a logoff: close the old one there
                s.close_pause(rec.at)
                s.logout = rec.at
            s = open_[rec.agent] = Session(agent=rec.agent, device=rec.data[0] if rec.data else "",
                                           login=rec.at)  # fmt: skip
            if start <= rec.at < end:
                found.append(s)
        elif s is None:
            continue
        elif rec.event == "AGENTLOGOFF":
            s.close_pause(rec.at)
            s.logout = s.until = rec.at
            del open_[rec.agent]
        elif rec.event in ("PAUSE", "PAUSEALL") and s.pause_reason is None:
            s.pause_reason, s.pause_since = (rec.data[0] if rec.data else ""), rec.at
        elif rec.event in ("UNPAUSE", "UNPAUSEALL"):
            s.close_pause(rec.at)
        elif rec.event in ("CONNECT", "CALLBACKCOMPLETED"):
            s.calls += 1
    for s in open_.values():  # still logged in: the pause so far, the session to now
        s.paused_at_end = s.pause_reason is not None
        s.close_pause(last)
        s.logout = None
        s.until = last
    return found


COLUMNS = (
    Column(key="agent", title="Agent"),
    Column(key="device", title="Device", description="the extension logged in on"),
    Column(key="login", title="Login", kind=Kind.TIME),
    Column(key="logout", title="Logout", kind=Kind.TIME, description="empty: still logged in"),
    Column(key="duration", title="Duration", kind=Kind.SECONDS,
           description="login to logout (to the last record when still logged in)"),
    Column(key="paused", title="Paused", kind=Kind.SECONDS),
    Column(key="pauses", title="Pauses by reason", description="reason: seconds, ..."),
    Column(key="calls", title="Calls answered", kind=Kind.INT),
)  # fmt: skip


def agent_sessions(
    records: Iterable[LogRecord], *, start: float, end: float, agents: Collection[str] = ()
) -> Table:
    """One row per login session started in the range, by login time."""
    rows: list[dict[str, Value]] = []
    for s in find_sessions(records, start=start, end=end, agents=agents):
        until = s.logout if s.logout is not None else max(s.until or s.login, s.login)
        rows.append({
            "agent": s.agent,
            "device": s.device,
            "login": s.login,
            "logout": s.logout,
            "duration": until - s.login,
            "paused": sum(s.paused_by.values()),
            "pauses": ", ".join(f"{k}: {v:.0f}" for k, v in sorted(s.paused_by.items())),
            "calls": s.calls,
        })  # fmt: skip
    params: dict[str, Value] = {"start": start, "end": end, "agents": ",".join(sorted(agents))}
    return Table(name="agent_sessions", title="Agent login sessions", columns=COLUMNS,
                 rows=tuple(rows), params=params)  # fmt: skip
