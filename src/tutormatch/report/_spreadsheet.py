"""CSV and XLSX files of the report tables, safe to open in a spreadsheet.

French CSV files use ``;``, a decimal comma and UTF-8 with a byte-order mark,
so that Excel opens them right; English ones ``,``, a decimal point and
plain UTF-8. Numbers stay numbers (no thousands separator, no unit); text
that a spreadsheet would run as a formula is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from tutormatch.report._format import format_number, neutralise
from tutormatch.report._labels import label
from tutormatch.report._notes import method_notes, notes
from tutormatch.report._render import Cell, table_cells

if TYPE_CHECKING:
    from tutormatch.report._render import ReportTables

__all__ = ["write_csv_tables", "write_xlsx"]

# Decimals of numbers in CSV files, by kind (money to the cent, km to the metre).
_CSV_DECIMALS = {"money": 2, "rate": 4, "share": 4, "km": 3}
_XLSX_FORMATS = {
    "money": '#,##0.00 "€"',
    "rate": "0.00##",
    "share": "0.0%",
    "km": "#,##0.0",
    "count": "#,##0",
    "number": "General",
}


def _csv_text(cell: Cell, lang: str) -> str:
    value, kind = cell.value, cell.kind
    if value is None:
        return ""
    if kind == "text":
        return neutralise(str(value))
    if kind == "count":
        return str(int(value))
    if kind in _CSV_DECIMALS:
        decimals = _CSV_DECIMALS[kind] if cell.decimals is None else cell.decimals
        return format_number(value, decimals, lang, group=False)
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


def write_xlsx(report: ReportTables, path: Path) -> Path:
    """Write a workbook: a notes sheet, then one sheet per table."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    options = report.options
    lang = options.lang
    book = Workbook()
    sheet = book.active
    sheet.title = "Notes" if lang == "en" else "Lisez-moi"
    title = options.title or label("report_title", lang)
    lines = [title, "", *notes(report), "", label("method", lang), *method_notes(report)]
    for text in lines:
        sheet.append([neutralise(text)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = 120
    for row in sheet.iter_rows(min_row=2):
        row[0].alignment = Alignment(wrap_text=True)
    bold = Font(bold=True)
    for key, frame in report.tables.items():
        header, rows = table_cells(key, frame, options)
        sheet = book.create_sheet(label(f"sheet_{key}", lang)[:31])
        sheet.append([neutralise(h) for h in header])
        for cell in sheet[1]:
            cell.font = bold
        for r, row in enumerate(rows, start=2):
            for c, cell in enumerate(row, start=1):
                if cell.value is None:
                    continue
                if cell.kind == "text":
                    target = sheet.cell(row=r, column=c, value=neutralise(str(cell.value)))
                    # Never a formula, whatever openpyxl guesses from the text.
                    target.data_type = "s"
                    continue
                target = sheet.cell(row=r, column=c, value=cell.value)
                fmt = _XLSX_FORMATS.get(cell.kind, "General")
                target.number_format = "#,##0" if cell.kind == "km" and cell.decimals == 0 else fmt
        sheet.freeze_panes = "A2"
        for i, name in enumerate(header, start=1):
            width = max([len(name), *(len(str(r[i - 1].value or "")) for r in rows[:200])])
            sheet.column_dimensions[get_column_letter(i)].width = min(max(10, width + 2), 60)
    book.save(path)
    return path
