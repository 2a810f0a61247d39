r"""Decide in euros: branch and bound on tutors, with min-cost flows as bounds.

Notes
-----
The objective ``"euros"`` covers the most priority, then spends the least
yearly euros of the cost model (:mod:`tutormatch.model._costs`):

.. math::

    \sum_{p} (i + r_p) \;+\; \sum_{t \text{ used}} \bigl(F_t + g_t(Y_t)\bigr)

with *i* the indemnity per establishment, :math:`r_p` the remote pair cost,
:math:`F_t` the bonus (:math:`3 \times` ``cia_eur``, 0 when unknown) plus the
recruitment cost of a candidate, and :math:`g_t(Y) = s(P_t + Y) - s(P_t)` the
mileage scale on the tutor's yearly km :math:`Y_t` after their
``prior_service_km`` :math:`P_t`. The model sums km exactly: a travel claim
rounds each tutor's yearly km to whole km, which the reports do and which
moves a tutor's mileage by at most half a km at their rate (0.28 EUR); the
plan's :attr:`~tutormatch.Assignment.objective` is the report's figure.

Two things break the flow structure: the fixed charge :math:`F_t` and the
scale's tranches (convex up to 10,000 km, then a lower rate: not convex).
Both are bounded from below linearly:

- :math:`F_t \ge F_t \, l_t / k_t` for a load :math:`0 < l_t \le k_t` (the
  charge *amortised* over the capacity), exact at loads 0 and :math:`k_t`;
- :math:`g_t(B_t + Z) - g_t(B_t) \ge \sigma_t Z` for :math:`0 \le Z \le
  Z_t`, :math:`\sigma_t` the least average rate over the tutor's reachable
  range (:math:`B_t` the km of their fixed pairs, :math:`Z_t` the sum of their
  :math:`k_t` longest pairs); exact as long as the total stays in one tranche
  (every tutor below 2,000 km: the usual case).

The min-cost flow with these unit costs (coverage first) is therefore a lower
bound, and its plan is a feasible plan whose true cost is an upper bound. A
node of the search fixes tutors *open* (charge paid, no amortisation) or
*closed* (capacity 0); it is solved when its plan costs what its bound says;
otherwise it branches on the undecided tutor whose partial load loses the most
amortised charge. A rounding heuristic (close the partly loaded tutors) gives
incumbents. Nodes whose only slack is a tranche crossing cannot be split on
tutors: their bound stays in the proven bound, and small problems go on to
CP-SAT on the exact piecewise model (:mod:`tutormatch.solve._euros_cpsat`).

The objective ``"tutors"`` adds a charge :math:`W` larger than any plan's
euros to every tutor: fewest tutors first, then euros, same search.
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
import math
import time
from dataclasses import dataclass
from decimal import Decimal
from itertools import count

import numpy as np
import numpy.typing as npt

from tutormatch.model._costs import BUDGET_TOLERANCE_EUR, CostModel, pair_yearly_km, prior_service_km
from tutormatch.model._eligibility import MODE_ONSITE
from tutormatch.model._money import round_cents
from tutormatch.model._problem import Problem
from tutormatch.solve._backend import BackendResult, Capabilities
from tutormatch.solve._flow_time import FlowTimes, network_size
from tutormatch.solve._network import Network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._status import Status

__all__ = ["EuroBackend", "EuroCosts", "euro_costs", "rounding_eur"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_INT_BUDGET = 2**62
#: Budget for the largest arc cost x (nodes + 1). OR-Tools' min-cost flow
#: scales costs by the node count and refuses (BAD_COST_RANGE) from about
#: 2^61.6 on (measured with 9.15, 3.5e18 already refused on a 96-node
#: graph): 2^60 keeps a margin. A refused range is an error, never "infeasible".
_COST_RANGE = 2**60
_SMALL_M_FACTOR = 4
#: Most integer priority a repair of an over-budget plan may drop, and the
#: most pairs of a tutor whose every subset it tries.
_REPAIR_LOSS = 4_096
_REPAIR_SUBSETS = 4
#: Problems with at most this many arcs and links go on to CP-SAT when the
#: flows leave a gap (a tranche crossed, or the node limit).
CPSAT_ARCS = 20_000


@dataclass(frozen=True, eq=False)
class EuroCosts:
    """The cost model laid on a network, in euros (floats), per arc and per tutor.

    Attributes
    ----------
    arc_eur : per direct arc, indemnity plus the remote cost of remote arcs
    arc_km : per direct arc, yearly road km (0 for remote arcs)
    class_eur : per establishment, the cost of tutoring it through its remote class
    used_eur : per tutor, the charge once used (bonus, recruitment; plus W for "tutors")
    base_km, base_eur : per tutor, yearly km and euros of their fixed pairs
    prior_km : per tutor
    rates : (n_tutors, n_tranches) euros per km
    bounds_km : tranche upper bounds
    tutor_weight : W per used tutor (0 unless the objective is "tutors")
    """

    arc_eur: FloatArray
    arc_km: FloatArray
    class_eur: FloatArray
    used_eur: FloatArray
    base_km: FloatArray
    base_eur: float
    prior_km: FloatArray
    rates: FloatArray
    bounds_km: FloatArray
    tutor_weight: float

    def travel_eur(self, tutors: IntArray | slice, yearly_km: FloatArray) -> FloatArray:
        """Mileage by the scale of ``yearly_km`` driven after each tutor's prior km."""
        prior = self.prior_km[tutors]
        start, stop = prior, prior + yearly_km
        lows = np.concatenate(([0.0], self.bounds_km))
        highs = np.concatenate((self.bounds_km, [np.inf]))
        total = np.zeros(len(start))
        for j in range(len(lows)):
            km = np.clip(np.minimum(stop, highs[j]) - np.maximum(start, lows[j]), 0.0, None)
            total += km * self.rates[tutors, j]
        return total

    def plan_eur(
        self, network: Network, arc_used: npt.NDArray[np.bool_], z: npt.NDArray[np.bool_], loads: IntArray
    ) -> float:
        """Return the euros of a plan on ``network`` (``loads``: per tutor, fixed pairs left out)."""
        km = self.base_km + np.bincount(
            network.arc_tutor[arc_used], weights=self.arc_km[arc_used], minlength=network.n_tutors
        )
        used = (loads + network.fixed_load) > 0
        travel = self.travel_eur(slice(None), km)
        return float(
            self.arc_eur[arc_used].sum()
            + self.class_eur[z].sum()
            + self.base_eur
            + self.used_eur[used].sum()
            + travel[used].sum()
        )

    def least_rate(
        self, capacity: IntArray, arc_tutor: IntArray, base: FloatArray, arc_km: FloatArray
    ) -> FloatArray:
        r"""Return the slope :math:`\sigma_t` of the module notes, per tutor.

        ``base``: km already counted per tutor; ``arc_km``: km of the arcs
        still open to them (0 for the others).
        """
        n_t = len(self.prior_km)
        # Most km a tutor can add: the sum of their `capacity` longest open arcs.
        key = (id(arc_tutor), len(arc_tutor))
        if getattr(self, "_order_key", None) != key:
            order = np.lexsort((-self.arc_km, arc_tutor))
            object.__setattr__(self, "_order", order)
            object.__setattr__(self, "_order_key", key)
        order = self._order  # type: ignore[attr-defined]
        t_sorted = arc_tutor[order]
        open_sorted = arc_km[order] > 0
        counted = np.concatenate(([0], np.cumsum(open_sorted)))
        first = np.searchsorted(t_sorted, np.arange(n_t))
        before = counted[first]
        counted = counted[1:]
        rank = counted - before[t_sorted] - 1
        take = open_sorted & (rank < capacity[t_sorted])
        reach = np.bincount(t_sorted[take], weights=arc_km[order][take], minlength=n_t)
        at = self.prior_km + base
        tranche = np.searchsorted(self.bounds_km, at, side="right")
        slope = self.rates[np.arange(n_t), tranche]
        g0 = self.travel_eur(slice(None), base)
        for z in [*(b - at for b in self.bounds_km), reach]:
            z = np.asarray(z, dtype=np.float64)
            ok = (z > 1e-9) & (z <= reach + 1e-9)
            if ok.any():
                ratio = (self.travel_eur(slice(None), base + np.where(ok, z, 0.0)) - g0) / np.where(
                    ok, z, 1.0
                )
                slope = np.where(ok, np.minimum(slope, ratio), slope)
        return np.maximum(slope, 0.0)


def euro_costs(problem: Problem, network: Network, model: CostModel, objective: str) -> EuroCosts:
    """Lay the cost model on ``network`` (see :class:`EuroCosts`)."""
    t = problem.tutors
    n_t = len(t)
    detour = model.detour(problem)
    indemnity = round_cents(Decimal(model.indemnity_eur)) / 100
    remote = round_cents(Decimal(model.remote_pair_cost_eur)) / 100
    onsite = network.arc_mode == MODE_ONSITE
    distance = (
        problem.distance_km(network.arc_tutor, network.arc_establishment) if network.n_arcs else np.zeros(0)
    )
    arc_km = pair_yearly_km(
        problem, network.arc_establishment, onsite, np.where(onsite, distance, 0.0), detour
    )
    arc_eur = np.where(onsite, indemnity, indemnity + remote)
    fixed = problem.fixed
    base_km = np.zeros(n_t)
    base_eur = 0.0
    if len(fixed):
        ft, fe = fixed[:, 0], fixed[:, 1]
        fd = problem.distance_km(ft, fe)
        from tutormatch.model._eligibility import classify_pairs

        f_on = classify_pairs(problem, ft, fe, fd) == MODE_ONSITE
        np.add.at(base_km, ft, pair_yearly_km(problem, fe, f_on, np.where(f_on, fd, 0.0), detour))
        base_eur = float(len(fixed) * indemnity + (~f_on).sum() * remote)
    keys, _ = model.vehicle_class_keys(t)
    scale = model.scale
    rates = np.array(
        [[float(r) for r in scale.vehicle_class(k).rates_eur_per_km] for k in keys], dtype=np.float64
    ).reshape(n_t, scale.n_tranches)
    used = model.used_cents(t) / 100.0
    weight = 0.0
    if objective == "tutors":
        # More than any plan's euros: every establishment by its dearest arc, every tutor's charge.
        dearest = float(arc_eur.max(initial=0.0)) + indemnity + remote
        travel_cap = float(rates.max(initial=0.0)) * float(arc_km.sum() + base_km.sum())
        weight = math.ceil(
            problem.n_establishments * dearest + float(used.sum()) + travel_cap + base_eur + 1.0
        )
    return EuroCosts(
        arc_eur=arc_eur.astype(np.float64),
        arc_km=arc_km,
        class_eur=np.full(problem.n_establishments, indemnity + remote),
        used_eur=used + weight,
        base_km=base_km,
        base_eur=base_eur,
        prior_km=prior_service_km(t),
        rates=rates,
        bounds_km=np.array(scale.tranche_upper_km, dtype=np.float64),
        tutor_weight=float(weight),
    )


def rounding_eur(problem: Problem, cost_model: CostModel | None) -> float:
    """Return the most euros rounding each tutor's yearly km to whole km (as the reports do) takes off.

    Half a km at the dearest rate, a tutor: what separates the model's euros
    (km summed exactly, bounds included) from the reports' figure.
    """
    scale = (cost_model or CostModel()).scale
    dearest = max(float(r) for c in scale.classes for r in c.rates_eur_per_km)
    return 0.5 * dearest * problem.n_tutors


class _FlowRefusedError(Exception):
    """OR-Tools refused a flow for another reason than infeasibility (a bug: never "infeasible")."""


@dataclass(frozen=True)
class _Node:
    open: frozenset[int]
    closed: frozenset[int]
    forced: frozenset[int] = frozenset()  # arcs in the plan
    banned: frozenset[int] = frozenset()  # arcs out of it


@dataclass
class _Solved:
    """One node's flow: its plan, the plan's true cost and the node's bound."""

    arc_used: npt.NDArray[np.bool_]
    z: npt.NDArray[np.bool_]
    y: IntArray
    loads: IntArray
    uncovered: int  # integer priority left uncovered
    bound: float  # euros, lower bound below the node at this coverage
    cost: float  # euros, the true (model) cost of the node's plan
    slack: FloatArray | None = None  # per tutor, travel the linear bound misses
    forced: npt.NDArray[np.bool_] | None = None
    places: IntArray | None = None  # per tutor, the most establishments they can take here


class EuroBackend:
    """Coverage, then least yearly euros (or fewest tutors, then euros): see the module notes."""

    name = "euros"
    capabilities = Capabilities(all_or_nothing=False, time_limit=True)

    def __init__(
        self,
        problem: Problem,
        model: CostModel,
        objective: str,
        *,
        max_nodes: int = 20_000,
        tutor_price: float = 0.0,
        flow_times: FlowTimes | None = None,
    ) -> None:
        self.problem = problem
        self.model = model
        self.objective = objective
        self.max_nodes = max_nodes
        # The estimate of a flow's time (solve/_flow_time.py), shared with the searches around this one.
        self.flow_times = flow_times if flow_times is not None else FlowTimes()
        # Euros added to every tutor's charge (a Lagrangian price on the number of tutors).
        self.tutor_price = tutor_price

    # -- one relaxation ----------------------------------------------------

    def _prepare(self, network: Network, costs: EuroCosts) -> None:
        """Choose the integer unit and the big M (from the dearest rate, valid at every node)."""
        self.costs = costs
        self._amortised = costs.used_eur / np.maximum(network.capacity, 1)
        self._has_link = np.zeros(network.n_tutors, dtype=bool)
        self._has_link[network.link_tutor] = True
        dearest = costs.rates.max(axis=1, initial=0.0)
        arc = costs.arc_eur + dearest[network.arc_tutor] * costs.arc_km
        n_nodes = network.n_establishments + network.n_classes + network.n_tutors + 2
        top_route = float(max(arc.max(initial=0.0), costs.class_eur.max(initial=0.0))) + float(
            self._amortised.max(initial=0.0)
        )
        unit = 1e-5
        top_priority = int(network.priority_int.max(initial=1))
        all_priority = int(network.priority_int[network.active].sum())
        while True:
            m = int(network.active.sum() * top_route / unit) + 2
            fits = m * top_priority * (n_nodes + 1) < _COST_RANGE and m * (all_priority + 1) < _INT_BUDGET
            if fits or unit >= 1e3:
                break
            unit *= 10.0
        self._big_m = m
        self._unit = unit
        self._class_int = np.floor(costs.class_eur / unit).astype(np.int64)
        self._root_uncovered = -1

    def _flow(
        self,
        network: Network,
        arc_int: IntArray,
        arc_cap: IntArray,
        supply_e: IntArray,
        capacity: IntArray,
        min_load: IntArray,
        extra_supply: IntArray,
        sink_cost: IntArray,
        m: int,
    ) -> tuple[bool, IntArray, int]:
        from ortools.graph.python import min_cost_flow  # imported on use: `import tutormatch` stays cheap

        n_e, n_c, n_t = network.n_establishments, network.n_classes, network.n_tutors
        hub0, tutor0 = n_e, n_e + n_c
        sink = n_e + n_c + n_t
        active = np.flatnonzero(network.active)
        has_class = active[network.remote_class[active] >= 0]
        tails = np.concatenate(
            (network.arc_establishment, has_class, hub0 + network.link_class, tutor0 + np.arange(n_t), active)
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
                np.where(capacity[network.arc_tutor] == 0, 0, arc_cap).astype(np.int64),
                np.ones(len(has_class), dtype=np.int64),
                capacity[network.link_tutor],
                np.maximum(capacity - min_load, 0),
                np.ones(len(active), dtype=np.int64),
            )
        )
        # The charge sits on the arcs into a tutor (direct and links): the
        # tutor -> sink arc of a minimum load does not carry the demand part.
        costs = np.concatenate(
            (
                arc_int + sink_cost[network.arc_tutor],
                self._class_int[has_class],
                sink_cost[network.link_tutor],
                np.zeros(n_t, dtype=np.int64),
                m * network.priority_int[active],
            )
        )
        supplies = np.zeros(sink + 1, dtype=np.int64)
        supplies[active] = supply_e[active]
        # A forced arc (lower bound 1) moves one unit of supply from its
        # establishment to its tutor.
        supplies[tutor0 : tutor0 + n_t] = extra_supply - min_load
        supplies[sink] = -int(supplies[:sink].sum())
        smcf = min_cost_flow.SimpleMinCostFlow()
        arcs = smcf.add_arcs_with_capacity_and_unit_cost(
            tails.astype(np.int32), heads.astype(np.int32), caps, costs
        )
        smcf.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
        status = smcf.solve()
        if status == smcf.INFEASIBLE:
            return False, np.zeros(len(tails), dtype=np.int64), 0
        if status != smcf.OPTIMAL:
            raise _FlowRefusedError(f"min-cost flow refused the euro flow ({status.name})")
        flows = np.asarray(smcf.flows(arcs), dtype=np.int64)
        return True, flows, int(flows @ costs)

    def _relax(self, network: Network, costs: EuroCosts, node: _Node) -> _Solved | None:
        n_t, n_a = network.n_tutors, network.n_arcs
        capacity = network.capacity.copy()
        min_load = network.min_load.copy()
        if node.closed:
            capacity[list(node.closed)] = 0
            min_load[list(node.closed)] = 0
        forced = np.zeros(n_a, dtype=bool)
        if node.forced:
            forced[list(node.forced)] = True
        arc_cap = np.ones(n_a, dtype=np.int64)
        arc_cap[forced] = 0
        if node.banned:
            arc_cap[list(node.banned)] = 0
        forced_load = np.bincount(network.arc_tutor[forced], minlength=n_t).astype(np.int64)
        if (forced_load > capacity).any():
            return None
        base = costs.base_km + np.bincount(
            network.arc_tutor[forced], weights=costs.arc_km[forced], minlength=n_t
        )
        supply_e = np.ones(network.n_establishments, dtype=np.int64)
        supply_e[network.arc_establishment[forced]] = 0
        left_capacity = capacity - forced_load
        slope = costs.least_rate(
            left_capacity, network.arc_tutor, base, np.where(arc_cap > 0, costs.arc_km, 0.0)
        )
        arc_int = np.floor((costs.arc_eur + slope[network.arc_tutor] * costs.arc_km) / self._unit).astype(
            np.int64
        )
        # A tutor takes at most as many establishments as they have open
        # arcs (or their capacity, with remote links): spread the charge over that.
        places = np.minimum(left_capacity, np.bincount(network.arc_tutor[arc_cap > 0], minlength=n_t))
        places = np.where(self._has_link, left_capacity, places)
        sink = np.floor(costs.used_eur / np.maximum(places, 1) / self._unit).astype(np.int64)
        open_ = (network.fixed_load > 0) | (forced_load > 0)
        if node.open:
            open_[list(node.open)] = True
        sink[open_] = 0
        n_active = int(network.active.sum())
        small = (
            _SMALL_M_FACTOR
            * int(max(arc_int.max(initial=0), self._class_int.max(initial=0), 1) + sink.max(initial=0))
            + 1
        )
        for m in [small, self._big_m] if small < self._big_m else [self._big_m]:
            ok, flows, value = self._flow(
                network, arc_int, arc_cap, supply_e, capacity, min_load, forced_load, sink, m
            )
            if not ok:
                return None
            left = flows[len(flows) - n_active :]
            uncovered = int(network.priority_int[network.active] @ left)
            if m == self._big_m or uncovered <= self._root_uncovered:
                break
        cost_int = value - m * uncovered
        travel_base = costs.travel_eur(slice(None), base)
        constant = (
            costs.base_eur
            + float(costs.arc_eur[forced].sum())
            + float(costs.used_eur[open_].sum())
            + float(travel_base[base > 0].sum())
        )
        solved = self._solved_from(network, costs, flows, uncovered, cost_int * self._unit + constant, forced)
        # What the linear travel bound misses, per tutor (0 when exact).
        used_km = np.bincount(
            network.arc_tutor[solved.arc_used], weights=costs.arc_km[solved.arc_used], minlength=n_t
        )
        linear = travel_base + slope * (used_km - (base - costs.base_km))
        solved.slack = costs.travel_eur(slice(None), costs.base_km + used_km) - linear
        solved.forced = forced
        solved.places = places + forced_load
        return solved

    def _solved_from(
        self,
        network: Network,
        costs: EuroCosts,
        flows: IntArray,
        uncovered: int,
        bound: float,
        forced: npt.NDArray[np.bool_] | None = None,
    ) -> _Solved:
        n_a = network.n_arcs
        n_r = int(((network.remote_class >= 0) & network.active).sum())
        n_l = len(network.link_class)
        arc_used = flows[:n_a] > 0
        if forced is not None:
            arc_used = arc_used | forced
        z = np.zeros(network.n_establishments, dtype=bool)
        active = np.flatnonzero(network.active)
        z[active[network.remote_class[active] >= 0]] = flows[n_a : n_a + n_r] > 0
        y = flows[n_a + n_r : n_a + n_r + n_l]
        loads = network.free_loads(arc_used, y)
        return _Solved(
            arc_used, z, y, loads, uncovered, bound, self._true_cost(network, costs, arc_used, z, loads)
        )

    def _true_cost(
        self,
        network: Network,
        costs: EuroCosts,
        arc_used: npt.NDArray[np.bool_],
        z: npt.NDArray[np.bool_],
        loads: IntArray,
    ) -> float:
        return costs.plan_eur(network, arc_used, z, loads)

    # -- a budget: Lagrangian flows -----------------------------------------

    def within_budget(
        self,
        network: Network,
        budget: float,
        options: SolveOptions,
        *,
        steps: int = 24,
        price_eur: float | None = None,
        prove: bool = False,
    ) -> tuple[BackendResult | None, int]:
        r"""Plans within ``budget`` from flows that price coverage, and a bound on coverage.

        Each flow minimises :math:`c(x) + m \, u(x)` (amortised euros, *m*
        the price of a unit of uncovered integer priority). Any plan within
        the budget costs at least :math:`c(x) \le B`, so the uncovered
        priority of every plan within budget is at least :math:`(V_m - B)/m`,
        :math:`V_m` the flow's optimum: a bound for each *m*. Each flow's plan
        whose true euros fit is a candidate. *m* is searched on a log scale.

        Returns the best plan within the budget (most priority, then least
        euros; ``None`` if no flow found one) and the least uncovered integer
        priority proven.
        """
        started = time.perf_counter()
        deadline = started + options.time_limit if math.isfinite(options.time_limit) else math.inf
        costs = euro_costs(self.problem, network, self.model, "euros")
        self._prepare(network, costs)
        n_t, n_a = network.n_tutors, network.n_arcs
        capacity, min_load = network.capacity, network.min_load
        sink = np.floor(self._amortised / self._unit).astype(np.int64)
        forced = network.fixed_load > 0
        sink[forced] = 0
        slope = costs.least_rate(capacity, network.arc_tutor, costs.base_km, costs.arc_km)
        arc_int = np.floor((costs.arc_eur + slope[network.arc_tutor] * costs.arc_km) / self._unit).astype(
            np.int64
        )
        base_travel = costs.travel_eur(slice(None), costs.base_km)
        constant = costs.base_eur + float(costs.used_eur[forced].sum()) + float(base_travel.sum())
        ones = np.ones(n_a, dtype=np.int64)
        supply_e = np.ones(network.n_establishments, dtype=np.int64)
        no_extra = np.zeros(n_t, dtype=np.int64)
        room = (budget - constant) / self._unit
        n_active = int(network.active.sum())
        best: tuple[int, float, _Solved] | None = None
        least_uncovered = 0
        values: list[tuple[int, int]] = []  # (price m, the flow's optimum V_m)
        within: list[int] = []  # prices whose flow plan is within the budget
        low, high = 0.0, math.log(max(self._big_m, 2))
        # Start near the price at which covering pays: a plan's euros per
        # unit of priority it covers (the over-budget optimum's), within 10^±3.
        covered_int = int(network.priority_int[network.active].sum())
        if price_eur is not None and price_eur > 0 and covered_int > 0:
            centre = math.log(max(price_eur / self._unit, 1.0))
            low, high = max(low, centre - math.log(1e3)), min(high, centre + math.log(1e3))
        times, size = self.flow_times, network_size(network)
        for step in range(steps):
            if step and not times.has_time(deadline, size):
                break  # not the time of one more flow: the bounds so far hold
            mid = (low + high) / 2
            m = max(int(math.exp(mid)), 1)
            try:
                ok, flows, value = times.timed(
                    size,
                    functools.partial(
                        self._flow, network, arc_int, ones, supply_e, capacity, min_load, no_extra, sink, m
                    ),
                )
            except _FlowRefusedError:
                ok = False  # the bounds of the prices tried so far stay valid
            if not ok:
                break
            left = flows[len(flows) - n_active :]
            uncovered = int(network.priority_int[network.active] @ left)
            least_uncovered = max(least_uncovered, math.ceil((value - room) / m - 1e-9))
            values.append((m, value))
            solved = self._solved_from(network, costs, flows, uncovered, 0.0)
            if solved.cost <= budget + BUDGET_TOLERANCE_EUR:
                within.append(m)
                if best is None or (uncovered, solved.cost) < (best[0], best[1]):
                    best = (uncovered, solved.cost, solved)
                low = mid  # within budget: price coverage higher
            else:
                high = mid
                # Over the budget: drop the least priority that brings it back within.
                cap = _REPAIR_LOSS if best is None else min(best[0] - uncovered, _REPAIR_LOSS)
                repaired = self._drop_to_budget(network, costs, solved, budget, cap)
                if repaired is not None and (
                    best is None or (repaired.uncovered, repaired.cost) < (best[0], best[1])
                ):
                    best = (repaired.uncovered, repaired.cost, repaired)
        if best is None:
            return None, least_uncovered
        # Prices worth an exact search (solve/_budget_price.py): the highest whose flow plan
        # fits, the lowest above it, the one whose bound on coverage is the best.
        prices = [max(within)] if within else []
        prices += [min((m for m, _ in values if m > max(within, default=0)), default=0)]
        prices += [max(values, key=lambda mv: (mv[1] - room) / mv[0])[0]] if values else []
        prices_eur = list(dict.fromkeys(m * self._unit for m in prices if m > 0))
        solved = best[2]
        # Coverage proven: every plan that covers as much costs at least
        # unit x (V_m - m x U) + constant at each price (its flow is a lower
        # bound of c(x) + m u(x), and u(x) <= U): a bound on the euros.
        bound_eur = math.nan
        if solved.uncovered <= least_uncovered:
            bound_eur = max(self._unit * (v - m * solved.uncovered) + constant for m, v in values)
        tol = self._unit * (2 * n_active + 1) + 1e-9 * max(abs(solved.cost), 1.0)
        proven = prove and bound_eur >= solved.cost - tol
        return (
            BackendResult(
                status=Status.OPTIMAL if proven else Status.FEASIBLE,
                message=f"Lagrangian flows within the budget ({len(values)} prices)"
                + (": optimal" if proven else ""),
                arc_used=solved.arc_used,
                z=solved.z,
                y=solved.y,
                objective=solved.uncovered,
                bound=solved.cost if proven else bound_eur,
                stats={
                    "model_eur": solved.cost,
                    "bound_eur": solved.cost if proven else bound_eur,
                    "uncovered_int": solved.uncovered,
                    "budget_prices_eur": prices_eur,
                },
            ),
            least_uncovered,
        )

    def _drop_to_budget(
        self, network: Network, costs: EuroCosts, solved: _Solved, budget: float, max_loss: int
    ) -> _Solved | None:
        """Drop from an over-budget plan the least priority that brings it within ``budget``.

        A multiple-choice knapsack, exact over its choices: per tutor, which of
        their pairs to drop (their mileage recomputed by the scale, their
        charge saved when none is left), per establishment tutored through a
        remote class whether to drop it; the least integer priority lost
        (at most ``max_loss``) whose savings cover the excess, then the most
        savings. The plan's euros are then recomputed, never assumed.
        """
        need = solved.cost - budget
        if need <= 0 or max_loss < 0 or network.all_or_nothing:
            return None
        prio = network.priority_int
        n_t = network.n_tutors
        arcs = np.flatnonzero(solved.arc_used)
        if solved.forced is not None:
            arcs = arcs[~solved.forced[arcs]]
        tutor_of = network.arc_tutor[arcs]
        km = costs.base_km + np.bincount(
            network.arc_tutor[solved.arc_used], weights=costs.arc_km[solved.arc_used], minlength=n_t
        )
        class_load = np.zeros(n_t, dtype=np.int64)
        if len(network.link_tutor):
            np.add.at(class_load, network.link_tutor, solved.y)
        # Options per group: (loss, saving, arcs dropped, class establishments dropped).
        groups: list[list[tuple[int, float, list[int], list[int]]]] = []
        for t in np.unique(tutor_of).tolist():
            mine = arcs[tutor_of == t].tolist()
            subsets: list[tuple[int, ...]] = []
            if len(mine) <= _REPAIR_SUBSETS:
                for mask in range(1, 1 << len(mine)):
                    subsets.append(tuple(a for i, a in enumerate(mine) if mask >> i & 1))
            else:
                subsets = [(a,) for a in mine] + [tuple(mine)]
            options: list[tuple[int, float, list[int], list[int]]] = []
            now = float(costs.travel_eur(np.array([t]), np.array([km[t]]))[0])
            for subset in subsets:
                dropped = list(subset)
                loss = int(prio[network.arc_establishment[dropped]].sum())
                if loss > max_loss or len(mine) - len(dropped) + class_load[t] < network.min_load[t]:
                    continue
                left_km = km[t] - float(costs.arc_km[dropped].sum())
                saving = float(costs.arc_eur[dropped].sum()) + now
                saving -= float(costs.travel_eur(np.array([t]), np.array([left_km]))[0])
                if len(dropped) == len(mine) and network.fixed_load[t] == 0 and class_load[t] == 0:
                    saving += float(costs.used_eur[t])  # no pair left: the charge is saved too
                options.append((loss, saving, dropped, []))
            groups.append(options)
        for e in np.flatnonzero(solved.z).tolist():
            if int(prio[e]) <= max_loss:
                groups.append([(int(prio[e]), float(costs.class_eur[e]), [], [e])])
        # dp[l]: most savings losing exactly l; choice[g][l]: the option group g took.
        dp = np.full(max_loss + 1, -np.inf)
        dp[0] = 0.0
        choice: list[npt.NDArray[np.int64]] = []
        for options in groups:
            new = dp.copy()
            took = np.full(max_loss + 1, -1, dtype=np.int64)
            for k, (loss, saving, _, _) in enumerate(options):
                if loss > max_loss:
                    continue
                shifted = np.full(max_loss + 1, -np.inf)
                shifted[loss:] = dp[: max_loss + 1 - loss] + saving
                better = shifted > new
                new[better] = shifted[better]
                took[better] = k
            dp = new
            choice.append(took)
        fits = np.flatnonzero(dp >= need + BUDGET_TOLERANCE_EUR)
        if len(fits) == 0:
            return None
        level = int(fits[0])
        arc_used = solved.arc_used.copy()
        z = solved.z.copy()
        y = solved.y.copy()
        for g in range(len(groups) - 1, -1, -1):
            k = int(choice[g][level])
            if k < 0:
                continue
            loss, _, dropped, members = groups[g][k]
            arc_used[dropped] = False
            level -= loss
            for e in members:
                z[e] = False
                # One fewer member of the class for one of its tutors (the most loaded).
                links = np.flatnonzero((network.link_class == network.remote_class[e]) & (y > 0))
                y[links[np.argmax(y[links])]] -= 1
        loads = np.bincount(network.arc_tutor[arc_used], minlength=n_t).astype(np.int64)
        if len(network.link_tutor):
            np.add.at(loads, network.link_tutor, y)
        if (loads < network.min_load).any():
            return None  # a class drop took a tutor below their minimum load
        cost = self._true_cost(network, costs, arc_used, z, loads)
        if cost > budget + BUDGET_TOLERANCE_EUR:
            return None
        covered = np.zeros(network.n_establishments, dtype=bool)
        covered[network.arc_establishment[arc_used]] = True
        covered |= z
        uncovered = int(prio[network.active & ~covered].sum())
        return _Solved(arc_used, z, y, loads, uncovered, 0.0, cost)

    # -- the search ----------------------------------------------------------

    def solve(
        self, network: Network, options: SolveOptions, *, stop_above: float | None = None
    ) -> BackendResult:
        """Search as described in the module notes.

        ``stop_above``: euros (objective ``"euros"``) beyond which the search may
        stop once its proven bound passes them (a budget no plan can meet).
        """
        try:
            return self._search(network, options, stop_above)
        except _FlowRefusedError as refused:
            return BackendResult.without_solution(network, Status.ERROR, str(refused))

    def _search(self, network: Network, options: SolveOptions, stop_above: float | None) -> BackendResult:
        started = time.perf_counter()
        deadline = started + options.time_limit if math.isfinite(options.time_limit) else math.inf
        costs = euro_costs(self.problem, network, self.model, self.objective)
        if self.tutor_price:
            costs = dataclasses.replace(costs, used_eur=costs.used_eur + self.tutor_price)
        self._prepare(network, costs)
        times, size = self.flow_times, network_size(network)

        def relax(node: _Node) -> _Solved | None:
            return times.timed(size, lambda: self._relax(network, costs, node))

        def has_time() -> bool:
            # Not a flow started that would end past the deadline (solve/_flow_time.py).
            return times.has_time(deadline, size)

        must = np.flatnonzero((network.fixed_load > 0) | (network.min_load > 0))
        root = _Node(open=frozenset(must.tolist()), closed=frozenset())
        first = relax(root)
        if first is None:
            return BackendResult.without_solution(
                network, Status.INFEASIBLE, "min-cost flow: no flow meets the minimum loads"
            )
        self._root_uncovered = first.uncovered
        # Slack of the integer rounding (floors on every arc and charge).
        # Slack of the integer rounding: one floored arc cost and one floored
        # charge per covered establishment.
        tol = self._unit * (2 * int(network.active.sum()) + 1) + 1e-9 * max(first.cost, 1.0)
        best = first
        tick = count()
        heap: list[tuple[float, int, _Node, _Solved]] = []
        stuck: list[float] = []  # bounds of nodes that only a tranche crossing keeps open
        nodes = flows = 1

        def partial(node: _Node, solved: _Solved) -> IntArray:
            loads = solved.loads
            places = solved.places if solved.places is not None else network.capacity
            amort = costs.used_eur * (1 - loads / np.maximum(places, 1))
            mask = (loads > 0) & (loads < places) & (costs.used_eur > 0)
            if node.open:
                mask[list(node.open)] = False
            if node.closed:
                mask[list(node.closed)] = False
            idx = np.flatnonzero(mask)
            return idx[np.argsort(-amort[idx], kind="stable")]

        def offer(solved: _Solved) -> None:
            nonlocal best
            if solved.uncovered == best.uncovered and solved.cost < best.cost - 1e-9:
                best = solved

        def children(node: _Node, solved: _Solved) -> tuple[_Node, _Node] | None:
            split = partial(node, solved)
            if len(split):
                tutor = int(split[0])
                return (
                    _Node(node.open | {tutor}, node.closed, node.forced, node.banned),
                    _Node(node.open, node.closed | {tutor}, node.forced, node.banned),
                )
            # No charge left to split: the slack is a tranche crossed. Branch
            # on the crossing tutor's longest free arc: in the plan (its km
            # join the tutor's base, the bound on the rest tightens) or out.
            slack = solved.slack if solved.slack is not None else np.zeros(network.n_tutors)
            tutor = int(np.argmax(slack))
            if slack[tutor] <= tol:
                return None
            free = np.flatnonzero(
                solved.arc_used
                & (network.arc_tutor == tutor)
                & ~(solved.forced if solved.forced is not None else False)
            )
            if len(free) == 0:
                return None
            arc = int(free[np.argmax(costs.arc_km[free])])
            return (
                _Node(node.open | {tutor}, node.closed, node.forced | {arc}, node.banned),
                _Node(node.open, node.closed, node.forced, node.banned | {arc}),
            )

        def consider(node: _Node, solved: _Solved | None) -> None:
            nonlocal flows
            if solved is None or solved.uncovered > first.uncovered:
                return
            offer(solved)
            if solved.bound >= best.cost - tol:
                return
            pair = children(node, solved)
            if pair is None:
                if solved.cost > solved.bound + tol:
                    stuck.append(solved.bound)
                return
            split = partial(node, solved)
            if len(split) and has_time():
                # Rounding: close the partly loaded tutors, keep the rest free.
                rounded = _Node(node.open, node.closed | frozenset(split.tolist()), node.forced, node.banned)
                r = relax(rounded)
                flows += 1
                if r is not None and r.uncovered == first.uncovered:
                    offer(r)
            heapq.heappush(heap, (solved.bound, next(tick), node, solved))

        consider(root, first)
        while heap and nodes < self.max_nodes and has_time():
            bound, _, node, solved = heapq.heappop(heap)
            verdict = stop_search(
                bound,
                best.cost,
                tol,
                stop_above=stop_above,
                tutor_weight=costs.tutor_weight,
                relative_gap=options.relative_gap,
            )
            if verdict == "done":
                heap.clear()
                break
            if verdict == "keep":
                heapq.heappush(heap, (bound, next(tick), node, solved))
                break
            pair = children(node, solved)
            assert pair is not None  # only nodes with children enter the heap
            for k, child in enumerate(pair):
                if k and not has_time():
                    heapq.heappush(heap, (bound, next(tick), node, solved))  # its bound stays proven
                    break
                nodes += 1
                flows += 1
                consider(child, relax(child))
        proven = min([h[0] for h in heap] + stuck + [best.cost])
        optimal = best.cost - proven <= tol
        seconds = time.perf_counter() - started
        # Back from the composite "W x tutors + euros" of the objective "tutors" to euros.
        weight = costs.tutor_weight
        n_used = int(((best.loads + network.fixed_load) > 0).sum())
        model_eur, bound_eur = split_tutor_weight(
            best.cost, proven, optimal=optimal, weight=weight, n_used=n_used, tol=tol
        )
        stats = {
            "nodes": nodes,
            "flows": flows,
            "seconds": seconds,
            "flow_seconds": times.estimate(size),
            "cost_unit_eur": self._unit,
            "tranche_nodes": len(stuck),
            "model_eur": model_eur,
            "bound_eur": bound_eur,
            "uncovered_int": best.uncovered,
            # Any plan below costs W x n + euros with euros < W: n >= floor(bound / W).
            "tutors_bound": math.floor(proven / weight + 1e-12) if weight else None,
        }
        what = (
            "coverage, then fewest tutors, then euros"
            if self.objective == "tutors"
            else "coverage, then euros"
        )
        message = (
            f"branch and bound on tutors ({what}): optimal after {nodes} nodes ({flows} flows)"
            if optimal
            else f"branch and bound on tutors ({what}): gap left after {nodes} nodes ({flows} flows)"
        )
        return BackendResult(
            status=Status.OPTIMAL if optimal else Status.FEASIBLE,
            message=message,
            arc_used=best.arc_used,
            z=best.z,
            y=best.y,
            objective=best.uncovered,
            bound=bound_eur,
            stats=stats,
        )


def stop_search(
    bound: float,
    best_cost: float,
    tol: float,
    *,
    stop_above: float | None,
    tutor_weight: float,
    relative_gap: float,
) -> str | None:
    """Say what a best-first search does with the node of least ``bound`` it just popped.

    ``"done"``: no open node can beat the best plan (the search is proven);
    ``"keep"``: stop, the node back in the heap (its bound stays the proven
    one): a budget out of reach at this coverage, or within the caller's
    relative gap; ``None``: branch on it.
    """
    if bound >= best_cost - tol:
        return "done"
    if stop_above is not None and not tutor_weight and bound > stop_above:
        return "keep"  # every plan at this coverage costs more: the caller's budget is out of reach
    if best_cost - bound <= relative_gap * abs(best_cost):
        return "keep"  # close enough for the caller (SolveOptions.relative_gap): gap kept
    return None


def split_tutor_weight(
    best_cost: float, proven: float, *, optimal: bool, weight: float, n_used: int, tol: float
) -> tuple[float, float]:
    """Return the plan's model euros and their proven bound, back from "W x tutors + euros".

    The bound is ``nan`` when the number of tutors itself is not proven.
    """
    model_eur = best_cost - weight * n_used
    if optimal:
        return model_eur, model_eur
    if proven >= weight * n_used - tol:
        return model_eur, proven - weight * n_used
    return model_eur, math.nan


def with_stats(result: BackendResult, **stats: object) -> BackendResult:
    """Return ``result`` with more statistics."""
    return dataclasses.replace(result, stats={**result.stats, **stats})
