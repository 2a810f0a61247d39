r"""OR-Tools CP-SAT: the same model, plus side constraints the flow cannot carry.

Notes
-----
Variables and constraints are those of :mod:`tutormatch.solve._network`:
one boolean per direct arc and per remote-capable establishment, one
integer per (class, tutor) link, one "uncovered" boolean per establishment.
All-or-nothing loads add one boolean :math:`w_t` per tutor with
:math:`\text{load}_t = k_t w_t` (or :math:`= k_t` when the tutor already has
fixed pairs). With side constraints, the min-cost flow without them gives a
lower bound (added as a constraint) and a hint; CP-SAT then proves optimality
or stops at the time limit with its best plan and bound. For all-or-nothing
loads the matching and branch-and-bound backends are much faster; CP-SAT is
the general fallback for side constraints to come (budgets, groups).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from tutormatch.solve._backend import BackendResult, Capabilities
from tutormatch.solve._flow import FlowBackend
from tutormatch.solve._network import Network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._status import Status

__all__ = ["CpSatBackend"]


def _group(keys: np.ndarray, n: int) -> list[np.ndarray]:
    """Return the indices of ``keys`` grouped by value 0..n-1."""
    order = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[order], np.arange(n + 1))
    return [order[bounds[i] : bounds[i + 1]] for i in range(n)]


class CpSatBackend:
    """CP-SAT on the sparse pair model (OR-Tools)."""

    name = "cpsat"
    capabilities = Capabilities(all_or_nothing=True, time_limit=True)

    def __init__(self, hint: BackendResult | None = None) -> None:
        self.hint = hint

    @staticmethod
    def _late(network: Network, started: float, doing: str) -> BackendResult:
        """Return "no plan": the time limit passed before the search started (never a guess)."""
        return BackendResult.without_solution(
            network,
            Status.NO_SOLUTION,
            f"CP-SAT: time limit reached while {doing}, before any search",
            seconds=time.perf_counter() - started,
        )

    def solve(self, network: Network, options: SolveOptions) -> BackendResult:
        """Solve ``network``; see the module notes."""
        started = time.perf_counter()
        deadline = started + options.time_limit  # inf without a limit
        from ortools.sat.python import cp_model  # 0.3 s to import: only when CP-SAT runs

        model = cp_model.CpModel()
        n_e, n_t = network.n_establishments, network.n_tutors
        n_a, n_l = network.n_arcs, len(network.link_class)
        x = [model.new_bool_var(f"x{a}") for a in range(n_a)]
        y = [model.new_int_var(0, int(network.capacity[network.link_tutor[i]]), f"y{i}") for i in range(n_l)]
        z: dict[int, Any] = {}
        u: dict[int, Any] = {}
        arcs_of_e = _group(network.arc_establishment, n_e)
        arcs_of_t = _group(network.arc_tutor, n_t)
        links_of_t = _group(network.link_tutor, n_t)
        links_of_c = _group(network.link_class, network.n_classes)
        members_of_c: list[list[Any]] = [[] for _ in range(network.n_classes)]
        for i, e in enumerate(np.flatnonzero(network.active).tolist()):
            if i % 1024 == 0 and time.perf_counter() > deadline:
                return self._late(network, started, "building the model")
            terms = [x[a] for a in arcs_of_e[e].tolist()]
            if network.remote_class[e] >= 0:
                z[e] = model.new_bool_var(f"z{e}")
                terms.append(z[e])
                members_of_c[int(network.remote_class[e])].append(z[e])
            u[e] = model.new_bool_var(f"u{e}")
            model.add_exactly_one([*terms, u[e]])
        for c in range(network.n_classes):
            model.add(sum(members_of_c[c]) == sum(y[i] for i in links_of_c[c].tolist()))
        for t in range(n_t):
            if t % 1024 == 0 and time.perf_counter() > deadline:
                return self._late(network, started, "building the model")
            load = sum(x[a] for a in arcs_of_t[t].tolist()) + sum(y[i] for i in links_of_t[t].tolist())
            cap, low = int(network.capacity[t]), int(network.min_load[t])
            if network.all_or_nothing and network.full_capacity[t] > 0:
                if network.fixed_load[t] > 0:
                    model.add(load == cap)
                else:
                    model.add_linear_expression_in_domain(load, cp_model.Domain.from_values([0, cap]))
            if low > 0:
                model.add(load >= low)
            # Each link alone may carry the whole capacity, so only a tutor
            # with few arcs and no link can skip the constraint.
            if len(links_of_t[t]) or cap < len(arcs_of_t[t]):
                model.add(load <= cap)
        objective = (
            sum(int(c) * x[a] for a, c in enumerate(network.arc_cost.tolist()) if c)
            + sum(int(network.remote_cost[e]) * var for e, var in z.items())
            + sum(int(network.uncovered_cost[e]) * var for e, var in u.items())
        )
        model.minimize(objective)
        # The min-cost flow without the side constraints is a relaxation: its
        # optimum bounds the objective from below (a cut CP-SAT would have to
        # find) and its plan is a hint the search repairs.
        # Without side constraints the flow's plan is only a hint, so that
        # CP-SAT still checks the flow independently (tests compare them).
        hint = self.hint
        if hint is None:
            if time.perf_counter() > deadline:
                return self._late(network, started, "building the model")
            relaxed = FlowBackend().solve(network.relaxed(), options)
            if relaxed.objective is not None:
                hint = relaxed
                if network.has_side_constraints:
                    model.add(objective >= relaxed.objective)
        if hint is not None and hint.objective is not None:
            for a in range(n_a):
                model.add_hint(x[a], bool(hint.arc_used[a]))
            for e, var in z.items():
                model.add_hint(var, bool(hint.z[e]))
            for i in range(n_l):
                model.add_hint(y[i], int(hint.y[i]))
        build_seconds = time.perf_counter() - started
        if time.perf_counter() > deadline:
            return self._late(network, started, "building the model and its flow relaxation")

        solver = cp_model.CpSolver()
        params = solver.parameters
        if math.isfinite(options.time_limit):
            params.max_time_in_seconds = max(deadline - time.perf_counter(), 0.001)
        params.num_workers = options.num_workers
        params.random_seed = options.random_seed
        params.relative_gap_limit = options.relative_gap
        params.absolute_gap_limit = 0.0 if options.relative_gap == 0 else params.absolute_gap_limit
        params.log_search_progress = options.log
        if options.deterministic and options.num_workers > 1:
            params.interleave_search = True
        code = solver.solve(model)
        stats = {
            "variables": len(model.proto.variables),
            "constraints": len(model.proto.constraints),
            "build_seconds": build_seconds,
            "seconds": time.perf_counter() - started,
            "branches": solver.num_branches,
            "conflicts": solver.num_conflicts,
        }
        message = f"CP-SAT: {solver.status_name(code)}"
        if code == cp_model.INFEASIBLE:
            return BackendResult.without_solution(network, Status.INFEASIBLE, message, **stats)
        if code == cp_model.MODEL_INVALID:
            return BackendResult.without_solution(
                network, Status.INVALID, message + f" ({model.validate()})", **stats
            )
        if code == cp_model.UNKNOWN:
            return BackendResult.without_solution(network, Status.NO_SOLUTION, message, **stats)
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return BackendResult.without_solution(network, Status.ERROR, message, **stats)
        used = np.array([solver.boolean_value(v) for v in x], dtype=bool)
        z_arr = np.zeros(n_e, dtype=bool)
        for e, var in z.items():
            z_arr[e] = solver.boolean_value(var)
        y_arr = np.array([solver.value(v) for v in y], dtype=np.int64)
        objective = round(solver.objective_value)
        bound = float(solver.best_objective_bound)
        optimal = code == cp_model.OPTIMAL and (options.relative_gap == 0 or bound >= objective)
        return BackendResult(
            status=Status.OPTIMAL if optimal else Status.FEASIBLE,
            message=message,
            arc_used=used,
            z=z_arr,
            y=y_arr,
            objective=objective,
            bound=float(objective) if optimal else bound,
            stats=stats,
        )
