"""Read the CSV files that French spreadsheets export, whatever their dialect.

Spreadsheets in France export UTF-8 (with or without a byte-order mark) or
Windows-1252, separate fields with ``,`` or ``;`` and write decimals with a
point or a comma. :func:`read_csv_table` detects all three, reports what it
detected, and returns every cell as text so that validation can name the exact
line of a bad value instead of letting a parser guess.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tutormatch.errors import InputError

__all__ = ["CsvDialect", "read_csv_table"]

_DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+$")
_DECIMAL_POINT = re.compile(r"^[-+]?\d*\.\d+$")
_QUOTED = re.compile(r'"[^"]*"')
_SEPARATORS = (";", ",", "\t")
_SNIFF_LINES = 20  # lines looked at to choose the separator
_ENCODING_NAMES = {
    "utf-8-sig": "UTF-8 with BOM",
    "utf-8": "UTF-8",
    "cp1252": "Windows-1252",
}


@dataclass(frozen=True, slots=True)
class CsvDialect:
    """What :func:`read_csv_table` detected in a file.

    Attributes
    ----------
    encoding : str
        ``"utf-8-sig"`` (UTF-8 with a byte-order mark), ``"utf-8"`` or
        ``"cp1252"`` (Windows-1252).
    separator : str
        ``","``, ``";"`` or a tab.
    decimal : str
        ``"."`` or ``","``.
    """

    encoding: str
    separator: str
    decimal: str

    def describe(self) -> str:
        """Return a one-line description, e.g. ``UTF-8, ';'-separated, decimal comma``.

        Returns
        -------
        str
            Encoding, separator and decimal mark in words.

        Examples
        --------
        >>> CsvDialect("cp1252", ";", ",").describe()
        "Windows-1252, ';'-separated, decimal comma"
        """
        encoding = _ENCODING_NAMES.get(self.encoding, self.encoding)
        point = "decimal comma" if self.decimal == "," else "decimal point"
        sep = "tab" if self.separator == "\t" else repr(self.separator)
        return f"{encoding}, {sep}-separated, {point}"


def _read_bytes(file: Path, name: str) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise InputError(
            f"{name}: cannot read the file ({exc.strerror}). Check the path.",
            table=name,
        ) from None


def _line_of(raw: bytes, position: int) -> int:
    """Return the line number (from 1) of byte ``position``."""
    return raw.count(b"\n", 0, position) + 1


def _decode(raw: bytes, name: str) -> tuple[str, str]:
    nul = raw.find(b"\x00")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or nul >= 0:
        # UTF-16 ("Unicode text" in Excel) and binary files (an .xlsx
        # workbook renamed .csv) hold NUL bytes; cp1252 would decode them
        # into nonsense column names instead of failing.
        line = _line_of(raw, max(nul, 0))
        raise InputError(
            f"{name}: line {line} holds a NUL byte, so this is not a CSV text file "
            "(UTF-16 text, a workbook such as .xlsx, or a damaged file). Save it "
            "again as 'CSV UTF-8' from your spreadsheet.",
            table=name,
            rows=[line],
        )
    has_bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        if has_bom:
            return raw[3:].decode("utf-8"), "utf-8-sig"
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        error = exc
    if not has_bom:
        try:
            return raw.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as exc:
            error = exc
    what = "UTF-8 (it starts with a UTF-8 mark)" if has_bom else "UTF-8 or Windows-1252"
    position = error.start + 3 * has_bom
    line = _line_of(raw, position)
    raise InputError(
        f"{name}: cannot read the file as {what}: byte {position} (on line {line}) "
        "is invalid. "
        "Save it again as 'CSV UTF-8' from your spreadsheet.",
        table=name,
        rows=[line],
    )


def _separator(text: str) -> str:
    """Choose the separator that splits the first lines into equal field counts.

    A decimal comma adds commas to data lines but not to the header, so a
    candidate must give the header at least one separator and, preferably,
    the same count on every line looked at.
    """
    lines = [line for line in text.splitlines() if line.strip()][:_SNIFF_LINES]
    if not lines:
        return ","
    unquoted = [_QUOTED.sub("", line) for line in lines]
    best, best_key = ",", (False, 0)
    for sep in _SEPARATORS:
        counts = [line.count(sep) for line in unquoted]
        if counts[0] == 0:
            continue
        key = (all(c == counts[0] for c in counts), counts[0])
        if key > best_key:
            best, best_key = sep, key
    return best


def _records(text: str, separator: str, name: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, stripped cells) of every non-blank record."""
    # Strict parsing: a stray or unclosed quote would otherwise merge cells or
    # swallow the rest of the file without a word.
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=separator,
        skipinitialspace=True,
        strict=True,
    )
    last = 0
    while True:
        start = last + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _quote_error(name, start, reader.line_num, str(exc)) from None
        last = reader.line_num
        cells = [cell.strip() for cell in record]
        if any(cells):
            yield start, cells


def _quote_error(name: str, start: int, end: int, reason: str) -> InputError:
    if "field limit" in reason:
        message = (
            f"{name}: line {start} holds a value longer than {csv.field_size_limit():,} "
            "characters, more than any cell of a tutors or establishments table. "
            "Check that line: a double quote opened there and never closed swallows "
            "the lines after it; otherwise shorten the value."
        )
        return InputError(message, table=name, rows=[start])
    if "end of data" in reason:
        message = (
            f"{name}: a double quote opened on line {start} is never closed (the "
            f"file ends at line {end}). Close it, or remove it."
        )
    else:
        message = (
            f"{name}: line {end} is not valid CSV ({reason}). Check the double "
            "quotes on that line: a quoted value must be quoted whole, with "
            'inner quotes doubled ("").'
        )
    return InputError(message, table=name, rows=[start])


def _header(cells: list[str], line: int, name: str) -> list[str]:
    seen: dict[str, int] = {}
    for position, cell in enumerate(cells, start=1):
        if cell and cell in seen:
            raise InputError(
                f"{name}: column {cell!r} appears twice in the header (line {line}, "
                f"columns {seen[cell]} and {position}). Rename or delete one of them.",
                table=name,
                column=cell,
                rows=[line],
            )
        seen.setdefault(cell, position)
    return [cell or f"Unnamed: {i}" for i, cell in enumerate(cells)]


def _fit(cells: list[str], width: int, line: int, name: str, separator: str) -> list[str]:
    """Pad a short row with empty cells; drop trailing empty cells of a long one."""
    if len(cells) <= width:
        return cells + [""] * (width - len(cells))
    if not any(cells[width:]):
        return cells[:width]
    sep = "tab" if separator == "\t" else repr(separator)
    raise InputError(
        f"{name}: line {line} has {len(cells)} fields but the header has {width}. "
        f"A value probably contains the separator {sep}: put it in double quotes "
        "or remove the extra separator.",
        table=name,
        rows=[line],
        values=[cells[width:]],
    )


def _table(text: str, separator: str, name: str) -> pd.DataFrame:
    records = _records(text, separator, name)
    first = next(records, None)
    if first is None:
        raise InputError(
            f"{name}: the file is empty (not even a header line). Write at least "
            "the header line with the column names.",
            table=name,
        )
    header_line, header = first
    columns = _header(header, header_line, name)
    lines: list[int] = []
    rows: list[list[str]] = []
    for line, cells in records:
        lines.append(line)
        rows.append(_fit(cells, len(columns), line, name, separator))
    index = pd.Index(lines, dtype="int64", name="line")
    data = np.array(rows, dtype=object).reshape(len(rows), len(columns))
    frame = pd.DataFrame(data, index=index, columns=pd.Index(columns, dtype=object))
    # Spreadsheets export trailing separators as unnamed, empty columns.
    unnamed_empty = [i for i, cell in enumerate(header) if cell == "" and not any(row[i] for row in rows)]
    return frame.drop(columns=frame.columns[unnamed_empty]) if unnamed_empty else frame


def _decimal(frame: pd.DataFrame) -> str:
    # The decimal mark is a comma when some cell is a number written with one
    # and none is a number written with a point. Cells are already split, so
    # this also sees quoted "5,3" in a comma-separated file.
    cells: Any = frame.to_numpy(dtype=object).ravel()
    # (A cell without the mark cannot match: skip the pattern there.)
    has_comma = any(_DECIMAL_COMMA.match(cell) for cell in cells if "," in cell)
    has_point = any(_DECIMAL_POINT.match(cell) for cell in cells if "." in cell)
    return "," if has_comma and not has_point else "."


def read_csv_table(path: str | PathLike[str]) -> tuple[pd.DataFrame, CsvDialect]:
    r"""Read a CSV file as text cells, detecting encoding, separator and decimal mark.

    Parameters
    ----------
    path : str or path-like
        The file to read: UTF-8 (with or without a byte-order mark) or
        Windows-1252; fields separated by ``,``, ``;`` or tabs; any line
        endings.

    Returns
    -------
    frame : pandas.DataFrame
        Every cell as a stripped string (empty cells as ``""``), column names
        stripped of surrounding spaces, indexed by the **line number** of each
        row in the file (counting from 1, header and blank lines included), so
        that errors can point at it. Blank lines and lines of empty cells
        (``;;;``) are skipped, as are unnamed empty columns left by trailing
        separators.
    dialect : CsvDialect
        What was detected.

    Raises
    ------
    InputError
        If the file cannot be opened, decoded or parsed, has no header line,
        repeats a column name, or has a line with more values than the
        header; the message names the file (and the line).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tutors.csv"
    >>> _ = path.write_bytes("tutor_id;lon;lat\nT1;5,37;43,30\n".encode())
    >>> frame, dialect = read_csv_table(path)
    >>> frame.loc[2, "lon"], dialect.describe()
    ('5,37', "UTF-8, ';'-separated, decimal comma")
    """
    file = Path(path)
    name = file.name
    text, encoding = _decode(_read_bytes(file, name), name)
    separator = _separator(text)
    frame = _table(text, separator, name)
    return frame, CsvDialect(encoding, separator, _decimal(frame))
