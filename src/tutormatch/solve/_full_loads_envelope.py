r"""The least km among the plans of most full loads, bounded by min-cost flows on the loads' concave envelope.

Notes
-----
After coverage :math:`P^*` and :math:`F^*` full tutors are proven
(:mod:`tutormatch.solve._full_loads_matching`), the next phase is

.. math::

    C^* = \min \{ c(x) : P(x) = P^*,\ \text{full}(x) = F^* \}.

Give each loaded place of a tutor of :math:`k` places the credit
:math:`\ell / k` (:math:`\ell` the lcm of the capacities): a plan's credit
:math:`\hat s(x) = \sum_t \ell\,\text{load}_t / k_t` is at least
:math:`\ell` for every full tutor, so every plan above has
:math:`\hat s(x) \ge \ell F^*`. The credit is linear in the loads (the
concave envelope of "a full tutor counts one"), so for :math:`\mu \ge 0`

.. math::

    \Lambda(\mu) = \max_{P(x) = P^*} \; \mu\,\hat s(x) - c(x)

is one min-cost flow (establishments -> tutors, the coverage first by a
weight per unit of priority above every other total; integer arithmetic with
:math:`\mu = N/D`, costs :math:`D c - N \ell / k`), and
:math:`C^* \ge \mu \ell F^* - \Lambda(\mu)` (Lagrangian duality on the one
constraint :math:`\hat s \ge \ell F^*`). :math:`\mu` is chosen by Kelley's
cutting planes on the lines :math:`(\hat s, c)` of the flows' plans, each
a flow of a few hundredths of a second where a matching takes about one.
The bound is that of the LP relaxation; on the example académie it equals
:math:`C^*` (no duality gap), on- and off-site.

**A plan at the bound.** The flows' plans need not have :math:`F^*` full
tutors (a tutor of two places at load one has credit :math:`\ell/2`). With
the optimal flow's potentials at the best :math:`\mu`, every plan :math:`x`
of the coverage satisfies

.. math::

    D\,c(x) \;\ge\; D\,\text{bound}_\mu + \sum_{a \in x} \bar c_a,

with :math:`\bar c_a \ge 0` the reduced cost of a pair the optimal flow
leaves unused (pairs it uses are always kept). So an optimal plan at the
bound uses only pairs of reduced cost 0: the matching search with the km in
its weights runs on those alone (a fifth of the pairs on the example, one
matching of about 0.1 s). When a gap is left, a plan better than the best
one :math:`b` has every pair of :math:`\bar c_a \le D (c(b) - 1 -
\text{bound}_\mu)`: the search on those pairs, once its own optimum is
proven, proves the km (exact reduced-cost fixing). Otherwise the caller goes
on with the matchings (:meth:`FullLoadsMatching.least_km_at_most_full`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from tutormatch.solve._full_loads_matching import FullLoadsMatching

__all__ = ["EnvelopeResult", "least_km_by_envelope"]

IntArray = npt.NDArray[np.int64]

_COST_LIMIT = 2**62  # OR-Tools' cost scaling multiplies |cost| by the node count: stay inside int64
_MAX_FLOWS = 40


@dataclass(frozen=True)
class EnvelopeResult:
    """The best plan of the coverage and full tutors found, and what was proven about its km."""

    pairs: IntArray  # explicit pair indices of the search's network
    proven: bool  # no plan of the coverage and full tutors has fewer km
    lower: Fraction | None  # proven lower bound on those plans' integer km cost
    flows: int
    matchings: int


@dataclass
class _Flow:
    """One optimal envelope flow: its plan, the multiplier, the bound and what the potentials need."""

    mu: Fraction
    pairs: IntArray
    lower: Fraction
    costs: IntArray
    flows: IntArray


class _Envelope:
    """The flow network of the module notes (arcs fixed; the costs change with the multiplier)."""

    def __init__(self, search: FullLoadsMatching, target: int) -> None:
        net = search.network
        places = search.places
        self.search, self.target = search, target
        self.live = np.flatnonzero(net.active[search.establishment] & (places[search.tutor] > 0))
        self.unit = np.where(places > 0, search.lcm // np.maximum(places, 1), 0).astype(np.int64)
        n_e, n_t = net.n_establishments, net.n_tutors
        active = np.flatnonzero(net.active)
        self.n_active = len(active)
        self.source, self.sink = n_e + n_t, n_e + n_t + 1
        pt, pe = search.tutor[self.live], search.establishment[self.live]
        # Source -> establishment (one each), establishment -> tutor (the pairs), tutor -> sink (its
        # places), source -> sink (what stays uncovered).
        self.tails = np.concatenate(
            (np.full(len(active), self.source), pe, n_e + np.arange(n_t), [self.source])
        ).astype(np.int64)
        self.heads = np.concatenate((active, n_e + pt, np.full(n_t, self.sink), [self.sink])).astype(np.int64)
        self.caps = np.concatenate(
            (np.ones(len(active) + len(pt), dtype=np.int64), places.astype(np.int64), [len(active)])
        ).astype(np.int64)
        self.first_pair = len(active)
        self.priority = net.priority_int[pe].astype(np.int64)
        self.pair_unit = self.unit[pt]
        self.pair_cost = search.cost[self.live].astype(np.int64)
        self.n_nodes = n_e + n_t + 2

    def credit(self, pairs: IntArray) -> int:
        """Return a plan's envelope credit (``lcm / k`` a loaded place)."""
        s = self.search
        loads = np.bincount(s.tutor[pairs], minlength=s.network.n_tutors)
        return int((loads * self.unit).sum())

    def solve(self, mu: Fraction, coverage: int) -> _Flow | None:
        """Return the optimal flow at ``mu`` (None: beyond the integer range, or not of the coverage)."""
        from ortools.graph.python import min_cost_flow

        num, den = mu.numerator, mu.denominator
        gain = num * self.pair_unit - den * self.pair_cost
        top = int(np.abs(gain).max(initial=0))
        # Above any difference of two plans' gains: the most priority first, whatever mu.
        span = 2 * top * max(self.n_active, 1) + 1
        if (span * int(self.priority.max(initial=1)) + top) * (self.n_nodes + 1) >= _COST_LIMIT:
            return None
        n_fixed = self.first_pair
        costs = np.zeros(len(self.tails), dtype=np.int64)
        costs[n_fixed : n_fixed + len(gain)] = -(span * self.priority + gain)
        graph = min_cost_flow.SimpleMinCostFlow()
        arcs = graph.add_arcs_with_capacity_and_unit_cost(
            self.tails.astype(np.int32), self.heads.astype(np.int32), self.caps, costs
        )
        supplies = np.zeros(self.n_nodes, dtype=np.int64)
        supplies[self.source], supplies[self.sink] = self.n_active, -self.n_active
        graph.set_nodes_supplies(np.arange(self.n_nodes, dtype=np.int32), supplies)
        if graph.solve() != graph.OPTIMAL:
            return None
        flows = np.asarray(graph.flows(arcs), dtype=np.int64)
        pairs = np.sort(self.live[flows[n_fixed : n_fixed + len(gain)] > 0])
        priority, _, _, cost = self.search._credit(pairs)
        if priority != coverage:  # cannot happen with the span above; then no bound is claimed
            return None
        lower = mu * (self.target - self.credit(pairs)) + cost
        return _Flow(mu=mu, pairs=pairs, lower=lower, costs=costs, flows=flows)

    def same_loads(self, pairs: IntArray) -> IntArray:
        """Return the least km plan of the establishments of ``pairs`` with every tutor's load kept.

        A transportation problem (one flow): the same coverage and full tutors, at most the km.
        """
        from ortools.graph.python import min_cost_flow

        s = self.search
        n_e, n_t = s.network.n_establishments, s.network.n_tutors
        loads = np.bincount(s.tutor[pairs], minlength=n_t)
        covered = np.zeros(n_e, dtype=bool)
        covered[s.establishment[pairs]] = True
        use = np.flatnonzero(covered[s.establishment[self.live]] & (loads[s.tutor[self.live]] > 0))
        arcs_of = self.live[use]
        graph = min_cost_flow.SimpleMinCostFlow()
        arcs = graph.add_arcs_with_capacity_and_unit_cost(
            s.establishment[arcs_of].astype(np.int32),
            (n_e + s.tutor[arcs_of]).astype(np.int32),
            np.ones(len(use), dtype=np.int64),
            self.pair_cost[use],
        )
        supplies = np.concatenate((covered.astype(np.int64), -loads.astype(np.int64)))
        graph.set_nodes_supplies(np.arange(n_e + n_t, dtype=np.int32), supplies)
        if graph.solve() != graph.OPTIMAL:  # pragma: no cover - ``pairs`` itself is a solution
            return pairs
        return np.sort(arcs_of[np.asarray(graph.flows(arcs)) > 0])

    def reduced_costs(self, flow: _Flow) -> IntArray | None:
        """Return each live pair's reduced cost at ``flow`` (0 for the pairs it uses); None: none proven."""
        from tutormatch.solve._duals import residual_potentials

        try:
            d = residual_potentials(self.n_nodes, self.tails, self.heads, self.caps, flow.costs, flow.flows)
        except RuntimeError:  # pragma: no cover - an optimal flow's residual graph has no negative cycle
            return None
        at = slice(self.first_pair, self.first_pair + len(self.live))
        reduced = flow.costs[at] + d[self.tails[at]] - d[self.heads[at]]
        return np.where(flow.flows[at] > 0, 0, reduced).astype(np.int64)


def least_km_by_envelope(search: FullLoadsMatching, best: IntArray, deadline: float) -> EnvelopeResult:
    """Least km among plans of ``best``'s coverage and full tutors (proven most); see the module notes.

    ``search`` must have the km in its weights. Returns the best plan found
    (``best`` if none is better), whether its km are proven, the bound.
    """
    from tutormatch.solve._full_loads_matching import FullLoadsMatching, _kelley

    coverage, full, _, cost = search._credit(best)
    target = full * search.lcm
    envelope = _Envelope(search, target)
    top: _Flow | None = None
    flows = matchings = 0

    def see(pairs: IntArray) -> None:
        nonlocal best, cost
        p, f, _, c = search._credit(pairs)
        if p == coverage and f == full and c < cost:
            best, cost = pairs, c

    # The same loads at their least km: a better plan, and a far better first line than the full-loads
    # plan's (whose km were not in its weights).
    see(envelope.same_loads(best))
    flows += 1
    lines: list[tuple[int, int]] = [(envelope.credit(best), cost)]

    def proven() -> bool:
        return top is not None and top.lower > cost - 1  # integer km: nothing strictly between

    while flows < _MAX_FLOWS and time.perf_counter() < deadline and not proven():
        mu = _kelley(lines, target)
        if mu is None:
            break
        model = min(mu * (target - s) + c for s, c in lines)  # the dual is at most this
        flow = envelope.solve(mu, coverage)
        flows += 1
        if flow is None:
            break
        credit = envelope.credit(flow.pairs)
        lines.append((credit, int(search.cost[flow.pairs].sum())))
        see(flow.pairs)
        if top is None or flow.lower > top.lower:
            top = flow
        # The dual's optimum: the model's, or a plan of the flow with exactly the target credit (its
        # km equal the bound, which no plan of that credit beats): no better bound from these flows.
        if flow.lower >= model or credit == target:
            break
    if top is None or proven():
        return EnvelopeResult(best, proven(), None if top is None else top.lower, flows, matchings)
    reduced = envelope.reduced_costs(top)
    if reduced is None:  # pragma: no cover - see _Envelope.reduced_costs
        return EnvelopeResult(best, False, top.lower, flows, matchings)
    den = top.mu.denominator
    # First the pairs of reduced cost 0 (an optimal plan at the bound uses no other), then, with a gap
    # left, every pair a plan better than the best can use: exact once the search on them is proven.
    for fixing in (False, True):
        if fixing:
            slack = math.floor(den * (cost - 1 - top.lower))
            if slack < 0:
                break
            keep_live = reduced <= slack
        else:
            keep_live = reduced <= 0
        if fixing and keep_live.all():
            break  # no pair dropped: the matchings of the caller instead
        keep = np.zeros(len(search.tutor), dtype=bool)
        keep[envelope.live[keep_live]] = True
        sub = FullLoadsMatching(search.network, keep=keep)
        found = sub.solve(deadline, prove_km=True)
        matchings += found.matchings
        pairs = np.flatnonzero(keep)[found.pairs]
        see(pairs)
        if fixing and found.km_proven:
            # Every plan better than the best is among these pairs, where the search is proven.
            return EnvelopeResult(best, True, top.lower, flows, matchings)
        if proven() or time.perf_counter() >= deadline:
            break
    return EnvelopeResult(best, proven(), top.lower, flows, matchings)
