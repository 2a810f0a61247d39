"""Orders with euros or tutors: against a brute force on tiny instances, on every route.

Routes: the worst-trip search (the worst trip and one cost), the CP-SAT
engine (académie scale) and the flows (national scale, forced here by
``LARGE_ARCS = -1``).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tutormatch as tm
from tutormatch.solve import _lexico_flows
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
