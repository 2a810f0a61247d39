"""Time limits bound the whole solve; too large a model is refused up front."""

from __future__ import annotations

import pytest

import tutormatch as tm
from tutormatch.datasets import synthetic_instance
from tutormatch.solve import _pool
from tutormatch.testing import assert_valid_plan


def _all_or_nothing(n_establishments: int) -> tm.Problem:
    tutors, establishments = synthetic_instance(n_establishments, n_establishments // 2, seed=1)
    return tm.Problem.from_frames(tutors, establishments, max_distance_km=60.0, all_or_nothing=True)


def test_cpsat_stops_before_searching_when_the_limit_passes_while_building() -> None:
    # Before: the model and its flow relaxation were built whatever the limit
    # (2.5 s for a 0.001 s limit), then CP-SAT searched for at least 0.01 s.
    plan = tm.solve(_all_or_nothing(200), solver="cpsat", time_limit=1e-9)
    assert_valid_plan(plan)
    assert plan.status is tm.Status.NO_SOLUTION
    assert "time limit reached while building the model" in plan.message


def test_matching_by_blocks_honours_the_limit_in_its_first_pass() -> None:
    # Before: the first pass over every block ignored the deadline.
    problem = _all_or_nothing(2000)  # beyond the exact matching's size: blocks
    plan = tm.solve(problem, solver="matching", time_limit=1e-9)
    assert_valid_plan(plan)
    assert plan.status is tm.Status.FEASIBLE
    assert plan.stats["block_passes"] == 1
    assert plan.n_covered == 0  # no block was reached: every tutor at load 0, allowed
    assert plan.gap > 0


def test_a_model_too_large_for_memory_is_refused_with_its_size(monkeypatch: pytest.MonkeyPatch) -> None:
    tutors, establishments = synthetic_instance(300, 150, departements=["13"], seed=1)
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=60.0)
    monkeypatch.setattr(_pool, "_memory_bytes", lambda: 1e6)  # a 1 MB machine
    with pytest.raises(tm.InputError, match=r"too large to model with every pair: about [\d,]+ on-site"):
        tm.solve(problem, options=tm.SolveOptions(candidate_k=None))
    with pytest.raises(tm.InputError, match="Lower max_distance_km, or solve with SolveOptions"):
        tm.solve(problem, solver="cpsat")
    # Nearest tutors then pricing keeps the model small: solved.
    assert tm.solve(problem, options=tm.SolveOptions(candidate_k=8)).status is tm.Status.OPTIMAL


def test_pair_estimate_is_close_to_the_count() -> None:
    # 5,000 establishments: a sample of every 2nd one, scaled up.
    tutors, establishments = synthetic_instance(5000, 2500, seed=3, waves=False, roles=False)
    problem = tm.Problem.from_frames(tutors.drop(columns="max_km"), establishments, max_distance_km=40.0)
    counted = len(_pool.full_pool(problem).tutor)
    assert counted == pytest.approx(_pool.estimate_pairs(problem), rel=0.1)
