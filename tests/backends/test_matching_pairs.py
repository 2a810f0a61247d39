"""All-or-nothing beyond the exact matching: partial tutors repaired two by two, honest statuses."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from tests.conftest import random_frames

import tutormatch as tm
from tutormatch.solve import _matching
from tutormatch.testing import assert_valid_plan, brute_force, tiny_problems


def _on_a_line(km: list[float]) -> np.ndarray:
    """Unit-sphere points along the equator, ``km`` apart from the first."""
    angle = np.asarray(km) / 6371.0
    return np.column_stack((np.cos(angle), np.sin(angle), np.zeros_like(angle)))


def test_partial_tutors_are_paired_by_the_shortest_total_length() -> None:
    # Nearest first would pair the two middle tutors (1 km) and leave 0 and
    # 5 km together: 6 km in all; the shortest pairing is 2 + 2 = 4 km.
    xyz = _on_a_line([0.0, 2.0, 3.0, 5.0])
    pairs = _matching._defect_pairs(np.arange(4), xyz)
    assert pairs == [[0, 1], [2, 3]]


def test_an_odd_partial_tutor_is_left_alone() -> None:
    xyz = _on_a_line([0.0, 1.0, 50.0])
    assert _matching._defect_pairs(np.arange(3), xyz) == [[0, 1], [2]]


def test_a_pair_region_spans_the_segment_between_its_tutors() -> None:
    # Tutors every km over 60 km; the pair at both ends: the region must hold
    # the tutors in the middle, which the ends' nearest 24 alone would miss.
    tutors = _on_a_line([float(k) for k in range(61)])
    broken = np.array([0, 60])
    near_t, _ = _matching._pair_regions(broken, tutors, tutors)
    assert len(near_t) == 1
    assert {0, 30, 60} <= set(near_t[0].tolist())


@given(problem=tiny_problems(side_constraints=True))
def test_repaired_plans_are_all_or_nothing_and_never_claim_a_false_optimum(problem: tm.Problem) -> None:
    problem = dataclasses.replace(problem, all_or_nothing=True)
    places = problem.tutors.capacity - np.bincount(problem.fixed[:, 0], minlength=problem.n_tutors)
    assume(bool(np.all(places <= 2)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_matching, "EXACT_NODES", 0)  # the regions' path on tiny problems
        patch.setattr(_matching, "WARM_START", False)
        plan = tm.solve(problem, solver="matching")
    assert_valid_plan(plan)
    expected = brute_force(problem)
    event(f"status: {plan.status.value}")
    if plan.status is tm.Status.INFEASIBLE:
        assert not expected.feasible, plan.message
    if not plan.status.has_solution:
        return
    assert expected.feasible
    loads = np.bincount(plan.tutor, minlength=problem.n_tutors)
    assert np.all((loads == 0) | (loads == problem.tutors.capacity))
    assert plan.covered_priority <= expected.covered_priority + 1e-9
    same_coverage = math.isclose(plan.covered_priority, expected.covered_priority, abs_tol=1e-9)
    tolerance = 1e-3 * (problem.n_establishments + 1)
    if same_coverage:
        assert plan.objective >= expected.cost_km - tolerance
    if plan.status is tm.Status.OPTIMAL:
        assert same_coverage, plan.message
        assert math.isclose(plan.objective, expected.cost_km, abs_tol=tolerance), plan.message


def test_partial_tutors_at_one_point_are_paired_among_themselves() -> None:
    xyz = _on_a_line([0.0, 0.0, 0.0, 0.0])
    pairs = _matching._defect_pairs(np.arange(4), xyz)
    assert sorted(i for pair in pairs for i in pair) == [0, 1, 2, 3]
    assert all(len(pair) == 2 for pair in pairs)


@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), order_seed=st.integers(0, 2**16))
def test_row_order_does_not_change_the_repaired_plan(seed: int, order_seed: int) -> None:
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
        patch.setattr(_matching, "WARM_START", False)
        first = tm.solve(tm.Problem.from_frames(tutors, establishments, **options), solver="matching")
        second = tm.solve(
            tm.Problem.from_frames(shuffled(tutors), shuffled(establishments), **options), solver="matching"
        )
    assert first.stats["repaired"]
    pd.testing.assert_frame_equal(first.table(), second.table())
    assert first.objective == second.objective
