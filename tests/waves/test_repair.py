"""tm.repair: fewest changed pairs first, then travel, checked against a brute force."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import tutormatch as tm
from tutormatch.testing import assert_valid_plan, eligible_pair_table, tiny_problems
from tutormatch.waves import repair


def _brute_repair(plan: tm.Assignment, gone: set[int]) -> tuple[float, int, float]:
    """(covered priority, changes, cost) of the lexicographic best repair, by exhaustion."""
    problem = plan.problem
    capacity = [0 if t in gone else int(c) for t, c in enumerate(problem.tutors.capacity)]
    table = eligible_pair_table(problem)
    options: dict[int, list[tuple[int, float]]] = {}
    for t, e, c in zip(table["tutor"], table["establishment"], table["cost_km"], strict=True):
        if capacity[int(t)] > 0:
            options.setdefault(int(e), []).append((int(t), float(c)))
    covered = plan.establishment.tolist()
    old = dict(zip(covered, plan.tutor.tolist(), strict=True))
    fixed = {int(e): int(t) for t, e in problem.fixed.tolist() if int(t) not in gone}
    priority = problem.establishments.priority

    @functools.cache
    def best(i: int, loads: tuple[int, ...]) -> tuple[float, int, float] | None:
        if i == len(covered):
            return (0.0, 0, 0.0)
        e = covered[i]
        choices = [(t, c) for t, c in options.get(e, []) if e not in fixed or t == fixed[e]]
        result = None
        if e not in fixed and (rest := best(i + 1, loads)) is not None:
            result = (rest[0], rest[1] + 1, rest[2])
        for t, cost in choices:
            if loads[t] < capacity[t]:
                rest = best(i + 1, (*loads[:t], loads[t] + 1, *loads[t + 1 :]))
                if rest is None:
                    continue
                candidate = (rest[0] + priority[e], rest[1] + (t != old[e]), rest[2] + cost)
                if result is None or (-candidate[0], candidate[1], candidate[2]) < (
                    -result[0],
                    result[1],
                    result[2],
                ):
                    result = candidate
        return result

    found = best(0, (0,) * problem.n_tutors)
    assert found is not None, "keeping the plan minus the withdrawn pairs is always feasible"
    return found


@given(problem=tiny_problems(), data=st.data())
def test_repair_matches_brute_force(problem: tm.Problem, data: st.DataObject) -> None:
    plan = tm.solve(problem)
    if not plan.status.has_solution or plan.n_pairs == 0:
        return
    used = sorted(set(plan.tutor.tolist()))
    gone = data.draw(st.lists(st.sampled_from(used), min_size=1, max_size=2, unique=True))
    fixed = repair(plan, withdraw=[problem.tutors.id[t] for t in gone])
    assert fixed.is_optimal
    assert_valid_plan(fixed.after)
    assert not np.isin(fixed.after.tutor, gone).any(), "a withdrawn tutor still holds a pair"
    expected = _brute_repair(plan, set(gone))
    covered = float(problem.establishments.priority[fixed.after.establishment].sum())
    event(f"changes: {fixed.n_changed}")
    assert math.isclose(covered, expected[0], abs_tol=1e-9), (
        f"coverage: expected {expected[0]}, observed {covered}"
    )
    assert fixed.n_changed == expected[1], f"changes: expected {expected[1]}, observed {fixed.n_changed}"
    cost = float(fixed.after.cost_km.sum())
    # Travel is compared in units of 0.01 km per pair.
    assert math.isclose(cost, expected[2], abs_tol=0.01 * (plan.n_pairs + 1)), (
        f"cost: expected {expected[2]}, observed {cost}"
    )


def test_repair_keeps_pairs_over_cheaper_moves() -> None:
    # T0 tutors E0 (far, 30 km) and E1; T1 withdraws from E2. T2 (free, 1 place) sits next to E0.
    # Fewest changes: T2 takes E2 (1 change), though moving E0 to T2 and E2 to T0 would travel less.
    tutors = {
        "tutor_id": ["T0", "T1", "T2"],
        "lon": [5.0, 5.5, 5.3],
        "lat": [43.5, 43.5, 43.5],
        "capacity": [2, 1, 1],
    }
    import pandas as pd

    from tutormatch.io import make_uai

    uais = [make_uai(f"013{i:04d}") for i in range(3)]
    establishments = pd.DataFrame({"uai": uais, "lon": [5.3, 5.0, 5.1], "lat": [43.5, 43.5, 43.5]})
    problem = tm.Problem.from_frames(pd.DataFrame(tutors), establishments, max_distance_km=60)
    plan = tm.evaluate(problem, [("T0", uais[0]), ("T0", uais[1]), ("T1", uais[2])])
    fixed = repair(plan, withdraw="T1")
    assert fixed.n_changed == 1
    assert fixed.changes.to_dict("records") == [
        {"uai": uais[2], "tutor_before": "T1", "tutor_after": "T2", "change": "moved"}
    ]
    assert fixed.tutors_touched == ("T2",)


def test_repair_unknown_tutor() -> None:
    plan = tm.solve(tm.example_problem())
    with pytest.raises(tm.InputError, match=r"withdraw: unknown tutor id\(s\) 'NOPE'"):
        repair(plan, withdraw="NOPE")
