"""The plan files' writers: what the workbook holds, and the euros grouped by tutor."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

import tutormatch as tm
from tutormatch.io._plan_files import _write_xlsx, write_plan_files
from tutormatch.model import CostModel, plan_cost
from tutormatch.model._costs import pair_yearly_km, prior_service_km, tutor_cost

# -- assignment.xlsx -----------------------------------------------------------------


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "uai": ["0130001A", "=SUM(A1)", "0130003C"],
            "tutor_id": ["T1", None, "+T3"],
            "mode": ["onsite", "none", "remote"],
            "distance_km": [1.23456, math.nan, np.float64(12.5)],
            "reason_code": ["", "no_eligible_tutor", ""],
            "load": [2, 0, 1],
        },
        dtype=object,
    )


@pytest.mark.parametrize(("lang", "title"), [("en", "Assignment"), ("fr", "Affectation")])
def test_assignment_xlsx_cells(tmp_path: Path, lang: str, title: str) -> None:
    path = tmp_path / "assignment.xlsx"
    _write_xlsx(_frame(), path, lang)
    book = load_workbook(path)
    assert book.sheetnames == [title]
    sheet = book.active
    assert [c.value for c in sheet[1]] == ["uai", "tutor_id", "mode", "distance_km", "reason_code", "load"]
    assert all(c.font.b for c in sheet[1])
    assert not any(c.font.b for c in sheet[2])
    # Text that looks like a formula stays text.
    assert (sheet["A3"].value, sheet["A3"].data_type) == ("=SUM(A1)", "s")
    assert (sheet["B4"].value, sheet["B4"].data_type) == ("+T3", "s")
    # Decimals are numbers shown with three decimals; integers are plain numbers.
    assert (sheet["D2"].value, sheet["D2"].number_format) == (1.23456, "0.000")
    assert (sheet["D4"].value, sheet["D4"].number_format) == (12.5, "0.000")
    assert (sheet["F2"].value, sheet["F2"].number_format, sheet["F2"].data_type) == (2, "General", "n")
    # None, NaN and "" are blank cells.
    assert [sheet[c].value for c in ("B3", "D3", "E2")] == [None, None, None]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:F4"
    widths = {}
    for dim in sheet.column_dimensions.values():
        widths.update(dict.fromkeys(range(dim.min, dim.max + 1), dim.width))
    # Longest of header and cells + 2, between 10 and 60: the file's own width.
    assert widths == {1: 10.0, 2: 10.0, 3: 10.0, 4: 13.0, 5: 19.0, 6: 10.0}


def test_assignment_xlsx_without_rows(tmp_path: Path) -> None:
    path = tmp_path / "assignment.xlsx"
    _write_xlsx(_frame().iloc[:0], path, "en")
    sheet = load_workbook(path).active
    assert [c.value for c in sheet[1]] == list(_frame().columns)
    assert sheet.max_row == 1
    assert sheet.auto_filter.ref == "A1:F1"


def test_write_plan_files_with_the_summary_given_writes_the_same_files(tmp_path: Path) -> None:
    problem = tm.Problem.from_arrays(np.array([[3.0, 80.0], [50.0, 2.0]]), allow_remote=False)
    plan = tm.solve(problem)
    alone, given_ = tmp_path / "alone", tmp_path / "given"
    alone.mkdir()
    given_.mkdir()
    names = [p.name for p in write_plan_files(plan, alone, lang="fr")]
    assert [p.name for p in write_plan_files(plan, given_, lang="fr", summary=plan.summary())] == names
    for name in names:
        if name.endswith(".xlsx"):  # zip members carry the time of writing
            continue
        assert (given_ / name).read_bytes() == (alone / name).read_bytes(), name


# -- plan_cost groups the pairs by tutor -------------------------------------------------


def _reference(problem: tm.Problem, t: np.ndarray, e: np.ndarray, near: np.ndarray, km: np.ndarray) -> dict:
    """plan_cost's result tutor by tutor, the slow way (a pass over the pairs per tutor)."""
    model = CostModel()
    yearly = pair_yearly_km(problem, e, near, km, model.detour(problem))
    keys, assumed = model.vehicle_class_keys(problem.tutors)
    prior, bonus = prior_service_km(problem.tutors), model.bonus_cents(problem.tutors)
    fixed = model.recruitment_cents(problem.tutors)
    out = {}
    for row in sorted(set(t.tolist())):
        mine = t == row
        out[row] = tutor_cost(
            model,
            yearly_km_by_pair=yearly[mine & near].tolist(),
            n_pairs=int(mine.sum()),
            vehicle_class=keys[row],
            assumed=bool(assumed[row]),
            prior_km=float(prior[row]),
            bonus_cents=int(bonus[row]),
            fixed_cents=int(fixed[row]),
        )
    return out


@given(
    pairs=st.lists(
        st.tuples(
            st.integers(0, 3),
            st.integers(0, 5),
            st.booleans(),
            st.floats(0, 400, allow_nan=False, allow_infinity=False),
        ),
        max_size=12,
    ),
    cia=st.lists(st.sampled_from([math.nan, 0.0, 750.0]), min_size=4, max_size=4),
)
def test_plan_cost_matches_a_pass_per_tutor(
    pairs: list[tuple[int, int, bool, float]], cia: list[float]
) -> None:
    problem = tm.Problem.from_arrays(
        np.full((4, 6), 10.0),
        visits_per_year=[1, 2, 3, 4, 5, 6],
        vehicle_cv=[3, 5, 7, 4],
        cia_eur=cia,
        max_distance_km=math.inf,
        allow_remote=False,
    )
    t = np.array([p[0] for p in pairs], dtype=np.int64)
    e = np.array([p[1] for p in pairs], dtype=np.int64)
    near = np.array([p[2] for p in pairs], dtype=bool)
    km = np.array([p[3] for p in pairs], dtype=np.float64)
    cost = plan_cost(problem, t, e, near, km, CostModel())
    assert list(cost.tutors.items()) == list(_reference(problem, t, e, near, km).items())
