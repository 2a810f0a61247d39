"""Shared fixtures and the hypothesis profile."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

import tutormatch as tm
from tutormatch.io import make_uai

settings.register_profile(
    "default",
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
settings.register_profile(
    "thorough", parent=settings.get_profile("default"), max_examples=2000, derandomize=False
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def random_frames(n_tutors: int, n_establishments: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded random académie-like instance around Marseille."""
    rng = np.random.default_rng(seed)
    tutors = pd.DataFrame(
        {
            "tutor_id": [f"T{i:04d}" for i in range(n_tutors)],
            "lon": rng.uniform(4.6, 6.6, n_tutors),
            "lat": rng.uniform(43.2, 44.6, n_tutors),
            "capacity": rng.choice([1, 2, 2, 2, 3], n_tutors),
            "wave": rng.integers(1, 4, n_tutors),
            "role": rng.choice(["SG", "SGAC", "FPAC", "AG", "AC"], n_tutors),
            "remote_ok": rng.random(n_tutors) < 0.8,
        }
    )
    establishments = pd.DataFrame(
        {
            "uai": [make_uai(f"013{i:04d}") for i in range(n_establishments)],
            "lon": rng.uniform(4.6, 6.6, n_establishments),
            "lat": rng.uniform(43.2, 44.6, n_establishments),
            "wave": rng.integers(2, 7, n_establishments),
            "priority": rng.choice([1.0, 1.0, 2.0, 3.0], n_establishments),
            "need": rng.choice(["management", "accounting", "both"], n_establishments),
            "remote_ok": rng.random(n_establishments) < 0.7,
            "visits_per_year": rng.choice([4, 6, 8], n_establishments),
        }
    )
    return tutors, establishments


@pytest.fixture
def small_problem() -> tm.Problem:
    tutors, establishments = random_frames(30, 50, seed=7)
    return tm.Problem.from_frames(tutors, establishments, max_distance_km=40)
