"""The least km at most full loads by envelope flows: its bound and proofs, against a brute force."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tutormatch as tm
from tests.fairness.test_full_loads_matching import least_km_at_most_full_loads, problems, threes
from tutormatch.solve._full_loads_envelope import least_km_by_envelope
from tutormatch.solve._full_loads_matching import FullLoadsMatching, full_loads_network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._solve import plan_from_pairs


def plan_of(problem: tm.Problem, search: FullLoadsMatching, pairs: np.ndarray) -> tm.Assignment:
    fixed = problem.fixed
    return plan_from_pairs(
        problem,
        np.concatenate((search.tutor[pairs], fixed[:, 0])),
        np.concatenate((search.establishment[pairs], fixed[:, 1])),
        np.concatenate((np.zeros(len(pairs), dtype=bool), np.ones(len(fixed), dtype=bool))),
        status=tm.Status.FEASIBLE,
        solver="test",
        message="",
        stats={},
        started=time.perf_counter(),
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(problems, threes(), threes(remote=True)))
def test_the_envelope_bound_is_honest(problem: tm.Problem) -> None:
    """The plan keeps coverage and full loads; the bound is below the least km; proven means equal."""
    network = full_loads_network(problem, SolveOptions())
    if not FullLoadsMatching.supports(network):
        return
    found = FullLoadsMatching(network, km=False).solve(time.perf_counter() + 30.0)
    search = FullLoadsMatching(network)
    result = least_km_by_envelope(search, found.pairs, time.perf_counter() + 30.0)
    assert search._credit(result.pairs)[:2] == search._credit(found.pairs)[:2]
    plan = plan_of(problem, search, result.pairs)
    tm.testing.assert_valid_plan(plan)
    least = least_km_at_most_full_loads(problem)
    # The integer costs of the free pairs against the brute force's km (fixed pairs' km apart).
    free_km = plan.cost_km[~plan.is_fixed].sum()
    fixed_km = plan.cost_km.sum() - free_km
    tolerance = 1e-2 * (1 + problem.n_establishments)
    assert plan.cost_km.sum() >= least - tolerance
    if result.lower is not None:
        assert float(result.lower) * network.cost_unit_km + fixed_km <= least + tolerance
    if result.proven:
        assert plan.cost_km.sum() == pytest.approx(least, abs=tolerance)


def test_the_same_loads_at_least_km_keep_the_full_tutors() -> None:
    """A plan of the full loads whose km were not in its weights: the same loads, fewer km, proven."""
    tutors = pd.DataFrame(
        {"tutor_id": ["A", "B"], "lon": [5.0, 5.2], "lat": [43.5, 43.5], "capacity": [2, 2]}
    )
    schools = pd.DataFrame(
        {
            "uai": [tm.io.make_uai(f"013{i:04d}") for i in range(4)],
            "lon": [5.0, 5.01, 5.2, 5.21],
            "lat": [43.5, 43.51, 43.5, 43.51],
        }
    )
    problem = tm.Problem.from_frames(tutors, schools, max_distance_km=60.0, allow_remote=False)
    network = full_loads_network(problem, SolveOptions())
    search = FullLoadsMatching(network)
    near = (search.tutor == 0) == (search.establishment < 2)
    crossed = np.flatnonzero(~near)  # each tutor on the other's establishments: both full, far
    result = least_km_by_envelope(search, crossed, time.perf_counter() + 30.0)
    assert result.proven
    assert search._credit(result.pairs)[1] == 2
    tutor, establishment = search.tutor[result.pairs].tolist(), search.establishment[result.pairs].tolist()
    assert set(zip(tutor, establishment, strict=True)) == {(0, 0), (0, 1), (1, 2), (1, 3)}


def test_full_loads_then_km_on_the_example_is_proven_without_the_engine() -> None:
    """The order coverage, full loads, km: the matching and the envelope flows prove it, no CP-SAT."""
    tutors, establishments = tm.datasets.example_frames()
    problem = tm.Problem.from_frames(tutors, establishments, allow_remote=False)
    plan = tm.solve(problem, objective=["coverage", "full-loads"], time_limit=60.0)
    assert plan.status is tm.Status.OPTIMAL, plan.message
    assert plan.solver == "full-loads-matching"
    assert [c["name"] for c in plan.criteria] == ["coverage", "full-loads", "km"]
    assert all(c["proven"] for c in plan.criteria)
    assert next(c for c in plan.criteria if c["name"] == "full-loads")["value"] == 248
