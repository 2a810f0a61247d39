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
from ortools.graph.python import min_cost_flow

from tutormatch.solve._backend import BackendResult, Capabilities
from tutormatch.solve._duals import residual_potentials
from tutormatch.solve._network import Network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._status import Status

__all__ = ["FlowBackend"]


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
        # With equal priorities and no minimum load, "cover most, then spend
        # least" is exactly a max-flow of least cost: OR-Tools solves it
        # without the big-M uncovered arcs, whose huge costs slow cost scaling.
        by_max_flow = (
            bool(n_active and np.all(network.priority_int[active] == network.priority_int[active[0]]))
            and not network.min_load.any()
        )
        solve_caps = caps.copy()
        if by_max_flow:
            solve_caps[len(caps) - n_active :] = 0
        smcf = min_cost_flow.SimpleMinCostFlow()
        if len(tails):
            arcs = smcf.add_arcs_with_capacity_and_unit_cost(
                tails.astype(np.int32), heads.astype(np.int32), solve_caps, costs
            )
        else:
            arcs = np.empty(0, dtype=np.int64)
        supplies = np.zeros(sink + 1, dtype=np.int64)
        supplies[active] = 1
        supplies[tutor0 : tutor0 + n_t] = -network.min_load
        supplies[sink] = -(n_active - int(network.min_load.sum()))
        if len(tails):
            smcf.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
            status = smcf.solve_max_flow_with_min_cost() if by_max_flow else smcf.solve()
        else:
            status = smcf.OPTIMAL if supplies[sink] == 0 else smcf.INFEASIBLE
        seconds = time.perf_counter() - started
        stats = {"nodes": sink + 1, "arcs": len(tails), "seconds": seconds, "max_flow_form": by_max_flow}
        if status == smcf.INFEASIBLE or status == smcf.UNBALANCED:
            return BackendResult.without_solution(
                network,
                Status.INFEASIBLE,
                "min-cost flow: no flow meets the minimum loads",
                **stats,
            )
        if status != smcf.OPTIMAL:
            return BackendResult.without_solution(
                network, Status.ERROR, f"min-cost flow ended with status {status!r}", **stats
            )
        flows = np.asarray(smcf.flows(arcs), dtype=np.int64) if len(tails) else np.zeros(0, np.int64)
        if by_max_flow:
            # Read the plan back in the big-M form: an establishment that sent
            # nothing uses its uncovered arc. Costs and potentials then mean
            # the same in both forms.
            sent = np.zeros(sink + 1, dtype=np.int64)
            np.add.at(sent, tails[: len(caps) - n_active], flows[: len(caps) - n_active])
            flows[len(caps) - n_active :] = 1 - sent[active]
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
