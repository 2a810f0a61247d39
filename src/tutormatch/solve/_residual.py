r"""The residual graph of a plan: which moves the flow could still make.

Nodes are the establishments (``0 .. E-1``), the tutors (``E .. E+T-1``) and
the remote classes (``E+T ..``). Arcs, with their cost in km-equivalent:

- ``e -> t`` for each eligible on-site pair not in the plan (its cost);
- ``e -> class(e)`` for a remote-friendly establishment (its remote cost)
  and ``class -> t`` for the tutors linked to the class (0);
- ``t -> e`` for each pair of the plan that is not fixed (minus its cost):
  taking ``e`` away from ``t``.

A path from an uncovered establishment to a tutor with room is a way to
cover it; its cost is the change in yearly travel. The graph is built from
the plan and the problem's candidates only, so it does not depend on how a
backend modelled the flow. Remote class arcs ignore the rare own-establishment
and forbidden exceptions inside a class: the graph proposes, exact re-solves
decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from tutormatch.model._eligibility import MODE_ONSITE, pair_keys

if TYPE_CHECKING:
    import scipy.sparse as sp

    from tutormatch.solve._assignment import Assignment

__all__ = ["Residual", "build_residual"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Residual:
    """The residual graph of a plan (see the module's notes).

    Attributes
    ----------
    graph : scipy.sparse.csr_array
        Arc costs in units of ``cost_unit_km`` (whole numbers; explicit zeros
        are arcs).
    n_establishments, n_tutors : int
    covered : ndarray of bool
        Per establishment.
    movable : ndarray of bool
        Per establishment: covered by a pair that is not fixed.
    spare : ndarray of bool
        Per tutor: load below capacity.
    cost_unit_km : float
        km-equivalent per cost unit (the solver's resolution).
    """

    graph: sp.csr_array
    n_establishments: int
    n_tutors: int
    covered: BoolArray
    movable: BoolArray
    spare: BoolArray
    cost_unit_km: float

    def tutor_node(self, tutor: IntArray | int) -> IntArray:
        """Node of tutor rows."""
        return np.asarray(tutor, dtype=np.int64) + self.n_establishments

    def reach(self, sources: IntArray) -> BoolArray:
        """Return a (len(sources), n_nodes) mask of the nodes each source reaches."""
        from scipy.sparse.csgraph import breadth_first_order

        n = self.graph.shape[0]
        out = np.zeros((len(sources), n), dtype=bool)
        for i, s in enumerate(np.asarray(sources, dtype=np.int64).tolist()):
            out[i, breadth_first_order(self.graph, s, directed=True, return_predecessors=False)] = True
        return out

    def exit_value(self, priority: FloatArray) -> FloatArray:
        """Return the best way out of each node, as a priority change.

        0 if the node reaches a tutor with room, else minus the least priority
        of a movable establishment it reaches (``-inf``: none). A new arc
        ``u -> node`` then gains ``priority[u] + exit_value[node]``.
        """
        import scipy.sparse as sp  # imported on use: `import tutormatch` stays cheap
        from scipy.sparse.csgraph import breadth_first_order

        n = self.graph.shape[0]
        value = np.full(n, -np.inf)
        ends_node = np.concatenate(
            (self.tutor_node(np.flatnonzero(self.spare)), np.flatnonzero(self.movable))
        )
        ends_value = np.concatenate(
            (np.zeros(int(self.spare.sum())), -priority[np.flatnonzero(self.movable)].astype(np.float64))
        )
        if not len(ends_node):
            return value
        levels = np.unique(ends_value)[::-1][:12]  # a few best levels: the rest is -inf (no proposal)
        # Reverse graph plus one virtual node linked to the ends of a level.
        reverse = self.graph.T.tocsr()
        for level in levels:
            ends = ends_node[ends_value >= level]
            links = sp.csr_array((np.ones(len(ends)), (np.full(len(ends), n), ends)), shape=(n + 1, n + 1))
            grown = sp.csr_array(sp.block_diag((reverse, sp.csr_array((1, 1)))).tocsr() + links)
            hit = breadth_first_order(grown, n, directed=True, return_predecessors=False)
            hit = hit[hit < n]
            fresh = hit[value[hit] == -np.inf]
            value[fresh] = level
        return value


def build_residual(plan: Assignment) -> Residual:
    """Build the residual graph of ``plan`` (see the module's notes)."""
    import scipy.sparse as sp  # imported on use: `import tutormatch` stays cheap

    p = plan.problem
    n_e, n_t = p.n_establishments, p.n_tutors
    cand = p.candidates
    n_c = cand.n_classes
    n = n_e + n_t + n_c
    onsite_used = plan.mode == MODE_ONSITE
    used_keys = pair_keys(plan.tutor[onsite_used], plan.establishment[onsite_used], n_e)
    free = ~np.isin(pair_keys(cand.tutor, cand.establishment, n_e), used_keys)
    forward_cost = p.pair_cost_km(cand.establishment[free], cand.distance_km[free])
    has_class = np.flatnonzero(cand.remote_class >= 0)
    movable_pair = ~plan.is_fixed
    rows = np.concatenate(
        (
            cand.establishment[free],
            has_class,
            n_e + n_t + cand.link_class,
            n_e + plan.tutor[movable_pair],
        )
    )
    cols = np.concatenate(
        (
            n_e + cand.tutor[free],
            n_e + n_t + cand.remote_class[has_class],
            n_e + cand.link_tutor,
            plan.establishment[movable_pair],
        )
    )
    cost = np.concatenate(
        (
            forward_cost,
            p.remote_cost_km[has_class],
            np.zeros(len(cand.link_tutor)),
            -plan.cost_km[movable_pair],
        )
    )
    # Costs in the solver's integer units (exact in float64): the plan is
    # optimal for these, so the graph has no negative cycle.
    unit = float(plan.stats.get("cost_unit_km", 0.001) or 0.001)
    cost = np.round(cost / unit)
    # Duplicates would be summed by the sparse constructor: keep the cheapest.
    order = np.lexsort((cost, cols, rows))
    rows, cols, cost = rows[order], cols[order], cost[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    graph = sp.csr_array((cost[first], (rows[first], cols[first])), shape=(n, n))
    covered = np.zeros(n_e, dtype=bool)
    covered[plan.establishment] = True
    movable = np.zeros(n_e, dtype=bool)
    movable[plan.establishment[movable_pair]] = True
    spare = plan.loads < p.tutors.capacity
    return Residual(graph, n_e, n_t, covered, movable, spare, unit)
