"""Deciding in euros on the command line and in the inputs: objectives, candidates, budgets."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import tutormatch as tm
from tutormatch.cli import main
from tutormatch.io import make_uai

U = [make_uai(f"013000{i}") for i in range(1, 5)]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    # Two retained tutors with a bonus, one candidate near everything without.
    tutors = pd.DataFrame(
        {
            "tutor_id": ["R1", "R2", "C1"],
            "lon": [5.0, 5.4, 5.2],
            "lat": [43.5, 43.5, 43.5],
            "home_uai": ["", "", U[3]],
            "role": ["SG", "AG", "AG"],
            "capacity": [2, 2, 3],
            "cia_eur": [900, 900, None],
            "status": ["retained", "", "candidate"],
            "fixed_cost_eur": [None, None, 100],
        }
    )
    establishments = pd.DataFrame({"uai": U[:3], "lon": [5.05, 5.35, 5.2], "lat": [43.5, 43.5, 43.52]})
    t, e = tmp_path / "tutors.csv", tmp_path / "establishments.csv"
    tutors.to_csv(t, index=False)
    establishments.to_csv(e, index=False)
    return t, e


def _solve(files: tuple[Path, Path], out: Path, *extra: str) -> int:
    return main(
        [
            "solve",
            str(files[0]),
            str(files[1]),
            "--no-remote",
            "--out",
            str(out),
            "--quiet",
            "--lang",
            "en",
            *extra,
        ]
    )


def test_euros_recruit_the_candidate_and_say_so(files: tuple[Path, Path], tmp_path: Path) -> None:
    assert _solve(files, tmp_path / "km") == 0
    assert _solve(files, tmp_path / "eur", "--objective", "euros") == 0
    km = json.loads((tmp_path / "km" / "summary.json").read_text())
    eur = json.loads((tmp_path / "eur" / "summary.json").read_text())
    assert eur["objective"] == "euros"
    assert km["objective"] == "km"
    assert eur["n_covered"] == km["n_covered"] == 3
    # 2,700 EUR of bonus saved against 100 EUR of recruitment: the candidate takes all three.
    assert eur["n_recruited"] == 1
    assert eur["fixed_cost_eur"] == 100.0
    assert eur["bonus_eur"] == 0.0
    assert eur["total_cost_eur"] < km["total_cost_eur"]
    assert eur["total_cost_eur"] == pytest.approx(
        eur["indemnity_eur"]
        + eur["bonus_eur"]
        + eur["mileage_eur"]
        + eur["remote_eur"]
        + eur["fixed_cost_eur"]
    )
    tutors = pd.read_csv(tmp_path / "eur" / "tutors.csv")
    assert tutors.set_index("tutor_id")["recruited"].to_dict() == {"C1": True, "R1": False, "R2": False}
    counts = pd.read_csv(tmp_path / "eur" / "recruitment_by_departement.csv", dtype=str)
    assert counts.to_dict("records") == [{"departement": "13", "role": "AG", "n_recruited": "1"}]


def test_budget_below_the_cheapest_plan_is_infeasible(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fixed = tmp_path / "fixed.csv"
    pd.DataFrame({"tutor_id": ["R1"], "uai": [U[0]]}).to_csv(fixed, index=False)
    code = _solve(files, tmp_path / "b", "--objective", "euros", "--budget-eur", "100", "--fixed", str(fixed))
    assert code == 1
    error = capsys.readouterr().err
    assert "status infeasible (no plan fits the budget of 100.00 EUR: the cheapest plan" in error
    assert "costs 3,220.13 EUR" in error  # 500 of indemnity, 3 x 900 of bonus, 20.13 of mileage


def test_budget_limits_coverage(files: tuple[Path, Path], tmp_path: Path) -> None:
    assert _solve(files, tmp_path / "b", "--objective", "euros", "--budget-eur", "1200") == 0
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert summary["n_covered"] == 2
    assert summary["total_cost_eur"] <= 1200
    assert summary["budget_eur"] == 1200


def test_unknown_objective_is_a_usage_error(files: tuple[Path, Path], tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        _solve(files, tmp_path / "x", "--objective", "money")


def test_status_must_be_retained_or_candidate() -> None:
    tutors = pd.DataFrame({"tutor_id": ["T1"], "lon": [5.0], "lat": [43.5], "status": ["maybe"]})
    establishments = pd.DataFrame({"uai": U[:1], "lon": [5.0], "lat": [43.6]})
    with pytest.raises(tm.InputError, match=r"column 'status' must be one of candidate, retained"):
        tm.Problem.from_frames(tutors, establishments)


def test_fixed_cost_only_for_candidates() -> None:
    tutors = pd.DataFrame(
        {"tutor_id": ["T1"], "lon": [5.0], "lat": [43.5], "status": ["retained"], "fixed_cost_eur": [50]}
    )
    establishments = pd.DataFrame({"uai": U[:1], "lon": [5.0], "lat": [43.6]})
    with pytest.raises(tm.InputError, match="must be empty for retained tutors"):
        tm.Problem.from_frames(tutors, establishments)


def test_cost_model_rejects_negative_amounts() -> None:
    with pytest.raises(tm.InputError, match="fixed_cost_eur must be >= 0"):
        tm.model.CostModel(fixed_cost_eur=-1)


def test_euros_on_a_matrix_of_road_km() -> None:
    # The matrix holds road km (no detour factor): 2 x 2 visits x (600 + 50) km = 2,600 km a year.
    problem = tm.Problem.from_arrays([[600.0, 50.0]], visits_per_year=2, max_distance_km=1000)
    plan = tm.solve(problem, objective="euros")
    assert plan.status.is_optimal
    assert plan.objective == tm.report.costs(plan).total_eur
    assert plan.objective == 1000 + 2000 * 0.32 + 600 * 0.40


def test_euros_need_km_not_minutes() -> None:
    problem = tm.Problem.from_arrays([[30.0]], distance_unit="min", max_distance_km=1000)
    with pytest.raises(
        tm.InputError, match="count euros from road km, but this problem's distances are in 'min'"
    ):
        tm.solve(problem, objective="euros")


def test_every_objective_is_offered() -> None:
    from tutormatch.cli import _OBJECTIVES
    from tutormatch.solve import OBJECTIVES

    assert _OBJECTIVES == OBJECTIVES
