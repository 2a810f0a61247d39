"""The matching search for most full loads (after coverage), against a brute force."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tutormatch as tm
from tests.fairness.test_lexico import dense_problems, every_plan
from tutormatch.solve._full_loads_matching import FullLoadsMatching, full_loads_network, solve_full_loads
from tutormatch.solve._options import SolveOptions
from tutormatch.testing import tiny_problems


@st.composite
def threes(draw: Any) -> tm.Problem:
    """Mostly tutors of three places, every pair eligible: the relaxation loads them partly."""
    n_t = draw(st.integers(2, 3))
    n_e = draw(st.integers(4, 6))
    coord = st.floats(0.0, 0.3, allow_nan=False)
    tutors = pd.DataFrame(
        {
            "tutor_id": [f"T{i}" for i in range(n_t)],
            "lon": [5.0 + draw(coord) for _ in range(n_t)],
            "lat": [43.5 + draw(coord) for _ in range(n_t)],
            "capacity": [draw(st.sampled_from([1, 2, 3, 3, 3])) for _ in range(n_t)],
        }
    )
    schools = pd.DataFrame(
        {
            "uai": [tm.io.make_uai(f"013{i:04d}") for i in range(n_e)],
            "lon": [5.0 + draw(coord) for _ in range(n_e)],
            "lat": [43.5 + draw(coord) for _ in range(n_e)],
        }
    )
    return tm.Problem.from_frames(tutors, schools, max_distance_km=60.0, allow_remote=False)


problems = st.one_of(
    tiny_problems(max_tutors=3, max_establishments=5),
    tiny_problems(max_tutors=3, max_establishments=5, side_constraints=True),
    dense_problems(),
    threes(),
)


def best_full_loads(problem: tm.Problem) -> tuple[float, float]:
    """The most coverage, then the most full tutors at it (brute force)."""
    plans = every_plan(problem)
    coverage = max(p["coverage"] for p in plans)
    return coverage, max(p["full-loads"] for p in plans if p["coverage"] >= coverage - 1e-9)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems)
def test_most_full_loads_match_brute_force(problem: tm.Problem) -> None:
    """Capacities 1 to 3, fixed pairs, remote classes: the proven optimum is the brute force's."""
    plan = solve_full_loads(problem, SolveOptions(time_limit=30.0))
    network = full_loads_network(problem, SolveOptions())
    if plan is None:  # minimum loads or all-or-nothing: not this method's
        assert not FullLoadsMatching.supports(network)
        return
    tm.testing.assert_valid_plan(plan)
    coverage, full = best_full_loads(problem)
    assert plan.status is tm.Status.OPTIMAL, plan.message
    assert plan.covered_priority == coverage or abs(plan.covered_priority - coverage) < 1e-9
    loads, capacity = plan.loads, problem.tutors.capacity
    assert ((loads == capacity) & (capacity > 0)).sum() == full
    assert plan.stats["full_loads"] == full


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(dense_problems(), threes()))
def test_the_km_tie_break_proven_is_the_least_km_at_most_full_loads(problem: tm.Problem) -> None:
    plan = solve_full_loads(problem, SolveOptions(time_limit=30.0), prove_km=True)
    assert plan is not None
    assert plan.status is tm.Status.OPTIMAL, plan.message
    plans = every_plan(problem)
    coverage, full = best_full_loads(problem)
    least = min(p["km"] for p in plans if p["coverage"] >= coverage - 1e-9 and p["full-loads"] == full)
    assert plan.cost_km.sum() == pytest.approx(least, abs=1e-2)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(dense_problems(), threes()))
def test_a_search_stopped_at_once_keeps_an_honest_bound(problem: tm.Problem) -> None:
    """With no time for branching, the root's plan and bound bracket the optimum; proven means equal."""
    found = FullLoadsMatching(full_loads_network(problem, SolveOptions())).solve(time.perf_counter() - 1.0)
    _, full = best_full_loads(problem)
    assert found.full <= full <= found.bound
    if found.proven:
        assert found.full == full == found.bound


def test_an_unused_tutor_is_not_full() -> None:
    """Two tutors of two places, two establishments: one tutor full, the other unused (1 full, not 2)."""
    tutors = pd.DataFrame(
        {"tutor_id": ["A", "B"], "lon": [5.0, 5.01], "lat": [43.5, 43.5], "capacity": [2, 2]}
    )
    schools = pd.DataFrame(
        {
            "uai": [tm.io.make_uai(f"013{i:04d}") for i in range(2)],
            "lon": [5.0, 5.02],
            "lat": [43.51, 43.5],
        }
    )
    problem = tm.Problem.from_frames(tutors, schools, max_distance_km=60.0, allow_remote=False)
    plan = tm.solve(problem, objective=["coverage", "full-loads"])
    assert plan.status is tm.Status.OPTIMAL
    assert plan.n_tutors_used == 1
    assert next(c for c in plan.criteria if c["name"] == "full-loads")["value"] == 1
    assert "full-loads proven (full-loads-matching)" in plan.message


def test_proving_the_km_needs_the_km_in_the_weights() -> None:
    network = full_loads_network(tm.example_problem(), SolveOptions())
    with pytest.raises(ValueError, match="needs the km in the matching's weights"):
        FullLoadsMatching(network, km=False).solve(time.perf_counter() + 1.0, prove_km=True)
