"""Objectives in euros and budgets: pick the method, solve, assemble the plan with its euros."""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from tutormatch.errors import InputError
from tutormatch.model._costs import BUDGET_TOLERANCE_EUR, CostModel, plan_cost
from tutormatch.model._eligibility import onsite_pairs_near, pair_keys
from tutormatch.model._problem import Problem
from tutormatch.solve._assignment import Assignment
from tutormatch.solve._backend import BackendResult
from tutormatch.solve._budget_price import PricedBudget, budget_by_price
from tutormatch.solve._euros import CPSAT_ARCS, EuroBackend, EuroCosts, euro_costs
from tutormatch.solve._euros_cpsat import solve_euros_cpsat
from tutormatch.solve._euros_matching import EuroMatching
from tutormatch.solve._flow_bounds import covered_int
from tutormatch.solve._flow_time import FlowTimes, network_size
from tutormatch.solve._network import Network, build_network
from tutormatch.solve._options import SolveOptions
from tutormatch.solve._pool import full_pool
from tutormatch.solve._remote import split_remote
from tutormatch.solve._status import Status
from tutormatch.solve._tutor_price import tutors_by_price

__all__ = ["solve_in_euros"]

#: Seconds for objectives in euros and budgets when no time limit is given.
DEFAULT_TIME_LIMIT = 60.0
#: Nodes of the flows' search tried before matchings when some tutor has three places or more.
#: 50, not 400: a shortfall lever of the example (a relaxed rule) took the flows 153 nodes
#: (10 s) where the root matching proved the optimum in 1.5 s; not 20: the candidates case
#: (benchmarks/euros.py) needs 43 flows (about a second) where 9 blossoms follow otherwise.
#: The euro demo's levers: 7 blossoms and 196 flows at 50, 7 and 188 at 20.
FLOW_FIRST_NODES = 50


def _euro_text(value: float) -> str:
    return f"{value:,.2f} EUR"


def _left(options: SolveOptions, started: float) -> SolveOptions:
    if not math.isfinite(options.time_limit):
        return options
    left = options.time_limit - (time.perf_counter() - started)
    return dataclasses.replace(options, time_limit=max(left, 0.01))


def _decide(
    problem: Problem,
    network: Network,
    *,
    objective: str,
    solver: str,
    model: CostModel,
    budget: float | None,
    options: SolveOptions,
    started: float,
    km_plan: BackendResult | None,
) -> tuple[str, BackendResult]:
    """Return the method's name and its result on ``network``."""
    flows_objective = "tutors" if objective == "tutors" else "euros"
    costs = euro_costs(problem, network, model, flows_objective)
    small = network.n_arcs + len(network.link_class) <= CPSAT_ARCS
    if solver != "cpsat" and network.all_or_nothing and budget is None and objective != "km":
        return _all_or_nothing(problem, network, model, costs, objective, options, started)
    if solver == "cpsat" or network.all_or_nothing:
        result = solve_euros_cpsat(
            network, costs, _left(options, started), objective=objective, budget_eur=budget
        )
        return "euros-cpsat", _cheapest_if_infeasible(
            problem, network, model, budget, result, options, started
        )
    if budget is not None:
        forced = bool((network.fixed_load > 0).any() or (network.min_load > 0).any())
        if forced:
            cheapest = EuroBackend(problem, model, "euros").solve(
                dataclasses.replace(network, priority_int=np.zeros_like(network.priority_int)),
                _left(options, started),
            )
            if cheapest.status.has_solution and budget < float(cheapest.bound) - BUDGET_TOLERANCE_EUR:
                return "euros", _over_budget(network, budget, float(cheapest.stats["model_eur"]))
    if objective == "km":
        assert km_plan is not None
        first = km_plan
        first_eur = _model_eur(problem, network, model, first)
        first = dataclasses.replace(first, stats={**first.stats, "model_eur": first_eur})
        name = "flow"
    else:
        first_options = _left(options, started)
        if budget is not None and math.isfinite(first_options.time_limit):
            # Leave time for the search within the budget if this plan exceeds it.
            first_options = dataclasses.replace(first_options, time_limit=first_options.time_limit / 2)
        stop = None if budget is None else budget + BUDGET_TOLERANCE_EUR
        name, first = _search(problem, network, model, flows_objective, costs, first_options, stop)
    within = budget is None or float(first.stats.get("model_eur", math.inf)) <= budget + BUDGET_TOLERANCE_EUR
    if within and (first.status is Status.OPTIMAL or not small):
        return name, first
    hint = first if first.status.has_solution else None
    coverage_bound = None
    if not within:
        assert budget is not None
        # Over budget: flows that price coverage give a plan within it and a bound.
        total_int = int(network.priority_int[network.active].sum())
        spent = float(first.stats.get("model_eur", math.nan))
        covered_priority = total_int - int(first.stats.get("uncovered_int", 0))
        price = spent / covered_priority if first.status.has_solution and covered_priority > 0 else None
        lagrange, least_uncovered = EuroBackend(problem, model, "euros").within_budget(
            network, budget, _left(options, started), price_eur=price, prove=objective == "euros"
        )
        total = int(network.priority_int[network.active].sum())
        if objective == "euros" and (lagrange is None or lagrange.status is not Status.OPTIMAL):
            # Exact searches at the prices the flows found (solve/_budget_price.py).
            prices = list(lagrange.stats.get("budget_prices_eur", [])) if lagrange is not None else []
            priced = budget_by_price(problem, network, model, budget, prices, _left(options, started))
            if priced.proven is not None:
                return "euros-budget-price", priced.proven
            least_uncovered = max(least_uncovered, priced.least_uncovered)
            lagrange = _with_priced(lagrange, priced, least_uncovered, total)
        coverage_bound = total - least_uncovered
        if lagrange is not None:
            hint = lagrange
            first = dataclasses.replace(
                lagrange, stats={**lagrange.stats, "priority_bound_int": coverage_bound}
            )
            name = "euros-lagrange"
        if lagrange is not None and (not small or lagrange.status is Status.OPTIMAL):
            return name, first
    bound = (
        float(first.bound) if objective == "euros" and budget is None and first.status.has_solution else None
    )
    result = solve_euros_cpsat(
        network,
        costs,
        _left(options, started),
        objective=objective,
        budget_eur=budget,
        hint=hint,
        lower_bound_eur=bound,
        coverage_bound=coverage_bound,
    )
    have_first = first.status.has_solution and (within or name == "euros-lagrange")
    if have_first and not result.status.has_solution and result.status is not Status.INFEASIBLE:
        return name, first
    if have_first and result.status is Status.FEASIBLE:
        # Keep the better of the two plans, with the better proven bound.
        def key(r: BackendResult) -> tuple[float, float]:
            return (float(r.stats["uncovered_int"]), float(r.stats["model_eur"]))

        better = result if key(result) < key(first) else first
        proven = max(
            float(first.stats.get("bound_eur", -math.inf)), float(result.stats.get("bound_eur", -math.inf))
        )
        return name + "+cpsat", dataclasses.replace(better, stats={**better.stats, "bound_eur": proven})
    return (name + "+cpsat" if name != "flow" else "euros-cpsat"), _cheapest_if_infeasible(
        problem, network, model, budget, result, options, started
    )


def _with_priced(
    lagrange: BackendResult | None, priced: PricedBudget, least_uncovered: int, total: int
) -> BackendResult | None:
    """Keep the better plan within the budget, with the euro bound of the prices' searches at its coverage."""
    best = lagrange
    if priced.best is not None and (
        best is None
        or (int(priced.best.stats["uncovered_int"]), float(priced.best.stats["model_eur"]))
        < (int(best.stats["uncovered_int"]), float(best.stats["model_eur"]))
    ):
        best = priced.best
    if best is None:
        return None
    uncovered = int(best.stats["uncovered_int"])
    if uncovered > least_uncovered:
        if best is lagrange:
            return best
        # Coverage not proven: the gap is on priority (the priced search's status is its own objective's).
        return dataclasses.replace(
            best, status=Status.FEASIBLE, bound=math.nan, stats={**best.stats, "bound_eur": math.nan}
        )
    model_eur = float(best.stats["model_eur"])
    bound = float(np.fmax(float(best.stats.get("bound_eur", math.nan)), priced.euro_bound(uncovered)))
    if best is lagrange and lagrange is not None:
        bound = float(np.fmax(bound, float(lagrange.stats.get("bound_eur", math.nan))))
    tol = BUDGET_TOLERANCE_EUR  # half a cent: the searches floor each price to 1e-6 or 1e-5 EUR
    optimal = bound >= model_eur - tol
    return dataclasses.replace(
        best,
        status=Status.OPTIMAL if optimal else Status.FEASIBLE,
        message=best.message + ("; optimal by the prices' bound" if optimal else ""),
        bound=model_eur if optimal else bound,
        stats={
            **best.stats,
            "bound_eur": model_eur if optimal else bound,
            "priority_bound_int": total - uncovered,
        },
    )


def _all_or_nothing(
    problem: Problem,
    network: Network,
    model: CostModel,
    costs: EuroCosts,
    objective: str,
    options: SolveOptions,
    started: float,
) -> tuple[str, BackendResult]:
    """All-or-nothing loads: matchings where every tutor has at most two places, else flows' branching.

    The matching gadget with both places "must be matched" (to each other
    when unused) is exactly "load 0 or 2" (:mod:`tutormatch.solve._euros_matching`).
    Otherwise ("0 or 3" is no matching) the flows' branch and bound on tutors
    with arcs priced in euros (:func:`_euro_priced_branch`). Small networks
    left with a gap go on to CP-SAT, hinted by that plan; the plan is never
    lost for want of time.
    """
    coverage_bound: int | None = None
    if EuroMatching.supports(network) and EuroMatching.fits(network):
        name = "euros-matching"
        first = EuroMatching(network, costs).solve(_left(options, started))
    else:
        name = "euros-flow-bb"
        first, coverage_bound = _euro_priced_branch(problem, network, model, costs, options, started)
    if first.status is Status.OPTIMAL or not first.status.has_solution:
        return name, first
    if network.n_arcs + len(network.link_class) > CPSAT_ARCS:
        return name, first  # CP-SAT found no plan in 30 s on the example académie (43,816 pairs)
    name += "+cpsat"
    result = solve_euros_cpsat(
        network,
        costs,
        _left(options, started),
        objective=objective,
        budget_eur=None,
        hint=first,
        coverage_bound=coverage_bound,
    )
    if result.status is Status.OPTIMAL or result.status is Status.INFEASIBLE:
        return name, result
    if not result.status.has_solution:
        return name, first

    def key(r: BackendResult) -> tuple[float, float, float]:
        n_used = _n_used(network, r) if objective == "tutors" else 0
        return (float(r.stats["uncovered_int"]), float(n_used), float(r.stats["model_eur"]))

    better = result if key(result) <= key(first) else first
    proven = float(
        np.fmax(float(first.stats.get("bound_eur", math.nan)), float(result.stats.get("bound_eur", math.nan)))
    )
    return name, dataclasses.replace(better, stats={**better.stats, "bound_eur": proven})


def _euro_priced_branch(
    problem: Problem,
    network: Network,
    model: CostModel,
    costs: EuroCosts,
    options: SolveOptions,
    started: float,
) -> tuple[BackendResult, int]:
    """All-or-nothing loads in euros by the flows' branch and bound on tutors, arcs priced in euros.

    Under the rule a tutor's load is 0 or their capacity, so their charge
    spread over their places is exact; the mileage is priced at the least
    average rate of :class:`~tutormatch.solve._euros.EuroCosts` (exact
    within one tranche). Every plan's price is therefore at most its euros:
    the search's proven bound is a bound in euros, and its plan's exact
    euros the plan's. Remote links carry no arc price: with them, the km plan
    under the rule, bounded by the plans without the rule when they cover as
    much. Returns the result and the coverage proven (a cut for CP-SAT).
    """
    from tutormatch.solve._branch import BranchAndBoundBackend
    from tutormatch.solve._network import composite_to_levels

    paid = (network.fixed_load > 0) | (network.min_load > 0)
    places = np.maximum(network.capacity, 1)
    slope = costs.least_rate(network.capacity, network.arc_tutor, costs.base_km, costs.arc_km)
    charge = np.where(paid, 0.0, costs.used_eur / places)
    price = costs.arc_eur + slope[network.arc_tutor] * costs.arc_km + charge[network.arc_tutor]
    travel_base = costs.travel_eur(slice(None), costs.base_km)
    constant = costs.base_eur + float(costs.used_eur[paid].sum())
    constant += float(travel_base[costs.base_km > 0].sum())
    n_nodes = network.n_establishments + network.n_classes + network.n_tutors + 2
    top = int(network.priority_int.max(initial=1))
    dearest = float(price.max(initial=0.0)) + float(costs.class_eur.max(initial=0.0))
    unit = 1e-4
    while True:
        big_m = int(int(network.active.sum()) * dearest / unit) + 2
        if big_m * top * (n_nodes + 1) < 2**60 or unit >= 1e3:
            break
        unit *= 10.0
    priced = dataclasses.replace(
        network,
        arc_cost=np.floor(price / unit).astype(np.int64),
        remote_cost=np.floor(costs.class_eur / unit).astype(np.int64),
        uncovered_cost=big_m * network.priority_int,
        big_m=big_m,
    )
    relaxed: BackendResult | None = None
    if len(network.link_class):
        from tutormatch.solve._solve import _backend

        result = _backend("auto", problem).solve(network, _left(options, started))
        if result.status.has_solution:
            result = dataclasses.replace(
                result, message=f"the km plan under the rule (remote links carry no price): {result.message}"
            )
        bound_units = math.nan
        # The plans without the rule bound these from below when they cover as much.
        relaxed_options = _left(options, started)
        if math.isfinite(relaxed_options.time_limit):
            relaxed_options = dataclasses.replace(relaxed_options, time_limit=relaxed_options.time_limit / 4)
        relaxed_objective = "tutors" if costs.tutor_weight else "euros"
        _, relaxed = _search(problem, network.relaxed(), model, relaxed_objective, costs, relaxed_options)
    else:
        result = BranchAndBoundBackend().solve(priced, _left(options, started))
        bound_units = float(result.bound) if result.bound is not None else math.nan
    if not result.status.has_solution:
        return result, int(network.priority_int[network.active].sum())
    covered = covered_int(network, result)
    uncovered = int(network.priority_int[network.active].sum()) - covered
    model_eur = _model_eur(problem, network, model, result)
    weight = costs.tutor_weight
    n_used = _n_used(network, result)
    proven = math.nan
    least_uncovered = uncovered if result.status is Status.OPTIMAL else 0
    if math.isfinite(bound_units):
        level, cost_units = composite_to_levels(priced, bound_units)
        least_uncovered = max(least_uncovered, level)
        if level >= uncovered:  # the bound is at the plan's coverage
            proven = cost_units * unit + constant
    same = relaxed is not None and relaxed.status.has_solution
    if relaxed is not None and same and int(relaxed.stats["uncovered_int"]) == uncovered:
        # The relaxation covers as much: its bounds hold for these plans.
        relaxed_eur = float(relaxed.stats.get("bound_eur", math.nan))
        relaxed_tutors = relaxed.stats.get("tutors_bound")
        if relaxed.status is Status.OPTIMAL:
            relaxed_tutors = _n_used(network, relaxed)
        if not costs.tutor_weight:
            proven = relaxed_eur
        elif relaxed.status is Status.OPTIMAL:
            # W x n + euros: the relaxation's optimum is below every plan's.
            proven = _n_used(network, relaxed) * costs.tutor_weight + relaxed_eur
        elif relaxed_tutors is not None:
            proven = float(relaxed_tutors) * costs.tutor_weight
    tol = unit * (int(network.active.sum()) + network.n_tutors + 1) + 1e-9 * max(model_eur, 1.0)
    composite = model_eur + weight * n_used
    optimal = result.status is Status.OPTIMAL and math.isfinite(proven) and composite - proven <= tol
    if optimal:
        bound_eur = model_eur
    elif math.isfinite(proven) and proven >= weight * n_used - tol:
        bound_eur = proven - weight * n_used
    else:
        bound_eur = math.nan
    total = int(network.priority_int[network.active].sum())
    coverage = total - least_uncovered  # proven: no plan under the rule covers more
    stats: dict[str, object] = {
        **result.stats,
        "model_eur": model_eur,
        "bound_eur": bound_eur,
        "uncovered_int": uncovered,
        "tutors_bound": math.floor(proven / weight + 1e-12) if weight and math.isfinite(proven) else None,
        "cost_unit_eur": unit,
        "priority_bound_int": coverage,
    }
    what = "fewest tutors, then euros" if weight else "euros"
    return (
        dataclasses.replace(
            result,
            status=Status.OPTIMAL if optimal else Status.FEASIBLE,
            message=f"all-or-nothing loads, {what}: {result.message}",
            bound=bound_eur,
            stats=stats,
        ),
        coverage,
    )


def _n_used(network: Network, result: BackendResult) -> int:
    return int(((network.free_loads(result.arc_used, result.y) + network.fixed_load) > 0).sum())


def _search(
    problem: Problem,
    network: Network,
    model: CostModel,
    objective: str,
    costs: EuroCosts,
    options: SolveOptions,
    stop_above: float | None = None,
) -> tuple[str, BackendResult]:
    """Coverage, then euros (or fewest tutors): matchings where they fit, else flows.

    The matching prices the tutors' fixed charge exactly at up to two places
    (:mod:`tutormatch.solve._euros_matching`); beyond two places a tutor
    loaded on their third place alone keeps the charge, which its search
    branches on, one blossom a node. The flows' search bounds the charge by
    amortising it over the places: cheap per node and often enough in euros
    when some tutors have three places, weak on the number of tutors. So:
    matchings first when every tutor has at most two places or the objective
    is ``"tutors"``; otherwise flows first, for at most :data:`FLOW_FIRST_NODES`
    nodes and a quarter of the time, then matchings for the rest.

    ``"tutors"`` first tries the count bound and a price on tutors
    (:mod:`tutormatch.solve._tutor_price`): the flows' search in euros, which
    proves the example académie in about a second where the matchings'
    branching took eight blossoms.
    """
    started = time.perf_counter()
    deadline = started + options.time_limit if math.isfinite(options.time_limit) else math.inf
    times = FlowTimes()  # the flows' time, shared by the searches (solve/_flow_time.py)
    priced = None
    if objective == "tutors" and stop_above is None and not network.all_or_nothing:
        # The count bound and a price on tutors (solve/_tutor_price.py): the flows' search, fast.
        priced = tutors_by_price(problem, network, model, costs, options, times)
        if priced is not None and priced.status is Status.OPTIMAL:
            return "euros-tutor-price", priced
        options = _left(options, started)
        more = times.has_time(deadline, network_size(network))
        if priced is not None and priced.status.has_solution and not more:
            # Not the time of one of its flows: another search would only overrun the limit.
            return "euros-tutor-price", priced
    name, result = _search_places(problem, network, model, objective, costs, options, stop_above, times)
    reached = priced is not None and priced.stats.get("fewest_tutors_reached", True)
    if priced is not None and reached and result.status is not Status.OPTIMAL:
        # Both with a gap: the plan whose number of tutors is proven least.
        return "euros-tutor-price", priced
    return name, result


def _search_places(
    problem: Problem,
    network: Network,
    model: CostModel,
    objective: str,
    costs: EuroCosts,
    options: SolveOptions,
    stop_above: float | None = None,
    flow_times: FlowTimes | None = None,
) -> tuple[str, BackendResult]:
    """Search with matchings where they fit, else with flows (see :func:`_search`).

    ``flow_times``: the estimate of a flow's time shared with the searches before
    (:mod:`tutormatch.solve._flow_time`); the matchings keep their own.
    """
    times = flow_times if flow_times is not None else FlowTimes()
    if not (EuroMatching.supports(network) and EuroMatching.fits(network)):
        backend = EuroBackend(problem, model, objective, flow_times=times)
        return "euros", backend.solve(network, options, stop_above=stop_above)
    matching = EuroMatching(network, costs)
    flows_first = objective == "euros" and bool(np.any(network.capacity > 2))
    started = time.perf_counter()
    flows = None
    if stop_above is not None and objective == "euros" and not flows_first:
        # A budget: when the flows' root bound already passes it, no plan at the most coverage
        # fits, and the blossom (about a second) is not needed to say so.
        probe = EuroBackend(problem, model, objective, max_nodes=1, flow_times=times).solve(network, options)
        if probe.status.has_solution and float(probe.stats.get("bound_eur", -math.inf)) > stop_above:
            return "euros", probe
    if flows_first:
        first_options = options
        if math.isfinite(options.time_limit):
            first_options = dataclasses.replace(options, time_limit=options.time_limit / 4)
        flows = EuroBackend(problem, model, objective, max_nodes=FLOW_FIRST_NODES, flow_times=times).solve(
            network, first_options, stop_above=stop_above
        )
        if flows.status is Status.OPTIMAL:
            return "euros", flows
        if stop_above is not None and float(flows.stats.get("bound_eur", -math.inf)) > stop_above:
            return "euros", flows
    result = matching.solve(_left(options, started), stop_above=stop_above)
    if flows is None or result.status is Status.OPTIMAL or not flows.status.has_solution:
        return "euros-matching", result
    # Both stopped with a gap: the better plan, the better bound.
    better = result if float(result.stats["model_eur"]) <= float(flows.stats["model_eur"]) else flows
    proven = float(
        np.fmax(float(flows.stats.get("bound_eur", math.nan)), float(result.stats.get("bound_eur", math.nan)))
    )
    return "euros-matching", dataclasses.replace(better, stats={**better.stats, "bound_eur": proven})


def _no_near_remote(problem: Problem, network: Network) -> Network:
    """Forbid a remote class to hand out pairs within the on-site limit.

    Under the km objective a near pair routed through a class is a free
    upgrade to on-site; in euros it is not (on-site pays mileage, remote does
    not), so every near pair of a class member must stay out of the split.
    """
    members = np.flatnonzero((network.remote_class >= 0) & network.active)
    if len(members) == 0:
        return network
    tutor, establishment, _ = onsite_pairs_near(problem, members, problem.max_distance_km)
    near = pair_keys(tutor, establishment, problem.n_establishments)
    return dataclasses.replace(network, bad_remote_keys=np.union1d(network.bad_remote_keys, near))


def _model_eur(problem: Problem, network: Network, model: CostModel, result: BackendResult) -> float:
    backend = EuroBackend(problem, model, "euros")
    costs = euro_costs(problem, network, model, "euros")
    loads = network.free_loads(result.arc_used, result.y)
    return backend._true_cost(network, costs, result.arc_used, result.z, loads)


def _over_budget(network: Network, budget: float, cheapest: float) -> BackendResult:
    return BackendResult.without_solution(
        network,
        Status.INFEASIBLE,
        f"no plan fits the budget of {_euro_text(budget)}: the cheapest plan (fixed pairs and "
        f"minimum loads only) costs {_euro_text(cheapest)}",
    )


def _cheapest_if_infeasible(
    problem: Problem,
    network: Network,
    model: CostModel,
    budget: float | None,
    result: BackendResult,
    options: SolveOptions,
    started: float,
) -> BackendResult:
    if result.status is not Status.INFEASIBLE or budget is None:
        return result
    relaxed = dataclasses.replace(network, priority_int=np.zeros_like(network.priority_int))
    costs = euro_costs(problem, relaxed, model, "euros")
    cheapest = solve_euros_cpsat(relaxed, costs, _left(options, started), objective="euros", budget_eur=None)
    if not cheapest.status.has_solution:
        return result  # infeasible whatever the budget: the constraints' own message
    return _over_budget(network, budget, float(cheapest.stats["model_eur"]))


def solve_in_euros(
    problem: Problem,
    *,
    objective: str,
    solver: str,
    model: CostModel,
    budget: float | None,
    options: SolveOptions,
    started: float,
    km_solve: object = None,
) -> Assignment:
    """Solve with an objective in euros or fewest tutors, or under a budget; see :func:`tutormatch.solve`."""
    from tutormatch.solve._solve import _no_plan, plan_from_network

    if solver not in ("auto", "cpsat"):
        raise InputError(
            f"solver={solver!r} minimises km without a budget; objective={objective!r}"
            f"{' with a budget' if budget is not None else ''} needs solver='auto' or 'cpsat'."
        )
    if problem.distance_unit != "km":
        raise InputError(
            f"objective={objective!r} and budgets count euros from road km, but this problem's distances are "
            f"in {problem.distance_unit!r}. Use a matrix of road km, or objective='km'."
        )
    if not math.isfinite(options.time_limit):
        # Branch and bound and CP-SAT may not finish on hard cases: stop with the proven gap.
        options = dataclasses.replace(options, time_limit=DEFAULT_TIME_LIMIT)
    pool = full_pool(problem)
    explicit: frozenset[int] = frozenset()
    rounds = 0
    while True:
        rounds += 1
        network = _no_near_remote(
            problem,
            build_network(
                problem, pool, cost_resolution_km=options.cost_resolution_km, explicit_classes=explicit
            ),
        )
        km_plan = None
        if objective == "km":
            from tutormatch.solve._flow import FlowBackend

            km_plan = FlowBackend().solve(network, options)
        name, result = _decide(
            problem,
            network,
            objective=objective,
            solver=solver,
            model=model,
            budget=budget,
            options=options,
            started=started,
            km_plan=km_plan,
        )
        if not result.status.has_solution:
            break
        split = split_remote(network, result.z, result.y)
        if not split.failed_classes:
            break
        explicit = explicit | split.failed_classes
    stats = dict(result.stats, rounds=rounds, candidate_pairs=pool.n_pairs, explicit_classes=len(explicit))
    if not result.status.has_solution:
        plan = _no_plan(problem, name, result, stats, time.perf_counter() - started)
        return dataclasses.replace(plan, objective_name=objective, cost_model=model, budget_eur=budget)
    plan = plan_from_network(
        problem, network, result, split.tutor, split.establishment, solver=name, stats=stats, started=started
    )
    eur = (
        plan_cost(problem, plan.tutor, plan.establishment, plan.onsite, plan.distance_km, model).total_cents
        / 100
    )
    plan = dataclasses.replace(plan, objective_name=objective, cost_model=model, budget_eur=budget)
    if objective == "km":
        # The km objective under a budget: the plan's km; the bound is proven only at optimum.
        if result.status is Status.OPTIMAL:
            return plan
        km_priority_bound = (
            float(stats["priority_bound_int"]) / network.priority_scale
            if "priority_bound_int" in stats
            else math.nan
        )
        km_gap = (
            (km_priority_bound - plan.covered_priority) / km_priority_bound
            if km_priority_bound > plan.covered_priority * (1 + 1e-12) + 1e-12
            else math.nan
        )
        return dataclasses.replace(plan, bound=math.nan, gap=km_gap, priority_bound=km_priority_bound)
    plan = dataclasses.replace(plan, objective=eur)
    if result.status is Status.OPTIMAL:
        return dataclasses.replace(plan, bound=eur)
    model_eur = float(stats.get("model_eur", math.nan))
    bound = float(stats.get("bound_eur", math.nan))
    gap = (model_eur - bound) / model_eur if math.isfinite(bound) and model_eur > 0 else math.nan
    tutors_bound = stats.get("tutors_bound")
    if not math.isfinite(gap) and tutors_bound is not None and plan.n_tutors_used > 0:
        # The number of tutors itself is not proven minimal: the gap is on it.
        gap = (plan.n_tutors_used - float(tutors_bound)) / plan.n_tutors_used
    if "priority_bound_int" in stats:
        priority_bound = float(stats["priority_bound_int"]) / network.priority_scale
    else:
        priority_bound = plan.covered_priority if stats.get("stopped_in") != "coverage" else math.nan
    if priority_bound > plan.covered_priority * (1 + 1e-12) + 1e-12:
        # Coverage itself is not proven maximal within the budget: the gap is on it.
        bound = math.nan
        gap = (priority_bound - plan.covered_priority) / priority_bound
    return dataclasses.replace(
        plan, bound=bound, gap=max(gap, 0.0) if math.isfinite(gap) else gap, priority_bound=priority_bound
    )
