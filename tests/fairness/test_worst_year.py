"""Flows with tutors split into places (worst year within a limit): never over it, never less covered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tutormatch as tm
from tests.fairness.test_lexico import dense_problems, every_plan
from tutormatch.solve._decide import _no_near_remote
from tutormatch.solve._lexico_model import build_lexico_model
from tutormatch.solve._network import build_network
from tutormatch.solve._pool import full_pool
from tutormatch.solve._worst_year import slot_flows
from tutormatch.testing import tiny_problems


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(tiny_problems(max_tutors=3, max_establishments=5), dense_problems()), st.integers(0, 4))
def test_a_plan_found_is_within_the_limit_and_covers_the_most(problem: tm.Problem, step: int) -> None:
    plans = every_plan(problem)
    coverage = max(p["coverage"] for p in plans)
    best = min(p["worst-year"] for p in plans if p["coverage"] >= coverage - 1e-9)
    network = _no_near_remote(problem, build_network(problem, full_pool(problem)))
    term = build_lexico_model(
        problem, network, ("worst-year",), costs=None, budget_units=None, groups_hard=False
    ).terms["worst-year"]
    fixed = float(problem.establishments.priority[problem.fixed[:, 1]].sum())
    target = round((coverage - fixed) * network.priority_scale)
    limit = round(best * 1000) + step * 500  # the optimum, or a little above it
    found = slot_flows(network, term, limit, target)
    if found is None:
        return  # a heuristic: it may miss
    used = np.flatnonzero(found.arc_used)
    sums = term.tutor_base.astype(np.int64).copy()
    np.add.at(sums, network.arc_tutor[used], term.arc_amount[used])
    assert sums.max(initial=0) <= limit
    loads = np.bincount(network.arc_tutor[used], minlength=network.n_tutors)
    np.add.at(loads, network.link_tutor, found.y)
    assert (loads <= network.capacity).all()
    covered = np.zeros(network.n_establishments, dtype=bool)
    covered[network.arc_establishment[used]] = True
    covered |= found.z
    assert (
        np.bincount(network.arc_establishment[used], minlength=network.n_establishments).max(initial=0) <= 1
    )
    assert int(network.priority_int[covered & network.active].sum()) >= target


def test_a_plan_at_the_optimum_is_found_on_a_hand_made_case() -> None:
    """Two tutors of two places, three establishments in a row: the near tutor must give one away."""

    tutors = pd.DataFrame(
        {"tutor_id": ["T1", "T2"], "lon": [5.0, 5.3], "lat": [43.5, 43.5], "capacity": [2, 2]}
    )
    schools = pd.DataFrame(
        {"uai": ["0130001F", "0130002G", "0130003H"], "lon": [5.01, 5.12, 5.25], "lat": [43.5, 43.5, 43.5]}
    )
    problem = tm.Problem.from_frames(tutors, schools, max_distance_km=60.0, allow_remote=False)
    plans = every_plan(problem)
    best = min(p["worst-year"] for p in plans if p["coverage"] == 3)
    network = _no_near_remote(problem, build_network(problem, full_pool(problem)))
    term = build_lexico_model(
        problem, network, ("worst-year",), costs=None, budget_units=None, groups_hard=False
    ).terms["worst-year"]
    found = slot_flows(network, term, round(best * 1000) + 1, round(3 * network.priority_scale))
    assert found is not None
    used = np.flatnonzero(found.arc_used)
    assert len(used) == 3
    sums = np.bincount(network.arc_tutor[used], weights=term.arc_amount[used], minlength=2)
    assert sums.max() <= round(best * 1000) + 1
    plan = tm.solve(problem, objective=["coverage", "worst-year"])
    assert plan.status is tm.Status.OPTIMAL
    assert plan.criteria[1]["value"] == pytest.approx(best, abs=1e-2)
