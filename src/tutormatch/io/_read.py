"""Read an input table from a CSV file or an Excel workbook, by its name."""

from __future__ import annotations

import logging
from os import PathLike
from pathlib import Path

import pandas as pd

from tutormatch.errors import InputError
from tutormatch.io._csv import read_csv_table
from tutormatch.io._xlsx import XLSX_SUFFIXES, read_xlsx_table

__all__ = ["read_table"]

logger = logging.getLogger(__name__)


def read_table(path: str | PathLike[str], *, sheet: str | None = None) -> tuple[pd.DataFrame, str]:
    """Read a table as text cells: a workbook (``.xlsx``, ``.xlsm``) or else a CSV file.

    Parameters
    ----------
    path : str or path-like
    sheet : str, optional
        For workbooks: the sheet to read (see :func:`read_xlsx_table`).

    Returns
    -------
    frame : pandas.DataFrame
        Text cells indexed by line (CSV) or row (workbook) number.
    description : str
        What was read, e.g. ``"UTF-8, ';'-separated, decimal comma"`` or
        ``"XLSX, sheet 'Tuteurs'"``.

    Raises
    ------
    InputError
        As :func:`read_csv_table` or :func:`read_xlsx_table`.
    """
    file = Path(path)
    logger.info("reading %s", file.name)
    suffix = file.suffix.lower()
    if suffix in (".xls", ".ods"):
        raise InputError(
            f"{file.name}: tutormatch reads .xlsx workbooks and CSV files, not {suffix}. Open it in your "
            "spreadsheet and save it as .xlsx (Excel workbook) or 'CSV UTF-8'.",
            table=file.name,
        )
    if suffix in XLSX_SUFFIXES:
        return read_xlsx_table(file, sheet=sheet)
    frame, dialect = read_csv_table(file)
    return frame, dialect.describe()
