"""Erlang C / Erlang A against the textbook formulas computed with exact fractions."""

from __future__ import annotations

import math
from fractions import Fraction
from math import factorial

import pytest

from tamas.wfm.erlang import (
    agents_for_service_level,
    asa,
    erlang_a,
    erlang_b,
    erlang_c,
    occupancy,
    service_level,
)


def textbook_c(agents: int, traffic: Fraction) -> Fraction:
    """The Erlang C formula as printed in every WFM book, in exact arithmetic."""
    top = traffic**agents / factorial(agents) * Fraction(agents) / (agents - traffic)
    below = sum(traffic**k / factorial(k) for k in range(agents))
    return top / (below + top)


def textbook_b(agents: int, traffic: Fraction) -> Fraction:
    top = traffic**agents / factorial(agents)
    return top / sum(traffic**k / factorial(k) for k in range(agents + 1))


def test_standard_example_10_erlangs_11_agents() -> None:
    # 100 calls in 30 minutes, AHT 180 s: 100 * 180 / 1800 = 10 erlangs.
    rate = 100 / 1800
    assert erlang_c(11, 10.0) == pytest.approx(0.6821, abs=5e-5)
    # ASA = C * AHT / (c - A) = 0.6821 * 180 / 1 (the brief's 36.8 s does not follow from it).
    assert asa(11, rate, 180) == pytest.approx(122.78, abs=0.01)
    assert occupancy(11, rate, 180) == pytest.approx(10 / 11)


@pytest.mark.parametrize(
    ("agents", "traffic"),
    [
        (1, Fraction(1, 2)),
        (11, Fraction(10)),
        (14, Fraction(10)),
        (30, Fraction(251, 10)),
        (60, Fraction(57)),
        (120, Fraction(100)),
    ],
)
def test_erlang_c_matches_textbook_formula(agents: int, traffic: Fraction) -> None:
    assert erlang_c(agents, float(traffic)) == pytest.approx(
        float(textbook_c(agents, traffic)), rel=1e-12
    )
    assert erlang_b(agents, float(traffic)) == pytest.approx(
        float(textbook_b(agents, traffic)), rel=1e-12
    )


def test_service_level_formula() -> None:
    traffic = Fraction(10)
    for agents in (11, 12, 14):
        c = float(textbook_c(agents, traffic))
        expected = 1 - c * math.exp(-(agents - 10) * 20 / 180)
        assert service_level(agents, 100 / 1800, 180, 20) == pytest.approx(expected, rel=1e-12)


def test_large_center_is_stable() -> None:
    # 500 agents at 480 erlangs: the naive formula overflows floats (480**500).
    exact = float(textbook_c(500, Fraction(480)))
    assert erlang_c(500, 480.0) == pytest.approx(exact, rel=1e-10)
    assert 0.0 < erlang_c(2000, 1950.0) < 1.0
    assert erlang_c(5, 5.0) == 1.0
    assert asa(5, 1.0, 5.0) == math.inf
    assert service_level(5, 1.0, 6.0, 20) == 0.0


def test_agents_for_service_level_is_the_smallest_that_reaches_it() -> None:
    rate, aht = 100 / 1800, 180
    n = agents_for_service_level(rate, aht, 0.8, 20)
    assert service_level(n, rate, aht, 20) >= 0.8
    assert service_level(n - 1, rate, aht, 20) < 0.8
    assert n == 14  # the classic answer for 10 erlangs, 80/20
    big = agents_for_service_level(1000 / 1800 * 10, 180, 0.9, 15)
    assert (
        service_level(big, 1000 / 180, 180, 15) >= 0.9 > service_level(big - 1, 1000 / 180, 180, 15)
    )
    assert agents_for_service_level(0.0, 180, 0.8, 20) == 1
    with pytest.raises(ValueError):
        agents_for_service_level(1.0, 10, 1.5, 20)


def test_erlang_a_with_patience_equal_to_aht_is_poisson() -> None:
    # theta == mu: every caller leaves at rate mu whether served or not, so the number in the
    # system is Poisson(A) (M/M/infinity): P(wait) = P(N >= c), abandons = E[(N-c)+] / A.
    agents, traffic = 8, 7.0
    pmf = [math.exp(-traffic) * traffic**k / factorial(k) for k in range(80)]
    p_wait = sum(pmf[agents:])
    excess = sum((k - agents) * p for k, p in enumerate(pmf) if k > agents)
    result = erlang_a(agents, traffic / 100, 100, 100)
    assert result.p_wait == pytest.approx(p_wait, rel=1e-9)
    assert result.p_abandon == pytest.approx(excess / traffic, rel=1e-9)
    assert result.mean_queue == pytest.approx(excess, rel=1e-9)


def test_erlang_a_tends_to_erlang_c_with_long_patience() -> None:
    result = erlang_a(11, 10 / 180, 180, 1e9)
    assert result.p_wait == pytest.approx(erlang_c(11, 10.0), rel=1e-4)
    assert result.mean_wait == pytest.approx(asa(11, 10 / 180, 180), rel=1e-4)
    assert result.p_abandon < 1e-6
    # Overloaded (A > c) is fine with abandonment: the queue is still stable.
    over = erlang_a(500, 520 / 180, 180, 60)
    assert 0.0 < over.p_abandon < 1.0
    assert over.occupancy <= 1.0
