"""Objectives in euros and budgets against a brute force that lists every plan."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tutormatch as tm
from tutormatch.model import CostModel
from tutormatch.testing import assert_valid_plan, brute_force_euros, model_euros, tiny_problems

MODEL = CostModel(fixed_cost_eur=200, remote_pair_cost_eur=40)


def _plan_euros(plan: tm.Assignment) -> float:
    return model_euros(plan.problem, plan.tutor, plan.establishment, plan.mode, plan.cost_model)


def _check(problem: tm.Problem, objective: str, budget: float | None = None) -> None:
    expected = brute_force_euros(problem, objective=objective, model=MODEL, budget_eur=budget)
    plan = tm.solve(problem, objective=objective, cost_model=MODEL, budget_eur=budget)
    if not expected.feasible:
        assert plan.status is tm.Status.INFEASIBLE, plan.message
        if budget is not None and math.isfinite(expected.cheapest_euros):
            assert "cheapest plan" in plan.message
        return
    assert plan.status is tm.Status.OPTIMAL, plan.message
    assert_valid_plan(plan)
    assert math.isclose(plan.covered_priority, expected.covered_priority, rel_tol=1e-9, abs_tol=1e-9)
    if objective == "tutors":
        assert plan.n_tutors_used == expected.n_tutors
    # Metres on each arc in CP-SAT, 1e-4 EUR units in the flows: a cent at most.
    assert _plan_euros(plan) == pytest.approx(expected.euros, abs=0.01)
    if budget is not None:
        assert _plan_euros(plan) <= budget + 0.01


@settings(max_examples=40)
@given(problem=tiny_problems(4, 5, euros=True), objective=st.sampled_from(["euros", "tutors"]))
def test_objectives_match_brute_force(problem: tm.Problem, objective: str) -> None:
    _check(problem, objective)


@settings(max_examples=15)
@given(problem=tiny_problems(3, 4, euros=True, side_constraints=True))
def test_side_constraints_in_euros_match_brute_force(problem: tm.Problem) -> None:
    _check(problem, "euros")


@settings(max_examples=25)
@given(
    problem=tiny_problems(3, 5, euros=True, side_constraints=True),
    where=st.sampled_from(["at", "above", "below", "between"]),
    objective=st.sampled_from(["euros", "tutors", "km"]),
)
def test_budgets_match_brute_force(problem: tm.Problem, where: str, objective: str) -> None:
    free = brute_force_euros(problem, objective="euros", model=MODEL)
    cheapest = free.cheapest_euros
    if not math.isfinite(cheapest):
        return
    budget = {
        "at": cheapest + 0.005,
        "above": cheapest + 1.0,
        "below": cheapest - 1.0,
        "between": (cheapest + free.euros) / 2 if free.feasible else cheapest,
    }[where]
    if budget < 0:
        return
    _check(problem, objective, budget)


def test_tranche_crossing_is_costed_exactly() -> None:
    # One tutor, three far establishments: 3 x 2 x 10 x 50 km x 1.3 = 3,900 km,
    # beyond 2,000 km; a prior of 9,000 km takes it past 10,000 km too.
    tutors = {"tutor_id": ["T1"], "lon": [5.0], "lat": [43.5], "capacity": [3], "cia_eur": [300.0]}
    import pandas as pd

    for prior, expected_travel in ((0, 2000 * 0.32 + 1900 * 0.40), (9000, 1000 * 0.40 + 2900 * 0.23)):
        frame = pd.DataFrame({**tutors, "prior_service_km": [prior]})
        establishments = pd.DataFrame(
            {
                "uai": [tm.io.make_uai(f"013{i:04d}") for i in range(3)],
                "lon": [5.0 + 50 / 80.8] * 3,
                "lat": [43.5] * 3,
                "visits_per_year": [10] * 3,
            }
        )
        problem = tm.Problem.from_frames(frame, establishments, max_distance_km=60, allow_remote=False)
        plan = tm.solve(problem, objective="euros")
        assert plan.status.is_optimal
        report = tm.report.costs(plan)
        assert plan.objective == report.total_eur
        travel = float(report.tutors["travel_eur"].iloc[0])
        km = float(report.tutors["yearly_km"].iloc[0])
        assert km == pytest.approx(3900, abs=30)
        scale = expected_travel * km / 3900
        assert travel == pytest.approx(scale, rel=0.02)


def test_example_euros_below_km_plan_and_equal_report() -> None:
    example_problem = tm.example_problem()
    km_plan = tm.solve(example_problem)
    plan = tm.solve(example_problem, objective="euros")
    assert plan.status.is_optimal
    assert plan.n_covered == km_plan.n_covered
    assert plan.objective == tm.report.costs(plan).total_eur
    assert plan.objective <= km_plan.summary()["total_cost_eur"]
    assert plan.summary()["objective"] == "euros"


def test_unknown_objective_is_an_input_error() -> None:
    problem = tm.Problem.from_arrays(np.array([[10.0]]))
    with pytest.raises(tm.InputError, match="objective must be one of 'km', 'euros', 'tutors'"):
        tm.solve(problem, objective="money")  # type: ignore[arg-type]


def test_flow_solver_with_euros_is_an_input_error() -> None:
    problem = tm.Problem.from_arrays(np.array([[10.0]]))
    with pytest.raises(tm.InputError, match="needs solver='auto' or 'cpsat'"):
        tm.solve(problem, objective="euros", solver="flow")


def test_negative_budget_is_an_input_error() -> None:
    problem = tm.Problem.from_arrays(np.array([[10.0]]))
    with pytest.raises(tm.InputError, match="budget_eur must be a finite number"):
        tm.solve(problem, budget_eur=-1.0)


@pytest.mark.parametrize("prior", [0.0, 1_900.0, 9_500.0, 9_990.0])
def test_a_choice_across_the_tranches_matches_brute_force(prior: float) -> None:
    # Tutor A has driven `prior` km this year, tutor B none: beyond 10,000 km A's
    # rate drops (0.23 < 0.40 < 0.32 at the start), so who takes the far
    # establishments depends on the non-convex scale.
    import pandas as pd

    tutors = pd.DataFrame(
        {
            "tutor_id": ["A", "B"],
            "lon": [5.0, 5.02],
            "lat": [43.5, 43.5],
            "capacity": [3, 3],
            "prior_service_km": [prior, 0.0],
            "cia_eur": [300.0, 300.0],
        }
    )
    establishments = pd.DataFrame(
        {
            "uai": [tm.io.make_uai(f"013{i:04d}") for i in range(4)],
            "lon": [5.3, 5.35, 5.25, 5.1],
            "lat": [43.6, 43.45, 43.7, 43.5],
            "visits_per_year": [12, 12, 10, 6],
        }
    )
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=60, allow_remote=False)
    _check(problem, "euros")
    _check(problem, "tutors")


def test_a_budget_equal_to_the_cheapest_plan_admits_it() -> None:
    tutors = pd.DataFrame({"tutor_id": ["T1"], "lon": [5.40], "lat": [43.30], "min_load": [1]})
    establishments = pd.DataFrame({"uai": ["0130001F"], "lon": [5.4137], "lat": [43.3173]})
    problem = tm.Problem.from_frames(tutors, establishments)
    cheapest = tm.solve(problem, objective="euros", cost_model=MODEL)
    cost = round(_plan_euros(cheapest), 2)
    for budget, status in ((cost, tm.Status.OPTIMAL), (cost - 0.01, tm.Status.INFEASIBLE)):
        plan = tm.solve(problem, objective="euros", cost_model=MODEL, budget_eur=budget)
        assert plan.status is status, (budget, plan.message)


@settings(max_examples=40, deadline=None)
@given(problem=tiny_problems(4, 5, euros=True), share=st.floats(0.3, 0.99))
def test_budgets_below_the_optimum_match_brute_force(problem: tm.Problem, share: float) -> None:
    # Lagrangian flows, their repair and their proof (solve/_euros.py) answer most of these alone.
    free = brute_force_euros(problem, objective="euros", model=MODEL)
    if free.feasible:
        _check(problem, "euros", free.euros * share)
