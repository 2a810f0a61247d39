r"""The ordered criteria on a network too large for a CP-SAT model in the time: flows for plans and bounds.

Notes
-----
At national scale (8,000 x 4,000, 846,304 pairs) the CP-SAT engine of
:mod:`tutormatch.solve._lexico` took 20-40 s to build its model and CP-SAT
could not even complete a fixed plan in 12 s (measured, see
``benchmarks/results/fairness.md``). On a network of more than
:data:`LARGE_ARCS` arcs (and without all-or-nothing loads, which flows do
not keep) each phase is therefore decided by min-cost flows, each one exact
for the coverage (the network's lexicographic objective): the flow keeps the
most priority whatever the costs it is given.

Pairs that no plan of most priority can use are left out first (exact):
with an optimal dual :math:`d` of the coverage flow (min loads dropped), a
pair arc of positive reduced cost carries no flow in any optimal flow, and an
establishment whose arc from the source has a negative one is covered by
every plan of most priority (complementary slackness; nothing is claimed if
that flow covers more than the plans with their min loads).

For each criterion :math:`k`, in order:

- **plans**: the incumbent (first the plan of least km, so the result is
  never worse than it), the criterion's own exact method when it has one
  (the bottleneck search for ``worst-trip``, the euro search for ``tutors``, the
  full-loads matching where it fits), and plans that lean towards the
  criterion: flows with Lagrangian prices on the tutors over a yearly limit
  (``worst-year``, the limit bisected between the bound and the best plan);
  exchange paths for ``full-loads`` (a tutor below capacity hands an
  establishment to one that takes it and hands one of its own on, ... to a
  tutor one short of full: one more full tutor, coverage and the other loads
  unchanged); flows with a price on the pairs that leave a group's main
  tutor, then groups kept whole one at a time (each group's pairs to one
  tutor, kept when the coverage holds: a member left uncovered may keep a
  group whole, remote pairs included) (``groups``); for ``km`` after other
  criteria, the least km with
  every tutor's load kept (full loads and tutors used unchanged). The best
  plan that keeps every earlier criterion within its limit (km breaking
  ties) becomes the incumbent;
- **bound**, proven for every plan of most priority (a relaxation of the
  earlier limits): ``km`` the flow's optimum; ``worst-trip`` and
  ``tutors`` its exact search' (when proven); ``worst-year``
  the least yearly limit :math:`W` under which max flows (one per priority
  level: covered priority is a weighted matroid rank) still reach the
  coverage when each tutor may only take pairs within :math:`W` less its
  fixed km and at most one pair longer than half of that (two would exceed
  it), bisected to 0.1 %; ``full-loads`` the most tutors whose places fit
  in the most establishments any plan covers (a max flow); ``groups`` the
  groups split by every plan: a group is whole only if one tutor covers all
  its covered members, so one with more must-cover members than any one
  tutor can take is split, and the others stay whole only by leaving
  members uncovered: at most as many as the cheapest such uncoverings fit
  in the priority the coverage leaves uncovered (a knapsack, smallest
  first).

A phase is proven when its plan meets its bound; the limit handed to the
next phases is the plan's value (widened by the tolerance), as in the
CP-SAT engine.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tutormatch.model._costs import CostModel
from tutormatch.model._eligibility import MODE_ONSITE
from tutormatch.model._problem import Problem
from tutormatch.solve._assignment import Assignment
from tutormatch.solve._backend import BackendResult
from tutormatch.solve._criteria import Criterion
from tutormatch.solve._euros import rounding_eur
from tutormatch.solve._flow_bounds import (
    coverage_certificate,
    covered_int,
    level_graph,
    min_cost_flow_on,
    threshold_floor,
    two_long_floor,
)
from tutormatch.solve._flow_time import FlowTimes, network_size
from tutormatch.solve._network import Network
from tutormatch.solve._status import Status

__all__ = ["LARGE_ARCS", "FlowPhase", "is_large", "solve_by_flows", "suits_flows"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Networks with more arcs than this are decided by flows (the CP-SAT model
#: of the académie's 50,000 pairs builds in about 2 s; the national 846,304 in 20-40 s).
LARGE_ARCS = 250_000
#: Criteria the flows decide (the others need the CP-SAT engine).
FLOW_CRITERIA = ("km", "euros", "tutors", "worst-trip", "worst-year", "full-loads", "groups")
_EPS = 1e-9
#: Tutors tried for each group kept whole by :meth:`_Search._whole_groups`.
_WHOLE_TRIES = 10


def suits_flows(network: Network, names: tuple[str, ...]) -> bool:
    """Whether flows can decide the ordered criteria ``names`` (no all-or-nothing loads)."""
    return not network.all_or_nothing and all(n in ("coverage", *FLOW_CRITERIA) for n in names)


def is_large(network: Network, names: tuple[str, ...], groups_hard: bool) -> bool:
    """Whether the ordered criteria ``names`` go to the flows alone (see the module notes)."""
    del groups_hard  # hard groups too: one tutor a group
    return network.n_arcs > LARGE_ARCS and suits_flows(network, names)


@dataclass
class FlowPhase:
    """One criterion's outcome: the plan's value, the proven bound (criterion units), the method."""

    criterion: Criterion
    value: float
    bound: float
    proven: bool
    method: str


class _Meter:
    """Each criterion's value of a flow answer on the network, in :func:`criterion_value`'s units."""

    def __init__(self, problem: Problem, network: Network, cost_model: CostModel | None = None) -> None:
        from tutormatch.solve._groups import establishment_groups
        from tutormatch.solve._lexico_model import fixed_pairs_plan

        self.problem, self.network = problem, network
        n_t = network.n_tutors
        if len(problem.fixed):
            plan = fixed_pairs_plan(problem)
            self.fixed_tutor: IntArray = plan.tutor
            self.fixed_establishment: IntArray = plan.establishment
            self.base_yearly: FloatArray = np.asarray(
                np.bincount(plan.tutor, weights=plan.yearly_km, minlength=n_t), dtype=np.float64
            )
            self.fixed_worst, self.fixed_km = float(plan.max_distance_km), float(plan.cost_km.sum())
        else:  # a plan of no pairs costs seconds to build at national scale: nothing to build
            self.fixed_tutor = self.fixed_establishment = np.zeros(0, dtype=np.int64)
            self.base_yearly = np.zeros(n_t, dtype=np.float64)
            self.fixed_worst, self.fixed_km = 0.0, 0.0
        onsite = network.arc_mode == MODE_ONSITE
        self.onsite = onsite
        t, e = network.arc_tutor, network.arc_establishment
        self.distance = problem.distance_km(t, e) if network.n_arcs else np.zeros(0)
        detour = problem.detour_factor if problem.distance_matrix is None else 1.0
        visits = problem.establishments.visits_per_year[e]
        self.yearly = np.where(onsite, 2.0 * visits * np.nan_to_num(self.distance) * detour, 0.0)
        self.cost_model = cost_model
        self._euro_costs: Any = None
        labels = establishment_groups(problem)
        codes = {g: i for i, g in enumerate(sorted(set(labels.tolist()) - {""}))}
        self.group = np.array([codes.get(g, -1) for g in labels.tolist()], dtype=np.int64)
        self.n_groups = len(codes)
        self.labels = labels

    def pairs(self, result: BackendResult) -> tuple[IntArray, IntArray]:
        """Return every pair of the answer (tutor, establishment), remote split and fixed pairs included."""
        from tutormatch.solve._remote import split_remote

        net = self.network
        split = split_remote(net, result.z, result.y)
        tutor = np.concatenate((net.arc_tutor[result.arc_used], split.tutor, self.fixed_tutor))
        est = np.concatenate(
            (net.arc_establishment[result.arc_used], split.establishment, self.fixed_establishment)
        )
        return tutor.astype(np.int64), est.astype(np.int64)

    def loads(self, result: BackendResult) -> IntArray:
        net = self.network
        return net.free_loads(result.arc_used, result.y) + np.bincount(
            self.fixed_tutor, minlength=net.n_tutors
        )

    def value(self, result: BackendResult, name: str) -> float:
        net, used = self.network, result.arc_used
        if name == "coverage":
            covered = np.zeros(net.n_establishments, dtype=bool)
            covered[net.arc_establishment[used]] = True
            covered |= result.z
            covered[self.fixed_establishment] = True
            return float(self.problem.establishments.priority[covered].sum())
        if name == "km":
            return float(self.km_int(result))  # network units: compared, never reported
        if name == "worst-trip":
            on = used & self.onsite
            return max(float(self.distance[on].max(initial=0.0)), self.fixed_worst)
        if name == "worst-year":
            yearly = self.base_yearly.copy()
            np.add.at(yearly, net.arc_tutor[used], self.yearly[used])
            return float(yearly.max(initial=0.0))
        if name in ("full-loads", "tutors"):
            loads = self.loads(result)
            if name == "tutors":
                return float((loads > 0).sum())
            capacity = self.problem.tutors.capacity
            return float(((loads == capacity) & (capacity > 0)).sum())
        if name == "euros":
            return self.euros(result)
        if name == "groups":
            tutor, est = self.pairs(result)
            g = self.group[est]
            keys = np.unique(g[g >= 0] * (net.n_tutors + 1) + tutor[g >= 0])
            return float((np.bincount(keys // (net.n_tutors + 1), minlength=self.n_groups) > 1).sum())
        raise ValueError(name)  # pragma: no cover - the engine sends only the criteria above

    def euros(self, result: BackendResult) -> float:
        """Return the model euros of the answer (yearly km summed exactly, as the euro search counts them)."""
        from tutormatch.solve._euros import euro_costs

        net = self.network
        if self._euro_costs is None:
            self._euro_costs = euro_costs(self.problem, net, self.cost_model or CostModel(), "euros")
        loads = net.free_loads(result.arc_used, result.y)
        return float(self._euro_costs.plan_eur(net, result.arc_used, result.z, loads))

    def km_int(self, result: BackendResult) -> int:
        net = self.network
        return int(net.arc_cost[result.arc_used].sum() + net.remote_cost[result.z].sum())


def _leaning(network: Network, cost: FloatArray) -> IntArray:
    """Integer arc costs from ``cost``, scaled into the network's cost range.

    The network's coverage weight outweighs any plan's cost only for costs in
    its range, so the flow still covers the most priority first.
    """
    top = float(max(int(network.arc_cost.max(initial=0)), 1))
    cost = np.maximum(cost, 0.0)
    high = float(cost.max(initial=0.0))
    if high > top:
        cost = cost * (top / high)
    return np.rint(cost).astype(np.int64)


class _Search:
    """The phases in order on flows (see the module notes)."""

    def __init__(
        self,
        problem: Problem,
        network: Network,
        *,
        coverage_int: int,
        deadline: float,
        fast: Callable[..., Assignment | None],
        groups_hard: bool = False,
        cost_model: CostModel | None = None,
    ) -> None:
        self.groups_hard = groups_hard
        self.cost_model = cost_model
        # The euro search's time a flow (solve/_flow_time.py), once seen: whether another fits.
        self.euro_times = FlowTimes()
        self.full_network = network
        self.must, usable = coverage_certificate(network, coverage_int)
        # Pairs no plan of most priority can use: left out of every flow (exact).
        self.kept = np.flatnonzero(usable)
        if len(self.kept) < network.n_arcs:
            network = network.restricted(usable)
        self.problem, self.network = problem, network
        self.meter = _Meter(problem, network, cost_model)
        self.coverage_int, self.deadline, self.fast = coverage_int, deadline, fast
        self.limits: list[tuple[Criterion, float]] = []
        self.worst_trip_limit: float | None = None
        n_e = network.n_establishments
        self.arc_key = network.arc_tutor * n_e + network.arc_establishment
        self.arc_order = np.argsort(self.arc_key, kind="stable")
        self.flows = 0

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def flow(self, cost: IntArray | None = None, mask: Any = None) -> BackendResult | None:
        self.flows += 1
        result = min_cost_flow_on(self.network, cost, mask)
        if result is None or covered_int(self.network, result) < self.coverage_int:
            return None
        return result

    def allowed(self, result: BackendResult) -> bool:
        """Whether ``result`` keeps the coverage and every earlier limit."""
        if covered_int(self.network, result) < self.coverage_int:
            return False
        for c, limit in self.limits:
            v = self.meter.value(result, c.name)
            slack = _EPS * max(1.0, abs(limit))
            if (v < limit - slack) if c.is_maximised else (v > limit + slack):
                return False
        return True

    def of_plan(self, plan: Assignment) -> BackendResult | None:
        """Return the answer on this network of a plan of the same problem (None: a pair is not in it)."""
        net = self.network
        n_e = net.n_establishments
        free = ~plan.is_fixed
        keys = plan.tutor[free].astype(np.int64) * n_e + plan.establishment[free]
        sorted_keys = self.arc_key[self.arc_order]
        pos = np.minimum(np.searchsorted(sorted_keys, keys), max(len(sorted_keys) - 1, 0))
        found = sorted_keys[pos] == keys if len(sorted_keys) else np.zeros(len(keys), dtype=bool)
        used = np.zeros(net.n_arcs, dtype=bool)
        used[self.arc_order[pos[found]]] = True
        z = np.zeros(n_e, dtype=bool)
        y = np.zeros(len(net.link_class), dtype=np.int64)
        for k in keys[~found].tolist():
            t, e = divmod(int(k), n_e)
            c = int(net.remote_class[e])
            hit: IntArray = (
                np.flatnonzero((net.link_class == c) & (net.link_tutor == t))
                if c >= 0
                else np.zeros(0, np.int64)
            )
            if len(hit) == 0 or not net.active[e]:
                return None
            z[e] = True
            y[hit[0]] += 1
        return BackendResult(
            status=Status.FEASIBLE,
            message="",
            arc_used=used,
            z=z,
            y=y,
            objective=None,
            bound=math.nan,
        )

    # -- the phases ------------------------------------------------------------

    def run(self, phases: list[Criterion]) -> tuple[BackendResult | None, list[FlowPhase]]:
        base = self.flow()
        if base is None:
            return None, []
        self.base = base
        incumbent = base
        done: list[FlowPhase] = []
        if self.groups_hard:
            hard = self._hard_coverage(base, phases[0])
            if hard is None:
                return None, []
            incumbent, phase = hard
            self.base = incumbent
            done.append(phase)
            phases = phases[1:]
        # The km phase needs a flow or two; the others search on: three shares each.
        weights = [1.0 if c.name == "km" else 3.0 for c in phases]
        for k, c in enumerate(phases):
            share = weights[k] / sum(weights[k:])
            until = time.perf_counter() + max(self.left(), 0.0) * share
            sign = -1.0 if c.is_maximised else 1.0

            def score(r: BackendResult, name: str = c.name, s: float = sign) -> float:
                return s * self.meter.value(r, name)

            best = score(incumbent)
            km = self.meter.km_int(incumbent)
            self.current = incumbent
            bound, method, plans = self._bound_and_plans(c, incumbent, until)
            if self.groups_hard:
                # Bounds hold at the most priority; hard groups cover less: none is claimed.
                bound = 0.0 if c.name == "groups" else math.nan
            for plan in plans:
                if plan is not None and self.allowed(plan):
                    got, got_km = score(plan), self.meter.km_int(plan)
                    slack = _EPS * max(1.0, abs(best))
                    # Better, or as good for fewer km (the usual last tie-break).
                    if got < best - slack or (got <= best + slack and got_km < km):
                        incumbent, best, km = plan, min(got, best), got_km
                # At the bound the plan is optimal (its km are the next phase's business).
                at_bound = math.isfinite(bound) and best <= sign * bound + _EPS * max(1.0, abs(bound))
                if time.perf_counter() >= until or (at_bound and c.name != "km"):
                    break
            value = sign * best
            if c.name == "km":
                value_units, bound_units = self._km_units(value), self._km_units(bound)
            else:
                value_units, bound_units = value, bound
            proven = math.isfinite(bound) and sign * value <= sign * bound + _EPS * max(1.0, abs(bound))
            if c.name == "euros" and not proven:
                # Model euros: the reports round each tutor's yearly km (at most half a km each).
                bound_units = bound - rounding_eur(self.problem, self.cost_model)
            done.append(FlowPhase(c, value_units, bound_units, proven, method))
            self.limits.append((c, c.limit(value)))
            if c.name == "worst-trip":
                self.worst_trip_limit = c.limit(value)
        return incumbent, done

    def _restrict(self, mask: npt.NDArray[np.bool_]) -> None:
        """Keep only the arcs of ``mask`` in every later flow (their indices kept for the answer)."""
        self.kept = self.kept[mask]
        self.network = self.network.restricted(mask)
        self.meter = _Meter(self.problem, self.network, self.cost_model)
        n_e = self.network.n_establishments
        self.arc_key = self.network.arc_tutor * n_e + self.network.arc_establishment
        self.arc_order = np.argsort(self.arc_key, kind="stable")

    def _owners(self, result: BackendResult) -> IntArray:
        """Each group's tutor with the most of its members in ``result`` (ties: the first tutor)."""
        meter, n_t = self.meter, self.network.n_tutors
        tutor, est = meter.pairs(result)
        g = meter.group[est]
        keys, counts = np.unique(g[g >= 0] * (n_t + 1) + tutor[g >= 0], return_counts=True)
        owner = np.full(meter.n_groups, -1, dtype=np.int64)
        order = np.lexsort((keys % (n_t + 1), -counts, keys // (n_t + 1)))
        firsts = order[np.unique(keys[order] // (n_t + 1), return_index=True)[1]]
        owner[keys[firsts] // (n_t + 1)] = keys[firsts] % (n_t + 1)
        return owner

    def _hard_coverage(
        self, base: BackendResult, coverage: Criterion
    ) -> tuple[BackendResult, FlowPhase] | None:
        """Hard groups: one tutor a group, the most priority by flows; a proven bound by group caps.

        Each group's establishments may only go to its chosen tutor (from the
        plan of least km, or the tutor who can take the most of the group's
        priority): a flow on those pairs is a plan with every group whole.
        """
        from tutormatch.errors import InputError

        net, meter = self.network, self.meter
        n_t = net.n_tutors
        fixed_g = meter.group[meter.fixed_establishment]
        fixed_owner = np.full(meter.n_groups, -1, dtype=np.int64)
        for g in np.unique(fixed_g[fixed_g >= 0]).tolist():
            tutors = np.unique(meter.fixed_tutor[fixed_g == g])
            if len(tutors) > 1:
                ids = sorted(str(self.problem.tutors.id[t]) for t in tutors.tolist())
                label = meter.labels[meter.fixed_establishment[fixed_g == g][0]]
                raise InputError(
                    f"groups='hard': the fixed pairs give group {label!r} {len(tutors)} tutors "
                    f"({', '.join(ids)}); a hard group has one. Drop a fixed pair or use the soft "
                    "criterion 'groups'."
                )
            fixed_owner[g] = int(tutors[0])
        arc_group = meter.group[net.arc_establishment]
        grouped = arc_group >= 0
        # The tutor who can take the most of each group's priority (their places' worth).
        prio = net.priority_int[net.arc_establishment[grouped]]
        g_a, t_a = arc_group[grouped], net.arc_tutor[grouped]
        order = np.lexsort((-prio, t_a, g_a))
        key = g_a[order] * (n_t + 1) + t_a[order]
        start = np.searchsorted(key, key)  # first arc of each (group, tutor)
        take = np.arange(len(key)) - start < net.capacity[t_a[order]]
        keys, inverse = np.unique(key[take], return_inverse=True)
        worth = np.bincount(inverse, weights=prio[order][take], minlength=len(keys))
        best_owner = np.full(meter.n_groups, -1, dtype=np.int64)
        pick = np.lexsort((keys % (n_t + 1), -worth, keys // (n_t + 1)))
        firsts = pick[np.unique(keys[pick] // (n_t + 1), return_index=True)[1]]
        best_owner[keys[firsts] // (n_t + 1)] = keys[firsts] % (n_t + 1)
        chosen: tuple[int, int, BackendResult, npt.NDArray[np.bool_]] | None = None
        for owner in (self._owners(base), best_owner):
            owner = np.where(fixed_owner >= 0, fixed_owner, owner)
            mask = ~grouped | (net.arc_tutor == owner[np.maximum(arc_group, 0)])
            result = min_cost_flow_on(net, None, mask)
            if result is None:  # minimum loads the chosen tutors' pairs cannot meet
                continue
            score = (covered_int(net, result), -meter.km_int(result))
            if chosen is None or score > chosen[:2]:
                chosen = (*score, result, mask)
        if chosen is None:
            return None
        covered, _, result, mask = chosen
        value = meter.value(result, "coverage")
        bound_int = self._hard_cover_bound(fixed_owner)
        self._restrict(mask)
        result = dataclasses.replace(result, arc_used=result.arc_used[mask])
        self.coverage_int = covered
        fixed_priority = float(self.problem.establishments.priority[meter.fixed_establishment].sum())
        # Priorities are integers up to one scale: the bound in the priority's unit.
        per_int = (value - fixed_priority) / covered if covered else 0.0
        bound = fixed_priority + bound_int * per_int if covered else value
        proven = bound_int <= covered
        phase = FlowPhase(coverage, value, value if proven else bound, proven, "flows (one tutor a group)")
        return result, phase

    def _hard_cover_bound(self, fixed_owner: IntArray) -> int:
        """Return the most priority when a group has at most as many covered as one tutor can take."""
        from ortools.graph.python import min_cost_flow

        net, meter = self.network, self.meter
        n_t = net.n_tutors
        active = np.flatnonzero(net.active)
        tails, heads, caps, source = level_graph(net, np.arange(net.n_arcs))
        sink = source + 1
        costs = np.zeros(len(tails), dtype=np.int64)
        costs[: len(active)] = -net.priority_int[active]
        grouped = meter.group >= 0
        in_group = grouped[net.arc_establishment]
        keys = meter.group[net.arc_establishment[in_group]] * (n_t + 1) + net.arc_tutor[in_group]
        uniq, counts = np.unique(keys, return_counts=True)
        one = np.zeros(meter.n_groups, dtype=np.int64)
        np.maximum.at(one, uniq // (n_t + 1), np.minimum(counts, net.capacity[uniq % (n_t + 1)]))
        # A group node between the source and its members (not for groups a fixed tutor owns).
        capped = grouped[active] & (fixed_owner[np.maximum(meter.group[active], 0)] < 0)
        group_node = sink + 1 + meter.group[active]
        tails[: len(active)] = np.where(capped, group_node, source)
        used_groups = np.unique(meter.group[active][capped])
        tails = np.concatenate((tails, np.full(len(used_groups), source), [source]))
        heads = np.concatenate((heads, sink + 1 + used_groups, [sink]))
        caps = np.concatenate((caps, one[used_groups], [len(active)]))
        costs = np.concatenate((costs, np.zeros(len(used_groups) + 1, dtype=np.int64)))
        g = min_cost_flow.SimpleMinCostFlow()
        g.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32), caps, costs)
        n_nodes = sink + 2 + meter.n_groups
        supplies = np.zeros(n_nodes, dtype=np.int64)
        supplies[source], supplies[sink] = len(active), -len(active)
        g.set_nodes_supplies(np.arange(n_nodes, dtype=np.int32), supplies)
        if g.solve() != g.OPTIMAL:  # pragma: no cover - a flow with a bypass always has a solution
            return int(net.priority_int[active].sum())
        return int(-g.optimal_cost())

    def _km_units(self, value: float) -> float:
        return value * self.network.cost_unit_km + self.meter.fixed_km

    def _bound_and_plans(
        self, c: Criterion, incumbent: BackendResult, until: float
    ) -> tuple[float, str, Iterator[BackendResult | None]]:
        name = c.name
        if name == "km":
            return float(self.meter.km_int(self.base)), "flow", self._km_plans(incumbent)
        if name in ("worst-trip", "tutors"):
            plan = self.fast(name, None if name == "worst-trip" else self.worst_trip_limit)
            if plan is None or not plan.status.has_solution:
                return math.nan, "flows: no plan of its own", iter([])
            from tutormatch.solve._fair import criterion_value

            bound = criterion_value(plan, name) if plan.status is Status.OPTIMAL else math.nan
            return bound, plan.solver, iter([self.of_plan(plan)])
        if name == "worst-year":
            return self._worst_year(incumbent, until)
        if name == "euros":
            return self._euros(until)
        if name == "full-loads":
            plan = self.fast("full-loads", self.worst_trip_limit)
            if plan is not None and plan.status.has_solution:
                bound = float(plan.stats.get("full_loads_bound", math.nan))
                return bound, plan.solver, iter([self.of_plan(plan)])
            plans = self._full_loads_plans(incumbent, until)
            return float(self._full_loads_bound()), "flows and exchange paths", plans
        if name == "groups":
            plans = self._groups_plans(incumbent)
            return float(self._groups_bound()), "flows (groups priced, then kept whole one by one)", plans
        raise ValueError(name)  # pragma: no cover - is_large admits only these

    def _km_plans(self, incumbent: BackendResult) -> Iterator[BackendResult | None]:
        """Yield the plan of least km; then the least km with every tutor's load as the incumbent's.

        The second keeps the full loads and the tutors used (a flow with each
        tutor's capacity and minimum load at its load).
        """
        yield self.base
        if not self.limits:
            return
        net = self.network
        loads = self.meter.loads(incumbent) - np.bincount(self.meter.fixed_tutor, minlength=net.n_tutors)
        yield min_cost_flow_on(dataclasses.replace(net, capacity=loads, min_load=loads))

    # -- euros ------------------------------------------------------------------

    def _euros(self, until: float) -> tuple[float, str, Iterator[BackendResult | None]]:
        """Return the bound, method and plans of the euro search (within the worst trip's limit).

        Its bound holds for every plan within the earlier worst trip, the
        other earlier limits relaxed. Then, when other limits came first,
        the euro search with every tutor's load kept at the incumbent's
        (full loads and tutors used unchanged).
        """
        # The euro search without the worst trip is solved before the phases (cached): its bound holds
        # for every plan, and its time a flow tells whether another search fits in the phase.
        whole = self.fast("euros", None)
        if whole is not None and whole.status.has_solution:
            per_flow = whole.solve_seconds / max(int(whole.stats.get("flows", 1) or 1), 1)
            per_flow = float(whole.stats.get("flow_seconds", per_flow))
            self.euro_times.record(per_flow, network_size(self.network))
        plan = whole
        if self.worst_trip_limit is not None and self.euro_times.has_time(until, network_size(self.network)):
            # Half of the phase when a search with the earlier criteria kept follows (it needs time too).
            kept = any(c.name != "worst-trip" for c, _ in self.limits)
            share = 0.5 * max(until - time.perf_counter(), 0.0) / max(self.left(), 1e-9) if kept else 1.0
            plan = self.fast("euros", self.worst_trip_limit, min(share, 1.0))
        if plan is None or not plan.status.has_solution:
            return math.nan, "flows: no euro plan", self._euros_kept(until)
        stats = plan.stats
        bound = float(stats.get("model_eur" if plan.status is Status.OPTIMAL else "bound_eur", math.nan))

        def plans() -> Iterator[BackendResult | None]:
            yield self.of_plan(plan)
            yield from self._euros_kept(until)

        return bound, f"euro search ({plan.solver})", plans()

    def _euros_kept(self, until: float) -> Iterator[BackendResult | None]:
        """Yield the euro search's plan that keeps the incumbent's earlier criteria by construction.

        Within the worst trip's limit; every tutor's load as the incumbent's
        when full loads or tutors came first (full tutors and tutors used
        unchanged); each group's establishments only to the tutors the
        incumbent gives the group when groups came first (no group split
        more). The other limits are checked as for any plan.
        """
        from tutormatch.solve._euros import EuroBackend
        from tutormatch.solve._options import SolveOptions

        earlier = {c.name for c, _ in self.limits}
        if not earlier - {"worst-trip"}:
            return
        left = until - time.perf_counter()
        if left <= 0.5:
            return
        net, meter = self.network, self.meter
        kept = net
        if earlier & {"full-loads", "tutors"}:
            loads = meter.loads(self.current) - np.bincount(meter.fixed_tutor, minlength=net.n_tutors)
            kept = dataclasses.replace(net, capacity=loads, min_load=loads)
        mask = np.ones(net.n_arcs, dtype=bool)
        if self.worst_trip_limit is not None:
            mask &= ~meter.onsite | (meter.distance <= self.worst_trip_limit * (1 + 1e-12))
        if "groups" in earlier and meter.n_groups:
            tutor, est = meter.pairs(self.current)
            g = meter.group[est]
            ours = np.unique(g[g >= 0] * (net.n_tutors + 1) + tutor[g >= 0])
            arc_group = meter.group[net.arc_establishment]
            key = arc_group * (net.n_tutors + 1) + net.arc_tutor
            # Direct pairs only to a group's own tutors (remote pairs are checked with the limits).
            mask &= (arc_group < 0) | np.isin(key, ours)
        if not mask.all():
            kept = kept.restricted(mask)
        if not self.euro_times.has_time(until, network_size(kept)):
            return  # not the time of one of the euro search's flows: it would overrun the limit
        model = self.cost_model or CostModel()
        backend = EuroBackend(self.problem, model, "euros", flow_times=self.euro_times)
        result = backend.solve(kept, SolveOptions(time_limit=until - time.perf_counter()))
        if not result.status.has_solution:
            return
        used = np.zeros(net.n_arcs, dtype=bool)
        used[np.flatnonzero(mask)[result.arc_used]] = True
        yield dataclasses.replace(result, arc_used=used)

    # -- worst year ------------------------------------------------------------

    def _worst_year(
        self, incumbent: BackendResult, until: float
    ) -> tuple[float, str, Iterator[BackendResult | None]]:
        net, meter = self.network, self.meter
        # Metres rounded down: the floor stays a lower bound in km.
        amount = np.floor(meter.yearly * 1000 + 1e-6).astype(np.int64)
        base = np.floor(meter.base_yearly * 1000 + 1e-6).astype(np.int64)
        key = base[net.arc_tutor] + amount
        floor_m = int(base.max(initial=0))
        sums = base.copy()
        np.add.at(sums, net.arc_tutor[incumbent.arc_used], amount[incumbent.arc_used])
        top = int(sums.max(initial=0))  # the incumbent keeps the coverage within it
        # Half of the phase at most for the bound (bisection to 0.1 %): the plans need the rest.
        half = time.perf_counter() + (until - time.perf_counter()) / 2
        found: int | None = two_long_floor(net, amount, base, floor_m, top, self.coverage_int, half)
        if found is not None and found <= floor_m:
            found = threshold_floor(net, key, floor_m, self.coverage_int, top=top)
        bound = math.nan if found is None else found / 1000
        return (
            bound,
            "flows (Lagrangian prices on the yearly km; bound: one long pair a tutor)",
            self._lagrangian(key, amount, base, found, top, until),
        )

    def _lagrangian(
        self, key: IntArray, amount: IntArray, base: IntArray, floor: int | None, top: int, until: float
    ) -> Iterator[BackendResult | None]:
        """Flows on the pairs within a yearly limit, each tutor over it priced up (subgradient).

        The limit is bisected between the floor and the best plan's value,
        from the middle: a limit some flow keeps lowers the top, one no flow
        kept in its rounds raises the bottom (a heuristic step: only the floor
        is proven).
        """
        if floor is None:
            return
        net = self.network
        scale = float(net.arc_cost.max(initial=1)) / max(float(amount.max(initial=1)), 1.0)
        price = np.zeros(net.n_tutors)
        lo, hi = floor, top
        limit = (lo + hi) // 2
        while time.perf_counter() < until and lo < hi:
            mask = key <= limit
            kept = False
            for k in range(3):
                cost = _leaning(net, net.arc_cost + price[net.arc_tutor] * amount)
                result = self.flow(cost, mask)
                if result is None:
                    break
                yield result
                sums = base.astype(np.float64)
                np.add.at(sums, net.arc_tutor[result.arc_used], amount[result.arc_used])
                over = np.maximum(sums - limit, 0.0)
                if not over.any():
                    kept, hi = True, min(hi, int(sums.max(initial=0)))
                    break
                price = price + (0.5 + k / 4) * over / max(limit, 1) * scale
                if time.perf_counter() >= until:
                    return
            if not kept:
                lo = limit + 1
            limit = (lo + hi) // 2

    # -- full loads ------------------------------------------------------------

    def _full_loads_bound(self) -> int:
        """Most tutors whose places fit in the most establishments any plan covers (a max flow)."""
        from ortools.graph.python import max_flow

        net = self.network
        tails, heads, caps, source = level_graph(net, np.arange(net.n_arcs))
        g = max_flow.SimpleMaxFlow()
        g.add_arcs_with_capacity(tails.astype(np.int32), heads.astype(np.int32), caps)
        g.solve(source, source + 1)
        most_covered = int(g.optimal_flow())
        has_room = net.full_capacity > 0
        already = int((has_room & (net.capacity <= 0)).sum())
        reach = np.bincount(net.arc_tutor, minlength=net.n_tutors)
        reach[net.link_tutor] = np.iinfo(np.int64).max // 4
        can = has_room & (net.capacity > 0) & (reach >= net.capacity)
        places = np.sort(net.capacity[can])
        return already + int(np.searchsorted(np.cumsum(places), most_covered, side="right"))

    def _full_loads_plans(self, incumbent: BackendResult, until: float) -> Iterator[BackendResult | None]:
        """Exchange paths: tutor A hands an establishment on, ... until a tutor one short of full takes one.

        Each path makes one more tutor full and leaves the coverage and every
        other load as they were (A is not full before and after). Rounds of
        vertex-disjoint paths, one breadth-first search per tutor A on the
        graph "T -> T' when T' may take one of T's establishments".
        """
        import scipy.sparse as sp
        from scipy.sparse.csgraph import breadth_first_order

        net, meter = self.network, self.meter
        n_t = net.n_tutors
        capacity = self.problem.tutors.capacity
        movable = np.ones(net.n_arcs, dtype=bool)
        if self.worst_trip_limit is not None:
            movable &= ~self.meter.onsite | (self.meter.distance <= self.worst_trip_limit * (1 + 1e-12))
        used = incumbent.arc_used.copy()
        current = incumbent
        while time.perf_counter() < until:
            loads = meter.loads(current)
            net_load = loads - np.bincount(meter.fixed_tutor, minlength=n_t)
            owner = np.full(net.n_establishments, -1, dtype=np.int64)
            owner[net.arc_establishment[used]] = net.arc_tutor[used]
            arc_of = np.full(net.n_establishments, -1, dtype=np.int64)
            arc_of[net.arc_establishment[used]] = np.flatnonzero(used)
            frm = owner[net.arc_establishment]
            edge = movable & (frm >= 0) & (frm != net.arc_tutor)
            pair = frm[edge] * n_t + net.arc_tutor[edge]
            pair, first = np.unique(pair, return_index=True)
            via = np.flatnonzero(edge)[first]
            graph = sp.csr_array((np.ones(len(pair)), (pair // n_t, pair % n_t)), shape=(n_t, n_t))
            via_of = dict(zip(pair.tolist(), via.tolist(), strict=True))
            sink = (capacity > 0) & (loads == capacity - 1) & (net_load < net.capacity)
            direct = np.bincount(net.arc_tutor[used], minlength=n_t)
            source = (loads < capacity) & (direct > 0) & (net_load - 1 >= net.min_load)
            touched = np.zeros(n_t, dtype=bool)
            moved = 0
            for a in np.flatnonzero(source).tolist():
                if touched[a] or time.perf_counter() >= until:
                    continue
                order, pred = breadth_first_order(graph, a, directed=True, return_predecessors=True)
                for b in order[1:].tolist():
                    if not sink[b] or touched[b]:
                        continue
                    path = [b]
                    while path[-1] != a:
                        path.append(int(pred[path[-1]]))
                    path.reverse()
                    if touched[path].any():
                        continue
                    for u, v in itertools.pairwise(path):
                        arc = via_of[u * n_t + v]
                        used[arc_of[net.arc_establishment[arc]]] = False
                        used[arc] = True
                    touched[path] = True
                    moved += 1
                    break
            if not moved:
                return
            current = dataclasses.replace(current, arc_used=used.copy())
            yield current

    # -- groups ----------------------------------------------------------------

    def _groups_bound(self) -> int:
        """Return how many groups every plan of most priority splits (see the module notes)."""
        net, meter = self.network, self.meter
        n_t = net.n_tutors
        coverable = np.zeros(net.n_establishments, dtype=bool)
        coverable[net.arc_establishment] = True
        coverable |= net.remote_class >= 0
        coverable &= net.active
        member = coverable & (meter.group >= 0)
        size = np.bincount(meter.group[member], minlength=meter.n_groups)
        fixed_g = meter.group[meter.fixed_establishment]
        fixed_keys = np.unique(fixed_g[fixed_g >= 0] * (n_t + 1) + meter.fixed_tutor[fixed_g >= 0])
        n_fixed = np.bincount(fixed_keys // (n_t + 1), minlength=meter.n_groups)
        remote = np.bincount(meter.group[member & (net.remote_class >= 0)], minlength=meter.n_groups)
        must = self.must
        n_must = np.bincount(meter.group[member & must], minlength=meter.n_groups)
        # The most members of a group one tutor can take, among the tutors who can take
        # every member the coverage needs (the group's only possible tutor if it is whole).
        in_group = member[net.arc_establishment]
        keys = meter.group[net.arc_establishment[in_group]] * (n_t + 1) + net.arc_tutor[in_group]
        uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        needed = np.bincount(inverse, weights=must[net.arc_establishment[in_group]], minlength=len(uniq))
        takes = np.minimum(counts, net.capacity[uniq % (n_t + 1)])
        able = needed.astype(np.int64) == n_must[uniq // (n_t + 1)]
        one = np.zeros(meter.n_groups, dtype=np.int64)
        np.maximum.at(one, uniq[able] // (n_t + 1), takes[able])
        room = int(net.priority_int[coverable].sum()) - self.coverage_int
        split_possible = size + n_fixed >= 2
        forced = 0
        costs: list[int] = []
        prio = net.priority_int
        for g in np.flatnonzero(split_possible).tolist():
            if n_fixed[g] >= 2:
                forced += 1
                continue
            if n_fixed[g] == 1 or remote[g] > 0:
                costs.append(0)  # no claim
                continue
            if n_must[g] > one[g] or (n_must[g] > 0 and one[g] == 0):
                forced += 1
                continue
            drop = int(size[g] - one[g])
            if drop <= 0:
                costs.append(0)
                continue
            free = np.flatnonzero(member & ~must & (meter.group == g))
            if len(free) < drop:
                forced += 1
                continue
            costs.append(int(np.sort(prio[free])[:drop].sum()))
        costs.sort()
        whole = int(np.searchsorted(np.cumsum(costs), room, side="right")) if costs else 0
        return forced + len(costs) - whole

    def _groups_plans(self, incumbent: BackendResult) -> Iterator[BackendResult | None]:
        """Flows with each pair that leaves its group's main tutor priced up."""
        net, meter = self.network, self.meter
        if meter.n_groups == 0:
            return  # no group: none is split
        scale = float(np.median(net.arc_cost)) if net.n_arcs else 1.0
        arc_group = meter.group[net.arc_establishment]
        current = incumbent
        for factor in (0.5, 2.0, 8.0, 32.0):
            owner = self._owners(current)
            leave = (arc_group >= 0) & (owner[np.maximum(arc_group, 0)] != net.arc_tutor)
            leave &= owner[np.maximum(arc_group, 0)] >= 0
            result = self.flow(_leaning(net, net.arc_cost + factor * scale * leave))
            yield result
            if result is None:
                break
            current = result
        yield from self._whole_groups(current if current is not None else incumbent)

    def _whole_groups(self, incumbent: BackendResult) -> Iterator[BackendResult | None]:
        """Keep groups whole one at a time: each group's pairs to one tutor, kept if the coverage holds.

        The groups split in ``incumbent``, cheapest to keep whole first (the
        least priority of members one tutor cannot take; groups that would
        leave more uncovered than the coverage does are not tried), each tried
        with its :data:`_WHOLE_TRIES` tutors who can take the most of it (and
        every member the coverage needs; the cheapest on average first); the
        pairs it gives up stay out of the later flows. Yields each flow (None
        when it fell short). A heuristic: only the bound is proven.
        """
        net, meter = self.network, self.meter
        n_t = net.n_tutors
        tutor, est = meter.pairs(incumbent)
        g_of = meter.group[est]
        keys = np.unique(g_of[g_of >= 0] * (n_t + 1) + tutor[g_of >= 0])
        split = np.bincount(keys // (n_t + 1), minlength=meter.n_groups) > 1
        fixed_g = meter.group[meter.fixed_establishment]
        split[fixed_g[fixed_g >= 0]] = False  # a fixed pair already names the group's tutor
        arc_group = meter.group[net.arc_establishment]
        in_group = (arc_group >= 0) & split[np.maximum(arc_group, 0)]
        pair_keys = arc_group[in_group] * (n_t + 1) + net.arc_tutor[in_group]
        uniq, inverse, counts = np.unique(pair_keys, return_inverse=True, return_counts=True)
        must = self.must & net.active
        n_must = np.bincount(meter.group[must & (meter.group >= 0)], minlength=meter.n_groups)
        needed = np.bincount(inverse, weights=must[net.arc_establishment[in_group]], minlength=len(uniq))
        able = needed.astype(np.int64) == n_must[uniq // (n_t + 1)]
        takes = np.minimum(counts, net.capacity[uniq % (n_t + 1)])
        # The cheapest of the tutors who take the most first: a plan of fewer km.
        mean_cost = np.bincount(inverse, weights=net.arc_cost[in_group], minlength=len(uniq)) / counts
        cand_g, cand_t, cand_k = uniq[able] // (n_t + 1), uniq[able] % (n_t + 1), takes[able]
        cand_c = mean_cost[able]
        prio = net.priority_int
        coverable = np.zeros(net.n_establishments, dtype=bool)
        coverable[net.arc_establishment] = True
        coverable |= net.remote_class >= 0
        coverable &= net.active
        # A whole group leaves uncovered what its tutor cannot take: more than the coverage
        # leaves uncovered, and the group is split in every plan (not tried).
        room = int(prio[coverable].sum()) - self.coverage_int
        tries: list[tuple[int, int, IntArray]] = []
        for g in np.unique(cand_g).tolist():
            at = cand_g == g
            order = np.lexsort((cand_t[at], cand_c[at], -cand_k[at]))[:_WHOLE_TRIES]
            members = np.flatnonzero(coverable & (meter.group == g) & ~must)
            drop = max(int((coverable & (meter.group == g)).sum()) - int(cand_k[at].max()), 0)
            if len(members) < drop:
                continue
            lost = int(np.sort(prio[members])[:drop].sum())
            if lost <= room:
                tries.append((lost, g, cand_t[at][order]))
        tries.sort(key=lambda x: (x[0], x[1]))
        mask = np.ones(net.n_arcs, dtype=bool)
        for _, g, tutors in tries:
            for t in tutors.tolist():
                trial = mask & ((arc_group != g) | (net.arc_tutor == t))
                result = self.flow(None, trial)
                yield result
                if result is not None:
                    mask = trial
                    break


def solve_by_flows(
    problem: Problem,
    network: Network,
    phases: list[Criterion],
    *,
    coverage_int: int,
    deadline: float,
    fast: Callable[..., Assignment | None],
    groups_hard: bool = False,
    cost_model: CostModel | None = None,
) -> tuple[BackendResult | None, list[FlowPhase], int]:
    """Decide ``phases`` in order by flows; return the plan's answer, each phase, the flows solved."""
    search = _Search(
        problem,
        network,
        coverage_int=coverage_int,
        deadline=deadline,
        fast=fast,
        groups_hard=groups_hard,
        cost_model=cost_model,
    )
    result, done = search.run(phases)
    if result is not None and len(search.kept) < network.n_arcs:
        # The answer on the arcs kept: back to the whole network's arcs.
        used = np.zeros(network.n_arcs, dtype=bool)
        used[search.kept[result.arc_used]] = True
        result = dataclasses.replace(result, arc_used=used)
    return result, done, search.flows
