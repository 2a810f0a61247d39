r"""Any order of criteria: CP-SAT phases on one model, each earlier criterion kept within its tolerance.

Notes
-----
The model is :mod:`tutormatch.solve._lexico_model` on the solver's eligible
pairs (every remote class made explicit when groups are involved, so that
each remote pair has a tutor). Covered priority is fixed at the optimum of
the plan without the other criteria (a min-cost flow, proven; under hard
groups it is a phase of its own, maximised below that bound). Then, for each
criterion :math:`k` in order,

.. math::

    v_k^* = \min \{ f_k(x) : f_j(x) \le \ell_j \; \forall j < k \},
    \qquad \ell_k = \text{limit}_k(v_k^*)

with :math:`\ell_k` the optimum widened by the criterion's tolerance, as an
exact integer bound. Each phase is hinted with the plan of the one before.
Where a fast exact method exists for the criterion alone (a flow for
``km``, the euro branch and bound for ``euros``, the bottleneck search for
``worst-trip``; on the problem restricted to the allowed on-site distances
when the worst trip came earlier), its plan is tried first: it is optimal
over a larger set of plans, so when it meets every earlier limit (checked by
CP-SAT with the plan's pairs fixed) it is this phase's proven optimum and no
search is needed. The status is OPTIMAL only when every phase is proven;
otherwise FEASIBLE, with each unproven phase's proven bound in
:attr:`Assignment.criteria` and the gap of the first one in
:attr:`Assignment.gap`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from tutormatch.errors import InputError
from tutormatch.model._costs import BUDGET_TOLERANCE_EUR, CostModel
from tutormatch.model._problem import Problem
from tutormatch.solve._assignment import Assignment
from tutormatch.solve._backend import BackendResult
from tutormatch.solve._criteria import Criterion
from tutormatch.solve._lexico_model import LexicoModel, build_lexico_model
from tutormatch.solve._network import Network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._status import Status

__all__ = ["GROUP_MODES", "solve_lexico"]

SolveFn = Callable[..., Assignment]
#: Valid values of ``groups``: None (the criterion ``groups`` only, if given) or ``"hard"``.
GROUP_MODES = (None, "hard")
#: Criteria with a fast exact method of their own (tried first in their phase).
_FAST = ("km", "euros", "worst-trip")


def _units(eur: float) -> int:
    from tutormatch.solve._euros_cpsat import _units as units

    return units(eur)


@dataclasses.dataclass
class _Phase:
    criterion: Criterion
    value: int
    bound: float  # proven lower bound on the minimised integer (nan: none)
    proven: bool
    method: str


class _Engine:
    """The phases on one network (see the module notes)."""

    def __init__(
        self,
        problem: Problem,
        network: Network,
        phases: list[Criterion],
        *,
        coverage_int: int,
        coverage_proven: bool,
        groups_hard: bool,
        cost_model: CostModel,
        budget: float | None,
        options: SolveOptions,
        deadline: float,
        fast: Callable[[str, float | None], Assignment | None],
    ) -> None:
        from ortools.sat.python import cp_model

        from tutormatch.solve._euros import euro_costs

        self.problem, self.network, self.phases = problem, network, phases
        self.deadline, self.fast = deadline, fast
        self.worst_trip_limit: float | None = None  # once its phase is past: the on-site pairs allowed
        names = tuple(c.name for c in phases)
        need_euros = "euros" in names or budget is not None
        costs = euro_costs(problem, network, cost_model, "euros") if need_euros else None
        self.lm: LexicoModel = build_lexico_model(
            problem,
            network,
            names,
            costs=costs,
            budget_units=None if budget is None else _units(budget + BUDGET_TOLERANCE_EUR),
            groups_hard=groups_hard,
        )
        model = self.lm.model
        self.groups_hard = groups_hard
        if groups_hard:
            if coverage_proven:
                model.add(self.lm.base.priority <= coverage_int)  # the flow's optimum: a cut
        else:
            model.add(self.lm.base.priority == coverage_int)
        self.solver = cp_model.CpSolver()
        params = self.solver.parameters
        params.num_workers = options.num_workers
        params.random_seed = options.random_seed
        params.log_search_progress = options.log
        if options.deterministic and options.num_workers > 1:
            params.interleave_search = True
        self.cp_model = cp_model
        self.primary_index = [v.index for v in self.lm.primary]
        n_e = network.n_establishments
        self.arc_key = network.arc_tutor * n_e + network.arc_establishment
        self.arc_order = np.argsort(self.arc_key, kind="stable")
        self.link_key = network.link_class * max(network.n_tutors, 1) + network.link_tutor
        self.n_branches = 0

    # -- helpers ------------------------------------------------------------
    def _left(self) -> float:
        return self.deadline - time.perf_counter()

    def _hint(self, indices: list[int], values: list[int]) -> None:
        model = self.lm.model
        model.clear_hints()
        model.proto.solution_hint.vars.extend(indices)
        model.proto.solution_hint.values.extend(values)

    def _primary_of(self, plan: Assignment) -> list[int] | None:
        """Return the x, y, z values of a plan (None when a pair is not in the network)."""
        net = self.network
        n_e = net.n_establishments
        x = np.zeros(net.n_arcs, dtype=np.int64)
        y = np.zeros(len(net.link_class), dtype=np.int64)
        z: dict[int, int] = dict.fromkeys(self.lm.base.z, 0)
        free = ~plan.is_fixed
        keys = plan.tutor[free] * n_e + plan.establishment[free]
        sorted_keys = self.arc_key[self.arc_order]
        pos = np.searchsorted(sorted_keys, keys)
        pos = np.minimum(pos, max(len(sorted_keys) - 1, 0))
        found = sorted_keys[pos] == keys if len(sorted_keys) else np.zeros(len(keys), dtype=bool)
        x[self.arc_order[pos[found]]] = 1
        for t, e in zip(
            plan.tutor[free][~found].tolist(), plan.establishment[free][~found].tolist(), strict=True
        ):
            c = int(net.remote_class[e])
            if c < 0 or e not in z:
                return None
            hit = np.flatnonzero(self.link_key == c * max(net.n_tutors, 1) + t)
            if len(hit) == 0:
                return None
            z[e] = 1
            y[hit[0]] += 1
        return [*x.tolist(), *y.tolist(), *z.values()]

    def _evaluate(self, indices: list[int], values: list[int]) -> tuple[list[int], int] | None:
        """Complete a plan (its values fixed) and return the full solution and objective, or None."""
        solver, cp = self.solver, self.cp_model
        self._hint(indices, values)
        params = solver.parameters
        params.fix_variables_to_their_hinted_value = True
        params.max_time_in_seconds = max(min(self._left(), 30.0), 0.01)
        try:
            code = solver.solve(self.lm.model)
        finally:
            params.fix_variables_to_their_hinted_value = False
        if code not in (cp.OPTIMAL, cp.FEASIBLE):
            return None
        return list(solver.response_proto.solution), round(solver.objective_value)

    def _minimise(self, expr: Any) -> None:
        self.lm.model.minimize(expr)

    # -- the phases ---------------------------------------------------------
    def run(self, hints: list[Assignment]) -> tuple[list[int] | None, list[_Phase], str]:
        """Solve the phases; return the final solution (None: no plan), the phases and the stop reason."""
        cp, solver, lm = self.cp_model, self.solver, self.lm
        all_indices = list(range(len(lm.model.proto.variables)))
        incumbent: list[int] | None = None
        done: list[_Phase] = []
        first = self.phases[0]
        self._minimise(lm.terms[first.name].expr)
        for plan in hints:
            values = self._primary_of(plan)
            if values is None:
                continue
            got = self._evaluate(self.primary_index, values)
            if got is not None and (incumbent is None or got[1] < self._objective_of(incumbent, first)):
                incumbent = got[0]
        for k, c in enumerate(self.phases):
            term = lm.terms[c.name]
            if isinstance(term.expr, int):  # nothing to decide (e.g. no group has two candidates)
                done.append(_Phase(c, term.expr, float(term.expr), True, "constant"))
                continue
            self._minimise(term.expr)
            phase: _Phase | None = None
            if c.name in _FAST and not self.groups_hard:
                phase, incumbent = self._try_fast(c, incumbent)
            if phase is None:
                left = self._left()
                if left <= 0.01 and incumbent is not None:
                    value = self._objective_of(incumbent, c)
                    phase = _Phase(c, value, math.nan, False, "time limit")
                else:
                    if incumbent is not None:
                        self._hint(all_indices, incumbent)
                    else:
                        lm.model.clear_hints()
                    solver.parameters.max_time_in_seconds = max(left / (len(self.phases) - k), 0.01)
                    code = solver.solve(lm.model)
                    self.n_branches += solver.num_branches
                    if code in (cp.OPTIMAL, cp.FEASIBLE):
                        incumbent = list(solver.response_proto.solution)
                        bound = solver.best_objective_bound
                        phase = _Phase(c, round(solver.objective_value), bound, code == cp.OPTIMAL, "cp-sat")
                    elif code == cp.INFEASIBLE:
                        return None, done, "infeasible"
                    elif incumbent is not None:
                        phase = _Phase(c, self._objective_of(incumbent, c), math.nan, False, "cp-sat")
                    else:
                        return None, done, f"CP-SAT found no plan in time ({solver.status_name(code)})"
            done.append(phase)
            bound_int = phase.value
            if c.has_tolerance:
                bound_int = max(bound_int, term.to_bound(c.limit(term.to_value(phase.value))))
            lm.model.add(term.expr <= bound_int)
            if c.name == "worst-trip":
                self.worst_trip_limit = term.to_value(bound_int)
        return incumbent, done, ""

    def _objective_of(self, solution: list[int], c: Criterion) -> int:
        self._minimise(self.lm.terms[c.name].expr)
        evaluated = self._evaluate(list(range(len(solution))), solution)
        if evaluated is None:  # pragma: no cover - a solution of the model stays one
            return 0
        return evaluated[1]

    def _try_fast(self, c: Criterion, incumbent: list[int] | None) -> tuple[_Phase | None, list[int] | None]:
        plan = self.fast(c.name, self.worst_trip_limit)
        if plan is None or not plan.status.has_solution:
            return None, incumbent
        values = self._primary_of(plan)
        got = None if values is None else self._evaluate(self.primary_index, values)
        if got is None:
            return None, incumbent  # breaks an earlier limit: search
        if plan.status is Status.OPTIMAL:
            return _Phase(c, got[1], float(got[1]), True, plan.solver), got[0]
        if incumbent is None or got[1] < self._objective_of(incumbent, c):
            self._minimise(self.lm.terms[c.name].expr)
            return None, got[0]
        self._minimise(self.lm.terms[c.name].expr)
        return None, incumbent

    def result(self, solution: list[int], proven: bool, message: str) -> BackendResult:
        net, lm = self.network, self.lm
        x = np.array([solution[v.index] for v in lm.base.x], dtype=bool)
        y = np.array([solution[v.index] for v in lm.base.y], dtype=np.int64)
        z = np.zeros(net.n_establishments, dtype=bool)
        for e, var in lm.base.z.items():
            z[e] = bool(solution[var.index])
        return BackendResult(
            status=Status.OPTIMAL if proven else Status.FEASIBLE,
            message=message,
            arc_used=x,
            z=z,
            y=y,
            objective=None,
            bound=math.nan,
            stats={"variables": len(lm.model.proto.variables), "branches": self.n_branches},
        )


def _hard_group_hint(plan: Assignment) -> Assignment:
    """Return the plan with each group kept to its most frequent tutor (a hint for hard groups)."""
    from tutormatch.solve._groups import establishment_groups

    labels = establishment_groups(plan.problem)
    keep = np.ones(len(plan.tutor), dtype=bool)
    chosen: dict[str, int] = {}
    for g in sorted(set(labels[plan.establishment].tolist()) - {""}):
        mine = labels[plan.establishment] == g
        fixed = plan.tutor[mine & plan.is_fixed]
        tutors, counts = np.unique(plan.tutor[mine], return_counts=True)
        chosen[g] = int(fixed[0]) if len(fixed) else int(tutors[np.argmax(counts)])
        keep &= ~(mine & (plan.tutor != chosen[g]))
    return dataclasses.replace(
        plan,
        tutor=plan.tutor[keep],
        establishment=plan.establishment[keep],
        mode=plan.mode[keep],
        distance_km=plan.distance_km[keep],
        cost_km=plan.cost_km[keep],
        is_fixed=plan.is_fixed[keep],
    )


def solve_lexico(
    problem: Problem,
    criteria: tuple[Criterion, ...],
    *,
    groups_hard: bool,
    solve: SolveFn,
    solve_kwargs: dict[str, Any],
) -> Assignment:
    """Solve ``criteria`` in order (coverage first) with the CP-SAT engine; see the module notes.

    ``solve`` is :func:`tutormatch.solve` (passed in to avoid an import
    cycle); ``solve_kwargs`` its other arguments (solver, options, cost
    model, budget).
    """
    from tutormatch.solve._bottleneck import restrict
    from tutormatch.solve._decide import DEFAULT_TIME_LIMIT, _no_near_remote
    from tutormatch.solve._network import build_network
    from tutormatch.solve._pool import full_pool
    from tutormatch.solve._remote import split_remote
    from tutormatch.solve._solve import plan_from_network

    started = time.perf_counter()
    names = [c.name for c in criteria]
    rest = list(criteria[1:])
    if not {"km", "euros", "tutors"} & set(names):
        rest.append(Criterion("km"))  # the least km breaks the ties last, as for a single criterion
    budget = solve_kwargs.get("budget_eur")
    if ("euros" in names or budget is not None) and problem.distance_unit != "km":
        raise InputError(
            f"the criterion 'euros' and budgets count euros from road km, but this problem's distances "
            f"are in {problem.distance_unit!r}. Use a matrix of road km, or drop 'euros'."
        )
    options: SolveOptions = solve_kwargs.get("options") or SolveOptions()
    if not math.isfinite(options.time_limit):
        # CP-SAT may not finish: stop with the proven bounds, as the euro objectives do.
        options = dataclasses.replace(options, time_limit=DEFAULT_TIME_LIMIT)
    deadline = started + options.time_limit
    cost_model: CostModel = solve_kwargs.get("cost_model") or CostModel()

    def sub(p: Problem, objective: Any) -> Assignment:
        left = max(deadline - time.perf_counter(), 0.01)
        kwargs = dict(solve_kwargs, options=dataclasses.replace(options, time_limit=left))
        kwargs.pop("time_limit", None)
        return solve(p, objective=objective, **kwargs)

    base = sub(problem, "km")
    if not base.status.has_solution:
        return base

    def fast(name: str, worst_trip: float | None) -> Assignment | None:
        p = problem if worst_trip is None else restrict(problem, worst_trip)
        return sub(p, ["coverage", "worst-trip"] if name == "worst-trip" else name)

    uses_groups = "groups" in names or groups_hard
    explicit = frozenset(range(problem.remote_classes.n_classes)) if uses_groups else frozenset()
    phases = [criteria[0], *rest] if groups_hard else rest
    hints = [_hard_group_hint(base)] if groups_hard else [base]
    while True:
        network = _no_near_remote(
            problem,
            build_network(
                problem,
                full_pool(problem),
                cost_resolution_km=options.cost_resolution_km,
                explicit_classes=explicit,
            ),
        )
        covered = np.zeros(problem.n_establishments, dtype=bool)
        covered[base.establishment] = True
        engine = _Engine(
            problem,
            network,
            phases,
            coverage_int=int(network.priority_int[covered & network.active].sum()),
            coverage_proven=base.status is Status.OPTIMAL,
            groups_hard=groups_hard,
            cost_model=cost_model,
            budget=budget,
            options=options,
            deadline=deadline,
            fast=fast,
        )
        solution, done, stop = engine.run(hints)
        if solution is None:
            status = Status.INFEASIBLE if stop == "infeasible" else Status.NO_SOLUTION
            return dataclasses.replace(
                base,
                status=status if status is Status.INFEASIBLE else Status.FEASIBLE,
                message=f"ordered criteria: {stop}; this is the plan of least km without the other criteria"
                if status is not Status.INFEASIBLE
                else "ordered criteria: no plan meets the constraints",
            )
        proven = base.status is Status.OPTIMAL and all(p.proven for p in done)
        result = engine.result(solution, proven, _message(done))
        split = split_remote(network, result.z, result.y)
        if not split.failed_classes:
            break
        explicit = explicit | split.failed_classes
    stats = dict(result.stats, explicit_classes=len(explicit), phases=[p.method for p in done])
    plan = plan_from_network(
        problem,
        network,
        result,
        split.tutor,
        split.establishment,
        solver="lexico-cpsat",
        stats=stats,
        started=started,
    )
    plan = dataclasses.replace(plan, cost_model=solve_kwargs.get("cost_model"))
    values, gap = _criteria_values(plan, criteria[0], done, engine.lm, groups_hard)
    if not proven:
        plan = dataclasses.replace(plan, bound=math.nan, gap=gap)
    without = base if "euros" not in names else sub(problem, "euros")
    return dataclasses.replace(
        plan,
        criteria=values,
        fairness=_fairness(plan, without, names),
        solve_seconds=time.perf_counter() - started,
    )


def _message(done: list[_Phase]) -> str:
    parts = [f"{p.criterion.name} {'proven' if p.proven else 'not proven'} ({p.method})" for p in done]
    return "ordered criteria: " + ", ".join(parts)


def _criteria_values(
    plan: Assignment, coverage: Criterion, done: list[_Phase], lm: LexicoModel, groups_hard: bool
) -> tuple[tuple[dict[str, Any], ...], float]:
    from tutormatch.solve._fair import criterion_value

    out: list[dict[str, Any]] = []
    gap = math.nan
    phases = done if groups_hard else [_Phase(coverage, 0, 0.0, True, "flow"), *done]
    for p in phases:
        c = p.criterion
        value = criterion_value(plan, c.name)
        entry: dict[str, Any] = {
            "name": c.name,
            "value": value,
            "tolerance_rel": c.tolerance_rel,
            "tolerance_abs": c.tolerance_abs,
            "proven": p.proven,
        }
        if not p.proven:
            term = lm.terms[c.name]
            bound = term.to_value(math.ceil(p.bound - 1e-9)) if math.isfinite(p.bound) else math.nan
            entry["bound"] = bound
            if not math.isfinite(gap):
                gap = abs(value - bound) / abs(value) if math.isfinite(bound) and value else math.nan
        out.append(entry)
    return tuple(out), gap


def _fairness(plan: Assignment, without: Assignment, names: list[str]) -> dict[str, Any]:
    from tutormatch.solve._fair import criterion_value

    def eur(p: Assignment) -> float | None:
        return p.costs().total_cents / 100 if p.problem.distance_unit == "km" else None

    base_eur, final_eur = eur(without), eur(plan)
    out: dict[str, Any] = {
        "price_of_fairness_km": float(plan.cost_km.sum() - without.cost_km.sum()),
        "price_of_fairness_eur": None
        if base_eur is None or final_eur is None
        else round(final_eur - base_eur, 2),
        "without_objective": "euros" if "euros" in names else "km",
    }
    keys = {
        "worst-trip": "worst_trip_km",
        "worst-year": "worst_year_km",
        "full-loads": "full_loads",
        "groups": "groups_split",
    }
    for name, key in keys.items():
        if name in names:
            out[key] = criterion_value(plan, name)
            out[key.removesuffix("_km") + "_without" + ("_km" if key.endswith("_km") else "")] = (
                criterion_value(without, name)
            )
    return out
