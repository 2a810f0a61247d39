r"""OR-Tools min-cost flow: exact and fastest when there are no side constraints.

Notes
-----
The network of :mod:`tutormatch.solve._network` is a flow network: each
establishment node has supply 1 and sends it to the sink through a tutor
(direct arc, cost :math:`c_a`), through its remote class and then a tutor
(cost :math:`r_e`), or straight to the sink when uncovered. Tutor -> sink
arcs carry the capacity; a minimum load :math:`m_t` is a demand of
:math:`m_t` at the tutor node. Min-cost flow solves this exactly with
integer flows (total unimodularity); OR-Tools uses cost scaling,
:math:`O(n^2 m \log(nC))` in the worst case and near-linear in practice on
these bipartite graphs.

The lexicographic objective is solved without a big M (which would make
:math:`\log C` span ~45 bits), by two flows on small integers:

1. *coverage*: cost :math:`p_e` on each uncovered arc, 0 elsewhere; its
   optimum :math:`U^*` is the least uncovered priority;
2. *cost*: the flows of cost :math:`U^*` at level 1 are exactly the feasible
   flows in complementary slackness with level 1's optimal potentials
   :math:`\pi` (:mod:`tutormatch.solve._duals`): an arc of positive reduced
   cost carries nothing, of negative reduced cost its capacity, of zero
   reduced cost anything. Level 2 fixes the first two kinds and minimises
   the yearly cost over the free arcs (uncovered arcs cost 0 there).

The result equals the big-M composite optimum; ``objective`` is reported in
that composite form (:math:`M U^* + \text{cost}`) for the other backends.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import numpy.typing as npt

from tutormatch.solve._backend import BackendResult, Capabilities
from tutormatch.solve._duals import residual_potentials
from tutormatch.solve._network import Network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._status import Status

__all__ = ["FlowBackend"]

IntArray = npt.NDArray[np.int64]

_WEIGHT_FACTOR = 64  # coverage weight of the first try, in units of the dearest arc


def _min_cost_flow(
    tails: npt.NDArray[np.int64],
    heads: npt.NDArray[np.int64],
    caps: npt.NDArray[np.int64],
    costs: npt.NDArray[np.int64],
    supplies: npt.NDArray[np.int64],
) -> tuple[object, npt.NDArray[np.int64]]:
    """Solve one min-cost flow with OR-Tools; return its status and the flows."""
    from ortools.graph.python import min_cost_flow

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
        # Cost-level potentials of the last solve: pricing rounds change few
        # arcs, so the next certificate starts from them.
        self._last_potentials: IntArray | None = None

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
                np.zeros(len(active), dtype=np.int64),  # level 2 prices coverage by its constraints
            )
        )
        n_active = len(active)
        supplies = np.zeros(sink + 1, dtype=np.int64)
        supplies[active] = 1
        supplies[tutor0 : tutor0 + n_t] = -network.min_load
        supplies[sink] = -(n_active - int(network.min_load.sum()))
        uncovered = slice(len(caps) - n_active, len(caps))
        priority_costs = np.zeros(len(caps), dtype=np.int64)
        priority_costs[uncovered] = network.priority_int[active]
        stats: dict[str, Any] = {"nodes": sink + 1, "arcs": len(tails)}
        flows: IntArray | None = None
        d1: IntArray | None = None
        priority = network.priority_int[active]
        if n_active and not network.min_load.any() and priority.min() == priority.max():
            flows = _cover_most(tails, heads, caps, costs, supplies, uncovered, stats)
        status = None
        if flows is None:
            status, flows, d1 = _weighted(tails, heads, caps, costs, priority_costs, supplies, stats)
        if status is None and flows is None:
            status, flows, d1 = self._two_levels(tails, heads, caps, costs, priority_costs, supplies, stats)
        if status is not None or flows is None:
            stats["seconds"] = time.perf_counter() - started
            return _status_result(network, status, stats)
        # The certificate: level-1 potentials, and level-2 potentials on the
        # arcs that level 1 leaves free (see the module notes).
        n_a, n_r, n_l = network.n_arcs, len(has_class), len(network.link_class)
        z = np.zeros(n_e, dtype=bool)
        z[has_class] = flows[n_a : n_a + n_r] > 0
        uncovered_priority = int(flows @ priority_costs)
        objective = int(flows @ costs) + network.big_m * uncovered_priority
        potentials = priority_potentials = None
        if self.want_potentials:
            started_duals = time.perf_counter()
            if d1 is None:
                d1 = residual_potentials(sink + 1, tails, heads, caps, priority_costs, flows)
            free = priority_costs + d1[tails] - d1[heads] == 0
            # From the last round's potentials when there was one (pricing
            # rounds change few arcs), else from scratch.
            d2 = residual_potentials(
                sink + 1,
                tails[free],
                heads[free],
                caps[free],
                costs[free],
                flows[free],
                self._last_potentials,
            )
            self._last_potentials = d2
            potentials = (d2[:n_e], d2[tutor0 : tutor0 + n_t])
            priority_potentials = (d1[:n_e], d1[tutor0 : tutor0 + n_t])
            stats["duals_seconds"] = time.perf_counter() - started_duals
        stats["seconds"] = time.perf_counter() - started
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
            priority_potentials=priority_potentials,
        )

    @staticmethod
    def _two_levels(
        tails: IntArray,
        heads: IntArray,
        caps: IntArray,
        costs: IntArray,
        priority_costs: IntArray,
        supplies: IntArray,
        stats: dict[str, Any],
    ) -> tuple[object | None, IntArray, IntArray]:
        """Two flows: the most covered priority, then the least cost among those plans.

        Returns the failed OR-Tools status (None when both solved), the flows
        and the level-1 potentials.
        """
        from ortools.graph.python import min_cost_flow

        mark = time.perf_counter()
        status, flows1, d1 = _coverage_level(tails, heads, caps, priority_costs, supplies)
        stats["coverage_seconds"] = time.perf_counter() - mark
        if status != min_cost_flow.SimpleMinCostFlow.OPTIMAL:
            return status, flows1, d1
        # The level-1 optima are exactly the flows in complementary slackness
        # with its optimal potentials: arcs of positive reduced cost empty,
        # of negative reduced cost full, the others free.
        reduced = priority_costs + d1[tails] - d1[heads]
        full, free = reduced < 0, reduced == 0
        supplies2 = supplies.copy()
        np.subtract.at(supplies2, tails[full], caps[full])
        np.add.at(supplies2, heads[full], caps[full])
        mark = time.perf_counter()
        status, flows2 = _min_cost_flow(tails[free], heads[free], caps[free], costs[free], supplies2)
        stats["cost_seconds"] = time.perf_counter() - mark
        flows = np.where(full, caps, 0)
        flows[free] = flows2
        return (None if status == min_cost_flow.SimpleMinCostFlow.OPTIMAL else status), flows, d1


def _cover_most(
    tails: IntArray,
    heads: IntArray,
    caps: IntArray,
    costs: IntArray,
    supplies: IntArray,
    uncovered: slice,
    stats: dict[str, Any],
) -> IntArray | None:
    """Equal priorities, no minimum load: one flow, the most establishments then the least cost.

    Without minimum loads, the sets of establishments a plan can cover are
    the independent sets of a transversal matroid: every maximal plan covers
    as many, and with equal priorities the most establishments is the most
    priority. None if OR-Tools fails (the caller then tries the other ways).
    """
    from ortools.graph.python import min_cost_flow

    mark = time.perf_counter()
    routes = slice(0, uncovered.start)
    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        tails[routes].astype(np.int32), heads[routes].astype(np.int32), caps[routes], costs[routes]
    )
    smcf.set_nodes_supplies(np.arange(len(supplies), dtype=np.int32), supplies)
    if smcf.solve_max_flow_with_min_cost() != smcf.OPTIMAL:
        return None
    flows = np.zeros(len(tails), dtype=np.int64)
    flows[routes] = smcf.flows(arcs)
    sent = np.zeros(len(supplies), dtype=np.int64)
    np.add.at(sent, tails[routes], flows[routes])
    flows[uncovered] = 1 - sent[tails[uncovered]]
    stats["method"] = "max flow, min cost"
    stats["cost_seconds"] = time.perf_counter() - mark
    return flows


def _weighted(
    tails: IntArray,
    heads: IntArray,
    caps: IntArray,
    costs: IntArray,
    priority_costs: IntArray,
    supplies: IntArray,
    stats: dict[str, Any],
) -> tuple[object | None, IntArray | None, IntArray | None]:
    r"""One flow with a moderate weight on coverage, kept only if proven lexicographic.

    Costs :math:`c + W p` with :math:`W = 64 \max c + 1` (cost scaling pays
    a few more bits, not the 45 of a big M). If the flow's residual graph
    admits level-1 potentials (no cycle that covers more priority), it covers
    the most priority, and being optimal for :math:`c + W p` it costs the
    least among such plans: the lexicographic optimum. Returns (failed status
    or None, flows or None when unproven, level-1 potentials).
    """
    from ortools.graph.python import min_cost_flow

    n_nodes = len(supplies)
    weight = _WEIGHT_FACTOR * int(costs.max(initial=0)) + 1
    if weight * int(priority_costs.max(initial=1)) * (n_nodes + 1) >= 2**62:
        return None, None, None  # too wide for 64 bits: two levels
    mark = time.perf_counter()
    status, flows = _min_cost_flow(tails, heads, caps, costs + weight * priority_costs, supplies)
    stats["weighted_seconds"] = time.perf_counter() - mark
    if status != min_cost_flow.SimpleMinCostFlow.OPTIMAL:
        return status, None, None
    try:
        d1 = residual_potentials(n_nodes, tails, heads, caps, priority_costs, flows)
    except RuntimeError:
        stats["method"] = "weighted flow (not lexicographic), then two levels"
        return None, None, None
    stats["method"] = "weighted flow, proven lexicographic"
    return None, flows, d1


def _coverage_level(
    tails: IntArray, heads: IntArray, caps: IntArray, priority_costs: IntArray, supplies: IntArray
) -> tuple[object, IntArray, IntArray]:
    """Level 1 (most covered priority): its status, an optimal flow and its potentials."""
    from ortools.graph.python import min_cost_flow

    status, flows = _min_cost_flow(tails, heads, caps, priority_costs, supplies)
    if status != min_cost_flow.SimpleMinCostFlow.OPTIMAL:
        return status, flows, np.zeros(len(supplies), dtype=np.int64)
    return status, flows, residual_potentials(len(supplies), tails, heads, caps, priority_costs, flows)


def _status_result(network: Network, status: object, stats: dict[str, Any]) -> BackendResult:
    """Build the result of a flow that OR-Tools did not solve to optimality."""
    from ortools.graph.python import min_cost_flow

    if status in (min_cost_flow.SimpleMinCostFlow.INFEASIBLE, min_cost_flow.SimpleMinCostFlow.UNBALANCED):
        return BackendResult.without_solution(
            network, Status.INFEASIBLE, "min-cost flow: no flow meets the minimum loads", **stats
        )
    return BackendResult.without_solution(
        network, Status.ERROR, f"min-cost flow ended with status {status!r}", **stats
    )
