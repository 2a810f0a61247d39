"""Excel workbooks as inputs: the same tables as CSV files, rows named by their sheet row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

import tutormatch as tm
from tutormatch.cli import main
from tutormatch.errors import InputError
from tutormatch.io import make_uai, read_table, read_xlsx_table

TUTORS = [
    ["tutor_id", "lon", "lat", "capacity", "remote_ok"],
    ["T1", 5.0, 43.5, 1, True],
    ["T2", 5.3, 43.5, 1, False],
]
ESTABLISHMENTS = [
    ["uai", "lon", "lat", "priority"],
    [make_uai("0130002"), 5.31, 43.5, 2],
    [make_uai("0130001"), 5.01, 43.5, 1.5],
    [make_uai("0130003"), 7.0, 43.5, 1],
]


def workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_cells_read_as_a_csv_export_would_write_them(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "t.xlsx",
        {
            "Feuil1": [
                [],
                ["id", "n", "x", "ok", "day", "empty"],
                ["A", 2, 2.5, True, dt.datetime(2025, 1, 6), None],
            ]
        },
    )
    frame, description = read_xlsx_table(path)
    assert description == "XLSX, sheet 'Feuil1'"
    assert frame.columns.tolist() == ["id", "n", "x", "ok", "day", "empty"]
    assert frame.index.tolist() == [3]  # the sheet's row number
    assert frame.loc[3].tolist() == ["A", "2", "2.5", "true", "2025-01-06", ""]


def test_problem_from_workbooks_equals_problem_from_csv(tmp_path: Path) -> None:
    t = workbook(tmp_path / "tutors.xlsx", {"Tuteurs": TUTORS})
    e = workbook(tmp_path / "establishments.xlsx", {"EPLE": ESTABLISHMENTS})
    pd.DataFrame(TUTORS[1:], columns=TUTORS[0]).to_csv(tmp_path / "tutors.csv", index=False)
    pd.DataFrame(ESTABLISHMENTS[1:], columns=ESTABLISHMENTS[0]).to_csv(
        tmp_path / "establishments.csv", index=False
    )
    from_xlsx = tm.solve(tm.Problem.from_csv(t, e))
    from_csv = tm.solve(tm.Problem.from_csv(tmp_path / "tutors.csv", tmp_path / "establishments.csv"))
    pd.testing.assert_frame_equal(from_xlsx.table(), from_csv.table())
    assert from_xlsx.problem.sources == {
        "tutors.xlsx": "XLSX, sheet 'Tuteurs'",
        "establishments.xlsx": "XLSX, sheet 'EPLE'",
    }


def test_cli_solves_workbooks_with_sheet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = workbook(tmp_path / "tutors.xlsx", {"Notes": [["x"]], "Données": TUTORS})
    e = workbook(tmp_path / "establishments.xlsx", {"Données": ESTABLISHMENTS})
    out = tmp_path / "plan"
    assert main(["solve", str(t), str(e), "--sheet", "Données", "--out", str(out)]) == 0
    assert "read tutors.xlsx: XLSX, sheet 'Données'" in capsys.readouterr().out


def test_a_bad_value_is_named_by_its_sheet_row(tmp_path: Path) -> None:
    rows = [row.copy() for row in TUTORS]
    rows[2][3] = -1
    t = workbook(tmp_path / "tutors.xlsx", {"Tuteurs": [[], *rows]})
    e = workbook(tmp_path / "establishments.xlsx", {"EPLE": ESTABLISHMENTS})
    with pytest.raises(
        InputError, match=r"column 'capacity' must be a whole number from 0 to 10,000.*row 4 \(tutor_id T2\)"
    ):
        tm.Problem.from_csv(t, e)


def test_several_sheets_need_sheet(tmp_path: Path) -> None:
    path = workbook(tmp_path / "t.xlsx", {"A": TUTORS, "B": TUTORS})
    with pytest.raises(InputError, match=r"t.xlsx: the workbook has 2 sheets \('A', 'B'\); say which one"):
        read_xlsx_table(path)
    assert read_xlsx_table(path, sheet="B")[1] == "XLSX, sheet 'B'"


def test_an_unknown_sheet_lists_the_sheets(tmp_path: Path) -> None:
    path = workbook(tmp_path / "t.xlsx", {"A": TUTORS, "B": TUTORS})
    with pytest.raises(InputError, match=r"t.xlsx: no sheet named 'C'; the workbook has 'A', 'B'"):
        read_xlsx_table(path, sheet="C")


def test_a_single_sheet_is_read_whatever_sheet_says(tmp_path: Path) -> None:
    path = workbook(tmp_path / "t.xlsx", {"A": TUTORS})
    assert read_xlsx_table(path, sheet="Données")[1] == "XLSX, sheet 'A'"


def test_an_empty_sheet_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path / "t.xlsx", {"A": []})
    with pytest.raises(InputError, match=r"t.xlsx \(sheet 'A'\): the sheet is empty"):
        read_xlsx_table(path)


def test_a_repeated_column_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path / "t.xlsx", {"A": [["id", "lon", "id"], ["T1", 1, 2]]})
    with pytest.raises(InputError, match=r"column 'id' appears twice in the header \(line 1"):
        read_xlsx_table(path)


def test_a_value_beyond_the_header_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path / "t.xlsx", {"A": [["id", "lon"], ["T1", 1, "stray"]]})
    with pytest.raises(InputError, match=r"row 2 has a value in column 3 \('stray'\) beyond the header's 2"):
        read_xlsx_table(path)


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_text("tutor_id,lon\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"t.xlsx: cannot read this file as an Excel workbook"):
        read_table(path)


def test_a_missing_workbook_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"t.xlsx: cannot read the file \(no such file\)"):
        read_table(tmp_path / "t.xlsx")


def test_old_excel_files_are_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "t.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputError, match=r"t.xls: tutormatch reads .xlsx workbooks and CSV files, not .xls"):
        read_table(path)
