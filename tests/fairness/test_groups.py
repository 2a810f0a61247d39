"""Fewest groups split, in order with km: against a brute force on tiny problems."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tutormatch as tm
from tutormatch.testing import eligible_pair_table, tiny_problems


def with_groups(problem: tm.Problem, labels: list[str]) -> tm.Problem:
    n = problem.n_establishments
    groups = np.array([labels[i % len(labels)] for i in range(n)], dtype=object)
    return dataclasses.replace(
        problem, establishments=dataclasses.replace(problem.establishments, agence_comptable=groups)
    )


def every_plan(problem: tm.Problem) -> list[tuple[float, int, float]]:
    """(covered priority, groups split, km) of every plan, by enumeration."""
    table = eligible_pair_table(problem)
    options: list[list[tuple[int, float]]] = [[] for _ in range(problem.n_establishments)]
    for row in table.itertuples():
        options[row.establishment].append((row.tutor, row.cost_km))
    fixed = {int(e): int(t) for t, e in problem.fixed}
    priority = problem.establishments.priority
    capacity = problem.tutors.capacity
    groups = problem.establishments.agence_comptable
    out: list[tuple[float, int, float]] = []

    def visit(e: int, loads: list[int], pairs: list[tuple[int, int]], covered: float, km: float) -> None:
        if e == problem.n_establishments:
            seen: dict[str, set[int]] = {}
            for t, f in pairs:
                if groups[f]:
                    seen.setdefault(groups[f], set()).add(t)
            out.append((covered, sum(len(s) > 1 for s in seen.values()), km))
            return
        if e not in fixed:
            visit(e + 1, loads, pairs, covered, km)
        for t, cost in options[e]:
            if (e in fixed and fixed[e] != t) or loads[t] >= capacity[t]:
                continue
            loads[t] += 1
            visit(e + 1, loads, [*pairs, (t, e)], covered + priority[e], km + cost)
            loads[t] -= 1

    visit(0, [0] * problem.n_tutors, [], 0.0, 0.0)
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tiny_problems(max_tutors=4, max_establishments=5), st.sampled_from([["A", "B"], ["A", "", "B"], ["A"]])
)
def test_groups_then_km_matches_brute_force(problem: tm.Problem, labels: list[str]) -> None:
    problem = with_groups(problem, labels)
    plans = every_plan(problem)
    top = max(p[0] for p in plans)
    best = [p for p in plans if abs(p[0] - top) < 1e-9]
    least_split = min(p[1] for p in best)
    least_km = min(p[2] for p in best if p[1] == least_split)
    plan = tm.solve(problem, objective=["coverage", "groups", "km"])
    assert plan.status is tm.Status.OPTIMAL
    values = {c["name"]: c["value"] for c in plan.criteria}
    assert values["coverage"] == pytest.approx(top)
    assert values["groups"] == least_split
    assert values["km"] == pytest.approx(least_km, abs=1e-2)
    assert plan.fairness is not None
    assert plan.fairness["groups_split"] == least_split


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems(max_tutors=4, max_establishments=5))
def test_km_then_groups_keeps_km_optimal(problem: tm.Problem) -> None:
    """The order is respected: groups never worsen the km (no tolerance)."""
    problem = with_groups(problem, ["A", "B"])
    plans = every_plan(problem)
    top = max(p[0] for p in plans)
    best = [p for p in plans if abs(p[0] - top) < 1e-9]
    least_km = min(p[2] for p in best)
    least_split = min(p[1] for p in best if p[2] <= least_km + 1e-3)
    plan = tm.solve(problem, objective="coverage,km,groups")
    values = {c["name"]: c["value"] for c in plan.criteria}
    assert values["km"] == pytest.approx(least_km, abs=1e-2)
    assert values["groups"] == least_split


def test_a_group_split_by_km_is_kept_whole() -> None:
    """Two near tutors, one group of two: km splits it, groups gives it one tutor (column `group`)."""
    import pandas as pd

    tutors = pd.DataFrame(
        {"tutor_id": ["T1", "T2"], "lon": [5.40, 5.45], "lat": [43.30, 43.33], "capacity": [2, 2]}
    )
    schools = pd.DataFrame(
        {"uai": ["0130001F", "0130002G"], "lon": [5.40, 5.45], "lat": [43.30, 43.33], "group": ["G", "G"]}
    )
    problem = tm.Problem.from_frames(tutors, schools)
    km = tm.solve(problem, objective=["coverage", "km", "groups"])
    fair = tm.solve(problem, objective="coverage,groups,km")
    assert fair.status is tm.Status.OPTIMAL
    assert fair.fairness is not None
    assert fair.fairness["groups_split_without"] == 1
    assert fair.fairness["groups_split"] == 0
    assert fair.fairness["price_of_fairness_km"] > 0
    assert km.fairness is not None
    assert km.fairness["groups_split"] == 1
