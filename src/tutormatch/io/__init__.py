"""Reading and writing: CSV and XLSX tables, UAI and INSEE helpers, the commune gazetteer, plan files."""

from tutormatch.io._csv import CsvDialect, read_csv_table
from tutormatch.io._gazetteer import load_communes
from tutormatch.io._read import read_table
from tutormatch.io._uai import is_valid_uai, make_uai, uai_check_letter, uai_departement
from tutormatch.io._xlsx import read_xlsx_table

__all__ = [
    "CsvDialect",
    "is_valid_uai",
    "load_communes",
    "make_uai",
    "read_csv_table",
    "read_table",
    "read_xlsx_table",
    "uai_check_letter",
    "uai_departement",
]


def __dir__() -> list[str]:
    return list(__all__)
