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
    started: float | None = None,
) -> Assignment:
    """Solve ``criteria`` (coverage first, the worst trip among them) exactly.

    ``solve`` is :func:`tutormatch.solve` (passed in to avoid an import
    cycle); ``solve_kwargs`` its other arguments (solver, options, cost
    model, budget); ``started``: when the caller's clock started (the time
    limit counts from it).

    The worst trip first, then a cost: the threshold is searched with the km
    flow (a threshold keeps the coverage or not, whatever the cost), then the
    cost's own method runs on the problem restricted to it. For ``euros`` and
    ``tutors`` (a search of their own, seconds at national scale) the time
    limit is shared: the restricted solve first, then the same solve without
    the threshold (the plan the price of fairness is measured against; taken
    when it meets the threshold and costs less; without the time for it, the
    price is measured against the plan of least km, as ``fairness`` says). A cost first, then the worst
    trip: each threshold test is a solve of the cost on the restricted
    problem, given a share of the time left; a test whose proven bound
    exceeds the cost's limit is a proven "no" even when the solve is not
    proven, and one left undecided (no plan within the limit, no such bound)
    keeps the worst trip's proven bound where it was (stated in
    :attr:`Assignment.criteria`). Tests stop when the time is out: the plan
    is then the one of the cost alone, with that bound.
    """
    from tutormatch.solve._options import SolveOptions

    started = time.perf_counter() if started is None else started
    names = [c.name for c in criteria]
    wt_at = names.index("worst-trip")
    before = criteria[1:wt_at]
    after = criteria[wt_at + 1 :]
    cost = (before or after or (Criterion("km"),))[0]
    full = criteria if (before or after) else (*criteria, cost)
    worst = criteria[wt_at]
    options: SolveOptions = solve_kwargs.get("options") or SolveOptions()
    deadline = started + options.time_limit if math.isfinite(options.time_limit) else math.inf
    # A cost with a search of its own: its solves share the time limit.
    priced = cost.name in ("euros", "tutors")

    def run(p: Problem, objective: str, share: float = 1.0) -> Assignment:
        if not math.isfinite(deadline):
            return solve(p, objective=objective, **solve_kwargs)
        seconds = max((deadline - time.perf_counter()) * share, 0.01)
        kwargs = dict(
            solve_kwargs, time_limit=seconds, options=dataclasses.replace(options, time_limit=seconds)
        )
        return solve(p, objective=objective, **kwargs)

    # The worst trip first: the km plan gives the coverage and the search's top (a cost's own plan
    # is solved later, restricted); a cost first: its plan, with a share of the time for the tests.
    base = run(problem, "km" if priced and not before else cost.name, _BASE_SHARE if priced else 1.0)
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
    cost_limit = cost.limit(_cost_value(base, cost.name)) if before else None
    plans: dict[int, Assignment] = {}
    refuted = lo - 1  # the largest threshold index proven too small (the relaxation's, then the tests')

    # The least seconds a test of the cost's search takes: one of its flows (the base's average),
    # then the shortest test seen; no test starts with less time left (it would overrun the limit).
    flows = max(int(base.stats.get("flows", 1) or 1), 1)
    least_test = max(_LEAST_TEST_SECONDS, _TEST_FLOWS * base.solve_seconds / flows)

    def feasible(i: int) -> bool:
        nonlocal proven, refuted, least_test
        if before and priced and deadline - time.perf_counter() < least_test:
            proven = False  # no time for another solve: undecided
            return False
        test_started = time.perf_counter()
        plan = run(restrict(problem, float(thresholds[i])), cost.name if before else "km", _TEST_SHARE)
        if before and priced:
            least_test = max(_LEAST_TEST_SECONDS, min(least_test, time.perf_counter() - test_started))
        plans[i] = plan
        if not plan.status.has_solution:
            if plan.status is Status.INFEASIBLE:
                refuted = max(refuted, i)
            else:
                proven = False
            return False
        ok = same_priority(plan.covered_priority, base.covered_priority)
        if cost_limit is not None:
            ok = ok and _cost_value(plan, cost.name) <= cost_limit * (1 + 1e-12) + _COST_TOL
        if not ok:
            less = plan.priority_bound < base.covered_priority * (1 - 1e-12) - 1e-12  # coverage proven lost
            dear = cost_limit is not None and _cost_bound(plan, cost.name) > cost_limit
            if _proven(plan) or less or dear:
                refuted = max(refuted, i)
            else:
                proven = False  # an unproven plan's "no" proves nothing
        return ok

    if before and not cost.has_tolerance and lo < top:
        # The cost at its optimum, no slack: a plan with a shorter worst trip at the same cost is
        # rare (ties), so the first question is whether there is one at all, just below the top.
        search.exact_tests += 1
        best = search.least_feasible(lo, top - 1, feasible) if feasible(top - 1) else top
    else:
        best = search.least_feasible(lo, top, feasible)
    optimum = float(thresholds[best])
    bound = float(thresholds[min(refuted + 1, best)])
    without = base
    if before:
        # The cost came first: the plan at the threshold is the one (least cost under it).
        if base.max_distance_km <= optimum:
            final = base  # the least cost of all plans is already under the threshold
        else:
            final = plans.get(best) or run(restrict(problem, optimum), cost.name)
    else:
        allowed = threshold_at_most(thresholds, worst.limit(optimum))
        key = int(np.searchsorted(thresholds, allowed))
        if priced:
            final, without = _cost_under(
                problem, base, allowed, cost.name, run, plans.get(key), lambda: deadline - time.perf_counter()
            )
        elif base.max_distance_km <= allowed:
            final = base  # the least cost of all plans is under the threshold: it is the answer
        elif cost.name == "km" and key in plans:
            final = plans[key]
        else:
            final = run(restrict(problem, allowed), cost.name)
    proven = proven and _proven(final)
    final = _reparent(final, problem)
    values = []
    for c in full:
        entry: dict[str, Any] = {
            "name": c.name,
            "value": criterion_value(final, c.name),
            "tolerance_rel": c.tolerance_rel,
            "tolerance_abs": c.tolerance_abs,
            **({"optimum": optimum} if c.name == "worst-trip" else {}),
        }
        if not proven:
            entry.update(
                _proof(c, final, base, before=bool(before), worst_bound=bound, search_proven=optimum == bound)
            )
        values.append(entry)
    base_eur, final_eur = _euros(without), _euros(final)
    fairness = {
        "worst_trip_km": final.max_distance_km,
        "worst_trip_without_km": without.max_distance_km,
        "price_of_fairness_km": float(final.cost_km.sum() - without.cost_km.sum()),
        "price_of_fairness_eur": None
        if base_eur is None or final_eur is None
        else round(final_eur - base_eur, 2),
        "without_objective": without.objective_name or "km",
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


#: A cost first, then the worst trip: the share of the time its own solve gets (the tests get the rest).
_BASE_SHARE = 0.4
#: Each threshold test's share of the time left (a cost's solve; the km flow ignores it).
_TEST_SHARE = 0.34
#: No threshold test of a cost's solve starts with fewer seconds left (it would overrun the limit),
#: nor with less than the time of this many of the cost's flows (the base solve's average: one flow gives
#: the root plan and bound).
_TEST_FLOWS = 1
_LEAST_TEST_SECONDS = 1.0
#: The worst trip first, then euros or tutors: the least seconds left for the solve without the
#: threshold (else the price of fairness is measured against the km plan).
_LEAST_WITHOUT_SECONDS = 5.0
#: The worst trip first, then euros or tutors: the restricted solve's share of the time left.
_RESTRICTED_SHARE = 2 / 3


def _cost_value(plan: Assignment, name: str) -> float:
    """Return the cost criterion's value of ``plan`` (km: the plan's objective, in km-eq)."""
    return plan.objective if name == "km" else criterion_value(plan, name)


def _cost_bound(plan: Assignment, name: str) -> float:
    """Return a proven lower bound on cost ``name`` for every plan of ``plan``'s problem and coverage.

    Euros: the solve's bound in model euros (yearly km summed exactly), less
    what rounding each tutor's yearly km to whole km (as the reports do) can
    take off: half a km at the dearest rate a tutor. Tutors: the count's
    bound. ``-inf`` without one.
    """
    if name == "euros" and math.isfinite(plan.bound):
        from tutormatch.solve._euros import rounding_eur

        return plan.bound - rounding_eur(plan.problem, plan.cost_model)
    if name == "tutors" and plan.stats.get("tutors_bound") is not None:
        return float(plan.stats["tutors_bound"])
    return -math.inf


def _cost_under(
    problem: Problem,
    base: Assignment,
    allowed: float,
    cost: str,
    run: Callable[..., Assignment],
    km_plan: Assignment | None,
    left: Callable[[], float],
) -> tuple[Assignment, Assignment]:
    """Return the plan under ``allowed`` and the plan without it (the worst trip, then euros or tutors).

    The restricted solve gets :data:`_RESTRICTED_SHARE` of the time left,
    the unrestricted one the rest (the price of fairness is measured
    against it); the unrestricted plan is the answer when it meets the
    threshold and costs less (it is optimal over more plans). Without any
    plan of the cost under the threshold in the time, the plan of least km
    under it (``km_plan`` or a flow): never worse on the earlier criteria.
    """
    restricted = restrict(problem, allowed)
    if restricted is problem:
        final = run(problem, cost)
        return (final, final) if final.status.has_solution else (base, base)
    final = run(restricted, cost, _RESTRICTED_SHARE)
    without = base
    if left() >= _LEAST_WITHOUT_SECONDS:
        # Else no time for it (a search takes seconds at national scale): the price is against the km plan.
        without = run(problem, cost)
        if not without.status.has_solution:
            without = base
    if not final.status.has_solution:
        final = km_plan if km_plan is not None else run(restricted, "km")
        final = dataclasses.replace(
            final,
            status=Status.FEASIBLE,
            bound=math.nan,  # the km plan's bound is in km: no bound on the cost
            gap=math.nan,
            stats={k: v for k, v in final.stats.items() if k != "tutors_bound"},
            message=f"{cost}: no plan in time under the worst trip; the plan of least km under it",
        )
    if (
        without is not base
        and without.max_distance_km <= allowed
        and same_priority(without.covered_priority, final.covered_priority)
        and _order_key(without, cost) < _order_key(final, cost)
    ):
        final = without
    return final, without


def _order_key(plan: Assignment, cost: str) -> tuple[float, ...]:
    euros = criterion_value(plan, "euros")
    return (criterion_value(plan, "tutors"), euros) if cost == "tutors" else (euros,)


def _proof(
    c: Criterion,
    final: Assignment,
    base: Assignment,
    *,
    before: bool,
    worst_bound: float,
    search_proven: bool,
) -> dict[str, Any]:
    """Whether criterion ``c`` of an unproven order is proven, and its proven bound when it is not."""
    if c.name == "coverage":
        covered = base.priority_bound <= base.covered_priority * (1 + 1e-12) + 1e-12
        return {"proven": _proven(base) or covered}
    if c.name == "worst-trip":
        return {"proven": True} if search_proven else {"proven": False, "bound": worst_bound}
    # The cost: its own solve's proof (first: the plan of the cost alone; after: the restricted one's).
    source = base if before else final
    if _proven(source):
        return {"proven": True}
    return {"proven": False, "bound": _cost_bound(source, c.name)}
