"""Report settings: the service-level threshold and formula, the short-abandon threshold, the
FCR window and the targets shown beside each KPI (all changeable by a center).

``tamas.reporting.kpi`` re-exports these; they live apart so that the interval aggregator
(``tamas.reporting.aggregator``), which needs ``short_abandon`` and ``fcr_window``, does not
import the report code.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = ["DEFAULT_TARGETS", "ReportSettings", "SlFormula"]

#: Industry benchmarks (docs/kpis.md), by KPI key; a pair is a (low, high) range.
DEFAULT_TARGETS: dict[str, float | tuple[float, float]] = {
    "service_level": 0.80,
    "abandon_rate": (0.05, 0.08),
    "occupancy": (0.60, 0.80),
    "fcr": (0.70, 0.75),
    "csat": 0.90,
}


class SlFormula(enum.StrEnum):
    """How service level divides the calls answered within the threshold T.

    ``answered``: ÷ answered. ``offered``: ÷ (answered + abandoned).
    ``abandoned_after``: ÷ (answered + abandoned after T) (abandons within T are ignored).
    ``short_excluded``: ÷ (answered + abandoned - short abandons).
    """

    ANSWERED = "answered"
    OFFERED = "offered"
    ABANDONED_AFTER = "abandoned_after"
    SHORT_EXCLUDED = "short_excluded"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportSettings:
    """Times in seconds. ``sl_threshold`` should be a wait band edge (intervals.BANDS) to be
    exact; another value is read from the nearest band edge below it."""

    sl_threshold: float = 20.0
    sl_formula: SlFormula = SlFormula.OFFERED
    #: An abandon after less than this many seconds of wait is a short abandon.
    short_abandon: float = 5.0
    #: A caller calling again within this many seconds makes the earlier call a repeat.
    fcr_window: float = 7 * 86400.0
    #: A CSAT score at or above this share of the scale is "satisfied" (4 of 5).
    csat_satisfied: float = 0.8
    targets: dict[str, float | tuple[float, float]] = field(
        default_factory=lambda: dict(DEFAULT_TARGETS)
    )

    def __post_init__(self) -> None:
        if self.sl_threshold < 0 or self.short_abandon < 0 or self.fcr_window < 0:
            raise ValueError("report thresholds must not be negative")
        if not 0 < self.csat_satisfied <= 1:
            raise ValueError("csat_satisfied is a share of the scale in (0, 1]")

    def flat_targets(self) -> dict[str, float]:
        """Targets as numbers for ``Table.targets``; a range gives ``key_low`` and ``key_high``."""
        out: dict[str, float] = {}
        for key, value in self.targets.items():
            if isinstance(value, tuple):
                out[f"{key}_low"], out[f"{key}_high"] = value
            else:
                out[key] = value
        return out
