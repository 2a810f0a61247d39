"""The worst year on-site by a configuration LP and a MIP on its columns: against brute forces."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tutormatch as tm
from tests.fairness.test_lexico import every_plan, lexicographic
from tutormatch.solve import Criterion
from tutormatch.solve._worst_year_exact import _KEY, _enumerate, _Items, _price, _successor


@st.composite
def onsite_frames(draw: Any) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Every pair within reach, on-site only, capacities 1 to 3, a fixed pair sometimes."""
    n_t = draw(st.integers(1, 3))
    n_e = draw(st.integers(2, 6))
    coord = st.floats(0.0, 0.4, allow_nan=False)
    tutors = pd.DataFrame(
        {
            "tutor_id": [f"T{i}" for i in range(n_t)],
            "lon": [5.0 + draw(coord) for _ in range(n_t)],
            "lat": [43.5 + draw(coord) for _ in range(n_t)],
            "capacity": [draw(st.integers(1, 3)) for _ in range(n_t)],
        }
    )
    schools = pd.DataFrame(
        {
            "uai": [tm.io.make_uai(f"013{i:04d}") for i in range(n_e)],
            "lon": [5.0 + draw(coord) for _ in range(n_e)],
            "lat": [43.5 + draw(coord) for _ in range(n_e)],
            "priority": [draw(st.integers(1, 3)) for _ in range(n_e)],
            "visits_per_year": [draw(st.integers(1, 6)) for _ in range(n_e)],
        }
    )
    fixed = None
    if draw(st.booleans()):
        fixed = pd.DataFrame({"tutor_id": ["T0"], "uai": [schools["uai"][0]]})  # (a frame of pairs)
    return tutors, schools, fixed


def build(frames: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]) -> tm.Problem:
    tutors, schools, fixed = frames
    return tm.Problem.from_frames(
        tutors, schools, max_distance_km=60.0, allow_remote=False, fixed_pairs=fixed
    )


onsite_problems = onsite_frames().map(build)


ORDER = [Criterion("coverage"), Criterion("worst-year"), Criterion("km")]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(onsite_problems)
def test_worst_year_then_km_match_brute_force(problem: tm.Problem) -> None:
    plans = every_plan(problem)
    survivors = lexicographic(plans, ORDER)
    plan = tm.solve(problem, objective=["coverage", "worst-year"])
    assert plan.status is tm.Status.OPTIMAL, plan.message
    assert plan.solver == "worst-year-columns"
    tm.testing.assert_valid_plan(plan)
    values = {c["name"]: c["value"] for c in plan.criteria}
    assert [c["name"] for c in plan.criteria] == ["coverage", "worst-year", "km"]
    assert values["coverage"] == pytest.approx(survivors[0]["coverage"])
    assert values["worst-year"] == pytest.approx(min(p["worst-year"] for p in survivors), abs=1e-2)
    assert values["km"] == pytest.approx(min(p["km"] for p in survivors), abs=1e-2)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(onsite_frames(), st.randoms(use_true_random=False))
def test_the_plan_does_not_depend_on_the_row_order(frames: Any, rnd: Any) -> None:
    tutors, schools, fixed = frames
    plan = tm.solve(build(frames), objective=["coverage", "worst-year"])
    order_t, order_e = list(range(len(tutors))), list(range(len(schools)))
    rnd.shuffle(order_t)
    rnd.shuffle(order_e)
    shuffled = (
        tutors.iloc[order_t].reset_index(drop=True),
        schools.iloc[order_e].reset_index(drop=True),
        fixed,
    )
    again = tm.solve(build(shuffled), objective=["coverage", "worst-year"])
    assert [c["value"] for c in again.criteria] == pytest.approx([c["value"] for c in plan.criteria])

    def pairs(p: tm.Assignment) -> set[tuple[str, str]]:
        table = p.pairs
        return set(zip(table["tutor_id"].astype(str), table["uai"].astype(str), strict=True))

    assert pairs(again) == pairs(plan)


def test_a_hand_made_case_where_the_near_tutor_gives_one_away() -> None:
    """Two tutors of two places, three establishments in a row: the worst year, then the km, proven."""
    tutors = pd.DataFrame(
        {"tutor_id": ["T1", "T2"], "lon": [5.0, 5.3], "lat": [43.5, 43.5], "capacity": [2, 2]}
    )
    schools = pd.DataFrame(
        {"uai": ["0130001F", "0130002G", "0130003H"], "lon": [5.01, 5.12, 5.25], "lat": [43.5, 43.5, 43.5]}
    )
    problem = tm.Problem.from_frames(tutors, schools, max_distance_km=60.0, allow_remote=False)
    plans = lexicographic(every_plan(problem), ORDER)
    plan = tm.solve(problem, objective=["coverage", "worst-year"])
    assert plan.status is tm.Status.OPTIMAL
    assert plan.solver == "worst-year-columns"
    assert plan.criteria[1]["value"] == pytest.approx(plans[0]["worst-year"], abs=1e-2)
    assert plan.stats["worst_year_bound_m"] == pytest.approx(plans[0]["worst-year"] * 1000, abs=3)


# ----------------------------------------------------------------------------- the pieces


@st.composite
def item_sets(draw: Any) -> tuple[_Items, np.ndarray, np.ndarray]:
    n_t = draw(st.integers(1, 3))
    rows = draw(
        st.lists(st.tuples(st.integers(0, n_t - 1), st.integers(0, 6)), min_size=1, max_size=14, unique=True)
    )
    t = np.array([r[0] for r in rows], dtype=np.int64)
    e = np.array([r[1] for r in rows], dtype=np.int64)
    m = np.array([draw(st.integers(0, 9)) * 100 for _ in rows], dtype=np.int64)
    order = np.lexsort((e, m, t))
    t, e, m = t[order], e[order], m[order]
    places = np.array([draw(st.integers(1, 3)) for _ in range(n_t)], dtype=np.int64)
    base = np.array([draw(st.integers(0, 2)) * 50 for _ in range(n_t)], dtype=np.int64)
    items = _Items(t, e, m, m, t * _KEY + m, base, places, np.ones(len(t), dtype=np.int64), 7)
    value = np.array([draw(st.integers(-10, 20)) / 10 for _ in rows])
    room = np.array([draw(st.integers(0, 25)) * 100 for _ in range(n_t)], dtype=np.int64) - base
    return items, value, room


def _columns(items: _Items, room: np.ndarray, t: int) -> list[tuple[int, ...]]:
    mine = np.flatnonzero(items.tutor == t)
    out = []
    for k in range(1, int(items.places[t]) + 1):
        out += [c for c in itertools.combinations(mine.tolist(), k) if items.metres[list(c)].sum() <= room[t]]
    return out


@settings(max_examples=150, deadline=None)
@given(item_sets())
def test_pricing_finds_each_tutors_best_column(case: tuple[_Items, np.ndarray, np.ndarray]) -> None:
    items, value, room = case
    best, column, _ = _price(items, value, room, top=3)
    for t in range(items.n_tutors):
        expected = max([0.0, *(value[list(c)].sum() for c in _columns(items, room, t))])
        assert best[t] == pytest.approx(expected)
        chosen = [a for a in column[t].tolist() if a >= 0]
        if expected > 0:
            assert value[chosen].sum() == pytest.approx(expected)
            assert items.metres[chosen].sum() <= room[t]
            assert len(chosen) <= items.places[t]
            assert (items.tutor[chosen] == t).all()


@settings(max_examples=150, deadline=None)
@given(item_sets(), st.floats(0.0, 1.5))
def test_enumeration_gives_every_column_above_the_floor(
    case: tuple[_Items, np.ndarray, np.ndarray], slack: float
) -> None:
    items, value, room = case
    best, _, _ = _price(items, value, room)
    floor = best - slack
    found = _enumerate(items, value, room, floor)
    assert found is not None
    got = {tuple(sorted(a for a in row if a >= 0)) for row in found.tolist()}
    want = {
        c
        for t in range(items.n_tutors)
        for c in _columns(items, room, t)
        if value[list(c)].sum() >= floor[t] - 1e-9
    }
    assert got == want
    assert len(found) == len(got)  # each once


@settings(max_examples=100, deadline=None)
@given(item_sets(), st.integers(0, 2500))
def test_the_next_limit_is_the_least_column_above(
    case: tuple[_Items, np.ndarray, np.ndarray], limit: int
) -> None:
    items, _, _ = case
    big = np.full(items.n_tutors, 10**9)
    above = [
        int(items.base[t]) + int(items.metres[list(c)].sum())
        for t in range(items.n_tutors)
        for c in _columns(items, big, t)
        if int(items.base[t]) + int(items.metres[list(c)].sum()) > limit
    ]
    assert _successor(items, limit) == min(above, default=np.iinfo(np.int64).max)
