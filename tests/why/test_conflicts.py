"""Hard constraints that cannot all hold: the conflict, the least relaxation, and a plan after it."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tutormatch as tm
from tests.conftest import random_frames
from tutormatch.cli import main
from tutormatch.io import make_uai

LAT = 43.5
E1, E2, E3 = make_uai("0130001"), make_uai("0130002"), make_uai("0130003")


def _frames(min_load: list[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    tutors = pd.DataFrame(
        {"tutor_id": ["T012", "T040"], "lon": [5.0, 5.01], "lat": LAT, "capacity": 2, "min_load": min_load}
    )
    establishments = pd.DataFrame({"uai": [E1, E2, E3], "lon": [5.0, 5.01, 5.02], "lat": LAT})
    return tutors, establishments


def _fixed_vs_min_load() -> tm.Problem:
    # T012 is fixed to two of the three establishments; T040 must take two.
    return tm.Problem.from_frames(
        *_frames([0, 2]), allow_remote=False, fixed_pairs=[("T012", E1), ("T012", E2)]
    )


def test_fixed_pairs_and_a_minimum_load_that_cannot_both_hold() -> None:
    plan = tm.solve(_fixed_vs_min_load())
    assert plan.status is tm.Status.INFEASIBLE
    why = plan.conflicts()
    assert why is not None
    assert why.sentence() == (
        f"the fixed pairs of T012 ({E1}, {E2}) and the minimum load of T040 (2) cannot both hold; "
        f"least relaxation: drop the fixed pair (T012, {E1})"
    )
    assert why.sentence("fr") == (
        f"les binômes imposés de T012 ({E1}, {E2}) et la charge minimale de T040 (2) ne peuvent être "
        f"respectés ensemble; moindre relâchement : retirer le binôme imposé (T012, {E1})"
    )
    table = why.table
    assert table[["kind", "tutor_id", "uai", "in_conflict", "relaxed"]].to_dict("records") == [
        {"kind": "fixed_pair", "tutor_id": "T012", "uai": E1, "in_conflict": True, "relaxed": True},
        {"kind": "fixed_pair", "tutor_id": "T012", "uai": E2, "in_conflict": True, "relaxed": False},
        {"kind": "min_load", "tutor_id": "T040", "uai": "", "in_conflict": True, "relaxed": False},
    ]
    assert why.n_relaxed == 1
    again = tm.solve(why.relaxed_problem)
    assert again.status.is_optimal


def test_unreachable_minimum_load_is_lowered_to_what_can_be_reached() -> None:
    tutors = pd.DataFrame({"tutor_id": ["A"], "lon": [5.0], "lat": LAT, "min_load": [2]})
    establishments = pd.DataFrame({"uai": [E1], "lon": [5.0], "lat": LAT})
    plan = tm.solve(tm.Problem.from_frames(tutors, establishments, allow_remote=False))
    why = plan.conflicts()
    assert why is not None
    assert (
        why.sentence()
        == "the minimum load of A (2) cannot hold; least relaxation: lower the minimum load of A to 1"
    )
    assert why.table["relaxed_to"].tolist() == [1.0]
    assert tm.solve(why.relaxed_problem).status.is_optimal


def test_all_or_nothing_load_relaxed() -> None:
    problem = tm.Problem.from_frames(
        *_frames([0, 1]), allow_remote=False, fixed_pairs=[("T012", E1), ("T012", E2)], all_or_nothing=True
    )
    plan = tm.solve(problem)
    assert plan.status is tm.Status.INFEASIBLE
    why = plan.conflicts()
    assert why is not None
    relaxed = why.table[why.table["relaxed"]]
    assert relaxed[["kind", "tutor_id", "relaxed_to"]].to_dict("records") == [
        {"kind": "all_or_nothing", "tutor_id": "T040", "relaxed_to": 1.0}
    ]
    assert "let T040 take 1 instead of 2 (all-or-nothing)" in why.sentence()
    assert tm.solve(why.relaxed_problem).status.is_optimal


def test_budget_raised_to_the_cheapest_plan() -> None:
    problem = tm.Problem.from_frames(*_frames([0, 1]), allow_remote=False, fixed_pairs=[("T012", E1)])
    plan = tm.solve(problem, budget_eur=100.0)
    assert plan.status is tm.Status.INFEASIBLE
    why = plan.conflicts()
    assert why is not None
    assert why.table[why.table["relaxed"]]["kind"].tolist() == ["budget"]
    assert set(why.table[why.table["in_conflict"]]["kind"]) == {"budget", "fixed_pair", "min_load"}
    assert why.relaxed_budget_eur is not None
    assert tm.solve(why.relaxed_problem, budget_eur=why.relaxed_budget_eur).status.is_optimal
    # The least raise: one euro less is still infeasible.
    assert (
        tm.solve(why.relaxed_problem, budget_eur=why.relaxed_budget_eur - 1.0).status is tm.Status.INFEASIBLE
    )
    assert "relever le budget à 1\u202f000,00 €" in why.sentence("fr")


def test_no_conflicts_on_a_plan() -> None:
    assert tm.solve(tm.Problem.from_frames(*_frames([0, 0]))).conflicts() is None


def test_unknown_language() -> None:
    why = tm.solve(_fixed_vs_min_load()).conflicts()
    assert why is not None
    with pytest.raises(ValueError, match="lang must be 'en' or 'fr'; got 'de'"):
        why.sentence("de")


def test_row_order_does_not_change_the_answer() -> None:
    tutors, establishments = _frames([0, 2])
    fixed = [("T012", E1), ("T012", E2)]
    one = tm.solve(tm.Problem.from_frames(tutors, establishments, allow_remote=False, fixed_pairs=fixed))
    two = tm.solve(
        tm.Problem.from_frames(
            tutors.iloc[::-1], establishments.iloc[::-1], allow_remote=False, fixed_pairs=fixed[::-1]
        )
    )
    a, b = one.conflicts(), two.conflicts()
    assert a is not None
    assert b is not None
    pd.testing.assert_frame_equal(a.table, b.table)


def test_cli_prints_the_conflict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tutors, establishments = _frames([2, 2])
    t, e = tmp_path / "tutors.csv", tmp_path / "establishments.csv"
    tutors.to_csv(t, index=False)
    establishments.to_csv(e, index=False)
    out = tmp_path / "o"
    assert main(["solve", str(t), str(e), "--out", str(out), "--no-remote", "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert "tutormatch: no plan: status infeasible (min-cost flow: no flow meets the minimum loads)." in err
    assert (
        "tutormatch: the minimum load of T012 (2) and the minimum load of T040 (2) cannot both hold; "
        "least relaxation: lower the minimum load of T012 to 1." in err
    )
    assert "wrote conflicts.csv and conflicts.json" in err
    table = pd.read_csv(out / "conflicts.csv")
    assert table[["kind", "tutor_id", "in_conflict", "relaxed"]].to_dict("records") == [
        {"kind": "min_load", "tutor_id": "T012", "in_conflict": True, "relaxed": True},
        {"kind": "min_load", "tutor_id": "T040", "in_conflict": True, "relaxed": False},
    ]
    data = json.loads((out / "conflicts.json").read_text(encoding="utf-8"))
    assert data["n_relaxed"] == 1
    assert data["is_proven"]
    assert data["sentence_fr"].startswith("la charge minimale de T012 (2) et la charge minimale de T040")
    assert not (out / "assignment.csv").exists()


def test_infeasible_plan_says_the_conflict_in_its_message() -> None:
    plan = tm.solve(_fixed_vs_min_load())
    assert plan.message.startswith(
        f"the fixed pairs of T012 ({E1}, {E2}) and the minimum load of T040 (2) cannot both hold; "
        f"least relaxation: drop the fixed pair (T012, {E1}) ["
    )
    assert plan.conflicts() is plan.stats["conflicts"]  # found once, by the solve
    with pytest.raises(tm.InfeasibleError, match="the fixed pairs of T012"):
        plan.raise_for_status()
    euros = tm.solve(_fixed_vs_min_load(), objective="euros")
    assert euros.message.startswith("the fixed pairs of T012")


def test_a_previous_plan_is_kept_and_the_conflict_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t, e = tmp_path / "tutors.csv", tmp_path / "establishments.csv"
    _frames([0, 0])[0].to_csv(t, index=False)
    _frames([0, 0])[1].to_csv(e, index=False)
    out = tmp_path / "o"
    assert main(["solve", str(t), str(e), "--out", str(out), "--no-remote", "-q"]) == 0
    _frames([2, 2])[0].to_csv(t, index=False)
    assert main(["solve", str(t), str(e), "--out", str(out), "--no-remote"]) == 1
    err = capsys.readouterr().err
    assert "cannot both hold" in err
    assert "min_load     T012" in err
    assert "Nothing was written; " in err
    assert "is left as it was" in err
    assert (out / "assignment.csv").exists()
    assert not (out / "conflicts.csv").exists()


# -- against a brute force: fewest relaxed constraints, minimal conflict ------------------


def _relax(problem: tm.Problem, drop_min: set[int], drop_fixed: set[int]) -> tm.Problem:
    import dataclasses

    min_load = problem.tutors.min_load.copy()
    min_load[sorted(drop_min)] = 0
    keep = np.array([i not in drop_fixed for i in range(len(problem.fixed))], dtype=bool)
    tutors = dataclasses.replace(problem.tutors, min_load=min_load)
    return dataclasses.replace(problem, tutors=tutors, fixed=problem.fixed[keep])


def _has_plan(problem: tm.Problem) -> bool:
    from tutormatch.solve._solve import status_only

    with status_only():  # only the status: no conflict search for each subset
        return tm.solve(problem, solver="flow").status.has_solution


def _check_against_brute_force(problem: tm.Problem) -> None:
    plan = tm.solve(problem)
    assume(plan.status is tm.Status.INFEASIBLE)
    why = plan.conflicts()
    assert why is not None
    assert tm.solve(why.relaxed_problem).status.is_optimal
    # Named constraints in the table's order: fixed pairs, then minimum loads.
    fixed_rows = {
        (str(problem.tutors.id[t]), str(problem.establishments.id[e])): i
        for i, (t, e) in enumerate(problem.fixed.tolist())
    }
    min_rows = {str(problem.tutors.id[t]): int(t) for t in np.flatnonzero(problem.tutors.min_load > 0)}
    names = [
        ("fixed", fixed_rows[(r.tutor_id, r.uai)])
        if r.kind == "fixed_pair"
        else ("min", min_rows[r.tutor_id])
        for r in why.table.itertuples()
    ]

    def holds(subset: set[int]) -> bool:
        """Whether the named constraints in ``subset`` can all hold (the others dropped)."""
        drop_min = {n for i, (k, n) in enumerate(names) if k == "min" and i not in subset}
        drop_fixed = {n for i, (k, n) in enumerate(names) if k == "fixed" and i not in subset}
        return _has_plan(_relax(problem, drop_min, drop_fixed))

    everything = set(range(len(names)))
    fewest = next(
        size
        for size in range(len(names) + 1)
        if any(holds(everything - set(drop)) for drop in itertools.combinations(everything, size))
    )
    assert why.n_relaxed == fewest
    conflict = {i for i, flag in enumerate(why.table["in_conflict"]) if flag}
    assert not holds(conflict)
    assert all(holds(conflict - {i}) for i in conflict)


@settings(max_examples=40)
@given(
    capacity=st.lists(st.integers(1, 2), min_size=2, max_size=3),
    data=st.data(),
)
def test_least_relaxation_and_minimal_conflict_against_brute_force(
    capacity: list[int], data: st.DataObject
) -> None:
    n_t = len(capacity)
    n_e = data.draw(st.integers(1, 4))
    min_load = [data.draw(st.integers(0, c)) for c in capacity]
    lon_t = data.draw(st.lists(st.integers(0, 6), min_size=n_t, max_size=n_t))
    lon_e = data.draw(st.lists(st.integers(0, 6), min_size=n_e, max_size=n_e))
    owner = data.draw(st.lists(st.integers(-1, n_t - 1), min_size=n_e, max_size=n_e))
    tutors = pd.DataFrame(
        {
            "tutor_id": [f"T{i}" for i in range(n_t)],
            "lon": [5.0 + 0.05 * x for x in lon_t],
            "lat": LAT,
            "capacity": capacity,
            "min_load": min_load,
        }
    )
    uais = [make_uai(f"01300{j:02d}") for j in range(n_e)]
    establishments = pd.DataFrame({"uai": uais, "lon": [5.0 + 0.05 * x for x in lon_e], "lat": LAT})
    fixed = []
    load = [0] * n_t
    for j, t in enumerate(owner):
        if t >= 0 and load[t] < capacity[t] and abs(lon_t[t] - lon_e[j]) <= 2:  # within reach
            fixed.append((f"T{t}", uais[j]))
            load[t] += 1
    # A 12 km limit leaves some pairs out of reach: the conflicts are about geography too.
    problem = tm.Problem.from_frames(
        tutors, establishments, allow_remote=False, max_distance_km=12.0, fixed_pairs=fixed or None
    )
    _check_against_brute_force(problem)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_seeded_minimum_loads_restored_by_the_least_relaxation(seed: int) -> None:
    tutors, establishments = random_frames(20, 30, seed)
    tutors["min_load"] = tutors["capacity"]  # every tutor full: more places than the rules allow
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=30, allow_remote=False)
    plan = tm.solve(problem)
    assert plan.status is tm.Status.INFEASIBLE
    why = plan.conflicts()
    assert why is not None
    assert why.n_relaxed > 0
    again = tm.solve(why.relaxed_problem)
    assert again.status.is_optimal
    # Each relaxed minimum load is met in full after the relaxation (no slack left unused).
    relaxed = why.table[why.table["relaxed"]]
    assert (relaxed["relaxed_to"] < relaxed["value"].astype(float)).all()
    assert tm.solve(why.relaxed_problem, solver="cpsat").status.is_optimal


def test_minimum_load_without_any_establishment() -> None:
    tutors = pd.DataFrame({"tutor_id": ["A"], "lon": [5.0], "lat": LAT, "min_load": [1]})
    establishments = pd.DataFrame({"uai": pd.Series([], dtype=str), "lon": [], "lat": []})
    plan = tm.solve(tm.Problem.from_frames(tutors, establishments))
    assert plan.status is tm.Status.INFEASIBLE
    assert plan.message.startswith(
        "the minimum load of A (1) cannot hold; least relaxation: lower the minimum load of A to 0"
    )


def _aon_holds(problem: tm.Problem, names: list[tuple[str, int]], subset: set[int]) -> bool:
    """Whether the named constraints in ``subset`` hold (min loads dropped, all-or-nothing freed, else)."""
    import dataclasses

    from tutormatch.solve._solve import status_only

    min_load = problem.tutors.min_load.copy()
    free = []
    for i, (kind, t) in enumerate(names):
        if i in subset:
            continue
        if kind == "min":
            min_load[t] = 0
        else:
            free.append(t)
    # A freed all-or-nothing rule allows any load up to the capacity: some capacity c' <= c works.
    choices = [range(1, int(problem.tutors.capacity[t]) + 1) for t in free]
    for caps in itertools.product(*choices):
        capacity = problem.tutors.capacity.copy()
        capacity[free] = caps
        if np.any(min_load > capacity):
            continue  # that load cannot meet the minimum load
        tutors = dataclasses.replace(problem.tutors, min_load=min_load, capacity=capacity)
        with status_only():
            if tm.solve(dataclasses.replace(problem, tutors=tutors), solver="cpsat").status.has_solution:
                return True
    return False


@settings(max_examples=25, deadline=None)
@given(
    capacity=st.lists(st.integers(1, 3), min_size=2, max_size=3),
    data=st.data(),
)
def test_all_or_nothing_conflicts_against_brute_force(capacity: list[int], data: st.DataObject) -> None:
    n_t = len(capacity)
    n_e = data.draw(st.integers(1, 4))
    min_load = [data.draw(st.integers(0, c)) for c in capacity]
    lon_t = data.draw(st.lists(st.integers(0, 6), min_size=n_t, max_size=n_t))
    lon_e = data.draw(st.lists(st.integers(0, 6), min_size=n_e, max_size=n_e))
    tutors = pd.DataFrame(
        {
            "tutor_id": [f"T{i}" for i in range(n_t)],
            "lon": [5.0 + 0.05 * x for x in lon_t],
            "lat": LAT,
            "capacity": capacity,
            "min_load": min_load,
        }
    )
    uais = [make_uai(f"01300{j:02d}") for j in range(n_e)]
    establishments = pd.DataFrame({"uai": uais, "lon": [5.0 + 0.05 * x for x in lon_e], "lat": LAT})
    problem = tm.Problem.from_frames(
        tutors, establishments, allow_remote=False, max_distance_km=12.0, all_or_nothing=True
    )
    plan = tm.solve(problem)
    assume(plan.status is tm.Status.INFEASIBLE)
    why = plan.conflicts()
    assert why is not None
    assert tm.solve(why.relaxed_problem).status.is_optimal
    names = [
        ("min" if r.kind == "min_load" else "aon", int(np.flatnonzero(problem.tutors.id == r.tutor_id)[0]))
        for r in why.table.itertuples()
    ]
    everything = set(range(len(names)))
    fewest = next(
        size
        for size in range(len(names) + 1)
        if any(
            _aon_holds(problem, names, everything - set(drop))
            for drop in itertools.combinations(everything, size)
        )
    )
    assert why.n_relaxed == fewest
    conflict = {i for i, flag in enumerate(why.table["in_conflict"]) if flag}
    assert not _aon_holds(problem, names, conflict)
    assert all(_aon_holds(problem, names, conflict - {i}) for i in conflict)
