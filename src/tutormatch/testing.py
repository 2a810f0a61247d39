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

__all__ = ["BruteForceResult", "assert_valid_plan", "brute_force", "eligible_pair_table", "tiny_problems"]


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


def tiny_problems(
    max_tutors: int = 5, max_establishments: int = 6, *, side_constraints: bool = False
) -> SearchStrategy[Problem]:
    """Return a hypothesis strategy of tiny problems that exercise every rule.

    Points lie in a 1° box so that distances straddle the limit; waves, roles,
    needs, remote acceptance, personal limits, capacities, visits, priorities,
    own establishments, fixed and forbidden pairs are all drawn at random.
    With ``side_constraints``, minimum loads and all-or-nothing loads too.
    """
    from hypothesis import strategies as st

    @st.composite
    def build(draw: Any) -> Problem:
        n_t = draw(st.integers(0, max_tutors))
        n_e = draw(st.integers(0, max_establishments))
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
        if side_constraints:
            tutors["min_load"] = [
                draw(st.integers(0, c)) if draw(st.booleans()) else 0 for c in tutors["capacity"]
            ]
        settings: dict[str, Any] = {
            "max_distance_km": draw(st.sampled_from([25.0, 40.0, 60.0])),
            "allow_remote": draw(mostly_true),
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
