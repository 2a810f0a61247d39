"""CSV and XLSX files of the report tables, safe to open in a spreadsheet.

French CSV files use ``;``, a decimal comma and UTF-8 with a byte-order mark,
so that Excel opens them right; English ones ``,``, a decimal point and
plain UTF-8. Numbers stay numbers, typed by their column's declared kind
(no thousands separator, no unit in CSV; a number format in XLSX). Text that
a spreadsheet would run as a formula is prefixed with an apostrophe in CSV
files, and typed as text with Excel's quote prefix in XLSX files.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutormatch.report._format import FORMULA_PREFIXES, format_number, neutralise
from tutormatch.report._labels import label
from tutormatch.report._notes import method_notes, notes
from tutormatch.report._parameters import parameter_cells
from tutormatch.report._render import Cell, table_cells

if TYPE_CHECKING:
    from tutormatch.report._render import ReportTables

__all__ = ["write_csv_tables", "write_xlsx"]

_XLSX_GENERAL = ("number", "cv")


def _xlsx_format(cell: Cell) -> str:
    """Return the XLSX number format of a cell: what it shows (the cell holds the full value)."""
    if cell.kind in _XLSX_GENERAL or cell.decimals is None:
        return "General"
    if cell.kind == "share":
        return "0." + "0" * cell.decimals + "%" if cell.decimals else "0%"
    if cell.kind == "rate":
        return "0." + "0" * cell.decimals
    fraction = "." + "0" * cell.decimals if cell.decimals else ""
    unit = ' "€"' if cell.kind in ("money", "money_exact") else ""
    return f"#,##0{fraction}{unit}"


def _csv_text(cell: Cell, lang: str) -> str:
    value, kind = cell.value, cell.kind
    if value is None:
        return ""
    if kind == "text":
        return neutralise(str(value))
    if cell.file_decimals is not None:
        return format_number(value, cell.file_decimals, lang, group=False)
    text = repr(float(value)).removesuffix(".0")
    return text.replace(".", ",") if lang == "fr" else text


def write_csv_tables(report: ReportTables, directory: Path) -> list[Path]:
    """Write one CSV file per table into ``directory``; return their paths."""
    lang = report.options.lang
    separator, encoding = (";", "utf-8-sig") if lang == "fr" else (",", "utf-8")
    written = []
    for key, frame in report.tables.items():
        header, rows = table_cells(key, frame, report.options)
        path = directory / f"{key}.csv"
        with path.open("w", encoding=encoding, newline="") as file:
            writer = csv.writer(file, delimiter=separator, lineterminator="\r\n")
            writer.writerow([neutralise(h) for h in header])
            writer.writerows([_csv_text(c, lang) for c in row] for row in rows)
        written.append(path)
    return written


def _put_text(sheet: Any, row: int, column: int, text: str) -> Any:
    """Write text that shows as it is and never runs as a formula.

    The cell is typed as text, and text that a spreadsheet would read as a
    formula gets Excel's own *quote prefix* (the style flag that a typed
    leading apostrophe sets), so that editing the cell keeps it text: the
    name shows without an apostrophe.
    """
    target = sheet.cell(row=row, column=column, value=text)
    target.data_type = "s"  # never a formula, whatever openpyxl guesses from the text
    if text.startswith(FORMULA_PREFIXES):
        target.quotePrefix = True
    return target


def _put_cells(sheet: Any, header: list[str], rows: list[list[Cell]]) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    for c, name in enumerate(header, start=1):
        _put_text(sheet, 1, c, name).font = bold
    for r, row in enumerate(rows, start=2):
        for c, cell in enumerate(row, start=1):
            if cell.value is None:
                continue
            if cell.kind == "text":
                _put_text(sheet, r, c, str(cell.value))
                continue
            target = sheet.cell(row=r, column=c, value=cell.value)
            target.number_format = _xlsx_format(cell)
    sheet.freeze_panes = "A2"
    if header:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(1, len(rows) + 1)}"
    for i, name in enumerate(header, start=1):
        width = max([len(name), *(len(str(r[i - 1].value or "")) for r in rows[:200])])
        sheet.column_dimensions[get_column_letter(i)].width = min(max(10, width + 2), 60)


def write_xlsx(report: ReportTables, path: Path) -> Path:
    """Write a workbook: a notes sheet, the parameters, then one sheet per table, each with filters."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    options = report.options
    lang = options.lang
    book = Workbook()
    sheet = book.active
    sheet.title = "Notes" if lang == "en" else "Lisez-moi"
    title = options.title or label("report_title", lang)
    lines = [title, "", *notes(report), "", label("method", lang), *method_notes(report)]
    for r, text in enumerate(lines, start=1):
        if text:
            _put_text(sheet, r, 1, text)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = 120
    for row in sheet.iter_rows(min_row=2):
        row[0].alignment = Alignment(wrap_text=True)
    header, rows = parameter_cells(report)
    _put_cells(book.create_sheet(label("parameters", lang)[:31]), header, rows)
    for key, frame in report.tables.items():
        header, rows = table_cells(key, frame, options)
        _put_cells(book.create_sheet(label(f"sheet_{key}", lang)[:31]), header, rows)
    book.save(path)
    return path
