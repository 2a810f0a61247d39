"""The least km with at most G groups split (one MIP after reduced-cost fixing): against a brute force."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tutormatch as tm
from tests.fairness.test_full_loads_matching import threes
from tests.fairness.test_groups import every_plan, with_groups
from tests.fairness.test_lexico import dense_problems
from tutormatch.solve._full_loads_matching import full_loads_network
from tutormatch.solve._groups import groups_split
from tutormatch.solve._groups_km import least_km_with_groups
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._solve import plan_from_pairs
from tutormatch.testing import tiny_problems

LABELS = st.sampled_from([["A", "B"], ["A", "", "B"], ["A"], ["A", "A", "B", "C"]])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(tiny_problems(max_tutors=4, max_establishments=5), dense_problems(), threes(remote=True)),
    LABELS,
    st.integers(0, 3),
)
def test_least_km_with_at_most_g_split_matches_brute_force(
    problem: tm.Problem, labels: list[str], extra: int
) -> None:
    """At the most priority and at most G split (from the fewest up): the plan, its bound, its proof."""
    problem = with_groups(problem, labels)
    plans = every_plan(problem)
    coverage = max(p[0] for p in plans)
    at_most = [p for p in plans if p[0] >= coverage - 1e-9]
    max_split = min(p[1] for p in at_most) + extra
    least = min(p[2] for p in at_most if p[1] <= max_split)
    network = full_loads_network(problem, SolveOptions())
    covered = np.zeros(problem.n_establishments, dtype=bool)
    covered[tm.solve(problem).establishment] = True
    coverage_int = int(network.priority_int[covered & network.active].sum())
    found = least_km_with_groups(
        problem,
        SolveOptions(),
        coverage=coverage_int,
        max_split=max_split,
        deadline=time.perf_counter() + 30.0,
    )
    if found is None:  # minimum loads or all-or-nothing: the engine's
        assert np.any(problem.tutors.min_load > 0) or problem.all_or_nothing
        return
    fixed = problem.fixed
    plan = plan_from_pairs(
        problem,
        np.concatenate((found.tutor, fixed[:, 0])),
        np.concatenate((found.establishment, fixed[:, 1])),
        np.concatenate((np.zeros(len(found.tutor), dtype=bool), np.ones(len(fixed), dtype=bool))),
        status=tm.Status.FEASIBLE,
        solver="test",
        message="",
        stats={},
        started=time.perf_counter(),
    )
    tm.testing.assert_valid_plan(plan)
    assert plan.covered_priority == pytest.approx(coverage, abs=1e-9)
    assert groups_split(plan) <= max_split
    tolerance = 1e-2 * (1 + problem.n_establishments)
    assert plan.cost_km.sum() >= least - tolerance
    fixed_km = plan.cost_km[plan.is_fixed].sum()
    assert found.km_bound * found.cost_unit_km + fixed_km <= least + tolerance
    assert found.proven, "tiny models are proven well within the time"
    assert plan.cost_km.sum() == pytest.approx(least, abs=tolerance)


def test_groups_then_km_with_remote_tutoring_on_the_example_is_proven() -> None:
    """The example académie with remote tutoring: 82 groups split, then the least km, both proven."""
    plan = tm.solve(tm.example_problem(), objective=["coverage", "groups"], time_limit=60.0)
    assert plan.status is tm.Status.OPTIMAL, plan.message
    assert plan.solver == "groups-km-mip"
    assert [(c["name"], c["proven"]) for c in plan.criteria] == [
        ("coverage", True),
        ("groups", True),
        ("km", True),
    ]
    assert groups_split(plan) == 82
