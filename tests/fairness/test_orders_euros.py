"""Orders with euros or tutors: against a brute force on tiny instances, on every route.

Routes: the worst-trip search (the worst trip and one cost), the CP-SAT
engine (académie scale) and the flows (national scale, forced here by
``LARGE_ARCS = -1``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tutormatch as tm
from tutormatch.solve import Criterion, _lexico_flows
from tutormatch.solve._fair import criterion_value
from tutormatch.testing import tiny_problems

from .test_lexico import MAXIMISED, SLACK, every_plan, lexicographic

#: Model euros sum yearly km exactly, the reports round each tutor's to whole km.
EURO_SLACK = 1.0
ORDERS = [
    ["worst-trip", "euros"],
    [("worst-trip", "20%"), "euros"],
    ["euros", "worst-trip"],
    [("euros", "5%"), "worst-trip"],
    ["worst-trip", "tutors"],
    ["tutors", "worst-trip"],
    ["full-loads", "euros"],
    [("full-loads", 1), "euros"],
    ["worst-trip", "full-loads", "euros"],
    ["groups", "euros"],
]


def _slack(name: str) -> float:
    return EURO_SLACK if name == "euros" else SLACK.get(name, 1e-9) + 1e-9


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems(max_tutors=3, max_establishments=4, euros=True), st.sampled_from(ORDERS), st.booleans())
def test_orders_with_euros_match_brute_force(problem: tm.Problem, order: list[object], flows: bool) -> None:
    """Proven: each criterion within its tolerance, the last the best; else sound bounds, no loss."""
    from tutormatch.solve._criteria import parse_criteria

    criteria = list(parse_criteria(order))
    with pytest.MonkeyPatch.context() as mp:
        if flows:
            mp.setattr(_lexico_flows, "LARGE_ARCS", -1)
        plan = tm.solve(problem, objective=order, time_limit=20)
    km_plan = tm.solve(problem)
    if not km_plan.status.has_solution:
        assert not plan.status.has_solution
        return
    tm.testing.assert_valid_plan(plan)
    plans = every_plan(problem, euros=True)
    assert plan.covered_priority == pytest.approx(km_plan.covered_priority)
    values = {c["name"]: c for c in plan.criteria}
    assert [c["name"] for c in plan.criteria][: len(criteria)] == [c.name for c in criteria]
    kept = lexicographic(plans, criteria[:1])
    for i, c in enumerate(criteria):
        sign = -1.0 if c.name in MAXIMISED else 1.0
        entry = values[c.name]
        best = min(sign * p[c.name] for p in kept) * sign
        bound = entry.get("bound", math.nan)
        if i == 1 and math.isfinite(bound):
            # A bound holds for every plan of most priority: below the best of them.
            assert sign * bound <= sign * best + _slack(c.name)
        if plan.status is tm.Status.OPTIMAL:
            # The order is respected: each criterion within its tolerance of its optimum.
            assert sign * entry["value"] <= sign * c.limit(best) + _slack(c.name)
            kept = [p for p in kept if sign * p[c.name] <= sign * c.limit(best) + _slack(c.name)]
    if plan.status is tm.Status.OPTIMAL:
        last = criteria[-1]
        sign = -1.0 if last.name in MAXIMISED else 1.0
        best = min(sign * p[last.name] for p in lexicographic(plans, criteria)) * sign
        assert values[last.name]["value"] == pytest.approx(best, abs=_slack(last.name))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems(max_tutors=3, max_establishments=4, euros=True), st.sampled_from(["euros", "tutors"]))
def test_a_cost_then_the_worst_trip_without_time_for_its_tests_states_a_sound_bound(
    problem: tm.Problem, cost: str
) -> None:
    """No time for a threshold test: the cost's own plan, the worst trip unproven with a proven bound."""
    from tutormatch.solve import _fair

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_fair, "_LEAST_TEST_SECONDS", math.inf)
        plan = tm.solve(problem, objective=[cost, "worst-trip"], time_limit=20)
    alone = tm.solve(problem, objective=cost)
    if not alone.status.has_solution:
        return
    tm.testing.assert_valid_plan(plan)
    entries = {c["name"]: c for c in plan.criteria}
    # The plan of the cost alone (every later test was left open).
    assert entries[cost]["value"] == pytest.approx(criterion_value(alone, cost), abs=_slack(cost))
    plans = lexicographic(every_plan(problem, euros=True), [Criterion("coverage")])
    limit = entries[cost]["value"]
    best = min(p["worst-trip"] for p in plans if p[cost] <= limit + _slack(cost))
    worst = entries["worst-trip"]
    assert worst["value"] >= best - 1e-9
    if worst.get("proven", plan.status is tm.Status.OPTIMAL):
        assert worst["value"] == pytest.approx(best)
    else:
        assert plan.status is tm.Status.FEASIBLE
        assert worst["bound"] <= best + 1e-9


def _near_dear_far_cheap() -> tm.Problem:
    """One establishment; tutor "near" at about 5 km with a bonus, tutor "far" at about 40 km without."""
    import pandas as pd

    tutors = pd.DataFrame(
        {
            "tutor_id": ["near", "far"],
            "lon": [5.06, 5.5],
            "lat": [43.5, 43.5],
            "cia_eur": [1000.0, 0.0],
        }
    )
    establishments = pd.DataFrame({"uai": [tm.io.make_uai("0130001")], "lon": [5.0], "lat": [43.5]})
    return tm.Problem.from_frames(tutors, establishments, max_distance_km=60.0, allow_remote=False)


def test_euros_then_the_worst_trip_refutes_the_near_tutor_or_says_it_could_not() -> None:
    problem = _near_dear_far_cheap()
    plan = tm.solve(problem, objective=["euros", "worst-trip"], time_limit=20)
    assert plan.status is tm.Status.OPTIMAL
    assert plan.pairs["tutor_id"].tolist() == ["far"]
    from tutormatch.solve import _fair

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_fair, "_LEAST_TEST_SECONDS", math.inf)
        open_plan = tm.solve(problem, objective=["euros", "worst-trip"], time_limit=20)
    assert open_plan.status is tm.Status.FEASIBLE
    assert open_plan.pairs["tutor_id"].tolist() == ["far"]
    worst = {c["name"]: c for c in open_plan.criteria}["worst-trip"]
    assert worst["proven"] is False
    near = list(problem.tutors.id).index("near")
    near_km = problem.distance_km(np.array([near]), np.array([0]))[0]
    assert worst["bound"] == pytest.approx(near_km)  # the coverage's floor: the near tutor's pair
    assert worst["value"] > worst["bound"]
    # With a tolerance that pays the near tutor's bonus, the near tutor (proven).
    paid = tm.solve(problem, objective=[("euros", 5000), "worst-trip"], time_limit=20)
    assert paid.status is tm.Status.OPTIMAL
    assert paid.pairs["tutor_id"].tolist() == ["near"]
