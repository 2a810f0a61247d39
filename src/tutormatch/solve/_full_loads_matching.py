r"""Most tutors at exactly their capacity (after coverage): matchings, exact up to two places.

Notes
-----
A tutor is *full* when their load (fixed pairs included) equals their
capacity, which is positive; an unused tutor is not full. Each
establishment is a node, free to stay unmatched; a tutor with :math:`k`
places left is :math:`k` nodes ("places"); an edge (place, establishment)
weighs :math:`M p_e + \beta - c_{te}` (:math:`p_e` the integer priority,
:math:`c_{te}` the flow's integer km cost, :math:`\beta` the full-load
bonus of that place), with :math:`M` above every full-load and km total and
the full-load unit :math:`B` above every km total: a maximum-weight
matching (blossom, ``rustworkx``) covers the most priority, then has the
most full tutors, then the least km among those.

- One place: :math:`\beta = B`; matched is full (exact).
- Two places: :math:`\beta = B` on both, and an edge "unused" of weight
  :math:`B` between the two places. Load 0 is worth :math:`B` (the unused
  edge), load 1 :math:`B`, load 2 :math:`2B`: counting :math:`B` off every
  such tutor, only the full load gains :math:`B` (exact).
- Three places or more: no such gadget exists (loads 0, 1, 2 worth the same
  and load 3 more cannot be had from place edges and edges between places),
  so :math:`\beta = B/k`, an upper bound on the gain at every load, exact at
  loads 0 and :math:`k`. A best-first branch and bound takes the tutor the
  matching loads partly and branches: full (their places must all be
  matched: an edge weight :math:`H` above everything else, checked) or not
  full (:math:`k - 1` places, no bonus). Each node is one matching.

The search stops when no open node can beat the best plan's coverage and
full loads, or, asked to
prove the km too, when no open node can beat its value: the plan is then
the least km among the plans of most coverage, then most full loads (the
ordered engine's ``km`` phase right after an exact ``full-loads`` phase).
Only then are the km in the weights: without them the weights take a few
distinct values and the blossom is about 15 times faster (0.12 s against
1.7 s on the example académie with remote tutoring), and the plan's km are
whatever the matching gives (the engine's ``km`` phase minimises them
next).
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import count

import numpy as np
import numpy.typing as npt

from tutormatch.model._problem import Problem
from tutormatch.solve._assignment import Assignment
from tutormatch.solve._matching import _explicit_pairs
from tutormatch.solve._network import Network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._places import PlaceNodes

__all__ = ["FullLoadsMatching", "FullLoadsResult", "full_loads_network", "solve_full_loads"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class _Node:
    full: frozenset[int] = frozenset()  # tutors of three places or more that must be full
    capped: frozenset[int] = frozenset()  # such tutors that must not be


@dataclass
class _Matched:
    pairs: IntArray  # explicit pairs of the plan
    primary: int  # M * covered priority + B * full tutors (exact)
    cost: int  # the plan's integer km cost
    bound: int  # no plan under the node has a larger M * priority + B * full - cost
    partial: IntArray  # undecided tutors of three places or more, partly loaded


@dataclass(frozen=True)
class FullLoadsResult:
    """The best plan found: explicit (tutor, establishment) pairs, its full tutors and the proof."""

    tutor: IntArray
    establishment: IntArray
    full: int  # tutors full in the plan (those filled by fixed pairs included)
    proven: bool  # no plan of the same coverage has more full tutors
    km_proven: bool  # and none with as many has fewer km (the search's open nodes included)
    bound: int  # proven upper bound on the full tutors at that coverage
    matchings: int
    pairs: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # explicit pair indices


class FullLoadsMatching:
    """The matching and its branch and bound (see the module notes)."""

    def __init__(
        self, network: Network, *, km: bool = True, keep: npt.NDArray[np.bool_] | None = None
    ) -> None:
        """Search on ``network``'s explicit pairs (only those of the mask ``keep``, when given)."""
        self.network = network
        tutor, establishment, cost, _ = _explicit_pairs(network)
        if keep is not None:
            tutor, establishment, cost = tutor[keep], establishment[keep], cost[keep]
        self.tutor, self.establishment = tutor, establishment
        self.cost = cost.astype(np.int64)
        # Without km in the weights only a few distinct weights remain and the blossom is about
        # 15 times faster (0.12 s against 1.7 s on the example académie); its plan's km are then
        # whatever the matching gives.
        self.km = km
        self.weight_cost = self.cost if km else np.zeros_like(self.cost)
        places = network.capacity.clip(0, None)
        self.places = places
        # Tutors already full by their fixed pairs (no place left): a constant.
        self.already = int(((network.full_capacity > 0) & (network.capacity <= 0)).sum())
        caps = sorted({int(k) for k in places[places > 0].tolist()})
        lcm = math.lcm(*caps) if caps else 1
        self.lcm = lcm
        self.unit = int(np.abs(self.weight_cost).max(initial=0)) * max(int(network.active.sum()), 1) + 1
        self.big_b = lcm * self.unit
        self.big_m = self.big_b * (network.n_tutors + 1) + self.unit
        self.big_h = self.big_m * (int(network.priority_int[network.active].sum()) + 1)

    @staticmethod
    def supports(network: Network) -> bool:
        """Whether the gadget fits: no minimum load, no all-or-nothing, a graph one blossom can take."""
        if np.any(network.min_load > 0) or network.all_or_nothing:
            return False
        from tutormatch.solve._euros_matching import EuroMatching

        return EuroMatching.fits(network)

    def relax(self, node: _Node) -> _Matched | None:
        """Solve the node's matching; ``None`` when a tutor that must be full cannot be."""
        import rustworkx as rx

        net = self.network
        n_t, n_e = net.n_tutors, net.n_establishments
        places = self.places.copy()
        if node.capped:
            places[list(node.capped)] -= 1
        open_e = net.active
        live = open_e[self.establishment] & (places[self.tutor] > 0)
        pick = np.flatnonzero(live)
        nodes = PlaceNodes.build(open_e, places)
        n_est, first_place = nodes.n_est, nodes.first_place
        big_b, big_m, big_h = self.big_b, self.big_m, self.big_h
        bonus = [0] * n_t
        for t in np.flatnonzero(places > 0).tolist():
            k = int(places[t])
            if t in node.capped:
                bonus[t] = 0
            elif t in node.full:
                bonus[t] = big_h
            else:
                bonus[t] = big_b if k <= 2 else big_b // k
        pt, pe = self.tutor[pick], self.establishment[pick]
        prio = net.priority_int[pe].tolist()
        weight = [
            big_m * p + bonus[t] - int(c)
            for p, t, c in zip(prio, pt.tolist(), self.weight_cost[pick].tolist(), strict=True)
        ]
        edges = nodes.pair_edges(places, pt, pe, weight)
        pairs_of_two = np.flatnonzero((places == 2) & (self.places == 2)).tolist()
        for t in pairs_of_two:
            edges.append((int(first_place[t]), int(first_place[t]) + 1, big_b))
        graph = rx.PyGraph()
        graph.add_nodes_from(range(n_est + nodes.n_places))
        graph.add_edges_from(edges)
        matched = rx.max_weight_matching(graph, max_cardinality=False, weight_fn=int)
        total = 0
        chosen: list[int] = []
        for u, v in matched:
            u, v = min(u, v), max(u, v)
            total += int(graph.get_edge_data(u, v))
            if u < n_est:
                chosen.append(nodes.pair_key(u, v, n_e))
        key = self.tutor.astype(np.int64) * max(n_e, 1) + self.establishment
        order = np.argsort(key, kind="stable")
        at = np.searchsorted(key[order], np.asarray(chosen, dtype=np.int64))
        pairs = np.sort(order[at]) if len(chosen) else np.zeros(0, dtype=np.int64)
        loads = np.bincount(self.tutor[pairs], minlength=n_t)
        forced = sorted(node.full)
        if forced and np.any(loads[forced] < self.places[forced]):
            return None
        # The matching's value less its constants: an upper bound on the node's plans.
        bound = total - big_b * len(pairs_of_two) - big_h * int(self.places[forced].sum())
        bound += big_b * len(forced)
        undecided = (self.places >= 3) & (places == self.places)
        if forced:
            undecided[forced] = False
        partial = np.flatnonzero(undecided & (loads > 0) & (loads < self.places))
        primary, cost = self._value(pairs, loads)
        return _Matched(pairs=pairs, primary=primary, cost=cost, bound=bound, partial=partial)

    def _value(self, pairs: IntArray, loads: IntArray) -> tuple[int, int]:
        net = self.network
        covered = np.zeros(net.n_establishments, dtype=bool)
        covered[self.establishment[pairs]] = True
        priority = int(net.priority_int[covered & net.active].sum())
        full = int(((loads == self.places) & (self.places > 0)).sum())
        return self.big_m * priority + self.big_b * full, int(self.weight_cost[pairs].sum())

    def solve(self, deadline: float, *, max_nodes: int = 20_000, prove_km: bool = False) -> FullLoadsResult:
        """Best-first branch and bound (module notes), until proven or the deadline.

        ``prove_km``: search on until the km tie-break is proven too (the
        least km among the plans of most coverage, then most full loads).
        """
        if prove_km and not self.km:
            raise ValueError("proving the km needs the km in the matching's weights (km=True)")
        root = self.relax(_Node())
        assert root is not None  # nothing forced at the root
        best = root
        tick = count()
        heap: list[tuple[int, int, _Node, _Matched]] = []
        nodes = 1

        def beaten() -> int:
            """Return the value a node's bound must reach to hold a better plan."""
            if prove_km:
                return best.primary - best.cost + 1
            # Better in coverage or full loads (km totals are below the unit).
            return best.primary + self.big_b - self.unit + 1

        def consider(node: _Node, m: _Matched | None) -> None:
            nonlocal best
            if m is None:
                return
            if (m.primary, -m.cost) > (best.primary, -best.cost):
                best = m
            if len(m.partial) and m.bound >= beaten():
                heapq.heappush(heap, (-m.bound, next(tick), node, m))

        consider(_Node(), root)
        while heap and nodes < max_nodes and time.perf_counter() < deadline:
            negative, _, node, m = heapq.heappop(heap)
            if -negative < beaten():
                heap.clear()
                break
            # The partly loaded tutor the relaxation credits most.
            loads = np.bincount(self.tutor[m.pairs], minlength=self.network.n_tutors)
            t = int(m.partial[np.argmax(loads[m.partial] / self.places[m.partial])])
            for child in (_Node(node.full | {t}, node.capped), _Node(node.full, node.capped | {t})):
                nodes += 1
                consider(child, self.relax(child))
        km_proven = self.km and not any(-h[0] >= best.primary - best.cost + 1 for h in heap)
        full_step = self.big_b - self.unit + 1
        heap = [h for h in heap if -h[0] >= best.primary + full_step]  # still open on the full loads
        proven = not heap
        top = max([-h[0] for h in heap], default=best.primary - best.cost)
        priority = best.primary // self.big_m
        # Full tutors no open node can exceed at the best plan's coverage.
        bound_full = (top + self.unit - 1 - self.big_m * priority) // self.big_b
        full_now = (best.primary - self.big_m * priority) // self.big_b
        return FullLoadsResult(
            tutor=self.tutor[best.pairs],
            establishment=self.establishment[best.pairs],
            full=full_now + self.already,
            proven=proven,
            km_proven=proven and km_proven,
            bound=max(bound_full, full_now) + self.already,
            matchings=nodes,
            pairs=best.pairs,
        )

    def _credit(self, pairs: IntArray) -> tuple[int, int, int, int]:
        """Return a plan's covered priority, full tutors, relaxed full credit (in ``1/lcm``) and km cost."""
        net = self.network
        covered = np.zeros(net.n_establishments, dtype=bool)
        covered[self.establishment[pairs]] = True
        priority = int(net.priority_int[covered & net.active].sum())
        loads = np.bincount(self.tutor[pairs], minlength=net.n_tutors)
        k = self.places
        full = (loads == k) & (k > 0)
        # Each tutor of up to two places counts lcm when full; of three or more, lcm / k a place loaded.
        credit = int(np.where(k <= 2, full * self.lcm, loads * (self.lcm // np.maximum(k, 1))).sum())
        return priority, int(full.sum()), credit, int(self.cost[pairs].sum())

    def dual_matching(self, value: Fraction) -> IntArray:
        r"""Return the plan of the root matching that values a unit of full credit ``value`` km-cost units.

        Weights :math:`D (M p_e + \mu u_t - c_{te})` with :math:`\mu = N / D`
        (exact integers: :math:`N u_t - D c_{te}`), :math:`u_t` the place's
        credit (``lcm`` a place for tutors of up to two places and the
        "unused" edge between them, ``lcm / k`` for :math:`k \ge 3`) and
        :math:`M` above every credit and cost total: the most coverage, then
        the largest :math:`\mu \hat F - c` (the Lagrangian of the
        constraint "as many full tutors" with the credit :math:`\hat F`, an
        upper bound on the full tutors).
        """
        import rustworkx as rx

        net = self.network
        num, den = value.numerator, value.denominator
        places = self.places
        n_active = max(int(net.active.sum()), 1)
        worst = int(np.abs(self.cost).max(initial=0))
        # Above every credit total (place edges and "unused" edges) and every km total.
        span = num * 2 * self.lcm * (net.n_tutors + 1) + den * (worst * n_active + 1)
        if span * (int(net.priority_int[net.active].sum()) + 1) > _WEIGHT_LIMIT:
            raise OverflowError("dual matching weights beyond the blossom's exact integer range")
        live = net.active[self.establishment] & (places[self.tutor] > 0)
        pick = np.flatnonzero(live)
        nodes = PlaceNodes.build(net.active, places)
        unit = np.where(places <= 2, self.lcm, self.lcm // np.maximum(places, 1))
        pt, pe = self.tutor[pick], self.establishment[pick]
        weight = [
            span * p + num * u - den * c
            for p, u, c in zip(
                net.priority_int[pe].tolist(), unit[pt].tolist(), self.cost[pick].tolist(), strict=True
            )
        ]
        edges = nodes.pair_edges(places, pt, pe, weight)
        for t in np.flatnonzero(places == 2).tolist():
            edges.append((int(nodes.first_place[t]), int(nodes.first_place[t]) + 1, num * self.lcm))
        graph = rx.PyGraph()
        graph.add_nodes_from(range(nodes.n_est + nodes.n_places))
        graph.add_edges_from(edges)
        matched = rx.max_weight_matching(graph, max_cardinality=False, weight_fn=int)
        n_e = net.n_establishments
        chosen = [nodes.pair_key(min(u, v), max(u, v), n_e) for u, v in matched if min(u, v) < nodes.n_est]
        key = self.tutor.astype(np.int64) * max(n_e, 1) + self.establishment
        order = np.argsort(key, kind="stable")
        at = np.searchsorted(key[order], np.asarray(chosen, dtype=np.int64))
        return np.sort(order[at]) if len(chosen) else np.zeros(0, dtype=np.int64)

    def least_km_at_most_full(
        self, best: IntArray, deadline: float, *, max_matchings: int = 12
    ) -> tuple[IntArray, bool, int]:
        r"""Least km among plans of ``best``'s coverage and full tutors (proven most): Lagrangian dual.

        Each :meth:`dual_matching` at :math:`\mu \ge 0` bounds the km of
        every such plan from below by :math:`\mu F^* - L(\mu)`; its plan,
        when it has the coverage and the full tutors, is a candidate. The
        next :math:`\mu` maximises the dual's cutting-plane model (Kelley,
        exact fractions). Return the best plan, whether its km are proven
        (no duality gap left) and the matchings run.
        """
        priority, full, _, cost = self._credit(best)
        target = full * self.lcm
        lines: list[tuple[int, int]] = []  # (credit, cost) of every plan seen: L(mu) >= mu credit - cost
        lower: Fraction | None = None  # the best lower bound on the km so far
        runs = 0

        def see(pairs: IntArray) -> tuple[int, int]:
            nonlocal best, cost
            p, f, credit, c = self._credit(pairs)
            if p == priority:  # a plan of the coverage: L(mu) >= mu credit - c (others: no line)
                lines.append((credit, c))
                if f == full and c < cost:
                    best, cost = pairs, c
            return credit, c

        see(best)
        # Two lines for free (assignments, no blossom): the same loads at their least km (a far better
        # "more credit" line than the full-loads plan's, whose km were not in its weights), and the
        # least km at the coverage (mu = 0: no credit, so no gadget; a bipartite assignment).
        loads = np.bincount(self.tutor[best], minlength=self.network.n_tutors)
        see(self._assign(np.unique(self.establishment[best]), loads))
        open_e = np.flatnonzero(self.network.active)
        see(self._assign(open_e, self.places, priority=self.network.priority_int[open_e]))
        while (
            runs < max_matchings and time.perf_counter() < deadline and (lower is None or lower <= cost - 1)
        ):
            mu = _kelley(lines, target)
            if mu is None:
                break
            model = min(mu * (target - s) + c for s, c in lines)  # the dual is at most this
            runs += 1
            credit, c = see(self.dual_matching(mu))  # the matching's plan has the coverage (M dominates)
            here = mu * (target - credit) + c
            lower = here if lower is None else max(lower, here)
            if here >= model:  # the dual's optimum reached: a gap the bound cannot close
                break
        return best, lower is not None and lower > cost - 1, runs

    def _assign(self, rows: IntArray, slots: IntArray, priority: IntArray | None = None) -> IntArray:
        """Return a plan by a dense assignment: establishments ``rows`` on ``slots[t]`` places of each tutor.

        Without ``priority`` every row is assigned (``slots`` sums to the
        rows: the same loads); with it, a row may stay out, the most priority
        first (an establishment's priority times a weight above every km
        total), then the least km. Floating point: the plan is feasible
        (checked by the caller: its coverage and credit are recomputed), not
        necessarily optimal, which a line of the dual does not need.
        """
        from scipy.optimize import linear_sum_assignment

        n_e = self.network.n_establishments
        row_of = np.full(n_e, -1, dtype=np.int64)
        row_of[rows] = np.arange(len(rows))
        first = np.concatenate(([0], np.cumsum(slots)[:-1])).astype(np.int64)
        n_cols = int(slots.sum())
        big = float(np.abs(self.cost).sum() + 1)
        extra = len(rows) if priority is not None else 0
        if priority is not None:
            big_m = big * 2.0
            if big_m * float(priority.max(initial=1)) * len(rows) >= 2.0**52:
                return np.zeros(0, dtype=np.int64)  # beyond exact floats: no line
        matrix = np.full((len(rows), n_cols + extra), big * 4.0)  # an ineligible cell: never worth it
        if priority is not None:
            matrix[:, n_cols:] = 0.0
        use = np.flatnonzero((row_of[self.establishment] >= 0) & (slots[self.tutor] > 0))
        use = use[np.argsort(-self.cost[use], kind="stable")]  # the cheapest of duplicates written last
        r = row_of[self.establishment[use]]
        value = self.cost[use].astype(np.float64)
        if priority is not None:
            value = value - big_m * priority[r].astype(np.float64)
        for j in range(int(slots.max(initial=0))):
            has = slots[self.tutor[use]] > j
            matrix[r[has], first[self.tutor[use[has]]] + j] = value[has]
        picked_r, picked_c = linear_sum_assignment(matrix)
        keep = picked_c < n_cols
        picked_r, picked_c = picked_r[keep], picked_c[keep]
        owner = np.repeat(np.arange(len(slots), dtype=np.int64), slots)
        pair_key = (self.tutor[use] * max(n_e, 1) + self.establishment[use]).tolist()
        key_of = dict(zip(pair_key, use.tolist(), strict=True))
        keys = (owner[picked_c] * max(n_e, 1) + rows[picked_r]).tolist()
        if any(k not in key_of for k in keys):
            return np.zeros(0, dtype=np.int64)  # an ineligible cell: no line
        return np.sort(np.asarray([key_of[k] for k in keys], dtype=np.int64))


_WEIGHT_LIMIT = 2**100  # rustworkx's blossom works in i128 and doubles its duals: stay well inside


def _kelley(lines: list[tuple[int, int]], target: int) -> Fraction | None:
    r"""Return the :math:`\mu \ge 0` maximising :math:`\min_i \mu (F^* - s_i) + c_i` (None: unbounded)."""
    low = [(s, c) for s, c in lines if s < target]
    if not low:
        return Fraction(0)  # every line decreasing: the least km first
    high = [(s, c) for s, c in lines if s >= target]
    if not high:
        return None
    candidates = {Fraction(0)}
    for s_lo, c_lo in low:
        for s_hi, c_hi in high:
            if s_hi > s_lo:
                mu = Fraction(c_hi - c_lo, s_hi - s_lo)
                if mu >= 0:
                    candidates.add(mu)
    return max(sorted(candidates), key=lambda mu: min(mu * (target - s) + c for s, c in lines))


def full_loads_network(problem: Problem, options: SolveOptions) -> Network:
    """Return the network of the euro objectives (every eligible pair; no near pair routed as remote)."""
    from tutormatch.solve._decide import _no_near_remote
    from tutormatch.solve._network import build_network
    from tutormatch.solve._pool import full_pool

    return _no_near_remote(
        problem, build_network(problem, full_pool(problem), cost_resolution_km=options.cost_resolution_km)
    )


def solve_full_loads(problem: Problem, options: SolveOptions, *, prove_km: bool = False) -> Assignment | None:
    """Coverage, then most full loads (with ``prove_km``, least km next), by matchings; None: not fit.

    OPTIMAL only when the search proved the full loads (and, with
    ``prove_km``, the least km among those plans); otherwise FEASIBLE with
    the proven bound on full tutors in ``stats``.
    """
    from tutormatch.solve._solve import plan_from_free_pairs
    from tutormatch.solve._status import Status

    started = time.perf_counter()
    network = full_loads_network(problem, options)
    if not FullLoadsMatching.supports(network):
        return None
    limit = options.time_limit if math.isfinite(options.time_limit) else 60.0
    # The full loads without km in the weights (15 times faster); the km next, when asked, by the
    # Lagrangian dual of "as many full tutors" (a few matchings), else by the search with km weights.
    found = FullLoadsMatching(network, km=False).solve(started + limit)
    dual_matchings = flows = 0
    if prove_km and found.proven:
        from tutormatch.solve._full_loads_envelope import least_km_by_envelope

        search = FullLoadsMatching(network)
        # Flows on the loads' envelope first (a bound in a few hundredths of a second, then a plan at it
        # by a matching on the pairs of reduced cost 0); the Lagrangian matchings if a gap is left.
        envelope = least_km_by_envelope(search, found.pairs, started + limit)
        pairs, km_proven = envelope.pairs, envelope.proven
        dual_matchings, flows = envelope.matchings, envelope.flows
        if not km_proven:
            try:
                pairs, km_proven, more = search.least_km_at_most_full(pairs, started + limit)
                dual_matchings += more
            except OverflowError:  # weights beyond the blossom's exact range: the search below
                pass
        found = dataclasses.replace(
            found,
            tutor=search.tutor[pairs],
            establishment=search.establishment[pairs],
            pairs=pairs,
            km_proven=km_proven,
            matchings=found.matchings + dual_matchings,
        )
    if prove_km and not found.km_proven:
        searched = FullLoadsMatching(network).solve(started + limit, prove_km=True)
        searched = dataclasses.replace(searched, matchings=searched.matchings + found.matchings)
        cost = FullLoadsMatching(network, km=False).cost
        fewer = searched.proven and cost[searched.pairs].sum() < cost[found.pairs].sum()
        if searched.km_proven or not found.proven or fewer:
            found = searched
    optimal = found.km_proven if prove_km else found.proven
    verdict = "proven" if found.proven else f"at most {found.bound} proven"
    if prove_km:
        verdict += ", km " + ("proven" if found.km_proven else "not proven")
    plan = plan_from_free_pairs(
        problem,
        found.tutor,
        found.establishment,
        status=Status.OPTIMAL if optimal else Status.FEASIBLE,
        solver="full-loads-matching",
        message=f"matching on tutors' places (coverage, then full loads): {found.full} full, {verdict}, "
        f"after {found.matchings} matchings" + (f" and {flows} flows" if flows else ""),
        stats={
            "matchings": found.matchings,
            "flows": flows,
            "full_loads": found.full,
            "full_loads_bound": found.bound,
        },
        started=started,
    )
    return plan
