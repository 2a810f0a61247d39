r"""All-or-nothing loads by branch and bound over tutors, with min-cost flows as bounds.

Notes
-----
"Each tutor takes no establishment or exactly their capacity" breaks the flow
structure, but only through one binary decision per tutor: open (load
:math:`= k_t`) or closed (load :math:`= 0`). Once every tutor is decided, the
rest is again a min-cost flow (an open tutor is a demand of :math:`k_t`, a
closed one has no capacity). The search therefore branches on tutors only:

- a node fixes some tutors open and some closed and solves the flow
  relaxation of the others (load anywhere in :math:`[0, k_t]`): its optimum
  is a lower bound for every plan below the node (same lexicographic
  composite objective as :mod:`tutormatch.solve._network`);
- if no undecided tutor is partly loaded the node's plan is feasible;
  otherwise the search branches on one partly loaded tutor (open / closed);
- at each node a rounding heuristic (keep the full tutors open, close the
  others) gives a feasible plan, which is always possible because the
  relaxation's own pairs restricted to its full tutors are one;
- nodes are explored best bound first; the search stops when the best open
  bound reaches the incumbent (optimal) or at the time limit, keeping the
  incumbent with the proven bound (status ``FEASIBLE`` and its gap).

Every node costs one flow, a few milliseconds at académie scale.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import time
from itertools import count

import numpy as np
import numpy.typing as npt

from tutormatch.solve._backend import BackendResult, Capabilities
from tutormatch.solve._flow import FlowBackend
from tutormatch.solve._network import Network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._status import Status

__all__ = ["BranchAndBoundBackend"]

_ROUNDING_ATTEMPTS = 2  # rounding passes that keep idle tutors free before closing them

IntArray = npt.NDArray[np.int64]


def _loads(network: Network, result: BackendResult) -> IntArray:
    return network.free_loads(result.arc_used, result.y)


@dataclasses.dataclass(frozen=True)
class _Node:
    open: frozenset[int]
    closed: frozenset[int]


class BranchAndBoundBackend:
    """Exact all-or-nothing loads: branch on tutors, bound with min-cost flows."""

    name = "flow-bb"
    capabilities = Capabilities(all_or_nothing=True, time_limit=True)

    def __init__(self, *, max_nodes: int = 100_000) -> None:
        self.max_nodes = max_nodes
        self._flow = FlowBackend()

    def _relax(self, network: Network, node: _Node) -> tuple[Network, BackendResult]:
        capacity = network.capacity.copy()
        min_load = network.min_load.copy()
        if node.closed:
            capacity[list(node.closed)] = 0
        if node.open:
            opened = list(node.open)
            min_load[opened] = capacity[opened]
        sub = dataclasses.replace(network, capacity=capacity, min_load=min_load, all_or_nothing=False)
        return sub, self._flow.solve(sub, SolveOptions())

    def _root(self, network: Network) -> _Node | None:
        # Tutors with fixed pairs or a minimum load must be open; tutors
        # without capacity left are irrelevant.
        must_open = np.flatnonzero(
            ((network.fixed_load > 0) | (network.min_load > 0)) & (network.full_capacity > 0)
        )
        if (network.fixed_load[must_open] > network.full_capacity[must_open]).any():
            return None
        return _Node(open=frozenset(must_open.tolist()), closed=frozenset())

    def solve(self, network: Network, options: SolveOptions) -> BackendResult:
        """Search as described in the module notes."""
        if not network.all_or_nothing:
            return self._flow.solve(network, options)
        started = time.perf_counter()
        deadline = started + options.time_limit if math.isfinite(options.time_limit) else math.inf
        root = self._root(network)
        if root is None:
            return BackendResult.without_solution(
                network, Status.INFEASIBLE, "all-or-nothing: fixed pairs exceed a capacity"
            )
        tick = count()
        heap: list[tuple[int, int, _Node, BackendResult, IntArray]] = []
        best: BackendResult | None = None
        nodes = flows = 0

        def undecided_partial(node: _Node, loads: IntArray, sub: Network) -> IntArray:
            partial = (loads > 0) & (loads < sub.capacity)
            if node.open:
                partial[list(node.open)] = False
            return np.flatnonzero(partial)

        def consider(node: _Node) -> None:
            nonlocal best, flows
            sub, relaxed = self._relax(network, node)
            flows += 1
            if not relaxed.status.has_solution:
                return
            assert relaxed.objective is not None
            if best is not None and best.objective is not None and relaxed.objective >= best.objective:
                return
            loads = _loads(sub, relaxed)
            partial = undecided_partial(node, loads, sub)
            if len(partial) == 0:
                best = relaxed
                return
            # Rounding: keep the full tutors open, close the partly loaded
            # ones, let the idle ones absorb what is freed; repeat while that
            # creates new partial loads, then close every idle tutor too (the
            # relaxation's pairs of its full tutors always remain feasible).
            rounded, r_loads, r_partial, r_sub = node, loads, partial, sub
            for attempt in range(_ROUNDING_ATTEMPTS + 1):
                full = np.flatnonzero((r_loads == r_sub.capacity) & (r_loads > 0))
                closing = (
                    r_partial if attempt < _ROUNDING_ATTEMPTS else np.flatnonzero(r_loads < r_sub.capacity)
                )
                rounded = _Node(
                    open=rounded.open | frozenset(full.tolist()),
                    closed=rounded.closed | frozenset(closing.tolist()),
                )
                r_sub, feasible = self._relax(network, rounded)
                flows += 1
                if not feasible.status.has_solution or feasible.objective is None:
                    break
                r_loads = _loads(r_sub, feasible)
                r_partial = undecided_partial(rounded, r_loads, r_sub)
                if len(r_partial) == 0:
                    if best is None or best.objective is None or feasible.objective < best.objective:
                        best = feasible
                    break
            heapq.heappush(heap, (relaxed.objective, next(tick), node, relaxed, partial))

        consider(root)
        while heap and nodes < self.max_nodes and time.perf_counter() < deadline:
            bound, _, node, _relaxed, partial = heapq.heappop(heap)
            if best is not None and best.objective is not None and bound >= best.objective:
                heap.clear()
                break
            nodes += 1
            tutor = int(partial[0])
            consider(_Node(open=node.open | {tutor}, closed=node.closed))
            consider(_Node(open=node.open, closed=node.closed | {tutor}))
        seconds = time.perf_counter() - started
        stats = {"nodes": nodes, "flows": flows, "seconds": seconds}
        if best is None or best.objective is None:
            if not heap:
                return BackendResult.without_solution(
                    network, Status.INFEASIBLE, "all-or-nothing: no plan meets the loads", **stats
                )
            return BackendResult.without_solution(
                network, Status.NO_SOLUTION, "all-or-nothing: limit reached before any plan", **stats
            )
        open_bound = min([float(h[0]) for h in heap], default=math.inf)
        proven = float(best.objective) if not heap else min(open_bound, float(best.objective))
        optimal = not heap or open_bound >= best.objective
        message = (
            f"branch and bound on tutors: optimal after {nodes} nodes ({flows} flows)"
            if optimal
            else f"branch and bound on tutors: limit reached after {nodes} nodes ({flows} flows)"
        )
        return dataclasses.replace(
            best,
            status=Status.OPTIMAL if optimal else Status.FEASIBLE,
            message=message,
            bound=float(best.objective) if optimal else proven,
            stats=stats,
            potentials=None,
        )
