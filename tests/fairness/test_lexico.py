"""Any order of criteria (the CP-SAT engine): against a brute force on tiny problems."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tutormatch as tm
from tutormatch.model._eligibility import MODE_ONSITE
from tutormatch.solve import Criterion
from tutormatch.solve._groups import groups_split
from tutormatch.testing import eligible_pair_table, tiny_problems

NAMES = ("km", "tutors", "worst-trip", "worst-year", "full-loads", "groups")
MAXIMISED = ("coverage", "full-loads")
# km rounds to the metre in the models: compare at 1 cm a pair.
SLACK = {"km": 1e-2, "worst-year": 1e-2, "worst-trip": 1e-9}


def with_groups(problem: tm.Problem, labels: list[str]) -> tm.Problem:
    n = problem.n_establishments
    groups = np.array([labels[i % len(labels)] for i in range(n)], dtype=object)
    return dataclasses.replace(
        problem, establishments=dataclasses.replace(problem.establishments, agence_comptable=groups)
    )


def every_plan(problem: tm.Problem, *, euros: bool = False) -> list[dict[str, float]]:
    """Each plan's criteria (coverage, km, tutors, worst trip, worst year, full loads, groups split).

    ``euros``: each plan's euros too, as the reports count them (the default cost model).
    """
    from tutormatch.model import CostModel, plan_cost

    cost_model = CostModel()
    table = eligible_pair_table(problem)
    options: list[list[tuple[int, float, float, bool]]] = [[] for _ in range(problem.n_establishments)]
    for row in table.itertuples():
        options[row.establishment].append(
            (int(row.tutor), float(row.cost_km), float(row.distance_km), row.mode == MODE_ONSITE)
        )
    fixed = {int(e): int(t) for t, e in problem.fixed}
    e_table = problem.establishments
    capacity = problem.tutors.capacity
    min_load = problem.tutors.min_load
    groups = e_table.agence_comptable
    detour = problem.detour_factor if problem.distance_matrix is None else 1.0
    out: list[dict[str, float]] = []

    def visit(e: int, loads: list[int], pairs: list[tuple[int, int, float, float, bool]]) -> None:
        if e == problem.n_establishments:
            if any(loads[t] < min_load[t] for t in range(problem.n_tutors)):
                return
            if problem.all_or_nothing and any(0 < loads[t] < capacity[t] for t in range(problem.n_tutors)):
                return
            seen: dict[str, set[int]] = {}
            yearly = [0.0] * problem.n_tutors
            for t, f, _, d, onsite in pairs:
                if groups[f]:
                    seen.setdefault(groups[f], set()).add(t)
                if onsite:
                    yearly[t] += 2 * e_table.visits_per_year[f] * d * detour
            onsite_d = [d for *_, d, onsite in pairs if onsite]
            out.append(
                {
                    "coverage": float(sum(e_table.priority[f] for _, f, *_ in pairs)),
                    "km": sum(c for _, _, c, _, _ in pairs),
                    "tutors": float(len({t for t, *_ in pairs})),
                    "worst-trip": max(onsite_d, default=0.0),
                    "worst-year": max(yearly, default=0.0),
                    "full-loads": float(
                        sum(1 for t in range(problem.n_tutors) if 0 < capacity[t] == loads[t])
                    ),
                    "groups": float(sum(len(s) > 1 for s in seen.values())),
                    "hard_ok": float(all(len(s) <= 1 for s in seen.values())),
                }
            )
            if euros:
                cents = plan_cost(
                    problem,
                    np.array([p[0] for p in pairs], dtype=np.int64),
                    np.array([p[1] for p in pairs], dtype=np.int64),
                    np.array([p[4] for p in pairs], dtype=bool),
                    np.array([p[3] for p in pairs], dtype=np.float64),
                    cost_model,
                ).total_cents
                out[-1]["euros"] = cents / 100
            return
        if e not in fixed:
            visit(e + 1, loads, pairs)
        for t, cost, d, onsite in options[e]:
            if (e in fixed and fixed[e] != t) or loads[t] >= capacity[t]:
                continue
            loads[t] += 1
            visit(e + 1, loads, [*pairs, (t, e, cost, d, onsite)])
            loads[t] -= 1

    visit(0, [0] * problem.n_tutors, [])
    return out


def lexicographic(plans: list[dict[str, float]], criteria: list[Criterion]) -> list[dict[str, float]]:
    """Filter ``plans`` criterion by criterion, each kept within its tolerance; return the survivors."""
    for c in criteria:
        sign = -1.0 if c.name in MAXIMISED else 1.0
        best = min(sign * p[c.name] for p in plans) * sign
        limit = c.limit(best)
        slack = SLACK.get(c.name, 1e-9)
        plans = [p for p in plans if sign * p[c.name] <= sign * limit + slack]
    return plans


def check(plan: tm.Assignment, expected: list[dict[str, float]], criteria: list[Criterion]) -> None:
    assert plan.status is tm.Status.OPTIMAL, plan.message
    tm.testing.assert_valid_plan(plan)
    values = {c["name"]: c["value"] for c in plan.criteria}
    # Without a cost among them, the least km breaks the ties last.
    assert [c["name"] for c in plan.criteria][: len(criteria)] == [c.name for c in criteria]
    last = criteria[-1]
    sign = -1.0 if last.name in MAXIMISED else 1.0
    best = min(sign * p[last.name] for p in expected) * sign
    # The last criterion is the best among the plans that keep the earlier ones within their limits.
    assert values[last.name] == pytest.approx(best, abs=SLACK.get(last.name, 1e-9) + 1e-9)


@st.composite
def dense_problems(draw: Any) -> tm.Problem:
    """Every pair eligible (a small box), capacities 1 to 3, distinct priorities and visits."""
    n_t = draw(st.integers(2, 3))
    n_e = draw(st.integers(3, 5))
    coord = st.floats(0.0, 0.3, allow_nan=False)
    tutors = pd.DataFrame(
        {
            "tutor_id": [f"T{i}" for i in range(n_t)],
            "lon": [5.0 + draw(coord) for _ in range(n_t)],
            "lat": [43.5 + draw(coord) for _ in range(n_t)],
            "capacity": [draw(st.integers(1, 3)) for _ in range(n_t)],
        }
    )
    schools = pd.DataFrame(
        {
            "uai": [tm.io.make_uai(f"013{i:04d}") for i in range(n_e)],
            "lon": [5.0 + draw(coord) for _ in range(n_e)],
            "lat": [43.5 + draw(coord) for _ in range(n_e)],
            "priority": [draw(st.integers(1, 3)) for _ in range(n_e)],
            "visits_per_year": [draw(st.integers(1, 4)) for _ in range(n_e)],
        }
    )
    return tm.Problem.from_frames(tutors, schools, max_distance_km=60.0)


problems = st.one_of(
    tiny_problems(max_tutors=3, max_establishments=5),
    tiny_problems(max_tutors=3, max_establishments=5, side_constraints=True),
    dense_problems(),
)


@st.composite
def orders(draw: Any) -> list[Criterion]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    out = [Criterion("coverage")]
    for i, name in enumerate(names):
        tolerance = draw(st.sampled_from([0.0, 0.0, 0.2, 1.0])) if i < len(names) - 1 else 0.0
        if name in ("tutors", "full-loads", "groups"):
            out.append(Criterion(name, tolerance_abs=float(round(tolerance))))
        else:
            out.append(Criterion(name, tolerance_rel=tolerance))
    return out


@settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tiny_problems(max_tutors=3, max_establishments=5), orders(), st.sampled_from([["A", "B"], ["A", "", "B"]])
)
def test_any_order_matches_brute_force(
    problem: tm.Problem, criteria: list[Criterion], labels: list[str]
) -> None:
    """Each criterion stays within its tolerance of its optimum; the last one is the best there is."""
    problem = with_groups(problem, labels)
    plans = every_plan(problem)
    survivors = lexicographic(plans, criteria)
    plan = tm.solve(problem, objective=criteria)
    check(plan, survivors, criteria)
    values = {c["name"]: c["value"] for c in plan.criteria}
    # The order is respected: no earlier criterion worse than its limit.
    kept = plans
    for c in criteria:
        sign = -1.0 if c.name in MAXIMISED else 1.0
        best = min(sign * p[c.name] for p in kept) * sign
        assert sign * values[c.name] <= sign * c.limit(best) + SLACK.get(c.name, 1e-9) + 1e-9
        kept = lexicographic(kept, [c])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems, st.sampled_from([["A", "B"], ["A"], ["A", ""]]))
def test_hard_groups_match_brute_force(problem: tm.Problem, labels: list[str]) -> None:
    problem = with_groups(problem, labels)
    fixed_split = {
        g: {int(t) for t, e in problem.fixed if problem.establishments.agence_comptable[e] == g}
        for g in labels
    }
    if any(len(s) > 1 for g, s in fixed_split.items() if g):
        with pytest.raises(tm.InputError, match="a hard group has one"):
            tm.solve(problem, groups="hard")
        return
    plans = [p for p in every_plan(problem) if p["hard_ok"]]
    criteria = [Criterion("coverage"), Criterion("km")]
    plan = tm.solve(problem, groups="hard")
    if not plans:  # minimum loads that no plan with whole groups meets
        assert plan.status is tm.Status.INFEASIBLE
        return
    check(plan, lexicographic(plans, criteria), criteria)
    assert groups_split(plan) == 0


def test_worst_year_and_full_loads_on_a_hand_made_case() -> None:
    """Two tutors of capacity 2, three establishments in a row: the km plan loads the near tutor fully."""
    tutors = pd.DataFrame(
        {"tutor_id": ["T1", "T2"], "lon": [5.0, 5.3], "lat": [43.5, 43.5], "capacity": [2, 2]}
    )
    schools = pd.DataFrame(
        {"uai": ["0130001F", "0130002G", "0130003H"], "lon": [5.01, 5.02, 5.25], "lat": [43.5, 43.5, 43.5]}
    )
    problem = tm.Problem.from_frames(tutors, schools, max_distance_km=60.0)
    fair = tm.solve(problem, objective=["coverage", "worst-year", "km"])
    assert fair.status is tm.Status.OPTIMAL
    yearly = fair.tutor_loads()["yearly_km"].max()
    assert fair.criteria[1]["value"] == pytest.approx(yearly)
    assert fair.fairness is not None
    assert fair.fairness["worst_year_km"] <= fair.fairness["worst_year_without_km"] + 1e-9
    full = tm.solve(problem, objective="full-loads")
    assert full.status is tm.Status.OPTIMAL
    assert full.criteria[1]["value"] == 1.0  # 3 establishments, capacity 2: one tutor full at most
    assert math.isfinite(full.fairness["price_of_fairness_km"])  # type: ignore[index]


def test_groups_must_be_none_or_hard() -> None:
    with pytest.raises(tm.InputError, match="groups must be None or 'hard'"):
        tm.solve(tm.example_problem(), groups="soft")  # type: ignore[arg-type]


def test_euros_need_distances_in_km() -> None:
    problem = tm.Problem.from_arrays(np.array([[10.0, 20.0]]), distance_unit="min", max_distance_km=60)
    with pytest.raises(tm.InputError, match="count euros from road km"):
        tm.solve(problem, objective=["coverage", "full-loads", "euros"])


def small_problem() -> tm.Problem:
    """Four tutors, six establishments in two groups of three, all within reach."""
    tutors = pd.DataFrame(
        {
            "tutor_id": ["T1", "T2", "T3", "T4"],
            "lon": [5.00, 5.10, 5.20, 5.30],
            "lat": [43.50, 43.52, 43.48, 43.50],
            "capacity": [2, 2, 2, 2],
        }
    )
    schools = pd.DataFrame(
        {
            "uai": [tm.io.make_uai(f"013{i:04d}") for i in range(6)],
            "lon": [5.01, 5.05, 5.12, 5.18, 5.26, 5.31],
            "lat": [43.50, 43.51, 43.49, 43.50, 43.51, 43.49],
            "visits_per_year": [2, 6, 3, 4, 6, 2],
            "group": ["A", "A", "A", "B", "B", "B"],
        }
    )
    return tm.Problem.from_frames(tutors, schools, max_distance_km=60.0)


def test_a_pareto_front_of_any_two_criteria() -> None:
    problem = small_problem()
    front = tm.pareto(problem, x="worst-year", y="km", points=4)
    assert front.attrs == {"x": "worst-year", "y": "km"}
    assert list(front.columns[:3]) == ["x", "y", "epsilon"]
    assert (front["status"] == "optimal").all()
    assert front["x"].is_monotonic_increasing
    assert front["y"].is_monotonic_decreasing
    best_x = tm.solve(problem, objective=["coverage", "worst-year", "km"])
    best_y = tm.solve(problem, objective=["coverage", "km", "worst-year"])
    assert front["x"].iloc[0] == pytest.approx(best_x.criteria[1]["value"])
    assert front["y"].iloc[-1] == pytest.approx(best_y.criteria[1]["value"], abs=1e-2)
    # Every row is within its epsilon, and no row is dominated by another.
    assert (front["x"] <= front["epsilon"] + 1e-6).all()


def test_a_front_with_a_maximised_criterion() -> None:
    front = tm.pareto(small_problem(), x="full-loads", y="worst-trip", points=3)
    assert front["x"].is_monotonic_decreasing  # from the most full loads down
    assert front["y"].is_monotonic_decreasing


def test_hard_groups_keep_each_group_with_one_tutor() -> None:
    problem = small_problem()
    plan = tm.solve(problem, groups="hard", objective=["coverage", "euros"])
    assert plan.status is tm.Status.OPTIMAL
    assert groups_split(plan) == 0
    soft = tm.solve(problem, objective="coverage,groups,euros")
    assert soft.status is tm.Status.OPTIMAL
    assert plan.covered_priority <= soft.covered_priority


def test_a_phase_stopped_by_the_time_limit_is_not_claimed_proven() -> None:
    problem = small_problem()
    plan = tm.solve(problem, objective=["coverage", "full-loads", "worst-year"], time_limit=1e-3)
    assert plan.status is tm.Status.FEASIBLE
    tm.testing.assert_valid_plan(plan)
    stopped = [c for c in plan.criteria if c["name"] != "coverage"]
    assert stopped
    assert not any(c["proven"] for c in stopped)
    assert plan.n_covered == tm.solve(problem).n_covered  # coverage is never given up
