"""Exceptions and warnings raised by tutormatch.

The hierarchy, so that callers can catch what they already catch::

    TutormatchError
      InputError(ValueError)          bad table, column, value or id
        CRSError                      missing or mismatched CRS
      SolveError(RuntimeError)        from Assignment.raise_for_status()
        InfeasibleError
      BackendUnavailableError(ImportError)
    TutormatchWarning(UserWarning)

Every :class:`InputError` carries where the problem is (``table``, ``column``,
``rows``) and what was found (``values``), so that another tool can react
without parsing the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "BackendUnavailableError",
    "CRSError",
    "InfeasibleError",
    "InputError",
    "SolveError",
    "TutormatchError",
    "TutormatchWarning",
]


class TutormatchError(Exception):
    """Base class of every exception raised on purpose by tutormatch."""


class InputError(TutormatchError, ValueError):
    """A table, column, value or id that tutormatch cannot use.

    Parameters
    ----------
    message : str
        The full, human-readable message: where, what was expected, what was
        found and how to fix it.
    table : str, optional
        The table or file at fault (``"tutors"``, ``"establishments.csv"``...).
    column : str, optional
        The column at fault, as the user spelled it when known.
    rows : sequence, optional
        Row labels at fault (line numbers for CSV files, index labels for
        DataFrames).
    values : sequence, optional
        The offending values, aligned with ``rows``.
    """

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        column: str | None = None,
        rows: Sequence[Any] = (),
        values: Sequence[Any] = (),
    ) -> None:
        super().__init__(message)
        self.table = table
        self.column = column
        self.rows = tuple(rows)
        self.values = tuple(values)


class CRSError(InputError):
    """A GeoDataFrame without a CRS, or with one tutormatch cannot use."""


class SolveError(TutormatchError, RuntimeError):
    """Raised by :meth:`Assignment.raise_for_status` when no usable plan exists.

    Parameters
    ----------
    message : str
        What happened, with the backend's own message.
    status : str
        The :class:`~tutormatch.Status` value of the plan.
    """

    def __init__(self, message: str, *, status: str) -> None:
        super().__init__(message)
        self.status = status


class InfeasibleError(SolveError):
    """The constraints admit no plan at all (e.g. minimum loads that cannot be met)."""


class BackendUnavailableError(TutormatchError, ImportError):
    """The requested solver backend cannot run in this environment."""


class TutormatchWarning(UserWarning):
    """Something worth knowing that does not stop the computation."""
