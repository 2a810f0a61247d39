r"""Flow presolve of the conflicts: feasibility of any subset of the user's constraints by one max flow.

Notes
-----
For a subset :math:`C` of the named constraints (minimum loads, fixed pairs,
all-or-nothing loads), each tutor needs

.. math:: n_t = \max(m_t [\text{min load of } t \in C],\; f_t),

raised to its capacity :math:`k_t` when its all-or-nothing rule is in
:math:`C` and :math:`n_t > 0` (:math:`f_t` its fixed pairs in :math:`C`,
whose establishments are reserved). The constraints of :math:`C` hold
together if and only if a maximum flow source :math:`\to` tutor (capacity
:math:`n_t - f_t`) :math:`\to` establishment (eligible pairs, 1) :math:`\to`
sink (1) saturates every tutor: a load may exceed :math:`n_t` only where it
need not, and under all-or-nothing :math:`n_t = k_t` is the whole load. The
*deficit* is what the flow misses.

By max-flow min-cut, the tutors :math:`R` on the source side of a minimum cut
use every establishment they may take (no other tutor uses one), and every
tutor outside :math:`R` is saturated: only constraints of :math:`R` (and
fixed pairs that hold establishments :math:`R` may take) can lower the
deficit. A relaxation restores a plan only if the amounts it frees cover the
deficit (:func:`deficit_cut`): a valid inequality that lets CP-SAT prove the
fewest relaxed constraints, and a lower bound on its count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tutormatch.model._problem import Problem

__all__ = ["FlowCheck"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class FlowCheck:
    """Max-flow tests over the named constraints of an elastic model.

    ``names`` are ``(kind, tutor row, establishment row or -1)``; ``pair_tutor``
    and ``pair_establishment`` the pairs the tutors may take.
    """

    problem: Problem
    pair_tutor: IntArray
    pair_establishment: IntArray
    names: list[tuple[str, int, int]]

    @property
    def kind(self) -> npt.NDArray[np.str_]:
        return np.array([k for k, _, _ in self.names], dtype="U16").reshape(-1)

    @property
    def tutor(self) -> IntArray:
        return np.array([t for _, t, _ in self.names], dtype=np.int64).reshape(-1)

    @property
    def establishment(self) -> IntArray:
        return np.array([e for _, _, e in self.names], dtype=np.int64).reshape(-1)

    def needs(self, on: BoolArray) -> tuple[IntArray, IntArray, BoolArray]:
        """Return each tutor's need, its fixed pairs held, and the establishments reserved."""
        p = self.problem
        n_t = p.n_tutors
        kind, tutor, est = self.kind, self.tutor, self.establishment
        fixed_on = on & (kind == "fixed_pair")
        held = np.bincount(tutor[fixed_on], minlength=n_t).astype(np.int64)
        min_on = np.zeros(n_t, dtype=bool)
        min_on[tutor[on & (kind == "min_load")]] = True
        aon_on = np.zeros(n_t, dtype=bool)
        aon_on[tutor[on & (kind == "all_or_nothing")]] = True
        need = np.maximum(np.where(min_on, p.tutors.min_load, 0), held).astype(np.int64)
        need = np.where(aon_on & (need > 0), p.tutors.capacity, need).astype(np.int64)
        reserved = np.zeros(p.n_establishments, dtype=bool)
        reserved[est[fixed_on]] = True
        return need, held, reserved

    def _flow(self, on: BoolArray, extra: BoolArray | None = None) -> tuple[int, object, IntArray, IntArray]:
        """Max flow of the needs of ``on``; ``extra`` tutors may also take up to their capacity, after.

        Returns the deficit, the solver, the first pair arc and the source arcs.
        """
        from ortools.graph.python import max_flow, min_cost_flow

        p = self.problem
        n_t, n_e = p.n_tutors, p.n_establishments
        need, held, reserved = self.needs(on)
        want = np.minimum(need, p.tutors.capacity) - held
        over = int(np.maximum(need - p.tutors.capacity, 0).sum() + np.maximum(-want, 0).sum())
        want = np.maximum(want, 0)
        source, sink = n_t + n_e, n_t + n_e + 1
        keep = ~reserved[self.pair_establishment]
        room = want.copy()
        if extra is not None:
            room = np.where(extra, np.maximum(p.tutors.capacity - held, 0), want)
        keep &= room[self.pair_tutor] > 0
        tails, heads = self.pair_tutor[keep], n_t + self.pair_establishment[keep]
        tutors = np.arange(n_t, dtype=np.int64)
        if extra is None:
            flow = max_flow.SimpleMaxFlow()
            arcs = flow.add_arcs_with_capacity(np.full(n_t, source), tutors, want)
            first = flow.add_arcs_with_capacity(tails, heads, np.ones(len(tails), np.int64))
            flow.add_arcs_with_capacity(
                n_t + np.arange(n_e), np.full(n_e, sink), np.ones(n_e, dtype=np.int64)
            )
            flow.solve(source, sink)
            done = int(flow.optimal_flow())
        else:
            flow = min_cost_flow.SimpleMinCostFlow()
            # Two arcs a tutor: its need (cost 0), then the rest of its room
            # (cost 1): of all maximum flows, the cheapest meets every need.
            arcs = flow.add_arcs_with_capacity_and_unit_cost(
                np.full(n_t, source), tutors, want, np.zeros(n_t, dtype=np.int64)
            )
            flow.add_arcs_with_capacity_and_unit_cost(
                np.full(n_t, source), tutors, np.maximum(room - want, 0), np.ones(n_t, dtype=np.int64)
            )
            first = flow.add_arcs_with_capacity_and_unit_cost(
                tails, heads, np.ones(len(tails), np.int64), np.zeros(len(tails), np.int64)
            )
            flow.add_arcs_with_capacity_and_unit_cost(
                n_t + np.arange(n_e),
                np.full(n_e, sink),
                np.ones(n_e, dtype=np.int64),
                np.zeros(n_e, dtype=np.int64),
            )
            total = int(np.maximum(room, want).sum())
            flow.set_node_supply(source, total)
            flow.set_node_supply(sink, -total)
            flow.solve_max_flow_with_min_cost()
            met = np.minimum(flow.flows(arcs), want)
            done = int(met.sum())
        deficit = int(want.sum()) - done + over
        return deficit, flow, first, np.flatnonzero(keep)

    def deficit(self, on: BoolArray) -> int:
        """Return how much the constraints of ``on`` miss together (0: they can all hold)."""
        return self._flow(on)[0]

    def cut(self, on: BoolArray) -> tuple[int, BoolArray]:
        """Return the deficit and the tutors on the source side of a minimum cut."""
        deficit, flow, _, _ = self._flow(on)
        side = np.asarray(flow.get_source_side_min_cut(), dtype=np.int64)  # type: ignore[attr-defined]
        tutors = np.zeros(self.problem.n_tutors, dtype=bool)
        tutors[side[side < self.problem.n_tutors]] = True
        return deficit, tutors

    def plan(self, on: BoolArray) -> tuple[BoolArray, IntArray]:
        """Return the pairs used and each tutor's load: the needs of ``on`` met, relaxed tutors filled after.

        The tutors with a constraint not in ``on`` take what they can once
        every need of ``on`` is met (when those can all hold).
        """
        relaxed = np.zeros(self.problem.n_tutors, dtype=bool)
        relaxed[self.tutor[~on]] = True
        # An all-or-nothing rule that holds allows no partial load: no filling.
        relaxed[self.tutor[on & (self.kind == "all_or_nothing")]] = False
        _, flow, first, kept = self._flow(on, extra=relaxed)
        used = np.zeros(len(self.pair_tutor), dtype=bool)
        if len(kept):
            used[kept] = np.asarray(flow.flows(first)) > 0  # type: ignore[attr-defined]
        fixed_on = on & (self.kind == "fixed_pair")
        if fixed_on.any():  # the fixed pairs that hold are used, outside the flow
            n_t = self.problem.n_tutors
            held_keys = self.establishment[fixed_on] * n_t + self.tutor[fixed_on]
            used |= np.isin(self.pair_establishment * n_t + self.pair_tutor, held_keys)
        loads = np.bincount(self.pair_tutor[used], minlength=self.problem.n_tutors).astype(np.int64)
        return used, loads

    def frees(self, on: BoolArray) -> IntArray:
        """Return, per constraint, the most its relaxation can lower the deficit of ``on``."""
        need, held, _ = self.needs(on)
        kind, tutor = self.kind, self.tutor
        want = np.maximum(np.minimum(need, self.problem.tutors.capacity) - held, 0)
        return np.where(kind == "fixed_pair", 1, np.maximum(need[tutor], want[tutor])).astype(np.int64)

    def greedy(self, on: BoolArray) -> BoolArray:
        """Return a set of constraints to relax that restores a plan, few of them.

        Lazy greedy: each step relaxes the constraint that lowers the deficit
        most (evaluated in order of what it could free at most, stopping when
        no unevaluated one can beat the best), ties to a fixed pair or an
        all-or-nothing rule (no shortfall), then the one freeing least, then
        the first named.
        """
        on = on.copy()
        deficit, side = self.cut(on)
        while deficit > 0:
            frees = self.frees(on)
            touches = side[self.tutor] | (self.kind == "fixed_pair")
            order = [int(c) for c in np.lexsort((np.arange(len(on)), -frees)) if on[c] and touches[c]]
            if not order:  # pragma: no cover - relaxing every constraint always holds
                order = [int(c) for c in np.flatnonzero(on)]
            best, best_key = -1, (0, 0, 0)
            for c in order:
                if best >= 0 and frees[c] < best_key[0]:
                    break
                on[c] = False
                gain = deficit - self.deficit(on)
                on[c] = True
                key = (gain, int(self.kind[c] != "min_load"), -int(frees[c]))
                if best < 0 or key > best_key:
                    best, best_key = c, key
            if best_key[0] <= 0:
                # No single constraint helps: relax every constraint of the
                # tutor that could free most.
                tutor = int(self.tutor[order[0]])
                on[(self.tutor == tutor) & (self.kind != "fixed_pair")] = False
            else:
                on[best] = False
            deficit, side = self.cut(on)
        return ~on

    def minimal_conflict(self, on: BoolArray) -> list[int]:
        """Return a minimal subset of ``on`` that cannot hold (``on`` must not hold).

        Deletion in chunks: drop a chunk when the rest still cannot hold,
        then halve the chunks down to single constraints; each test is one
        max flow.
        """
        kept = [int(c) for c in np.flatnonzero(on)]
        mask = np.zeros(len(on), dtype=bool)
        size = max(len(kept) // 2, 1)
        while True:
            start = 0
            while start < len(kept):
                chunk = kept[start : start + size]
                mask[:] = False
                mask[kept] = True
                mask[chunk] = False
                if self.deficit(mask) > 0:
                    kept = kept[:start] + kept[start + size :]
                else:
                    start += size
            if size == 1:
                return kept
            size = max(size // 2, 1)
