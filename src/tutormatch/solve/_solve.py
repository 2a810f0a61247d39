"""``tutormatch.solve``: pick a backend, solve exactly, assemble the plan."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, ParamSpec

import numpy as np
import numpy.typing as npt

from tutormatch.errors import InputError
from tutormatch.model._costs import CostModel
from tutormatch.model._eligibility import MODE_ONSITE, MODE_REMOTE, classify_pairs
from tutormatch.model._problem import Problem
from tutormatch.solve._assignment import Assignment
from tutormatch.solve._backend import Backend, BackendResult
from tutormatch.solve._branch import BranchAndBoundBackend
from tutormatch.solve._cpsat import CpSatBackend
from tutormatch.solve._flow import FlowBackend
from tutormatch.solve._matching import MatchingBackend
from tutormatch.solve._network import Network, build_network
from tutormatch.solve._options import AUTO_PAIR_BUDGET, SolveOptions
from tutormatch.solve._pool import (
    check_memory,
    choose_k,
    estimate_pairs,
    first_round_slack,
    full_pool,
    initial_pool,
    price_pool,
)
from tutormatch.solve._reasons import explain_uncovered, no_plan_reasons
from tutormatch.solve._remote import split_remote
from tutormatch.solve._status import Status

__all__ = ["OBJECTIVES", "SOLVERS", "solve"]

SolverName = Literal["auto", "flow", "matching", "flow-bb", "cpsat"]
#: Valid values of ``solver``.
SOLVERS = ("auto", "flow", "matching", "flow-bb", "cpsat")
ObjectiveName = Literal["km", "euros", "tutors"]
#: Valid values of ``objective``.
OBJECTIVES = ("km", "euros", "tutors")

IntArray = npt.NDArray[np.int64]
logger = logging.getLogger(__name__)


def _backend(name: str | Backend, problem: Problem) -> Backend:
    if not isinstance(name, str):
        return name  # a Backend object (tests script outcomes with a fake one)
    if name not in SOLVERS:
        raise InputError(f"solver must be one of {', '.join(map(repr, SOLVERS))}; got {name!r}.")
    if name == "flow" and problem.all_or_nothing:
        raise InputError(
            "solver='flow' cannot enforce all_or_nothing loads (they break the flow "
            "structure); use solver='cpsat' or solver='auto'."
        )
    if name == "cpsat":
        return CpSatBackend()
    places = problem.tutors.capacity - np.bincount(problem.fixed[:, 0], minlength=problem.n_tutors)
    if name == "matching" and not np.all(places <= 2):
        raise InputError(
            "solver='matching' handles tutors with at most two places left (all-or-nothing loads "
            "of 0 or 2); some tutors have more. Use solver='flow-bb' or 'cpsat'."
        )
    if name == "matching" or (name == "auto" and problem.all_or_nothing and np.all(places <= 2)):
        return MatchingBackend(problem.tutor_xyz, problem.establishment_xyz)
    if name == "flow-bb" or (name == "auto" and problem.all_or_nothing):
        return BranchAndBoundBackend()
    return FlowBackend()


P = ParamSpec("P")


#: Seconds at most that an infeasible solve spends saying why (the time limit, if shorter).
CONFLICTS_TIME_LIMIT = 30.0
#: Whether an infeasible solve looks for the conflict: the outermost solve
#: does; the solves inside it (searches, "what if" re-solves) do not.
EXPLAIN_INFEASIBLE: contextvars.ContextVar[bool] = contextvars.ContextVar("explain_infeasible", default=True)


@contextlib.contextmanager
def status_only() -> Iterator[None]:
    """Within this block, an infeasible solve does not look for its conflict (re-solves in a loop)."""
    token = EXPLAIN_INFEASIBLE.set(False)
    try:
        yield
    finally:
        EXPLAIN_INFEASIBLE.reset(token)


def explains_infeasible(function: Callable[P, Assignment]) -> Callable[P, Assignment]:
    """Make an outermost solve put the conflict of an ``INFEASIBLE`` plan in its message.

    The solves it makes itself (a bisection, a search) run :func:`status_only`.
    """

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Assignment:
        started = time.perf_counter()
        outermost = EXPLAIN_INFEASIBLE.get()
        with status_only():
            plan = function(*args, **kwargs)
        if not outermost:
            return plan
        limit = kwargs.get("time_limit")
        options = kwargs.get("options")
        if limit is None and isinstance(options, SolveOptions):
            limit = options.time_limit
        return with_conflicts(plan, float(limit) if isinstance(limit, int | float) else math.inf, started)

    return wrapper


def with_conflicts(plan: Assignment, time_limit: float, started: float) -> Assignment:
    """Return an ``INFEASIBLE`` plan with the user's constraints that conflict in its message.

    The sentence of :meth:`Assignment.conflicts` (the conflict and the least
    relaxation, at the level of the minimum loads, fixed pairs,
    all-or-nothing loads and budget the user wrote) comes first, the
    backend's own words after it in brackets; the answer is kept for
    :meth:`Assignment.conflicts`. Other plans are returned as they are.
    """
    if plan.status is not Status.INFEASIBLE or "conflicts" in plan.stats:
        return plan
    from tutormatch.solve._conflicts import find_conflicts

    left = CONFLICTS_TIME_LIMIT
    if math.isfinite(time_limit):
        left = min(left, max(time_limit - (time.perf_counter() - started), 1.0))
    why = find_conflicts(
        plan.problem, budget_eur=plan.budget_eur, cost_model=plan.cost_model, time_limit=left
    )
    message = f"{why.sentence()} [{plan.message}]" if why.n_relaxed else plan.message
    return dataclasses.replace(
        plan,
        message=message,
        uncovered_reasons=no_plan_reasons(
            plan.problem.n_establishments,
            message,
            plan.status.value,
            why.sentence("fr") if why.n_relaxed else "",
        ),
        stats={**plan.stats, "conflicts": why, "backend_message": plan.message},
        solve_seconds=time.perf_counter() - started,
    )


@explains_infeasible
def solve(
    problem: Problem,
    *,
    objective: ObjectiveName | str | Sequence[Any] = "km",
    solver: SolverName | Backend = "auto",
    time_limit: float | None = None,
    options: SolveOptions | None = None,
    cost_model: CostModel | None = None,
    budget_eur: float | None = None,
    groups: Literal["hard"] | None = None,
) -> Assignment:
    """Assign tutors to establishments, exactly.

    The objective is lexicographic: first cover as much priority as possible
    (within the budget when there is one), then the ``objective``.

    Parameters
    ----------
    problem : Problem
    objective : {"km", "euros", "tutors", "worst-trip", "coverage"} or list, default "km"
        ``"km"``: the least yearly travel (``2 x visits x distance`` per
        on-site pair, the remote penalty per remote pair), the default
        because it needs no pay data and gives plans that are short for the
        tutors. ``"euros"``: the least yearly euros of ``cost_model``
        (indemnities, mileage by the scale on each tutor's yearly total,
        bonus ``3 x cia_eur`` per used tutor, recruitment of candidates,
        remote pairs), by branch and bound on tutors with min-cost flows as
        bounds (see ``docs/euros.md``). ``"tutors"``: the fewest tutors, then
        the least euros. These two, and budgets, stop after 60 s when no
        ``time_limit`` is given, with the proven gap. ``"worst-trip"``: the
        least longest on-site distance that keeps the coverage, then the
        least km. ``"worst-year"``: the least yearly road km of the tutor
        who drives most (``2 x visits x road km`` summed over a tutor's
        on-site pairs, fixed pairs included, as
        :meth:`Assignment.tutor_loads` prints it). ``"full-loads"``: the most
        tutors at exactly their capacity. ``"groups"``: the fewest groups
        (``agence_comptable``) whose covered establishments have more than one
        tutor. A list gives an explicit order of criteria, in any order, each a name,
        ``"euros~2%"``, ``(name, "2%")`` or a
        :class:`~tutormatch.solve.Criterion` with a tolerance later criteria
        may not break, e.g. ``["coverage", "worst-trip", "euros"]`` (see
        ``docs/fairness.md``); the plan's :attr:`~Assignment.criteria` and
        :attr:`~Assignment.fairness` give each value and the price of
        fairness.
    solver : {"auto", "flow", "matching", "flow-bb", "cpsat"}, default "auto"
        ``"flow"``: OR-Tools min-cost flow, exact and fastest, for capacities,
        minimum loads, fixed and forbidden pairs. ``"matching"``:
        all-or-nothing loads with at most two places per tutor, as a
        maximum-weight matching (exact up to about 4,500 nodes, geographic
        blocks with a proven gap beyond). ``"flow-bb"``: all-or-nothing loads
        of any size, branch and bound with flows as bounds. ``"cpsat"``:
        OR-Tools CP-SAT on the same model, hinted and bounded by the flow.
        ``"auto"`` picks ``flow``, or for all-or-nothing loads ``matching``
        (at most two places) else ``flow-bb``; :attr:`Assignment.solver` says
        which ran. An object following the ``Backend`` protocol of
        :mod:`tutormatch.solve` is used as given.
    time_limit : float, optional
        Seconds from this call, candidate pairs included; shortcut for
        ``options.time_limit``. ``cpsat`` (model building included),
        ``flow-bb`` and the repair and block passes of ``matching`` stop there
        with the best plan and its gap (or ``no_solution``); the flow always
        finishes, exactly.
    options : SolveOptions, optional
    cost_model : CostModel, optional
        The euros of ``"euros"``, ``"tutors"`` and budgets, and of the plan's
        summary. Default: :class:`~tutormatch.model.CostModel` ().
    budget_eur : float, optional
        Yearly euros the plan may not exceed (the model's euros, km summed
        exactly). Coverage is then maximised within it, then ``objective``.
        A budget below the cheapest plan gives status ``INFEASIBLE`` and a
        message with that plan's cost.
    groups : {None, "hard"}, default None
        ``"hard"``: the covered establishments of each group
        (``agence_comptable``) all have one tutor; coverage is then the most
        that this allows (the soft form is the criterion ``"groups"``).

    Returns
    -------
    Assignment
        With a status; a solver outcome (infeasible, limit reached) is a
        status, never an exception. Call :meth:`Assignment.raise_for_status`
        to turn it into one.

    Raises
    ------
    InputError
        For an unknown ``solver`` or ``objective``, a backend that cannot
        carry the problem's constraints, or a model too large for the
        machine's memory (with its estimated pairs and size, and the options
        that make it smaller).

    Examples
    --------
    >>> import tutormatch as tm
    >>> problem = tm.example_problem()
    >>> plan = tm.solve(problem)
    >>> plan.status.is_optimal, plan.n_covered == problem.n_establishments - plan.n_uncovered
    (True, True)
    """
    started = time.perf_counter()
    options = options or SolveOptions()
    if time_limit is not None:
        options = dataclasses.replace(options, time_limit=time_limit)
    if groups not in (None, "hard"):
        raise InputError(f"groups must be None or 'hard' (each group with one tutor); got {groups!r}.")
    if groups is not None or not (isinstance(objective, str) and objective in OBJECTIVES):
        return _solve_ordered(
            problem,
            objective,
            started=started,
            solver=solver,
            time_limit=time_limit,
            options=options,
            cost_model=cost_model,
            budget_eur=budget_eur,
            groups_hard=groups == "hard",
        )
    if objective not in OBJECTIVES:
        raise InputError(f"objective must be one of {', '.join(map(repr, OBJECTIVES))}; got {objective!r}.")
    if budget_eur is not None and not (math.isfinite(budget_eur) and budget_eur >= 0):
        raise InputError(f"budget_eur must be a finite number of euros >= 0; got {budget_eur!r}.")
    model = cost_model or CostModel()
    if objective != "km" or budget_eur is not None:
        if not isinstance(solver, str):
            raise InputError(f"objective={objective!r} and budgets need solver='auto' or 'cpsat'.")
        from tutormatch.solve._decide import solve_in_euros

        plan = solve_in_euros(
            problem,
            objective=objective,
            solver=solver,
            model=model,
            budget=None if budget_eur is None else float(budget_eur),
            options=options,
            started=started,
        )
        return plan
    backend = _backend(solver, problem)
    # Only a backend with duals can prove a partial pool sufficient.
    prices = isinstance(backend, FlowBackend)
    k = choose_k(problem, options.candidate_k, AUTO_PAIR_BUDGET) if prices else None
    if k is None:
        # Refused here, with its size and the options that reduce it, rather
        # than killed by the system halfway through listing the pairs.
        check_memory(problem, estimate_pairs(problem), why="with every pair")
    pool = initial_pool(problem, k)
    logger.info("candidate pairs: %s%s", f"{pool.n_pairs:,}", "" if pool.is_complete else " (first pool)")
    if prices and not pool.is_complete:
        backend = FlowBackend(potentials=True)
    explicit: frozenset[int] = frozenset()
    rounds = priced = 0
    while True:
        rounds += 1
        network = build_network(
            problem, pool, cost_resolution_km=options.cost_resolution_km, explicit_classes=explicit
        )
        if math.isfinite(options.time_limit):
            left = options.time_limit - (time.perf_counter() - started)
            round_options = dataclasses.replace(options, time_limit=max(left, 0.01))
        else:
            round_options = options
        result = backend.solve(network, round_options)
        logger.info("solve round %d: %s, %.2f s", rounds, result.status.value, time.perf_counter() - started)
        if result.status is Status.INFEASIBLE and not pool.is_complete:
            # Infeasible on part of the pairs proves nothing (a minimum load
            # may need a pair left out): solve again on all of them.
            check_memory(
                problem, estimate_pairs(problem), why="with every pair (a partial pool was infeasible)"
            )
            pool = full_pool(problem)
            continue
        if not result.status.has_solution:
            break
        if result.potentials is not None and not pool.is_complete:
            added = price_pool(
                problem,
                pool,
                active=network.active,
                tutor_room=network.capacity > 0,
                establishment_potential=result.potentials[0],
                tutor_potential=result.potentials[1],
                cost_unit_km=network.cost_unit_km,
                # Nothing found below a slack >= 0 is nothing found below 0: still a proof.
                slack=first_round_slack(network.arc_cost, result.arc_used) if rounds == 1 else 0,
                priority_potentials=result.priority_potentials,
            )
            if len(added[0]):
                # Pairs left out of the pool could improve the plan: add them.
                priced += len(added[0])
                pool = pool.extended(*added)
                continue
        split = split_remote(network, result.z, result.y)
        if not split.failed_classes:
            break
        # The class loads cannot be split into allowed pairs: expand those
        # classes into explicit pairs and solve again (exact in every case).
        explicit = explicit | split.failed_classes
    stats = dict(
        result.stats,
        rounds=rounds,
        candidate_pairs=pool.n_pairs,
        priced_pairs=priced,
        pool_complete=pool.is_complete,
        explicit_classes=len(explicit),
        cost_unit_km=network.cost_unit_km,
        backend_status=result.message,
    )
    if not result.status.has_solution:
        plan = _no_plan(problem, backend.name, result, stats, time.perf_counter() - started)
    else:
        plan = _assemble(
            problem, backend.name, network, result, split.tutor, split.establishment, stats, started
        )
    return dataclasses.replace(plan, cost_model=cost_model)


def _solve_ordered(
    problem: Problem,
    objective: str | Sequence[Any],
    *,
    started: float,
    groups_hard: bool = False,
    **kwargs: Any,
) -> Assignment:
    """Solve an explicit order of criteria (see :mod:`tutormatch.solve._criteria`).

    The fast exact paths where the order fits them (one cost; the worst
    trip before or after one cost), else the CP-SAT engine of
    :mod:`tutormatch.solve._lexico`.
    """
    from tutormatch.solve._criteria import CRITERIA, parse_criteria

    if (
        isinstance(objective, str)
        and objective not in CRITERIA
        and "," not in objective
        and "~" not in objective
    ):
        valid = (*OBJECTIVES, *(c for c in CRITERIA if c not in OBJECTIVES))
        raise InputError(
            f"objective must be one of {', '.join(map(repr, valid))} "
            f"or an ordered list of criteria (docs/fairness.md); got {objective!r}."
        )
    if isinstance(objective, str) and ("," in objective or "~" in objective):
        from tutormatch.solve._criteria import parse_objective_text

        criteria = parse_objective_text(objective)
    else:
        criteria = parse_criteria(objective)
    names = [c.name for c in criteria]
    shape = tuple("cost" if n in ("km", "euros", "tutors") else n for n in names[1:])
    if groups_hard or shape not in (
        (),
        ("cost",),
        ("worst-trip",),
        ("worst-trip", "cost"),
        ("cost", "worst-trip"),
    ):
        from tutormatch.solve._lexico import solve_lexico

        return solve_lexico(
            problem, criteria, groups_hard=groups_hard, solve=solve, solve_kwargs=kwargs, started=started
        )
    if "worst-trip" not in names:
        cost = names[1] if len(names) > 1 else "km"
        plan = solve(problem, objective=cost, **kwargs)
        if not plan.status.has_solution:
            return plan
        from tutormatch.solve._fair import criterion_value

        values = tuple(
            {"name": c, "value": criterion_value(plan, c), "tolerance_rel": 0.0, "tolerance_abs": 0.0}
            for c in ("coverage", cost)
        )
        return dataclasses.replace(plan, criteria=values)
    from tutormatch.solve._fair import solve_with_worst_trip

    return solve_with_worst_trip(problem, criteria, solve=solve, solve_kwargs=kwargs, started=started)


def _no_plan(
    problem: Problem, solver: str, result: BackendResult, stats: dict[str, object], seconds: float
) -> Assignment:
    n_e = problem.n_establishments
    empty_i = np.empty(0, dtype=np.int64)
    empty_f = np.empty(0, dtype=np.float64)
    return Assignment(
        problem=problem,
        status=result.status,
        solver=solver,
        message=result.message,
        tutor=empty_i,
        establishment=empty_i.copy(),
        mode=np.empty(0, dtype=np.int8),
        distance_km=empty_f,
        cost_km=empty_f.copy(),
        is_fixed=np.empty(0, dtype=bool),
        uncovered_establishment=np.arange(n_e, dtype=np.int64),
        uncovered_reasons=no_plan_reasons(n_e, result.message, result.status.value),
        objective=math.nan,
        bound=math.nan,
        gap=math.nan,
        covered_priority=0.0,
        priority_bound=math.nan,
        solve_seconds=seconds,
        stats=stats,
    )


def plan_from_free_pairs(
    problem: Problem, tutor: IntArray, establishment: IntArray, **kwargs: Any
) -> Assignment:
    """Build the plan of a method's chosen (free) pairs plus the problem's fixed pairs.

    ``kwargs`` are :func:`plan_from_pairs`'s keywords (status, solver, message, stats, started).
    """
    fixed = problem.fixed
    return plan_from_pairs(
        problem,
        np.concatenate((tutor, fixed[:, 0])),
        np.concatenate((establishment, fixed[:, 1])),
        np.concatenate((np.zeros(len(tutor), dtype=bool), np.ones(len(fixed), dtype=bool))),
        **kwargs,
    )


def plan_from_pairs(
    problem: Problem,
    tutor: IntArray,
    establishment: IntArray,
    is_fixed: npt.NDArray[np.bool_],
    *,
    status: Status,
    solver: str,
    message: str,
    stats: dict[str, object],
    started: float,
) -> Assignment:
    """Build the plan of chosen pairs: modes, distances, costs, uncovered reasons.

    The returned plan claims a proven optimum (bound = objective, gap 0) when
    ``status`` is OPTIMAL; callers with a weaker status replace the bound,
    gap and priority bound.
    """
    n_e = problem.n_establishments
    order = np.argsort(establishment, kind="stable")
    tutor, establishment, is_fixed = tutor[order], establishment[order], is_fixed[order]

    # The rules decide the mode: a pair within the limit is on-site (this also
    # turns a class-routed pair that happens to be near into on-site, at no
    # extra cost).
    distance = problem.distance_km(tutor, establishment)
    mode = np.where(
        classify_pairs(problem, tutor, establishment, distance) == MODE_ONSITE, MODE_ONSITE, MODE_REMOTE
    )
    mode = mode.astype(np.int8)
    hit = mode == MODE_ONSITE
    distance = np.where(np.isfinite(distance), distance, np.nan)
    cost = np.where(
        hit,
        problem.pair_cost_km(establishment, np.nan_to_num(distance)),
        problem.remote_cost_km[establishment],
    )

    covered = np.zeros(n_e, dtype=bool)
    covered[establishment] = True
    uncovered = np.flatnonzero(~covered).astype(np.int64)
    reasons = explain_uncovered(problem, uncovered, all_or_nothing=problem.all_or_nothing)
    covered_priority = float(problem.establishments.priority[covered].sum())
    objective = float(cost.sum())
    return Assignment(
        problem=problem,
        status=status,
        solver=solver,
        message=message,
        tutor=tutor,
        establishment=establishment,
        mode=mode,
        distance_km=distance,
        cost_km=cost,
        is_fixed=is_fixed,
        uncovered_establishment=uncovered,
        uncovered_reasons=reasons,
        objective=objective,
        bound=objective,
        gap=0.0,
        covered_priority=covered_priority,
        priority_bound=covered_priority,
        solve_seconds=time.perf_counter() - started,
        stats=stats,
    )


def plan_from_network(
    problem: Problem,
    network: Network,
    result: BackendResult,
    remote_tutor: IntArray,
    remote_establishment: IntArray,
    *,
    solver: str,
    stats: dict[str, object],
    started: float,
) -> Assignment:
    """Build the plan of a backend's answer: its direct arcs, the split remote pairs and the fixed pairs."""
    used = result.arc_used
    fixed = problem.fixed
    tutor = np.concatenate((network.arc_tutor[used], remote_tutor, fixed[:, 0]))
    establishment = np.concatenate((network.arc_establishment[used], remote_establishment, fixed[:, 1]))
    is_fixed = np.concatenate(
        (np.zeros(len(tutor) - len(fixed), dtype=bool), np.ones(len(fixed), dtype=bool))
    )
    return plan_from_pairs(
        problem,
        tutor,
        establishment,
        is_fixed,
        status=result.status,
        solver=solver,
        message=result.message,
        stats=stats,
        started=started,
    )


def _assemble(
    problem: Problem,
    solver: str,
    network: Network,
    result: BackendResult,
    remote_tutor: IntArray,
    remote_establishment: IntArray,
    stats: dict[str, object],
    started: float,
) -> Assignment:
    plan = plan_from_network(
        problem,
        network,
        result,
        remote_tutor,
        remote_establishment,
        solver=solver,
        stats=stats,
        started=started,
    )
    if result.status is Status.OPTIMAL:
        return plan
    # Translate the composite bound M x uncovered + cost into the two levels.
    priority = problem.establishments.priority
    covered = np.zeros(problem.n_establishments, dtype=bool)
    covered[plan.establishment] = True
    lower = max(result.bound, 0.0)
    uncovered_lb = int(lower // network.big_m)
    uncovered_now = network.uncovered_priority_int(~covered)
    priority_bound = float(priority.sum()) - uncovered_lb / network.priority_scale
    objective = plan.objective
    if uncovered_lb >= uncovered_now:
        fixed_cost = float(plan.cost_km[plan.is_fixed].sum())
        cost_lb = max(lower - network.big_m * uncovered_now, 0.0) * network.cost_unit_km
        bound = min(cost_lb + fixed_cost, objective)
        gap = (objective - bound) / objective if objective > 0 else 0.0
        priority_bound = plan.covered_priority
    else:
        bound = math.nan
        gap = (priority_bound - plan.covered_priority) / priority_bound if priority_bound > 0 else 0.0
    return dataclasses.replace(plan, bound=bound, gap=gap, priority_bound=priority_bound)
