"""The ordered criteria on large networks, by flows: sound bounds, never worse than the km plan."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tutormatch as tm
from tutormatch.io import make_uai
from tutormatch.solve import Criterion, _lexico_flows
from tutormatch.solve._fair import criterion_value
from tutormatch.solve._flow_bounds import (
    LevelFlows,
    bottleneck_floor,
    covering_flow,
    must_cover,
    threshold_floor,
)
from tutormatch.solve._groups import groups_split
from tutormatch.solve._network import build_network
from tutormatch.solve._pool import full_pool
from tutormatch.testing import tiny_problems

from .test_lexico import MAXIMISED, SLACK, check, every_plan, lexicographic, orders, with_groups


@pytest.fixture
def flows_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every network counts as large: the flows decide (as at national scale)."""
    monkeypatch.setattr(_lexico_flows, "LARGE_ARCS", -1)


def _network(problem: tm.Problem) -> tm.solve.Network:  # type: ignore[name-defined]
    return build_network(problem, full_pool(problem))


def _coverage_int(problem: tm.Problem, network: object) -> int:
    plan = tm.solve(problem)
    covered = np.zeros(problem.n_establishments, dtype=bool)
    covered[plan.establishment] = True
    return int(network.priority_int[covered & network.active].sum())  # type: ignore[attr-defined]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tiny_problems(max_tutors=3, max_establishments=5),
    orders(),
    st.sampled_from([["A", "B"], ["A", "", "B"]]),
)
def test_flows_give_sound_bounds_and_never_lose_to_the_km_plan(
    problem: tm.Problem, criteria: list[Criterion], labels: list[str]
) -> None:
    problem = with_groups(problem, labels)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_lexico_flows, "LARGE_ARCS", -1)
        plan = tm.solve(problem, objective=criteria)
    tm.testing.assert_valid_plan(plan)
    plans = every_plan(problem)
    best_cover = lexicographic(plans, criteria[:1])
    km_plan = tm.solve(problem)
    assert plan.covered_priority == pytest.approx(km_plan.covered_priority)
    if plan.status is tm.Status.OPTIMAL:
        check(plan, lexicographic(plans, criteria), criteria)
    for i, entry in enumerate(plan.criteria[1:], start=1):
        name = entry["name"]
        sign = -1.0 if name in MAXIMISED else 1.0
        slack = SLACK.get(name, 1e-9) + 1e-9
        # Any bound holds for every plan of most priority (a relaxation of the earlier limits).
        best_any = min(sign * p[name] for p in best_cover)
        bound = entry.get("bound", math.nan)
        if math.isfinite(bound):
            assert sign * bound <= best_any + slack
        if i == 1:
            # The first criterion: never worse than the plan of least km; proven means optimal.
            assert sign * entry["value"] <= sign * criterion_value(km_plan, name) + slack
            if entry.get("proven", plan.status is tm.Status.OPTIMAL):
                assert sign * entry["value"] == pytest.approx(best_any, abs=slack)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems(max_tutors=3, max_establishments=5))
def test_must_cover_establishments_are_covered_by_every_plan_of_most_priority(problem: tm.Problem) -> None:
    network = _network(problem)
    must = must_cover(network, _coverage_int(problem, network))
    plans = lexicographic(every_plan(problem), [Criterion("coverage")])
    best = plans[0]["coverage"]
    # Leaving a must-cover establishment uncovered costs priority: the best without it is worse.
    for e in np.flatnonzero(must).tolist():
        assert _best_without(problem, e) < best - 1e-9


def _best_without(problem: tm.Problem, e: int) -> float:
    """The most priority of a plan that leaves establishment ``e`` uncovered (brute force)."""
    import dataclasses

    priority = problem.establishments.priority.copy()
    # A huge priority on e marks the plans that cover it (every_plan sums priorities).
    huge = 1e9
    priority[e] = priority[e] + huge
    changed = dataclasses.replace(
        problem, establishments=dataclasses.replace(problem.establishments, priority=priority)
    )
    values = [p["coverage"] for p in every_plan(changed) if p["coverage"] < huge / 2]
    return max(values, default=-math.inf)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems(max_tutors=3, max_establishments=5, side_constraints=True))
def test_the_floor_keeps_the_minimum_loads_and_equals_a_scan_of_every_threshold(problem: tm.Problem) -> None:
    """One search for the engine and the flows: max flows first, min-cost flows (min loads kept) after."""
    network = _network(problem)
    target = _coverage_int(problem, network)
    key = np.rint(network.arc_cost).astype(np.int64)
    got = bottleneck_floor(network, key, 0, target)
    fast = threshold_floor(network, key, 0, target)
    relaxed = network.relaxed()
    # The reference: every threshold in turn, a min-cost flow with the minimum loads.
    scan = next(
        (
            v
            for v in np.unique(np.concatenate(([0], key))).tolist()
            if covering_flow(relaxed, key <= v, target)
        ),
        None,
    )
    if scan is None:
        assert got is None
        return
    assert got is not None
    assert fast is not None
    assert got[0] == scan
    # Minimum loads are dropped by the max flows: their floor is never higher.
    assert fast <= got[0]
    if not network.min_load.any():
        assert fast == got[0]
    # The flow at the floor meets the minimum loads and uses no arc above it.
    flow = got[1]
    assert key[flow.arc_used].max(initial=0) <= got[0]
    loads = np.bincount(network.arc_tutor[flow.arc_used], minlength=network.n_tutors)
    if len(network.link_tutor):
        np.add.at(loads, network.link_tutor, flow.y)
    assert (loads >= network.min_load).all()
    assert LevelFlows(network, key).fits


def test_the_floor_rises_above_the_max_flows_when_a_minimum_load_needs_a_long_pair() -> None:
    """Two tutors, two establishments; the far tutor's minimum load takes one: the floor is its pair."""
    tutors = pd.DataFrame(
        {
            "tutor_id": ["near", "far"],
            "lon": [5.0, 5.5],
            "lat": [43.5, 43.5],
            "capacity": [2, 1],
            "min_load": [0, 1],
        }
    )
    establishments = pd.DataFrame(
        {"uai": [make_uai("0130001"), make_uai("0130002")], "lon": [5.01, 5.02], "lat": [43.5, 43.5]}
    )
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=100.0, allow_remote=False)
    network = _network(problem)
    target = _coverage_int(problem, network)
    key = np.rint(network.arc_cost).astype(np.int64)
    fast = threshold_floor(network, key, 0, target)
    got = bottleneck_floor(network, key, 0, target)
    assert got is not None
    assert fast is not None
    far = network.arc_tutor == list(problem.tutors.id).index("far")
    assert fast == key[~far].max()  # the near tutor takes both: min loads dropped
    assert got[0] == key[far].min() > fast  # the far tutor must take one


def test_national_like_groups_return_a_plan_no_worse_than_the_km_plan(flows_everywhere: None) -> None:
    """Groups larger than any tutor's capacity (the national fallback): a real answer with a bound."""
    from tutormatch.datasets import synthetic_instance

    tutors, est = synthetic_instance(120, 60, structure="communes", seed=3, capacity=2)
    problem = tm.Problem.from_frames(tutors, est, max_distance_km=60.0, allow_remote=False)
    km_plan = tm.solve(problem)
    plan = tm.solve(problem, objective=["coverage", "groups"], time_limit=20)
    assert plan.solver == "lexico-flows"
    tm.testing.assert_valid_plan(plan)
    entry = plan.criteria[1]
    assert entry["name"] == "groups"
    assert entry["value"] <= criterion_value(km_plan, "groups")
    assert entry["proven"] or entry["bound"] <= entry["value"]
    assert plan.covered_priority == pytest.approx(km_plan.covered_priority)


def test_full_loads_by_an_exchange_path(flows_everywhere: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The km plan loads A and B with one each, C with two; A hands its own to C, C one of its to B."""
    from tutormatch.solve._full_loads_matching import FullLoadsMatching

    monkeypatch.setattr(FullLoadsMatching, "supports", staticmethod(lambda network: False))
    tutors = pd.DataFrame(
        {
            "tutor_id": ["A", "B", "C"],
            "lon": [5.00, 5.60, 5.30],
            "lat": [43.5, 43.5, 43.5],
            "capacity": [2, 2, 2],
        }
    )
    schools = pd.DataFrame(
        {
            "uai": [tm.io.make_uai(f"013{i:04d}") for i in range(4)],
            "lon": [5.01, 5.59, 5.27, 5.33],
            "lat": [43.5] * 4,
        }
    )
    problem = tm.Problem.from_frames(tutors, schools, max_distance_km=25.0, allow_remote=False)
    km_plan = tm.solve(problem)
    plan = tm.solve(problem, objective=["coverage", "full-loads"])
    best = max(p["full-loads"] for p in lexicographic(every_plan(problem), [Criterion("coverage")]))
    assert (criterion_value(km_plan, "full-loads"), best) == (1.0, 2.0)
    assert plan.criteria[1]["value"] == best
    assert plan.n_covered == 4
    assert plan.criteria[1]["proven"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems(max_tutors=3, max_establishments=5))
def test_one_long_pair_a_tutor_bounds_the_worst_year(problem: tm.Problem) -> None:
    """The floor of "pairs within the limit, one longer than half of it a tutor" is a lower bound."""
    import time

    from tutormatch.solve._flow_bounds import two_long_floor
    from tutormatch.solve._lexico_flows import _Meter

    network = _network(problem)
    target = _coverage_int(problem, network)
    meter = _Meter(problem, network)
    amount = np.floor(meter.yearly * 1000 + 1e-6).astype(np.int64)
    base = np.floor(meter.base_yearly * 1000 + 1e-6).astype(np.int64)
    top = int(base.max(initial=0) + amount.sum())
    found = two_long_floor(
        network, amount, base, int(base.max(initial=0)), top, target, time.perf_counter() + 5
    )
    best = min(p["worst-year"] for p in lexicographic(every_plan(problem), [Criterion("coverage")]))
    assert found / 1000 <= best + 1e-6


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        tiny_problems(max_tutors=3, max_establishments=5),
        tiny_problems(max_tutors=3, max_establishments=5, side_constraints=True),
    ),
    st.sampled_from([["A", "B"], ["A"], ["A", ""]]),
)
def test_hard_groups_by_flows_keep_groups_whole_with_a_sound_bound(
    problem: tm.Problem, labels: list[str]
) -> None:
    problem = with_groups(problem, labels)
    groups = problem.establishments.agence_comptable
    fixed_tutors = {g: {int(t) for t, e in problem.fixed if groups[e] == g} for g in labels if g}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_lexico_flows, "LARGE_ARCS", -1)
        if any(len(s) > 1 for s in fixed_tutors.values()):
            with pytest.raises(tm.InputError, match="a hard group has one"):
                tm.solve(problem, groups="hard")
            return
        plan = tm.solve(problem, groups="hard")
    hard = [p for p in every_plan(problem) if p["hard_ok"]]
    if not hard or not plan.status.has_solution:
        return  # minimum loads no plan with whole groups meets: not the flows' business
    tm.testing.assert_valid_plan(plan)
    assert groups_split(plan) == 0
    best = max(p["coverage"] for p in hard)
    coverage = plan.criteria[0]
    assert coverage["name"] == "coverage"
    assert coverage["value"] <= best + 1e-9
    if coverage["proven"]:
        assert coverage["value"] == pytest.approx(best)
    else:
        assert coverage["bound"] >= best - 1e-6


def _one_point_problem(tutor_lat: list[float], capacity: list[int], groups: list[str]) -> tm.Problem:
    """Establishments at one point; tutors there (on-site) or 111 km north (remote pairs only)."""
    n_e = len(groups)
    est = pd.DataFrame(
        {
            "uai": [tm.testing.make_uai(f"013{i:04d}") for i in range(n_e)],
            "lon": [5.0] * n_e,
            "lat": [43.5] * n_e,
            "agence_comptable": groups,
        }
    )
    tutors = pd.DataFrame(
        {
            "tutor_id": [f"T{i}" for i in range(len(capacity))],
            "lon": [5.0] * len(capacity),
            "lat": tutor_lat,
            "capacity": capacity,
        }
    )
    return tm.Problem.from_frames(tutors, est, max_distance_km=25.0)


@pytest.mark.parametrize(
    ("tutor_lat", "capacity", "groups"),
    [
        ([44.5, 44.5], [1, 2], ["A", "A", "A", "B"]),  # remote pairs only
        ([43.5, 44.5], [2, 1], ["A", "A", "B"]),  # one tutor on-site, one remote
    ],
)
def test_groups_kept_whole_by_leaving_a_member_uncovered(
    flows_everywhere: None, tutor_lat: list[float], capacity: list[int], groups: list[str]
) -> None:
    """Priced flows left group A split; one tutor for A, a member uncovered, keeps the coverage."""
    problem = _one_point_problem(tutor_lat, capacity, groups)
    plan = tm.solve(problem, objective=["coverage", "groups"])
    assert plan.solver == "lexico-flows"
    tm.testing.assert_valid_plan(plan)
    plans = every_plan(problem)
    top = max(p["coverage"] for p in plans)
    best = min(p["groups"] for p in plans if p["coverage"] >= top - 1e-9)
    assert best == 0.0
    assert plan.criteria[1] == {
        "name": "groups",
        "value": 0.0,
        "tolerance_rel": 0.0,
        "tolerance_abs": 0.0,
        "proven": True,
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tiny_problems(max_tutors=3, max_establishments=6),
    st.sampled_from([["A"], ["A", "A", "B"], ["A", "", "A"]]),
)
def test_groups_by_flows_against_the_brute_force(problem: tm.Problem, labels: list[str]) -> None:
    """Groups first (remote pairs mostly allowed): the value and the bound bracket the optimum."""
    problem = with_groups(problem, labels)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_lexico_flows, "LARGE_ARCS", -1)
        plan = tm.solve(problem, objective=["coverage", "groups"])
    tm.testing.assert_valid_plan(plan)
    plans = every_plan(problem)
    top = max(p["coverage"] for p in plans)
    best = min(p["groups"] for p in plans if p["coverage"] >= top - 1e-9)
    entry = plan.criteria[1]
    assert entry["value"] >= best
    assert entry["value"] == groups_split(plan)
    if entry["proven"]:
        assert entry["value"] == best
    else:
        assert entry["bound"] <= best
