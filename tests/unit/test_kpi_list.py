"""The KPI listing: values from summed rows, targets and their status."""

from __future__ import annotations

import pytest

from tamas.reporting.intervals import BANDS, AgentInterval, QueueInterval
from tamas.reporting.kpi_list import kpi_table
from tamas.reporting.settings import ReportSettings


def test_values_targets_and_status() -> None:
    within = [0] * len(BANDS)
    within[BANDS.index(20)] = 9  # 9 answered within 20 s
    q = QueueInterval(queue="", start=0, offered=12, answered=10, abandoned=2,
                      answered_within=within, repeat_contacts=1, handled=10,
                      talk=1500.0)  # fmt: skip
    a = AgentInterval(agent="", start=0, talk=1500.0, available=500.0, login=2400.0)
    rows = {r["kpi"]: r for r in kpi_table(q, a, ReportSettings(), peak=(900, 7)).rows}
    # SL (offered formula) = 9 / (10 + 2) = 0.75 < 0.8: low
    assert rows["service_level"]["value"] == pytest.approx(0.75)
    assert rows["service_level"]["status"] == "low"
    # abandon = 2 / 12 = 0.167 > 0.08: high
    assert rows["abandon_rate"]["status"] == "high"
    # FCR = 1 - 1/10 = 0.9, above the 70-75 % range: better than the target, not a problem
    assert rows["fcr"]["value"] == pytest.approx(0.9) and rows["fcr"]["status"] == "ok"
    # occupancy = 1500 / (1500 + 500) = 0.75: inside 60-80 %
    assert rows["occupancy"]["value"] == pytest.approx(0.75)
    assert rows["occupancy"]["status"] == "ok"
    assert (rows["peak_interval"]["value"], rows["peak_offered"]["value"]) == (900, 7)
    assert rows["frt"]["value"] is None and rows["frt"]["status"] == ""
