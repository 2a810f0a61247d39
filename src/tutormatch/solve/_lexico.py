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
``worst-trip``, the matching search of
:mod:`tutormatch.solve._full_loads_matching` for ``full-loads``; on the
problem restricted to the allowed on-site distances when the worst trip came
earlier), its plan is tried first: it is optimal
over a larger set of plans, so when it meets every earlier limit (checked by
CP-SAT with the plan's pairs fixed) it is this phase's proven optimum and no
search is needed. On a network too large for a CP-SAT model in the time (more than
:data:`tutormatch.solve._lexico_flows.LARGE_ARCS` pairs, e.g. national
scale) the phases are decided by flows instead, with proven bounds
(:mod:`tutormatch.solve._lexico_flows`). The status is OPTIMAL only when every phase is proven;
otherwise FEASIBLE, with each unproven phase's proven bound in
:attr:`Assignment.criteria` and the gap of the first one in
:attr:`Assignment.gap`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from tutormatch.errors import InputError
from tutormatch.model._costs import BUDGET_TOLERANCE_EUR, CostModel
from tutormatch.model._problem import Problem
from tutormatch.solve._assignment import Assignment
from tutormatch.solve._backend import BackendResult
from tutormatch.solve._criteria import Criterion
from tutormatch.solve._euros import rounding_eur
from tutormatch.solve._flow_bounds import bottleneck_floor
from tutormatch.solve._lexico_flows import is_large, suits_flows
from tutormatch.solve._lexico_model import LexicoModel, build_lexico_model, lagrangian_flows
from tutormatch.solve._network import Network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._status import Status

__all__ = ["GROUP_MODES", "solve_lexico"]

logger = logging.getLogger(__name__)

SolveFn = Callable[..., Assignment]
#: Valid values of ``groups``: None (the criterion ``groups`` only, if given) or ``"hard"``.
GROUP_MODES = (None, "hard")
#: Criteria with a fast exact method of their own (tried first in their phase).
_FAST = ("km", "euros", "worst-trip", "full-loads")
#: Criteria the flows try first, on any network, with this share of the time (hard groups too): their
#: bound often proves the groups (the example académie on-site: 85 split, proven in about 1 s), else
#: CP-SAT starts from their plan with the rest (:mod:`tutormatch.solve._lexico_flows`). Not the worst
#: year: CP-SAT's plans were better there with the whole time (measured on the example).
_FLOWS_FIRST = ("groups",)
_FLOWS_FIRST_SHARE = 0.25
#: CP-SAT's lag past its own time limit: a constant and a share of the limit.
_CPSAT_LAG_SECONDS = 0.1
_CPSAT_LAG_SHARE = 0.015
#: Least seconds a fixed plan's check gets, even past the time limit.
_CHECK_SECONDS = 2.0
#: Seconds the phases leave for the plan's assembly (:func:`_reserve`): a constant and per pair.
_RESERVE_SECONDS = 0.2
_RESERVE_PER_ARC = 2e-6
#: The share of the time the euro search's plan gets before the phases (when euros are among them).
_EURO_SHARE = 0.25


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


@dataclasses.dataclass(frozen=True)
class _Pairs:
    """A plan independent of any model: its free pairs (keys ``t * n_e + e``) and remote class loads."""

    keys: npt.NDArray[np.int64]
    remote: tuple[tuple[int, int, int], ...] = ()  # (establishment, class, tutor) routed by class


def _pairs_of(network: Network, result: BackendResult) -> _Pairs:
    """Return the plan of a flow's answer on ``network``."""
    n_e = network.n_establishments
    keys = network.arc_tutor[result.arc_used] * n_e + network.arc_establishment[result.arc_used]
    loads = {i: int(v) for i, v in enumerate(result.y.tolist()) if v}
    remote = _remote_pairs(network, np.flatnonzero(result.z).tolist(), loads)
    return _Pairs(keys.astype(np.int64), remote)


def _remote_pairs(
    network: Network, establishments: list[int], loads: dict[int, int]
) -> tuple[tuple[int, int, int], ...]:
    """Give each remote establishment a tutor of its class's links with load left: (e, class, tutor)."""
    remote: list[tuple[int, int, int]] = []
    for e in establishments:
        c = int(network.remote_class[e])
        for i in np.flatnonzero(network.link_class == c).tolist():
            if loads.get(i, 0) > 0:
                loads[i] -= 1
                remote.append((e, c, int(network.link_tutor[i])))
                break
    return tuple(remote)


class _Model:
    """The CP-SAT model of one network, with coverage and the limits found so far."""

    def __init__(self, engine: _Engine, network: Network, limits: list[tuple[str, int]]) -> None:
        from tutormatch.solve._euros import euro_costs

        self.engine, self.network = engine, network
        costs = euro_costs(engine.problem, network, engine.cost_model, "euros") if engine.need_euros else None
        budget = engine.budget
        self.lm: LexicoModel = build_lexico_model(
            engine.problem,
            network,
            engine.names,
            costs=costs,
            budget_units=None if budget is None else _units(budget + BUDGET_TOLERANCE_EUR),
            groups_hard=engine.groups_hard,
            coverage_int=engine.coverage_int,
        )
        model = self.lm.model
        if engine.groups_hard:
            if engine.coverage_proven:
                model.add(self.lm.base.priority <= engine.coverage_int)  # the flow's optimum: a cut
        else:
            model.add(self.lm.base.priority == engine.coverage_int)
        for name, bound in limits:
            self.limit(name, bound)
        n_e = network.n_establishments
        self.arc_key = network.arc_tutor * n_e + network.arc_establishment
        self.arc_order = np.argsort(self.arc_key, kind="stable")
        self.sorted_keys = self.arc_key[self.arc_order]
        self.primary_index = [v.index for v in self.lm.primary]

    def limit(self, name: str, bound: int) -> None:
        """Keep criterion ``name`` at most ``bound`` (its integer expression)."""
        term = self.lm.terms[name]
        if isinstance(term.expr, int):
            return
        if term.var is not None:
            domain = self.lm.model.proto.variables[term.var.index].domain
            domain[len(domain) - 1] = min(int(domain[len(domain) - 1]), bound)
        else:
            self.lm.model.add(term.expr <= bound)

    def primary(self, pairs: _Pairs, *, lenient: bool = False) -> list[int] | None:
        """Return the x, y, z values of ``pairs`` in this model.

        None when a pair is not in it, unless ``lenient`` (a hint: such pairs are left out).
        """
        net = self.network
        x = np.zeros(net.n_arcs, dtype=np.int64)
        y = np.zeros(len(net.link_class), dtype=np.int64)
        z: dict[int, int] = dict.fromkeys(self.lm.base.z, 0)
        keys = pairs.keys
        pos = np.minimum(np.searchsorted(self.sorted_keys, keys), max(len(self.sorted_keys) - 1, 0))
        found = self.sorted_keys[pos] == keys if len(self.sorted_keys) else np.zeros(len(keys), dtype=bool)
        x[self.arc_order[pos[found]]] = 1
        n_e, n_t = net.n_establishments, max(net.n_tutors, 1)
        link_key = net.link_class * n_t + net.link_tutor
        remote = [(int(k % n_e), -1, int(k // n_e)) for k in keys[~found].tolist()]
        for e, c, t in [*remote, *pairs.remote]:
            c = int(net.remote_class[e]) if c < 0 else c
            hit = np.flatnonzero(link_key == c * n_t + t) if c >= 0 and e in z else np.zeros(0, np.int64)
            if len(hit) == 0:
                if lenient:
                    continue
                return None
            z[e] = 1
            y[hit[0]] += 1
        return [*x.tolist(), *y.tolist(), *z.values()]

    def pairs(self, solution: list[int]) -> _Pairs:
        """Return the plan of a solution of this model."""
        net, base = self.network, self.lm.base
        used = np.array([solution[v.index] for v in base.x], dtype=bool)
        loads = {i: solution[v.index] for i, v in enumerate(base.y) if solution[v.index]}
        remote = [e for e, var in sorted(base.z.items()) if solution[var.index]]
        return _Pairs(self.arc_key[used], _remote_pairs(net, remote, loads))

    def result_arrays(self, solution: list[int]) -> tuple[Any, Any, Any]:
        base = self.lm.base
        x = np.array([solution[v.index] for v in base.x], dtype=bool)
        y = np.array([solution[v.index] for v in base.y], dtype=np.int64)
        z = np.zeros(self.network.n_establishments, dtype=bool)
        for e, var in base.z.items():
            z[e] = bool(solution[var.index])
        return x, z, y

    def solve(
        self,
        name: str,
        seconds: float,
        hint: list[int] | None,
        *,
        fix: bool = False,
        first: bool = False,
        partial: bool = False,
    ) -> tuple[Any, list[int] | None, int, float]:
        """Minimise criterion ``name``; return the status code, the solution, its value and the bound."""
        engine, model = self.engine, self.lm.model
        cp, solver = engine.cp_model, engine.solver
        model.minimize(self.lm.terms[name].expr)
        model.clear_hints()
        if hint is not None:
            indices = self.primary_index if fix or partial else list(range(len(hint)))
            model.proto.solution_hint.vars.extend(indices)
            model.proto.solution_hint.values.extend(hint)
        params = solver.parameters
        if not fix:
            # A budget computed earlier never runs past the deadline; CP-SAT stops a little after its
            # limit (measured 0.35-0.45 s late on 18-20 s searches): that lag is left before it.
            left = engine.left()
            seconds = min(seconds, left - _CPSAT_LAG_SECONDS - _CPSAT_LAG_SHARE * max(left, 0.0))
        params.max_time_in_seconds = max(seconds, 0.01)
        params.fix_variables_to_their_hinted_value = fix
        params.stop_after_first_solution = first
        try:
            code = solver.solve(model)
        finally:
            params.fix_variables_to_their_hinted_value = False
            params.stop_after_first_solution = False
        engine.n_branches += solver.num_branches
        has = code in (cp.OPTIMAL, cp.FEASIBLE)
        logger.info(
            "%s: CP-SAT%s %s in %.2f s on %d pairs, value %s, bound %s",
            name,
            " (a plan completed)" if fix else "",
            solver.status_name(code),
            solver.wall_time,
            self.network.n_arcs,
            solver.objective_value if has else None,
            solver.best_objective_bound if has else None,
        )
        if not has:
            return code, None, 0, math.nan
        return (
            code,
            list(solver.response_proto.solution),
            round(solver.objective_value),
            solver.best_objective_bound,
        )

    def evaluate(self, name: str, pairs: _Pairs) -> tuple[list[int], int] | None:
        """Complete ``pairs`` in this model and return the solution and criterion ``name``, or None."""
        values = self.primary(pairs)
        if values is None:
            return None
        # A plan's check is quick (its pairs are fixed: 0.3-1 s on an académie): done even at the time
        # limit, within a few seconds (a check cut short only loses that plan).
        left = min(max(self.engine.left(), _CHECK_SECONDS), 60.0)
        _, solution, value, _ = self.solve(name, left, values, fix=True)
        return None if solution is None else (solution, value)


class _Engine:
    """The phases in order (see the module notes)."""

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
        fast: Callable[..., Assignment | None],
        floors: dict[str, int] | None = None,
    ) -> None:
        from ortools.sat.python import cp_model

        self.problem, self.phases = problem, phases
        self.deadline, self.fast = deadline, fast
        self.floors = dict(floors or {})  # proven bounds of a criterion's first phase after coverage
        self.names = tuple(c.name for c in phases)
        self.need_euros = "euros" in self.names or budget is not None
        self.cost_model, self.budget = cost_model, budget
        self.groups_hard = groups_hard
        self.coverage_int, self.coverage_proven = coverage_int, coverage_proven
        self.worst_trip_limit: float | None = None  # once its phase is past: the on-site pairs allowed
        self.limits: list[tuple[str, int]] = []
        self.last_proven = False  # whether the phase before the current one is proven
        self.cp_model = cp_model
        self.solver = cp_model.CpSolver()
        params = self.solver.parameters
        params.num_workers = options.num_workers
        params.random_seed = options.random_seed
        params.log_search_progress = options.log
        if options.deterministic and options.num_workers > 1:
            params.interleave_search = True
        # Probing and symmetry detection take seconds on an académie's 50,000 pairs and
        # rarely pay here (measured in benchmarks/fairness.py): the search gets the time.
        params.cp_model_probing_level = 0
        params.symmetry_level = 0
        self.n_branches = 0
        self.fast_bounds: dict[str, float] = {}  # proven bounds of the fast methods, criterion units
        built = time.perf_counter()
        self.model = _Model(self, network, [])
        # A model's build (seconds on an académie): none starts without that time left.
        self.build_seconds = time.perf_counter() - built

    def left(self) -> float:
        """Seconds left before the deadline."""
        return self.deadline - time.perf_counter()

    def run(self, hints: list[Assignment]) -> tuple[_Pairs | None, list[_Phase], str]:
        """Solve the phases; return the final plan (None: no plan), the phases and the stop reason."""
        incumbent: _Pairs | None = None
        best = math.inf
        first = self.phases[0].name
        for plan in hints:
            free = ~plan.is_fixed
            pairs = _Pairs(plan.tutor[free] * plan.problem.n_establishments + plan.establishment[free])
            got = self.model.evaluate(first, pairs)
            if got is not None and got[1] < best:
                incumbent, best = self.model.pairs(got[0]), got[1]
        done: list[_Phase] = []
        for k, c in enumerate(self.phases):
            term = self.model.lm.terms[c.name]
            if self.left() <= 0.05 and incumbent is not None:
                done.append(_Phase(c, 0, math.nan, False, "time limit"))
                continue
            if isinstance(term.expr, int):  # nothing to decide (e.g. every cost is zero)
                done.append(_Phase(c, term.expr, float(term.expr), True, "constant"))
                continue
            phase: _Phase | None = None
            if c.name in _FAST and not self.groups_hard:
                phase, incumbent = self._try_fast(c, incumbent)
            if phase is None and self.left() <= 0.05 and incumbent is not None:
                # The fast method took the time left: no search (its plan, if better, is kept).
                done.append(_Phase(c, 0, math.nan, False, "time limit"))
                continue
            if phase is None:
                budget = max(self.left(), 0.0) / (len(self.phases) - k)
                phase, incumbent, stop = self._search(c, incumbent, budget)
                if phase is None:
                    return None, done, stop
            done.append(phase)
            self.last_proven = phase.proven
            term = self.model.lm.terms[c.name]
            bound = phase.value
            if c.has_tolerance:
                bound = max(bound, term.to_bound(c.limit(term.to_value(phase.value))))
            self.limits.append((c.name, bound))
            if c.name == "worst-trip":
                self.worst_trip_limit = term.to_value(bound)
            rebuild = self.left() > self.build_seconds  # else the limit as a constraint (same plans)
            if term.arc_key is not None and (term.arc_key > bound).any() and rebuild:
                # Pairs beyond the limit can never be used again: drop them from the model.
                network = self.model.network.restricted(term.arc_key <= bound)
                self.model = _Model(self, network, self.limits)
            else:
                self.model.limit(c.name, bound)
        return incumbent, done, ""

    def _value(self, c: Criterion, pairs: _Pairs | None, model: _Model | None = None) -> int | None:
        if pairs is None:
            return None
        got = (model or self.model).evaluate(c.name, pairs)
        return None if got is None else got[1]

    def _try_fast(self, c: Criterion, incumbent: _Pairs | None) -> tuple[_Phase | None, _Pairs | None]:
        name = c.name
        if name == "km" and self._after_exact_full_loads():
            # The matching search of most full loads, on until its km are proven: this phase's plans.
            name = "full-loads-then-km"
        plan = self.fast(name, self.worst_trip_limit)
        if plan is None or not plan.status.has_solution:
            return None, incumbent
        if name == "euros":
            # The euro search's bound holds for every plan within the worst trip: one for this phase.
            key = "model_eur" if plan.status is Status.OPTIMAL else "bound_eur"
            self.fast_bounds["euros"] = float(plan.stats.get(key, math.nan)) - rounding_eur(
                self.problem, self.cost_model
            )
        free = ~plan.is_fixed
        pairs = _Pairs(plan.tutor[free] * plan.problem.n_establishments + plan.establishment[free])
        got = self.model.evaluate(c.name, pairs)
        if got is None:
            return None, incumbent  # breaks an earlier limit: search
        if plan.status is Status.OPTIMAL:
            # Optimal over more plans than the phase allows, and allowed: the phase's optimum. A plan
            # so far at that optimum too is kept (e.g. the flows' plan, better for the later criteria).
            current = None if c is self.phases[-1] else self._value(c, incumbent)
            keep = incumbent if current is not None and current <= got[1] else self.model.pairs(got[0])
            return _Phase(c, got[1], float(got[1]), True, plan.solver), keep
        current = self._value(c, incumbent)
        if current is None or got[1] < current:
            return None, self.model.pairs(got[0])
        return None, incumbent

    def _after_exact_full_loads(self) -> bool:
        """Whether the only limit so far is ``full-loads`` at its proven optimum, right after coverage."""
        first = self.phases[0]
        return (
            self.last_proven
            and len(self.limits) == 1
            and first.name == "full-loads"
            and not first.has_tolerance
            and self.limits[0][0] == "full-loads"
        )

    def _search(
        self, c: Criterion, incumbent: _Pairs | None, budget: float
    ) -> tuple[_Phase | None, _Pairs | None, str]:
        """Minimise criterion ``c`` by CP-SAT; small-range criteria then by a bisection of decisions."""
        cp, model = self.cp_model, self.model
        started = time.perf_counter()
        term = model.lm.terms[c.name]
        lower = -math.inf
        hint = None
        near: _Pairs | None = None
        value: int | None = None
        if incumbent is not None:
            got = model.evaluate(c.name, incumbent)
            if got is not None:
                hint, value = got
        if term.arc_key is not None:
            floor_plan = bottleneck_floor(model.network, term.arc_key, term.floor, self.coverage_int)
            if floor_plan is not None:
                lower = floor_plan[0]  # proven by flows: a plan at it is optimal
                if not self.limits and c.name in self.floors:
                    lower = max(lower, self.floors[c.name])  # e.g. the worst year's configuration LP
                flow: BackendResult | None = floor_plan[1]
                if term.arc_amount is not None:
                    flow, near = self._ladder(term, int(lower), value, started + 0.4 * budget)
                got = None if flow is None else model.evaluate(c.name, _pairs_of(model.network, flow))
                if got is not None and (value is None or got[1] < value):
                    hint, value = got
                    incumbent = model.pairs(got[0])
                if value is not None and value <= lower:
                    return _Phase(c, value, float(lower), True, "flows"), incumbent, ""
        decisions = term.var is not None
        if term.arc_key is None or value is None:
            share = 0.4 if decisions else 1.0
            code, solution, found, bound = model.solve(c.name, budget * share, hint)
            if code == cp.INFEASIBLE:
                return None, incumbent, "infeasible"
            if solution is not None:
                incumbent, value = model.pairs(solution), found
                lower = max(lower, math.ceil(bound - 1e-9))
                if code == cp.OPTIMAL:
                    return _Phase(c, found, float(found), True, "cp-sat"), incumbent, ""
        if value is None:
            return None, incumbent, "CP-SAT found no plan in time"
        method = "cp-sat"
        if decisions:
            incumbent, value, lower = self._bisect(c, incumbent, value, lower, budget, started, near)
            method = "cp-sat decisions"
        proven = math.isfinite(lower) and lower >= value
        return _Phase(c, value, float(lower), proven, method), incumbent, ""

    def _ladder(
        self, term: Any, floor: int, value: int | None, until: float
    ) -> tuple[BackendResult | None, _Pairs | None]:
        """Lagrangian flows at the floor, then at limits 5 %, 10 %, 20 %... above it, until one holds.

        Returns the first plan within its limit (or None) and the near plan at the floor (the first
        CP-SAT question's hint).
        """
        network = self.model.network
        near: _Pairs | None = None
        step = 0.0
        while time.perf_counter() < until:
            limit = int(floor * (1 + step))
            if value is not None and limit >= value:
                break
            from tutormatch.solve._worst_year import slot_flows

            # Flows with tutors split into places first (exact within the limit when found).
            slotted = slot_flows(network, term, limit, self.coverage_int)
            if slotted is not None:
                return slotted, near
            heuristic = lagrangian_flows(network, term, limit, self.coverage_int, rounds=15)
            if heuristic is None:
                return None, near
            if heuristic[1]:
                return heuristic[0], near
            if near is None:
                near = _pairs_of(network, heuristic[0])
            step = 0.05 if step == 0 else 2 * step
        return None, near

    def _bisect(
        self,
        c: Criterion,
        incumbent: _Pairs | None,
        value: int,
        lower: float,
        budget: float,
        started: float,
        near: _Pairs | None = None,
    ) -> tuple[_Pairs | None, int, float]:
        """Is there a plan at the lower bound, or halfway? Feasibility is often easier than optimising.

        For a largest-of criterion each question is asked on the pairs that can meet it only.
        """
        cp, model = self.cp_model, self.model
        term = model.lm.terms[c.name]
        domain = model.lm.model.proto.variables[term.var.index].domain
        lo = int(max(lower, domain[0])) if math.isfinite(lower) else int(domain[0])
        hi, guess = value, lo
        tries = 0
        while guess < hi:
            left = budget - (time.perf_counter() - started)
            if left <= 0.02 or (term.arc_key is not None and self.left() < self.build_seconds):
                break  # no time left, or not for the question's model
            # First the bound itself (a plan there ends the phase), then halfway up from what is
            # proven or was left undecided: an undecided question still leads to better plans.
            mid = lo if tries == 0 else (guess + hi) // 2
            seconds = left / 3 if tries == 0 else left / 2
            tries += 1
            if term.arc_key is not None:
                sub = _Model(
                    self, model.network.restricted(term.arc_key <= mid), [*self.limits, (c.name, mid)]
                )
            else:
                sub = model
            top = int(domain[len(domain) - 1])
            if sub is model:
                domain[len(domain) - 1] = mid
            try:
                guide = near if tries == 1 and near is not None else incumbent
                hint = None if guide is None else sub.primary(guide, lenient=True)
                code, solution, found, _ = sub.solve(c.name, seconds, hint, first=True, partial=True)
            finally:
                if sub is model:
                    domain[len(domain) - 1] = top
            if solution is not None:
                incumbent, hi = sub.pairs(solution), found
            elif code == cp.INFEASIBLE:
                lo = max(lo, mid + 1)
                guess = max(guess, lo)
            else:
                guess = mid + 1
        return incumbent, hi, float(lo)

    def result(self, pairs: _Pairs, proven: bool, message: str) -> BackendResult:
        """Return the backend answer of ``pairs`` on the final model's network."""
        values = self.model.primary(pairs)
        if values is None:  # pragma: no cover - the incumbent is always in the current model
            raise RuntimeError("the ordered criteria lost their plan")
        solution = [0] * len(self.model.lm.model.proto.variables)
        for index, value in zip(self.model.primary_index, values, strict=True):
            solution[index] = value
        x, z, y = self.model.result_arrays(solution)
        return BackendResult(
            status=Status.OPTIMAL if proven else Status.FEASIBLE,
            message=message,
            arc_used=x,
            z=z,
            y=y,
            objective=None,
            bound=math.nan,
            stats={"variables": len(self.model.lm.model.proto.variables), "branches": self.n_branches},
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
    started: float | None = None,
) -> Assignment:
    """Solve ``criteria`` in order (coverage first) with the CP-SAT engine; see the module notes.

    ``solve`` is :func:`tutormatch.solve` (passed in to avoid an import
    cycle); ``solve_kwargs`` its other arguments (solver, options, cost
    model, budget); ``started``: when the caller's clock started (the time
    limit counts from it).

    The phases stop :func:`_reserve` seconds before the time limit: the plan,
    its criteria and its price of fairness are built in them.
    """
    from tutormatch.solve._bottleneck import restrict
    from tutormatch.solve._decide import DEFAULT_TIME_LIMIT, _no_near_remote
    from tutormatch.solve._network import build_network
    from tutormatch.solve._pool import full_pool
    from tutormatch.solve._remote import split_remote
    from tutormatch.solve._solve import plan_from_network

    started = time.perf_counter() if started is None else started
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

    def sub(p: Problem, objective: Any, share: float = 1.0) -> Assignment:
        left = max((deadline - time.perf_counter()) * share, 0.01)
        kwargs = dict(solve_kwargs, options=dataclasses.replace(options, time_limit=left))
        kwargs.pop("time_limit", None)
        return solve(p, objective=objective, **kwargs)

    euro_plans: dict[float | None, Assignment] = {}

    def euro_plan(worst_trip: float | None = None, share: float = 1.0) -> Assignment:
        """Return the euro search's plan (within the worst trip), solved once for the phases and the price."""
        if worst_trip not in euro_plans:
            p = problem if worst_trip is None else restrict(problem, worst_trip)
            euro_plans[worst_trip] = sub(p, "euros", share)
        return euro_plans[worst_trip]

    base = sub(problem, "km")
    if not base.status.has_solution:
        return base

    def finished(exact: Assignment) -> Assignment:
        """Return an exact method's plan with the cost model, its price of fairness and the whole time."""
        return dataclasses.replace(
            exact,
            cost_model=solve_kwargs.get("cost_model"),
            fairness=_fairness(exact, base, names),
            solve_seconds=time.perf_counter() - started,
        )

    if groups_hard and [c.name for c in rest] == ["km"] and budget is None:
        from tutormatch.solve._groups_exact import hard_groups_plan

        # Hard groups, then least km: the exact MIP on group columns (None: minimum loads, all-or-nothing).
        exact = hard_groups_plan(problem, (criteria[0], *rest), options, deadline)
        if exact is not None:
            return finished(exact)

    if (
        not groups_hard
        and budget is None
        and [c.name for c in rest] == ["full-loads", "km"]
        and not rest[0].has_tolerance
    ):
        exact = _full_loads_then_km(problem, (criteria[0], *rest), base, options, deadline)
        if exact is not None:
            return finished(exact)

    floors: dict[str, int] = {}
    if (
        not groups_hard
        and [c.name for c in rest] == ["worst-year", "km"]
        and not rest[0].has_tolerance
        and budget is None
    ):
        from tutormatch.solve._worst_year_exact import worst_year_plan

        # On-site: the configuration LP's proven bound, and the plan when it is proven there.
        reserve = min(
            _RESERVE_SECONDS + _RESERVE_PER_ARC * problem.candidates.n_pairs, 0.1 * options.time_limit
        )
        exact, floor = worst_year_plan(problem, (criteria[0], *rest), base, options, deadline - reserve)
        if exact is not None:
            return finished(exact)
        if floor is not None:
            floors["worst-year"] = round(floor * 1000)

    def fast(name: str, worst_trip: float | None, share: float = 1.0) -> Assignment | None:
        p = problem if worst_trip is None else restrict(problem, worst_trip)
        if name in ("full-loads", "full-loads-then-km"):
            from tutormatch.solve._full_loads_matching import solve_full_loads

            # Half the time left: an unproven search leaves the rest to CP-SAT, hinted with its plan.
            left = max(deadline - time.perf_counter(), 0.02) / 2
            return solve_full_loads(
                p, dataclasses.replace(options, time_limit=left), prove_km=name == "full-loads-then-km"
            )
        if name == "euros":
            return euro_plan(worst_trip, share)
        return sub(p, ["coverage", "worst-trip"] if name == "worst-trip" else name)

    uses_groups = "groups" in names or groups_hard
    explicit = frozenset(range(problem.remote_classes.n_classes)) if uses_groups else frozenset()
    phases = [criteria[0], *rest] if groups_hard else rest
    hints = [_hard_group_hint(base)] if groups_hard else [base]
    flow_bounds: dict[str, float] = {}
    # Euros after full loads or groups: the flows' euro search with loads or groups' tutors kept.
    euros_after = "euros" in names and bool({"full-loads", "groups"} & set(names[: names.index("euros")]))
    flows_tried = not (groups_hard or set(names) & set(_FLOWS_FIRST) or euros_after)
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
        coverage_int = int(network.priority_int[covered & network.active].sum())
        if "euros" in names:
            # The euro search's plan first, with a share of the time: the euros phase starts from it
            # and the price of fairness is measured against it (never solved after the deadline).
            euro_plan(None, _EURO_SHARE)

        def flows_until(network: Network, coverage_int: int, until: float) -> Assignment | frozenset[int]:
            """Return the flows' ordered plan by ``until`` (or the remote classes to list pair by pair)."""
            return _by_flows(
                problem,
                network,
                base,
                criteria[0],
                phases,
                coverage_int,
                until,
                fast,
                started,
                names,
                groups_hard=groups_hard,
                without=lambda: base if "euros" not in names else euro_plan(),
                cost_model=cost_model,
            )

        if is_large(network, tuple(names), groups_hard):
            by_flows = flows_until(network, coverage_int, deadline - _reserve(network, options.time_limit))
            if isinstance(by_flows, Assignment):
                return by_flows
            explicit = explicit | by_flows  # remote classes that could not be split: their pairs explicit
            continue
        if not flows_tried and suits_flows(network, tuple(names)):
            # Flows first, a quarter of the time: often proven (groups), else a plan and bounds for CP-SAT.
            flows_tried = True
            first = flows_until(network, coverage_int, started + _FLOWS_FIRST_SHARE * (deadline - started))
            if not isinstance(first, Assignment):
                explicit = explicit | first
                continue
            if first.status is Status.OPTIMAL:
                return first
            exact = (
                _groups_then_km(problem, (criteria[0], *rest), base, first, coverage_int, options, deadline)
                if budget is None and not groups_hard
                else None
            )
            if exact is not None:
                return finished(exact)
            if first.status.has_solution:
                hints = [*hints, first]
                flow_bounds = {
                    c["name"]: float(c["bound"])
                    for c in first.criteria
                    if not c["proven"] and math.isfinite(c.get("bound", math.nan))
                }
                flow_bounds.update({c["name"]: float(c["value"]) for c in first.criteria if c["proven"]})
        engine = _Engine(
            problem,
            network,
            phases,
            coverage_int=coverage_int,
            coverage_proven=base.status is Status.OPTIMAL,
            groups_hard=groups_hard,
            cost_model=cost_model,
            budget=budget,
            options=options,
            deadline=deadline - _reserve(network, options.time_limit),
            fast=fast,
            floors=floors,
        )
        solution, done, stop = engine.run(hints)
        if solution is None:
            if groups_hard or stop == "infeasible":
                from tutormatch.solve._solve import _no_plan

                status = Status.INFEASIBLE if stop == "infeasible" else Status.NO_SOLUTION
                empty = BackendResult.without_solution(network, status, f"ordered criteria: {stop}")
                return _no_plan(problem, "lexico-cpsat", empty, {}, time.perf_counter() - started)
            from tutormatch.solve._fair import criteria_entries

            # The plan of least km meets every soft criterion's constraints: said as it is.
            coverage_proven = base.status is Status.OPTIMAL
            values, _ = criteria_entries(
                base, [(c, c.name == "coverage" and coverage_proven, math.nan) for c in (criteria[0], *rest)]
            )
            return dataclasses.replace(
                base,
                status=Status.FEASIBLE,
                bound=math.nan,
                gap=math.nan,
                message=f"ordered criteria: {stop}; this is the plan of least km, without the other criteria",
                criteria=values,
                solve_seconds=time.perf_counter() - started,
            )
        proven = (groups_hard or base.status is Status.OPTIMAL) and all(p.proven for p in done)
        result = engine.result(solution, proven, _message(done))
        network = engine.model.network
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
    values, gap = _criteria_values(plan, criteria[0], done, engine.model.lm, groups_hard)
    flow_bounds = {
        name: max(b, flow_bounds.get(name, -math.inf))
        for name, b in engine.fast_bounds.items()
        if math.isfinite(b)
    } | {k: v for k, v in flow_bounds.items() if k not in engine.fast_bounds}
    if flow_bounds and not proven:
        values, gap = _with_flow_bounds(values, flow_bounds)
        if base.status is Status.OPTIMAL and all(v["proven"] for v in values):
            proven = True
            plan = dataclasses.replace(plan, status=Status.OPTIMAL, gap=0.0)
    if not proven:
        plan = dataclasses.replace(plan, bound=math.nan, gap=gap)
    without = base if "euros" not in names else euro_plan()
    return dataclasses.replace(
        plan,
        criteria=values,
        fairness=_fairness(plan, without, names),
        solve_seconds=time.perf_counter() - started,
    )


def _full_loads_then_km(
    problem: Problem,
    criteria: tuple[Criterion, ...],
    base: Assignment,
    options: SolveOptions,
    deadline: float,
) -> Assignment | None:
    """Coverage, most full loads, least km: the matching search and its km bound, without CP-SAT.

    Returned only when all three are proven (the search's plan has the
    coverage of ``base``, the proven plan of least km); None otherwise (the
    engine then decides, the time spent here lost).
    """
    from tutormatch.solve._fair import criteria_entries
    from tutormatch.solve._full_loads_matching import solve_full_loads
    from tutormatch.solve._lexico_flows import LARGE_ARCS

    if base.status is not Status.OPTIMAL or problem.candidates.n_pairs > LARGE_ARCS:
        return None  # (a network that large: the engine's flows, without building it twice)
    # Half the time left, as the engine's own try: an unproven search leaves the rest to the engine.
    left = max(deadline - time.perf_counter(), 0.02) / 2
    plan = solve_full_loads(problem, dataclasses.replace(options, time_limit=left), prove_km=True)
    if plan is None or plan.status is not Status.OPTIMAL:
        return None
    if not math.isclose(plan.covered_priority, base.covered_priority, rel_tol=1e-12, abs_tol=1e-9):
        return None  # pragma: no cover - both are proven most coverage
    values, _ = criteria_entries(plan, [(c, True, math.nan) for c in criteria])
    message = (
        "ordered criteria: full-loads proven (full-loads-matching), km proven (full-loads-matching); "
        + plan.message
    )
    return dataclasses.replace(plan, criteria=values, message=message, solver="full-loads-matching")


def _groups_then_km(
    problem: Problem,
    criteria: tuple[Criterion, ...],
    base: Assignment,
    first: Assignment,
    coverage_int: int,
    options: SolveOptions,
    deadline: float,
) -> Assignment | None:
    """Coverage, fewest groups split (proven by the flows' pass ``first``), least km: one MIP.

    Returned only when the km are proven too
    (:func:`tutormatch.solve._groups_km.least_km_with_groups`); None otherwise
    (the engine then decides, from the flows' plan).
    """
    from tutormatch.solve._fair import criteria_entries
    from tutormatch.solve._groups import groups_split
    from tutormatch.solve._groups_km import least_km_with_groups
    from tutormatch.solve._solve import plan_from_free_pairs

    if [c.name for c in criteria] != ["coverage", "groups", "km"] or base.status is not Status.OPTIMAL:
        return None
    entry = next((c for c in first.criteria if c["name"] == "groups"), None)
    if entry is None or not entry["proven"]:
        return None
    started = time.perf_counter()
    max_split = math.floor(criteria[1].limit(float(entry["value"])) + 1e-9)
    # Half the time left, as the engine's own tries: unproven, the engine goes on from the flows' plan.
    until = started + max(deadline - started, 0.02) / 2
    found = least_km_with_groups(problem, options, coverage=coverage_int, max_split=max_split, deadline=until)
    if found is None or not found.proven:
        return None
    plan = plan_from_free_pairs(
        problem,
        found.tutor,
        found.establishment,
        status=Status.OPTIMAL,
        solver="groups-km-mip",
        message="ordered criteria: groups proven (flows), km proven (MIP on group columns, HiGHS, after "
        f"reduced-cost fixing: {found.columns:,} columns)",
        stats={"columns": found.columns, "km_bound_int": found.km_bound},
        started=started,
    )
    if groups_split(plan) > max_split or not math.isclose(
        plan.covered_priority, base.covered_priority, rel_tol=1e-12, abs_tol=1e-9
    ):
        return None  # pragma: no cover - the MIP keeps both
    values, _ = criteria_entries(plan, [(c, True, math.nan) for c in criteria])
    return dataclasses.replace(plan, criteria=values)


def _reserve(network: Network, time_limit: float) -> float:
    """Return the seconds the phases leave before the time limit to build the plan and its reports.

    Measured on the example académie (63,295 pairs): about 0.25 s after the
    last phase (the plan, its uncovered reasons, criteria and the euros of
    the price of fairness), growing with the pairs; at most a tenth of the
    time limit.
    """
    return min(_RESERVE_SECONDS + _RESERVE_PER_ARC * network.n_arcs, 0.1 * time_limit)


def _by_flows(
    problem: Problem,
    network: Network,
    base: Assignment,
    coverage: Criterion,
    phases: list[Criterion],
    coverage_int: int,
    deadline: float,
    fast: Callable[..., Assignment | None],
    started: float,
    names: list[str],
    *,
    groups_hard: bool,
    without: Callable[[], Assignment],
    cost_model: CostModel,
) -> Assignment | frozenset[int]:
    """Solve the ordered criteria on a large network by flows (:mod:`tutormatch.solve._lexico_flows`).

    Returns the plan, or the remote classes its remote pairs could not be split in.
    """
    from tutormatch.solve._fair import criteria_entries
    from tutormatch.solve._lexico_flows import solve_by_flows
    from tutormatch.solve._remote import split_remote
    from tutormatch.solve._solve import plan_from_network

    result, done, n_flows = solve_by_flows(
        problem,
        network,
        phases,
        coverage_int=coverage_int,
        deadline=deadline,
        fast=fast,
        groups_hard=groups_hard,
        cost_model=cost_model,
    )
    if result is None:  # hard groups whose chosen tutors cannot meet the minimum loads
        from tutormatch.solve._solve import _no_plan

        message = "ordered criteria by flows: no plan found with one tutor a group (minimum loads)"
        empty = BackendResult.without_solution(network, Status.NO_SOLUTION, message)
        return _no_plan(problem, "lexico-flows", empty, {}, time.perf_counter() - started)
    proven = (groups_hard or base.status is Status.OPTIMAL) and all(p.proven for p in done)
    parts = [f"{p.criterion.name} {'proven' if p.proven else 'not proven'} ({p.method})" for p in done]
    why = (
        "a network too large for the CP-SAT model"
        if is_large(network, tuple(names), groups_hard)
        else "first"
    )
    message = f"ordered criteria by flows ({why}): " + ", ".join(parts)
    result = dataclasses.replace(
        result, status=Status.OPTIMAL if proven else Status.FEASIBLE, message=message
    )
    split = split_remote(network, result.z, result.y)
    if split.failed_classes:
        return split.failed_classes
    stats = {"flows": n_flows, "phases": [p.method for p in done], "arcs": network.n_arcs}
    plan = plan_from_network(
        problem,
        network,
        result,
        split.tutor,
        split.establishment,
        solver="lexico-flows",
        stats=stats,
        started=started,
    )
    plan = dataclasses.replace(plan, cost_model=base.cost_model)
    # Hard groups: coverage is a phase of its own.
    solved: list[tuple[Criterion, bool, float]] = (
        [] if groups_hard else [(coverage, base.status is Status.OPTIMAL, math.nan)]
    )
    solved += [(p.criterion, p.proven, p.bound) for p in done]
    values, gap = criteria_entries(plan, solved)
    if not proven:
        plan = dataclasses.replace(plan, bound=math.nan, gap=gap)
    return dataclasses.replace(
        plan,
        criteria=values,
        fairness=_fairness(plan, without(), names),
        solve_seconds=time.perf_counter() - started,
    )


def _with_flow_bounds(
    values: tuple[dict[str, Any], ...], flow_bounds: dict[str, float]
) -> tuple[tuple[dict[str, Any], ...], float]:
    """Return the criteria with the better of each unproven phase's bounds (CP-SAT's, the flows').

    The flows' bounds hold for every plan of most priority, hence for the
    plans each phase allows: a value that meets one is proven.
    """
    from tutormatch.solve._criteria import MAXIMISED

    out: list[dict[str, Any]] = []
    gap = math.nan
    for entry in values:
        entry = dict(entry)
        name = entry["name"]
        if not entry["proven"] and name in flow_bounds:
            sign = -1.0 if name in MAXIMISED else 1.0
            bound = entry.get("bound", math.nan)
            fb = flow_bounds[name]
            if not math.isfinite(bound) or sign * fb > sign * bound:
                bound = fb
            entry["bound"] = bound
            if sign * entry["value"] <= sign * bound + 1e-9 * max(1.0, abs(bound)):
                entry["proven"] = True
                del entry["bound"]
        if not entry["proven"] and not math.isfinite(gap):
            bound, value = entry.get("bound", math.nan), entry["value"]
            gap = abs(value - bound) / abs(value) if math.isfinite(bound) and value else math.nan
        out.append(entry)
    return tuple(out), gap


def _message(done: list[_Phase]) -> str:
    parts = [f"{p.criterion.name} {'proven' if p.proven else 'not proven'} ({p.method})" for p in done]
    return "ordered criteria: " + ", ".join(parts)


def _criteria_values(
    plan: Assignment, coverage: Criterion, done: list[_Phase], lm: LexicoModel, groups_hard: bool
) -> tuple[tuple[dict[str, Any], ...], float]:
    """Each criterion's entry of the engine's plan, its CP-SAT bound read back in the criterion's unit."""
    from tutormatch.solve._fair import criteria_entries

    def bound(p: _Phase) -> float:
        if p.proven or not math.isfinite(p.bound):
            return math.nan
        return float(lm.terms[p.criterion.name].to_value(math.ceil(p.bound - 1e-9)))

    solved: list[tuple[Criterion, bool, float]] = [] if groups_hard else [(coverage, True, math.nan)]
    return criteria_entries(plan, solved + [(p.criterion, p.proven, bound(p)) for p in done])


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
