r"""Euros and fewest tutors with capacities of at most two: matchings, exact on the fixed charge.

Notes
-----
With at most two places per tutor the fixed charge :math:`F_t` of a used
tutor (bonus, recruitment; plus :math:`W` for ``"tutors"``) fits a matching
in a general graph exactly:

- each establishment is a node, free to stay unmatched (uncovered);
- a tutor with two places is two nodes :math:`t_1, t_2` joined by an edge
  "unused" of weight :math:`F_t`, a tutor with one place one node joined to
  a private dummy node by such an edge; the charge is counted for every
  tutor, and the "unused" edge gives it back. A tutor matched to one
  establishment leaves :math:`t_2` unmatched and pays :math:`F_t` once, to two
  pays it once too: the charge is exact at every load;
- an edge :math:`(t_i, e)` weighs :math:`M p_e - c_{te}`, with :math:`M`
  larger than any plan's euros: a maximum-weight matching (blossom,
  ``rustworkx``) covers the most priority, then minimises the euros.

The mileage :math:`G_t(Z) = s(S_t + Z) - s(S_t)` (:math:`S_t` the tutor's
prior km plus the km of their fixed pairs) is priced per edge by
:math:`h_t(e)`:

- :math:`h_t(e) = G_t(k_e)`, the pair's own mileage, when the tutor has one
  place (exact), or when :math:`G_t` is convex over every total the tutor can
  reach (the scale's rates only rise there): a convex function with
  :math:`G(0) = 0` is superadditive, so :math:`h(e) + h(f) \le G(k_e + k_f)`;
  exact as long as the pair's total stays in one tranche;
- :math:`h_t(e) = \sigma_t k_e` otherwise (a total that can pass 10,000 km,
  where the rate drops), :math:`\sigma_t` the least average rate over the
  tutor's reachable range: :math:`\sigma_t Z \le G_t(Z)` there.

The matching is therefore a lower bound (its costs are floored to
:data:`UNIT_EUR`), and its plan is a feasible plan whose exact euros are an
upper bound. They differ only by tranche crossings of tutors with two
establishments. A best-first branch and bound closes that gap: it takes the
tutor whose pair misses the most and branches on their longer on-site pair,
in the plan (its km join the tutor's base; with one place left the tutor's
other edges are then exact) or out of it. Each node is one matching.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass
from itertools import count

import numpy as np
import numpy.typing as npt

from tutormatch.model._eligibility import MODE_ONSITE
from tutormatch.solve._backend import BackendResult
from tutormatch.solve._euros import EuroCosts, split_tutor_weight, stop_search
from tutormatch.solve._flow_time import FlowTimes, network_size
from tutormatch.solve._matching import EXACT_EDGES, EXACT_NODES, _explicit_pairs, _result_from_pairs
from tutormatch.solve._network import Network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._places import PlaceNodes
from tutormatch.solve._status import Status

__all__ = ["UNIT_EUR", "EuroMatching"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Money unit of the matching's integer weights, in EUR (costs are floored to it).
UNIT_EUR = 1e-6
_PER_EUR = 10**6


@dataclass(frozen=True)
class _Node:
    open: frozenset[int] = frozenset()  # tutors whose charge is paid
    closed: frozenset[int] = frozenset()  # tutors without places
    forced: frozenset[int] = frozenset()  # explicit pairs in the plan
    banned: frozenset[int] = frozenset()  # explicit pairs out of it


@dataclass
class _Matched:
    pairs: IntArray  # explicit pairs of the plan
    uncovered: int  # integer priority left uncovered
    bound: float  # euros: no plan below the node at this coverage costs less
    cost: float  # euros: the plan's exact cost
    slack: FloatArray  # per tutor, mileage the edge prices miss in this plan
    cheat: IntArray  # tutors used on places beyond their first two only (charge not counted)
    priced_uncovered: int = -1  # with a price on coverage: the plan's uncovered (uncovered is then 0)


class EuroMatching:
    """The matching relaxation and its branch and bound (see the module notes)."""

    def __init__(self, network: Network, costs: EuroCosts, *, coverage_price: float | None = None) -> None:
        self.network = network
        self.costs = costs
        tutor, establishment, _, from_class = _explicit_pairs(network)
        self.tutor = tutor
        self.establishment = establishment
        n_direct = network.n_arcs
        self.arc = np.where(from_class, -1, np.arange(len(tutor)))
        direct = ~from_class
        self.eur = np.where(direct, 0.0, costs.class_eur[establishment])
        self.eur[direct] = costs.arc_eur[self.arc[direct]]
        self.km = np.zeros(len(tutor))
        self.km[direct] = costs.arc_km[self.arc[direct]]
        onsite = np.zeros(len(tutor), dtype=bool)
        onsite[:n_direct] = network.arc_mode == MODE_ONSITE
        self.onsite = onsite
        # The charge of a tutor with fixed pairs or a minimum load is a constant.
        self.paid = (network.fixed_load > 0) | (network.min_load > 0)
        used_int = np.floor(costs.used_eur * _PER_EUR).astype(object)
        self.used_int = used_int
        # Larger than any plan's euros (in units): coverage first.
        dearest = float(self.eur.max(initial=0.0)) + float(costs.rates.max(initial=0.0)) * float(
            self.km.max(initial=0.0) + costs.base_km.max(initial=0.0)
        )
        top = network.n_establishments * dearest + float(costs.used_eur.sum()) + 1.0
        self.big_m = math.ceil(top * _PER_EUR) + 1
        # Euros per unit of integer priority left uncovered, in place of "coverage first" (a budget's
        # price, solve/_budget_price.py): one objective, euros + price x uncovered.
        self.coverage_price = coverage_price
        if coverage_price is not None:
            self.big_m = max(round(coverage_price * _PER_EUR), 1)
        self.n_nodes = int(network.active.sum() + network.capacity.clip(0, None).sum() + network.n_tutors)

    @staticmethod
    def supports(network: Network) -> bool:
        """Whether the gadget fits: all-or-nothing loads only with at most two places each."""
        return not (network.all_or_nothing and np.any(network.capacity > 2))

    @staticmethod
    def fits(network: Network) -> bool:
        """Whether the whole graph is small enough for one exact blossom (checked before building it)."""
        nodes = int(network.active.sum() + network.capacity.clip(0, None).sum() + network.n_tutors)
        members = np.bincount(
            network.remote_class[network.active & (network.remote_class >= 0)], minlength=network.n_classes
        )
        places = network.capacity.clip(0, None)
        # One edge a pair and a place; remote classes expanded (an upper bound).
        linked = np.bincount(
            network.link_class, weights=places[network.link_tutor], minlength=network.n_classes
        )
        edges = int(places[network.arc_tutor].sum()) + int(members @ linked)
        return nodes <= EXACT_NODES and edges <= EXACT_EDGES

    # -- prices ----------------------------------------------------------------

    def _scale(self, tutors: IntArray, start: FloatArray, km: FloatArray) -> FloatArray:
        """Mileage of ``km`` driven from ``start`` km on, per tutor (the scale)."""
        c = self.costs
        lows = np.concatenate(([0.0], c.bounds_km))
        highs = np.concatenate((c.bounds_km, [np.inf]))
        stop = start + km
        total = np.zeros(len(tutors))
        for j in range(len(lows)):
            part = np.clip(np.minimum(stop, highs[j]) - np.maximum(start, lows[j]), 0.0, None)
            total += part * c.rates[tutors, j]
        return total

    def _prices(self, places: IntArray, start: FloatArray, live: BoolArray) -> FloatArray:
        """Per explicit pair, euros as priced by the module notes (``live``: pairs still open)."""
        c = self.costs
        t = self.tutor
        n_t = self.network.n_tutors
        mileage = self._scale(t, start[t], self.km)
        # Reach: the tutor's `places` longest live on-site pairs (places <= 2).
        km_live = np.where(live, self.km, 0.0)
        order = np.lexsort((-km_live, t))
        ts = t[order]
        first = np.searchsorted(ts, np.arange(n_t))
        rank = np.arange(len(ts)) - first[ts]
        top = (rank < places[ts]) & (km_live[order] > 0)
        reach = np.bincount(ts[top], weights=km_live[order][top], minlength=n_t)
        # Does the rate drop inside (start, start + reach)? Then the scale is not convex there.
        drops = np.zeros(n_t, dtype=bool)
        for j in range(1, c.rates.shape[1]):
            falls = c.rates[:, j] < c.rates[:, j - 1]
            edge = c.bounds_km[j - 1]
            drops |= falls & (start < edge) & (start + reach > edge)
        linear = drops & (places >= 2)
        if not linear.any():
            return np.asarray(self.eur + mileage)
        # Least average rate over the reachable range, at the breakpoints and the end.
        idx = np.flatnonzero(linear)
        sigma = np.full(len(idx), np.inf)
        for z in [*(edge - start[idx] for edge in c.bounds_km), reach[idx]]:
            ok = (z > 1e-9) & (z <= reach[idx] + 1e-9)
            if ok.any():
                g = self._scale(idx[ok], start[idx][ok], z[ok])
                sigma[ok] = np.minimum(sigma[ok], g / z[ok])
        # The first tranche's rate over the first km is an average too (z -> 0).
        tranche = np.searchsorted(c.bounds_km, start[idx], side="right")
        sigma = np.minimum(sigma, c.rates[idx, np.minimum(tranche, c.rates.shape[1] - 1)])
        slope = np.zeros(n_t)
        slope[idx] = np.maximum(sigma, 0.0)
        mileage = np.where(linear[t], slope[t] * self.km, mileage)
        return np.asarray(self.eur + mileage)

    # -- one node ---------------------------------------------------------------

    def relax(self, node: _Node) -> _Matched | None:
        """Solve the node's matching; ``None`` when its forced pairs do not fit."""
        import rustworkx as rx

        net, c = self.network, self.costs
        n_t, n_e = net.n_tutors, net.n_establishments
        forced = np.zeros(len(self.tutor), dtype=bool)
        if node.forced:
            forced[list(node.forced)] = True
        live = ~forced
        if node.banned:
            live[list(node.banned)] = False
        f_t, f_e = self.tutor[forced], self.establishment[forced]
        forced_load = np.bincount(f_t, minlength=n_t)
        capacity = net.capacity.copy()
        if node.closed:
            capacity[list(node.closed)] = 0
        places = capacity - forced_load
        if (places < 0).any() or len(np.unique(f_e)) < len(f_e):
            return None
        start = c.prior_km + c.base_km + np.bincount(f_t, weights=self.km[forced], minlength=n_t)
        open_e = net.active.copy()
        open_e[f_e] = False
        live &= open_e[self.establishment] & (places[self.tutor] > 0)
        price = self._prices(places, start, live)
        paid = self.paid | (forced_load > 0)
        if node.open:
            paid[list(node.open)] = True
        pick = np.flatnonzero(live)
        # Node ids: establishments, then each tutor's places, then one dummy per tutor.
        nodes = PlaceNodes.build(open_e, places)
        n_est, n_places, first_place = nodes.n_est, nodes.n_places, nodes.first_place
        dummy = n_est + n_places + np.arange(n_t)
        pt, pe = self.tutor[pick], self.establishment[pick]
        cost_units = np.floor(price[pick] * _PER_EUR).astype(np.int64)
        prio = net.priority_int[pe]
        big_m = self.big_m
        weight = [big_m * p - k for p, k in zip(prio.tolist(), cost_units.tolist(), strict=True)]
        edges = nodes.pair_edges(places, pt, pe, weight)
        # The "unused" edge (charge given back): between the first two places,
        # or the only place and the dummy. Places beyond two are a relaxation:
        # a tutor loaded on them alone gets the charge back (branched on).
        must = self._must_places(places, paid, min_load=np.maximum(net.min_load - forced_load, 0))
        if net.all_or_nothing:
            # Load 0 or 2: both places matched, to each other ("unused") or to two establishments.
            gadget = np.flatnonzero(~paid & (places == 2))
            charged = np.flatnonzero(~paid & (places == 1) & (c.used_eur > 0))
        else:
            gadget = np.zeros(0, dtype=np.int64)
            charged = np.flatnonzero(~paid & (places > 0) & (c.used_eur > 0))
        for t in [*charged.tolist(), *gadget.tolist()]:
            other = first_place[t] + 1 if places[t] >= 2 else dummy[t]
            edges.append((int(first_place[t]), int(other), int(self.used_int[t])))
        charged = np.union1d(charged, gadget[c.used_eur[gadget] > 0])
        if must.any():
            # "Must be matched": a bonus per must place, above all other weights together.
            bonus = big_m * (int(net.priority_int[net.active].sum()) + 2)
            is_must = np.zeros(n_est + n_places + n_t, dtype=bool)
            for t in np.flatnonzero(must).tolist():
                is_must[first_place[t] : first_place[t] + must[t]] = True
            edges = [(a, b, w + bonus * (int(is_must[a]) + int(is_must[b]))) for a, b, w in edges]
        graph = rx.PyGraph()
        graph.add_nodes_from(range(n_est + n_places + n_t))
        graph.add_edges_from(edges)
        matched = rx.max_weight_matching(graph, max_cardinality=False, weight_fn=int)
        key = pt.astype(np.int64) * max(n_e, 1) + pe
        order = np.argsort(key, kind="stable")
        chosen_keys: list[int] = []
        given_back = np.zeros(n_t, dtype=bool)
        for u, v in matched:
            u, v = min(u, v), max(u, v)
            if u < n_est:
                chosen_keys.append(nodes.pair_key(u, v, n_e))
            elif u - n_est < n_places:
                given_back[nodes.owner[u - n_est]] = True
        if must.any():
            hit = np.zeros(n_est + n_places + n_t, dtype=bool)
            for u, v in matched:
                hit[u] = hit[v] = True
            if bool((is_must & ~hit).any()):
                return None  # no plan fills the places that must be filled
        chosen = np.asarray(chosen_keys, dtype=np.int64)
        at = np.searchsorted(key[order], chosen) if len(pick) else np.zeros(0, dtype=np.int64)
        free_pairs = pick[order[at]]
        pairs = np.concatenate((np.flatnonzero(forced), free_pairs))
        covered = np.zeros(n_e, dtype=bool)
        covered[self.establishment[pairs]] = True
        uncovered = int(net.priority_int[net.active & ~covered].sum())
        # The bound: constants, the matched pairs' floored prices, the charges not given back.
        loads = np.bincount(self.tutor[pairs], minlength=n_t)
        used = (loads + net.fixed_load) > 0
        bound_units = int(cost_units[order[at]].sum())
        bound_units += sum(int(self.used_int[t]) for t in charged[~given_back[charged]].tolist())
        newly_paid = paid & ~self.paid
        forced_cost = float(self.eur[forced].sum()) + float(c.used_eur[newly_paid].sum())
        forced_cost += float(self._scale(np.arange(n_t), c.prior_km, start - c.prior_km).sum())
        constant = c.base_eur + float(c.used_eur[self.paid].sum()) + forced_cost
        bound = constant + bound_units / _PER_EUR
        cost, slack = self._true_cost(pairs, price, free_pairs, start)
        # A tutor loaded beyond their first two places alone kept their charge.
        cheat = np.flatnonzero(used & given_back)
        if self.coverage_price is not None:
            penalty = big_m * uncovered / _PER_EUR
            return _Matched(
                pairs=pairs,
                uncovered=0,
                bound=bound + penalty,
                cost=cost + penalty,
                slack=slack,
                cheat=cheat,
                priced_uncovered=uncovered,
            )
        return _Matched(pairs=pairs, uncovered=uncovered, bound=bound, cost=cost, slack=slack, cheat=cheat)

    def _must_places(self, places: IntArray, paid: BoolArray, *, min_load: IntArray) -> IntArray:
        """Per tutor, how many of their free places a plan must fill.

        A minimum load fills that many; with all-or-nothing loads a tutor who
        is used anyway (fixed or forced pairs, a minimum load) fills all, and
        a tutor with two free places fills both (to each other when unused).
        """
        must = np.minimum(min_load, places)
        if self.network.all_or_nothing:
            used = paid & (places > 0)
            must = np.where(used | (places == 2), places, must)
        return np.asarray(must, dtype=np.int64)

    def _true_cost(
        self, pairs: IntArray, price: FloatArray, free: IntArray, start: FloatArray
    ) -> tuple[float, FloatArray]:
        """Exact euros of a plan of explicit pairs, and per tutor what the prices miss."""
        net, c = self.network, self.costs
        n_t = net.n_tutors
        t = self.tutor[pairs]
        km = c.base_km + np.bincount(t, weights=self.km[pairs], minlength=n_t)
        loads = np.bincount(t, minlength=n_t)
        used = (loads + net.fixed_load) > 0
        every = np.arange(n_t)
        travel = self._scale(every, c.prior_km, km)
        cost = float(c.base_eur + self.eur[pairs].sum() + c.used_eur[used].sum() + travel[used].sum())
        free_km = np.bincount(self.tutor[free], weights=self.km[free], minlength=n_t).astype(np.float64)
        priced = np.bincount(self.tutor[free], weights=price[free] - self.eur[free], minlength=n_t)
        exact = self._scale(every, start, free_km)
        return cost, np.asarray(exact - priced)

    def result(self, matched: _Matched) -> BackendResult:
        """Return the plan of a node as the network's variables (arcs, class loads)."""
        pairs = matched.pairs
        return _result_from_pairs(self.network, self.tutor[pairs], self.establishment[pairs])

    # -- the search ---------------------------------------------------------------

    def _children(self, node: _Node, m: _Matched) -> tuple[_Node, ...]:
        """Branch on the tutors who kept their charge (open / closed), else on a tranche crossing."""
        if len(m.cheat):
            # Every tutor who kept their charge at once: all open, or the first
            # k - 1 open and the k-th closed (k + 1 children that cover every plan).
            order = m.cheat[np.argsort(-self.costs.used_eur[m.cheat], kind="stable")].tolist()
            out = [_Node(node.open | set(order), node.closed, node.forced, node.banned)]
            for k, t in enumerate(order):
                out.append(_Node(node.open | set(order[:k]), node.closed | {t}, node.forced, node.banned))
            return tuple(out)
        tutor = int(np.argmax(m.slack))
        mine = m.pairs[(self.tutor[m.pairs] == tutor) & (self.km[m.pairs] > 0)]
        if node.forced:
            mine = mine[~np.isin(mine, list(node.forced))]
        if len(mine) == 0:  # pragma: no cover - a slack needs a free on-site pair
            return ()
        # The tutor's free on-site pairs a_1.. a_k, longest first: all in the plan
        # (the tutor's mileage is then exact), or a_1.. a_(i-1) in and a_i out.
        pairs = mine[np.argsort(-self.km[mine], kind="stable")].tolist()
        out = [_Node(node.open, node.closed, node.forced | set(pairs), node.banned)]
        for k, pair in enumerate(pairs):
            out.append(_Node(node.open, node.closed, node.forced | set(pairs[:k]), node.banned | {pair}))
        return tuple(out)

    def solve(
        self,
        options: SolveOptions,
        *,
        max_nodes: int = 5_000,
        stop_above: float | None = None,
        flow_times: FlowTimes | None = None,
    ) -> BackendResult:
        """Best-first branch and bound (module notes).

        ``stop_above``: as in :meth:`tutormatch.solve._euros.EuroBackend.solve`.
        ``flow_times``: the estimate of a matching's time (:mod:`tutormatch.solve._flow_time`),
        shared with the searches around this one; a matching starts only when it ends in time.
        """
        started = time.perf_counter()
        deadline = started + options.time_limit if math.isfinite(options.time_limit) else math.inf
        net, c = self.network, self.costs
        times = flow_times if flow_times is not None else FlowTimes()
        size = network_size(net)

        def relax(node: _Node) -> _Matched | None:
            return times.timed(size, lambda: self.relax(node))

        root = relax(_Node())
        if root is None:
            return BackendResult.without_solution(
                net,
                Status.INFEASIBLE,
                "matching on tutors' places: no plan fills the places that fixed pairs, minimum loads "
                "and all-or-nothing loads require",
            )
        tol = UNIT_EUR * (2 * int(net.active.sum()) + net.n_tutors + 1) + 1e-9 * max(abs(root.cost), 1.0)
        best = root
        tick = count()
        heap: list[tuple[float, int, _Node, _Matched]] = []
        nodes = 1

        def consider(node: _Node, m: _Matched | None) -> None:
            nonlocal best
            if m is None or m.uncovered > root.uncovered:
                return
            if m.cost < best.cost - 1e-9:
                best = m
            if m.bound < best.cost - tol and m.cost > m.bound + tol:
                heapq.heappush(heap, (m.bound, next(tick), node, m))

        consider(_Node(), root)
        while heap and nodes < max_nodes and times.has_time(deadline, size):
            bound, _, node, m = heapq.heappop(heap)
            verdict = stop_search(
                bound,
                best.cost,
                tol,
                stop_above=stop_above,
                tutor_weight=c.tutor_weight,
                relative_gap=options.relative_gap,
            )
            if verdict == "done":
                heap.clear()
                break
            if verdict == "keep":
                heapq.heappush(heap, (bound, next(tick), node, m))
                break
            for k, child in enumerate(self._children(node, m)):
                if k and not times.has_time(deadline, size):
                    heapq.heappush(heap, (bound, next(tick), node, m))  # its bound stays proven
                    break
                nodes += 1
                consider(child, relax(child))
        proven = min([h[0] for h in heap] + [best.cost])
        optimal = best.cost - proven <= tol
        result = self.result(best)
        weight = c.tutor_weight
        loads = np.bincount(self.tutor[best.pairs], minlength=net.n_tutors)
        n_used = int(((loads + net.fixed_load) > 0).sum())
        model_eur, bound_eur = split_tutor_weight(
            best.cost, proven, optimal=optimal, weight=weight, n_used=n_used, tol=tol
        )
        what = "coverage, then fewest tutors, then euros" if weight else "coverage, then euros"
        verdict = "optimal" if optimal else "gap left"
        uncovered = best.uncovered
        priced: dict[str, object] = {}
        if self.coverage_price is not None:
            # The bound is on euros + price x uncovered, for every coverage: not on euros alone.
            price = self.big_m / _PER_EUR
            uncovered = best.priced_uncovered
            model_eur, bound_eur = best.cost - price * uncovered, math.nan
            priced = {"priced_bound_eur": proven, "coverage_price_eur": price, "uncovered_int": uncovered}
            what = f"euros + {price:,.2f} EUR per unit of priority uncovered"
        return BackendResult(
            status=Status.OPTIMAL if optimal else Status.FEASIBLE,
            message=f"matching on tutors' places ({what}): {verdict} after {nodes} matchings",
            arc_used=result.arc_used,
            z=result.z,
            y=result.y,
            objective=uncovered,
            bound=bound_eur,
            stats={
                "nodes": nodes,
                "matchings": nodes,
                "seconds": time.perf_counter() - started,
                "model_eur": model_eur,
                "bound_eur": bound_eur,
                "uncovered_int": best.uncovered,
                "tutors_bound": math.floor(proven / weight + 1e-12) if weight else None,
                "matching_nodes": self.n_nodes,
                "matching_edges": 2 * len(self.tutor),
                **priced,
            },
        )
