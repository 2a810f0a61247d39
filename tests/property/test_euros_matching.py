"""The matching search in euros (solve/_euros_matching.py) against a brute force that lists every plan."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tutormatch as tm
from tutormatch.io import make_uai
from tutormatch.model import CostModel
from tutormatch.solve._decide import _no_near_remote
from tutormatch.solve._euros import euro_costs
from tutormatch.solve._euros_matching import EuroMatching, _Node
from tutormatch.solve._network import build_network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._pool import full_pool
from tutormatch.testing import brute_force_euros, tiny_problems

MODEL = CostModel(fixed_cost_eur=200, remote_pair_cost_eur=40)


def _matching(problem: tm.Problem, objective: str) -> EuroMatching:
    network = _no_near_remote(problem, build_network(problem, full_pool(problem)))
    return EuroMatching(network, euro_costs(problem, network, MODEL, objective))


def _check(problem: tm.Problem, objective: str) -> None:
    matching = _matching(problem, objective)
    if not EuroMatching.supports(matching.network):
        return
    expected = brute_force_euros(problem, objective=objective, model=MODEL)
    root = matching.relax(_Node())
    if root is None:  # the loads that must be filled cannot be
        assert not expected.feasible
        assert matching.solve(SolveOptions()).status is tm.Status.INFEASIBLE
        return
    assert expected.feasible
    weight = matching.costs.tutor_weight
    # The root is a lower bound at the most coverage, and its plan costs what it says.
    assert root.bound <= expected.euros + weight * expected.n_tutors + 1e-6
    result = matching.solve(SolveOptions())
    assert result.status is tm.Status.OPTIMAL, result.message
    network = matching.network
    covered = np.zeros(network.n_establishments, dtype=bool)
    covered[network.arc_establishment[result.arc_used]] = True
    covered |= result.z
    covered[problem.fixed[:, 1]] = True
    priority = float(problem.establishments.priority[covered].sum())
    assert priority == pytest.approx(expected.covered_priority, abs=1e-9)
    assert result.stats["model_eur"] == pytest.approx(expected.euros, abs=0.01)
    if objective == "tutors":
        used = np.zeros(network.n_tutors, dtype=bool)
        used[network.arc_tutor[result.arc_used]] = True
        used[network.link_tutor[result.y > 0]] = True
        used |= network.fixed_load > 0
        assert int(used.sum()) == expected.n_tutors


@settings(max_examples=60, deadline=None)
@given(problem=tiny_problems(4, 5, euros=True), objective=st.sampled_from(["euros", "tutors"]))
def test_matching_search_matches_brute_force(problem: tm.Problem, objective: str) -> None:
    _check(problem, objective)


@settings(max_examples=60, deadline=None)
@given(
    problem=tiny_problems(4, 5, euros=True, side_constraints=True),
    objective=st.sampled_from(["euros", "tutors"]),
)
def test_matching_search_with_min_and_all_or_nothing_loads(problem: tm.Problem, objective: str) -> None:
    # All-or-nothing with two places: both matched, to each other or to two establishments.
    _check(problem, objective)


def _line(n_tutors: int, capacity: int, prior: float, visits: int, step: float) -> tm.Problem:
    """Tutors at one point, establishments on a line east of them: long yearly totals."""
    tutors = pd.DataFrame(
        {
            "tutor_id": [f"T{i}" for i in range(n_tutors)],
            "lon": [5.0] * n_tutors,
            "lat": [43.5] * n_tutors,
            "capacity": [capacity] * n_tutors,
            "cia_eur": [300.0 * (i + 1) for i in range(n_tutors)],
            "prior_service_km": [prior] * n_tutors,
        }
    )
    n_e = 4
    establishments = pd.DataFrame(
        {
            "uai": [make_uai(f"013{i:04d}") for i in range(n_e)],
            "lon": [5.0 + step * (i + 1) for i in range(n_e)],
            "lat": [43.5] * n_e,
            "visits_per_year": [visits] * n_e,
        }
    )
    return tm.Problem.from_frames(tutors, establishments, max_distance_km=200, allow_remote=False)


@pytest.mark.parametrize(
    ("prior", "visits", "step"),
    [
        (0.0, 12, 0.16),  # pairs of ~400-1,600 km: totals cross 2,000 km
        (1500.0, 10, 0.08),  # crossing 2,000 km from a prior
        (9000.0, 12, 0.15),  # totals cross 10,000 km: the rate drops, priced linearly
        (0.0, 20, 0.6),  # a pair alone beyond 10,000 km
    ],
)
@pytest.mark.parametrize("capacity", [2, 3])
def test_matching_search_across_tranches(prior: float, visits: int, step: float, capacity: int) -> None:
    _check(_line(3, capacity, prior, visits, step), "euros")


def test_fewest_tutors_is_proven_by_matchings(monkeypatch: pytest.MonkeyPatch) -> None:
    from tutormatch.solve import _tutor_price

    monkeypatch.setattr(_tutor_price, "MAX_TRIES", 0)  # no price on tutors: the matchings' search
    problem = _line(3, 2, 1500.0, 10, 0.08)
    plan = tm.solve(problem, objective="tutors", cost_model=MODEL)
    expected = brute_force_euros(problem, objective="tutors", model=MODEL)
    assert plan.status is tm.Status.OPTIMAL
    assert plan.solver == "euros-matching"
    assert plan.n_tutors_used == expected.n_tutors


def test_a_graph_too_large_for_one_blossom_goes_to_the_flows(monkeypatch: pytest.MonkeyPatch) -> None:
    from tutormatch.solve import _euros_matching as euros_matching

    monkeypatch.setattr(euros_matching, "EXACT_NODES", 0)
    problem = _line(3, 2, 1500.0, 10, 0.08)
    plan = tm.solve(problem, objective="euros", cost_model=MODEL)
    assert plan.status is tm.Status.OPTIMAL
    assert not plan.solver.startswith("euros-matching")
    assert plan.stats["model_eur"] == pytest.approx(brute_force_euros(problem, model=MODEL).euros, abs=0.01)


@pytest.mark.parametrize("objective", ["euros", "tutors", "tutors-price"])
@pytest.mark.parametrize("seed", [0, 1])
def test_row_order_does_not_change_the_matching_plan(
    objective: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import random_frames
    from tests.property.test_invariance import _shuffled, _with_ties

    from tutormatch.solve import _tutor_price

    solver = "euros-matching"
    if objective == "tutors":
        monkeypatch.setattr(_tutor_price, "MAX_TRIES", 0)  # the matchings' own search
    elif objective == "tutors-price":
        objective, solver = "tutors", ""  # the price where its bound is met, else the matchings

    tutors, establishments = random_frames(25, 40, seed)
    tutors = _with_ties(tutors).assign(capacity=lambda f: f["capacity"].clip(upper=2))
    rng = np.random.default_rng(seed + 7)
    options: dict[str, Any] = {"max_distance_km": 30.0, "allow_remote": bool(seed)}
    first = tm.solve(tm.Problem.from_frames(tutors, establishments, **options), objective=objective)
    second = tm.solve(
        tm.Problem.from_frames(_shuffled(tutors, rng), _shuffled(establishments, rng), **options),
        objective=objective,
    )
    assert first.solver == (solver or second.solver)
    pd.testing.assert_frame_equal(first.table(), second.table())
    assert first.objective == second.objective
