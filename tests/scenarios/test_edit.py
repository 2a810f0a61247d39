import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import random_frames

import tutormatch as tm
from tutormatch.scenarios import with_capacity, with_later_waves, with_tutors, without_tutors


def same_plan(a: tm.Assignment, b: tm.Assignment) -> None:
    pd.testing.assert_frame_equal(a.pairs, b.pairs)
    pd.testing.assert_frame_equal(a.uncovered, b.uncovered)
    assert a.objective == pytest.approx(b.objective)


@pytest.fixture
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    return random_frames(30, 50, seed=11)


def test_withdrawal_is_the_problem_without_their_rows(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    tutors, establishments = frames
    gone = ["T0003", "T0017", "T0029"]
    base = tm.Problem.from_frames(tutors, establishments, max_distance_km=40)
    edited = tm.Problem.from_frames(tutors[~tutors.tutor_id.isin(gone)], establishments, max_distance_km=40)
    variant = without_tutors(base, gone)
    assert variant.n_tutors == 27
    assert base.n_tutors == 30  # left as it was
    same_plan(tm.solve(variant), tm.solve(edited))


def test_added_tutors_are_the_problem_with_their_rows(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    tutors, establishments = frames
    # Recruits whose ids sort between the others: the table stays sorted by id.
    new = tutors.iloc[:3].assign(tutor_id=["T0005b", "A0001", "Z0001"], lon=[5.0, 5.5, 6.0])
    base = tm.Problem.from_frames(tutors, establishments, max_distance_km=40)
    whole = tm.Problem.from_frames(pd.concat([tutors, new]), establishments, max_distance_km=40)
    variant = with_tutors(base, new.assign(shoe_size=42))
    assert variant.tutors.id.tolist() == sorted(variant.tutors.id.tolist())
    assert variant.columns["added tutors"]["ignored"] == ["shoe_size"]
    assert variant.columns["tutors"] == base.columns["tutors"]
    same_plan(tm.solve(variant), tm.solve(whole))


def test_fixed_pairs_follow_their_tutor(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    tutors, establishments = frames
    base = tm.Problem.from_frames(tutors, establishments, max_distance_km=math.inf)
    plan = tm.solve(base)
    kept = plan.pairs.iloc[[0, 1]][["tutor_id", "uai"]]
    fixed = tm.Problem.from_frames(tutors, establishments, max_distance_km=math.inf, fixed_pairs=kept)
    first, second = kept.tutor_id.tolist()
    other = next(t for t in tutors.tutor_id if t not in (first, second))
    variant = without_tutors(fixed, [other])
    ids = variant.tutors.id[variant.fixed[:, 0]].tolist()
    assert sorted(ids) == sorted([first, second])
    alone = without_tutors(fixed, [first])
    assert alone.tutors.id[alone.fixed[:, 0]].tolist() == [second]


def test_capacity_for_all_and_per_tutor(small_problem: tm.Problem) -> None:
    assert set(with_capacity(small_problem, 3).tutors.capacity.tolist()) == {3}
    one = with_capacity(small_problem, {"T0004": 0})
    assert one.tutors.capacity[4] == 0
    assert np.array_equal(np.delete(one.tutors.capacity, 4), np.delete(small_problem.tutors.capacity, 4))
    assert "T0004" not in tm.solve(one).pairs.tutor_id.tolist()


def test_later_wave_changes_eligibility(small_problem: tm.Problem) -> None:
    e = small_problem.establishments
    uai = str(e.id[0])
    later = with_later_waves(small_problem, {uai: 99})
    assert later.establishments.wave[0] == 99
    assert later.establishments.wave[1:].tolist() == e.wave[1:].tolist()


def test_unknown_tutor_is_named(small_problem: tm.Problem) -> None:
    with pytest.raises(tm.InputError, match=r"withdraw: unknown tutor NOPE; give ids"):
        without_tutors(small_problem, ["T0001", "NOPE"])


def test_added_tutor_id_clash(small_problem: tm.Problem) -> None:
    new = pd.DataFrame({"tutor_id": ["T0001"], "lon": [5.0], "lat": [43.5]})
    with pytest.raises(tm.InputError, match=r"added tutors: tutor_id T0001 already in the problem"):
        with_tutors(small_problem, new)


def test_added_tutors_bad_table(small_problem: tm.Problem) -> None:
    new = pd.DataFrame({"tutor_id": ["NEW"], "lon": [5.0], "lat": [43.5], "capacity": [-1]})
    with pytest.raises(tm.InputError, match=r"added tutors.*capacity"):
        with_tutors(small_problem, new)


def test_tutors_cannot_join_a_matrix_problem() -> None:
    problem = tm.Problem.from_arrays(np.array([[10.0, 30.0]]))
    new = pd.DataFrame({"tutor_id": ["NEW"], "lon": [5.0], "lat": [43.5]})
    with pytest.raises(tm.InputError, match=r"cannot be added to a problem built from a distance matrix"):
        with_tutors(problem, new)


def test_withdrawal_from_a_matrix_problem_keeps_the_other_rows() -> None:
    problem = tm.Problem.from_arrays(np.array([[10.0, 30.0], [5.0, 50.0]]), capacity=1)
    variant = without_tutors(problem, [problem.tutors.id[1]])
    assert variant.distance_matrix.toarray().tolist() == [[10.0, 30.0]]


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_capacity_must_be_an_integer(small_problem: tm.Problem, bad: object) -> None:
    with pytest.raises(tm.InputError, match=r"capacity must be an integer >= 0"):
        with_capacity(small_problem, bad)  # type: ignore[arg-type]


def test_capacity_below_min_load() -> None:
    tutors, establishments = random_frames(5, 8, seed=1)
    tutors["min_load"] = [1, 0, 0, 0, 0]
    problem = tm.Problem.from_frames(tutors, establishments, max_distance_km=math.inf)
    with pytest.raises(tm.InputError, match=r"capacity: below the minimum load of tutor T0000"):
        with_capacity(problem, {"T0000": 0})


def test_wave_must_be_later(small_problem: tm.Problem) -> None:
    e = small_problem.establishments
    with pytest.raises(tm.InputError, match=r"later_waves: .* is in wave .* is not a later one"):
        with_later_waves(small_problem, {str(e.id[0]): float(e.wave[0])})


def test_wave_must_be_a_number(small_problem: tm.Problem) -> None:
    with pytest.raises(tm.InputError, match=r"the wave of .* must be a number"):
        with_later_waves(small_problem, {str(small_problem.establishments.id[0]): "soon"})


def test_wave_needs_a_wave_to_move_from() -> None:
    tutors, establishments = random_frames(5, 8, seed=1)
    problem = tm.Problem.from_frames(tutors, establishments.drop(columns="wave"), max_distance_km=60)
    with pytest.raises(tm.InputError, match=r"has no wave to move from"):
        with_later_waves(problem, {str(problem.establishments.id[0]): 5})


def test_unknown_establishment_is_named(small_problem: tm.Problem) -> None:
    with pytest.raises(tm.InputError, match=r"later_waves: unknown establishment 0000000X"):
        with_later_waves(small_problem, {"0000000X": 9})


def test_problem_methods_are_the_functions(small_problem: tm.Problem) -> None:
    near = small_problem.replace(max_distance_km=20)
    assert near.max_distance_km == 20
    assert small_problem.max_distance_km == 40
    assert small_problem.without_tutors(["T0001"]).n_tutors == 29
    assert set(small_problem.with_capacity(1).tutors.capacity.tolist()) == {1}
    uai = str(small_problem.establishments.id[0])
    assert small_problem.with_later_waves({uai: 50}).establishments.wave[0] == 50
    new = pd.DataFrame({"tutor_id": ["NEW"], "lon": [5.0], "lat": [43.5]})
    assert small_problem.with_tutors(new).n_tutors == 31


def test_replace_names_the_unknown_setting(small_problem: tm.Problem) -> None:
    with pytest.raises(tm.InputError, match=r"Problem.replace: unknown setting 'radius'; valid: tutors"):
        small_problem.replace(radius=3)


def test_replace_validates_again(small_problem: tm.Problem) -> None:
    with pytest.raises(tm.InputError, match=r"max_distance_km must be a number from 0 to 40,000 km"):
        small_problem.replace(max_distance_km=-1)


@settings(max_examples=25)
@given(
    seed=st.integers(0, 2**16),
    gone=st.sets(st.integers(0, 11), max_size=6),
    added=st.sets(st.integers(0, 11), max_size=4),
)
def test_variant_solves_as_the_edited_frames(seed: int, gone: set[int], added: set[int]) -> None:
    tutors, establishments = random_frames(12, 18, seed=seed)
    # Tutors held back from the base and added by the variant, others withdrawn.
    held = tutors.iloc[sorted(added)]
    base_rows = tutors.drop(index=held.index)
    withdrawn = tutors.tutor_id.iloc[sorted(gone - added)].tolist()
    base = tm.Problem.from_frames(base_rows, establishments, max_distance_km=50)
    variant = (
        with_tutors(without_tutors(base, withdrawn), held) if len(held) else without_tutors(base, withdrawn)
    )
    edited = tm.Problem.from_frames(
        tutors[~tutors.tutor_id.isin(withdrawn)], establishments, max_distance_km=50
    )
    assert variant.tutors.id.tolist() == edited.tutors.id.tolist()
    same_plan(tm.solve(variant), tm.solve(edited))
