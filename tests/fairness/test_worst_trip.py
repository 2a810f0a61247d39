"""The worst trip and ordered criteria against an independent brute force on tiny problems."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import event, given, settings

import tutormatch as tm
from tutormatch.model._eligibility import MODE_ONSITE
from tutormatch.solve import _bottleneck as bottleneck
from tutormatch.solve._bottleneck import WorstTripSearch
from tutormatch.testing import assert_valid_plan, eligible_pair_table, tiny_problems


@dataclass(frozen=True)
class Plan:
    covered: float
    worst: float
    km: float


def every_plan(problem: tm.Problem) -> list[Plan]:
    """Every plan of a tiny problem (fixed pairs kept, capacities respected), by enumeration."""
    table = eligible_pair_table(problem)
    options: list[list[tuple[int, bool, float, float]]] = [[] for _ in range(problem.n_establishments)]
    for row in table.itertuples():
        onsite = row.mode == MODE_ONSITE
        options[row.establishment].append(
            (row.tutor, onsite, row.distance_km if onsite else 0.0, row.cost_km)
        )
    fixed = {int(e): int(t) for t, e in problem.fixed}
    priority = problem.establishments.priority
    capacity = problem.tutors.capacity
    plans: list[Plan] = []

    def visit(e: int, loads: list[int], covered: float, worst: float, km: float) -> None:
        if e == problem.n_establishments:
            plans.append(Plan(covered, worst, km))
            return
        if e not in fixed:
            visit(e + 1, loads, covered, worst, km)
        for t, _onsite, d, cost in options[e]:
            if (e in fixed and fixed[e] != t) or loads[t] >= capacity[t]:
                continue
            loads[t] += 1
            visit(e + 1, loads, covered + priority[e], max(worst, d), km + cost)
            loads[t] -= 1

    visit(0, [0] * problem.n_tutors, 0.0, 0.0, 0.0)
    return plans


def close(a: float, b: float, tol: float = 1e-6) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=tol)


def best_coverage(plans: list[Plan]) -> list[Plan]:
    top = max(p.covered for p in plans)
    return [p for p in plans if close(p.covered, top, 1e-9)]


KM_TOL = 1e-3  # costs are optimised in integer metres


@settings(max_examples=120)
@given(problem=tiny_problems(4, 6))
def test_worst_trip_then_km_is_the_brute_force_optimum(problem: tm.Problem) -> None:
    plan = tm.solve(problem, objective="worst-trip")
    assert_valid_plan(plan)
    assert plan.status is tm.Status.OPTIMAL, plan.message
    plans = best_coverage(every_plan(problem))
    worst = min(p.worst for p in plans)
    km = min(p.km for p in plans if close(p.worst, worst))
    event(f"worst trip lowered: {plan.fairness['worst_trip_km'] < plan.fairness['worst_trip_without_km']}")
    assert close(plan.covered_priority, plans[0].covered, 1e-9)
    assert close(plan.max_distance_km, worst), (plan.max_distance_km, worst)
    assert close(plan.objective, km, KM_TOL * (problem.n_establishments + 1)), (plan.objective, km)
    assert [c["name"] for c in plan.criteria] == ["coverage", "worst-trip", "km"]


@settings(max_examples=80)
@given(problem=tiny_problems(4, 6))
def test_a_tolerance_on_the_worst_trip_buys_km_and_is_respected(problem: tm.Problem) -> None:
    plan = tm.solve(problem, objective=["coverage", ("worst-trip", "20%"), "km"])
    assert plan.status is tm.Status.OPTIMAL, plan.message
    plans = best_coverage(every_plan(problem))
    worst = min(p.worst for p in plans)
    allowed = worst * 1.2
    km = min(p.km for p in plans if p.worst <= allowed + 1e-9)
    # A later criterion never worsens an earlier one beyond its tolerance.
    assert plan.max_distance_km <= allowed + 1e-9
    assert close(plan.objective, km, KM_TOL * (problem.n_establishments + 1)), (plan.objective, km)
    assert close(plan.criteria[1]["optimum"], worst)


@settings(max_examples=80)
@given(problem=tiny_problems(4, 6))
def test_km_within_a_tolerance_then_the_worst_trip(problem: tm.Problem) -> None:
    plan = tm.solve(problem, objective=["coverage", "km~10%", "worst-trip"])
    assert plan.status is tm.Status.OPTIMAL, plan.message
    plans = best_coverage(every_plan(problem))
    km_best = min(p.km for p in plans)
    limit = km_best * 1.1
    slack = KM_TOL * (problem.n_establishments + 1)
    within = [p for p in plans if p.km <= limit + slack]
    worst = min(p.worst for p in within)
    assert plan.objective <= limit + slack
    assert close(plan.max_distance_km, worst), (plan.max_distance_km, worst)


def test_the_example_academie_lowers_its_worst_trip_and_prices_it() -> None:
    problem = tm.example_problem()
    base = tm.solve(problem)
    fair = tm.solve(problem, objective="worst-trip")
    assert fair.covered_priority == base.covered_priority
    assert fair.max_distance_km < base.max_distance_km
    summary = fair.summary()
    assert summary["worst_trip_without_km"] == base.max_distance_km
    assert close(summary["price_of_fairness_km"], float(fair.cost_km.sum() - base.cost_km.sum()))
    assert [c["name"] for c in summary["criteria"]] == ["coverage", "worst-trip", "km"]
    # The relaxation was tight: one exact solve proved the threshold.
    assert fair.stats["worst_trip_exact_tests"] <= 1


def test_a_single_name_in_a_list_keeps_its_meaning() -> None:
    problem = tm.example_problem()
    plan = tm.solve(problem, objective=["euros"])
    assert plan.objective_name == "euros"
    assert [c["name"] for c in plan.criteria] == ["coverage", "euros"]
    assert close(plan.objective, tm.solve(problem, objective="euros").objective, 0.01)


@pytest.mark.parametrize(
    ("objective", "match"),
    [
        ("fastest", "objective must be one of"),
        (["coverage", "fastest"], "unknown criterion 'fastest'"),
        (["km", "coverage"], "coverage must come first"),
        (["coverage~2%", "km"], "coverage takes no tolerance"),
        (["worst-trip", "km~2%"], "the last criterion 'km' has a tolerance"),
        (["worst-trip~5%"], "the last criterion 'worst-trip' has a tolerance"),
        (["worst-trip", "km", "worst-trip"], "given twice"),
        (["euros~two", "worst-trip"], "tolerance 'two' of criterion 'euros' is not a number"),
        ([("euros", True), "worst-trip"], "a criterion is a name"),
        ([], "empty list"),
    ],
)
def test_bad_orders_are_refused(objective: object, match: str) -> None:
    with pytest.raises(tm.InputError, match=match):
        tm.solve(tm.example_problem(), objective=objective)  # type: ignore[arg-type]


def test_criterion_tolerances_are_checked() -> None:
    from tutormatch.solve import Criterion

    with pytest.raises(tm.InputError, match="tolerance_rel of criterion 'euros' must be a finite number"):
        Criterion("euros", tolerance_rel=-0.1)
    assert Criterion("euros", 0.02, 10).limit(1000.0) == pytest.approx(1030.0)


def test_restricting_keeps_remote_pairs_and_drops_long_onsite_ones() -> None:
    from tutormatch.solve._bottleneck import restrict

    problem = tm.example_problem()
    restricted = restrict(problem, 20.0)
    assert restricted.candidates.distance_km.max() <= 20.0
    assert np.array_equal(restricted.remote_classes.remote_class, problem.remote_classes.remote_class)
    assert restrict(problem, math.inf) is problem


def front_by_brute_force(problem: tm.Problem) -> list[tuple[float, float]]:
    """The non-dominated (worst trip, km) pairs among plans of the best coverage."""
    plans = best_coverage(every_plan(problem))
    front: list[tuple[float, float]] = []
    for p in sorted(plans, key=lambda p: (p.worst, p.km)):
        if not front or p.km < front[-1][1] - 1e-6:
            front.append((p.worst, p.km))
    return front


@settings(max_examples=60)
@given(problem=tiny_problems(4, 6))
def test_the_pareto_front_is_the_brute_force_one(problem: tm.Problem) -> None:
    front = tm.pareto(problem, y="km")
    expected = front_by_brute_force(problem)
    if not best_coverage(every_plan(problem))[0].covered and not len(front):
        return
    slack = KM_TOL * (problem.n_establishments + 1)
    observed = list(zip(front["worst_trip_km"], front["km"], strict=True))
    # Points whose km differ by less than the solver's metre rounding may merge.
    assert len(observed) <= len(expected)
    for worst, km in observed:
        assert any(close(worst, w) and close(km, k, slack) for w, k in expected), (observed, expected)
    # ... and every trade-off is there: each exact point is matched or beaten.
    for w, k in expected:
        assert any(worst <= w + 1e-9 and km <= k + slack for worst, km in observed), (observed, expected)
    assert close(observed[0][0], expected[0][0])
    assert close(observed[-1][1], expected[-1][1], slack)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x": "coverage"}, "x must be one of 'km', 'euros'"),
        ({"y": "fastest"}, "y must be one of 'km', 'euros'"),
        ({"x": "km", "y": "km"}, "give two different criteria"),
        ({"points": 1}, "points must be an integer >= 2"),
    ],
)
def test_pareto_refuses_bad_criteria(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(tm.InputError, match=match):
        tm.pareto(tm.example_problem(), **kwargs)  # type: ignore[arg-type]


@settings(max_examples=40)
@given(problem=tiny_problems(4, 6, side_constraints=True))
def test_side_constraints_keep_the_coverage_and_an_honest_status(problem: tm.Problem) -> None:
    base = tm.solve(problem)
    plan = tm.solve(problem, objective="worst-trip")
    if not base.status.has_solution:
        assert plan.status is base.status
        return
    assert_valid_plan(plan)
    assert close(plan.covered_priority, base.covered_priority, 1e-9)
    assert plan.max_distance_km <= base.max_distance_km + 1e-9
    if base.status is not tm.Status.OPTIMAL:
        assert plan.status is not tm.Status.OPTIMAL


def test_the_same_rows_in_another_order_give_the_same_plan() -> None:
    tutors, establishments = tm.example_frames()
    a = tm.solve(tm.Problem.from_frames(tutors, establishments), objective="worst-trip")
    b = tm.solve(
        tm.Problem.from_frames(tutors.iloc[::-1], establishments.sample(frac=1.0, random_state=1)),
        objective="worst-trip",
    )
    assert a.pairs.equals(b.pairs)


def test_a_hand_case_trades_km_for_the_worst_trip() -> None:
    # T0-E0 + T1-E1: 1 + 9 (worst 9); T0-E1 + T1-E0: 6 + 5 (worst 6).
    matrix = np.array([[1.0, 6.0], [5.0, 9.0]])
    problem = tm.Problem.from_arrays(matrix, capacity=1, max_distance_km=math.inf, allow_remote=False)
    assert tm.solve(problem).max_distance_km == 9.0
    fair = tm.solve(problem, objective="worst-trip")
    assert fair.max_distance_km == 6.0
    assert fair.fairness["price_of_fairness_km"] > 0
    front = tm.pareto(problem, y="km")
    assert front["worst_trip_km"].tolist() == [6.0, 9.0]


def test_travel_times_give_the_worst_trip_in_minutes_and_no_euros() -> None:
    matrix = np.array([[10.0, 30.0, 50.0], [20.0, 5.0, 40.0]])
    problem = tm.Problem.from_arrays(
        matrix, distance_unit="min", max_distance_km=math.inf, allow_remote=False
    )
    plan = tm.solve(problem, objective="worst-trip")
    assert plan.max_distance_km == 40.0
    assert plan.fairness["price_of_fairness_eur"] is None


def least_relaxed_index(search: WorstTripSearch, target: float, top: int) -> int:
    """The least threshold index whose relaxation reaches ``target``, by trying every one."""
    for i in range(top + 1):
        if search.relaxed_priority(float(search.thresholds[i])) >= target * (1 - 1e-9):
            return i
    return top


@pytest.mark.parametrize(("max_levels", "few_short"), [(6, 2), (2, 2), (1, 2), (6, 0)])
@settings(max_examples=40)
@given(problem=tiny_problems(8, 12, side_constraints=True))
def test_the_level_search_finds_the_least_relaxed_threshold(
    problem: tm.Problem, max_levels: int, few_short: int
) -> None:
    # The per-level search (cut and flow bounds) against a scan of every threshold,
    # with priorities rounded to fewer levels too (the relaxation is then looser),
    # and without testing cut bounds first (more tests that keep the rank).
    base = tm.solve(problem, objective="km")
    if not base.status.has_solution:
        return
    saved = bottleneck.MAX_LEVELS, bottleneck._FEW_SHORT
    bottleneck.MAX_LEVELS, bottleneck._FEW_SHORT = max_levels, few_short
    try:
        search = WorstTripSearch.of(problem)
        scan = WorstTripSearch.of(problem)
        fixed = float(problem.establishments.priority[problem.fixed[:, 1]].sum())
        target = base.covered_priority - fixed
        top = int(np.searchsorted(search.thresholds, base.max_distance_km * (1 + 1e-12) + 1e-12, "right"))
        top = max(top - 1, 0)
        found = search.relaxed_lower_bound(target, top)
    finally:
        bottleneck.MAX_LEVELS, bottleneck._FEW_SHORT = saved
    tight = scan.relaxed_priority(float(scan.thresholds[top])) <= target + 1e-6
    event(f"levels searched one by one: {tight}")
    assert found == least_relaxed_index(scan, target, top)
