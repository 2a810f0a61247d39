"""Waves as numbers or as dates: parse them into one comparable number.

A wave is either a whole number (``1``, ``2``...: the order of the waves) or
a month (``2025-01``, ``01/2025``, ``janvier 2025``, a date or a spreadsheet
date cell). Months are stored as **months since year 0**: ``year x 12 +
month - 1`` (``2025-01`` -> 24,300), so that "the tutor's wave is earlier"
stays a plain ``<`` on floats for both kinds. One table holds one kind: a
column that mixes numbers and months is refused, and so are tutors and
establishments whose waves are of different kinds.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["FIRST_YEAR", "LAST_YEAR", "format_wave", "month_number", "parse_wave_cell"]

#: Years accepted in a wave date.
FIRST_YEAR, LAST_YEAR = 1900, 2200

_ISO = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?:[ T].*)?$")
_SLASH = re.compile(r"^(?:(\d{1,2})/)?(\d{1,2})/(\d{4})$")
_WORDS = re.compile(r"^([a-z]+)\.?\s*(\d{4})$")
_MONTHS = {
    # French first, then English; accents are removed before matching.
    "janvier": 1, "janv": 1, "jan": 1, "january": 1,
    "fevrier": 2, "fevr": 2, "fev": 2, "feb": 2, "february": 2,
    "mars": 3, "mar": 3, "march": 3,
    "avril": 4, "avr": 4, "apr": 4, "april": 4,
    "mai": 5, "may": 5,
    "juin": 6, "jun": 6, "june": 6,
    "juillet": 7, "juil": 7, "jul": 7, "july": 7,
    "aout": 8, "aug": 8, "august": 8,
    "septembre": 9, "sept": 9, "sep": 9, "september": 9,
    "octobre": 10, "oct": 10, "october": 10,
    "novembre": 11, "nov": 11, "november": 11,
    "decembre": 12, "dec": 12, "december": 12,
}  # fmt: skip


def month_number(year: int, month: int) -> int:
    """Return the months since year 0 of a month (``2025, 1`` -> 24,300).

    Examples
    --------
    >>> month_number(2025, 1), month_number(2025, 9) - month_number(2025, 1)
    (24300, 8)
    """
    return year * 12 + month - 1


def format_wave(value: float, *, is_date: bool) -> str:
    """Show a stored wave as the user wrote it: ``2025-01``, ``3``, or ``""`` when unknown.

    Examples
    --------
    >>> format_wave(24300.0, is_date=True), format_wave(3.0, is_date=False)
    ('2025-01', '3')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if not is_date:
        return f"{value:g}"
    year, month = divmod(int(value), 12)
    return f"{year:04d}-{month + 1:02d}"


def _month(year: int, month: int) -> float | None:
    if FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12:
        return float(month_number(year, month))
    return None


def parse_wave_cell(value: Any) -> tuple[str, float | None]:
    """Parse one cell of a ``wave`` column.

    Returns
    -------
    kind : {"blank", "date", "number", "bad"}
    value : float or None
        Months since year 0 for a date, the number for a number, ``None`` for
        a bad date (a number is range-checked by the caller).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return "blank", math.nan
    if isinstance(value, pd.Period):
        return "date", _month(value.year, value.month)
    if isinstance(value, dt.date | np.datetime64):  # datetime and Timestamp are dates
        stamp = pd.Timestamp(value)
        if pd.isna(stamp):
            return "blank", math.nan
        return "date", _month(stamp.year, stamp.month)
    if not isinstance(value, str):
        try:
            if pd.isna(value):
                return "blank", math.nan
        except (TypeError, ValueError):
            pass
        return "number", None
    text = unicodedata.normalize("NFKD", value.strip().casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    if m := _ISO.match(text):
        return "date", _month(int(m[1]), int(m[2]))
    if m := _SLASH.match(text):
        return "date", _month(int(m[3]), int(m[2]))
    if m := _WORDS.match(text):
        month = _MONTHS.get(m[1])
        return ("date", _month(int(m[2]), month)) if month else ("bad", None)
    return "number", None


def parse_wave_column(values: list[Any]) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.float64]]:
    """Parse a whole column: the kind of each cell and the months of the dates."""
    kinds = np.empty(len(values), dtype="<U6")
    months = np.full(len(values), np.nan)
    for i, value in enumerate(values):
        kind, month = parse_wave_cell(value)
        kinds[i] = kind if (kind != "date" or month is not None) else "bad"
        if kind == "date" and month is not None:
            months[i] = month
    return kinds, months
