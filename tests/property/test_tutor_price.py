"""Fewest tutors by a count bound and a price on tutors (solve/_tutor_price.py) against a brute force."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings

import tutormatch as tm
from tutormatch.io import make_uai
from tutormatch.model import CostModel
from tutormatch.solve._decide import _no_near_remote
from tutormatch.solve._euros import euro_costs
from tutormatch.solve._network import build_network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._pool import full_pool
from tutormatch.solve._tutor_price import least_tutors, tutors_by_price
from tutormatch.testing import brute_force_euros, tiny_problems

MODEL = CostModel(fixed_cost_eur=200, remote_pair_cost_eur=40)


def _network(problem: tm.Problem) -> tm.solve._network.Network:  # type: ignore[name-defined]
    return _no_near_remote(problem, build_network(problem, full_pool(problem)))


@settings(max_examples=60, deadline=None)
@given(problem=tiny_problems(4, 5, euros=True, side_constraints=True))
def test_the_count_bound_never_exceeds_the_fewest_tutors(problem: tm.Problem) -> None:
    expected = brute_force_euros(problem, objective="tutors", model=MODEL)
    network = _network(problem)
    n_least, least_uncovered = least_tutors(network)
    if not expected.feasible:
        return
    uncovered = float(problem.establishments.priority.sum()) - expected.covered_priority
    if math.isclose(least_uncovered / network.priority_scale, uncovered, abs_tol=1e-9):
        # The bound is for plans at the flow's coverage: the brute force's plan is one.
        assert n_least <= expected.n_tutors


@settings(max_examples=60, deadline=None)
@given(problem=tiny_problems(4, 5, euros=True))
def test_a_price_on_tutors_matches_the_brute_force(problem: tm.Problem) -> None:
    expected = brute_force_euros(problem, objective="tutors", model=MODEL)
    network = _network(problem)
    costs = euro_costs(problem, network, MODEL, "tutors")
    result = tutors_by_price(problem, network, MODEL, costs, SolveOptions(time_limit=30))
    if result is None:
        return  # the count bound is not reached: the caller's own search goes on
    assert expected.feasible
    if result.z.any():
        return  # remote classes: the caller splits them into pairs (and re-solves if it cannot)
    assert result.stats["tutors_bound"] == expected.n_tutors
    if result.status is tm.Status.OPTIMAL:
        assert result.stats["model_eur"] == pytest.approx(expected.euros, abs=0.01)
    else:
        bound = float(result.stats["bound_eur"])
        assert math.isnan(bound) or bound <= expected.euros + 0.01


def _spread(n_pairs: int, *, n_tutors: int | None = None) -> tm.Problem:
    """Tutors each near their own two establishments, far from the others: one tutor per two."""
    tutors = pd.DataFrame(
        {
            "tutor_id": [f"T{i}" for i in range(n_pairs)],
            "lon": [5.0 + i for i in range(n_pairs)],
            "lat": [43.5] * n_pairs,
            "capacity": [3] * n_pairs,
            "cia_eur": [300.0] * n_pairs,
        }
    )
    establishments = pd.DataFrame(
        {
            "uai": [make_uai(f"013{i:04d}") for i in range(2 * n_pairs)],
            "lon": [5.0 + i // 2 + 0.01 * (i % 2 + 1) for i in range(2 * n_pairs)],
            "lat": [43.5] * (2 * n_pairs),
        }
    )
    tutors = tutors.iloc[: n_pairs if n_tutors is None else n_tutors]
    return tm.Problem.from_frames(tutors, establishments, max_distance_km=20, allow_remote=False)


def test_a_count_bound_out_of_reach_leaves_the_search_to_the_matchings() -> None:
    # Capacity 3, two establishments each: the bound says 2 x 2/3 -> 2 tutors... reached;
    # three tutors with two each: 6/3 = 2 < 3 tutors needed, out of reach.
    problem = _spread(3)
    network = _network(problem)
    n_least, _ = least_tutors(network)
    assert n_least == 2  # 6 establishments / 3 places
    assert (
        tutors_by_price(
            problem, network, MODEL, euro_costs(problem, network, MODEL, "tutors"), SolveOptions()
        )
        is None
    )
    plan = tm.solve(problem, objective="tutors", cost_model=MODEL)
    assert plan.status is tm.Status.OPTIMAL
    assert plan.n_tutors_used == 3
    assert plan.solver != "euros-tutor-price"


def test_no_tutors_gives_a_count_of_zero_and_everything_uncovered() -> None:
    # Was a ValueError: the least common multiple of no capacities.
    empty = _spread(1, n_tutors=0)
    network = _network(empty)
    assert least_tutors(network) == (0, int(network.priority_int[network.active].sum()))
    plan = tm.solve(empty, objective="tutors", cost_model=MODEL)
    assert plan.n_tutors_used == 0
