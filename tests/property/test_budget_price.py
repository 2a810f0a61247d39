"""Budgets closed by a price on coverage (solve/_budget_price.py) against a brute force."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tutormatch as tm
from tutormatch.model import CostModel
from tutormatch.solve._budget_price import budget_by_price
from tutormatch.solve._decide import _no_near_remote
from tutormatch.solve._network import build_network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._pool import full_pool
from tutormatch.testing import brute_force_euros, tiny_problems

MODEL = CostModel(fixed_cost_eur=200, remote_pair_cost_eur=40)


@settings(max_examples=60, deadline=None)
@given(
    problem=tiny_problems(4, 5, euros=True),
    share=st.floats(0.3, 1.0),
    # Any prices, right or wrong: a price never makes a false proof, only a weaker bound.
    prices=st.lists(st.floats(1.0, 5_000.0), min_size=1, max_size=3),
)
def test_priced_searches_never_claim_more_than_the_brute_force(
    problem: tm.Problem, share: float, prices: list[float]
) -> None:
    free = brute_force_euros(problem, objective="euros", model=MODEL)
    if not free.feasible or not math.isfinite(free.cheapest_euros):
        return
    budget = free.cheapest_euros + share * (free.euros - free.cheapest_euros)
    expected = brute_force_euros(problem, objective="euros", model=MODEL, budget_eur=budget)
    network = _no_near_remote(problem, build_network(problem, full_pool(problem)))
    out = budget_by_price(problem, network, MODEL, budget, prices, SolveOptions(time_limit=30))
    if (network.capacity > 2).any() or (network.min_load > 0).any() or network.all_or_nothing:
        # Not the matchings' case: nothing tried.
        assert out.proven is None
        assert not out.bounds
        return
    assert expected.feasible
    uncovered = float(problem.establishments.priority.sum()) - expected.covered_priority
    least = round(uncovered * network.priority_scale)
    assert out.least_uncovered <= least
    assert out.euro_bound(least) <= expected.euros + 0.01 or not out.bounds
    if out.proven is not None and not out.proven.z.any():
        assert int(out.proven.stats["uncovered_int"]) == least
        assert out.proven.stats["model_eur"] == pytest.approx(expected.euros, abs=0.01)


def test_a_budget_between_the_cheapest_and_the_free_optimum_is_proven_by_prices() -> None:
    from tests.property.test_euros_matching import _line

    problem = _line(4, 2, 0.0, 12, 0.05)
    free = brute_force_euros(problem, objective="euros", model=MODEL)
    budget = (free.cheapest_euros + free.euros) / 2
    expected = brute_force_euros(problem, objective="euros", model=MODEL, budget_eur=budget)
    plan = tm.solve(problem, objective="euros", cost_model=MODEL, budget_eur=budget)
    assert plan.status is tm.Status.OPTIMAL, plan.message
    assert plan.covered_priority == pytest.approx(expected.covered_priority)
    assert plan.stats["model_eur"] == pytest.approx(expected.euros, abs=0.01)
