from __future__ import annotations

import time
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.spatial import cKDTree

import tutormatch as tm
from tutormatch.datasets import (
    example_academie,
    example_frames,
    example_problem,
    synthetic_instance,
    write_example,
)
from tutormatch.errors import InputError
from tutormatch.io import is_valid_uai, load_communes, uai_departement

ACADEMIE = {"04", "05", "13", "84"}
STRUCTURES = ["communes", "uniform", "clustered"]


@pytest.fixture(scope="module")
def example() -> tuple[pd.DataFrame, pd.DataFrame]:
    return example_academie()


@pytest.fixture(scope="module")
def communes() -> pd.DataFrame:
    return load_communes()


def _all_uais(tutors: pd.DataFrame, establishments: pd.DataFrame) -> list[str]:
    return establishments["uai"].tolist() + tutors["home_uai"].tolist()


# -- the example académie ------------------------------------------------------


def test_example_is_deterministic(example: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    tutors, establishments = example_academie()
    pd.testing.assert_frame_equal(tutors, example[0])
    pd.testing.assert_frame_equal(establishments, example[1])


def test_example_seed_changes_the_tables(
    example: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    tutors, establishments = example_academie(seed=7)
    assert not tutors.equals(example[0])
    assert not establishments.equals(example[1])


def test_example_sizes_and_supply(example: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    tutors, establishments = example
    assert len(establishments) == 500
    assert len(tutors) == 260
    assert tutors["capacity"].sum() == 520
    assert set(tutors["capacity"]) == {1, 2, 3}
    assert set(tutors["role"]) == {"SG", "SGAC", "FPAC", "AG", "AC"}
    assert set(tutors["wave"]) == {1, 2, 3, 4}
    assert set(establishments["wave"]) == {5, 6, 7, 8}
    assert set(establishments["priority"]) == {1, 2, 3}
    assert set(establishments["need"]) == {"management", "accounting", "both"}
    assert establishments["visits_per_year"].between(4, 8).all()
    assert tutors["vehicle_cv"].between(3, 9).all()
    assert tutors["cia_eur"].dropna().between(300, 900).all()
    assert 0.2 < tutors["cia_eur"].isna().mean() < 0.4
    assert tutors["max_km"].dropna().between(30, 50).all()
    assert (establishments["kind"] == "collège").mean() == pytest.approx(0.6, abs=0.05)


def test_example_uais_are_valid_unique_and_distinct_from_homes(
    example: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    tutors, establishments = example
    uais = _all_uais(tutors, establishments)
    assert all(is_valid_uai(u) for u in uais)
    assert len(set(uais)) == len(uais)
    assert establishments["uai"].is_monotonic_increasing
    assert tutors["tutor_id"].is_unique
    assert tutors["name"].is_unique


def test_example_points_are_in_the_academie(
    example: tuple[pd.DataFrame, pd.DataFrame], communes: pd.DataFrame
) -> None:
    tutors, establishments = example
    departement = communes["departement_code"]
    for frame, uai in ((establishments, "uai"), (tutors, "home_uai")):
        insee_departement = departement.loc[frame["insee"]].to_numpy()
        assert set(insee_departement) == ACADEMIE
        uai_departements = [uai_departement(u) for u in frame[uai]]
        assert uai_departements == insee_departement.tolist()
    # Each point lies near its commune, and its nearest commune is in the
    # same département.
    located = communes.dropna(subset=["lon", "lat"])
    points = establishments[["lon", "lat"]].to_numpy()
    own = located.loc[establishments["insee"], ["lon", "lat"]].to_numpy()
    assert (np.abs(points - own) < 0.1).all()
    scale = np.array([np.cos(np.radians(44.0)), 1.0])
    xy = located[["lon", "lat"]].to_numpy() * scale
    _, nearest = cKDTree(xy).query(points * scale)
    nearest_departement = located["departement_code"].to_numpy()[nearest]
    expected = departement.loc[establishments["insee"]].to_numpy()
    assert (nearest_departement == expected).all()
    # lon/lat have five decimals at most.
    assert np.allclose(points, np.round(points, 5), rtol=0, atol=1e-12)


def test_example_density_follows_population(
    example: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    _, establishments = example
    counts = establishments["insee"].value_counts()
    assert counts.index[0] == "13055"  # Marseille
    assert counts["13055"] > 50
    assert counts["13001"] > 5
    assert counts["84007"] > 5
    mountain = establishments["insee"].str[:2].isin(["04", "05"])
    assert 20 <= mountain.sum() <= 80


def test_agences_comptables_are_small_groups_within_a_departement(
    example: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    _, establishments = example
    groups = establishments.groupby("agence_comptable")
    assert groups["uai"].count().between(1, 10).all()
    assert groups["uai"].count().median() >= 5
    assert (groups["uai"].agg(lambda u: u.str[:3].nunique()) == 1).all()
    prefix = establishments["agence_comptable"].str.split("-").str[1]
    assert (prefix == establishments["uai"].str[:3]).all()
    # An agence comptable switches as a whole.
    assert (groups["wave"].min() == groups["wave"].max()).all()


# -- the shipped files ---------------------------------------------------------


def test_shipped_files_are_the_generator_output(tmp_path: Path) -> None:
    tutors_path, establishments_path = write_example(tmp_path)
    shipped = resources.files("tutormatch").joinpath("data", "example")
    for path in (tutors_path, establishments_path):
        assert shipped.joinpath(path.name).read_bytes() == path.read_bytes()


def test_example_frames_keep_codes_as_text() -> None:
    tutors, establishments = example_frames()
    assert establishments["insee"].str.len().eq(5).all()
    assert establishments["uai"].str.startswith("0").all()
    assert tutors["home_uai"].str.startswith("0").all()
    # Missing numbers are missing, not empty strings.
    assert tutors["cia_eur"].isna().any()
    assert tutors["max_km"].isna().any()


def test_example_frames_are_typed_as_the_generator_makes_them() -> None:
    # They were text columns: numbers as strings, booleans as "True"/"False".
    for shipped, generated in zip(example_frames(), example_academie(), strict=True):
        pd.testing.assert_frame_equal(shipped, generated, check_exact=False, atol=1e-5)
    tutors, establishments = example_frames()
    assert tutors["remote_ok"].dtype == bool
    assert establishments["priority"].dtype == np.int64


def test_write_example_creates_the_directory(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b"
    paths = write_example(folder)
    assert [p.name for p in paths] == ["tutors.csv", "establishments.csv"]
    assert all(p.parent == folder and p.is_file() for p in paths)


def test_example_problem_solves_to_optimality() -> None:
    problem = example_problem()
    assert problem.max_distance_km == 60
    assert (problem.n_tutors, problem.n_establishments) == (260, 500)
    plan = tm.solve(problem)
    assert plan.status.is_optimal
    accounted = plan.pairs["uai"].tolist() + plan.uncovered["uai"].tolist()
    assert sorted(accounted) == sorted(problem.establishments.id.tolist())
    remote = (plan.pairs["mode"] == "remote").sum()
    assert remote + len(plan.uncovered) > 0
    # Some mountain establishments have no eligible tutor within the limit.
    onsite = set(problem.candidates.establishment.tolist())
    far = [i for i in range(problem.n_establishments) if i not in onsite]
    assert far
    assert {problem.establishments.departement[i] for i in far} & {"04", "05"}


def test_example_problem_passes_options() -> None:
    assert example_problem(max_distance_km=30).max_distance_km == 30


def test_top_level_reexports() -> None:
    assert tm.example_problem is example_problem
    assert tm.example_frames is example_frames
    assert "datasets" in tm.__all__
    assert sorted(tm.datasets.__all__) == tm.datasets.__all__
    assert dir(tm.datasets) == tm.datasets.__all__


# -- synthetic instances -------------------------------------------------------


@pytest.mark.parametrize("structure", STRUCTURES)
def test_synthetic_is_deterministic(structure: str) -> None:
    first = synthetic_instance(300, 150, structure=structure, seed=3)
    again = synthetic_instance(300, 150, structure=structure, seed=3)
    other = synthetic_instance(300, 150, structure=structure, seed=4)
    for a, b in zip(first, again, strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert not first[1].equals(other[1])


@pytest.mark.parametrize("structure", STRUCTURES)
def test_synthetic_national_is_fast_and_valid(structure: str) -> None:
    synthetic_instance(10, 5, structure=structure)  # load the gazetteer first
    start = time.perf_counter()
    tutors, establishments = synthetic_instance(8000, 4000, structure=structure, seed=1)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0
    assert (len(tutors), len(establishments)) == (4000, 8000)
    uais = _all_uais(tutors, establishments)
    assert len(set(uais)) == len(uais)
    assert all(is_valid_uai(u) for u in uais)
    assert tutors["tutor_id"].is_unique
    assert (tutors["capacity"] == 2).all()
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=60)
    assert (problem.n_tutors, problem.n_establishments) == (4000, 8000)


def test_synthetic_communes_stay_in_the_chosen_departements(
    communes: pd.DataFrame,
) -> None:
    tutors, establishments = synthetic_instance(400, 200, departements=["04", "05"], seed=2)
    for frame, uai in ((establishments, "uai"), (tutors, "home_uai")):
        assert set(communes.loc[frame["insee"], "departement_code"]) <= {"04", "05"}
        assert set(frame[uai].str[:3]) <= {"004", "005"}


def test_synthetic_uniform_stays_in_the_box() -> None:
    tutors, establishments = synthetic_instance(500, 100, structure="uniform")
    for frame in (tutors, establishments):
        assert frame["lon"].between(-4.5, 7.5).all()
        assert frame["lat"].between(43.0, 50.5).all()


def test_synthetic_corsica_prefixes() -> None:
    _, establishments = synthetic_instance(50, 0, departements=["2A", "2B"])
    assert set(establishments["uai"].str[:3]) == {"620", "720"}


def test_synthetic_flags_drop_columns() -> None:
    tutors, establishments = synthetic_instance(20, 10, waves=False, roles=False, capacity=3)
    assert "wave" not in tutors.columns
    assert "wave" not in establishments.columns
    assert "role" not in tutors.columns
    assert "need" not in establishments.columns
    assert (tutors["capacity"] == 3).all()
    full = synthetic_instance(20, 10, capacity=3)
    pd.testing.assert_frame_equal(tutors, full[0].drop(columns=["role", "wave"]))


def test_synthetic_empty_tables() -> None:
    tutors, establishments = synthetic_instance(0, 0)
    assert len(tutors) == 0
    assert len(establishments) == 0
    assert {"tutor_id", "capacity"} <= set(tutors.columns)
    assert {"uai", "lon", "lat"} <= set(establishments.columns)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"n_establishments": -1, "n_tutors": 5},
            r"n_establishments must be >= 0; got -1",
        ),
        ({"n_establishments": 5, "n_tutors": -2}, r"n_tutors must be >= 0; got -2"),
        (
            {"n_establishments": 5.5, "n_tutors": 2},
            r"n_establishments must be a whole number",
        ),
        (
            {"n_establishments": 5, "n_tutors": 2, "capacity": -1},
            r"capacity must be >= 0",
        ),
        (
            {"n_establishments": 5, "n_tutors": 2, "structure": "grid"},
            r"structure must be one of .*'uniform'",
        ),
        (
            {"n_establishments": 5, "n_tutors": 2, "departements": ["13", "99"]},
            r"unknown département code\(s\) '99'",
        ),
        (
            {"n_establishments": 5, "n_tutors": 2, "departements": []},
            r"at least one département",
        ),
        (
            {"n_establishments": 10_000, "n_tutors": 0, "departements": ["04"]},
            r"too many establishments and tutors in département prefix 004",
        ),
    ],
)
def test_synthetic_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        synthetic_instance(**kwargs)  # type: ignore[arg-type]
