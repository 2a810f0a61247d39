"""The calendar of a rollout: support periods, school years and calendar years, in months."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tutormatch.errors import InputError
from tutormatch.model._waves import format_wave

__all__ = ["WaveCalendar"]

IntArray = npt.NDArray[np.int64]

#: Defaults: months of help after a switch, months live before a user may tutor,
#: first month of the school year (September).
DEFAULT_SUPPORT_MONTHS = 12
DEFAULT_LIVE_MONTHS = 6
DEFAULT_SCHOOL_YEAR_START = 9


@dataclass(frozen=True, slots=True)
class WaveCalendar:
    """How long a pair runs, when a user may tutor, when a school year starts.

    Months are counted since year 0 (``year x 12 + month - 1``), as waves
    given as dates are stored (see ``docs/inputs.md``).

    Attributes
    ----------
    support_months : int, default 12
        An establishment is helped for this many months from its switch; a
        pair made for it runs over that period and is kept throughout.
    live_months : int, default 6
        A user may tutor once their own establishment has been live this
        many months: tutor wave + ``live_months`` <= the establishment's wave.
    school_year_start : int, default 9
        First month of the school year (September: school years run
        September-August). A mission letter, and so a tutor's capacity,
        holds for one school year.

    Examples
    --------
    >>> cal = WaveCalendar()
    >>> cal.school_year(24300), cal.school_year_label(2024)   # January 2025
    (2024, '2024-25')
    >>> cal.school_years_of(24300).tolist()   # a pair from 2025-01 runs 12 months
    [2024, 2025]
    """

    support_months: int = DEFAULT_SUPPORT_MONTHS
    live_months: int = DEFAULT_LIVE_MONTHS
    school_year_start: int = DEFAULT_SCHOOL_YEAR_START

    def __post_init__(self) -> None:
        for name, low, high in (
            ("support_months", 1, 120),
            ("live_months", 0, 120),
            ("school_year_start", 1, 12),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= value <= high:
                raise InputError(f"{name} must be a whole number from {low} to {high}; got {value!r}.")

    def school_year(self, month: int) -> int:
        """Return the calendar year in which the school year of ``month`` starts."""
        return (int(month) - (self.school_year_start - 1)) // 12

    def school_year_label(self, year: int) -> str:
        """``2024`` -> ``"2024-25"`` (``"2024"`` when school years are calendar years)."""
        if self.school_year_start == 1:
            return str(year)
        return f"{year}-{(year + 1) % 100:02d}"

    def school_years_of(self, start: int) -> IntArray:
        """Return the school years a pair made at month ``start`` runs in."""
        return np.arange(self.school_year(start), self.school_year(start + self.support_months - 1) + 1)

    def end(self, start: int) -> int:
        """Return the first month after a pair made at ``start`` (its support ends)."""
        return int(start) + self.support_months

    def months_in_year(self, start: IntArray, year: int) -> IntArray:
        """Return the months of support of pairs made at ``start`` that fall in calendar ``year``."""
        begin = np.maximum(np.asarray(start, dtype=np.int64), year * 12)
        stop = np.minimum(np.asarray(start, dtype=np.int64) + self.support_months, year * 12 + 12)
        return np.asarray(np.maximum(stop - begin, 0), dtype=np.int64)

    def months_in_school_year(self, start: IntArray, year: int) -> IntArray:
        """Return the months of support of pairs made at ``start`` that fall in school ``year``."""
        first = year * 12 + self.school_year_start - 1
        begin = np.maximum(np.asarray(start, dtype=np.int64), first)
        stop = np.minimum(np.asarray(start, dtype=np.int64) + self.support_months, first + 12)
        return np.asarray(np.maximum(stop - begin, 0), dtype=np.int64)

    @staticmethod
    def label(month: float) -> str:
        """``24300`` -> ``"2025-01"``."""
        return format_wave(float(month), is_date=True)
