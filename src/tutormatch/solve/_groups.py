r"""Fewest groups split: CP-SAT on the solver's eligible pairs, criteria in order.

Notes
-----
An establishment's *group* is its ``agence_comptable`` column (a column
named ``group`` or ``groupe`` is read as it); an empty value is no group. A
group is *split* when its covered establishments have more than one tutor.

Variables: one boolean :math:`x_a` per eligible pair of the network (every
remote class made explicit, so each remote pair is a pair), :math:`u_{gt}`
"tutor :math:`t` serves group :math:`g`" (:math:`u_{gt} \ge x_a` for every
pair :math:`a` of :math:`t` into :math:`g`, fixed to 1 by a fixed pair) and
:math:`s_g` "split" with :math:`\sum_t u_{gt} \le 1 + (n_g - 1) s_g`. Loads,
minimum loads and all-or-nothing as in :mod:`tutormatch.solve._euros_cpsat`.
Covered priority is fixed at the optimum of the plan without the criterion
(a min-cost flow, proven), then each later criterion is minimised in order,
each earlier one kept within its tolerance. The km plan is the hint. The
count of split groups is a fixed charge per group, not a flow objective:
hence CP-SAT. The status is OPTIMAL only when every phase is proven by
CP-SAT; otherwise FEASIBLE with the proven lower bound on groups split.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from tutormatch.model._problem import Problem
from tutormatch.solve._assignment import Assignment
from tutormatch.solve._criteria import Criterion
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._status import Status

__all__ = ["groups_split", "solve_with_groups"]

SolveFn = Callable[..., Assignment]


def establishment_groups(problem: Problem) -> np.ndarray:
    """Return each establishment's group label (``""``: no group)."""
    labels = problem.establishments.agence_comptable
    return np.array(["" if v is None else str(v).strip() for v in labels], dtype=object)


def groups_split(plan: Assignment) -> int:
    """Return how many groups of the plan's covered establishments have more than one tutor."""
    groups = establishment_groups(plan.problem)
    seen: dict[str, set[int]] = {}
    for t, e in zip(plan.tutor.tolist(), plan.establishment.tolist(), strict=True):
        g = groups[e]
        if g:
            seen.setdefault(g, set()).add(int(t))
    return sum(1 for tutors in seen.values() if len(tutors) > 1)


def _euros(plan: Assignment) -> float | None:
    if plan.problem.distance_unit != "km":
        return None
    return plan.costs().total_cents / 100


def solve_with_groups(
    problem: Problem,
    criteria: tuple[Criterion, ...],
    *,
    solve: SolveFn,
    solve_kwargs: dict[str, Any],
) -> Assignment:
    """Solve ``criteria`` (coverage, then groups and km or tutors in the order given) exactly."""
    from ortools.sat.python import cp_model

    from tutormatch.solve._network import build_network
    from tutormatch.solve._pool import full_pool
    from tutormatch.solve._solve import plan_from_pairs

    started = time.perf_counter()
    rest = list(criteria[1:])
    if len(rest) == 1:
        rest.append(Criterion("km"))
    cost_name = next(c.name for c in rest if c.name != "groups")
    base = solve(problem, objective=cost_name, **solve_kwargs)
    if not base.status.has_solution:
        return base
    options: SolveOptions = solve_kwargs.get("options") or SolveOptions()
    if not math.isfinite(options.time_limit):
        # CP-SAT may not finish on an académie: stop with the proven bound, as in euros.
        from tutormatch.solve._decide import DEFAULT_TIME_LIMIT

        options = dataclasses.replace(options, time_limit=DEFAULT_TIME_LIMIT)
    network = build_network(
        problem, full_pool(problem), explicit_classes=frozenset(range(problem.remote_classes.n_classes))
    )
    n_t = network.n_tutors
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{a}") for a in range(network.n_arcs)]
    arc_t, arc_e = network.arc_tutor.tolist(), network.arc_establishment.tolist()
    arcs_of_e: list[list[int]] = [[] for _ in range(network.n_establishments)]
    arcs_of_t: list[list[int]] = [[] for _ in range(n_t)]
    for a, (t, e) in enumerate(zip(arc_t, arc_e, strict=True)):
        arcs_of_e[e].append(a)
        arcs_of_t[t].append(a)
    for arcs in arcs_of_e:
        if len(arcs) > 1:
            model.add_at_most_one(x[a] for a in arcs)
    used: list[Any] = []
    for t in range(n_t):
        load = sum(x[a] for a in arcs_of_t[t])
        cap, low = int(network.capacity[t]), int(network.min_load[t])
        w = model.new_bool_var(f"w{t}")
        used.append(w)
        forced = network.fixed_load[t] > 0
        if forced:
            model.add(w == 1)
        if cap == 0:
            model.add(load == 0)
            if not forced:
                model.add(w == 0)
        else:
            model.add(load <= cap * w)
            if not forced:
                model.add(load >= w)
        if low > 0:
            model.add(load >= low)
        if network.all_or_nothing and network.full_capacity[t] > 0:
            model.add(load == cap if forced else load == cap * w)
    priority = sum(int(network.priority_int[arc_e[a]]) * x[a] for a in range(network.n_arcs))
    covered = np.zeros(problem.n_establishments, dtype=bool)
    covered[base.establishment] = True
    base_priority = int(network.priority_int[covered & network.active].sum())
    model.add(priority == base_priority)
    # Groups: u[g, t] and split[g].
    labels = establishment_groups(problem)
    serve: dict[tuple[str, int], Any] = {}
    for a in range(network.n_arcs):
        g = labels[arc_e[a]]
        if g:
            key = (g, arc_t[a])
            if key not in serve:
                serve[key] = model.new_bool_var(f"u{len(serve)}")
            model.add_implication(x[a], serve[key])
    fixed_serving: dict[str, set[int]] = {}
    for t, e in problem.fixed.tolist():
        if labels[e]:
            fixed_serving.setdefault(labels[e], set()).add(int(t))
    tutors_of: dict[str, list[Any]] = {}
    for (g, t), var in serve.items():
        if t in fixed_serving.get(g, set()):
            model.add(var == 1)
        tutors_of.setdefault(g, []).append(var)
    splits: list[Any] = []
    for g in sorted(set(tutors_of) | set(fixed_serving)):
        terms = list(tutors_of.get(g, []))
        extra = len(fixed_serving.get(g, set()) - {t for (h, t) in serve if h == g})
        n_g = len(terms) + extra
        if n_g <= 1:
            continue
        s = model.new_bool_var(f"s_{len(splits)}")
        splits.append(s)
        model.add(sum(terms) + extra <= 1 + (n_g - 1) * s)
    exprs: dict[str, Any] = {
        "groups": sum(splits),
        "km": sum(int(c) * x[a] for a, c in enumerate(network.arc_cost.tolist()) if c),
        "tutors": sum(used),
    }
    base_pairs = set(zip(base.tutor.tolist(), base.establishment.tolist(), strict=True))
    for a in range(network.n_arcs):
        model.add_hint(x[a], (arc_t[a], arc_e[a]) in base_pairs)

    solver = cp_model.CpSolver()
    params = solver.parameters
    params.num_workers = options.num_workers
    params.random_seed = options.random_seed
    params.log_search_progress = options.log
    if options.deterministic and options.num_workers > 1:
        params.interleave_search = True
    fixed_km = float(base.cost_km[base.is_fixed].sum())
    unit = network.cost_unit_km
    proven = base.status is Status.OPTIMAL
    groups_bound = math.nan
    code = cp_model.UNKNOWN
    best: list[bool] | None = None
    for k, c in enumerate(rest):
        left = options.time_limit - (time.perf_counter() - started)
        if math.isfinite(left):
            params.max_time_in_seconds = max(left / (len(rest) - k), 0.01)
        model.minimize(exprs[c.name])
        code = solver.solve(model)
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            break
        best = [solver.boolean_value(v) for v in x]
        value = round(solver.objective_value)
        if c.name == "groups":
            groups_bound = math.ceil(solver.best_objective_bound - 1e-9)
        model.clear_hints()  # type: ignore[no-untyped-call]
        for a, v in enumerate(best):
            model.add_hint(x[a], v)
        if code != cp_model.OPTIMAL:
            proven = False
            break
        if c.name == "km":
            total = value * unit + fixed_km
            limit = math.floor((c.limit(total) - fixed_km) / unit + 1e-9)
        else:
            limit = math.floor(c.limit(float(value)) + 1e-9)
        model.add(exprs[c.name] <= limit)
    if best is None:
        # No plan within the time limit: the plan without the criterion, said so.
        return dataclasses.replace(
            base,
            status=Status.FEASIBLE,
            message=f"CP-SAT on groups found no plan in time ({solver.status_name(code)}); "
            "this is the plan without the groups criterion",
        )
    chosen = np.flatnonzero(np.array(best, dtype=bool))
    fixed = problem.fixed
    tutor = np.concatenate((network.arc_tutor[chosen], fixed[:, 0])).astype(np.int64)
    establishment = np.concatenate((network.arc_establishment[chosen], fixed[:, 1])).astype(np.int64)
    is_fixed = np.concatenate((np.zeros(len(chosen), dtype=bool), np.ones(len(fixed), dtype=bool)))
    status = Status.OPTIMAL if proven else Status.FEASIBLE
    message = f"CP-SAT on groups: {solver.status_name(code)}"
    plan = plan_from_pairs(
        problem,
        tutor,
        establishment,
        is_fixed,
        status=status,
        solver="cp-sat",
        message=message,
        stats={"variables": len(model.proto.variables), "branches": solver.num_branches},
        started=started,
    )
    split = groups_split(plan)
    if not proven:
        bound = groups_bound if math.isfinite(groups_bound) else 0
        plan = dataclasses.replace(
            plan,
            bound=math.nan,
            gap=(split - bound) / split if split > 0 else 0.0,
            message=f"groups split not proven least (proven at least {bound}); " + message,
        )
    from tutormatch.solve._fair import criterion_value

    values = tuple(
        {
            "name": c.name,
            "value": criterion_value(plan, c.name),
            "tolerance_rel": c.tolerance_rel,
            "tolerance_abs": c.tolerance_abs,
        }
        for c in (criteria[0], *rest)
    )
    base_eur, final_eur = _euros(base), _euros(plan)
    fairness = {
        "groups_split": split,
        "groups_split_without": groups_split(base),
        "groups_split_bound": split if proven else groups_bound,
        "groups_column": "agence_comptable",
        "price_of_fairness_km": float(plan.cost_km.sum() - base.cost_km.sum()),
        "price_of_fairness_eur": None
        if base_eur is None or final_eur is None
        else round(final_eur - base_eur, 2),
    }
    return dataclasses.replace(
        plan, criteria=values, fairness=fairness, solve_seconds=time.perf_counter() - started
    )
