"""The warm-started blossom: exact against brute force, and its dual check never passes a false proof."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from tests.conftest import random_frames

import tutormatch as tm
from tutormatch.solve import _blossom, _matching, _warm_matching
from tutormatch.testing import assert_valid_plan, brute_force, tiny_problems


@st.composite
def small_graphs(draw: st.DrawFn) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(2, 9))
    pairs = [p for p in itertools.combinations(range(n), 2) if draw(st.booleans())]
    assume(pairs)
    weights = draw(st.lists(st.integers(0, 30), min_size=len(pairs), max_size=len(pairs)))
    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    return n, a, b, np.array(weights, dtype=np.int64)


def _best_weight(n: int, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> int:
    """Brute force: the heaviest matching, by trying every subset of edges."""
    best = 0
    for k in range(1, n // 2 + 1):
        for subset in itertools.combinations(range(len(a)), k):
            ends = np.concatenate((a[list(subset)], b[list(subset)]))
            if len(np.unique(ends)) == 2 * k:
                best = max(best, int(w[list(subset)].sum()))
    return best


def _weight(solution: _blossom.BlossomDual, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> int:
    return int(w[solution.mate[a] == b].sum())


@given(graph=small_graphs())
def test_blossom_from_scratch_is_maximum_and_certified(
    graph: tuple[int, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    n, a, b, w = graph
    start = np.full(n, -1, dtype=np.int64), np.full(n, int(w.max()), dtype=np.int64)
    solution = _blossom.max_weight_matching(n, a, b, w, *start)
    assert solution is not None
    assert _weight(solution, a, b, w) == _best_weight(n, a, b, w)
    assert _blossom.certify(n, a, b, w, solution)
    event(f"blossoms in the dual: {len(solution.blossoms) > 0}")


@given(graph=small_graphs(), which=st.integers(0, 100), by=st.integers(1, 5))
def test_a_lowered_dual_or_a_worse_matching_is_never_certified(
    graph: tuple[int, np.ndarray, np.ndarray, np.ndarray], which: int, by: int
) -> None:
    n, a, b, w = graph
    solution = _blossom.max_weight_matching(
        n, a, b, w, np.full(n, -1, dtype=np.int64), np.full(n, int(w.max()), dtype=np.int64)
    )
    assert solution is not None
    # A smaller dual objective than the optimum cannot be feasible: lowering
    # any dual (vertex or blossom) must fail the check.
    lowered = solution.dual.copy()
    v = which % n
    assume(lowered[v] > 0 or solution.blossoms)
    if lowered[v] > 0:
        lowered[v] -= min(by, int(lowered[v]))
        bad = dataclasses.replace(solution, dual=lowered)
    else:
        leaves, z = solution.blossoms[which % len(solution.blossoms)]
        blossoms = list(solution.blossoms)
        blossoms[which % len(blossoms)] = (leaves, z - 1)
        bad = dataclasses.replace(solution, blossoms=tuple(blossoms))
    assert not _blossom.certify(n, a, b, w, bad)
    # The optimal dual with a lighter matching: the objectives differ.
    matched = np.flatnonzero(solution.mate[a] == b)
    assume(len(matched) and w[matched].max() > 0)
    drop = matched[np.argmax(w[matched])]
    mate = solution.mate.copy()
    mate[a[drop]] = mate[b[drop]] = -1
    assert not _blossom.certify(n, a, b, w, dataclasses.replace(solution, mate=mate))


def _check(problem: tm.Problem, plan: tm.Assignment) -> None:
    assert_valid_plan(plan)
    expected = brute_force(problem)
    if not expected.feasible:
        assert plan.status is tm.Status.INFEASIBLE
        return
    assert plan.status is tm.Status.OPTIMAL, plan.message
    assert math.isclose(plan.covered_priority, expected.covered_priority, abs_tol=1e-9)
    assert math.isclose(plan.objective, expected.cost_km, abs_tol=1e-3 * (problem.n_establishments + 1))
    loads = np.bincount(plan.tutor, minlength=problem.n_tutors)
    assert np.all((loads == 0) | (loads == problem.tutors.capacity))


def _aon(problem: tm.Problem) -> tm.Problem:
    problem = dataclasses.replace(problem, all_or_nothing=True)
    places = problem.tutors.capacity - np.bincount(problem.fixed[:, 0], minlength=problem.n_tutors)
    assume(bool(np.all(places <= 2)))
    return problem


@settings(max_examples=60)
@given(problem=tiny_problems(side_constraints=True))
def test_warm_blossom_proves_the_brute_force_optimum(problem: tm.Problem) -> None:
    problem = _aon(problem)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_matching, "EXACT_NODES", 0)  # nothing but the warm blossom may prove it
        plan = tm.solve(problem, solver="matching")
    event(f"certified: {plan.stats.get('certified')}")
    if plan.status is tm.Status.OPTIMAL:
        assert plan.stats.get("certified") or plan.stats.get("repaired") is not None, plan.message
    if plan.stats.get("certified"):
        _check(problem, plan)


@settings(max_examples=40)
@given(problem=tiny_problems(side_constraints=True), shift=st.integers(1, 3))
def test_a_wrong_start_never_yields_a_false_proof(problem: tm.Problem, shift: int) -> None:
    problem = _aon(problem)
    real = _warm_matching.relaxation_duals

    def wrong(*args: object, **kwargs: object) -> tuple[np.ndarray, np.ndarray]:
        alpha, beta = real(*args, **kwargs)  # type: ignore[arg-type]
        # Prices that understate the relaxation: infeasible for some pair.
        return np.maximum(alpha - shift, 0), np.maximum(beta - shift, 0)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_warm_matching, "relaxation_duals", wrong)
        plan = tm.solve(problem, solver="matching")
    # Whatever the start, the plan is the brute-force optimum or not claimed optimal.
    assert_valid_plan(plan)
    if plan.status is tm.Status.OPTIMAL:
        _check(problem, plan)


@settings(max_examples=30)
@given(problem=tiny_problems(side_constraints=True))
def test_a_failed_check_is_never_reported_as_the_blossoms_proof(problem: tm.Problem) -> None:
    problem = _aon(problem)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_warm_matching, "certify", lambda *args: False)
        patch.setattr(_matching, "EXACT_NODES", 0)
        plan = tm.solve(problem, solver="matching")
    assert_valid_plan(plan)
    assert "checked on every edge" not in plan.message
    assert not plan.stats.get("certified")


@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), order_seed=st.integers(0, 2**16))
def test_row_order_does_not_change_the_blossoms_plan(seed: int, order_seed: int) -> None:
    tutors, establishments = random_frames(25, 40, seed)
    tutors["capacity"] = np.minimum(tutors["capacity"], 2)
    # Tutors two by two on one spot: many plans tie, the canonical order decides.
    tutors.loc[1::2, ["lon", "lat"]] = tutors.loc[::2, ["lon", "lat"]].to_numpy()[: len(tutors.loc[1::2])]
    rng = np.random.default_rng(order_seed)

    def shuffled(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)

    options = {"max_distance_km": 30.0, "all_or_nothing": True}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_matching, "EXACT_NODES", 0)
        first = tm.solve(tm.Problem.from_frames(tutors, establishments, **options), solver="matching")
        second = tm.solve(
            tm.Problem.from_frames(shuffled(tutors), shuffled(establishments), **options), solver="matching"
        )
    assert first.stats["certified"]
    pd.testing.assert_frame_equal(first.table(), second.table())
    assert first.objective == second.objective
