"""Pricing from a partial pool proves the optimum of every pair (issue 9: towns without a limit)."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import tutormatch as tm
from tutormatch.io import make_uai
from tutormatch.testing import assert_valid_plan

_pool = importlib.import_module("tutormatch.solve._pool")


def _towns(seed: int, n_tutors: int, n_establishments: int, rules: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tutors in two towns, establishments in the towns and scattered: supply is far from demand."""
    rng = np.random.default_rng(seed)
    towns = np.array([[5.0, 43.5], [6.2, 44.3]])
    home = towns[rng.integers(0, 2, n_tutors)] + rng.normal(0, 0.05, (n_tutors, 2))
    scatter = rng.random(n_establishments) < 0.5
    where = towns[rng.integers(0, 2, n_establishments)] + rng.normal(0, 0.05, (n_establishments, 2))
    where[scatter] = rng.uniform([4.5, 43.0], [6.8, 44.8], (int(scatter.sum()), 2))
    tutors = pd.DataFrame(
        {
            "tutor_id": [f"T{i:03d}" for i in range(n_tutors)],
            "lon": home[:, 0],
            "lat": home[:, 1],
            "capacity": rng.choice([1, 2, 3], n_tutors),
        }
    )
    establishments = pd.DataFrame(
        {
            "uai": [make_uai(f"013{i:04d}") for i in range(n_establishments)],
            "lon": where[:, 0],
            "lat": where[:, 1],
            "priority": rng.choice([1.0, 2.0, 3.0, 5.0], n_establishments),
            "visits_per_year": rng.choice([4, 6, 8], n_establishments),
        }
    )
    if rules:
        tutors["wave"] = rng.integers(1, 4, n_tutors)
        tutors["role"] = rng.choice(["SG", "SGAC", "FPAC", "AG", "AC"], n_tutors)
        establishments["wave"] = rng.integers(2, 6, n_establishments)
        establishments["need"] = rng.choice(["management", "accounting", "both"], n_establishments)
    return tutors, establishments


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_tutors=st.integers(3, 25),
    n_establishments=st.integers(5, 45),
    max_km=st.sampled_from([math.inf, 80.0, 30.0]),
    rules=st.booleans(),
    candidate_k=st.integers(1, 3),
    bands=st.sampled_from([1, 32]),
)
def test_a_partial_pool_proves_the_full_optimum(
    seed: int,
    n_tutors: int,
    n_establishments: int,
    max_km: float,
    rules: bool,
    candidate_k: int,
    bands: int,
) -> None:
    tutors, establishments = _towns(seed, n_tutors, n_establishments, rules)
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=max_km, allow_remote=False)
    full = tm.solve(problem, solver="flow", options=tm.SolveOptions(candidate_k=None))
    # One band: coverage potentials of several values take the balls over the whole limit.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_pool, "_BANDS", bands)
        priced = tm.solve(problem, solver="flow", options=tm.SolveOptions(candidate_k=candidate_k))
    assert_valid_plan(priced)
    assert priced.status is tm.Status.OPTIMAL
    event(f"rounds: {min(priced.stats['rounds'], 4)}")
    event(f"uncovered: {full.n_uncovered > 0}")
    assert full.stats["pool_complete"]
    assert priced.covered_priority == full.covered_priority
    assert math.isclose(priced.objective, full.objective, rel_tol=1e-12, abs_tol=1e-6)


def test_the_first_round_slack_is_a_third_of_a_used_pair() -> None:
    cost = np.array([30, 60, 90, 1000], dtype=np.int64)
    used = np.array([True, True, True, False])
    assert _pool.first_round_slack(cost, used) == 20
    assert _pool.first_round_slack(cost, np.zeros(4, dtype=bool)) == 0
