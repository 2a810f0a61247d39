"""plan.explain(uai) and tm.diff(plan_a, plan_b)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import tutormatch as tm
from tests.conftest import random_frames
from tutormatch.solve._whatif import with_fixed_pair


@pytest.fixture(scope="module")
def plan() -> tm.Assignment:
    tutors, establishments = random_frames(25, 60, 0)
    return tm.solve(tm.Problem.from_frames(tutors, establishments, max_distance_km=35))


def test_explain_a_covered_establishment(plan: tm.Assignment) -> None:
    pairs = plan.pairs
    far = pairs[pairs["mode"] == "onsite"].sort_values("distance_km").iloc[-1]
    why = plan.explain(far["uai"], max_tutors=None)
    assert why.tutor_id == far["tutor_id"]
    assert why.distance_km == far["distance_km"]
    frame = why.frame
    assert frame["status"].iloc[0] == "assigned"
    others = frame.iloc[1:]
    assert (others["distance_km"] < far["distance_km"]).all()
    # A nearer eligible tutor is full at an optimum (else moving would save).
    assert set(others["status"]) <= {"full", "excluded"}
    full = others[others["status"] == "full"]
    assert (full["load"] == full["capacity"]).all()
    excluded = others[others["status"] == "excluded"]
    assert set(excluded["rule"]) <= {"own", "wave", "role", "forbidden", "limit"}
    assert far["uai"] in str(why)
    assert why.tutor_id in repr(why)


def test_forcing_the_nearest_eligible_tutor_is_a_re_solve(plan: tm.Assignment) -> None:
    uai = plan.pairs["uai"].iloc[5]
    why = plan.explain(uai)
    assert why.forced_tutor_id is not None
    forced = tm.solve(with_fixed_pair(plan.problem, why.forced_tutor_id, uai))
    assert why.forced_priority_delta == forced.covered_priority - plan.covered_priority
    assert why.forced_cost_delta_km == pytest.approx(forced.objective - plan.objective, abs=1e-9)
    # The optimum cannot improve by forcing a pair.
    assert why.forced_priority_delta <= 0
    assert why.forced_priority_delta < 0 or why.forced_cost_delta_km >= -1e-6


def test_explain_an_uncovered_establishment_in_french(plan: tm.Assignment) -> None:
    uai = plan.uncovered["uai"].iloc[0]
    why = plan.explain(uai, lang="fr")
    assert why.tutor_id is None
    assert why.mode == "none"
    assert "n'est pas tutoré" in why.text()
    assert why.to_dict()["uai"] == uai


def test_explain_refuses_an_unknown_uai(plan: tm.Assignment) -> None:
    with pytest.raises(tm.InputError, match="unknown uai 'NOPE'"):
        plan.explain("NOPE")


def test_diff_of_a_plan_with_itself_keeps_everything(plan: tm.Assignment) -> None:
    d = tm.diff(plan, plan)
    assert d.counts()["kept"] == plan.n_covered
    assert d.counts()["uncovered"] == plan.n_uncovered
    assert d.totals["cost_delta_km"] == 0
    assert (d.table["cost_delta_km"] == 0).all()


def test_diff_after_a_withdrawal(plan: tm.Assignment) -> None:
    p = plan.problem
    busiest = int(np.argmax(plan.loads))
    capacity = p.tutors.capacity.copy()
    capacity[busiest] = 0
    after = tm.solve(dataclasses.replace(p, tutors=dataclasses.replace(p.tutors, capacity=capacity)))
    d = tm.diff(plan, after)
    counts = d.counts()
    assert sum(counts.values()) == p.n_establishments
    assert counts["kept"] + counts["changed"] + counts["removed"] == plan.n_covered
    assert counts["kept"] + counts["changed"] + counts["added"] == after.n_covered
    assert d.table["cost_delta_km"].sum() == pytest.approx(after.objective - plan.objective)
    withdrawn = p.tutors.id[busiest]
    assert not (d.table["tutor_b"] == withdrawn).any()
    assert "PlanDiff" in repr(d)


def test_diff_refuses_other_establishments(plan: tm.Assignment) -> None:
    other = tm.solve(tm.example_problem())
    with pytest.raises(tm.InputError, match="the two plans must have the same establishments"):
        tm.diff(plan, other)
