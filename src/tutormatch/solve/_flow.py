r"""OR-Tools min-cost flow: exact and fastest when there are no side constraints.

Notes
-----
The network of :mod:`tutormatch.solve._network` is a flow network: each
establishment node has supply 1 and sends it to the sink through a tutor
(direct arc, cost :math:`c_a`), through its remote class and then a tutor
(cost :math:`r_e`), or straight to the sink when uncovered (cost
:math:`M p_e`). Tutor -> sink arcs carry the capacity; a minimum load
:math:`m_t` is a demand of :math:`m_t` at the tutor node. Min-cost flow
solves this exactly with integer flows (total unimodularity); OR-Tools uses
cost scaling, :math:`O(n^2 m \log(nC))` in the worst case and near-linear in
practice on these bipartite graphs.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from tutormatch.solve._backend import BackendResult, Capabilities
from tutormatch.solve._duals import coverage_is_maximal, residual_potentials
from tutormatch.solve._network import Network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._status import Status

__all__ = ["FlowBackend"]


_SMALL_M_FACTOR = 4  # first-try weight of uncovered priority, in units of the dearest arc


def _min_cost_flow(
    tails: npt.NDArray[np.int64],
    heads: npt.NDArray[np.int64],
    caps: npt.NDArray[np.int64],
    costs: npt.NDArray[np.int64],
    supplies: npt.NDArray[np.int64],
) -> tuple[object, npt.NDArray[np.int64]]:
    """Solve one min-cost flow with OR-Tools; return its status and the flows."""
    smcf = min_cost_flow.SimpleMinCostFlow()
    if len(tails) == 0:
        status = smcf.OPTIMAL if not supplies.any() else smcf.INFEASIBLE
        return status, np.zeros(0, dtype=np.int64)
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps, costs
    )
    smcf.set_nodes_supplies(np.arange(len(supplies), dtype=np.int32), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        return status, np.zeros(len(tails), dtype=np.int64)
    return status, np.asarray(smcf.flows(arcs), dtype=np.int64)


class FlowBackend:
    """Min-cost flow on the establishment -> tutor network (OR-Tools)."""

    name = "flow"
    capabilities = Capabilities(all_or_nothing=False, time_limit=False)

    def __init__(self, *, potentials: bool = False) -> None:
        self.want_potentials = potentials

    def solve(self, network: Network, options: SolveOptions) -> BackendResult:
        """Solve ``network`` to optimality; see the module notes."""
        del options  # exact, no tuning
        started = time.perf_counter()
        n_e, n_c, n_t = network.n_establishments, network.n_classes, network.n_tutors
        hub0, tutor0 = n_e, n_e + n_c
        sink = n_e + n_c + n_t
        active = np.flatnonzero(network.active)
        has_class = active[network.remote_class[active] >= 0]
        tails = np.concatenate(
            (
                network.arc_establishment,
                has_class,
                hub0 + network.link_class,
                tutor0 + np.arange(n_t),
                active,
            )
        )
        heads = np.concatenate(
            (
                tutor0 + network.arc_tutor,
                hub0 + network.remote_class[has_class],
                tutor0 + network.link_tutor,
                np.full(n_t, sink),
                np.full(len(active), sink),
            )
        )
        caps = np.concatenate(
            (
                np.ones(network.n_arcs, dtype=np.int64),
                np.ones(len(has_class), dtype=np.int64),
                network.capacity[network.link_tutor],
                network.capacity - network.min_load,
                np.ones(len(active), dtype=np.int64),
            )
        )
        costs = np.concatenate(
            (
                network.arc_cost,
                network.remote_cost[has_class],
                np.zeros(len(network.link_class), dtype=np.int64),
                np.zeros(n_t, dtype=np.int64),
                network.uncovered_cost[active],
            )
        )
        n_active = len(active)
        supplies = np.zeros(sink + 1, dtype=np.int64)
        supplies[active] = 1
        supplies[tutor0 : tutor0 + n_t] = -network.min_load
        supplies[sink] = -(n_active - int(network.min_load.sum()))
        uncovered = slice(len(caps) - n_active, len(caps))
        priority = network.priority_int[active]
        # The big M makes cost scaling slow (its cost range spans ~45 bits).
        # Solve first with a small M; if the flow then covers the most
        # priority (checked exactly), it is the lexicographic optimum, else
        # solve again with the big M.
        small_m = _SMALL_M_FACTOR * int(max(costs[: uncovered.start].max(initial=0), 1)) + 1
        attempts = [small_m, network.big_m] if small_m < network.big_m else [network.big_m]
        for m in attempts:
            costs[uncovered] = m * priority
            status, flows = _min_cost_flow(tails, heads, caps, costs, supplies)
            if status != min_cost_flow.SimpleMinCostFlow.OPTIMAL or m == network.big_m:
                break
            q_costs = np.zeros(len(caps), dtype=np.int64)
            q_costs[uncovered] = priority
            if coverage_is_maximal(sink + 1, sink, tails, heads, caps, flows, q_costs):
                break
        costs[uncovered] = network.uncovered_cost[active]
        seconds = time.perf_counter() - started
        stats = {"nodes": sink + 1, "arcs": len(tails), "seconds": seconds, "uncovered_weight": m}
        if status in (min_cost_flow.SimpleMinCostFlow.INFEASIBLE, min_cost_flow.SimpleMinCostFlow.UNBALANCED):
            return BackendResult.without_solution(
                network,
                Status.INFEASIBLE,
                "min-cost flow: no flow meets the minimum loads",
                **stats,
            )
        if status != min_cost_flow.SimpleMinCostFlow.OPTIMAL:
            return BackendResult.without_solution(
                network, Status.ERROR, f"min-cost flow ended with status {status!r}", **stats
            )
        n_a, n_r, n_l = network.n_arcs, len(has_class), len(network.link_class)
        z = np.zeros(n_e, dtype=bool)
        z[has_class] = flows[n_a : n_a + n_r] > 0
        objective = int(flows @ costs) if len(tails) else 0
        potentials = None
        if self.want_potentials:
            started_duals = time.perf_counter()
            d = residual_potentials(sink + 1, tails, heads, caps, costs, flows)
            potentials = (d[:n_e], d[tutor0 : tutor0 + n_t])
            stats["duals_seconds"] = time.perf_counter() - started_duals
        return BackendResult(
            status=Status.OPTIMAL,
            message="min-cost flow: optimal",
            arc_used=flows[:n_a] > 0,
            z=z,
            y=flows[n_a + n_r : n_a + n_r + n_l],
            objective=objective,
            bound=float(objective),
            stats=stats,
            potentials=potentials,
        )
