"""Hard groups, then least km, by the MIP on group columns: against a brute force."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tutormatch as tm
from tests.fairness.test_lexico import check, dense_problems, every_plan, lexicographic, with_groups
from tutormatch.solve import Criterion
from tutormatch.solve._groups import groups_split
from tutormatch.solve._groups_exact import too_large_groups
from tutormatch.testing import tiny_problems

CRITERIA = [Criterion("coverage"), Criterion("km")]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(tiny_problems(max_tutors=3, max_establishments=6), dense_problems()),
    st.sampled_from([["A"], ["A", "B"], ["A", "A", ""], ["A", "B", "B", ""]]),
)
def test_hard_groups_then_km_match_brute_force(problem: tm.Problem, labels: list[str]) -> None:
    """Groups larger or smaller than the tutors' places, remote classes, fixed pairs: the proven optimum."""
    problem = with_groups(problem, labels)
    fixed_split = {}
    for t, e in problem.fixed.tolist():
        g = problem.establishments.agence_comptable[e]
        if g:
            fixed_split.setdefault(g, set()).add(t)
    if any(len(s) > 1 for s in fixed_split.values()):
        return  # refused with an InputError (tested in test_lexico)
    plans = [p for p in every_plan(problem) if p["hard_ok"]]
    plan = tm.solve(problem, groups="hard")
    assert plan.solver == "hard-groups-mip"
    check(plan, lexicographic(plans, CRITERIA), CRITERIA)
    assert groups_split(plan) == 0
    assert all(c["proven"] for c in plan.criteria)


def test_groups_larger_than_any_tutor_are_named() -> None:
    """Two groups of three, tutors of two places: kept whole, each leaves one establishment uncovered."""
    from tests.fairness.test_lexico import small_problem

    problem = small_problem()
    assert too_large_groups(problem) == ("A", "B")
    plan = tm.solve(problem, groups="hard")
    assert plan.status is tm.Status.OPTIMAL
    assert plan.n_covered == 4
    assert "2 groups ('A', 'B') have more establishments than any tutor has places" in plan.message


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(tiny_problems(max_tutors=3, max_establishments=6), dense_problems()))
def test_the_two_phases_on_every_column_agree_with_brute_force(problem: tm.Problem) -> None:
    """Without the LP's reduced costs (its priority out of reach): most priority, then least km."""
    from unittest import mock

    problem = with_groups(problem, ["A", "B", ""])
    if len({t for t, e in problem.fixed.tolist() if problem.establishments.agence_comptable[e] == "A"}) > 1:
        return
    if len({t for t, e in problem.fixed.tolist() if problem.establishments.agence_comptable[e] == "B"}) > 1:
        return
    plans = [p for p in every_plan(problem) if p["hard_ok"]]
    with mock.patch("tutormatch.solve._groups_exact._reduced_columns", return_value=(None, 0)):
        plan = tm.solve(problem, groups="hard")
    check(plan, lexicographic(plans, CRITERIA), CRITERIA)
