"""Solve an ordered list of criteria with the worst trip among them (successive exact solves)."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from tutormatch.model._problem import Problem
from tutormatch.solve._assignment import Assignment
from tutormatch.solve._bottleneck import WorstTripSearch, restrict, same_priority, threshold_at_most
from tutormatch.solve._criteria import Criterion
from tutormatch.solve._reasons import explain_uncovered
from tutormatch.solve._status import Status

__all__ = ["criteria_entries", "criterion_value", "solve_with_worst_trip"]

SolveFn = Callable[..., Assignment]
_COST_TOL = 1e-6


def _reparent(plan: Assignment, problem: Problem) -> Assignment:
    """Return the plan of a restricted problem as a plan of the original one (same pairs and modes)."""
    reasons = explain_uncovered(problem, plan.uncovered_establishment, all_or_nothing=problem.all_or_nothing)
    return dataclasses.replace(plan, problem=problem, uncovered_reasons=reasons)


def _proven(plan: Assignment) -> bool:
    return plan.status is Status.OPTIMAL


def criterion_value(plan: Assignment, name: str) -> float:
    """Return the value of one criterion on a plan (coverage: covered priority, larger is better)."""
    if name == "coverage":
        return plan.covered_priority
    if name == "worst-trip":
        return plan.max_distance_km
    if name == "groups":
        from tutormatch.solve._groups import groups_split

        return float(groups_split(plan))
    if name == "km":
        return float(plan.cost_km.sum())
    if name == "tutors":
        return float(plan.n_tutors_used)
    if name == "worst-year":
        # The yearly road km of the tutor who drives most, as tutor_loads() prints it.
        yearly = np.bincount(plan.tutor, weights=plan.yearly_km, minlength=plan.problem.n_tutors)
        return float(yearly.max(initial=0.0))
    if name == "full-loads":
        capacity = plan.problem.tutors.capacity
        return float(((plan.loads == capacity) & (capacity > 0)).sum())
    return plan.costs().total_cents / 100


def criteria_entries(
    plan: Assignment, phases: list[tuple[Criterion, bool, float]]
) -> tuple[tuple[dict[str, Any], ...], float]:
    """Return ``plan.criteria``'s entries and the first unproven criterion's relative gap.

    ``phases`` gives, in order, each criterion, whether it is proven and its
    proven bound (read only when it is not proven).
    """
    out: list[dict[str, Any]] = []
    gap = math.nan
    for c, proven, bound in phases:
        value = criterion_value(plan, c.name)
        entry: dict[str, Any] = {
            "name": c.name,
            "value": value,
            "tolerance_rel": c.tolerance_rel,
            "tolerance_abs": c.tolerance_abs,
            "proven": proven,
        }
        if not proven:
            entry["bound"] = bound
            if not math.isfinite(gap):
                gap = abs(value - bound) / abs(value) if math.isfinite(bound) and value else math.nan
        out.append(entry)
    return tuple(out), gap


def _euros(plan: Assignment) -> float | None:
    if plan.problem.distance_unit != "km":
        return None
    return plan.costs().total_cents / 100


def solve_with_worst_trip(
    problem: Problem,
    criteria: tuple[Criterion, ...],
    *,
    solve: SolveFn,
    solve_kwargs: dict[str, Any],
) -> Assignment:
    """Solve ``criteria`` (coverage first, the worst trip among them) exactly.

    ``solve`` is :func:`tutormatch.solve` (passed in to avoid an import
    cycle); ``solve_kwargs`` its other arguments (solver, options, cost
    model, budget).
    """
    started = time.perf_counter()
    names = [c.name for c in criteria]
    wt_at = names.index("worst-trip")
    before = criteria[1:wt_at]
    after = criteria[wt_at + 1 :]
    cost = (before or after or (Criterion("km"),))[0]
    full = criteria if (before or after) else (*criteria, cost)
    worst = criteria[wt_at]

    def run(p: Problem, objective: str) -> Assignment:
        return solve(p, objective=objective, **solve_kwargs)

    base = run(problem, cost.name)
    if not base.status.has_solution:
        return base
    proven = _proven(base)
    search = WorstTripSearch.of(problem)
    fixed_priority = float(problem.establishments.priority[problem.fixed[:, 1]].sum())
    target = base.covered_priority - fixed_priority
    thresholds = search.thresholds
    top = int(np.searchsorted(thresholds, base.max_distance_km * (1 + 1e-12) + 1e-12, side="right")) - 1
    top = max(top, 0)
    lo = search.relaxed_lower_bound(target, top)
    cost_limit = cost.limit(base.objective) if before else None
    plans: dict[int, Assignment] = {}

    def feasible(i: int) -> bool:
        nonlocal proven
        plan = run(restrict(problem, float(thresholds[i])), cost.name if before else "km")
        plans[i] = plan
        if not plan.status.has_solution:
            proven = proven and plan.status is Status.INFEASIBLE
            return False
        ok = same_priority(plan.covered_priority, base.covered_priority)
        if cost_limit is not None:
            ok = ok and plan.objective <= cost_limit * (1 + 1e-12) + _COST_TOL
        if not ok and not _proven(plan):
            proven = False  # an unproven plan's "no" proves nothing
        return ok

    best = search.least_feasible(lo, top, feasible)
    optimum = float(thresholds[best])
    if before:
        # The cost came first: the plan at the threshold is the one (least cost under it).
        if base.max_distance_km <= optimum:
            final = base  # the least cost of all plans is already under the threshold
        else:
            final = plans.get(best) or run(restrict(problem, optimum), cost.name)
    else:
        allowed = threshold_at_most(thresholds, worst.limit(optimum))
        key = int(np.searchsorted(thresholds, allowed))
        if base.max_distance_km <= allowed:
            final = base  # the least cost of all plans is under the threshold: it is the answer
        elif cost.name == "km" and key in plans:
            final = plans[key]
        else:
            final = run(restrict(problem, allowed), cost.name)
    proven = proven and _proven(final)
    final = _reparent(final, problem)
    values = []
    for c in full:
        values.append(
            {
                "name": c.name,
                "value": criterion_value(final, c.name),
                "tolerance_rel": c.tolerance_rel,
                "tolerance_abs": c.tolerance_abs,
                **({"optimum": optimum} if c.name == "worst-trip" else {}),
            }
        )
    base_eur, final_eur = _euros(base), _euros(final)
    fairness = {
        "worst_trip_km": final.max_distance_km,
        "worst_trip_without_km": base.max_distance_km,
        "price_of_fairness_km": float(final.cost_km.sum() - base.cost_km.sum()),
        "price_of_fairness_eur": None
        if base_eur is None or final_eur is None
        else round(final_eur - base_eur, 2),
    }
    stats = dict(
        final.stats,
        worst_trip_thresholds=len(thresholds),
        worst_trip_flow_tests=search.flow_tests,
        worst_trip_exact_tests=search.exact_tests,
    )
    status = final.status
    message = final.message
    if not proven and status is Status.OPTIMAL:
        status = Status.FEASIBLE
        message = "the worst trip is not proven least: a solve on the way was not proven optimal; " + message
    return dataclasses.replace(
        final,
        status=status,
        message=message,
        stats=stats,
        criteria=tuple(values),
        fairness=fairness,
        solve_seconds=time.perf_counter() - started,
    )
