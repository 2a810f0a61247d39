"""Shortfall levers: every row, applied and solved again, gives what it states."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tutormatch as tm
from tests.conftest import random_frames
from tutormatch.io._plan_files import write_plan_files
from tutormatch.solve._shortfall import SHORTFALL_COLUMNS

KINDS = {"add_tutor", "raise_capacity", "raise_distance_limit", "allow_remote", "relax_rule"}


def _check_levers(plan: tm.Assignment, levers: pd.DataFrame) -> None:
    covered = set(plan.pairs["uai"])
    for row in levers.to_dict(orient="records"):
        again = tm.solve(tm.apply_lever(plan.problem, row))
        assert again.status.is_optimal
        assert again.covered_priority - plan.covered_priority == row["priority_gain"]
        assert again.objective - plan.objective == pytest.approx(row["cost_delta_km"], abs=1e-9)
        now = set(again.pairs["uai"])
        assert sorted(now - covered) == row["covers"]
        assert sorted(covered - now) == row["uncovers"]
        assert row["priority_gain"] > 0
        assert row["n_covers"] == len(row["covers"])


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("allow_remote", [True, False], ids=["remote", "no-remote"])
def test_every_lever_gives_what_it_states(seed: int, allow_remote: bool) -> None:
    tutors, establishments = random_frames(25, 60, seed)
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=35, allow_remote=allow_remote)
    plan = tm.solve(problem)
    levers = plan.shortfall()
    assert plan.n_uncovered > 0
    assert list(levers.columns) == list(SHORTFALL_COLUMNS)
    expected = KINDS if allow_remote else KINDS - {"allow_remote"}
    assert set(levers["kind"]) == expected
    _check_levers(plan, levers)


def test_example_academie_levers_are_exact() -> None:
    plan = tm.solve(tm.example_problem())
    levers = plan.shortfall()
    assert len(levers) > 0
    uncovered = set(plan.uncovered["uai"])
    # Each lever covers at least one of the establishments left out.
    assert all(set(covers) & uncovered for covers in levers["covers"])
    _check_levers(plan, levers)


def test_groups_partition_the_uncovered_by_shared_tutors() -> None:
    tutors, establishments = random_frames(25, 60, 0)
    plan = tm.solve(tm.Problem.from_frames(tutors, establishments, max_distance_km=35))
    levers = plan.shortfall()
    assert levers["group"].min() == 1
    assert np.all(np.diff(levers["group"].to_numpy()) >= 0)


def test_nothing_uncovered_gives_an_empty_table() -> None:
    tutors, establishments = random_frames(30, 10, 1)
    plan = tm.solve(tm.Problem.from_frames(tutors, establishments, max_distance_km=500))
    assert plan.n_uncovered == 0
    levers = plan.shortfall()
    assert levers.empty
    assert list(levers.columns) == list(SHORTFALL_COLUMNS)


def test_french_sentences() -> None:
    tutors, establishments = random_frames(25, 60, 0)
    plan = tm.solve(tm.Problem.from_frames(tutors, establishments, max_distance_km=35))
    levers = plan.shortfall(lang="fr")
    assert all("couvre" in text for text in levers["lever"])


def test_euros_column_when_asked() -> None:
    tutors, establishments = random_frames(25, 60, 0)
    plan = tm.solve(tm.Problem.from_frames(tutors, establishments, max_distance_km=35))
    assert plan.shortfall()["cost_delta_eur"].isna().all()
    with_euros = plan.shortfall(euros=True)
    assert with_euros["cost_delta_eur"].notna().all()
    row = with_euros.iloc[0].to_dict()
    again = tm.solve(tm.apply_lever(plan.problem, row))
    delta = tm.report.costs(again).total_eur - tm.report.costs(plan).total_eur
    assert row["cost_delta_eur"] == pytest.approx(delta, abs=0.006)


def test_unknown_lang_is_refused() -> None:
    plan = tm.solve(tm.example_problem())
    with pytest.raises(tm.InputError, match="lang must be 'en' or 'fr'; got 'de'"):
        plan.shortfall(lang="de")


def test_unknown_lever_kind_is_refused() -> None:
    with pytest.raises(tm.InputError, match="lever kind must be one of"):
        tm.apply_lever(tm.example_problem(), {"kind": "bribe"})


def test_relaxed_rule_opens_one_pair_only() -> None:
    from tutormatch.model._eligibility import rule_mask
    from tutormatch.solve._whatif import with_pair_rule_relaxed

    tutors, establishments = random_frames(25, 60, 0)
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=35)
    t = np.arange(problem.n_tutors).repeat(problem.n_establishments)
    e = np.tile(np.arange(problem.n_establishments), problem.n_tutors)
    before = rule_mask(problem, t, e)
    closed = np.flatnonzero(~before & (problem.tutors.home[t] != e))
    pick = int(closed[0])
    rule = "wave" if problem.tutors.wave[t[pick]] >= problem.establishments.wave[e[pick]] else "role"
    edited = with_pair_rule_relaxed(
        problem, str(problem.tutors.id[t[pick]]), str(problem.establishments.id[e[pick]]), rule
    )
    after = rule_mask(edited, t, e)
    opened = np.flatnonzero(after & ~before)
    if rule == "wave" and not after[pick]:
        pytest.skip("the pair also fails the role rule")
    assert opened.tolist() == [pick]
    assert not np.any(before & ~after)


def test_added_tutor_keeps_fixed_pairs_on_their_tutors() -> None:
    from tutormatch.solve._whatif import with_new_tutor

    tutors, establishments = random_frames(25, 60, 0)
    base = tm.Problem.from_frames(tutors, establishments, max_distance_km=35)
    plan = tm.solve(base)
    fixed = plan.pairs[["tutor_id", "uai"]].head(3)
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=35, fixed_pairs=fixed)
    edited = with_new_tutor(problem, 5.4, 43.3, role="SGAC", wave=1.0, capacity=2, tutor_id="A-NEW")
    named = sorted(
        zip(edited.tutors.id[edited.fixed[:, 0]], edited.establishments.id[edited.fixed[:, 1]], strict=True)
    )
    assert named == sorted(zip(fixed["tutor_id"], fixed["uai"], strict=True))
    assert list(edited.tutors.id) == sorted(edited.tutors.id)


def test_plan_files_include_the_shortfall(tmp_path: object) -> None:
    from pathlib import Path

    out = Path(str(tmp_path))
    tutors, establishments = random_frames(25, 60, 0)
    plan = tm.solve(tm.Problem.from_frames(tutors, establishments, max_distance_km=35))
    write_plan_files(plan, out, shortfall=True)
    frame = pd.read_csv(out / "shortfall.csv", dtype={"covers": str})
    records = json.loads((out / "shortfall.json").read_text(encoding="utf-8"))
    assert len(frame) == len(records) == len(plan.shortfall())
    assert [r["covers"] for r in records] == [c.split(" ") for c in frame["covers"]]
    assert all(isinstance(r["cost_delta_eur"], float) for r in records)


def test_levers_of_a_euros_plan_are_re_solved_in_euros() -> None:
    tutors, establishments = random_frames(25, 60, 0)
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=35)
    plan = tm.solve(problem, objective="euros")
    levers = plan.shortfall()
    assert len(levers) > 0
    for row in levers.head(3).to_dict(orient="records"):
        again = tm.solve(tm.apply_lever(problem, row), objective="euros")
        assert again.covered_priority - plan.covered_priority == row["priority_gain"]
        assert again.objective - plan.objective == pytest.approx(row["cost_delta_eur"], abs=0.006)
    table = plan.backups(k=1, uais=[levers.iloc[0]["covers"][0]])  # re-solved in euros
    assert (table["method"] == "re-solve").all()


def _write_frames(folder: Path) -> list[str]:
    tutors, establishments = random_frames(25, 60, 0)
    folder.mkdir(parents=True, exist_ok=True)
    tutors.to_csv(folder / "tutors.csv", index=False)
    establishments.to_csv(folder / "establishments.csv", index=False)
    return [str(folder / "tutors.csv"), str(folder / "establishments.csv"), "--max-km", "35", "--lang", "en"]


def test_cli_writes_the_shortfall_by_default_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tutormatch.cli import main

    out = tmp_path / "out"
    assert main(["solve", *_write_frames(tmp_path / "in"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    levers = pd.read_csv(out / "shortfall.csv")
    assert f"shortfall: {len(levers)} verified lever(s) for " in printed
    assert len(levers) > 0


def test_cli_leaves_a_large_shortfall_to_be_asked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tutormatch.cli import main
    from tutormatch.solve import _shortfall

    monkeypatch.setattr(_shortfall, "AUTO_MAX_ESTABLISHMENTS", 10)
    argv = ["solve", *_write_frames(tmp_path / "in")]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert (
        "shortfall not computed: 60 establishments (more than 10; each lever is a re-solve); pass --shortfall"
        in err
    )
    assert not (tmp_path / "a" / "shortfall.csv").exists()
    assert main([*argv, "--out", str(tmp_path / "b"), "--shortfall", "--quiet"]) == 0
    assert (tmp_path / "b" / "shortfall.csv").exists()
