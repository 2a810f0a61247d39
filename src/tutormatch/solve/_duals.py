r"""Node potentials of an optimal flow: the certificate that lets us prune pairs.

Notes
-----
A flow is optimal if and only if its residual graph has no negative cycle;
then the shortest-path distances :math:`d` from a virtual root joined to every
node by a zero-cost arc are *potentials*: every residual arc
:math:`u \to v` of cost :math:`c` has a non-negative reduced cost
:math:`c + d_u - d_v`. An arc left out of the model (an establishment ->
tutor pair that was not a candidate) can only improve the plan if its reduced
cost is negative, so checking the left-out pairs against :math:`d` proves
the plan optimal for the full problem, or names the pairs to add.

Ways to the distances:

- when every negative residual arc leaves one node :math:`s` (the coverage
  level of :mod:`tutormatch.solve._flow`: only the sink re-opens uncovered
  establishments), :math:`d_s = 0` (a path into :math:`s` that used a
  negative arc would close a cycle through :math:`s`), so the distances are
  one multi-source Dijkstra on the non-negative arcs, compiled in
  :func:`scipy.sparse.csgraph.dijkstra`, each head :math:`w` of a negative
  arc starting at :math:`c_{sw}` instead of 0 (exact in floating point while
  path lengths stay below :math:`2^{52}`); when moreover every other arc
  costs 0 but those into :math:`s` (the coverage level exactly), one
  breadth-first search per negative value instead, which sorts no arc;
- from the potentials of a nearby flow (the previous pricing round's), by
  passes of Dijkstra: each pass relaxes the arcs of negative reduced cost
  once, then runs one compiled multi-source Dijkstra over the arcs of
  non-negative reduced cost, from the lowered nodes only and pruned where
  nothing improves (``limit``); the potentials then absorb the distances, so
  an arc repaired in one pass is a Dijkstra arc in the next. The passes
  needed are the violated arcs on a shortest path, not its length: on
  towns without a limit, 36 passes where Bellman-Ford below needs 637
  rounds, 2x faster;
- otherwise a frontier Bellman-Ford in integer arithmetic: each round relaxes
  only the arcs leaving nodes whose distance just changed, so the work
  follows the alternating chains of the optimal flow rather than
  :math:`O(VE)` (scipy's Bellman-Ford sweeps every arc each round and was
  40x slower on national residual graphs, whose chains are long). From
  scratch it beats the passes of Dijkstra, whose every arc is violated at
  first.

The potentials are then checked on every residual arc, so a wrong
certificate is an error, never a wrong proof.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["residual_potentials"]

IntArray = npt.NDArray[np.int64]

_FLOAT_EXACT = 2**52  # float64 holds every integer path length below this
_MAX_LEVELS = 8  # priority values of the coverage level searched breadth-first, one search each


def _arcs_of(nodes: IntArray, indptr: IntArray) -> tuple[IntArray, IntArray]:
    """Return the indices of the arcs leaving ``nodes`` in a tail-sorted arc list, and their counts."""
    starts = indptr[nodes]
    counts = indptr[nodes + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64), counts
    offsets = np.repeat(starts - np.cumsum(counts) + counts, counts)
    return np.asarray(np.arange(total, dtype=np.int64) + offsets, dtype=np.int64), counts


def _residual_arcs(
    tails: IntArray, heads: IntArray, capacities: IntArray, costs: IntArray, flows: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Return the residual arcs of a flow (tail, head, cost), unsorted."""
    forward = flows < capacities
    backward = flows > 0
    tail = np.concatenate((tails[forward], heads[backward])).astype(np.int64)
    head = np.concatenate((heads[forward], tails[backward])).astype(np.int64)
    cost = np.concatenate((costs[forward], -costs[backward])).astype(np.int64)
    return tail, head, cost


def _one_source_levels(n_nodes: int, tail: IntArray, head: IntArray, cost: IntArray) -> IntArray | None:
    """Distances when every arc of non-zero cost leaves or enters the one source of the negative arcs.

    The coverage level's residual graph: the sink re-opens uncovered
    establishments at minus their priority, and every other arc costs 0
    except the uncovered arcs into the sink. The sink stays at 0 (see the
    module notes), so a node's distance is the most negative of the
    negative arcs whose head reaches it by arcs of cost 0 that avoid the
    sink: one compiled breadth-first search per priority value, from the
    heads of that value and all lower ones, with no sort of the arcs (the
    Dijkstra below sorts them all: 3.5 s at 6.9 M pairs). None when the
    graph is not of this shape or has many priority values.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import breadth_first_order

    negative = cost < 0
    source = int(tail[negative][0])
    touches = (tail == source) | (head == source)
    if (cost[~touches] != 0).any() or (cost[touches & ~negative] < 0).any():
        return None
    values, level = np.unique(cost[negative], return_inverse=True)  # most negative first
    if len(values) > _MAX_LEVELS:
        return None
    root = n_nodes
    zero = ~touches
    # The root's arcs go to the heads of the negative arcs, by level: the
    # first b of them are the heads of the levels up to j.
    order = np.argsort(level, kind="stable")
    heads = head[negative][order]
    ends = np.searchsorted(level[order], np.arange(len(values)), side="right")
    graph = sp.csr_array(
        (np.ones(int(zero.sum())), (tail[zero], head[zero])), shape=(n_nodes + 1, n_nodes + 1)
    )
    n_zero = int(graph.indptr[-1])
    indices = np.concatenate((graph.indices, heads)).astype(graph.indices.dtype)
    data = np.ones(len(indices))
    distance = np.zeros(n_nodes, dtype=np.int64)
    for j in range(len(values) - 1, -1, -1):  # the least negative first, lowered by the next
        stop = n_zero + int(ends[j])
        indptr = np.concatenate((graph.indptr[:-1], [stop])).astype(graph.indptr.dtype)
        sweep = sp.csr_array((data[:stop], indices[:stop], indptr), shape=(n_nodes + 1, n_nodes + 1))
        reached = breadth_first_order(sweep, root, directed=True, return_predecessors=False)
        reached = reached[reached != root]
        distance[reached] = values[j]
    distance[source] = 0
    return distance


def _one_source_dijkstra(n_nodes: int, tail: IntArray, head: IntArray, cost: IntArray) -> IntArray:
    """Distances from the virtual root when every negative arc leaves one node."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    negative = cost < 0
    lift = int(-cost[negative].min())
    root = n_nodes
    # The root reaches every node at 0 and each negative arc's head at its cost
    # (both lifted by ``lift`` to stay non-negative).
    tail = np.concatenate((tail[~negative], np.full(n_nodes + int(negative.sum()), root)))
    head = np.concatenate((head[~negative], np.arange(n_nodes, dtype=np.int64), head[negative]))
    weight = np.concatenate((cost[~negative], np.full(n_nodes, lift), cost[negative] + lift))
    order = np.argsort(tail, kind="stable")
    indptr = np.searchsorted(tail[order], np.arange(n_nodes + 2))
    # Explicit zeros are arcs in scipy.sparse.csgraph (only dense input drops
    # them); parallel arcs stay separate entries, each one relaxed.
    graph = sp.csr_array(
        (weight[order].astype(np.float64), head[order], indptr), shape=(n_nodes + 1, n_nodes + 1)
    )
    distance = np.asarray(dijkstra(graph, indices=root), dtype=np.float64)[:n_nodes]
    return np.asarray(np.rint(distance).astype(np.int64) - lift, dtype=np.int64)


def _frontier_bellman_ford(
    n_nodes: int, tail: IntArray, head: IntArray, cost: IntArray, start: IntArray | None = None
) -> IntArray:
    """Distances from a virtual root joined to every node at cost 0 (or ``start``), in integers."""
    order = np.argsort(tail, kind="stable")
    tail, head, cost = tail[order], head[order], cost[order]
    indptr = np.searchsorted(tail, np.arange(n_nodes + 1)).astype(np.int64)
    if start is None:
        distance = np.zeros(n_nodes, dtype=np.int64)
        # Only nodes with a negative arc out can lower anything in the first round.
        active = np.unique(tail[cost < 0])
    else:
        distance = np.minimum(start, 0).astype(np.int64)
        active = np.unique(tail[cost + distance[tail] - distance[head] < 0])
    for _ in range(n_nodes + 1):
        if len(active) == 0:
            return distance
        arcs, counts = _arcs_of(active, indptr)
        # The arcs of each active node are contiguous: repeat its distance
        # rather than gather it once per arc.
        reach = np.repeat(distance[active], counts) + cost[arcs]
        target = head[arcs]
        better = reach < distance[target]
        if not better.any():
            return distance
        distance, active = _lowered(distance, target[better], reach[better])
    raise RuntimeError("the residual graph has a negative cycle: the flow is not optimal")


def _dijkstra_passes(
    n_nodes: int, tail: IntArray, head: IntArray, cost: IntArray, start: IntArray
) -> IntArray:
    """Potentials from ``start`` by passes of Dijkstra on the reduced costs (see the module notes).

    Falls back to the frontier Bellman-Ford (from the potentials reached)
    where path lengths could leave the integers that a float64 holds.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    potential = np.minimum(start, 0).astype(np.int64)
    order = np.argsort(tail, kind="stable")
    tail, head, cost = tail[order], head[order], cost[order]
    root, n_arcs = n_nodes, len(tail)
    # The graph's arcs, then the root's arc to every node (weights set each pass).
    indices = np.concatenate((head, np.arange(n_nodes, dtype=np.int64)))
    indptr = np.concatenate((np.searchsorted(tail, np.arange(n_nodes + 1)), [n_arcs + n_nodes]))
    weight = np.empty(n_arcs + n_nodes, dtype=np.float64)
    # No simple path costs less than -n max|c|: below that, a negative cycle
    # (said at once rather than after n passes).
    floor = int(potential.min()) - (n_nodes + 1) * int(np.abs(cost).max(initial=0))
    for _ in range(n_nodes + 1):
        if int(potential.min()) < floor:
            break
        reduced = cost + potential[tail] - potential[head]
        violated = reduced < 0
        if not violated.any():
            return potential
        # Relax the violated arcs once from 0: the nodes they lower seed the pass.
        seed = np.zeros(n_nodes, dtype=np.int64)
        np.minimum.at(seed, head[violated], reduced[violated])
        lift = -int(seed.min())
        if lift + (n_nodes + 1) * int(reduced.max()) >= _FLOAT_EXACT:
            return _frontier_bellman_ford(n_nodes, tail, head, cost, potential)
        weight[:n_arcs] = np.where(violated, np.inf, reduced)
        weight[n_arcs:] = np.where(seed < 0, seed + lift, np.inf)
        graph = sp.csr_array((weight, indices, indptr), shape=(n_nodes + 1, n_nodes + 1))
        # Paths of length >= lift lower nothing: Dijkstra stops there.
        distance = np.asarray(dijkstra(graph, indices=root, limit=lift), dtype=np.float64)[:n_nodes]
        lowered = np.isfinite(distance)
        potential[lowered] += np.minimum(np.rint(distance[lowered]).astype(np.int64) - lift, 0)
    raise RuntimeError("the residual graph has a negative cycle: the flow is not optimal")


def residual_potentials(
    n_nodes: int,
    tails: IntArray,
    heads: IntArray,
    capacities: IntArray,
    costs: IntArray,
    flows: IntArray,
    start: IntArray | None = None,
) -> IntArray:
    r"""Return potentials certifying an optimal flow (see the module notes).

    Parameters
    ----------
    n_nodes : int
    tails, heads, capacities, costs, flows : ndarray of int
        The arcs of the network and an optimal flow on them.
    start : ndarray of int, optional
        Potentials of a nearby flow (the previous pricing round's): passes
        of Dijkstra start from them (capped at 0) and only repair the arcs
        they violate. The result is then *a* certificate
        (every residual reduced cost non-negative), not necessarily the
        shortest distances.

    Returns
    -------
    ndarray of int64
        :math:`d_v \le 0` per node, with :math:`c + d_u - d_v \ge 0` on every
        residual arc.

    Raises
    ------
    RuntimeError
        If the residual graph has a negative cycle (the flow was not optimal).
    """
    tail, head, cost = _residual_arcs(tails, heads, capacities, costs, flows)
    negative = cost < 0
    if not negative.any():
        return np.zeros(n_nodes, dtype=np.int64)
    one_source = bool((tail[negative] == tail[negative][0]).all())
    if start is not None and len(start) == n_nodes:
        start = _tight_sources(n_nodes, tails, heads, costs, flows, start)
        distance = _dijkstra_passes(n_nodes, tail, head, cost, start)
    elif one_source and (levels := _one_source_levels(n_nodes, tail, head, cost)) is not None:
        distance = levels
    elif one_source and int(np.abs(cost).max()) * (n_nodes + 1) < _FLOAT_EXACT:
        distance = _one_source_dijkstra(n_nodes, tail, head, cost)
    else:
        start = _tight_sources(n_nodes, tails, heads, costs, flows, np.zeros(n_nodes, dtype=np.int64))
        distance = _frontier_bellman_ford(n_nodes, tail, head, cost, start)
    if (cost + distance[tail] - distance[head] < 0).any():
        raise RuntimeError("the residual graph has a negative cycle: the flow is not optimal")
    return distance


def _tight_sources(
    n_nodes: int, tails: IntArray, heads: IntArray, costs: IntArray, flows: IntArray, start: IntArray
) -> IntArray:
    r"""Return ``start`` (capped at 0) with each source node at the highest potential its flow allows.

    A node :math:`u` without arcs in (an establishment) has residual arcs in
    only as the reverses of its used arcs :math:`u \to v`, which need
    :math:`d_u \le d_v - c_{uv}`; its own arcs out prefer :math:`d_u` high.
    So :math:`d_u = \min(0, \min_v (d_v - c_{uv}))` is the best start: taken
    from an earlier flow's potentials, where the establishment has changed
    tutor since, it saves the search from lowering it arc by arc (and all
    that follows from it).
    """
    out = np.minimum(start, 0).astype(np.int64)
    source = np.bincount(heads, minlength=n_nodes) == 0
    used = (flows > 0) & source[tails]
    best = np.zeros(n_nodes, dtype=np.int64)
    np.minimum.at(best, tails[used], out[heads[used]] - costs[used])
    out[source] = best[source]
    return out


def _lowered(distance: IntArray, nodes: IntArray, reach: IntArray) -> tuple[IntArray, IntArray]:
    """Lower the distances of ``nodes`` to ``reach`` where smaller; return them and the nodes lowered."""
    updated = distance.copy()
    np.minimum.at(updated, nodes, reach)
    return updated, np.flatnonzero(updated < distance)
