"""CSV dialects: detection by read_csv_table and the same problem from every dialect."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tutormatch as tm
from tutormatch.io import CsvDialect, make_uai, read_csv_table

U1, U2, U3 = make_uai("0130001"), make_uai("0840002"), make_uai("0050003")

ESTABLISHMENTS = [
    ["uai", "name", "kind", "lon", "lat", "wave", "priority", "need", "remote_ok"],
    [
        U1,
        "Collège Frédéric Mistral",
        "CLG",
        5.36943,
        43.2976,
        3,
        1.5,
        "management",
        "oui",
    ],
    [
        U2,
        "Lycée Théodore Aubanel, Avignon",
        "LYC",
        4.80559,
        43.94929,
        4,
        2,
        "both",
        "non",
    ],
    [U3, "LP Émile Zola", "LP", 6.0798, 44.55877, 4, 0.75, "accounting", ""],
]
TUTORS = [
    [
        "tutor_id",
        "name",
        "lon",
        "lat",
        "insee",
        "home_uai",
        "capacity",
        "wave",
        "role",
        "max_km",
    ],
    ["T1", "Hélène Dupré", 5.40, 43.31, "", "", 2, 1, "SGAC", 45.5],
    ["T2", "François Nègre", "", "", "84007", "", 1, 2, "AC", ""],
    ["T3", "Zoé Lefèvre", "", "", "", U1, 3, 2, "sg", ""],
]
FIXED = [["tutor_id", "uai"], ["T1", U1]]

# (encoding, separator, decimal, line ending): what spreadsheets write in France.
DIALECTS = [
    ("utf-8", ",", ".", "\n"),
    ("utf-8-sig", ";", ",", "\r\n"),
    ("cp1252", ";", ",", "\r\n"),
    ("cp1252", ",", ".", "\n"),
    ("utf-8", ";", ".", "\n"),
    ("utf-8-sig", "\t", ",", "\r\n"),
    ("cp1252", ",", ",", "\r\n"),  # decimal commas in quoted cells
]


def _cell(value: object, decimal: str) -> str:
    if isinstance(value, float):
        return repr(value).replace(".", decimal)
    return str(value)


def csv_text(rows: list[list[object]], *, sep: str = ",", decimal: str = ".", newline: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator=newline)
    writer.writerows([[_cell(v, decimal) for v in row] for row in rows])
    return buffer.getvalue()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def write_dialect(
    tmp_path: Path,
    name: str,
    rows: list[list[object]],
    dialect: tuple[str, str, str, str],
) -> Path:
    encoding, sep, decimal, newline = dialect
    text = csv_text(rows, sep=sep, decimal=decimal, newline=newline)
    return write(tmp_path / name, text, encoding)


def dialect_id(dialect: tuple[str, str, str, str]) -> str:
    encoding, sep, decimal, newline = dialect
    seps = {",": "comma", ";": "semicolon", "\t": "tab"}
    mark = "comma" if decimal == "," else "point"
    ending = "crlf" if newline == "\r\n" else "lf"
    return f"{encoding}-{seps[sep]}-decimal{mark}-{ending}"


def frames_problem() -> tm.Problem:
    tutors = pd.DataFrame(TUTORS[1:], columns=TUTORS[0])
    establishments = pd.DataFrame(ESTABLISHMENTS[1:], columns=ESTABLISHMENTS[0])
    fixed = pd.DataFrame(FIXED[1:], columns=FIXED[0])
    return tm.Problem.from_frames(tutors, establishments, fixed_pairs=fixed)


def assert_same_problem(observed: tm.Problem, expected: tm.Problem) -> None:
    for table in ("tutors", "establishments"):
        o, e = getattr(observed, table), getattr(expected, table)
        for name in ("id", "name", "lon", "lat", "wave", "remote_ok"):
            np.testing.assert_array_equal(getattr(o, name), getattr(e, name), err_msg=f"{table}.{name}")
    for name in ("capacity", "role", "max_km", "home_uai", "home"):
        np.testing.assert_array_equal(
            getattr(observed.tutors, name), getattr(expected.tutors, name), err_msg=name
        )
    for name in ("priority", "need", "kind", "departement", "visits_per_year"):
        np.testing.assert_array_equal(
            getattr(observed.establishments, name),
            getattr(expected.establishments, name),
            err_msg=name,
        )
    np.testing.assert_array_equal(observed.fixed, expected.fixed)


# -- detection --------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS, ids=dialect_id)
def test_read_csv_table_detects_the_dialect(tmp_path: Path, dialect: tuple[str, str, str, str]) -> None:
    encoding, sep, decimal, _ = dialect
    path = write_dialect(tmp_path, "establishments.csv", ESTABLISHMENTS, dialect)
    frame, detected = read_csv_table(path)
    assert detected == CsvDialect(encoding, sep, decimal)
    assert list(frame.columns) == ESTABLISHMENTS[0]
    assert frame.index.tolist() == [2, 3, 4]
    assert frame.loc[2, "name"] == "Collège Frédéric Mistral"
    assert frame.loc[3, "name"] == "Lycée Théodore Aubanel, Avignon"
    assert frame.loc[2, "lon"] == f"5{decimal}36943"


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (CsvDialect("utf-8", ",", "."), "UTF-8, ','-separated, decimal point"),
        (
            CsvDialect("utf-8-sig", ";", ","),
            "UTF-8 with BOM, ';'-separated, decimal comma",
        ),
        (CsvDialect("cp1252", ";", ","), "Windows-1252, ';'-separated, decimal comma"),
        (CsvDialect("utf-8", "\t", "."), "UTF-8, tab-separated, decimal point"),
    ],
)
def test_dialect_describe(dialect: CsvDialect, expected: str) -> None:
    assert dialect.describe() == expected


def test_bom_is_not_part_of_the_first_column_name(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", f"uai;lon\n{U1};5,3\n", "utf-8-sig")
    frame, dialect = read_csv_table(path)
    assert list(frame.columns) == ["uai", "lon"]
    assert dialect.encoding == "utf-8-sig"


def test_decimal_point_wins_when_the_file_mixes_both(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", "a;b\n1,5;2.5\n")
    assert read_csv_table(path)[1].decimal == "."


def test_integers_only_give_a_decimal_point(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", "a;b\n1;2\n")
    assert read_csv_table(path)[1] == CsvDialect("utf-8", ";", ".")


def test_separator_inside_quotes_in_the_header_is_ignored(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", '"uai";"nom, prénom";"lon"\nX;"Dupont, Jean";5,3\n')
    frame, dialect = read_csv_table(path)
    assert dialect.separator == ";"
    assert list(frame.columns) == ["uai", "nom, prénom", "lon"]


def test_single_column_file(tmp_path: Path) -> None:
    frame, dialect = read_csv_table(write(tmp_path / "e.csv", f"uai\n{U1}\n{U2}\n"))
    assert frame["uai"].tolist() == [U1, U2]
    assert dialect.separator == ","


# -- lines, blanks and ragged rows ----------------------------------------------


def test_line_numbers_count_blank_lines_and_crlf(tmp_path: Path) -> None:
    text = f"\r\nuai;lon;lat\r\n{U1};5,3;43,2\r\n\r\n   \r\n;;\r\n{U2};4,8;43,9\r\n\r\n"
    frame, _ = read_csv_table(write(tmp_path / "e.csv", text))
    assert frame.index.tolist() == [3, 7]
    assert frame.index.name == "line"
    assert frame["uai"].tolist() == [U1, U2]


def test_quoted_cell_over_two_lines_keeps_the_next_line_number(tmp_path: Path) -> None:
    text = f'uai;name\n{U1};"Collège\nMistral"\n{U2};Aubanel\n'
    frame, _ = read_csv_table(write(tmp_path / "e.csv", text))
    assert frame.index.tolist() == [2, 4]
    assert frame.loc[2, "name"] == "Collège\nMistral"


def test_cells_and_names_are_stripped_and_blanks_are_empty_strings(
    tmp_path: Path,
) -> None:
    frame, _ = read_csv_table(write(tmp_path / "e.csv", f" uai ; lon \n {U1} ;  \n"))
    assert list(frame.columns) == ["uai", "lon"]
    assert frame.loc[2].tolist() == [U1, ""]


def test_short_rows_are_padded_with_empty_cells(tmp_path: Path) -> None:
    frame, _ = read_csv_table(write(tmp_path / "e.csv", f"uai;lon;lat\n{U1};5,3\n"))
    assert frame.loc[2].tolist() == [U1, "5,3", ""]


def test_trailing_separators_leave_no_column(tmp_path: Path) -> None:
    frame, _ = read_csv_table(write(tmp_path / "e.csv", f"uai;lon;\n{U1};5,3;\n{U2};4,8;;\n"))
    assert list(frame.columns) == ["uai", "lon"]
    assert frame["lon"].tolist() == ["5,3", "4,8"]


def test_header_only_file_gives_an_empty_table(tmp_path: Path) -> None:
    frame, dialect = read_csv_table(write(tmp_path / "e.csv", "uai;lon;lat\r\n"))
    assert list(frame.columns) == ["uai", "lon", "lat"]
    assert len(frame) == 0
    assert dialect.separator == ";"


# -- file-level errors ----------------------------------------------------------


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(
        tm.InputError,
        match=r"^nothere\.csv: cannot read the file \(.+\)\. Check the path\.$",
    ):
        read_csv_table(tmp_path / "nothere.csv")


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(tm.InputError, match=r"^e\.csv: the file is empty \(not even a header line\)"):
        read_csv_table(write(tmp_path / "e.csv", "\n\n"))


def test_duplicate_header_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(
        tm.InputError,
        match=re.escape("e.csv: column 'uai' appears twice in the header (line 1, columns 1 and 3)"),
    ) as info:
        read_csv_table(write(tmp_path / "e.csv", f"uai;lon;uai\n{U1};5;{U1}\n"))
    assert info.value.rows == (1,)
    assert info.value.column == "uai"


def test_line_with_more_values_than_the_header_is_refused(tmp_path: Path) -> None:
    text = f"uai;lon;lat\n{U1};5;43\n\n{U2};4,8;43;9\n"
    with pytest.raises(
        tm.InputError,
        match=re.escape(
            "e.csv: line 4 has 4 fields but the header has 3. A value probably contains the separator ';'"
        ),
    ) as info:
        read_csv_table(write(tmp_path / "e.csv", text))
    assert info.value.rows == (4,)


@pytest.mark.parametrize(
    "raw",
    [
        "uai;lon\n".encode("utf-16"),
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
    ],
    ids=["utf16", "xlsx"],
)
def test_binary_or_utf16_file_is_refused(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(raw)
    with pytest.raises(
        tm.InputError,
        match=r"^e\.csv: line 1 holds a NUL byte, so this is not a CSV text file .* "
        r"Save it again as 'CSV UTF-8'",
    ):
        read_csv_table(path)


def test_a_nul_byte_in_the_middle_names_its_line(tmp_path: Path) -> None:
    # The message said "this is not a CSV text file" without a line.
    path = tmp_path / "e.csv"
    path.write_bytes(f"uai;name\n{U1};a\n{U2};b\x00c\n".encode())
    with pytest.raises(tm.InputError, match=r"^e\.csv: line 3 holds a NUL byte") as info:
        read_csv_table(path)
    assert info.value.rows == (3,)


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])
def test_a_huge_value_names_its_line(tmp_path: Path, quoted: bool) -> None:
    # A 10 MB value was blamed on the double quotes.
    value = "x" * 10_000_000
    cell = f'"{value}"' if quoted else value
    path = write(tmp_path / "e.csv", f"uai;name\n{U1};a\n{U2};{cell}\n")
    with pytest.raises(
        tm.InputError,
        match=re.escape("e.csv: line 3 holds a value longer than 131,072 characters"),
    ) as info:
        read_csv_table(path)
    assert info.value.rows == (3,)


def test_undecodable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    # 0x81 and 0x8d are undefined in Windows-1252 and invalid in UTF-8.
    path.write_bytes(b"uai;name\nX;\x81\x8d\n")
    with pytest.raises(
        tm.InputError,
        match=r"^e\.csv: cannot read the file as UTF-8 or Windows-1252: byte 11 \(on line 2\) is "
        r"invalid\. Save it again as 'CSV UTF-8' from your spreadsheet\.$",
    ) as info:
        read_csv_table(path)
    assert info.value.rows == (2,)


def test_file_with_a_utf8_mark_but_windows_1252_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "uai;name\nX;Collège\n".encode("cp1252"))
    with pytest.raises(
        tm.InputError,
        match=re.escape("e.csv: cannot read the file as UTF-8 (it starts with a UTF-8 mark): byte 18"),
    ):
        read_csv_table(path)


def test_unclosed_quote_names_the_line_it_opens(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", f'uai;name\n{U1};"Collège\n{U2};Aubanel\n')
    with pytest.raises(
        tm.InputError,
        match=re.escape("e.csv: a double quote opened on line 2 is never closed (the file ends at line 3)"),
    ) as info:
        read_csv_table(path)
    assert info.value.rows == (2,)


def test_text_after_a_closing_quote_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", f'uai;name\n{U1};"Collège" Mistral\n')
    with pytest.raises(
        tm.InputError,
        match=r"^e\.csv: line 2 is not valid CSV \(.+\)\. Check the double quotes",
    ):
        read_csv_table(path)


def test_quotes_inside_an_unquoted_value_are_kept(tmp_path: Path) -> None:
    frame, _ = read_csv_table(write(tmp_path / "e.csv", f'uai;name\n{U1};Collège "Les Pins"\n'))
    assert frame.loc[2, "name"] == 'Collège "Les Pins"'


# -- the same problem from every dialect -------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS, ids=dialect_id)
def test_from_csv_gives_the_same_problem_in_every_dialect(
    tmp_path: Path, dialect: tuple[str, str, str, str]
) -> None:
    tutors = write_dialect(tmp_path, "tutors.csv", TUTORS, dialect)
    establishments = write_dialect(tmp_path, "establishments.csv", ESTABLISHMENTS, dialect)
    fixed = write_dialect(tmp_path, "fixed.csv", FIXED, dialect)
    problem = tm.Problem.from_csv(tutors, establishments, fixed_pairs=fixed)
    assert_same_problem(problem, frames_problem())
    encoding, sep, decimal, _ = dialect
    expected = CsvDialect(encoding, sep, decimal).describe()
    assert problem.sources["tutors.csv"] == expected
    assert problem.sources["establishments.csv"] == expected
    # Plain ASCII in Windows-1252 is also valid UTF-8, which is what is reported.
    ascii_encoding = "utf-8" if encoding == "cp1252" else encoding
    assert problem.sources["fixed.csv"] == CsvDialect(ascii_encoding, sep, ".").describe()


def test_from_csv_keeps_line_numbers_as_source_rows(tmp_path: Path) -> None:
    text = csv_text(ESTABLISHMENTS, sep=";", decimal=",").replace("\n", "\n\n", 1)
    establishments = write(tmp_path / "establishments.csv", text, "cp1252")
    tutors = write_dialect(tmp_path, "tutors.csv", TUTORS, DIALECTS[0])
    problem = tm.Problem.from_csv(tutors, establishments)
    rows = zip(problem.establishments.id, problem.establishments.source_row, strict=True)
    assert dict(rows) == {U1: 3, U2: 4, U3: 5}
    assert (
        problem.establishments.name[problem.establishments.id.tolist().index(U1)]
        == "Collège Frédéric Mistral"
    )


DIALECTS_DESCRIBED = [CsvDialect(e, s, d).describe() for e, s, d, _ in DIALECTS]


def test_from_csv_same_file_names_in_two_folders_keep_both_sources(
    tmp_path: Path,
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    tutors = write_dialect(tmp_path / "a", "data.csv", TUTORS, DIALECTS[0])
    establishments = write_dialect(tmp_path / "b", "data.csv", ESTABLISHMENTS, DIALECTS[2])
    problem = tm.Problem.from_csv(tutors, establishments)
    assert problem.sources == {
        "data.csv": DIALECTS_DESCRIBED[0],
        str(establishments): DIALECTS_DESCRIBED[2],
    }


def test_header_only_establishments_file_gives_an_empty_plan(tmp_path: Path) -> None:
    tutors = write_dialect(tmp_path, "tutors.csv", TUTORS[:3], DIALECTS[1])  # not T3, located by home_uai
    establishments = write(tmp_path / "establishments.csv", "uai;name;lon;lat\r\n", "utf-8-sig")
    problem = tm.Problem.from_csv(tutors, establishments)
    assert problem.n_establishments == 0
    assert problem.n_tutors == 2
    plan = tm.solve(problem)
    assert plan.status == tm.Status.OPTIMAL
    assert len(plan.pairs) == 0


def test_header_only_tutors_file_is_valid(tmp_path: Path) -> None:
    tutors = write(tmp_path / "tutors.csv", "tutor_id;lon;lat;capacity\n")
    establishments = write_dialect(tmp_path, "establishments.csv", ESTABLISHMENTS, DIALECTS[1])
    problem = tm.Problem.from_csv(tutors, establishments)
    assert (problem.n_tutors, problem.n_establishments) == (0, 3)
    plan = tm.solve(problem)
    assert plan.status == tm.Status.OPTIMAL
    assert len(plan.pairs) == 0
    assert len(plan.uncovered) == 3


# -- errors from CSV files name the file and the line -----------------------------


def test_csv_error_names_file_line_and_id(tmp_path: Path) -> None:
    rows = [row[:] for row in TUTORS]
    rows[2][6] = -1  # T2's capacity, on line 3
    tutors = write_dialect(tmp_path, "tutors.csv", rows, DIALECTS[2])
    establishments = write_dialect(tmp_path, "establishments.csv", ESTABLISHMENTS, DIALECTS[2])
    with pytest.raises(
        tm.InputError,
        match=re.escape(
            "tutors.csv: column 'capacity' must be a whole number from 0 to 10,000; found in 1 "
            "row: "
            "-1 on line 3 (tutor_id T2). Correct or drop these rows."
        ),
    ) as info:
        tm.Problem.from_csv(tutors, establishments)
    assert (info.value.table, info.value.column, info.value.rows) == (
        "tutors.csv",
        "capacity",
        (3,),
    )
