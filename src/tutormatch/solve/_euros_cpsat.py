r"""CP-SAT on the exact euro model: tranche crossings, budgets, all-or-nothing loads.

Notes
-----
Variables of :mod:`tutormatch.solve._cpsat` (one boolean per direct arc,
remote class routes, uncovered booleans) plus, per tutor, a boolean "used"
and the yearly metres driven split over the scale's tranches
:math:`k_{tj} \in [0, c_{tj}]` (the tranches' room after the prior km).
Where a tranche's rate is below the previous one (beyond 10,000 km), a
boolean forbids using it before the previous one is full; elsewhere the
minimisation fills the cheaper tranche first by itself. Money is in units of
:math:`10^{-7}` EUR (a rate in EUR/km, per metre), so the model is exact up
to each arc's yearly km rounded to the metre.

Lexicographic objectives are solved in phases, each fixing the optimum of the
one before: most covered priority (within the budget when there is one), then
fewest tutors (objective ``"tutors"``), then least euros (or least km for the
objective ``"km"`` under a budget). A phase stopped by the time limit keeps
its best plan; the status is then ``FEASIBLE``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from tutormatch.model._costs import BUDGET_TOLERANCE_EUR
from tutormatch.model._eligibility import MODE_ONSITE
from tutormatch.solve._backend import BackendResult
from tutormatch.solve._euros import EuroCosts
from tutormatch.solve._network import Network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._status import Status

__all__ = ["EUR_UNIT", "EuroModel", "build_euro_model", "solve_euros_cpsat"]

#: Money unit of the model, in EUR.
EUR_UNIT = 1e-7
_PER_EUR = 10**7


def _group(keys: np.ndarray, n: int) -> list[np.ndarray]:
    order = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[order], np.arange(n + 1))
    return [order[bounds[i] : bounds[i + 1]] for i in range(n)]


def _units(eur: float) -> int:
    return round(Decimal(repr(float(eur))) * _PER_EUR)


@dataclass(eq=False)
class EuroModel:
    """A CP-SAT model of the network's plans (see the module notes) and its handles.

    ``euros`` is the yearly money in units of :data:`EUR_UNIT` (None when the
    model was built without costs); ``loads`` the load expression per tutor
    (fixed pairs excluded); ``used`` the "tutor used" booleans.
    """

    model: cp_model.CpModel
    x: list[Any]
    y: list[Any]
    z: dict[int, Any]
    covered: dict[int, Any]
    used: list[Any]
    loads: list[Any]
    priority: Any
    euros: Any | None


def build_euro_model(network: Network, costs: EuroCosts | None) -> EuroModel:
    """Build the CP-SAT model of plans on ``network``: pairs, loads, remote classes, and euros.

    One implementation of the loads (capacity, minimum, all-or-nothing, fixed
    pairs) and of the mileage scale for every CP-SAT path (the euro objective
    here, the ordered criteria of :mod:`tutormatch.solve._lexico`).
    ``costs=None`` leaves the money out (problems whose distances are not km).
    """
    model = cp_model.CpModel()
    n_e, n_t = network.n_establishments, network.n_tutors
    n_a, n_l = network.n_arcs, len(network.link_class)
    x = [model.new_bool_var(f"x{a}") for a in range(n_a)]
    y = [model.new_int_var(0, int(network.capacity[network.link_tutor[i]]), f"y{i}") for i in range(n_l)]
    z: dict[int, Any] = {}
    covered: dict[int, Any] = {}
    arcs_of_e = _group(network.arc_establishment, n_e)
    arcs_of_t = _group(network.arc_tutor, n_t)
    links_of_t = _group(network.link_tutor, n_t)
    links_of_c = _group(network.link_class, network.n_classes)
    members_of_c: list[list[Any]] = [[] for _ in range(network.n_classes)]
    for e in np.flatnonzero(network.active).tolist():
        terms = [x[a] for a in arcs_of_e[e].tolist()]
        if network.remote_class[e] >= 0:
            z[e] = model.new_bool_var(f"z{e}")
            terms.append(z[e])
            members_of_c[int(network.remote_class[e])].append(z[e])
        covered[e] = model.new_bool_var(f"c{e}")
        model.add(sum(terms) == covered[e])
    for c in range(network.n_classes):
        model.add(sum(members_of_c[c]) == sum(y[i] for i in links_of_c[c].tolist()))

    onsite = network.arc_mode == MODE_ONSITE
    money: list[Any] = []
    used_vars: list[Any] = []
    loads: list[Any] = []
    if costs is not None:
        metres = np.rint(costs.arc_km * 1000).astype(np.int64)
        arc_units = [_units(v) for v in costs.arc_eur.tolist()]
        money.append(_units(costs.base_eur))
        rate_units = np.rint(costs.rates * 10**4).astype(np.int64)  # per metre, in 1e-7 EUR
        bounds_m = np.rint(costs.bounds_km * 1000).astype(np.int64)
    for t in range(n_t):
        arcs = arcs_of_t[t].tolist()
        links = links_of_t[t].tolist()
        load = sum(x[a] for a in arcs) + sum(y[i] for i in links)
        loads.append(load)
        cap, low = int(network.capacity[t]), int(network.min_load[t])
        used = model.new_bool_var(f"w{t}")
        used_vars.append(used)
        forced = network.fixed_load[t] > 0
        if forced:
            model.add(used == 1)
        if cap == 0:
            if not forced:
                model.add(used == 0)
        else:
            model.add(load <= cap * used)
            if not forced:
                model.add(load >= used)
        if low > 0:
            model.add(load >= low)
        if network.all_or_nothing and network.full_capacity[t] > 0:
            if forced:
                model.add(load == cap)
            else:
                model.add(load == cap * used)
        if costs is None:
            continue
        money.append(_units(costs.used_eur[t] - costs.tutor_weight) * used)
        near = [a for a in arcs if onsite[a] and metres[a] > 0]
        base = round(costs.base_km[t] * 1000)
        if not near and base == 0:
            continue
        reach = base + int(metres[near].sum()) if near else base
        prior = round(costs.prior_km[t] * 1000)
        lows = np.concatenate(([0], bounds_m))
        highs = np.concatenate((bounds_m, [prior + reach]))
        parts: list[tuple[Any, int]] = []
        previous_room = 0
        for j in range(len(lows)):
            room = int(max(0, min(highs[j], prior + reach) - max(prior, lows[j])))
            if room == 0:
                continue
            part = model.new_int_var(0, room, f"k{t}_{j}")
            if parts:
                # The scale is not convex (a lower rate beyond 10,000 km): a
                # tranche is used only once the one before is full.
                opened = model.new_bool_var(f"o{t}_{j}")
                model.add(part == 0).only_enforce_if(opened.Not())
                model.add(parts[-1][0] == previous_room).only_enforce_if(opened)
            parts.append((part, int(rate_units[t, j])))
            previous_room = room
        model.add(sum(p for p, _ in parts) == base + sum(int(metres[a]) * x[a] for a in near))
        money.extend(rate * part for part, rate in parts)
    euros = None
    if costs is not None:
        money.extend(arc_units[a] * x[a] for a in range(n_a) if arc_units[a])
        class_units = [_units(v) for v in costs.class_eur.tolist()]
        money.extend(class_units[e] * var for e, var in z.items())
        euros = sum(money)
    priority = sum(int(network.priority_int[e]) * var for e, var in covered.items())
    return EuroModel(model, x, y, z, covered, used_vars, loads, priority, euros)


def solve_euros_cpsat(
    network: Network,
    costs: EuroCosts,
    options: SolveOptions,
    *,
    objective: str,
    budget_eur: float | None,
    hint: BackendResult | None = None,
    lower_bound_eur: float | None = None,
    coverage_bound: int | None = None,
) -> BackendResult:
    """Solve the euro model exactly with CP-SAT (see the module notes).

    The result's ``stats`` carry ``model_eur`` (the plan's model euros, without
    the tutor weight) and ``bound_eur`` (proven lower bound at the plan's
    coverage and tutor count, ``nan`` when not proven).
    """
    started = time.perf_counter()
    built = build_euro_model(network, costs)
    model, x, y, z, covered = built.model, built.x, built.y, built.z, built.covered
    used_vars = built.used
    n_e, n_a, n_l = network.n_establishments, network.n_arcs, len(network.link_class)
    assert built.euros is not None
    euros = built.euros
    if budget_eur is not None:
        model.add(euros <= _units(budget_eur + BUDGET_TOLERANCE_EUR))
    if lower_bound_eur is not None and budget_eur is None and objective == "euros":
        model.add(euros >= math.floor(lower_bound_eur * _PER_EUR) - 1)
    priority = built.priority
    if coverage_bound is not None:
        model.add(priority <= coverage_bound)  # proven by the flows: a cut
    if hint is not None and hint.status.has_solution:
        for a in range(n_a):
            model.add_hint(x[a], bool(hint.arc_used[a]))
        for e, var in z.items():
            model.add_hint(var, bool(hint.z[e]))
        for i in range(n_l):
            model.add_hint(y[i], int(hint.y[i]))
        # The derived booleans too: CP-SAT completes a partial hint poorly (a
        # national all-or-nothing plan was lost that way).
        hinted_cover = np.zeros(n_e, dtype=bool)
        hinted_cover[network.arc_establishment[hint.arc_used]] = True
        hinted_cover |= hint.z
        for e, var in covered.items():
            model.add_hint(var, bool(hinted_cover[e]))
        hinted_load = network.free_loads(hint.arc_used, hint.y)
        for t, var in enumerate(used_vars):
            model.add_hint(var, bool(hinted_load[t] > 0 or network.fixed_load[t] > 0))

    phases: list[tuple[str, Any, bool]] = [("coverage", priority, True)]
    if objective == "tutors":
        phases.append(("tutors", sum(used_vars), False))
    if objective == "km":
        km = sum(int(c) * x[a] for a, c in enumerate(network.arc_cost.tolist()) if c) + sum(
            int(network.remote_cost[e]) * var for e, var in z.items()
        )
        phases.append(("km", km, False))
    else:
        phases.append(("euros", euros, False))

    solver = cp_model.CpSolver()
    params = solver.parameters
    params.num_workers = options.num_workers
    params.random_seed = options.random_seed
    params.log_search_progress = options.log
    if options.deterministic and options.num_workers > 1:
        params.interleave_search = True
    proven = True
    code = cp_model.UNKNOWN
    bound_value = math.nan
    coverage_proven = math.nan
    for k, (_name, expr, maximise) in enumerate(phases):
        left = options.time_limit - (time.perf_counter() - started)
        if math.isfinite(left):
            params.max_time_in_seconds = max(left / (len(phases) - k), 0.01)
        if maximise:
            model.maximize(expr)
        else:
            model.minimize(expr)
        code = solver.solve(model)
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            break
        value = round(solver.objective_value)
        # Keep the plan as the next phase's hint, and this phase's optimum as a constraint.
        model.clear_hints()  # type: ignore[no-untyped-call]
        for v in [*x, *y, *z.values(), *covered.values(), *used_vars]:
            model.add_hint(v, solver.value(v))
        if k == 0:
            coverage_proven = solver.best_objective_bound
        if code != cp_model.OPTIMAL:
            proven = False
            bound_value = solver.best_objective_bound
            break
        bound_value = solver.best_objective_bound
        model.add(expr == value)
    stats: dict[str, object] = {
        "variables": len(model.proto.variables),
        "seconds": time.perf_counter() - started,
        "branches": solver.num_branches,
        "phases": len(phases),
    }
    message = f"CP-SAT on the euro model: {solver.status_name(code)}"
    if code == cp_model.INFEASIBLE:
        return BackendResult.without_solution(network, Status.INFEASIBLE, message, **stats)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        status = Status.NO_SOLUTION if code == cp_model.UNKNOWN else Status.ERROR
        return BackendResult.without_solution(network, status, message, **stats)
    used_arr = np.array([solver.boolean_value(v) for v in x], dtype=bool)
    z_arr = np.zeros(n_e, dtype=bool)
    for e, var in z.items():
        z_arr[e] = solver.boolean_value(var)
    y_arr = np.array([solver.value(v) for v in y], dtype=np.int64)
    model_eur = solver.value(euros) / _PER_EUR
    total = int(sum(int(network.priority_int[e]) for e in covered))
    covered_int = int(sum(int(network.priority_int[e]) * solver.value(v) for e, v in covered.items()))
    last = phases[-1][0]
    if proven:
        bound_eur = model_eur
    elif last in ("euros",) and k == len(phases) - 1:
        bound_eur = bound_value / _PER_EUR
    else:
        bound_eur = math.nan
    stats.update(
        model_eur=model_eur,
        bound_eur=bound_eur,
        stopped_in=None if proven else phases[k][0],
        uncovered_int=total - covered_int,
        priority_bound_int=math.floor(coverage_proven + 1e-9) if math.isfinite(coverage_proven) else total,
    )
    return BackendResult(
        status=Status.OPTIMAL if proven else Status.FEASIBLE,
        message=message,
        arc_used=used_arr,
        z=z_arr,
        y=y_arr,
        objective=None,
        bound=bound_eur,
        stats=stats,
    )
