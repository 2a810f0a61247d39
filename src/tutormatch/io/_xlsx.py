"""Read a sheet of an Excel workbook (``.xlsx``) as text cells, like a CSV file.

Cells come back as the text a CSV export would hold (``42``, ``42.5``,
``true``, ``2025-01-06``), indexed by the sheet's **row numbers**, so that the
same validation reads CSV files and workbooks and names the row of a bad value.
Formulas are read as the values Excel last computed and saved.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tutormatch.errors import InputError
from tutormatch.io._csv import _header

__all__ = ["XLSX_SUFFIXES", "read_xlsx_table"]

#: File name endings read as workbooks.
XLSX_SUFFIXES = (".xlsx", ".xlsm")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Whole numbers as integers (a capacity of 2, not 2.0); others in the
        # shortest form that reads back to the same float.
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _choose_sheet(names: Sequence[str], sheet: str | None, name: str) -> str:
    listed = ", ".join(repr(n) for n in names)
    if sheet is not None:
        if sheet in names:
            return sheet
        if len(names) == 1:
            # --sheet names the sheet of the workbooks that have several; a
            # workbook of one sheet has no choice to make.
            return names[0]
        raise InputError(
            f"{name}: no sheet named {sheet!r}; the workbook has {listed}. Give one of these with --sheet.",
            table=name,
        )
    if len(names) == 1:
        return names[0]
    raise InputError(
        f"{name}: the workbook has {len(names)} sheets ({listed}); say which one holds the table "
        "with --sheet (or sheet= in Python).",
        table=name,
    )


def read_xlsx_table(path: str | PathLike[str], *, sheet: str | None = None) -> tuple[pd.DataFrame, str]:
    """Read one sheet of a workbook as text cells.

    Parameters
    ----------
    path : str or path-like
        An ``.xlsx`` (or ``.xlsm``) workbook.
    sheet : str, optional
        The sheet to read. Needed when the workbook has several sheets; a
        workbook with a single sheet is read whatever ``sheet`` says.

    Returns
    -------
    frame : pandas.DataFrame
        Every cell as a stripped string (empty cells as ``""``), indexed by
        the sheet's row numbers; the header is the first non-empty row. Empty
        rows and unnamed empty columns are skipped.
    description : str
        What was read, e.g. ``"XLSX, sheet 'Tuteurs'"``.

    Raises
    ------
    InputError
        If the file cannot be opened as a workbook, the sheet is missing or
        ambiguous, the sheet is empty, a column name is repeated or a row has
        values beyond the header.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from openpyxl import Workbook
    >>> book = Workbook()
    >>> book.active.title = "Tuteurs"
    >>> book.active.append(["tutor_id", "lon", "lat", "capacity"])
    >>> book.active.append(["T1", 5.37, 43.3, 2])
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tutors.xlsx"
    >>> book.save(path)
    >>> frame, description = read_xlsx_table(path)
    >>> frame.loc[2].tolist(), description
    (['T1', '5.37', '43.3', '2'], "XLSX, sheet 'Tuteurs'")
    """
    from openpyxl import load_workbook

    file = Path(path)
    name = file.name
    try:
        book = load_workbook(file, read_only=True, data_only=True)
    except FileNotFoundError:
        raise InputError(
            f"{name}: cannot read the file (no such file). Check the path.", table=name
        ) from None
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError(
            f"{name}: cannot read this file as an Excel workbook ({exc}). Open it in your spreadsheet "
            "and save it again as .xlsx, or as 'CSV UTF-8'.",
            table=name,
        ) from None
    try:
        chosen = _choose_sheet(book.sheetnames, sheet, name)
        rows = [
            (number, [_text(v) for v in values])
            for number, values in enumerate(book[chosen].iter_rows(values_only=True), start=1)
        ]
    finally:
        book.close()
    rows = [(number, cells) for number, cells in rows if any(cells)]
    where = f"{name} (sheet {chosen!r})"
    if not rows:
        raise InputError(
            f"{where}: the sheet is empty (not even a header row). Write the column names on the first row.",
            table=name,
        )
    header_row, header_cells = rows[0]
    # Trailing empty header cells are the sheet's width, not columns.
    width = max((i + 1 for i, c in enumerate(header_cells) if c), default=0)
    columns = _header(header_cells[:width], header_row, where)
    labels: list[int] = []
    data: list[list[str]] = []
    for number, cells in rows[1:]:
        if any(cells[width:]):
            extra = next(i for i, c in enumerate(cells) if i >= width and c)
            raise InputError(
                f"{where}: row {number} has a value in column {extra + 1} ({cells[extra]!r}) beyond the "
                f"header's {width} columns. Give that column a name on row {header_row}, or clear it.",
                table=name,
                rows=[number],
            )
        labels.append(number)
        data.append(cells[:width] + [""] * (width - len(cells)))
    values = np.array(data, dtype=object).reshape(len(data), width)
    frame = pd.DataFrame(
        values,
        index=pd.Index(labels, dtype="int64", name="row"),
        columns=pd.Index(columns, dtype=object),
    )
    unnamed_empty = [i for i, cell in enumerate(header_cells[:width]) if cell == "" and not any(values[:, i])]
    if unnamed_empty:
        frame = frame.drop(columns=frame.columns[unnamed_empty])
    return frame, f"XLSX, sheet {chosen!r}"
