"""All-or-nothing loads in euros: a plan, fast, with its proven gap (never NO_SOLUTION when one is known).

Regression: on the example académie (on-site, 26 tutors with three places)
``all_or_nothing=True`` with ``objective="euros"`` went straight to CP-SAT,
which found no plan in 26 s of a 60 s limit: NO_SOLUTION, while the km
search under the same rule finds one in under 2 s.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tutormatch as tm
from tutormatch.model import CostModel
from tutormatch.testing import assert_valid_plan, brute_force_euros, model_euros


@pytest.mark.parametrize("objective", ["euros", "tutors"])
def test_example_all_or_nothing_in_euros_has_a_plan_fast(objective: str) -> None:
    problem = tm.example_problem(allow_remote=False, all_or_nothing=True)
    km = tm.solve(problem)
    plan = tm.solve(problem, objective=objective, time_limit=10)
    assert plan.status.has_solution, plan.message
    assert_valid_plan(plan)
    if objective == "euros":
        assert plan.covered_priority == km.covered_priority
        assert 0 <= plan.gap <= 1e-3  # proven: tranche crossings only
        assert plan.objective < tm.report.costs(km).total_eur
    else:
        # Fewest tutors is hard for the flows' bound: an honest gap, on coverage if not proven.
        assert plan.priority_bound >= km.covered_priority
        assert plan.status is tm.Status.OPTIMAL or plan.gap > 0


def _three_places() -> tm.Problem:
    """Tutors with three places, all-or-nothing: "0 or 3" is no matching (the flows' branching)."""
    rng = np.random.default_rng(4)
    tutors = pd.DataFrame(
        {
            "tutor_id": [f"T{i}" for i in range(3)],
            "lon": 5.0 + rng.random(3) * 0.4,
            "lat": 43.5 + rng.random(3) * 0.3,
            "capacity": [3, 3, 2],
            "cia_eur": [300.0, 900.0, 450.0],
        }
    )
    establishments = pd.DataFrame(
        {
            "uai": [tm.io.make_uai(f"013{i:04d}") for i in range(6)],
            "lon": 5.0 + rng.random(6) * 0.4,
            "lat": 43.5 + rng.random(6) * 0.3,
            "visits_per_year": [6, 10, 12, 6, 10, 12],
        }
    )
    return tm.Problem.from_frames(
        tutors, establishments, max_distance_km=60, allow_remote=False, all_or_nothing=True
    )


@pytest.mark.parametrize("objective", ["euros", "tutors"])
def test_three_places_all_or_nothing_match_brute_force(objective: str) -> None:
    problem = _three_places()
    model = CostModel()
    expected = brute_force_euros(problem, objective=objective, model=model)
    plan = tm.solve(problem, objective=objective, cost_model=model)
    assert plan.status is tm.Status.OPTIMAL, plan.message
    assert_valid_plan(plan)
    assert plan.covered_priority == pytest.approx(expected.covered_priority)
    assert plan.n_tutors_used == expected.n_tutors or objective == "euros"
    euros = model_euros(problem, plan.tutor, plan.establishment, plan.mode, model)
    assert euros == pytest.approx(expected.euros, abs=0.01)


def test_example_all_or_nothing_with_remote_has_a_proven_gap() -> None:
    # Remote links carry no arc price: the km plan under the rule, bounded by the plans without it.
    problem = tm.example_problem(all_or_nothing=True)
    plan = tm.solve(problem, objective="euros", time_limit=10)
    assert plan.status.has_solution, plan.message
    assert_valid_plan(plan)
    assert plan.covered_priority == tm.solve(problem).covered_priority
    assert 0 <= plan.gap < 0.1
