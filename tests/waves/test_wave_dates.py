"""Waves given as months: parsing, storage, the eligibility rule, and the errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import tutormatch as tm
from tutormatch.io import make_uai
from tutormatch.model._waves import format_wave, parse_wave_cell


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2025-01", 2025 * 12),
        ("2025-9", 2025 * 12 + 8),
        ("2025-09-01", 2025 * 12 + 8),
        ("09/2025", 2025 * 12 + 8),
        ("01/09/2025", 2025 * 12 + 8),
        ("janvier 2025", 2025 * 12),
        ("Février 2026", 2026 * 12 + 1),
        ("août 2026", 2026 * 12 + 7),
        ("sept. 2026", 2026 * 12 + 8),
        ("January 2027", 2027 * 12),
        (dt.date(2025, 9, 1), 2025 * 12 + 8),
        (pd.Timestamp("2026-01-15"), 2026 * 12),
        (pd.Period("2026-09", freq="M"), 2026 * 12 + 8),
    ],
)
def test_months_are_parsed(cell: object, expected: int) -> None:
    assert parse_wave_cell(cell) == ("date", float(expected))


@pytest.mark.parametrize("cell", ["3", 3, 2.0])
def test_numbers_stay_numbers(cell: object) -> None:
    assert parse_wave_cell(cell)[0] == "number"


def test_format_round_trip() -> None:
    assert format_wave(parse_wave_cell("2026-09")[1] or 0.0, is_date=True) == "2026-09"


def _frames(
    tutor_waves: list[object], establishment_waves: list[object]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    tutors = pd.DataFrame(
        {
            "tutor_id": [f"T{i}" for i in range(len(tutor_waves))],
            "lon": 5.4,
            "lat": 43.3,
            "wave": pd.Series(tutor_waves, dtype=object),
        }
    )
    establishments = pd.DataFrame(
        {
            "uai": [make_uai(f"013{i:04d}") for i in range(len(establishment_waves))],
            "lon": 5.41,
            "lat": 43.31,
            "vague": pd.Series(establishment_waves, dtype=object),
        }
    )
    return tutors, establishments


def test_dates_keep_the_earlier_wave_rule() -> None:
    # T0 switched in 2024-09, T1 in 2025-01: only T0 may tutor the 2025-01 establishment.
    tutors, establishments = _frames(["09/2024", "janvier 2025"], ["2025-01", "2025-09"])
    problem = tm.Problem.from_frames(tutors, establishments)
    assert problem.establishments.wave_is_date
    assert problem.tutors.wave_is_date
    assert problem.establishments.wave.tolist() == [2025 * 12, 2025 * 12 + 8]
    plan = tm.solve(tm.Problem.from_frames(tutors.assign(capacity=[0, 1]), establishments))
    assert plan.pairs[["tutor_id", "uai"]].to_numpy().tolist() == [["T1", establishments["uai"][1]]]
    assert plan.uncovered["uai"].tolist() == [establishments["uai"][0]]


def test_date_orders_like_the_numbers_did() -> None:
    months = ["2024-01", "2024-09", "2025-01", "2025-09"]
    parsed = [parse_wave_cell(m)[1] for m in months]
    assert np.all(np.diff(np.asarray(parsed, dtype=float)) > 0)


def test_error_mixed_kinds_in_a_column() -> None:
    tutors, establishments = _frames(["2024-09"], ["2025-01", "3"])
    with pytest.raises(
        tm.InputError, match=r"column 'vague' mixes months \(e\.g\. 2025-01\) and wave numbers"
    ):
        tm.Problem.from_frames(tutors, establishments)


def test_error_bad_month() -> None:
    tutors, establishments = _frames(["2024-09"], ["2025-13"])
    with pytest.raises(tm.InputError, match=r"column 'vague' must be a month \(YYYY-MM, MM/YYYY"):
        tm.Problem.from_frames(tutors, establishments)


def test_error_unknown_month_name() -> None:
    tutors, establishments = _frames(["2024-09"], ["brumaire 2025"])
    with pytest.raises(tm.InputError, match=r"'brumaire 2025' on row 0"):
        tm.Problem.from_frames(tutors, establishments)


def test_error_tables_of_different_kinds() -> None:
    tutors, establishments = _frames([2], ["2025-01"])
    with pytest.raises(
        tm.InputError, match=r"tutors: column 'wave' gives waves as numbers but the establishments"
    ):
        tm.Problem.from_frames(tutors, establishments)


def test_number_waves_unchanged() -> None:
    tutors, establishments = _frames([1, 2], [3, 4])
    problem = tm.Problem.from_frames(tutors, establishments)
    assert not problem.establishments.wave_is_date
    assert problem.establishments.wave.tolist() == [3.0, 4.0]


def test_csv_months(tmp_path) -> None:  # type: ignore[no-untyped-def]
    tutors, establishments = _frames(["2024-09"], ["janvier 2025"])
    tutors.to_csv(tmp_path / "t.csv", index=False)
    establishments.to_csv(tmp_path / "e.csv", sep=";", index=False)
    problem = tm.Problem.from_csv(tmp_path / "t.csv", tmp_path / "e.csv")
    assert problem.establishments.wave.tolist() == [2025 * 12]


def test_error_fixed_pair_names_months() -> None:
    tutors, establishments = _frames(["2025-09"], ["2025-01"])
    uai = establishments["uai"][0]
    with pytest.raises(
        tm.InputError, match=r"tutor T0's wave \(2025-09\) is not earlier than .* \(2025-01\)"
    ):
        tm.Problem.from_frames(tutors, establishments, fixed_pairs=[("T0", uai)])
