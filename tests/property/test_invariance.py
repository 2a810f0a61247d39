"""The same rows in any order give the same plan, to the last pair."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import random_frames

import tutormatch as tm


def _shuffled(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


def _with_ties(tutors: pd.DataFrame) -> pd.DataFrame:
    # Put every other tutor on the same spot as its neighbour, so that many
    # optimal plans exist and only the canonical tie-break decides.
    tutors = tutors.copy()
    tutors.loc[1::2, ["lon", "lat"]] = tutors.loc[::2, ["lon", "lat"]].to_numpy()[: len(tutors.loc[1::2])]
    return tutors


@pytest.mark.parametrize("solver", ["flow", "cpsat"])
@settings(max_examples=15)
@given(seed=st.integers(0, 2**16), order_seed=st.integers(0, 2**16), allow_remote=st.booleans())
def test_row_order_does_not_change_the_plan(
    seed: int, order_seed: int, allow_remote: bool, solver: str
) -> None:
    tutors, establishments = random_frames(25, 40, seed)
    tutors = _with_ties(tutors)
    rng = np.random.default_rng(order_seed)
    options = {"max_distance_km": 30.0, "allow_remote": allow_remote}
    first = tm.solve(tm.Problem.from_frames(tutors, establishments, **options), solver=solver)
    second = tm.solve(
        tm.Problem.from_frames(_shuffled(tutors, rng), _shuffled(establishments, rng), **options),
        solver=solver,
    )
    pd.testing.assert_frame_equal(first.table(), second.table())
    pd.testing.assert_frame_equal(first.tutor_loads(), second.tutor_loads())
    assert first.objective == second.objective


def test_solving_twice_gives_the_same_plan_and_leaves_the_problem_unchanged(
    small_problem: tm.Problem,
) -> None:
    candidates_before = small_problem.candidates.tutor.copy()
    first = tm.solve(small_problem)
    second = tm.solve(small_problem)
    pd.testing.assert_frame_equal(first.pairs, second.pairs)
    np.testing.assert_array_equal(small_problem.candidates.tutor, candidates_before)
