r"""Flows, max flows and duals for the ordered criteria on large networks: proven bounds, and exact pruning.

Notes
-----
Used by :mod:`tutormatch.solve._lexico_flows` (see its notes for the
arguments). Covered priority is a weighted matroid rank (a gammoid): the
most priority a set of pair arcs can cover is one max flow per priority
level, each on the establishments of at least that priority (min loads
dropped: a relaxation). Thresholds on a per-arc key are prefixes of the
arcs sorted by key, searched with the min cut's jumps as in
:mod:`tutormatch.solve._bottleneck`. Complementary slackness on an optimal
dual of the coverage flow tells the pairs no plan of most priority uses and
the establishments every such plan covers.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import numpy.typing as npt

from tutormatch.solve._backend import BackendResult
from tutormatch.solve._network import Network
from tutormatch.solve._status import Status

__all__ = [
    "LevelFlows",
    "bottleneck_floor",
    "coverage_certificate",
    "covered_int",
    "covering_flow",
    "level_graph",
    "min_cost_flow_on",
    "must_cover",
    "relaxed_priority",
    "threshold_floor",
    "two_long_floor",
]

IntArray = npt.NDArray[np.int64]


def min_cost_flow_on(
    network: Network, cost: IntArray | None = None, mask: Any = None
) -> BackendResult | None:
    """Return the min-cost flow of ``network`` (costs ``cost``, arcs ``mask``), arcs on the whole network."""
    from tutormatch.solve._flow import FlowBackend
    from tutormatch.solve._options import SolveOptions

    sub = network if cost is None else dataclasses.replace(network, arc_cost=cost)
    if mask is not None:
        sub = sub.restricted(mask)
    result = FlowBackend().solve(sub, SolveOptions())
    if result.status is not Status.OPTIMAL:
        return None
    if mask is None:
        return result
    used = np.zeros(network.n_arcs, dtype=bool)
    used[np.flatnonzero(mask)[result.arc_used]] = True
    return dataclasses.replace(result, arc_used=used)


def level_graph(network: Network, arcs: IntArray) -> tuple[IntArray, IntArray, IntArray, int]:
    """Max-flow arcs source -> establishment -> (class ->) tutor -> sink on ``arcs`` (min loads dropped)."""
    n_e, n_c, n_t = network.n_establishments, network.n_classes, network.n_tutors
    source, sink = n_e + n_c + n_t, n_e + n_c + n_t + 1
    hub0, tutor0 = n_e, n_e + n_c
    active = np.flatnonzero(network.active)
    has_class = active[network.remote_class[active] >= 0]
    tails = np.concatenate(
        (np.full(len(active), source), has_class, hub0 + network.link_class, tutor0 + np.arange(n_t))
    )
    heads = np.concatenate(
        (active, hub0 + network.remote_class[has_class], tutor0 + network.link_tutor, np.full(n_t, sink))
    )
    caps = np.concatenate(
        (
            np.ones(len(active) + len(has_class), dtype=np.int64),
            network.capacity[network.link_tutor],
            np.maximum(network.capacity, 0),
        )
    )
    tails = np.concatenate((tails, network.arc_establishment[arcs]))
    heads = np.concatenate((heads, tutor0 + network.arc_tutor[arcs]))
    caps = np.concatenate((caps, np.ones(len(arcs), dtype=np.int64)))
    return tails, heads, caps, source


class LevelFlows:
    """Max flows per priority level on the arcs of ``key <= v``: the most priority they can cover.

    Covered priority is a weighted matroid rank (a gammoid): one max flow per
    priority level, each on the establishments of at least that priority, min
    loads dropped (a relaxation). Each level's graph is built once, its pair
    arcs sorted by key: a threshold is a prefix (as in
    :mod:`tutormatch.solve._bottleneck`).
    """

    MAX_LEVELS = 6

    def __init__(self, network: Network, key: IntArray) -> None:
        prio = network.priority_int
        self.levels = np.unique(prio[network.active & (prio > 0)])
        self.steps = np.diff(np.concatenate(([0], self.levels)))
        self.graphs: list[
            tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], IntArray, IntArray, int, int]
        ] = []
        self.tests = 0
        if len(self.levels) > self.MAX_LEVELS:
            return
        order = np.argsort(key, kind="stable")
        for level in self.levels.tolist():
            member = network.active & (prio >= level)
            arcs = order[member[network.arc_establishment[order]]]
            sub = dataclasses.replace(network, active=member)
            tails, heads, caps, source = level_graph(sub, arcs)
            n_fixed = len(tails) - len(arcs)
            self.graphs.append(
                (tails.astype(np.int32), heads.astype(np.int32), caps, key[arcs], n_fixed, source)
            )

    @property
    def fits(self) -> bool:
        """Whether there are few enough priority levels for the max flows."""
        return len(self.graphs) == len(self.levels)

    def rank(self, k: int, v: int) -> tuple[int, Any, int]:
        """Level ``k``'s rank on the arcs of ``key <= v``, the solved max flow and its arc count."""
        from ortools.graph.python import max_flow

        tails, heads, caps, keys, n_fixed, source = self.graphs[k]
        n = n_fixed + int(np.searchsorted(keys, v, side="right"))
        g = max_flow.SimpleMaxFlow()
        g.add_arcs_with_capacity(tails[:n], heads[:n], caps[:n])
        g.solve(source, source + 1)
        self.tests += 1
        return int(g.optimal_flow()), g, n

    def ranks(self, v: int, target: int = 0) -> list[int]:
        """Each level's rank under ``v``, stopping once the priority cannot reach ``target``."""
        out: list[int] = []
        bound = [int(s) * 10**18 for s in self.steps]
        for k in range(len(self.graphs)):
            r, _, _ = self.rank(k, v)
            out.append(r)
            for j in range(k, len(bound)):
                bound[j] = min(bound[j], int(self.steps[j]) * r)
            if sum(bound) < target:
                break
        return out

    def priority(self, ranks: list[int]) -> int:
        return int(sum(int(s) * r for s, r in zip(self.steps, ranks, strict=False)))

    def least(self, values: IntArray, target: int) -> int | None:
        """Return the least of the sorted ``values`` whose arcs may cover ``target`` (None: not the last)."""
        top = self.ranks(int(values[-1]), target)
        if len(top) < len(self.graphs) or self.priority(top) < target:
            return None
        if self.priority(top) > target:
            lo, hi = 0, len(values) - 1
            while lo < hi:
                mid = (lo + hi) // 2
                got = self.ranks(int(values[mid]), target)
                if len(got) == len(self.graphs) and self.priority(got) >= target:
                    hi = mid
                else:
                    lo = mid + 1
            return int(values[lo])
        # Tight at the top: reaching the target is keeping every level's rank.
        lo = 0
        for k, need in enumerate(top):
            lo = self._least_keeping(k, need, values, lo, len(values) - 1)
        return int(values[lo])

    def _least_keeping(self, k: int, need: int, values: IntArray, lo: int, hi: int) -> int:
        """Return the least index in ``[lo, hi]`` where level ``k`` keeps rank ``need`` (true at ``hi``)."""
        tails, heads, _, keys, n_fixed, _ = self.graphs[k]
        mid = lo
        while lo < hi:
            rank, g, n = self.rank(k, int(values[mid]))
            if rank >= need:
                # The flow uses pairs up to its largest key only: the rank holds there already.
                used = np.flatnonzero(g.flows(np.arange(n_fixed, n, dtype=np.int32)))
                largest = int(keys[used[-1]]) if len(used) else int(values[0])
                hi = min(mid, int(np.searchsorted(values, largest)))
            else:
                # The min cut's capacity grows by one for each new pair arc that crosses it.
                short = need - rank
                firsts = []
                for sink_side in (False, True):
                    nodes = g.get_sink_side_min_cut() if sink_side else g.get_source_side_min_cut()
                    side = np.zeros(int(max(tails.max(), heads.max())) + 1, dtype=bool)
                    side[np.asarray(nodes, dtype=np.int64)] = True
                    if sink_side:
                        side = ~side
                    where = np.flatnonzero(side[tails[n:]] & ~side[heads[n:]])
                    if len(where) < short:  # pragma: no cover - the rank is reached at ``hi``
                        raise RuntimeError("a max flow's rank fell between two keys")
                    firsts.append(int(keys[n - n_fixed + where[short - 1]]))
                lo = max(mid + 1, int(np.searchsorted(values, max(firsts))))
            mid = (lo + hi) // 2 if lo < hi else lo
        return lo


def relaxed_priority(network: Network, mask: npt.NDArray[np.bool_]) -> int | None:
    """Return the most priority the arcs of ``mask`` can cover, min loads dropped (None: many levels)."""
    levels = LevelFlows(network, np.where(mask, 0, 1).astype(np.int64))
    if not levels.fits:
        return None
    return levels.priority(levels.ranks(0))


def threshold_floor(
    network: Network, key: IntArray, floor: int, target: int, top: int | None = None
) -> int | None:
    """Return the least ``v >= floor`` whose arcs ``key <= v`` may cover ``target`` (a proven bound).

    ``top``: a value known to keep ``target`` (a plan's), or None. None when
    even every arc cannot (no bound).
    """
    values = np.unique(np.concatenate((key[key > floor], [floor])))
    if top is not None:
        values = values[values <= max(top, floor)]
        values = np.unique(np.concatenate((values, [max(top, floor)])))
    levels = LevelFlows(network, key)
    if levels.fits:
        return levels.least(values, target)
    # More priority levels than max flows: min-cost flows.  # pragma: no cover
    if covering_flow(network, key <= values[-1], target) is None:
        return None
    lo, hi = 0, len(values) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if covering_flow(network, key <= values[mid], target) is not None:
            hi = mid
        else:
            lo = mid + 1
    return int(values[lo])


def bottleneck_floor(
    network: Network, key: IntArray, floor: int, target: int, top: int | None = None
) -> tuple[int, BackendResult] | None:
    """Return the least ``v >= floor`` whose arcs ``key <= v`` cover ``target`` with the minimum loads kept.

    One search, two tests: the max flows of :func:`threshold_floor` (minimum
    loads dropped) give a value no larger than the answer, usually the
    answer; min-cost flows on the network without its all-or-nothing rule
    (minimum loads kept) then gallop up from it, so ``v`` is a lower bound on
    the largest key of any plan that covers ``target`` and meets the
    minimum loads. Returned with the flow at ``v`` (arcs on the whole
    network). None when even every arc cannot.
    """
    start = threshold_floor(network, key, floor, target, top=top)
    if start is None:
        return None
    relaxed = network.relaxed()
    values = np.unique(np.concatenate((key[key > start], [start])))
    if top is not None:
        values = np.unique(np.concatenate((values[values <= max(top, start)], [max(top, start)])))

    def test(i: int) -> BackendResult | None:
        return covering_flow(relaxed, key <= values[i], target)

    # Galloping from the max flows' answer (the minimum loads rarely move it), then bisection.
    lo, hi, step = 0, len(values) - 1, 1
    found: tuple[int, BackendResult] | None = None
    i = 0
    while True:
        got = test(i)
        if got is not None:
            found, hi = (i, got), i
            break
        lo = i + 1
        if i == len(values) - 1:
            return None  # the minimum loads cannot be met with the coverage, even on every arc
        i = min(i + step, len(values) - 1)
        step *= 2
    while lo < hi:
        mid = (lo + hi) // 2
        got = test(mid)
        if got is not None:
            found, hi = (mid, got), mid
        else:
            lo = mid + 1
    return int(values[found[0]]), found[1]


def _two_long_keep(network: Network, amount: IntArray, base: IntArray, limit: int, target: int) -> bool:
    """Whether a yearly ``limit`` may keep ``target`` priority: pairs within it, one "long" pair a tutor.

    A relaxation: a tutor's pairs each fit in ``limit`` less their fixed km,
    and two pairs longer than half of that would exceed it, so each tutor
    takes at most one (a node of capacity one in front of the tutor).
    """
    from ortools.graph.python import max_flow

    n_t = network.n_tutors
    room = limit - base[network.arc_tutor]
    fits = amount <= room
    short = fits & (2 * amount <= room)
    long_ = fits & ~short
    prio = network.priority_int
    values = np.unique(prio[network.active & (prio > 0)])
    steps = np.diff(np.concatenate(([0], values)))
    bound = [int(x) * int((network.active & (prio >= v)).sum()) for x, v in zip(steps, values, strict=True)]
    for k, level in enumerate(values.tolist()):
        member = network.active & (prio >= level)
        sub = dataclasses.replace(network, active=member)
        in_member = member[network.arc_establishment]
        tails, heads, caps, source = level_graph(sub, np.flatnonzero(short & in_member))
        half0 = source + 2  # one node a tutor: its long pairs, at most one
        tutor0 = network.n_establishments + network.n_classes
        arcs = np.flatnonzero(long_ & in_member)
        tails = np.concatenate((tails, network.arc_establishment[arcs], half0 + np.arange(n_t)))
        heads = np.concatenate((heads, half0 + network.arc_tutor[arcs], tutor0 + np.arange(n_t)))
        caps = np.concatenate((caps, np.ones(len(arcs) + n_t, dtype=np.int64)))
        g = max_flow.SimpleMaxFlow()
        g.add_arcs_with_capacity(tails.astype(np.int32), heads.astype(np.int32), caps)
        g.solve(source, source + 1)
        rank = int(g.optimal_flow())
        for j in range(k, len(bound)):
            bound[j] = min(bound[j], int(steps[j]) * rank)
        if sum(bound) < target:
            return False
    return True


def two_long_floor(
    network: Network, amount: IntArray, base: IntArray, lo: int, hi: int, target: int, until: float
) -> int:
    """Raise the proven floor ``lo`` of the worst year by :func:`_two_long_keep` (bisection to ``hi``).

    Stops at ``until`` or when the interval is within 0.1 %; returns the
    least limit not proven too small (a lower bound on the worst year).
    """
    while lo < hi and hi - lo > hi // 1000 and time.perf_counter() < until:
        mid = (lo + hi) // 2
        if _two_long_keep(network, amount, base, mid, target):
            hi = mid
        else:
            lo = mid + 1
    return lo


def covering_flow(
    network: Network, mask: Any, target: int, cost: IntArray | None = None
) -> BackendResult | None:
    """Return the min-cost flow on the arcs of ``mask`` if it covers ``target`` (arcs on the network)."""
    result = min_cost_flow_on(network, cost, mask)
    if result is None:
        return None
    return result if covered_int(network, result) >= target else None


def covered_int(network: Network, result: BackendResult) -> int:
    covered = np.zeros(network.n_establishments, dtype=bool)
    covered[network.arc_establishment[result.arc_used]] = True
    covered |= result.z
    return int(network.priority_int[covered & network.active].sum())


def must_cover(network: Network, target: int) -> npt.NDArray[np.bool_]:
    """Return the establishments covered by every plan that covers ``target`` priority (see the notes).

    None are claimed when the flow without minimum loads covers more than
    ``target`` (the plans of ``target`` are then not its optima).
    """
    return coverage_certificate(network, target)[0]


def coverage_certificate(
    network: Network, target: int
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Return the establishments every plan of ``target`` priority covers, and the arcs some may use.

    Complementary slackness on an optimal dual of the coverage flow: an arc
    whose reduced cost is positive carries no flow in any optimal flow. Claims
    nothing (nothing covered for sure, every arc usable) when the flow without
    minimum loads covers more than ``target``.
    """
    from ortools.graph.python import min_cost_flow

    from tutormatch.solve._duals import residual_potentials

    n_e = network.n_establishments
    active = np.flatnonzero(network.active)
    tails, heads, caps, source = level_graph(network, np.arange(network.n_arcs))
    sink = source + 1
    # The bypass source -> sink is "uncovered"; an establishment's arc from the source costs -priority.
    n_bypass = len(active)
    costs = np.zeros(len(tails), dtype=np.int64)
    costs[:n_bypass] = -network.priority_int[active]
    tails = np.concatenate((tails, [source]))
    heads = np.concatenate((heads, [sink]))
    caps = np.concatenate((caps, [n_bypass]))
    costs = np.concatenate((costs, [0]))
    g = min_cost_flow.SimpleMinCostFlow()
    g.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32), caps, costs)
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[source], supplies[sink] = n_bypass, -n_bypass
    g.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    out = np.zeros(n_e, dtype=bool)
    usable = np.ones(network.n_arcs, dtype=bool)
    if g.solve() != g.OPTIMAL or -g.optimal_cost() != target:
        return out, usable
    flows = np.asarray(g.flows(np.arange(len(tails), dtype=np.int32)), dtype=np.int64)
    d = residual_potentials(sink + 1, tails, heads, caps, costs, flows)
    # Leaving e uncovered moves one unit from the arc source -> e to the bypass: its reduced
    # cost is the cost of the cycle e -> ... -> sink -> source in the residual graph.
    reduced = -costs[:n_bypass] + d[active] - d[source]
    # Flow on source -> e at its capacity: the reverse residual arc e -> source has cost
    # +priority; with potentials d, positive reduced cost means no optimal flow leaves it.
    out[active] = (flows[:n_bypass] > 0) & (reduced > 0)
    # The pair arcs come last in the graph (establishment -> tutor, cost 0).
    first = len(tails) - 1 - network.n_arcs
    pair = slice(first, first + network.n_arcs)
    usable = d[tails[pair]] - d[heads[pair]] <= 0
    return out, usable
