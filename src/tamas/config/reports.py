"""The ``reports:`` section: KPI settings, targets, teams and how dates are shown.

```yaml
reports:
  timezone: Asia/Tehran        # days, intervals of the day and dates are shown in this zone
  calendar: jalali             # or gregorian
  language: fa                 # column titles of exports where translated (en, fa, ar)
  sl_threshold: 20             # seconds; a wait band edge (5 10 15 20 30 45 60 90 120 ...)
  sl_formula: offered          # answered | offered | abandoned_after | short_excluded
  short_abandon: 5             # an abandon after less wait than this is a short abandon
  fcr_days: 7                  # a repeat call within this many days: not first-contact resolved
  targets: {service_level: 0.8, abandon_rate: [0.05, 0.08], occupancy: [0.6, 0.8]}
  teams:
    - {name: north, agents: ["1001", "1002"], queues: [sales]}
  schedules:                   # shifts per weekday, for the adherence report
    - {team: north, days: [sat, sun, mon, tue, wed],
       shifts: [{start: "08:00", end: "16:00",
                 breaks: [{start: "13:00", minutes: 30, reason: lunch}]}]}
```

Schedules are described in :mod:`tamas.config.schedules`.

Cross-references (a team naming an unknown agent or queue) are checked by
:func:`check_reports`, which :func:`tamas.config.checks.check` calls.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from tamas.config.errors import Issue
from tamas.config.schedules import ScheduleEntry, check_schedules
from tamas.config.section import Section
from tamas.reporting.intervals import BANDS
from tamas.reporting.settings import DEFAULT_TARGETS, ReportSettings, SlFormula

if TYPE_CHECKING:
    from tamas.config.model import Config

__all__ = ["ReportsConfig", "Team", "check_reports"]


class Team(Section):
    name: str = Field(min_length=1)
    agents: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()


class ReportsConfig(Section):
    timezone: str = "UTC"
    calendar: Literal["gregorian", "jalali"] = "gregorian"
    language: Literal["en", "fa", "ar"] = "en"
    sl_threshold: float = Field(default=20.0, ge=0)
    sl_formula: SlFormula = SlFormula.OFFERED
    short_abandon: float = Field(default=5.0, ge=0)
    fcr_days: float = Field(default=7.0, ge=0)
    #: Share of the survey scale counted as satisfied (4 of 5 = 0.8).
    csat_satisfied: float = Field(default=0.8, gt=0, le=1)
    targets: dict[str, float | tuple[float, float]] = Field(
        default_factory=lambda: dict(DEFAULT_TARGETS)
    )
    teams: tuple[Team, ...] = ()
    #: The agents' weekly shifts (``tamas.config.schedules``); none: no adherence figures.
    schedules: tuple[ScheduleEntry, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as Asia/Tehran or UTC"
            ) from None
        return value

    @field_validator("sl_threshold")
    @classmethod
    def _band(cls, value: float) -> float:
        if value not in BANDS:
            edges = " ".join(str(b) for b in BANDS)
            raise ValueError(f"the service-level threshold must be one of {edges} seconds")
        return value

    def settings(self) -> ReportSettings:
        targets = {**DEFAULT_TARGETS, **self.targets}
        return ReportSettings(sl_threshold=self.sl_threshold, sl_formula=self.sl_formula,
                              short_abandon=self.short_abandon, fcr_window=self.fcr_days * 86400,
                              csat_satisfied=self.csat_satisfied, targets=targets)  # fmt: skip

    def team(self, name: str) -> Team | None:
        return next((t for t in self.teams if t.name == name), None)


def check_reports(config: Config) -> Iterator[Issue]:
    agents = {a.id for a in config.agents}
    queues = {q.name for q in config.queues}
    seen: set[str] = set()
    for i, team in enumerate(config.reports.teams):
        if team.name in seen:
            yield Issue(loc=("reports", "teams", i, "name"), position=None,
                        message="another team has this name", hint="give each team its own name",
                        got=repr(team.name))  # fmt: skip
        seen.add(team.name)
        for j, agent in enumerate(team.agents):
            if agent not in agents:
                yield Issue(loc=("reports", "teams", i, "agents", j), position=None,
                            message="no agent has this id", hint="list ids from agents:",
                            got=repr(agent))  # fmt: skip
        for j, queue in enumerate(team.queues):
            if queue not in queues:
                yield Issue(loc=("reports", "teams", i, "queues", j), position=None,
                            message="no queue has this name", hint="list names from queues:",
                            got=repr(queue))  # fmt: skip
    yield from check_schedules(config.reports, agents)
