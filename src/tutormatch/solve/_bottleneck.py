r"""The worst trip: the least longest on-site distance that keeps the coverage.

A plan's *worst trip* is its longest on-site pair. The least worst trip among
plans that cover the most priority is a bottleneck problem, solved exactly by
its structure rather than by a model with a max variable:

1. the coverage optimum :math:`W^*` comes from an exact solve;
2. the threshold :math:`T^*` is searched over the sorted distinct distances
   of the eligible on-site pairs. A threshold ``T`` *restricts* the problem:
   on-site pairs longer than ``T`` are forbidden, remote pairs stay what the
   rules make them (a near pair never turns remote);
3. each step of a binary search is a max-flow test on a relaxation (source
   -> tutor -> establishment or remote class -> establishment -> sink;
   minimum loads, all-or-nothing loads and the class links' few excluded
   pairs dropped). Covered priority is a matroid rank function of the
   establishments, so the relaxation's best covered priority is
   :math:`\sum_k (p_k - p_{k+1})\,\mathrm{rank}(E_{\ge p_k})`: one max flow
   per priority level. A threshold below the relaxed answer cannot keep the
   coverage, so the search gives a proven lower bound :math:`T_{lo}`;
4. exact solves of the restricted problem, from :math:`T_{lo}` upwards
   (galloping, then bisection), find the least threshold that keeps
   :math:`W^*`. The relaxation is almost always tight: one exact solve.

All tests are monotone in ``T`` (a larger threshold allows more pairs), so
the search is exact. The max flows share one graph whose arc capacities are
reset for each threshold (OR-Tools ``SimpleMaxFlow``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tutormatch.model._problem import Problem

__all__ = ["WorstTripSearch", "restrict", "threshold_at_most"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: At most this many priority levels in the relaxation (more are rounded up:
#: still a valid relaxation, only a weaker filter).
MAX_LEVELS = 6
_REL_TOL = 1e-9
#: A level this few short of its rank tests its cut's bound next, not the middle.
_FEW_SHORT = 2


@dataclass(frozen=True)
class _LevelGraph:
    """The max-flow arcs of one priority level: fixed arcs, then pairs by distance."""

    tails: npt.NDArray[np.int32]
    heads: npt.NDArray[np.int32]
    caps: IntArray
    n_fixed: int
    pair_d: FloatArray
    n_nodes: int

    @property
    def n_sinks(self) -> int:
        return int(np.count_nonzero(self.heads[: self.n_fixed] == 1))


def restrict(problem: Problem, threshold: float) -> Problem:
    """Return ``problem`` with the on-site pairs longer than ``threshold`` forbidden.

    Remote pairs and every other rule are unchanged. The restricted problem
    shares the parent's candidate pairs (filtered), so nothing is recomputed.
    """
    c = problem.candidates
    far = c.distance_km > threshold
    if not far.any():
        return problem
    forbidden = np.concatenate((problem.forbidden, np.column_stack((c.tutor[far], c.establishment[far]))))
    restricted = dataclasses.replace(problem, forbidden=forbidden.astype(np.int64))
    keep = ~far
    shared = dataclasses.replace(
        c, tutor=c.tutor[keep], establishment=c.establishment[keep], distance_km=c.distance_km[keep]
    )
    # Cached properties of a frozen dataclass live in its __dict__: share them.
    for name, value in (
        ("candidates", shared),
        ("remote_classes", problem.remote_classes),
        ("tutor_xyz", problem.tutor_xyz),
        ("establishment_xyz", problem.establishment_xyz),
        ("remote_cost_km", problem.remote_cost_km),
    ):
        object.__setattr__(restricted, name, value)
    return restricted


def threshold_at_most(thresholds: FloatArray, limit: float) -> float:
    """Return the largest of the sorted ``thresholds`` that is ``<= limit`` (tolerant to rounding)."""
    i = int(np.searchsorted(thresholds, limit * (1 + 1e-12) + 1e-12, side="right")) - 1
    return float(thresholds[max(i, 0)])


@dataclass(eq=False)
class WorstTripSearch:
    """Thresholds and the relaxed max-flow test of one problem.

    Attributes
    ----------
    thresholds : ndarray of float
        Sorted distinct distances of the eligible on-site pairs, from the
        longest fixed on-site pair up (a fixed pair bounds the worst trip
        from below).
    flow_tests, exact_tests : int
        Counters, for the statistics.
    """

    problem: Problem
    thresholds: FloatArray
    flow_tests: int = 0
    exact_tests: int = 0

    @classmethod
    def of(cls, problem: Problem) -> WorstTripSearch:
        """Prepare the search on ``problem``."""
        c = problem.candidates
        floor = 0.0
        if len(problem.fixed):
            d = problem.distance_km(problem.fixed[:, 0], problem.fixed[:, 1])
            limit = np.minimum(problem.max_distance_km, problem.tutors.max_km[problem.fixed[:, 0]])
            onsite = np.isfinite(d) & (d <= limit)
            floor = float(d[onsite].max()) if onsite.any() else 0.0
        values = np.unique(c.distance_km)
        values = np.unique(np.concatenate(([floor], values[values >= floor])))
        search = cls(problem, values.astype(np.float64))
        search._build()
        return search

    # -- the relaxed test ------------------------------------------------------

    def _build(self) -> None:
        p = self.problem
        c = p.candidates
        n_t, n_e = p.n_tutors, p.n_establishments
        fixed_e = np.zeros(n_e, dtype=bool)
        fixed_e[p.fixed[:, 1]] = True
        places = np.maximum(p.tutors.capacity - np.bincount(p.fixed[:, 0], minlength=n_t), 0)
        keep = ~fixed_e[c.establishment]
        order = np.argsort(c.distance_km[keep], kind="stable")
        pair_t, pair_e = c.tutor[keep][order], c.establishment[keep][order]
        pair_d = c.distance_km[keep][order]
        n_c = c.n_classes
        source, sink = 0, 1
        tutor_node = 2 + np.arange(n_t, dtype=np.int64)
        class_node = 2 + n_t + np.arange(n_c, dtype=np.int64)
        est_node = 2 + n_t + n_c + np.arange(n_e, dtype=np.int64)
        in_class = np.flatnonzero((c.remote_class >= 0) & ~fixed_e)
        free_e = np.flatnonzero(~fixed_e)
        # Priority levels (rounded up to at most MAX_LEVELS: still a relaxation).
        prio = p.establishments.priority.astype(np.float64)
        prio[fixed_e] = 0.0
        levels = np.unique(prio[prio > 0])[::-1]
        if len(levels) > MAX_LEVELS:
            levels = levels[np.linspace(0, len(levels) - 1, MAX_LEVELS).round().astype(int)]
            levels = np.unique(levels)[::-1]
        rounded = np.zeros_like(prio)
        for level in levels[::-1]:  # ascending: each priority rounds up to the next level
            rounded[(prio <= level) & (rounded == 0) & (prio > 0)] = level
        self._levels = levels[::-1].copy()  # ascending: the largest set of establishments first
        self._steps = self._levels - np.append(0.0, self._levels[:-1])
        self._graphs: list[_LevelGraph] = []
        for level in self._levels:
            # Level k's rank only involves its establishments: the others' arcs are left out.
            member = rounded >= level
            cls = in_class[member[in_class]]
            ests = free_e[member[free_e]]
            pairs = member[pair_e]
            fixed_tails = np.concatenate(
                (
                    np.full(n_t, source),
                    tutor_node[c.link_tutor],
                    class_node[c.remote_class[cls]],
                    est_node[ests],
                )
            )
            fixed_heads = np.concatenate(
                (tutor_node, class_node[c.link_class], est_node[cls], np.full(len(ests), sink))
            )
            fixed_caps = np.concatenate(
                (places, places[c.link_tutor], np.ones(len(cls) + len(ests), dtype=np.int64))
            )
            self._graphs.append(
                _LevelGraph(
                    tails=np.concatenate((fixed_tails, tutor_node[pair_t[pairs]])).astype(np.int32),
                    heads=np.concatenate((fixed_heads, est_node[pair_e[pairs]])).astype(np.int32),
                    caps=np.concatenate((fixed_caps, np.ones(int(pairs.sum()), dtype=np.int64))),
                    n_fixed=len(fixed_tails),
                    pair_d=pair_d[pairs],
                    n_nodes=2 + n_t + n_c + n_e,
                )
            )

    def _rank(self, k: int, threshold: float) -> tuple[int, Any]:
        """Return level ``k``'s rank under ``threshold`` and the solved max flow."""
        from ortools.graph.python import max_flow

        graph = self._graphs[k]
        n = graph.n_fixed + int(np.searchsorted(graph.pair_d, threshold, side="right"))
        g = max_flow.SimpleMaxFlow()
        g.add_arcs_with_capacity(graph.tails[:n], graph.heads[:n], graph.caps[:n])
        g.solve(0, 1)
        self.flow_tests += 1
        return int(g.optimal_flow()), g

    def relaxed_priority(self, threshold: float, target: float = -math.inf) -> float:
        """Return an upper bound on the priority of non-fixed establishments coverable under ``threshold``.

        Levels are solved from the largest set of establishments down; as
        soon as the bound falls below ``target`` the test stops (the smaller
        sets' ranks are bounded by the larger ones', and by their sizes).
        """
        return float(sum(self._relaxed_terms(threshold, target)))

    def _relaxed_terms(self, threshold: float, target: float = -math.inf) -> list[float]:
        steps = self._steps
        bound = steps * np.array([g.n_sinks for g in self._graphs], dtype=np.float64)
        ranks: list[float] = []
        for k in range(len(steps)):
            rank, _ = self._rank(k, threshold)
            ranks.append(rank)
            bound[k] = steps[k] * rank
            bound[k + 1 :] = np.minimum(bound[k + 1 :], steps[k + 1 :] * rank)
            if bound.sum() < target * (1 - _REL_TOL):
                break
        self._last_ranks = ranks
        return [float(b) for b in bound]

    def relaxed_lower_bound(self, target: float, top: int) -> int:
        """Return the index of the least threshold whose relaxation reaches ``target`` priority.

        ``top`` is an index known to keep the coverage (the plan without the
        criterion's worst trip).

        When the relaxation at ``top`` reaches exactly ``target`` (the usual
        case), reaching it means keeping every level's rank, and each level
        is searched on its own (the largest set first, the others from its
        answer up), each test narrowing the interval by more than half: a
        level that falls ``d`` short under ``T`` stays short until ``d`` new
        pairs cross its minimum cut, and one that keeps its rank keeps it
        down to the longest pair its flow uses.
        """
        reach = target * (1 - _REL_TOL)
        at_top = self._relaxed_terms(float(self.thresholds[top]), target)
        if sum(at_top) < reach:
            return top
        if sum(at_top) > target * (1 + _REL_TOL) + _REL_TOL or len(self._last_ranks) < len(self._steps):
            return self._bisect_relaxed(target, top)
        lo = 0
        for k, rank in enumerate(self._last_ranks):
            lo = self._least_keeping(k, int(rank), lo, top)
        return lo

    def _bisect_relaxed(self, target: float, top: int) -> int:
        def ok(i: int) -> bool:
            return self.relaxed_priority(float(self.thresholds[i]), target) >= target * (1 - _REL_TOL)

        lo, hi = 0, top
        while lo < hi:
            mid = (lo + hi) // 2
            if ok(mid):
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _least_keeping(self, k: int, need: int, lo: int, hi: int) -> int:
        """Return the least index in ``[lo, hi]`` where level ``k`` keeps rank ``need`` (true at ``hi``)."""
        graph = self._graphs[k]
        thresholds = self.thresholds
        mid = lo  # the first test is at ``lo``: the answer of the previous level often holds
        while lo < hi:
            rank, g = self._rank(k, float(thresholds[mid]))
            n = graph.n_fixed + int(np.searchsorted(graph.pair_d, thresholds[mid], side="right"))
            if rank >= need:
                # The flow only uses pairs up to its longest one: the rank holds there already.
                used = np.flatnonzero(g.flows(np.arange(graph.n_fixed, n, dtype=np.int32)))
                longest = float(graph.pair_d[used[-1]]) if len(used) else 0.0
                hi = min(mid, int(np.searchsorted(thresholds, longest)))
            else:
                # The minimum cut's capacity grows by one per new pair that crosses it.
                short = need - rank
                firsts = []
                for sink_side in (False, True):
                    nodes = g.get_sink_side_min_cut() if sink_side else g.get_source_side_min_cut()
                    side = np.zeros(graph.n_nodes, dtype=bool)
                    side[np.asarray(nodes, dtype=np.int64)] = True
                    if sink_side:
                        side = ~side
                    where = np.flatnonzero(side[graph.tails[n:]] & ~side[graph.heads[n:]])
                    if len(where) < short:  # the rank is reached at ``hi``: a solver defect
                        raise RuntimeError("worst trip: a max flow's rank fell between two thresholds")
                    firsts.append(float(graph.pair_d[n - graph.n_fixed + where[short - 1]]))
                lo = max(mid + 1, int(np.searchsorted(thresholds, max(firsts))))
                if short <= _FEW_SHORT:
                    mid = lo  # a cut that few pairs cross is often the very answer: test it
                    continue
            mid = (lo + hi) // 2
        return lo

    def least_feasible(self, start: int, stop: int, feasible: Callable[[int], bool]) -> int:
        """Return the least index in ``[start, stop]`` with ``feasible`` (known true at ``stop``).

        Galloping from ``start`` (the relaxation is almost always tight), then
        bisection; ``feasible`` must be monotone.
        """
        if start >= stop:
            return stop
        step, lo, hi = 1, start, stop
        i = start
        while i < stop:
            self.exact_tests += 1
            if feasible(i):
                hi = i
                break
            lo = i + 1
            i = min(start + step, stop)
            step *= 2
        while lo < hi:
            mid = (lo + hi) // 2
            self.exact_tests += 1
            if feasible(mid):
                hi = mid
            else:
                lo = mid + 1
        return hi


def worst_trip_of(distance_km: FloatArray, onsite: npt.NDArray[np.bool_]) -> float:
    """Longest on-site distance of a plan's pairs (0 without any)."""
    d = distance_km[onsite]
    return float(d.max()) if len(d) else 0.0


def same_priority(a: float, b: float) -> bool:
    """Whether two covered priorities are equal up to rounding."""
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
