"""Tiny hand-made problems with the optimum written out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tutormatch as tm
from tutormatch.io import make_uai
from tutormatch.testing import assert_valid_plan

# Points along the parallel 43.5 N: 0.01 degree of longitude is about 0.807 km.
LAT = 43.5
E1, E2, E3 = make_uai("0130001"), make_uai("0130002"), make_uai("0130003")


def frames(tutors: list[dict], establishments: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    t = pd.DataFrame([{"lat": LAT, **row} if "lon" in row else row for row in tutors])
    e = pd.DataFrame([{"lat": LAT, **row} if "lon" in row else row for row in establishments])
    return t, e


def plan_of(
    tutors: list[dict], establishments: list[dict], solver: str = "auto", **kw: object
) -> tm.Assignment:
    problem = tm.Problem.from_frames(*frames(tutors, establishments), **kw)
    plan = tm.solve(problem, solver=solver)
    assert_valid_plan(plan)
    return plan


def chosen(plan: tm.Assignment) -> dict[str, str]:
    return dict(zip(plan.pairs["uai"], plan.pairs["tutor_id"], strict=True))


@pytest.fixture(params=["flow", "cpsat"])
def solver(request: pytest.FixtureRequest) -> str:
    return request.param


def test_crossing_is_cheaper_than_greedy(solver: str) -> None:
    # In hundredths of a degree: A at 0, B at 10, E1 at 4, E2 at -4. Greedy
    # nearest-first gives E1 to A (4) then E2 to B (14): 18. The optimum gives
    # E1 to B (6) and E2 to A (4): 10.
    tutors = [{"tutor_id": "A", "lon": 5.0, "capacity": 1}, {"tutor_id": "B", "lon": 5.1, "capacity": 1}]
    establishments = [{"uai": E1, "lon": 5.04}, {"uai": E2, "lon": 4.96}]
    plan = plan_of(tutors, establishments, solver, allow_remote=False)
    assert chosen(plan) == {E1: "B", E2: "A"}
    expected_km = 0.1 * 111.195 * np.cos(np.radians(LAT))
    assert plan.total_distance_km == pytest.approx(expected_km, rel=1e-3)


def test_priority_beats_distance(solver: str) -> None:
    tutors = [{"tutor_id": "A", "lon": 5.0, "capacity": 1}]
    establishments = [{"uai": E1, "lon": 5.01, "priority": 1}, {"uai": E2, "lon": 5.3, "priority": 3}]
    plan = plan_of(tutors, establishments, solver, allow_remote=False)
    assert chosen(plan) == {E2: "A"}
    full = "its 1 eligible tutor is full, taken by establishments of higher priority or at lower cost"
    assert plan.uncovered.to_dict("records") == [{"uai": E1, "reason": "tutors_full", "detail": full}]
    assert plan.uncovered_details("fr")[0].startswith("son seul tuteur éligible est déjà pris, par des")
    assert plan.covered_priority == 3


def test_coverage_beats_cost(solver: str) -> None:
    # A alone could take the near E1; covering both needs A -> E2 (far) and B -> E1.
    tutors = [{"tutor_id": "A", "lon": 5.0, "capacity": 1}, {"tutor_id": "B", "lon": 5.5, "capacity": 1}]
    establishments = [{"uai": E1, "lon": 5.05}, {"uai": E2, "lon": 4.7}]
    plan = plan_of(tutors, establishments, solver, allow_remote=False, max_distance_km=40)
    assert chosen(plan) == {E1: "B", E2: "A"}


def test_capacity_two_by_default(solver: str) -> None:
    tutors = [{"tutor_id": "A", "lon": 5.0}]
    establishments = [{"uai": u, "lon": 5.0 + 0.01 * i} for i, u in enumerate((E1, E2, E3))]
    plan = plan_of(tutors, establishments, solver, allow_remote=False)
    assert chosen(plan) == {E1: "A", E2: "A"}
    assert plan.uncovered["uai"].tolist() == [E3]


@pytest.mark.parametrize(
    ("tutor", "establishment", "detail", "detail_fr"),
    [
        (
            {"wave": 3},
            {"wave": 3},
            "no tutor belongs to a wave earlier than its wave 3",
            "aucun tuteur n'appartient à une vague antérieure à sa vague 3",
        ),
        (
            {"role": "FPAC"},
            {"need": "management"},
            "no tutor of an earlier wave has a role that gives management help",
            "n'a un rôle qui apporte l'aide demandée (gestion)",
        ),
        (
            {"role": "SG"},
            {"need": "both"},
            "no tutor of an earlier wave has a role that gives management and accounting help",
            "l'aide demandée (gestion et comptabilité)",
        ),
        (
            {"remote_ok": False},
            {},
            "none of them accepts remote tutoring",
            "aucun tuteur qualifié dans la limite de 20 km (ou de sa propre limite), et aucun d'eux",
        ),
        (
            {},
            {"remote_ok": False},
            "the establishment does not accept remote tutoring",
            "l'établissement n'accepte pas le tutorat à distance",
        ),
        ({"max_km": 10}, {"remote_ok": False}, "does not accept remote", "n'accepte pas le tutorat"),
    ],
)
def test_rules_leave_uncovered_with_reason(
    tutor: dict, establishment: dict, detail: str, detail_fr: str, solver: str
) -> None:
    tutors = [{"tutor_id": "A", "lon": 5.0, **tutor}]
    establishments = [{"uai": E1, "lon": 5.5, **establishment}]  # about 40 km away
    plan = plan_of(tutors, establishments, solver, max_distance_km=(60 if "max_km" in tutor else 20))
    assert plan.n_covered == 0
    assert plan.uncovered["reason"].tolist() == ["no_eligible_tutor"]
    assert detail in plan.uncovered["detail"].iloc[0]
    assert detail_fr in plan.uncovered_details("fr")[0]


def test_sgac_covers_both_and_earlier_wave_is_eligible(solver: str) -> None:
    tutors = [{"tutor_id": "A", "lon": 5.0, "role": "SGAC", "wave": 2}]
    establishments = [{"uai": E1, "lon": 5.1, "need": "both", "wave": 5}]
    assert chosen(plan_of(tutors, establishments, solver)) == {E1: "A"}


def test_own_establishment_is_never_chosen(solver: str) -> None:
    tutors = [{"tutor_id": "A", "home_uai": E1}, {"tutor_id": "B", "lon": 5.5}]
    establishments = [{"uai": E1, "lon": 5.0}]
    plan = plan_of(tutors, establishments, solver, max_distance_km=60)
    assert chosen(plan) == {E1: "B"}


def test_remote_beyond_the_limit_costs_the_penalty(solver: str) -> None:
    tutors = [{"tutor_id": "A", "lon": 5.0}]
    establishments = [{"uai": E1, "lon": 6.0, "visits_per_year": 6}]  # about 80 km
    plan = plan_of(tutors, establishments, solver, max_distance_km=60)
    assert plan.pairs["mode"].tolist() == ["remote"]
    assert plan.objective == pytest.approx(2 * 6 * 60)  # default penalty: on-site at the limit
    assert plan.total_distance_km == 0
    custom = plan_of(tutors, establishments, solver, max_distance_km=60, remote_penalty_km=123.0)
    assert custom.objective == pytest.approx(123.0)


def test_personal_limit_makes_a_near_pair_remote(solver: str) -> None:
    tutors = [{"tutor_id": "A", "lon": 5.0, "max_km": 10}]
    establishments = [{"uai": E1, "lon": 5.3}]  # about 24 km
    plan = plan_of(tutors, establishments, solver, max_distance_km=60)
    assert plan.pairs["mode"].tolist() == ["remote"]


def test_fixed_pair_is_kept_and_forbidden_pair_avoided(solver: str) -> None:
    tutors = [{"tutor_id": "A", "lon": 5.0, "capacity": 1}, {"tutor_id": "B", "lon": 5.2, "capacity": 1}]
    establishments = [{"uai": E1, "lon": 5.0}, {"uai": E2, "lon": 5.2}]
    free = plan_of(tutors, establishments, solver, allow_remote=False)
    assert chosen(free) == {E1: "A", E2: "B"}
    fixed = plan_of(tutors, establishments, solver, allow_remote=False, fixed_pairs=[("B", E1)])
    assert chosen(fixed) == {E1: "B", E2: "A"}
    assert fixed.pairs["fixed"].tolist() == [True, False]
    forbidden = plan_of(tutors, establishments, solver, allow_remote=False, forbidden_pairs=[("A", E1)])
    assert chosen(forbidden) == {E1: "B", E2: "A"}


def test_minimum_load_forces_a_pair(solver: str) -> None:
    tutors = [{"tutor_id": "A", "lon": 5.0, "capacity": 2}, {"tutor_id": "B", "lon": 5.4, "min_load": 1}]
    establishments = [{"uai": E1, "lon": 5.0}]
    plan = plan_of(tutors, establishments, solver, allow_remote=False)
    assert chosen(plan) == {E1: "B"}


def test_unreachable_minimum_load_is_infeasible(solver: str) -> None:
    tutors = [{"tutor_id": "A", "lon": 5.0, "min_load": 2}]
    establishments = [{"uai": E1, "lon": 5.0}]
    plan = plan_of(tutors, establishments, solver, allow_remote=False)
    assert plan.status is tm.Status.INFEASIBLE
    assert plan.uncovered["reason"].tolist() == ["no_plan"]
    with pytest.raises(tm.InfeasibleError, match="no plan: status infeasible"):
        plan.raise_for_status()


def test_all_or_nothing_loads() -> None:
    tutors = [{"tutor_id": "A", "lon": 5.0}, {"tutor_id": "B", "lon": 5.02}]
    establishments = [{"uai": u, "lon": 5.0 + 0.01 * i} for i, u in enumerate((E1, E2, E3))]
    plan = plan_of(tutors, establishments, "auto", allow_remote=False, all_or_nothing=True)
    assert plan.solver == "matching"
    assert sorted(plan.tutor_loads()["load"].tolist()) == [0, 2]
    assert plan.n_covered == 2
    with pytest.raises(tm.InputError, match="solver='flow' cannot enforce all_or_nothing"):
        tm.solve(plan.problem, solver="flow")


def test_empty_establishments_give_an_empty_plan(solver: str) -> None:
    tutors = pd.DataFrame({"tutor_id": ["A"], "lon": [5.0], "lat": [LAT]})
    establishments = pd.DataFrame({"uai": pd.Series([], dtype=str)})
    plan = tm.solve(tm.Problem.from_frames(tutors, establishments), solver=solver)
    assert plan.status is tm.Status.OPTIMAL
    assert plan.n_pairs == 0
    assert plan.n_uncovered == 0
    assert plan.table().empty


def test_unknown_solver_lists_the_valid_ones() -> None:
    problem = tm.Problem.from_frames(*frames([{"tutor_id": "A", "lon": 5.0}], [{"uai": E1, "lon": 5.0}]))
    with pytest.raises(
        tm.InputError,
        match="solver must be one of 'auto', 'flow', 'matching', 'flow-bb', 'cpsat'; got 'glpk'",
    ):
        tm.solve(problem, solver="glpk")  # type: ignore[arg-type]


def test_plan_table_has_one_row_per_establishment_in_uai_order(solver: str) -> None:
    tutors = [{"tutor_id": "A", "lon": 5.0, "capacity": 1}]
    establishments = [{"uai": E2, "lon": 5.0}, {"uai": E1, "lon": 5.01}]
    plan = plan_of(tutors, establishments, solver, allow_remote=False)
    table = plan.table()
    assert table["uai"].tolist() == [E1, E2]
    assert table["mode"].tolist() == ["none", "onsite"]
    assert table["reason_code"].tolist() == ["tutors_full", ""]


def test_evaluate_a_plan_edited_by_hand() -> None:
    tutors = [{"tutor_id": "A", "lon": 5.0, "capacity": 1}, {"tutor_id": "B", "lon": 5.2, "capacity": 1}]
    establishments = [{"uai": E1, "lon": 5.0}, {"uai": E2, "lon": 5.2}]
    problem = tm.Problem.from_frames(*frames(tutors, establishments), allow_remote=False)
    optimal = tm.solve(problem)
    edited = optimal.table()
    edited["tutor_id"] = ["B", "A"]
    given = tm.evaluate(problem, edited)
    assert_valid_plan(given)
    assert given.solver == "given"
    assert given.status is tm.Status.FEASIBLE
    assert given.objective > optimal.objective
    assert np.isnan(given.gap)
    edited["tutor_id"] = ["A", "A"]
    with pytest.raises(
        tm.InputError, match=r"gives tutors more establishments than their capacity: A \(2 > 1\)"
    ):
        tm.evaluate(problem, edited)
    with pytest.raises(tm.InputError, match="column 'uai' must name establishments of the problem"):
        tm.evaluate(problem, [("A", "0139999Z")])


@pytest.mark.parametrize("solver", ["matching", "flow-bb", "cpsat"])
def test_all_or_nothing_is_solved_exactly_by_every_backend_that_accepts_it(solver: str) -> None:
    # Three establishments in a row, two tutors of capacity two: the flow would
    # give one to each tutor (loads 1 and 2); all-or-nothing must drop one.
    tutors = [{"tutor_id": "A", "lon": 5.0}, {"tutor_id": "B", "lon": 5.02}]
    establishments = [
        {"uai": u, "lon": 5.0 + 0.01 * i, "priority": p}
        for i, (u, p) in enumerate(((E1, 1), (E2, 2), (E3, 3)))
    ]
    plan = plan_of(tutors, establishments, solver, allow_remote=False, all_or_nothing=True)
    assert plan.status is tm.Status.OPTIMAL
    assert sorted(plan.pairs["uai"]) == [E2, E3]
    assert sorted(plan.tutor_loads()["load"].tolist()) == [0, 2]


def test_partial_pool_infeasible_on_its_pairs_is_solved_on_all_pairs() -> None:
    # The nearest tutor of E1 has no capacity: a pool of one pair per
    # establishment cannot meet B's minimum load, the full problem can.
    tutors = [{"tutor_id": "A", "lon": 5.0, "capacity": 0}, {"tutor_id": "B", "lon": 5.0, "min_load": 1}]
    establishments = [{"uai": E1, "lon": 5.01}]
    problem = tm.Problem.from_frames(*frames(tutors, establishments), allow_remote=False)
    plan = tm.solve(problem, options=tm.SolveOptions(candidate_k=1))
    assert plan.status is tm.Status.OPTIMAL
    assert chosen(plan) == {E1: "B"}
