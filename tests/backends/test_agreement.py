"""The backends agree on seeded medium instances: same optimum, same infeasibility."""

from __future__ import annotations

import math

import pytest
from tests.conftest import random_frames

import tutormatch as tm
from tutormatch.testing import assert_valid_plan

CASES = [
    pytest.param(
        seed, n_t, n_e, km, remote, id=f"seed{seed}-{n_t}x{n_e}-{km:g}km-{'remote' if remote else 'onsite'}"
    )
    for seed, n_t, n_e, km, remote in [
        (1, 40, 80, 30.0, True),
        (2, 60, 100, 25.0, False),
        (3, 80, 120, 40.0, True),
        (4, 50, 60, 15.0, True),
    ]
]


@pytest.mark.parametrize(("seed", "n_tutors", "n_establishments", "max_km", "remote"), CASES)
def test_flow_and_cpsat_reach_the_same_optimum(
    seed: int, n_tutors: int, n_establishments: int, max_km: float, remote: bool
) -> None:
    tutors, establishments = random_frames(n_tutors, n_establishments, seed)
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=max_km, allow_remote=remote)
    flow = tm.solve(problem, solver="flow")
    cpsat = tm.solve(problem, solver="cpsat")
    for plan in (flow, cpsat):
        assert_valid_plan(plan)
        assert plan.status is tm.Status.OPTIMAL
    assert flow.solver == "flow"
    assert cpsat.solver == "cpsat"
    assert flow.covered_priority == cpsat.covered_priority
    assert math.isclose(flow.objective, cpsat.objective, rel_tol=1e-9, abs_tol=1e-3 * n_establishments)


def test_backends_agree_on_infeasible_minimum_loads() -> None:
    tutors, establishments = random_frames(30, 20, seed=5)
    tutors["min_load"] = 1  # 30 tutors must each take one of 20 establishments
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=30.0)
    assert tm.solve(problem, solver="flow").status is tm.Status.INFEASIBLE
    assert tm.solve(problem, solver="cpsat").status is tm.Status.INFEASIBLE


@pytest.mark.parametrize(("seed", "n_tutors", "n_establishments", "max_km", "remote"), CASES)
@pytest.mark.parametrize("candidate_k", [1, 3, 8])
def test_pricing_from_a_partial_pool_reaches_the_full_optimum(
    seed: int, n_tutors: int, n_establishments: int, max_km: float, remote: bool, candidate_k: int
) -> None:
    tutors, establishments = random_frames(n_tutors, n_establishments, seed)
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=max_km, allow_remote=remote)
    full = tm.solve(problem, options=tm.SolveOptions(candidate_k=None))
    priced = tm.solve(problem, options=tm.SolveOptions(candidate_k=candidate_k))
    assert_valid_plan(priced)
    assert full.stats["pool_complete"]
    if candidate_k == 1:
        assert not priced.stats["pool_complete"]
    assert priced.covered_priority == full.covered_priority
    assert math.isclose(priced.objective, full.objective, rel_tol=1e-12, abs_tol=1e-6)


def test_pricing_covers_an_establishment_through_a_dear_left_out_pair() -> None:
    # The pool (each establishment's nearest tutor) holds only A, who can take
    # one of the two; B, 100 km away, is left out. Covering E2 through B costs
    # far more than any pooled pair: pricing must still bring B in (coverage
    # first), which a small uncovered penalty would not.
    import pandas as pd

    from tutormatch.io import make_uai

    tutors = pd.DataFrame(
        {"tutor_id": ["A", "B"], "lon": [5.0, 6.3], "lat": [43.5, 43.5], "capacity": [1, 1]}
    )
    uai = [make_uai("0130001"), make_uai("0130002")]
    establishments = pd.DataFrame({"uai": uai, "lon": [5.01, 5.02], "lat": [43.5, 43.5]})
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=float("inf"), allow_remote=False)
    plan = tm.solve(problem, solver="flow", options=tm.SolveOptions(candidate_k=1))
    assert plan.status is tm.Status.OPTIMAL
    assert plan.n_uncovered == 0
    assert sorted(plan.pairs["tutor_id"]) == ["A", "B"]
