"""Fuzz the CSV readers: random damage to real files gives a Problem or a located InputError.

The shipped example files (the head of each, to stay fast) are mutated as a
spreadsheet, a careless edit or a broken transfer would: bytes flipped, cells
changed to odd values, separators, decimal marks and encodings changed,
columns renamed or duplicated, lines dropped or repeated, the file cut short.
Reading them must give either a :class:`~tutormatch.Problem` or an
:class:`~tutormatch.InputError` that says where (a line, a row or a column),
never another exception.
"""

from __future__ import annotations

import tempfile
import warnings
from importlib import resources
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import tutormatch as tm
from tutormatch.model._fields import ESTABLISHMENT_FIELDS, TUTOR_FIELDS

_HEAD = 25  # data lines kept from each example file


def _head(name: str) -> str:
    text = resources.files("tutormatch").joinpath("data", "example", name).read_text(encoding="utf-8")
    return "\n".join(text.splitlines()[: _HEAD + 1]) + "\n"


FILES = {"tutors.csv": _head("tutors.csv"), "establishments.csv": _head("establishments.csv")}
NAMES = sorted(
    {
        n
        for fields in (TUTOR_FIELDS, ESTABLISHMENT_FIELDS)
        for f in fields.values()
        for n in (f.name, *f.aliases)
    }
)
ODD_CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "-1",
            "0",
            "1e19",
            "1e308",
            "-1e308",
            "inf",
            "nan",
            "NaN",
            "1,5",
            "2.5",
            "1 000",
            "oui",
            "non",
            "vrai",
            "x",
            '"',
            '""',
            "'",
            ";",
            ",",
            "\t",
            "\r",
            "0130001A",
            "99999",
            "12345",
            "0,0",
            "Éloïse",
            "e\u0301",
            "\u00a0",
            "1e-7",
            "10001",
            "366",
            "40001",
            "999999999",
        ]
    ),
    st.text(max_size=12),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
)


@st.composite
def _text_mutation(draw: st.DrawFn, text: str) -> str:
    lines = text.split("\n")
    kind = draw(
        st.sampled_from(
            ["cell", "rename", "duplicate", "drop_line", "repeat_line", "semicolon", "tab", "blank_header"]
        )
    )
    header = lines[0].split(",")
    if kind == "cell":
        row = draw(st.integers(1, max(len(lines) - 2, 1)))
        cells = lines[row].split(",")
        cells[draw(st.integers(0, len(cells) - 1))] = draw(ODD_CELLS)
        lines[row] = ",".join(cells)
    elif kind == "rename":
        header[draw(st.integers(0, len(header) - 1))] = draw(
            st.one_of(st.sampled_from(NAMES), st.text(max_size=10))
        )
        lines[0] = ",".join(header)
    elif kind == "duplicate":
        column = draw(st.integers(0, len(header) - 1))
        name = draw(st.one_of(st.just(header[column].upper()), st.sampled_from(NAMES)))
        changed = draw(st.booleans())
        for i, line in enumerate(lines):
            if line:
                cells = line.split(",")
                value = name if i == 0 else (cells[column] + "9" if changed and i == 1 else cells[column])
                lines[i] = line + "," + value
    elif kind == "drop_line" and len(lines) > 2:
        del lines[draw(st.integers(0, len(lines) - 2))]
    elif kind == "repeat_line":
        row = draw(st.integers(0, len(lines) - 2))
        lines.insert(row, lines[row])
    elif kind in ("semicolon", "tab"):
        # As French Excel writes it: the separator, and decimal commas with ';'.
        sep = ";" if kind == "semicolon" else "\t"
        lines = [line.replace(",", sep) for line in lines]
        if sep == ";" and draw(st.booleans()):
            lines = [_decimal_comma(line) for line in lines]
    elif kind == "blank_header":
        header[draw(st.integers(0, len(header) - 1))] = ""
        lines[0] = ",".join(header)
    return "\n".join(lines)


def _decimal_comma(line: str) -> str:
    cells = line.split(";")
    return ";".join(
        c.replace(".", ",") if c.replace(".", "").replace("-", "").isdigit() else c for c in cells
    )


@st.composite
def damaged(draw: st.DrawFn, name: str) -> bytes:
    text = FILES[name]
    for _ in range(draw(st.integers(0, 3))):
        text = draw(_text_mutation(text))
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    # Mostly files that decode, so that the damage reaches the cells.
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "cp1252", "cp1252", "utf-16"]))
    raw = text.encode(encoding, errors="replace")
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        if raw:
            position = draw(st.integers(0, len(raw) - 1))
            raw = raw[:position] + bytes([draw(st.integers(0, 255))]) + raw[position + 1 :]
    if draw(st.integers(0, 9)) == 0:
        raw = raw[: draw(st.integers(0, len(raw)))]
    return raw


@settings(max_examples=150)
@given(tutors=damaged("tutors.csv"), establishments=damaged("establishments.csv"))
def test_damaged_files_give_a_problem_or_a_located_input_error(tutors: bytes, establishments: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        t, e = Path(folder) / "tutors.csv", Path(folder) / "establishments.csv"
        t.write_bytes(tutors)
        e.write_bytes(establishments)
        outcome: tm.Problem | tm.InputError
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", tm.TutormatchWarning)
                outcome = tm.Problem.from_csv(t, e)
        except tm.InputError as error:  # any other exception fails the test
            outcome = error
    if isinstance(outcome, tm.InputError):
        assert outcome.table in {"tutors.csv", "establishments.csv"}, str(outcome)
        located = bool(outcome.rows) or outcome.column is not None or "file is empty" in str(outcome)
        assert located, str(outcome)
    else:
        assert isinstance(outcome, tm.Problem)
