"""plan.backups(k): equal to re-solving with each pair forced (tiny instances)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import tutormatch as tm
from tests.conftest import random_frames
from tutormatch.model._eligibility import MODE_NONE, classify_pairs
from tutormatch.solve._whatif import with_fixed_pair


def _problem(seed: int, n_tutors: int, n_establishments: int, limit: float, remote: bool) -> tm.Problem:
    tutors, establishments = random_frames(n_tutors, n_establishments, seed)
    return tm.Problem.from_frames(tutors, establishments, max_distance_km=limit, allow_remote=remote)


@settings(max_examples=25)
@example(seed=2, n_tutors=5, n_establishments=4, limit=80.0, remote=True)  # a tutor listed twice hid another
@given(
    seed=st.integers(0, 10_000),
    n_tutors=st.integers(2, 6),
    n_establishments=st.integers(2, 8),
    limit=st.sampled_from([25.0, 40.0, 80.0]),
    remote=st.booleans(),
)
def test_backups_equal_forced_re_solves(
    seed: int, n_tutors: int, n_establishments: int, limit: float, remote: bool
) -> None:
    problem = _problem(seed, n_tutors, n_establishments, limit, remote)
    plan = tm.solve(problem)
    table = plan.backups(k=n_tutors)
    current = dict(zip(plan.pairs["uai"], plan.pairs["tutor_id"], strict=True))
    for row in table.to_dict(orient="records"):
        forced = tm.solve(with_fixed_pair(problem, row["tutor_id"], row["uai"]))
        assert forced.covered_priority - plan.covered_priority == row["priority_delta"]
        # Costs are exact in the solver's integer units (0.001 km per pair).
        assert forced.objective - plan.objective == pytest.approx(row["cost_delta_km"], abs=0.002 * n_tutors)
        assert current.get(row["uai"]) != row["tutor_id"]
    # Every eligible tutor other than the current one is listed (k = all).
    e = np.repeat(np.arange(problem.n_establishments), problem.n_tutors)
    t = np.tile(np.arange(problem.n_tutors), problem.n_establishments)
    eligible = classify_pairs(problem, t, e, problem.distance_km(t, e)) != MODE_NONE
    expected = {
        (str(problem.establishments.id[a]), str(problem.tutors.id[b]))
        for a, b in zip(e[eligible], t[eligible], strict=True)
        if current.get(str(problem.establishments.id[a])) != str(problem.tutors.id[b])
    }
    assert set(zip(table["uai"], table["tutor_id"], strict=True)) == expected


def test_backups_are_ranked_and_limited_to_k() -> None:
    plan = tm.solve(_problem(3, 25, 60, 35.0, True))
    table = plan.backups(k=2)
    assert table.groupby("uai")["rank"].max().max() <= 2
    for _, group in table.groupby("uai"):
        key = list(zip(-group["priority_delta"], group["cost_delta_km"], strict=True))
        assert key == sorted(key)
        assert group["rank"].tolist() == list(range(1, len(group) + 1))


def test_backups_with_minimum_loads_and_fixed_pairs() -> None:
    for seed in range(10):  # the first seed whose minimum loads can hold
        tutors, establishments = random_frames(8, 12, seed)
        tutors = tutors.assign(min_load=np.where(np.arange(len(tutors)) % 3 == 0, 1, 0))
        base = tm.solve(tm.Problem.from_frames(tutors, establishments, max_distance_km=40))
        if base.status.has_solution:
            break
    assert base.status.is_optimal
    fixed = base.pairs[["tutor_id", "uai"]].head(2)
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=40, fixed_pairs=fixed)
    plan = tm.solve(problem)
    table = plan.backups(k=8)
    assert not set(table["uai"]) & set(fixed["uai"])
    for row in table.to_dict(orient="records"):
        forced = tm.solve(with_fixed_pair(problem, row["tutor_id"], row["uai"]))
        assert forced.covered_priority - plan.covered_priority == row["priority_delta"]
        assert forced.objective - plan.objective == pytest.approx(row["cost_delta_km"], abs=0.02)


def test_backups_refuse_a_bad_k() -> None:
    plan = tm.solve(tm.example_problem())
    with pytest.raises(tm.InputError, match="k must be an integer >= 1; got 0"):
        plan.backups(k=0)


def _brute_force(
    plan: tm.Assignment, problem: tm.Problem, **keywords: object
) -> dict[tuple[str, str], tuple]:
    """Every eligible pair other than the plan's, fixed and solved by CP-SAT: (status, deltas)."""
    e = np.repeat(np.arange(problem.n_establishments), problem.n_tutors)
    t = np.tile(np.arange(problem.n_tutors), problem.n_establishments)
    eligible = classify_pairs(problem, t, e, problem.distance_km(t, e)) != MODE_NONE
    current = dict(zip(plan.pairs["uai"], plan.pairs["tutor_id"], strict=True))
    out = {}
    for a, b in zip(e[eligible], t[eligible], strict=True):
        uai, tutor = str(problem.establishments.id[a]), str(problem.tutors.id[b])
        if current.get(uai) == tutor:
            continue
        forced = tm.solve(with_fixed_pair(problem, tutor, uai), solver="cpsat", **keywords)  # type: ignore[arg-type]
        if not forced.status.has_solution:
            out[(uai, tutor)] = (forced.status.value, None, None)
        else:
            out[(uai, tutor)] = (
                forced.status.value,
                forced.covered_priority - plan.covered_priority,
                forced.objective - plan.objective,
            )
    return out


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_tutors=st.integers(2, 4),
    n_establishments=st.integers(2, 5),
    remote=st.booleans(),
)
def test_backups_under_all_or_nothing_equal_forced_re_solves(
    seed: int, n_tutors: int, n_establishments: int, remote: bool
) -> None:
    tutors, establishments = random_frames(n_tutors, n_establishments, seed)
    problem = tm.Problem.from_frames(
        tutors, establishments, max_distance_km=40.0, allow_remote=remote, all_or_nothing=True
    )
    plan = tm.solve(problem)
    assume(plan.status.is_optimal)
    table = plan.backups(k=n_tutors)  # the shortlist (2 k) holds every eligible tutor
    expected = _brute_force(plan, problem)
    assert set(zip(table["uai"], table["tutor_id"], strict=True)) == set(expected)
    assert (table["method"] == "re-solve").all()
    for row in table.to_dict(orient="records"):
        status, priority, cost = expected[(row["uai"], row["tutor_id"])]
        if priority is None:
            assert row["status"] == status
            assert np.isnan(row["priority_delta"])
            continue
        assert row["status"] == "optimal"
        assert row["priority_delta"] == priority
        assert row["cost_delta_km"] == pytest.approx(cost, abs=0.01)
    for _, group in table.groupby("uai"):
        solved = group[group["status"] == "optimal"]
        key = list(zip(-solved["priority_delta"], solved["cost_delta_km"], strict=True))
        assert key == sorted(key)
        assert group["rank"].tolist() == list(range(1, len(group) + 1))


def test_backups_of_a_euro_plan_under_a_budget_are_re_solved() -> None:
    tutors, establishments = random_frames(4, 5, 2)
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=40.0)
    cheapest = tm.solve(problem, objective="euros")
    budget = cheapest.objective + 400.0
    plan = tm.solve(problem, objective="euros", budget_eur=budget)
    assert plan.status.is_optimal
    table = plan.backups(k=4)
    expected = _brute_force(plan, problem, objective="euros", budget_eur=budget)
    assert set(zip(table["uai"], table["tutor_id"], strict=True)) == set(expected)
    for row in table.to_dict(orient="records"):
        status, priority, cost = expected[(row["uai"], row["tutor_id"])]
        assert row["status"] == status
        if priority is not None:
            assert row["priority_delta"] == priority
            assert row["cost_delta_eur"] == pytest.approx(cost, abs=0.006)


def test_backups_of_chosen_establishments_only() -> None:
    plan = tm.solve(_problem(3, 25, 60, 35.0, True))
    uais = list(plan.pairs["uai"].iloc[:2])
    table = plan.backups(k=2, uais=uais)
    assert set(table["uai"]) == set(uais)
    full = plan.backups(k=2)
    pd.testing.assert_frame_equal(table, full[full["uai"].isin(uais)].reset_index(drop=True))
    with pytest.raises(tm.InputError, match=r"backups: unknown uai 'NOPE'"):
        plan.backups(uais=["NOPE"])


def test_backups_past_the_time_limit_say_not_solved() -> None:
    tutors, establishments = random_frames(6, 8, 1)
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=40, all_or_nothing=True)
    table = tm.solve(problem).backups(time_limit=1e-9)
    assert len(table) > 0
    assert (table["status"] == "not_solved").all()
    assert table["priority_delta"].isna().all()
    with pytest.raises(tm.InputError, match="time_limit must be a number of seconds > 0; got 0"):
        tm.solve(problem).backups(time_limit=0)


@pytest.mark.parametrize("first_radius_km", [0.001, 1.0])
def test_bounded_dijkstra_rounds_give_the_unbounded_answer(
    monkeypatch: pytest.MonkeyPatch, first_radius_km: float
) -> None:
    from tutormatch.solve import _backups

    plan = tm.solve(_problem(5, 25, 60, 35.0, True))
    monkeypatch.setattr(_backups, "_FIRST_LIMIT_KM", float("inf"))
    unbounded = plan.backups(k=3)
    monkeypatch.setattr(_backups, "_FIRST_LIMIT_KM", first_radius_km)
    bounded = plan.backups(k=3)
    assert bounded.equals(unbounded)


def test_backups_need_a_plan() -> None:
    tutors, establishments = random_frames(2, 2, 0)
    tutors = tutors.assign(min_load=5, capacity=5)  # 10 places to fill, 2 establishments
    for aon in (False, True):
        problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=40, all_or_nothing=aon)
        plan = tm.solve(problem)
        assert plan.status is tm.Status.INFEASIBLE
        wanted = "backups need a plan; this one is infeasible" if aon else "backups need an optimal plan"
        with pytest.raises(tm.InputError, match=wanted):
            plan.backups()


def test_cli_writes_backups_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tutormatch.cli import main

    tutors, establishments = random_frames(25, 60, 3)
    tutors.to_csv(tmp_path / "t.csv", index=False)
    establishments.to_csv(tmp_path / "e.csv", index=False)
    argv = ["solve", str(tmp_path / "t.csv"), str(tmp_path / "e.csv"), "--max-km", "35", "--lang", "en"]
    assert main([*argv, "--out", str(tmp_path / "o"), "--backups", "2", "--no-shortfall", "-q"]) == 0
    written = pd.read_csv(tmp_path / "o" / "backups.csv")
    plan = tm.solve(tm.Problem.from_frames(tutors, establishments, max_distance_km=35))
    expected = plan.backups(k=2)
    assert written["uai"].tolist() == expected["uai"].tolist()
    assert written["tutor_id"].tolist() == expected["tutor_id"].tolist()
    assert written["rank"].tolist() == expected["rank"].tolist()
    with pytest.raises(SystemExit):
        main([*argv, "--out", str(tmp_path / "p"), "--backups", "0"])
    assert "--backups: must be an integer >= 1; got '0'" in capsys.readouterr().err
