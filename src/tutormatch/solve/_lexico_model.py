r"""The CP-SAT model of the ordered criteria: each criterion a linear expression to minimise.

Notes
-----
Built on :func:`tutormatch.solve._euros_cpsat.build_euro_model` (one boolean
:math:`x_a` per eligible pair of the network, remote classes, loads, minimum
loads, all-or-nothing, fixed pairs and, when euros are needed, the mileage
scale on each tutor's yearly total). Each criterion adds what it needs:

- ``km``: :math:`\sum_a c_a x_a + \sum_e r_e z_e` (the flow's integer costs);
- ``euros``: the euro model's money, in units of :math:`10^{-7}` EUR;
- ``tutors``: :math:`\sum_t w_t`, the "used" booleans;
- ``worst-trip``: :math:`M \ge \rho_a` whenever :math:`x_a = 1`, where
  :math:`\rho_a` is the rank of the pair's on-site distance among the
  distinct distances (exact: no rounding);
- ``worst-year``: :math:`W \ge b_t + \sum_{a \ni t} m_a x_a` per tutor, the
  yearly road metres (``2 x visits x road km`` per on-site pair, fixed pairs
  :math:`b_t` included);
- ``full-loads``: :math:`f_t \Rightarrow \text{load}_t = k_t`, maximise
  :math:`\sum_t f_t`;
- ``groups``: :math:`u_{gt} \ge x_a` for the pairs of tutor :math:`t` into
  group :math:`g` (the pair's own :math:`x_a` when the tutor has only one
  pair into the group: no new variable), and
  :math:`\sum_t u_{gt} \le 1 + (n_g - 1) s_g`, minimise :math:`\sum_g s_g`;
  hard groups: :math:`\sum_t u_{gt} \le 1`.

Each term knows how to turn its integer value into the criterion's unit and
a limit in that unit back into an integer bound, so that tolerances are
exact integer constraints.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tutormatch.errors import InputError
from tutormatch.model._eligibility import MODE_ONSITE
from tutormatch.model._problem import Problem
from tutormatch.solve._euros import EuroCosts
from tutormatch.solve._euros_cpsat import EUR_UNIT, EuroModel, build_euro_model
from tutormatch.solve._groups import establishment_groups
from tutormatch.solve._network import Network

__all__ = [
    "LexicoModel",
    "Term",
    "build_lexico_model",
    "fixed_pairs_plan",
    "lagrangian_flows",
    "yearly_metres",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(eq=False)
class Term:
    """One criterion in the model: an integer expression to minimise, and its unit."""

    expr: Any
    #: Model integer -> the criterion's value, in its unit (larger is better for maximised ones).
    to_value: Callable[[int], float]
    #: The criterion's worst allowed value -> bound on ``expr`` (``expr <= bound``).
    to_bound: Callable[[float], int]
    #: For a largest-of criterion: per arc, the least value of ``expr`` once the arc is used
    #: (a per-pair bottleneck gives a floor, see :func:`tutormatch.solve._flow_bounds.bottleneck_floor`).
    arc_key: npt.NDArray[np.int64] | None = None
    floor: int = 0
    #: An integer variable equal to ``expr`` when its range is small enough for a search
    #: by decisions (the largest-of and counting criteria); None for km and euros.
    var: Any = None
    #: For the worst year: each arc's own yearly metres and each tutor's metres of fixed pairs
    #: (the repair heuristic of :func:`bottleneck_plan` sums them per tutor).
    arc_amount: npt.NDArray[np.int64] | None = None
    tutor_base: npt.NDArray[np.int64] | None = None


@dataclass(eq=False)
class LexicoModel:
    """The model, its terms by criterion name, and the handles the engine hints."""

    base: EuroModel
    terms: dict[str, Term]
    primary: list[Any]  # x, y, z: a plan is these values

    @property
    def model(self) -> Any:
        """The CP-SAT model."""
        return self.base.model


def fixed_pairs_plan(problem: Problem) -> Any:
    """Return a plan of the fixed pairs alone (their modes, distances and yearly km)."""
    import time

    from tutormatch.solve._solve import plan_from_pairs
    from tutormatch.solve._status import Status

    fixed = problem.fixed
    return plan_from_pairs(
        problem,
        fixed[:, 0].astype(np.int64),
        fixed[:, 1].astype(np.int64),
        np.ones(len(fixed), dtype=bool),
        status=Status.OPTIMAL,
        solver="fixed",
        message="",
        stats={},
        started=time.perf_counter(),
    )


def _covering_flow(network: Network, mask: npt.NDArray[np.bool_], target: int) -> Any:
    """Return the flow's answer on the arcs of ``mask`` without side constraints if it covers ``target``."""
    from tutormatch.solve._flow_bounds import covering_flow

    return covering_flow(network.relaxed(), mask, target)


def lagrangian_flows(
    network: Network, term: Term, limit: int, target: int, rounds: int = 25
) -> tuple[Any, bool] | None:
    """Look for a plan whose every tutor's sum stays within ``limit``: flows with Lagrangian prices.

    A primal heuristic for the worst year (subgradient on the relaxed
    per-tutor limits): solve the flow on the pairs of ``key <= limit`` with
    each arc's cost raised by its tutor's price times its yearly metres;
    raise the prices of the tutors over the limit, solve again. Returns the
    flow's answer with the fewest metres over the limit, and whether it is
    within it everywhere; None when the pairs cannot keep the coverage.
    """
    import dataclasses

    if term.arc_key is None or term.arc_amount is None or term.tutor_base is None:
        return None
    mask = term.arc_key <= limit
    amount = term.arc_amount.astype(np.float64)
    scale = float(network.arc_cost.max(initial=1)) / max(float(amount.max(initial=1)), 1.0)
    price = np.zeros(network.n_tutors)
    best: tuple[float, Any] | None = None
    for k in range(rounds):
        cost = network.arc_cost + np.rint(price[network.arc_tutor] * amount).astype(np.int64)
        result = _covering_flow(dataclasses.replace(network, arc_cost=cost), mask, target)
        if result is None:
            return None if best is None else (best[1], False)
        used = np.flatnonzero(result.arc_used)
        sums = term.tutor_base.astype(np.float64)
        np.add.at(sums, network.arc_tutor[used], amount[used])
        over = np.maximum(sums - limit, 0.0)
        if not over.any():
            return result, True
        if best is None or over.sum() < best[0]:
            best = (float(over.sum()), result)
        price = price + (0.5 + k / 20) * over / max(limit, 1) * scale
    assert best is not None
    return best[1], False


def _floor(value: float) -> int:
    return math.floor(value + 1e-9 * max(1.0, abs(value)))


def build_lexico_model(
    problem: Problem,
    network: Network,
    names: tuple[str, ...],
    *,
    costs: EuroCosts | None,
    budget_units: int | None,
    groups_hard: bool,
    coverage_int: int | None = None,
) -> LexicoModel:
    """Build the model with a term for each criterion of ``names`` (see the module notes).

    Raises
    ------
    InputError
        For hard groups that fixed pairs already split.
    """
    base = build_euro_model(network, costs)
    model, x = base.model, base.x
    terms: dict[str, Term] = {}
    fixed_plan = fixed_pairs_plan(problem)
    onsite = network.arc_mode == MODE_ONSITE
    arc_t, arc_e = network.arc_tutor, network.arc_establishment
    arc_distance = problem.distance_km(arc_t, arc_e) if network.n_arcs else np.zeros(0)

    if budget_units is not None:
        if base.euros is None:  # pragma: no cover - callers pass costs with a budget
            raise InputError("a budget needs the euro model (distances in km).")
        model.add(base.euros <= budget_units)

    priority_scale = network.priority_scale
    fixed_priority = float(problem.establishments.priority[problem.fixed[:, 1]].sum())
    terms["coverage"] = Term(
        -base.priority,
        lambda v: fixed_priority + (-v) / priority_scale,
        lambda limit: -math.ceil((limit - fixed_priority) * priority_scale - 1e-6),
    )
    if "km" in names:
        unit = network.cost_unit_km
        fixed_km = float(fixed_plan.cost_km.sum())
        km = sum(int(c) * x[a] for a, c in enumerate(network.arc_cost.tolist()) if c) + sum(
            int(network.remote_cost[e]) * var for e, var in base.z.items() if network.remote_cost[e]
        )
        terms["km"] = Term(km, lambda v: v * unit + fixed_km, lambda limit: _floor((limit - fixed_km) / unit))
    if "euros" in names:
        if base.euros is None:  # pragma: no cover - the engine checks the unit first
            raise InputError("the euros criterion needs distances in km.")
        terms["euros"] = Term(base.euros, lambda v: v * EUR_UNIT, lambda limit: _floor(limit / EUR_UNIT))
    if "tutors" in names:
        count = _counter(model, base.used, "tutors")
        terms["tutors"] = Term(count, float, lambda limit: _floor(limit), var=count)
    if "worst-trip" in names:
        terms["worst-trip"] = _worst_trip(model, x, onsite, arc_distance, fixed_plan)
    if "worst-year" in names:
        terms["worst-year"] = _worst_year(problem, network, model, x, onsite, arc_distance, fixed_plan)
    if "full-loads" in names:
        terms["full-loads"] = _full_loads(network, model, base)
    if "groups" in names or groups_hard:
        split = _groups(
            problem,
            network,
            model,
            x,
            soft="groups" in names,
            hard=groups_hard,
            coverage_int=None if groups_hard else coverage_int,
        )
        if split is not None:
            terms["groups"] = split
    primary = [*x, *base.y, *base.z.values()]
    return LexicoModel(base, terms, primary)


def _worst_trip(model: Any, x: list[Any], onsite: Any, distance: FloatArray, fixed_plan: Any) -> Term:
    fixed_d = fixed_plan.distance_km[fixed_plan.onsite]
    distinct = np.unique(np.concatenate((distance[onsite], fixed_d)))
    rank = np.searchsorted(distinct, distance) + 1  # 1-based: 0 is "no on-site pair"
    floor = int(np.searchsorted(distinct, fixed_d.max()) + 1) if len(fixed_d) else 0
    top = len(distinct)
    worst = model.new_int_var(floor, max(top, floor), "worst_trip")
    for a in np.flatnonzero(onsite).tolist():
        if rank[a] > floor:
            model.add(worst >= int(rank[a])).only_enforce_if(x[a])

    def to_value(v: int) -> float:
        return float(distinct[v - 1]) if v > 0 else 0.0

    def to_bound(limit: float) -> int:
        return int(np.searchsorted(distinct, limit * (1 + 1e-12) + 1e-12, side="right"))

    key = np.where(onsite, rank, 0).astype(np.int64)
    return Term(worst, to_value, to_bound, arc_key=key, floor=floor, var=worst)


def yearly_metres(
    problem: Problem, network: Network, onsite: Any, distance: FloatArray, fixed_plan: Any
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Return the yearly road metres of each arc (``2 x visits x road km``, remote 0) and of fixed pairs."""
    detour = problem.detour_factor if problem.distance_matrix is None else 1.0
    visits = problem.establishments.visits_per_year[network.arc_establishment]
    metres = np.where(onsite, np.rint(2.0 * visits * distance * detour * 1000), 0).astype(np.int64)
    base_m = np.rint(
        np.bincount(fixed_plan.tutor, weights=fixed_plan.yearly_km, minlength=network.n_tutors) * 1000
    ).astype(np.int64)
    return metres, base_m


def _worst_year(
    problem: Problem,
    network: Network,
    model: Any,
    x: list[Any],
    onsite: Any,
    distance: FloatArray,
    fixed_plan: Any,
) -> Term:
    metres, base_m = yearly_metres(problem, network, onsite, distance, fixed_plan)
    reach = base_m.copy()
    np.add.at(reach, network.arc_tutor, metres)
    floor = int(base_m.max(initial=0))
    worst = model.new_int_var(floor, max(int(reach.max(initial=0)), floor), "worst_year")
    order = np.argsort(network.arc_tutor, kind="stable")
    starts = np.searchsorted(network.arc_tutor[order], np.arange(network.n_tutors + 1))
    for t in range(network.n_tutors):
        arcs = [int(a) for a in order[starts[t] : starts[t + 1]] if metres[a] > 0]
        if arcs and reach[t] > floor:
            model.add(worst >= int(base_m[t]) + sum(int(metres[a]) * x[a] for a in arcs))
    key = base_m[network.arc_tutor] + metres
    return Term(
        worst,
        lambda v: v / 1000,
        lambda limit: _floor(limit * 1000),
        arc_key=key,
        floor=floor,
        var=worst,
        arc_amount=metres,
        tutor_base=base_m,
    )


def _full_loads(network: Network, model: Any, base: EuroModel) -> Term:
    has_room = network.full_capacity > 0
    already = int((has_room & (network.capacity <= 0)).sum())  # fixed pairs fill them
    # A tutor can be full only with enough pairs open to them.
    reach = np.bincount(network.arc_tutor, minlength=network.n_tutors)
    reach[network.link_tutor] = np.iinfo(np.int64).max // 4
    can = has_room & (network.capacity > 0) & (reach >= network.capacity)
    # Full tutors take at most the establishments that can be covered: the most tutors
    # whose places fit in that number is a bound (smallest places first).
    coverable = np.zeros(network.n_establishments, dtype=bool)
    coverable[network.arc_establishment] = True
    coverable |= network.remote_class >= 0
    places = np.sort(network.capacity[can])
    most = int(np.searchsorted(np.cumsum(places), int((coverable & network.active).sum()), side="right"))
    full = []
    for t in np.flatnonzero(has_room & (network.capacity > 0)).tolist():
        if not can[t]:
            continue
        f = model.new_bool_var(f"full{t}")
        model.add(base.loads[t] == int(network.capacity[t])).only_enforce_if(f)
        # Redundant, for the LP: the full tutors' places are at most the establishments covered.
        model.add(base.loads[t] >= int(network.capacity[t]) * f)
        full.append(f)
    missing = model.new_int_var(-min(len(full), most), 0, "minus_full_loads")
    model.add(missing == -sum(full))
    return Term(
        missing,
        lambda v: float(already - v),
        lambda limit: -math.ceil(limit - already - 1e-9),
        var=missing,
    )


def _groups(
    problem: Problem,
    network: Network,
    model: Any,
    x: list[Any],
    *,
    soft: bool,
    hard: bool,
    coverage_int: int | None,
) -> Term | None:
    labels = establishment_groups(problem)
    arcs_of: dict[tuple[str, int], list[int]] = {}
    for a, (t, e) in enumerate(
        zip(network.arc_tutor.tolist(), network.arc_establishment.tolist(), strict=True)
    ):
        g = labels[e]
        if g:
            arcs_of.setdefault((g, t), []).append(a)
    fixed_tutors: dict[str, set[int]] = {}
    for t, e in problem.fixed.tolist():
        if labels[e]:
            fixed_tutors.setdefault(labels[e], set()).add(int(t))
    if hard:
        for g, tutors in sorted(fixed_tutors.items()):
            if len(tutors) > 1:
                ids = sorted(str(problem.tutors.id[t]) for t in tutors)
                raise InputError(
                    f"groups='hard': the fixed pairs give group {g!r} {len(tutors)} tutors "
                    f"({', '.join(ids)}); a hard group has one. Drop a fixed pair or use the soft "
                    "criterion 'groups'."
                )
    most_of = {(g, t): min(len(arcs), int(network.capacity[t])) for (g, t), arcs in arcs_of.items()}
    serving: dict[str, list[Any]] = {}
    for (g, t), arcs in sorted(arcs_of.items()):
        if t in fixed_tutors.get(g, set()):
            continue  # already serves the group through a fixed pair
        if len(arcs) == 1:
            literal = x[arcs[0]]  # one pair into the group: the pair is the literal
        else:
            literal = model.new_bool_var(f"u_{g}_{t}")
            for a in arcs:
                model.add_implication(x[a], literal)
        serving.setdefault(g, []).append(literal)
    splits = []
    arcs_in: dict[str, list[int]] = {}
    one_of: dict[str, int] = {}
    for (g, t), arcs in arcs_of.items():
        arcs_in.setdefault(g, []).extend(arcs)
        one_of[g] = max(one_of.get(g, 0), most_of[(g, t)])
    for g in sorted(set(serving) | set(fixed_tutors)):
        terms = serving.get(g, [])
        constant = len(fixed_tutors.get(g, set()))
        n_g = len(terms) + constant
        if n_g <= 1:
            continue
        if hard:
            model.add(sum(terms) + constant <= 1)
        elif soft:
            s = model.new_bool_var(f"split_{g}")
            model.add(sum(terms) + constant <= 1 + (n_g - 1) * s)
            # Redundant, for the LP: one tutor covers at most its places in the group.
            members = arcs_in.get(g, [])
            one = one_of.get(g, 0)
            covered = len(set(network.arc_establishment[members].tolist()))
            if not constant and covered > one:
                model.add(sum(x[a] for a in members) <= one + (covered - one) * s)
            splits.append(s)
    if not soft:
        return None
    count = _counter(model, splits, "groups_split")
    if coverage_int is not None and splits:
        least = _least_split(network, labels, arcs_of, most_of, fixed_tutors, coverage_int)
        domain = model.proto.variables[count.index].domain
        domain[0] = max(int(domain[0]), min(least, int(domain[len(domain) - 1])))
    return Term(count, float, lambda limit: _floor(limit), var=count)


def _least_split(
    network: Network,
    labels: npt.NDArray[np.object_],
    arcs_of: dict[tuple[str, int], list[int]],
    most_of: dict[tuple[str, int], int],
    fixed_tutors: dict[str, set[int]],
    coverage_int: int,
) -> int:
    """Return a lower bound on the groups split by any plan that covers ``coverage_int``.

    A group stays whole only if one tutor covers all its covered members, so at least
    ``members - most one tutor can take`` of them are uncovered; the priority left uncovered
    among coverable establishments is fixed by the coverage. The most groups whose cheapest
    such uncovering fits in it (smallest first) bounds the groups kept whole.
    """
    coverable = np.zeros(network.n_establishments, dtype=bool)
    coverable[network.arc_establishment] = True
    coverable &= network.active
    room = int(network.priority_int[coverable].sum()) - coverage_int
    members: dict[str, list[int]] = {}
    for e in np.flatnonzero(coverable).tolist():
        if labels[e]:
            members.setdefault(labels[e], []).append(e)
    one: dict[str, int] = {}
    for (g, _t), most in most_of.items():
        one[g] = max(one.get(g, 0), most)
    costs = []
    for g, es in members.items():
        if g in fixed_tutors:
            costs.append(0)  # a fixed tutor may take the rest: no cost claimed
            continue
        drop = len(es) - one.get(g, 0)
        costs.append(int(np.sort(network.priority_int[es])[:drop].sum()) if drop > 0 else 0)
    costs.sort()
    whole = int(np.searchsorted(np.cumsum(costs), room, side="right")) if costs else 0
    return max(len(members) - whole, 0)


def _counter(model: Any, literals: list[Any], name: str) -> Any:
    """Return an integer variable equal to the number of true ``literals``."""
    count = model.new_int_var(0, len(literals), name)
    model.add(count == sum(literals))
    return count
