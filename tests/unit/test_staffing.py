"""Staffing plans: agents on the phones, headcount after shrinkage, expected KPIs, the table."""

from __future__ import annotations

import math

import pytest

from tamas.reporting.table import Kind
from tamas.wfm.erlang import erlang_a, service_level
from tamas.wfm.staffing import (
    StaffingError,
    StaffingInput,
    plan,
    scheduled_headcount,
    staff,
    staffing_table,
)


def test_call_centre_helper_example_with_shrinkage() -> None:
    # Call Centre Helper's worked example (see test_erlang.py): 100 calls / 30 min, AHT 180 s,
    # 80/20, max occupancy 85 %, shrinkage 30 % -> 14 agents on the phones, SL 88.8 %,
    # ASA 7.8 s, occupancy 10/14 = 71.4 %, and 14 / 0.7 = 20 to schedule (not 21: the float
    # 14 / 0.7 is 20.000000000000004).
    row = staff(StaffingInput(calls=100, interval=1800, aht=180, target=0.8, threshold=20,
                              max_occupancy=0.85, shrinkage=0.3))  # fmt: skip
    assert (row.agents, row.scheduled, row.model) == (14, 20, "erlang_c")
    assert row.traffic == pytest.approx(10.0)
    assert row.service_level == pytest.approx(0.888, abs=5e-4)
    assert row.asa == pytest.approx(7.836, abs=5e-4)
    assert row.occupancy == pytest.approx(10 / 14)
    assert row.abandon_rate is None
    assert row.p_wait == pytest.approx(0.1741, abs=5e-5)


def test_scheduled_headcount_rounds_up() -> None:
    assert scheduled_headcount(14, 0.3) == 20  # 14 / 0.7 = 20 exactly
    assert scheduled_headcount(15, 0.3) == 22  # 15 / 0.7 = 21.43 -> 22
    assert scheduled_headcount(10, 0.0) == 10
    assert scheduled_headcount(0, 0.35) == 0
    with pytest.raises(StaffingError):
        scheduled_headcount(10, 1.0)


def test_max_occupancy_can_decide() -> None:
    # 200 calls / 30 min, AHT 360 s: A = 200 * 360 / 1800 = 40 erlangs. 80/60 needs few
    # agents above 40 (the SL search alone gives 45: occupancy 40/45 = 88.9 %); a cap of 85 %
    # needs ceil(40 / 0.85) = ceil(47.06) = 48.
    free = staff(StaffingInput(calls=200, aht=360, target=0.8, threshold=60))
    capped = staff(StaffingInput(calls=200, aht=360, target=0.8, threshold=60,
                                 max_occupancy=0.85))  # fmt: skip
    assert free.agents == 45
    assert service_level(44, 200 / 1800, 360, 60) < 0.8 <= service_level(45, 200 / 1800, 360, 60)
    assert free.occupancy is not None and free.occupancy > 0.85
    assert capped.agents == 48
    assert capped.occupancy == pytest.approx(40 / 48)
    assert capped.service_level is not None and capped.service_level > free.service_level  # type: ignore[operator]


def test_erlang_a_row_has_abandons() -> None:
    # Same traffic with a mean patience of 60 s: 12 agents reach 80/20 (see test_erlang.py).
    row = staff(StaffingInput(calls=100, aht=180, patience=60, shrinkage=0.25))
    expected = erlang_a(12, 100 / 1800, 180, 60, threshold=20)
    assert (row.agents, row.model) == (12, "erlang_a")
    assert row.scheduled == 16  # 12 / 0.75 = 16
    assert row.service_level == pytest.approx(expected.service_level)
    assert row.abandon_rate == pytest.approx(expected.p_abandon)
    assert row.asa == pytest.approx(expected.asa)
    assert row.occupancy == pytest.approx(expected.occupancy)
    assert 0 < row.abandon_rate < 0.2  # type: ignore[operator]


def test_erlang_a_occupancy_cap() -> None:
    # A long patience (600 s) leaves few abandons (0.5 %), so answered load is ~9.95 erlangs:
    # 14 agents would be 9.95 / 14 = 71 % busy, over the 70 % cap; 15 are 9.95 / 15 = 66 %.
    row = staff(StaffingInput(calls=100, aht=180, patience=600, max_occupancy=0.7))
    assert row.agents == 15
    assert row.occupancy is not None and row.occupancy <= 0.7


def test_no_calls_needs_nobody() -> None:
    row = staff(StaffingInput(calls=0, aht=180, shrinkage=0.3))
    assert (row.agents, row.scheduled) == (0, 0)
    assert row.service_level is None and row.asa is None and row.occupancy is None


def test_plan_keeps_order_and_table_shape() -> None:
    inputs = [
        StaffingInput(start=900.0 * k, calls=calls, interval=900, aht=180, shrinkage=0.3)
        for k, calls in enumerate([0.0, 12.5, 50.0])
    ]
    rows = plan(inputs)
    assert [r.start for r in rows] == [0.0, 900.0, 1800.0]
    # 50 calls / 15 min at 180 s = 10 erlangs: 14 agents as in the half-hour example.
    assert rows[2].agents == 14
    # 12.5 calls / 900 s * 180 = 2.5 erlangs; check the SL search by hand of its result.
    n = rows[1].agents
    assert service_level(n, 12.5 / 900, 180, 20) >= 0.8 > service_level(n - 1, 12.5 / 900, 180, 20)
    table = staffing_table(rows, params={"queue": "sales"}, target=0.8)
    assert table.name == "staffing"
    assert table.column("start").kind is Kind.TIME
    assert table.column("service_level").kind is Kind.RATIO
    assert table.targets == {"service_level": 0.8}
    assert table.rows[0]["service_level"] is None
    assert table.rows[2]["scheduled"] == 20
    data = table.as_json()
    assert data["params"] == {"queue": "sales"}
    assert len(data["rows"]) == 3  # type: ignore[arg-type]


def test_infinite_asa_is_shown_as_none() -> None:
    rows = plan([StaffingInput(calls=10, aht=100, interval=1000)])
    table = staffing_table(rows)
    for value in table.rows[0].values():
        assert not (isinstance(value, float) and math.isinf(value))


@pytest.mark.parametrize(
    "bad",
    [
        {"calls": -1},
        {"calls": math.nan},
        {"aht": 0},
        {"interval": 0},
        {"target": 1.0},
        {"target": 0.0},
        {"threshold": -1},
        {"patience": 0},
        {"max_occupancy": 0},
        {"max_occupancy": 1.2e-38},  # asks for ~1e40 agents: refused, not computed
        {"max_occupancy": 1.2},
        {"shrinkage": 1.0},
        {"shrinkage": -0.1},
    ],
)
def test_bad_inputs_are_refused(bad: dict[str, float]) -> None:
    fields: dict[str, float] = {"calls": 10, "aht": 180}
    fields.update(bad)
    with pytest.raises(StaffingError):
        StaffingInput(**fields)  # type: ignore[arg-type]
