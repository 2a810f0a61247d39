"""Checks and generators for testing tutormatch and the tools built on it.

- :func:`assert_valid_plan` checks every rule a plan must obey, from the
  problem's own definition of eligibility, independently of any solver.
- :func:`brute_force` computes the lexicographic optimum of a tiny problem by
  dynamic programming over establishments, with remote pairs listed one by
  one (no remote classes), so it shares no modelling shortcut with the
  backends.
- :func:`tiny_problems` is a hypothesis strategy of small random problems
  exercising every rule (needs the ``hypothesis`` package).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tutormatch.io._uai import make_uai
from tutormatch.model._eligibility import MODE_NAMES, MODE_NONE, MODE_ONSITE, classify_pairs
from tutormatch.model._problem import Problem
from tutormatch.solve._assignment import Assignment

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = [
    "BruteForceEuros",
    "BruteForceResult",
    "assert_valid_plan",
    "brute_force",
    "brute_force_euros",
    "eligible_pair_table",
    "model_euros",
    "tiny_problems",
]


def eligible_pair_table(problem: Problem) -> pd.DataFrame:
    """Return every eligible pair of a (small) problem with its mode and cost, densely.

    Columns: ``tutor, establishment, mode, distance_km, cost_km``.
    """
    n_t, n_e = problem.n_tutors, problem.n_establishments
    grid_t, grid_e = np.meshgrid(np.arange(n_t), np.arange(n_e), indexing="ij")
    t, e = grid_t.ravel(), grid_e.ravel()
    distance = problem.distance_km(t, e)
    mode = classify_pairs(problem, t, e, distance)
    cost = np.where(
        mode == MODE_ONSITE,
        problem.pair_cost_km(e, np.where(np.isfinite(distance), distance, 0.0)),
        problem.remote_cost_km[e] if n_e else np.zeros(0),
    )
    keep = mode != MODE_NONE
    return pd.DataFrame(
        {
            "tutor": t[keep],
            "establishment": e[keep],
            "mode": mode[keep],
            "distance_km": distance[keep],
            "cost_km": cost[keep],
        }
    )


def assert_valid_plan(plan: Assignment, *, rtol: float = 1e-9) -> None:
    """Check that a plan obeys every rule of its problem; raise AssertionError if not.

    Checks: each establishment exactly once (pairs or uncovered); every pair
    eligible in the reported mode; loads within capacity and minimum loads
    met; all-or-nothing loads; fixed pairs kept and forbidden pairs absent;
    distances, costs, objective and covered priority equal to what the pairs
    give.
    """
    p = plan.problem
    if not plan.status.has_solution:
        assert plan.n_pairs == 0, "a plan without solution lists pairs"
        assert plan.n_uncovered == p.n_establishments, "a plan without solution must list every establishment"
        return
    seen = np.concatenate((plan.establishment, plan.uncovered_establishment))
    assert len(seen) == p.n_establishments, f"{len(seen)} rows for {p.n_establishments} establishments"
    assert np.array_equal(np.sort(seen), np.arange(p.n_establishments)), (
        "an establishment is missing or repeated"
    )
    assert np.all(np.diff(plan.establishment) > 0), "pairs must be sorted by establishment"
    assert all(r in ("no_eligible_tutor", "tutors_full") for r in plan.uncovered_reason), "unknown reason"

    distance = p.distance_km(plan.tutor, plan.establishment)
    modes = classify_pairs(p, plan.tutor, plan.establishment, distance)
    bad = modes != plan.mode
    wrong = list(zip(p.tutors.id[plan.tutor[bad]], p.establishments.id[plan.establishment[bad]], strict=True))
    assert not wrong, f"pairs not eligible in their mode: {wrong}"
    loads = plan.loads
    assert np.all(loads <= p.tutors.capacity), "a tutor exceeds capacity"
    assert np.all(loads >= p.tutors.min_load), "a tutor is below their minimum load"
    if p.all_or_nothing:
        assert np.all((loads == 0) | (loads == p.tutors.capacity)), "all-or-nothing load broken"
    chosen = set(zip(plan.tutor.tolist(), plan.establishment.tolist(), strict=True))
    for t, e in p.fixed.tolist():
        assert (t, e) in chosen, f"fixed pair ({p.tutors.id[t]}, {p.establishments.id[e]}) missing"
    for t, e in p.forbidden.tolist():
        assert (t, e) not in chosen, f"forbidden pair ({p.tutors.id[t]}, {p.establishments.id[e]}) chosen"

    onsite = plan.mode == MODE_ONSITE
    np.testing.assert_allclose(plan.distance_km[onsite], distance[onsite], rtol=rtol)
    if plan.objective_name != "km":
        # In euros the objective is the cost report's total, to the cent.
        from tutormatch.report import ReportOptions, costs

        model = plan.cost_model
        assert model is not None, "a plan in euros carries its cost model"
        options = ReportOptions(
            indemnity_eur=model.indemnity_eur, bonus_multiplier=model.bonus_multiplier,
            remote_pair_cost_eur=model.remote_pair_cost_eur, fixed_cost_eur=model.fixed_cost_eur,
            default_vehicle_class=model.default_vehicle_class, km_decimals=model.km_decimals,
            detour_factor=model.detour_factor, scale=model.scale,
        )  # fmt: skip
        assert round(plan.objective * 100) == round(costs(plan, options=options).total_eur * 100), (
            "the plan's euros differ from the cost report's"
        )
        covered = float(p.establishments.priority[plan.establishment].sum())
        assert math.isclose(plan.covered_priority, covered, rel_tol=rtol, abs_tol=1e-9)
        if plan.status.is_optimal:
            assert plan.gap == 0
            assert plan.bound == plan.objective
        return
    expected_cost = np.where(
        onsite,
        p.pair_cost_km(plan.establishment, np.where(onsite, distance, 0.0)),
        p.remote_cost_km[plan.establishment],
    )
    np.testing.assert_allclose(plan.cost_km, expected_cost, rtol=rtol, atol=1e-9)
    assert math.isclose(plan.objective, float(expected_cost.sum()), rel_tol=rtol, abs_tol=1e-6)
    covered = float(p.establishments.priority[plan.establishment].sum())
    assert math.isclose(plan.covered_priority, covered, rel_tol=rtol, abs_tol=1e-9)
    if plan.status.is_optimal:
        assert plan.gap == 0
        assert plan.bound == plan.objective


@dataclass(frozen=True)
class BruteForceResult:
    """The lexicographic optimum of a tiny problem.

    Attributes
    ----------
    feasible : bool
    covered_priority : float
    cost_km : float
    """

    feasible: bool
    covered_priority: float
    cost_km: float


def brute_force(problem: Problem, *, max_states: int = 2_000_000) -> BruteForceResult:
    """Return the lexicographic optimum (most priority, then least cost) by exhaustion.

    Dynamic programming over establishments with the tutors' loads as state;
    every eligible pair is listed explicitly (remote ones included). For
    problems up to about 8 x 8.

    Raises
    ------
    ValueError
        If the state space would exceed ``max_states``.
    """
    n_t, n_e = problem.n_tutors, problem.n_establishments
    capacity = tuple(int(c) for c in problem.tutors.capacity)
    if math.prod(c + 1 for c in capacity) * max(n_e, 1) > max_states:
        raise ValueError("problem too large for brute force")
    pairs = eligible_pair_table(problem)
    options: list[list[tuple[int, float]]] = [[] for _ in range(n_e)]
    for t, e, c in zip(pairs["tutor"], pairs["establishment"], pairs["cost_km"], strict=True):
        options[int(e)].append((int(t), float(c)))
    fixed = {int(e): int(t) for t, e in problem.fixed.tolist()}
    for e, t in fixed.items():
        options[e] = [(tt, c) for tt, c in options[e] if tt == t]
    priority = [float(x) for x in problem.establishments.priority]
    min_load = tuple(int(m) for m in problem.tutors.min_load)
    all_or_nothing = problem.all_or_nothing
    worst = (-math.inf, math.inf)

    def better(a: tuple[float, float], b: tuple[float, float]) -> bool:
        if not math.isclose(a[0], b[0], rel_tol=1e-12, abs_tol=1e-9):
            return a[0] > b[0]
        return a[1] < b[1] - 1e-9

    @functools.cache
    def best(e: int, loads: tuple[int, ...]) -> tuple[float, float]:
        if e == n_e:
            ok = all(lo >= m for lo, m in zip(loads, min_load, strict=True))
            if all_or_nothing:
                ok = ok and all(lo in (0, c) for lo, c in zip(loads, capacity, strict=True))
            return (0.0, 0.0) if ok else worst
        result = worst if e in fixed else best(e + 1, loads)
        for t, cost in options[e]:
            if loads[t] < capacity[t]:
                after = best(e + 1, (*loads[:t], loads[t] + 1, *loads[t + 1 :]))
                if after != worst:
                    candidate = (after[0] + priority[e], after[1] + cost)
                    if result == worst or better(candidate, result):
                        result = candidate
        return result

    value = best(0, (0,) * n_t)
    best.cache_clear()
    if value == worst:
        return BruteForceResult(False, math.nan, math.nan)
    return BruteForceResult(True, value[0], value[1])


def model_euros(
    problem: Problem,
    tutor: np.ndarray,
    establishment: np.ndarray,
    mode: np.ndarray,
    model: Any = None,
) -> float:
    """Return the yearly euros of pairs as the optimiser counts them (yearly km summed exactly).

    Written from the rules, independently of the backends: indemnity per
    pair, remote pair cost, per used tutor the bonus (``cia_eur`` x the
    multiplier, 0 when unknown) and a candidate's recruitment cost, and the
    mileage scale applied tranche by tranche after ``prior_service_km``.
    """
    from tutormatch.model._costs import CostModel, prior_service_km

    model = model or CostModel()
    tutors, est = problem.tutors, problem.establishments
    detour = (
        1.0 if problem.distance_matrix is not None else float(model.detour_factor or problem.detour_factor)
    )
    prior = prior_service_km(tutors)
    bounds = [0.0, *(float(b) for b in model.scale.tranche_upper_km), math.inf]
    total = float(model.indemnity_eur) * len(tutor)
    yearly: dict[int, float] = {}
    for t, e, m in zip(
        np.asarray(tutor).tolist(), np.asarray(establishment).tolist(), np.asarray(mode).tolist(), strict=True
    ):
        yearly.setdefault(t, 0.0)
        if m == MODE_ONSITE:
            d = float(problem.distance_km(np.array([t]), np.array([e]))[0])
            yearly[t] += 2.0 * float(est.visits_per_year[e]) * d * detour
        else:
            total += float(model.remote_pair_cost_eur)
    for t, km in yearly.items():
        cia = float(tutors.cia_eur[t])
        total += 0.0 if math.isnan(cia) else float(model.bonus_multiplier) * cia
        if tutors.is_candidate[t]:
            own = float(tutors.fixed_cost_eur[t])
            total += float(model.fixed_cost_eur) if math.isnan(own) else own
        cv = float(tutors.vehicle_cv[t])
        key = model.default_vehicle_class if math.isnan(cv) else model.scale.class_of_cv(cv).key
        rates = [float(r) for r in model.scale.vehicle_class(key).rates_eur_per_km]
        start, stop = float(prior[t]), float(prior[t]) + km
        for j, rate in enumerate(rates):
            total += rate * max(0.0, min(stop, bounds[j + 1]) - max(start, bounds[j]))
    return total


@dataclass(frozen=True)
class BruteForceEuros:
    """The lexicographic optimum of a tiny problem in euros (see :func:`brute_force_euros`).

    Attributes
    ----------
    feasible : bool
    covered_priority : float
    n_tutors : int
    euros : float
        As the optimiser counts them (:func:`model_euros`).
    cheapest_euros : float
        The least euros of any plan, whatever it covers.
    """

    feasible: bool
    covered_priority: float
    n_tutors: int
    euros: float
    cheapest_euros: float


def brute_force_euros(
    problem: Problem,
    *,
    objective: str = "euros",
    model: Any = None,
    budget_eur: float | None = None,
    max_plans: int = 200_000,
) -> BruteForceEuros:
    """Return the optimum of ``objective`` (``"euros"``, ``"tutors"`` or ``"km"``) by listing every plan.

    Most priority first (within ``budget_eur``), then fewest tutors for
    ``"tutors"``, then least euros (least km-equivalent for ``"km"``).
    For problems up to about 4 x 5.

    Raises
    ------
    ValueError
        If there are more than ``max_plans`` plans.
    """
    n_t, n_e = problem.n_tutors, problem.n_establishments
    pairs = eligible_pair_table(problem)
    options: list[list[tuple[int, int, float]]] = [[] for _ in range(n_e)]
    for t, e, m, c in zip(
        pairs["tutor"], pairs["establishment"], pairs["mode"], pairs["cost_km"], strict=True
    ):
        options[int(e)].append((int(t), int(m), float(c)))
    fixed = {int(e): int(t) for t, e in problem.fixed.tolist()}
    for e, t in fixed.items():
        options[e] = [o for o in options[e] if o[0] == t]
    if math.prod(len(o) + 1 for o in options) > max_plans:
        raise ValueError("problem too large for brute force")
    capacity = [int(c) for c in problem.tutors.capacity]
    min_load = [int(m) for m in problem.tutors.min_load]
    priority = [float(x) for x in problem.establishments.priority]
    best: tuple[float, ...] | None = None
    best_values = (math.nan, 0, math.nan)
    cheapest = math.inf
    chosen: list[tuple[int, int, int, float]] = []
    loads = [0] * n_t

    def leaf() -> None:
        nonlocal best, best_values, cheapest
        if any(lo < m for lo, m in zip(loads, min_load, strict=True)):
            return
        if problem.all_or_nothing and any(lo not in (0, c) for lo, c in zip(loads, capacity, strict=True)):
            return
        t = np.array([c[0] for c in chosen], dtype=np.int64)
        e = np.array([c[1] for c in chosen], dtype=np.int64)
        m = np.array([c[2] for c in chosen], dtype=np.int8)
        euros = model_euros(problem, t, e, m, model)
        cheapest = min(cheapest, euros)
        if budget_eur is not None and euros > budget_eur + 1e-6:
            return
        covered = math.fsum(priority[c[1]] for c in chosen)
        n_used = len(set(t.tolist()))
        km = math.fsum(c[3] for c in chosen)
        key = (-covered, n_used if objective == "tutors" else 0, km if objective == "km" else euros)
        if best is None or _lex_less(key, best):
            best, best_values = key, (covered, n_used, euros)

    def visit(e: int) -> None:
        if e == n_e:
            leaf()
            return
        if e not in fixed:
            visit(e + 1)
        for t, m, c in options[e]:
            if loads[t] < capacity[t]:
                loads[t] += 1
                chosen.append((t, e, m, c))
                visit(e + 1)
                chosen.pop()
                loads[t] -= 1

    visit(0)
    if best is None:
        return BruteForceEuros(False, math.nan, 0, math.nan, cheapest)
    return BruteForceEuros(True, best_values[0], int(best_values[1]), best_values[2], cheapest)


def _lex_less(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    for x, y in zip(a, b, strict=True):
        if not math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-7):
            return x < y
    return False


def tiny_problems(
    max_tutors: int = 5,
    max_establishments: int = 6,
    *,
    side_constraints: bool = False,
    euros: bool = False,
) -> SearchStrategy[Problem]:
    """Return a hypothesis strategy of tiny problems that exercise every rule.

    Points lie in a 1° box so that distances straddle the limit; waves, roles,
    needs, remote acceptance, personal limits, capacities, visits, priorities,
    own establishments, fixed and forbidden pairs are all drawn at random.
    With ``side_constraints``, minimum loads and all-or-nothing loads too.
    With ``euros``, the columns of the cost model: ``cia_eur``,
    ``vehicle_cv``, ``prior_service_km`` (near 2,000 and 10,000 km, so that
    yearly totals cross the scale's tranches), ``status`` and
    ``fixed_cost_eur``, more visits, capacities up to 3, every tutor eligible
    for every establishment within the limit, and mostly no remote tutoring.
    """
    from hypothesis import strategies as st

    @st.composite
    def build(draw: Any) -> Problem:
        n_t = draw(st.integers(1 if euros else 0, max_tutors))
        n_e = draw(st.integers(2 if euros else 0, max_establishments))
        coord = st.floats(0.0, 1.0, allow_nan=False)
        maybe_wave = st.sampled_from([None, None, 1, 2, 3, 4])
        mostly_true = st.sampled_from([True, True, True, False])
        uais = [make_uai(f"013{i:04d}") for i in range(n_e)]
        establishments = pd.DataFrame(
            {
                "uai": uais,
                "lon": [5.0 + draw(coord) for _ in range(n_e)],
                "lat": [43.5 + draw(coord) * 0.7 for _ in range(n_e)],
                "wave": [draw(maybe_wave) for _ in range(n_e)],
                "priority": [draw(st.sampled_from([1.0, 1.0, 2.0, 3.0, 0.5, 1.25])) for _ in range(n_e)],
                "need": [
                    draw(st.sampled_from(["", "", "", "management", "accounting", "both"]))
                    for _ in range(n_e)
                ],
                "remote_ok": [draw(mostly_true) for _ in range(n_e)],
                "visits_per_year": [draw(st.sampled_from([6, 6, 2, 10])) for _ in range(n_e)],
            }
        )
        tutors = pd.DataFrame(
            {
                "tutor_id": [f"T{i}" for i in range(n_t)],
                "lon": [5.0 + draw(coord) for _ in range(n_t)],
                "lat": [43.5 + draw(coord) * 0.7 for _ in range(n_t)],
                "wave": [draw(maybe_wave) for _ in range(n_t)],
                "role": [
                    draw(st.sampled_from(["", "", "SG", "SGAC", "FPAC", "AG", "AC"])) for _ in range(n_t)
                ],
                "capacity": [draw(st.sampled_from([0, 1, 2, 2, 3])) for _ in range(n_t)],
                "remote_ok": [draw(mostly_true) for _ in range(n_t)],
                "max_km": [draw(st.sampled_from([None, None, 20.0, 45.0])) for _ in range(n_t)],
                "home_uai": [draw(st.sampled_from(["", *uais])) if n_e else "" for _ in range(n_t)],
            }
        )
        if euros:
            establishments["visits_per_year"] = [draw(st.sampled_from([6, 10, 12])) for _ in range(n_e)]
            tutors["capacity"] = [draw(st.sampled_from([1, 2, 3, 3])) for _ in range(n_t)]
            # Dense eligibility: the cost model, not the rules, decides.
            establishments["wave"] = [None] * n_e
            establishments["need"] = [""] * n_e
            for column, blank in (("wave", None), ("role", ""), ("max_km", None), ("home_uai", "")):
                tutors[column] = [blank] * n_t
            tutors["cia_eur"] = [draw(st.sampled_from([None, 0, 300, 450, 900])) for _ in range(n_t)]
            tutors["vehicle_cv"] = [draw(st.sampled_from([None, 4, 6, 9])) for _ in range(n_t)]
            tutors["prior_service_km"] = [
                draw(st.sampled_from([None, 0, 1500, 1900, 9000, 9800])) for _ in range(n_t)
            ]
            tutors["status"] = [draw(st.sampled_from(["retained", "", "candidate"])) for _ in range(n_t)]
            tutors["fixed_cost_eur"] = [
                draw(st.sampled_from([None, 150.0])) if s == "candidate" else None for s in tutors["status"]
            ]
        if side_constraints:
            tutors["min_load"] = [
                draw(st.integers(0, c)) if draw(st.booleans()) else 0 for c in tutors["capacity"]
            ]
        settings: dict[str, Any] = {
            "max_distance_km": draw(st.sampled_from([25.0, 40.0, 60.0])),
            # In euros remote pairs pay no mileage: mostly on-site, so that tranches are crossed.
            "allow_remote": draw(st.sampled_from([False, False, True]) if euros else mostly_true),
            "remote_penalty_km": draw(st.sampled_from([None, None, 100.0, 2000.0])),
            "all_or_nothing": side_constraints and draw(st.booleans()),
        }
        all_pairs = [(f"T{t}", uais[e]) for t in range(n_t) for e in range(n_e)]
        forbidden = draw(st.lists(st.sampled_from(all_pairs), max_size=4, unique=True)) if all_pairs else []
        base = Problem.from_frames(tutors, establishments, forbidden_pairs=forbidden, **settings)
        wanted = draw(st.lists(st.sampled_from(all_pairs), max_size=6, unique=True)) if all_pairs else []
        fixed: list[tuple[str, str]] = []
        load: dict[str, int] = {}
        taken: set[str] = set()
        t_index = {tid: i for i, tid in enumerate(base.tutors.id)}
        e_index = {uai: j for j, uai in enumerate(base.establishments.id)}
        for tid, uai in wanted:
            t, e = t_index[tid], e_index[uai]
            d = base.distance_km(np.array([t]), np.array([e]))
            if classify_pairs(base, np.array([t]), np.array([e]), d)[0] == MODE_NONE:
                continue
            if uai in taken or load.get(tid, 0) >= base.tutors.capacity[t]:
                continue
            fixed.append((tid, uai))
            taken.add(uai)
            load[tid] = load.get(tid, 0) + 1
        if not fixed:
            return base
        return Problem.from_frames(
            tutors, establishments, forbidden_pairs=forbidden, fixed_pairs=fixed, **settings
        )

    return build()


# Re-exported for readers of a plan's modes.
MODES = MODE_NAMES
